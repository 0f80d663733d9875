#pragma once

// The Socket.IO v5 server: namespaces, sockets, events, acknowledgements, rooms and broadcasts,
// on top of the Engine.IO server. Behaves on the wire like Node's socket.io 4.8.
//
// Threading: a socket lives on the shard of its Engine.IO connection, and its handlers run there.
// Handlers of different sockets may run at the same time on different shards. Call a socket's
// member functions from its own shard (its handlers do); namespaces, broadcast operators and the
// server may be used from any thread.
#include <ignis/common/string_hash.hpp>
#include <ignis/engineio/server.hpp>
#include <ignis/socketio/adapter.hpp>
#include <ignis/socketio/packet.hpp>
#include <ignis/socketio/payload.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ignis::socketio {

class server;
class namespace_;
class socket;
class client;
using socket_ptr = std::shared_ptr<socket>;

/// Why a socket disconnected; the strings are socket.io's.
enum class disconnect_reason : std::uint8_t {
  transport_error,              ///< "transport error"
  transport_close,              ///< "transport close"
  forced_close,                 ///< "forced close"
  ping_timeout,                 ///< "ping timeout"
  parse_error,                  ///< "parse error"
  server_shutting_down,         ///< "server shutting down"
  forced_server_close,          ///< "forced server close"
  client_namespace_disconnect,  ///< "client namespace disconnect"
  server_namespace_disconnect,  ///< "server namespace disconnect"
};
std::string_view to_string(disconnect_reason r) noexcept;

/// Refusal of a connection by a middleware: sent as CONNECT_ERROR {"message":…,"data":…}.
struct connect_error {
  std::string message;
  std::optional<boost::json::value> data;
};

/// What the server knows of the HTTP request that opened the connection (socket.handshake).
struct handshake_info {
  std::string url;
  header_list headers;  ///< names in lower case, in the request's order
  std::string address;
  bool secure = false;
  std::int64_t issued = 0;  ///< ms since the epoch
  boost::json::object auth;

  /// A header's value, or empty.
  std::string_view header(std::string_view lowercase_name) const noexcept;
  /// The URL's query parameters, decoded, as Node's `handshake.query` (the last of repeated
  /// names). Parsed from `url` on each call: a connection does not keep a second copy of its
  /// query for an application that rarely asks.
  boost::json::object query() const;
  /// A query parameter's decoded value (the last of repeated names), or empty.
  std::string query_param(std::string_view name) const;
};

/// Answers a client's acknowledgement request once; empty when the client asked for none.
class ack_responder {
 public:
  ack_responder() = default;
  ack_responder(std::weak_ptr<socket> s, std::uint64_t id)
      : state_(std::make_shared<state>(std::move(s), id)) {}
  explicit operator bool() const noexcept { return state_ != nullptr; }
  /// Sends the acknowledgement; only the first call (of all copies) does anything. Callable from
  /// any thread.
  void operator()(payload args = {}) const;

 private:
  struct state {
    state(std::weak_ptr<socket> s, std::uint64_t i) : target(std::move(s)), id(i) {}
    std::weak_ptr<socket> target;
    std::uint64_t id;
    std::atomic<bool> sent{false};
  };
  std::shared_ptr<state> state_;
};

using event_handler = std::function<void(socket&, payload&, ack_responder)>;
using any_handler = std::function<void(socket&, std::string_view event, payload&, ack_responder)>;
using disconnect_handler = std::function<void(socket&, disconnect_reason)>;
/// Completion of an acknowledged emit: an error (timeout, disconnect) or the client's arguments.
using ack_callback = std::function<void(error_code, payload)>;

enum class ack_error {
  timeout = 1,   ///< "operation has timed out"
  disconnected,  ///< the socket disconnected before answering
};
const boost::system::error_category& ack_category() noexcept;
inline error_code make_error_code(ack_error e) noexcept {
  return {static_cast<int>(e), ack_category()};
}

/// Chains rooms/except/flags, then emits or acts on the matching sockets (Node's
/// BroadcastOperator).
class broadcast_operator {
 public:
  broadcast_operator(namespace_& nsp, broadcast_options opts)
      : nsp_(&nsp), opts_(std::move(opts)) {}

  broadcast_operator to(std::string room) const;
  broadcast_operator to(const std::vector<std::string>& rooms) const;
  broadcast_operator in(std::string room) const { return to(std::move(room)); }
  broadcast_operator except(std::string room) const;
  broadcast_operator except(const std::vector<std::string>& rooms) const;
  broadcast_operator volatile_() const;
  broadcast_operator compress(bool on) const;
  broadcast_operator local() const;
  broadcast_operator timeout(std::chrono::milliseconds t) const;

  /// Sends the event to every matching socket (encoded once for all of them).
  void emit(std::string_view event, payload args = {}) const;
  /// As emit, and collects one acknowledgement per recipient; needs timeout(). `done` runs once
  /// with the answers that arrived, and ack_error::timeout if some did not.
  void emit_with_ack(std::string_view event, payload args,
                     std::function<void(error_code, std::vector<payload>)> done) const;
  void fetch_sockets(std::function<void(std::vector<socket_info>)> done) const;
  /// fetch_sockets with any Asio completion token (signature void(std::vector<socket_info>)).
  template <class CompletionToken>
  auto async_fetch_sockets(CompletionToken&& token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::vector<socket_info>)>(
        [this](auto handler) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          fetch_sockets([shared](std::vector<socket_info> found) {
            auto ex = boost::asio::get_associated_executor(*shared);
            boost::asio::dispatch(ex, [shared, found = std::move(found)]() mutable {
              std::move (*shared)(std::move(found));
            });
          });
        },
        token);
  }
  void sockets_join(std::vector<std::string> rooms) const;
  void sockets_leave(std::vector<std::string> rooms) const;
  void disconnect_sockets(bool close = false) const;

  const broadcast_options& options() const noexcept { return opts_; }

 private:
  namespace_* nsp_;
  broadcast_options opts_;
};

class socket final : public std::enable_shared_from_this<socket> {
 public:
  socket(namespace_& nsp, std::shared_ptr<client> owner, std::string id,
         std::shared_ptr<const handshake_info> handshake);
  ~socket();

  std::string_view id() const noexcept { return id_; }
  namespace_& nsp() const noexcept { return *nsp_; }
  const handshake_info& handshake() const noexcept { return *handshake_; }
  bool connected() const noexcept { return connected_; }
  /// The shard this socket lives on.
  net::shard& home() const noexcept;
  /// The Engine.IO connection's transport and session id.
  engineio::transport_kind transport() const noexcept;
  std::string_view engine_id() const noexcept;

  /// Application data (socket.data), reported by fetch_sockets.
  boost::json::value data;

  void on(std::string event, event_handler h);
  void off(std::string_view event);
  void on_any(any_handler h);
  void on_disconnecting(disconnect_handler h);
  void on_disconnect(disconnect_handler h);

  /// Emits to this client. Reserved event names throw std::invalid_argument.
  void emit(std::string_view event, payload args = {});
  /// Dropped instead of queued when the connection is congested.
  void emit_volatile(std::string_view event, payload args = {});
  /// Emits and waits for the client's acknowledgement; `cb` runs once on this socket's shard,
  /// with ack_error::timeout or ack_error::disconnected when no answer comes.
  void emit_with_ack(std::string_view event, payload args, std::chrono::milliseconds timeout,
                     ack_callback cb);
  /// emit_with_ack with any Asio completion token, e.g.
  /// `auto [ec, answer] = co_await s->async_emit_with_ack("ev", {}, 5s, as_tuple(use_awaitable));`
  template <class CompletionToken>
  auto async_emit_with_ack(std::string_view event, payload args, std::chrono::milliseconds timeout,
                           CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(error_code, payload)>(
        [this, event = std::string(event), timeout](auto handler, payload a) mutable {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          emit_with_ack(event, std::move(a), timeout, [shared](error_code ec, payload answer) {
            auto ex = boost::asio::get_associated_executor(*shared);
            boost::asio::dispatch(ex, [shared, ec, answer = std::move(answer)]() mutable {
              std::move (*shared)(ec, std::move(answer));
            });
          });
        },
        token, std::move(args));
  }

  void join(std::string room);
  void join(const std::vector<std::string>& rooms);
  void leave(std::string_view room);
  std::vector<std::string> rooms() const;
  bool in_room(std::string_view room) const noexcept;

  /// Broadcasting from this socket: to others (the sender excluded).
  broadcast_operator broadcast() const;
  broadcast_operator to(std::string room) const;
  broadcast_operator except(std::string room) const;

  /// A muted socket receives no broadcasts and no room messages, only what is sent to its own id
  /// (used to keep unauthenticated clients out of broadcasts).
  void mute_broadcasts(bool muted) noexcept { broadcasts_muted_ = muted; }
  bool broadcasts_muted() const noexcept { return broadcasts_muted_; }

  /// Where a helper layer keeps its per-socket state.
  std::shared_ptr<void> context;

  /// Disconnects from this namespace (DISCONNECT packet, "server namespace disconnect"), or with
  /// `close` the whole connection.
  void disconnect(bool close = false);

  // Internal.
  void on_packet(packet& p);
  void on_close(disconnect_reason reason);
  void send_packet(const packet& p, bool droppable = false);
  void send_encoded(const std::vector<engineio::message_ptr>& messages, bool droppable);
  void add_pending_ack(std::uint64_t id, std::function<void(payload)> on_answer);
  void send_ack(std::uint64_t id, payload args);
  void on_connect_accepted();
  socket_info info() const;

 private:
  struct pending_ack;
  struct ack_timer;
  void arm_acks(net::clock::time_point when);
  void expire_acks(net::clock::time_point now);
  void dispatch(std::string_view event, payload& args, ack_responder ack);
  event_handler* find_handler(std::string_view event) noexcept;

  namespace_* nsp_;
  std::shared_ptr<client> client_;
  net::shard* home_;
  std::string id_;
  std::shared_ptr<const handshake_info> handshake_;
  bool connected_ = false;
  bool broadcasts_muted_ = false;
  bool in_own_room_ = false;        // the room named after the socket's id (Node puts it first)
  std::vector<std::string> rooms_;  // the rooms joined besides it
  // A socket has a few handlers: scanning them beats hashing, and they take one allocation.
  std::vector<std::pair<std::string, event_handler>> handlers_;
  // Catch-all and disconnect handlers and pending acknowledgements, allocated on first use: most
  // sockets of a large server never have any (docs/performance.md, "Memory per idle connection").
  struct extras;
  extras& more();
  std::unique_ptr<extras> extras_;
};

/// next(std::nullopt) accepts, next(connect_error{…}) refuses. May be called later, from any
/// thread.
using next_fn = std::function<void(std::optional<connect_error>)>;
using middleware = std::function<void(socket&, next_fn)>;
using connection_handler = std::function<void(const socket_ptr&)>;

class namespace_ {
 public:
  namespace_(server& srv, std::string name);
  ~namespace_();
  namespace_(const namespace_&) = delete;
  namespace_& operator=(const namespace_&) = delete;

  const std::string& name() const noexcept { return name_; }
  server& srv() const noexcept { return server_; }
  socketio::adapter& adapter() const noexcept { return *adapter_; }

  /// Register before clients connect.
  void use(middleware m);
  void on_connection(connection_handler h);

  broadcast_operator to(std::string room) { return all().to(std::move(room)); }
  broadcast_operator in(std::string room) { return all().to(std::move(room)); }
  broadcast_operator except(std::string room) { return all().except(std::move(room)); }
  broadcast_operator volatile_() { return all().volatile_(); }
  broadcast_operator local() { return all().local(); }
  broadcast_operator timeout(std::chrono::milliseconds t) { return all().timeout(t); }
  broadcast_operator all() { return broadcast_operator(*this, {}); }
  void emit(std::string_view event, payload args = {}) { all().emit(event, std::move(args)); }
  /// Emits to this namespace on the other servers of a cluster (no one with the in-memory
  /// adapter); with `on_replies`, collects their acknowledgements.
  void server_side_emit(std::string_view event, payload args = {},
                        std::function<void(error_code, std::vector<payload>)> on_replies = {});

  /// Handles server_side_emit(event, ...) of the other servers of a cluster. `ack` is empty when
  /// the sender wants no answer; only its first call counts (one value per server goes back).
  /// Runs on any thread.
  using server_event_handler = std::function<void(payload& args, std::function<void(payload)> ack)>;
  void on_server_side_emit(std::string event, server_event_handler h);
  /// Internal (the adapter): an event from another server, args = [event, ...].
  void receive_server_side_emit(payload args, std::function<void(payload)> ack);

  /// The next ack id (Node's nsp._ids: one counter per namespace).
  std::uint64_t next_ack_id() noexcept { return ack_ids_.fetch_add(1, std::memory_order_relaxed); }
  /// Broadcasts emitted in this namespace (from any thread; a broadcast is encoded once, so one
  /// shared increment is cheap next to it).
  std::uint64_t broadcast_count() const noexcept {
    return broadcasts_.load(std::memory_order_relaxed);
  }
  void count_broadcast() noexcept { broadcasts_.fetch_add(1, std::memory_order_relaxed); }

  // Internal: the per-shard local state, reached only from its shard.
  struct shard_state {
    // Keyed by a view of the socket's own id (the socket outlives its entry): no second copy.
    std::unordered_map<std::string_view, socket_ptr, string_hash, std::equal_to<>> sockets;
    std::unordered_map<std::string, std::vector<socket*>, string_hash, std::equal_to<>> rooms;
    // Readable from any thread (for metrics); written here only.
    engineio::shard_counter joins;       ///< rooms joined (the socket's own room not counted)
    engineio::shard_counter room_count;  ///< rooms.size()
  };
  shard_state& local(unsigned shard_index) noexcept { return *shards_[shard_index]; }
  void add(std::shared_ptr<client> owner, boost::json::object auth,
           std::function<void(socket_ptr)> on_connected);
  void remove(socket& s);
  void room_added(socket& s, const std::string& room);
  void room_removed(socket& s, std::string_view room);
  /// Calls fn for every local socket of `shard_index` matching opts (each once).
  /// Calls fn for every local socket of `shard_index` matching opts (each once). With `delivery`,
  /// sockets that muted broadcasts are left out unless addressed by their id.
  void for_each_local(unsigned shard_index, const broadcast_options& opts,
                      const std::function<void(socket&)>& fn, bool delivery = false);
  void copy_handlers_from(const namespace_& parent);

 private:
  void run_middlewares(const socket_ptr& s, std::size_t index,
                       std::function<void(socket_ptr)> on_connected);

  server& server_;
  std::string name_;
  std::vector<middleware> middlewares_;
  std::vector<connection_handler> connection_handlers_;
  std::vector<std::unique_ptr<shard_state>> shards_;
  std::mutex server_events_mutex_;
  std::vector<std::pair<std::string, server_event_handler>> server_event_handlers_;
  std::unique_ptr<socketio::adapter> adapter_;
  std::atomic<std::uint64_t> ack_ids_{0};
  std::atomic<std::uint64_t> broadcasts_{0};
};

struct server_options {
  engineio::server_options engine = [] {
    engineio::server_options o;
    o.path = "/socket.io/";
    return o;
  }();
  /// A connection that joins no namespace within this time is closed.
  std::chrono::milliseconds connect_timeout = std::chrono::milliseconds{45'000};
  decoder_limits parser;
};

/// Creates the adapter of a namespace (in-memory by default; the Redis adapter plugs in here).
using adapter_factory = std::function<std::unique_ptr<adapter>(namespace_&)>;

class server final {
 public:
  server(net::runtime& rt, server_options options = {}, adapter_factory adapters = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The namespace `name` ("/" if empty; a leading '/' is added), created on first use.
  namespace_& of(std::string name);
  /// Dynamic namespaces: a client connecting to a namespace that `accept` approves gets a new
  /// namespace with the handlers registered on the returned parent.
  namespace_& of(
      std::function<bool(std::string_view name, const boost::json::object& auth)> accept);
  namespace_& of(const std::regex& pattern);
  namespace_& main() { return of("/"); }

  /// The HTTP endpoint to mount on a listener (or to call from an application's own server).
  std::shared_ptr<engineio::server> engine() const noexcept { return engine_; }
  net::runtime& runtime() const noexcept { return runtime_; }
  const server_options& options() const noexcept { return options_; }

  /// Disconnects every socket ("server shutting down") and closes every connection.
  void close();

  // Internal.
  std::string new_socket_id(unsigned shard_index) const;
  namespace_* find_or_create_dynamic(std::string_view name, const boost::json::object& auth);
  namespace_* find(std::string_view name) const;
  std::unique_ptr<adapter> make_adapter(namespace_& nsp);

 private:
  class engine_bridge;
  net::runtime& runtime_;
  server_options options_;
  adapter_factory adapter_factory_;
  std::shared_ptr<engine_bridge> bridge_;
  std::shared_ptr<engineio::server> engine_;
  mutable std::shared_mutex namespaces_mutex_;
  std::map<std::string, std::unique_ptr<namespace_>, std::less<>> namespaces_;
  struct dynamic_parent {
    std::function<bool(std::string_view, const boost::json::object&)> accept;
    std::unique_ptr<namespace_> parent;
  };
  std::vector<dynamic_parent> dynamic_;
};

}  // namespace ignis::socketio

template <>
struct boost::system::is_error_code_enum<ignis::socketio::ack_error> : std::true_type {};
