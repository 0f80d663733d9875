#pragma once

// The program's Redis adapter options (--redis, --redis-mode, --redis-key-prefix,
// --redis-requests-timeout, each also read from IGNIS_<FLAG>) and the link they describe.
#include <ignis/net/runtime.hpp>
#include <ignis/redis/adapter.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace ignis::program {

struct redis_settings {
  std::string url;  ///< empty: no Redis, the in-memory adapter
  std::string mode = "classic";
  std::string key_prefix = "socket.io";
  unsigned requests_timeout = 5000;
};

void add_redis_options(CLI::App& app, redis_settings& s);

/// The started link for `s`, or nullptr without --redis. Throws std::invalid_argument for a URL
/// that is not redis:// or rediss://.
std::unique_ptr<redis::adapter_link> start_redis_link(net::runtime& rt, const redis_settings& s);

}  // namespace ignis::program
