#include "net/http_connection.hpp"

#include <ignis/net/http.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
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
constexpr auto nothrow_awaitable = asio::as_tuple(use_awaitable);

http_exchange::http_exchange(http_request req, tcp::endpoint remote, shard& home)
    : request_(std::move(req)), remote_(std::move(remote)), home_(home) {}

void http_exchange::respond(http_response res, std::function<void()> then) {
  after_write = std::move(then);
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

// Responses handed over and not yet written, in the whole process (changes once per response).
std::atomic<std::size_t> responses_unwritten{0};

awaitable<void> write_and_close(beast::tcp_stream& stream, http_response res) {
  res.keep_alive(false);
  res.prepare_payload();
  co_await http::async_write(stream, res, nothrow_awaitable);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  // Closing a socket that still has unread input makes the kernel answer with a reset, and a
  // client still sending its (refused) body then loses the response it was sent. Read and discard
  // until the client closes, bounded in bytes and time so that this cannot hold a connection.
  constexpr std::size_t drain_cap = 8 * 1024 * 1024;
  constexpr auto drain_timeout = std::chrono::seconds(2);
  stream.expires_after(drain_timeout);
  std::array<char, 16 * 1024> sink{};
  for (std::size_t drained = 0; drained < drain_cap;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), nothrow_awaitable);
    if (ec) break;
    drained += n;
  }
}

http_response plain_error(unsigned version, http::status status) {
  http_response res{status, version};
  res.set(http::field::content_type, "text/plain");
  res.body() = std::string(http::obsolete_reason(status));
  return res;
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

}  // namespace

awaitable<void> detail::run_connection(shard& home, tcp::socket socket, services_ptr services,
                                       http_limits limits, std::optional<tcp::endpoint> peer) {
  boost::system::error_code ec;
  const auto remote = peer ? *peer : socket.remote_endpoint(ec);
  if (ec) co_return;
  if (!peer) socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;

  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);

    stream.expires_after(limits.header_timeout);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, nothrow_awaitable);
    auto too_large = [&]() -> http_response {
      // The rest of the body is unread, so the connection cannot be reused.
      const auto& head = parser.get();
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
    };
    if (hec) {
      if (hec == http::error::body_limit) {
        co_await write_and_close(stream, too_large());
      } else if (hec == http::error::header_limit) {
        co_await write_and_close(stream,
                                 plain_error(11, http::status::request_header_fields_too_large));
      } else if (hec.category() == http::make_error_code(http::error::bad_target).category() &&
                 hec != http::error::end_of_stream && hec != http::error::partial_message) {
        co_await write_and_close(stream, plain_error(11, http::status::bad_request));
      }
      co_return;  // timeout, EOF or reset: just drop the connection
    }

    if (parser.get().find(http::field::transfer_encoding) != parser.get().end() &&
        !parser.chunked()) {
      // RFC 9112 §6.3: a request whose last transfer coding is not chunked has no knowable body
      // length; reading it as empty would let its body pass as the next request (smuggling).
      co_await write_and_close(stream,
                               plain_error(parser.get().version(), http::status::bad_request));
      co_return;
    }

    if (beast::websocket::is_upgrade(parser.get())) {
      stream.expires_never();
      auto req = parser.release();
      for (const auto& service : *services) {
        if (!service->matches(req)) continue;
        const auto data = buffer.data();
        std::string leftover(static_cast<const char*>(data.data()), data.size());
        service->upgrade(std::move(req), stream.release_socket(), std::move(leftover), home);
        co_return;
      }
      co_await write_and_close(stream, plain_error(req.version(), http::status::bad_request));
      co_return;
    }

    if (!parser.is_done()) {
      stream.expires_after(limits.body_timeout);
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, nothrow_awaitable);
      if (bec == http::error::body_limit) {
        // The rest of the body is unread, so the connection cannot be reused.
        co_await write_and_close(stream, too_large());
        co_return;
      }
      if (bec) co_return;
    }
    stream.expires_never();

    auto ex = std::make_shared<http_exchange>(parser.release(), remote, home);
    auto state = std::make_shared<pending_state>(home.executor());
    state->wake.expires_at(clock::time_point::max());
    ex->set_sink([state, executor = home.executor()](http_response res) {
      // Counted from the hand-over, so that a graceful stop never misses a response that is
      // still on its way to the connection's shard.
      responses_unwritten.fetch_add(1, std::memory_order_relaxed);
      asio::post(executor, [state, res = std::move(res)]() mutable {
        if (state->abandoned) {
          responses_unwritten.fetch_sub(1, std::memory_order_relaxed);
          return;
        }
        state->response = std::move(res);
        state->wake.cancel();
      });
    });

    const http_service* owner = nullptr;
    for (const auto& service : *services) {
      if (service->matches(ex->request())) {
        owner = service.get();
        service->handle(ex);
        break;
      }
    }
    if (!owner) {
      ex->respond(make_response(ex->request(), http::status::not_found, "Not Found", "text/plain"));
    }

    if (!state->response) {
      watch_for_close(stream.socket(), state);
      while (!state->response && !state->peer_closed) {
        co_await state->wake.async_wait(nothrow_awaitable);
      }
      stream.socket().cancel(ec);
      if (!state->response) {
        state->abandoned = true;
        ex->notify_aborted();
        co_return;
      }
    }

    auto res = std::move(*state->response);
    const bool keep_alive = res.keep_alive();
    auto [wec, wn] = co_await http::async_write(stream, res, nothrow_awaitable);
    responses_unwritten.fetch_sub(1, std::memory_order_relaxed);
    if (auto then = std::move(ex->after_write)) then();
    if (wec || !keep_alive) {
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
  }
}

http_listener::http_listener(runtime& rt, std::vector<std::shared_ptr<http_service>> services,
                             http_limits limits)
    : runtime_(rt),
      services_(
          std::make_shared<const std::vector<std::shared_ptr<http_service>>>(std::move(services))),
      limits_(limits) {}

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

std::size_t http_listener::responses_in_flight() noexcept {
  return responses_unwritten.load(std::memory_order_relaxed);
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

void http_listener::accept() {
  shard& target = runtime_.next();
  acceptor_.async_accept(
      target.context(), [this, &target](const boost::system::error_code& ec, tcp::socket socket) {
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
          // The connection's coroutine is created on its shard, so its frame comes from the
          // shard's memory, not from the accepting thread's.
          asio::post(target.executor(), [&target, socket = std::move(socket), services = services_,
                                         limits = limits_, tls = tls_]() mutable {
            if (tls) {
              asio::co_spawn(target.executor(),
                             detail::run_tls_connection(target, std::move(socket),
                                                        std::move(services), limits, tls),
                             [](std::exception_ptr) {});
            } else {
              asio::co_spawn(
                  target.executor(),
                  detail::run_connection(target, std::move(socket), std::move(services), limits),
                  [](std::exception_ptr) {});
            }
          });
        }
        // EMFILE and the like: keep accepting; the next attempt may succeed once descriptors free
        // up.
        accept();
      });
}

}  // namespace ignis::net
