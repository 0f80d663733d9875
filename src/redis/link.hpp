#pragma once

// The part that a command connection and a subscriber share: one TCP or TLS connection to Redis,
// the connect sequence (resolve, connect, TLS handshake, then AUTH / SELECT / CLIENT SETNAME /
// PING as one pipelined batch), reading replies through the RESP reader, writing, and
// reconnecting with backoff after any failure. The derived class decides what the replies mean.
//
// Everything here runs on the link's strand. Each connection attempt has a generation number;
// handlers of an older attempt find it changed and do nothing, so a late completion can never
// touch a newer connection.
#include "redis/backoff.hpp"
#include "redis/resp_reader.hpp"

#include <ignis/redis/client.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ignis::redis::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

class link : public std::enable_shared_from_this<link> {
 public:
  using strand_type = asio::strand<asio::any_io_executor>;

  virtual ~link();
  link(const link&) = delete;
  link& operator=(const link&) = delete;

  // Callable from any thread.
  void start();
  /// Once close() returns, no state (or message/subscription) callback runs any more, even one
  /// already queued on the strand, so the caller may destroy what the callbacks refer to.
  void close();
  void on_state(std::function<void(link_state)> fn);
  link_state state() const noexcept { return state_.load(std::memory_order_acquire); }
  const strand_type& strand() const noexcept { return strand_; }
  /// Why the connection last failed (empty before any failure). Read it on the strand, or from
  /// the strand `ex` wraps when the link was created on one (a cluster's).
  error_code last_failure() const noexcept { return last_failure_; }
  /// The URL this link connects to.
  const std::string& url_text() const noexcept { return cfg_.url; }

 protected:
  /// Throws std::invalid_argument for a URL parse_url refuses (a programming error, not input).
  link(asio::any_io_executor ex, config cfg);

  // Strand only, for the derived class.
  /// Queues bytes for the server; ignored unless the link is up.
  void send(std::string_view bytes);
  bool is_up() const noexcept { return up_; }
  bool is_closed() const noexcept { return closed_; }
  /// Drops the connection (e.g. the server went silent) and reconnects after a backoff delay.
  void reset_link(error_code why);
  /// When bytes last came from the server (for liveness checks).
  clock::time_point last_read() const noexcept { return last_read_; }
  const config& cfg() const noexcept { return cfg_; }
  const parsed_url& url() const noexcept { return url_; }
  /// The server's address and port of the current connection, if any.
  std::optional<tcp::endpoint> remote_endpoint() const;
  /// Calls fn() (which invokes a user callback) unless close() has been called; close() waits
  /// for a callback that is running on another thread.
  template <class F>
  void notify(F&& fn) {
    std::lock_guard lk(callbacks_mutex_);
    if (!silenced_) fn();
  }
  /// Stores a user callback so that notify() sees it.
  template <class T>
  void set_callback(T& slot, T fn) {
    std::lock_guard lk(callbacks_mutex_);
    slot = std::move(fn);
  }
  /// Runs fn on the strand (inline if already there).
  template <class F>
  void run(F&& fn) {
    asio::dispatch(strand_,
                   [self = shared_from_this(), f = std::forward<F>(fn)]() mutable { f(); });
  }

  /// The handshake succeeded: the link is up and connected.
  virtual void on_up() = 0;
  /// A reply after the handshake, in order.
  virtual void on_reply(reply&& r) = 0;
  /// The connection failed or was lost (then a reconnect follows) or close() was called (`why` is
  /// error::closed). Called before the state changes.
  virtual void on_down(error_code why) = 0;

 private:
  struct transport;

  void connect_attempt();
  void on_connected(std::uint64_t gen, error_code ec);
  void begin_handshake(std::uint64_t gen);
  void read_some(std::uint64_t gen);
  void on_read(std::uint64_t gen, error_code ec, std::size_t n);
  void write_some(std::uint64_t gen);
  void fail(std::uint64_t gen, error_code why);
  void set_state(link_state s);
  void drop_transport();

  config cfg_;
  parsed_url url_;
  strand_type strand_;
  std::optional<asio::ssl::context> tls_context_;
  std::shared_ptr<transport> transport_;
  resp_reader reader_;
  backoff backoff_;
  asio::steady_timer connect_deadline_;
  asio::steady_timer reconnect_timer_;
  std::atomic<link_state> state_{link_state::connecting};
  std::function<void(link_state)> on_state_;
  std::recursive_mutex callbacks_mutex_;  // recursive: a callback may call close()
  bool silenced_ = false;
  std::string out_;      // waiting to be written
  std::string writing_;  // being written
  std::uint64_t generation_ = 0;
  std::size_t handshake_left_ = 0;
  clock::time_point last_read_{};
  error_code last_failure_{};
  bool started_ = false;
  bool closed_ = false;
  bool connected_ = false;  // TCP/TLS connected (handshake may still run)
  bool up_ = false;         // handshake done
};

}  // namespace ignis::redis::detail
