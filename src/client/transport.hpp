#pragma once

// The interface between the Engine.IO client and its transports (polling, WebSocket). Everything
// runs on the manager's strand. A transport reports to its listener through a weak reference and
// never calls it again once closed or aborted.
#include "client/config.hpp"

#include <ignis/client/error.hpp>
#include <ignis/engineio/packet.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ignis::client::detail {

namespace asio = boost::asio;

class transport;

class transport_listener {
 public:
  /// The transport is connected (polling: the handshake answer arrived; WebSocket: the upgrade
  /// succeeded). Packets follow.
  virtual void on_transport_open(transport& t) = 0;
  virtual void on_transport_packet(transport& t, engineio::packet& p) = 0;
  /// Everything handed to send() was written; the transport is writable again.
  virtual void on_transport_drain(transport& t) = 0;
  /// The transport failed; it is closed already.
  virtual void on_transport_error(transport& t, const connect_error& err) = 0;
  /// The server closed the transport.
  virtual void on_transport_close(transport& t) = 0;

 protected:
  ~transport_listener() = default;
};

class transport {
 public:
  virtual ~transport() = default;

  virtual transport_kind kind() const noexcept = 0;
  virtual void open() = 0;
  /// Sends packets; only when writable().
  virtual void send(std::vector<engineio::packet> packets) = 0;
  virtual bool writable() const noexcept = 0;
  /// Bytes accepted by send() and not yet written.
  virtual std::size_t buffered_bytes() const noexcept = 0;
  /// Polling: stop polling, wait for the requests in flight, then call `done` (the upgrade).
  virtual void pause(std::function<void()> done) { done(); }
  /// Undoes pause() after a failed upgrade.
  virtual void resume() {}
  /// Sends `last` and tells the server we leave (polling: a "1" packet; WebSocket: a close
  /// frame), then closes; bounded in time. No event is reported any more.
  virtual void close(std::vector<engineio::packet> last) = 0;
  /// Drops the connection at once. No event is reported any more.
  virtual void abort() = 0;

  void set_sid(std::string sid) { sid_ = std::move(sid); }
  void set_listener(std::weak_ptr<transport_listener> l) { listener_ = std::move(l); }

 protected:
  std::shared_ptr<transport_listener> listener() const { return listener_.lock(); }
  std::string sid_;
  std::weak_ptr<transport_listener> listener_;
};

/// A transport of kind `k`.
std::shared_ptr<transport> make_transport(transport_kind k, asio::any_io_executor ex,
                                          std::shared_ptr<const engine_config> cfg);

}  // namespace ignis::client::detail
