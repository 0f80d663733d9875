#include "common/sha1.hpp"

#include <ignis/common/base64.hpp>
#include <ignis/net/websocket.hpp>

namespace ignis::net::ws {
namespace {

// RFC 6455 §1.3: appended to the key before hashing, so the answer proves the server speaks
// WebSocket (an HTTP server that merely echoes headers cannot produce it).
constexpr std::string_view key_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

}  // namespace

std::string accept_key(std::string_view sec_websocket_key) {
  detail::sha1 hash;
  hash.update(sec_websocket_key);
  hash.update(key_guid);
  std::string out;
  base64::encode(hash.finish(), out);
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
