#pragma once

// The WebSocket transport of a session, on the project's own frame codec. Its descriptor is
// registered once with the shard's readiness poller (not with Asio, whose waits re-arm the
// descriptor with a system call each time); it reads only when the socket is readable, into the
// shard's scratch buffer, so an idle connection owns no read buffer; its queued frames go out in
// one gather write per loop turn. Every way out of a connection has a deadline: a close is given
// the close timeout, a write that the client stops taking the write-stall timeout; then the
// connection is reset and everything queued for it freed.
#include "net/ready_poller.hpp"
#include "net/socket_close.hpp"

#include <ignis/engineio/server.hpp>
#include <ignis/net/websocket.hpp>
#include <ignis/net/websocket_control.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ignis::engineio {

/// What the WebSocket transports of one shard share, kept once instead of in each of them: the
/// shard's counters and the server's timeouts. Shared: a transport may outlive the server (its
/// poller lets go of it only when the runtime is destroyed) and still counts its own close.
struct websocket_shared {
  websocket_shared(std::chrono::milliseconds close_timeout,
                   std::chrono::milliseconds write_stall_timeout) noexcept;
  traffic_counters counters;
  std::uint32_t close_timeout_ms;        ///< at least 1
  std::uint32_t write_stall_timeout_ms;  ///< at least 1
};

class websocket_transport final : public net::ready_handler,
                                  public net::timer_client,
                                  public std::enable_shared_from_this<websocket_transport> {
 public:
  /// Takes the descriptor out of `conn` (from the shard's thread). `shared` is the home shard's.
  websocket_transport(net::shard& home, net::upgraded_connection&& conn,
                      std::size_t max_message_size, std::shared_ptr<websocket_shared> shared);

  /// Registers with the shard's poller and queues `handshake_response` (the 101) ahead of every
  /// frame.
  void start(std::string handshake_response);
  /// Decodes bytes that arrived with the upgrade request, then reads from the socket.
  void begin_reading(std::string leftover);
  /// Routes decoded packets to `s`: to its probe handling while `probing`, else as data.
  void bind(std::weak_ptr<session> s, bool probing);
  void unbind() { session_.reset(); }

  void send(message_ptr m);
  enum class close_mode : std::uint8_t {
    after_queued,  ///< the close frame follows what is queued
    drop_queued,   ///< what is queued is dropped (a slow consumer will not read it); the close
                   ///< frame is sent only if it can be written at once, else the connection is
                   ///< reset
  };
  /// Sends a close frame, then closes the connection, within the close timeout.
  void close(std::uint16_t code = 1000, close_mode mode = close_mode::after_queued);

  std::size_t buffered_bytes() const noexcept { return queued_bytes_; }
  ~websocket_transport();

  void on_ready(std::uint32_t events) override;
  void on_timer(net::clock::time_point now) override;

 private:
  void read_now();
  void on_readable();
  void read_later();
  // Decodes bytes from the client and dispatches what they complete; false once nothing more is
  // to be read (closing, closed, or a protocol error, which closes).
  bool decode(byte_span in);
  void dispatch(net::ws::event& ev);
  void schedule_flush();
  void flush();
  void consume(std::size_t written) noexcept;
  static void flush_batch();
  void finish();
  void linger();
  void discard_input();
  void lost(close_reason reason);
  void write_blocked();
  // Our close frame is queued (or the handshake is over): no more frames, close after the write.
  bool closing() const noexcept { return control_.current() != net::ws::control::state::open; }
  void send_close(std::uint16_t code, close_mode mode);
  void arm(net::clock::time_point deadline);

  net::shard& home_;
  net::connection_fd fd_;
  net::ws::control control_;  // beside fd_: these four bytes fill the padding after it
  bool probing_ = false;
  bool flush_scheduled_ = false;
  bool write_blocked_ = false;  // the kernel's buffer was full: writing resumes on EPOLLOUT
  net::ready_poller::token token_ = 0;
  net::ws::frame_decoder decoder_;
  std::weak_ptr<session> session_;
  std::shared_ptr<websocket_shared> shared_;
  net::connection_slot slot_;

  // Deadlines on the shard's timer wheel: of the close in progress, and of a blocked write that
  // makes no progress (max while not in use). Allocated when a connection first needs one, and
  // freed once none is left: an idle connection carries only the pointer.
  struct deadlines {
    net::clock::time_point close = net::clock::time_point::max();
    net::clock::time_point stall = net::clock::time_point::max();
    net::clock::time_point armed = net::clock::time_point::max();  // the earliest entry pending
    // The kernel's unacknowledged bytes when the write blocked (bounded by its send buffer).
    std::uint32_t unacked_at_block = 0;
  };
  deadlines& timing();
  std::unique_ptr<deadlines> deadlines_;

  std::vector<message_ptr> queue_;  // frames not completely written yet, oldest first
  std::size_t front_written_ = 0;   // bytes of queue_.front() already written
  std::size_t queued_bytes_ = 0;    // bytes of queue_ not written yet

  // Small members together: every idle connection carries them.
  bool closed_ = false;
  bool reading_ : 1 = false;       // begin_reading() was called
  bool read_pending_ : 1 = false;  // readable before begin_reading()
  bool read_posted_ : 1 = false;   // a read continues after the loop's other work
  bool lingering_ : 1 = false;     // closed for writing, discarding input until the client closes
};

}  // namespace ignis::engineio
