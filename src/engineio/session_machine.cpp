#include "engineio/session_machine.hpp"

#include <algorithm>

namespace ignis::engineio {
namespace {

const message_ptr& noop_message() {
  static const message_ptr m = message::text(packet_type::noop, {});
  return m;
}
const message_ptr& close_message() {
  static const message_ptr m = message::text(packet_type::close, {});
  return m;
}
const message_ptr& ping_message() {
  static const message_ptr m = message::text(packet_type::ping, {});
  return m;
}
const message_ptr& probe_pong_message() {
  static const message_ptr m = message::text(packet_type::pong, "probe");
  return m;
}

// Volatile packets are dropped once this much output is waiting.
constexpr std::size_t volatile_drop_threshold = 64 * 1024;

session_action act(session_action::kind k) {
  session_action a;
  a.what = k;
  return a;
}

session_action ws_send(ws_role ws, message_ptr m) {
  auto a = act(session_action::kind::ws_send);
  a.ws = ws;
  a.message = std::move(m);
  return a;
}

session_action ws_close(ws_role ws, std::uint16_t code = 1000, bool drop = false) {
  auto a = act(session_action::kind::ws_close);
  a.ws = ws;
  a.code = code;
  a.drop = drop;
  return a;
}

}  // namespace

session_machine::time_point session_machine::deadline() const noexcept {
  if (state_ == state::closed) return time_point::max();
  return std::min(due_, upgrade_deadline_);
}

void session_machine::schedule_ping(time_point now) {
  due_ = now + config_->ping_interval;
  awaiting_pong_ = false;
}

void session_machine::enqueue(message_ptr m) {
  if (!queue_) queue_ = std::make_unique<polling_queue>();
  queue_->bytes += m->payload().size();
  queue_->messages.push_back(std::move(m));
}

std::vector<message_ptr> session_machine::take_queue() noexcept {
  if (!queue_) return {};
  queue_->bytes = 0;
  return std::exchange(queue_->messages, {});
}

void session_machine::open(message_ptr open_packet, time_point now, session_actions& out) {
  if (transport_ == transport_kind::websocket) {
    has_ws_ = true;
    out.push_back(ws_send(ws_role::active, std::move(open_packet)));
  } else {
    enqueue(std::move(open_packet));
  }
  schedule_ping(now);
}

void session_machine::answer_poll(session_actions& out, std::vector<message_ptr> extra) {
  if (held_ == 0) return;
  auto a = act(session_action::kind::answer_poll);
  a.request = std::exchange(held_, 0);
  a.messages = take_queue();
  for (auto& m : extra)
    a.messages.push_back(std::move(m));
  out.push_back(std::move(a));
}

void session_machine::poll(request_id r, time_point now, session_actions& out) {
  // A deadline that passed while its timer waits its turn is honoured before serving the request.
  // (Polls come only while polling: no WebSocket holds output.)
  timer(now, 0, out);
  if (state_ == state::closed) return;  // the driver answers "Session ID unknown"
  if (held_ != 0) {
    // Two GETs at once: Node answers the new one 400 and closes the session, which answers the
    // first one with a close packet.
    auto a = act(session_action::kind::reject_poll);
    a.request = r;
    out.push_back(std::move(a));
    close_with(close_reason::transport_error, out);
    return;
  }
  held_ = r;
  if (close_requested_) {
    // As Node: what is queued leaves alone (the close waits for the drain), and the close packet
    // goes in the next response, behind a noop.
    if (!queue_empty()) {
      answer_poll(out);
      return;
    }
    answer_poll(out, {noop_message(), close_message()});
    finalize(close_reason::forced_close, out);
    return;
  }
  if (!queue_empty()) {
    answer_poll(out);
    return;
  }
  if (upgrading_ && probed_) answer_poll(out, {noop_message()});  // let the client move on
}

void session_machine::poll_aborted(request_id r, session_actions& out) {
  if (held_ != r || r == 0) return;
  held_ = 0;
  // Node: "poll connection closed prematurely".
  close_with(close_reason::transport_error, out);
}

session_machine::post_answer session_machine::post(bool binary_body, bool decoded, time_point now,
                                                   session_actions& out) {
  timer(now, 0, out);
  if (state_ != state::open) return post_answer::unknown_session;
  if (binary_body) {
    // Binary POST bodies were Engine.IO v3's; v4 sends binary as base64 text.
    close_with(close_reason::transport_error, out);
    return post_answer::bad_request;
  }
  if (!decoded) close_with(close_reason::parse_error, out);
  return post_answer::ok;
}

void session_machine::receive(const packet& p, time_point now, session_actions& out) {
  if (state_ != state::open) return;
  switch (p.type) {
    case packet_type::ping:
      // Engine.IO v4 pings only from the server.
      close_with(close_reason::transport_error, out);
      return;
    case packet_type::pong:
      schedule_ping(now);
      return;
    case packet_type::message: {
      auto a = act(session_action::kind::deliver);
      a.delivered = &p;
      out.push_back(std::move(a));
      return;
    }
    case packet_type::close:
      if (transport_ == transport_kind::polling) {
        // Client close over polling: a held GET gets a noop and the session is forgotten.
        if (held_ != 0) {
          answer_poll(out, {noop_message()});
        } else {
          out.push_back(act(session_action::kind::client_closed));
        }
      }
      close_with(close_reason::transport_close, out);
      return;
    case packet_type::open:
    case packet_type::upgrade:
    case packet_type::noop:
      return;
  }
}

bool session_machine::upgrade_requested(time_point now) {
  if (state_ != state::open || transport_ != transport_kind::polling || upgrading_ ||
      !config_->allow_upgrades) {
    return false;
  }
  upgrading_ = true;
  probed_ = false;
  upgrade_deadline_ = now + config_->upgrade_timeout;
  return true;
}

void session_machine::probe_packet(const packet& p, session_actions& out) {
  // A close that waits for the client's next GET to carry the last packets may meet a client that
  // is switching to WebSocket and sends no more GETs: let the upgrade finish, the packets then go
  // out on the WebSocket, and the close follows them (as Node drains its buffer before closing).
  const bool closing_after_drain = state_ == state::closing && close_requested_;
  if ((state_ != state::open && !closing_after_drain) || !upgrading_) return;
  if (p.type == packet_type::ping && p.data == "probe" && !p.binary) {
    out.push_back(ws_send(ws_role::probe, probe_pong_message()));
    probed_ = true;
    if (held_ != 0) {
      if (queue_empty()) {
        answer_poll(out, {noop_message()});
      } else {
        answer_poll(out);
      }
    }
    return;
  }
  if (p.type == packet_type::upgrade && !p.binary) {
    finish_upgrade(out);
    if (closing_after_drain) close_with(close_reason::forced_close, out);
    return;
  }
  abort_upgrade(out);  // anything else on a probing WebSocket ends the attempt
}

void session_machine::finish_upgrade(session_actions& out) {
  upgrading_ = false;
  probed_ = false;
  upgrade_deadline_ = time_point::max();
  transport_ = transport_kind::websocket;
  has_ws_ = true;
  out.push_back(act(session_action::kind::ws_promote));
  if (held_ != 0) answer_poll(out, {noop_message()});
  for (auto& m : take_queue())
    out.push_back(ws_send(ws_role::active, std::move(m)));
  queue_.reset();  // no poll comes any more
}

void session_machine::abort_upgrade(session_actions& out) {
  if (!upgrading_) return;
  upgrading_ = false;
  probed_ = false;
  upgrade_deadline_ = time_point::max();
  out.push_back(ws_close(ws_role::probe));
}

void session_machine::ws_lost(ws_role which, close_reason reason, session_actions& out) {
  if (which == ws_role::probe) {
    upgrading_ = false;
    probed_ = false;
    upgrade_deadline_ = time_point::max();
    return;
  }
  // The WebSocket is still told to close: a client that only half-closed still reads our close
  // frame.
  close_with(reason, out);
}

session_machine::send_status session_machine::send(message_ptr m, bool droppable,
                                                   std::size_t ws_buffered, session_actions& out) {
  if (state_ != state::open) return send_status::closed;
  const auto buffered = polling_bytes() + ws_buffered;
  if (droppable && buffered > volatile_drop_threshold) return send_status::dropped;
  if (buffered > config_->max_buffered_bytes) {
    if (droppable) return send_status::dropped;
    close_with(close_reason::slow_consumer, out);
    return send_status::slow_consumer;
  }
  if (droppable && transport_ == transport_kind::polling && held_ == 0) {
    return send_status::dropped;  // Node: not writable, discard
  }
  if (transport_ == transport_kind::websocket) {
    if (has_ws_) out.push_back(ws_send(ws_role::active, std::move(m)));
    return send_status::queued;
  }
  enqueue(std::move(m));
  // Deferred, so everything sent during this loop turn leaves in one response.
  if (held_ != 0 && queue_->messages.size() == 1)
    out.push_back(act(session_action::kind::flush_later));
  return send_status::queued;
}

void session_machine::flush(session_actions& out) {
  if (held_ != 0 && !queue_empty()) answer_poll(out);
}

void session_machine::close(time_point now, session_actions& out) {
  if (state_ != state::open) return;
  if (transport_ == transport_kind::websocket) {
    close_with(close_reason::forced_close, out);
    return;
  }
  if (held_ != 0 && queue_empty()) {
    answer_poll(out, {close_message()});
    finalize(close_reason::forced_close, out);
    return;
  }
  // As Node, drain what is queued first and send the close packet in a later response: clients
  // handle the packets of one payload asynchronously, so a close packet in the same payload
  // would overtake them (a DISCONNECT would then look like "transport close").
  if (held_ != 0) answer_poll(out);
  // Wait for the client's next GET to carry the close packet.
  state_ = state::closing;
  close_requested_ = true;
  // Nothing can be queued any more (send() refuses once closing): if the queue is empty now,
  // only the close packet is left, which a graceful stop need not wait for.
  closing_idle_ = queue_empty();
  // No heartbeat any more. Node gives the client 30 s to come for the close packet; a live
  // client polls again within a round trip, so the close timeout bounds this wait as it bounds
  // every other close.
  awaiting_pong_ = false;
  due_ = now + config_->close_timeout;
}

void session_machine::close_with(close_reason reason, session_actions& out) {
  if (state_ == state::closed) return;
  if (held_ != 0) {
    queue_.reset();
    answer_poll(out, {close_message()});
  }
  if (has_ws_) {
    has_ws_ = false;
    // What is queued for a slow consumer will never be read: the close does not wait behind it.
    // 1008: policy violation.
    const bool slow = reason == close_reason::slow_consumer || reason == close_reason::write_stall;
    out.push_back(ws_close(ws_role::active, slow ? 1008 : 1000, slow));
  }
  if (upgrading_) {
    upgrading_ = false;
    out.push_back(ws_close(ws_role::probe));
  }
  finalize(reason, out);
}

void session_machine::finalize(close_reason reason, session_actions& out) {
  if (state_ == state::closed) return;
  state_ = state::closed;
  due_ = upgrade_deadline_ = time_point::max();
  awaiting_pong_ = false;
  queue_.reset();
  held_ = 0;
  auto a = act(session_action::kind::closed);
  a.reason = reason;
  out.push_back(std::move(a));
}

void session_machine::timer(time_point now, std::size_t ws_buffered, session_actions& out) {
  if (state_ == state::closed) return;
  if (state_ == state::closing && now >= due_) {
    finalize(close_reason::forced_close, out);
    return;
  }
  if (state_ == state::open && awaiting_pong_ && now >= due_) {
    close_with(close_reason::ping_timeout, out);
    return;
  }
  if (now >= upgrade_deadline_) abort_upgrade(out);
  if (state_ == state::open && !awaiting_pong_ && now >= due_) {
    // Counted from when the ping was due, not from when the timer got to run, so a late timer
    // does not stretch the heartbeat.
    due_ += config_->ping_timeout;
    awaiting_pong_ = true;
    send(ping_message(), false, ws_buffered, out);
  }
}

}  // namespace ignis::engineio
