#pragma once

// Handler lists of sockets and managers. Strand-only. Emitting iterates over a snapshot, so a
// handler may add or remove handlers (its own included) while it runs.
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

  /// Calls every handler registered now with `call(handler)`, while `allowed()` holds.
  template <class Allowed, class Call>
  void each(Allowed&& allowed, Call&& call) const {
    if (entries_.empty()) return;
    const auto snapshot = entries_;
    for (const auto& e : snapshot) {
      if (!allowed()) return;
      call(*e.fn);
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
