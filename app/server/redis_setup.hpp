#pragma once

// The program's Redis adapter options (--redis, --redis-cluster, --redis-mode,
// --redis-key-prefix, --redis-requests-timeout, and for streams mode --redis-stream-name,
// --redis-stream-maxlen, --redis-stream-read-count, --redis-session-key-prefix,
// --redis-live-sessions; each also read from IGNIS_<FLAG>) and the link they describe.
#include <ignis/net/runtime.hpp>
#include <ignis/redis/adapter.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace ignis::program {

struct redis_settings {
  /// Empty: no Redis, the in-memory adapter. Several seed URLs are joined with commas (repeated
  /// --redis, a comma-separated value, or a TOML list).
  std::string url;
  std::string cluster = "auto";  ///< auto, yes or no
  std::string mode = "classic";
  std::string key_prefix = "socket.io";
  unsigned requests_timeout = 5000;
  // Streams mode: the defaults of Node's streamName, maxLen, readCount, sessionKeyPrefix.
  std::string stream_name = "socket.io";
  std::size_t stream_maxlen = 10000;
  std::size_t stream_read_count = 100;
  std::string session_key_prefix = "sio:session:";
  bool live_sessions = true;
};

/// Which options add_redis_options() adds: the program's, or the bench profile's subset (--redis,
/// --redis-cluster, --redis-mode classic or sharded, --redis-key-prefix; none read from the
/// environment).
enum class redis_option_set { program, bench };

void add_redis_options(CLI::App& app, redis_settings& s,
                       redis_option_set set = redis_option_set::program);

/// The started link for `s`, or nullptr without --redis. Throws std::invalid_argument (with a
/// sentence naming the option) for a URL that is not redis:// or rediss://, or several URLs with
/// --redis-cluster no. The link logs what happens to the cluster through log_line().
std::unique_ptr<redis::adapter_link> start_redis_link(net::runtime& rt, const redis_settings& s);

}  // namespace ignis::program
