#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace ignis::net::ws {

/// Protocol violations found by the WebSocket frame decoder (RFC 6455). Every one of them is the
/// peer's fault and ends the connection; close_code_for() gives the close code to send.
enum class frame_error {
  reserved_bits_set = 1,     ///< RSV1-3 set, but no extension was negotiated
  reserved_opcode,           ///< opcode 3-7 or 11-15
  unmasked_frame,            ///< a client sent an unmasked frame (server role)
  masked_frame,              ///< a server sent a masked frame (client role)
  control_frame_too_big,     ///< a control frame with more than 125 bytes of payload
  fragmented_control_frame,  ///< a control frame without FIN
  unexpected_continuation,   ///< a continuation frame while no fragmented message is in progress
  expected_continuation,     ///< a text or binary frame while a fragmented message is in progress
  invalid_length,            ///< a 64-bit payload length with its most significant bit set
  message_too_big,           ///< the message would exceed decoder_limits::max_message_size
  invalid_utf8,              ///< a text message that is not valid UTF-8
  close_payload_too_short,   ///< a close frame with a 1-byte payload (half a status code)
  invalid_close_code,        ///< a close code that must not appear on the wire (RFC 6455 §7.4)
  invalid_close_reason,      ///< a close reason that is not valid UTF-8
};

const boost::system::error_category& frame_category() noexcept;

inline boost::system::error_code make_error_code(frame_error e) noexcept {
  return {static_cast<int>(e), frame_category()};
}

}  // namespace ignis::net::ws

template <>
struct boost::system::is_error_code_enum<ignis::net::ws::frame_error> : std::true_type {};
