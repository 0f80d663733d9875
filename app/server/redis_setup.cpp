#include "redis_setup.hpp"

#include <stdexcept>

namespace ignis::program {

void add_redis_options(CLI::App& app, redis_settings& s) {
  app.add_option("--redis", s.url, "Redis URL: share rooms and broadcasts with other servers")
      ->envname("IGNIS_REDIS");
  app.add_option("--redis-mode", s.mode, "classic (PUBLISH) or sharded (SPUBLISH, Redis 7)")
      ->check(CLI::IsMember({"classic", "sharded"}))
      ->envname("IGNIS_REDIS_MODE");
  app.add_option("--redis-key-prefix", s.key_prefix, "channel prefix shared by the cluster")
      ->envname("IGNIS_REDIS_KEY_PREFIX");
  app.add_option("--redis-requests-timeout", s.requests_timeout,
                 "ms to wait for other servers (fetchSockets, serverSideEmit)")
      ->check(CLI::Range(100u, 600'000u))
      ->envname("IGNIS_REDIS_REQUESTS_TIMEOUT");
}

std::unique_ptr<redis::adapter_link> start_redis_link(net::runtime& rt, const redis_settings& s) {
  if (s.url.empty()) return nullptr;
  if (!s.url.starts_with("redis://") && !s.url.starts_with("rediss://"))
    throw std::invalid_argument("--redis needs a redis:// or rediss:// URL");
  redis::config cfg;
  cfg.url = s.url;
  redis::adapter_options opts;
  opts.mode = s.mode == "sharded" ? redis::adapter_mode::sharded : redis::adapter_mode::classic;
  opts.key = s.key_prefix;
  opts.requests_timeout = std::chrono::milliseconds(s.requests_timeout);
  auto link = std::make_unique<redis::adapter_link>(rt, std::move(cfg), std::move(opts));
  link->start();
  return link;
}

}  // namespace ignis::program
