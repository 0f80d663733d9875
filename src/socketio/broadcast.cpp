#include "socketio/event_packet.hpp"

#include <ignis/socketio/server.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <mutex>
#include <stdexcept>

namespace ignis::socketio {

broadcast_operator broadcast_operator::to(std::string room) const {
  auto copy = *this;
  if (std::find(copy.opts_.rooms.begin(), copy.opts_.rooms.end(), room) == copy.opts_.rooms.end()) {
    copy.opts_.rooms.push_back(std::move(room));
  }
  return copy;
}

broadcast_operator broadcast_operator::to(const std::vector<std::string>& rooms) const {
  auto copy = *this;
  for (const auto& r : rooms)
    copy = copy.to(r);
  return copy;
}

broadcast_operator broadcast_operator::except(std::string room) const {
  auto copy = *this;
  if (std::find(copy.opts_.except.begin(), copy.opts_.except.end(), room) ==
      copy.opts_.except.end()) {
    copy.opts_.except.push_back(std::move(room));
  }
  return copy;
}

broadcast_operator broadcast_operator::except(const std::vector<std::string>& rooms) const {
  auto copy = *this;
  for (const auto& r : rooms)
    copy = copy.except(r);
  return copy;
}

broadcast_operator broadcast_operator::volatile_() const {
  auto copy = *this;
  copy.opts_.flags.volatile_ = true;
  return copy;
}

broadcast_operator broadcast_operator::compress(bool on) const {
  auto copy = *this;
  copy.opts_.flags.compress = on;
  return copy;
}

broadcast_operator broadcast_operator::local() const {
  auto copy = *this;
  copy.opts_.flags.local = true;
  return copy;
}

broadcast_operator broadcast_operator::timeout(std::chrono::milliseconds t) const {
  auto copy = *this;
  copy.opts_.flags.timeout = t;
  return copy;
}

void broadcast_operator::emit(std::string_view event, payload args) const {
  nsp_->count_broadcast();
  nsp_->adapter().broadcast(event_packet(nsp_->name(), event, std::move(args)), opts_);
}

void broadcast_operator::emit_with_ack(
    std::string_view event, payload args,
    std::function<void(error_code, std::vector<payload>)> done) const {
  if (!opts_.flags.timeout)
    throw std::invalid_argument("emit_with_ack on a broadcast needs timeout()");
  auto p = event_packet(nsp_->name(), event, std::move(args));
  p.id = nsp_->next_ack_id();

  // Node's completeness rule: done when every server reported its client count and that many
  // answers arrived; else the timeout reports what came.
  struct state final : net::timer_client {
    std::mutex mutex;
    bool finished = false;
    std::size_t expected_servers = 0;  // 0 = not known yet
    std::size_t reported_servers = 0;
    std::size_t expected_clients = 0;
    std::vector<payload> responses;
    std::function<void(error_code, std::vector<payload>)> done;
    // Until finished: the timer wheel holds the state weakly, and the recipients' acknowledgement
    // entries may all be gone (disconnected) before the timeout.
    std::shared_ptr<state> unfinished;
    // Called with the lock held (and a reference held by the caller); returns the completion to
    // run after unlocking.
    std::function<void()> check() {
      if (finished || expected_servers == 0 || reported_servers != expected_servers ||
          responses.size() != expected_clients) {
        return {};
      }
      finished = true;
      unfinished.reset();
      return [cb = std::move(done), r = std::move(responses)]() mutable { cb({}, std::move(r)); };
    }
    // The timeout: what came is reported.
    void on_timer(net::clock::time_point) override {
      std::unique_lock lock(mutex);
      if (finished) return;
      finished = true;
      unfinished.reset();  // the timer wheel holds a reference during this call
      auto cb = std::move(done);
      auto r = std::move(responses);
      lock.unlock();
      cb(ack_error::timeout, std::move(r));
    }
  };
  auto st = std::make_shared<state>();
  st->done = std::move(done);
  st->unfinished = st;
  // The timeout runs on the calling shard (or the first one), on its timer wheel.
  net::shard* home = net::current_shard();
  auto& timer_shard = home ? *home : nsp_->srv().runtime().at(0);
  boost::asio::dispatch(timer_shard.executor(), [st, &timer_shard, timeout = *opts_.flags.timeout] {
    timer_shard.timers().schedule(timer_shard.now() + timeout, st);
  });
  auto run = [](std::function<void()> f) {
    if (f) f();
  };
  nsp_->adapter().broadcast_with_ack(
      std::move(p), opts_,
      [st, run](std::size_t clients) {
        std::unique_lock lock(st->mutex);
        st->expected_clients += clients;
        ++st->reported_servers;
        auto f = st->check();
        lock.unlock();
        run(std::move(f));
      },
      [st, run](payload answer) {
        std::unique_lock lock(st->mutex);
        if (st->finished) return;
        st->responses.push_back(std::move(answer));
        auto f = st->check();
        lock.unlock();
        run(std::move(f));
      });
  nsp_->adapter().server_count([st, run](std::size_t servers) {
    std::unique_lock lock(st->mutex);
    st->expected_servers = servers;
    auto f = st->check();
    lock.unlock();
    run(std::move(f));
  });
}

boost::asio::any_io_executor broadcast_operator::default_executor() const {
  return nsp_->srv().runtime().at(0).executor();
}

void broadcast_operator::fetch_sockets(std::function<void(std::vector<socket_info>)> done) const {
  nsp_->adapter().fetch_sockets(opts_, std::move(done));
}

void broadcast_operator::sockets_join(std::vector<std::string> rooms) const {
  nsp_->adapter().add_sockets(opts_, std::move(rooms));
}

void broadcast_operator::sockets_leave(std::vector<std::string> rooms) const {
  nsp_->adapter().del_sockets(opts_, std::move(rooms));
}

void broadcast_operator::disconnect_sockets(bool close) const {
  nsp_->adapter().disconnect_sockets(opts_, close);
}

}  // namespace ignis::socketio
