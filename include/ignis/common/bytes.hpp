#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ignis {

using byte_vector = std::vector<std::uint8_t>;
using byte_span = std::span<const std::uint8_t>;

inline byte_span as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string_view as_chars(byte_span b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace ignis
