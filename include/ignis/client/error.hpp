#pragma once

// Errors of the Socket.IO client: why a connection attempt failed, why an acknowledgement will not
// come, why an emit was refused.
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace ignis::client {

using boost::system::error_code;

enum class client_error {
  timeout = 1,           ///< no Engine.IO handshake within manager_options::timeout
  no_transports,         ///< manager_options::transports is empty
  http_status,           ///< a polling request was answered with a status other than 200
  websocket_handshake,   ///< the WebSocket upgrade was refused or answered wrongly
  body_too_large,        ///< a polling response or WebSocket message above max_message_size
  bad_content_encoding,  ///< a polling response whose gzip/deflate body does not inflate
  ack_timeout,           ///< "operation has timed out": no acknowledgement within the timeout
  disconnected,          ///< "socket has been disconnected" before the acknowledgement came
  send_buffer_full,      ///< dropped from the full buffer of emits made while disconnected
  write_buffer_full,     ///< refused: too many bytes already wait to be written
  too_many_acks,         ///< refused: too many acknowledgements are already pending
};

const boost::system::error_category& client_category() noexcept;

inline error_code make_error_code(client_error e) noexcept {
  return {static_cast<int>(e), client_category()};
}

/// Why a socket disconnected; the strings are socket.io-client's.
enum class disconnect_reason : std::uint8_t {
  io_server_disconnect,  ///< "io server disconnect": the server disconnected the socket
  io_client_disconnect,  ///< "io client disconnect": disconnect()/close() or destruction here
  ping_timeout,          ///< "ping timeout": no ping within pingInterval + pingTimeout
  transport_close,       ///< "transport close": the connection was closed
  transport_error,       ///< "transport error": the connection failed
  parse_error,           ///< "parse error": the server sent something undecodable
};
std::string_view to_string(disconnect_reason r) noexcept;

/// A failed namespace connection or connection attempt, as socket.io-client's connect_error.
struct connect_error {
  /// The server's message for a refusal by a middleware (CONNECT_ERROR), else socket.io-client's
  /// words for the failure: "timeout", "xhr poll error", "xhr post error", "websocket error",
  /// "server error", "No transports available", "parse error".
  std::string message{};
  /// The server's `data` for a refusal (null when it sent none).
  boost::json::value data{};
  /// The cause of a transport failure (empty for a refusal by the server).
  error_code ec{};
  /// Details of a transport failure: HTTP status and body, TLS verification error, ...
  std::string description{};
};

}  // namespace ignis::client

template <>
struct boost::system::is_error_code_enum<ignis::client::client_error> : std::true_type {};
