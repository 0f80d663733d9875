#include "redis_adapter/stream_entries.hpp"

#include "redis_adapter/msgpack.hpp"

#include <ignis/common/base64.hpp>
#include <ignis/socketio/json.hpp>

#include <boost/system/errc.hpp>

#include <charconv>

namespace ignis::redis::detail {
namespace json = boost::json;

namespace {

error_code malformed() {
  return make_error_code(boost::system::errc::bad_message);
}

std::optional<std::uint64_t> parse_u64(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto* end = digits.data() + digits.size();
  auto [p, ec] = std::from_chars(digits.data(), end, v);
  if (ec != std::errc() || p != end) return std::nullopt;
  return v;
}

bool may_carry_binary(cluster_type t) {
  return t == cluster_type::broadcast || t == cluster_type::fetch_sockets_response ||
         t == cluster_type::server_side_emit || t == cluster_type::server_side_emit_response ||
         t == cluster_type::broadcast_ack;
}

// The value of one field, or nullptr.
const std::string* field(const std::vector<reply>& fields, std::string_view name) {
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].type == reply::kind::string && fields[i].str == name) {
      return fields[i + 1].type == reply::kind::string ? &fields[i + 1].str : nullptr;
    }
  }
  return nullptr;
}

// One [id, [field, value, ...]] element of an XRANGE or XREAD reply.
bool decode_entry(const reply& e, entries_reply& out) {
  if (e.type != reply::kind::array || e.elements.size() != 2 ||
      e.elements[0].type != reply::kind::string || e.elements[1].type != reply::kind::array) {
    return false;
  }
  const auto id = parse_stream_id(e.elements[0].str);
  if (!id) return false;
  out.entries.push_back({*id, e.elements[0].str, decode_stream_fields(e.elements[1].elements)});
  return true;
}

result<entries_reply> decode_entries(const reply& list) {
  if (list.type != reply::kind::array) return malformed();
  entries_reply out;
  out.entries.reserve(list.elements.size());
  for (const auto& e : list.elements) {
    if (!decode_entry(e, out)) ++out.bad_entries;
  }
  return out;
}

}  // namespace

std::string stream_id::str() const {
  return std::to_string(ms) + "-" + std::to_string(seq);
}

std::optional<stream_id> parse_stream_id(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto ms = parse_u64(text.substr(0, dash));
  const auto seq = parse_u64(text.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return stream_id{*ms, *seq};
}

stream_id next_stream_id(stream_id id) {
  if (id.seq == UINT64_MAX) return {id.ms + 1, 0};
  return {id.ms, id.seq + 1};
}

std::string encode_stream_data(cluster_type type, const json::object& data,
                               const std::vector<socketio::attachment>& attachments) {
  const json::value v(data);
  if (may_carry_binary(type) && has_binary(v, attachments)) {
    std::string packed;
    msgpack_encode(v, attachments, packed);
    std::string out;
    base64::encode(as_bytes(packed), out);
    return out;
  }
  return to_json(v);
}

std::vector<std::string> xadd_command(std::string_view stream, std::size_t max_len,
                                      const stream_message& m) {
  std::vector<std::string> args{"XADD",
                                std::string(stream),
                                "MAXLEN",
                                "~",
                                std::to_string(max_len),
                                "*",
                                "uid",
                                m.uid,
                                "nsp",
                                m.nsp,
                                "type",
                                std::to_string(static_cast<std::int64_t>(m.type))};
  // Node leaves the field out when the message has no data (heartbeats, ADAPTER_CLOSE).
  if (m.data) {
    args.emplace_back("data");
    args.push_back(encode_stream_data(m.type, *m.data, m.attachments));
  }
  return args;
}

result<stream_message> decode_stream_fields(const std::vector<reply>& fields) {
  stream_message m;
  // Node routes by nsp and skips an entry without it.
  const auto* nsp = field(fields, "nsp");
  if (!nsp || nsp->empty()) return malformed();
  m.nsp = *nsp;
  if (const auto* uid = field(fields, "uid")) m.uid = *uid;
  const auto* type = field(fields, "type");
  if (!type) return malformed();
  const auto t = parse_u64(*type);
  if (!t || *t < 1 || *t > 13) return malformed();
  m.type = static_cast<cluster_type>(*t);
  const auto* data = field(fields, "data");
  if (!data || data->empty()) return m;
  json::value v;
  if (data->front() == '{') {
    auto parsed = socketio::parse_js(*data);
    if (!parsed) return parsed.error();
    v = std::move(*parsed);
  } else {
    std::string packed;
    if (!base64::decode(*data, packed)) return malformed();
    auto unpacked = msgpack_decode(packed, m.attachments);
    if (!unpacked) return unpacked.error();
    v = std::move(*unpacked);
  }
  if (!v.is_object()) return malformed();
  m.data = std::move(v.get_object());
  return m;
}

result<entries_reply> decode_xrange(const reply& r) {
  return decode_entries(r);
}

result<entries_reply> decode_xread(const reply& r) {
  if (r.type == reply::kind::nil) return entries_reply{};
  // [[stream, [entries]]]: one stream asked for, so one element.
  if (r.type != reply::kind::array || r.elements.size() != 1) return malformed();
  const auto& s = r.elements[0];
  if (s.type != reply::kind::array || s.elements.size() != 2) return malformed();
  return decode_entries(s.elements[1]);
}

result<stream_broadcast> decode_stream_broadcast(const stream_message& m, std::string_view nsp) {
  if (m.type != cluster_type::broadcast || !m.data) return malformed();
  const auto* packet = m.data->if_contains("packet");
  if (!packet) return malformed();
  auto p = decode_event(*packet, m.attachments, nsp);
  if (!p) return p.error();
  stream_broadcast out;
  out.packet = std::move(*p);
  out.packet.nsp = std::string(nsp);
  out.with_ack = packet->get_object().contains("id");
  out.opts = decode_opts(m.data->if_contains("opts"));
  return out;
}

bool session_would_receive(const std::vector<std::string>& rooms,
                           const socketio::broadcast_options& opts) {
  auto member = [&](const std::vector<std::string>& list) {
    for (const auto& r : rooms) {
      for (const auto& l : list) {
        if (r == l) return true;
      }
    }
    return false;
  };
  return (opts.rooms.empty() || member(opts.rooms)) && !member(opts.except);
}

std::string encode_session(const socketio::session_state& s) {
  // Node's key order: sid, pid, rooms, data.
  const json::object o{
      {"sid", s.sid}, {"pid", s.pid}, {"rooms", to_array(s.rooms)}, {"data", s.data}};
  std::string packed;
  msgpack_encode(o, {}, packed);
  std::string out;
  base64::encode(as_bytes(packed), out);
  return out;
}

result<socketio::session_state> decode_session(std::string_view value) {
  std::string packed;
  if (!base64::decode(value, packed)) return malformed();
  std::vector<socketio::attachment> attachments;
  auto v = msgpack_decode(packed, attachments);
  if (!v) return v.error();
  if (!v->is_object()) return malformed();
  const auto& o = v->get_object();
  const auto* sid = o.if_contains("sid");
  const auto* pid = o.if_contains("pid");
  const auto* rooms = o.if_contains("rooms");
  if (!sid || !sid->is_string() || !pid || !pid->is_string() || !rooms || !rooms->is_array())
    return malformed();
  socketio::session_state s;
  s.sid = std::string(sid->get_string());
  s.pid = std::string(pid->get_string());
  s.rooms = string_list(o, "rooms");
  // socket.data holding binary comes back with placeholders only: the program's data is JSON.
  if (const auto* d = o.if_contains("data")) s.data = *d;
  return s;
}

}  // namespace ignis::redis::detail
