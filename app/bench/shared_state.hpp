#pragma once

// The memory the coordinator and every event loop share, also across load processes: created
// with mmap(MAP_SHARED) before fork, so it holds only trivially shareable things (atomics and
// fixed-size histograms).
#include "histogram.hpp"

#include <atomic>
#include <cstdint>

namespace ignis::bench {

enum class phase : int { connecting, warmup, measure, stop };

/// Server URLs (--url) at most: per-target counters are fixed arrays in the shared region.
inline constexpr unsigned max_targets = 16;

/// Written by one event loop, read by the coordinator.
struct loop_stats {
  std::atomic<std::uint64_t> ready{0};   ///< connections through the handshake (and auth)
  std::atomic<std::uint64_t> failed{0};  ///< attempts that did not get there
  /// ... by where they stopped: TCP connect (refused, reset, no port), the HTTP upgrade, the
  /// Engine.IO / Socket.IO handshake (or authenticate, or polling's).
  std::atomic<std::uint64_t> failed_connect{0}, failed_upgrade{0}, failed_handshake{0};
  std::atomic<std::uint64_t> closed{0};    ///< ready connections the server closed
  std::atomic<std::uint64_t> sent{0};      ///< echo requests or broadcasts sent
  std::atomic<std::uint64_t> received{0};  ///< echo answers or broadcast deliveries received
  std::atomic<std::uint64_t> stalls{0};    ///< closed-loop broadcasts that never completed
  /// Closed-loop broadcasts that reached every receiver (the sender's loop), over the whole run.
  std::atomic<std::uint64_t> completed{0};
  /// Fanout, over the whole run, per --url: receivers ready, and deliveries to them. With several
  /// servers, what proves that each one delivered every broadcast (not only its own clients').
  std::atomic<std::uint64_t> ready_by_target[max_targets] = {};
  std::atomic<std::uint64_t> received_by_target[max_targets] = {};
  latency_histogram latency;   ///< measure phase only; read after the loop ended
  latency_histogram send_lag;  ///< fixed-rate echo: actual minus scheduled send time (measure)
  latency_histogram connect_latency;  ///< socket() to ready
};

inline constexpr unsigned max_loops = 64;
/// Broadcast sequence numbers map onto this ring of delivery counters (window ≤ ring size).
inline constexpr unsigned broadcast_ring = 4096;

struct shared_state {
  std::atomic<phase> current{phase::connecting};
  /// Fanout: receivers that got ready (set before the warm-up; a broadcast is complete when it
  /// reached them all, so a connection that failed to open does not stall the closed loop).
  std::atomic<std::uint32_t> receivers{0};
  /// Fixed-rate echo: CLOCK_MONOTONIC time of the timetable's first slot (0: not started yet).
  /// One origin for every loop and process keeps the connections' slots evenly interleaved.
  std::atomic<std::uint64_t> schedule_start_ns{0};
  /// Deliveries of broadcast s are counted in deliveries[s % broadcast_ring].
  std::atomic<std::uint32_t> deliveries[broadcast_ring] = {};
  loop_stats loops[max_loops];

  /// Maps a zeroed shared region (throws std::system_error).
  static shared_state* create();
  static void destroy(shared_state* s) noexcept;
};

}  // namespace ignis::bench
