#include <ignis/net/timer_wheel.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
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

TEST(TimerWheel, FiresLiveWeakClientsInDeadlineOrderAndSkipsGoneOnes) {
  boost::asio::io_context ctx;
  ignis::net::timer_wheel wheel(ctx);
  auto early = std::make_shared<counting_client>();
  auto gone = std::make_shared<counting_client>();
  auto late = std::make_shared<counting_client>();
  const auto now = clock::now();
  wheel.schedule(now + 30ms, late);
  wheel.schedule(now + 10ms, early);
  wheel.schedule(now + 20ms, gone);
  std::weak_ptr<counting_client> gone_watch = gone;
  gone.reset();
  ASSERT_TRUE(run_until(ctx, [&] { return late->fired == 1; }));
  EXPECT_EQ(early->fired, 1);
  EXPECT_TRUE(gone_watch.expired());
  EXPECT_EQ(wheel.weak_entries(), 0u);
}

TEST(TimerWheel, ManyWeakEntriesOfGoneClientsAreDroppedBeforeTheirTime) {
  boost::asio::io_context ctx;
  ignis::net::timer_wheel wheel(ctx, 20ms);
  auto live = std::make_shared<counting_client>();
  const auto now = clock::now();
  {
    std::vector<std::shared_ptr<counting_client>> closed;
    for (int i = 0; i < 3000; ++i) {
      closed.push_back(std::make_shared<counting_client>());
      wheel.schedule(now + 1h, closed.back());
    }
  }
  wheel.schedule(now + 1h, live);
  wheel.schedule(now + 5ms, live);  // the first firing starts the sweeps
  ASSERT_EQ(wheel.weak_entries(), 3002u);
  ASSERT_TRUE(run_until(ctx, [&] { return wheel.weak_entries() == 1; }))
      << wheel.weak_entries() << " entries left";
  EXPECT_EQ(live->fired, 1);
}

TEST(TimerWheel, AFewWeakEntriesAreNotSwept) {
  boost::asio::io_context ctx;
  ignis::net::timer_wheel wheel(ctx, 1ms);
  auto live = std::make_shared<counting_client>();
  const auto now = clock::now();
  for (int i = 0; i < 100; ++i)
    wheel.schedule(now + 1h, std::make_shared<counting_client>());
  wheel.schedule(now + 5ms, live);
  ASSERT_TRUE(run_until(ctx, [&] { return live->fired == 1; }));
  EXPECT_EQ(wheel.weak_entries(),
            100u);  // left for their own time: a sweep would cost more than it frees
}

// A deadline embedded in its owner, recording when it ran.
struct hook_client final : ignis::net::timer_hook {
  int fired = 0;
  clock::time_point fired_at{};
  std::function<void(clock::time_point)> action;
  void on_timer(clock::time_point now) override {
    ++fired;
    fired_at = now;
    if (action) action(now);
  }
};

// A wheel on a manual clock: deadlines run only in run_due(), at the clock's exact time.
struct manual_wheel {
  boost::asio::io_context ctx;
  ignis::net::manual_clock time;
  ignis::net::timer_wheel wheel{ctx};
  manual_wheel() { wheel.use_manual_clock(&time); }
  clock::time_point now() const { return time.now(); }
  void advance(clock::duration d) {
    time.advance(d);
    wheel.run_due();
  }
};

TEST(TimerWheel, AHookFiresAtItsExactTimeNotAtItsMillisecond) {
  manual_wheel m;
  hook_client h;
  const auto when = m.now() + 10ms + 500us;
  m.wheel.schedule(h, when);
  EXPECT_TRUE(h.linked());
  EXPECT_EQ(h.scheduled_for(), when);
  m.advance(10ms + 499us);
  EXPECT_EQ(h.fired, 0);
  m.advance(1us);
  EXPECT_EQ(h.fired, 1);
  EXPECT_EQ(h.fired_at, when);
  EXPECT_FALSE(h.linked());
  EXPECT_EQ(h.scheduled_for(), clock::time_point::max());
  m.advance(1h);
  EXPECT_EQ(h.fired, 1);
}

TEST(TimerWheel, DeadlinesOnEveryLevelAndPastTheSpanFireNoEarlierThanTheirTime) {
  manual_wheel m;
  const std::vector<clock::duration> delays = {0ms,     1ms,     255ms, 256ms, 257ms,    25s,
                                               65535ms, 65536ms, 3h,    52h,   24h * 50, 24h * 120};
  std::vector<hook_client> hooks(delays.size());
  const auto start = m.now();
  for (std::size_t i = 0; i < delays.size(); ++i)
    m.wheel.schedule(hooks[i], start + delays[i]);
  m.wheel.run_due();
  EXPECT_EQ(hooks[0].fired, 1);
  for (std::size_t i = 1; i < delays.size(); ++i) {
    // Just before its time, then at it.
    const auto before = start + delays[i] - 1us;
    m.advance(before - m.now());
    EXPECT_EQ(hooks[i].fired, 0) << "delay #" << i;
    m.advance(1us);
    EXPECT_EQ(hooks[i].fired, 1) << "delay #" << i;
    EXPECT_EQ(hooks[i].fired_at, start + delays[i]);
  }
}

TEST(TimerWheel, OneBigStepFiresEverythingDueInDeadlineOrderAcrossMilliseconds) {
  manual_wheel m;
  std::vector<hook_client> hooks(50);
  std::vector<int> order;
  const auto start = m.now();
  for (int i = 0; i < 50; ++i) {
    hooks[i].action = [&order, i](clock::time_point) { order.push_back(i); };
    // Reverse order of scheduling, spread over three levels.
    m.wheel.schedule(hooks[i], start + std::chrono::milliseconds((50 - i) * 997));
  }
  m.advance(1h);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(order[i], 49 - i);
}

TEST(TimerWheel, CancelledRescheduledAndDestroyedHooksFireOnlyForTheirCurrentDeadline) {
  manual_wheel m;
  hook_client cancelled, moved_later, moved_earlier;
  auto destroyed = std::make_unique<hook_client>();
  m.wheel.schedule(cancelled, m.now() + 5ms);
  m.wheel.schedule(moved_later, m.now() + 5ms);
  m.wheel.schedule(moved_earlier, m.now() + 10s);
  m.wheel.schedule(*destroyed, m.now() + 5ms);
  cancelled.cancel();
  EXPECT_FALSE(cancelled.linked());
  m.wheel.schedule(moved_later, m.now() + 20ms);
  m.wheel.schedule(moved_earlier, m.now() + 3ms);
  destroyed.reset();
  m.advance(3ms);
  EXPECT_EQ(moved_earlier.fired, 1);
  m.advance(2ms);
  EXPECT_EQ(moved_later.fired, 0);
  EXPECT_EQ(cancelled.fired, 0);
  m.advance(15ms);
  EXPECT_EQ(moved_later.fired, 1);
  m.advance(1h);
  EXPECT_EQ(moved_earlier.fired, 1);
  EXPECT_EQ(cancelled.fired, 0);
}

TEST(TimerWheel, ACallDestroyingOrCancellingAnotherDueHookKeepsItFromFiring) {
  manual_wheel m;
  auto destroyed = std::make_unique<hook_client>();
  hook_client cancelled, first;
  // All three are due in the same millisecond (whose order is not defined): whichever runs first
  // destroys or cancels the other two.
  first.action = [&](clock::time_point) {
    destroyed.reset();
    cancelled.cancel();
  };
  destroyed->action = [&](clock::time_point) {
    first.cancel();
    cancelled.cancel();
  };
  cancelled.action = [&](clock::time_point) {
    first.cancel();
    destroyed.reset();
  };
  const auto when = m.now() + 7ms;
  m.wheel.schedule(*destroyed, when);
  m.wheel.schedule(cancelled, when);
  m.wheel.schedule(first, when);
  m.advance(7ms);
  EXPECT_EQ(first.fired + cancelled.fired + (destroyed ? destroyed->fired : 0), 1);
}

TEST(TimerWheel, ADeadlineScheduledFromACallThatIsDueAlreadyRunsInTheSameRun) {
  manual_wheel m;
  hook_client first, second;
  first.action = [&](clock::time_point now) { m.wheel.schedule(second, now - 1ms); };
  m.wheel.schedule(first, m.now() + 40s);
  m.advance(41s);
  EXPECT_EQ(first.fired, 1);
  EXPECT_EQ(second.fired, 1);
}

TEST(TimerWheel, AHookOutlivingItsWheelIsLeftUnlinked) {
  hook_client survivor;
  {
    boost::asio::io_context ctx;
    ignis::net::timer_wheel wheel(ctx);
    wheel.schedule(survivor, clock::now() + 1h);
    wheel.schedule(clock::now() + 1h, std::make_shared<counting_client>());
    EXPECT_TRUE(survivor.linked());
  }
  EXPECT_FALSE(survivor.linked());
  survivor.cancel();  // harmless
}

TEST(TimerWheel, AHookFiresOnTheEventLoopNotBeforeItsTime) {
  boost::asio::io_context ctx;
  ignis::net::timer_wheel wheel(ctx);
  hook_client h;
  const auto when = clock::now() + 30ms;
  wheel.schedule(h, when);
  ASSERT_TRUE(run_until(ctx, [&] { return h.fired == 1; }));
  EXPECT_GE(h.fired_at, when);
}

// Against a model: random deadlines (near, far, past the span), random steps of the clock,
// cancels and moves. After every step exactly the hooks whose current deadline has passed have
// fired, once, and none before its time.
TEST(TimerWheel, MatchesAModelUnderRandomSchedulesAndSteps) {
  manual_wheel m;
  std::mt19937_64 rng(20261207);
  constexpr int count = 400;
  std::vector<hook_client> hooks(count);
  std::vector<clock::time_point> due(count, clock::time_point::max());
  std::vector<int> expected(count, 0);
  bool early = false;
  for (int i = 0; i < count; ++i) {
    hooks[i].action = [&, i](clock::time_point now) {
      if (now < due[i]) early = true;
      due[i] = clock::time_point::max();
    };
  }
  const std::vector<clock::duration> ranges = {1ms, 300ms, 70s, 5h, 24h * 60};
  auto random_delay = [&] {
    const auto range = ranges[rng() % ranges.size()];
    return clock::duration(
        static_cast<clock::rep>(rng() % static_cast<std::uint64_t>(range.count())));
  };
  for (int round = 0; round < 3000; ++round) {
    for (int k = 0; k < 5; ++k) {
      const int i = static_cast<int>(rng() % count);
      if (rng() % 4 == 0) {
        hooks[i].cancel();
        due[i] = clock::time_point::max();
      } else {
        due[i] = m.now() + random_delay();
        m.wheel.schedule(hooks[i], due[i]);
      }
    }
    auto step = rng() % 10 == 0 ? random_delay() : clock::duration(rng() % 3'000'000);
    if (rng() % 5 == 0) {
      // Up to just before, or exactly to, the next deadline: lateness shows.
      const auto next = *std::min_element(due.begin(), due.end());
      if (next != clock::time_point::max() && next > m.now())
        step = std::max(clock::duration(0), next - m.now() - clock::duration(rng() % 2));
    }
    for (int i = 0; i < count; ++i) {
      if (due[i] <= m.now() + step) ++expected[i];
    }
    m.advance(step);
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(hooks[i].fired, expected[i]) << "hook " << i << " round " << round;
      ASSERT_EQ(hooks[i].linked(), due[i] != clock::time_point::max()) << "hook " << i;
    }
    ASSERT_FALSE(early);
  }
}

}  // namespace
