#include <ignis/socketio/room_list.hpp>

#include <memory>
#include <new>
#include <utility>

namespace ignis::socketio::detail {

const std::string& room_list::push_back(std::string room) {
  if (size() == (block_ ? block_->capacity : 0)) {
    // Grows by half (a first join takes one slot): room lists are short, and stay allocated for
    // as long as the socket is connected.
    const std::uint32_t old_size = static_cast<std::uint32_t>(size());
    const std::uint32_t capacity = old_size + old_size / 2 + 1;
    auto* grown = static_cast<header*>(
        ::operator new (sizeof(header) + std::size_t{capacity} * sizeof(std::string)));
    grown->size = old_size;
    grown->capacity = capacity;
    auto* to = reinterpret_cast<std::string*>(grown + 1);
    if (block_) {
      // std::string's move constructor does not throw.
      auto* from = names();
      for (std::uint32_t i = 0; i < old_size; ++i) {
        new (to + i) std::string(std::move(from[i]));
        from[i].~basic_string();
      }
      ::operator delete(block_);
    }
    block_ = grown;
  }
  auto* slot = new (names() + block_->size) std::string(std::move(room));
  ++block_->size;
  return *slot;
}

void room_list::erase(const std::string* it) noexcept {
  auto* first = names();
  auto* last = first + block_->size - 1;
  for (auto* p = first + (it - first); p < last; ++p)
    *p = std::move(p[1]);
  last->~basic_string();
  if (--block_->size == 0) clear();
}

void room_list::clear() noexcept {
  if (!block_) return;
  std::destroy_n(names(), block_->size);
  ::operator delete(block_);
  block_ = nullptr;
}

}  // namespace ignis::socketio::detail
