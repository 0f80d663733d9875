#pragma once

// Closing a TCP connection so that the kernel keeps nothing for it: a peer that stopped reading
// would otherwise leave an orphaned socket holding our unsent bytes, retried for minutes.
#include <cstddef>

namespace ignis::net {

/// Bytes written to `fd` that the peer has not acknowledged yet (queued or in flight); 0 when the
/// descriptor is not a TCP socket.
std::size_t unacknowledged_bytes(int fd) noexcept;

/// Closes `fd`. With bytes still unacknowledged, resets the connection instead (SO_LINGER 0), so
/// the kernel drops them at once.
void close_connection(int fd) noexcept;

/// Makes the next close of `fd` a reset when bytes are still unacknowledged (for sockets whose
/// owner, such as Asio, closes them itself).
void reset_on_close_if_unacknowledged(int fd) noexcept;

}  // namespace ignis::net
