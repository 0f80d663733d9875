#pragma once

// Identifiers in the forms the Node adapters use, so that what other servers see looks the same.
#include <string>

namespace ignis::redis::detail {

/// uid2(6): 6 characters of [A-Za-z0-9_-] (the classic adapter's uid and request ids).
std::string uid2(std::size_t length = 6);
/// randomBytes(8) as hex: 16 characters (the sharded adapter's uid and request ids).
std::string random_hex_id();

}  // namespace ignis::redis::detail
