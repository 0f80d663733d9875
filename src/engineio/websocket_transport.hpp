#pragma once

// The WebSocket transport of a session, on the project's own frame codec. It reads only when the
// socket is readable, into the shard's scratch buffer, so an idle connection owns no read buffer;
// its queued frames go out in one gather write per loop turn.
#include <ignis/engineio/server.hpp>
#include <ignis/net/websocket.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace ignis::engineio {

class websocket_transport final : public std::enable_shared_from_this<websocket_transport> {
 public:
  websocket_transport(net::shard& home, net::tcp::socket socket, std::size_t max_message_size);

  /// Queues `handshake_response` (the 101) ahead of every frame.
  void start(std::string handshake_response);
  /// Decodes bytes that arrived with the upgrade request, then reads from the socket.
  void begin_reading(std::string leftover);
  /// Routes decoded packets to `s`: to its probe handling while `probing`, else as data.
  void bind(std::weak_ptr<session> s, bool probing);
  void unbind() { session_.reset(); }

  void send(message_ptr m);
  /// Sends a close frame after what is queued, then closes the connection.
  void close(std::uint16_t code = 1000, std::string_view reason = {});
  /// Closes the TCP connection at once, dropping queued frames.
  void abort();

  std::size_t buffered_bytes() const noexcept { return queued_bytes_ + inflight_bytes_; }
  bool is_closed() const noexcept { return closed_; }
  ~websocket_transport();

  /// WebSocket connections of this process not closed yet (still writing, e.g. at shutdown).
  static std::size_t open_count() noexcept { return open_count_.load(std::memory_order_relaxed); }

 private:
  // Changes once per connection, never per frame.
  static inline std::atomic<std::size_t> open_count_{0};
  void wait_readable();
  void on_readable();
  void dispatch(net::ws::event& ev);
  void schedule_flush();
  void flush();
  void write_completed(const boost::system::error_code& ec);
  static void flush_batch();
  void finish();
  void linger();
  void discard_input();
  void lost(close_reason reason);

  net::shard& home_;
  net::tcp::socket socket_;
  net::ws::frame_decoder decoder_;
  std::weak_ptr<session> session_;
  bool probing_ = false;

  std::vector<message_ptr> queue_;
  std::vector<message_ptr> inflight_;
  std::size_t queued_bytes_ = 0;
  std::size_t inflight_bytes_ = 0;
  bool writing_ = false;
  bool flush_scheduled_ = false;
  bool closing_ = false;  // close frame queued: no more frames, close after the write
  bool closed_ = false;
  bool reading_ = false;
  bool lingering_ = false;  // closed for writing, discarding input until the client closes
};

}  // namespace ignis::engineio
