#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ignis::socketio::detail {

/// The rooms a socket joined besides its own, in the order joined. A socket that joined none
/// (most, until an application puts them in rooms) carries one null pointer where a
/// std::vector would carry three words; the count and capacity live in the heap block, before
/// the names.
class room_list {
 public:
  room_list() = default;
  room_list(const room_list&) = delete;
  room_list& operator=(const room_list&) = delete;
  ~room_list() { clear(); }

  std::size_t size() const noexcept { return block_ ? block_->size : 0; }
  bool empty() const noexcept { return size() == 0; }
  const std::string* begin() const noexcept { return block_ ? names() : nullptr; }
  const std::string* end() const noexcept { return begin() + size(); }
  std::string* begin() noexcept { return block_ ? names() : nullptr; }
  std::string* end() noexcept { return begin() + size(); }

  /// Appends `room`; returns the stored name.
  const std::string& push_back(std::string room);
  /// Removes the entry `it` points at (one of this list's), keeping the others' order.
  void erase(const std::string* it) noexcept;
  /// Removes every entry and frees the block.
  void clear() noexcept;

 private:
  struct header {
    std::uint32_t size;
    std::uint32_t capacity;
  };
  static_assert(sizeof(header) % alignof(std::string) == 0);
  std::string* names() const noexcept { return reinterpret_cast<std::string*>(block_ + 1); }

  header* block_ = nullptr;
};

}  // namespace ignis::socketio::detail
