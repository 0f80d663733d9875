#include <ignis/common/utf8.hpp>

namespace ignis::utf8 {

bool validator::feed(std::string_view piece) noexcept {
  for (const char ch : piece) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (needed_ == 0) {
      if (c < 0x80) continue;
      lower_ = 0x80;
      upper_ = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        needed_ = 1;
      } else if (c >= 0xE0 && c <= 0xEF) {
        needed_ = 2;
        if (c == 0xE0) lower_ = 0xA0;  // overlong
        if (c == 0xED) upper_ = 0x9F;  // UTF-16 surrogates
      } else if (c >= 0xF0 && c <= 0xF4) {
        needed_ = 3;
        if (c == 0xF0) lower_ = 0x90;  // overlong
        if (c == 0xF4) upper_ = 0x8F;  // above U+10FFFF
      } else {
        return false;
      }
    } else {
      if (c < lower_ || c > upper_) return false;
      lower_ = 0x80;
      upper_ = 0xBF;
      --needed_;
    }
  }
  return true;
}

bool is_valid(std::string_view text) noexcept {
  validator v;
  return v.feed(text) && v.complete();
}

}  // namespace ignis::utf8
