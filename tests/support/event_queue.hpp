#pragma once

// A queue the tests await what callbacks report on (never a sleep): values pushed from any thread,
// popped by the test thread with a timeout.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace ignis::test {

using namespace std::chrono_literals;

/// Values pushed from any thread, awaited by the test thread.
template <class T>
class queue {
 public:
  void push(T v) {
    // Notified under the lock: once pop() has returned the value, push() touches the queue no
    // more, so a test may destroy the queue as soon as it has what it waited for.
    std::lock_guard lk(m_);
    items_.push_back(std::move(v));
    cv_.notify_all();
  }
  /// The next value, or nullopt after `timeout`.
  std::optional<T> pop(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lk(m_);
    if (!cv_.wait_for(lk, timeout, [&] { return !items_.empty(); })) return std::nullopt;
    T v = std::move(items_.front());
    items_.pop_front();
    return v;
  }
  /// Skips values until one equals `want`; false after `timeout`.
  bool wait_for(const T& want, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      auto v = pop(left);
      if (!v) return false;
      if (*v == want) return true;
    }
  }
  /// Skips values until one satisfies `pred`; that value, or nullopt after `timeout`.
  template <class Pred>
  std::optional<T> wait_until(Pred pred, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto v = pop(left);
      if (!v) return std::nullopt;
      if (pred(*v)) return v;
    }
  }
  std::size_t size() const {
    std::lock_guard lk(m_);
    return items_.size();
  }

 private:
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<T> items_;
};

}  // namespace ignis::test
