#pragma once

// Redis Cluster decisions, sans I/O: which node a command goes to, what an error reply asks for
// (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) and whether to follow it, and when the map of slots may be
// asked for again. The connection and the subscriber only carry these decisions out, so the
// bounds (redirections per command, topology requests per second) are tested here with vectors.
#include "redis/cluster_topology.hpp"

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ignis::redis::detail {

enum class redirect_kind {
  moved,        ///< MOVED <slot> <host:port>: the slot lives there now (refresh the map)
  ask,          ///< ASK <slot> <host:port>: this one command, after ASKING, goes there
  tryagain,     ///< TRYAGAIN: a slot being migrated; retry after a short delay
  clusterdown,  ///< CLUSTERDOWN: the cluster cannot serve the slot now; retry later
};

struct redirect {
  redirect_kind kind = redirect_kind::moved;
  std::uint16_t slot = 0;
  node_address target{};  ///< MOVED and ASK only
  friend bool operator==(const redirect&, const redirect&) = default;
};

/// Reads an error reply's text. std::nullopt for any other error, and for a MOVED or ASK whose
/// slot or address does not parse (that is an error to report, not a redirection to follow).
std::optional<redirect> parse_redirect(std::string_view error_text,
                                       const node_address& answered_by);

/// Where a command may go.
struct route {
  enum class kind {
    any,          ///< no key (PING, PUBSUB, CLUSTER, ...): any master
    slot,         ///< the master of `slot` only
    slot_or_any,  ///< PUBLISH: the master of `slot` if it can take it, else any master (Redis
                  ///< Cluster propagates classic pub/sub to every node)
  };
  kind how = kind::any;
  std::uint16_t slot = 0;
  friend bool operator==(const route&, const route&) = default;
};

/// The route of a command from its name and first argument (the key or the channel).
route route_of(std::span<const std::string> args);

/// What to do with a command that got a redirection.
struct redirect_decision {
  enum class action {
    fail,    ///< give up: too many redirections, or the deadline is near
    resend,  ///< send again to `target` (ASKING first when `asking`)
    wait,    ///< send again to the slot's master after `delay`
  };
  action what = action::fail;
  node_address target{};
  bool asking = false;
  /// The map is out of date: ask for a new one (MOVED, CLUSTERDOWN).
  bool refresh = false;
  std::chrono::milliseconds delay{0};
  friend bool operator==(const redirect_decision&, const redirect_decision&) = default;
};

struct redirect_limits {
  /// Redirections one command may follow; one more fails it (a loop between two nodes that
  /// each think the other serves the slot ends here).
  unsigned max_redirects = 5;
  /// TRYAGAIN / CLUSTERDOWN: wait base_delay * 2^n before sending again.
  std::chrono::milliseconds base_delay{20};
};

/// `redirects` is how many this command followed before this one; `time_left` is what remains
/// of its deadline (a wait that would end after it fails at once instead).
redirect_decision decide(const redirect& r, unsigned redirects, std::chrono::milliseconds time_left,
                         const redirect_limits& limits = {});

/// When the map of slots may be asked for. One request at a time; never sooner than `min_interval`
/// after the previous one started; after a failure (no answer, a refused reply, or an answer that
/// still leaves the cluster degraded) the interval doubles up to `max_interval`, and a success
/// brings it back to `min_interval`. So a cluster in trouble is asked a few times a second at
/// most, whatever asks for it (every MOVED, every lost node): never a loop.
class refresh_schedule {
 public:
  using clock = std::chrono::steady_clock;

  /// The bounds a connection's schedule is kept within: never more than 10 requests a second,
  /// and never more than half a second between them while the cluster stays broken (a replica
  /// promoted is then used within half a second).
  static constexpr std::chrono::milliseconds floor{100}, ceiling{500};

  refresh_schedule(std::chrono::milliseconds min_interval, std::chrono::milliseconds max_interval);
  /// A schedule following a connection's reconnection delays, within [floor, ceiling].
  static refresh_schedule within_bounds(std::chrono::milliseconds reconnect_min,
                                        std::chrono::milliseconds reconnect_max);

  /// Someone wants a fresh map. Returns the delay after which to start one, or std::nullopt when
  /// one is already running or scheduled (it serves this request too; a request during a running
  /// one makes another follow it, as its answer may predate the reason for this one).
  std::optional<std::chrono::milliseconds> request(clock::time_point now);
  /// The scheduled refresh starts now.
  void started(clock::time_point now);
  /// It ended. Returns the delay of the follow-up when a request came meanwhile.
  std::optional<std::chrono::milliseconds> finished(clock::time_point now, bool ok);

  std::chrono::milliseconds interval() const noexcept { return interval_; }
  bool busy() const noexcept { return running_ || scheduled_; }

 private:
  std::chrono::milliseconds delay_from(clock::time_point now) const;

  std::chrono::milliseconds min_, max_, interval_;
  std::optional<clock::time_point> last_start_{};
  bool running_ = false;
  bool scheduled_ = false;
  bool again_ = false;
};

}  // namespace ignis::redis::detail
