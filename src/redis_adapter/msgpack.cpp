#include "redis_adapter/msgpack.hpp"

#include <ignis/common/iso_time.hpp>
#include <ignis/common/utf8.hpp>

#include <boost/system/errc.hpp>

#include <msgpuck.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ignis::redis::detail {
namespace json = boost::json;

namespace {

// msgpuck writes into a caller-sized buffer: reserve the worst case of a header, then trim.
template <class F>
void put(std::string& out, std::size_t max_size, F&& write) {
  const auto old = out.size();
  out.resize(old + max_size);
  char* end = write(out.data() + old);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

void encode_integer(std::int64_t i, std::string& out) {
  if (i >= 0) {
    put(out, 9, [&](char* p) { return mp_encode_uint(p, static_cast<std::uint64_t>(i)); });
  } else {
    put(out, 9, [&](char* p) { return mp_encode_int(p, i); });
  }
}

void encode_string(std::string_view s, std::string& out) {
  put(out, 5, [&](char* p) { return mp_encode_strl(p, static_cast<std::uint32_t>(s.size())); });
  out.append(s);
}

void encode_double(double d, std::string& out) {
  // notepack: any finite number without a fraction is an integer on the wire.
  if (std::isfinite(d) && std::floor(d) == d) {
    if (d >= 0 && d < 18446744073709551616.0) {
      put(out, 9, [&](char* p) { return mp_encode_uint(p, static_cast<std::uint64_t>(d)); });
      return;
    }
    if (d < 0 && d >= -9223372036854775808.0) {
      encode_integer(static_cast<std::int64_t>(d), out);
      return;
    }
  }
  put(out, 9, [&](char* p) { return mp_encode_double(p, d); });
}

void encode(const json::value& v, const std::vector<socketio::attachment>& attachments,
            std::string& out) {
  switch (v.kind()) {
    case json::kind::null:
      put(out, 1, [](char* p) { return mp_encode_nil(p); });
      return;
    case json::kind::bool_:
      put(out, 1, [&](char* p) { return mp_encode_bool(p, v.get_bool()); });
      return;
    case json::kind::int64:
      encode_integer(v.get_int64(), out);
      return;
    case json::kind::uint64:
      put(out, 9, [&](char* p) { return mp_encode_uint(p, v.get_uint64()); });
      return;
    case json::kind::double_:
      encode_double(v.get_double(), out);
      return;
    case json::kind::string:
      encode_string(v.get_string(), out);
      return;
    case json::kind::array: {
      const auto& a = v.get_array();
      put(out, 5,
          [&](char* p) { return mp_encode_array(p, static_cast<std::uint32_t>(a.size())); });
      for (const auto& e : a)
        encode(e, attachments, out);
      return;
    }
    case json::kind::object: {
      if (const auto i = socketio::placeholder_index(v); i && *i < attachments.size()) {
        const auto& bytes = *attachments[*i];
        put(out, 5,
            [&](char* p) { return mp_encode_binl(p, static_cast<std::uint32_t>(bytes.size())); });
        out.append(bytes);
        return;
      }
      const auto& o = v.get_object();
      put(out, 5, [&](char* p) { return mp_encode_map(p, static_cast<std::uint32_t>(o.size())); });
      for (const auto& [key, value] : o) {
        encode_string(key, out);
        encode(value, attachments, out);
      }
      return;
    }
  }
}

// A bounds-checked big-endian reader over the message.
class reader {
 public:
  reader(std::string_view bytes, std::vector<socketio::attachment>& attachments,
         msgpack_limits limits)
      : p_(bytes.data()),
        end_(bytes.data() + bytes.size()),
        attachments_(attachments),
        limits_(limits) {}

  bool at_end() const noexcept { return p_ == end_; }

  bool value(json::value& out, std::size_t depth) {
    std::uint8_t c;
    if (!byte(c)) return false;
    if (c <= 0x7f) return out = std::uint64_t{c}, true;
    if (c >= 0xe0) return out = std::int64_t{static_cast<std::int8_t>(c)}, true;
    if ((c & 0xe0) == 0xa0) return string(c & 0x1f, out);
    if ((c & 0xf0) == 0x90) return array(c & 0x0f, out, depth);
    if ((c & 0xf0) == 0x80) return map(c & 0x0f, out, depth);
    std::uint64_t n = 0;
    switch (c) {
      case 0xc0:
        return out = nullptr, true;
      case 0xc2:
        return out = false, true;
      case 0xc3:
        return out = true, true;
      case 0xc4:
        return uint(1, n) && binary(n, out);
      case 0xc5:
        return uint(2, n) && binary(n, out);
      case 0xc6:
        return uint(4, n) && binary(n, out);
      case 0xc7:
        return uint(1, n) && ext(n, out);
      case 0xc8:
        return uint(2, n) && ext(n, out);
      case 0xc9:
        return uint(4, n) && ext(n, out);
      case 0xca: {
        if (!uint(4, n)) return false;
        float f;
        const auto bits = static_cast<std::uint32_t>(n);
        std::memcpy(&f, &bits, 4);
        return out = static_cast<double>(f), true;
      }
      case 0xcb: {
        if (!uint(8, n)) return false;
        double d;
        std::memcpy(&d, &n, 8);
        return out = d, true;
      }
      case 0xcc:
        return uint(1, n) && (out = n, true);
      case 0xcd:
        return uint(2, n) && (out = n, true);
      case 0xce:
        return uint(4, n) && (out = n, true);
      case 0xcf:
        return uint(8, n) && (out = n, true);
      case 0xd0:
        return uint(1, n) && (out = std::int64_t{static_cast<std::int8_t>(n)}, true);
      case 0xd1:
        return uint(2, n) && (out = std::int64_t{static_cast<std::int16_t>(n)}, true);
      case 0xd2:
        return uint(4, n) && (out = std::int64_t{static_cast<std::int32_t>(n)}, true);
      case 0xd3:
        return uint(8, n) && (out = static_cast<std::int64_t>(n), true);
      case 0xd4:
        return ext(1, out);
      case 0xd5:
        return ext(2, out);
      case 0xd6:
        return ext(4, out);
      case 0xd7:
        return ext(8, out);
      case 0xd8:
        return ext(16, out);
      case 0xd9:
        return uint(1, n) && string(n, out);
      case 0xda:
        return uint(2, n) && string(n, out);
      case 0xdb:
        return uint(4, n) && string(n, out);
      case 0xdc:
        return uint(2, n) && array(n, out, depth);
      case 0xdd:
        return uint(4, n) && array(n, out, depth);
      case 0xde:
        return uint(2, n) && map(n, out, depth);
      case 0xdf:
        return uint(4, n) && map(n, out, depth);
      default:
        return false;  // 0xc1 is reserved
    }
  }

 private:
  std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }

  bool byte(std::uint8_t& c) {
    if (p_ == end_) return false;
    c = static_cast<std::uint8_t>(*p_++);
    return true;
  }

  bool uint(std::size_t size, std::uint64_t& n) {
    if (left() < size) return false;
    n = 0;
    for (std::size_t i = 0; i < size; ++i)
      n = (n << 8) | static_cast<std::uint8_t>(*p_++);
    return true;
  }

  bool take(std::uint64_t n, std::string_view& s) {
    if (left() < n) return false;
    s = std::string_view(p_, static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }

  bool string(std::uint64_t n, json::value& out) {
    std::string_view s;
    // Text frames to clients must be UTF-8; notepack would have put U+FFFD in, we refuse.
    if (!take(n, s) || !utf8::is_valid(s)) return false;
    out = json::string(s);
    return true;
  }

  bool binary(std::uint64_t n, json::value& out) {
    std::string_view s;
    if (!take(n, s)) return false;
    attachments_.push_back(socketio::make_attachment(std::string(s)));
    out = socketio::make_placeholder(attachments_.size() - 1);
    return true;
  }

  bool ext(std::uint64_t n, json::value& out) {
    std::uint8_t type;
    std::string_view body;
    if (!byte(type) || !take(n, body)) return false;
    if (type == 0 && n == 1 && body[0] == 0) return out = nullptr, true;  // notepack's undefined
    if (static_cast<std::int8_t>(type) == -1) return timestamp(body, out);
    if (type != 0) return false;
    attachments_.push_back(socketio::make_attachment(std::string(body)));  // an ArrayBuffer
    out = socketio::make_placeholder(attachments_.size() - 1);
    return true;
  }

  // The msgpack timestamp extension (notepack writes Dates this way): JSON.stringify would give
  // the ISO string, so that is what the recipients get.
  static bool timestamp(std::string_view body, json::value& out) {
    auto be = [&](std::size_t from, std::size_t size) {
      std::uint64_t n = 0;
      for (std::size_t i = 0; i < size; ++i)
        n = (n << 8) | static_cast<std::uint8_t>(body[from + i]);
      return n;
    };
    std::int64_t seconds = 0;
    std::uint64_t nanos = 0;
    if (body.size() == 4) {
      seconds = static_cast<std::int64_t>(be(0, 4));
    } else if (body.size() == 8) {
      const auto all = be(0, 8);
      nanos = all >> 34;
      seconds = static_cast<std::int64_t>(all & 0x3ffffffffULL);
    } else if (body.size() == 12) {
      nanos = be(0, 4);
      seconds = static_cast<std::int64_t>(be(4, 8));
    } else {
      return false;
    }
    // Beyond ±1e8 days JavaScript has no Date. Milliseconds, not system_clock's nanoseconds:
    // those overflow past the year 2262.
    constexpr std::int64_t js_date_limit_ms = 8'640'000'000'000'000;
    if (nanos > 999'999'999 || seconds > js_date_limit_ms / 1000 ||
        seconds < -js_date_limit_ms / 1000)
      return false;
    const std::int64_t ms = seconds * 1000 + static_cast<std::int64_t>(nanos / 1'000'000);
    if (ms > js_date_limit_ms || ms < -js_date_limit_ms) return false;
    out = json::string(iso_time_from_ms(ms));
    return true;
  }

  bool array(std::uint64_t n, json::value& out, std::size_t depth) {
    // Every element takes at least one byte: a count beyond what is left is a lie.
    if (depth >= limits_.max_depth || n > left()) return false;
    json::array a;
    a.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      json::value e;
      if (!value(e, depth + 1)) return false;
      a.push_back(std::move(e));
    }
    out = std::move(a);
    return true;
  }

  bool map(std::uint64_t n, json::value& out, std::size_t depth) {
    if (depth >= limits_.max_depth || n > left() / 2) return false;
    json::object o;
    o.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      json::value key;
      if (!value(key, depth + 1) || !key.is_string()) return false;
      json::value v;
      if (!value(v, depth + 1)) return false;
      o[key.get_string()] = std::move(v);
    }
    out = std::move(o);
    return true;
  }

  const char* p_;
  const char* end_;
  std::vector<socketio::attachment>& attachments_;
  msgpack_limits limits_;
};

}  // namespace

void msgpack_encode(const json::value& v, const std::vector<socketio::attachment>& attachments,
                    std::string& out) {
  encode(v, attachments, out);
}

result<json::value> msgpack_decode(std::string_view bytes,
                                   std::vector<socketio::attachment>& attachments,
                                   msgpack_limits limits) {
  const auto first_attachment = attachments.size();
  reader r(bytes, attachments, limits);
  json::value v;
  if (!r.value(v, 0) || !r.at_end()) {
    attachments.resize(first_attachment);
    return make_error_code(boost::system::errc::bad_message);
  }
  return v;
}

}  // namespace ignis::redis::detail
