#pragma once

// For an application that runs its own HTTP server (Boost.Beast or other) and embeds an
// http_service, such as the Socket.IO endpoint, under a path of it. The application reads each
// request itself; for those the service matches, it hands them over here. The service then runs on
// the runtime's shards, never on the application's threads.
#include <ignis/net/http.hpp>

#include <functional>
#include <memory>
#include <string>

namespace ignis::net {

/// Hands a plain request to `service` on one of `rt`'s shards. `deliver` receives the response
/// exactly once, on a shard thread: the application writes it on its own connection (a long-polling
/// GET may be held for up to the ping interval). If the client goes away before that, call
/// abort_dispatched(exchange) so the service can forget the request.
std::shared_ptr<http_exchange> dispatch(runtime& rt, std::shared_ptr<http_service> service,
                                        http_request req, tcp::endpoint remote,
                                        std::function<void(http_response)> deliver);

/// The client of a dispatched request went away before its response.
void abort_dispatched(const std::shared_ptr<http_exchange>& exchange);

/// Hands a WebSocket upgrade request with its connection to `service`. The socket may belong to
/// any io_context: it is moved to one of `rt`'s shards. `leftover` holds any bytes the application
/// read past the request header.
void dispatch_upgrade(runtime& rt, std::shared_ptr<http_service> service, http_request req,
                      tcp::socket socket, std::string leftover = {});

}  // namespace ignis::net
