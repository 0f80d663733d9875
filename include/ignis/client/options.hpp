#pragma once

// Options of the Socket.IO client. The defaults are socket.io-client 4.8's where it has one.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ignis::client {

enum class transport_kind : std::uint8_t { polling, websocket };
/// "polling" / "websocket", as the query parameter says.
std::string_view to_string(transport_kind t) noexcept;

struct tls_options {
  /// Verify the server's certificate chain and host name (on by default). Turn off only for tests.
  bool verify = true;
  /// Trust the system's CA store (OpenSSL's default paths).
  bool use_system_store = true;
  /// Extra trusted certificates (PEM), e.g. a test CA or a self-signed server certificate.
  std::string ca_file{};
};

/// Reconnection after a lost connection: jittered exponential backoff, as socket.io-client.
struct reconnection_options {
  bool enabled = true;
  /// Attempts before giving up (then on_reconnect_failed); the default never gives up.
  std::size_t attempts = std::numeric_limits<std::size_t>::max();
  std::chrono::milliseconds delay = std::chrono::milliseconds{1'000};
  std::chrono::milliseconds delay_max = std::chrono::milliseconds{5'000};
  /// Growth factor per attempt (socket.io-client: 2).
  double factor = 2.0;
  /// Each delay is moved by up to this fraction of itself, up or down (0 to 1).
  double randomization = 0.5;
};

struct manager_options {
  /// The Engine.IO path on the server; a trailing '/' is added if missing.
  std::string path = "/socket.io/";
  /// Transports in order of preference: the first one opens the connection; with `upgrade`, a
  /// connection opened over polling moves to WebSocket when both ends allow it.
  std::vector<transport_kind> transports = {transport_kind::polling, transport_kind::websocket};
  bool upgrade = true;
  /// Extra query parameters of every Engine.IO request (beside the URL's own query).
  std::vector<std::pair<std::string, std::string>> query{};
  /// Extra headers of every HTTP request and of the WebSocket handshake.
  std::vector<std::pair<std::string, std::string>> extra_headers{};
  reconnection_options reconnection{};
  /// Time allowed from the start of a connection attempt to the Engine.IO handshake (0: none).
  std::chrono::milliseconds timeout = std::chrono::milliseconds{20'000};
  tls_options tls{};
  /// Send Accept-Encoding: gzip, deflate on polling requests and inflate the answers.
  bool accept_compression = true;

  // Bounds. Nothing the server sends and nothing the application emits grows without limit.
  /// Emits made while the socket is not connected, kept to be sent once it is. When full, the
  /// oldest buffered emit is dropped (its acknowledgement, if any, completes with
  /// client_error::send_buffer_full), so the newest state reaches the server.
  std::size_t max_buffered_emits = 1'000;
  /// Events received for a namespace before its CONNECT answer, delivered after it (oldest
  /// dropped past this).
  std::size_t max_buffered_events = 1'000;
  /// Acknowledgements awaited per socket; past this, emit_with_ack completes at once with
  /// client_error::too_many_acks.
  std::size_t max_pending_acks = 10'000;
  /// Bytes waiting to be written (Engine.IO buffer plus transport queue); past this, an emit is
  /// refused (its acknowledgement completes with client_error::write_buffer_full).
  std::size_t max_write_buffer_bytes = 16 * 1024 * 1024;
  /// Largest WebSocket message, polling response body (inflated) or Socket.IO attachment.
  std::size_t max_message_size = 16 * 1024 * 1024;
  /// Binary attachments per packet (socket.io-parser's maxAttachments).
  std::size_t max_attachments = 10;
  /// Nesting depth of received JSON.
  std::size_t max_json_depth = 32;

  /// Called with an exception thrown by an application handler (the client catches it and carries
  /// on). Unset: the exception is dropped.
  std::function<void(std::exception_ptr)> on_handler_exception{};
};

}  // namespace ignis::client
