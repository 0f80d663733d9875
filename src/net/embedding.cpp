#include <ignis/net/embedding.hpp>

#include <boost/asio/post.hpp>

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
    if (auto self = weak.lock(); self && self->after_write) {
      boost::asio::post(home.executor(), std::move(self->after_write));
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

void dispatch_upgrade(runtime& rt, std::shared_ptr<http_service> service, http_request req,
                      tcp::socket socket, std::string leftover) {
  shard& home = rt.next();
  // Re-open the descriptor on the shard's own io_context: the service's I/O must run there. The
  // assignment happens here, on the application's thread, so that Asio's long-lived per-socket
  // state is not allocated among the shard's connection memory (see http_listener).
  boost::system::error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  if (ec) return;
  const int fd = socket.release(ec);
  if (ec) return;
  tcp::socket moved(home.context());
  moved.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return;
  }
  boost::asio::post(
      home.executor(), [service = std::move(service), req = std::move(req),
                        moved = std::move(moved), leftover = std::move(leftover), &home]() mutable {
        service->upgrade(std::move(req), {std::move(moved), std::move(leftover), {}}, home);
      });
}

}  // namespace ignis::net
