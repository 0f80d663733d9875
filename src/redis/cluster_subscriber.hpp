#pragma once

// The strand side of redis::subscriber in a Redis Cluster (config::cluster on or automatic). It
// keeps what is wanted (channels, patterns, shard channels) and one subscribing link
// (subscriber_impl) per master it needs:
//  - each shard channel on the master of its slot (SSUBSCRIBE is refused elsewhere);
//  - every channel and pattern on one master, the "classic home" (the cluster propagates PUBLISH
//    to every node, so one subscription anywhere hears everything; never two, or each message
//    would come twice).
// The map of slots comes from CLUSTER SHARDS on a command connection of its own (subscribe mode
// allows no other command), asked for at start, when a link reports a shard channel taken away
// (server SUNSUBSCRIBE) or refused (MOVED, CLUSTERDOWN), when a link is lost, while anything is
// out of place, and every config::topology_refresh_interval, through one refresh_schedule. Each
// new map puts every shard channel where its slot lives now (SUNSUBSCRIBE on the old master,
// SSUBSCRIBE on the new one) and moves the classic home off a master that is gone or unreachable
// (at most once per map: never a chase around a dead cluster). Links left with nothing to do are
// closed.
#include "redis/cluster_connection.hpp"
#include "redis/subscriber_impl.hpp"

namespace ignis::redis::detail {

class cluster_subscriber_impl final : public std::enable_shared_from_this<cluster_subscriber_impl> {
 public:
  using subscription_handler = subscriber_impl::subscription_handler;

  /// Throws std::invalid_argument when cfg.url is not a list of seed URLs.
  static std::shared_ptr<cluster_subscriber_impl> create(asio::any_io_executor ex, config cfg);
  ~cluster_subscriber_impl();
  cluster_subscriber_impl(const cluster_subscriber_impl&) = delete;
  cluster_subscriber_impl& operator=(const cluster_subscriber_impl&) = delete;

  // Any thread.
  void start();
  void close();
  void change(subscription_kind kind, std::string name, bool wanted);
  void on_message(subscriber::message_handler fn);
  void on_subscription(subscription_handler fn);
  link_state state() const noexcept { return state_.load(std::memory_order_acquire); }
  void on_state(std::function<void(link_state)> fn);
  cluster_status status() const;

 private:
  struct node_link {
    std::shared_ptr<subscriber_impl> sub;
    link_state state = link_state::connecting;
    std::uint64_t moved = 0;
  };

  cluster_subscriber_impl(asio::any_io_executor ex, config cfg, std::vector<parsed_url> seeds);

  template <class F>
  void run(F&& fn) {
    asio::dispatch(strand_,
                   [self = shared_from_this(), f = std::forward<F>(fn)]() mutable { f(); });
  }
  template <class F>
  void later(F&& fn) {
    asio::post(strand_, [self = shared_from_this(), f = std::forward<F>(fn)]() mutable { f(); });
  }

  node_link& link_for(const node_address& addr);
  bool link_connected(const node_address& addr) const;
  void place_shard(const std::string& channel);
  void place_classic();
  void drop_unused_links();

  void on_link_state(const node_address& addr, link_state s);
  void on_link_subscription(const node_address& addr, subscription_kind kind,
                            const std::string& name, bool active);
  void on_displaced(const node_address& addr, const std::string& channel, bool moved);

  void request_refresh();
  void start_refresh();
  void on_topology(const node_address& from, topology_result result);
  void apply(slot_map map);
  void arm_periodic();
  bool settled() const;
  void update_state();
  void set_state(link_state s);
  void publish_status();

  config cfg_;
  std::vector<parsed_url> seeds_;
  asio::strand<asio::any_io_executor> strand_;
  std::atomic<link_state> state_{link_state::connecting};
  std::recursive_mutex callbacks_mutex_;
  bool silenced_ = false;
  std::function<void(link_state)> on_state_;
  std::shared_ptr<const subscriber::message_handler> on_message_;
  std::shared_ptr<const subscription_handler> on_subscription_;

  std::set<std::string> channels_, patterns_, shards_;
  std::map<std::string, node_address> shard_home_;  // where each wanted shard channel is
  std::set<std::string> displaced_;  // taken away or refused, not subscribed again yet
  std::optional<node_address> classic_home_;
  std::map<node_address, node_link> links_;

  slot_map map_;
  cluster_status::topology kind_ = cluster_status::topology::unknown;
  std::shared_ptr<connection_impl> probe_;  // asks for the map
  node_address probe_addr_;
  refresh_schedule schedule_;
  asio::steady_timer refresh_timer_;
  asio::steady_timer periodic_timer_;
  std::size_t candidate_ = 0;
  bool started_ = false;
  bool closed_ = false;
  bool ever_connected_ = false;
  std::string last_error_;

  mutable std::mutex status_mutex_;
  cluster_status status_;
};

}  // namespace ignis::redis::detail
