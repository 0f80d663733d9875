#pragma once

// The errors an Engine.IO v4 server answers a refused HTTP request with: engine.io's
// Server.errors, with its messages (Server.errorMessages) and HTTP statuses (abortRequest: 403 for
// FORBIDDEN, 400 for the others). A polling request gets the JSON body
// {"code":<code>,"message":<message>}; a refused WebSocket upgrade gets the message alone, as a
// plain-text 400 (abortUpgrade).
#include <cstdint>
#include <string_view>

namespace ignis::engineio {

enum class http_error : std::uint8_t {
  unknown_transport = 0,             ///< "Transport unknown"
  unknown_sid = 1,                   ///< "Session ID unknown"
  bad_handshake_method = 2,          ///< "Bad handshake method"
  bad_request = 3,                   ///< "Bad request"
  forbidden = 4,                     ///< "Forbidden"
  unsupported_protocol_version = 5,  ///< "Unsupported protocol version"
};

/// The number sent as "code".
constexpr int code(http_error e) noexcept {
  return static_cast<int>(e);
}

/// Node's message for the error.
constexpr std::string_view to_string(http_error e) noexcept {
  switch (e) {
    case http_error::unknown_transport:
      return "Transport unknown";
    case http_error::unknown_sid:
      return "Session ID unknown";
    case http_error::bad_handshake_method:
      return "Bad handshake method";
    case http_error::bad_request:
      return "Bad request";
    case http_error::forbidden:
      return "Forbidden";
    case http_error::unsupported_protocol_version:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

/// The HTTP status of a polling request refused with the error.
constexpr unsigned http_status(http_error e) noexcept {
  return e == http_error::forbidden ? 403 : 400;
}

}  // namespace ignis::engineio
