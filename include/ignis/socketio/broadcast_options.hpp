#pragma once

// Which sockets a broadcast reaches and how it is sent, as the adapters (and the Redis adapter's
// messages between servers) carry it. A plain value: no server needed.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ignis::socketio {

struct broadcast_flags {
  bool volatile_ = false;
  bool compress = true;
  bool local = false;
  std::optional<std::chrono::milliseconds> timeout;
};

/// Node's BroadcastOptions: sockets in any of `rooms` (everybody when empty) and in none of
/// `except`.
struct broadcast_options {
  std::vector<std::string> rooms;
  std::vector<std::string> except;
  broadcast_flags flags;
};

}  // namespace ignis::socketio
