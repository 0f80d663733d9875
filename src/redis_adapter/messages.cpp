#include "redis_adapter/messages.hpp"

#include "redis_adapter/msgpack.hpp"

#include <ignis/socketio/json.hpp>

#include <boost/system/errc.hpp>

#include <cmath>

namespace ignis::redis::detail {
namespace json = boost::json;

namespace {

error_code malformed() {
  return make_error_code(boost::system::errc::bad_message);
}

}  // namespace

result<wire_value> decode_message(std::string_view bytes) {
  wire_value out;
  if (!bytes.empty() && bytes.front() == '{') {
    auto v = socketio::parse_js(bytes);
    if (!v) return v.error();
    out.value = std::move(*v);
    return out;
  }
  auto v = msgpack_decode(bytes, out.attachments);
  if (!v) return v.error();
  out.value = std::move(*v);
  return out;
}

std::string to_msgpack(const json::value& v, const std::vector<socketio::attachment>& attachments) {
  std::string out;
  msgpack_encode(v, attachments, out);
  return out;
}

std::string to_json(const json::value& v) {
  return socketio::serialize_js(v);
}

bool has_binary(const json::value& v, const std::vector<socketio::attachment>& attachments) {
  if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (has_binary(e, attachments)) return true;
    }
  } else if (v.is_object()) {
    if (const auto i = socketio::placeholder_index(v); i && *i < attachments.size()) return true;
    for (const auto& [k, e] : v.get_object()) {
      if (has_binary(e, attachments)) return true;
    }
  }
  return false;
}

json::object encode_opts(const socketio::broadcast_options& opts, opts_layout layout) {
  json::object flags;
  if (opts.flags.volatile_) flags["volatile"] = true;
  // Node sends compress only when the application called compress(); ours defaults to true, so
  // only the non-default value says anything.
  if (!opts.flags.compress) flags["compress"] = false;
  if (opts.flags.timeout) flags["timeout"] = opts.flags.timeout->count();
  json::object o;
  o["rooms"] = to_array(opts.rooms);
  if (layout == opts_layout::emitter) o["flags"] = std::move(flags);
  o["except"] = to_array(opts.except);
  if (layout == opts_layout::adapter) o["flags"] = std::move(flags);
  return o;
}

socketio::broadcast_options decode_opts(const json::value* v) {
  socketio::broadcast_options opts;
  if (!v || !v->is_object()) return opts;
  const auto& o = v->get_object();
  opts.rooms = string_list(o, "rooms");
  opts.except = string_list(o, "except");
  if (const auto* f = o.if_contains("flags"); f && f->is_object()) {
    const auto& flags = f->get_object();
    if (const auto* x = flags.if_contains("volatile"); x && x->is_bool())
      opts.flags.volatile_ = x->get_bool();
    if (const auto* x = flags.if_contains("compress"); x && x->is_bool())
      opts.flags.compress = x->get_bool();
    if (const auto t = integer_member(flags, "timeout"); t && *t >= 0)
      opts.flags.timeout = std::chrono::milliseconds(*t);
  }
  return opts;
}

json::object encode_event(const socketio::packet& p, const std::string* nsp) {
  json::object o;
  o["type"] = 2;
  o["data"] = p.data ? *p.data : json::value(json::array());
  if (nsp) o["nsp"] = *nsp;
  return o;
}

result<socketio::packet> decode_event(const json::value& v,
                                      const std::vector<socketio::attachment>& attachments,
                                      std::string_view fallback_nsp) {
  if (!v.is_object()) return malformed();
  const auto& o = v.get_object();
  const auto* data = o.if_contains("data");
  if (!data || !data->is_array() || data->get_array().empty() ||
      !data->get_array()[0].is_string()) {
    return malformed();
  }
  socketio::packet p;
  p.type = socketio::packet_type::event;
  const auto* nsp = o.if_contains("nsp");
  if (nsp && !nsp->is_string()) return malformed();
  p.nsp = nsp ? std::string(nsp->get_string()) : std::string(fallback_nsp);
  p.data = *data;
  // Keep only what the packet refers to, in order, so that it is re-encoded exactly.
  p.attachments = attachments;
  return p;
}

json::object encode_socket(const socketio::socket_info& s) {
  return json::object{{"id", s.id},
                      {"handshake", s.handshake},
                      {"rooms", to_array(s.rooms)},
                      {"data", s.data.is_null() ? json::value(json::object()) : s.data}};
}

std::optional<socketio::socket_info> decode_socket(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* id = o.if_contains("id");
  if (!id || !id->is_string()) return std::nullopt;
  socketio::socket_info s;
  s.id = std::string(id->get_string());
  if (const auto* h = o.if_contains("handshake")) s.handshake = *h;
  s.rooms = string_list(o, "rooms");
  if (const auto* d = o.if_contains("data")) s.data = *d;
  return s;
}

std::optional<json::value> first_arg(const socketio::payload& p) {
  if (p.args.empty()) return std::nullopt;
  return p.args[0];
}

socketio::payload payload_of(const json::value* v,
                             const std::vector<socketio::attachment>& attachments) {
  socketio::payload p;
  if (!v) return p;
  p.args.push_back(*v);
  p.attachments = attachments;
  return p;
}

classic_channels make_classic_channels(std::string_view key, std::string_view nsp,
                                       std::string_view uid) {
  classic_channels c;
  const std::string k(key), n(nsp);
  c.broadcast = k + "#" + n + "#";
  c.request = k + "-request#" + n + "#";
  c.response = k + "-response#" + n + "#";
  c.specific_response = c.response + std::string(uid) + "#";
  return c;
}

std::string encode_classic_broadcast(std::string_view uid, const socketio::packet& p,
                                     const socketio::broadcast_options& opts, opts_layout layout) {
  json::array message{json::string(uid), encode_event(p, &p.nsp), encode_opts(opts, layout)};
  return to_msgpack(message, p.attachments);
}

result<classic_broadcast> decode_classic_broadcast(std::string_view bytes) {
  std::vector<socketio::attachment> attachments;
  auto v = msgpack_decode(bytes, attachments);
  if (!v) return v.error();
  if (!v->is_array() || v->get_array().size() < 3) return malformed();
  const auto& a = v->get_array();
  if (!a[0].is_string()) return malformed();
  classic_broadcast out;
  out.uid = std::string(a[0].get_string());
  auto p = decode_event(a[1], attachments, "/");
  if (!p) return p.error();
  out.packet = std::move(*p);
  out.opts = decode_opts(&a[2]);
  return out;
}

std::string encode_cluster(cluster_type type, json::object data, std::string_view uid,
                           std::string_view nsp,
                           const std::vector<socketio::attachment>& attachments,
                           bool always_msgpack) {
  const bool may_carry_binary =
      type == cluster_type::broadcast || type == cluster_type::broadcast_ack ||
      type == cluster_type::fetch_sockets_response || type == cluster_type::server_side_emit ||
      type == cluster_type::server_side_emit_response;
  json::value d(std::move(data));
  const bool binary = may_carry_binary && has_binary(d, attachments);
  json::object message{{"type", static_cast<std::int64_t>(type)},
                       {"data", std::move(d)},
                       {"uid", json::string(uid)},
                       {"nsp", json::string(nsp)}};
  return binary || always_msgpack ? to_msgpack(message, attachments) : to_json(message);
}

result<cluster_message> decode_cluster(std::string_view bytes) {
  auto w = decode_message(bytes);
  if (!w) return w.error();
  if (!w->value.is_object()) return malformed();
  const auto& o = w->value.get_object();
  const auto type = integer_member(o, "type");
  if (!type || *type < 1 || *type > 13) return malformed();
  cluster_message m;
  m.type = static_cast<cluster_type>(*type);
  if (const auto* d = o.if_contains("data")) {
    if (!d->is_object()) return malformed();
    m.data = d->get_object();
  }
  m.uid = string_member(o, "uid");
  m.nsp = string_member(o, "nsp");
  m.attachments = std::move(w->attachments);
  return m;
}

sharded_channels make_sharded_channels(std::string_view prefix, std::string_view nsp,
                                       std::string_view uid) {
  sharded_channels c;
  c.main = std::string(prefix) + "#" + std::string(nsp) + "#";
  c.response = c.main + std::string(uid) + "#";
  return c;
}

std::vector<std::string> string_list(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& e : v->get_array()) {
    if (e.is_string()) out.emplace_back(e.get_string());
  }
  return out;
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v)
    a.emplace_back(s);
  return a;
}

std::string string_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::int64_t> integer_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= 9'007'199'254'740'991ULL)
    return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) {
    const double d = v->get_double();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9'007'199'254'740'991.0)
      return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

}  // namespace ignis::redis::detail
