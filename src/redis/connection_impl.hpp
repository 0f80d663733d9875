#pragma once

// The strand side of redis::connection: a FIFO of commands awaiting replies (Redis answers in
// order, so the first reply belongs to the oldest command), per-command deadlines, and the rule
// that nothing is queued while Redis is down.
#include "redis/link.hpp"

#include <deque>

namespace ignis::redis::detail {

class connection_impl final : public link {
 public:
  static std::shared_ptr<connection_impl> create(asio::any_io_executor ex, config cfg);

  /// Any thread.
  void command(std::vector<std::string> args, connection::completion done);
  /// One command already RESP-encoded (encode_command), for a caller that may send the same
  /// bytes again elsewhere (a cluster redirection) without encoding them twice. Any thread.
  void command_bytes(std::shared_ptr<const std::string> bytes, connection::completion done);

 private:
  struct pending {
    connection::completion done;  // empty once completed (timed out)
    clock::time_point deadline;
    clock::time_point sent_at;  // when written; max() while waiting for the first connect
  };

  connection_impl(asio::any_io_executor ex, config cfg)
      : link(std::move(ex), std::move(cfg)), timer_(strand()) {}

  void on_up() override;
  void on_reply(reply&& r) override;
  void on_down(error_code why) override;

  void enqueue(std::string_view bytes, connection::completion done);
  void arm_timer();
  void on_timer();

  std::deque<pending> pending_;
  std::size_t expired_ = 0;  // pending_ entries at the front that already completed with timeout
  std::string unsent_;       // commands accepted before the first connection
  asio::steady_timer timer_;
  bool timer_armed_ = false;
};

}  // namespace ignis::redis::detail
