#pragma once

// A private redis-server for one test: spawned on a free loopback port with no persistence, in
// its own temporary directory, and killed when the object goes away. Tests use it to stop,
// restart or freeze Redis under a client; tests that only need some Redis may use the server in
// IGNIS_TEST_REDIS_URL instead (see tests/redis/with-redis.sh).
//
//   ignis::test::redis_server redis;                      // plain, ready when constructed
//   ignis::test::redis_server auth({.args = {"--requirepass", "pw"}, .password = "pw"});
//   ignis::test::redis_server cluster({.cluster = true});  // single node owning all 16384 slots
//   redis.cli({"PUBLISH", "ch", "x"});                    // redis-cli, returns its stdout
//   redis.pause(); redis.resume(); redis.restart();
//
// Needs redis-server and redis-cli on PATH (Debian: redis-server, which pulls redis-tools).
// Throws std::runtime_error when the server does not come up.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ignis::test {

struct redis_server_options {
  /// Extra redis-server arguments, e.g. {"--requirepass", "secret"}.
  std::vector<std::string> args{};
  /// The password cli() authenticates with (the one given by --requirepass, if any).
  std::string password{};
  /// --cluster-enabled yes, then CLUSTER ADDSLOTSRANGE 0 16383; ready once cluster_state is ok.
  bool cluster = false;
  /// Also listen with TLS on tls_port() using these PEM files (plain port() stays for cli()).
  std::string tls_cert_file{}, tls_key_file{}, tls_ca_file{};
};

class redis_server {
 public:
  explicit redis_server(redis_server_options options = {});
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::uint16_t tls_port() const noexcept { return tls_port_; }
  /// redis://127.0.0.1:<port>
  std::string url() const;
  /// The temporary directory the server runs in (removed with the object).
  const std::filesystem::path& dir() const noexcept { return dir_; }

  /// Kills the server (SIGKILL: as abrupt as a crash) and waits for it to exit.
  void stop();
  /// Starts it again on the same port(s) and waits until it answers.
  void restart();
  /// Freezes (SIGSTOP) and thaws (SIGCONT) the process: connections stay open, nothing answers.
  void pause();
  void resume();
  bool running() const noexcept { return pid_ > 0; }

  /// Runs redis-cli against the plain port and returns its output without the final newline.
  std::string cli(const std::vector<std::string>& args) const;

 private:
  void spawn();
  void wait_ready();

  redis_server_options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  std::uint16_t cluster_port_ = 0;  // the cluster bus (options_.cluster only)
  pid_t pid_ = -1;
  bool paused_ = false;
};

/// A Redis Cluster of six private redis-server processes on free loopback ports (client and bus
/// ports), made three masters and three replicas by `redis-cli --cluster create ...
/// --cluster-replicas 1`, with a small cluster-node-timeout so that a failover takes seconds.
/// Ready once every node agrees on the map and every replica is in sync. Throws
/// std::runtime_error when it does not come up.
///
///   ignis::test::redis_cluster cluster;
///   cluster.seeds();                 // "redis://127.0.0.1:p1,redis://127.0.0.1:p2,redis://..."
///   cluster.master_of(slot);         // the port of the master serving it (CLUSTER NODES)
///   cluster.node(port).stop();       // SIGKILL one node; .restart() brings it back
class redis_cluster {
 public:
  explicit redis_cluster(std::chrono::milliseconds node_timeout = std::chrono::milliseconds(1000));
  redis_cluster(const redis_cluster&) = delete;
  redis_cluster& operator=(const redis_cluster&) = delete;

  /// The first three nodes' URLs (the masters right after create), comma-separated.
  std::string seeds() const;
  std::vector<std::uint16_t> ports() const;
  redis_server& node(std::uint16_t port);
  /// redis-cli against any running node.
  std::string cli(const std::vector<std::string>& args) const;
  /// The port of the master serving `slot` as a running node sees it (0: none).
  std::uint16_t master_of(std::uint16_t slot) const;
  /// The node id of the node on `port`.
  std::string id_of(std::uint16_t port) const;
  /// Waits (up to `limit`) until every running node says cluster_state:ok and they agree on
  /// which masters serve the slots, none of them failed.
  void wait_healthy(std::chrono::milliseconds limit = std::chrono::milliseconds(20000)) const;

 private:
  const redis_server& any_running() const;
  std::vector<std::unique_ptr<redis_server>> nodes_;
};

/// IGNIS_TEST_REDIS_URL if set (the shared server of tests/redis/with-redis.sh), else empty.
std::string shared_redis_url();

}  // namespace ignis::test
