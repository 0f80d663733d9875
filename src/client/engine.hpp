#pragma once

// The Engine.IO v4 client (engine.io-client's Socket): opens a session over the first transport,
// moves it from polling to WebSocket when the server offers it (probe "2probe"/"3probe", pause
// polling, "5"), answers pings, and declares the server dead when no ping came within
// pingInterval + pingTimeout. Runs on the manager's strand; reports to its listener through a
// weak reference and never after close().
#include "client/transport.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ignis::client::detail {

/// Why an engine closed (engine.io-client's close reasons).
enum class engine_close : std::uint8_t {
  transport_close,
  transport_error,
  ping_timeout,
  parse_error,
};

class engine;

class engine_listener {
 public:
  /// The handshake arrived: the session is open.
  virtual void on_engine_open(engine& e) = 0;
  virtual void on_engine_message(engine& e, engineio::packet& p) = 0;
  virtual void on_engine_ping(engine& e) = 0;
  virtual void on_engine_upgrade(engine& e, transport_kind to) = 0;
  /// A transport failed; on_engine_close(transport_error) follows unless the listener closed the
  /// engine meanwhile.
  virtual void on_engine_error(engine& e, const connect_error& err) = 0;
  virtual void on_engine_close(engine& e, engine_close reason) = 0;

 protected:
  ~engine_listener() = default;
};

class engine final : public transport_listener, public std::enable_shared_from_this<engine> {
 public:
  engine(asio::any_io_executor strand, std::shared_ptr<const engine_config> cfg,
         std::weak_ptr<engine_listener> listener);
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  void open();
  /// Queues packets (one Socket.IO packet: its text and its attachments). False when refused:
  /// closed, or over max_write_buffer_bytes.
  bool send(std::vector<engineio::packet> packets);
  /// True when a packet handed over now would be written at once (for volatile emits).
  bool writable() const noexcept;
  /// Sends what is still queued and a goodbye, then closes. No event is reported after this.
  void close();
  /// Drops the connection at once. No event is reported after this.
  void abort();

  bool is_open() const noexcept { return state_ == state::open; }
  const std::string& id() const noexcept { return sid_; }
  transport_kind current_transport() const noexcept;
  std::size_t buffered_bytes() const noexcept;

  // transport_listener
  void on_transport_open(transport& t) override;
  void on_transport_packet(transport& t, engineio::packet& p) override;
  void on_transport_drain(transport& t) override;
  void on_transport_error(transport& t, const connect_error& err) override;
  void on_transport_close(transport& t) override;

 private:
  enum class state : std::uint8_t { idle, opening, open, closed };

  std::shared_ptr<transport> start_transport(transport_kind k);
  void on_packet(engineio::packet& p);
  void on_handshake(std::string_view json);
  void probe();
  void on_probe_packet(engineio::packet& p);
  void on_paused();
  void probe_failed();
  void reset_ping_timer();
  void flush();
  std::size_t writable_count() const noexcept;
  /// engine.io-client's _onClose: ends everything and reports `reason`.
  void end(engine_close reason);
  void teardown(bool graceful);

  asio::any_io_executor strand_;
  std::shared_ptr<const engine_config> cfg_;
  std::weak_ptr<engine_listener> listener_;
  state state_ = state::idle;
  std::shared_ptr<transport> transport_;
  std::shared_ptr<transport> probe_;
  bool upgrading_ = false;

  std::string sid_;
  std::uint32_t ping_interval_ = 25'000;
  std::uint32_t ping_timeout_ = 20'000;
  std::uint64_t max_payload_ = 1'000'000;
  asio::steady_timer ping_timer_;

  std::vector<engineio::packet> write_buffer_;
  std::size_t write_buffer_bytes_ = 0;
};

}  // namespace ignis::client::detail
