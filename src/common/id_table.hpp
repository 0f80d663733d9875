#pragma once

// A table of shared objects found by their own id (`p->id()`, a string_view into the object):
// open addressing with linear probing in one array of pointers. A node-based map costs every
// entry an allocation of its own, a copy or view of the key and a bucket; here an entry is one
// slot of the array (16 bytes for a shared_ptr), at most 3/4 of which are used, and inserting
// allocates nothing until the array doubles. Erasing shifts the entries that follow back into
// place, so no tombstones accumulate under connection churn.
#include <ignis/common/string_hash.hpp>

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace ignis::detail {

template <class T>
class id_table {
 public:
  using pointer = std::shared_ptr<T>;

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
      if (slots_[i].get() == &object) break;
    }
    if (!slots_[i]) return nullptr;
    pointer taken = std::move(slots_[i]);
    --size_;
    // Backward shift: move each following entry of the cluster into the hole when its home slot
    // does not lie (cyclically) between the hole and where it is.
    for (std::size_t hole = i, j = next(i); slots_[j]; j = next(j)) {
      const std::size_t home = home_slot(slots_[j]->id());
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (stays) continue;
      slots_[hole] = std::move(slots_[j]);
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

  /// The entries, in no particular order.
  std::vector<pointer> snapshot() const {
    std::vector<pointer> out;
    out.reserve(size_);
    for_each([&out](const pointer& p) { out.push_back(p); });
    return out;
  }

 private:
  static constexpr std::size_t min_slots = 16;

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
