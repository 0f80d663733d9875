#include "redis_setup.hpp"

#include "logging.hpp"

#include <stdexcept>

namespace ignis::program {

void add_redis_options(CLI::App& app, redis_settings& s, redis_option_set set) {
  // The bench profile reads nothing from the environment: a measurement is what its command says.
  const bool program = set == redis_option_set::program;
  const auto env = [program](CLI::Option* o, const char* name) {
    if (program) o->envname(name);
    return o;
  };
  env(app.add_option("--redis", s.url,
                     "Redis URL: share rooms and broadcasts with other servers; for a Redis "
                     "Cluster, seed URLs (repeat the option or separate them with commas)")
          ->delimiter(',')
          ->multi_option_policy(CLI::MultiOptionPolicy::Join),
      "IGNIS_REDIS");
  env(app.add_option("--redis-cluster", s.cluster,
                     "auto (ask the first seed), yes (a Redis Cluster) or no (one server)")
          ->check(CLI::IsMember({"auto", "yes", "no"})),
      "IGNIS_REDIS_CLUSTER");
  if (program) {
    app.add_option("--redis-mode", s.mode,
                   "classic (PUBLISH), sharded (SPUBLISH, Redis 7) or streams (one Redis stream, "
                   "as @socket.io/redis-streams-adapter; recovery across servers)")
        ->check(CLI::IsMember({"classic", "sharded", "streams"}))
        ->envname("IGNIS_REDIS_MODE");
  } else {
    app.add_option("--redis-mode", s.mode, "classic (PUBLISH) or sharded (SPUBLISH, Redis 7)")
        ->check(CLI::IsMember({"classic", "sharded"}));
  }
  env(app.add_option("--redis-key-prefix", s.key_prefix,
                     "channel prefix shared by the cluster (streams mode: Node's channelPrefix)"),
      "IGNIS_REDIS_KEY_PREFIX");
  if (!program) return;
  app.add_option("--redis-requests-timeout", s.requests_timeout,
                 "ms to wait for other servers (fetchSockets, serverSideEmit)")
      ->check(CLI::Range(100u, 600'000u))
      ->envname("IGNIS_REDIS_REQUESTS_TIMEOUT");
  app.add_option("--redis-stream-name", s.stream_name, "streams mode: the stream's key")
      ->envname("IGNIS_REDIS_STREAM_NAME");
  app.add_option("--redis-stream-maxlen", s.stream_maxlen,
                 "streams mode: XADD MAXLEN ~ (how far back recovery and a Redis outage reach)")
      ->check(CLI::Range(std::size_t{10}, std::size_t{100'000'000}))
      ->envname("IGNIS_REDIS_STREAM_MAXLEN");
  app.add_option("--redis-stream-read-count", s.stream_read_count,
                 "streams mode: entries per XREAD")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
      ->envname("IGNIS_REDIS_STREAM_READ_COUNT");
  app.add_option("--redis-session-key-prefix", s.session_key_prefix,
                 "streams mode: key prefix of the recovery sessions")
      ->envname("IGNIS_REDIS_SESSION_KEY_PREFIX");
  app.add_option("--redis-live-sessions", s.live_sessions,
                 "streams mode with recovery: keep each authenticated socket's session in Redis "
                 "while it is connected, so that it survives a crash of this process")
      ->envname("IGNIS_REDIS_LIVE_SESSIONS");
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
  opts.mode = s.mode == "sharded"   ? redis::adapter_mode::sharded
              : s.mode == "streams" ? redis::adapter_mode::streams
                                    : redis::adapter_mode::classic;
  opts.stream_name = s.stream_name;
  opts.stream_max_len = s.stream_maxlen;
  opts.stream_read_count = s.stream_read_count;
  opts.session_key_prefix = s.session_key_prefix;
  opts.live_sessions = s.live_sessions;
  opts.key = s.key_prefix;
  opts.requests_timeout = std::chrono::milliseconds(s.requests_timeout);
  auto link = std::make_unique<redis::adapter_link>(rt, std::move(cfg), std::move(opts));
  link->start();
  return link;
}

}  // namespace ignis::program
