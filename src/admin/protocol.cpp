#include "admin/protocol.hpp"

#include <ignis/common/random.hpp>
#include <ignis/socketio/packet.hpp>

#include <algorithm>

namespace ignis::admin::detail {
namespace json = boost::json;

namespace {

const json::object* admin_member(const json::value& data) {
  if (!data.is_object()) return nullptr;
  const auto* a = data.get_object().if_contains("_admin");
  return a && a->is_object() ? &a->get_object() : nullptr;
}

// JavaScript's truthiness of a header value: a non-empty string.
const json::value* non_empty_string(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() && !v->get_string().empty() ? v : nullptr;
}

bool acceptable_room(const json::value& v) {
  return v.is_string() && !v.get_string().empty() && v.get_string().size() <= max_room_name;
}

// A room argument: a name, or a list of names (socketsJoin/socketsLeave take both).
std::optional<std::vector<std::string>> rooms_of(const json::value& v) {
  std::vector<std::string> out;
  if (acceptable_room(v)) {
    out.emplace_back(v.get_string());
    return out;
  }
  if (!v.is_array() || v.get_array().empty() || v.get_array().size() > max_command_rooms)
    return std::nullopt;
  for (const auto& r : v.get_array()) {
    if (!acceptable_room(r)) return std::nullopt;
    out.emplace_back(r.get_string());
  }
  return out;
}

// The filter argument as admin-ui reads it (`if (filter) nsp.in(filter)`): JavaScript's falsy
// values mean none; a name or a list of names limit the command; anything else is refused.
std::optional<std::vector<std::string>> filter_of(const json::array& args, std::size_t index) {
  std::vector<std::string> none;
  if (index >= args.size()) return none;
  const auto& f = args[index];
  if (f.is_null() || (f.is_bool() && !f.get_bool()) || (f.is_string() && f.get_string().empty()) ||
      (f.is_int64() && f.get_int64() == 0) || (f.is_uint64() && f.get_uint64() == 0) ||
      (f.is_double() && f.get_double() == 0)) {
    return none;
  }
  if (f.is_array() && f.get_array().empty()) return none;  // in([]): every socket, as in Node
  return rooms_of(f);
}

}  // namespace

json::value serialize_data(const json::value& data) {
  if (data.is_null()) return json::object();
  if (!data.is_object()) return data;
  auto out = data.get_object();
  out.erase("_admin");
  return out;
}

json::object serialize_socket(const socketio::socket_info& s, std::string_view nsp) {
  json::object out;
  out.reserve(8);
  out["id"] = s.id;
  if (const auto* a = admin_member(s.data)) {
    if (const auto* c = a->if_contains("clientId")) out["clientId"] = *c;
    if (const auto* t = a->if_contains("transport")) out["transport"] = *t;
  }
  out["nsp"] = nsp;
  out["data"] = serialize_data(s.data);
  json::object handshake;
  if (s.handshake.is_object()) {
    const auto& h = s.handshake.get_object();
    // admin-ui: cf-connecting-ip || x-forwarded-for || handshake.address.
    const json::value* address = nullptr;
    if (const auto* headers = h.if_contains("headers"); headers && headers->is_object()) {
      address = non_empty_string(headers->get_object(), "cf-connecting-ip");
      if (!address) address = non_empty_string(headers->get_object(), "x-forwarded-for");
    }
    if (!address) address = h.if_contains("address");
    if (address) handshake["address"] = *address;
    for (const std::string_view key :
         {"headers", "query", "issued", "secure", "time", "url", "xdomain"}) {
      if (const auto* v = h.if_contains(key)) handshake[key] = *v;
    }
  }
  out["handshake"] = std::move(handshake);
  json::array rooms;
  rooms.reserve(s.rooms.size());
  for (const auto& r : s.rooms)
    rooms.emplace_back(r);
  out["rooms"] = std::move(rooms);
  return out;
}

std::optional<command> parse_command(std::string_view event, socketio::payload&& args) {
  auto& a = args.args;
  if (a.empty() || !a[0].is_string()) return std::nullopt;
  command c;
  c.nsp = std::string(a[0].get_string());
  if (event == "emit") {
    // emit(nsp, filter, event, ...args)
    if (a.size() < 3 || !a[2].is_string() || a[2].get_string().empty() ||
        socketio::is_reserved_event(a[2].get_string())) {
      return std::nullopt;
    }
    auto filter = filter_of(a, 1);
    if (!filter) return std::nullopt;
    c.what = command::kind::emit;
    c.filter = std::move(*filter);
    c.event = std::string(a[2].get_string());
    json::array rest;
    rest.reserve(a.size() - 3);
    for (std::size_t i = 3; i < a.size(); ++i)
      rest.push_back(std::move(a[i]));
    c.args = socketio::payload(std::move(rest), std::move(args.attachments));
    return c;
  }
  if (event == "join" || event == "leave") {
    // join(nsp, room, filter?)
    if (a.size() < 2) return std::nullopt;
    auto rooms = rooms_of(a[1]);
    auto filter = filter_of(a, 2);
    if (!rooms || !filter) return std::nullopt;
    c.what = event == "join" ? command::kind::join : command::kind::leave;
    c.rooms = std::move(*rooms);
    c.filter = std::move(*filter);
    return c;
  }
  if (event == "_disconnect") {
    // _disconnect(nsp, close, filter?)
    if (a.size() < 2 || !a[1].is_bool()) return std::nullopt;
    auto filter = filter_of(a, 2);
    if (!filter) return std::nullopt;
    c.what = command::kind::disconnect;
    c.close = a[1].get_bool();
    c.filter = std::move(*filter);
    return c;
  }
  return std::nullopt;
}

engine_totals engine_totals_of(const engineio::server& engine, std::size_t shards) {
  engine_totals t;
  for (std::size_t i = 0; i < shards; ++i) {
    const auto& c = engine.counters(static_cast<unsigned>(i));
    t.connections += c.handshakes.get();
    t.packets_in += c.packets_in.get();
    t.bytes_in += c.bytes_in.get();
    t.packets_out += c.packets_out.get();
    t.bytes_out += c.bytes_out.get();
    for (std::size_t r = 0; r < t.closes.size(); ++r)
      t.closes[r] += c.closes[r].get();
  }
  return t;
}

json::array traffic_sampler::sample(const engine_totals& now, std::int64_t wall_ms) {
  const std::int64_t second = wall_ms - wall_ms % 1000;
  json::array out;
  auto add = [&](std::string_view type, std::int64_t count, std::string_view sub_type = {}) {
    if (count <= 0) return;
    json::object entry{{"timestamp", second}, {"type", type}};
    if (!sub_type.empty()) entry["subType"] = sub_type;
    entry["count"] = count;
    out.push_back(std::move(entry));
  };
  add("rawConnection", now.connections - last_.connections);
  add("packetsIn", now.packets_in - last_.packets_in);
  add("bytesIn", now.bytes_in - last_.bytes_in);
  add("packetsOut", now.packets_out - last_.packets_out);
  add("bytesOut", now.bytes_out - last_.bytes_out);
  // One entry per reason string (several close reasons are "transport error" on the wire).
  std::vector<std::pair<std::string_view, std::int64_t>> closes;
  for (std::size_t r = 0; r < now.closes.size(); ++r) {
    const auto n = now.closes[r] - last_.closes[r];
    if (n <= 0) continue;
    const auto reason = engineio::to_string(static_cast<engineio::close_reason>(r));
    auto it = std::find_if(closes.begin(), closes.end(),
                           [&](const auto& e) { return e.first == reason; });
    if (it == closes.end()) {
      closes.emplace_back(reason, n);
    } else {
      it->second += n;
    }
  }
  for (const auto& [reason, n] : closes)
    add("rawDisconnection", n, reason);
  last_ = now;
  return out;
}

std::string session_store::create(clock::time_point now) {
  std::array<std::uint8_t, 8> bytes{};
  random_bytes(bytes);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id;
  id.reserve(16);
  for (const auto b : bytes) {
    id.push_back(hex[b >> 4]);
    id.push_back(hex[b & 0xF]);
  }
  std::lock_guard lock(mutex_);
  std::erase_if(expiries_, [&](const auto& e) { return e.second <= now; });
  while (expiries_.size() >= max_) {
    const auto oldest =
        std::min_element(expiries_.begin(), expiries_.end(),
                         [](const auto& x, const auto& y) { return x.second < y.second; });
    expiries_.erase(oldest);
  }
  expiries_[id] = now + duration_;
  return id;
}

bool session_store::valid(std::string_view id, clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = expiries_.find(std::string(id));
  if (it == expiries_.end()) return false;
  if (it->second > now) return true;
  expiries_.erase(it);
  return false;
}

std::size_t session_store::size() const {
  std::lock_guard lock(mutex_);
  return expiries_.size();
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

}  // namespace ignis::admin::detail
