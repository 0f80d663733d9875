#pragma once

// How many connections a listener holds, and a bound on it: every accepted connection takes a
// place (a slot) for as long as its descriptors are open, whoever owns it by then (the HTTP
// connection, or the WebSocket transport it was upgraded to). A listener that is full refuses new
// connections with 503 instead of letting the process run out of descriptors.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ignis::net {

class connection_tracker;

/// One connection's place in its listener's count, given back when the slot is destroyed. Empty
/// for connections that are not counted (e.g. handed over by an application's own server).
class connection_slot {
 public:
  connection_slot() = default;
  connection_slot(connection_slot&&) noexcept = default;
  connection_slot& operator=(connection_slot&& other) noexcept;
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;
  ~connection_slot() { release(); }

  explicit operator bool() const noexcept { return tracker_ != nullptr; }
  /// Gives the place back now.
  void release() noexcept;

 private:
  friend class connection_tracker;
  connection_slot(std::shared_ptr<connection_tracker> tracker, unsigned weight) noexcept
      : tracker_(std::move(tracker)), weight_(weight) {}
  std::shared_ptr<connection_tracker> tracker_;
  unsigned weight_ = 0;
};

/// The count of one listener, shared with its connections (they may outlive it). Thread-safe.
class connection_tracker : public std::enable_shared_from_this<connection_tracker> {
 public:
  /// `max_descriptors` = 0: no bound.
  explicit connection_tracker(std::size_t max_descriptors) : max_(max_descriptors) {}

  /// A place for a connection holding `weight` descriptors (a TLS connection holds three), or an
  /// empty slot when that would pass the bound.
  connection_slot try_admit(unsigned weight = 1);

  /// Descriptors held by open connections.
  std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }
  std::size_t max() const noexcept { return max_; }

  /// Connections refused because the listener was full.
  std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }
  void count_refusal() noexcept { refused_.fetch_add(1, std::memory_order_relaxed); }
  /// Refusals are answered (a 503 holds the descriptor until it is written) by at most `max` at
  /// once: true when one more may start; end_answer() when it is done.
  bool begin_answer(unsigned max) noexcept {
    if (answering_.fetch_add(1, std::memory_order_relaxed) < max) return true;
    answering_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void end_answer() noexcept { answering_.fetch_sub(1, std::memory_order_relaxed); }
  /// Responses that the client did not take within the write deadline.
  std::uint64_t write_timeouts() const noexcept {
    return write_timeouts_.load(std::memory_order_relaxed);
  }
  void count_write_timeout() noexcept { write_timeouts_.fetch_add(1, std::memory_order_relaxed); }
  /// Responses handed to connections and not written yet (a graceful stop waits for none).
  std::size_t responses_in_flight() const noexcept {
    return responses_.load(std::memory_order_relaxed);
  }
  void response_handed_over() noexcept { responses_.fetch_add(1, std::memory_order_relaxed); }
  void response_done() noexcept { responses_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  friend class connection_slot;
  std::size_t max_;
  std::atomic<std::size_t> open_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> write_timeouts_{0};
  std::atomic<unsigned> answering_{0};
  std::atomic<std::size_t> responses_{0};
};

}  // namespace ignis::net
