#pragma once

// The strand side of redis::connection in a Redis Cluster (config::cluster on or automatic). It
// keeps the map of slots (cluster_topology.hpp), a command connection (connection_impl) to each
// master of it, and sends each command to the master of its slot, carrying out what
// cluster_policy.hpp decides about MOVED, ASK, TRYAGAIN and CLUSTERDOWN. The map is asked for
// at start, after a MOVED or CLUSTERDOWN, when a master is lost, while the cluster stays degraded
// and every config::topology_refresh_interval, all through one refresh_schedule, so never more
// than a few times a second. A server that says it is not a cluster is used as one server.
//
// Everything runs on this object's strand; the node connections are created on it too (a strand
// within the strand), so their callbacks never run concurrently with ours. They still reach us
// through asio::post, never inline: a node's completion may come from inside its own handlers.
#include "redis/cluster_policy.hpp"
#include "redis/connection_impl.hpp"

#include <map>
#include <mutex>
#include <set>

namespace ignis::redis::detail {

/// Reads the map from the node `conn` talks to (`node`): CLUSTER SHARDS, or CLUSTER SLOTS on a
/// server without it. `done` gets the map (a one-server map when the server is not a cluster) or
/// a sentence saying why there is none. With `guess_standalone` (automatic mode, one seed), a
/// server that refuses CLUSTER altogether (renamed, or not for our user) counts as one server
/// too: a cluster would not be usable without it. Called on `conn`'s strand.
void ask_topology(const std::shared_ptr<connection_impl>& conn, const node_address& node, bool tls,
                  bool guess_standalone, std::function<void(topology_result)> done);
/// Whether a server that refuses CLUSTER may be taken for one server: automatic mode, one seed.
bool may_guess_standalone(const config& cfg, std::size_t seeds) noexcept;

/// The config of a node's own connection: `seed`'s scheme and credentials, the node's address,
/// no cluster logic of its own.
config node_config(const config& cluster_cfg, const parsed_url& seed, const node_address& node);

/// Calls cfg.log if set; an exception from it is swallowed (a logger must not break Redis).
void log_to(const config& cfg, std::string_view level, const std::string& message);

class cluster_connection_impl final : public std::enable_shared_from_this<cluster_connection_impl> {
 public:
  using all_done = std::function<void(std::vector<std::pair<error_code, reply>>)>;

  /// Throws std::invalid_argument when cfg.url is not a list of seed URLs.
  static std::shared_ptr<cluster_connection_impl> create(asio::any_io_executor ex, config cfg);
  ~cluster_connection_impl();
  cluster_connection_impl(const cluster_connection_impl&) = delete;
  cluster_connection_impl& operator=(const cluster_connection_impl&) = delete;

  // Any thread.
  void start();
  void close();
  void command(std::vector<std::string> args, connection::completion done);
  void command_all(std::vector<std::string> args, all_done done);
  link_state state() const noexcept { return state_.load(std::memory_order_acquire); }
  void on_state(std::function<void(link_state)> fn);
  cluster_status status() const;

 private:
  struct op;
  struct node {
    std::shared_ptr<connection_impl> conn;
    link_state state = link_state::connecting;
    std::uint64_t moved = 0, ask = 0;
  };

  cluster_connection_impl(asio::any_io_executor ex, config cfg, std::vector<parsed_url> seeds);

  template <class F>
  void run(F&& fn) {
    asio::dispatch(strand_,
                   [self = shared_from_this(), f = std::forward<F>(fn)]() mutable { f(); });
  }
  template <class F>
  void later(F&& fn) {
    asio::post(strand_, [self = shared_from_this(), f = std::forward<F>(fn)]() mutable { f(); });
  }

  node& node_for(const node_address& addr);
  std::optional<node_address> pick(const route& r) const;
  bool connected(const node_address& addr) const;
  void dispatch(const std::shared_ptr<op>& o, std::optional<node_address> target, bool asking);
  void on_reply(const std::shared_ptr<op>& o, const node_address& from, error_code ec, reply r);
  void finish(const std::shared_ptr<op>& o, error_code ec, reply r);

  void request_refresh();
  void start_refresh();
  void on_topology(const node_address& from, topology_result result);
  void apply(slot_map map);
  bool healthy() const;
  void on_node_state(const node_address& addr, link_state s);
  void arm_periodic();
  void update_state();
  void set_state(link_state s);
  void publish_status();

  config cfg_;
  std::vector<parsed_url> seeds_;
  asio::strand<asio::any_io_executor> strand_;
  std::atomic<link_state> state_{link_state::connecting};
  std::function<void(link_state)> on_state_;
  std::recursive_mutex callbacks_mutex_;
  bool silenced_ = false;

  std::map<node_address, node> nodes_;
  slot_map map_;
  cluster_status::topology kind_ = cluster_status::topology::unknown;
  refresh_schedule schedule_;
  asio::steady_timer refresh_timer_;
  asio::steady_timer periodic_timer_;
  std::size_t candidate_ = 0;  // rotates through the nodes asked for the map after failures
  std::set<std::shared_ptr<op>> waiting_;  // TRYAGAIN / CLUSTERDOWN waits
  std::size_t in_flight_ = 0;
  bool started_ = false;
  bool closed_ = false;
  bool ever_connected_ = false;
  std::string last_error_;  // of the last refresh, logged once per distinct text

  mutable std::mutex status_mutex_;
  cluster_status status_;
};

}  // namespace ignis::redis::detail
