#pragma once

// Blocks of one size for the objects a connection keeps for its whole life (its Engine.IO
// session, WebSocket transport and socket), carved from 64 KiB mapped slabs instead of the general
// heap:
// - no allocator header per block, and no rounding beyond the object's alignment (glibc's
//   malloc adds 8 bytes and rounds to 16);
// - those objects no longer interleave with the many short-lived allocations of a connection's
//   start (HTTP parsing, the handshake's strings and messages), whose freed space left holes
//   between them that a burst of connections never filled again.
// A slab hands out its freed blocks first, then those never used in address order, so that its
// pages become resident only as they are needed; a slab whose blocks are all free is unmapped,
// except one kept for the next connections. Any thread may allocate and free.
//
// Under AddressSanitizer the objects come from the general heap, so that use after free and
// overflows are still reported.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <utility>

namespace ignis::detail {

class block_pool {
 public:
  static constexpr std::size_t slab_size = 64 * 1024;

  /// `block_size` is rounded up to a multiple of 8, or of 16 when `alignment` is more than 8;
  /// at most a quarter of a slab.
  explicit block_pool(std::size_t block_size, std::size_t alignment = 16);
  ~block_pool();
  block_pool(const block_pool&) = delete;
  block_pool& operator=(const block_pool&) = delete;

  void* allocate();
  /// `p` came from allocate() of this pool.
  void deallocate(void* p) noexcept;

  std::size_t block_size() const noexcept { return block_size_; }
  std::size_t blocks_per_slab() const noexcept { return blocks_per_slab_; }
  /// Slabs held (in use, or the one kept empty).
  std::size_t slabs() const;

 private:
  struct slab;
  slab* new_slab();
  void release(slab* s) noexcept;
  void unlink(slab* s) noexcept;

  const std::size_t block_size_;
  const std::uint32_t blocks_per_slab_;
  mutable std::mutex mutex_;
  slab* available_ = nullptr;  // slabs with a free block, most recently freed into first
  std::size_t slabs_ = 0;
  bool spare_ = false;  // one slab is held with every block free
};

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool pooling = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool pooling = false;
#else
inline constexpr bool pooling = true;
#endif
#else
inline constexpr bool pooling = true;
#endif

/// The process's pool of `Size`-byte blocks aligned to `Align`. Never destroyed: a block may be
/// freed by a static destructor or a thread that outlives main().
template <std::size_t Size, std::size_t Align>
block_pool& pool_of_size() {
  static block_pool* const pool = new block_pool(Size, Align);
  return *pool;
}

/// For std::allocate_shared: the object and its control block in one pooled block. Stateless,
/// so the control block carries nothing for it.
template <class T>
struct pooled_allocator {
  using value_type = T;
  pooled_allocator() noexcept = default;
  template <class U>
  pooled_allocator(const pooled_allocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= 16);
    if (!pooling || n != 1) return static_cast<T*>(::operator new(n * sizeof(T)));
    return static_cast<T*>(pool_of_size<sizeof(T), alignof(T)>().allocate());
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (!pooling || n != 1) {
      ::operator delete(p);
      return;
    }
    pool_of_size<sizeof(T), alignof(T)>().deallocate(p);
  }
  template <class U>
  bool operator==(const pooled_allocator<U>&) const noexcept {
    return true;
  }
};

/// std::make_shared, with the block from the pool of its size.
template <class T, class... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(pooled_allocator<T>(), std::forward<Args>(args)...);
}

}  // namespace ignis::detail
