// Socket.IO decoder: the input is a connection's worth of Engine.IO messages, separated by 0x1e;
// a message starting with 'b' is a binary message (the bytes after the 'b'), any other a text
// message. Every packet that decodes must encode to messages that decode to the same packet, and
// encoding must then be a fixed point.
#include <ignis/socketio/packet.hpp>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>

namespace {

namespace json = boost::json;
using namespace ignis::socketio;

// JSON.stringify writes NaN and Infinity as null, so such a packet legitimately changes (an
// event named Infinity even becomes invalid). Node behaves the same; those are left out of the
// round trip.
bool has_non_finite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return !std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& e : v.get_array()) {
        if (has_non_finite(e)) return true;
      }
      return false;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (has_non_finite(kv.value())) return true;
      }
      return false;
    default:
      return false;
  }
}

// Equality as JavaScript sees it: a double written out may come back as an integer (1e18 is
// written "1000000000000000000"), which is the same JavaScript number.
bool js_equal(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) return a.to_number<double>() == b.to_number<double>();
    return a == b;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!js_equal(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      auto it = y.begin();
      for (const auto& kv : x) {  // same keys in the same order
        if (kv.key() != it->key() || !js_equal(kv.value(), it->value())) return false;
        ++it;
      }
      return true;
    }
    default:
      return a == b;
  }
}

bool same_packet(const packet& a, const packet& b) {
  if (a.type != b.type || a.nsp != b.nsp || a.id != b.id ||
      a.data.has_value() != b.data.has_value())
    return false;
  if (a.data && !js_equal(*a.data, *b.data)) return false;
  if (a.attachments.size() != b.attachments.size()) return false;
  for (std::size_t i = 0; i < a.attachments.size(); ++i) {
    if (*a.attachments[i] != *b.attachments[i]) return false;
  }
  return true;
}

// Decodes encoded messages in a fresh decoder; aborts on anything but one complete packet.
packet decode_encoded(const encoded_packet& e) {
  decoder d(
      {.max_packet_size = std::numeric_limits<std::size_t>::max()});  // "1e20" grows to 21 digits
  auto r = d.feed_text(e.text);
  if (!r) std::abort();
  if (r->has_value() != e.attachments.empty()) std::abort();
  for (const auto& a : e.attachments) {
    if (r->has_value()) std::abort();
    r = d.feed_binary(*a);
    if (!r) std::abort();
  }
  if (!r->has_value() || d.awaiting_attachments()) std::abort();
  return std::move(**r);
}

void check(const packet& p) {
  // Decoded packets are never in their binary form, and only events and acks carry bytes.
  if (p.type == packet_type::binary_event || p.type == packet_type::binary_ack) std::abort();
  if (!p.attachments.empty() && p.type != packet_type::event && p.type != packet_type::ack)
    std::abort();
  if (p.nsp.empty() || p.nsp.front() != '/' || p.nsp.find(',') != std::string::npos) std::abort();

  const auto e = encode(p);
  std::string text;
  encode_to(p, text);
  if (text != e.text) std::abort();
  if (p.data && has_non_finite(*p.data)) return;

  const auto again = decode_encoded(e);
  if (!same_packet(p, again)) std::abort();
  if (encode(again).text != e.text) std::abort();
}

// Feeds the messages to one decoder and checks what comes out.
void run(std::string_view input, decoder_limits limits) {
  decoder d(limits);
  for (;;) {
    const auto sep = input.find('\x1e');
    const auto message = input.substr(0, sep);
    const bool binary = !message.empty() && message.front() == 'b';
    const bool was_waiting = d.awaiting_attachments();
    auto r = binary ? d.feed_binary(std::string(message.substr(1))) : d.feed_text(message);
    if (r) {
      if (r->has_value()) {
        if (d.awaiting_attachments()) std::abort();
        check(**r);
      } else if (!d.awaiting_attachments()) {
        std::abort();  // "waiting" must mean a pending binary packet
      }
    } else {
      if (d.awaiting_attachments()) std::abort();  // errors drop the pending packet
      if (binary && !was_waiting && r.error() != codec_error::unexpected_binary) std::abort();
      if (!binary && was_waiting && r.error() != codec_error::unexpected_text) std::abort();
    }
    if (sep == std::string_view::npos) break;
    input.remove_prefix(sep + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  run(input, {});
  // Tight limits, to reach every limit check with small inputs.
  run(input, {.max_attachments = 2, .max_json_depth = 3, .max_packet_size = 64});
  return 0;
}
