#pragma once

// The Engine.IO session as a state machine that does no I/O. Events come in (a poll arrived, a
// POST's packets, a packet on the WebSocket or on the probing one, a send from the layer above, a
// timer at `now`), and the machine answers with actions for its driver to carry out (answer this
// poll with these packets, send this on that WebSocket, close it, hand this packet up, the session
// ended). Time is what the caller says it is; the machine holds only protocol state and the
// packets queued for a poll, so it is tested by scripts of events with a manual clock.
#include <ignis/engineio/server.hpp>

#include <boost/container/small_vector.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace ignis::engineio {

/// What a session machine is told of its server's options.
struct session_config {
  std::chrono::milliseconds ping_interval;
  std::chrono::milliseconds ping_timeout;
  std::chrono::milliseconds upgrade_timeout;
  /// How long a server-closed polling session waits for a poll to carry the close packet.
  std::chrono::milliseconds close_timeout;
  std::size_t max_buffered_bytes;
  bool allow_upgrades;
};

/// A polling request held by the machine, as its driver names it.
using request_id = std::uint32_t;

/// The WebSocket an action is about: the session's transport, or one probing to take over.
enum class ws_role : std::uint8_t { active, probe };

struct session_action {
  enum class kind : std::uint8_t {
    answer_poll,    ///< answer GET `request` with `messages` as one payload
    reject_poll,    ///< answer GET `request` with 400 and no body (a second GET at once)
    flush_later,    ///< call flush() once the current loop turn's sends are queued
    ws_send,        ///< send `message` on WebSocket `ws`
    ws_close,       ///< close WebSocket `ws` with `code`; `drop`: without what is queued
    ws_promote,     ///< the probe WebSocket becomes the session's transport
    deliver,        ///< hand `delivered` (a message) to the layer above
    client_closed,  ///< the client closed by a POST with no GET held (for a late GET's noop)
    closed,         ///< the session ended with `reason`
  };
  kind what;
  ws_role ws = ws_role::active;
  bool drop = false;
  close_reason reason = close_reason::transport_close;
  std::uint16_t code = 1000;
  request_id request = 0;
  const packet* delivered = nullptr;  ///< deliver: valid while the event's input is
  message_ptr message;
  std::vector<message_ptr> messages;
};

/// The actions of one event, in order (a few; kept on the caller's stack).
using session_actions = boost::container::small_vector<session_action, 4>;

class session_machine {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  enum class state : std::uint8_t { open, closing, closed };

  session_machine(const session_config& config, transport_kind initial) noexcept
      : config_(&config), transport_(initial) {}

  state current() const noexcept { return state_; }
  bool is_open() const noexcept { return state_ == state::open; }
  transport_kind transport() const noexcept { return transport_; }
  bool upgrading() const noexcept { return upgrading_; }
  /// Bytes queued for polls (the WebSocket's own queue is its driver's).
  std::size_t polling_bytes() const noexcept { return queue_ ? queue_->bytes : 0; }
  /// Server-closed, waiting only for a poll to carry the close packet: nothing left to drain.
  bool closing_idle() const noexcept { return closing_idle_; }
  /// The earliest time timer() has something to do (time_point::max() when nothing).
  time_point deadline() const noexcept;

  /// Sends the open packet (on the WebSocket, or queued for the handshake's poll) and starts the
  /// heartbeat.
  void open(message_ptr open_packet, time_point now, session_actions& out);

  /// A polling GET arrived.
  void poll(request_id r, time_point now, session_actions& out);
  /// The client of the held GET `r` went away before its answer.
  void poll_aborted(request_id r, session_actions& out);
  /// What a POST is answered.
  enum class post_answer : std::uint8_t {
    ok,               ///< 200 "ok"; its packets follow with receive(), on the next loop turn
    unknown_session,  ///< Engine.IO error 1
    bad_request,      ///< 400, no body (a binary body, Engine.IO v3's)
  };
  /// A POST arrived; `decoded` says whether its payload was valid.
  post_answer post(bool binary_body, bool decoded, time_point now, session_actions& out);
  /// A packet from the client: one of a POST's, or one from the active WebSocket.
  void receive(const packet& p, time_point now, session_actions& out);

  /// A WebSocket asks to take over: true when it may probe; else the driver closes it.
  bool upgrade_requested(time_point now);
  /// A packet from the probing WebSocket.
  void probe_packet(const packet& p, session_actions& out);
  /// A WebSocket went away by itself.
  void ws_lost(ws_role which, close_reason reason, session_actions& out);

  enum class send_status : std::uint8_t { queued, dropped, slow_consumer, closed };
  /// Queues `m` for the client. `droppable` (volatile) messages are dropped when the output is
  /// congested; `ws_buffered` is what the active WebSocket still holds.
  send_status send(message_ptr m, bool droppable, std::size_t ws_buffered, session_actions& out);
  /// Answers the held GET with what is queued (see flush_later).
  void flush(session_actions& out);
  /// Closes from the server side ("forced close"): at once on WebSocket; on polling after what is
  /// queued, within close_timeout.
  void close(time_point now, session_actions& out);
  /// Runs the deadlines that passed by `now`; `ws_buffered` as for send().
  void timer(time_point now, std::size_t ws_buffered, session_actions& out);

 private:
  void close_with(close_reason reason, session_actions& out);
  void finalize(close_reason reason, session_actions& out);
  void answer_poll(session_actions& out, std::vector<message_ptr> extra = {});
  void finish_upgrade(session_actions& out);
  void abort_upgrade(session_actions& out);
  void schedule_ping(time_point now);
  bool queue_empty() const noexcept { return !queue_ || queue_->messages.empty(); }
  void enqueue(message_ptr m);
  std::vector<message_ptr> take_queue() noexcept;

  const session_config* config_;
  // The small members in 8 bytes (every connection carries a machine): the flags as bits.
  transport_kind transport_;
  state state_ = state::open;
  bool upgrading_ : 1 = false;
  bool probed_ : 1 = false;           // "2probe" received on the probing WebSocket
  bool has_ws_ : 1 = false;           // an active WebSocket is attached
  bool close_requested_ : 1 = false;  // forced close waiting for a poll to carry "1"
  bool closing_idle_ : 1 = false;     // ... with nothing else queued
  bool awaiting_pong_ : 1 = false;    // due_ is the pong's deadline, not the next ping's
  request_id held_ = 0;               // the GET held, 0 when none
  // What waits for a poll, allocated with the first message queued for one (a session on
  // WebSocket has none; an upgraded one lets it go).
  struct polling_queue {
    std::vector<message_ptr> messages;
    std::size_t bytes = 0;
  };
  std::unique_ptr<polling_queue> queue_;
  // While open, the heartbeat's one deadline: when the next ping is due, or (awaiting_pong_) until
  // when its pong may come; while closing, the close's deadline.
  time_point due_ = time_point::max();
  time_point upgrade_deadline_ = time_point::max();
};

}  // namespace ignis::engineio
