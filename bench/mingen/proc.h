// The server seen from /proc: CPU time (utime + stime of /proc/PID/stat, every thread, in clock
// ticks) and resident memory (/proc/PID/statm). Read differently from ignis-bench (schedstat,
// status) on purpose: a second opinion on the same quantities.
#ifndef MINGEN_PROC_H
#define MINGEN_PROC_H

#include <stdint.h>

// Seconds of CPU used so far by the processes; 0 for those that cannot be read.
double proc_cpu_s(const int* pids, int count);
// Resident bytes of the processes.
uint64_t proc_rss_bytes(const int* pids, int count);
// This process's own CPU seconds (user + system).
double proc_self_cpu_s(void);

#endif
