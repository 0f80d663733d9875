#pragma once

// What the Redis integration tests share: an io_context on its own thread, blocking calls into the
// asynchronous API, and a queue to await what callbacks report (never a sleep).
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

/// Values pushed from any thread, awaited by the test thread.
template <class T>
class queue {
 public:
  void push(T v) {
    {
      std::lock_guard lk(m_);
      items_.push_back(std::move(v));
    }
    cv_.notify_all();
  }
  /// The next value, or nullopt after `timeout`.
  std::optional<T> pop(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lk(m_);
    if (!cv_.wait_for(lk, timeout, [&] { return !items_.empty(); })) return std::nullopt;
    T v = std::move(items_.front());
    items_.pop_front();
    return v;
  }
  /// Skips values until one satisfies `pred`; false after `timeout`.
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      auto v = pop(left);
      if (!v) return false;
      if (pred(*v)) return true;
    }
  }
  bool wait_for(const T& want, std::chrono::milliseconds timeout = 10s) {
    return wait_until([&](const T& v) { return v == want; }, timeout);
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<T> items_;
};

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

/// Starts a connection and waits until it is connected (false if it did not within 10 s).
inline bool start_and_wait(connection& c, queue<link_state>& states) {
  c.on_state([&states](link_state s) { states.push(s); });
  c.start();
  return states.wait_for(link_state::connected);
}

}  // namespace ignis::redis::test
