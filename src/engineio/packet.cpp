#include <ignis/common/base64.hpp>
#include <ignis/engineio/packet.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ignis::engineio {

result<packet> decode_packet(std::string_view text) {
  if (text.empty()) return codec_error::empty_packet;
  const char type = text.front();
  if (type == 'b') {
    packet p{packet_type::message, true, {}};
    if (!base64::decode(text.substr(1), p.data)) return codec_error::invalid_base64;
    return p;
  }
  if (type < '0' || type > '6') return codec_error::unknown_packet_type;
  return packet{static_cast<packet_type>(type - '0'), false, std::string(text.substr(1))};
}

packet decode_binary_packet(byte_span frame) {
  return packet{packet_type::message, true, std::string(as_chars(frame))};
}

void encode_packet(const packet& p, std::string& out) {
  if (!p.binary) out.push_back(static_cast<char>('0' + static_cast<int>(p.type)));
  out.append(p.data);
}

void encode_polling_packet(const packet& p, std::string& out) {
  if (p.binary) {
    out.push_back('b');
    base64::encode(as_bytes(p.data), out);
    return;
  }
  out.push_back(static_cast<char>('0' + static_cast<int>(p.type)));
  out.append(p.data);
}

std::string encode_payload(std::span<const packet> packets) {
  std::size_t size = packets.size();
  for (const auto& p : packets) {
    size += p.binary ? 1 + base64::encoded_size(p.data.size()) : 1 + p.data.size();
  }
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (i != 0) out.push_back(record_separator);
    encode_polling_packet(packets[i], out);
  }
  return out;
}

result<std::vector<packet>> decode_payload(std::string_view body, payload_limits limits) {
  std::vector<packet> packets;
  payload_decoder decoder(limits);
  if (auto ec = decoder.feed(body, packets)) return ec;
  if (auto ec = decoder.finish(packets)) return ec;
  return packets;
}

error_code payload_decoder::take_record(std::string_view record, std::vector<packet>& out) {
  if (++count_ > limits_.max_packets) return codec_error::too_many_packets;
  auto p = decode_packet(record);
  if (!p) return p.error();
  out.push_back(std::move(*p));
  return {};
}

error_code payload_decoder::feed(std::string_view chunk, std::vector<packet>& out) {
  if (failed_) return failed_;
  for (;;) {
    const auto sep = chunk.find(record_separator);
    if (sep == std::string_view::npos) break;
    if (partial_.empty()) {
      failed_ = take_record(chunk.substr(0, sep), out);
    } else {
      partial_.append(chunk.substr(0, sep));
      failed_ = take_record(partial_, out);
      partial_.clear();
    }
    if (failed_) return failed_;
    chunk.remove_prefix(sep + 1);
  }
  partial_.append(chunk);
  return {};
}

error_code payload_decoder::finish(std::vector<packet>& out) {
  if (failed_) return failed_;
  failed_ = take_record(partial_, out);
  partial_.clear();
  partial_.shrink_to_fit();
  return failed_;
}

std::string encode_handshake(const handshake& h) {
  // Built by hand rather than through boost::json::object so the key order is Node's.
  boost::json::array upgrades;
  for (const auto& u : h.upgrades)
    upgrades.emplace_back(u);
  std::string out = R"({"sid":)";
  out += boost::json::serialize(boost::json::value(h.sid));
  out += R"(,"upgrades":)";
  out += boost::json::serialize(upgrades);
  out += R"(,"pingInterval":)";
  out += std::to_string(h.ping_interval);
  out += R"(,"pingTimeout":)";
  out += std::to_string(h.ping_timeout);
  out += R"(,"maxPayload":)";
  out += std::to_string(h.max_payload);
  out += '}';
  return out;
}

namespace {

template <class T>
bool read_unsigned(const boost::json::object& o, std::string_view key, T& out) {
  const auto* v = o.if_contains(key);
  if (!v) return false;
  if (v->is_uint64()) {
    if (v->get_uint64() > std::numeric_limits<T>::max()) return false;
    out = static_cast<T>(v->get_uint64());
    return true;
  }
  if (v->is_int64()) {
    if (v->get_int64() < 0 ||
        static_cast<std::uint64_t>(v->get_int64()) > std::numeric_limits<T>::max())
      return false;
    out = static_cast<T>(v->get_int64());
    return true;
  }
  return false;
}

}  // namespace

result<handshake> decode_handshake(std::string_view json) {
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 4;
  const auto value = boost::json::parse(json, ec, {}, opts);
  if (ec || !value.is_object()) return codec_error::invalid_handshake;
  const auto& o = value.get_object();
  handshake h;
  const auto* sid = o.if_contains("sid");
  if (!sid || !sid->is_string() || sid->get_string().empty()) return codec_error::invalid_handshake;
  h.sid = std::string(sid->get_string());
  if (const auto* ups = o.if_contains("upgrades")) {
    if (!ups->is_array()) return codec_error::invalid_handshake;
    for (const auto& u : ups->get_array()) {
      if (!u.is_string()) return codec_error::invalid_handshake;
      h.upgrades.emplace_back(u.get_string());
    }
  }
  if (!read_unsigned(o, "pingInterval", h.ping_interval) ||
      !read_unsigned(o, "pingTimeout", h.ping_timeout)) {
    return codec_error::invalid_handshake;
  }
  // maxPayload is optional for servers older than engine.io 6.
  if (o.contains("maxPayload") && !read_unsigned(o, "maxPayload", h.max_payload)) {
    return codec_error::invalid_handshake;
  }
  return h;
}

}  // namespace ignis::engineio
