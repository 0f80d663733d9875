#pragma once

// One accepted HTTP connection, plain or TLS (private to the net layer).
#include <ignis/net/http.hpp>

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <vector>

namespace ignis::net::detail {

using services_ptr = std::shared_ptr<const std::vector<std::shared_ptr<http_service>>>;

/// Serves requests on `socket` until it closes or is upgraded. `peer` stands in for the
/// socket's remote endpoint when the socket is a local pair carrying a decrypted connection.
boost::asio::awaitable<void> run_connection(shard& home, tcp::socket socket, services_ptr services,
                                            http_limits limits,
                                            std::optional<tcp::endpoint> peer = std::nullopt);

/// Completes the TLS handshake on `socket` and relays the decrypted bytes to run_connection()
/// through a local socket pair, so HTTP, long-polling and WebSocket work over TLS unchanged.
boost::asio::awaitable<void> run_tls_connection(shard& home, tcp::socket socket,
                                                services_ptr services, http_limits limits,
                                                std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace ignis::net::detail
