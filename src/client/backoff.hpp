#pragma once

// Jittered exponential backoff, computed as socket.io-client's backo2 does: attempt n waits
// min * factor^n, moved up or down by a random part of itself (at most `jitter` of it), capped at
// max.
#include <chrono>
#include <cstddef>
#include <random>

namespace ignis::client::detail {

class backoff {
 public:
  backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, double factor,
          double jitter);

  /// The delay before the next attempt; counts the attempt.
  std::chrono::milliseconds duration();
  void reset() noexcept { attempts_ = 0; }
  std::size_t attempts() const noexcept { return attempts_; }

 private:
  double min_;
  double max_;
  double factor_;
  double jitter_;
  std::size_t attempts_ = 0;
  std::mt19937_64 rng_;  // timing jitter only: no need for a CSPRNG
};

}  // namespace ignis::client::detail
