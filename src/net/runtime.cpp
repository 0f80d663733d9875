#include "net/ready_poller.hpp"

#include <ignis/net/runtime.hpp>
#include <ignis/net/shards.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace ignis::net {

namespace {
thread_local shard* this_thread_shard = nullptr;
}  // namespace

shard* current_shard() noexcept {
  return this_thread_shard;
}

shard::shard(unsigned index) : index_(index) {}

shard::~shard() = default;

ready_poller& shard::poller() {
  if (!poller_) poller_ = std::make_unique<ready_poller>(ctx_);
  return *poller_;
}

bool shard::is_current() const noexcept {
  // Also true on a thread that runs the shard's context itself (an application's, a test's).
  return this_thread_shard == this ||
         const_cast<owned_context&>(ctx_).get_executor().running_in_this_thread();
}

runtime::runtime(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, 64u);
  for (unsigned i = 0; i < threads; ++i)
    shards_.push_back(std::make_unique<shard>(i));
}

runtime::~runtime() {
  stop();
  // Everything a shard still holds goes while every shard's services exist: first the long-lived
  // connections of the pollers, then the handlers queued on each context (a poll handed to
  // another shard owns a timer of the shard it came from).
  for (auto& s : shards_)
    s->poller_.reset();
  for (auto& s : shards_)
    s->ctx_.shutdown();
}

shard& runtime::next() noexcept {
  return *shards_[next_.fetch_add(1, std::memory_order_relaxed) % shards_.size()];
}

void runtime::start() {
  for (auto& s : shards_) {
    threads_.emplace_back([sh = s.get()] {
      this_thread_shard = sh;
      auto guard = boost::asio::make_work_guard(sh->ctx_);
      sh->ctx_.run();
    });
  }
}

void runtime::stop() {
  for (auto& s : shards_)
    s->ctx_.stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void for_each_shard(runtime& rt, const std::function<void(shard&)>& fn) {
  shard* current = current_shard();
  if (!current) {
    // A thread that runs a shard's context itself (an application's, a test's).
    for (std::size_t i = 0; i < rt.size() && !current; ++i) {
      if (rt.at(i).is_current()) current = &rt.at(i);
    }
  }
  for (std::size_t i = 0; i < rt.size(); ++i) {
    auto& s = rt.at(i);
    if (&s == current) continue;
    boost::asio::post(s.executor(), [fn, &s] { fn(s); });
  }
  if (current && current->index() < rt.size() && &rt.at(current->index()) == current) fn(*current);
}

void for_each_shard(runtime& rt, std::function<void(shard&)> fn, std::function<void()> done) {
  struct progress {
    std::atomic<std::size_t> remaining;
    std::function<void(shard&)> fn;
    std::function<void()> done;
  };
  auto p = std::make_shared<progress>();
  p->remaining = rt.size();
  p->fn = std::move(fn);
  p->done = std::move(done);
  for_each_shard(rt, [p](shard& s) {
    p->fn(s);
    if (p->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1 && p->done) p->done();
  });
}

void wait_until(boost::asio::any_io_executor ex, std::function<bool()> done_when,
                clock::time_point deadline, std::function<void(bool)> then,
                std::chrono::milliseconds period) {
  struct waiting {
    explicit waiting(boost::asio::any_io_executor e) : timer(std::move(e)) {}
    boost::asio::steady_timer timer;
    std::function<bool()> done_when;
    std::function<void(bool)> then;
    clock::time_point deadline;
    std::chrono::milliseconds period;
    void check(std::shared_ptr<waiting> self) {
      if (done_when()) return then(true);
      const auto now = clock::now();
      if (now >= deadline) return then(false);
      timer.expires_at(std::min(deadline, now + period));
      timer.async_wait([self](const boost::system::error_code& ec) {
        if (!ec) self->check(self);
      });
    }
  };
  auto w = std::make_shared<waiting>(ex);
  w->done_when = std::move(done_when);
  w->then = std::move(then);
  w->deadline = deadline;
  w->period = period;
  boost::asio::post(ex, [w] { w->check(w); });
}

}  // namespace ignis::net
