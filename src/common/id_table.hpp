#pragma once

// A table of shared objects found by their own id (`p->id()`, a string_view into the object):
// open addressing with linear probing in one array of pointers. A node-based map costs every
// entry an allocation of its own, a copy or view of the key and a bucket; here an entry is one
// slot of the array (16 bytes for a shared_ptr), at most 3/4 of which are used, and inserting
// allocates nothing until the array doubles. Erasing shifts the entries that follow back into
// place, so no tombstones accumulate under connection churn.
//
// A table that does not own its objects (Owning = false) holds plain pointers, 8 bytes a slot:
// whoever owns the objects takes each out of the table before it goes. Its snapshot() still
// hands out shared pointers (the objects are enable_shared_from_this).
#include <ignis/common/string_hash.hpp>

#include <cstddef>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ignis::detail {

template <class T, bool Owning = true>
class id_table {
 public:
  using pointer = std::conditional_t<Owning, std::shared_ptr<T>, T*>;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Adds `p` unless an entry with its id is there already (then returns false).
  bool insert(pointer p) {
    if (!p) return false;
    if ((size_ + 1) * 4 > slots_.size() * 3) resize(slots_.empty() ? min_slots : slots_.size() * 2);
    const auto id = p->id();
    for (std::size_t i = home_slot(id);; i = next(i)) {
      if (!slots_[i]) {
        slots_[i] = std::move(p);
        ++size_;
        return true;
      }
      if (slots_[i]->id() == id) return false;
    }
  }

  /// The entry with this id, or nullptr.
  const pointer* find(std::string_view id) const noexcept {
    if (size_ == 0) return nullptr;
    for (std::size_t i = home_slot(id); slots_[i]; i = next(i)) {
      if (slots_[i]->id() == id) return &slots_[i];
    }
    return nullptr;
  }

  /// Removes the entry of `object` (not another object that has the same id); false when absent.
  bool erase(const T& object) { return take(object) != nullptr; }

  /// As erase(), handing the entry over (nullptr when absent): the caller decides when the
  /// object may go.
  pointer take(const T& object) {
    if (size_ == 0) return nullptr;
    std::size_t i = home_slot(object.id());
    for (; slots_[i]; i = next(i)) {
      if (address(slots_[i]) == &object) break;
    }
    if (!slots_[i]) return nullptr;
    pointer taken = std::exchange(slots_[i], pointer{});
    --size_;
    // Backward shift: move each following entry of the cluster into the hole when its home slot
    // does not lie (cyclically) between the hole and where it is.
    for (std::size_t hole = i, j = next(i); slots_[j]; j = next(j)) {
      const std::size_t home = home_slot(slots_[j]->id());
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (stays) continue;
      slots_[hole] = std::exchange(slots_[j], pointer{});
      hole = j;
    }
    // Give the array back when a burst of connections has gone.
    if (slots_.size() > min_slots && size_ * 8 < slots_.size()) resize(slots_.size() / 2);
    return taken;
  }

  void clear() noexcept {
    slots_.clear();
    slots_.shrink_to_fit();
    size_ = 0;
  }

  /// Calls fn(const pointer&) for each entry. `fn` must not change the table.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& p : slots_) {
      if (p) fn(p);
    }
  }

  /// The entries, in no particular order, kept alive for as long as the caller keeps them.
  std::vector<std::shared_ptr<T>> snapshot() const {
    std::vector<std::shared_ptr<T>> out;
    out.reserve(size_);
    for_each([&out](const pointer& p) {
      if constexpr (Owning) {
        out.push_back(p);
      } else {
        out.push_back(p->shared_from_this());
      }
    });
    return out;
  }

 private:
  static constexpr std::size_t min_slots = 16;

  static const T* address(const pointer& p) noexcept {
    if constexpr (Owning) {
      return p.get();
    } else {
      return p;
    }
  }

  std::size_t home_slot(std::string_view id) const noexcept {
    return string_hash{}(id) & (slots_.size() - 1);
  }
  std::size_t next(std::size_t i) const noexcept { return (i + 1) & (slots_.size() - 1); }

  void resize(std::size_t slots) {
    std::vector<pointer> old(slots);
    old.swap(slots_);
    for (auto& p : old) {
      if (!p) continue;
      std::size_t i = home_slot(p->id());
      while (slots_[i])
        i = next(i);
      slots_[i] = std::move(p);
    }
  }

  std::vector<pointer> slots_;  // a power of two in size, or empty
  std::size_t size_ = 0;
};

}  // namespace ignis::detail
