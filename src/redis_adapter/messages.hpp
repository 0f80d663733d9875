#pragma once

// The messages of @socket.io/redis-adapter 8.3 (classic and sharded) and @socket.io/redis-emitter
// 5.1, as JSON values in the project's payload model, plus their channel names. Sans-I/O: values
// in, bytes out, and back. Layouts and key orders are the Node packages', checked against messages
// captured from them (tests/unit/redis_adapter/vectors).
#include <ignis/common/result.hpp>
#include <ignis/socketio/broadcast_options.hpp>
#include <ignis/socketio/packet.hpp>
#include <ignis/socketio/payload.hpp>
#include <ignis/socketio/socket_info.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::redis::detail {

/// A decoded message: the JSON value, and the bytes of its msgpack bin leaves.
struct wire_value {
  boost::json::value value;
  std::vector<socketio::attachment> attachments;
};

/// Reads a message as the Node adapters do: JSON when it starts with '{', msgpack otherwise.
result<wire_value> decode_message(std::string_view bytes);
std::string to_msgpack(const boost::json::value& v,
                       const std::vector<socketio::attachment>& attachments = {});
std::string to_json(const boost::json::value& v);
/// Whether `v` holds a placeholder of one of `attachments` (Node's hasBinary).
bool has_binary(const boost::json::value& v, const std::vector<socketio::attachment>& attachments);

// -- Pieces shared by every message -------------------------------------------------------------

enum class opts_layout {
  adapter,        ///< {rooms, except, flags}
  emitter,        ///< {rooms, flags, except}
  without_flags,  ///< {rooms, except}: the classic adapter's JSON requests
};
boost::json::object encode_opts(const socketio::broadcast_options& opts, opts_layout layout);
/// Lenient like Node: missing lists are empty, non-string entries are skipped; flags read when
/// present (volatile, compress, timeout).
socketio::broadcast_options decode_opts(const boost::json::value* v);

/// {type: 2, data: [event, ...args]} (+ nsp when `nsp` is given), from an EVENT packet.
boost::json::object encode_event(const socketio::packet& p, const std::string* nsp);
/// The EVENT packet of {type, data, nsp?}; `nsp` absent means `fallback_nsp`. Refused unless data
/// is an array starting with a string.
result<socketio::packet> decode_event(const boost::json::value& v,
                                      const std::vector<socketio::attachment>& attachments,
                                      std::string_view fallback_nsp);

boost::json::object encode_socket(const socketio::socket_info& s);
std::optional<socketio::socket_info> decode_socket(const boost::json::value& v);

/// The first acknowledgement argument, the one value a server relays (absent: JavaScript's
/// undefined, which JSON.stringify and notepack leave out).
std::optional<boost::json::value> first_arg(const socketio::payload& p);
/// The payload standing for a relayed value, with the attachments it refers to.
socketio::payload payload_of(const boost::json::value* v,
                             const std::vector<socketio::attachment>& attachments);

// -- Classic adapter ------------------------------------------------------------------------------

struct classic_channels {
  std::string broadcast;          ///< <key>#<nsp>#  (PSUBSCRIBE <broadcast>*)
  std::string request;            ///< <key>-request#<nsp>#
  std::string response;           ///< <key>-response#<nsp>#
  std::string specific_response;  ///< <key>-response#<nsp>#<uid>#
};
classic_channels make_classic_channels(std::string_view key, std::string_view nsp,
                                       std::string_view uid);

/// The request types of the classic adapter (RequestType in its index.js).
enum class request_type : std::int64_t {
  sockets = 0,
  all_rooms = 1,
  remote_join = 2,
  remote_leave = 3,
  remote_disconnect = 4,
  remote_fetch = 5,
  server_side_emit = 6,
  broadcast = 7,
  broadcast_client_count = 8,
  broadcast_ack = 9,
};
/// The number a request's "type" member carries.
constexpr std::int64_t type_number(request_type t) noexcept {
  return static_cast<std::int64_t>(t);
}

/// [uid, {type:2, data, nsp}, opts]: a broadcast, msgpack.
std::string encode_classic_broadcast(std::string_view uid, const socketio::packet& p,
                                     const socketio::broadcast_options& opts, opts_layout layout);
struct classic_broadcast {
  std::string uid;
  socketio::packet packet;
  socketio::broadcast_options opts;
};
result<classic_broadcast> decode_classic_broadcast(std::string_view bytes);

// -- Sharded adapter (socket.io-adapter's ClusterAdapter messages) -----------------------------

enum class cluster_type : std::int64_t {
  initial_heartbeat = 1,
  heartbeat = 2,
  broadcast = 3,
  sockets_join = 4,
  sockets_leave = 5,
  disconnect_sockets = 6,
  fetch_sockets = 7,
  fetch_sockets_response = 8,
  server_side_emit = 9,
  server_side_emit_response = 10,
  broadcast_client_count = 11,
  broadcast_ack = 12,
  adapter_close = 13,
};

/// {type, data, uid, nsp}: JSON, or msgpack when the type may carry binary and `data` does, or
/// always msgpack (@socket.io/redis-streams-adapter 0.3's pub/sub messages).
std::string encode_cluster(cluster_type type, boost::json::object data, std::string_view uid,
                           std::string_view nsp,
                           const std::vector<socketio::attachment>& attachments = {},
                           bool always_msgpack = false);
struct cluster_message {
  cluster_type type{};
  boost::json::object data;
  std::string uid;
  std::string nsp;
  std::vector<socketio::attachment> attachments;
};
result<cluster_message> decode_cluster(std::string_view bytes);

struct sharded_channels {
  std::string main;      ///< <prefix>#<nsp>#
  std::string response;  ///< <prefix>#<nsp>#<uid>#
};
sharded_channels make_sharded_channels(std::string_view prefix, std::string_view nsp,
                                       std::string_view uid);

// -- Helpers for request bodies
// --------------------------------------------------------------------

/// The strings of an array member (non-strings skipped); empty when absent.
std::vector<std::string> string_list(const boost::json::object& o, std::string_view key);
boost::json::array to_array(const std::vector<std::string>& v);
/// A string member, or empty.
std::string string_member(const boost::json::object& o, std::string_view key);
/// An integer member (a whole double counts), or nullopt.
std::optional<std::int64_t> integer_member(const boost::json::object& o, std::string_view key);

}  // namespace ignis::redis::detail
