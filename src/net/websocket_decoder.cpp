#include "net/websocket_mask.hpp"

#include <ignis/common/utf8.hpp>
#include <ignis/net/websocket.hpp>

#include <algorithm>
#include <cstring>
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

error_code frame_decoder::feed(byte_span in, std::vector<event>& out) {
  if (failed_ != 0) return error();
  for (;;) {
    if (state_ == state::header) {
      if (in.empty()) return {};
      in = in.subspan(take_header(in));
      if (failed_ != 0) return error();
      if (state_ == state::header) return {};  // the input ended inside a header
    }
    // A frame with an empty payload is finished here too, without waiting for more input.
    in = in.subspan(take_payload(in));
    if (failed_ != 0) return error();
    if (frame_read_ < frame_size_) return {};
    if (auto ec = finish_frame(out)) return fail(ec);
  }
}

std::size_t frame_decoder::take_header(byte_span in) {
  // Usual case: the whole header is in this read, parse it in place.
  if (header_size_ == 0 && in.size() >= 2 && in.size() >= header_length(in[1])) {
    if (auto ec = check_first_bytes(in[0], in[1])) {
      fail(ec);
      return 0;
    }
    if (auto ec = start_frame(in.data())) fail(ec);
    return header_length(in[1]);
  }

  // The header straddles reads: gather it. The first two bytes are checked as soon as they are
  // here, so a bad frame fails before its extended length and key arrive.
  std::size_t used = 0;
  if (header_size_ < 2) {
    const std::size_t n = std::min<std::size_t>(2 - header_size_, in.size());
    std::memcpy(header_.data() + header_size_, in.data(), n);
    header_size_ = static_cast<std::uint8_t>(header_size_ + n);
    used = n;
    if (header_size_ < 2) return used;
    if (auto ec = check_first_bytes(header_[0], header_[1])) {
      fail(ec);
      return used;
    }
  }
  const std::size_t need = header_length(header_[1]);
  const std::size_t n = std::min(need - header_size_, in.size() - used);
  if (n > 0) std::memcpy(header_.data() + header_size_, in.data() + used, n);
  header_size_ = static_cast<std::uint8_t>(header_size_ + n);
  used += n;
  if (header_size_ == need) {
    header_size_ = 0;
    if (auto ec = start_frame(header_.data())) fail(ec);
  }
  return used;
}

error_code frame_decoder::check_first_bytes(std::uint8_t b0, std::uint8_t b1) noexcept {
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
    if (!in_message_) return frame_error::unexpected_continuation;
  } else if (in_message_) {
    return frame_error::expected_continuation;
  }
  const bool masked = (b1 & 0x80) != 0;
  if (role_ == role::server && !masked) return frame_error::unmasked_frame;
  if (role_ == role::client && masked) return frame_error::masked_frame;
  if (is_control(op) && std::size_t{b1 & 0x7Fu} > max_control_payload)
    return frame_error::control_frame_too_big;
  return {};
}

error_code frame_decoder::start_frame(const std::uint8_t* h) noexcept {
  // check_first_bytes() has accepted h[0] and h[1].
  fin_ = (h[0] & 0x80) != 0;
  opcode_ = static_cast<opcode>(h[0] & 0x0F);
  masked_ = (h[1] & 0x80) != 0;
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
  if (masked_) std::memcpy(mask_.data(), h + pos, mask_.size());

  if (!is_control(opcode_)) {
    // Checked against the declared length before any payload is buffered, so a huge declared
    // length costs no memory.
    const std::size_t have = in_message_ ? message_.size() : 0;
    if (size > limits_.max_message_size - have) return frame_error::message_too_big;
    if (opcode_ != opcode::continuation) {
      in_message_ = true;
      message_opcode_ = opcode_;
      utf8_.reset();
    }
  }
  frame_size_ = size;
  frame_read_ = 0;
  state_ = state::payload;
  return {};
}

std::size_t frame_decoder::take_payload(byte_span in) {
  const auto n =
      static_cast<std::size_t>(std::min<std::uint64_t>(frame_size_ - frame_read_, in.size()));
  if (n == 0) return 0;
  if (is_control(opcode_)) {
    // Kept after the data message in progress (if any), unmasked whole in
    // finish_control_frame(): at most 125 bytes.
    message_.append(as_chars(in.first(n)));
  } else {
    const std::size_t old = message_.size();
    // When the rest of the final frame is here, size the buffer exactly; otherwise let append()
    // grow it geometrically so a message arriving in many small reads is not copied quadratically.
    if (fin_ && frame_read_ + n == frame_size_) message_.reserve(old + n);
    message_.append(as_chars(in.first(n)));
    char* p = message_.data() + old;
    if (masked_) detail::apply_mask(p, n, mask_, frame_read_);
    // Validated piece by piece as it arrives: a bad text message fails at its first bad byte.
    if (message_opcode_ == opcode::text && !feed_utf8(utf8_, {p, n})) {
      fail(frame_error::invalid_utf8);
      return n;
    }
  }
  frame_read_ += n;
  return n;
}

error_code frame_decoder::finish_frame(std::vector<event>& out) {
  state_ = state::header;
  if (is_control(opcode_)) return finish_control_frame(out);
  if (!fin_) return {};
  if (message_opcode_ == opcode::text && !utf8_.complete()) return frame_error::invalid_utf8;
  in_message_ = false;
  // The buffer moves into the event: the decoder keeps nothing between messages.
  out.push_back(event{message_opcode_ == opcode::text ? event_kind::text : event_kind::binary,
                      std::exchange(message_, std::string{})});
  return {};
}

error_code frame_decoder::finish_control_frame(std::vector<event>& out) {
  // The control frame's payload is the last frame_size_ bytes of message_: all of it unless it
  // came between the frames of a fragmented data message.
  std::string payload;
  const auto control_size = static_cast<std::size_t>(frame_size_);
  if (message_.size() == control_size) {
    payload = std::exchange(message_, std::string{});
  } else {
    payload.assign(message_, message_.size() - control_size, control_size);
    message_.resize(message_.size() - control_size);
  }
  char* p = payload.data();
  const auto n = payload.size();
  if (masked_) detail::apply_mask(p, n, mask_, 0);
  switch (opcode_) {
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

error_code frame_decoder::fail(error_code ec) {
  // Every error raised here is a frame_error: its value is all that needs keeping.
  failed_ = static_cast<std::uint8_t>(ec.value());
  // The connection is over: drop what was held (idle() is then true).
  state_ = state::header;
  header_size_ = 0;
  in_message_ = false;
  message_ = std::string{};
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
