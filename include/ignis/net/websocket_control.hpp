#pragma once

// RFC 6455's control frames and closing handshake for one connection, in either role, without
// I/O: the decoder's events go in, and the control says what to do (deliver a message, answer a
// ping, send a close frame, end the connection). Both the server's and the client's transports
// follow it, so the two ends answer a close the same way.
#include <ignis/net/websocket.hpp>

#include <cstdint>
#include <string>

namespace ignis::net::ws {

class control {
 public:
  enum class state : std::uint8_t {
    open,     ///< messages flow
    closing,  ///< our close frame is queued: only the peer's close still matters
    closed,   ///< the closing handshake is over (or the peer broke the protocol)
  };
  struct action {
    enum class kind : std::uint8_t {
      none,     ///< nothing to do (a pong, or input after our close)
      deliver,  ///< a data message for the layer above
      pong,     ///< send a pong with the ping's payload
      close,    ///< send a close frame with `code`, then end the connection: the peer closed
                ///< (`code` echoes its code, 1000 when it sent none) or broke the protocol
      ended,    ///< the peer answered our close: end the connection
    };
    kind what = kind::none;
    std::uint16_t code = 0;
  };

  state current() const noexcept { return state_; }

  /// What to do with one decoded event.
  action on_event(const event& ev) noexcept;
  /// What to do when the decoder failed with `ec` (send the close code RFC 6455 asks for).
  action on_error(error_code ec) noexcept;
  /// We close: true when a close frame with our code should be queued (false if closing already).
  bool close() noexcept;

 private:
  state state_ = state::open;
};

}  // namespace ignis::net::ws
