#pragma once

// What a graceful stop waits for below the sessions: WebSocket connections still writing their
// last frames (a session is gone as soon as it is closed, its connection a little later).
#include <cstddef>

namespace ignis::engineio {

/// WebSocket connections of this process not closed yet (for all servers).
std::size_t websocket_connections_open() noexcept;

}  // namespace ignis::engineio
