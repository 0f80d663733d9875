#include "engineio/http_responses.hpp"
#include "engineio/websocket_transport.hpp"

#include <ignis/common/base64.hpp>
#include <ignis/engineio/server.hpp>

#include <boost/asio/post.hpp>

namespace ignis::engineio {

std::string_view to_string(transport_kind t) noexcept {
  return t == transport_kind::polling ? "polling" : "websocket";
}

std::string_view to_string(close_reason r) noexcept {
  switch (r) {
    case close_reason::transport_close:
      return "transport close";
    case close_reason::transport_error:
      return "transport error";
    case close_reason::ping_timeout:
      return "ping timeout";
    case close_reason::parse_error:
      return "parse error";
    case close_reason::forced_close:
      return "forced close";
    case close_reason::slow_consumer:
    case close_reason::write_stall:
      return "transport error";
  }
  return "transport error";
}

static_assert(std::size(traffic_counters{}.closes) == close_reason_count);

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

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

session::session(server& owner, net::shard& home, std::string sid, const net::http_request& req,
                 net::tcp::endpoint remote, transport_kind initial)
    : server_(owner),
      home_(home),
      sid_(std::move(sid)),
      remote_(std::move(remote)),
      transport_(initial) {
  std::size_t bytes = 0;
  std::size_t count = 0;
  for (const auto& field : req) {
    bytes += field.name_string().size() + field.value().size();
    ++count;
  }
  request_ = std::make_unique<handshake_request>();
  request_->url = req.target();
  request_->headers.reserve(bytes, count);
  for (const auto& field : req)
    request_->headers.add(lowercase(field.name_string()), field.value());
}

session::~session() = default;

std::size_t session::buffered_bytes() const noexcept {
  return polling_queue_bytes_ + (ws_ ? ws_->buffered_bytes() : 0);
}

void session::start_websocket(std::shared_ptr<websocket_transport> ws) {
  ws_ = std::move(ws);
  ws_->bind(weak_from_this(), false);
  ws_->send(
      message::text(packet_type::open, server_.handshake_json(sid_, transport_kind::websocket)));
  schedule_ping();
  server_.handler().on_open(shared_from_this());
}

void session::start_polling(std::shared_ptr<net::http_exchange> ex) {
  polling_queue_.push_back(
      message::text(packet_type::open, server_.handshake_json(sid_, transport_kind::polling)));
  polling_queue_bytes_ += polling_queue_.back()->payload().size();
  schedule_ping();
  auto self = shared_from_this();
  server_.handler().on_open(self);
  if (state_ == state::open) on_poll(std::move(ex));
}

session::send_status session::send(message_ptr m, bool droppable) {
  if (state_ != state::open) return send_status::closed;
  auto& counters = server_.counters(home_.index());
  const auto buffered = buffered_bytes();
  if (droppable && buffered > volatile_drop_threshold) {
    counters.dropped.add();
    return send_status::dropped;
  }
  if (buffered > server_.options().max_buffered_bytes) {
    if (droppable) {
      counters.dropped.add();
      return send_status::dropped;
    }
    counters.slow_consumers.add();
    close_with(close_reason::slow_consumer);
    return send_status::closed;
  }
  if (droppable && transport_ == transport_kind::polling && !pending_poll_) {
    counters.dropped.add();
    return send_status::dropped;  // Node: not writable, discard
  }
  counters.packets_out.add();
  counters.bytes_out.add(static_cast<std::int64_t>(m->payload().size()));
  if (transport_ == transport_kind::websocket) {
    if (ws_) ws_->send(std::move(m));
    return send_status::queued;
  }
  polling_queue_bytes_ += m->payload().size();
  polling_queue_.push_back(std::move(m));
  if (pending_poll_ && polling_queue_.size() == 1) {
    // Posted, so everything sent during this loop turn leaves in one response.
    boost::asio::post(home_.executor(), [self = shared_from_this()] { self->flush_polling(); });
  }
  return send_status::queued;
}

void session::flush_polling() {
  if (pending_poll_ && !polling_queue_.empty()) answer_poll();
}

void session::answer_poll(std::vector<message_ptr> extra) {
  auto ex = std::move(pending_poll_);
  pending_poll_.reset();
  if (!ex) return;
  std::string body;
  std::size_t size = polling_queue_bytes_ + 8 * extra.size();
  body.reserve(size + polling_queue_.size() + size / 3);
  auto append = [&body](const message& m) {
    if (!body.empty()) body.push_back(record_separator);
    if (m.is_binary()) {
      body.push_back('b');
      base64::encode(as_bytes(m.payload()), body);
    } else {
      body.append(m.payload());
    }
  };
  for (const auto& m : polling_queue_)
    append(*m);
  for (const auto& m : extra)
    append(*m);
  polling_queue_.clear();
  if (polling_queue_.capacity() > 64) std::vector<message_ptr>().swap(polling_queue_);
  polling_queue_bytes_ = 0;
  auto res = poll_response(ex->request(), std::move(body));
  server_.add_cors_headers(ex->request(), res);
  ex->respond(std::move(res));
}

void session::on_poll(std::shared_ptr<net::http_exchange> ex) {
  // A deadline that passed while its timer waits its turn is honoured before serving the request.
  on_timer(net::clock::now());
  if (state_ == state::closed) {
    auto res = error_response(ex->request(), 1, "Session ID unknown");
    server_.add_cors_headers(ex->request(), res);
    ex->respond(std::move(res));
    return;
  }
  if (pending_poll_) {
    // Two GETs at once: Node answers the new one 400 and closes the session, which answers the
    // first one with a close packet.
    auto res = empty_response(ex->request(), net::http::status::bad_request);
    server_.add_cors_headers(ex->request(), res);
    ex->respond(std::move(res));
    close_with(close_reason::transport_error);
    return;
  }
  pending_poll_ = std::move(ex);
  if (close_requested_) {
    // As Node: what is queued leaves alone (the close waits for the drain), and the close packet
    // goes in the next response, behind a noop.
    if (!polling_queue_.empty()) {
      answer_poll();
      return;
    }
    answer_poll({noop_message(), close_message()});
    finalize(close_reason::forced_close);
    return;
  }
  if (!polling_queue_.empty()) {
    answer_poll();
    return;
  }
  if (upgrading_ && probed_) answer_poll({noop_message()});  // let the client move to WebSocket
}

void session::on_poll_aborted(const net::http_exchange& ex) {
  if (pending_poll_.get() != &ex) return;
  pending_poll_.reset();
  // Node: "poll connection closed prematurely".
  close_with(close_reason::transport_error);
}

void session::on_post(std::shared_ptr<net::http_exchange> ex) {
  on_timer(net::clock::now());
  const auto& req = ex->request();
  if (state_ != state::open) {
    auto res = error_response(req, 1, "Session ID unknown");
    server_.add_cors_headers(req, res);
    ex->respond(std::move(res));
    return;
  }
  if (req[net::http::field::content_type].starts_with("application/octet-stream")) {
    // Binary POST bodies were Engine.IO v3's; v4 sends binary as base64 text.
    auto res = empty_response(req, net::http::status::bad_request);
    server_.add_cors_headers(req, res);
    ex->respond(std::move(res));
    close_with(close_reason::transport_error);
    return;
  }
  auto self = shared_from_this();
  auto packets = decode_payload(req.body());
  auto res = ok_response(req);
  server_.add_cors_headers(req, res);
  ex->respond(std::move(res));
  if (!packets) {
    close_with(close_reason::parse_error);
    return;
  }
  // Handled on the next turn, after the "ok" above was handed to its connection, as Node handles
  // them on the next tick: what the packets cause (answers, a close) should not overtake the "ok"
  // the client waits for before it considers its output drained.
  auto handle = [self = shared_from_this(), packets = std::move(*packets)] {
    for (const auto& p : packets) {
      if (self->state_ != state::open) break;
      if (p.type == packet_type::close) {
        // Client close over polling: a held GET gets a noop and the session is forgotten.
        if (self->pending_poll_) {
          self->answer_poll({noop_message()});
        } else {
          self->server_.remember_client_close(*self);
        }
        self->close_with(close_reason::transport_close);
        break;
      }
      self->on_packet(p);
    }
  };
  boost::asio::post(home_.executor(), std::move(handle));
}

void session::on_packet(const packet& p) {
  if (state_ != state::open) return;
  auto& counters = server_.counters(home_.index());
  counters.packets_in.add();
  counters.bytes_in.add(static_cast<std::int64_t>(p.data.size()));
  switch (p.type) {
    case packet_type::ping:
      // Engine.IO v4 pings only from the server.
      close_with(close_reason::transport_error);
      return;
    case packet_type::pong:
      pong_deadline_ = net::clock::time_point::max();
      schedule_ping();
      return;
    case packet_type::message:
      server_.handler().on_message(*this, p);
      return;
    case packet_type::close:
      close_with(close_reason::transport_close);
      return;
    case packet_type::open:
    case packet_type::upgrade:
    case packet_type::noop:
      return;
  }
}

void session::upgrade_to(std::shared_ptr<websocket_transport> ws) {
  if (state_ != state::open || transport_ != transport_kind::polling || upgrading_ ||
      !server_.options().allow_upgrades) {
    ws->close();
    return;
  }
  upgrading_ = true;
  probed_ = false;
  probe_ = std::move(ws);
  probe_->bind(weak_from_this(), true);
  upgrade_deadline_ = net::clock::now() + server_.options().upgrade_timeout;
  arm(upgrade_deadline_);
}

void session::on_probe_packet(websocket_transport& ws, const packet& p) {
  // A close that waits for the client's next GET to carry the last packets may meet a client that
  // is switching to WebSocket and sends no more GETs: let the upgrade finish, the packets then go
  // out on the WebSocket, and the close follows them (as Node drains its buffer before closing).
  const bool closing_after_drain = state_ == state::closing && close_requested_;
  if ((state_ != state::open && !closing_after_drain) || !upgrading_ || probe_.get() != &ws) return;
  if (p.type == packet_type::ping && p.data == "probe" && !p.binary) {
    probe_->send(probe_pong_message());
    probed_ = true;
    if (pending_poll_) {
      if (polling_queue_.empty()) {
        answer_poll({noop_message()});
      } else {
        answer_poll();
      }
    }
    return;
  }
  if (p.type == packet_type::upgrade && !p.binary) {
    finish_upgrade();
    if (closing_after_drain) close_with(close_reason::forced_close);
    return;
  }
  abort_upgrade();  // anything else on a probing WebSocket ends the attempt
}

void session::finish_upgrade() {
  upgrading_ = false;
  probed_ = false;
  upgrade_deadline_ = net::clock::time_point::max();
  transport_ = transport_kind::websocket;
  auto& counters = server_.counters(home_.index());
  counters.upgrades.add();
  counters.open_polling.sub();
  counters.open_websocket.add();
  ws_ = std::move(probe_);
  probe_.reset();
  ws_->bind(weak_from_this(), false);
  if (pending_poll_) answer_poll({noop_message()});
  for (auto& m : polling_queue_)
    ws_->send(std::move(m));
  polling_queue_.clear();
  std::vector<message_ptr>().swap(polling_queue_);
  polling_queue_bytes_ = 0;
}

void session::abort_upgrade() {
  upgrading_ = false;
  probed_ = false;
  upgrade_deadline_ = net::clock::time_point::max();
  if (auto probe = std::move(probe_)) {
    probe->unbind();
    probe->close();
  }
}

void session::on_websocket_closed(websocket_transport& ws, close_reason reason) {
  if (probe_.get() == &ws) {
    probe_.reset();
    upgrading_ = false;
    probed_ = false;
    upgrade_deadline_ = net::clock::time_point::max();
    return;
  }
  if (ws_.get() == &ws) close_with(reason);
}

void session::close() {
  if (state_ != state::open) return;
  if (transport_ == transport_kind::websocket) {
    close_with(close_reason::forced_close);
    return;
  }
  if (pending_poll_ && polling_queue_.empty()) {
    answer_poll({close_message()});
    finalize(close_reason::forced_close);
    return;
  }
  // As Node, drain what is queued first and send the close packet in a later response: clients
  // handle the packets of one payload asynchronously, so a close packet in the same payload
  // would overtake them (a DISCONNECT would then look like "transport close").
  if (pending_poll_) answer_poll();
  // Wait for the client's next GET to carry the close packet.
  state_ = state::closing;
  close_requested_ = true;
  // Nothing can be queued any more (send() refuses once closing): if the queue is empty now,
  // only the close packet is left, which a graceful stop need not wait for.
  if (polling_queue_.empty()) {
    closing_idle_ = true;
    server_.counters(home_.index()).closing_idle.add();
  }
  ping_due_ = pong_deadline_ = net::clock::time_point::max();
  // Node gives the client 30 s to come for the close packet; a live client polls again within a
  // round trip, so the close timeout bounds this wait as it bounds every other close.
  close_deadline_ = net::clock::now() + server_.options().close_timeout;
  arm(close_deadline_);
}

void session::close_with(close_reason reason) {
  if (state_ == state::closed) return;
  auto self = shared_from_this();
  if (pending_poll_) {
    polling_queue_.clear();
    polling_queue_bytes_ = 0;
    answer_poll({close_message()});
  }
  if (auto ws = std::move(ws_)) {
    ws->unbind();
    if (reason == close_reason::slow_consumer || reason == close_reason::write_stall) {
      // What is queued will never be read: the close does not wait behind it. 1008: policy.
      ws->close(1008, websocket_transport::close_mode::drop_queued);
    } else {
      ws->close();
    }
  }
  if (auto probe = std::move(probe_)) {
    probe->unbind();
    probe->close();
  }
  finalize(reason);
}

void session::finalize(close_reason reason) {
  if (state_ == state::closed) return;
  auto self = shared_from_this();
  state_ = state::closed;
  auto& counters = server_.counters(home_.index());
  (transport_ == transport_kind::websocket ? counters.open_websocket : counters.open_polling).sub();
  if (closing_idle_) counters.closing_idle.sub();
  counters.closes[static_cast<std::size_t>(reason)].add();
  ping_due_ = pong_deadline_ = upgrade_deadline_ = close_deadline_ = net::clock::time_point::max();
  polling_queue_.clear();
  polling_queue_bytes_ = 0;
  pending_poll_.reset();
  server_.forget(*this);
  server_.handler().on_close(*this, reason);
  user_data.reset();  // the layer above may hold a reference back to us
}

void session::schedule_ping() {
  ping_due_ = net::clock::now() + server_.options().ping_interval;
  arm(ping_due_);
}

void session::arm(net::clock::time_point deadline) {
  if (deadline >= armed_) return;  // an earlier entry is pending; it re-arms when it fires
  armed_ = deadline;
  home_.timers().schedule(deadline, weak_from_this());
}

void session::on_timer(net::clock::time_point now) {
  if (now >= armed_) armed_ = net::clock::time_point::max();
  if (state_ == state::closed) return;
  auto self = shared_from_this();
  if (now >= close_deadline_) {
    finalize(close_reason::forced_close);
    return;
  }
  if (now >= pong_deadline_) {
    close_with(close_reason::ping_timeout);
    return;
  }
  if (now >= upgrade_deadline_) abort_upgrade();
  if (now >= ping_due_) {
    // Counted from when the ping was due, not from when the timer got to run, so a late timer
    // does not stretch the heartbeat.
    pong_deadline_ = ping_due_ + server_.options().ping_timeout;
    ping_due_ = net::clock::time_point::max();
    send(ping_message());
    if (state_ == state::closed) return;
  }
  arm(std::min({ping_due_, pong_deadline_, upgrade_deadline_, close_deadline_}));
}

}  // namespace ignis::engineio
