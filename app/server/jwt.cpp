#include "jwt.hpp"

#include <ignis/common/base64.hpp>

#include <boost/json/parse.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <chrono>
#include <cmath>
#include <memory>

namespace ignis::program {
namespace {

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string standard(in);
  for (auto& c : standard) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/' || c == '=')
      return std::nullopt;
  }
  std::string out;
  if (!base64::decode(standard, out)) return std::nullopt;
  return out;
}

std::optional<boost::json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

bool verify_hs256(std::string_view signed_part, std::string_view signature,
                  const std::string& secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac,
            &mac_len)) {
    return false;
  }
  return signature.size() == mac_len && CRYPTO_memcmp(signature.data(), mac, mac_len) == 0;
}

using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// The RSA public key in `pem`, or null.
pkey_ptr rsa_public_key(std::string_view pem) {
  pkey_ptr none(nullptr, EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return none;
  pkey_ptr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) return none;
  return key;
}

bool verify_rs256(std::string_view signed_part, std::string_view signature,
                  const std::string& pem) {
  const auto key = rsa_public_key(pem);
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1)
    return false;
  return EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
             reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

std::optional<double> numeric_claim(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (!v) return std::nullopt;
  if (!v->is_number()) return std::nan("");
  return v->to_number<double>();
}

}  // namespace

bool is_rs256_public_key(std::string_view pem) {
  return rsa_public_key(pem) != nullptr;
}

std::optional<boost::json::object> verify_jwt(std::string_view token, const jwt_key& key,
                                              const jwt_rules& rules) {
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return std::nullopt;
  const auto header_text = base64url_decode(token.substr(0, first));
  const auto payload_text = base64url_decode(token.substr(first + 1, second - first - 1));
  const auto signature = base64url_decode(token.substr(second + 1));
  if (!header_text || !payload_text || !signature) return std::nullopt;
  const auto header = parse_object(*header_text);
  auto claims = parse_object(*payload_text);
  if (!header || !claims) return std::nullopt;
  const auto* alg = header->if_contains("alg");
  if (!alg || !alg->is_string()) return std::nullopt;
  const auto signed_part = token.substr(0, second);
  // The algorithm is the one the server was configured with, never what the token asks for.
  if (!key.hs256_secret.empty()) {
    if (alg->get_string() != "HS256" || !verify_hs256(signed_part, *signature, key.hs256_secret))
      return std::nullopt;
  } else if (!key.rs256_pem.empty()) {
    if (alg->get_string() != "RS256" || !verify_rs256(signed_part, *signature, key.rs256_pem))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (auto exp = numeric_claim(*claims, "exp")) {
    if (!(now < *exp)) return std::nullopt;
  } else if (rules.require_exp) {
    return std::nullopt;
  }
  if (rules.max_age != 0) {
    const auto iat = numeric_claim(*claims, "iat");
    if (!iat || !(now - *iat <= rules.max_age)) return std::nullopt;
  }
  if (auto nbf = numeric_claim(*claims, "nbf")) {
    if (!(now >= *nbf)) return std::nullopt;
  }
  return claims;
}

}  // namespace ignis::program
