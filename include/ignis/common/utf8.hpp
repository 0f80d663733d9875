#pragma once

#include <cstdint>
#include <string_view>

namespace ignis::utf8 {

/// Incremental UTF-8 validator (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
/// Text can be checked piece by piece, as WebSocket fragments arrive.
class validator {
 public:
  /// Checks the next piece; false as soon as the text is known to be invalid.
  bool feed(std::string_view piece) noexcept;
  /// True when the text fed so far does not end inside a code point.
  bool complete() const noexcept { return needed_ == 0; }
  void reset() noexcept { *this = validator{}; }

 private:
  std::uint32_t needed_ = 0;   // continuation bytes still expected
  std::uint8_t lower_ = 0x80;  // bounds for the next continuation byte
  std::uint8_t upper_ = 0xBF;
};

/// True when `text` is complete, valid UTF-8.
bool is_valid(std::string_view text) noexcept;

}  // namespace ignis::utf8
