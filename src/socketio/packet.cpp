#include <ignis/socketio/packet.hpp>

#include <boost/json/error.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace ignis::socketio {
namespace {

namespace json = boost::json;

// Ack ids beyond this are not exact integers in JavaScript; no real peer sends them.
constexpr std::uint64_t max_safe_integer = (std::uint64_t{1} << 53) - 1;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// ASCII characters that JavaScript's Number() skips around a number.
bool is_js_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_binary(packet_type t) noexcept {
  return t == packet_type::binary_event || t == packet_type::binary_ack;
}

// The type that goes on the wire: attachments decide between the plain and the binary form.
packet_type wire_type(const packet& p) noexcept {
  switch (p.type) {
    case packet_type::event:
    case packet_type::binary_event:
      return p.attachments.empty() ? packet_type::event : packet_type::binary_event;
    case packet_type::ack:
    case packet_type::binary_ack:
      return p.attachments.empty() ? packet_type::ack : packet_type::binary_ack;
    default:
      return p.type;
  }
}

template <class Int>
void append_integer(Int n, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

bool is_valid_event_array(const json::value& v) noexcept {
  const auto* a = v.if_array();
  if (!a || a->empty()) return false;
  const auto& name = a->front();
  if (name.is_number()) return true;
  return name.is_string() && !is_reserved_event(name.get_string());
}

// socket.io-parser's Decoder.isPayloadValid: what a payload, when there is one, must be.
bool is_valid_payload(packet_type t, const json::value& v) noexcept {
  switch (t) {
    case packet_type::connect:
      return v.is_object();
    case packet_type::disconnect:
      return false;
    case packet_type::connect_error:
      return v.is_string() || v.is_object();
    case packet_type::event:
    case packet_type::binary_event:
      return is_valid_event_array(v);
    case packet_type::ack:
    case packet_type::binary_ack:
      return v.is_array();
  }
  return false;
}

// isPacketValid adds which types need a payload at all: only CONNECT and DISCONNECT go without.
bool may_omit_payload(packet_type t) noexcept {
  return t == packet_type::connect || t == packet_type::disconnect;
}

// Every {"_placeholder":true,...} object anywhere in the payload must name an attachment that
// arrived. Iterative, so a generous max_json_depth cannot overflow the stack.
error_code check_placeholders(const json::value& root, std::size_t count) {
  std::vector<const json::value*> stack{&root};
  while (!stack.empty()) {
    const json::value* v = stack.back();
    stack.pop_back();
    if (const auto* a = v->if_array()) {
      for (const auto& e : *a) {
        if (e.is_structured()) stack.push_back(&e);
      }
      continue;
    }
    const auto* o = v->if_object();
    if (!o) continue;
    const auto* flag = o->if_contains("_placeholder");
    if (flag && flag->is_bool() && flag->get_bool()) {
      const auto index = placeholder_index(*v);
      if (!index) return codec_error::invalid_placeholder;
      if (*index >= count) return codec_error::placeholder_out_of_range;
      continue;  // a placeholder stands for bytes: nothing below it is looked at (as in Node)
    }
    for (const auto& kv : *o) {
      if (kv.value().is_structured()) stack.push_back(&kv.value());
    }
  }
  return {};
}

}  // namespace

std::string_view to_string(packet_type t) noexcept {
  switch (t) {
    case packet_type::connect:
      return "CONNECT";
    case packet_type::disconnect:
      return "DISCONNECT";
    case packet_type::event:
      return "EVENT";
    case packet_type::ack:
      return "ACK";
    case packet_type::connect_error:
      return "CONNECT_ERROR";
    case packet_type::binary_event:
      return "BINARY_EVENT";
    case packet_type::binary_ack:
      return "BINARY_ACK";
  }
  return "UNKNOWN";
}

bool operator==(const packet& a, const packet& b) noexcept {
  if (a.type != b.type || a.nsp != b.nsp || a.id != b.id || a.data != b.data ||
      a.attachments.size() != b.attachments.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.attachments.size(); ++i) {
    const auto& x = a.attachments[i];
    const auto& y = b.attachments[i];
    if (x == y) continue;
    if (!x || !y || *x != *y) return false;
  }
  return true;
}

void encode_to(const packet& p, std::string& text_out) {
  const auto type = wire_type(p);
  text_out += static_cast<char>('0' + static_cast<int>(type));
  if (is_binary(type)) {
    append_integer(p.attachments.size(), text_out);
    text_out += '-';
  }
  // socket.io-parser writes the namespace unless it is "/" (or empty).
  if (!p.nsp.empty() && p.nsp != "/") {
    text_out += p.nsp;
    text_out += ',';
  }
  if (p.id) append_integer(*p.id, text_out);
  if (p.data) serialize_js(*p.data, text_out);
}

encoded_packet encode(const packet& p) {
  encoded_packet out;
  encode_to(p, out.text);
  if (is_binary(wire_type(p))) out.attachments = p.attachments;
  return out;
}

result<std::optional<packet>> packet_assembler::feed_text(std::string_view text,
                                                          const decoder_limits& limits) {
  if (pending_) {
    reset();
    return codec_error::unexpected_text;
  }
  if (text.size() > limits.max_packet_size) return codec_error::packet_too_large;
  // Node reads "" as a CONNECT to "/" (Number("") is 0); no client sends that, so it is refused.
  if (text.empty()) return codec_error::empty_packet;
  if (text[0] < '0' || text[0] > '6') return codec_error::unknown_packet_type;

  packet p;
  p.type = static_cast<packet_type>(text[0] - '0');
  std::size_t i = 1;

  std::size_t attachments = 0;
  if (is_binary(p.type)) {
    // "<digits>-". Node also takes whatever Number() accepts (" 1", "1e0"); nothing sends that.
    const std::size_t start = i;
    bool too_many = false;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (too_many) continue;  // keep checking the format, as Node does before the count
      const auto digit = static_cast<std::size_t>(text[i] - '0');
      if (attachments > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
        too_many = true;
        continue;
      }
      attachments = attachments * 10 + digit;
      too_many = attachments > limits.max_attachments;
    }
    if (i == start || i == text.size() || text[i] != '-') {
      return codec_error::invalid_attachment_count;
    }
    ++i;
    // socket.io-parser 4.2.7 refuses a count of 0 ("Illegal attachments").
    if (!too_many && attachments == 0) return codec_error::invalid_attachment_count;
    if (too_many) return codec_error::too_many_attachments;
  }

  // The namespace runs to the first ',' or to the end: "40/custom" and "40/custom," are the same.
  if (i < text.size() && text[i] == '/') {
    const auto comma = text.find(',', i);
    if (comma == std::string_view::npos) {
      p.nsp.assign(text.substr(i));
      i = text.size();
    } else {
      p.nsp.assign(text.substr(i, comma - i));
      i = comma + 1;
    }
  }

  // The ack id. socket.io-parser takes every following character c for which Number(c) == c:
  // the digits, but also whitespace (Number(" ") is 0). So "2 [...]" carries ack id 0 there and
  // "21 2[...]" the id NaN, which isPacketValid refuses. ASCII whitespace is read the same way
  // here; other Unicode spaces go on to the JSON parser, which refuses them.
  const std::size_t id_start = i;
  while (i < text.size() && (is_digit(text[i]) || is_js_space(text[i])))
    ++i;
  if (i != id_start) {
    auto run = text.substr(id_start, i - id_start);
    while (!run.empty() && is_js_space(run.front()))
      run.remove_prefix(1);
    while (!run.empty() && is_js_space(run.back()))
      run.remove_suffix(1);
    std::uint64_t id = 0;
    for (const char c : run) {
      if (!is_digit(c)) return codec_error::invalid_ack_id;  // "1 2": NaN
      id = id * 10 + static_cast<std::uint64_t>(c - '0');
      if (id > max_safe_integer) return codec_error::invalid_ack_id;
    }
    p.id = id;
  }

  if (i < text.size()) {
    auto value = parse_js(text.substr(i), limits.max_json_depth);
    if (!value) {
      return value.error() == json::error::too_deep ? codec_error::json_too_deep
                                                    : codec_error::invalid_json;
    }
    if (!is_valid_payload(p.type, *value)) return codec_error::invalid_payload;
    p.data = std::move(*value);
  } else if (!may_omit_payload(p.type) && !is_binary(p.type)) {
    return codec_error::invalid_payload;
  }

  if (!is_binary(p.type)) return std::optional<packet>(std::move(p));

  // As socket.io-parser's Decoder: the packet continues as EVENT/ACK once its bytes are in. A
  // header without payload is only refused when complete, so that "51-" followed by a text
  // message reports the text message, as Node does.
  p.type = p.type == packet_type::binary_event ? packet_type::event : packet_type::ack;
  p.attachments.reserve(attachments);
  pending_ = std::make_unique<pending_packet>(pending_packet{std::move(p), attachments});
  return std::optional<packet>();
}

result<std::optional<packet>> packet_assembler::feed_binary(std::string bytes,
                                                            const decoder_limits& limits) {
  if (!pending_) return codec_error::unexpected_binary;
  if (bytes.size() > limits.max_packet_size) {
    reset();
    return codec_error::packet_too_large;
  }
  pending_->p.attachments.push_back(make_attachment(std::move(bytes)));
  if (pending_->p.attachments.size() < pending_->expected) return std::optional<packet>();

  packet p = std::move(pending_->p);
  reset();
  if (!p.data) return codec_error::invalid_payload;
  if (auto ec = check_placeholders(*p.data, p.attachments.size())) return ec;
  return std::optional<packet>(std::move(p));
}

json::value make_placeholder(std::size_t num) {
  json::object o;
  o.reserve(2);
  o.emplace("_placeholder", true);
  // Parsed JSON holds small non-negative integers as int64; build the same kind so that values
  // compare equal.
  if (num <= static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())) {
    o.emplace("num", static_cast<std::int64_t>(num));
  } else {
    o.emplace("num", static_cast<std::uint64_t>(num));
  }
  return o;
}

std::optional<std::size_t> placeholder_index(const json::value& v) noexcept {
  const auto* o = v.if_object();
  if (!o) return std::nullopt;
  const auto* flag = o->if_contains("_placeholder");
  if (!flag || !flag->is_bool() || !flag->get_bool()) return std::nullopt;
  const auto* num = o->if_contains("num");
  if (!num) return std::nullopt;
  constexpr auto max = std::numeric_limits<std::size_t>::max();
  switch (num->kind()) {
    case json::kind::int64:
      if (num->get_int64() < 0) return std::nullopt;
      return static_cast<std::size_t>(num->get_int64());
    case json::kind::uint64:
      return num->get_uint64() > max ? max : static_cast<std::size_t>(num->get_uint64());
    case json::kind::double_: {
      // JavaScript has only doubles: 1.0 is 1. An index too large for size_t is clamped; it is out
      // of range of any attachment list anyway.
      const double d = num->get_double();
      if (!(d >= 0) || d != std::floor(d)) return std::nullopt;  // also NaN
      if (d >= static_cast<double>(max)) return max;
      return static_cast<std::size_t>(d);
    }
    default:
      return std::nullopt;
  }
}

bool is_reserved_event(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 6> reserved = {
      "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
  };
  for (const auto r : reserved) {
    if (name == r) return true;
  }
  return false;
}

std::string normalize_namespace(std::string name) {
  if (name.empty() || name.front() != '/') name.insert(name.begin(), '/');
  return name;
}

}  // namespace ignis::socketio
