#include "redis_setup.hpp"

#include "logging.hpp"

#include <stdexcept>

namespace ignis::program {

void add_redis_options(CLI::App& app, redis_settings& s) {
  app.add_option("--redis", s.url,
                 "Redis URL: share rooms and broadcasts with other servers; for a Redis Cluster, "
                 "seed URLs (repeat the option or separate them with commas)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::Join)
      ->envname("IGNIS_REDIS");
  app.add_option("--redis-cluster", s.cluster,
                 "auto (ask the first seed), yes (a Redis Cluster) or no (one server)")
      ->check(CLI::IsMember({"auto", "yes", "no"}))
      ->envname("IGNIS_REDIS_CLUSTER");
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
  const auto seeds = redis::parse_seeds(s.url);
  if (!seeds) {
    throw std::invalid_argument(
        "--redis needs redis:// or rediss:// URLs (all of one scheme), separated by commas");
  }
  redis::config cfg;
  cfg.url = s.url;
  if (s.cluster == "yes") {
    cfg.cluster = redis::cluster_mode::on;
  } else if (s.cluster == "no") {
    if (seeds->size() > 1) {
      throw std::invalid_argument("--redis-cluster no takes one --redis URL, not " +
                                  std::to_string(seeds->size()));
    }
    cfg.cluster = redis::cluster_mode::off;
  } else {
    cfg.cluster = redis::cluster_mode::automatic;
  }
  cfg.log = [](std::string_view level, std::string_view message) { log_line(level, message); };
  redis::adapter_options opts;
  opts.mode = s.mode == "sharded" ? redis::adapter_mode::sharded : redis::adapter_mode::classic;
  opts.key = s.key_prefix;
  opts.requests_timeout = std::chrono::milliseconds(s.requests_timeout);
  auto link = std::make_unique<redis::adapter_link>(rt, std::move(cfg), std::move(opts));
  link->start();
  return link;
}

}  // namespace ignis::program
