#pragma once

// What the classic, the sharded and the streams adapter have in common: the link, the requests
// waiting for other servers' answers (with their timeouts), and the broadcasts waiting for remote
// acks.
#include "redis_adapter/link_state.hpp"

#include <ignis/socketio/adapter.hpp>
#include <ignis/socketio/server.hpp>

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ignis::redis::detail {

class remote_adapter : public socketio::adapter, public message_sink {
 public:
  remote_adapter(socketio::namespace_& nsp, std::shared_ptr<adapter_link_state> link,
                 std::string uid);
  ~remote_adapter() override;

  const std::string& uid() const noexcept { return uid_; }

 protected:
  using sockets_done = std::function<void(std::vector<socketio::socket_info>)>;
  using replies_done = std::function<void(error_code, std::vector<socketio::payload>)>;

  /// A fetch waiting for `expected` more answers; completes with what came at the timeout.
  void await_sockets(const std::string& id, std::size_t expected,
                     std::vector<socketio::socket_info> local, sockets_done done);
  /// A server-side emit waiting for `expected` acks; at the timeout, ack_error::timeout.
  void await_replies(const std::string& id, std::size_t expected, replies_done done);
  /// A broadcast with acks: answers are relayed until its timeout.
  void await_acks(const std::string& id, std::chrono::milliseconds timeout,
                  std::function<void(std::size_t)> on_client_count,
                  std::function<void(socketio::payload)> on_ack);

  bool is_own_request(const std::string& id);
  bool is_own_ack_request(const std::string& id);
  void on_sockets_answer(const std::string& id, std::vector<socketio::socket_info> sockets);
  void on_reply(const std::string& id, socketio::payload reply);
  void on_client_count(const std::string& id, std::size_t n);
  void on_ack(const std::string& id, socketio::payload answer);

  std::shared_ptr<adapter_link_state> link_;
  std::string uid_;

 private:
  struct pending {
    std::size_t expected = 0;
    std::size_t received = 0;
    std::vector<socketio::socket_info> sockets;
    std::vector<socketio::payload> replies;
    sockets_done on_sockets;
    replies_done on_replies;
    std::shared_ptr<boost::asio::steady_timer> timer;
  };
  struct ack_wait {
    std::function<void(std::size_t)> on_client_count;
    std::function<void(socketio::payload)> on_ack;
    std::shared_ptr<boost::asio::steady_timer> timer;
  };
  std::shared_ptr<boost::asio::steady_timer> arm(std::chrono::milliseconds after,
                                                 std::function<void()> fire);
  void finish(std::unique_lock<std::mutex>& lock, const std::string& id, bool timed_out);

  std::mutex mutex_;
  std::unordered_map<std::string, pending> requests_;
  std::unordered_map<std::string, ack_wait> acks_;

 protected:
  // Timers and Redis answers may come after this adapter is gone (server shutdown), or while it
  // is being destroyed on another thread: they hold this and run under its mutex.
  struct lifetime {
    std::mutex mutex;
    bool alive = true;
  };
  std::shared_ptr<lifetime> life_token() const { return life_; }

 private:
  std::shared_ptr<lifetime> life_ = std::make_shared<lifetime>();
};

}  // namespace ignis::redis::detail
