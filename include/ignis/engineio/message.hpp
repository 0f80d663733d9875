#pragma once

// An outgoing Engine.IO packet encoded once, WebSocket frame included, so that one broadcast can
// be shared by any number of sessions. Sans-I/O: the polling and WebSocket transports both read
// it.
#include <ignis/engineio/packet.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ignis::engineio {

/// An outgoing Engine.IO packet, encoded once (WebSocket frame included) and shareable between
/// any number of sessions on any shard.
class message {
 public:
  static std::shared_ptr<const message> text(packet_type type, std::string_view data);
  static std::shared_ptr<const message> binary(std::string_view data);
  /// A ready-made frame (control frames, the 101 response) that is written as it is.
  static std::shared_ptr<const message> control(std::string bytes);

  bool is_binary() const noexcept { return binary_; }
  /// The whole server-to-client WebSocket frame.
  std::string_view ws_frame() const noexcept { return frame_; }
  /// The packet as a WebSocket message carries it: "4hello", or raw bytes when binary.
  std::string_view payload() const noexcept {
    return std::string_view(frame_).substr(header_size_);
  }

 private:
  bool binary_ = false;
  std::uint8_t header_size_ = 0;
  std::string frame_;
};
using message_ptr = std::shared_ptr<const message>;

}  // namespace ignis::engineio
