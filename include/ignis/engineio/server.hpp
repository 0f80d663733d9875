#pragma once

// The Engine.IO v4 server: sessions over HTTP long-polling and WebSocket, the upgrade between
// them, and the heartbeat, behaving on the wire like Node's engine.io 6.6.
#include <ignis/common/async.hpp>
#include <ignis/common/header_list.hpp>
#include <ignis/common/inline_id.hpp>
#include <ignis/engineio/counters.hpp>
#include <ignis/engineio/http_error.hpp>
#include <ignis/engineio/message.hpp>
#include <ignis/engineio/packet.hpp>
#include <ignis/net/http.hpp>
#include <ignis/net/runtime.hpp>

#include <boost/asio/async_result.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ignis::engineio {

/// Node's `cors` middleware semantics.
struct cors_options {
  bool enabled = false;
  /// "*" allows any origin (answered as "*" unless credentials are on); otherwise the list of
  /// allowed origins, reflected when the request's Origin is in it.
  std::vector<std::string> origins = {"*"};
  /// When set, decides per request origin (overrides `origins`).
  std::function<bool(std::string_view origin)> origin_fn;
  bool credentials = false;
  std::string methods = "GET,HEAD,PUT,PATCH,POST,DELETE";
  /// Empty: echo Access-Control-Request-Headers.
  std::string allowed_headers;
  std::string exposed_headers;
  std::optional<int> max_age;
  unsigned options_success_status = 204;
};

struct server_options {
  /// Requests whose path starts with this are Engine.IO's (a trailing '/' is added if missing).
  std::string path = "/engine.io/";
  std::chrono::milliseconds ping_interval = std::chrono::milliseconds{25'000};
  std::chrono::milliseconds ping_timeout = std::chrono::milliseconds{20'000};
  std::chrono::milliseconds upgrade_timeout = std::chrono::milliseconds{10'000};
  /// Node's maxHttpBufferSize: the largest POST body and WebSocket message.
  std::size_t max_payload = 1'000'000;
  bool polling = true;
  bool websocket = true;
  bool allow_upgrades = true;
  cors_options cors;
  /// Refuse requests whose Origin header names an origin that `cors` does not allow (its
  /// origin_fn, else its origins, where "*" allows any; `cors.enabled` plays no part): polling
  /// requests get HTTP 403 {"code":4,"message":"Forbidden"}, WebSocket upgrades Node's plain 400
  /// "Forbidden". Requests without Origin (clients that are not browsers) pass. Browsers send
  /// Origin with WebSocket handshakes and cross-origin requests, so this keeps pages of other
  /// origins from opening sessions with their visitors' cookies.
  bool check_origin = false;
  /// Decides whether a handshake or upgrade may proceed: return an error message to refuse (HTTP
  /// 403, code 4) or nullopt to accept.
  std::function<std::optional<std::string>(const net::http_request&, const net::tcp::endpoint&)>
      allow_request;
  /// The request headers a session keeps for the application (Socket.IO's handshake.headers), by
  /// lower-case name. nullopt keeps every header but those that only negotiated the connection
  /// (connection, upgrade, sec-websocket-key, sec-websocket-version, sec-websocket-extensions:
  /// Node keeps these too, no handler can use them); a list keeps exactly the headers it names.
  /// They are kept for the session's lifetime, so a server whose handlers read a few headers (or
  /// none) lists those and spares each connection the rest: a browser's headers, cookies
  /// included, often take a kilobyte.
  std::optional<std::vector<std::string>> kept_headers;
  /// Per-session output bound: past it, volatile packets are dropped and then the session is
  /// closed as a slow consumer.
  std::size_t max_buffered_bytes = 8 * 1024 * 1024;
  /// Time a closing WebSocket connection is given to take its last frames and the close; then it
  /// is reset and everything queued for it is freed.
  std::chrono::milliseconds close_timeout = std::chrono::milliseconds{5'000};
  /// A WebSocket connection whose output waits while the client takes none of the bytes already
  /// sent for this long is closed as a slow consumer (even if nothing new is sent to it).
  std::chrono::milliseconds write_stall_timeout = std::chrono::milliseconds{30'000};
};

/// A fresh 20-character id ([A-Za-z0-9_-], 15 random bytes as Node makes them) whose first
/// character names shard `shard_index` of `shard_count` (at most 64), so that any shard can route
/// a request for it without a shared table.
inline_id generate_id(unsigned shard_index, unsigned shard_count);
/// The shard an id from generate_id belongs to, or `shard_count` when it cannot be one.
unsigned shard_of_id(std::string_view id, unsigned shard_count) noexcept;

enum class transport_kind : std::uint8_t { polling, websocket };
std::string_view to_string(transport_kind t) noexcept;

/// Why a session closed; the strings are engine.io's.
enum class close_reason : std::uint8_t {
  transport_close,  ///< "transport close"
  transport_error,  ///< "transport error"
  ping_timeout,     ///< "ping timeout"
  parse_error,      ///< "parse error"
  forced_close,     ///< "forced close": closed by this server
  slow_consumer,    ///< "transport error" on the wire; the output queue overflowed
  write_stall,      ///< "transport error" on the wire; the client stopped taking our bytes
};
inline constexpr std::size_t close_reason_count = 7;
std::string_view to_string(close_reason r) noexcept;

class server;
class websocket_transport;

class session_machine;
struct session_config;

/// What the layer above keeps per session (e.g. the Socket.IO connection): told of every message
/// and of the close, on the session's shard. Lives inside its session (see
/// session::emplace_listener()), which destroys it.
class session_listener {
 public:
  virtual void on_message(const packet& p) = 0;
  virtual void on_close(close_reason reason) = 0;
  /// The session moved from long-polling to WebSocket.
  virtual void on_upgrade() {}
  /// The deadline set with session::set_listener_deadline() has come.
  virtual void on_deadline(net::clock::time_point /*now*/) {}

 protected:
  friend class session;
  virtual ~session_listener() = default;

 private:
  // Set when the server goes before the session: the listener is told nothing more (it may refer
  // to what went with the server) and is still destroyed with its session.
  bool detached_ = false;
};

/// One Engine.IO connection. Lives on one shard; every member function must be called there
/// (see `home()`), except where noted. The protocol is decided by a state machine that does no
/// I/O (private to the library); the session carries out what it asks on its polling requests
/// and WebSocket connections.
class session final : public std::enable_shared_from_this<session>, public net::timer_hook {
 public:
  session(server& owner, net::shard& home, inline_id sid, transport_kind initial);
  ~session();
  // Not copyable: its machine is constructed in place (see machine_storage_).
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  std::string_view id() const noexcept { return sid_; }
  net::shard& home() const noexcept { return home_; }
  /// The server the session belongs to.
  server& owner() const noexcept { return server_; }
  transport_kind transport() const noexcept;
  bool is_open() const noexcept;
  /// What the HTTP request that opened the session tells, handed to session_handler::on_open
  /// (the session keeps none of it).
  struct handshake_request {
    std::string url;
    header_list headers;  ///< the kept ones (server_options::kept_headers), names in lower case
    net::tcp::endpoint remote;
  };

  enum class send_status : std::uint8_t { queued, dropped, closed };
  /// Queues a message. `droppable` messages (volatile) are dropped instead of queued when the
  /// output is not writable or over its bound.
  send_status send(message_ptr m, bool droppable = false);
  send_status send_text(std::string_view data) {
    return send(message::text(packet_type::message, data));
  }
  send_status send_binary(std::string_view data) { return send(message::binary(data)); }
  /// Closes from the server side ("forced close").
  void close();

  /// Bytes a listener constructed in the session may take.
  static constexpr std::size_t listener_size = 192;
  /// Constructs the layer above's per-connection state inside the session: one block per
  /// connection instead of two, and no pointers between them to own or to count (the listener
  /// refers to its session by reference; whoever keeps the listener keeps the session, e.g. with
  /// an aliasing shared_ptr). From now on messages and the close go to it instead of the server's
  /// session_handler; it is destroyed with the session. Once per session.
  template <class Listener, class... Args>
  Listener& emplace_listener(Args&&... args) {
    static_assert(std::is_base_of_v<session_listener, Listener>);
    static_assert(sizeof(Listener) <= listener_size && alignof(Listener) <= 8,
                  "raise session::listener_size");
    auto* l = ::new (static_cast<void*>(listener_storage_)) Listener(std::forward<Args>(args)...);
    listener_ = l;
    return *l;
  }
  /// A deadline of the listener's (Socket.IO's connect timeout), carried by the session's own
  /// timer entry so that a connection has one entry on the shard's timers, not one per layer: at
  /// or after `when` the listener's on_deadline() runs, once. time_point::max() clears it.
  void set_listener_deadline(net::clock::time_point when);

 private:
  friend class server;
  friend class websocket_transport;
  struct actions;

  // Events from the server and the transports, handed to the machine.
  void on_timer(net::clock::time_point now) override;
  void on_packet(const packet& p);
  void on_websocket_closed(websocket_transport& ws, close_reason reason);
  void on_poll_aborted(const net::http_exchange& ex);
  void on_poll(std::shared_ptr<net::http_exchange> ex);
  void on_post(std::shared_ptr<net::http_exchange> ex);
  void on_probe_packet(websocket_transport& ws, const packet& p);
  /// Starts the session (the open packet goes out on `ws`, or on the handshake poll `ex`) and
  /// hands `request` to the handler's on_open.
  void start_websocket(std::shared_ptr<websocket_transport> ws, handshake_request request);
  void start_polling(std::shared_ptr<net::http_exchange> ex, handshake_request request);
  /// A WebSocket asking to take over a polling session.
  void upgrade_to(std::shared_ptr<websocket_transport> ws);

  // Carries out the machine's actions; `incoming` is a request not held yet (a poll being
  // answered at once).
  void run(actions& out, const std::shared_ptr<net::http_exchange>& incoming = nullptr,
           std::uint32_t incoming_id = 0);
  void rearm();
  std::size_t ws_buffered() const noexcept;

  server& server_;
  net::shard& home_;
  inline_id sid_;
  // The machine lives inside the session (one allocation fewer per connection) while its type
  // stays private to the library: constructed in place in this storage, whose size and alignment
  // session.cpp checks against the type.
  static constexpr std::size_t machine_size = 40;
  alignas(8) std::byte machine_storage_[machine_size];
  session_machine& machine() noexcept;
  const session_machine& machine() const noexcept;
  // Told of messages and the close; constructed in listener_storage_ (destroyed with the session
  // when set).
  session_listener* listener_ = nullptr;
  // The listener to tell, unless there is none or the server went first.
  session_listener* listener() const noexcept {
    return listener_ != nullptr && !listener_->detached_ ? listener_ : nullptr;
  }
  void detach_listener() noexcept {
    if (listener_ != nullptr) listener_->detached_ = true;
  }
  alignas(8) std::byte listener_storage_[listener_size];
  // What only long-polling uses, allocated with the first poll or upgrade request (a session
  // that began on WebSocket, most of them, has none): the GET the machine holds and the id it
  // knows it by, and the WebSocket being probed during an upgrade.
  struct polling_state {
    std::shared_ptr<net::http_exchange> held_poll;
    std::uint32_t held_id = 0;
    std::uint32_t next_request = 0;
    std::shared_ptr<websocket_transport> probe;
  };
  std::unique_ptr<polling_state> polling_;
  polling_state& polling();
  std::shared_ptr<websocket_transport>* transport_for(bool probe) noexcept;
  // The active WebSocket transport.
  std::shared_ptr<websocket_transport> ws_;
  net::clock::time_point listener_deadline_ = net::clock::time_point::max();
};

/// What the layer above (Socket.IO) implements. Called on the session's shard; on_message and
/// on_close only for sessions without a listener (session::emplace_listener()).
class session_handler {
 public:
  virtual ~session_handler() = default;
  /// A session opened; `request` is what its HTTP request tells, for the handler to keep what it
  /// needs (the session keeps none of it).
  virtual void on_open(const std::shared_ptr<session>& s, session::handshake_request request) = 0;
  virtual void on_message(session& s, const packet& p) = 0;
  virtual void on_close(session& s, close_reason reason) = 0;
};

/// The Engine.IO endpoint, an http_service to mount on a listener (or to feed from an
/// application's own Beast server).
class server final : public net::http_service, public std::enable_shared_from_this<server> {
 public:
  server(net::runtime& rt, server_options options, std::shared_ptr<session_handler> handler);
  ~server() override;

  const server_options& options() const noexcept { return options_; }
  session_handler& handler() noexcept { return *handler_; }

  bool matches(const net::http_request& req) const override;
  void handle(std::shared_ptr<net::http_exchange> ex) override;
  void upgrade(net::http_request req, net::upgraded_connection conn, net::shard& home) override;
  void decorate(const net::http_request& req, net::http_response& res) const override {
    add_cors_headers(req, res);
  }

  /// Number of open sessions (all shards; approximate while they change).
  std::size_t session_count() const noexcept;
  /// Closes every session (forced close), shard by shard.
  void close_all();
  /// What is left to drain before a graceful stop: sessions with something still to send
  /// (polling ones wait for their client to come for it) and WebSocket connections not closed
  /// yet (still writing their last frames).
  struct drain_status {
    std::size_t sessions = 0;
    std::size_t websockets = 0;
    bool drained() const noexcept { return sessions == 0 && websockets == 0; }
  };
  drain_status draining() const noexcept;
  /// Waits for the sessions and connections of this server to drain (after close_all()), at most
  /// `timeout`; polling sessions, whose clients must come for their last packets, are waited for
  /// `polling_grace` at most. Completes with true when everything drained.
  template <class CompletionToken>
  auto async_drain(std::chrono::milliseconds timeout, std::chrono::milliseconds polling_grace,
                   CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(bool)>(
        [self = shared_from_this(), timeout, polling_grace](auto handler) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          const auto fallback = self->runtime_.at(0).executor();
          self->drain(timeout, polling_grace, [shared, fallback](bool drained) {
            ignis::detail::post_completion(std::move(*shared), fallback, drained);
          });
        },
        token);
  }
  /// The traffic counters of shard `shard_index` (written on that shard only, readable anywhere).
  const traffic_counters& counters(unsigned shard_index) const noexcept;
  traffic_counters& counters(unsigned shard_index) noexcept;

  void add_cors_headers(const net::http_request& req, net::http_response& res) const;
  void add_cors_headers(const net::http_request& req, std::string& raw_headers) const;

 private:
  friend class session;
  struct shard_state;
  void forget(session& s);
  void remember_client_close(session& s);
  std::string handshake_json(std::string_view sid, transport_kind t) const;
  const session_config& machine_config() const noexcept { return *session_config_; }
  net::runtime& runtime_;
  server_options options_;
  std::shared_ptr<session_handler> handler_;
  std::vector<std::unique_ptr<shard_state>> shards_;
  std::unique_ptr<session_config> session_config_;
  // The open packet's JSON after the session id, per transport_kind (made once: only the id
  // differs between connections).
  std::array<std::string, 2> open_tail_;
  std::atomic<std::size_t> session_count_{0};

  void drain(std::chrono::milliseconds timeout, std::chrono::milliseconds polling_grace,
             std::function<void(bool)> done);
  unsigned shard_of(std::string_view sid) const noexcept;
  std::shared_ptr<session> find(unsigned shard_index, std::string_view sid) const;
  /// Answers `ex` with the error, and Node's message for it unless `message` is given.
  void reject(const std::shared_ptr<net::http_exchange>& ex, http_error e) const;
  void reject(const std::shared_ptr<net::http_exchange>& ex, http_error e,
              std::string_view message) const;
  void handle_on_owner(std::shared_ptr<net::http_exchange> ex, std::string sid);
  void open_websocket(net::http_request req, net::upgraded_connection conn, net::shard& home);
};

}  // namespace ignis::engineio
