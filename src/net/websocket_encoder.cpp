#include "net/websocket_mask.hpp"

#include <ignis/net/websocket.hpp>

#include <algorithm>
#include <cstring>
#include <span>

namespace ignis::net::ws {

std::size_t frame_header_size(std::size_t payload_size, bool masked) noexcept {
  std::size_t size = 2;
  if (payload_size >= 126) size += payload_size <= 0xFFFF ? 2 : 8;
  if (masked) size += 4;
  return size;
}

namespace {

void append_header(std::string& out, opcode op, std::size_t n, bool fin,
                   const std::optional<mask_key>& mask) {
  std::array<std::uint8_t, 14> h{};
  h[0] = static_cast<std::uint8_t>((fin ? 0x80 : 0) | static_cast<std::uint8_t>(op));
  const std::uint8_t mask_bit = mask ? 0x80 : 0;
  std::size_t size = 2;
  if (n < 126) {
    h[1] = static_cast<std::uint8_t>(mask_bit | n);
  } else if (n <= 0xFFFF) {
    h[1] = mask_bit | 126;
    h[2] = static_cast<std::uint8_t>(n >> 8);
    h[3] = static_cast<std::uint8_t>(n);
    size = 4;
  } else {
    h[1] = mask_bit | 127;
    const auto n64 = static_cast<std::uint64_t>(n);
    for (std::size_t i = 0; i < 8; ++i)
      h[2 + i] = static_cast<std::uint8_t>(n64 >> (56 - 8 * i));
    size = 10;
  }
  if (mask) {
    std::memcpy(h.data() + size, mask->data(), mask->size());
    size += mask->size();
  }
  out.append(as_chars(std::span(h).first(size)));
}

}  // namespace

void encode_frame_header(std::string& out, opcode op, std::size_t payload_size, bool fin) {
  append_header(out, op, payload_size, fin, std::nullopt);
}

void encode_frame(std::string& out, opcode op, std::string_view payload, bool fin,
                  std::optional<mask_key> mask) {
  const std::size_t n = payload.size();
  // Appended, not resized and overwritten, so the payload's room is not zero-filled first; grown
  // geometrically by hand because frames are often appended one after another to one buffer.
  const std::size_t body = out.size() + frame_header_size(n, mask.has_value());
  if (out.capacity() < body + n) out.reserve(std::max(body + n, 2 * out.capacity()));
  append_header(out, op, n, fin, mask);
  out.append(payload);
  if (mask) detail::apply_mask(out.data() + body, n, *mask, 0);
}

shared_frame make_shared_frame(opcode op, std::string_view payload) {
  auto frame = std::make_shared<std::string>();
  frame->reserve(frame_header_size(payload.size(), false) + payload.size());
  encode_frame(*frame, op, payload);
  return frame;
}

void encode_close_frame(std::string& out, std::uint16_t code, std::string_view reason,
                        std::optional<mask_key> mask) {
  if (code == 0) {
    encode_frame(out, opcode::close, {}, true, mask);
    return;
  }
  constexpr std::size_t max_reason = max_control_payload - 2;
  if (reason.size() > max_reason) {
    // Cut before the code point that straddles the limit: back off over continuation bytes.
    std::size_t cut = max_reason;
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80)
      --cut;
    reason = reason.substr(0, cut);
  }
  std::array<char, max_control_payload> payload{};
  payload[0] = static_cast<char>(code >> 8);
  payload[1] = static_cast<char>(code & 0xFF);
  if (!reason.empty()) std::memcpy(payload.data() + 2, reason.data(), reason.size());
  encode_frame(out, opcode::close, {payload.data(), 2 + reason.size()}, true, mask);
}

}  // namespace ignis::net::ws
