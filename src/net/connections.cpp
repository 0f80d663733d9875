#include <ignis/net/connections.hpp>

namespace ignis::net {

connection_slot& connection_slot::operator=(connection_slot&& other) noexcept {
  if (this != &other) {
    release();
    tracker_ = std::move(other.tracker_);
    weight_ = other.weight_;
  }
  return *this;
}

void connection_slot::release() noexcept {
  if (!tracker_) return;
  tracker_->open_.fetch_sub(weight_, std::memory_order_relaxed);
  tracker_.reset();
}

connection_slot connection_tracker::try_admit(unsigned weight) {
  auto now = open_.load(std::memory_order_relaxed);
  do {
    if (max_ != 0 && now + weight > max_) return {};
  } while (!open_.compare_exchange_weak(now, now + weight, std::memory_order_relaxed));
  return connection_slot(shared_from_this(), weight);
}

}  // namespace ignis::net
