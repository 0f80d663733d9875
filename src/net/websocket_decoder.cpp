#include "net/websocket_mask.hpp"

#include <ignis/common/utf8.hpp>
#include <ignis/net/websocket.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <utility>

namespace ignis::net::ws {
namespace {

constexpr bool is_control(opcode op) noexcept {
  return (static_cast<std::uint8_t>(op) & 0x08) != 0;
}

/// Header size announced by the second header byte: 2, plus the extended length, plus the key.
constexpr std::size_t header_length(std::uint8_t b1) noexcept {
  std::size_t n = 2;
  const std::uint8_t len7 = b1 & 0x7F;
  if (len7 == 126) n += 2;
  if (len7 == 127) n += 8;
  if ((b1 & 0x80) != 0) n += 4;
  return n;
}

/// validator::feed() with a fast path for ASCII, the bulk of JSON text: while no code point is
/// open, ASCII leaves the validator as it is, so whole 8-byte words of it are skipped.
bool feed_utf8(utf8::validator& v, std::string_view s) noexcept {
  constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
  std::size_t i = 0;
  while (i < s.size()) {
    if (v.complete()) {
      for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, s.data() + i, sizeof word);
        if ((word & high_bits) != 0) break;
      }
    }
    const std::size_t n = std::min<std::size_t>(8, s.size() - i);
    if (!v.feed(s.substr(i, n))) return false;
    i += n;
  }
  return true;
}

}  // namespace

struct frame_decoder::frame_state {
  enum class step : std::uint8_t { header, payload };
  step at = step::header;
  // The header of the current frame while it arrives in pieces (2 to 14 bytes).
  std::uint8_t header_size = 0;
  std::array<std::uint8_t, 14> header{};
  // The frame being read.
  opcode op = opcode::continuation;
  bool fin = false;
  bool masked = false;
  mask_key mask{};
  std::uint64_t frame_size = 0;  // declared payload length
  std::uint64_t frame_read = 0;  // payload bytes received so far
  // The data message being reassembled. Its buffer is moved into the emitted event, so nothing is
  // kept once the message is complete. A control frame's payload (at most 125 bytes) goes after
  // it while it arrives: it may come between the frames of a message.
  bool in_message = false;
  opcode message_opcode = opcode::binary;
  std::string message;
  utf8::validator utf8;

  bool idle() const noexcept { return at == step::header && header_size == 0 && !in_message; }
};

frame_decoder::frame_decoder(role r, decoder_limits limits) noexcept
    : max_message_size_(static_cast<std::uint32_t>(std::min<std::size_t>(
          limits.max_message_size, std::numeric_limits<std::uint32_t>::max()))),
      role_(r) {}
frame_decoder::~frame_decoder() = default;
frame_decoder::frame_decoder(frame_decoder&&) noexcept = default;
frame_decoder& frame_decoder::operator=(frame_decoder&&) noexcept = default;

error_code frame_decoder::feed(byte_span in, std::vector<event>& out) {
  if (failed_ != 0) return error();
  if (partial_) {
    const auto ec = decode(*partial_, in, out);
    // Once the message is complete (or the connection failed) nothing is kept.
    if (failed_ != 0 || partial_->idle()) partial_.reset();
    return ec;
  }
  frame_state f;
  const auto ec = decode(f, in, out);
  if (failed_ == 0 && !f.idle()) partial_ = std::make_unique<frame_state>(std::move(f));
  return ec;
}

error_code frame_decoder::decode(frame_state& f, byte_span in, std::vector<event>& out) {
  for (;;) {
    if (f.at == frame_state::step::header) {
      if (in.empty()) return {};
      in = in.subspan(take_header(f, in));
      if (failed_ != 0) return error();
      if (f.at == frame_state::step::header) return {};  // the input ended inside a header
    }
    // A frame with an empty payload is finished here too, without waiting for more input.
    in = in.subspan(take_payload(f, in));
    if (failed_ != 0) return error();
    if (f.frame_read < f.frame_size) return {};
    if (auto ec = finish_frame(f, out)) return fail(ec);
  }
}

std::size_t frame_decoder::take_header(frame_state& f, byte_span in) {
  // Usual case: the whole header is in this read, parse it in place.
  if (f.header_size == 0 && in.size() >= 2 && in.size() >= header_length(in[1])) {
    if (auto ec = check_first_bytes(f, in[0], in[1])) {
      fail(ec);
      return 0;
    }
    if (auto ec = start_frame(f, in.data())) fail(ec);
    return header_length(in[1]);
  }

  // The header straddles reads: gather it. The first two bytes are checked as soon as they are
  // here, so a bad frame fails before its extended length and key arrive.
  std::size_t used = 0;
  if (f.header_size < 2) {
    const std::size_t n = std::min<std::size_t>(2 - f.header_size, in.size());
    std::memcpy(f.header.data() + f.header_size, in.data(), n);
    f.header_size = static_cast<std::uint8_t>(f.header_size + n);
    used = n;
    if (f.header_size < 2) return used;
    if (auto ec = check_first_bytes(f, f.header[0], f.header[1])) {
      fail(ec);
      return used;
    }
  }
  const std::size_t need = header_length(f.header[1]);
  const std::size_t n = std::min(need - f.header_size, in.size() - used);
  if (n > 0) std::memcpy(f.header.data() + f.header_size, in.data() + used, n);
  f.header_size = static_cast<std::uint8_t>(f.header_size + n);
  used += n;
  if (f.header_size == need) {
    f.header_size = 0;
    if (auto ec = start_frame(f, f.header.data())) fail(ec);
  }
  return used;
}

error_code frame_decoder::check_first_bytes(const frame_state& f, std::uint8_t b0,
                                            std::uint8_t b1) const noexcept {
  if ((b0 & 0x70) != 0) return frame_error::reserved_bits_set;
  const auto op = static_cast<opcode>(b0 & 0x0F);
  switch (op) {
    case opcode::continuation:
    case opcode::text:
    case opcode::binary:
    case opcode::close:
    case opcode::ping:
    case opcode::pong:
      break;
    default:
      return frame_error::reserved_opcode;
  }
  const bool fin = (b0 & 0x80) != 0;
  if (is_control(op)) {
    if (!fin) return frame_error::fragmented_control_frame;
  } else if (op == opcode::continuation) {
    if (!f.in_message) return frame_error::unexpected_continuation;
  } else if (f.in_message) {
    return frame_error::expected_continuation;
  }
  const bool masked = (b1 & 0x80) != 0;
  if (role_ == role::server && !masked) return frame_error::unmasked_frame;
  if (role_ == role::client && masked) return frame_error::masked_frame;
  if (is_control(op) && std::size_t{b1 & 0x7Fu} > max_control_payload)
    return frame_error::control_frame_too_big;
  return {};
}

error_code frame_decoder::start_frame(frame_state& f, const std::uint8_t* h) const noexcept {
  // check_first_bytes() has accepted h[0] and h[1].
  f.fin = (h[0] & 0x80) != 0;
  f.op = static_cast<opcode>(h[0] & 0x0F);
  f.masked = (h[1] & 0x80) != 0;
  std::uint64_t size = h[1] & 0x7F;
  std::size_t pos = 2;
  // Lengths that are not minimally encoded (RFC 6455 §5.2 says "MUST") are still accepted, as ws
  // and browsers do: they cost nothing and rejecting them buys nothing.
  if (size == 126) {
    size = (std::uint64_t{h[2]} << 8) | h[3];
    pos = 4;
  } else if (size == 127) {
    size = 0;
    for (std::size_t i = 0; i < 8; ++i)
      size = (size << 8) | h[2 + i];
    pos = 10;
    if ((size >> 63) != 0) return frame_error::invalid_length;
  }
  if (f.masked) std::memcpy(f.mask.data(), h + pos, f.mask.size());

  if (!is_control(f.op)) {
    // Checked against the declared length before any payload is buffered, so a huge declared
    // length costs no memory.
    const std::size_t have = f.in_message ? f.message.size() : 0;
    if (size > std::size_t{max_message_size_} - have) return frame_error::message_too_big;
    if (f.op != opcode::continuation) {
      f.in_message = true;
      f.message_opcode = f.op;
      f.utf8.reset();
    }
  }
  f.frame_size = size;
  f.frame_read = 0;
  f.at = frame_state::step::payload;
  return {};
}

std::size_t frame_decoder::take_payload(frame_state& f, byte_span in) {
  const auto n =
      static_cast<std::size_t>(std::min<std::uint64_t>(f.frame_size - f.frame_read, in.size()));
  if (n == 0) return 0;
  if (is_control(f.op)) {
    // Kept after the data message in progress (if any), unmasked whole in
    // finish_control_frame(): at most 125 bytes.
    f.message.append(as_chars(in.first(n)));
  } else {
    const std::size_t old = f.message.size();
    // When the rest of the final frame is here, size the buffer exactly; otherwise let append()
    // grow it geometrically so a message arriving in many small reads is not copied quadratically.
    if (f.fin && f.frame_read + n == f.frame_size) f.message.reserve(old + n);
    f.message.append(as_chars(in.first(n)));
    char* p = f.message.data() + old;
    if (f.masked) detail::apply_mask(p, n, f.mask, f.frame_read);
    // Validated piece by piece as it arrives: a bad text message fails at its first bad byte.
    if (f.message_opcode == opcode::text && !feed_utf8(f.utf8, {p, n})) {
      fail(frame_error::invalid_utf8);
      return n;
    }
  }
  f.frame_read += n;
  return n;
}

error_code frame_decoder::finish_frame(frame_state& f, std::vector<event>& out) {
  f.at = frame_state::step::header;
  if (is_control(f.op)) return finish_control_frame(f, out);
  if (!f.fin) return {};
  if (f.message_opcode == opcode::text && !f.utf8.complete()) return frame_error::invalid_utf8;
  f.in_message = false;
  // The buffer moves into the event: the decoder keeps nothing between messages.
  out.push_back(event{f.message_opcode == opcode::text ? event_kind::text : event_kind::binary,
                      std::exchange(f.message, std::string{})});
  return {};
}

error_code frame_decoder::finish_control_frame(frame_state& f, std::vector<event>& out) {
  // The control frame's payload is the last frame_size bytes of the message buffer: all of it
  // unless it came between the frames of a fragmented data message.
  std::string payload;
  const auto control_size = static_cast<std::size_t>(f.frame_size);
  if (f.message.size() == control_size) {
    payload = std::exchange(f.message, std::string{});
  } else {
    payload.assign(f.message, f.message.size() - control_size, control_size);
    f.message.resize(f.message.size() - control_size);
  }
  char* p = payload.data();
  const auto n = payload.size();
  if (f.masked) detail::apply_mask(p, n, f.mask, 0);
  switch (f.op) {
    case opcode::ping:
      out.push_back(event{event_kind::ping, std::move(payload)});
      return {};
    case opcode::pong:
      out.push_back(event{event_kind::pong, std::move(payload)});
      return {};
    default:
      break;
  }
  // Close: empty, or a status code followed by a UTF-8 reason (RFC 6455 §5.5.1).
  if (n == 0) {
    out.push_back(event{event_kind::close, {}, 0});
    return {};
  }
  if (n == 1) return frame_error::close_payload_too_short;
  const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                               static_cast<unsigned char>(p[1]));
  if (!is_valid_close_code(code)) return frame_error::invalid_close_code;
  const std::string_view reason(p + 2, n - 2);
  if (!utf8::is_valid(reason)) return frame_error::invalid_close_reason;
  out.push_back(event{event_kind::close, std::string(reason), code});
  return {};
}

error_code frame_decoder::fail(error_code ec) noexcept {
  // Every error raised here is a frame_error: its value is all that needs keeping. feed() drops
  // the partial frame and message (idle() is then true): the connection is over.
  failed_ = static_cast<std::uint8_t>(ec.value());
  return ec;
}

std::uint16_t close_code_for(error_code ec) noexcept {
  if (!ec) return 1000;
  if (ec.category() != frame_category()) return 1011;
  switch (static_cast<frame_error>(ec.value())) {
    case frame_error::invalid_utf8:
    case frame_error::invalid_close_reason:
      return 1007;
    case frame_error::message_too_big:
      return 1009;
    default:
      return 1002;
  }
}

bool is_valid_close_code(std::uint16_t code) noexcept {
  // 1004 is reserved, 1005 and 1006 are for reporting only, 1015 (TLS failure) likewise;
  // 1016-2999 are unassigned; 3000-3999 are registered, 4000-4999 private use.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace ignis::net::ws
