#pragma once

// What every connection attempt of a manager needs, worked out once from the URL and the options.
#include <ignis/client/options.hpp>

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ignis::client::detail {

struct engine_config {
  bool secure = false;
  /// For the resolver and TLS (SNI, certificate name): no brackets around an IPv6 address.
  std::string host;
  std::string port;
  std::uint16_t port_number = 0;
  /// The Host header: the host (IPv6 in brackets) and the port unless it is the scheme's default.
  std::string host_header;
  /// "/socket.io/": always with a leading and a trailing '/'.
  std::string path;
  /// The URL's query and manager_options::query, encoded, each as "&name=value".
  std::string query;
  std::vector<transport_kind> transports;
  bool upgrade = true;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Set for https/wss.
  std::shared_ptr<boost::asio::ssl::context> tls;
  bool tls_verify = true;
  bool accept_compression = true;
  std::size_t max_message_size = 16 * 1024 * 1024;
  std::size_t max_write_buffer_bytes = 16 * 1024 * 1024;

  /// The request target of an Engine.IO request: path?EIO=4&transport=...[&sid=...]&query.
  std::string target(transport_kind t, std::string_view sid) const;
};

/// Builds the configuration; throws std::invalid_argument for an unusable URL or TLS option.
std::shared_ptr<const engine_config> make_engine_config(std::string_view url,
                                                        const manager_options& options);

/// The namespace a URL names by its path ("/" when it has none), as socket.io-client's lookup().
std::string namespace_of_url(std::string_view url);

}  // namespace ignis::client::detail
