#include "client/manager_impl.hpp"

#include <boost/asio/post.hpp>

namespace ignis::client::detail {
namespace {

disconnect_reason reason_of(engine_close c) noexcept {
  switch (c) {
    case engine_close::transport_close:
      return disconnect_reason::transport_close;
    case engine_close::transport_error:
      return disconnect_reason::transport_error;
    case engine_close::ping_timeout:
      return disconnect_reason::ping_timeout;
    case engine_close::parse_error:
      return disconnect_reason::parse_error;
  }
  return disconnect_reason::transport_error;
}

socketio::decoder_limits decoder_limits_of(const manager_options& o) {
  socketio::decoder_limits l;
  l.max_attachments = o.max_attachments;
  l.max_json_depth = o.max_json_depth;
  l.max_packet_size = o.max_message_size;
  return l;
}

}  // namespace

listener_id next_listener_id() noexcept {
  static std::atomic<listener_id> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

manager_impl::manager_impl(asio::any_io_executor ex, std::shared_ptr<const engine_config> cfg,
                           manager_options options)
    : strand_(asio::make_strand(ex)),
      cfg_(std::move(cfg)),
      options_(std::move(options)),
      decoder_(decoder_limits_of(options_)),
      backoff_(options_.reconnection.delay, options_.reconnection.delay_max,
               options_.reconnection.factor, options_.reconnection.randomization),
      open_timer_(strand_),
      reconnect_timer_(strand_) {}

std::optional<transport_kind> manager_impl::transport() const noexcept {
  const int t = transport_.load(std::memory_order_acquire);
  if (t < 0) return std::nullopt;
  return static_cast<transport_kind>(t);
}

std::string manager_impl::engine_id() const {
  std::lock_guard lk(sid_mutex_);
  return sid_;
}

void manager_impl::publish(std::optional<transport_kind> t, std::string sid) {
  transport_.store(t ? static_cast<int>(*t) : -1, std::memory_order_release);
  std::lock_guard lk(sid_mutex_);
  sid_ = std::move(sid);
}

void manager_impl::add_socket(std::shared_ptr<socket_impl> s) {
  if (detached.load(std::memory_order_acquire)) return s->on_manager_detached();
  sockets_.push_back(std::move(s));
}

void manager_impl::remove_socket(const socket_impl* s) {
  std::erase_if(sockets_, [s](const auto& p) { return p.get() == s; });
}

void manager_impl::remove_listener(listener_id id) {
  on_open.remove(id) || on_close.remove(id) || on_error.remove(id) || on_upgrade.remove(id) ||
      on_reconnect_attempt.remove(id) || on_reconnect.remove(id) || on_reconnect_error.remove(id) ||
      on_reconnect_failed.remove(id) || on_ping.remove(id);
}

void manager_impl::open() {
  open_engine(false);
}

void manager_impl::open_engine(bool for_reconnect) {
  if (detached.load(std::memory_order_acquire) || state_ != state::closed) return;
  opening_for_reconnect_ = for_reconnect;
  skip_reconnect_ = false;
  state_ = state::opening;
  engine_ = std::make_shared<engine>(strand_, cfg_, weak_from_this());
  if (options_.timeout.count() > 0) {
    open_timer_.expires_after(options_.timeout);
    open_timer_.async_wait(
        [weak = weak_from_this(), e = std::weak_ptr<engine>(engine_)](error_code ec) {
          auto self = weak.lock();
          if (ec || !self || self->state_ != state::opening || self->engine_ != e.lock()) return;
          self->open_failed(connect_error{"timeout", nullptr, client_error::timeout,
                                          "no handshake within the connection timeout"});
        });
  }
  auto e = engine_;  // open() may report at once (no transports)
  e->open();
}

void manager_impl::on_engine_open(engine& e) {
  if (&e != engine_.get()) return;
  open_timer_.cancel();
  state_ = state::open;
  decoder_.reset();
  publish(e.current_transport(), e.id());
  fire(on_open);
  for (const auto& s : sockets_snapshot()) {
    if (state_ != state::open) return;
    s->on_manager_open();
  }
  if (opening_for_reconnect_ && state_ == state::open) {
    const auto attempt = backoff_.attempts();
    reconnecting_ = false;
    opening_for_reconnect_ = false;
    backoff_.reset();
    fire(on_reconnect, attempt);
  }
}

void manager_impl::on_engine_message(engine& e, engineio::packet& p) {
  if (&e != engine_.get() || state_ != state::open) return;
  auto r = p.binary ? decoder_.feed_binary(std::move(p.data)) : decoder_.feed_text(p.data);
  if (!r) return on_connection_closed(disconnect_reason::parse_error);
  if (!*r) return;  // a binary packet waiting for its attachments
  auto& packet = **r;
  for (const auto& s : sockets_) {
    if (s->nsp() == packet.nsp && s->active()) {
      const auto target = s;  // sockets_ may change while the packet is handled
      target->on_manager_packet(packet);
      return;
    }
  }
}

void manager_impl::on_engine_ping(engine& e) {
  if (&e == engine_.get()) fire(on_ping);
}

void manager_impl::on_engine_upgrade(engine& e, transport_kind to) {
  if (&e != engine_.get()) return;
  publish(to, e.id());
  fire(on_upgrade, to);
}

void manager_impl::on_engine_error(engine& e, const connect_error& err) {
  if (&e != engine_.get()) return;
  if (state_ == state::opening) return open_failed(err);
  fire(on_error, err);
  for (const auto& s : sockets_snapshot())
    s->on_manager_error(err);
}

void manager_impl::on_engine_close(engine& e, engine_close reason) {
  if (&e != engine_.get()) return;
  if (state_ == state::opening) {
    // Closed before the handshake without a transport error: still a failed attempt.
    const auto r = reason_of(reason);
    return open_failed(connect_error{std::string(to_string(r)), nullptr, {}, {}});
  }
  on_connection_closed(reason_of(reason));
}

void manager_impl::open_failed(const connect_error& err) {
  open_timer_.cancel();
  if (auto e = std::move(engine_)) e->abort();
  state_ = state::closed;
  publish(std::nullopt, {});
  fire(on_error, err);
  for (const auto& s : sockets_snapshot())
    s->on_manager_error(err);
  if (opening_for_reconnect_) {
    opening_for_reconnect_ = false;
    reconnecting_ = false;
    reconnect();
    fire(on_reconnect_error, err);
  } else {
    maybe_reconnect_on_open();
  }
}

void manager_impl::on_connection_closed(disconnect_reason reason) {
  // socket.io-client's Manager.onclose.
  const bool was_closed = state_ == state::closed && !engine_;
  open_timer_.cancel();
  if (auto e = std::move(engine_)) e->close();
  decoder_.reset();
  backoff_.reset();
  state_ = state::closed;
  publish(std::nullopt, {});
  if (!was_closed) fire(on_close, reason);
  for (const auto& s : sockets_snapshot())
    s->on_manager_close(reason);
  if (options_.reconnection.enabled && !skip_reconnect_) reconnect();
}

void manager_impl::close() {
  skip_reconnect_ = true;
  reconnecting_ = false;
  opening_for_reconnect_ = false;
  reconnect_timer_.cancel();
  on_connection_closed(disconnect_reason::io_client_disconnect);
}

void manager_impl::socket_destroyed() {
  for (const auto& s : sockets_) {
    if (s->active()) return;
  }
  close();
}

void manager_impl::maybe_reconnect_on_open() {
  if (!reconnecting_ && options_.reconnection.enabled && backoff_.attempts() == 0) reconnect();
}

void manager_impl::reconnect() {
  if (reconnecting_ || skip_reconnect_ || detached.load(std::memory_order_acquire)) return;
  if (backoff_.attempts() >= options_.reconnection.attempts) {
    backoff_.reset();
    reconnecting_ = false;
    fire(on_reconnect_failed);
    return;
  }
  const auto delay = backoff_.duration();
  reconnecting_ = true;
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->skip_reconnect_ || !self->reconnecting_) return;
    self->fire(self->on_reconnect_attempt, self->backoff_.attempts());
    if (self->skip_reconnect_ || !self->reconnecting_) return;
    self->open_engine(true);
  });
}

bool manager_impl::send_packet(const socketio::packet& p) {
  if (state_ != state::open || !engine_) return false;
  auto encoded = socketio::encode(p);
  std::vector<engineio::packet> packets;
  packets.reserve(1 + encoded.attachments.size());
  packets.push_back(
      engineio::packet::text(engineio::packet_type::message, std::move(encoded.text)));
  for (const auto& a : encoded.attachments)
    packets.push_back(engineio::packet::bytes(*a));
  return engine_->send(std::move(packets));
}

void manager_impl::detach() {
  skip_reconnect_ = true;
  reconnecting_ = false;
  open_timer_.cancel();
  reconnect_timer_.cancel();
  // Sockets first: their DISCONNECT packets go out with the engine's goodbye.
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (const auto& s : sockets)
    s->on_manager_detached();
  if (auto e = std::move(engine_)) e->close();
  state_ = state::closed;
  publish(std::nullopt, {});
  on_open.clear();
  on_close.clear();
  on_error.clear();
  on_upgrade.clear();
  on_reconnect_attempt.clear();
  on_reconnect.clear();
  on_reconnect_error.clear();
  on_reconnect_failed.clear();
  on_ping.clear();
}

}  // namespace ignis::client::detail
