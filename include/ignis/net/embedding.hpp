#pragma once

// For an application that runs its own HTTP server (Boost.Beast or other) and embeds an
// http_service, such as the Socket.IO endpoint, under a path of it. The application reads each
// request itself; for those the service matches it calls async_serve() (plain requests, long
// polls included) or accept_upgrade() (WebSocket upgrades). The service runs on the runtime's
// shards, never on the application's threads.
//
//   auto [ec, keep_alive] = co_await net::async_serve(rt, service, stream, std::move(req),
//                                                     as_tuple(use_awaitable));
#include <ignis/common/async.hpp>
#include <ignis/net/http.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/write.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace ignis::net {

using error_code = boost::system::error_code;

/// Hands a plain request to `service` on one of `rt`'s shards. `deliver` receives the response
/// exactly once, on a shard thread. The lower-level form of async_serve() for applications that
/// write responses themselves; if the client goes away first, call abort_dispatched(exchange).
std::shared_ptr<http_exchange> dispatch(runtime& rt, std::shared_ptr<http_service> service,
                                        http_request req, tcp::endpoint remote,
                                        std::function<void(http_response)> deliver);

/// The client of a dispatched request went away before its response.
void abort_dispatched(const std::shared_ptr<http_exchange>& exchange);

/// Hands a WebSocket upgrade request and its connection to `service`: the socket moves to one of
/// `rt`'s shards. `buffer` holds what the application read past the request (Beast's read
/// buffer). Returns an error when the connection cannot be handed over. A TLS stream cannot be
/// handed over: the WebSocket transport writes to its descriptor itself.
template <class DynamicBuffer>
error_code accept_upgrade(runtime& rt, std::shared_ptr<http_service> service, http_request req,
                          tcp::socket& socket, const DynamicBuffer& buffer);

namespace detail {

/// One request served on an application's stream (see async_serve()).
struct serve_state {
  explicit serve_state(boost::asio::any_io_executor ex) : wake(std::move(ex)) {
    wake.expires_at(boost::asio::steady_timer::time_point::max());
  }
  boost::asio::steady_timer wake;  // cancelled when something below changes
  std::shared_ptr<http_exchange> exchange;
  std::optional<http_response> response;
  bool peer_closed = false;
  bool cancelled = false;
  bool keep_alive = false;
};

std::shared_ptr<serve_state> start_serving(runtime& rt, std::shared_ptr<http_service> service,
                                           http_request req, tcp::endpoint remote,
                                           boost::asio::any_io_executor ex);
void watch_for_close(tcp::socket& socket, const std::shared_ptr<serve_state>& st);
void finish_serving(serve_state& st);
error_code hand_over_upgrade(runtime& rt, std::shared_ptr<http_service> service, http_request req,
                             tcp::socket& socket, std::string leftover);

// The TCP socket under a stream, or nullptr (then a peer closing is noticed only when the
// application cancels).
template <class Stream>
tcp::socket* tcp_socket_of(Stream& stream) {
  auto& lowest = boost::beast::get_lowest_layer(stream);
  using lowest_type = std::decay_t<decltype(lowest)>;
  if constexpr (std::is_same_v<lowest_type, tcp::socket>) {
    return &lowest;
  } else if constexpr (requires { lowest.socket(); }) {
    if constexpr (std::is_same_v<std::decay_t<decltype(lowest.socket())>, tcp::socket>)
      return &lowest.socket();
    else
      return nullptr;
  } else {
    return nullptr;
  }
}

template <class AsyncStream>
class serve_op {
 public:
  serve_op(runtime& rt, std::shared_ptr<http_service> service, AsyncStream& stream,
           http_request req)
      : rt_(rt), service_(std::move(service)), stream_(stream), req_(std::move(req)) {}

  template <class Self>
  void operator()(Self& self, error_code ec = {}, std::size_t = 0) {
    switch (step_) {
      case step::start: {
        step_ = step::waiting;
        tcp::endpoint remote;
        auto* socket = tcp_socket_of(stream_);
        if (socket) remote = socket->remote_endpoint(ec);
        st_ = start_serving(rt_, std::move(service_), std::move(req_), remote,
                            stream_.get_executor());
        if (socket) watch_for_close(*socket, st_);
        auto slot = self.get_cancellation_state().slot();
        if (slot.is_connected()) {
          slot.assign([st = st_, ex = stream_.get_executor()](boost::asio::cancellation_type) {
            boost::asio::post(ex, [st] {
              st->cancelled = true;
              st->wake.cancel();
            });
          });
        }
        st_->wake.async_wait(std::move(self));
        return;
      }
      case step::waiting:
        if (!st_->response && !st_->peer_closed && !st_->cancelled) {
          st_->wake.async_wait(std::move(self));
          return;
        }
        if (auto* socket = tcp_socket_of(stream_)) socket->cancel(ec);
        if (!st_->response) {
          abort_dispatched(st_->exchange);
          const error_code why = st_->cancelled ? error_code(boost::asio::error::operation_aborted)
                                                : error_code(boost::asio::error::eof);
          return self.complete(why, false);
        }
        step_ = step::writing;
        st_->keep_alive = st_->response->keep_alive();
        boost::beast::http::async_write(stream_, *st_->response, std::move(self));
        return;
      case step::writing:
        finish_serving(*st_);
        return self.complete(ec, !ec && st_->keep_alive);
    }
  }

 private:
  enum class step : std::uint8_t { start, waiting, writing };
  runtime& rt_;
  std::shared_ptr<http_service> service_;
  AsyncStream& stream_;
  http_request req_;
  std::shared_ptr<serve_state> st_;
  step step_ = step::start;
};

}  // namespace detail

/// Serves one request the application read on `stream`: `service` answers it on one of `rt`'s
/// shards (a long poll is held there), the response is written on `stream`, and the operation
/// completes with (error_code, bool keep_alive) on the token's executor (by default the
/// stream's), never inside this call. While a response is held, a peer that closes its TCP
/// connection ends the wait (eof); a cancellation (terminal) abandons it (operation_aborted). In
/// both cases nothing is written and the service is told the client went away.
template <class AsyncStream, class CompletionToken>
auto async_serve(runtime& rt, std::shared_ptr<http_service> service, AsyncStream& stream,
                 http_request req, CompletionToken&& token) {
  return boost::asio::async_compose<CompletionToken, void(error_code, bool)>(
      detail::serve_op<AsyncStream>(rt, std::move(service), stream, std::move(req)), token, stream);
}

template <class DynamicBuffer>
error_code accept_upgrade(runtime& rt, std::shared_ptr<http_service> service, http_request req,
                          tcp::socket& socket, const DynamicBuffer& buffer) {
  return detail::hand_over_upgrade(rt, std::move(service), std::move(req), socket,
                                   boost::beast::buffers_to_string(buffer.data()));
}

}  // namespace ignis::net
