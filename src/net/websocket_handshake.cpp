#include <ignis/common/base64.hpp>
#include <ignis/net/websocket.hpp>

#include <openssl/sha.h>

namespace ignis::net::ws {
namespace {

// RFC 6455 §1.3: appended to the key before hashing, so the answer proves the server speaks
// WebSocket (an HTTP server that merely echoes headers cannot produce it).
constexpr std::string_view key_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

}  // namespace

std::string accept_key(std::string_view sec_websocket_key) {
  std::string input;
  input.reserve(sec_websocket_key.size() + key_guid.size());
  input.append(sec_websocket_key).append(key_guid);
  std::array<std::uint8_t, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
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
