#include "net/ready_poller.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace {

using namespace std::chrono_literals;

struct socket_pair {
  int ours = -1;
  int theirs = -1;
  socket_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    ours = fds[0];
    theirs = fds[1];
  }
  ~socket_pair() {
    if (ours >= 0) ::close(ours);
    if (theirs >= 0) ::close(theirs);
  }
};

struct recording_handler final : ignis::net::ready_handler {
  int reads = 0;
  std::uint32_t last = 0;
  std::function<void()> then;
  void on_ready(std::uint32_t events) override {
    last = events;
    if (events & EPOLLIN) ++reads;
    if (then) then();
  }
};

template <class Done>
bool run_until(boost::asio::io_context& ctx, Done done) {
  const auto limit = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < limit) {
    ctx.run_for(5ms);
    ctx.restart();
  }
  return done();
}

void drain(int fd) {
  char buf[256];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

TEST(ReadyPoller, ReportsEachArrivalOnceAndKeepsTheRegistration) {
  boost::asio::io_context ctx;
  ignis::net::ready_poller poller(ctx);
  socket_pair p;
  auto h = std::make_shared<recording_handler>();
  boost::system::error_code ec;
  const auto token = poller.add(p.ours, h, ec);
  ASSERT_FALSE(ec);
  ASSERT_NE(token, 0u);
  EXPECT_EQ(poller.size(), 1u);

  // Writable at once (edge-triggered: reported when registered).
  ASSERT_TRUE(run_until(ctx, [&] { return (h->last & EPOLLOUT) != 0; }));
  EXPECT_EQ(h->reads, 0);

  h->then = [&] { drain(p.ours); };
  for (int round = 1; round <= 3; ++round) {
    ASSERT_EQ(::send(p.theirs, "x", 1, 0), 1);
    ASSERT_TRUE(run_until(ctx, [&] { return h->reads == round; })) << round;
  }
  // Nothing arrives: no event.
  ctx.run_for(20ms);
  EXPECT_EQ(h->reads, 3);
}

TEST(ReadyPoller, RemovedRegistrationGetsNoEventsAndItsSlotIsReused) {
  boost::asio::io_context ctx;
  ignis::net::ready_poller poller(ctx);
  socket_pair a;
  socket_pair b;
  auto first = std::make_shared<recording_handler>();
  auto second = std::make_shared<recording_handler>();
  boost::system::error_code ec;
  const auto t1 = poller.add(a.ours, first, ec);
  ASSERT_FALSE(ec);
  // Data is already there when the registration is dropped in the same turn as its event.
  ASSERT_EQ(::send(a.theirs, "x", 1, 0), 1);
  poller.remove(t1);
  EXPECT_EQ(poller.size(), 0u);
  const auto t2 = poller.add(b.ours, second, ec);
  ASSERT_FALSE(ec);
  EXPECT_NE(t1, t2);  // same slot, new generation
  EXPECT_EQ(t1 & 0xFFFFFFFFu, t2 & 0xFFFFFFFFu);
  poller.remove(t1);  // stale: changes nothing
  EXPECT_EQ(poller.size(), 1u);

  ASSERT_EQ(::send(b.theirs, "y", 1, 0), 1);
  ASSERT_TRUE(run_until(ctx, [&] { return second->reads == 1; }));
  EXPECT_EQ(first->reads, 0);       // a.ours is still open and readable, but no longer reported
  EXPECT_EQ(first.use_count(), 1);  // the poller let go of it
}

TEST(ReadyPoller, HandlerMayRemoveItselfAndBeFreedDuringItsCall) {
  boost::asio::io_context ctx;
  ignis::net::ready_poller poller(ctx);
  socket_pair p;
  auto h = std::make_shared<recording_handler>();
  std::weak_ptr<recording_handler> watch = h;
  boost::system::error_code ec;
  const auto token = poller.add(p.ours, h, ec);
  ASSERT_FALSE(ec);
  bool removed = false;
  auto* raw = h.get();
  h->then = [&] {
    if ((raw->last & EPOLLIN) == 0 || removed) return;
    removed = true;
    poller.remove(token);
  };
  h.reset();  // only the poller holds it now
  ASSERT_EQ(::send(p.theirs, "x", 1, 0), 1);
  ASSERT_TRUE(run_until(ctx, [&] { return removed; }));
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(poller.size(), 0u);
}

TEST(ReadyPoller, RefusesADescriptorEpollCannotWatch) {
  boost::asio::io_context ctx;
  ignis::net::ready_poller poller(ctx);
  boost::system::error_code ec;
  EXPECT_EQ(poller.add(-1, std::make_shared<recording_handler>(), ec), 0u);
  EXPECT_TRUE(ec);
  EXPECT_EQ(poller.size(), 0u);
}

}  // namespace
