// What a Redis Cluster node says about the cluster: the replies read from the input (through the
// RESP reader) are taken as CLUSTER SHARDS and CLUSTER SLOTS answers and as error replies that
// may be redirections. No input may crash or hang; a map that is accepted must hold together
// (every served slot's master is one of its masters, the counts add up), also after MOVED
// updates of it; a redirection accepted must name a slot and a usable address.
#include "redis/cluster_policy.hpp"
#include "redis/cluster_topology.hpp"
#include "redis/resp_reader.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace ignis::redis;
using namespace ignis::redis::detail;

void check(const slot_map& m) {
  std::size_t served = 0;
  for (const auto& master : m.masters()) {
    if (master.host.empty() || master.port == 0) std::abort();
    served += m.slots_of(master);
  }
  if (served != m.covered() || served > slot_count) std::abort();
  for (std::uint16_t s = 0; s < slot_count; s = static_cast<std::uint16_t>(s + 97)) {
    const auto* owner = m.master_of(s);
    if (owner != nullptr && !m.is_master(*owner)) std::abort();
  }
  for (const auto& r : m.replicas())
    if (m.is_master(r)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool tls = (data[0] & 1) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  resp_reader reader(1 << 16);
  if (reader.feed(input)) return 0;
  const node_address answered{"10.0.0.1", 7000};
  for (int n = 0; n < 16; ++n) {
    auto next = reader.next();
    if (!next || !*next) break;
    const reply& r = **next;
    for (auto m : {parse_cluster_shards(r, answered, tls), parse_cluster_slots(r, answered)}) {
      if (!m) {
        if (m.error().empty()) std::abort();
        continue;
      }
      check(*m);
      // A MOVED to a node of the input, then to a new one.
      const auto slot = static_cast<std::uint16_t>(r.integer & 0x3fff);
      if (!m->masters().empty()) m->move(slot, m->masters().back());
      m->move(slot, {"10.9.9.9", 1});
      check(*m);
    }
    if (r.type == reply::kind::error || r.type == reply::kind::status) {
      if (const auto redirect = parse_redirect(r.str, answered)) {
        if (redirect->slot >= slot_count) std::abort();
        const bool addressed =
            redirect->kind == redirect_kind::moved || redirect->kind == redirect_kind::ask;
        if (addressed && (redirect->target.host.empty() || redirect->target.port == 0)) {
          std::abort();
        }
      }
    }
  }
  return 0;
}
