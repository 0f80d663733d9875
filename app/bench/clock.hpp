#pragma once

// The generator's clock: CLOCK_MONOTONIC, one for every process of a run (a send time written
// into a message by one process is read back by another).
#include <cstdint>
#include <ctime>

namespace ignis::bench {

inline std::uint64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace ignis::bench
