#include <ignis/common/base64.hpp>
#include <ignis/net/websocket.hpp>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace ignis::net::ws {
namespace {

// RFC 6455 §1.3: appended to the key before hashing, so the answer proves the server speaks
// WebSocket (an HTTP server that merely echoes headers cannot produce it).
constexpr std::string_view key_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// OpenSSL 3's one-shot SHA1() looks the algorithm up by name in its providers on every call (a
// locked table search and three allocations), and every WebSocket connection takes one: the
// algorithm is fetched once, and each thread keeps a digest context to reuse.
const EVP_MD* sha1_algorithm() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return md;
}

struct digest_context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~digest_context() { EVP_MD_CTX_free(ctx); }
};

bool sha1(std::string_view a, std::string_view b,
          std::array<std::uint8_t, SHA_DIGEST_LENGTH>& digest) {
  const EVP_MD* md = sha1_algorithm();
  thread_local digest_context context;
  EVP_MD_CTX* ctx = context.ctx;
  unsigned int size = 0;
  return md != nullptr && ctx != nullptr && EVP_DigestInit_ex2(ctx, md, nullptr) == 1 &&
         EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
         EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
         EVP_DigestFinal_ex(ctx, digest.data(), &size) == 1 && size == digest.size();
}

}  // namespace

std::string accept_key(std::string_view sec_websocket_key) {
  std::array<std::uint8_t, SHA_DIGEST_LENGTH> digest{};
  if (!sha1(sec_websocket_key, key_guid, digest)) {
    // Not expected (SHA-1 is in OpenSSL's default provider): the slow path still answers.
    std::string input;
    input.append(sec_websocket_key).append(key_guid);
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  }
  std::string out;
  base64::encode(digest, out);
  return out;
}

bool is_valid_key(std::string_view sec_websocket_key) {
  // base64 of 16 bytes is always 22 characters and "==".
  if (sec_websocket_key.size() != 24) return false;
  std::string decoded;
  return base64::decode(sec_websocket_key, decoded) && decoded.size() == 16;
}

std::string make_key(const std::array<std::uint8_t, 16>& nonce) {
  std::string out;
  base64::encode(nonce, out);
  return out;
}

}  // namespace ignis::net::ws
