#pragma once

// redis:// and rediss:// URLs, as redis-cli, ioredis and node-redis accept them.
#include <ignis/common/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::redis {

struct parsed_url {
  std::string scheme{};    ///< "redis" or "rediss"
  std::string user{};      ///< empty: the default user (AUTH with the password only)
  std::string password{};  ///< empty: no AUTH at all
  std::string host{};      ///< without the brackets of an IPv6 literal
  std::uint16_t port = 6379;
  int db = 0;        ///< SELECT db at connect when not 0
  bool tls = false;  ///< rediss://
};

/// Parses redis://[[user]:password@]host[:port][/db] and rediss://... Userinfo is
/// percent-decoded. Returns error::invalid_url for anything else (unknown scheme, empty host,
/// port 0 or above 65535, a db that is not a non-negative number).
result<parsed_url> parse_url(std::string_view url);

/// Seed nodes of a Redis Cluster: one or more URLs separated by commas (spaces around them are
/// ignored), e.g. "redis://10.0.0.1:7000,redis://10.0.0.2:7000". error::invalid_url if the list
/// is empty or any URL is refused by parse_url, or if they mix redis:// and rediss://.
result<std::vector<parsed_url>> parse_seeds(std::string_view urls);

/// The URL of `host`:`port` with the scheme and credentials of `like` (percent-encoded), for a
/// node found through a seed. Its db is never carried: a cluster has database 0 only.
std::string url_for(const parsed_url& like, std::string_view host, std::uint16_t port);

}  // namespace ignis::redis
