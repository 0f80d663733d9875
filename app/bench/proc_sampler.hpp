#pragma once

// CPU time and resident memory of processes, read from /proc: how the load generator measures
// the server it drives (and itself) without any help from it.
#include <cstdint>
#include <vector>

namespace ignis::bench {

/// CPU time of every thread of `pid` in nanoseconds (/proc/PID/task/*/schedstat), 0 if unreadable.
std::uint64_t cpu_ns(int pid);
/// Sum over several processes.
std::uint64_t cpu_ns(const std::vector<int>& pids);
/// Resident set size in bytes (VmRSS of /proc/PID/status), 0 if unreadable.
std::uint64_t rss_bytes(int pid);
std::uint64_t rss_bytes(const std::vector<int>& pids);

}  // namespace ignis::bench
