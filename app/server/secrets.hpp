#pragma once

// Secrets read from files at start (--tokens-file, --jwt-secret-file, --api-key-file,
// --admin-password-hash-file, and the PEM file of --jwt-public-key), so that they need not appear
// on a command line, which other users of the machine can read in the process list; and their
// comparison in constant time.
#include "settings.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ignis::program {

/// Fills `tokens`, `jwt_secret`, `api_key` and `admin_password_hash` from their -file options (the
/// content without its trailing line breaks) and `jwt_public_key_pem` from the --jwt-public-key
/// file, which must hold an RSA public key. Returns an error message naming the option and the
/// file.
std::optional<std::string> load_secrets(settings& cfg);

/// a == b, in a time that depends on neither string's content (their SHA-256 digests are
/// compared with CRYPTO_memcmp), so that the answer's timing tells nothing about a guess.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace ignis::program
