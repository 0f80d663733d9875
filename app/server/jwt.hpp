#pragma once

// JSON Web Tokens (RFC 7519) signed with HS256 or RS256: signature, exp and nbf.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace ignis::program {

struct jwt_key {
  std::string hs256_secret;  ///< HS256 when not empty
  std::string rs256_pem;     ///< RS256 public key (PEM) when not empty
};

/// The claims of a valid token, or nullopt (bad form, algorithm, signature, expired, not yet
/// valid).
std::optional<boost::json::object> verify_jwt(std::string_view token, const jwt_key& key);

}  // namespace ignis::program
