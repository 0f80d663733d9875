// mingen: a minimal Socket.IO load generator, independent of ignis-bench (no shared code), for a
// second opinion on the figures of bench/compare. One thread, one epoll loop, plain sockets.
//   mingen echo    -n N -w W -p BYTES [--ack]    W messages in flight per connection
//   mingen fanout  -n N -w W -p BYTES            N receivers, one sender, W broadcasts in flight
//   mingen connect -n N [--authenticate] [--hold S]
// Common: --url http://IPv4:PORT/socket.io/ --server-pid PID (repeatable) --source ADDR
// (repeatable or comma-separated) --warmup S -d S --connect-timeout S --max-pending N
// --read-size BYTES (default 16384) --coalesce (a loop turn's frames in one write).
// Latency: a CLOCK_MONOTONIC timestamp inside each event's argument, read back by the receiver.
// Server CPU: utime + stime of /proc/PID/stat. The last line of stdout is "RESULT {json}" with
// the field names of ignis-bench, plus "generator":"mingen".
#define _GNU_SOURCE
#include "mingen.h"
#include "proc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static options opts = {
    .scenario = scenario_echo,
    .host = "127.0.0.1",
    .port = 3000,
    .path = "/socket.io/",
    .connections = 100,
    .window = 1,
    .payload = 100,
    .read_size = 16384,
    .max_pending = 256,
    .warmup = 1,
    .duration = 5,
    .hold = 2,
    .connect_timeout = 60,
};

// What the phases measured (set by tick()).
static struct {
  uint64_t started_ns, deadline_ns, measure_started_ns;
  double cpu_base, server0, generator0;
  double connect_s, connect_cpu_s, server_cpu_s, generator_cpu_s, measured_s;
  uint64_t rss_base, rss;
  counters connected, before, after;
} m;

static uint64_t expected(void) {
  return opts.connections + (opts.scenario == scenario_fanout ? 1U : 0U);
}

static uint64_t seconds_ns(double s) {
  return (uint64_t)(s * 1e9);
}

static void tick(run_state* s, uint64_t now) {
  switch (s->phase) {
    case phase_connecting:
      if (s->count.ready + s->count.failed < expected() &&
          now - m.started_ns < seconds_ns(opts.connect_timeout))
        return;
      m.connect_s = (double)(now - m.started_ns) / 1e9;
      m.connect_cpu_s = proc_cpu_s(opts.pids, opts.pid_count) - m.cpu_base;
      m.connected = s->count;
      if (opts.scenario == scenario_connect) {
        s->phase = phase_hold;
        m.deadline_ns = now + seconds_ns(opts.hold);
      } else {
        s->receivers = s->count.ready > 0 ? s->count.ready - 1 : 0;
        s->phase = phase_warmup;
        m.deadline_ns = now + seconds_ns(opts.warmup);
      }
      return;
    case phase_warmup:
      if (now < m.deadline_ns) return;
      m.before = s->count;
      m.server0 = proc_cpu_s(opts.pids, opts.pid_count);
      m.generator0 = proc_self_cpu_s();
      m.measure_started_ns = now;
      s->phase = phase_measure;
      m.deadline_ns = now + seconds_ns(opts.duration);
      return;
    case phase_measure:
      if (now < m.deadline_ns) return;
      m.after = s->count;
      m.server_cpu_s = proc_cpu_s(opts.pids, opts.pid_count) - m.server0;
      m.generator_cpu_s = proc_self_cpu_s() - m.generator0;
      m.measured_s = (double)(now - m.measure_started_ns) / 1e9;
      m.rss = proc_rss_bytes(opts.pids, opts.pid_count);
      s->phase = phase_stop;
      return;
    case phase_hold:
      if (now < m.deadline_ns) return;
      m.after = s->count;
      m.rss = proc_rss_bytes(opts.pids, opts.pid_count);
      s->phase = phase_stop;
      return;
    case phase_stop:
      return;
  }
}

static int parse_url(const char* url) {
  const char* rest = url;
  if (strncmp(rest, "http://", 7) == 0) rest += 7;
  if (strncmp(rest, "ws://", 5) == 0) rest += 5;
  const char* slash = strchr(rest, '/');
  const size_t authority = slash ? (size_t)(slash - rest) : strlen(rest);
  const char* colon = memrchr(rest, ':', authority);
  if (!colon || (size_t)(colon - rest) >= sizeof opts.host) return 0;
  memcpy(opts.host, rest, (size_t)(colon - rest));
  opts.host[colon - rest] = '\0';
  if (strcmp(opts.host, "localhost") == 0) strcpy(opts.host, "127.0.0.1");
  opts.port = (unsigned)strtoul(colon + 1, NULL, 10);
  if (opts.port == 0 || opts.port > 65535) return 0;
  const char* path = slash && strcmp(slash, "/") != 0 ? slash : "/socket.io/";
  if (strlen(path) + 2 > sizeof opts.path) return 0;
  strcpy(opts.path, path);
  if (opts.path[strlen(opts.path) - 1] != '/') strcat(opts.path, "/");
  return 1;
}

static int add_sources(char* list) {
  for (char* a = strtok(list, ","); a; a = strtok(NULL, ",")) {
    if (opts.source_count == max_sources) return 0;
    opts.sources[opts.source_count++] = a;
  }
  return 1;
}

static int usage(void) {
  fprintf(stderr,
          "usage: mingen echo|fanout|connect [-n N] [-w W] [-p BYTES] [--ack] [--authenticate]\n"
          "  [--hold S] [--url URL] [--server-pid PID]… [--source ADDR[,ADDR…]]… [--warmup S]\n"
          "  [-d S] [--connect-timeout S] [--max-pending N] [--read-size BYTES] [--coalesce]\n");
  return 2;
}

static int parse(int argc, char** argv) {
  if (argc < 2) return 0;
  if (strcmp(argv[1], "echo") == 0) {
    opts.scenario = scenario_echo;
  } else if (strcmp(argv[1], "fanout") == 0) {
    opts.scenario = scenario_fanout;
  } else if (strcmp(argv[1], "connect") == 0) {
    opts.scenario = scenario_connect;
  } else {
    return 0;
  }
  static const struct option long_options[] = {
      {"url", required_argument, 0, 'u'},
      {"server-pid", required_argument, 0, 'P'},
      {"source", required_argument, 0, 's'},
      {"connections", required_argument, 0, 'n'},
      {"window", required_argument, 0, 'w'},
      {"payload", required_argument, 0, 'p'},
      {"ack", no_argument, 0, 'a'},
      {"authenticate", no_argument, 0, 'A'},
      {"hold", required_argument, 0, 'H'},
      {"warmup", required_argument, 0, 'W'},
      {"duration", required_argument, 0, 'd'},
      {"connect-timeout", required_argument, 0, 'T'},
      {"max-pending", required_argument, 0, 'm'},
      {"read-size", required_argument, 0, 'r'},
      {"coalesce", no_argument, 0, 'c'},
      {0, 0, 0, 0},
  };
  optind = 2;
  int o;
  while ((o = getopt_long(argc, argv, "n:w:p:d:", long_options, NULL)) != -1) {
    switch (o) {
      case 'u':
        if (!parse_url(optarg)) return 0;
        break;
      case 'P':
        if (opts.pid_count == max_pids) return 0;
        opts.pids[opts.pid_count++] = atoi(optarg);
        break;
      case 's':
        if (!add_sources(optarg)) return 0;
        break;
      case 'n':
        opts.connections = (unsigned)strtoul(optarg, NULL, 10);
        break;
      case 'w':
        opts.window = (unsigned)strtoul(optarg, NULL, 10);
        break;
      case 'p':
        opts.payload = (unsigned)strtoul(optarg, NULL, 10);
        break;
      case 'a':
        opts.ack = 1;
        break;
      case 'A':
        opts.authenticate = 1;
        break;
      case 'H':
        opts.hold = atof(optarg);
        break;
      case 'W':
        opts.warmup = atof(optarg);
        break;
      case 'd':
        opts.duration = atof(optarg);
        break;
      case 'T':
        opts.connect_timeout = atof(optarg);
        break;
      case 'm':
        opts.max_pending = (unsigned)strtoul(optarg, NULL, 10);
        break;
      case 'r':
        opts.read_size = (unsigned)strtoul(optarg, NULL, 10);
        break;
      case 'c':
        opts.coalesce = 1;
        break;
      default:
        return 0;
    }
  }
  return optind == argc && opts.connections > 0 && opts.window > 0 && opts.window <= fanout_ring &&
         opts.payload <= 16 * 1024 * 1024 && opts.read_size >= 64 && opts.max_pending > 0;
}

static const char* scenario_name(void) {
  return opts.scenario == scenario_echo     ? "echo"
         : opts.scenario == scenario_fanout ? "fanout"
                                            : "connect";
}

int main(int argc, char** argv) {
  if (!parse(argc, argv)) return usage();
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  run_state s = {.opts = &opts, .phase = phase_connecting};
  if (!histogram_init(&s.latency) || !histogram_init(&s.connect_latency)) return 1;
  m.rss_base = proc_rss_bytes(opts.pids, opts.pid_count);
  m.cpu_base = proc_cpu_s(opts.pids, opts.pid_count);
  m.started_ns = now_ns();
  if (!loop_run(&s, tick)) {
    fprintf(stderr, "mingen: out of memory or no epoll\n");
    return 1;
  }

  const double messages = (double)(m.after.received - m.before.received);
  const uint64_t ready = m.connected.ready;
  const double rss_per_connection =
      ready > 0 && m.rss > m.rss_base ? (double)(m.rss - m.rss_base) / (double)ready : 0;
  const double p50 = histogram_quantile_us(&s.latency, 0.5);
  const double p99 = histogram_quantile_us(&s.latency, 0.99);
  const double p999 = histogram_quantile_us(&s.latency, 0.999);
  fprintf(stderr, "%s: %llu/%llu ready in %.2f s (%llu failed, %llu closed later)\n",
          scenario_name(), (unsigned long long)ready, (unsigned long long)expected(), m.connect_s,
          (unsigned long long)m.connected.failed, (unsigned long long)m.after.closed);
  if (opts.scenario != scenario_connect)
    fprintf(stderr,
            "  %.0f messages in %.2f s: %.0f per server CPU-second; latency p50 %.0f µs, p99 %.0f "
            "µs; generator CPU %.2f s\n",
            messages, m.measured_s, m.server_cpu_s > 0 ? messages / m.server_cpu_s : 0, p50, p99,
            m.generator_cpu_s);
  printf(
      "RESULT {\"generator\":\"mingen\",\"scenario\":\"%s\",\"transport\":\"websocket\","
      "\"connections\":%u,\"ready\":%llu,\"failed\":%llu,\"closed\":%llu,\"authenticate\":%s,"
      "\"window\":%u,\"rate\":0,\"payload\":%u,\"ack\":%s,\"targets\":1,\"coalesce\":%s,"
      "\"read_size\":%u,\"connect_s\":%.4f,\"connect_rate\":%.1f,\"connect_server_cpu_s\":%.4f,"
      "\"connects_per_server_cpu_s\":%.1f,\"connect_p50_ms\":%.3f,\"connect_p99_ms\":%.3f,"
      "\"server_rss_base\":%llu,\"server_rss\":%llu,\"rss_per_connection\":%.0f,"
      "\"measured_s\":%.3f,\"sent\":%llu,\"received\":%.0f,\"messages_per_s\":%.1f,"
      "\"server_cpu_s\":%.4f,\"messages_per_server_cpu_s\":%.1f,\"generator_cpu_s\":%.4f,"
      "\"generator_cpu_us_per_message\":%.3f,\"latency_p50_us\":%.1f,\"latency_p99_us\":%.1f,"
      "\"latency_p999_us\":%.1f,\"stalls\":%llu}\n",
      scenario_name(), opts.connections, (unsigned long long)ready,
      (unsigned long long)m.connected.failed, (unsigned long long)m.after.closed,
      opts.authenticate ? "true" : "false", opts.window, opts.payload, opts.ack ? "true" : "false",
      opts.coalesce ? "true" : "false", opts.read_size, m.connect_s,
      m.connect_s > 0 ? (double)ready / m.connect_s : 0, m.connect_cpu_s,
      m.connect_cpu_s > 0 ? (double)ready / m.connect_cpu_s : 0,
      histogram_quantile_us(&s.connect_latency, 0.5) / 1e3,
      histogram_quantile_us(&s.connect_latency, 0.99) / 1e3, (unsigned long long)m.rss_base,
      (unsigned long long)m.rss, rss_per_connection, m.measured_s,
      (unsigned long long)(m.after.sent - m.before.sent), messages,
      m.measured_s > 0 ? messages / m.measured_s : 0, m.server_cpu_s,
      m.server_cpu_s > 0 ? messages / m.server_cpu_s : 0, m.generator_cpu_s,
      messages > 0 ? m.generator_cpu_s * 1e6 / messages : 0, p50, p99, p999,
      (unsigned long long)m.after.stalls);
  fflush(stdout);
  return ready == expected() ? 0 : 1;
}
