#pragma once

// Handler lists of sockets and managers. Strand-only.
#include <ignis/client/socket.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

namespace ignis::client::detail {

/// A process-wide counter: ids are unique across sockets and managers, and never reused.
listener_id next_listener_id() noexcept;

template <class F>
class listener_list {
 public:
  void add(listener_id id, F f) { entries_.push_back({id, std::make_shared<F>(std::move(f))}); }
  bool remove(listener_id id) {
    const auto it =
        std::find_if(entries_.begin(), entries_.end(), [id](const entry& e) { return e.id == id; });
    if (it == entries_.end()) return false;
    entries_.erase(it);
    return true;
  }
  void clear() noexcept { entries_.clear(); }
  bool empty() const noexcept { return entries_.empty(); }

  /// Calls every handler with `call(handler)`, while `allowed()` holds. Handlers cannot change the
  /// list while it runs: every registration, removal and clearing (on/off/off_any and the
  /// handles' destructors) is posted to the strand as a task of its own, so no copy is needed.
  /// Indexing (rather than iterators) keeps even a future same-task change memory-safe.
  template <class Allowed, class Call>
  void each(Allowed&& allowed, Call&& call) const {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const auto fn = entries_[i].fn;  // kept alive while it runs
      if (!allowed()) return;
      call(*fn);
    }
  }

 private:
  struct entry {
    listener_id id;
    std::shared_ptr<F> fn;
  };
  std::vector<entry> entries_;
};

}  // namespace ignis::client::detail
