#pragma once

// Reconnection delays: min(max, min * 2^attempt), less a random part of up to half of it, so
// that clients that lost the same server do not all come back in the same millisecond.
#include <chrono>
#include <cstdint>
#include <random>

namespace ignis::redis::detail {

class backoff {
 public:
  backoff(std::chrono::milliseconds min, std::chrono::milliseconds max);

  /// The delay before the next attempt; counts the attempt.
  std::chrono::milliseconds next();
  void reset() noexcept { attempt_ = 0; }

 private:
  std::int64_t min_ms_;
  std::int64_t max_ms_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;  // timing jitter only: no need for a CSPRNG
};

}  // namespace ignis::redis::detail
