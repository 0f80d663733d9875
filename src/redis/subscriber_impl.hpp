#pragma once

// The strand side of redis::subscriber. It keeps the wanted channels, patterns and shard channels
// and subscribes to all of them each time the link comes up. Each (un)subscribe command names one
// channel, so confirmations and error replies can be matched to it in order.
//
// Shard channels in a Redis Cluster can be taken away by the server (a slot deleted or migrated:
// SUNSUBSCRIBE pushed to us) or refused (MOVED, CLUSTERDOWN, TRYAGAIN). Then the slot's owner is
// looked up with CLUSTER SHARDS (CLUSTER SLOTS on servers without it) on a separate command
// connection, and once the slot is served by the node we are connected to, the channel is
// subscribed again; until then the lookup is retried with backoff.
#include "redis/backoff.hpp"
#include "redis/connection_impl.hpp"
#include "redis/link.hpp"

#include <algorithm>
#include <deque>
#include <set>

namespace ignis::redis::detail {

class subscriber_impl final : public link {
 public:
  using subscription_handler = std::function<void(subscription_kind, std::string_view, bool)>;

  static std::shared_ptr<subscriber_impl> create(asio::any_io_executor ex, config cfg);

  // Any thread.
  void change(subscription_kind kind, std::string name, bool wanted);
  void on_message(subscriber::message_handler fn);
  void on_subscription(subscription_handler fn);
  /// For a link that a cluster subscriber manages: a shard channel that the server took away
  /// (an SUNSUBSCRIBE we did not send) or refused (MOVED, ASK, CLUSTERDOWN, TRYAGAIN; `moved`
  /// true for the first two) is reported here instead of looked up by this link. Set it before
  /// start().
  void on_displaced(std::function<void(const std::string& channel, bool moved)> fn);
  /// Sends SSUBSCRIBE again for a wanted shard channel (its slot is served here after all).
  void resubscribe(std::string channel);

 private:
  struct outstanding {
    std::string verb;  // lower case, as the confirmation names it
    std::string name;
    clock::time_point sent_at;
  };

  subscriber_impl(asio::any_io_executor ex, config cfg);

  void on_up() override;
  void on_reply(reply&& r) override;
  void on_down(error_code why) override;

  void send_one(std::string_view verb, const std::string& name);
  void on_confirmation(std::string_view verb, const std::string& name);
  void on_error_reply(const reply& r);
  void arm_liveness();
  /// Since when the server has kept silent about the oldest unconfirmed command: since it was
  /// sent, or since the last byte read after it (call with a command outstanding).
  clock::time_point silent_since() const noexcept {
    return std::max(outstanding_.front().sent_at, last_read());
  }
  void arm_health_check();

  void need_owner(const std::string& channel, bool moved);
  void schedule_lookup(std::chrono::milliseconds delay);
  void lookup_owners();
  void on_owners(const reply& shards_or_slots, bool slots_form);

  std::set<std::string> channels_, patterns_, shards_;
  std::deque<outstanding> outstanding_;
  std::set<std::string> unplaced_;  // shard channels waiting for their slot's owner
  std::shared_ptr<connection_impl> cluster_;
  backoff lookup_backoff_;
  asio::steady_timer lookup_timer_;
  asio::steady_timer liveness_timer_;
  asio::steady_timer health_timer_;
  bool lookup_scheduled_ = false;
  bool liveness_armed_ = false;
  clock::time_point last_ping_{};  // the health check's last PING on this connection
  // Shared, so a callback that replaces itself does not destroy the function that is running.
  std::shared_ptr<const subscriber::message_handler> on_message_;
  std::shared_ptr<const subscription_handler> on_subscription_;
  std::shared_ptr<const std::function<void(const std::string&, bool)>> on_displaced_;
};

}  // namespace ignis::redis::detail
