#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace ignis::socketio {

/// Errors of the Socket.IO v5 packet decoder. Every one of them is the peer's fault, and Node
/// closes the whole Engine.IO connection on any of them ("parse error").
enum class codec_error {
  empty_packet = 1,          ///< an Engine.IO message with no Socket.IO type character
  unknown_packet_type,       ///< the type character is not 0-6
  invalid_attachment_count,  ///< a binary packet whose "N-" prefix is missing, malformed or 0
  too_many_attachments,      ///< a binary packet announcing more attachments than allowed
  invalid_ack_id,            ///< an ack id above 2^53-1 (not an exact JavaScript integer)
  invalid_json,              ///< the payload is not valid JSON, or has trailing garbage
  json_too_deep,             ///< the payload nests arrays/objects deeper than allowed
  invalid_payload,           ///< valid JSON, but not what the packet type allows (`42{}`)
  packet_too_large,          ///< a text message or an attachment above max_packet_size
  unexpected_text,           ///< a text message while a binary packet awaits attachments
  unexpected_binary,         ///< a binary message with no binary packet awaiting it
  invalid_placeholder,       ///< a `"_placeholder":true` object without a valid integer `num`
  placeholder_out_of_range,  ///< a placeholder `num` not below the number of attachments
};

const boost::system::error_category& codec_category() noexcept;

inline boost::system::error_code make_error_code(codec_error e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

}  // namespace ignis::socketio

template <>
struct boost::system::is_error_code_enum<ignis::socketio::codec_error> : std::true_type {};
