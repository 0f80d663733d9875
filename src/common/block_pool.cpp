#include "common/block_pool.hpp"

#include <sys/mman.h>

namespace ignis::detail {

// At the start of each slab, which is aligned to its size: a block finds its slab by masking its
// address. Blocks start at the first multiple of 16 after it.
struct block_pool::slab {
  slab* prev = nullptr;
  slab* next = nullptr;
  void* free = nullptr;       // freed blocks, each holding the next one's address
  std::uint32_t used = 0;     // blocks handed out and not freed
  std::uint32_t touched = 0;  // blocks ever handed out (the next untouched one is at that index)

  std::byte* blocks() noexcept { return reinterpret_cast<std::byte*>(this) + header_size; }
  static constexpr std::size_t header_size = (sizeof(void*) * 3 + 16 + 15) / 16 * 16;
};

namespace {

constexpr std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

}  // namespace

block_pool::block_pool(std::size_t block_size, std::size_t alignment)
    : block_size_(round_up(block_size < sizeof(void*) ? sizeof(void*) : block_size,
                           alignment > 8 ? 16 : 8)),
      blocks_per_slab_(static_cast<std::uint32_t>((slab_size - slab::header_size) / block_size_)) {
  static_assert(sizeof(slab) <= slab::header_size);
  if (block_size_ > slab_size / 4) throw std::bad_alloc();
}

block_pool::~block_pool() {
  // Only a pool whose blocks are all back is destroyed (the process's pools never are).
  while (available_) {
    auto* s = available_;
    available_ = s->next;
    release(s);
  }
}

std::size_t block_pool::slabs() const {
  std::lock_guard lock(mutex_);
  return slabs_;
}

block_pool::slab* block_pool::new_slab() {
  // Mapped, not taken from the heap: an aligned heap allocation leaves a gap before it that the
  // short-lived allocations then spread over, each touching a page of its own. Twice the size is
  // mapped, so that an aligned slab lies within it, and the rest is given back.
  const std::size_t span = 2 * slab_size;
  void* mapped = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const auto aligned = (start + slab_size - 1) & ~(std::uintptr_t{slab_size} - 1);
  if (aligned > start) ::munmap(mapped, aligned - start);
  if (const auto end = aligned + slab_size; end < start + span) {
    ::munmap(reinterpret_cast<void*>(end), start + span - end);
  }
  ++slabs_;
  return new (reinterpret_cast<void*>(aligned)) slab();
}

void block_pool::release(slab* s) noexcept {
  s->~slab();
  ::munmap(s, slab_size);
  --slabs_;
}

void block_pool::unlink(slab* s) noexcept {
  if (s->prev) s->prev->next = s->next;
  if (s->next) s->next->prev = s->prev;
  if (available_ == s) available_ = s->next;
  s->prev = s->next = nullptr;
}

void* block_pool::allocate() {
  std::lock_guard lock(mutex_);
  if (!available_) available_ = new_slab();
  slab* s = available_;
  if (s->used == 0) spare_ = false;
  void* p;
  if (s->free) {
    p = s->free;
    s->free = *static_cast<void**>(p);
  } else {
    p = s->blocks() + std::size_t{s->touched} * block_size_;
    ++s->touched;
  }
  ++s->used;
  if (!s->free && s->touched == blocks_per_slab_) unlink(s);  // full
  return p;
}

void block_pool::deallocate(void* p) noexcept {
  std::lock_guard lock(mutex_);
  auto* s = reinterpret_cast<slab*>(reinterpret_cast<std::uintptr_t>(p) & ~(slab_size - 1));
  *static_cast<void**>(p) = s->free;
  s->free = p;
  // A full slab is the only one not in available_.
  if (s->used-- == blocks_per_slab_) {
    s->next = available_;
    if (available_) available_->prev = s;
    available_ = s;
  }
  if (s->used != 0) return;
  if (!spare_) {
    spare_ = true;  // kept for the next connections
    return;
  }
  unlink(s);
  release(s);
}

}  // namespace ignis::detail
