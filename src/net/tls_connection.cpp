#include "net/http_connection.hpp"
#include "net/socket_close.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <array>

namespace ignis::net::detail {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using local_socket = asio::local::stream_protocol::socket;
constexpr auto nothrow_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

// The two ends of a relayed connection: the client's TLS stream and our side of the pair.
struct relay {
  relay(tcp::socket s, ssl::context& ctx, const asio::any_io_executor& ex, connection_slot sl)
      : tls(std::move(s), ctx), inner(ex), deadline(ex), slot(std::move(sl)) {}
  ssl::stream<tcp::socket> tls;
  local_socket inner;
  // The deadline of the write to the client in progress, then of the close.
  asio::steady_timer deadline;
  connection_slot slot;
  bool client_done = false;  // the client closed its side
  bool server_done = false;  // our side closed (everything it wrote is relayed)

  void close() {
    boost::system::error_code ignored;
    auto& socket = tls.next_layer();
    // A client that did not take our bytes is reset: the kernel then keeps nothing for it.
    if (socket.is_open()) reset_on_close_if_unacknowledged(socket.native_handle());
    socket.close(ignored);
    inner.close(ignored);
    deadline.cancel();
    slot.release();
  }
  // Until cancelled, closes everything at `timeout` from now.
  void close_after(std::chrono::milliseconds timeout, std::shared_ptr<relay> self) {
    deadline.expires_after(timeout);
    deadline.async_wait([self = std::move(self)](const boost::system::error_code& ec) {
      if (!ec) self->close();
    });
  }
};

// Client -> server: decrypt and pass on. The client's end of input ends the pair's input too.
awaitable<void> upstream(std::shared_ptr<relay> r) {
  std::array<char, 16 * 1024> buf{};
  for (;;) {
    auto [rec, n] = co_await r->tls.async_read_some(asio::buffer(buf), nothrow_awaitable);
    if (rec) break;
    auto [wec, wn] =
        co_await asio::async_write(r->inner, asio::buffer(buf.data(), n), nothrow_awaitable);
    if (wec) break;
  }
  boost::system::error_code ignored;
  r->inner.shutdown(local_socket::shutdown_send, ignored);
  r->client_done = true;
  if (r->server_done) r->close();
}

// Server -> client: encrypt and send. When our side is done, half-close towards the client and
// let upstream() read what the client still sends until it closes too (closing with unread input
// would reset the connection, and the client would lose our last bytes), for a short while only.
// A client that does not read what is relayed to it is closed at the write deadline.
awaitable<void> downstream(std::shared_ptr<relay> r, http_limits limits) {
  std::array<char, 16 * 1024> buf{};
  for (;;) {
    auto [rec, n] = co_await r->inner.async_read_some(asio::buffer(buf), nothrow_awaitable);
    if (rec) break;
    r->close_after(limits.write_timeout, r);
    auto [wec, wn] =
        co_await asio::async_write(r->tls, asio::buffer(buf.data(), n), nothrow_awaitable);
    r->deadline.cancel();
    if (wec) {
      r->close();
      co_return;
    }
  }
  r->server_done = true;
  if (r->client_done) {
    r->close();
    co_return;
  }
  boost::system::error_code ignored;
  r->tls.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
  // upstream() reads until the client closes too, or until then.
  r->close_after(std::min<std::chrono::milliseconds>(limits.close_timeout, std::chrono::seconds(2)),
                 r);
}

}  // namespace

awaitable<void> run_tls_connection(shard& home, tcp::socket socket, listener_config_ptr config,
                                   connection_slot slot, std::shared_ptr<ssl::context> tls,
                                   tcp::endpoint peer) {
  boost::system::error_code ec;
  const auto remote = peer;
  socket.set_option(tcp::no_delay(true), ec);
  const auto limits = config->limits;
  auto r = std::make_shared<relay>(std::move(socket), *tls, home.executor(), std::move(slot));

  // A client that never finishes its handshake is dropped like a slow request header.
  r->close_after(limits.header_timeout, r);
  auto [hec] = co_await r->tls.async_handshake(ssl::stream_base::server, nothrow_awaitable);
  r->deadline.cancel();
  if (hec) {
    r->close();
    co_return;
  }

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    r->close();
    co_return;
  }
  tcp::socket server_end(home.executor());
  r->inner.assign(asio::local::stream_protocol(), fds[0], ec);
  if (ec) ::close(fds[0]);
  boost::system::error_code server_ec;
  server_end.assign(remote.protocol(), fds[1], server_ec);
  if (server_ec) ::close(fds[1]);
  if (ec || server_ec) {
    r->close();
    co_return;
  }
  // The relay holds the connection's slot (for all three descriptors).
  asio::co_spawn(home.executor(),
                 run_connection(home, std::move(server_end), std::move(config), {}, remote, true),
                 asio::detached);
  asio::co_spawn(home.executor(), upstream(r), asio::detached);
  co_await downstream(r, limits);
}

}  // namespace ignis::net::detail
