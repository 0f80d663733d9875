#pragma once

// Unpredictable bytes for WebSocket masking keys and handshake nonces (RFC 6455 §5.3, §4.1),
// drawn from OpenSSL's CSPRNG in blocks so that a busy connection does not call it per frame.
#include <ignis/net/websocket.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace ignis::client::detail {

/// Fills `out` from OpenSSL's CSPRNG (falls back to std::random_device if it ever fails).
void random_bytes(std::uint8_t* out, std::size_t n);

/// Masking keys for one connection.
class mask_source {
 public:
  net::ws::mask_key next();

 private:
  std::array<std::uint8_t, 256> pool_{};
  std::size_t used_ = sizeof(pool_);
};

}  // namespace ignis::client::detail
