#pragma once

// The Socket.IO client's connection manager (socket.io-client's Manager): one Engine.IO
// connection (polling, WebSocket, the upgrade, the heartbeat) multiplexing any number of
// namespaces, and reconnection with jittered exponential backoff.
//
//   ignis::client::io_thread io;
//   ignis::client::manager m(io.executor(), "https://example.com", {});
//   auto s = m.socket("/", {{"token", "..."}});
//   s->on("news", [](ignis::client::payload& p, ignis::client::ack_responder) { ... });
//   s->connect();
//
// Threading: the manager runs on the executor it is given, serialised on a strand of it; it starts
// no thread. Every member function may be called from any thread (actions are posted to the
// strand in call order); handlers run on the strand. The destructor never blocks: it closes the
// connection in the background, and from then on none of the manager's or its sockets' handlers
// starts. The executor's execution context must outlive the manager and its sockets.
#include <ignis/client/error.hpp>
#include <ignis/client/options.hpp>
#include <ignis/client/socket.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ignis::client {

class manager {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// `url`: http://, https://, ws:// or wss://, host, optional port and query (its path is not
  /// used: the Engine.IO path is options.path and namespaces are chosen with socket()). Throws
  /// std::invalid_argument for a URL it cannot use or a TLS option it cannot apply.
  manager(executor_type ex, std::string_view url, manager_options options = {});
  ~manager();
  manager(manager&&) noexcept;
  manager& operator=(manager&&) noexcept;
  manager(const manager&) = delete;
  manager& operator=(const manager&) = delete;

  /// The socket of namespace `nsp`: the existing one while it is alive (then `auth` is ignored),
  /// else a new one. It connects when its connect() is called.
  std::shared_ptr<client::socket> socket(std::string nsp = "/", boost::json::object auth = {});

  /// Opens the connection now (sockets open it when they connect).
  void open();
  /// Closes the connection and stops reconnecting; connected sockets get "io client disconnect".
  /// A later connect() of a socket opens it again.
  void close();

  /// The transport in use, or nullopt while not connected.
  std::optional<transport_kind> transport() const noexcept;
  /// The Engine.IO session id, or empty.
  std::string engine_id() const;
  /// The strand everything runs on.
  executor_type get_executor() const noexcept;

  listener_id on_open(std::function<void()> h);
  listener_id on_close(std::function<void(disconnect_reason)> h);
  /// A failed connection attempt or a transport error.
  listener_id on_error(std::function<void(const connect_error&)> h);
  /// The connection moved from polling to WebSocket.
  listener_id on_upgrade(std::function<void(transport_kind)> h);
  /// A reconnection attempt starts (1, 2, ...).
  listener_id on_reconnect_attempt(std::function<void(std::size_t attempt)> h);
  /// Reconnected after `attempt` attempts.
  listener_id on_reconnect(std::function<void(std::size_t attempt)> h);
  listener_id on_reconnect_error(std::function<void(const connect_error&)> h);
  /// reconnection_options::attempts ran out.
  listener_id on_reconnect_failed(std::function<void()> h);
  /// An Engine.IO ping arrived (and was answered).
  listener_id on_ping(std::function<void()> h);
  void off(listener_id id);

 private:
  std::shared_ptr<detail::manager_impl> impl_;
};

/// The namespace a URL names by its path ("/" when it has none), as socket.io-client's io(url):
/// "https://example.com/admin" -> "/admin".
std::string url_namespace(std::string_view url);

/// Owns an io_context run by one thread: for programs and tests that have no event loop of their
/// own. Destroy the managers and sockets that use it first; its destructor stops the loop and
/// joins the thread.
class io_thread {
 public:
  io_thread();
  ~io_thread();
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;

  boost::asio::any_io_executor executor() noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace ignis::client
