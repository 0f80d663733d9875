#pragma once

// Redis Cluster topology, sans I/O: which master serves each of the 16384 slots, read from a
// CLUSTER SHARDS or CLUSTER SLOTS reply. A reply is checked whole before it is believed: one that
// is not the documented shape, names a node without an address, gives a range outside 0..16383 or
// puts one slot under two masters is refused with a sentence saying why, and the caller keeps the
// map it had. Nothing here does I/O or reads a clock.
#include "redis/key_slot.hpp"

#include <ignis/redis/reply.hpp>

#include <boost/system/result.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::redis::detail {

/// A node as the cluster names it.
struct node_address {
  std::string host{};
  std::uint16_t port = 0;

  /// host:port, with brackets around an IPv6 literal ([::1]:7000).
  std::string to_string() const;
  friend auto operator<=>(const node_address&, const node_address&) = default;
  friend bool operator==(const node_address&, const node_address&) = default;
};

/// "host:port" as MOVED and ASK carry it; the port follows the last colon, so an IPv6 literal
/// needs no brackets (they are accepted). An empty host ("MOVED 1 :7001", a node that does not
/// know its own address) means `answered_by`'s host. std::nullopt for anything else.
std::optional<node_address> parse_host_port(std::string_view text, const node_address& answered_by);

/// One range of slots and the master serving it.
struct slot_range {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  node_address master{};
};

class slot_map;
/// What a topology reply turned into: the map, or why it was refused.
using topology_result = boost::system::result<slot_map, std::string>;

/// The owner of every slot. Masters are kept in address order; a slot maps to an index in that
/// list. Replicas are remembered (for reports) but never routed to.
class slot_map {
 public:
  slot_map();
  /// A server that is not a cluster: it serves every slot.
  static slot_map single(node_address node);
  /// The map of these ranges, refused when one lies outside 0..16383, runs backwards, names a
  /// master without host or port, or overlaps another range of a different master.
  static topology_result from_ranges(const std::vector<slot_range>& ranges,
                                     std::vector<node_address> replicas);

  /// The master serving `slot`, or nullptr when no node does.
  const node_address* master_of(std::uint16_t slot) const noexcept;
  /// Masters serving at least one slot, in address order.
  const std::vector<node_address>& masters() const noexcept { return masters_; }
  const std::vector<node_address>& replicas() const noexcept { return replicas_; }
  /// Slots served by `node` (0 for a node that is not a master here).
  std::size_t slots_of(const node_address& node) const noexcept;
  /// Slots that have an owner; slot_count when the cluster covers them all.
  std::size_t covered() const noexcept;
  bool standalone() const noexcept { return standalone_; }
  bool is_master(const node_address& node) const noexcept;

  /// MOVED: `slot` is served by `node` now, which may be a master this map did not know.
  void move(std::uint16_t slot, const node_address& node);

  friend bool operator==(const slot_map&, const slot_map&) = default;

 private:
  std::size_t index_of(const node_address& node);
  void recount();

  std::vector<node_address> masters_{};
  std::vector<node_address> replicas_{};
  std::vector<std::uint16_t> owner_;   // per slot: index into masters_ plus one; 0: nobody
  std::vector<std::size_t> counts_{};  // slots per master
  bool standalone_ = false;
};

/// More nodes than this in one reply is refused: it would mean as many connections.
inline constexpr std::size_t max_topology_nodes = 1000;

/// CLUSTER SHARDS (Redis 7): [[ "slots", [lo, hi, ...], "nodes", [[ "ip", .., "port", .., "role",
/// .., "health", .. ], ...] ], ...]. A node's address is its endpoint, else its ip; one that
/// reports neither ("?" or empty: it has never met another node) is `answered_by`. With `tls`, a
/// node's tls-port is used when it has one. Shards without slots (a failed master whose replica
/// took over) are skipped.
topology_result parse_cluster_shards(const reply& r, const node_address& answered_by, bool tls);
/// CLUSTER SLOTS (before 7.0): [[lo, hi, [host, port, id, ...], replicas...], ...].
topology_result parse_cluster_slots(const reply& r, const node_address& answered_by);

/// Whether an error reply to CLUSTER SHARDS means that the server is not a cluster at all.
bool is_cluster_disabled(std::string_view error_text) noexcept;
/// Whether an error reply to CLUSTER SHARDS means the server predates it (ask CLUSTER SLOTS).
bool is_unknown_subcommand(std::string_view error_text) noexcept;
/// Whether an error reply means that CLUSTER may not be asked at all: renamed or disabled
/// ("ERR unknown command"), or not allowed to our user (NOPERM), as managed services do.
bool is_cluster_command_refused(std::string_view error_text) noexcept;

}  // namespace ignis::redis::detail
