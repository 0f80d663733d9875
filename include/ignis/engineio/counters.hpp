#pragma once

// Traffic counters of the Engine.IO server, one set per shard. Only the owning shard writes its
// set (a plain load and store, no locked instruction on the hot path); any thread may read them,
// e.g. to sum the shards for /metrics.
#include <atomic>
#include <cstdint>

namespace ignis::engineio {

/// A number written by one thread and read by any.
class shard_counter {
 public:
  void add(std::int64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(std::int64_t n = 1) noexcept { add(-n); }
  std::int64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Aligned so that two shards never write the same cache line.
struct alignas(64) traffic_counters {
  shard_counter handshakes;      ///< sessions opened
  shard_counter upgrades;        ///< polling sessions moved to WebSocket
  shard_counter open_polling;    ///< sessions open now on long-polling
  shard_counter open_websocket;  ///< sessions open now on WebSocket
  shard_counter packets_in;      ///< Engine.IO packets received
  shard_counter bytes_in;        ///< their payload bytes
  shard_counter packets_out;     ///< Engine.IO packets queued for sending
  shard_counter bytes_out;       ///< their payload bytes
  shard_counter dropped;         ///< volatile packets dropped by backpressure
  shard_counter slow_consumers;  ///< sessions closed because their output queue overflowed
  /// Sessions closed, by engineio::close_reason (in the enum's order).
  shard_counter closes[7];
  /// WebSocket connections closed by the deadline of their close (reset, queued bytes dropped).
  shard_counter close_timeouts;
  /// WebSocket connections not closed yet (a closed session's may still be writing its last
  /// frames).
  shard_counter open_transports;
  /// Polling sessions closed by the server with nothing left to send, waiting only for the
  /// client's next request to carry the close packet (nothing to drain at shutdown).
  shard_counter closing_idle;
};

}  // namespace ignis::engineio
