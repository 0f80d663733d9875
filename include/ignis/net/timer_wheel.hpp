#pragma once

// A shard's deadlines: one Asio timer per shard, and a hierarchical timing wheel behind it, so
// that a connection's deadline costs no allocation and no entry outside the connection itself.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ignis::net {

using clock = std::chrono::steady_clock;

/// Something with deadlines on a shard's timer wheel. on_timer is called at or after a deadline
/// it scheduled; it compares `now` with its own current deadlines, so a stale call is harmless.
class timer_client {
 public:
  virtual void on_timer(clock::time_point now) = 0;

 protected:
  ~timer_client() = default;
};

class timer_wheel;

/// A deadline kept inside the object it times: scheduling it links the object into the wheel,
/// with no allocation. For objects that live on one shard: linking, unlinking and destruction
/// while linked happen on the shard's thread (an owner destroyed elsewhere cancels it first, on
/// its shard). The wheel unlinks the hook before on_timer runs; the owner must keep itself alive
/// through that call.
class timer_hook : public timer_client {
 public:
  timer_hook() = default;
  timer_hook(const timer_hook&) = delete;
  timer_hook& operator=(const timer_hook&) = delete;

  bool linked() const noexcept { return pprev_ != nullptr; }
  /// The deadline it is linked for; time_point::max() when not linked.
  clock::time_point scheduled_for() const noexcept { return when_; }
  /// Takes it off the wheel (nothing when not linked).
  void cancel() noexcept;

 protected:
  ~timer_hook() { cancel(); }

 private:
  friend class timer_wheel;
  timer_hook* next_ = nullptr;
  timer_hook** pprev_ = nullptr;  // the pointer that points at this hook; null when not linked
  clock::time_point when_ = clock::time_point::max();
};

/// A clock that moves only when told to: in-process tests run a shard's deadlines with it,
/// exactly and without waiting (shard::use_manual_clock).
class manual_clock {
 public:
  clock::time_point now() const noexcept { return now_; }
  void advance(clock::duration d) noexcept { now_ += d; }

 private:
  clock::time_point now_ = clock::now();
};

/// Four levels of 256 slots of 1, 256, 65,536 and 16,777,216 milliseconds: scheduling and
/// cancelling are O(1), an entry moves down a level at most three times before it fires, and
/// a deadline fires at its exact time (not rounded to its slot). Deadlines beyond the span of
/// 2^32 ms (49 days) in which the wheel stands wait on a list until their span comes. Entries due
/// in the same millisecond fire in no particular order.
class timer_wheel {
 public:
  /// Weak entries (schedule(when, weak_ptr)) of clients that are gone are dropped every
  /// `sweep_interval` while there are at least 1024 of them.
  explicit timer_wheel(boost::asio::io_context& ctx,
                       std::chrono::milliseconds sweep_interval = std::chrono::seconds(5));
  ~timer_wheel();
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;

  /// Links `hook` for `when` (moving it when linked already).
  void schedule(timer_hook& hook, clock::time_point when);
  /// For a client whose lifetime the wheel must not extend, or that may be destroyed on another
  /// thread: an entry the wheel allocates holds it weakly, and is dropped once it fires.
  void schedule(clock::time_point when, std::weak_ptr<timer_client> client);
  /// Weak entries pending (the hooks embedded in their owners are not counted).
  std::size_t weak_entries() const noexcept { return weak_count_; }

  /// The time deadlines are measured against: the steady clock, or the manual clock in use.
  clock::time_point now() const noexcept { return manual_ ? manual_->now() : clock::now(); }
  /// From now on time is `c`'s (nullptr: the steady clock again), and deadlines run only when
  /// run_due() is called. Before anything is scheduled.
  void use_manual_clock(const manual_clock* c) noexcept;
  /// Runs the entries due by now().
  void run_due() { fire(); }

 private:
  struct weak_entry;
  using tick = std::uint64_t;
  static constexpr unsigned level_bits = 8;
  static constexpr unsigned slot_count = 1u << level_bits;
  static constexpr unsigned level_count = 4;
  static constexpr unsigned words_per_level = slot_count / 64;

  static tick to_tick(clock::time_point t) noexcept;
  static clock::time_point to_time(tick t) noexcept;
  void place(timer_hook& hook) noexcept;
  static void push_front(timer_hook*& head, timer_hook& hook) noexcept;
  void link(timer_hook& hook, unsigned level, unsigned slot) noexcept;
  /// The first slot at or after `from` of `level` that holds entries (slot_count if none).
  unsigned next_occupied(unsigned level, unsigned from) noexcept;
  /// Fires what is due by `now`, moving the wheel's position to now's millisecond.
  void advance(clock::time_point now);
  /// Fires the due entries of the current millisecond's slot (and those their calls add).
  void run_current_slot(clock::time_point now);
  /// The next millisecond after the position at which the wheel has something to do.
  tick next_event() noexcept;
  /// Where the next span of the wheel starts.
  tick next_span() const noexcept;
  /// Moves the entries of the slots that start at the current position one level down.
  void cascade() noexcept;
  /// When the wheel has something to do next (time_point::max() when empty).
  clock::time_point next_deadline() noexcept;
  void arm(clock::time_point when);
  void fire();
  void sweep(clock::time_point now);
  void drop(weak_entry* e) noexcept;

  std::array<std::array<timer_hook*, slot_count>, level_count> slots_{};
  std::array<std::array<std::uint64_t, words_per_level>, level_count> occupied_{};
  timer_hook* overflow_ = nullptr;  // deadlines of a later span than the position's
  timer_hook* firing_ = nullptr;    // the due entries being run (linked, so they can be cancelled)
  tick position_;
  boost::asio::steady_timer timer_;
  const manual_clock* manual_ = nullptr;
  clock::time_point armed_for_ = clock::time_point::max();
  std::chrono::milliseconds sweep_interval_;
  clock::time_point swept_at_{};
  weak_entry* weak_list_ = nullptr;  // every weak entry, for the sweep
  std::size_t weak_count_ = 0;
};

}  // namespace ignis::net
