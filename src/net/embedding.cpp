#include <ignis/net/embedding.hpp>

#include <boost/asio/post.hpp>

#include <sys/socket.h>
#include <unistd.h>

namespace ignis::net {

std::shared_ptr<http_exchange> dispatch(runtime& rt, std::shared_ptr<http_service> service,
                                        http_request req, tcp::endpoint remote,
                                        std::function<void(http_response)> deliver) {
  shard& home = rt.next();
  auto ex = std::make_shared<http_exchange>(std::move(req), remote, home);
  // The application writes the response on its own connection, so the moment it is on the wire is
  // not known here: effects the service wants after the write run once the response is handed over.
  ex->set_sink([weak = std::weak_ptr<http_exchange>(ex), &home,
                deliver = std::move(deliver)](http_response res) {
    deliver(std::move(res));
    if (auto self = weak.lock()) {
      if (auto then = self->take_after_write()) boost::asio::post(home.executor(), std::move(then));
    }
  });
  boost::asio::post(home.executor(), [service = std::move(service), ex] { service->handle(ex); });
  return ex;
}

void abort_dispatched(const std::shared_ptr<http_exchange>& exchange) {
  if (!exchange || exchange->responded()) return;
  boost::asio::post(exchange->home().executor(), [exchange] {
    if (!exchange->responded()) exchange->notify_aborted();
  });
}

namespace detail {

std::shared_ptr<serve_state> start_serving(runtime& rt, std::shared_ptr<http_service> service,
                                           http_request req, tcp::endpoint remote,
                                           boost::asio::any_io_executor ex) {
  auto st = std::make_shared<serve_state>(ex);
  shard& home = rt.next();
  st->exchange = std::make_shared<http_exchange>(std::move(req), remote, home);
  st->exchange->set_sink([st, ex](http_response res) {
    boost::asio::post(ex, [st, res = std::move(res)]() mutable {
      st->response = std::move(res);
      st->wake.cancel();
    });
  });
  boost::asio::post(home.executor(), [service = std::move(service), exchange = st->exchange] {
    service->handle(exchange);
  });
  return st;
}

void watch_for_close(tcp::socket& socket, const std::shared_ptr<serve_state>& st) {
  // Readable while a response is held means the client closed (a poll is never pipelined); data
  // that arrives early is left in the socket for the application's next read.
  socket.async_wait(tcp::socket::wait_read, [&socket, st](const error_code& ec) {
    if (ec || st->response) return;
    char probe;
    const auto n = ::recv(socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      st->peer_closed = true;
      st->wake.cancel();
    }
  });
}

void finish_serving(serve_state& st) {
  // What the service wanted done once its response is on the wire.
  if (auto then = st.exchange->take_after_write())
    boost::asio::post(st.exchange->home().executor(), std::move(then));
}

error_code hand_over_upgrade(runtime& rt, std::shared_ptr<http_service> service, http_request req,
                             tcp::socket& socket, std::string leftover) {
  shard& home = rt.next();
  // Re-open the descriptor on the shard's own io_context: the service's I/O must run there. The
  // assignment happens here, on the application's thread, so that Asio's long-lived per-socket
  // state is not allocated among the shard's connection memory (see http_listener).
  error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  if (ec) return ec;
  const int fd = socket.release(ec);
  if (ec) return ec;
  tcp::socket moved(home.context());
  moved.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return ec;
  }
  boost::asio::post(
      home.executor(), [service = std::move(service), req = std::move(req),
                        moved = std::move(moved), leftover = std::move(leftover), &home]() mutable {
        service->upgrade(std::move(req), {std::move(moved), std::move(leftover)}, home);
      });
  return {};
}

}  // namespace detail
}  // namespace ignis::net
