// Round-trip and pipelined throughput of redis::connection against a running Redis, and
// PUBLISH → subscriber delivery. Not a test: run by hand against a local server, e.g.
//   tests/redis/with-redis.sh sh -c 'build/release/bench/micro/ignis_redis_bench
//   "$IGNIS_TEST_REDIS_URL"'
// Prints each measurement's median over `runs` runs (default 5).
#include <ignis/redis/client.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
namespace redis = ignis::redis;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// N commands one after the other: each is sent when the previous reply came.
double round_trips_per_second(redis::connection& c, int n) {
  std::promise<void> done;
  std::function<void(int)> next;
  next = [&](int left) {
    if (left == 0) return done.set_value();
    c.command({"PING"}, [&, left](redis::error_code ec, redis::reply) {
      if (ec) std::abort();
      next(left - 1);
    });
  };
  const auto start = clock_type::now();
  next(n);
  done.get_future().wait();
  return n / seconds_since(start);
}

// N commands issued at once from this thread; they travel in pipelined batches.
double pipelined_per_second(redis::connection& c, int n, const std::string& key) {
  std::promise<void> done;
  std::atomic<int> left{n};
  const auto start = clock_type::now();
  for (int i = 0; i < n; ++i) {
    c.command({"INCR", key}, [&](redis::error_code ec, redis::reply) {
      if (ec) std::abort();
      if (left.fetch_sub(1) == 1) done.set_value();
    });
  }
  done.get_future().wait();
  return n / seconds_since(start);
}

// N PUBLISHes of a 100-byte payload, pipelined; counts until the subscriber has them all.
double published_per_second(redis::connection& c, redis::subscriber&, std::atomic<int>& received,
                            int n) {
  received = 0;
  const std::string payload(100, 'p');
  const auto start = clock_type::now();
  for (int i = 0; i < n; ++i)
    c.command({"PUBLISH", "ignis-bench", payload});
  while (received.load() < n)
    std::this_thread::sleep_for(100us);
  return n / seconds_since(start);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "redis://127.0.0.1:6379";
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread thread([&] { io.run(); });

  redis::config cfg;
  cfg.url = url;
  cfg.max_pending = 1 << 20;
  auto c = redis::connection::create(io.get_executor(), cfg);
  auto sub = redis::subscriber::create(io.get_executor(), cfg);
  std::promise<void> up, subscribed;
  bool up_set = false, subscribed_set = false;
  c->on_state([&](redis::link_state s) {
    if (s == redis::link_state::connected && !up_set) {
      up_set = true;
      up.set_value();
    }
  });
  std::atomic<int> received{0};
  sub->on_message([&](std::string_view, std::string_view, std::string_view) { ++received; });
  sub->on_subscription([&](redis::subscription_kind, std::string_view, bool active) {
    if (active && !subscribed_set) {
      subscribed_set = true;
      subscribed.set_value();
    }
  });
  sub->subscribe("ignis-bench");
  c->start();
  sub->start();
  if (up.get_future().wait_for(5s) != std::future_status::ready ||
      subscribed.get_future().wait_for(5s) != std::future_status::ready) {
    std::fprintf(stderr, "cannot reach %s\n", url.c_str());
    return 1;
  }

  std::vector<double> rtt, pipe, pub;
  for (int r = 0; r < runs; ++r) {
    rtt.push_back(round_trips_per_second(*c, 20000));
    pipe.push_back(pipelined_per_second(*c, 200000, "ignis-bench-counter"));
    pub.push_back(published_per_second(*c, *sub, received, 100000));
  }
  std::printf("round trips (PING, one at a time): %.0f/s  (%.1f us each), median of %d\n",
              median(rtt), 1e6 / median(rtt), runs);
  std::printf("pipelined INCR (200k issued at once): %.0f/s, median of %d\n", median(pipe), runs);
  std::printf("PUBLISH 100 B -> subscriber (100k pipelined): %.0f msg/s, median of %d\n",
              median(pub), runs);

  c->command({"DEL", "ignis-bench-counter"});
  sub->close();
  c->close();
  work.reset();
  thread.join();
  return 0;
}
