#pragma once

// JSON Web Tokens (RFC 7519) signed with HS256 or RS256: signature, exp and nbf, and optionally a
// required exp and a maximum age (iat).
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace ignis::program {

struct jwt_key {
  std::string hs256_secret;  ///< HS256 when not empty
  std::string rs256_pem;     ///< RS256 public key (PEM) when not empty
};

/// What a token must have besides a good signature and a time within exp/nbf.
struct jwt_rules {
  bool require_exp = false;  ///< reject tokens without exp
  unsigned max_age = 0;      ///< seconds; when not 0, reject tokens without iat or older than this
};

/// The claims of a valid token, or nullopt (bad form, algorithm, signature, expired, not yet
/// valid, or against `rules`).
std::optional<boost::json::object> verify_jwt(std::string_view token, const jwt_key& key,
                                              const jwt_rules& rules = {});

/// True when `pem` holds an RSA public key (PEM "PUBLIC KEY"), as RS256 needs.
bool is_rs256_public_key(std::string_view pem);

}  // namespace ignis::program
