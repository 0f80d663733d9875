#pragma once

// Standard base64 (RFC 4648 §4, with '=' padding), as used by Engine.IO polling payloads.
#include <ignis/common/bytes.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace ignis::base64 {

inline constexpr std::size_t encoded_size(std::size_t n) noexcept {
  return (n + 2) / 3 * 4;
}

/// Appends the base64 form of `in` to `out`.
void encode(byte_span in, std::string& out);

/// Appends the decoded bytes of `in` to `out`; padding is optional. Returns false (and leaves `out`
/// with unspecified extra bytes) on a character outside the alphabet or a misplaced '='.
bool decode(std::string_view in, std::string& out);

}  // namespace ignis::base64
