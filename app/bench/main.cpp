// ignis-bench: a Socket.IO load generator for the performance claims of docs/performance.md.
// Scenarios (Engine.IO v4 straight over WebSocket; the connect scenario also over polling):
//   connect  N connections at rate R, optional authenticate round trip, held for T seconds
//   echo     N connections, W messages in flight each, payload P bytes, optional acknowledgement;
//            or (--rate R) R messages per second over the N connections on a fixed timetable,
//            whatever is in flight, latency counted from each message's scheduled time, and the
//            round trip of a plain TCP loopback connection measured first as the baseline
//   fanout   N receivers and one sender broadcasting with W in flight (or at a fixed rate)
//   cluster  fanout with the receivers spread over several server URLs, the sender on the first
// Latencies come from timestamps in the payload; the server's CPU time and resident memory are
// read from /proc (--server-pid), the generator's own CPU too. The last line of stdout is
// "RESULT {json}".
#include "clock.hpp"
#include "event_loop.hpp"
#include "loopback_rtt.hpp"
#include "options.hpp"
#include "proc_sampler.hpp"
#include "shared_state.hpp"

#include <ignis/version.hpp>

#include <CLI/CLI.hpp>

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace ignis::bench;
using clock_type = std::chrono::steady_clock;

bool parse_url(const std::string& url, target& out) {
  std::string rest = url;
  if (rest.starts_with("http://")) rest.erase(0, 7);
  if (rest.starts_with("ws://")) rest.erase(0, 5);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/socket.io/" : rest.substr(slash);
  if (out.path == "/") out.path = "/socket.io/";
  if (!out.path.ends_with('/')) out.path += '/';
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos) return false;
  out.host = authority.substr(0, colon);
  if (out.host == "localhost") out.host = "127.0.0.1";
  try {
    const auto port = std::stoul(authority.substr(colon + 1));
    if (port == 0 || port > 65535) return false;
    out.port = static_cast<unsigned short>(port);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

void raise_open_files_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

struct totals {
  std::uint64_t ready = 0, failed = 0, closed = 0, sent = 0, received = 0, stalls = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed_connect = 0, failed_upgrade = 0, failed_handshake = 0;
};

totals sum(const shared_state& s, unsigned loops) {
  totals t;
  for (unsigned i = 0; i < loops; ++i) {
    const auto& l = s.loops[i];
    t.ready += l.ready.load(std::memory_order_relaxed);
    t.failed += l.failed.load(std::memory_order_relaxed);
    t.closed += l.closed.load(std::memory_order_relaxed);
    t.sent += l.sent.load(std::memory_order_relaxed);
    t.received += l.received.load(std::memory_order_relaxed);
    t.stalls += l.stalls.load(std::memory_order_relaxed);
    t.completed += l.completed.load(std::memory_order_relaxed);
    t.failed_connect += l.failed_connect.load(std::memory_order_relaxed);
    t.failed_upgrade += l.failed_upgrade.load(std::memory_order_relaxed);
    t.failed_handshake += l.failed_handshake.load(std::memory_order_relaxed);
  }
  return t;
}

using target_counters = std::atomic<std::uint64_t> (loop_stats::*)[max_targets];

/// A JSON array of one per-target counter summed over the loops, e.g. [1000,1000,1000].
std::string per_target(const shared_state& s, unsigned loops, std::size_t targets,
                       target_counters counters) {
  std::string out = "[";
  for (std::size_t t = 0; t < targets; ++t) {
    std::uint64_t n = 0;
    for (unsigned i = 0; i < loops; ++i)
      n += (s.loops[i].*counters)[t].load(std::memory_order_relaxed);
    if (t > 0) out += ',';
    out += std::to_string(n);
  }
  return out + "]";
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

void sleep_for_seconds(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

const char* scenario_name(scenario s) {
  switch (s) {
    case scenario::connect:
      return "connect";
    case scenario::echo:
      return "echo";
    case scenario::fanout:
      return "fanout";
    case scenario::cluster:
      return "cluster";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  std::vector<std::string> urls{"http://127.0.0.1:3000/socket.io/"};
  std::string scenario_text = "echo";
  std::string transport_text = "websocket";
  CLI::App app{"ignis-bench: Socket.IO load generator (connect, echo, fanout, cluster)"};
  app.set_version_flag("--version", "ignis-bench " IGNIS_VERSION_STRING);
  app.add_option("scenario", scenario_text, "connect, echo, fanout or cluster")
      ->check(CLI::IsMember({"connect", "echo", "fanout", "cluster"}));
  app.add_option("--url", urls, "server URL(s), e.g. http://127.0.0.1:3000/socket.io/");
  app.add_option("--server-pid", opts.server_pids, "server process(es) to sample from /proc");
  app.add_option("--source", opts.sources, "local address(es) to connect from, e.g. 127.0.0.2");
  app.add_option("-n,--connections", opts.connections, "connections (fanout: receivers)");
  app.add_option("--threads", opts.threads, "event loops per process");
  app.add_option("--processes", opts.processes, "load processes (each has its own fd limit)");
  app.add_option("--connect-rate", opts.connect_rate, "connections per second (0: unpaced)");
  app.add_option("--max-pending", opts.max_pending, "connection attempts in flight per loop");
  app.add_flag("--authenticate", opts.authenticate, "authenticate round trip before ready");
  app.add_option("--transport", transport_text, "websocket or polling (connect scenario)")
      ->check(CLI::IsMember({"websocket", "polling"}));
  app.add_option("-w,--window", opts.window, "echo: per connection; fanout: broadcasts in flight");
  app.add_option("--rate", opts.rate,
                 "fanout: broadcasts per second instead of a window; echo: messages per second "
                 "over all connections, sent on a fixed timetable whatever is in flight (open "
                 "loop, latency from the scheduled time; replaces --window)");
  app.add_option("-p,--payload", opts.payload, "bytes of the event argument");
  app.add_flag("--ack", opts.ack, "echo: acknowledgements instead of echo events");
  app.add_option("--warmup", opts.warmup, "seconds before measuring");
  app.add_option("-d,--duration", opts.duration, "seconds measured");
  app.add_option("--hold", opts.hold, "connect: seconds to hold the connections");
  app.add_option("--connect-timeout", opts.connect_timeout, "seconds for all to be ready");
  app.add_option("--rtt-samples", opts.rtt_samples,
                 "echo --rate: round trips of a payload-sized message over plain TCP loopback, "
                 "to an echo peer on the server's CPUs, measured before the load (0: none)");
  CLI11_PARSE(app, argc, argv);

  opts.scenario = scenario_text == "connect"   ? scenario::connect
                  : scenario_text == "fanout"  ? scenario::fanout
                  : scenario_text == "cluster" ? scenario::cluster
                                               : scenario::echo;
  opts.transport = transport_text == "polling" ? transport::polling : transport::websocket;
  for (const auto& u : urls) {
    target t;
    if (!parse_url(u, t)) {
      std::cerr << "error: cannot parse --url " << u << " (expected http://IPv4:port/path)\n";
      return 2;
    }
    opts.targets.push_back(t);
  }
  if (opts.targets.size() > max_targets) {
    std::cerr << "error: at most " << max_targets << " --url\n";
    return 2;
  }
  if (opts.transport == transport::polling && opts.scenario != scenario::connect) {
    std::cerr << "error: --transport polling is for the connect scenario\n";
    return 2;
  }
  const bool fanout = opts.scenario == scenario::fanout || opts.scenario == scenario::cluster;
  if (opts.threads == 0 || opts.processes == 0 || opts.threads * opts.processes > max_loops) {
    std::cerr << "error: threads × processes must be 1…" << max_loops << "\n";
    return 2;
  }
  if (fanout && opts.window > broadcast_ring) {
    std::cerr << "error: --window is at most " << broadcast_ring << "\n";
    return 2;
  }
  if (opts.rate < 0) {
    std::cerr << "error: --rate must not be negative\n";
    return 2;
  }
  if (opts.window == 0 || opts.connections == 0) {
    std::cerr << "error: --window and --connections must be positive\n";
    return 2;
  }
  raise_open_files_limit();
  const bool fixed_rate_echo = opts.scenario == scenario::echo && opts.rate > 0;
  // Before anything else runs: the peer is forked, and the load must not share the machine with
  // the measurement.
  const loopback_rtt rtt =
      fixed_rate_echo ? measure_loopback_rtt(opts.rtt_samples, opts.payload,
                                             opts.server_pids.empty() ? 0 : opts.server_pids[0])
                      : loopback_rtt{};

  shared_state* shared = shared_state::create();
  const int wake_fd = fanout ? ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) : -1;
  const unsigned loops = opts.threads * opts.processes;
  const std::uint64_t expected = opts.connections + (fanout ? 1U : 0U);

  const std::uint64_t server_rss_base = rss_bytes(opts.server_pids);
  const std::uint64_t server_cpu_base = cpu_ns(opts.server_pids);
  const auto started = clock_type::now();

  auto run_threads = [&](unsigned process) {
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < opts.threads; ++t) {
      loop_config c;
      c.opts = &opts;
      c.shared = shared;
      c.index = process * opts.threads + t;
      c.count = loops;
      c.owns_sender = fanout && c.index == 0;
      c.wake_fd = wake_fd;
      threads.emplace_back([c] { run_event_loop(c); });
    }
    for (auto& t : threads)
      t.join();
  };
  std::vector<int> generator{static_cast<int>(::getpid())};
  std::vector<pid_t> children;
  std::thread local;
  if (opts.processes == 1) {
    local = std::thread([&] { run_threads(0); });
  } else {
    for (unsigned p = 0; p < opts.processes; ++p) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        run_threads(p);
        std::fflush(nullptr);
        ::_exit(0);
      }
      if (pid > 0) {
        children.push_back(pid);
        generator.push_back(static_cast<int>(pid));
      }
    }
  }

  // Connecting: until every connection is ready or has failed.
  totals t = sum(*shared, loops);
  while (t.ready + t.failed < expected && seconds_since(started) < opts.connect_timeout) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    t = sum(*shared, loops);
  }
  const double connect_s = seconds_since(started);
  const std::uint64_t connect_server_cpu = cpu_ns(opts.server_pids) - server_cpu_base;
  const totals connected = t;

  std::uint64_t server_rss = 0;
  double measured_s = 0;
  std::uint64_t server_cpu = 0, generator_cpu = 0;
  totals before, after;
  if (opts.scenario == scenario::connect) {
    sleep_for_seconds(opts.hold);
    server_rss = rss_bytes(opts.server_pids);
    after = sum(*shared, loops);
  } else {
    if (fanout)
      shared->receivers.store(
          static_cast<std::uint32_t>(connected.ready > 0 ? connected.ready - 1 : 0));
    // The timetable starts a little ahead, so that no loop begins with a backlog of slots.
    if (fixed_rate_echo) shared->schedule_start_ns.store(now_ns() + 1'000'000);
    shared->current.store(phase::warmup);
    sleep_for_seconds(opts.warmup);
    before = sum(*shared, loops);
    const std::uint64_t server0 = cpu_ns(opts.server_pids);
    const std::uint64_t generator0 = cpu_ns(generator);
    const auto measure_started = clock_type::now();
    shared->current.store(phase::measure);
    sleep_for_seconds(opts.duration);
    after = sum(*shared, loops);
    server_cpu = cpu_ns(opts.server_pids) - server0;
    generator_cpu = cpu_ns(generator) - generator0;
    measured_s = seconds_since(measure_started);
    server_rss = rss_bytes(opts.server_pids);
  }
  shared->current.store(phase::stop);
  if (local.joinable()) local.join();
  for (const pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }

  latency_histogram latency, connect_latency, send_lag;
  for (unsigned i = 0; i < loops; ++i) {
    latency.merge(shared->loops[i].latency);
    send_lag.merge(shared->loops[i].send_lag);
    connect_latency.merge(shared->loops[i].connect_latency);
  }
  const double messages = static_cast<double>(after.received - before.received);
  const double server_cpu_s = static_cast<double>(server_cpu) / 1e9;
  const double generator_cpu_s = static_cast<double>(generator_cpu) / 1e9;
  const double connect_cpu_s = static_cast<double>(connect_server_cpu) / 1e9;
  const auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  const double rss_per_connection =
      connected.ready > 0 && server_rss > server_rss_base
          ? static_cast<double>(server_rss - server_rss_base) / static_cast<double>(connected.ready)
          : 0;

  std::fprintf(stderr,
               "%s: %llu/%llu ready in %.2f s (%llu failed: %llu at connect, %llu at the upgrade, "
               "%llu in the handshake; %llu closed later)\n",
               scenario_name(opts.scenario), static_cast<unsigned long long>(connected.ready),
               static_cast<unsigned long long>(expected), connect_s,
               static_cast<unsigned long long>(connected.failed),
               static_cast<unsigned long long>(connected.failed_connect),
               static_cast<unsigned long long>(connected.failed_upgrade),
               static_cast<unsigned long long>(connected.failed_handshake),
               static_cast<unsigned long long>(after.closed));
  if (opts.scenario != scenario::connect) {
    std::fprintf(
        stderr,
        "  %.0f messages in %.2f s: %.0f/s, %.0f per server CPU-second; latency p50 %.0f "
        "µs, p99 %.0f µs, p99.9 %.0f µs; generator CPU %.2f s (%.0f%% of server+generator)\n",
        messages, measured_s, messages / measured_s, server_cpu_s > 0 ? messages / server_cpu_s : 0,
        us(latency.quantile(0.5)), us(latency.quantile(0.99)), us(latency.quantile(0.999)),
        generator_cpu_s,
        server_cpu_s + generator_cpu_s > 0
            ? 100 * generator_cpu_s / (server_cpu_s + generator_cpu_s)
            : 0);
  }
  if (fixed_rate_echo) {
    std::fprintf(stderr,
                 "  fixed rate %g/s: sends late by p99 %.0f µs; loopback TCP round trip (%u "
                 "samples) p50 %.0f µs, p99 %.0f µs\n",
                 opts.rate, us(send_lag.quantile(0.99)), rtt.samples, us(rtt.p50_ns),
                 us(rtt.p99_ns));
  }
  std::printf(
      "RESULT {\"scenario\":\"%s\",\"transport\":\"%s\",\"connections\":%u,\"ready\":%llu,"
      "\"failed\":%llu,\"failed_connect\":%llu,\"failed_upgrade\":%llu,"
      "\"failed_handshake\":%llu,\"closed\":%llu,\"authenticate\":%s,\"window\":%u,\"rate\":%g,"
      "\"payload\":%u,\"ack\":%s,\"targets\":%zu,\"connect_s\":%.4f,\"connect_rate\":%.1f,"
      "\"connect_server_cpu_s\":%.4f,\"connects_per_server_cpu_s\":%.1f,"
      "\"connect_p50_ms\":%.3f,\"connect_p99_ms\":%.3f,\"server_rss_base\":%llu,"
      "\"server_rss\":%llu,\"rss_per_connection\":%.0f,\"measured_s\":%.3f,\"sent\":%llu,"
      "\"received\":%.0f,\"messages_per_s\":%.1f,\"server_cpu_s\":%.4f,"
      "\"messages_per_server_cpu_s\":%.1f,\"generator_cpu_s\":%.4f,"
      "\"generator_cpu_us_per_message\":%.3f,\"latency_p50_us\":%.1f,\"latency_p99_us\":%.1f,"
      "\"latency_p999_us\":%.1f,\"stalls\":%llu,\"send_lag_p99_us\":%.1f,"
      "\"loopback_rtt_p50_us\":%.1f,\"loopback_rtt_p99_us\":%.1f,\"completed\":%llu,"
      "\"ready_by_target\":%s,\"received_by_target\":%s}\n",
      scenario_name(opts.scenario), opts.transport == transport::polling ? "polling" : "websocket",
      opts.connections, static_cast<unsigned long long>(connected.ready),
      static_cast<unsigned long long>(connected.failed),
      static_cast<unsigned long long>(connected.failed_connect),
      static_cast<unsigned long long>(connected.failed_upgrade),
      static_cast<unsigned long long>(connected.failed_handshake),
      static_cast<unsigned long long>(after.closed), opts.authenticate ? "true" : "false",
      opts.window, opts.rate, opts.payload, opts.ack ? "true" : "false", opts.targets.size(),
      connect_s, connect_s > 0 ? static_cast<double>(connected.ready) / connect_s : 0,
      connect_cpu_s, connect_cpu_s > 0 ? static_cast<double>(connected.ready) / connect_cpu_s : 0,
      static_cast<double>(connect_latency.quantile(0.5)) / 1e6,
      static_cast<double>(connect_latency.quantile(0.99)) / 1e6,
      static_cast<unsigned long long>(server_rss_base), static_cast<unsigned long long>(server_rss),
      rss_per_connection, measured_s, static_cast<unsigned long long>(after.sent - before.sent),
      messages, measured_s > 0 ? messages / measured_s : 0, server_cpu_s,
      server_cpu_s > 0 ? messages / server_cpu_s : 0, generator_cpu_s,
      messages > 0 ? generator_cpu_s * 1e6 / messages : 0, us(latency.quantile(0.5)),
      us(latency.quantile(0.99)), us(latency.quantile(0.999)),
      static_cast<unsigned long long>(after.stalls), us(send_lag.quantile(0.99)), us(rtt.p50_ns),
      us(rtt.p99_ns), static_cast<unsigned long long>(sum(*shared, loops).completed),
      per_target(*shared, loops, opts.targets.size(), &loop_stats::ready_by_target).c_str(),
      per_target(*shared, loops, opts.targets.size(), &loop_stats::received_by_target).c_str());
  std::fflush(stdout);
  if (wake_fd >= 0) ::close(wake_fd);
  shared_state::destroy(shared);
  return connected.ready == expected ? 0 : 1;
}
