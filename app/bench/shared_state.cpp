#include "shared_state.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <new>
#include <system_error>

namespace ignis::bench {

shared_state* shared_state::create() {
  void* p = ::mmap(nullptr, sizeof(shared_state), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
  return new (p) shared_state();
}

void shared_state::destroy(shared_state* s) noexcept {
  if (!s) return;
  s->~shared_state();
  ::munmap(s, sizeof(shared_state));
}

}  // namespace ignis::bench
