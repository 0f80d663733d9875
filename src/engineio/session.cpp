#include "engineio/http_responses.hpp"
#include "engineio/session_machine.hpp"
#include "engineio/websocket_transport.hpp"

#include <ignis/common/base64.hpp>
#include <ignis/engineio/server.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <new>

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

// A payload of polling packets: text as it is, binary as 'b' + base64.
std::string payload_body(const std::vector<message_ptr>& messages) {
  std::size_t size = 0;
  for (const auto& m : messages)
    size += m->payload().size() + 1;
  std::string body;
  body.reserve(size + size / 3);
  for (const auto& m : messages) {
    if (!body.empty()) body.push_back(record_separator);
    if (m->is_binary()) {
      body.push_back('b');
      base64::encode(as_bytes(m->payload()), body);
    } else {
      body.append(m->payload());
    }
  }
  return body;
}

}  // namespace

struct session::actions : session_actions {};

session::session(server& owner, net::shard& home, inline_id sid, transport_kind initial)
    : server_(owner), home_(home), sid_(sid) {
  static_assert(sizeof(session_machine) <= machine_size &&
                alignof(session_machine) <= alignof(std::max_align_t) &&
                alignof(session_machine) <= 8);
  ::new (static_cast<void*>(machine_storage_)) session_machine(owner.machine_config(), initial);
}

session::~session() {
  if (listener_) listener_->~session_listener();
  machine().~session_machine();
}

session_machine& session::machine() noexcept {
  return *std::launder(reinterpret_cast<session_machine*>(machine_storage_));
}

const session_machine& session::machine() const noexcept {
  return *std::launder(reinterpret_cast<const session_machine*>(machine_storage_));
}

transport_kind session::transport() const noexcept {
  return machine().transport();
}

bool session::is_open() const noexcept {
  return machine().is_open();
}

std::size_t session::ws_buffered() const noexcept {
  return ws_ ? ws_->buffered_bytes() : 0;
}

session::polling_state& session::polling() {
  if (!polling_) polling_ = std::make_unique<polling_state>();
  return *polling_;
}

std::shared_ptr<websocket_transport>* session::transport_for(bool probe) noexcept {
  if (!probe) return &ws_;
  return polling_ ? &polling_->probe : nullptr;
}

void session::run(actions& out, const std::shared_ptr<net::http_exchange>& incoming,
                  std::uint32_t incoming_id) {
  using kind = session_action::kind;
  auto& counters = server_.counters(home_.index());
  auto exchange_for = [&](request_id r) -> std::shared_ptr<net::http_exchange> {
    if (r == incoming_id && incoming) return incoming;
    if (polling_ && r == polling_->held_id) {
      polling_->held_id = 0;
      return std::move(polling_->held_poll);
    }
    return nullptr;
  };
  for (auto& a : out) {
    switch (a.what) {
      case kind::answer_poll:
        if (auto ex = exchange_for(a.request)) {
          auto res = poll_response(ex->request(), payload_body(a.messages));
          server_.add_cors_headers(ex->request(), res);
          ex->respond(std::move(res));
        }
        break;
      case kind::reject_poll:
        if (auto ex = exchange_for(a.request)) {
          auto res = empty_response(ex->request(), net::http::status::bad_request);
          server_.add_cors_headers(ex->request(), res);
          ex->respond(std::move(res));
        }
        break;
      case kind::flush_later:
        boost::asio::post(home_.executor(), [self = shared_from_this()] {
          actions next;
          self->machine().flush(next);
          self->run(next);
        });
        break;
      case kind::ws_send:
        if (auto* ws = transport_for(a.ws == ws_role::probe); ws && *ws) {
          (*ws)->send(std::move(a.message));
        }
        break;
      case kind::ws_close:
        if (auto* slot = transport_for(a.ws == ws_role::probe); slot && *slot) {
          const auto ws = std::move(*slot);
          ws->unbind();
          ws->close(a.code, a.drop ? websocket_transport::close_mode::drop_queued
                                   : websocket_transport::close_mode::after_queued);
        }
        break;
      case kind::ws_promote:
        counters.upgrades.add();
        counters.open_polling.sub();
        counters.open_websocket.add();
        ws_ = polling_ ? std::move(polling_->probe) : nullptr;
        if (ws_) ws_->bind(weak_from_this(), false);
        if (auto* l = listener()) l->on_upgrade();
        break;
      case kind::deliver:
        if (auto* l = listener()) {
          l->on_message(*a.delivered);
        } else {
          server_.handler().on_message(*this, *a.delivered);
        }
        break;
      case kind::client_closed:
        server_.remember_client_close(*this);
        break;
      case kind::closed: {
        auto self = shared_from_this();
        (transport() == transport_kind::websocket ? counters.open_websocket : counters.open_polling)
            .sub();
        if (machine().closing_idle()) counters.closing_idle.sub();
        counters.closes[static_cast<std::size_t>(a.reason)].add();
        if (a.reason == close_reason::slow_consumer) counters.slow_consumers.add();
        if (polling_) {
          polling_->held_poll.reset();
          polling_->held_id = 0;
        }
        // Off the shard's wheel while on the shard: whoever holds the session last may let it go
        // on another thread.
        cancel();
        server_.forget(*this);
        // Told once (the machine closes once, and its timer entry is gone); the listener stays
        // constructed until the session goes.
        if (auto* l = listener()) {
          l->on_close(a.reason);
        } else {
          server_.handler().on_close(*this, a.reason);
        }
        break;
      }
    }
  }
  rearm();
}

void session::set_listener_deadline(net::clock::time_point when) {
  listener_deadline_ = when;
  rearm();
}

void session::rearm() {
  // Unlinked for good when it closed.
  if (machine().current() == session_machine::state::closed) return;
  const auto deadline = std::min(machine().deadline(), listener_deadline_);
  // An earlier deadline is linked already: it re-arms when it fires.
  if (deadline >= scheduled_for()) return;
  home_.timers().schedule(*this, deadline);
}

void session::start_websocket(std::shared_ptr<websocket_transport> ws, handshake_request request) {
  ws_ = std::move(ws);
  ws_->bind(weak_from_this(), false);
  actions out;
  machine().open(
      message::text(packet_type::open, server_.handshake_json(sid_, transport_kind::websocket)),
      home_.now(), out);
  run(out);
  server_.handler().on_open(shared_from_this(), std::move(request));
}

void session::start_polling(std::shared_ptr<net::http_exchange> ex, handshake_request request) {
  auto self = shared_from_this();
  actions out;
  machine().open(
      message::text(packet_type::open, server_.handshake_json(sid_, transport_kind::polling)),
      home_.now(), out);
  run(out);
  server_.handler().on_open(self, std::move(request));
  if (machine().is_open()) on_poll(std::move(ex));
}

session::send_status session::send(message_ptr m, bool droppable) {
  auto& counters = server_.counters(home_.index());
  const auto size = m->payload().size();
  actions out;
  const auto status = machine().send(std::move(m), droppable, ws_buffered(), out);
  switch (status) {
    case session_machine::send_status::queued:
      counters.packets_out.add();
      counters.bytes_out.add(static_cast<std::int64_t>(size));
      break;
    case session_machine::send_status::dropped:
      counters.dropped.add();
      break;
    case session_machine::send_status::slow_consumer:
    case session_machine::send_status::closed:
      break;
  }
  if (!out.empty()) run(out);
  return status == session_machine::send_status::queued    ? send_status::queued
         : status == session_machine::send_status::dropped ? send_status::dropped
                                                           : send_status::closed;
}

void session::on_poll(std::shared_ptr<net::http_exchange> ex) {
  auto& state = polling();
  const auto id = ++state.next_request;
  actions out;
  machine().poll(id, home_.now(), out);
  const bool answered = std::any_of(out.begin(), out.end(), [id](const session_action& a) {
    return (a.what == session_action::kind::answer_poll ||
            a.what == session_action::kind::reject_poll) &&
           a.request == id;
  });
  if (!answered && machine().current() == session_machine::state::closed) {
    // Closed by a deadline that passed before the request (or earlier).
    run(out);
    auto res = error_response(ex->request(), http_error::unknown_sid);
    server_.add_cors_headers(ex->request(), res);
    ex->respond(std::move(res));
    return;
  }
  if (!answered) {
    state.held_poll = ex;
    state.held_id = id;
  }
  run(out, ex, id);
}

void session::on_poll_aborted(const net::http_exchange& ex) {
  if (!polling_ || polling_->held_poll.get() != &ex) return;
  const auto id = polling_->held_id;
  polling_->held_poll.reset();
  polling_->held_id = 0;
  actions out;
  machine().poll_aborted(id, out);
  run(out);
}

void session::on_post(std::shared_ptr<net::http_exchange> ex) {
  const auto& req = ex->request();
  const bool binary = req[net::http::field::content_type].starts_with("application/octet-stream");
  std::optional<std::vector<packet>> packets;
  if (!binary) {
    if (auto decoded = decode_payload(req.body())) packets = std::move(*decoded);
  }
  actions out;
  const auto answer = machine().post(binary, binary || packets.has_value(), home_.now(), out);
  net::http_response res;
  switch (answer) {
    case session_machine::post_answer::ok:
      res = ok_response(req);
      break;
    case session_machine::post_answer::unknown_session:
      res = error_response(req, http_error::unknown_sid);
      break;
    case session_machine::post_answer::bad_request:
      res = empty_response(req, net::http::status::bad_request);
      break;
  }
  server_.add_cors_headers(req, res);
  ex->respond(std::move(res));
  run(out);
  if (answer != session_machine::post_answer::ok || !packets) return;
  // Handled on the next turn, after the "ok" above was handed to its connection, as Node handles
  // them on the next tick: what the packets cause (answers, a close) should not overtake the "ok"
  // the client waits for before it considers its output drained.
  boost::asio::post(home_.executor(), [self = shared_from_this(), packets = std::move(*packets)] {
    for (const auto& p : packets) {
      if (!self->machine().is_open()) break;
      self->on_packet(p);
    }
  });
}

void session::on_packet(const packet& p) {
  if (!machine().is_open()) return;
  auto& counters = server_.counters(home_.index());
  counters.packets_in.add();
  counters.bytes_in.add(static_cast<std::int64_t>(p.data.size()));
  actions out;
  machine().receive(p, home_.now(), out);
  run(out);
}

void session::upgrade_to(std::shared_ptr<websocket_transport> ws) {
  if (!machine().upgrade_requested(home_.now())) {
    ws->close();
    return;
  }
  auto& probe = polling().probe;
  probe = std::move(ws);
  probe->bind(weak_from_this(), true);
  rearm();
}

void session::on_probe_packet(websocket_transport& ws, const packet& p) {
  if (!polling_ || polling_->probe.get() != &ws) return;
  actions out;
  machine().probe_packet(p, out);
  run(out);
}

void session::on_websocket_closed(websocket_transport& ws, close_reason reason) {
  actions out;
  if (polling_ && polling_->probe.get() == &ws) {
    polling_->probe.reset();
    machine().ws_lost(ws_role::probe, reason, out);
  } else if (ws_.get() == &ws) {
    machine().ws_lost(ws_role::active, reason, out);
  }
  run(out);
}

void session::close() {
  if (!machine().is_open()) return;
  actions out;
  machine().close(home_.now(), out);
  if (machine().closing_idle()) server_.counters(home_.index()).closing_idle.add();
  run(out);
}

void session::on_timer(net::clock::time_point now) {
  auto self = shared_from_this();
  if (now >= listener_deadline_) {
    listener_deadline_ = net::clock::time_point::max();
    if (auto* l = listener()) l->on_deadline(now);
  }
  actions out;
  machine().timer(now, ws_buffered(), out);
  run(out);
}

}  // namespace ignis::engineio
