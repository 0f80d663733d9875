#include <ignis/socketio/json.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace ignis::socketio {
namespace {

template <class Int>
void append_integer(Int n, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

// ECMAScript Number::toString(10). std::to_chars picks the same digits JavaScript does (the
// shortest that read back to the same double, the closest to it when several are that short);
// only the notation differs, so the digits are taken from its scientific form and re-laid out.
void append_double(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  if (d == 0) {  // also -0, which JSON.stringify writes as "0"
    out += '0';
    return;
  }
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));  // -d.ddde+XX

  std::size_t pos = 0;
  if (sci[pos] == '-') {
    out += '-';
    ++pos;
  }
  char digits[20];  // at most 17 significant digits for a double
  int k = 0;
  for (; sci[pos] != 'e'; ++pos) {
    if (sci[pos] != '.') digits[k++] = sci[pos];
  }
  ++pos;  // 'e'
  const bool negative_exp = sci[pos] == '-';
  ++pos;  // to_chars always writes the exponent's sign
  int exp = 0;
  for (; pos < sci.size(); ++pos)
    exp = exp * 10 + (sci[pos] - '0');
  if (negative_exp) exp = -exp;

  // JavaScript's n: the value is 0.d1d2...dk * 10^n.
  const int n = exp + 1;
  if (k <= n && n <= 21) {
    out.append(digits, static_cast<std::size_t>(k));
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits + n, static_cast<std::size_t>(k - n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(digits, static_cast<std::size_t>(k));
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits + 1, static_cast<std::size_t>(k - 1));
    }
    out += 'e';
    out += n - 1 < 0 ? '-' : '+';
    append_integer(std::abs(n - 1), out);
  }
}

void append_string(std::string_view s, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the pending run of characters copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// The handler of boost::json::parser, except for doubles: Boost 1.81 converts them with a fast
// method that is not always correctly rounded, so the digits are read again with std::from_chars,
// which is.
class js_handler {
 public:
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  js_handler(unsigned char* temp, std::size_t temp_size) : stack_({}, temp, temp_size) {}

  boost::json::value release() { return stack_.release(); }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) {
    stack_.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    stack_.push_array(n);
    return true;
  }
  bool on_key_part(std::string_view s, std::size_t, error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_key(std::string_view s, std::size_t, error_code&) {
    stack_.push_key(s);
    return true;
  }
  bool on_string_part(std::string_view s, std::size_t, error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(std::string_view s, std::size_t, error_code&) {
    stack_.push_string(s);
    return true;
  }
  // Only called when a number is cut by the end of a buffer; parse_js writes the whole text at
  // once, but keeping the pieces costs nothing.
  bool on_number_part(std::string_view s, error_code&) {
    number_.append(s);
    return true;
  }
  bool on_int64(std::int64_t i, std::string_view, error_code&) {
    number_.clear();
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, std::string_view, error_code&) {
    number_.clear();
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, std::string_view s, error_code&) {
    std::string_view text = s;
    if (!number_.empty()) {
      number_.append(s);
      text = number_;
    }
    double exact = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), exact);
    // Out of range keeps Boost's value: ±Infinity or 0, which is what JSON.parse gives as well.
    if (r.ec == std::errc() && r.ptr == text.data() + text.size()) d = exact;
    number_.clear();
    stack_.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    stack_.push_null();
    return true;
  }
  bool on_comment_part(std::string_view, error_code&) { return true; }
  bool on_comment(std::string_view, error_code&) { return true; }

 private:
  boost::json::value_stack stack_;
  std::string number_;
};

}  // namespace

result<boost::json::value> parse_js(std::string_view text, std::size_t max_depth) {
  boost::json::parse_options opts;
  opts.max_depth = max_depth;
  unsigned char temp[512];  // the value stack starts here, as in boost::json::parse
  boost::json::basic_parser<js_handler> parser(opts, temp, sizeof temp);
  error_code ec;
  const auto n = parser.write_some(false, text.data(), text.size(), ec);
  if (ec) return ec;
  if (n < text.size()) return boost::json::error::extra_data;
  return parser.handler().release();
}

void serialize_js(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64:
      append_integer(v.get_int64(), out);
      return;
    case boost::json::kind::uint64:
      append_integer(v.get_uint64(), out);
      return;
    case boost::json::kind::double_:
      append_double(v.get_double(), out);
      return;
    case boost::json::kind::string:
      append_string(v.get_string(), out);
      return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        serialize_js(e, out);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        append_string(kv.key(), out);
        out += ':';
        serialize_js(kv.value(), out);
      }
      out += '}';
      return;
    }
  }
}

std::string serialize_js(const boost::json::value& v) {
  std::string out;
  serialize_js(v, out);
  return out;
}

}  // namespace ignis::socketio
