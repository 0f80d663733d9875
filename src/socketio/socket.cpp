#include "socketio/client.hpp"
#include "socketio/event_packet.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/recovery_store.hpp"

#include <ignis/common/iso_time.hpp>
#include <ignis/socketio/server.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <stdexcept>

namespace ignis::socketio {

std::string_view to_string(disconnect_reason r) noexcept {
  switch (r) {
    case disconnect_reason::transport_error:
      return "transport error";
    case disconnect_reason::transport_close:
      return "transport close";
    case disconnect_reason::forced_close:
      return "forced close";
    case disconnect_reason::ping_timeout:
      return "ping timeout";
    case disconnect_reason::parse_error:
      return "parse error";
    case disconnect_reason::server_shutting_down:
      return "server shutting down";
    case disconnect_reason::forced_server_close:
      return "forced server close";
    case disconnect_reason::client_namespace_disconnect:
      return "client namespace disconnect";
    case disconnect_reason::server_namespace_disconnect:
      return "server namespace disconnect";
  }
  return "transport error";
}

namespace {

class ack_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ignis.socketio.ack"; }
  std::string message(int ev) const override {
    switch (static_cast<ack_error>(ev)) {
      case ack_error::timeout:
        return "operation has timed out";
      case ack_error::disconnected:
        return "socket has been disconnected";
    }
    return "unknown acknowledgement error";
  }
};

}  // namespace

const boost::system::error_category& ack_category() noexcept {
  static const ack_category_impl instance;
  return instance;
}

std::string_view handshake_info::header(std::string_view lowercase_name) const noexcept {
  return headers.get(lowercase_name);
}

boost::json::object handshake_info::query() const {
  boost::json::object out;
  if (auto parsed = boost::urls::parse_origin_form(url)) {
    for (const auto& param : parsed->params())
      out[param.key] = param.value;
  }
  return out;
}

std::string handshake_info::query_param(std::string_view name) const {
  std::string value;
  if (auto parsed = boost::urls::parse_origin_form(url)) {
    for (const auto& param : parsed->params()) {
      if (param.key == name) value = param.value;
    }
  }
  return value;
}

void ack_responder::operator()(payload args) const {
  if (!state_ || state_->sent.exchange(true)) return;
  const auto id = state_->id;
  auto s = state_->target.lock();
  if (!s) return;
  // Answering from a completion that runs elsewhere (another shard, a worker thread) is fine.
  boost::asio::dispatch(s->home().executor(), [s, id, args = std::move(args)]() mutable {
    s->send_ack(id, std::move(args));
  });
}

struct socket::pending_ack {
  std::function<void(payload)> on_answer;
  ack_callback on_error;  // set for emit_with_ack: completed with an error on timeout/disconnect
  net::clock::time_point deadline = net::clock::time_point::max();  // emit_with_ack's timeout
};

// Times out a socket's acknowledgements on its shard's timer wheel (made with the first timed one).
struct socket::ack_timer final : net::timer_client {
  std::weak_ptr<socket> target;
  net::clock::time_point armed = net::clock::time_point::max();
  void on_timer(net::clock::time_point now) override {
    if (now >= armed) armed = net::clock::time_point::max();
    if (auto s = target.lock()) s->expire_acks(now);
  }
};

struct socket::extras {
  // A socket has a few handlers: scanning them beats hashing, and they take one allocation.
  std::vector<std::pair<std::string, event_handler>> handlers;
  std::vector<std::pair<const void*, std::shared_ptr<void>>> attachments;  // beyond the first
  std::vector<any_handler> any_handlers;
  std::vector<disconnect_handler> disconnecting_handlers;
  std::vector<disconnect_handler> disconnect_handlers;
  std::unordered_map<std::uint64_t, std::shared_ptr<pending_ack>> acks;
  std::shared_ptr<ack_timer> timer;
};

void socket::attach_state(const void* key, std::shared_ptr<void> state) {
  if (!attachment_key_ || attachment_key_ == key) {
    attachment_key_ = key;
    attachment_ = std::move(state);
    return;
  }
  for (auto& [k, v] : more().attachments) {
    if (k == key) {
      v = std::move(state);
      return;
    }
  }
  more().attachments.emplace_back(key, std::move(state));
}

std::shared_ptr<void> socket::attached_state(const void* key) const noexcept {
  if (attachment_key_ == key) return attachment_;
  if (extras_) {
    for (const auto& [k, v] : extras_->attachments) {
      if (k == key) return v;
    }
  }
  return nullptr;
}

socket::extras& socket::more() {
  if (!extras_) extras_ = std::make_unique<extras>();
  return *extras_;
}

socket::socket(namespace_& nsp, client& owner, inline_id id,
               std::shared_ptr<const handshake_info> handshake)
    : nsp_(&nsp),
      client_(&owner),
      id_(id),
      handshake_(std::move(handshake)),
      home_index_(static_cast<std::uint16_t>(owner.home().index())) {}

socket::~socket() = default;

net::shard& socket::home() const noexcept {
  return nsp_->srv().runtime().at(home_index_);
}

engineio::transport_kind socket::transport() const noexcept {
  return client_ ? client_->transport() : engineio::transport_kind::websocket;
}

std::string_view socket::engine_id() const noexcept {
  return client_ ? client_->engine_id() : std::string_view();
}

void socket::on(std::string event, event_handler h) {
  if (auto* existing = find_handler(event)) {
    *existing = std::move(h);
    return;
  }
  // Grown one at a time: the list is written once, at connection, and read for every event.
  auto& handlers = more().handlers;
  handlers.reserve(handlers.size() + 1);
  handlers.emplace_back(std::move(event), std::move(h));
}
void socket::off(std::string_view event) {
  if (!extras_) return;
  std::erase_if(extras_->handlers, [event](const auto& entry) { return entry.first == event; });
}
event_handler* socket::find_handler(std::string_view event) noexcept {
  if (!extras_) return nullptr;
  for (auto& [name, h] : extras_->handlers) {
    if (name == event) return &h;
  }
  return nullptr;
}
void socket::on_any(any_handler h) {
  more().any_handlers.push_back(std::move(h));
}
void socket::on_disconnecting(disconnect_handler h) {
  more().disconnecting_handlers.push_back(std::move(h));
}
void socket::on_disconnect(disconnect_handler h) {
  more().disconnect_handlers.push_back(std::move(h));
}

void socket::send_packet(const packet& p, bool droppable) {
  // With recovery on, recoverable packets queued for this shard go first: what this socket is
  // sent keeps the order in which it was sent.
  if (nsp_->recovery()) nsp_->drain_recoverable(home_index_);
  if (client_) client_->send(p, droppable);
}

void socket::send_encoded(const std::vector<engineio::message_ptr>& messages, bool droppable) {
  if (connected_ && client_) client_->send_encoded(messages, droppable);
}

void socket::emit(std::string_view event, payload args) {
  auto p = event_packet(nsp_->name(), event, std::move(args));
  if (!connected_) {
    // From a middleware, before the CONNECT answer: straight to the client, ahead of that answer
    // (Node does the same). Nothing is kept for recovery: the socket has no session yet.
    if (client_) send_packet(p);
    return;
  }
  // With recovery on, what is sent to a socket is recoverable too: it goes, with its offset, the
  // way broadcasts go (to the socket's own room).
  broadcast_options to_me;
  to_me.rooms.push_back(id_.str());
  if (nsp_->recovery() && nsp_->adapter().shares_sessions()) {
    // A shared log gives the offset: through it, as Node's cluster adapters do.
    nsp_->adapter().broadcast(std::move(p), to_me);
    return;
  }
  if (nsp_->deliver_recoverable(p, to_me, nullptr)) return;
  send_packet(p);
  observe_sent(p);
}

void socket::emit_volatile(std::string_view event, payload args) {
  auto p = event_packet(nsp_->name(), event, std::move(args));
  if (!connected_) return;
  send_packet(p, true);
  observe_sent(p);
}

void socket::observe_sent(const packet& p) {
  if (auto* o = nsp_->srv().observing()) {
    socket* const me = this;
    o->on_events_sent(*nsp_, p, std::span<socket* const>(&me, 1));
  }
}

void socket::emit_with_ack(std::string_view event, payload args, std::chrono::milliseconds timeout,
                           ack_callback cb) {
  emit_with_ack(event, std::move(args), timeout, std::move(cb), {});
}

void socket::emit_with_ack(std::string_view event, payload args, std::chrono::milliseconds timeout,
                           ack_callback cb, boost::asio::cancellation_slot slot) {
  auto p = event_packet(nsp_->name(), event, std::move(args));
  if (!connected_) {
    // Never inside the call: the caller may hold a lock or be in the middle of a change.
    boost::asio::post(home().executor(), [cb = std::move(cb)] { cb(ack_error::disconnected, {}); });
    return;
  }
  const auto id = nsp_->next_ack_id();
  p.id = id;
  auto entry = std::make_shared<pending_ack>();
  entry->on_error = cb;
  entry->on_answer = [cb](payload answer) { cb({}, std::move(answer)); };
  entry->deadline = home().now() + timeout;
  const auto deadline = entry->deadline;
  more().acks.emplace(id, std::move(entry));
  arm_acks(deadline);
  if (slot.is_connected()) {
    // The signal may come from any thread: the pending entry is dropped on the socket's shard.
    slot.assign(
        [weak = weak_from_this(), id, ex = home().executor()](boost::asio::cancellation_type) {
          boost::asio::post(ex, [weak, id] {
            auto self = weak.lock();
            if (!self || !self->extras_) return;
            auto& acks = self->extras_->acks;
            const auto it = acks.find(id);
            if (it == acks.end()) return;
            auto cancelled = std::move(it->second);
            acks.erase(it);
            cancelled->on_error(boost::asio::error::operation_aborted, {});
          });
        });
  }
  send_packet(p);
  observe_sent(p);
}

void socket::arm_acks(net::clock::time_point when) {
  auto& timer = more().timer;
  if (!timer) {
    timer = std::make_shared<ack_timer>();
    timer->target = weak_from_this();
  }
  if (when >= timer->armed) return;  // an earlier entry is pending; it re-arms when it fires
  timer->armed = when;
  home().timers().schedule(when, timer);
}

void socket::expire_acks(net::clock::time_point now) {
  if (!extras_) return;
  auto self = shared_from_this();
  std::vector<std::pair<std::uint64_t, std::shared_ptr<pending_ack>>> expired;
  auto next = net::clock::time_point::max();
  auto& acks = extras_->acks;
  for (auto it = acks.begin(); it != acks.end();) {
    if (it->second->deadline <= now) {
      expired.emplace_back(it->first, std::move(it->second));
      it = acks.erase(it);
    } else {
      next = std::min(next, it->second->deadline);
      ++it;
    }
  }
  if (next != net::clock::time_point::max()) arm_acks(next);
  // In the order they were asked.
  std::sort(expired.begin(), expired.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [id, entry] : expired)
    entry->on_error(ack_error::timeout, {});
}

void socket::add_pending_ack(std::uint64_t id, std::function<void(payload)> on_answer) {
  auto entry = std::make_shared<pending_ack>();
  entry->on_answer = std::move(on_answer);
  more().acks.emplace(id, std::move(entry));
}

void socket::send_ack(std::uint64_t id, payload args) {
  if (!connected_) return;
  send_packet(packet{packet_type::ack, nsp_->name(), id, boost::json::value(std::move(args.args)),
                     std::move(args.attachments)});
}

std::vector<std::string> socket::rooms() const {
  std::vector<std::string> out;
  out.reserve(rooms_.size() + 1);
  if (in_own_room_) out.push_back(id_.str());
  out.insert(out.end(), rooms_.begin(), rooms_.end());
  return out;
}

bool socket::in_room(std::string_view room) const noexcept {
  if (in_own_room_ && room == id_.view()) return true;
  for (const auto& r : rooms_) {
    if (r == room) return true;
  }
  return false;
}

void socket::join(std::string room) {
  if (!connected_ || in_room(room)) return;
  std::string_view joined = id_.view();
  if (room == joined) {
    in_own_room_ = true;  // not in the room index: the namespace finds it by the socket's id
  } else {
    const auto& stored = rooms_.push_back(std::move(room));
    nsp_->room_added(*this, stored);
    joined = stored;
    note_session();
  }
  if (auto* o = nsp_->srv().observing()) o->on_join(*this, joined);
}

void socket::join(const std::vector<std::string>& rooms) {
  for (const auto& r : rooms)
    join(r);
}

void socket::leave(std::string_view room) {
  auto* o = nsp_->srv().observing();
  if (in_own_room_ && room == id_.view()) {
    in_own_room_ = false;
    if (o) o->on_leave(*this, id_);
    return;
  }
  for (auto it = rooms_.begin(); it != rooms_.end(); ++it) {
    if (*it != room) continue;
    nsp_->room_removed(*this, room);
    const auto left = std::move(*it);  // `room` may view the erased entry
    rooms_.erase(it);
    note_session();
    if (o) o->on_leave(*this, left);
    return;
  }
}

void socket::set_recoverable(bool on) {
  const bool was = recoverable_;
  recoverable_ = on;
  if (on) return note_session();
  if (was && connected_ && pid_ && nsp_->recovery() && nsp_->adapter().shares_sessions())
    nsp_->adapter().session_ended(pid_->str());
}

void socket::note_session() {
  if (!connected_ || !recoverable_ || !pid_ || !nsp_->recovery()) return;
  auto& a = nsp_->adapter();
  if (a.shares_sessions()) a.session_changed({id_.str(), pid_->str(), rooms(), data});
}

broadcast_operator socket::broadcast() const {
  broadcast_options opts;
  opts.except.push_back(id_.str());
  return broadcast_operator(*nsp_, std::move(opts));
}

broadcast_operator socket::to(std::string room) const {
  return broadcast().to(std::move(room));
}
broadcast_operator socket::except(std::string room) const {
  return broadcast().except(std::move(room));
}

void socket::on_connect_accepted() {
  connected_ = true;
  // Every socket is in the room named after its id (kept out of the room index: the namespace
  // finds it through its sockets table).
  in_own_room_ = true;
  boost::json::object answer{{"sid", id_.view()}};
  if (pid_) answer["pid"] = pid_->view();  // recovery on: the private id (Node's key order)
  send_packet(packet{
      packet_type::connect, nsp_->name(), std::nullopt, boost::json::value(std::move(answer)), {}});
  note_session();
}

void socket::disconnect(bool close) {
  if (!connected_) return;
  if (close) {
    if (auto c = client_) c->disconnect_all();
    return;
  }
  send_packet(packet{packet_type::disconnect, nsp_->name(), std::nullopt, std::nullopt, {}});
  on_close(disconnect_reason::server_namespace_disconnect);
}

void socket::close_connection() {
  if (auto c = client_) c->close();
}

void socket::on_packet(packet& p) {
  if (!connected_) return;
  switch (p.type) {
    case packet_type::event:
    case packet_type::binary_event: {
      auto& values = p.data->get_array();
      std::string event;
      if (values[0].is_string()) {
        event = std::string(values[0].get_string());
      } else {
        event = serialize_js(values[0]);  // Node accepts a number as the event name
      }
      payload args;
      args.args.reserve(values.size() - 1);
      for (std::size_t i = 1; i < values.size(); ++i)
        args.args.push_back(std::move(values[i]));
      args.attachments = std::move(p.attachments);
      ack_responder ack = p.id ? ack_responder(weak_from_this(), *p.id) : ack_responder();
      dispatch(event, args, std::move(ack));
      return;
    }
    case packet_type::ack:
    case packet_type::binary_ack: {
      if (!p.id || !extras_) return;
      auto& acks = extras_->acks;
      const auto it = acks.find(*p.id);
      if (it == acks.end()) return;
      auto entry = std::move(it->second);
      acks.erase(it);
      payload answer;
      if (p.data && p.data->is_array()) answer.args = std::move(p.data->get_array());
      answer.attachments = std::move(p.attachments);
      entry->on_answer(std::move(answer));
      return;
    }
    case packet_type::disconnect:
      on_close(disconnect_reason::client_namespace_disconnect);
      return;
    case packet_type::connect:
    case packet_type::connect_error:
      return;
  }
}

void socket::dispatch(std::string_view event, payload& args, ack_responder ack) {
  auto self = shared_from_this();
  if (auto* o = nsp_->srv().observing()) o->on_event_received(*this, event, args);
  if (extras_ && !extras_->any_handlers.empty()) {
    const auto handlers = extras_->any_handlers;
    for (const auto& h : handlers) {
      h(*this, event, args, ack);
      if (!connected_) return;
    }
  }
  if (const auto* found = find_handler(event)) {
    const auto handler = *found;  // the handler may replace itself
    handler(*this, args, std::move(ack));
    return;
  }
  // The namespace's handlers do not change once clients connect: no copy.
  for (const auto& [name, handler] : nsp_->event_handlers_) {
    if (name == event) return handler(*this, args, std::move(ack));
  }
}

namespace {

// Node's RECOVERABLE_DISCONNECT_REASONS: the client did not mean to leave.
bool recoverable(disconnect_reason r) noexcept {
  switch (r) {
    case disconnect_reason::transport_error:
    case disconnect_reason::transport_close:
    case disconnect_reason::forced_close:
    case disconnect_reason::ping_timeout:
    case disconnect_reason::server_shutting_down:
    case disconnect_reason::forced_server_close:
      return true;
    case disconnect_reason::parse_error:
    case disconnect_reason::client_namespace_disconnect:
    case disconnect_reason::server_namespace_disconnect:
      return false;
  }
  return false;
}

}  // namespace

void socket::on_close(disconnect_reason reason) {
  if (!connected_) return;
  auto self = shared_from_this();
  if (extras_) {
    for (const auto& h : std::vector<disconnect_handler>(extras_->disconnecting_handlers))
      h(*this, reason);
  }
  if (auto* store = nsp_->recovery(); store && recoverable_ && recoverable(reason)) {
    if (nsp_->adapter().shares_sessions()) {
      nsp_->adapter().persist_session({id_.str(), pid_->str(), rooms(), data},
                                      nsp_->srv().options().recovery.max_disconnection_duration);
    } else {
      store->persist({id_.str(), pid_->str(), rooms(), data}, home().now());
    }
  } else if (store && recoverable_ && pid_ && nsp_->adapter().shares_sessions()) {
    // Gone for good: the session kept while it was connected goes too.
    nsp_->adapter().session_ended(pid_->str());
  }
  auto* o = nsp_->srv().observing();
  const auto was_in = o ? rooms() : std::vector<std::string>();
  for (const auto& room : rooms_)
    nsp_->room_removed(*this, room);
  rooms_.clear();
  in_own_room_ = false;
  nsp_->remove(*this);
  if (client_) client_->remove(*this);
  connected_ = false;
  if (o) o->on_disconnect(*this, reason, was_in);
  // Registered before the socket existed: before the socket's own, as Node runs listeners in the
  // order they were added.
  for (const auto& h : nsp_->disconnect_handlers_)
    h(*this, reason);
  if (extras_) {
    auto acks = std::move(extras_->acks);
    extras_->acks.clear();
    for (auto& [id, entry] : acks) {
      if (entry->on_error) entry->on_error(ack_error::disconnected, {});
    }
    const auto handlers = std::move(extras_->disconnect_handlers);
    extras_->disconnect_handlers.clear();
    for (const auto& h : handlers)
      h(*this, reason);
  }
  // Handlers capture the socket at will; dropping them breaks such cycles.
  extras_.reset();
  attachment_.reset();
  attachment_key_ = nullptr;
  client_ = nullptr;
}

socket_info socket::info() const {
  socket_info out;
  out.id = id_.str();
  out.rooms = rooms();
  out.data = data;
  boost::json::object headers;
  for (const auto [k, v] : handshake_->headers)
    headers[k] = v;
  out.handshake = boost::json::object{
      {"headers", std::move(headers)},
      {"time", date_string_from_ms(handshake_->issued)},
      {"address", handshake_->address},
      {"xdomain", !handshake_->header("origin").empty()},
      {"secure", handshake_->secure},
      {"issued", handshake_->issued},
      {"url", handshake_->url},
      {"query", handshake_->query()},
      {"auth", nsp_->auth_concealed() ? boost::json::object() : handshake_->auth},
  };
  if (auto* o = nsp_->srv().observing()) o->on_info(*this, out);
  return out;
}

}  // namespace ignis::socketio
