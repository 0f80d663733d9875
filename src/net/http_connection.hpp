#pragma once

// One accepted HTTP connection, plain or TLS, and the deadlines of its reads, writes and close
// (private to the net layer).
#include <ignis/net/http.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace ignis::net::detail {

using services_ptr = std::shared_ptr<const std::vector<std::shared_ptr<http_service>>>;

/// What every connection of a listener shares.
struct listener_config {
  services_ptr services;
  http_limits limits;
  std::shared_ptr<connection_tracker> tracker;
};
using listener_config_ptr = std::shared_ptr<const listener_config>;

/// The deadline of a connection's current read or write. Unlike beast::tcp_stream's timeouts,
/// which close the socket when they expire, it only cancels the operation: the connection then
/// closes as it must (a reset when the client left our bytes unread, a half-close otherwise).
class socket_deadline {
 public:
  explicit socket_deadline(tcp::socket& socket);
  ~socket_deadline();
  socket_deadline(const socket_deadline&) = delete;
  socket_deadline& operator=(const socket_deadline&) = delete;

  void expires_after(std::chrono::milliseconds d);
  void expires_never();
  /// The last deadline passed (and cancelled the operation).
  bool expired() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

/// Closes `socket` now: a reset if the client has not taken all our bytes.
void close_now(tcp::socket& socket) noexcept;

/// Ends a connection after its last bytes: half-closes, then reads and discards what the client
/// still sends until it closes too (closing with unread input would reset the connection, and
/// the client would lose what we sent), for at most `timeout`; then closes, with a reset if the
/// client has not taken our bytes by then.
boost::asio::awaitable<void> close_gracefully(tcp::socket& socket, socket_deadline& deadline,
                                              std::chrono::milliseconds timeout);

/// Serves requests on `socket` until it closes or is upgraded. `peer` is the client's address
/// (from the accept, which spares a getpeername). `relayed`: `socket` is the local pair that
/// carries a TLS connection's decrypted bytes (no TCP options to set), and `peer` the TLS
/// client's address.
boost::asio::awaitable<void> run_connection(shard& home, tcp::socket socket,
                                            listener_config_ptr config, connection_slot slot,
                                            tcp::endpoint peer, bool relayed = false);

/// Completes the TLS handshake on `socket` and relays the decrypted bytes to run_connection()
/// through a local socket pair, so HTTP, long-polling and WebSocket work over TLS unchanged.
/// `peer` is the client's address (from the accept).
boost::asio::awaitable<void> run_tls_connection(shard& home, tcp::socket socket,
                                                listener_config_ptr config, connection_slot slot,
                                                std::shared_ptr<boost::asio::ssl::context> tls,
                                                tcp::endpoint peer);

}  // namespace ignis::net::detail
