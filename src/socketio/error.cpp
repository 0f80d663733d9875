#include <ignis/socketio/error.hpp>

#include <string>

namespace ignis::socketio {
namespace {

class codec_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ignis.socketio.codec"; }
  std::string message(int ev) const override {
    switch (static_cast<codec_error>(ev)) {
      case codec_error::empty_packet:
        return "empty Socket.IO packet";
      case codec_error::unknown_packet_type:
        return "unknown Socket.IO packet type";
      case codec_error::invalid_attachment_count:
        return "invalid attachment count in a binary Socket.IO packet";
      case codec_error::too_many_attachments:
        return "too many attachments in a binary Socket.IO packet";
      case codec_error::invalid_ack_id:
        return "invalid Socket.IO ack id";
      case codec_error::invalid_json:
        return "invalid JSON in a Socket.IO packet";
      case codec_error::json_too_deep:
        return "Socket.IO packet JSON nested too deeply";
      case codec_error::invalid_payload:
        return "invalid payload for the Socket.IO packet type";
      case codec_error::packet_too_large:
        return "Socket.IO packet or attachment too large";
      case codec_error::unexpected_text:
        return "text packet received while waiting for binary attachments";
      case codec_error::unexpected_binary:
        return "binary attachment received with no binary packet pending";
      case codec_error::invalid_placeholder:
        return "malformed binary placeholder in a Socket.IO packet";
      case codec_error::placeholder_out_of_range:
        return "binary placeholder refers to a missing attachment";
    }
    return "unknown Socket.IO codec error";
  }
};

}  // namespace

const boost::system::error_category& codec_category() noexcept {
  static const codec_category_impl instance;
  return instance;
}

}  // namespace ignis::socketio
