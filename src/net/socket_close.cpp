#include "net/socket_close.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ignis::net {

std::size_t unacknowledged_bytes(int fd) noexcept {
  int queued = 0;
  if (fd < 0 || ::ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
  return static_cast<std::size_t>(queued);
}

void reset_on_close_if_unacknowledged(int fd) noexcept {
  if (unacknowledged_bytes(fd) == 0) return;
  const linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
}

void close_connection(int fd) noexcept {
  if (fd < 0) return;
  reset_on_close_if_unacknowledged(fd);
  ::close(fd);
}

}  // namespace ignis::net
