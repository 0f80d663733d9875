#pragma once

// WebSocket masking keys (RFC 6455 §5.3), drawn from the kernel's generator (ignis::random_bytes)
// in blocks so that a busy connection does not call it per frame.
#include <ignis/net/websocket.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace ignis::client::detail {

/// Masking keys for one connection.
class mask_source {
 public:
  net::ws::mask_key next();

 private:
  std::array<std::uint8_t, 256> pool_{};
  std::size_t used_ = sizeof(pool_);
};

}  // namespace ignis::client::detail
