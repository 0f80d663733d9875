#pragma once

// The Redis stream of @socket.io/redis-streams-adapter (0.2 and 0.3 alike): how a cluster message
// becomes the fields of one XADD entry, how XREAD and XRANGE replies give them back, and the value
// of a connection state recovery session key. Sans-I/O: values in, commands and bytes out, and
// back.
//
// An entry has the fields uid, nsp, type (the decimal ClusterAdapter message type) and, when the
// message has data, data: JSON, or the base64 of the msgpack of the data when the type may carry
// binary and the data does (a reader tells them apart by the leading '{').
#include "redis_adapter/messages.hpp"

#include <ignis/common/result.hpp>
#include <ignis/redis/reply.hpp>
#include <ignis/socketio/adapter.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::redis::detail {

/// A stream entry id, <milliseconds>-<sequence>, ordered as Redis orders them.
struct stream_id {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const stream_id&) const = default;
  std::string str() const;
};
/// Strict: digits, '-', digits, each within 64 bits (the offsets clients send back are parsed
/// with it, so anything else is refused, as Node's /^[0-9]+-[0-9]+$/ does).
std::optional<stream_id> parse_stream_id(std::string_view text);
/// The smallest id after `id`: an exclusive XRANGE start that Redis before 6.2 understands.
stream_id next_stream_id(stream_id id);

/// A cluster message as it travels in the stream. `data` absent: the heartbeats and
/// ADAPTER_CLOSE, which Node writes without a data field.
struct stream_message {
  cluster_type type{};
  std::string uid;
  std::string nsp;
  std::optional<boost::json::object> data;
  std::vector<socketio::attachment> attachments;
};

/// XADD <stream> MAXLEN ~ <max_len> * uid .. nsp .. type .. [data ..]
std::vector<std::string> xadd_command(std::string_view stream, std::size_t max_len,
                                      const stream_message& m);
/// The value of the data field (Node's encode()).
std::string encode_stream_data(cluster_type type, const boost::json::object& data,
                               const std::vector<socketio::attachment>& attachments);

/// One entry of an XREAD or XRANGE reply. `message` holds the reason when the fields do not make
/// a message (no nsp, a type that is no number of 1..13, data that is neither JSON nor base64
/// msgpack, an object expected and something else found): such an entry is skipped and counted,
/// but its id still moves the reader on.
struct stream_entry {
  stream_id id;
  std::string id_text;
  result<stream_message> message;
};

/// The entries of an XRANGE reply ([[id, [field, value, ...]], ...]). An entry whose id or
/// shape is wrong is left out and counted in `bad_entries`; a reply that is no array at all is
/// an error.
struct entries_reply {
  std::vector<stream_entry> entries;
  std::size_t bad_entries = 0;
};
result<entries_reply> decode_xrange(const reply& r);
/// The entries of an XREAD reply for one stream ([[stream, entries]]); nil (the BLOCK time
/// passed without an entry) is an empty list.
result<entries_reply> decode_xread(const reply& r);
/// The message of one entry's flat [field, value, ...] list, as Node's decode() reads it.
result<stream_message> decode_stream_fields(const std::vector<reply>& fields);

/// A BROADCAST entry's packet and options ({packet: {type: 2, data, id?}, opts}).
struct stream_broadcast {
  socketio::packet packet;
  socketio::broadcast_options opts;
  bool with_ack = false;  ///< the packet had an id (socket.emit with an ack, under recovery)
};
result<stream_broadcast> decode_stream_broadcast(const stream_message& m, std::string_view nsp);

/// Node's shouldIncludePacket: sent to all or to one of `rooms`, and to none of them excluded.
bool session_would_receive(const std::vector<std::string>& rooms,
                           const socketio::broadcast_options& opts);

/// A recovery session key's value: base64 of the msgpack of {sid, pid, rooms, data}.
std::string encode_session(const socketio::session_state& s);
/// Refused when it is not base64, not msgpack, or lacks a string sid and pid or a list of rooms.
result<socketio::session_state> decode_session(std::string_view value);

}  // namespace ignis::redis::detail
