#pragma once

// What the Redis integration tests share: an io_context on its own thread, blocking calls into the
// asynchronous API, and a queue to await what callbacks report (never a sleep).
#include "support/event_queue.hpp"

#include <ignis/redis/client.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

namespace ignis::redis::test {

using namespace std::chrono_literals;

using ignis::test::queue;

/// An io_context run by one thread for the lifetime of the object.
class io_thread {
 public:
  io_thread() : thread_([this] { io_.run(); }) {}
  ~io_thread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::thread thread_;
};

struct outcome {
  error_code ec;
  reply r;
};

/// Sends a command and waits for its completion.
inline outcome call(connection& c, std::vector<std::string> args) {
  std::promise<outcome> p;
  auto f = p.get_future();
  c.command(std::move(args), [&p](error_code ec, reply r) { p.set_value({ec, std::move(r)}); });
  return f.get();
}

/// A config for `url` with short timeouts and reconnection delays, so failures show quickly.
inline config quick_config(std::string url) {
  config c;
  c.url = std::move(url);
  c.command_timeout = 2000ms;
  c.reconnect_min = 20ms;
  c.reconnect_max = 200ms;
  return c;
}

/// Polls `condition` (every 10 ms) until it holds or `limit` passes; for states a component
/// reaches by itself, with no callback to wait on.
template <class F>
bool within(std::chrono::milliseconds limit, F&& condition) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return static_cast<bool>(condition());
}

/// Starts a connection and waits until it is connected (false if it did not within 10 s).
inline bool start_and_wait(connection& c, queue<link_state>& states) {
  c.on_state([&states](link_state s) { states.push(s); });
  c.start();
  return states.wait_for(link_state::connected);
}

}  // namespace ignis::redis::test
