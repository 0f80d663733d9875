#include <ignis/net/runtime.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

namespace {

using ignis::net::clock;
using namespace std::chrono_literals;

struct counting_client final : ignis::net::timer_client {
  int fired = 0;
  void on_timer(clock::time_point) override { ++fired; }
};

// Runs the loop until `done()` or a bound that only a failure reaches.
template <class Done>
bool run_until(boost::asio::io_context& ctx, Done done) {
  const auto limit = clock::now() + 5s;
  while (!done() && clock::now() < limit) {
    ctx.run_for(10ms);
    ctx.restart();
  }
  return done();
}

TEST(TimerHeap, FiresLiveClientsInDeadlineOrderAndSkipsGoneOnes) {
  boost::asio::io_context ctx;
  ignis::net::timer_heap heap(ctx);
  auto early = std::make_shared<counting_client>();
  auto gone = std::make_shared<counting_client>();
  auto late = std::make_shared<counting_client>();
  const auto now = clock::now();
  heap.schedule(now + 30ms, late);
  heap.schedule(now + 10ms, early);
  heap.schedule(now + 20ms, gone);
  std::weak_ptr<counting_client> gone_watch = gone;
  gone.reset();
  ASSERT_TRUE(run_until(ctx, [&] { return late->fired == 1; }));
  EXPECT_EQ(early->fired, 1);
  EXPECT_TRUE(gone_watch.expired());
  EXPECT_EQ(heap.size(), 0u);
}

TEST(TimerHeap, ALargeHeapDropsTheEntriesOfGoneClientsBeforeTheirTime) {
  boost::asio::io_context ctx;
  ignis::net::timer_heap heap(ctx, 20ms);
  auto live = std::make_shared<counting_client>();
  const auto now = clock::now();
  {
    std::vector<std::shared_ptr<counting_client>> closed;
    for (int i = 0; i < 3000; ++i) {
      closed.push_back(std::make_shared<counting_client>());
      heap.schedule(now + 1h, closed.back());
    }
  }
  heap.schedule(now + 1h, live);
  heap.schedule(now + 5ms, live);  // the first firing starts the sweeps
  ASSERT_EQ(heap.size(), 3002u);
  ASSERT_TRUE(run_until(ctx, [&] { return heap.size() == 1; })) << heap.size() << " entries left";
  EXPECT_EQ(live->fired, 1);
}

TEST(TimerHeap, ASmallHeapIsNotSwept) {
  boost::asio::io_context ctx;
  ignis::net::timer_heap heap(ctx, 1ms);
  auto live = std::make_shared<counting_client>();
  const auto now = clock::now();
  for (int i = 0; i < 100; ++i)
    heap.schedule(now + 1h, std::make_shared<counting_client>());
  heap.schedule(now + 5ms, live);
  ASSERT_TRUE(run_until(ctx, [&] { return live->fired == 1; }));
  EXPECT_EQ(heap.size(), 100u);  // left for their own time: a sweep would cost more than it frees
}

}  // namespace
