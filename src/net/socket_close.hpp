#pragma once

// Closing a TCP connection so that the kernel keeps nothing for it: a peer that stopped reading
// would otherwise leave an orphaned socket holding our unsent bytes, retried for minutes.
#include <cstddef>
#include <utility>

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

/// Owns a connection's descriptor and closes it with close_connection, on reset() or when
/// destroyed, whichever comes first.
class connection_fd {
 public:
  connection_fd() = default;
  explicit connection_fd(int fd) noexcept : fd_(fd) {}
  ~connection_fd() { reset(); }
  connection_fd(connection_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  connection_fd& operator=(connection_fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }

  /// The descriptor, or -1.
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset() noexcept { close_connection(std::exchange(fd_, -1)); }

 private:
  int fd_ = -1;
};

}  // namespace ignis::net
