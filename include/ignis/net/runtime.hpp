#pragma once

// The shard-per-core runtime: N event loops, each run by one thread. A connection lives on one
// shard for its whole life, so nothing on its path needs a lock; work for another shard is posted.
#include <ignis/net/timer_wheel.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

namespace ignis::net {

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
  timer_wheel& timers() noexcept { return timers_; }
  /// Now, as the shard's deadlines count it (see timer_wheel::now()).
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
  timer_wheel timers_{ctx_};
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
