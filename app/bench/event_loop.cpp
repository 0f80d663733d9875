#include "event_loop.hpp"

#include "clock.hpp"
#include "frames.hpp"
#include "polling_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace ignis::bench {
namespace {

enum class conn_state : std::uint8_t {
  idle,          // not opened yet
  tcp_connect,   // non-blocking connect() in progress
  http_upgrade,  // waiting for "101 Switching Protocols"
  eio_open,      // waiting for the Engine.IO open packet
  sio_connect,   // "40" sent, waiting for the namespace's CONNECT
  authenticating,
  ready,
  polling,  // the HTTP long-polling handshake (polling_client)
  dead,
};

struct connection {
  int fd = -1;
  conn_state state = conn_state::idle;
  bool sender = false;
  bool dirty = false;     // queued output, flushed at the end of the loop turn
  bool want_out = false;  // EPOLLOUT registered (the kernel buffer was full)
  bool counted_ready = false;
  unsigned target = 0;     // index into options::targets
  std::uint32_t acks = 0;  // echo: acknowledgement ids handed out
  std::uint64_t started_ns = 0;
  std::string in;   // an unfinished frame or HTTP head
  std::string out;  // bytes not written yet
  polling_client poll;
};

// The largest frame we accept from a server: the biggest payload a scenario sends, with room.
constexpr std::size_t max_frame = 16 * 1024 * 1024;
constexpr std::uint64_t stall_after_ns = 5'000'000'000ULL;

class event_loop {
 public:
  explicit event_loop(const loop_config& c)
      : cfg_(c),
        opts_(*c.opts),
        stats_(c.shared->loops[c.index]),
        echo_("echo", opts_.payload, opts_.ack),
        broadcast_("broadcast", opts_.payload, false),
        scratch_(256 * 1024) {}

  void run();

 private:
  bool fanout() const noexcept {
    return opts_.scenario == scenario::fanout || opts_.scenario == scenario::cluster;
  }
  bool fixed_rate_echo() const noexcept {
    return opts_.scenario == scenario::echo && opts_.rate > 0;
  }
  phase current() const noexcept { return cfg_.shared->current.load(std::memory_order_relaxed); }
  // The receivers a broadcast must reach: those that were ready when sending began.
  std::uint32_t receivers() const noexcept {
    return cfg_.shared->receivers.load(std::memory_order_relaxed);
  }

  void open_due(std::uint64_t now);
  void open(std::size_t i);
  void fail(connection& c);
  void on_event(std::size_t i, std::uint32_t events);
  void on_readable(connection& c);
  std::size_t on_bytes(connection& c, const char* data, std::size_t size);
  void on_message(connection& c, std::string_view message);
  void on_stamped(connection& c, std::string_view message);
  void become_ready(connection& c);
  void send_text(connection& c, std::string_view payload);
  void mark_dirty(connection& c);
  void flush(connection& c);
  void drive_sender(std::uint64_t now);
  std::uint64_t slot_time(std::uint64_t k) const noexcept;
  std::uint64_t drive_schedule(std::uint64_t now, phase ph);
  int wait(std::vector<epoll_event>& events, std::uint64_t next_due, int timeout_ms);
  void set_events(connection& c, std::uint32_t events);

  loop_config cfg_;
  const options& opts_;
  loop_stats& stats_;
  message_template echo_;
  message_template broadcast_;
  std::vector<char> scratch_;
  int epoll_ = -1;
  std::vector<connection> conns_;
  std::vector<std::size_t> dirty_;
  std::size_t next_to_open_ = 0;
  unsigned pending_ = 0;
  std::uint64_t opening_started_ns_ = 0;
  // The broadcasting connection (fanout).
  std::size_t sender_ = SIZE_MAX;
  std::uint64_t broadcasts_sent_ = 0;
  std::uint64_t broadcasts_done_ = 0;
  std::uint64_t sending_started_ns_ = 0;
  std::uint64_t oldest_sent_ns_ = 0;
  // Fixed-rate echo: slots of this loop's timetable already sent (or skipped).
  std::uint64_t slots_done_ = 0;
};

void event_loop::run() {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  // This loop's share of the connections: every count-th, starting at its index. In fanout the
  // sender comes first, so that it is connected when the receivers are.
  if (cfg_.owns_sender) {
    conns_.emplace_back();
    conns_.back().sender = true;
    conns_.back().target = 0;
    sender_ = 0;
  }
  for (unsigned i = cfg_.index; i < opts_.connections; i += cfg_.count) {
    conns_.emplace_back();
    conns_.back().target = static_cast<unsigned>(i % opts_.targets.size());
  }
  if (cfg_.wake_fd >= 0 && cfg_.owns_sender) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = SIZE_MAX;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, cfg_.wake_fd, &ev);
  }
  // The default timer slack (50 µs) would delay every timed send of the fixed-rate echo by that
  // much; the timetable wants its wake-ups on time.
  if (fixed_rate_echo()) ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  opening_started_ns_ = now_ns();
  std::vector<epoll_event> events(1024);
  for (;;) {
    const phase ph = current();
    if (ph == phase::stop) break;
    const std::uint64_t now = now_ns();
    open_due(now);
    if (sender_ != SIZE_MAX && ph != phase::connecting) drive_sender(now);
    const std::uint64_t next_due =
        fixed_rate_echo() && ph != phase::connecting ? drive_schedule(now, ph) : 0;
    for (const std::size_t i : dirty_)
      flush(conns_[i]);
    dirty_.clear();
    // Short timeouts only while pacing connections or sending at a fixed rate; otherwise the
    // loop sleeps until traffic (or the periodic look at the phase).
    const bool pacing = next_to_open_ < conns_.size() && opts_.connect_rate > 0;
    const bool rate_sender = sender_ != SIZE_MAX && opts_.rate > 0 && ph != phase::connecting;
    const int timeout = pacing || rate_sender ? 1 : 20;
    const int n = wait(events, next_due, timeout);
    for (int k = 0; k < n; ++k) {
      if (events[k].data.u64 == SIZE_MAX) {
        std::uint64_t v;
        [[maybe_unused]] const auto r = ::read(cfg_.wake_fd, &v, sizeof v);
        continue;
      }
      on_event(static_cast<std::size_t>(events[k].data.u64), events[k].events);
    }
  }
  for (auto& c : conns_) {
    if (c.fd >= 0) ::close(c.fd);
  }
  ::close(epoll_);
}

// Waits for traffic; with a next slot of the timetable, no later than that slot (to the
// nanosecond: a millisecond timeout would send in 1 ms bursts and charge the wait to the server).
int event_loop::wait(std::vector<epoll_event>& events, std::uint64_t next_due, int timeout_ms) {
  const int capacity = static_cast<int>(events.size());
  if (next_due == 0) return ::epoll_wait(epoll_, events.data(), capacity, timeout_ms);
  const std::uint64_t now = now_ns();
  const std::uint64_t ns = next_due > now ? std::min<std::uint64_t>(next_due - now, 20'000'000) : 0;
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000ULL);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000ULL);
  return ::epoll_pwait2(epoll_, events.data(), capacity, &ts, nullptr);
}

// Slot k of this loop's timetable. Connection g (0 … N-1 over every loop) sends at
// start + (m + g/N)·N/R for m = 0, 1, …: each connection every N/R seconds, the connections
// evenly interleaved, R messages per second in all. This loop holds g = index + t·count, so its
// slots come in the order (m, t), which keeps the times increasing.
std::uint64_t event_loop::slot_time(std::uint64_t k) const noexcept {
  const std::uint64_t local = conns_.size();
  const std::uint64_t m = k / local;
  const std::uint64_t g = cfg_.index + (k % local) * cfg_.count;
  const double at =
      (static_cast<double>(m) * opts_.connections + static_cast<double>(g)) * 1e9 / opts_.rate;
  return cfg_.shared->schedule_start_ns.load(std::memory_order_relaxed) +
         static_cast<std::uint64_t>(at);
}

// Open loop: every slot that is due gets its message now, whatever is still in flight, stamped
// with the slot's time rather than the send time, so that a late send (the generator or the
// server fell behind) counts as latency instead of silently thinning the load. Returns the time
// of the next slot.
std::uint64_t event_loop::drive_schedule(std::uint64_t now, phase ph) {
  if (conns_.empty() || cfg_.shared->schedule_start_ns.load(std::memory_order_relaxed) == 0)
    return 0;
  std::uint64_t due = slot_time(slots_done_);
  while (due <= now) {
    connection& c = conns_[slots_done_ % conns_.size()];
    // A connection that never got ready (or was closed) loses its slots; the RESULT line's
    // ready and closed counts say so.
    if (c.state == conn_state::ready) {
      echo_.append(c.out, due, slots_done_, c.acks++);
      stats_.sent.fetch_add(1, std::memory_order_relaxed);
      if (ph == phase::measure) stats_.send_lag.record(now - due);
      mark_dirty(c);
    }
    due = slot_time(++slots_done_);
  }
  return due;
}

void event_loop::open_due(std::uint64_t now) {
  std::size_t due = conns_.size();
  if (opts_.connect_rate > 0) {
    const double per_loop = opts_.connect_rate / cfg_.count;
    const double elapsed = static_cast<double>(now - opening_started_ns_) / 1e9;
    due = std::min(due, static_cast<std::size_t>(elapsed * per_loop) + 1);
  }
  while (next_to_open_ < due && pending_ < opts_.max_pending)
    open(next_to_open_++);
}

void event_loop::open(std::size_t i) {
  connection& c = conns_[i];
  const target& t = opts_.targets[c.target];
  c.started_ns = now_ns();
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return fail(c);
  const int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!opts_.sources.empty()) {
    // Several source addresses: each has its own ~28k ephemeral ports towards one server port.
    ::setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, opts_.sources[i % opts_.sources.size()].c_str(), &local.sin_addr);
    if (::bind(c.fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return fail(c);
  }
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(t.port);
  ::inet_pton(AF_INET, t.host.c_str(), &remote.sin_addr);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 &&
      errno != EINPROGRESS)
    return fail(c);
  c.state = conn_state::tcp_connect;
  ++pending_;
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = i;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
}

void event_loop::fail(connection& c) {
  if (c.counted_ready) {
    stats_.closed.fetch_add(1, std::memory_order_relaxed);
  } else if (c.state != conn_state::dead) {
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    auto& stage = c.state == conn_state::idle || c.state == conn_state::tcp_connect
                      ? stats_.failed_connect
                  : c.state == conn_state::http_upgrade ? stats_.failed_upgrade
                                                        : stats_.failed_handshake;
    stage.fetch_add(1, std::memory_order_relaxed);
    if (c.state != conn_state::idle && pending_ > 0) --pending_;
  }
  if (c.fd >= 0) ::close(c.fd);
  c.fd = -1;
  c.state = conn_state::dead;
  c.out.clear();
  c.in.clear();
}

void event_loop::set_events(connection& c, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = static_cast<std::size_t>(&c - conns_.data());
  ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

void event_loop::on_event(std::size_t i, std::uint32_t events) {
  connection& c = conns_[i];
  if (c.state == conn_state::dead) return;
  if (c.state == conn_state::tcp_connect) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) return fail(c);
    set_events(c, EPOLLIN);
    const target& t = opts_.targets[c.target];
    if (opts_.transport == transport::polling && !c.sender) {
      c.state = conn_state::polling;
      c.poll.start(t, opts_.authenticate, c.out);
    } else {
      c.state = conn_state::http_upgrade;
      c.out = "GET " + t.path + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + t.host + ":" +
              std::to_string(t.port) +
              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: aWduaXMtYmVuY2gtMDAwMA==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }
    mark_dirty(c);
    return;
  }
  if (events & EPOLLIN) {
    on_readable(c);
    if (c.state == conn_state::dead) return;
  } else if (events & (EPOLLERR | EPOLLHUP)) {
    return fail(c);
  }
  if ((events & EPOLLOUT) && c.want_out) flush(c);
}

void event_loop::on_readable(connection& c) {
  const ssize_t r = ::read(c.fd, scratch_.data(), scratch_.size());
  if (r == 0) return fail(c);
  if (r < 0) {
    if (errno != EAGAIN && errno != EINTR) fail(c);
    return;
  }
  const auto n = static_cast<std::size_t>(r);
  if (c.in.empty()) {
    const std::size_t used = on_bytes(c, scratch_.data(), n);
    if (c.state != conn_state::dead && used < n) c.in.assign(scratch_.data() + used, n - used);
  } else {
    c.in.append(scratch_.data(), n);
    const std::size_t used = on_bytes(c, c.in.data(), c.in.size());
    if (c.state != conn_state::dead) c.in.erase(0, used);
  }
}

// Consumes what it can of `data`; returns how much.
std::size_t event_loop::on_bytes(connection& c, const char* data, std::size_t size) {
  std::size_t used = 0;
  if (c.state == conn_state::polling) {
    const auto step = c.poll.on_bytes(std::string_view(data, size), c.out);
    if (step.failed) {
      fail(c);
      return size;
    }
    if (!c.out.empty()) mark_dirty(c);
    if (step.ready && !c.counted_ready) become_ready(c);
    return step.used;
  }
  if (c.state == conn_state::http_upgrade) {
    const std::string_view head(data, size);
    const auto end = head.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (size > 8192) fail(c);
      return c.state == conn_state::dead ? size : 0;
    }
    if (!head.starts_with("HTTP/1.1 101")) {
      fail(c);
      return size;
    }
    c.state = conn_state::eio_open;
    used = end + 4;
  }
  const std::size_t consumed =
      read_frames(data + used, size - used, max_frame, [&](frame_opcode op, std::string_view p) {
        if (c.state == conn_state::dead) return;
        if (op == frame_opcode::text) {
          on_message(c, p);
        } else if (op == frame_opcode::close) {
          fail(c);
        }
      });
  if (consumed == SIZE_MAX) {
    fail(c);
    return size;
  }
  return c.state == conn_state::dead ? size : used + consumed;
}

void event_loop::on_message(connection& c, std::string_view m) {
  if (m == "2") return send_text(c, "3");  // Engine.IO heartbeat
  switch (c.state) {
    case conn_state::eio_open:
      if (!m.starts_with("0{")) return fail(c);
      c.state = conn_state::sio_connect;
      return send_text(c, "40");
    case conn_state::sio_connect:
      if (!m.starts_with("40")) return fail(c);
      if (opts_.authenticate) {
        c.state = conn_state::authenticating;
        return send_text(c, R"(42["authenticate",{"token":"bench"}])");
      }
      return become_ready(c);
    case conn_state::authenticating:
      if (m.starts_with(R"(42["authenticated")")) become_ready(c);
      return;
    case conn_state::ready:
      if (m.starts_with("42") || m.starts_with("43")) return on_stamped(c, m);
      if (m.starts_with("41") || m.starts_with("1")) fail(c);  // disconnected by the server
      return;
    default:
      return;
  }
}

void event_loop::become_ready(connection& c) {
  if (c.state != conn_state::polling) c.state = conn_state::ready;
  c.counted_ready = true;
  if (pending_ > 0) --pending_;
  stats_.connect_latency.record(now_ns() - c.started_ns);
  stats_.ready.fetch_add(1, std::memory_order_relaxed);
  if (!c.sender && opts_.scenario != scenario::echo)
    stats_.ready_by_target[c.target].fetch_add(1, std::memory_order_relaxed);
  if (opts_.scenario == scenario::echo && !fixed_rate_echo()) {
    const std::uint64_t now = now_ns();
    for (unsigned k = 0; k < opts_.window; ++k)
      echo_.append(c.out, now, 0, c.acks++);
    stats_.sent.fetch_add(opts_.window, std::memory_order_relaxed);
    mark_dirty(c);
  }
}

void event_loop::on_stamped(connection& c, std::string_view m) {
  if (c.sender) return;  // its own copy of a broadcast
  stamp s;
  if (!find_stamp(m, s)) return;
  const std::uint64_t now = now_ns();
  const phase ph = current();
  if (ph == phase::measure && now >= s.timestamp_ns) stats_.latency.record(now - s.timestamp_ns);
  stats_.received.fetch_add(1, std::memory_order_relaxed);
  if (opts_.scenario == scenario::echo) {
    if (ph == phase::stop || fixed_rate_echo()) return;
    echo_.append(c.out, now, 0, c.acks++);
    stats_.sent.fetch_add(1, std::memory_order_relaxed);
    return mark_dirty(c);
  }
  stats_.received_by_target[c.target].fetch_add(1, std::memory_order_relaxed);
  if (opts_.rate > 0) return;
  // Closed loop: the last receiver of broadcast s wakes the sender.
  auto& slot = cfg_.shared->deliveries[s.seq % broadcast_ring];
  if (slot.fetch_add(1, std::memory_order_acq_rel) + 1 == receivers()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto r = ::write(cfg_.wake_fd, &one, sizeof one);
  }
}

void event_loop::drive_sender(std::uint64_t now) {
  connection& c = conns_[sender_];
  if (c.state != conn_state::ready) return;
  if (sending_started_ns_ == 0) sending_started_ns_ = now;
  std::uint64_t allowed;
  if (opts_.rate > 0) {
    const double elapsed = static_cast<double>(now - sending_started_ns_) / 1e9;
    allowed = static_cast<std::uint64_t>(elapsed * opts_.rate) + 1;
  } else {
    while (broadcasts_done_ < broadcasts_sent_) {
      auto& slot = cfg_.shared->deliveries[broadcasts_done_ % broadcast_ring];
      if (slot.load(std::memory_order_acquire) >= receivers()) {
        stats_.completed.fetch_add(1, std::memory_order_relaxed);
        ++broadcasts_done_;
        oldest_sent_ns_ = now;
      } else if (now - oldest_sent_ns_ > stall_after_ns) {
        // A receiver went away or a delivery was lost: give up on this one, say so.
        stats_.stalls.fetch_add(1, std::memory_order_relaxed);
        ++broadcasts_done_;
        oldest_sent_ns_ = now;
      } else {
        break;
      }
    }
    allowed = broadcasts_done_ + opts_.window;
  }
  if (broadcasts_sent_ >= allowed) return;
  if (broadcasts_done_ == broadcasts_sent_) oldest_sent_ns_ = now;
  for (; broadcasts_sent_ < allowed; ++broadcasts_sent_) {
    cfg_.shared->deliveries[broadcasts_sent_ % broadcast_ring].store(0, std::memory_order_release);
    broadcast_.append(c.out, now, broadcasts_sent_, 0);
    stats_.sent.fetch_add(1, std::memory_order_relaxed);
  }
  mark_dirty(c);
}

void event_loop::send_text(connection& c, std::string_view payload) {
  append_text_frame(c.out, payload);
  mark_dirty(c);
}

void event_loop::mark_dirty(connection& c) {
  if (c.dirty || c.want_out) return;
  c.dirty = true;
  dirty_.push_back(static_cast<std::size_t>(&c - conns_.data()));
}

void event_loop::flush(connection& c) {
  c.dirty = false;
  if (c.state == conn_state::dead || c.out.empty()) return;
  const ssize_t w = ::write(c.fd, c.out.data(), c.out.size());
  if (w < 0 && errno != EAGAIN && errno != EINTR) return fail(c);
  if (w > 0) c.out.erase(0, static_cast<std::size_t>(w));
  const bool blocked = !c.out.empty();
  if (blocked != c.want_out) {
    c.want_out = blocked;
    set_events(c, blocked ? EPOLLIN | EPOLLOUT : EPOLLIN);
  }
}

}  // namespace

void run_event_loop(const loop_config& config) {
  event_loop loop(config);
  loop.run();
}

}  // namespace ignis::bench
