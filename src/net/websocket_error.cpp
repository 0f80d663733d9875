#include <ignis/net/websocket_error.hpp>

#include <string>

namespace ignis::net::ws {
namespace {

class frame_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ignis.net.websocket"; }
  std::string message(int ev) const override {
    switch (static_cast<frame_error>(ev)) {
      case frame_error::reserved_bits_set:
        return "WebSocket frame with reserved bits set";
      case frame_error::reserved_opcode:
        return "WebSocket frame with a reserved opcode";
      case frame_error::unmasked_frame:
        return "unmasked WebSocket frame from a client";
      case frame_error::masked_frame:
        return "masked WebSocket frame from a server";
      case frame_error::control_frame_too_big:
        return "WebSocket control frame with more than 125 bytes of payload";
      case frame_error::fragmented_control_frame:
        return "fragmented WebSocket control frame";
      case frame_error::unexpected_continuation:
        return "WebSocket continuation frame with no message in progress";
      case frame_error::expected_continuation:
        return "new WebSocket data frame while a fragmented message is in progress";
      case frame_error::invalid_length:
        return "WebSocket frame length with the most significant bit set";
      case frame_error::message_too_big:
        return "WebSocket message too big";
      case frame_error::invalid_utf8:
        return "invalid UTF-8 in a WebSocket text message";
      case frame_error::close_payload_too_short:
        return "WebSocket close frame with a 1-byte payload";
      case frame_error::invalid_close_code:
        return "invalid WebSocket close code";
      case frame_error::invalid_close_reason:
        return "invalid UTF-8 in a WebSocket close reason";
    }
    return "unknown WebSocket frame error";
  }
};

}  // namespace

const boost::system::error_category& frame_category() noexcept {
  static const frame_category_impl instance;
  return instance;
}

}  // namespace ignis::net::ws
