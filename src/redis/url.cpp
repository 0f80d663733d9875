#include <ignis/redis/error.hpp>
#include <ignis/redis/url.hpp>

#include <cctype>
#include <charconv>
#include <optional>

namespace ignis::redis {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Passwords often hold '@', ':' or '/', which URLs carry percent-encoded.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

template <class Int>
std::optional<Int> parse_number(std::string_view s) {
  Int v{};
  if (s.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

result<parsed_url> parse_url(std::string_view url) {
  const error_code bad = make_error_code(error::invalid_url);
  parsed_url out;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad;
  out.scheme = std::string(url.substr(0, scheme_end));
  if (out.scheme == "rediss") {
    out.tls = true;
  } else if (out.scheme != "redis") {
    return bad;
  }
  std::string_view rest = url.substr(scheme_end + 3);

  // Query strings and fragments are not part of the Redis URL form we accept.
  if (rest.find_first_of("?#") != std::string_view::npos) return bad;

  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  // The last '@' ends the userinfo: an unencoded '@' in a password is common enough to allow.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    if (!user) return bad;
    out.user = std::move(*user);
    if (colon != std::string_view::npos) {
      auto password = percent_decode(userinfo.substr(colon + 1));
      if (!password) return bad;
      out.password = std::move(*password);
    } else {
      // redis://secret@host: a lone userinfo is the password of the default user (redis-cli).
      out.password = std::move(out.user);
      out.user.clear();
    }
  }

  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad;
    out.host = std::string(rest.substr(1, close - 1));
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad;
      port_text = after.substr(1);
      if (port_text.empty()) return bad;
    }
  } else {
    const auto colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return bad;
    }
  }
  if (out.host.empty()) return bad;
  if (!port_text.empty()) {
    const auto port = parse_number<unsigned>(port_text);
    if (!port || *port == 0 || *port > 65535) return bad;
    out.port = static_cast<std::uint16_t>(*port);
  }
  if (!path.empty()) {
    const auto db = parse_number<int>(path);
    if (!db || *db < 0) return bad;
    out.db = *db;
  }
  return out;
}

result<std::vector<parsed_url>> parse_seeds(std::string_view urls) {
  const error_code bad = make_error_code(error::invalid_url);
  std::vector<parsed_url> seeds;
  while (true) {
    const auto comma = urls.find(',');
    std::string_view one = urls.substr(0, comma);
    while (!one.empty() && one.front() == ' ')
      one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ')
      one.remove_suffix(1);
    auto parsed = parse_url(one);
    if (!parsed) return bad;
    if (!seeds.empty() && parsed->tls != seeds.front().tls) return bad;
    seeds.push_back(std::move(*parsed));
    if (comma == std::string_view::npos) break;
    urls.remove_prefix(comma + 1);
  }
  return seeds;
}

std::string url_for(const parsed_url& like, std::string_view host, std::uint16_t port) {
  auto encode = [](std::string_view in) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : in) {
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
        out.push_back(c);
      } else {
        out.push_back('%');
        out.push_back(hex[u >> 4]);
        out.push_back(hex[u & 15]);
      }
    }
    return out;
  };
  std::string url = like.tls ? "rediss://" : "redis://";
  if (!like.password.empty()) {
    url += encode(like.user) + ":" + encode(like.password) + "@";
  }
  if (host.find(':') != std::string_view::npos) {
    url += "[" + std::string(host) + "]";
  } else {
    url += host;
  }
  return url + ":" + std::to_string(port);
}

}  // namespace ignis::redis
