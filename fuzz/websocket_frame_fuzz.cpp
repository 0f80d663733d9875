// WebSocket frames. The first byte picks the decoder's role and a split point; the rest is decoded
// whole and in two pieces, which must agree. Every decoded event is then re-encoded as the peer
// would send it (whole, and data messages also in two fragments around a ping) and must decode to
// the same events.
#include <ignis/common/utf8.hpp>
#include <ignis/net/websocket.hpp>

#include <algorithm>
#include <cstdlib>
#include <initializer_list>

namespace {

using namespace ignis::net::ws;

constexpr decoder_limits limits{.max_message_size = 1 << 16};

struct decoded {
  std::vector<event> events;
  ignis::error_code ec;
  bool idle = true;
};

decoded decode(role r, std::initializer_list<ignis::byte_span> pieces) {
  frame_decoder decoder(r, limits);
  decoded d;
  for (const auto piece : pieces) {
    d.ec = decoder.feed(piece, d.events);
    if (d.ec) break;
  }
  // Sticky: a failed decoder fails again, with nothing more.
  if (d.ec) {
    const auto count = d.events.size();
    if (decoder.feed(pieces.begin()[0], d.events) != d.ec || d.events.size() != count) std::abort();
  }
  d.idle = decoder.idle();
  return d;
}

// What the round trip puts in the ping it inserts between a data message's two fragments.
std::string ping_between(const event& e) {
  return e.payload.substr(0, std::min<std::size_t>(e.payload.size(), 3));
}

opcode data_opcode(event_kind k) {
  return k == event_kind::text ? opcode::text : opcode::binary;
}

void encode_event(std::string& out, const event& e, std::optional<mask_key> mask, bool fragment) {
  switch (e.kind) {
    case event_kind::text:
    case event_kind::binary: {
      if (!fragment) {
        encode_frame(out, data_opcode(e.kind), e.payload, true, mask);
        return;
      }
      // The cut may fall inside a UTF-8 code point: the decoder validates across fragments. The
      // ping between the fragments carries bytes, which the decoder holds after the part of the
      // message it has so far and must give back apart from it.
      const std::string_view p = e.payload;
      encode_frame(out, data_opcode(e.kind), p.substr(0, p.size() / 2), false, mask);
      encode_frame(out, opcode::ping, ping_between(e), true, mask);
      encode_frame(out, opcode::continuation, p.substr(p.size() / 2), true, mask);
      return;
    }
    case event_kind::ping:
      encode_frame(out, opcode::ping, e.payload, true, mask);
      return;
    case event_kind::pong:
      encode_frame(out, opcode::pong, e.payload, true, mask);
      return;
    case event_kind::close:
      encode_close_frame(out, e.close_code, e.payload, mask);
      return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const role r = (data[0] & 1) != 0 ? role::client : role::server;
  const ignis::byte_span in(data + 1, size - 1);
  const std::size_t cut = (data[0] >> 1) * in.size() / 127;

  const auto whole = decode(r, {in});
  const auto split = decode(r, {in.first(cut), in.subspan(cut)});
  if (whole.ec != split.ec || whole.events != split.events || whole.idle != split.idle) {
    std::abort();
  }
  if (whole.ec) {
    const auto code = close_code_for(whole.ec);
    if (code != 1002 && code != 1007 && code != 1009) std::abort();
    if (!whole.idle) std::abort();
  }

  std::vector<event> expected;
  for (const auto& e : whole.events) {
    switch (e.kind) {
      case event_kind::text:
        if (!ignis::utf8::is_valid(e.payload)) std::abort();
        [[fallthrough]];
      case event_kind::binary:
        if (e.payload.size() > limits.max_message_size) std::abort();
        break;
      case event_kind::close:
        if (e.close_code == 0 ? !e.payload.empty() : !is_valid_close_code(e.close_code)) {
          std::abort();
        }
        [[fallthrough]];
      case event_kind::ping:
      case event_kind::pong:
        if (e.payload.size() > max_control_payload) std::abort();
        break;
    }
  }

  // The peer of a server masks its frames; the peer of a client does not.
  const std::optional<mask_key> mask =
      r == role::server ? std::optional<mask_key>(mask_key{data[0], 0x5a, 0xa5, 0x3c})
                        : std::nullopt;
  std::string again;
  std::string fragmented;
  for (const auto& e : whole.events) {
    encode_event(again, e, mask, false);
    encode_event(fragmented, e, mask, true);
    if (e.kind == event_kind::text || e.kind == event_kind::binary) {
      expected.push_back(event{event_kind::ping, ping_between(e)});
    }
    expected.push_back(e);
  }
  const auto re = decode(r, {ignis::as_bytes(again)});
  if (re.ec || re.events != whole.events || !re.idle) std::abort();
  const auto refrag = decode(r, {ignis::as_bytes(fragmented)});
  if (refrag.ec || refrag.events != expected || !refrag.idle) std::abort();
  return 0;
}
