#include "operations.hpp"

#include <boost/asio/post.hpp>

#include <future>

namespace ignis::program {

loop_lag_probe::loop_lag_probe(net::runtime& rt, std::chrono::milliseconds period)
    : period_(period) {
  for (std::size_t i = 0; i < rt.size(); ++i)
    shards_.push_back(std::make_unique<per_shard>(rt.at(i)));
}

void loop_lag_probe::start() {
  for (auto& s : shards_) {
    boost::asio::post(s->home.executor(), [this, p = s.get()] { arm(*p); });
  }
}

void loop_lag_probe::arm(per_shard& s) {
  if (s.stopped) return;
  s.timer.expires_after(period_);
  s.timer.async_wait([this, &s](const boost::system::error_code& ec) {
    if (ec || s.stopped) return;
    const auto late = std::chrono::steady_clock::now() - s.timer.expiry();
    s.lag_us.store(std::chrono::duration_cast<std::chrono::microseconds>(late).count(),
                   std::memory_order_relaxed);
    arm(s);
  });
}

void loop_lag_probe::stop() {
  std::vector<std::future<void>> done;
  for (auto& s : shards_) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    boost::asio::post(s->home.executor(), [p = s.get(), promise] {
      p->stopped = true;
      p->timer.cancel();
      promise->set_value();
    });
  }
  for (auto& f : done)
    f.wait();
}

}  // namespace ignis::program
