#pragma once

// The server side of the official Socket.IO Admin UI (@socket.io/admin-ui 0.5.1): an admin
// namespace where the UI logs in (username and bcrypt hash), gets the server's statistics every
// few seconds, and (in development mode) every socket, room and event, and from where it emits,
// joins, leaves and disconnects sockets. Everything it sends goes through the namespace's adapter,
// so with the Redis adapter a UI connected to any server sees every server of the cluster, Node's
// instrument()ed servers included.
#include <ignis/socketio/server.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ignis::admin {

enum class mode : std::uint8_t {
  /// Statistics, and every socket, room and event of every namespace (one message to the UIs per
  /// delivery, up to options::max_events_per_second: see docs/performance.md).
  development,
  /// Statistics only (the per-second traffic counts, the namespaces' socket counts); the commands
  /// stay. Costs nothing on the path of the application's events.
  production,
};

/// The UI's login: the username and a bcrypt hash ($2a$, $2b$ or $2y$) of the password.
struct credentials {
  std::string username;
  std::string password_hash;
};

struct options {
  /// The namespace the UI connects to.
  std::string namespace_name = "/admin";
  /// nullopt: every connection to the admin namespace is accepted (development only).
  std::optional<credentials> auth;
  /// The UI may only look: no emit, join, leave or disconnect.
  bool readonly = false;
  admin::mode mode = admin::mode::development;
  /// How this server is named in the UI; empty: "<hostname>#<pid>" (distinct for every process of
  /// a host).
  std::string server_id;
  std::chrono::milliseconds stats_interval = std::chrono::milliseconds{2'000};
  /// Development mode: event_received and event_sent messages per second (the server's total,
  /// shared by its shards); past it they are not sent until the next second (events_not_sent()
  /// counts them). A broadcast to 1,000 sockets is 1,000 of them. The UI keeps the last 1,000
  /// events of a namespace. 0: every event, as Node's instrument() (each delivery then costs one
  /// more message to every UI).
  std::size_t max_events_per_second = 2'000;
  /// Development mode: what the UI shows as a socket's data (default: socket.data). Called on the
  /// socket's shard; the value should be an object.
  std::function<boost::json::value(const socketio::socket&)> socket_data;
  /// Logins remembered (the UI comes back with its session id after a reload) and for how long.
  std::size_t max_sessions = 1'024;
  std::chrono::seconds session_duration = std::chrono::seconds{86'400};
  /// Where password checks run (a bcrypt check takes tens of milliseconds of CPU, too long for a
  /// shard's loop): `job` must be run once, on any thread. Empty: a thread of the instrument's own,
  /// with at most `max_pending_logins` checks waiting (more are refused as invalid credentials).
  std::function<void(std::function<void()> job)> run_check;
  std::size_t max_pending_logins = 8;
  /// The start of the process, for the uptime the UI shows.
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

/// Instruments `io` for the Admin UI: creates the admin namespace, its login middleware and its
/// handlers, starts the statistics, and in development mode observes every socket
/// (socketio::server::observe: one observer per server). Create it before the server serves; keep
/// it as long as the server (its destructor stops the statistics). Throws std::invalid_argument
/// for a password hash that is not a bcrypt hash, or a namespace name that is not one.
class instrument {
 public:
  instrument(socketio::server& io, options o);
  ~instrument();
  instrument(const instrument&) = delete;
  instrument& operator=(const instrument&) = delete;

  /// Development mode: tells the UIs that the data of `s` changed (Node's socket.data proxy does
  /// this on each assignment). Call on the socket's shard.
  void socket_updated(const socketio::socket& s);

  const options& config() const noexcept;
  /// Development mode: event_received and event_sent messages left out by max_events_per_second
  /// (and by the bound of what waits on a shard), so far.
  std::uint64_t events_not_sent() const noexcept;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

/// True for a bcrypt hash this build can check: $2a$, $2b$ or $2y$, cost 04-31, 53 characters of
/// salt and digest.
bool is_bcrypt_hash(std::string_view hash) noexcept;
/// Checks `password` against a bcrypt hash (libxcrypt's crypt_rn), comparing in constant time.
/// False for a malformed hash or a password with a NUL byte.
bool check_password(std::string_view password, std::string_view hash);
/// A new $2b$ hash of `password` with `cost` (4-31) and a random salt, for the configuration.
/// Throws std::invalid_argument for a cost out of range or a password with a NUL byte.
std::string hash_password(std::string_view password, unsigned cost = 12);

}  // namespace ignis::admin
