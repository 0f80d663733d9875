#include <ignis/client/error.hpp>
#include <ignis/client/options.hpp>

namespace ignis::client {
namespace {

class client_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ignis.client"; }
  std::string message(int ev) const override {
    switch (static_cast<client_error>(ev)) {
      case client_error::timeout:
        return "timeout";
      case client_error::no_transports:
        return "No transports available";
      case client_error::http_status:
        return "unexpected HTTP status";
      case client_error::websocket_handshake:
        return "WebSocket handshake refused or invalid";
      case client_error::body_too_large:
        return "message too large";
      case client_error::bad_content_encoding:
        return "undecodable Content-Encoding";
      case client_error::ack_timeout:
        return "operation has timed out";
      case client_error::disconnected:
        return "socket has been disconnected";
      case client_error::send_buffer_full:
        return "dropped from the full buffer of emits made while disconnected";
      case client_error::write_buffer_full:
        return "write buffer full";
      case client_error::too_many_acks:
        return "too many acknowledgements pending";
    }
    return "unknown client error";
  }
};

}  // namespace

const boost::system::error_category& client_category() noexcept {
  static const client_category_impl instance;
  return instance;
}

std::string_view to_string(disconnect_reason r) noexcept {
  switch (r) {
    case disconnect_reason::io_server_disconnect:
      return "io server disconnect";
    case disconnect_reason::io_client_disconnect:
      return "io client disconnect";
    case disconnect_reason::ping_timeout:
      return "ping timeout";
    case disconnect_reason::transport_close:
      return "transport close";
    case disconnect_reason::transport_error:
      return "transport error";
    case disconnect_reason::parse_error:
      return "parse error";
  }
  return "transport error";
}

std::string_view to_string(transport_kind t) noexcept {
  return t == transport_kind::websocket ? "websocket" : "polling";
}

}  // namespace ignis::client
