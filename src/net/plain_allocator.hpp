#pragma once

// An allocator for the operation an idle connection keeps pending (its wait for readability).
// Without one, Asio takes handler memory from a per-thread cache of recycled blocks, and a block
// recycled from a large transient operation (an HTTP read, say: about 600 bytes) ends up held for
// the whole life of a connection whose wait needs a fifth of it. Binding this allocator
// (`asio::bind_allocator(net::plain_allocator<void>(), handler)`) makes Asio allocate exactly the
// operation's size from the heap.
#include <cstddef>
#include <new>

namespace ignis::net {

template <typename T>
struct plain_allocator {
  using value_type = T;

  plain_allocator() noexcept = default;
  template <typename U>
  plain_allocator(const plain_allocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(alignof(T))));
  }
  void deallocate(T* p, std::size_t) noexcept {
    ::operator delete(p, std::align_val_t(alignof(T)));
  }

  template <typename U>
  bool operator==(const plain_allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace ignis::net
