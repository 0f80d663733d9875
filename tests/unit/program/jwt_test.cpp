#include "jwt.hpp"

#include <ignis/common/base64.hpp>

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <string>

namespace {

using ignis::program::jwt_key;
using ignis::program::jwt_rules;
using ignis::program::verify_jwt;

std::string b64url(std::string_view bytes) {
  std::string out;
  ignis::base64::encode(
      ignis::byte_span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), out);
  while (!out.empty() && out.back() == '=')
    out.pop_back();
  for (auto& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::string hs256(const std::string& claims, const std::string& secret) {
  const auto input = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

long long now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string claims(std::initializer_list<std::pair<const char*, long long>> numbers) {
  std::string out = R"({"sub":"u")";
  for (const auto& [name, value] : numbers)
    out += std::string(",\"") + name + "\":" + std::to_string(value);
  return out + "}";
}

TEST(Jwt, ExpIsOptionalUnlessRequired) {
  jwt_key key;
  key.hs256_secret = "secret";
  const auto no_exp = hs256(claims({}), "secret");
  const auto with_exp = hs256(claims({{"exp", now() + 60}}), "secret");
  EXPECT_TRUE(verify_jwt(no_exp, key));
  EXPECT_TRUE(verify_jwt(with_exp, key));
  const jwt_rules require_exp{.require_exp = true};
  EXPECT_FALSE(verify_jwt(no_exp, key, require_exp));
  EXPECT_TRUE(verify_jwt(with_exp, key, require_exp));
  EXPECT_FALSE(verify_jwt(hs256(claims({{"exp", now() - 1}}), "secret"), key, require_exp));
}

TEST(Jwt, MaxAgeNeedsARecentIat) {
  jwt_key key;
  key.hs256_secret = "secret";
  const jwt_rules max_age{.max_age = 60};
  EXPECT_TRUE(verify_jwt(hs256(claims({{"iat", now() - 10}}), "secret"), key, max_age));
  EXPECT_FALSE(verify_jwt(hs256(claims({{"iat", now() - 120}}), "secret"), key, max_age));
  EXPECT_FALSE(verify_jwt(hs256(claims({}), "secret"), key, max_age));  // no iat
  EXPECT_FALSE(verify_jwt(hs256(R"({"iat":"yesterday"})", "secret"), key, max_age));
  // Without the rule, an old token is fine.
  EXPECT_TRUE(verify_jwt(hs256(claims({{"iat", now() - 120}}), "secret"), key));
}

TEST(Jwt, SignatureIsChecked) {
  jwt_key key;
  key.hs256_secret = "secret";
  EXPECT_FALSE(verify_jwt(hs256(claims({}), "other"), key));
  auto token = hs256(claims({}), "secret");
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_jwt(token, key));
}

TEST(Jwt, Rs256KeyCheck) {
  EXPECT_FALSE(ignis::program::is_rs256_public_key(""));
  EXPECT_FALSE(ignis::program::is_rs256_public_key("-----BEGIN PUBLIC KEY-----\nxx\n"));
}

}  // namespace
