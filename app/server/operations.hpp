#pragma once

// What /health and /metrics report beyond the servers' own counters: authentication outcomes,
// each event loop's lag, and the Redis link (filled by the Redis adapter when --redis is set).
#include <ignis/net/connections.hpp>
#include <ignis/net/runtime.hpp>

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ignis::program {

/// The Redis link as the adapter sees it. `state` is "disabled" without --redis; otherwise
/// "connected" when healthy, anything else (e.g. "connecting", "down") marks the server degraded.
struct redis_link_report {
  std::string state = "disabled";
  std::uint64_t publishes = 0;
  std::uint64_t errors = 0;
  /// A Redis Cluster rather than one server (then `nodes` lists its masters).
  bool cluster = false;
  struct node {
    std::string address{};  ///< host:port
    std::size_t slots = 0;
    std::string state{};  ///< connected, connecting, degraded
    std::uint64_t moved = 0, ask = 0;
  };
  std::vector<node> nodes{};
  /// Seconds since the map of slots was last read; negative: never.
  double topology_age_seconds = -1;
  std::uint64_t topology_refreshes = 0, topology_refresh_failures = 0;
  std::string topology_error{};  ///< why the last topology request failed, if it did
  /// Streams mode: the reader's counters and where it is in the stream.
  bool streams = false;
  std::uint64_t stream_entries = 0, stream_malformed = 0, stream_read_errors = 0;
  std::string stream_position{};
  std::int64_t stream_lag_ms = -1;
  std::uint64_t session_writes = 0;
};
using redis_report_fn = std::function<redis_link_report()>;

/// Counters bumped once per handshake: shared atomics are cheap at that rate.
struct auth_counters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};  ///< bad credentials
  std::atomic<std::uint64_t> failed{0};    ///< errors: webhook down or slow, exceptions
};

/// Measures how late a timer fires on every event loop: a loop busy with other work answers late.
class loop_lag_probe {
 public:
  explicit loop_lag_probe(net::runtime& rt,
                          std::chrono::milliseconds period = std::chrono::milliseconds(500));
  /// Starts the timers (call once the runtime runs; each timer runs on its own shard).
  void start();
  /// Cancels them (from any thread) and waits until every shard has done so.
  void stop();
  /// The last measured lag of shard `i`, in microseconds.
  std::int64_t lag_us(std::size_t i) const noexcept {
    return shards_[i]->lag_us.load(std::memory_order_relaxed);
  }
  std::size_t size() const noexcept { return shards_.size(); }

 private:
  struct per_shard {
    explicit per_shard(net::shard& s) : home(s), timer(s.executor()) {}
    net::shard& home;
    boost::asio::steady_timer timer;
    std::atomic<std::int64_t> lag_us{0};
    bool stopped = false;
  };
  void arm(per_shard& s);

  std::chrono::milliseconds period_;
  std::vector<std::unique_ptr<per_shard>> shards_;
};

/// Everything the operations endpoints read.
struct operations_state {
  explicit operations_state(net::runtime& rt) : lag(rt) {}
  auth_counters auth;
  loop_lag_probe lag;
  /// The hook for the Redis adapter; unset means Redis is disabled.
  redis_report_fn redis_report;
  /// Set once shutdown begins: /health answers 503 "stopping" so that balancers move away.
  std::atomic<bool> stopping{false};
  /// The listener's connection count (set once it exists).
  const net::connection_tracker* connections = nullptr;
  /// With --admin-ui dev: the Admin UI's event messages left out so far (unset: no such UI).
  std::function<std::uint64_t()> admin_events_not_sent;

  redis_link_report redis() const { return redis_report ? redis_report() : redis_link_report{}; }
};

}  // namespace ignis::program
