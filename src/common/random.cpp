#include <ignis/common/random.hpp>

#include <sys/random.h>

#include <cerrno>
#include <system_error>

namespace ignis {

void random_bytes(std::span<std::uint8_t> out) {
  std::size_t got = 0;
  while (got < out.size()) {
    // Requests of up to 256 bytes are never cut short once the generator is seeded; larger ones
    // may be, by a signal.
    const auto n = ::getrandom(out.data() + got, out.size() - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
  }
}

}  // namespace ignis
