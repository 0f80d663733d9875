#pragma once

// A Socket.IO client socket: one namespace over a manager's connection (socket.io-client's
// Socket).
//
// Threading: every member function may be called from any thread; those that act post their work
// to the manager's strand, in call order. Handlers run on that strand, one at a time. Once the
// socket (or its manager) is destroyed, none of its handlers starts any more.
#include <ignis/client/error.hpp>
#include <ignis/client/options.hpp>
#include <ignis/common/async.hpp>
#include <ignis/socketio/payload.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ignis::client {

using socketio::make_args;
using socketio::payload;

namespace detail {
class socket_impl;
class manager_impl;
}  // namespace detail

/// Identifies a registered handler, for off().
using listener_id = std::uint64_t;

/// Answers an acknowledgement the server asked for; empty when it asked for none. Copies share
/// one state: only the first call of all of them sends anything. Callable from any thread.
class ack_responder {
 public:
  ack_responder() = default;
  explicit operator bool() const noexcept { return state_ != nullptr; }
  void operator()(payload args = {}) const;

 private:
  friend class detail::socket_impl;
  struct state;
  explicit ack_responder(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

/// Handles one event: its arguments (JSON plus binary attachments) and the acknowledgement.
using event_handler = std::function<void(payload& args, ack_responder ack)>;
using any_handler = std::function<void(std::string_view event, payload& args, ack_responder ack)>;
/// Completion of emit_with_ack: an error (client_error::ack_timeout, disconnected, ...) or the
/// server's arguments.
using ack_callback = std::function<void(error_code, payload)>;

class socket {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// Disconnects (as disconnect()) without calling any handler; never blocks.
  ~socket();
  socket(const socket&) = delete;
  socket& operator=(const socket&) = delete;

  const std::string& nsp() const noexcept { return nsp_; }
  /// The socket id the server gave, or empty when not connected.
  std::string id() const;
  bool connected() const noexcept;
  /// True when the last connection restored the previous session (the server's
  /// connectionStateRecovery: same id, rooms, and the events missed meanwhile replayed first).
  bool recovered() const noexcept;
  /// The strand its handlers run on.
  executor_type get_executor() const noexcept;

  /// Connects to the namespace (opening the manager's connection if needed). Socket.IO's CONNECT
  /// is sent again after every reconnection of the manager.
  void connect();
  /// Leaves the namespace (DISCONNECT), reason "io client disconnect"; no reconnection until
  /// connect() is called again. The manager's connection closes when no socket uses it.
  void disconnect();
  /// The auth payload of the next CONNECT packets (socket.handshake.auth on the server).
  void set_auth(boost::json::object auth);

  listener_id on(std::string event, event_handler h);
  /// Catch-all: called for every event, before the event's own handlers.
  listener_id on_any(any_handler h);
  listener_id on_connect(std::function<void()> h);
  /// Called when a connected socket disconnects (not when an attempt fails: see
  /// on_connect_error).
  listener_id on_disconnect(std::function<void(disconnect_reason)> h);
  /// A refusal by the server (its message and data; no reconnection follows), or a failed
  /// connection attempt while not connected (reconnection goes on).
  listener_id on_connect_error(std::function<void(const connect_error&)> h);
  /// Removes every handler of `event` registered with on().
  void off(std::string_view event);
  /// Removes one handler of any kind.
  void off(listener_id id);
  /// Removes every catch-all handler.
  void off_any();

  /// Sends an event. Reserved names (connect, connect_error, disconnect, disconnecting,
  /// newListener, removeListener) throw std::invalid_argument. While not connected the emit is
  /// buffered (manager_options::max_buffered_emits) and sent once connected.
  void emit(std::string_view event, payload args = {});
  /// Dropped instead of buffered when the socket is not connected or the connection cannot take
  /// it right now.
  void emit_volatile(std::string_view event, payload args = {});
  /// Sends an event with an acknowledgement request. `cb` runs once on the strand: with the
  /// server's arguments, or an error (client_error::ack_timeout after `timeout`, disconnected,
  /// send_buffer_full, too_many_acks, write_buffer_full). A timeout <= 0 waits without limit.
  void emit_with_ack(std::string_view event, payload args, std::chrono::milliseconds timeout,
                     ack_callback cb);

  /// emit_with_ack for any Asio completion token (use_awaitable, use_future, a callback):
  /// completes with (error_code, payload) on the token's associated executor (by default this
  /// socket's), never inside this call.
  template <class Token>
  auto async_emit_with_ack(std::string_view event, payload args, std::chrono::milliseconds timeout,
                           Token&& token) {
    check_event_name(event);
    // The socket's state is held, not this handle: the operation may start after this call
    // returns (deferred tokens), when the handle may be gone.
    return boost::asio::async_initiate<Token, void(error_code, payload)>(
        [impl = impl_, ev = std::string(event), timeout](auto handler, payload a) {
          auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
          const auto fallback = executor_of(*impl);
          emit_packet(impl, ev, std::move(a), false, timeout,
                      [h, fallback](error_code ec, payload p) {
                        ignis::detail::post_completion(std::move(*h), fallback, ec, std::move(p));
                      });
        },
        token, std::move(args));
  }

 private:
  friend class manager;
  socket(std::shared_ptr<detail::socket_impl> impl, std::string nsp);

  static void check_event_name(std::string_view event);
  static void emit_packet(const std::shared_ptr<detail::socket_impl>& impl, std::string_view event,
                          payload args, bool is_volatile, std::chrono::milliseconds timeout,
                          ack_callback cb);
  static executor_type executor_of(const detail::socket_impl& impl) noexcept;

  std::shared_ptr<detail::socket_impl> impl_;
  std::string nsp_;
};

}  // namespace ignis::client
