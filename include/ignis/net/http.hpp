#pragma once

// HTTP/1.1 on Boost.Beast's parser: the listener, keep-alive connections with header/body limits
// and a header timeout, long-held responses (for polling), and hand-over of upgraded sockets.
#include <ignis/net/connections.hpp>
#include <ignis/net/runtime.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace ignis::net {

namespace detail {
struct listener_config;
}

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

struct http_limits {
  std::size_t max_header_bytes = 16 * 1024;  // Node's default --max-http-header-size
  std::size_t max_body_bytes = 1'000'000;    // bodies above this get 413
  /// Time allowed for a whole request header (slowloris) and for a keep-alive connection to start
  /// its next request.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  /// Time allowed for writing a whole response: a client that does not read it is disconnected.
  std::chrono::milliseconds write_timeout{30'000};
  /// Time a closing connection waits for the client to take its last bytes and close too.
  std::chrono::milliseconds close_timeout{5'000};
  /// Descriptors the listener's connections may hold at once (a TLS connection holds three); past
  /// it new connections are answered 503 and closed. 0: no bound.
  std::size_t max_connections = 0;
};

/// One request waiting for its response. A service may answer at once or hold it (long polling)
/// and answer later from any shard.
class http_exchange : public std::enable_shared_from_this<http_exchange> {
 public:
  http_exchange(http_request req, tcp::endpoint remote, shard& home);

  const http_request& request() const noexcept { return request_; }
  const tcp::endpoint& remote() const noexcept { return remote_; }
  shard& home() const noexcept { return home_; }

  /// Sends the response; callable from any thread, only the first call counts.
  void respond(http_response res);
  /// As respond(), and runs `after_write` (on the connection's shard) once the response has been
  /// written, or failed to be: for effects that must not overtake the response on the wire.
  void respond(http_response res, std::function<void()> after_write);
  /// Set by the service while it handles the request (on the home shard): called on the home
  /// shard if the client disconnects before the response was sent.
  void on_abort(std::function<void()> fn) { on_abort_ = std::move(fn); }

  bool responded() const noexcept { return responded_.load(std::memory_order_acquire); }

  // For whatever owns the connection (our listener, or an application's own HTTP server):
  /// Where respond() hands the response; called once, from the responding thread.
  void set_sink(std::function<void(http_response)> sink) { deliver_ = std::move(sink); }
  /// The client went away before the response: runs the service's on_abort (on the home shard).
  void notify_aborted() {
    if (on_abort_) on_abort_();
  }
  /// What respond(res, after_write) asked to run once the response is written (taken once).
  std::function<void()> take_after_write() { return std::move(after_write_); }

 private:
  http_request request_;
  tcp::endpoint remote_;
  shard& home_;
  std::function<void()> on_abort_;
  std::atomic<bool> responded_{false};
  std::function<void(http_response)> deliver_;  // set by the connection
  std::function<void()> after_write_;
};

/// A connection handed over by a WebSocket upgrade request.
struct upgraded_connection {
  upgraded_connection(tcp::socket s, std::string bytes_after_header = {},
                      connection_slot place = {}, std::optional<tcp::endpoint> peer = {},
                      bool no_delay_set = false)
      : socket(std::move(s)),
        leftover(std::move(bytes_after_header)),
        slot(std::move(place)),
        remote(std::move(peer)),
        no_delay(no_delay_set) {}

  tcp::socket socket;
  std::string leftover;  ///< bytes read past the request header
  connection_slot slot;  ///< the connection's place in its listener's count, kept while it is open
  /// The client's address when the accepting side knows it (a TLS connection's socket is a local
  /// pair that has none); else it is asked of the socket.
  std::optional<tcp::endpoint> remote;
  bool no_delay = false;  ///< TCP_NODELAY is set already (each is a system call per connection)
};

/// Answers `response` (a whole HTTP response, e.g. a refusal of an upgrade) on `conn` and closes
/// it: the write and the close together are given `deadline`, then the connection is reset.
void refuse_connection(upgraded_connection conn, std::string response,
                       std::chrono::milliseconds deadline = std::chrono::seconds(5),
                       std::function<void()> done = {});

class http_service {
 public:
  virtual ~http_service() = default;
  /// True when the request is for this service (usually: its path prefix).
  virtual bool matches(const http_request& req) const = 0;
  /// Handles a plain request; called on the connection's shard.
  virtual void handle(std::shared_ptr<http_exchange> ex) = 0;
  /// Takes over a WebSocket upgrade request with its connection; called on the connection's
  /// shard. By default the upgrade is refused with 400.
  virtual void upgrade(http_request req, upgraded_connection conn, shard& home);
  /// Adds the service's headers (e.g. CORS) to a response the HTTP layer makes itself, such as
  /// the 413 for a body over the limit.
  virtual void decorate(const http_request&, http_response&) const {}
};

/// A server that routes requests to the services mounted on it: our own http_listener, or an
/// application's HTTP server that hands requests over with dispatch()/dispatch_upgrade()
/// (net/embedding.hpp).
class http_host {
 public:
  virtual ~http_host() = default;
  /// Adds a service; requests go to the first mounted service that matches them.
  virtual void mount(std::shared_ptr<http_service> service) = 0;
};

class http_listener final : public http_host {
 public:
  explicit http_listener(runtime& rt, std::vector<std::shared_ptr<http_service>> services = {},
                         http_limits limits = {});
  ~http_listener() override;

  /// Only before listen(): connections share the list without locking.
  void mount(std::shared_ptr<http_service> service) override;

  /// Binds and starts accepting on a thread of the listener's own; connections are spread over
  /// the shards.
  boost::system::error_code listen(const tcp::endpoint& endpoint);
  unsigned short port() const;
  /// Stops accepting (existing connections stay) and joins the accepting thread.
  void close();
  /// The count of this listener's connections (open, refused, write timeouts).
  const connection_tracker& connections() const noexcept { return *connections_; }
  /// Serves HTTPS and WSS with `tls` (call before listen()). Plain connections are untouched
  /// by this: each TLS connection is decrypted into a local socket pair whose other end runs
  /// the same code as a plain connection.
  void use_tls(std::shared_ptr<boost::asio::ssl::context> tls) { tls_ = std::move(tls); }

 private:
  void accept();
  void refuse(shard& target, tcp::socket socket);
  runtime& runtime_;
  std::shared_ptr<const std::vector<std::shared_ptr<http_service>>> services_;
  http_limits limits_;
  // Accepting runs on a thread of its own rather than on a shard: Asio allocates its per-socket
  // reactor state (pooled, never freed) on the accepting thread, and glibc gives that thread its
  // own arena, so those long-lived blocks do not end up between the shards' connection
  // allocations, where they would pin freed pages and keep a burst's memory resident for good.
  boost::asio::io_context accept_context_{1};
  tcp::acceptor acceptor_{accept_context_};
  tcp::endpoint accept_peer_;  // the client of the accept in progress (there is one at a time)
  std::thread accept_thread_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::shared_ptr<connection_tracker> connections_;
  std::shared_ptr<const detail::listener_config> config_;  // set by listen()
};

/// Writes a complete response with Node-like defaults (Content-Length, keep-alive as requested).
http_response make_response(const http_request& req, http::status status, std::string body,
                            std::string_view content_type);

/// The path of a request target: everything before the query ("/health" of "/health?x=1").
inline std::string_view target_path(std::string_view target) noexcept {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace ignis::net
