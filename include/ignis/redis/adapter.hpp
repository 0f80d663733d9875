#pragma once

// The Redis adapter: every namespace of a socketio::server shares broadcasts, rooms operations,
// fetch_sockets and server-side emits with the other servers on one Redis, wire-compatible with
// Node's @socket.io/redis-adapter 8.3 (createAdapter: classic pub/sub; createShardedAdapter:
// Redis 7 sharded pub/sub) or with @socket.io/redis-streams-adapter 0.3 (one Redis stream and
// pub/sub). Local recipients are served directly, never through Redis; a broadcast is published
// once.
//
// Redis trouble is not fatal: while it is unreachable, local delivery goes on, redis_state()
// says degraded, publishes fail and are counted; the links reconnect by themselves.
//
// On a Redis Cluster (config::cluster), publishes go to the master of the channel's slot (a
// classic PUBLISH to any master when that one is unreachable), subscriptions as redis::subscriber
// places them, and server counts (PUBSUB NUMSUB / SHARDNUMSUB) are summed over the masters.
#include <ignis/redis/client.hpp>
#include <ignis/socketio/server.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace ignis::redis {

enum class adapter_mode {
  classic,  ///< createAdapter: PUBLISH / PSUBSCRIBE
  sharded,  ///< createShardedAdapter: SPUBLISH / SSUBSCRIBE
  /// @socket.io/redis-streams-adapter 0.3: broadcasts and room operations XADDed to one stream
  /// and read back with XREAD, requests and answers by pub/sub, servers counted with NUMSUB;
  /// recovery sessions in Redis, so a client recovers on any server.
  streams,
};

/// The sharded adapter's subscriptionMode.
enum class subscription_mode {
  static_,          ///< one channel per namespace (plus the response channel)
  dynamic,          ///< also one channel per public room (not socket ids): Node's default
  dynamic_private,  ///< also one channel per room, socket ids included
};

struct adapter_options {
  adapter_mode mode = adapter_mode::classic;
  /// Channel prefix: the classic adapter's `key`, the sharded adapter's `channelPrefix`.
  std::string key = "socket.io";
  /// How long fetch_sockets and server_side_emit wait for the other servers.
  std::chrono::milliseconds requests_timeout{5000};
  /// Classic: answer requests on the requester's own response channel.
  bool publish_on_specific_response_channel = false;
  subscription_mode subscription = subscription_mode::dynamic;

  // Streams mode (Node's options of the same names).
  std::string stream_name = "socket.io";
  /// XADD ... MAXLEN ~ stream_max_len: how far back a restart or a recovery can reach.
  std::size_t stream_max_len = 10000;
  /// Entries per XREAD (and per XRANGE while restoring a session).
  std::size_t stream_read_count = 100;
  std::string session_key_prefix = "sio:session:";
  /// Keep each connected, recoverable socket's session in Redis too (not only when it leaves), so
  /// that its client recovers after this server dies (kill -9, a crash): written when its rooms
  /// change (coalesced, at most once per live_session_delay), refreshed in batches so that it
  /// expires only after recovery's window plus two refresh periods without this server.
  bool live_sessions = true;
  std::chrono::milliseconds live_session_delay{100};
  /// XREAD BLOCK time.
  std::chrono::milliseconds stream_block{5000};
};

struct adapter_stats {
  std::uint64_t publishes = 0;       ///< PUBLISH / SPUBLISH sent
  std::uint64_t publish_errors = 0;  ///< ... that failed (Redis down, timeout, error reply)
  std::uint64_t messages = 0;        ///< messages received from other servers
  std::uint64_t malformed = 0;       ///< received messages refused as malformed
  /// Streams mode: entries read from the stream, and XREADs that failed (Redis down, timeout).
  std::uint64_t stream_entries = 0;
  std::uint64_t stream_read_errors = 0;
  /// Streams mode: live sessions written (SET of a connected socket's session, changes and
  /// refreshes; live_sessions).
  std::uint64_t session_writes = 0;
  /// Streams mode: entries the reader skipped (not a message: no nsp, a bad type or data).
  std::uint64_t stream_malformed = 0;
  /// Streams mode: the id of the last entry read ("" before the first).
  std::string stream_position;
  /// Streams mode: how late the last entry was read, in ms after the time in its id (Redis'
  /// clock against this host's); -1 before the first entry.
  std::int64_t stream_lag_ms = -1;
};

namespace detail {
class adapter_link_state;
}

/// The two Redis connections of one server (a command connection to publish, a subscriber) and
/// the factory of its namespaces' adapters. Create it, pass factory() to socketio::server, call
/// start(). Thread-safe.
class adapter_link {
 public:
  adapter_link(net::runtime& rt, config redis, adapter_options options);
  ~adapter_link();
  adapter_link(const adapter_link&) = delete;
  adapter_link& operator=(const adapter_link&) = delete;

  /// Connects (in the background: the server may accept clients at once).
  void start();
  /// Unsubscribes and closes both connections; the adapters then serve this server only.
  void close();

  /// For socketio::server's constructor. The link must outlive the server.
  socketio::adapter_factory factory();

  /// connected when both connections are, degraded when either is not (yet), closed after
  /// close(). For /health and /metrics.
  link_state redis_state() const noexcept;
  adapter_stats stats() const noexcept;
  /// The Redis nodes (one without a cluster) as both connections see them: each node's state is
  /// the worse of the two views, redirections are summed. For /health and /metrics.
  cluster_status redis_cluster() const;
  const adapter_options& options() const noexcept;

 private:
  std::shared_ptr<detail::adapter_link_state> state_;
};

}  // namespace ignis::redis
