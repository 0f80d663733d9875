#include "redis_adapter/remote_adapter.hpp"

namespace ignis::redis::detail {

remote_adapter::remote_adapter(socketio::namespace_& nsp, std::shared_ptr<adapter_link_state> link,
                               std::string uid)
    : socketio::adapter(nsp), link_(std::move(link)), uid_(std::move(uid)) {}

remote_adapter::~remote_adapter() {
  std::lock_guard life_lock(life_->mutex);
  life_->alive = false;
  std::lock_guard lock(mutex_);
  for (auto& [id, p] : requests_)
    p.timer->cancel();
  for (auto& [id, a] : acks_)
    a.timer->cancel();
}

std::shared_ptr<boost::asio::steady_timer> remote_adapter::arm(std::chrono::milliseconds after,
                                                               std::function<void()> fire) {
  auto timer =
      std::make_shared<boost::asio::steady_timer>(link_->runtime().at(0).executor(), after);
  timer->async_wait([life = life_, fire = std::move(fire)](const boost::system::error_code& ec) {
    std::lock_guard lock(life->mutex);
    if (!ec && life->alive) fire();
  });
  return timer;
}

void remote_adapter::await_sockets(const std::string& id, std::size_t expected,
                                   std::vector<socketio::socket_info> local, sockets_done done) {
  std::lock_guard lock(mutex_);
  auto& p = requests_[id];
  p.expected = expected;
  p.sockets = std::move(local);
  p.on_sockets = std::move(done);
  p.timer = arm(link_->options().requests_timeout, [this, id] {
    std::unique_lock l(mutex_);
    finish(l, id, true);
  });
}

void remote_adapter::await_replies(const std::string& id, std::size_t expected, replies_done done) {
  std::lock_guard lock(mutex_);
  auto& p = requests_[id];
  p.expected = expected;
  p.on_replies = std::move(done);
  p.timer = arm(link_->options().requests_timeout, [this, id] {
    std::unique_lock l(mutex_);
    finish(l, id, true);
  });
}

void remote_adapter::await_acks(const std::string& id, std::chrono::milliseconds timeout,
                                std::function<void(std::size_t)> on_client_count,
                                std::function<void(socketio::payload)> on_ack) {
  std::lock_guard lock(mutex_);
  auto& a = acks_[id];
  a.on_client_count = std::move(on_client_count);
  a.on_ack = std::move(on_ack);
  // Nothing tells when every client answered: forget the request once its timeout passed.
  a.timer = arm(timeout, [this, id] {
    std::lock_guard l(mutex_);
    acks_.erase(id);
  });
}

bool remote_adapter::is_own_request(const std::string& id) {
  std::lock_guard lock(mutex_);
  return requests_.contains(id);
}

bool remote_adapter::is_own_ack_request(const std::string& id) {
  std::lock_guard lock(mutex_);
  return acks_.contains(id);
}

void remote_adapter::finish(std::unique_lock<std::mutex>& lock, const std::string& id,
                            bool timed_out) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  auto p = std::move(it->second);
  requests_.erase(it);
  lock.unlock();
  p.timer->cancel();
  if (p.on_sockets) {
    p.on_sockets(std::move(p.sockets));
  } else if (p.on_replies) {
    p.on_replies(timed_out ? error_code(socketio::ack_error::timeout) : error_code(),
                 std::move(p.replies));
  }
}

void remote_adapter::on_sockets_answer(const std::string& id,
                                       std::vector<socketio::socket_info> sockets) {
  std::unique_lock lock(mutex_);
  auto it = requests_.find(id);
  if (it == requests_.end() || !it->second.on_sockets) return;
  for (auto& s : sockets)
    it->second.sockets.push_back(std::move(s));
  if (++it->second.received >= it->second.expected) finish(lock, id, false);
}

void remote_adapter::on_reply(const std::string& id, socketio::payload reply) {
  std::unique_lock lock(mutex_);
  auto it = requests_.find(id);
  if (it == requests_.end() || !it->second.on_replies) return;
  it->second.replies.push_back(std::move(reply));
  if (++it->second.received >= it->second.expected) finish(lock, id, false);
}

void remote_adapter::on_client_count(const std::string& id, std::size_t n) {
  std::unique_lock lock(mutex_);
  auto it = acks_.find(id);
  if (it == acks_.end()) return;
  auto cb = it->second.on_client_count;
  lock.unlock();
  cb(n);
}

void remote_adapter::on_ack(const std::string& id, socketio::payload answer) {
  std::unique_lock lock(mutex_);
  auto it = acks_.find(id);
  if (it == acks_.end()) return;
  auto cb = it->second.on_ack;
  lock.unlock();
  cb(std::move(answer));
}

}  // namespace ignis::redis::detail
