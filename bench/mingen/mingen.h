// What mingen is asked to do and what it counts (see the usage in main.c).
#ifndef MINGEN_H
#define MINGEN_H

#include "histogram.h"

#include <stdint.h>

enum scenario { scenario_echo, scenario_fanout, scenario_connect };
enum phase { phase_connecting, phase_warmup, phase_measure, phase_hold, phase_stop };

enum { max_sources = 64, max_pids = 16, fanout_ring = 1024 };

typedef struct options {
  enum scenario scenario;
  char host[64];
  unsigned port;
  char path[256];
  const char* sources[max_sources];
  int source_count;
  int pids[max_pids];
  int pid_count;
  unsigned connections;
  unsigned window;
  unsigned payload;
  int ack;
  int authenticate;
  int coalesce;  // frames of one loop turn in one write, as ignis-bench does (off: one per frame)
  unsigned read_size;
  unsigned max_pending;
  double warmup, duration, hold, connect_timeout;
} options;

typedef struct counters {
  uint64_t ready, failed, closed, sent, received, stalls;
} counters;

typedef struct run_state {
  const options* opts;
  enum phase phase;
  uint64_t receivers;  // fanout: the receivers ready when sending began
  counters count;
  histogram latency;          // measure phase only
  histogram connect_latency;  // start of connect() to ready
} run_state;

// Runs the scenario to the end (phase_stop); main.c moves the phases on through the callback,
// called at least every 10 ms.
typedef void (*phase_tick)(run_state* s, uint64_t now_ns);
int loop_run(run_state* s, phase_tick tick);

uint64_t now_ns(void);

#endif
