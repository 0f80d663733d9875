#include "net/http_connection.hpp"
#include "net/socket_close.hpp"

#include <ignis/net/http.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace ignis::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::awaitable;
using asio::use_awaitable;
using detail::close_gracefully;
using detail::close_now;
using detail::listener_config;
using detail::listener_config_ptr;
using detail::services_ptr;
using detail::socket_deadline;
constexpr auto nothrow_awaitable = asio::as_tuple(use_awaitable);

http_exchange::http_exchange(http_request req, tcp::endpoint remote, shard& home)
    : request_(std::move(req)), remote_(std::move(remote)), home_(home) {}

void http_exchange::respond(http_response res, std::function<void()> then) {
  after_write_ = std::move(then);
  respond(std::move(res));
}

void http_exchange::respond(http_response res) {
  bool expected = false;
  if (!responded_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return;
  if (deliver_) deliver_(std::move(res));
}

http_response make_response(const http_request& req, http::status status, std::string body,
                            std::string_view content_type) {
  http_response res{status, req.version()};
  if (!content_type.empty()) res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

namespace {

// What a held request waits on: the response (from any shard) or the client going away.
struct pending_state {
  explicit pending_state(asio::any_io_executor ex) : wake(std::move(ex)) {}
  asio::steady_timer wake;
  std::optional<http_response> response;
  bool peer_closed = false;
  bool abandoned = false;  // the connection is gone; a late response is dropped
};

// Input read and thrown away while a connection closes is capped too, so that a client cannot keep
// one closing for long by sending.
constexpr std::size_t drain_cap = 8 * 1024 * 1024;

http_response plain_error(unsigned version, http::status status) {
  http_response res{status, version};
  res.set(http::field::content_type, "text/plain");
  res.body() = std::string(http::obsolete_reason(status));
  return res;
}

// Writes a refusal and ends the connection, both within the close timeout.
awaitable<void> write_and_close(tcp::socket& socket, socket_deadline& deadline, http_response res,
                                const http_limits& limits) {
  res.keep_alive(false);
  res.prepare_payload();
  deadline.expires_after(limits.close_timeout);
  auto [ec, n] = co_await http::async_write(socket, res, nothrow_awaitable);
  if (ec) co_return;  // closed by the caller's guard (a reset if our bytes are unread)
  co_await close_gracefully(socket, deadline, limits.close_timeout);
}

// Waits until `fd` is readable and reports whether the peer closed (a zero-byte peek). Data that
// arrives early (a pipelined request) is left in the socket.
void watch_for_close(tcp::socket& socket, std::shared_ptr<pending_state> state) {
  socket.async_wait(tcp::socket::wait_read, [&socket, state](const boost::system::error_code& ec) {
    if (ec || state->response) return;
    char probe;
    const auto n = ::recv(socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      state->peer_closed = true;
      state->wake.cancel();
    }
    // Readable with data: stop watching; the next request will be read later.
  });
}

// Closes the socket when the connection's coroutine ends, however it ends.
struct close_on_exit {
  tcp::socket& socket;
  ~close_on_exit() { close_now(socket); }
};

}  // namespace

struct detail::socket_deadline::state {
  explicit state(tcp::socket& s) : socket(&s), timer(s.get_executor()) {}
  tcp::socket* socket;  // null once the deadline is destroyed
  asio::steady_timer timer;
  std::uint32_t generation = 0;  // a wait that fired for an earlier deadline is ignored
  bool expired = false;
};

detail::socket_deadline::socket_deadline(tcp::socket& socket)
    : state_(std::make_shared<state>(socket)) {}

detail::socket_deadline::~socket_deadline() {
  state_->socket = nullptr;
  state_->timer.cancel();
}

void detail::socket_deadline::expires_after(std::chrono::milliseconds d) {
  auto& st = *state_;
  st.expired = false;
  st.timer.expires_after(d);
  st.timer.async_wait(
      [st = state_, generation = ++st.generation](const boost::system::error_code& ec) {
        if (ec || !st->socket || st->generation != generation) return;
        st->expired = true;
        boost::system::error_code ignored;
        st->socket->cancel(ignored);
      });
}

void detail::socket_deadline::expires_never() {
  ++state_->generation;
  state_->timer.cancel();
}

bool detail::socket_deadline::expired() const noexcept {
  return state_->expired;
}

void detail::close_now(tcp::socket& socket) noexcept {
  if (!socket.is_open()) return;
  reset_on_close_if_unacknowledged(socket.native_handle());
  boost::system::error_code ignored;
  socket.close(ignored);
}

awaitable<void> detail::close_gracefully(tcp::socket& socket, socket_deadline& deadline,
                                         std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    deadline.expires_after(timeout);
    // What is read is thrown away: the shard's scratch buffer serves every closing connection.
    auto* home = current_shard();
    std::array<std::uint8_t, 512> small{};
    const auto sink = home ? home->scratch() : std::span<std::uint8_t>(small);
    for (std::size_t drained = 0; drained < drain_cap;) {
      auto [rec, n] = co_await socket.async_read_some(asio::buffer(sink.data(), sink.size()),
                                                      nothrow_awaitable);
      if (rec) break;
      drained += n;
    }
    deadline.expires_never();
  }
  close_now(socket);
}

namespace {

// The paths of run_connection that do not wait are ordinary functions: a coroutine's frame holds
// every local of its body (GCC gives each its own slot, suspension point or not), and the frame
// lives as long as the connection is in its HTTP phase (every long-polling connection). Kept under
// 1 KiB, it is also a small-bin allocation for glibc, which serves a larger one only after merging
// every freed small block (malloc_consolidate), once per connection.

// 413 with the headers the request's service adds (CORS), for a body over the limit.
http_response too_large(const http_request& head, const services_ptr& services) {
  auto res = plain_error(head.version(), http::status::payload_too_large);
  res.body().clear();
  res.erase(http::field::content_type);
  for (const auto& service : *services) {
    if (service->matches(head)) {
      service->decorate(head, res);
      break;
    }
  }
  return res;
}

// The response to a request header that could not be read, if it gets one (a timeout, EOF or reset
// just drops the connection).
std::optional<http_response> header_error(const boost::system::error_code& ec,
                                          const http_request& head, const services_ptr& services) {
  if (ec == http::error::body_limit) return too_large(head, services);
  if (ec == http::error::header_limit) {
    return plain_error(11, http::status::request_header_fields_too_large);
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return plain_error(11, http::status::bad_request);
  }
  return std::nullopt;
}

// Ends a connection with a refusal in a coroutine of its own, which takes over the socket and the
// connection's place in the count: its frame exists only on this path.
void respond_and_close(tcp::socket socket, connection_slot slot, http_response res,
                       listener_config_ptr config) {
  auto executor = socket.get_executor();
  asio::co_spawn(
      executor,
      // `place` is held, not used: the connection counts until its socket is closed.
      [](tcp::socket s, [[maybe_unused]] connection_slot place, http_response r,
         listener_config_ptr cfg) -> awaitable<void> {
        close_on_exit guard{s};
        socket_deadline deadline(s);
        co_await write_and_close(s, deadline, std::move(r), cfg->limits);
      }(std::move(socket), std::move(slot), std::move(res), std::move(config)),
      [](std::exception_ptr) {});
}

// Hands an upgrade request, with the bytes read past its header, to the service it is for.
void hand_over_upgrade(http::request_parser<http::string_body>& parser,
                       const beast::flat_buffer& buffer, tcp::socket& socket, connection_slot& slot,
                       const tcp::endpoint& remote, bool relayed, const listener_config& config,
                       shard& home) {
  auto req = parser.release();
  const auto data = buffer.data();
  std::string leftover(static_cast<const char*>(data.data()), data.size());
  http_service* owner = nullptr;
  for (const auto& service : *config.services) {
    if (service->matches(req)) {
      owner = service.get();
      break;
    }
  }
  upgraded_connection conn{std::move(socket), std::move(leftover), std::move(slot), remote,
                           !relayed};
  if (owner) {
    owner->upgrade(std::move(req), std::move(conn), home);
  } else {
    refuse_connection(std::move(conn),
                      "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                      "Content-Type: text/plain\r\nContent-Length: 11\r\n\r\n"
                      "Bad Request",
                      config.limits.close_timeout);
  }
}

// Gives a complete request to its service (404 when none takes it); the response arrives through
// `state`, from whichever shard answers.
std::shared_ptr<http_exchange> dispatch(http::request_parser<http::string_body>& parser,
                                        const tcp::endpoint& remote, shard& home,
                                        const listener_config& config,
                                        const std::shared_ptr<pending_state>& state) {
  auto ex = std::make_shared<http_exchange>(parser.release(), remote, home);
  state->wake.expires_at(clock::time_point::max());
  ex->set_sink([state, tracker = config.tracker, executor = home.executor()](http_response res) {
    // Counted from the hand-over, so that a graceful stop never misses a response that is
    // still on its way to the connection's shard.
    if (tracker) tracker->response_handed_over();
    asio::post(executor, [state, tracker, res = std::move(res)]() mutable {
      if (state->abandoned) {
        if (tracker) tracker->response_done();
        return;
      }
      state->response = std::move(res);
      state->wake.cancel();
    });
  });
  for (const auto& service : *config.services) {
    if (service->matches(ex->request())) {
      service->handle(ex);
      return ex;
    }
  }
  ex->respond(make_response(ex->request(), http::status::not_found, "Not Found", "text/plain"));
  return ex;
}

}  // namespace

awaitable<void> detail::run_connection(shard& home, tcp::socket socket, listener_config_ptr config,
                                       connection_slot slot, tcp::endpoint remote, bool relayed) {
  close_on_exit guard{socket};
  const auto& limits = config->limits;
  boost::system::error_code ec;
  if (!relayed) socket.set_option(tcp::no_delay(true), ec);
  socket_deadline deadline(socket);
  // The read buffer and the parser, the frame's largest parts, in one block of their own.
  struct reading {
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
  };
  const auto io = std::make_unique<reading>();
  auto& buffer = io->buffer;

  for (;;) {
    auto& parser = io->parser.emplace();
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);

    deadline.expires_after(limits.header_timeout);
    auto [hec, hn] = co_await http::async_read_header(socket, buffer, parser, nothrow_awaitable);
    if (hec) {
      if (auto res = header_error(hec, parser.get(), config->services)) {
        respond_and_close(std::move(socket), std::move(slot), std::move(*res), config);
      }
      co_return;
    }

    if (parser.get().find(http::field::transfer_encoding) != parser.get().end() &&
        !parser.chunked()) {
      // RFC 9112 §6.3: a request whose last transfer coding is not chunked has no knowable body
      // length; reading it as empty would let its body pass as the next request (smuggling).
      respond_and_close(std::move(socket), std::move(slot),
                        plain_error(parser.get().version(), http::status::bad_request), config);
      co_return;
    }

    if (beast::websocket::is_upgrade(parser.get())) {
      deadline.expires_never();
      hand_over_upgrade(parser, buffer, socket, slot, remote, relayed, *config, home);
      co_return;
    }

    if (!parser.is_done()) {
      deadline.expires_after(limits.body_timeout);
      auto [bec, bn] = co_await http::async_read(socket, buffer, parser, nothrow_awaitable);
      if (bec == http::error::body_limit) {
        // The rest of the body is unread, so the connection cannot be reused.
        respond_and_close(std::move(socket), std::move(slot),
                          too_large(parser.get(), config->services), config);
        co_return;
      }
      if (bec) co_return;
    }
    deadline.expires_never();

    auto state = std::make_shared<pending_state>(home.executor());
    auto ex = dispatch(parser, remote, home, *config, state);
    if (!state->response) {
      watch_for_close(socket, state);
      while (!state->response && !state->peer_closed) {
        co_await state->wake.async_wait(nothrow_awaitable);
      }
      socket.cancel(ec);
      if (!state->response) {
        state->abandoned = true;
        ex->notify_aborted();
        co_return;
      }
    }

    // Written from the shared state (a second response is never delivered: respond() answers
    // once), so the frame does not hold a copy.
    const bool keep_alive = state->response->keep_alive();
    // A client that does not read its response (a pipelining client that never reads, a poll it
    // never collects) loses the connection at the deadline.
    deadline.expires_after(limits.write_timeout);
    auto [wec, wn] = co_await http::async_write(socket, *state->response, nothrow_awaitable);
    deadline.expires_never();
    state->response.reset();  // the exchange, and the state with it, may outlive the write
    if (config->tracker) config->tracker->response_done();
    if (auto then = ex->take_after_write()) then();
    if (wec) {
      if (deadline.expired() && config->tracker) config->tracker->count_write_timeout();
      co_return;
    }
    if (!keep_alive) {
      co_await close_gracefully(socket, deadline, limits.close_timeout);
      co_return;
    }
  }
}

void refuse_connection(upgraded_connection conn, std::string response,
                       std::chrono::milliseconds deadline, std::function<void()> done) {
  auto executor = conn.socket.get_executor();
  asio::co_spawn(
      executor,
      [](upgraded_connection c, std::string bytes,
         std::chrono::milliseconds timeout) -> awaitable<void> {
        close_on_exit guard{c.socket};
        socket_deadline write_deadline(c.socket);
        write_deadline.expires_after(timeout);
        auto [ec, n] = co_await asio::async_write(c.socket, asio::buffer(bytes), nothrow_awaitable);
        if (!ec) co_await close_gracefully(c.socket, write_deadline, timeout);
      }(std::move(conn), std::move(response), deadline),
      [done = std::move(done)](std::exception_ptr) {
        if (done) done();
      });
}

void http_service::upgrade(http_request, upgraded_connection conn, shard&) {
  refuse_connection(std::move(conn),
                    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: "
                    "text/plain\r\nContent-Length: 11\r\n\r\nBad Request");
}

http_listener::http_listener(runtime& rt, std::vector<std::shared_ptr<http_service>> services,
                             http_limits limits)
    : runtime_(rt),
      services_(
          std::make_shared<const std::vector<std::shared_ptr<http_service>>>(std::move(services))),
      limits_(limits),
      connections_(std::make_shared<connection_tracker>(limits.max_connections)) {}

http_listener::~http_listener() {
  close();
}

boost::system::error_code http_listener::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  config_ = std::make_shared<const detail::listener_config>(
      detail::listener_config{services_, limits_, connections_});
  accept();
  accept_thread_ = std::thread([this] { accept_context_.run(); });
  return {};
}

void http_listener::mount(std::shared_ptr<http_service> service) {
  if (acceptor_.is_open())
    throw std::logic_error("http_listener: services are mounted before listen()");
  auto services = *services_;
  services.push_back(std::move(service));
  services_ =
      std::make_shared<const std::vector<std::shared_ptr<http_service>>>(std::move(services));
}

unsigned short http_listener::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void http_listener::close() {
  if (!accept_thread_.joinable()) {
    boost::system::error_code ec;
    acceptor_.close(ec);
    return;
  }
  if (accept_thread_.get_id() == std::this_thread::get_id()) {
    throw std::logic_error("http_listener::close() called from its own accepting thread");
  }
  // Closed on its own thread (Asio objects are not thread-safe); the pending accept and any retry
  // timer then finish with operation_aborted and run() returns.
  asio::post(accept_context_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  accept_thread_.join();
}

namespace {

// What a full listener answers, before the request is read; the client reads it once it has sent
// its request (the connection is half-closed, not reset, so the answer is not lost).
constexpr std::string_view full_response =
    "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
    "Content-Type: text/plain\r\nContent-Length: 37\r\n\r\nThe server is at its connection limit";

// At most this many 503 answers are in progress at once; past it a connection is closed at once
// (each answer holds a descriptor for up to the close timeout).
constexpr unsigned max_refusals = 64;

}  // namespace

void http_listener::refuse(shard& target, tcp::socket socket) {
  connections_->count_refusal();
  // A TLS client could not read a plain answer.
  if (tls_ || !connections_->begin_answer(max_refusals)) {
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  asio::post(target.executor(), [socket = std::move(socket), timeout = limits_.close_timeout,
                                 tracker = connections_]() mutable {
    refuse_connection({std::move(socket)}, std::string(full_response), timeout,
                      [tracker] { tracker->end_answer(); });
  });
}

void http_listener::accept() {
  shard& target = runtime_.next();
  acceptor_.async_accept(
      target.context(), accept_peer_,
      [this, &target](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
          // Out of descriptors: retrying at once would spin; give closing connections a moment.
          auto delay = std::make_shared<asio::steady_timer>(acceptor_.get_executor(),
                                                            std::chrono::milliseconds(50));
          delay->async_wait([this, delay](const boost::system::error_code& wec) {
            if (!wec && acceptor_.is_open()) accept();
          });
          return;
        }
        if (!ec) {
          // A TLS connection holds three descriptors: its own and a local pair to the relay.
          auto slot = connections_->try_admit(tls_ ? 3 : 1);
          if (!slot) {
            refuse(target, std::move(socket));
          } else {
            // The connection's coroutine is created on its shard, so its frame comes from the
            // shard's memory, not from the accepting thread's.
            asio::post(target.executor(), [&target, socket = std::move(socket), config = config_,
                                           slot = std::move(slot), tls = tls_,
                                           peer = accept_peer_]() mutable {
              if (tls) {
                asio::co_spawn(
                    target.executor(),
                    detail::run_tls_connection(target, std::move(socket), std::move(config),
                                               std::move(slot), tls, peer),
                    [](std::exception_ptr) {});
              } else {
                asio::co_spawn(target.executor(),
                               detail::run_connection(target, std::move(socket), std::move(config),
                                                      std::move(slot), peer),
                               [](std::exception_ptr) {});
              }
            });
          }
        }
        // EMFILE and the like: keep accepting; the next attempt may succeed once descriptors free
        // up.
        accept();
      });
}

}  // namespace ignis::net
