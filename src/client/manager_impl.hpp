#pragma once

// The strand-side state of a manager and of its sockets. The public classes are handles: they
// post to the strand and own these objects only through shared_ptr, so pending operations keep
// what they need alive and the handles' destructors never wait for anything.
#include "client/backoff.hpp"
#include "client/engine.hpp"
#include "client/listeners.hpp"

#include <ignis/client/manager.hpp>
#include <ignis/socketio/packet.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ignis::client::detail {

using strand_type = asio::strand<asio::any_io_executor>;

class socket_impl;

class manager_impl final : public engine_listener,
                           public std::enable_shared_from_this<manager_impl> {
 public:
  manager_impl(asio::any_io_executor ex, std::shared_ptr<const engine_config> cfg,
               manager_options options);

  const strand_type& strand() const noexcept { return strand_; }
  const manager_options& options() const noexcept { return options_; }

  // Any thread.
  /// Set by the handle's destructor: from then on no handler of the manager or its sockets runs.
  std::atomic<bool> detached{false};
  bool callbacks_allowed() const noexcept { return !detached.load(std::memory_order_acquire); }
  std::optional<transport_kind> transport() const noexcept;
  std::string engine_id() const;
  /// manager::socket()'s registry of live handles by namespace.
  std::mutex registry_mutex;
  std::map<std::string, std::weak_ptr<client::socket>, std::less<>> registry;

  /// Runs `f(args...)`, passing an exception it throws to options().on_handler_exception.
  template <class F, class... A>
  void call(const F& f, A&&... args) const {
    try {
      f(std::forward<A>(args)...);
    } catch (...) {
      if (options_.on_handler_exception) options_.on_handler_exception(std::current_exception());
    }
  }

  // Strand only.
  void open();
  /// manager::close(): "io client disconnect" for connected sockets, no reconnection.
  void close();
  /// The handle is gone: close silently and forget every socket and handler.
  void detach();
  void add_socket(std::shared_ptr<socket_impl> s);
  void remove_socket(const socket_impl* s);
  /// A socket stopped using the connection: close it when no socket uses it any more.
  void socket_destroyed();
  bool is_open() const noexcept { return state_ == state::open; }
  bool reconnecting() const noexcept { return reconnecting_; }
  /// Encodes and queues a packet; false when it cannot be sent (not open, write buffer full).
  bool send_packet(const socketio::packet& p);
  /// A volatile packet would be written at once.
  bool writable() const noexcept { return state_ == state::open && engine_ && engine_->writable(); }

  listener_list<std::function<void()>> on_open;
  listener_list<std::function<void(disconnect_reason)>> on_close;
  listener_list<std::function<void(const connect_error&)>> on_error;
  listener_list<std::function<void(transport_kind)>> on_upgrade;
  listener_list<std::function<void(std::size_t)>> on_reconnect_attempt;
  listener_list<std::function<void(std::size_t)>> on_reconnect;
  listener_list<std::function<void(const connect_error&)>> on_reconnect_error;
  listener_list<std::function<void()>> on_reconnect_failed;
  listener_list<std::function<void()>> on_ping;
  void remove_listener(listener_id id);

  // engine_listener
  void on_engine_open(engine& e) override;
  void on_engine_message(engine& e, engineio::packet& p) override;
  void on_engine_ping(engine& e) override;
  void on_engine_upgrade(engine& e, transport_kind to) override;
  void on_engine_error(engine& e, const connect_error& err) override;
  void on_engine_close(engine& e, engine_close reason) override;

 private:
  enum class state : std::uint8_t { closed, opening, open };

  template <class List, class... A>
  void fire(const List& list, A&&... args) {
    list.each([this] { return callbacks_allowed(); }, [&](const auto& f) { call(f, args...); });
  }
  std::vector<std::shared_ptr<socket_impl>> sockets_snapshot() const { return sockets_; }
  void open_engine(bool for_reconnect);
  void open_failed(const connect_error& err);
  void on_connection_closed(disconnect_reason reason);
  void reconnect();
  void maybe_reconnect_on_open();
  void publish(std::optional<transport_kind> t, std::string sid);

  strand_type strand_;
  std::shared_ptr<const engine_config> cfg_;
  manager_options options_;
  state state_ = state::closed;
  std::shared_ptr<engine> engine_;
  socketio::decoder decoder_;
  backoff backoff_;
  bool reconnecting_ = false;
  bool skip_reconnect_ = false;
  bool opening_for_reconnect_ = false;
  asio::steady_timer open_timer_;
  asio::steady_timer reconnect_timer_;
  std::vector<std::shared_ptr<socket_impl>> sockets_;

  // Mirrors for the any-thread getters.
  std::atomic<int> transport_{-1};
  mutable std::mutex sid_mutex_;
  std::string sid_;
};

class socket_impl final : public std::enable_shared_from_this<socket_impl> {
 public:
  socket_impl(std::shared_ptr<manager_impl> m, std::string nsp, boost::json::object auth);

  const std::shared_ptr<manager_impl>& manager() const noexcept { return manager_; }
  const std::string& nsp() const noexcept { return nsp_; }

  // Any thread.
  /// Set by the handle's destructor: from then on none of its handlers runs.
  std::atomic<bool> detached{false};
  bool callbacks_allowed() const noexcept {
    return !detached.load(std::memory_order_acquire) && manager_->callbacks_allowed();
  }
  std::atomic<bool> connected_flag{false};
  std::atomic<bool> recovered_flag{false};
  std::string id() const;

  // Strand only: the handle's operations.
  void connect();
  void disconnect();
  void detach();
  void set_auth(boost::json::object auth) { auth_ = std::move(auth); }
  void emit(std::string event, payload args, bool is_volatile, std::chrono::milliseconds timeout,
            ack_callback cb);
  void send_ack(std::uint64_t id, payload args);

  listener_id add_event_listener(listener_id id, std::string event, event_handler h);
  void remove_event_listeners(std::string_view event) { events_.erase(std::string(event)); }
  void remove_listener(listener_id id);
  listener_list<any_handler> any;
  listener_list<std::function<void()>> on_connect;
  listener_list<std::function<void(disconnect_reason)>> on_disconnect;
  listener_list<std::function<void(const connect_error&)>> on_connect_error;

  // Strand only: from the manager.
  bool active() const noexcept { return active_; }
  void on_manager_open();
  void on_manager_packet(socketio::packet& p);
  void on_manager_error(const connect_error& err);
  void on_manager_close(disconnect_reason reason);
  /// The manager was destroyed: drop everything silently.
  void on_manager_detached();

 private:
  struct pending_ack {
    ack_callback cb;
    std::unique_ptr<asio::steady_timer> timer;
  };
  struct received_event {
    std::string name;
    payload args;
    std::optional<std::uint64_t> id;
  };

  template <class List, class... A>
  void fire(const List& list, A&&... args) {
    list.each([this] { return callbacks_allowed(); },
              [&](const auto& f) { manager_->call(f, args...); });
  }
  void send_connect();
  void on_connected(std::string sid, std::optional<std::string> pid);
  void on_event(socketio::packet& p);
  void on_ack(socketio::packet& p);
  void on_refused(const socketio::packet& p);
  void dispatch_event(const std::string& name, payload& args, const ack_responder& ack);
  void destroy();
  void on_close(disconnect_reason reason);
  void buffer_emit(socketio::packet p);
  void complete_ack(std::uint64_t id, error_code ec, payload args = {});
  void clear_acks();
  void drop_everything();
  void set_id(std::string id);

  std::shared_ptr<manager_impl> manager_;
  const std::string nsp_;
  boost::json::object auth_;
  bool active_ = false;  // connect() called and not yet destroyed (socket.io-client's subs)
  bool connected_ = false;
  bool connect_sent_ = false;  // CONNECT sent on the current connection
  // Connection state recovery (a server with connectionStateRecovery): the private session id
  // and the offset of the last event, sent with the next CONNECT.
  std::optional<std::string> pid_;
  std::optional<std::string> last_offset_;

  std::map<std::string, listener_list<event_handler>, std::less<>> events_;
  std::unordered_map<std::uint64_t, pending_ack> acks_;
  std::uint64_t next_ack_id_ = 0;
  std::deque<socketio::packet> send_buffer_;
  std::deque<received_event> receive_buffer_;

  mutable std::mutex id_mutex_;
  std::string id_;
};

}  // namespace ignis::client::detail
