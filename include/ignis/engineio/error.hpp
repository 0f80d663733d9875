#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace ignis::engineio {

/// Errors of the Engine.IO v4 codecs. Every one of them is the peer's fault.
enum class codec_error {
  empty_packet = 1,     ///< a packet (or a polling record) with no type character
  unknown_packet_type,  ///< the type character is not 0-6 and not 'b'
  invalid_base64,       ///< a 'b' record whose base64 does not decode
  too_many_packets,     ///< a polling payload with more records than allowed
  invalid_handshake,    ///< an open packet whose JSON is not a valid handshake object
};

const boost::system::error_category& codec_category() noexcept;

inline boost::system::error_code make_error_code(codec_error e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

}  // namespace ignis::engineio

template <>
struct boost::system::is_error_code_enum<ignis::engineio::codec_error> : std::true_type {};
