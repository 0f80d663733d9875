#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ignis {

/// A short identifier kept inside its owner: session and socket ids are 20 characters, five more
/// than std::string keeps inline, so as std::string each would cost an allocation of its own for
/// as long as the connection lives. 24 bytes, no allocation; the text is followed by a NUL, as a
/// std::string's is, for callers that hand view().data() to C functions. Every id this project or
/// Node's socket.io makes fits (base64 of 15 random bytes); longer ones are checked where they
/// arrive (fits()).
class inline_id {
 public:
  static constexpr std::size_t capacity = 22;

  inline_id() = default;
  /// `text` must fit (fits()); ids from outside are checked where they arrive.
  explicit inline_id(std::string_view text) noexcept { assign(text); }

  static constexpr bool fits(std::string_view text) noexcept { return text.size() <= capacity; }

  /// Keeps the first `capacity` bytes of `text`.
  void assign(std::string_view text) noexcept {
    size_ = static_cast<std::uint8_t>(std::min(text.size(), capacity));
    std::memcpy(data_, text.data(), size_);
    data_[size_] = '\0';
  }

  std::string_view view() const noexcept { return {data_, size_}; }
  operator std::string_view() const noexcept { return view(); }
  std::string str() const { return std::string(view()); }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

 private:
  char data_[capacity + 1] = {};
  std::uint8_t size_ = 0;
};

}  // namespace ignis
