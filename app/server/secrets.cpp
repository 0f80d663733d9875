#include "secrets.hpp"

#include "jwt.hpp"
#include "text_list.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ignis::program {
namespace {

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream content;
  content << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return content.str();
}

std::string without_trailing_line_breaks(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  return s;
}

// Reads option `name`'s file into `out`; an error message when it cannot, or when it is empty.
std::optional<std::string> load_one(std::string_view name, const std::string& path,
                                    std::string& out) {
  if (path.empty()) return std::nullopt;
  auto content = read_file(path);
  if (!content) return "--" + std::string(name) + ": cannot read " + path;
  out = without_trailing_line_breaks(std::move(*content));
  if (out.empty()) return "--" + std::string(name) + ": " + path + " is empty";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> load_secrets(settings& cfg) {
  if (!cfg.tokens_file.empty()) {
    std::string tokens;
    if (auto e = load_one("tokens-file", cfg.tokens_file, tokens)) return e;
    // One token per line, or comma-separated as in --tokens.
    std::replace(tokens.begin(), tokens.end(), '\n', ',');
    std::replace(tokens.begin(), tokens.end(), '\r', ',');
    if (split_list(tokens).empty()) return "--tokens-file: " + cfg.tokens_file + " holds no token";
    cfg.tokens = std::move(tokens);
  }
  if (auto e = load_one("jwt-secret-file", cfg.jwt_secret_file, cfg.jwt_secret)) return e;
  if (auto e = load_one("api-key-file", cfg.api_key_file, cfg.api_key)) return e;
  if (auto e = load_one("admin-password-hash-file", cfg.admin_password_hash_file,
                        cfg.admin_password_hash))
    return e;
  if (!cfg.jwt_public_key.empty()) {
    auto pem = read_file(cfg.jwt_public_key);
    if (!pem) return "--jwt-public-key: cannot read " + cfg.jwt_public_key;
    if (!is_rs256_public_key(*pem))
      return "--jwt-public-key: " + cfg.jwt_public_key + " holds no RSA public key (PEM)";
    cfg.jwt_public_key_pem = std::move(*pem);
  }
  return std::nullopt;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  unsigned char da[SHA256_DIGEST_LENGTH];
  unsigned char db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  // Equal digests with different inputs would be a SHA-256 collision; the sizes settle it anyway.
  return CRYPTO_memcmp(da, db, sizeof da) == 0 && a.size() == b.size();
}

}  // namespace ignis::program
