#include <ignis/net/websocket_control.hpp>

namespace ignis::net::ws {

control::action control::on_event(const event& ev) noexcept {
  using kind = action::kind;
  if (state_ == state::closed) return {};
  if (state_ == state::closing) {
    // Waiting for the answer to our close: the rest of what the peer sends is dropped.
    if (ev.kind != event_kind::close) return {};
    state_ = state::closed;
    return {kind::ended, 0};
  }
  switch (ev.kind) {
    case event_kind::ping:
      return {kind::pong, 0};
    case event_kind::pong:
      return {};
    case event_kind::close:
      // RFC 6455 §5.5.1: the answer echoes the peer's code (1000 when it gave none).
      state_ = state::closed;
      return {kind::close, ev.close_code == 0 ? std::uint16_t{1000} : ev.close_code};
    case event_kind::text:
    case event_kind::binary:
      return {kind::deliver, 0};
  }
  return {};
}

control::action control::on_error(error_code ec) noexcept {
  if (state_ != state::open) {
    state_ = state::closed;
    return {action::kind::ended, 0};
  }
  state_ = state::closed;
  return {action::kind::close, close_code_for(ec)};
}

bool control::close() noexcept {
  if (state_ != state::open) return false;
  state_ = state::closing;
  return true;
}

}  // namespace ignis::net::ws
