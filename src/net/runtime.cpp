#include <ignis/net/runtime.hpp>

#include <boost/asio/executor_work_guard.hpp>

#include <algorithm>

namespace ignis::net {

timer_heap::timer_heap(boost::asio::io_context& ctx) : timer_(ctx) {}

void timer_heap::schedule(clock::time_point when, std::weak_ptr<timer_client> client) {
  entries_.push_back({when, std::move(client)});
  std::push_heap(entries_.begin(), entries_.end(), later);
  if (when < armed_for_) arm(when);
}

void timer_heap::arm(clock::time_point when) {
  armed_for_ = when;
  timer_.expires_at(when);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed earlier (cancelled) or shutting down
    fire();
  });
}

void timer_heap::fire() {
  armed_for_ = clock::time_point::max();
  const auto now = clock::now();
  while (!entries_.empty() && entries_.front().when <= now) {
    std::pop_heap(entries_.begin(), entries_.end(), later);
    auto client = entries_.back().client.lock();
    entries_.pop_back();
    if (client) client->on_timer(now);
  }
  // on_timer may have scheduled entries (and armed the timer) already.
  if (!entries_.empty() && entries_.front().when < armed_for_) arm(entries_.front().when);
  // Lazily drop the storage of a heap that emptied after a burst of connections.
  if (entries_.empty() && entries_.capacity() > 4096) std::vector<entry>().swap(entries_);
}

namespace {
thread_local shard* this_thread_shard = nullptr;
}  // namespace

shard* current_shard() noexcept {
  return this_thread_shard;
}

shard::shard(unsigned index) : index_(index) {}

bool shard::is_current() const noexcept {
  return this_thread_shard == this;
}

runtime::runtime(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, 64u);
  for (unsigned i = 0; i < threads; ++i)
    shards_.push_back(std::make_unique<shard>(i));
}

runtime::~runtime() {
  stop();
}

shard& runtime::next() noexcept {
  auto& s = *shards_[next_];
  next_ = (next_ + 1) % shards_.size();
  return s;
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

}  // namespace ignis::net
