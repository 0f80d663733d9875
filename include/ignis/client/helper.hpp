#pragma once

// The Ignis client helper: upstream's SocketIOClientHelper (@venizia/ignis-helpers 0.0.7) in the
// project's naming, with its bugs fixed:
//
//   upstream                         here
//   new SocketIOClientHelper(opts)   helper(executor, helper_options)   (connects at once)
//   configure()                      configure()
//   getState()                       get_state()
//   getSocketClient()                get_socket_client()
//   authenticate()                   authenticate()
//   emit({topic,data,doLog,cb})      emit({.topic, .data, .do_log, .cb})
//   subscribe({event,handler,        subscribe({.event, .handler, .ignore_duplicate})
//     ignoreDuplicate})                -> the handler's id (nullopt when ignored)
//   subscribeMany({events,...})      subscribe_many({.events, .ignore_duplicate})
//   unsubscribe({event,handler?})    unsubscribe({.event, .handler})   (handler: an id)
//   unsubscribeMany({events})        unsubscribe_many({.events})
//   joinRooms({rooms})/leaveRooms    join_rooms({.rooms}) / leave_rooms({.rooms})
//   connect()/disconnect()           connect() / disconnect()
//   shutdown()                       shutdown()
//
// Fixed: unsubscribe with a handler removes exactly that handler; ignore_duplicate counts only the
// application's handlers, and unsubscribe never removes the helper's own; handlers get every
// argument and can answer acknowledgements; shutdown() calls on_disconnected("io client
// disconnect") before it lets go. Added: auto_authenticate after every (re)connection.
//
// Threading: as the manager's. Callbacks run on the manager's strand; none runs once the helper is
// destroyed.
#include <ignis/client/manager.hpp>

#include <boost/json/value.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ignis::client {

/// Upstream's SocketIOConstants, the values the Ignis server speaks.
namespace ignis_protocol {
inline constexpr std::string_view event_ping = "ping";
inline constexpr std::string_view event_authenticate = "authenticate";
inline constexpr std::string_view event_authenticated = "authenticated";
inline constexpr std::string_view event_unauthenticated = "unauthenticated";
inline constexpr std::string_view event_join = "join";
inline constexpr std::string_view event_leave = "leave";
inline constexpr std::string_view room_default = "io-default";
inline constexpr std::string_view room_notification = "io-notification";
}  // namespace ignis_protocol

/// Upstream's SocketIOClientStates.
enum class helper_state : std::uint8_t { unauthorized, authenticating, authenticated };
/// "unauthorized", "authenticating", "authenticated".
std::string_view to_string(helper_state s) noexcept;

/// Upstream's ApplicationError: the message and an HTTP-like status code (400 here).
class helper_error : public std::runtime_error {
 public:
  explicit helper_error(const std::string& message, int status_code = 400)
      : std::runtime_error(message), status_code_(status_code) {}
  int status_code() const noexcept { return status_code_; }

 private:
  int status_code_;
};

struct helper_options {
  /// A name for the logs.
  std::string identifier{};
  /// The server URL; its path, if any, is the namespace (as with socket.io-client's io(url)).
  std::string host{};
  /// Connection options (path, extra headers, transports, reconnection, TLS, ...).
  manager_options options{};
  /// socket.io-client's `auth`: sent with every CONNECT (the server reads credentials there).
  boost::json::object auth{};
  /// Emit `authenticate` after every connection and reconnection (off by default, as upstream).
  bool auto_authenticate = false;

  std::function<void()> on_connected{};
  /// The connection came back with connection state recovery: the same socket id, rooms and
  /// server state, and what was missed already delivered. The helper neither authenticates nor
  /// joins again (the server answers `authenticated` by itself); on_connected is not called.
  std::function<void()> on_recovered{};
  std::function<void(std::string_view reason)> on_disconnected{};
  std::function<void(const connect_error&)> on_error{};
  std::function<void()> on_authenticated{};
  std::function<void(std::string_view message)> on_unauthenticated{};
  /// Upstream's logger: level ("debug", "info", "warn", "error") and message. Unset: silent.
  std::function<void(std::string_view level, std::string_view message)> log{};
};

struct helper_emit_options {
  std::string topic{};
  boost::json::value data{};
  bool do_log = false;
  /// Runs on the strand right after the emit was handed over (not on a server acknowledgement).
  std::function<void()> cb{};
};

struct helper_subscribe_options {
  std::string event{};
  event_handler handler{};
  bool ignore_duplicate = true;
};

struct helper_subscribe_many_options {
  std::vector<std::pair<std::string, event_handler>> events{};
  bool ignore_duplicate = true;
};

struct helper_unsubscribe_options {
  std::string event{};
  /// The id subscribe() returned; unset removes every application handler of the event.
  std::optional<listener_id> handler{};
};

struct helper_unsubscribe_many_options {
  std::vector<std::string> events{};
};

struct helper_rooms_options {
  std::vector<std::string> rooms{};
};

class helper {
 public:
  /// Builds the connection and connects at once (configure()). Throws std::invalid_argument for an
  /// unusable URL.
  helper(boost::asio::any_io_executor ex, helper_options options);
  /// Closes without calling any callback; never blocks.
  ~helper();
  helper(const helper&) = delete;
  helper& operator=(const helper&) = delete;

  /// Registers the helper's listeners and connects; a second call only logs.
  void configure();
  helper_state get_state() const noexcept;
  client::socket& get_socket_client() noexcept { return *socket_; }
  client::manager& get_manager() noexcept { return manager_; }

  /// Emits `authenticate` (no payload) when connected and unauthorized; else logs and does
  /// nothing. The state becomes authenticating.
  void authenticate();
  /// Throws helper_error "Invalid socket client state to emit" when not connected (checked
  /// first), "Topic is required to emit" for an empty topic.
  void emit(helper_emit_options opts);
  std::optional<listener_id> subscribe(helper_subscribe_options opts);
  void subscribe_many(helper_subscribe_many_options opts);
  void unsubscribe(helper_unsubscribe_options opts);
  void unsubscribe_many(helper_unsubscribe_many_options opts);
  void connect();
  void disconnect();
  /// Emit `join` / `leave` with {rooms}; when not connected they log and do nothing.
  void join_rooms(helper_rooms_options opts);
  void leave_rooms(helper_rooms_options opts);
  /// Disconnects (on_disconnected("io client disconnect") when connected), then removes every
  /// listener; the state is unauthorized.
  void shutdown();

 private:
  struct shared;
  std::shared_ptr<shared> shared_;
  manager manager_;
  std::shared_ptr<client::socket> socket_;
};

}  // namespace ignis::client
