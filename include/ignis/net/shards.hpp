#pragma once

// Work spread over every shard of a runtime: the one mechanism the layers use to reach what each
// shard keeps to itself (its sockets, sessions, rooms), and to gather answers from all of them.
#include <ignis/net/runtime.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace ignis::net {

/// Runs `fn(shard)` on every shard of `rt`, each on its own thread: the calling shard's at once
/// (so what a handler does on its own sockets keeps its order), the others posted. From a thread
/// that is no shard's, every call is posted.
void for_each_shard(runtime& rt, const std::function<void(shard&)>& fn);

/// As for_each_shard, then `done()` once every shard has run `fn` (on the thread of the last).
void for_each_shard(runtime& rt, std::function<void(shard&)> fn, std::function<void()> done);

/// As for_each_shard, collecting: `part(shard)` gives each shard's items; `done(all)` runs once,
/// on the thread of the shard that finished last (at once when the calling shard is the only one).
template <class T>
void gather_from_shards(runtime& rt, std::function<std::vector<T>(shard&)> part,
                        std::function<void(std::vector<T>)> done) {
  struct gathering {
    std::mutex mutex;
    std::size_t remaining;
    std::vector<T> items;
    std::function<std::vector<T>(shard&)> part;
    std::function<void(std::vector<T>)> done;
  };
  auto g = std::make_shared<gathering>();
  g->remaining = rt.size();
  g->part = std::move(part);
  g->done = std::move(done);
  for_each_shard(rt, [g](shard& s) {
    auto mine = g->part(s);
    std::unique_lock lock(g->mutex);
    for (auto& item : mine)
      g->items.push_back(std::move(item));
    if (--g->remaining != 0) return;
    auto all = std::move(g->items);
    auto finish = std::move(g->done);
    lock.unlock();
    finish(std::move(all));
  });
}

/// Calls `then(true)` on `ex` once `done_when()` holds (checked on `ex` every `period`), or
/// `then(false)` at `deadline` if it never did. For waits on state that many shards change, such as
/// a server's last connections closing at shutdown.
void wait_until(boost::asio::any_io_executor ex, std::function<bool()> done_when,
                clock::time_point deadline, std::function<void(bool)> then,
                std::chrono::milliseconds period = std::chrono::milliseconds(10));

}  // namespace ignis::net
