#include "client/manager_impl.hpp"

#include <ignis/socketio/json.hpp>

#include <boost/asio/post.hpp>

namespace ignis::client {

struct ack_responder::state {
  state(std::weak_ptr<detail::socket_impl> s, std::uint64_t i) : target(std::move(s)), id(i) {}
  std::weak_ptr<detail::socket_impl> target;
  std::uint64_t id;
  std::atomic<bool> sent{false};
};

void ack_responder::operator()(payload args) const {
  if (!state_ || state_->sent.exchange(true)) return;
  auto s = state_->target.lock();
  if (!s) return;
  // Posted even from a handler: the answer goes out after the event's handling, never inside it.
  boost::asio::post(s->manager()->strand(), [s, id = state_->id, args = std::move(args)]() mutable {
    s->send_ack(id, std::move(args));
  });
}

}  // namespace ignis::client

namespace ignis::client::detail {
namespace {

socketio::packet make_packet(socketio::packet_type type, const std::string& nsp) {
  socketio::packet p;
  p.type = type;
  p.nsp = nsp;
  return p;
}

// The event name as socket.io-client hands it to listeners: numbers (which the parser accepts)
// become their decimal form.
std::string event_name(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return socketio::serialize_js(v);
}

}  // namespace

socket_impl::socket_impl(std::shared_ptr<manager_impl> m, std::string nsp, boost::json::object auth)
    : manager_(std::move(m)), nsp_(std::move(nsp)), auth_(std::move(auth)) {}

std::string socket_impl::id() const {
  std::lock_guard lk(id_mutex_);
  return id_;
}

void socket_impl::set_id(std::string id) {
  std::lock_guard lk(id_mutex_);
  id_ = std::move(id);
}

listener_id socket_impl::add_event_listener(listener_id id, std::string event, event_handler h) {
  events_[std::move(event)].add(id, std::move(h));
  return id;
}

void socket_impl::remove_listener(listener_id id) {
  if (any.remove(id) || on_connect.remove(id) || on_disconnect.remove(id) ||
      on_connect_error.remove(id)) {
    return;
  }
  for (auto it = events_.begin(); it != events_.end(); ++it) {
    if (it->second.remove(id)) {
      if (it->second.empty()) events_.erase(it);
      return;
    }
  }
}

void socket_impl::connect() {
  if (detached.load(std::memory_order_acquire) || manager_->detached.load() || connected_) return;
  active_ = true;
  if (!manager_->reconnecting()) manager_->open();
  if (manager_->is_open()) on_manager_open();
}

void socket_impl::on_manager_open() {
  if (!active_ || connect_sent_ || connected_) return;
  send_connect();
}

void socket_impl::send_connect() {
  auto p = make_packet(socketio::packet_type::connect, nsp_);
  if (pid_) {
    // socket.io-client: {pid, offset, ...auth}.
    boost::json::object data;
    data["pid"] = *pid_;
    if (last_offset_) data["offset"] = *last_offset_;
    for (const auto& kv : auth_)
      data[kv.key()] = kv.value();
    p.data = std::move(data);
  } else if (!auth_.empty()) {
    p.data = auth_;
  }
  connect_sent_ = manager_->send_packet(p);
}

void socket_impl::disconnect() {
  if (detached.load(std::memory_order_acquire)) return;
  const bool was_connected = connected_;
  if (connected_) manager_->send_packet(make_packet(socketio::packet_type::disconnect, nsp_));
  destroy();
  if (was_connected) on_close(disconnect_reason::io_client_disconnect);
}

void socket_impl::destroy() {
  // socket.io-client's destroy(): stop following the manager, which closes the connection when
  // no socket uses it.
  if (!active_) return;
  active_ = false;
  connect_sent_ = false;
  manager_->socket_destroyed();
}

void socket_impl::on_close(disconnect_reason reason) {
  connected_ = false;
  connected_flag.store(false, std::memory_order_release);
  set_id({});
  fire(on_disconnect, reason);
  clear_acks();
}

void socket_impl::detach() {
  if (connected_) manager_->send_packet(make_packet(socketio::packet_type::disconnect, nsp_));
  connected_ = false;
  connected_flag.store(false, std::memory_order_release);
  drop_everything();
  const bool was_active = active_;
  active_ = false;
  connect_sent_ = false;
  manager_->remove_socket(this);
  if (was_active) manager_->socket_destroyed();
}

void socket_impl::on_manager_detached() {
  if (connected_) manager_->send_packet(make_packet(socketio::packet_type::disconnect, nsp_));
  connected_ = false;
  connected_flag.store(false, std::memory_order_release);
  active_ = false;
  connect_sent_ = false;
  drop_everything();
}

void socket_impl::drop_everything() {
  // No handler runs any more, so the acknowledgements are dropped without a call.
  for (auto& [id, a] : acks_) {
    if (a.timer) a.timer->cancel();
  }
  acks_.clear();
  send_buffer_.clear();
  receive_buffer_.clear();
  events_.clear();
  any.clear();
  on_connect.clear();
  on_disconnect.clear();
  on_connect_error.clear();
}

void socket_impl::on_manager_error(const connect_error& err) {
  if (active_ && !connected_) fire(on_connect_error, err);
}

void socket_impl::on_manager_close(disconnect_reason reason) {
  if (!active_) return;
  connect_sent_ = false;
  if (connected_) {
    on_close(reason);
  } else {
    clear_acks();
  }
}

void socket_impl::on_manager_packet(socketio::packet& p) {
  if (!active_) return;
  switch (p.type) {
    case socketio::packet_type::connect: {
      const auto* o = p.data ? p.data->if_object() : nullptr;
      const auto* sid = o ? o->if_contains("sid") : nullptr;
      if (sid && sid->is_string()) {
        const auto* pid = o->if_contains("pid");
        std::optional<std::string> p_id;
        if (pid && pid->is_string()) p_id = std::string(pid->get_string());
        if (!connected_) on_connected(std::string(sid->get_string()), std::move(p_id));
        return;
      }
      fire(on_connect_error,
           connect_error{"It seems you are trying to reach a Socket.IO server in v2.x with a v3.x "
                         "client, but they are not compatible",
                         nullptr,
                         {},
                         {}});
      return;
    }
    case socketio::packet_type::event:
    case socketio::packet_type::binary_event:
      return on_event(p);
    case socketio::packet_type::ack:
    case socketio::packet_type::binary_ack:
      return on_ack(p);
    case socketio::packet_type::disconnect:
      destroy();
      return on_close(disconnect_reason::io_server_disconnect);
    case socketio::packet_type::connect_error:
      return on_refused(p);
  }
}

void socket_impl::on_refused(const socketio::packet& p) {
  destroy();
  connect_error err;
  if (p.data) {
    if (const auto* o = p.data->if_object()) {
      if (const auto* m = o->if_contains("message"); m && m->is_string()) {
        err.message = std::string(m->get_string());
      }
      if (const auto* d = o->if_contains("data")) err.data = *d;
    } else if (p.data->is_string()) {
      err.message = std::string(p.data->get_string());
    }
  }
  fire(on_connect_error, err);
}

void socket_impl::on_connected(std::string sid, std::optional<std::string> pid) {
  set_id(std::move(sid));
  recovered_flag.store(pid && pid_ == pid, std::memory_order_release);
  pid_ = std::move(pid);
  connected_ = true;
  connected_flag.store(true, std::memory_order_release);
  // As socket.io-client: events that arrived before the CONNECT answer, then the emits made
  // while disconnected, then "connect".
  auto received = std::move(receive_buffer_);
  receive_buffer_.clear();
  for (auto& ev : received) {
    ack_responder ack;
    if (ev.id)
      ack = ack_responder(std::make_shared<ack_responder::state>(weak_from_this(), *ev.id));
    dispatch_event(ev.name, ev.args, ack);
  }
  auto buffered = std::move(send_buffer_);
  send_buffer_.clear();
  for (auto& p : buffered) {
    if (!manager_->send_packet(p) && p.id) complete_ack(*p.id, client_error::write_buffer_full);
  }
  fire(on_connect);
}

void socket_impl::on_event(socketio::packet& p) {
  auto& array = p.data->as_array();  // the decoder checked: an array led by a name
  std::string name = event_name(array.front());
  array.erase(array.begin());
  payload args(std::move(array), std::move(p.attachments));
  if (!connected_) {
    if (manager_->options().max_buffered_events == 0) return;
    if (receive_buffer_.size() >= manager_->options().max_buffered_events) {
      receive_buffer_.pop_front();
    }
    receive_buffer_.push_back({std::move(name), std::move(args), p.id});
    return;
  }
  ack_responder ack;
  if (p.id) ack = ack_responder(std::make_shared<ack_responder::state>(weak_from_this(), *p.id));
  dispatch_event(name, args, ack);
}

void socket_impl::dispatch_event(const std::string& name, payload& args, const ack_responder& ack) {
  // With recovery on, the server appends its offset to every event as the last argument.
  if (pid_ && !args.args.empty() && args.args.back().is_string()) {
    last_offset_ = std::string(args.args.back().get_string());
  }
  fire(any, std::string_view(name), args, ack);
  const auto it = events_.find(name);
  if (it == events_.end()) return;
  fire(it->second, args, ack);
}

void socket_impl::on_ack(socketio::packet& p) {
  if (!p.id) return;
  auto& array = p.data->as_array();
  complete_ack(*p.id, {}, payload(std::move(array), std::move(p.attachments)));
}

void socket_impl::complete_ack(std::uint64_t id, error_code ec, payload args) {
  const auto it = acks_.find(id);
  if (it == acks_.end()) return;
  auto cb = std::move(it->second.cb);
  if (it->second.timer) it->second.timer->cancel();
  acks_.erase(it);
  if (cb && callbacks_allowed()) manager_->call(cb, ec, std::move(args));
}

void socket_impl::clear_acks() {
  // socket.io-client: every acknowledgement still awaited fails, except those of emits still in
  // the buffer, which are sent after the next connection.
  std::vector<std::uint64_t> failed;
  for (const auto& [id, a] : acks_) {
    const bool buffered = std::any_of(send_buffer_.begin(), send_buffer_.end(),
                                      [id = id](const auto& p) { return p.id == id; });
    if (!buffered) failed.push_back(id);
  }
  std::sort(failed.begin(), failed.end());  // in emit order
  for (const auto id : failed)
    complete_ack(id, client_error::disconnected);
}

void socket_impl::emit(std::string event, payload args, bool is_volatile,
                       std::chrono::milliseconds timeout, ack_callback cb) {
  if (detached.load(std::memory_order_acquire)) return;
  boost::json::array data;
  data.reserve(args.args.size() + 1);
  data.emplace_back(event);
  for (auto& v : args.args)
    data.push_back(std::move(v));
  auto p = make_packet(socketio::packet_type::event, nsp_);
  p.data = std::move(data);
  p.attachments = std::move(args.attachments);

  if (cb) {
    if (acks_.size() >= manager_->options().max_pending_acks) {
      if (callbacks_allowed())
        manager_->call(cb, make_error_code(client_error::too_many_acks), payload{});
      return;
    }
    const auto id = next_ack_id_++;
    p.id = id;
    auto& entry = acks_[id];
    entry.cb = std::move(cb);
    if (timeout.count() > 0) {
      entry.timer = std::make_unique<asio::steady_timer>(manager_->strand(), timeout);
      entry.timer->async_wait([weak = weak_from_this(), id](error_code ec) {
        auto self = weak.lock();
        if (ec || !self) return;
        // socket.io-client also takes a timed-out emit out of the buffer.
        std::erase_if(self->send_buffer_, [id](const auto& q) { return q.id == id; });
        self->complete_ack(id, client_error::ack_timeout);
      });
    }
  }

  const bool can_send = connected_ && manager_->is_open();
  if (is_volatile) {
    // Dropped unless it can be written right away; an acknowledgement then waits for its timeout
    // (as in socket.io-client), or fails at once when it has none.
    if (can_send && manager_->writable()) {
      manager_->send_packet(p);
    } else if (p.id && timeout.count() <= 0) {
      complete_ack(*p.id, client_error::disconnected);
    }
    return;
  }
  if (can_send) {
    if (!manager_->send_packet(p) && p.id) complete_ack(*p.id, client_error::write_buffer_full);
    return;
  }
  buffer_emit(std::move(p));
}

void socket_impl::buffer_emit(socketio::packet p) {
  const auto max = manager_->options().max_buffered_emits;
  if (max == 0) {
    if (p.id) complete_ack(*p.id, client_error::send_buffer_full);
    return;
  }
  send_buffer_.push_back(std::move(p));
  while (send_buffer_.size() > max) {
    auto oldest = std::move(send_buffer_.front());
    send_buffer_.pop_front();
    if (oldest.id) complete_ack(*oldest.id, client_error::send_buffer_full);
  }
}

void socket_impl::send_ack(std::uint64_t id, payload args) {
  if (!connected_) return;  // an answer for a connection that is gone means nothing now
  auto p = make_packet(socketio::packet_type::ack, nsp_);
  p.id = id;
  p.data = std::move(args.args);
  p.attachments = std::move(args.attachments);
  manager_->send_packet(p);
}

}  // namespace ignis::client::detail
