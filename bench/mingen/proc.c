#include "proc.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double one_cpu_s(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  char line[1024];
  const size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = '\0';
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const char* p = strrchr(line, ')');
  if (!p) return 0;
  unsigned long long utime = 0, stime = 0;
  // Fields 3… are: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
  // stime.
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
    return 0;
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

double proc_cpu_s(const int* pids, int count) {
  double total = 0;
  for (int i = 0; i < count; ++i)
    total += one_cpu_s(pids[i]);
  return total;
}

uint64_t proc_rss_bytes(const int* pids, int count) {
  uint64_t total = 0;
  for (int i = 0; i < count; ++i) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", pids[i]);
    FILE* f = fopen(path, "r");
    if (!f) continue;
    unsigned long long size = 0, resident = 0;
    if (fscanf(f, "%llu %llu", &size, &resident) == 2)
      total += (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
    fclose(f);
  }
  return total;
}

double proc_self_cpu_s(void) {
  struct rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
         (double)u.ru_stime.tv_usec / 1e6;
}
