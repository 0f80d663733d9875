#include "proc_sampler.hpp"

#include <dirent.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace ignis::bench {

std::uint64_t cpu_ns(int pid) {
  // schedstat is in nanoseconds; /proc/PID/stat's clock ticks (10 ms) are too coarse for a
  // few seconds of measurement.
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  std::uint64_t total = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string path = dir + "/" + e->d_name + "/schedstat";
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      unsigned long long ns = 0;
      if (std::fscanf(f, "%llu", &ns) == 1) total += ns;
      std::fclose(f);
    }
  }
  ::closedir(d);
  return total;
}

std::uint64_t cpu_ns(const std::vector<int>& pids) {
  std::uint64_t total = 0;
  for (const int pid : pids)
    total += cpu_ns(pid);
  return total;
}

std::uint64_t rss_bytes(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  char line[256];
  std::uint64_t kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kb = std::strtoull(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

std::uint64_t rss_bytes(const std::vector<int>& pids) {
  std::uint64_t total = 0;
  for (const int pid : pids)
    total += rss_bytes(pid);
  return total;
}

}  // namespace ignis::bench
