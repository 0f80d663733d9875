#pragma once

// The floor under any echo latency on this machine: the round trip of a small message over a
// plain TCP loopback connection to a trivial echo peer, measured by the load generator in the same
// run as the load so that both see the same machine (same kernel, same neighbours, same CPUs).
#include <cstdint>

namespace ignis::bench {

struct loopback_rtt {
  std::uint64_t p50_ns = 0;
  std::uint64_t p99_ns = 0;
  unsigned samples = 0;  ///< 0: not measured (the peer could not be set up)
};

/// `samples` round trips of `size` bytes between the calling thread and a forked echo peer that
/// runs on the CPUs `cpus_of_pid` may use (the server's; when 0 or unreadable, the caller's).
/// Both ends block in read(), as an idle server and generator block in epoll_wait. Call it
/// before any other thread is started (it forks).
loopback_rtt measure_loopback_rtt(unsigned samples, unsigned size, int cpus_of_pid);

}  // namespace ignis::bench
