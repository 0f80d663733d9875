#pragma once

// Asynchronous Redis connections on Asio: a pipelined command connection and a pub/sub
// subscriber. Both connect by themselves, reconnect with capped exponential backoff and jitter
// after any failure, and report their state; while Redis is unreachable they are `degraded` and
// refuse work at once instead of queueing it.
//
// Either talks to one server, or to a Redis Cluster (config::cluster): then it learns which
// master serves which slot (CLUSTER SHARDS, else CLUSTER SLOTS), keeps one connection per master
// it needs, sends each command or shard channel to the master of its slot, follows MOVED and ASK,
// and asks for the map again when a node is lost or redirects it, never more than a few times a
// second.
#include <ignis/redis/error.hpp>
#include <ignis/redis/reply.hpp>
#include <ignis/redis/url.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ignis::redis {

enum class link_state {
  connecting,  ///< first connection attempt under way
  connected,   ///< connected and authenticated; commands flow
  degraded,    ///< Redis unreachable or lost; reconnecting in the background
  closed,      ///< close() was called; final
};
const char* to_string(link_state) noexcept;

/// Whether the server is a Redis Cluster.
enum class cluster_mode {
  off,        ///< one server: `url` is one URL (today's behaviour of every earlier release)
  on,         ///< a Redis Cluster: `url` lists seed nodes
  automatic,  ///< asks the first seed that answers (CLUSTER SHARDS): a cluster, or one server
};

struct config {
  /// redis:// or rediss://, [user:pass@], [/db]. TLS verifies the server certificate against
  /// the system store (or tls_ca_file) and the host name unless tls_verify is false.
  /// With cluster on or automatic: one or more seed URLs separated by commas; the nodes found
  /// through them are reached with the first seed's scheme, credentials and TLS settings.
  std::string url = "redis://127.0.0.1:6379";
  /// A command without a reply for this long completes with error::timeout. If the server also
  /// stayed silent for that long, the link is considered dead and reconnected.
  std::chrono::milliseconds command_timeout{5000};
  /// Delay before reconnect attempt n: min(reconnect_max, reconnect_min * 2^n), then a random
  /// part of up to half of it is taken off (jitter), so that many clients do not retry in step.
  std::chrono::milliseconds reconnect_min{100}, reconnect_max{5000};
  /// subscriber only: after this long without a byte from the server it sends PING, so that a
  /// dead or frozen server or a silently dropped connection is noticed (no reply within
  /// command_timeout: reconnect) even when no message flows, within health_check_interval +
  /// command_timeout. A subscriber cannot tell a quiet channel from a dead server and loses what
  /// is published meanwhile, hence a short default: a PING a second is nothing to Redis.
  /// 0 disables it.
  std::chrono::milliseconds health_check_interval{1000};
  /// CLIENT SETNAME at connect if non-empty.
  std::string client_name{};
  /// Commands sent or waiting to be sent without a reply yet; beyond this command() fails with
  /// error::too_many_pending, so a stalled server cannot make memory grow without bound.
  std::size_t max_pending = 65536;
  /// rediss:// only: a PEM file of trusted CAs instead of the system store.
  std::string tls_ca_file{};
  /// rediss:// only: false skips certificate and host name verification (tests, never production).
  bool tls_verify = true;
  cluster_mode cluster = cluster_mode::off;
  /// Cluster: the map of slots is asked for again this often even when nothing went wrong (a
  /// lost node, MOVED, a server-side SUNSUBSCRIBE ask for it at once). 0: only when needed.
  std::chrono::milliseconds topology_refresh_interval{30000};
  /// Cluster: a command redirected (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) more often than this
  /// fails with error::too_many_redirects.
  unsigned max_redirects = 5;
  /// What an operator should know (a refused topology reply and why, a node lost or back, the
  /// map changing): level ("info", "warn", "error") and a sentence. Called on the connection's
  /// strand, once per change rather than per retry. Unset: silent.
  std::function<void(std::string_view level, std::string_view message)> log{};
};

/// One node of a Redis Cluster as a connection or subscriber sees it (for /health, /metrics).
struct node_status {
  std::string address{};  ///< host:port
  std::size_t slots = 0;  ///< slots it serves in the current map (0: not a master of it)
  link_state state{};
  std::uint64_t moved = 0;  ///< MOVED replies it sent us
  std::uint64_t ask = 0;    ///< ASK replies it sent us
};

/// What a connection or subscriber knows of the cluster.
struct cluster_status {
  enum class topology { unknown, standalone, cluster };
  topology kind = topology::unknown;
  std::vector<node_status> nodes{};  ///< by address
  /// When the map was last read (time_point{} if never).
  std::chrono::steady_clock::time_point last_refresh{};
  std::uint64_t refreshes = 0;         ///< maps read
  std::uint64_t refresh_failures = 0;  ///< topology requests that failed or were refused
  std::string last_error{};            ///< why the last one failed (empty after a success)
};

/// What a subscriber subscribes to: a channel (SUBSCRIBE), a pattern (PSUBSCRIBE) or a shard
/// channel (SSUBSCRIBE, Redis 7).
enum class subscription_kind { channel, pattern, shard_channel };

namespace detail {
class connection_impl;
class subscriber_impl;
class cluster_connection_impl;
class cluster_subscriber_impl;
}  // namespace detail

/// A command connection (pipelined: commands are written as they come and replies matched in
/// order). Every member function may be called from any thread; completions and state callbacks
/// run on the connection's own strand. Destroying the last shared_ptr closes the connection.
class connection : public std::enable_shared_from_this<connection> {
 public:
  using completion = std::function<void(error_code, reply)>;

  static std::shared_ptr<connection> create(boost::asio::any_io_executor, config);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Starts connecting (state connecting, then connected or degraded).
  void start();
  /// Fails every pending command with error::closed and stops for good (state closed). Once it
  /// returns, no on_state callback runs any more (command completions still do, with
  /// error::closed); it waits for one running on another thread.
  void close();

  /// Sends one command, e.g. {"SET", "k", "v"}; arguments are binary safe. `done` gets the reply
  /// ({} and the reply), error::server_error with the error reply (text in reply::str), or
  /// timeout / disconnected / not_connected / too_many_pending / closed with an empty reply.
  /// A command is never sent twice: one in flight when the link drops fails with disconnected.
  /// In a cluster it goes to the master of its key's slot (PUBLISH: any master when that one is
  /// unreachable; no key: any master), following MOVED and ASK (too_many_redirects past
  /// config::max_redirects; cluster_down when no node serves the slot).
  void command(std::vector<std::string> args, completion done = {});
  /// Sends one command to every master (the server itself when not a cluster), e.g. PUBSUB
  /// NUMSUB, whose answers count per node; `done` gets each node's outcome.
  void command_all(std::vector<std::string> args,
                   std::function<void(std::vector<std::pair<error_code, reply>>)> done);

  link_state state() const noexcept;
  /// Called on the strand at every state change.
  void on_state(std::function<void(link_state)>);
  /// The cluster's nodes as this connection sees them (kind standalone without a cluster).
  cluster_status cluster() const;

 private:
  explicit connection(std::shared_ptr<detail::connection_impl>);
  explicit connection(std::shared_ptr<detail::cluster_connection_impl>);
  std::shared_ptr<detail::connection_impl> impl_;
  std::shared_ptr<detail::cluster_connection_impl> cluster_;
};

/// A pub/sub connection (RESP2 subscribe mode). Remembers every channel, pattern and shard
/// channel and subscribes to all of them again after a reconnect. For shard channels in a Redis
/// Cluster it follows MOVED replies and server-initiated SUNSUBSCRIBE (slot moved or deleted) by
/// asking the cluster for the slot's owner (CLUSTER SHARDS, else CLUSTER SLOTS) and subscribing
/// again there. Message payloads are binary safe.
///
/// With config::cluster, it keeps one subscribing connection per master it needs: each shard
/// channel on the master of its slot, and channels and patterns on one master (the cluster
/// propagates PUBLISH to every node). After a failover or a slot migration it subscribes where
/// the slot lives now; a master lost moves the channels and patterns to another one.
class subscriber : public std::enable_shared_from_this<subscriber> {
 public:
  using message_handler = std::function<void(std::string_view pattern, std::string_view channel,
                                             std::string_view payload)>;

  static std::shared_ptr<subscriber> create(boost::asio::any_io_executor, config);
  ~subscriber();
  subscriber(const subscriber&) = delete;
  subscriber& operator=(const subscriber&) = delete;

  void start();
  /// Stops for good. Once it returns, no message, subscription or state callback runs any more.
  void close();

  /// Each call is remembered even while disconnected and takes effect once connected.
  void subscribe(std::string channel);
  void unsubscribe(std::string channel);
  void psubscribe(std::string pattern);
  void punsubscribe(std::string pattern);
  void ssubscribe(std::string channel);
  void sunsubscribe(std::string channel);

  /// `pattern` is empty except for pmessage; called on the subscriber's strand.
  void on_message(message_handler);
  /// Called on the strand when the server confirms a subscription (`active` true, also after
  /// every reconnect) or ends one (`active` false: our own unsubscribe, or a server-initiated
  /// SUNSUBSCRIBE, after which the shard channel is subscribed again by itself).
  void on_subscription(std::function<void(subscription_kind, std::string_view name, bool active)>);

  link_state state() const noexcept;
  void on_state(std::function<void(link_state)>);
  cluster_status cluster() const;

 private:
  explicit subscriber(std::shared_ptr<detail::subscriber_impl>);
  explicit subscriber(std::shared_ptr<detail::cluster_subscriber_impl>);
  void change(subscription_kind kind, std::string name, bool wanted);
  std::shared_ptr<detail::subscriber_impl> impl_;
  std::shared_ptr<detail::cluster_subscriber_impl> cluster_;
};

}  // namespace ignis::redis
