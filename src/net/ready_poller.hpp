#pragma once

// Readiness of a shard's WebSocket connections through an epoll set of the shard's own, which the
// shard's event loop watches as one descriptor. A connection registers once (edge-triggered, for
// reading and writing) and stays registered until it closes, so waiting for its next message costs
// no system call; an Asio wait re-arms its descriptor with an epoll_ctl every time (measured in
// docs/performance.md, "Profile of an echo at window 1, and the readiness poller").
//
// Thread safety: a poller belongs to one shard and is used from that shard's thread only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace ignis::net {

/// What a registered descriptor reports to.
class ready_handler {
 public:
  /// Called on the shard's thread with the epoll events that occurred (EPOLLIN, EPOLLOUT,
  /// EPOLLRDHUP, EPOLLERR, EPOLLHUP). Edge-triggered: an event is reported once per change, so the
  /// handler reads until the socket has no more (or schedules itself to go on).
  virtual void on_ready(std::uint32_t events) = 0;

 protected:
  ~ready_handler() = default;
};

class ready_poller {
 public:
  using token = std::uint64_t;

  explicit ready_poller(boost::asio::io_context& ctx);
  ~ready_poller();
  ready_poller(const ready_poller&) = delete;
  ready_poller& operator=(const ready_poller&) = delete;

  /// Registers `fd` for input and output, edge-triggered. The poller keeps `handler` alive until
  /// remove(). On failure returns 0 and sets `ec`.
  token add(int fd, std::shared_ptr<ready_handler> handler, boost::system::error_code& ec);
  /// Forgets a registration: events already collected for it are dropped. The caller closes the
  /// descriptor next, which takes it out of the epoll set (no epoll_ctl needed). Handlers may
  /// remove themselves from on_ready().
  void remove(token t) noexcept;
  /// Registrations held.
  std::size_t size() const noexcept { return slots_.size() - free_.size(); }
  /// Runs the handlers of the descriptors ready now, without blocking; the loop's own wait on the
  /// set stays as it is. For a caller about to write, so that input which arrived meanwhile is
  /// taken first and what it sends joins the same writes.
  void poll_ready();

 private:
  struct slot {
    std::shared_ptr<ready_handler> handler;
    std::uint32_t generation = 0;  // distinguishes a reused slot from its previous owner
  };
  void wait();
  void drain();
  void run_ready(int rounds);

  int epfd_ = -1;
  boost::asio::posix::stream_descriptor watch_;
  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_;
};

}  // namespace ignis::net
