#pragma once

// HTTP request headers kept for the life of a connection (a Socket.IO handshake's headers), in one
// allocation rather than a pair of strings per header: most connections keep their handshake
// headers for hours without reading them (docs/performance.md, "Memory per idle connection").
//
// Names are stored as given (callers store them in lower case); the order and duplicates of the
// request are kept. Header text never contains NUL (RFC 9110 §5.5), which separates the entries.
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

namespace ignis {

class header_list {
 public:
  using value_type = std::pair<std::string_view, std::string_view>;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = header_list::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;

    const_iterator() = default;
    value_type operator*() const noexcept {
      const std::string_view name(pos_);
      const std::string_view value(pos_ + name.size() + 1);
      return {name, value};
    }
    const_iterator& operator++() noexcept {
      const auto [name, value] = **this;
      pos_ += name.size() + value.size() + 2;
      return *this;
    }
    const_iterator operator++(int) noexcept {
      auto old = *this;
      ++*this;
      return old;
    }
    bool operator==(const const_iterator&) const noexcept = default;

   private:
    friend class header_list;
    explicit const_iterator(const char* pos) noexcept : pos_(pos) {}
    const char* pos_ = nullptr;
  };

  header_list() = default;

  /// Sizes the storage for `bytes` of names and values and `count` headers, before add(): to the
  /// byte, as the block stays for the connection's lifetime (std::string::reserve would at least
  /// double a short string's capacity: 30 bytes for ignis-bench's 21).
  void reserve(std::size_t bytes, std::size_t count) {
    const auto size = bytes + 2 * count;
    if (size <= text_.capacity()) return;
    std::string exact(size, '\0');  // constructed to size: no rounding up
    exact.assign(text_);            // shorter: keeps the capacity
    text_ = std::move(exact);
  }
  /// Appends a header. NUL bytes in name or value (never valid HTTP) end the stored text early.
  void add(std::string_view name, std::string_view value) {
    text_.append(name.substr(0, name.find('\0')));
    text_.push_back('\0');
    text_.append(value.substr(0, value.find('\0')));
    text_.push_back('\0');
  }

  /// add() with the name in lower case (ASCII), lowered where it is stored rather than copied.
  void add_lowercase(std::string_view name, std::string_view value) {
    auto i = text_.size();
    add(name, value);
    for (; text_[i] != '\0'; ++i) {
      if (text_[i] >= 'A' && text_[i] <= 'Z') text_[i] = static_cast<char>(text_[i] - 'A' + 'a');
    }
  }
  /// The first value of `name` (compared exactly), or empty.
  std::string_view get(std::string_view name) const noexcept {
    for (const auto [n, v] : *this) {
      if (n == name) return v;
    }
    return {};
  }

  bool empty() const noexcept { return text_.empty(); }
  /// Bytes of storage held for names and values (with a separator after each).
  std::size_t capacity() const noexcept { return text_.capacity(); }
  std::size_t size() const noexcept {
    return static_cast<std::size_t>(std::distance(begin(), end()));
  }
  const_iterator begin() const noexcept { return const_iterator(text_.data()); }
  const_iterator end() const noexcept { return const_iterator(text_.data() + text_.size()); }

 private:
  std::string text_;
};

}  // namespace ignis
