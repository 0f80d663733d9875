#include "loopback_rtt.hpp"

#include "clock.hpp"
#include "histogram.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <string>

namespace ignis::bench {
namespace {

void set_nodelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t w = ::write(fd, data, size);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    size -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t r = ::read(fd, data, size);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    data += r;
    size -= static_cast<std::size_t>(r);
  }
  return true;
}

// The peer: echoes whatever arrives until the other end closes.
[[noreturn]] void run_peer(int listener, int cpus_of_pid) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (cpus_of_pid > 0 && ::sched_getaffinity(cpus_of_pid, sizeof cpus, &cpus) == 0)
    ::sched_setaffinity(0, sizeof cpus, &cpus);
  const int fd = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  if (fd < 0) ::_exit(1);
  set_nodelay(fd);
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t r = ::read(fd, buffer, sizeof buffer);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || !write_all(fd, buffer, static_cast<std::size_t>(r))) break;
  }
  ::_exit(0);
}

}  // namespace

loopback_rtt measure_loopback_rtt(unsigned samples, unsigned size, int cpus_of_pid) {
  loopback_rtt out;
  if (samples == 0 || size == 0) return out;
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return out;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listener);
    return out;
  }
  const pid_t peer = ::fork();
  if (peer == 0) run_peer(listener, cpus_of_pid);
  ::close(listener);
  if (peer < 0) return out;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (ok) set_nodelay(fd);
  std::string message(size, 'x');
  std::string answer(size, '\0');
  latency_histogram rtt;
  // The first round trips warm the caches and the peer's wake-up path; they are not counted.
  const unsigned warmup = samples / 10 + 10;
  for (unsigned i = 0; ok && i < warmup + samples; ++i) {
    const std::uint64_t t0 = now_ns();
    ok = write_all(fd, message.data(), size) && read_all(fd, answer.data(), size);
    if (ok && i >= warmup) rtt.record(now_ns() - t0);
  }
  if (fd >= 0) ::close(fd);
  if (!ok) ::kill(peer, SIGKILL);  // it may still be waiting in accept()
  int status = 0;
  ::waitpid(peer, &status, 0);
  if (!ok) return out;
  out.p50_ns = rtt.quantile(0.5);
  out.p99_ns = rtt.quantile(0.99);
  out.samples = samples;
  return out;
}

}  // namespace ignis::bench
