#include "redis/cluster_topology.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace ignis::redis::detail {
namespace {

// A RESP2 rendering of a map is a flat array of alternating keys and values.
const reply* field(const reply& map, std::string_view key) {
  if (map.type != reply::kind::array) return nullptr;
  for (std::size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    const auto& k = map.elements[i];
    if ((k.type == reply::kind::string || k.type == reply::kind::status) && k.str == key)
      return &map.elements[i + 1];
  }
  return nullptr;
}

std::optional<std::int64_t> integer_of(const reply* r) {
  if (r == nullptr) return std::nullopt;
  if (r->type == reply::kind::integer) return r->integer;
  // Some proxies render numbers as bulk strings.
  if (r->type == reply::kind::string) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(r->str.data(), r->str.data() + r->str.size(), v);
    if (ec == std::errc{} && end == r->str.data() + r->str.size()) return v;
  }
  return std::nullopt;
}

bool is_text(const reply* r) {
  return r != nullptr && (r->type == reply::kind::string || r->type == reply::kind::status);
}

std::optional<std::uint16_t> port_of(const reply* r) {
  const auto v = integer_of(r);
  if (!v || *v <= 0 || *v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}

// "?" and "" mean that the node does not know its address: it has never met another node, so
// it is the one that answered.
std::string host_or(std::string_view host, const node_address& answered_by) {
  if (host.empty() || host == "?") return answered_by.host;
  return std::string(host);
}

std::string describe_slot(std::uint16_t slot) {
  return "slot " + std::to_string(slot);
}

}  // namespace

std::string node_address::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<node_address> parse_host_port(std::string_view text,
                                            const node_address& answered_by) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return std::nullopt;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.find_first_of(" \r\n") != std::string_view::npos) return std::nullopt;
  node_address a{host_or(host, answered_by), static_cast<std::uint16_t>(port)};
  if (a.host.empty()) return std::nullopt;
  return a;
}

slot_map::slot_map() : owner_(slot_count, 0) {}

slot_map slot_map::single(node_address node) {
  slot_map m;
  m.masters_.push_back(std::move(node));
  std::fill(m.owner_.begin(), m.owner_.end(), std::uint16_t{1});
  m.counts_ = {slot_count};
  m.standalone_ = true;
  return m;
}

topology_result slot_map::from_ranges(const std::vector<slot_range>& ranges,
                                      std::vector<node_address> replicas) {
  slot_map m;
  std::set<node_address> masters;
  for (const auto& r : ranges) {
    if (r.master.host.empty() || r.master.port == 0) {
      return std::string("a master without an address serves slots " + std::to_string(r.first) +
                         "-" + std::to_string(r.last));
    }
    masters.insert(r.master);
  }
  if (masters.size() > max_topology_nodes) {
    return "more than " + std::to_string(max_topology_nodes) + " masters";
  }
  m.masters_.assign(masters.begin(), masters.end());
  for (const auto& r : ranges) {
    if (r.first > r.last || r.last >= slot_count) {
      return "slot range " + std::to_string(r.first) + "-" + std::to_string(r.last) +
             " is not within 0-16383";
    }
    const auto idx = static_cast<std::uint16_t>(
        std::lower_bound(m.masters_.begin(), m.masters_.end(), r.master) - m.masters_.begin() + 1);
    for (std::size_t s = r.first; s <= r.last; ++s) {
      auto& owner = m.owner_[s];
      if (owner != 0 && owner != idx) {
        return describe_slot(static_cast<std::uint16_t>(s)) + " is served by both " +
               m.masters_[owner - 1].to_string() + " and " + r.master.to_string();
      }
      owner = idx;
    }
  }
  // A node both master and replica in one reply is contradictory too.
  std::sort(replicas.begin(), replicas.end());
  replicas.erase(std::unique(replicas.begin(), replicas.end()), replicas.end());
  for (const auto& r : replicas) {
    if (masters.count(r) > 0) return r.to_string() + " is listed both as master and as replica";
  }
  if (m.masters_.size() + replicas.size() > max_topology_nodes) {
    return "more than " + std::to_string(max_topology_nodes) + " nodes";
  }
  m.replicas_ = std::move(replicas);
  m.recount();
  return m;
}

void slot_map::recount() {
  counts_.assign(masters_.size(), 0);
  for (const auto o : owner_)
    if (o != 0) ++counts_[o - 1];
}

const node_address* slot_map::master_of(std::uint16_t slot) const noexcept {
  if (slot >= slot_count) return nullptr;
  const auto idx = owner_[slot];
  return idx == 0 ? nullptr : &masters_[idx - 1];
}

std::size_t slot_map::slots_of(const node_address& node) const noexcept {
  const auto it = std::lower_bound(masters_.begin(), masters_.end(), node);
  if (it == masters_.end() || *it != node) return 0;
  return counts_[static_cast<std::size_t>(it - masters_.begin())];
}

std::size_t slot_map::covered() const noexcept {
  std::size_t n = 0;
  for (const auto c : counts_)
    n += c;
  return n;
}

bool slot_map::is_master(const node_address& node) const noexcept {
  return std::binary_search(masters_.begin(), masters_.end(), node);
}

std::size_t slot_map::index_of(const node_address& node) {
  auto it = std::lower_bound(masters_.begin(), masters_.end(), node);
  if (it == masters_.end() || *it != node) {
    // A new master: indexes after it shift by one.
    const auto pos = static_cast<std::uint16_t>(it - masters_.begin() + 1);
    for (auto& o : owner_)
      if (o >= pos) ++o;
    it = masters_.insert(it, node);
    replicas_.erase(std::remove(replicas_.begin(), replicas_.end(), node), replicas_.end());
  }
  return static_cast<std::size_t>(it - masters_.begin() + 1);
}

void slot_map::move(std::uint16_t slot, const node_address& node) {
  if (slot >= slot_count || standalone_) return;
  owner_[slot] = static_cast<std::uint16_t>(index_of(node));
  recount();
  // A master left without slots is no master of this map any more.
  for (std::size_t i = masters_.size(); i-- > 0;) {
    if (counts_[i] != 0) continue;
    const auto idx = static_cast<std::uint16_t>(i + 1);
    masters_.erase(masters_.begin() + static_cast<std::ptrdiff_t>(i));
    counts_.erase(counts_.begin() + static_cast<std::ptrdiff_t>(i));
    for (auto& o : owner_)
      if (o > idx) --o;
  }
}

topology_result parse_cluster_shards(const reply& r, const node_address& answered_by, bool tls) {
  if (r.type != reply::kind::array) return std::string("CLUSTER SHARDS did not answer an array");
  if (r.elements.empty()) return std::string("the cluster has no shards (no slot is served)");
  std::vector<slot_range> ranges;
  std::vector<node_address> replicas;
  std::size_t nodes_seen = 0;
  for (const auto& shard : r.elements) {
    const reply* slots = field(shard, "slots");
    const reply* nodes = field(shard, "nodes");
    if (slots == nullptr || nodes == nullptr || slots->type != reply::kind::array ||
        nodes->type != reply::kind::array) {
      return std::string("a shard without \"slots\" and \"nodes\" arrays");
    }
    if (slots->elements.size() % 2 != 0) return std::string("a shard's slots are not pairs");
    std::optional<node_address> master;
    for (const auto& node : nodes->elements) {
      if (++nodes_seen > max_topology_nodes) {
        return "more than " + std::to_string(max_topology_nodes) + " nodes";
      }
      const reply* role = field(node, "role");
      if (!is_text(role)) return std::string("a node without a role");
      node_address a;
      const reply* endpoint = field(node, "endpoint");
      const reply* ip = field(node, "ip");
      std::string_view host;
      if (is_text(endpoint) && !endpoint->str.empty() && endpoint->str != "?") {
        host = endpoint->str;
      } else if (is_text(ip)) {
        host = ip->str;
      }
      a.host = host_or(host, answered_by);
      std::optional<std::uint16_t> port;
      if (tls) port = port_of(field(node, "tls-port"));
      if (!port) port = port_of(field(node, "port"));
      if (!port && !tls) port = port_of(field(node, "tls-port"));
      if (!port || a.host.empty()) return std::string("a node without a usable address");
      a.port = *port;
      if (role->str == "master") {
        if (master && !slots->elements.empty()) {
          return "two masters in one shard: " + master->to_string() + " and " + a.to_string();
        }
        master = std::move(a);
      } else if (role->str == "replica") {
        replicas.push_back(std::move(a));
      } else {
        return "a node with the role \"" + role->str.substr(0, 32) + "\"";
      }
    }
    if (slots->elements.empty()) continue;  // e.g. a failed master whose replica took over
    if (!master) return std::string("a shard with slots but no master");
    for (std::size_t i = 0; i + 1 < slots->elements.size(); i += 2) {
      const auto lo = integer_of(&slots->elements[i]);
      const auto hi = integer_of(&slots->elements[i + 1]);
      if (!lo || !hi || *lo < 0 || *hi < 0 || *lo >= slot_count || *hi >= slot_count) {
        return std::string("a slot range that is not within 0-16383");
      }
      ranges.push_back({static_cast<std::uint16_t>(*lo), static_cast<std::uint16_t>(*hi), *master});
    }
  }
  if (ranges.empty()) return std::string("the cluster serves no slot");
  return slot_map::from_ranges(ranges, std::move(replicas));
}

topology_result parse_cluster_slots(const reply& r, const node_address& answered_by) {
  if (r.type != reply::kind::array) return std::string("CLUSTER SLOTS did not answer an array");
  if (r.elements.empty()) return std::string("the cluster serves no slot");
  if (r.elements.size() > slot_count) return std::string("more slot ranges than slots");
  std::vector<slot_range> ranges;
  std::vector<node_address> replicas;
  auto address = [&](const reply& n) -> std::optional<node_address> {
    if (n.type != reply::kind::array || n.elements.size() < 2 || !is_text(&n.elements[0])) {
      return std::nullopt;
    }
    const auto port = port_of(&n.elements[1]);
    if (!port) return std::nullopt;
    node_address a{host_or(n.elements[0].str, answered_by), *port};
    if (a.host.empty()) return std::nullopt;
    return a;
  };
  for (const auto& range : r.elements) {
    if (range.type != reply::kind::array || range.elements.size() < 3) {
      return std::string("a slot range without its master");
    }
    const auto lo = integer_of(&range.elements[0]);
    const auto hi = integer_of(&range.elements[1]);
    if (!lo || !hi || *lo < 0 || *hi < 0 || *lo >= slot_count || *hi >= slot_count) {
      return std::string("a slot range that is not within 0-16383");
    }
    auto master = address(range.elements[2]);
    if (!master) return std::string("a master without a usable address");
    for (std::size_t i = 3; i < range.elements.size(); ++i) {
      auto replica = address(range.elements[i]);
      if (!replica) return std::string("a replica without a usable address");
      replicas.push_back(std::move(*replica));
      if (replicas.size() > max_topology_nodes) {
        return "more than " + std::to_string(max_topology_nodes) + " nodes";
      }
    }
    ranges.push_back(
        {static_cast<std::uint16_t>(*lo), static_cast<std::uint16_t>(*hi), std::move(*master)});
  }
  return slot_map::from_ranges(ranges, std::move(replicas));
}

bool is_cluster_disabled(std::string_view error_text) noexcept {
  // "ERR This instance has cluster support disabled"
  return error_text.find("cluster support disabled") != std::string_view::npos;
}

bool is_unknown_subcommand(std::string_view error_text) noexcept {
  // "ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP." (case varies across versions)
  return error_text.find("nknown subcommand") != std::string_view::npos;
}

bool is_cluster_command_refused(std::string_view error_text) noexcept {
  return error_text.starts_with("NOPERM") ||
         error_text.find("unknown command") != std::string_view::npos;
}

}  // namespace ignis::redis::detail
