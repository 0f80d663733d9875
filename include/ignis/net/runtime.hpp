#pragma once

// The shard-per-core runtime: N event loops, each run by one thread. A connection lives on one
// shard for its whole life, so nothing on its path needs a lock; work for another shard is posted.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

namespace ignis::net {

using clock = std::chrono::steady_clock;

/// Something with deadlines on a shard's timer heap. on_timer is called at or after a deadline it
/// scheduled; it compares `now` with its own current deadlines, so a stale entry is harmless.
class timer_client {
 public:
  virtual void on_timer(clock::time_point now) = 0;

 protected:
  ~timer_client() = default;
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

/// One timer per shard instead of one per connection: a min-heap of (deadline, client) with lazy
/// deletion. Idle connections thus cost one heap entry, not an Asio timer and its handler.
class timer_heap {
 public:
  /// A heap of at least 1024 entries drops those of clients that are gone every `sweep_interval`.
  explicit timer_heap(boost::asio::io_context& ctx,
                      std::chrono::milliseconds sweep_interval = std::chrono::seconds(5));
  timer_heap(const timer_heap&) = delete;
  timer_heap& operator=(const timer_heap&) = delete;

  void schedule(clock::time_point when, std::weak_ptr<timer_client> client);
  std::size_t size() const noexcept { return entries_.size(); }

  /// The time deadlines are measured against: the steady clock, or the manual clock in use.
  clock::time_point now() const noexcept { return manual_ ? manual_->now() : clock::now(); }
  /// From now on time is `c`'s (nullptr: the steady clock again), and deadlines run only when
  /// run_due() is called.
  void use_manual_clock(const manual_clock* c) noexcept { manual_ = c; }
  /// Runs the entries due by now().
  void run_due() { fire(); }

 private:
  struct entry {
    clock::time_point when;
    std::weak_ptr<timer_client> client;
  };
  static bool later(const entry& a, const entry& b) noexcept { return a.when > b.when; }
  void arm(clock::time_point when);
  void fire();
  void drop_expired(clock::time_point now);

  boost::asio::steady_timer timer_;
  const manual_clock* manual_ = nullptr;
  clock::time_point armed_for_ = clock::time_point::max();
  std::chrono::milliseconds sweep_interval_;
  clock::time_point swept_at_{};
  std::vector<entry> entries_;
};

class ready_poller;

class shard {
 public:
  explicit shard(unsigned index);
  ~shard();
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  unsigned index() const noexcept { return index_; }
  boost::asio::io_context& context() noexcept { return ctx_; }
  boost::asio::any_io_executor executor() noexcept { return ctx_.get_executor(); }
  timer_heap& timers() noexcept { return timers_; }
  /// Now, as the shard's deadlines count it (see timer_heap::now()).
  clock::time_point now() const noexcept { return timers_.now(); }
  /// Runs the shard's deadlines on `c` (for in-process tests; before any connection).
  void use_manual_clock(const manual_clock* c) noexcept { timers_.use_manual_clock(c); }
  /// A read buffer shared by every connection of the shard: idle connections own none.
  std::span<std::uint8_t> scratch() noexcept { return scratch_; }
  /// True when called from this shard's thread.
  bool is_current() const noexcept;
  /// The shard's readiness poller for long-lived connections (created on first use, from this
  /// shard's thread).
  ready_poller& poller();

 private:
  friend class runtime;
  // An io_context whose queued handlers the runtime can destroy before any shard goes: a handler
  // queued on one shard may own an object with a timer of another.
  struct owned_context : boost::asio::io_context {
    using boost::asio::io_context::io_context;
    using boost::asio::io_context::shutdown;
  };
  unsigned index_;
  owned_context ctx_{1};
  timer_heap timers_{ctx_};
  std::vector<std::uint8_t> scratch_ = std::vector<std::uint8_t>(64 * 1024);
  std::unique_ptr<ready_poller> poller_;  // before ctx_ in destruction order
};

/// The shard whose thread is calling, or nullptr outside the runtime's threads.
shard* current_shard() noexcept;

class runtime {
 public:
  /// `threads` = 0 means one shard per hardware thread. At most 64 shards.
  explicit runtime(unsigned threads = 0);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  std::size_t size() const noexcept { return shards_.size(); }
  shard& at(std::size_t i) noexcept { return *shards_[i]; }
  /// Round-robin choice for a new connection.
  shard& next() noexcept;

  /// Starts one thread per shard.
  void start();
  /// Stops every event loop (pending handlers are dropped) and joins the threads.
  void stop();
  bool running() const noexcept { return !threads_.empty(); }

 private:
  std::vector<std::unique_ptr<shard>> shards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_ = 0;  ///< listeners and embedding applications pick concurrently
};

}  // namespace ignis::net
