#include "client/engine.hpp"

#include <algorithm>

namespace ignis::client::detail {
namespace {

std::size_t packet_size(const engineio::packet& p) noexcept {
  return p.data.size() + 1;
}

// engine.io-client's estimate of a packet's share of a polling payload: UTF-8 bytes of text,
// ceil(1.33 * n) for binary (its base64 form), plus type and separator.
std::size_t polling_size(const engineio::packet& p) noexcept {
  return p.binary ? (p.data.size() * 133 + 99) / 100 : p.data.size();
}

}  // namespace

engine::engine(asio::any_io_executor strand, std::shared_ptr<const engine_config> cfg,
               std::weak_ptr<engine_listener> listener)
    : strand_(strand), cfg_(std::move(cfg)), listener_(std::move(listener)), ping_timer_(strand) {}

std::shared_ptr<transport> engine::start_transport(transport_kind k) {
  auto t = make_transport(k, strand_, cfg_);
  t->set_sid(sid_);
  t->set_listener(weak_from_this());
  return t;
}

void engine::open() {
  if (state_ != state::idle) return;
  state_ = state::opening;
  if (cfg_->transports.empty()) {
    auto l = listener_.lock();
    state_ = state::closed;
    listener_.reset();
    if (l) {
      l->on_engine_error(
          *this,
          connect_error{"No transports available", nullptr, client_error::no_transports, {}});
      l->on_engine_close(*this, engine_close::transport_error);
    }
    return;
  }
  transport_ = start_transport(cfg_->transports.front());
  transport_->open();
}

transport_kind engine::current_transport() const noexcept {
  return transport_ ? transport_->kind() : transport_kind::polling;
}

std::size_t engine::buffered_bytes() const noexcept {
  return write_buffer_bytes_ + (transport_ ? transport_->buffered_bytes() : 0);
}

bool engine::send(std::vector<engineio::packet> packets) {
  if (state_ == state::closed) return false;
  std::size_t bytes = 0;
  for (const auto& p : packets)
    bytes += packet_size(p);
  if (buffered_bytes() + bytes > cfg_->max_write_buffer_bytes) return false;
  write_buffer_bytes_ += bytes;
  for (auto& p : packets)
    write_buffer_.push_back(std::move(p));
  flush();
  return true;
}

bool engine::writable() const noexcept {
  return state_ == state::open && !upgrading_ && transport_ && transport_->writable();
}

std::size_t engine::writable_count() const noexcept {
  // A polling POST must stay within the server's maxPayload: send a prefix of the queue.
  if (transport_->kind() != transport_kind::polling || write_buffer_.size() < 2) {
    return write_buffer_.size();
  }
  std::size_t size = 1;
  for (std::size_t i = 0; i < write_buffer_.size(); ++i) {
    size += polling_size(write_buffer_[i]);
    if (i > 0 && size > max_payload_) return i;
    size += 2;
  }
  return write_buffer_.size();
}

void engine::flush() {
  if (state_ == state::closed || !transport_ || upgrading_ || write_buffer_.empty() ||
      !transport_->writable()) {
    return;
  }
  const std::size_t n = writable_count();
  std::vector<engineio::packet> batch;
  if (n == write_buffer_.size()) {
    batch.swap(write_buffer_);
    write_buffer_bytes_ = 0;
  } else {
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      write_buffer_bytes_ -= packet_size(write_buffer_[i]);
      batch.push_back(std::move(write_buffer_[i]));
    }
    write_buffer_.erase(write_buffer_.begin(), write_buffer_.begin() + static_cast<long>(n));
  }
  transport_->send(std::move(batch));
}

void engine::on_transport_open(transport& t) {
  if (&t == probe_.get()) {
    probe_->send({engineio::packet::text(engineio::packet_type::ping, "probe")});
  }
}

void engine::on_transport_packet(transport& t, engineio::packet& p) {
  if (&t == probe_.get()) return on_probe_packet(p);
  if (&t == transport_.get()) on_packet(p);
}

void engine::on_packet(engineio::packet& p) {
  if (state_ == state::closed) return;
  switch (p.type) {
    case engineio::packet_type::open:
      return on_handshake(p.data);
    case engineio::packet_type::ping: {
      send({engineio::packet::text(engineio::packet_type::pong)});
      reset_ping_timer();
      if (auto l = listener_.lock()) l->on_engine_ping(*this);
      return;
    }
    case engineio::packet_type::message:
      if (auto l = listener_.lock()) l->on_engine_message(*this, p);
      return;
    case engineio::packet_type::close:
      return end(engine_close::transport_close);
    default:  // pong, upgrade, noop: nothing to do for a client
      return;
  }
}

void engine::on_handshake(std::string_view json) {
  if (state_ != state::opening) return;  // a second open packet means nothing
  auto hs = engineio::decode_handshake(json);
  if (!hs) {
    if (auto l = listener_.lock()) {
      l->on_engine_error(*this, connect_error{"parse error", nullptr, hs.error(),
                                              "invalid handshake: " + std::string(json)});
    }
    return end(engine_close::parse_error);
  }
  sid_ = hs->sid;
  ping_interval_ = hs->ping_interval;
  ping_timeout_ = hs->ping_timeout;
  max_payload_ = hs->max_payload;
  transport_->set_sid(sid_);
  state_ = state::open;
  if (auto l = listener_.lock()) l->on_engine_open(*this);
  if (state_ != state::open) return;
  flush();
  const bool offered =
      std::find(hs->upgrades.begin(), hs->upgrades.end(), "websocket") != hs->upgrades.end();
  const bool allowed = std::find(cfg_->transports.begin(), cfg_->transports.end(),
                                 transport_kind::websocket) != cfg_->transports.end();
  if (cfg_->upgrade && offered && allowed && transport_->kind() == transport_kind::polling) {
    probe();
  }
  reset_ping_timer();
}

void engine::probe() {
  probe_ = start_transport(transport_kind::websocket);
  probe_->open();
}

void engine::on_probe_packet(engineio::packet& p) {
  if (state_ != state::open || upgrading_) return probe_failed();
  if (p.type != engineio::packet_type::pong || p.data != "probe") return probe_failed();
  // The server knows we are moving: stop polling (it answers the held GET with a noop), then
  // switch once nothing is in flight on the polling side.
  upgrading_ = true;
  transport_->pause([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_paused();
  });
}

void engine::on_paused() {
  if (state_ != state::open || !probe_) return;
  auto old = std::move(transport_);
  transport_ = std::move(probe_);
  old->abort();
  transport_->send({engineio::packet::text(engineio::packet_type::upgrade)});
  upgrading_ = false;
  if (auto l = listener_.lock()) l->on_engine_upgrade(*this, transport_kind::websocket);
  flush();
}

void engine::probe_failed() {
  if (probe_) {
    probe_->abort();
    probe_.reset();
  }
  if (upgrading_) {
    upgrading_ = false;
    if (transport_) transport_->resume();
    flush();
  }
}

void engine::on_transport_drain(transport& t) {
  if (&t == transport_.get()) flush();
}

void engine::on_transport_error(transport& t, const connect_error& err) {
  if (&t == probe_.get()) return probe_failed();
  if (&t != transport_.get() || state_ == state::closed) return;
  if (auto l = listener_.lock()) l->on_engine_error(*this, err);
  end(engine_close::transport_error);
}

void engine::on_transport_close(transport& t) {
  if (&t == probe_.get()) return probe_failed();
  if (&t == transport_.get()) end(engine_close::transport_close);
}

void engine::reset_ping_timer() {
  ping_timer_.expires_after(
      std::chrono::milliseconds(std::uint64_t{ping_interval_} + ping_timeout_));
  ping_timer_.async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->state_ != state::open) return;
    self->end(engine_close::ping_timeout);
  });
}

void engine::end(engine_close reason) {
  if (state_ == state::closed) return;
  auto l = listener_.lock();
  // A session that ends by our decision (parse error) still says goodbye; a dead or closed
  // connection is dropped.
  teardown(reason == engine_close::parse_error);
  if (l) l->on_engine_close(*this, reason);
}

void engine::close() {
  if (state_ == state::closed) return;
  teardown(true);
}

void engine::abort() {
  if (state_ == state::closed) return;
  teardown(false);
}

void engine::teardown(bool graceful) {
  state_ = state::closed;
  listener_.reset();
  ping_timer_.cancel();
  upgrading_ = false;
  if (probe_) {
    probe_->abort();
    probe_.reset();
  }
  if (transport_) {
    if (graceful) {
      transport_->close(std::move(write_buffer_));
    } else {
      transport_->abort();
    }
  }
  write_buffer_.clear();
  write_buffer_bytes_ = 0;
}

}  // namespace ignis::client::detail
