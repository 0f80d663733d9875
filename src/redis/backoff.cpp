#include "redis/backoff.hpp"

#include <algorithm>

namespace ignis::redis::detail {

backoff::backoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
    : min_ms_(std::max<std::int64_t>(min.count(), 1)),
      max_ms_(std::max<std::int64_t>(max.count(), min_ms_)),
      rng_(std::random_device{}()) {}

std::chrono::milliseconds backoff::next() {
  // Doubling stops once the cap is reached, so the shift never overflows.
  std::int64_t ms = min_ms_;
  for (unsigned i = 0; i < attempt_ && ms < max_ms_; ++i)
    ms *= 2;
  ms = std::min(ms, max_ms_);
  ++attempt_;
  const std::int64_t jitter = std::uniform_int_distribution<std::int64_t>(0, ms / 2)(rng_);
  return std::chrono::milliseconds(ms - jitter);
}

}  // namespace ignis::redis::detail
