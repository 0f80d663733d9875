#pragma once

// Socket.IO protocol v5 packets (socket.io-parser 4.2.7 on the wire). Sans-I/O: each Socket.IO
// packet is the data of one Engine.IO text message, followed for binary packets by one Engine.IO
// binary message per attachment.
//
//   <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
#include <ignis/common/result.hpp>
#include <ignis/socketio/error.hpp>
#include <ignis/socketio/json.hpp>

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::socketio {

enum class packet_type : std::uint8_t {
  connect = 0,
  disconnect = 1,
  event = 2,
  ack = 3,
  connect_error = 4,
  binary_event = 5,
  binary_ack = 6,
};

/// "CONNECT", "BINARY_EVENT", ... (socket.io-parser's names), for logs and test output.
std::string_view to_string(packet_type t) noexcept;

/// One binary attachment. Immutable and shared, so that a broadcast hands the same bytes to every
/// recipient without copying them.
using attachment = std::shared_ptr<const std::string>;

/// Wraps bytes as an attachment.
inline attachment make_attachment(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

/// One Socket.IO packet. Binary attachments are kept beside the JSON, exactly Socket.IO's wire
/// model: the JSON holds {"_placeholder":true,"num":N} objects and attachments[N] holds the bytes.
///
/// The decoder returns binary packets as `event` / `ack` with `attachments` filled in, as
/// socket.io-parser's Decoder does, so handlers need not care how the packet travelled. The
/// encoder accepts either form and picks the wire type from `attachments`.
struct packet {
  packet_type type = packet_type::event;
  std::string nsp = "/";
  std::optional<std::uint64_t> id;         ///< ack id
  std::optional<boost::json::value> data;  ///< absent when the packet has no payload
  std::vector<attachment> attachments;

  /// Attachments compare by content. JSON compares as boost::json::value does (an int64 equals
  /// the same uint64, but 1 does not equal 1.0).
  friend bool operator==(const packet& a, const packet& b) noexcept;
};

/// A packet as Engine.IO messages: `text` is the data of one text message, each attachment the
/// data of one binary message sent right after it, in order.
struct encoded_packet {
  std::string text;
  std::vector<attachment> attachments;
};

/// Encodes like socket.io-parser's Encoder: an EVENT/ACK with attachments becomes
/// BINARY_EVENT/BINARY_ACK with "N-" (and a BINARY_EVENT/BINARY_ACK without attachments is sent
/// as a plain EVENT/ACK); "/nsp," only when nsp is neither "/" nor empty; then the ack id; then
/// the JSON (serialize_js). Attachments of other packet types are not sent: only events and acks
/// carry binary data in Socket.IO. The packet is not validated: what the caller builds is sent.
encoded_packet encode(const packet& p);

/// Appends only the text part of encode(p) (for packets known to have no attachments, or when the
/// caller sends p.attachments itself).
void encode_to(const packet& p, std::string& text_out);

struct decoder_limits {
  /// socket.io-parser's maxAttachments.
  std::size_t max_attachments = 10;
  /// Nesting depth of arrays and objects in the JSON payload.
  std::size_t max_json_depth = 32;
  /// Largest accepted Engine.IO message: the text of a packet, or any one attachment. Node's
  /// maxHttpBufferSize, which bounds each message the same way, defaults to 1e6 too.
  std::size_t max_packet_size = 1'000'000;
};

/// The state of a decoder (see decoder) without its limits, which each call is given: in 8
/// bytes, for an owner of many decoders that share their limits (a server has one per
/// connection).
class packet_assembler {
 public:
  result<std::optional<packet>> feed_text(std::string_view text, const decoder_limits& limits);
  result<std::optional<packet>> feed_binary(std::string bytes, const decoder_limits& limits);
  bool awaiting_attachments() const noexcept { return pending_ != nullptr; }
  void reset() noexcept { pending_.reset(); }

 private:
  // A binary packet's header while its attachments arrive, with the count it announced. Held by
  // pointer: almost no connection is ever between a header and its attachments.
  struct pending_packet {
    packet p;
    std::size_t expected;
  };
  std::unique_ptr<pending_packet> pending_;
};

/// Decodes the Engine.IO messages of one connection into packets, like socket.io-parser 4.2.7's
/// Decoder followed by isPacketValid. Never throws on peer input.
///
/// Any error ends the packet being decoded, including a binary packet waiting for attachments;
/// the decoder is then ready for a new packet. Node closes the connection on any error, and so
/// should the caller.
///
/// Where socket.io-parser leans on JavaScript's Number() or JSON.parse, some odd input it accepts
/// is refused here (none of it is produced by any Socket.IO implementation):
/// * an empty message or a whitespace type character (Node reads both as CONNECT, Number("") = 0);
/// * an attachment count other than plain digits (" 1-", "1.0-", "1e0-");
/// * an ack id above 2^53-1 (Node rounds it), or followed by non-ASCII whitespace;
/// * a placeholder `num` that is not an integer (Node puts `undefined` in its place);
/// * a "\ud800" lone surrogate escape in a JSON string (JavaScript strings are UTF-16).
/// ASCII whitespace right after the type/namespace is an ack id of 0, as in Node ("2 [..]").
/// Integers in the JSON that a double cannot hold exactly are kept exact (Node rounds them).
class decoder {
 public:
  explicit decoder(decoder_limits limits = {}) noexcept : limits_(limits) {}

  /// Feeds one Engine.IO text message. Returns the completed packet, or nullopt when it is a
  /// binary packet's header now waiting for its attachments.
  result<std::optional<packet>> feed_text(std::string_view text) {
    return state_.feed_text(text, limits_);
  }

  /// Feeds one Engine.IO binary message (an attachment). Returns the completed packet once the
  /// last attachment arrived, else nullopt. Error when no binary packet is pending.
  result<std::optional<packet>> feed_binary(std::string bytes) {
    return state_.feed_binary(std::move(bytes), limits_);
  }

  bool awaiting_attachments() const noexcept { return state_.awaiting_attachments(); }

  /// Drops a binary packet waiting for attachments.
  void reset() noexcept { state_.reset(); }

 private:
  packet_assembler state_;
  decoder_limits limits_;
};

/// {"_placeholder":true,"num":num}, the stand-in for attachments[num] in a payload.
boost::json::value make_placeholder(std::size_t num);

/// The attachment index if `v` is a well-formed placeholder: an object whose "_placeholder" is
/// true and whose "num" is a non-negative integer (1.0 counts, as it does in JavaScript). Whether
/// the index is below the number of attachments is the caller's check; the decoder makes it for
/// binary packets.
std::optional<std::size_t> placeholder_index(const boost::json::value& v) noexcept;

/// The event-name check of socket.io-parser: these names have a meaning of their own and are
/// refused as event names (connect, connect_error, disconnect, disconnecting, newListener,
/// removeListener).
bool is_reserved_event(std::string_view name) noexcept;

/// A namespace name with its leading '/': "chat" and "/chat" are the same namespace, and "" is
/// the main one, "/" (as the server's of() and the client's Manager.socket() take them).
std::string normalize_namespace(std::string name);

}  // namespace ignis::socketio
