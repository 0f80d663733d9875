#pragma once

// WebSocket framing (RFC 6455), sans-I/O: bytes in, messages out; messages in, frame bytes out.
// No extensions are negotiated, so RSV1-3 must be clear. The framing is the project's own (not
// Beast's websocket::stream) so that a broadcast can be framed once and the same bytes written to
// thousands of sockets with gather writes.
#include <ignis/common/bytes.hpp>
#include <ignis/common/result.hpp>
#include <ignis/common/utf8.hpp>
#include <ignis/net/websocket_error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::net::ws {

/// Which end of the connection this codec serves. A server only accepts masked frames from its
/// client; a client only accepts unmasked frames from its server (RFC 6455 §5.1).
enum class role : std::uint8_t { server, client };

enum class opcode : std::uint8_t {
  continuation = 0,
  text = 1,
  binary = 2,
  close = 8,
  ping = 9,
  pong = 10,
};

/// A 4-byte masking key (client-to-server frames).
using mask_key = std::array<std::uint8_t, 4>;

/// Largest payload of a control frame (RFC 6455 §5.5).
inline constexpr std::size_t max_control_payload = 125;

struct decoder_limits {
  /// Largest reassembled data message, all fragments together (at most 4 GiB: larger values are
  /// taken as 4 GiB). Control frames are always <= 125.
  std::size_t max_message_size = 1'000'000;
};

enum class event_kind { text, binary, ping, pong, close };

/// One complete data message or one control frame.
struct event {
  event_kind kind = event_kind::binary;
  /// The message (text: valid UTF-8), the ping/pong application data, or the close reason (valid
  /// UTF-8, without the status code).
  std::string payload;
  /// For close: the status code, or 0 when the close frame had none (then treat it as 1005).
  std::uint16_t close_code = 0;

  friend bool operator==(const event&, const event&) = default;
};

/// Incremental frame decoder: feed it bytes as they are read; it keeps only the unfinished frame or
/// message, so an idle connection holds no buffer.
///
/// Thread safety: distinct objects are safe, a shared object is not.
class frame_decoder {
 public:
  explicit frame_decoder(role r, decoder_limits limits = {}) noexcept;
  ~frame_decoder();
  frame_decoder(frame_decoder&&) noexcept;
  frame_decoder& operator=(frame_decoder&&) noexcept;

  /// Consumes all of `in`. Appends every complete message and control frame to `out` in the order
  /// they end on the wire (control frames that arrive between the fragments of a data message are
  /// emitted at once). Returns an error on any protocol violation; the error is sticky, every later
  /// call returns it, and events completed before the violation stay in `out`. Decoding goes on
  /// after a close frame: the caller stops reading once it has seen one.
  error_code feed(byte_span in, std::vector<event>& out);

  /// True when no partial frame or partial message is held (so the caller may drop its read
  /// buffers while the connection is idle). Also true after an error: the partial data is dropped.
  bool idle() const noexcept { return partial_ == nullptr; }

  /// The error returned by the last feed(), if any.
  error_code error() const noexcept {
    return failed_ == 0 ? error_code{} : make_error_code(static_cast<frame_error>(failed_));
  }

 private:
  // The frame and the message in progress. Every idle connection carries a decoder, and most
  // frames arrive whole in one read: feed() decodes in a state on its stack, and only when the
  // input ends inside a frame or a fragmented message does that state move to the heap, until
  // the message is complete. An idle decoder is its limits, its role and a null pointer.
  struct frame_state;

  error_code decode(frame_state& f, byte_span in, std::vector<event>& out);
  std::size_t take_header(frame_state& f, byte_span in);
  error_code check_first_bytes(const frame_state& f, std::uint8_t b0,
                               std::uint8_t b1) const noexcept;
  error_code start_frame(frame_state& f, const std::uint8_t* header) const noexcept;
  std::size_t take_payload(frame_state& f, byte_span in);
  static error_code finish_frame(frame_state& f, std::vector<event>& out);
  static error_code finish_control_frame(frame_state& f, std::vector<event>& out);
  error_code fail(error_code ec) noexcept;

  std::unique_ptr<frame_state> partial_;  // only while a frame or a message is unfinished
  // Every server connection holds a decoder: its members fit in 16 bytes. The limit is clamped
  // to 4 GiB, far past any message a server would take.
  std::uint32_t max_message_size_;
  std::uint8_t failed_ = 0;  // a frame_error, or 0
  role role_;
};

/// The close code to send when the decoder failed with `ec`: 1007 for invalid UTF-8 (in a text
/// message or a close reason), 1009 for a message that is too big, 1002 for every other protocol
/// error. 1000 for no error, 1011 (internal error) for an error of another category.
std::uint16_t close_code_for(error_code ec) noexcept;

/// True for the close codes allowed on the wire (RFC 6455 §7.4): 1000-1003, 1007-1014, 3000-4999.
bool is_valid_close_code(std::uint16_t code) noexcept;

/// Size of the header of a frame with `payload_size` bytes of payload.
std::size_t frame_header_size(std::size_t payload_size, bool masked) noexcept;

/// Appends one frame. `mask` is nullopt for server-to-client frames and a fresh random key for
/// every client-to-server frame (RFC 6455 §5.3: the key must be unpredictable). `payload` must not
/// point into `out`.
void encode_frame(std::string& out, opcode op, std::string_view payload, bool fin = true,
                  std::optional<mask_key> mask = std::nullopt);
/// Appends the header of an unmasked frame of `payload_size` bytes; the caller appends the
/// payload (e.g. in pieces, without assembling it in a buffer of its own first).
void encode_frame_header(std::string& out, opcode op, std::size_t payload_size, bool fin = true);

/// A server frame encoded once into an immutable shared buffer: a broadcast is framed once and the
/// same bytes are written to every recipient.
using shared_frame = std::shared_ptr<const std::string>;

/// An unmasked, unfragmented frame in a buffer of exactly its size.
shared_frame make_shared_frame(opcode op, std::string_view payload);

/// Appends a close frame: the 2-byte `code` and `reason`, cut to fit in 123 bytes at a UTF-8
/// boundary (`reason` must be UTF-8). Code 0 sends an empty close payload (no status code), the
/// answer to a close frame that had none; the reason is then ignored.
void encode_close_frame(std::string& out, std::uint16_t code, std::string_view reason,
                        std::optional<mask_key> mask = std::nullopt);

/// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455 GUID)).
std::string accept_key(std::string_view sec_websocket_key);

/// True when `sec_websocket_key` (already trimmed of surrounding whitespace) is the base64 form of
/// 16 bytes, as RFC 6455 §4.1 requires.
bool is_valid_key(std::string_view sec_websocket_key);

/// A Sec-WebSocket-Key for a client handshake from 16 random bytes.
std::string make_key(const std::array<std::uint8_t, 16>& nonce);

}  // namespace ignis::net::ws
