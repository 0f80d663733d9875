#pragma once

// One load event loop: epoll over raw non-blocking sockets, each connection a small state machine
// (TCP connect → HTTP upgrade → Engine.IO open → Socket.IO connect → optional authenticate →
// ready), reads into one scratch buffer per loop, writes coalesced into one write() per
// connection per loop turn.
#include "options.hpp"
#include "shared_state.hpp"

namespace ignis::bench {

struct loop_config {
  const options* opts = nullptr;
  shared_state* shared = nullptr;
  unsigned index = 0;  ///< 0 … count-1 over every process
  unsigned count = 1;
  bool owns_sender = false;  ///< fanout/cluster: this loop also runs the broadcasting connection
  int wake_fd = -1;          ///< eventfd written when a broadcast reached every receiver
};

/// Runs until the shared phase becomes `stop`.
void run_event_loop(const loop_config& config);

}  // namespace ignis::bench
