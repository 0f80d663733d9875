#include "client/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace ignis::client::detail {

backoff::backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, double factor,
                 double jitter)
    : min_(static_cast<double>(std::max<std::chrono::milliseconds::rep>(min.count(), 0))),
      max_(static_cast<double>(std::max<std::chrono::milliseconds::rep>(max.count(), 0))),
      factor_(factor < 1.0 ? 1.0 : factor),
      jitter_(std::clamp(jitter, 0.0, 1.0)),
      rng_(std::random_device{}()) {}

std::chrono::milliseconds backoff::duration() {
  // Kept finite: backo2 lets min * factor^n reach Infinity after enough attempts, and then the
  // jitter turns it into NaN (a delay of 0). Anything above 1e12 ms is capped below anyway.
  double ms = min_ * std::pow(factor_, static_cast<double>(std::min<std::size_t>(attempts_, 64)));
  ms = std::min(ms, 1e12);
  ++attempts_;
  if (jitter_ > 0) {
    const double rand = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    const double deviation = std::floor(rand * jitter_ * ms);
    // backo2 picks the direction from the same random number.
    ms = (static_cast<long long>(std::floor(rand * 10)) & 1) == 0 ? ms - deviation : ms + deviation;
  }
  ms = std::min(ms, max_);
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

}  // namespace ignis::client::detail
