#include "engineio/websocket_transport.hpp"

#include "net/socket_close.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>

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

// How long a closed connection waits for the client to close its side (within the close timeout).
constexpr auto linger_timeout = std::chrono::seconds(2);

std::uint32_t to_ms(std::chrono::milliseconds d) {
  return static_cast<std::uint32_t>(std::clamp<std::chrono::milliseconds::rep>(
      d.count(), 1, std::numeric_limits<std::uint32_t>::max()));
}

std::uint32_t clamp_to_u32(std::size_t n) noexcept {
  return static_cast<std::uint32_t>(
      std::min<std::size_t>(n, std::numeric_limits<std::uint32_t>::max()));
}

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

// Gather buffers of a write, reused: a flush allocates nothing in the common case.
thread_local std::vector<iovec> gather;
// At most this many frames per sendmsg (the kernel's IOV_MAX).
constexpr std::size_t max_gather = 1024;

}  // namespace

websocket_shared::websocket_shared(std::chrono::milliseconds close_timeout,
                                   std::chrono::milliseconds write_stall_timeout) noexcept
    : close_timeout_ms(to_ms(close_timeout)), write_stall_timeout_ms(to_ms(write_stall_timeout)) {}

websocket_transport::websocket_transport(net::shard& home, net::upgraded_connection&& conn,
                                         std::size_t max_message_size,
                                         std::shared_ptr<websocket_shared> shared)
    : home_(home),
      decoder_(net::ws::role::server, {.max_message_size = max_message_size}),
      shared_(std::move(shared)),
      slot_(std::move(conn.slot)) {
  boost::system::error_code ec;
  // Asio forgets the descriptor (it is non-blocking already); the shard's poller watches it.
  const int fd = conn.socket.release(ec);
  if (!ec) {
    fd_ = net::connection_fd(fd);
    const int one = 1;
    // A connection of the listener has it already; on a local pair (TLS) it fails harmlessly.
    if (!conn.no_delay) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  shared_->counters.open_transports.add();
}

websocket_transport::~websocket_transport() {
  if (!closed_) shared_->counters.open_transports.sub();
}

void websocket_transport::start(std::string handshake_response) {
  boost::system::error_code ec;
  if (fd_) token_ = home_.poller().add(fd_.get(), shared_from_this(), ec);
  if (!fd_ || ec) {
    // Nothing can be written or read: the session's ping timeout ends it.
    finish();
    return;
  }
  send(message::control(std::move(handshake_response)));
}

void websocket_transport::begin_reading(std::string leftover) {
  reading_ = true;
  if (!leftover.empty() && !decode(as_bytes(leftover))) return;
  if (read_pending_) {
    read_pending_ = false;
    read_now();
  }
}

void websocket_transport::bind(std::weak_ptr<session> s, bool probing) {
  session_ = std::move(s);
  probing_ = probing;
}

void websocket_transport::on_ready(std::uint32_t events) {
  if (closed_) return;
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0 && write_blocked_) {
    write_blocked_ = false;
    flush();
    if (closed_) return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) == 0) return;
  if (!reading_) {
    read_pending_ = true;  // frames ahead of begin_reading() wait for it
  } else if (!read_posted_) {
    read_now();
  }
}

void websocket_transport::read_now() {
  if (closed_) return;
  if (lingering_) {
    discard_input();
  } else if (!closing()) {
    // Once a close is queued nothing more is read until it is written (then linger() discards).
    on_readable();
  }
}

bool websocket_transport::decode(byte_span in) {
  std::vector<net::ws::event> events;
  const auto ec = decoder_.feed(in, events);
  for (auto& ev : events) {
    if (closed_ || closing()) return false;
    dispatch(ev);
  }
  if (closed_ || closing()) return false;
  if (ec) {
    send_close(control_.on_error(ec).code, close_mode::after_queued);
    lost(close_reason::transport_error);
    return false;
  }
  return true;
}

void websocket_transport::on_readable() {
  auto scratch = home_.scratch();
  for (int i = 0; i < max_reads_per_turn; ++i) {
    const ssize_t n = ::recv(fd_.get(), scratch.data(), scratch.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // drained: the next data is an edge
      if (errno == EINTR) continue;
      lost(close_reason::transport_error);
      return;
    }
    if (n == 0) {
      lost(close_reason::transport_close);
      return;
    }
    const auto size = static_cast<std::size_t>(n);
    if (!decode(byte_span(scratch.data(), size))) return;
    // Less than asked for: the socket had no more, and data arriving later raises a new edge.
    if (size < scratch.size()) return;
  }
  read_later();
}

void websocket_transport::read_later() {
  // A turn's worth was read and more may wait. Edge-triggered readiness will not report it again,
  // so the read goes on after the loop's other work, as a fair share.
  read_posted_ = true;
  asio::post(home_.executor(), [self = shared_from_this()] {
    self->read_posted_ = false;
    self->read_now();
  });
}

void websocket_transport::dispatch(net::ws::event& ev) {
  using kind = net::ws::control::action::kind;
  const auto action = control_.on_event(ev);
  switch (action.what) {
    case kind::none:
    case kind::ended:  // not read while closing: the linger discards input
      return;
    case kind::pong:
      send(control_message(net::ws::opcode::pong, ev.payload));
      return;
    case kind::close:
      send_close(action.code, close_mode::after_queued);
      lost(close_reason::transport_close);
      return;
    case kind::deliver:
      break;
  }
  auto s = session_.lock();
  if (!s) return;
  if (ev.kind == net::ws::event_kind::binary) {
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
  if (closing() || closed_) return;
  queued_bytes_ += m->ws_frame().size();
  queue_.push_back(std::move(m));
  schedule_flush();
}

void websocket_transport::schedule_flush() {
  if (write_blocked_ || flush_scheduled_) return;
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
  asio::post(home_.executor(), [self = shared_from_this()] {
    self->flush_scheduled_ = false;
    self->flush();
  });
}

void websocket_transport::flush_batch() {
  // Input that arrived while this turn's frames were queued is taken first, so that what it sends
  // goes out in the same writes: a client that sends each message in a segment of its own (a
  // broadcast each, say) would otherwise cost a write per recipient for every message.
  if (pending.shard) pending.shard->poller().poll_ready();
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
  if (write_blocked_ || closed_) return;
  while (!queue_.empty()) {
    // Non-blocking gather writes: on a healthy connection the first takes everything, with no
    // asynchronous operation and no copy of the buffer list.
    gather.clear();
    std::size_t skip = front_written_;
    for (const auto& m : queue_) {
      if (gather.size() == max_gather) break;
      const auto& frame = m->ws_frame();
      gather.push_back({const_cast<char*>(frame.data()) + skip, frame.size() - skip});
      skip = 0;
    }
    msghdr msg{};
    msg.msg_iov = gather.data();
    msg.msg_iovlen = gather.size();
    const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        // The kernel's buffer is full; EPOLLOUT says when it has room again.
        write_blocked();
        return;
      }
      lost(close_reason::transport_error);
      finish();
      return;
    }
    // A short write means a full buffer: the next attempt gets EAGAIN and waits for EPOLLOUT.
    consume(static_cast<std::size_t>(n));
    if (deadlines_) deadlines_->stall = net::clock::time_point::max();  // progress
  }
  // Everything is written: an idle connection keeps no queue storage (allocating it again for the
  // next frame costs far less than the write it goes with).
  std::vector<message_ptr>().swap(queue_);
  if (closing()) linger();
}

void websocket_transport::consume(std::size_t written) noexcept {
  queued_bytes_ -= written;
  std::size_t done = 0;
  written += front_written_;
  while (done < queue_.size() && written >= queue_[done]->ws_frame().size()) {
    written -= queue_[done]->ws_frame().size();
    ++done;
  }
  front_written_ = written;
  if (done == queue_.size()) {
    queue_.clear();
  } else if (done > 0) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(done));
  }
}

void websocket_transport::write_blocked() {
  write_blocked_ = true;
  auto& d = timing();
  if (d.stall != net::clock::time_point::max()) return;
  // Progress is judged at the deadline from the kernel's queue too: a slow reader drains it
  // without freeing enough for EPOLLOUT to be reported.
  d.unacked_at_block = clamp_to_u32(net::unacknowledged_bytes(fd_.get()));
  d.stall = home_.now() + std::chrono::milliseconds(shared_->write_stall_timeout_ms);
  arm(d.stall);
}

websocket_transport::deadlines& websocket_transport::timing() {
  if (!deadlines_) deadlines_ = std::make_unique<deadlines>();
  return *deadlines_;
}

void websocket_transport::arm(net::clock::time_point deadline) {
  auto& d = timing();
  if (deadline >= d.armed) return;  // an earlier entry is pending; it re-arms when it fires
  d.armed = deadline;
  home_.timers().schedule(deadline, weak_from_this());
}

void websocket_transport::on_timer(net::clock::time_point now) {
  // No deadlines: the entry is one that an earlier one made stale.
  if (closed_ || !deadlines_) return;
  auto& d = *deadlines_;
  if (now >= d.armed) d.armed = net::clock::time_point::max();
  auto self = shared_from_this();
  if (now >= d.close) {
    // The client did not take the close in time (or took it and did not close its side while we
    // lingered): reset, freeing what is queued here and in the kernel.
    if (!queue_.empty() || net::unacknowledged_bytes(fd_.get()) > 0)
      shared_->counters.close_timeouts.add();
    finish();
    return;
  }
  if (now >= d.stall) {
    const auto unacked = net::unacknowledged_bytes(fd_.get());
    if (!write_blocked_) {
      d.stall = net::clock::time_point::max();
    } else if (unacked < d.unacked_at_block) {
      // Slow, but the client is reading.
      d.unacked_at_block = clamp_to_u32(unacked);
      d.stall = now + std::chrono::milliseconds(shared_->write_stall_timeout_ms);
    } else {
      // Nothing taken for the whole timeout: a slow consumer, even if nothing new is sent to it.
      lost(close_reason::write_stall);
      finish();
      return;
    }
  }
  const auto next = std::min(d.close, d.stall);
  if (next != net::clock::time_point::max()) {
    arm(next);
  } else if (d.armed == net::clock::time_point::max()) {
    deadlines_.reset();  // nothing left to time
  }
}

void websocket_transport::close(std::uint16_t code, close_mode mode) {
  if (closed_) return;
  if (mode == close_mode::drop_queued) {
    // A frame partly written cannot be followed by a close frame, and a full kernel buffer would
    // not take one: then the connection is reset at once.
    if (front_written_ > 0 || write_blocked_) {
      finish();
      return;
    }
    queue_.clear();
    queued_bytes_ = 0;
    if (closing()) {
      // A close frame was queued already, and dropped with the rest: the connection ends now.
      finish();
      return;
    }
  }
  if (!control_.close()) return;
  send_close(code, mode);
}

void websocket_transport::send_close(std::uint16_t code, close_mode mode) {
  std::string frame;
  net::ws::encode_close_frame(frame, code, {});
  queued_bytes_ += frame.size();
  queue_.push_back(message::control(std::move(frame)));
  auto& d = timing();
  d.close = home_.now() + std::chrono::milliseconds(shared_->close_timeout_ms);
  arm(d.close);
  if (mode == close_mode::drop_queued) {
    // Written now or never.
    flush();
    if (!closed_ && !queue_.empty()) finish();
    return;
  }
  schedule_flush();
}

void websocket_transport::linger() {
  if (closed_ || lingering_) return;
  // Everything is written. Closing now, with the client's last frames still unread, would make
  // the kernel answer with a reset, and a reset makes the client's kernel drop what it has not yet
  // read of ours (the DISCONNECT before the close, say). So half-close, discard what the client
  // still sends until it closes too, and give up after a short while (within the close timeout).
  lingering_ = true;
  ::shutdown(fd_.get(), SHUT_WR);
  auto& d = timing();
  d.close = std::min(d.close, home_.now() + linger_timeout);
  arm(d.close);
  // Input that arrived while the close was being written raised its edge already.
  if (!read_posted_) discard_input();
}

void websocket_transport::discard_input() {
  auto scratch = home_.scratch();
  for (int i = 0; i < max_reads_per_turn; ++i) {
    const ssize_t n = ::recv(fd_.get(), scratch.data(), scratch.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // until the next edge
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return finish();  // the client closed its side too (or the connection failed)
  }
  read_later();
}

void websocket_transport::finish() {
  if (closed_) return;
  // Leaving the poller may drop the last reference to us.
  auto self = shared_from_this();
  closed_ = true;
  shared_->counters.open_transports.sub();
  // A client that did not take everything is reset: the kernel then drops our bytes instead of
  // keeping an orphaned socket that retries them for minutes.
  fd_.reset();
  slot_.release();
  std::vector<message_ptr>().swap(queue_);
  queued_bytes_ = 0;
  front_written_ = 0;
  deadlines_.reset();
  if (token_ != 0) home_.poller().remove(std::exchange(token_, 0));
}

void websocket_transport::lost(close_reason reason) {
  // Tell the session once; it closes us (or already did).
  if (auto s = session_.lock()) {
    session_.reset();
    s->on_websocket_closed(*this, reason);
  }
  if (!closing()) finish();
}
}  // namespace ignis::engineio
