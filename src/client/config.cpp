#include "client/config.hpp"

#include <ignis/engineio/packet.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url_view.hpp>

#include <stdexcept>

namespace ignis::client::detail {
namespace urls = boost::urls;

namespace {

// Query values are percent-encoded with everything but RFC 3986's unreserved characters, as
// JavaScript's encodeURIComponent does (apart from its few extra marks).
std::string encode_component(std::string_view s) {
  return urls::encode(s, urls::unreserved_chars);
}

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const tls_options& tls) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (tls.use_system_store) ctx->set_default_verify_paths(ec);  // a missing store is not fatal
  if (!tls.ca_file.empty()) {
    ctx->load_verify_file(tls.ca_file, ec);
    if (ec) throw std::invalid_argument("cannot load CA file " + tls.ca_file + ": " + ec.message());
  }
  ctx->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

}  // namespace

std::string engine_config::target(transport_kind t, std::string_view sid) const {
  std::string out;
  out.reserve(path.size() + 48 + sid.size() + query.size());
  out.append(path).append("?EIO=").append(engineio::protocol_version);
  out.append("&transport=").append(to_string(t));
  if (!sid.empty()) out.append("&sid=").append(sid);
  out.append(query);
  return out;
}

std::shared_ptr<const engine_config> make_engine_config(std::string_view url,
                                                        const manager_options& options) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) throw std::invalid_argument("invalid URL: " + std::string(url));
  const urls::url_view u = *parsed;

  auto cfg = std::make_shared<engine_config>();
  const auto scheme = u.scheme_id();
  if (scheme == urls::scheme::https || scheme == urls::scheme::wss) {
    cfg->secure = true;
  } else if (scheme != urls::scheme::http && scheme != urls::scheme::ws) {
    throw std::invalid_argument("unsupported URL scheme (use http, https, ws or wss): " +
                                std::string(url));
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    throw std::invalid_argument("URL without host: " + std::string(url));
  }
  if (u.host_type() == urls::host_type::ipv6) {
    cfg->host = u.host_address();
    cfg->host_header = "[" + cfg->host + "]";
  } else {
    cfg->host = u.host();
    cfg->host_header = cfg->host;
  }
  if (u.has_port() && !u.port().empty()) {
    // Boost.URL 1.81's port_number() wraps large values: check the digits here.
    unsigned long n = 0;
    for (const char c : u.port()) {
      n = n * 10 + static_cast<unsigned long>(c - '0');  // the URL grammar allows digits only
      if (n > 65535) break;
    }
    if (n == 0 || n > 65535)
      throw std::invalid_argument("invalid port in URL: " + std::string(url));
    cfg->port = std::to_string(n);
    const bool default_port = cfg->port == (cfg->secure ? "443" : "80");
    if (!default_port) cfg->host_header += ":" + cfg->port;
  } else {
    cfg->port = cfg->secure ? "443" : "80";
  }
  cfg->port_number = static_cast<std::uint16_t>(std::stoul(cfg->port));

  // The path always starts and ends with '/' (engine.io-client's addTrailingSlash).
  cfg->path = options.path.empty() ? "/" : options.path;
  if (cfg->path.front() != '/') cfg->path.insert(cfg->path.begin(), '/');
  if (cfg->path.back() != '/') cfg->path.push_back('/');

  for (const auto& param : u.params()) {
    cfg->query.append("&").append(encode_component(param.key));
    if (param.has_value) cfg->query.append("=").append(encode_component(param.value));
  }
  for (const auto& [k, v] : options.query) {
    cfg->query.append("&").append(encode_component(k)).append("=").append(encode_component(v));
  }

  cfg->transports = options.transports;
  cfg->upgrade = options.upgrade;
  cfg->headers = options.extra_headers;
  for (const auto& [k, v] : cfg->headers) {
    // Header injection guard: names and values come from the application, but a stray CR/LF
    // would split the request.
    if (k.find_first_of("\r\n:") != std::string::npos ||
        v.find_first_of("\r\n") != std::string::npos)
      throw std::invalid_argument("invalid extra header: " + k);
  }
  if (cfg->secure) cfg->tls = make_tls_context(options.tls);
  cfg->tls_verify = options.tls.verify;
  cfg->accept_compression = options.accept_compression;
  cfg->max_message_size = options.max_message_size;
  cfg->max_write_buffer_bytes = options.max_write_buffer_bytes;
  return cfg;
}

std::string namespace_of_url(std::string_view url) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return "/";
  std::string path = parsed->path();
  if (path.empty()) return "/";
  return path;
}

}  // namespace ignis::client::detail
