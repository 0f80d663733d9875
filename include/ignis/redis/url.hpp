#pragma once

// redis:// and rediss:// URLs, as redis-cli, ioredis and node-redis accept them.
#include <ignis/common/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace ignis::redis
