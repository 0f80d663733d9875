#include "engineio/websocket_transport.hpp"

#include "net/plain_allocator.hpp"

#include <ignis/engineio/closing.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <chrono>

namespace ignis::engineio {
namespace asio = boost::asio;

namespace {

message_ptr control_message(net::ws::opcode op, std::string_view payload) {
  std::string frame;
  net::ws::encode_frame(frame, op, payload);
  return message::control(std::move(frame));
}

// At most this many reads per readiness notification, so one busy connection cannot starve the
// others on its shard.
constexpr int max_reads_per_turn = 4;

// How long a closed connection waits for the client to close its side.
constexpr auto linger_timeout = std::chrono::seconds(2);

// The transports of this thread's shard with frames queued during the current loop turn. One
// posted handler flushes them all: a broadcast to N sockets costs one post, not N (each a handler
// allocation and a trip through the scheduler's queue).
struct pending_flushes {
  net::shard* shard = nullptr;
  bool posted = false;
  std::vector<std::shared_ptr<websocket_transport>> transports;
  std::vector<std::shared_ptr<websocket_transport>> draining;
};
thread_local pending_flushes pending;

// Gather buffers of the immediate write, reused: a flush allocates nothing in the common case.
thread_local std::vector<asio::const_buffer> gather;

}  // namespace

websocket_transport::websocket_transport(net::shard& home, net::tcp::socket socket,
                                         std::size_t max_message_size)
    : home_(home),
      socket_(std::move(socket)),
      decoder_(net::ws::role::server, {.max_message_size = max_message_size}) {
  boost::system::error_code ec;
  socket_.set_option(net::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  open_count_.fetch_add(1, std::memory_order_relaxed);
}

std::size_t websocket_connections_open() noexcept {
  return websocket_transport::open_count();
}

websocket_transport::~websocket_transport() {
  if (!closed_) open_count_.fetch_sub(1, std::memory_order_relaxed);
}

void websocket_transport::start(std::string handshake_response) {
  send(message::control(std::move(handshake_response)));
}

void websocket_transport::begin_reading(std::string leftover) {
  if (!leftover.empty()) {
    std::vector<net::ws::event> events;
    const auto ec = decoder_.feed(as_bytes(leftover), events);
    for (auto& ev : events) {
      if (closed_) return;
      dispatch(ev);
    }
    if (ec) {
      close(net::ws::close_code_for(ec));
      lost(close_reason::transport_error);
      return;
    }
  }
  wait_readable();
}

void websocket_transport::bind(std::weak_ptr<session> s, bool probing) {
  session_ = std::move(s);
  probing_ = probing;
}

void websocket_transport::wait_readable() {
  if (closed_ || reading_) return;
  reading_ = true;
  // This operation stays pending while the connection is idle: its memory is allocated to size.
  socket_.async_wait(
      net::tcp::socket::wait_read,
      asio::bind_allocator(net::plain_allocator<void>(),
                           [self = shared_from_this()](const boost::system::error_code& ec) {
                             self->reading_ = false;
                             if (ec || self->closed_) return;
                             self->on_readable();
                           }));
}

void websocket_transport::on_readable() {
  if (lingering_) return discard_input();
  auto scratch = home_.scratch();
  std::vector<net::ws::event> events;
  for (int i = 0; i < max_reads_per_turn; ++i) {
    boost::system::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      lost(ec == asio::error::eof ? close_reason::transport_close : close_reason::transport_error);
      return;
    }
    events.clear();
    const auto dec = decoder_.feed(byte_span(scratch.data(), n), events);
    for (auto& ev : events) {
      dispatch(ev);
      if (closed_ || closing_) return;
    }
    if (dec) {
      close(net::ws::close_code_for(dec));
      lost(close_reason::transport_error);
      return;
    }
    if (n < scratch.size()) break;  // drained
  }
  wait_readable();
}

void websocket_transport::dispatch(net::ws::event& ev) {
  using net::ws::event_kind;
  switch (ev.kind) {
    case event_kind::ping:
      if (!closing_) send(control_message(net::ws::opcode::pong, ev.payload));
      return;
    case event_kind::pong:
      return;
    case event_kind::close:
      // Echo the peer's code, as RFC 6455 §5.5.1 asks, and end the connection.
      close(ev.close_code == 0 ? 1000 : ev.close_code);
      lost(close_reason::transport_close);
      return;
    case event_kind::text:
    case event_kind::binary:
      break;
  }
  auto s = session_.lock();
  if (!s) return;
  if (ev.kind == event_kind::binary) {
    const auto p = packet::bytes(std::move(ev.payload));
    probing_ ? s->on_probe_packet(*this, p) : s->on_packet(p);
    return;
  }
  auto p = decode_packet(ev.payload);
  if (!p) {
    // Node closes the session with "parse error", and the WebSocket with it.
    close(1000);
    lost(close_reason::parse_error);
    return;
  }
  probing_ ? s->on_probe_packet(*this, *p) : s->on_packet(*p);
}

void websocket_transport::send(message_ptr m) {
  if (closing_ || closed_) return;
  queued_bytes_ += m->ws_frame().size();
  queue_.push_back(std::move(m));
  schedule_flush();
}

void websocket_transport::schedule_flush() {
  if (writing_ || flush_scheduled_) return;
  flush_scheduled_ = true;
  // Deferred, so every frame queued during this loop turn goes out in the same write.
  if (home_.is_current() && (pending.shard == nullptr || pending.shard == &home_)) {
    pending.shard = &home_;
    pending.transports.push_back(shared_from_this());
    if (!pending.posted) {
      pending.posted = true;
      asio::post(home_.executor(), &websocket_transport::flush_batch);
    }
    return;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->flush_scheduled_ = false;
    self->flush();
  });
}

void websocket_transport::flush_batch() {
  // Transports scheduled while this batch is flushed form the next batch, with its own post.
  pending.draining.swap(pending.transports);
  pending.posted = false;
  pending.shard = nullptr;
  for (const auto& t : pending.draining) {
    t->flush_scheduled_ = false;
    t->flush();
  }
  pending.draining.clear();
}

void websocket_transport::flush() {
  if (writing_ || closed_) return;
  if (queue_.empty()) {
    if (closing_) linger();
    return;
  }
  // First one non-blocking gather write: on a healthy connection it takes everything, and no
  // asynchronous operation (with its handler and a copy of the buffer list) is needed.
  gather.clear();
  for (const auto& m : queue_)
    gather.emplace_back(m->ws_frame().data(), m->ws_frame().size());
  boost::system::error_code ec;
  std::size_t written = socket_.write_some(gather, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec = {};
    written = 0;
  }
  if (ec) {
    lost(close_reason::transport_error);
    finish();
    return;
  }
  if (written == queued_bytes_) {
    queue_.clear();
    queued_bytes_ = 0;
    if (queue_.capacity() > 64) std::vector<message_ptr>().swap(queue_);
    if (closing_) linger();
    return;
  }
  // The kernel buffer is full: the rest goes out asynchronously, starting where it stopped.
  writing_ = true;
  inflight_.swap(queue_);
  inflight_bytes_ = queued_bytes_ - written;
  queued_bytes_ = 0;
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(inflight_.size());
  std::size_t skip = written;
  for (const auto& m : inflight_) {
    const auto& frame = m->ws_frame();
    if (skip >= frame.size()) {
      skip -= frame.size();
      continue;
    }
    buffers.emplace_back(frame.data() + skip, frame.size() - skip);
    skip = 0;
  }
  asio::async_write(
      socket_, std::move(buffers),
      [self = shared_from_this()](const boost::system::error_code& write_error, std::size_t) {
        self->write_completed(write_error);
      });
}

void websocket_transport::write_completed(const boost::system::error_code& ec) {
  writing_ = false;
  inflight_.clear();
  inflight_bytes_ = 0;
  // A burst may have grown the vectors; an idle connection keeps none of it.
  if (inflight_.capacity() > 64) std::vector<message_ptr>().swap(inflight_);
  if (ec) {
    lost(close_reason::transport_error);
    finish();
    return;
  }
  flush();
}

void websocket_transport::close(std::uint16_t code, std::string_view reason) {
  if (closing_ || closed_) return;
  std::string frame;
  net::ws::encode_close_frame(frame, code, reason);
  queued_bytes_ += frame.size();
  queue_.push_back(message::control(std::move(frame)));
  closing_ = true;
  schedule_flush();
}

void websocket_transport::linger() {
  if (closed_ || lingering_) return;
  // Everything is written. Closing now, with the client's last frames still unread, would make
  // the kernel answer with a reset, and a reset makes the client's kernel drop what it has not yet
  // read of ours (the DISCONNECT before the close, say). So half-close, discard what the client
  // still sends until it closes too, and give up after a short while.
  lingering_ = true;
  boost::system::error_code ec;
  socket_.shutdown(net::tcp::socket::shutdown_send, ec);
  // The pending read keeps us alive, not the timer: a client that closes at once frees us at once.
  auto deadline = std::make_shared<asio::steady_timer>(socket_.get_executor(), linger_timeout);
  deadline->async_wait([weak = weak_from_this(), deadline](const boost::system::error_code&) {
    if (auto self = weak.lock()) self->finish();
  });
  if (!reading_) wait_readable();
}

void websocket_transport::discard_input() {
  auto scratch = home_.scratch();
  for (int i = 0; i < max_reads_per_turn; ++i) {
    boost::system::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec || n == 0) return finish();  // the client closed its side too
  }
  wait_readable();
}

void websocket_transport::abort() {
  finish();
}

void websocket_transport::finish() {
  if (closed_) return;
  closed_ = true;
  open_count_.fetch_sub(1, std::memory_order_relaxed);
  boost::system::error_code ec;
  socket_.shutdown(net::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  queue_.clear();
  queued_bytes_ = 0;
}

void websocket_transport::lost(close_reason reason) {
  // Tell the session once; it closes us (or already did).
  if (auto s = session_.lock()) {
    session_.reset();
    s->on_websocket_closed(*this, reason);
  }
  if (!closing_) finish();
}

}  // namespace ignis::engineio
