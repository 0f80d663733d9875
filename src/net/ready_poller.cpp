#include "net/ready_poller.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <stdexcept>

namespace ignis::net {

namespace {

// Events taken per epoll_wait, and batches per wake-up before the loop lets other work run.
constexpr int batch_size = 256;
constexpr int batches_per_turn = 4;

int open_epoll() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::runtime_error("ready_poller: epoll_create1 failed");
  return fd;
}

}  // namespace

ready_poller::ready_poller(boost::asio::io_context& ctx) : epfd_(open_epoll()), watch_(ctx, epfd_) {
  wait();
}

ready_poller::~ready_poller() {
  // watch_ owns and closes epfd_. Handlers are released here, on the shard's teardown.
  boost::system::error_code ec;
  watch_.close(ec);
}

ready_poller::token ready_poller::add(int fd, std::shared_ptr<ready_handler> handler,
                                      boost::system::error_code& ec) {
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  auto& s = slots_[index];
  ++s.generation;
  if (s.generation == 0) ++s.generation;  // token 0 means "none"
  const token t = (token{s.generation} << 32) | index;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = t;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ec.assign(errno, boost::system::system_category());
    free_.push_back(index);
    return 0;
  }
  s.handler = std::move(handler);
  return t;
}

void ready_poller::remove(token t) noexcept {
  const auto index = static_cast<std::uint32_t>(t & 0xFFFFFFFFu);
  if (t == 0 || index >= slots_.size()) return;
  auto& s = slots_[index];
  if (s.generation != static_cast<std::uint32_t>(t >> 32) || !s.handler) return;
  // Moved out first: the handler's destructor may call back into the poller.
  const auto released = std::move(s.handler);
  free_.push_back(index);
}

void ready_poller::wait() {
  watch_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                    [this](const boost::system::error_code& ec) {
                      if (ec) return;  // closed: the shard is being torn down
                      drain();
                    });
}

void ready_poller::drain() {
  run_ready(batches_per_turn);
  // Events left over (more than the batches above) keep the set readable: the re-armed wait
  // completes at once, after the loop's other work.
  wait();
}

void ready_poller::poll_ready() {
  // One batch: the writes it precedes wait for it.
  run_ready(1);
}

void ready_poller::run_ready(int rounds) {
  std::array<epoll_event, batch_size> events;
  for (int round = 0; round < rounds; ++round) {
    const int n = ::epoll_wait(epfd_, events.data(), batch_size, 0);
    if (n <= 0) break;  // nothing more (or EINTR: the next wake-up takes it)
    for (int i = 0; i < n; ++i) {
      const token t = events[static_cast<std::size_t>(i)].data.u64;
      const auto index = static_cast<std::uint32_t>(t & 0xFFFFFFFFu);
      if (index >= slots_.size()) continue;
      const auto& s = slots_[index];
      if (s.generation != static_cast<std::uint32_t>(t >> 32) || !s.handler) continue;
      // A copy: the handler stays alive through the call even if it removes itself.
      const auto handler = s.handler;
      handler->on_ready(events[static_cast<std::size_t>(i)].events);
    }
    if (n < batch_size) break;
  }
}

}  // namespace ignis::net
