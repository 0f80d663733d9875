#pragma once

// MessagePack in the project's payload model (JSON values whose binary leaves are attachment
// placeholders), with the encoding choices of notepack.io, the codec of @socket.io/redis-adapter
// and @socket.io/redis-emitter: what Node publishes, we publish byte for byte. Sans-I/O.
#include <ignis/common/result.hpp>
#include <ignis/socketio/payload.hpp>

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::redis::detail {

/// Appends the msgpack form of `v`: integers (and doubles holding an integer, as JavaScript has
/// only one number type) in the smallest int form, other numbers as float64, strings as
/// fixstr/str8/16/32, and each placeholder of `attachments` as bin8/16/32 of its bytes.
void msgpack_encode(const boost::json::value& v,
                    const std::vector<socketio::attachment>& attachments, std::string& out);

struct msgpack_limits {
  /// Nesting of arrays and maps.
  std::size_t max_depth = 32;
};

/// Decodes one msgpack value (nothing may follow it). bin becomes a placeholder whose bytes are
/// appended to `attachments`; nil and notepack's `undefined` (fixext1 type 0) become null; a
/// timestamp (ext -1) becomes the ISO date string JSON.stringify would give; other ext values
/// (ArrayBuffer, type 0) become binary too. Map keys must be strings. Never throws, never reads
/// out of bounds, refuses the reserved byte 0xc1.
result<boost::json::value> msgpack_decode(std::string_view bytes,
                                          std::vector<socketio::attachment>& attachments,
                                          msgpack_limits limits = {});

}  // namespace ignis::redis::detail
