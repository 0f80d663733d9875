#pragma once

// Engine.IO protocol v4 packets and the HTTP long-polling payload format. Sans-I/O: bytes in,
// values out.
#include <ignis/common/bytes.hpp>
#include <ignis/common/result.hpp>
#include <ignis/engineio/error.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::engineio {

/// The protocol version, as the EIO query parameter of every request names it.
inline constexpr std::string_view protocol_version = "4";

enum class packet_type : std::uint8_t {
  open = 0,
  close = 1,
  ping = 2,
  pong = 3,
  message = 4,
  upgrade = 5,
  noop = 6,
};

/// One Engine.IO packet. `data` holds UTF-8 text, or raw bytes when `binary` is set (binary data
/// exists only for message packets).
struct packet {
  packet_type type = packet_type::message;
  bool binary = false;
  std::string data;

  static packet text(packet_type t, std::string d = {}) { return {t, false, std::move(d)}; }
  static packet bytes(std::string raw) { return {packet_type::message, true, std::move(raw)}; }

  friend bool operator==(const packet&, const packet&) = default;
};

/// The record separator between packets of a polling payload.
inline constexpr char record_separator = '\x1e';

/// Decodes a text packet: a WebSocket text frame, or one record of a polling payload (where a
/// leading 'b' means base64-encoded binary data).
result<packet> decode_packet(std::string_view text);

/// A WebSocket binary frame is always a binary message packet.
packet decode_binary_packet(byte_span frame);

/// Appends the text form of `p` as sent in a WebSocket text frame ("4hello"). Binary packets are
/// sent as raw bytes in a binary frame, so for them this appends the raw data unchanged.
void encode_packet(const packet& p, std::string& out);

/// Appends the polling form of `p` (binary as 'b' + base64).
void encode_polling_packet(const packet& p, std::string& out);

/// Encodes packets as one polling payload ("4hello\x1e2\x1ebAQID").
std::string encode_payload(std::span<const packet> packets);

struct payload_limits {
  std::size_t max_packets = 10'000;
};

/// Decodes a polling payload. An empty body, an empty record or any undecodable record is an error
/// (Node closes the session with "parse error").
result<std::vector<packet>> decode_payload(std::string_view body, payload_limits limits = {});

/// Incremental form of decode_payload for bodies that arrive in pieces: complete records are
/// decoded as soon as their separator arrives, so only the unfinished record is kept.
class payload_decoder {
 public:
  explicit payload_decoder(payload_limits limits = {}) : limits_(limits) {}

  /// Feeds the next piece of the body; decoded packets are appended to `out`. After an error the
  /// decoder stays failed.
  error_code feed(std::string_view chunk, std::vector<packet>& out);
  /// Ends the body: decodes the last record.
  error_code finish(std::vector<packet>& out);

 private:
  error_code take_record(std::string_view record, std::vector<packet>& out);

  payload_limits limits_;
  std::string partial_;
  std::size_t count_ = 0;
  error_code failed_;
};

/// The JSON object of the open packet.
struct handshake {
  std::string sid;
  std::vector<std::string> upgrades;
  std::uint32_t ping_interval = 25'000;
  std::uint32_t ping_timeout = 20'000;
  std::uint64_t max_payload = 1'000'000;

  friend bool operator==(const handshake&, const handshake&) = default;
};

/// The open packet's data, keys in Node's order: sid, upgrades, pingInterval, pingTimeout,
/// maxPayload.
std::string encode_handshake(const handshake& h);
result<handshake> decode_handshake(std::string_view json);

}  // namespace ignis::engineio
