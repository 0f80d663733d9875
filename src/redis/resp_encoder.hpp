#pragma once

// RESP request encoding: every command goes out as a multi-bulk of bulk strings, which is binary
// safe (arguments may hold CR, LF or NUL bytes, as msgpack payloads do).
#include <span>
#include <string>
#include <string_view>

namespace ignis::redis::detail {

/// Appends `*<n>\r\n` then `$<len>\r\n<arg>\r\n` for each argument to `out`.
void encode_command(std::string& out, std::span<const std::string> args);
void encode_command(std::string& out, std::span<const std::string_view> args);

}  // namespace ignis::redis::detail
