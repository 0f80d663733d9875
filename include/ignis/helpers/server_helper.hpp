#pragma once

// The Ignis server helper (upstream SocketIOServerHelper): every connection is accepted at the
// Socket.IO handshake, then must authenticate (client event "authenticate") within a timeout;
// authenticated clients join default rooms, may join/leave rooms a validator allows, get
// application "ping" events, and receive what send() delivers.
#include <ignis/net/http.hpp>
#include <ignis/net/runtime.hpp>
#include <ignis/socketio/server.hpp>

#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::helpers {

// Upstream's constants (SocketIOConstants), with their exact values.
inline constexpr std::string_view event_ping = "ping";
inline constexpr std::string_view event_join = "join";
inline constexpr std::string_view event_leave = "leave";
inline constexpr std::string_view event_authenticate = "authenticate";
inline constexpr std::string_view event_authenticated = "authenticated";
inline constexpr std::string_view event_unauthenticated = "unauthenticated";
inline constexpr std::string_view room_default = "io-default";
inline constexpr std::string_view room_notification = "io-notification";
inline constexpr std::string_view message_invalid_token =
    "Invalid token to authenticate! Please login again!";
inline constexpr std::string_view message_auth_failed =
    "Failed to authenticate connection! Please login again!";

enum class client_state : std::uint8_t { unauthorized, authenticating, authenticated };
std::string_view to_string(client_state s) noexcept;

/// The answer of an authenticate function.
struct auth_result {
  enum class kind : std::uint8_t {
    accepted,  ///< authenticated
    rejected,  ///< "Invalid token to authenticate!" (bad credentials)
    failed,    ///< "Failed to authenticate connection!" (an error on the way)
  };
  kind outcome = kind::rejected;
  /// Room patterns this client may join (e.g. from a JWT claim); when set, they replace the
  /// helper-wide room rules for this client.
  std::optional<std::vector<std::string>> room_patterns;
  /// Application data about the client (e.g. from an auth backend); becomes socket.data.
  std::optional<boost::json::value> data;

  static auth_result accept() { return {kind::accepted, std::nullopt, std::nullopt}; }
  static auth_result reject() { return {kind::rejected, std::nullopt, std::nullopt}; }
  static auth_result fail() { return {kind::failed, std::nullopt, std::nullopt}; }
};

/// Called on the socket's shard with the handshake (headers, query, auth, …). Answer through
/// `done`, at once or later, from any thread. An exception thrown here counts as failed.
using authenticate_fn =
    std::function<void(const socketio::handshake_info&, std::function<void(auth_result)> done)>;
/// Which of `requested` the client may join: answer through `done` (from any thread).
using validate_room_fn = std::function<void(
    socketio::socket&, const std::optional<std::vector<std::string>>& patterns,
    std::vector<std::string> requested, std::function<void(std::vector<std::string>)> done)>;
/// Runs after a successful authentication (on the socket's shard); exceptions are logged only.
using client_connected_fn = std::function<void(const socketio::socket_ptr&)>;

/// Where the helper's connections come from (upstream's `runtime` option).
enum class server_runtime : std::uint8_t {
  standalone,  ///< the helper runs its own listener on `listen`
  embedded,    ///< an application's HTTP server (`host`) hands over the requests under the path
};

struct server_helper_options {
  std::string identifier = "SocketIOServerHelper";
  server_runtime runtime = server_runtime::standalone;
  /// standalone: the address the helper's own listener binds in configure() (port 0: any free one).
  std::optional<net::tcp::endpoint> listen;
  /// standalone: limits of that listener.
  net::http_limits http_limits;
  /// embedded: the application's server; configure() mounts the Socket.IO endpoint on it. Not
  /// owned; it must outlive the helper.
  net::http_host* host = nullptr;
  socketio::server_options server;
  /// The namespaces' adapter (empty: in-memory; the Redis adapter for a cluster). send() and
  /// every broadcast go through it.
  socketio::adapter_factory adapters;
  authenticate_fn authenticate;  ///< required
  /// Never asked about names of a socket id's form (is_socket_id_form), which are refused.
  validate_room_fn validate_room;        ///< absent: every join is rejected (upstream)
  client_connected_fn client_connected;  ///< optional
  std::vector<std::string> default_rooms = {std::string(room_default),
                                            std::string(room_notification)};
  /// Rooms a client may be in through its own join requests at once (default rooms, its own id
  /// room and server-side joins not counted; leaving frees a place); 0: no limit.
  std::size_t max_rooms_per_socket = 100;
  std::chrono::milliseconds authenticate_timeout = std::chrono::milliseconds{10'000};
  std::chrono::milliseconds ping_interval = std::chrono::milliseconds{30'000};
  bool broadcast_to_unauthenticated = false;
  /// Logs a line (level, message); default: nothing.
  std::function<void(std::string_view level, std::string_view message)> log;
};

struct send_options {
  std::string destination;  ///< socket id or room; empty: everyone
  std::string topic;
  boost::json::value data;
  bool do_log = false;
};

struct client_summary {
  std::string id;
  client_state state = client_state::unauthorized;
};

class server_helper {
 public:
  /// Throws std::invalid_argument for a missing authenticate function, or a ping interval or
  /// authenticate timeout that is not positive.
  server_helper(net::runtime& rt, server_helper_options options);
  ~server_helper();
  server_helper(const server_helper&) = delete;
  server_helper& operator=(const server_helper&) = delete;

  /// Creates the Socket.IO server and installs the handlers (once); then either starts the
  /// helper's own listener (standalone; throws std::system_error if it cannot bind) or mounts the
  /// endpoint on the application's server (embedded).
  void configure();
  /// standalone: the port the helper's listener is bound to (0 before configure()).
  unsigned short port() const;
  /// Delivers `topic(data)` to a socket id, a room, or everyone (authenticated clients only,
  /// unless broadcast_to_unauthenticated). Throws std::invalid_argument for an empty or reserved
  /// topic.
  void send(const send_options& opts);
  /// Registers a listener on the default namespace's connections ("connection"). Throws with
  /// upstream's messages for an empty topic/handler or before configure().
  void on(std::string_view topic, socketio::connection_handler handler);

  /// Counts kept up to date on every shard.
  std::size_t client_count() const noexcept { return clients_.load(std::memory_order_relaxed); }
  std::size_t authenticated_count() const noexcept {
    return authenticated_.load(std::memory_order_relaxed);
  }
  /// Every client (authenticated or not), gathered from all shards; `done` runs on any thread.
  void get_clients(std::function<void(std::vector<client_summary>)> done) const;

  /// Disconnects every client and closes every connection.
  void shutdown();

  /// What the Admin UI shows as the data of socket `s`: for a socket of the helper,
  /// {"ignis": {"state", "authenticated", "roomPatterns" (when its authentication gave some)},
  /// ...socket.data} (a socket.data that is no object goes under "data"); for any other socket,
  /// socket.data. Call on the socket's shard.
  static boost::json::value describe(const socketio::socket& s);

  socketio::server& io();
  /// The HTTP endpoint (mount on an http_listener, or feed from an application's own server).
  std::shared_ptr<net::http_service> http_service();
  const server_helper_options& options() const noexcept { return options_; }

  struct client_record;

 private:
  void on_connection(const socketio::socket_ptr& s);
  void install_handlers(socketio::namespace_& nsp);
  void on_authenticate(socketio::socket& s);
  void finish_authentication(const socketio::socket_ptr& s, auth_result result);
  void authenticated(const socketio::socket_ptr& s, const std::shared_ptr<client_record>& rec);
  void recovered(const socketio::socket_ptr& s, const std::shared_ptr<client_record>& rec);
  void run_client_connected(const socketio::socket_ptr& s);
  std::shared_ptr<client_record> record_for(const socketio::socket_ptr& s);
  void authorize_recovery(socketio::socket& s, std::weak_ptr<const int> alive,
                          std::function<void(bool)> done);
  void on_join(socketio::socket& s, socketio::payload& args, socketio::ack_responder ack);
  void on_leave(socketio::socket& s, socketio::payload& args, socketio::ack_responder ack);
  void validate_and_join(socketio::socket& s, std::vector<std::string> requested,
                         std::vector<std::string> candidates, socketio::ack_responder ack);
  void log(std::string_view level, std::string_view message) const;

  net::runtime& runtime_;
  server_helper_options options_;
  std::unique_ptr<socketio::server> io_;
  std::unique_ptr<net::http_listener> listener_;  // standalone only
  std::atomic<std::size_t> clients_{0};
  std::atomic<std::size_t> authenticated_{0};
  // Alive as long as the helper is: see ~server_helper.
  std::shared_ptr<const int> alive_ = std::make_shared<const int>(0);
};

/// Room names the helper accepts in join/leave requests: non-empty, at most 256 bytes, valid
/// UTF-8.
bool is_acceptable_room_name(std::string_view room) noexcept;
/// True for names of a socket id's form: exactly 20 characters of [A-Za-z0-9_-] (Node's ids and
/// ours). A client's join request never joins such a room, whoever owns the id and whatever the
/// rules allow: it would receive that socket's direct messages, on any server of a cluster.
bool is_socket_id_form(std::string_view room) noexcept;
/// Glob match with '*' (any run of code points, also empty) and '?' (one code point), whole
/// name, case-sensitive. Names are UTF-8; a byte that starts no valid sequence counts as one
/// character.
bool glob_match(std::string_view pattern, std::string_view name) noexcept;

}  // namespace ignis::helpers
