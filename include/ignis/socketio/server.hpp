#pragma once

// The Socket.IO v5 server: namespaces, sockets, events, acknowledgements, rooms and broadcasts,
// on top of the Engine.IO server. Behaves on the wire like Node's socket.io 4.8.
//
// Threading: a socket lives on the shard of its Engine.IO connection, and its handlers run there.
// Handlers of different sockets may run at the same time on different shards. Call a socket's
// member functions from its own shard (its handlers do); namespaces, broadcast operators and the
// server may be used from any thread.
#include <ignis/common/async.hpp>
#include <ignis/common/inline_id.hpp>
#include <ignis/engineio/server.hpp>
#include <ignis/socketio/adapter.hpp>
#include <ignis/socketio/observer.hpp>
#include <ignis/socketio/packet.hpp>
#include <ignis/socketio/payload.hpp>
#include <ignis/socketio/room_list.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::socketio {

class server;
class namespace_;
class socket;
class client;
namespace detail {
class recovery_store;
struct recovery_session;
struct recoverable_delivery;
}  // namespace detail
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
  /// fetch_sockets with any Asio completion token (signature void(std::vector<socket_info>)),
  /// completed on the token's executor (by default the first shard's), never inside this call.
  template <class CompletionToken>
  auto async_fetch_sockets(CompletionToken&& token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::vector<socket_info>)>(
        [op = *this](auto handler) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          const auto fallback = op.default_executor();
          op.fetch_sockets([shared, fallback](std::vector<socket_info> found) {
            ignis::detail::post_completion(std::move(*shared), fallback, std::move(found));
          });
        },
        token);
  }
  void sockets_join(std::vector<std::string> rooms) const;
  void sockets_leave(std::vector<std::string> rooms) const;
  void disconnect_sockets(bool close = false) const;

  const broadcast_options& options() const noexcept { return opts_; }

 private:
  boost::asio::any_io_executor default_executor() const;
  namespace_* nsp_;
  broadcast_options opts_;
};

class socket final : public std::enable_shared_from_this<socket> {
 public:
  /// `handshake` keeps `owner` alive (client::make_handshake and copy_handshake make such).
  socket(namespace_& nsp, client& owner, inline_id id,
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

  /// With connection state recovery: this socket was restored from a session (same id, rooms and
  /// data), and the packets it missed were sent before its CONNECT answer.
  bool recovered() const noexcept { return recovered_; }
  /// With connection state recovery, whether a disconnect of this socket leaves a session to
  /// recover (true by default; a layer may keep a socket out until it trusts it). With an
  /// adapter that shares sessions, a recoverable socket's session is kept there while it is
  /// connected (adapter::session_changed), so that it survives this server.
  void set_recoverable(bool on);

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
  /// As above; a cancellation on `slot` forgets the acknowledgement and completes `cb` with
  /// boost::asio::error::operation_aborted.
  void emit_with_ack(std::string_view event, payload args, std::chrono::milliseconds timeout,
                     ack_callback cb, boost::asio::cancellation_slot slot);
  /// emit_with_ack with any Asio completion token, e.g.
  /// `auto [ec, answer] = co_await s->async_emit_with_ack("ev", {}, 5s, as_tuple(use_awaitable));`
  /// Completes on the token's executor (by default this socket's shard), never inside this call.
  /// A cancellation (terminal or partial) forgets the acknowledgement and completes with
  /// boost::asio::error::operation_aborted.
  template <class CompletionToken>
  auto async_emit_with_ack(std::string_view event, payload args, std::chrono::milliseconds timeout,
                           CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(error_code, payload)>(
        [self = shared_from_this(), event = std::string(event), timeout](auto handler, payload a) {
          auto slot = boost::asio::get_associated_cancellation_slot(handler);
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          const auto fallback = self->home().executor();
          self->emit_with_ack(
              event, std::move(a), timeout,
              [shared, fallback, slot](error_code ec, payload answer) mutable {
                if (slot.is_connected()) slot.clear();
                ignis::detail::post_completion(std::move(*shared), fallback, ec, std::move(answer));
              },
              slot);
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

  /// The per-socket state of a layer built on this one (e.g. the Ignis helper's), found by its
  /// type: attach() keeps `state` until the socket disconnects; attached<T>() returns it, or
  /// nullptr when none of that type was attached. Several layers may each attach their own.
  template <class T>
  void attach(std::shared_ptr<T> state) {
    attach_state(&attachment_key<T>, std::move(state));
  }
  template <class T>
  std::shared_ptr<T> attached() const noexcept {
    return std::static_pointer_cast<T>(attached_state(&attachment_key<T>));
  }

  /// Disconnects from this namespace (DISCONNECT packet, "server namespace disconnect"), or with
  /// `close` the whole connection.
  void disconnect(bool close = false);
  /// Closes the underlying connection without a DISCONNECT (Node's socket.conn.close()): the
  /// client sees a lost connection and reconnects; with recovery on, its session is kept.
  void close_connection();

  /// What fetch_sockets reports of this socket.
  socket_info info() const;

 private:
  friend class client;
  friend class namespace_;
  friend class server;
  friend class adapter;
  friend class ack_responder;
  void on_packet(packet& p);
  void on_close(disconnect_reason reason);
  void send_packet(const packet& p, bool droppable = false);
  void send_encoded(const std::vector<engineio::message_ptr>& messages, bool droppable);
  /// Tells the server's observer (if any) that `p` was sent to this socket.
  void observe_sent(const packet& p);
  void add_pending_ack(std::uint64_t id, std::function<void(payload)> on_answer);
  void send_ack(std::uint64_t id, payload args);
  void on_connect_accepted();

  // One key per attached type: the address of this variable.
  template <class T>
  static inline const char attachment_key = 0;
  void attach_state(const void* key, std::shared_ptr<void> state);
  std::shared_ptr<void> attached_state(const void* key) const noexcept;

  struct pending_ack;
  struct ack_timer;
  void arm_acks(net::clock::time_point when);
  void expire_acks(net::clock::time_point now);
  void dispatch(std::string_view event, payload& args, ack_responder ack);
  event_handler* find_handler(std::string_view event) noexcept;

  namespace_* nsp_;
  // Its connection's client until it leaves (nullptr then). The block that holds the client is
  // kept by handshake_, which lives there or in a copy that keeps it (client::make_handshake):
  // one pointer that owns, for the handshake the application may read after the close and for
  // the client the socket uses until then.
  client* client_;
  inline_id id_;
  std::shared_ptr<const handshake_info> handshake_;
  std::uint16_t home_index_;  // its shard's, in what would be padding
  bool connected_ = false;
  bool broadcasts_muted_ = false;
  bool recovered_ = false;
  bool in_own_room_ = false;  // the room named after the socket's id (Node puts it first)
  /// Tells a session-sharing adapter that this socket's session may have changed.
  void note_session();
  bool recoverable_ = true;
  // The private session id (recovery on only, so allocated then), in the CONNECT answer only.
  std::unique_ptr<const inline_id> pid_;
  detail::room_list rooms_;  // the rooms joined besides its own
  // The socket's own event, catch-all and disconnect handlers and pending acknowledgements,
  // allocated on first use: most sockets of a large server never have any (their handlers are
  // the namespace's; docs/performance.md, "Memory per idle connection").
  struct extras;
  extras& more();
  std::unique_ptr<extras> extras_;
  // The first attachment inline (every socket of a helper has one), more in extras_.
  const void* attachment_key_ = nullptr;
  std::shared_ptr<void> attachment_;
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
  /// Handles `event` from every socket of this namespace with one handler, where socket::on
  /// costs each socket an entry of its own (and a copy of what the handler captures). A socket's
  /// own handler for the same event (socket::on) is used instead of it. Register before clients
  /// connect.
  void on_event(std::string event, event_handler h);
  /// Runs for every socket of this namespace that disconnects, before the socket's own
  /// on_disconnect handlers. Register before clients connect.
  void on_socket_disconnect(disconnect_handler h);
  /// fetch_sockets reports this namespace's handshake.auth as {} (it holds credentials, e.g. the
  /// Admin UI's), also to the other servers of a cluster. Before clients connect.
  void conceal_auth() noexcept { conceal_auth_ = true; }
  bool auth_concealed() const noexcept { return conceal_auth_; }

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

  /// Calls `fn` for every socket of this namespace on this server, each on its own shard's thread,
  /// then `done` once (on any thread).
  void for_each_local_socket(std::function<void(const socket_ptr&)> fn,
                             std::function<void()> done = {});

  /// Calls `fn` with the socket `id` of this namespace on this server, on that socket's shard, or
  /// with nullptr (on some shard) when there is none.
  void with_local_socket(std::string id, std::function<void(const socket_ptr&)> fn);

  /// The next ack id (Node's nsp._ids: one counter per namespace).
  std::uint64_t next_ack_id() noexcept { return ack_ids_.fetch_add(1, std::memory_order_relaxed); }
  /// Broadcasts emitted in this namespace (from any thread; a broadcast is encoded once, so one
  /// shared increment is cheap next to it).
  std::uint64_t broadcast_count() const noexcept {
    return broadcasts_.load(std::memory_order_relaxed);
  }
  struct room_stats {
    std::int64_t joins = 0;    ///< rooms joined so far (the sockets' own rooms not counted)
    std::int64_t rooms = 0;    ///< rooms with members (a room on several shards counts on each)
    std::int64_t sockets = 0;  ///< sockets connected to this namespace on this server
  };
  /// Summed over the shards (readable from any thread, for metrics).
  room_stats stats() const noexcept;
  /// With connection state recovery: what is kept for it, and how restores went.
  struct recovery_stats {
    std::size_t packets = 0;
    std::size_t bytes = 0;
    std::size_t sessions = 0;
    std::uint64_t evicted = 0;   ///< packets dropped by max_bytes before their time
    std::uint64_t restored = 0;  ///< sessions handed back
    std::uint64_t missed = 0;    ///< restores asked for that found nothing to restore
  };
  std::optional<recovery_stats> recovery_state() const;

 private:
  friend class socket;
  friend class client;
  friend class server;
  friend class adapter;
  friend class broadcast_operator;
  struct shard_state;  // the sockets and rooms of one shard (private to the library)
  friend class detail::recovery_store;

  shard_state& local(unsigned shard_index) noexcept { return *shards_[shard_index]; }
  void count_broadcast() noexcept { broadcasts_.fetch_add(1, std::memory_order_relaxed); }
  void add(std::shared_ptr<client> owner, boost::json::object auth,
           std::function<void(socket_ptr)> on_connected);
  void remove(socket& s);
  void room_added(socket& s, const std::string& room);
  void room_removed(socket& s, std::string_view room);
  /// Calls fn for every local socket of `shard_index` matching opts (each once). With `delivery`,
  /// sockets that muted broadcasts are left out unless addressed by their id.
  void for_each_local(unsigned shard_index, const broadcast_options& opts,
                      const std::function<void(socket&)>& fn, bool delivery = false);
  void copy_handlers_from(const namespace_& parent);
  /// An event from another server (the adapter), args = [event, ...].
  void receive_server_side_emit(payload args, std::function<void(payload)> ack);
  /// Runs the middlewares from `index` on; `passed` when all let the socket in.
  void run_middlewares(const socket_ptr& s, std::size_t index, std::function<void()> passed);
  void accept(const socket_ptr& s, const std::function<void(socket_ptr)>& on_connected);
  socket_ptr make_socket(const std::shared_ptr<client>& owner,
                         std::shared_ptr<const handshake_info> handshake, inline_id id);
  // Connection state recovery.
  // `shared`: what a shared store (the adapter's) gave back; the rest comes from this server's
  // store after shared->resume. nullptr: this server's store alone, after `offset`.
  void restore(const std::shared_ptr<client>& owner,
               std::shared_ptr<const handshake_info> handshake, detail::recovery_session session,
               std::string offset, std::function<void(socket_ptr)> on_connected,
               std::shared_ptr<const shared_restore> shared = nullptr);
  void finish_restore(const socket_ptr& s, const detail::recovery_session& session,
                      const std::string& offset, std::function<void(socket_ptr)> on_connected,
                      const std::shared_ptr<const shared_restore>& shared);
  /// A CONNECT with pid and offset, the adapter's shared store asked.
  void add_shared(std::shared_ptr<client> owner, boost::json::object auth, std::string pid,
                  std::string offset, std::function<void(socket_ptr)> on_connected);
  /// Recovery on: gives a recoverable packet its offset (`at`, from the shared log, or this
  /// server's own), keeps it and queues its deliveries. False when `p` is not one (then the
  /// caller delivers it as usual).
  bool deliver_recoverable(packet& p, const broadcast_options& opts, const log_position* at);
  /// Delivers what is queued for `shard` (called on it).
  void drain_recoverable(unsigned shard);
  void deliver_queued(unsigned shard, const std::deque<detail::recoverable_delivery>& queued);
  detail::recovery_store* recovery() const noexcept { return recovery_.get(); }

  server& server_;
  std::string name_;
  std::vector<middleware> middlewares_;
  std::vector<connection_handler> connection_handlers_;
  std::vector<std::pair<std::string, event_handler>> event_handlers_;
  std::vector<disconnect_handler> disconnect_handlers_;
  std::vector<std::unique_ptr<shard_state>> shards_;
  std::mutex server_events_mutex_;
  std::vector<std::pair<std::string, server_event_handler>> server_event_handlers_;
  std::unique_ptr<socketio::adapter> adapter_;
  std::unique_ptr<detail::recovery_store> recovery_;  // with connection state recovery only
  std::atomic<std::uint64_t> ack_ids_{0};
  std::atomic<std::uint64_t> broadcasts_{0};
  bool conceal_auth_ = false;
};

/// Connection state recovery, as Node's `connectionStateRecovery`: a client that loses its
/// connection and comes back within max_disconnection_duration gets its socket back (same id,
/// rooms, data) and, before its CONNECT answer, every packet it missed.
struct recovery_options {
  /// 0: off (the default).
  std::chrono::milliseconds max_disconnection_duration{0};
  /// A recovered socket skips the middlewares (Node's default).
  bool skip_middlewares = true;
  /// Bytes of packets kept for recovery per namespace; past it the oldest go (a client whose
  /// offset went with them gets a new session).
  std::size_t max_bytes = 32 * 1024 * 1024;
  /// Decides, before anything is restored, whether the reconnecting client may have its session
  /// back (e.g. checks its credentials again): done(true) restores it, done(false) gives the client
  /// a new socket. Called on the socket's shard with the socket (its handshake is the new
  /// request's); may answer later, from any thread. Absent: always restored.
  std::function<void(socket&, std::function<void(bool)> done)> authorize;
  bool enabled() const noexcept { return max_disconnection_duration.count() > 0; }
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
  recovery_options recovery;
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

  /// The namespace `name` if it exists.
  namespace_* find(std::string_view name) const;
  /// Every namespace created so far (the parents of dynamic namespaces excepted), by name.
  std::vector<namespace_*> namespaces() const;

  /// Tells `o` what the sockets of every namespace do (observer.hpp). Once, before the server
  /// serves; the server keeps it for its lifetime.
  void observe(std::shared_ptr<observer> o);
  /// The observer, or nullptr.
  observer* observing() const noexcept { return observing_; }

 private:
  friend class client;
  friend class namespace_;
  inline_id new_socket_id(unsigned shard_index) const;
  /// The server whose client is the listener of `s` (a client finds it there instead of keeping
  /// a reference of its own).
  static server& of(const engineio::session& s) noexcept;
  namespace_* find_or_create_dynamic(std::string_view name, const boost::json::object& auth);
  std::unique_ptr<adapter> make_adapter(namespace_& nsp);

  class engine_bridge;
  net::runtime& runtime_;
  server_options options_;
  adapter_factory adapter_factory_;
  std::shared_ptr<engine_bridge> bridge_;
  std::shared_ptr<engineio::server> engine_;
  std::shared_ptr<observer> observer_;
  observer* observing_ = nullptr;
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
