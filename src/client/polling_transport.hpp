#pragma once

// Engine.IO HTTP long-polling: one GET held open by the server for its packets, one POST at a time
// for ours, each on its own keep-alive connection.
#include "client/http_connection.hpp"
#include "client/transport.hpp"

#include <deque>

namespace ignis::client::detail {

class polling_transport final : public transport,
                                public std::enable_shared_from_this<polling_transport> {
 public:
  polling_transport(asio::any_io_executor ex, std::shared_ptr<const engine_config> cfg);

  transport_kind kind() const noexcept override { return transport_kind::polling; }
  void open() override;
  void send(std::vector<engineio::packet> packets) override;
  bool writable() const noexcept override { return state_ == state::open && writable_; }
  std::size_t buffered_bytes() const noexcept override { return inflight_bytes_; }
  void pause(std::function<void()> done) override;
  void resume() override;
  void close(std::vector<engineio::packet> last) override;
  void abort() override;

 private:
  enum class state : std::uint8_t { idle, opening, open, pausing, paused, closed };

  http_request make_request(http::verb verb, std::string body) const;
  void poll();
  void on_poll(error_code ec, http_response res);
  void on_post(error_code ec, const http_response& res);
  void check_paused();
  void send_close_post();
  void fail(std::string_view message, error_code ec, std::string description);

  asio::any_io_executor ex_;
  std::shared_ptr<const engine_config> cfg_;
  std::shared_ptr<http_connection> get_;
  std::shared_ptr<http_connection> post_;
  state state_ = state::idle;
  bool polling_ = false;   // a GET is in flight
  bool writable_ = false;  // no POST is in flight
  std::size_t inflight_bytes_ = 0;
  std::function<void()> on_paused_;
  std::deque<std::string> close_bodies_;  // the goodbye POSTs, sent one after the other
};

}  // namespace ignis::client::detail
