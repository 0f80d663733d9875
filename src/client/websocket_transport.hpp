#pragma once

// Engine.IO over WebSocket: the HTTP upgrade with Beast's serializer and parser, then the
// project's frame codec in the client role (every frame masked with a key from a CSPRNG). One
// Engine.IO packet per message; frames queued while a write is in flight go out together.
#include "client/random.hpp"
#include "client/stream.hpp"
#include "client/transport.hpp"

#include <ignis/net/websocket.hpp>
#include <ignis/net/websocket_control.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <optional>

namespace ignis::client::detail {

class websocket_transport final : public transport,
                                  public std::enable_shared_from_this<websocket_transport> {
 public:
  websocket_transport(asio::any_io_executor ex, std::shared_ptr<const engine_config> cfg);

  transport_kind kind() const noexcept override { return transport_kind::websocket; }
  void open() override;
  void send(std::vector<engineio::packet> packets) override;
  bool writable() const noexcept override { return state_ == state::open; }
  std::size_t buffered_bytes() const noexcept override { return queued_bytes_ + inflight_bytes_; }
  void close(std::vector<engineio::packet> last) override;
  void abort() override;

 private:
  enum class state : std::uint8_t { idle, connecting, open, closing, closed };

  void write_upgrade();
  void read_upgrade();
  void on_upgrade(error_code ec);
  void read();
  /// Decodes received bytes; false when the transport ended meanwhile.
  bool on_bytes(byte_span bytes);
  bool dispatch(net::ws::event& ev);
  void queue_frame(net::ws::opcode op, std::string_view payload);
  void queue_close(std::uint16_t code);
  void flush();
  void fail(std::string_view message, error_code ec, std::string description);
  void lost();
  /// Lets a queued close frame go out (bounded in time), then ends the connection.
  void linger();
  void arm_close_timer(std::chrono::milliseconds after);

  asio::any_io_executor ex_;
  std::shared_ptr<const engine_config> cfg_;
  std::shared_ptr<net_stream> stream_;
  state state_ = state::idle;
  std::string key_;

  // The upgrade.
  boost::beast::http::request<boost::beast::http::empty_body> upgrade_req_;
  boost::beast::flat_buffer upgrade_buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;

  // Reading.
  net::ws::frame_decoder decoder_;
  net::ws::control control_;
  std::array<std::uint8_t, 16 * 1024> read_buffer_{};
  std::vector<net::ws::event> events_;

  // Writing.
  mask_source masks_;
  std::vector<std::string> queue_;
  std::vector<std::string> inflight_;
  std::size_t queued_bytes_ = 0;
  std::size_t inflight_bytes_ = 0;
  bool writing_ = false;
  bool close_queued_ = false;  // a close frame is queued: the connection ends after the write
  asio::steady_timer close_timer_;
};

}  // namespace ignis::client::detail
