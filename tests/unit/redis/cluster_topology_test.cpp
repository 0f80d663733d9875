// The map of slots from CLUSTER SHARDS and CLUSTER SLOTS: replies captured from a real cluster
// (vectors/), and hand-made bad ones that must be refused with a reason, never believed.
#include "redis/cluster_topology.hpp"

#include "redis/resp_reader.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ignis::redis::detail {
namespace {

using kind = reply::kind;

reply read_reply(std::string_view bytes) {
  resp_reader r;
  EXPECT_FALSE(r.feed(bytes));
  auto next = r.next();
  EXPECT_TRUE(next && *next) << r.error_text();
  return next && *next ? std::move(**next) : reply{};
}

reply vector_reply(const std::string& name) {
  std::ifstream in(std::string(IGNIS_REDIS_CLUSTER_VECTORS) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream s;
  s << in.rdbuf();
  return read_reply(s.str());
}

node_address local(std::uint16_t port) {
  return {"127.0.0.1", port};
}

const node_address answered{"10.0.0.9", 7000};

reply str(std::string s) {
  return reply{kind::string, std::move(s), 0, {}};
}
reply num(std::int64_t n) {
  return reply{kind::integer, {}, n, {}};
}
reply arr(std::vector<reply> e) {
  return reply{kind::array, {}, 0, std::move(e)};
}

// A CLUSTER SHARDS node entry.
reply shard_node(std::string ip, std::int64_t port, std::string role) {
  return arr({str("id"), str("x"), str("port"), num(port), str("ip"), str(ip), str("endpoint"),
              str(ip), str("role"), str(std::move(role)), str("health"), str("online")});
}
reply shard(std::vector<std::int64_t> ranges, std::vector<reply> nodes) {
  std::vector<reply> slots;
  for (auto v : ranges)
    slots.push_back(num(v));
  return arr({str("slots"), arr(std::move(slots)), str("nodes"), arr(std::move(nodes))});
}

TEST(RedisClusterTopology, ShardsOfThreeMasters) {
  auto m = parse_cluster_shards(vector_reply("shards-3-masters.resp"), answered, false);
  ASSERT_TRUE(m) << m.error();
  EXPECT_FALSE(m->standalone());
  EXPECT_EQ(m->covered(), slot_count);
  EXPECT_EQ(m->masters(), (std::vector{local(40087), local(40535), local(42735)}));
  EXPECT_EQ(m->replicas(), (std::vector{local(33239), local(44403), local(44645)}));
  EXPECT_EQ(*m->master_of(0), local(40087));
  EXPECT_EQ(*m->master_of(5460), local(40087));
  EXPECT_EQ(*m->master_of(5461), local(40535));
  EXPECT_EQ(*m->master_of(16383), local(42735));
  EXPECT_EQ(m->slots_of(local(40087)), 5461u);
  EXPECT_EQ(m->slots_of(local(40535)), 5462u);
  EXPECT_EQ(m->slots_of(local(42735)), 5461u);
  EXPECT_EQ(m->slots_of(local(44645)), 0u);  // a replica serves nothing
  EXPECT_TRUE(m->is_master(local(42735)));
  EXPECT_FALSE(m->is_master(local(44403)));
}

TEST(RedisClusterTopology, SlotsGiveTheSameMapAsShards) {
  auto shards = parse_cluster_shards(vector_reply("shards-3-masters.resp"), answered, false);
  auto slots = parse_cluster_slots(vector_reply("slots-3-masters.resp"), answered);
  ASSERT_TRUE(shards && slots);
  EXPECT_EQ(*shards, *slots);
}

TEST(RedisClusterTopology, AfterAFailoverTheReplicaServesTheSlots) {
  // The failed master 42735 is a shard of its own without slots: it is no master of the map.
  auto m = parse_cluster_shards(vector_reply("shards-after-failover.resp"), answered, false);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->covered(), slot_count);
  EXPECT_EQ(m->masters(), (std::vector{local(40087), local(40535), local(44403)}));
  EXPECT_EQ(*m->master_of(12182), local(44403));
  EXPECT_FALSE(m->is_master(local(42735)));
  auto slots = parse_cluster_slots(vector_reply("slots-after-failover.resp"), answered);
  ASSERT_TRUE(slots) << slots.error();
  EXPECT_EQ(slots->masters(), m->masters());
  EXPECT_EQ(*slots->master_of(12182), local(44403));
}

TEST(RedisClusterTopology, NodeThatDoesNotKnowItsAddressIsTheOneThatAnswered) {
  auto r = arr({shard({0, 16383}, {shard_node("", 7000, "master")})});
  auto m = parse_cluster_shards(r, answered, false);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->masters(), std::vector{answered});
  // CLUSTER SLOTS writes "" too; endpoint "?" means the same.
  auto q = arr({arr({num(0), num(16383), arr({str("?"), num(7001), str("id")})})});
  auto s = parse_cluster_slots(q, answered);
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->masters(), (std::vector{node_address{"10.0.0.9", 7001}}));
}

TEST(RedisClusterTopology, TlsPortWhenConnectingWithTls) {
  auto node = shard_node("10.0.0.1", 7000, "master");
  node.elements.push_back(str("tls-port"));
  node.elements.push_back(num(7443));
  auto r = arr({shard({0, 16383}, {node})});
  EXPECT_EQ(parse_cluster_shards(r, answered, true)->masters().front().port, 7443);
  EXPECT_EQ(parse_cluster_shards(r, answered, false)->masters().front().port, 7000);
}

TEST(RedisClusterTopology, PartialCoverageIsAMapWithHoles) {
  auto r = arr({shard({0, 99, 200, 299}, {shard_node("10.0.0.1", 7000, "master")})});
  auto m = parse_cluster_shards(r, answered, false);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->covered(), 200u);
  EXPECT_EQ(m->master_of(150), nullptr);
  EXPECT_NE(m->master_of(250), nullptr);
}

// Each bad reply is refused whole, with a sentence; none is half-believed.
TEST(RedisClusterTopology, BadShardsRepliesAreRefusedWithAReason) {
  const auto master = [](std::string ip, std::int64_t port) {
    return shard_node(std::move(ip), port, "master");
  };
  const std::vector<std::pair<reply, std::string>> bad = {
      {reply{kind::status, "OK", 0, {}}, "did not answer an array"},
      {reply{kind::error, "ERR", 0, {}}, "did not answer an array"},
      {arr({}), "no shards"},
      {arr({num(1), num(2)}), "without \"slots\" and \"nodes\""},
      {arr({shard({0}, {master("10.0.0.1", 7000)})}), "not pairs"},
      {arr({shard({0, 16384}, {master("10.0.0.1", 7000)})}), "not within 0-16383"},
      {arr({shard({-1, 5}, {master("10.0.0.1", 7000)})}), "not within 0-16383"},
      {arr({shard({10, 5}, {master("10.0.0.1", 7000)})}), "not within 0-16383"},
      {arr({shard({0, 10}, {master("10.0.0.1", 0)})}), "usable address"},
      {arr({shard({0, 10}, {master("10.0.0.1", 70000)})}), "usable address"},
      {arr({shard({0, 10}, {shard_node("10.0.0.1", 7000, "primary?")})}), "role"},
      {arr({shard({0, 10}, {shard_node("10.0.0.1", 7000, "replica")})}), "no master"},
      {arr({shard({0, 10}, {master("10.0.0.1", 7000), master("10.0.0.2", 7000)})}), "two masters"},
      // Contradictory: one slot under two masters.
      {arr({shard({0, 100}, {master("10.0.0.1", 7000)}),
            shard({100, 200}, {master("10.0.0.2", 7000)})}),
       "slot 100 is served by both 10.0.0.1:7000 and 10.0.0.2:7000"},
      // A node both master and replica.
      {arr({shard({0, 100}, {master("10.0.0.1", 7000)}),
            shard({101, 200},
                  {master("10.0.0.2", 7000), shard_node("10.0.0.1", 7000, "replica")})}),
       "both as master and as replica"},
      {arr({shard({}, {master("10.0.0.1", 7000)})}), "serves no slot"},
  };
  for (const auto& [r, why] : bad) {
    auto m = parse_cluster_shards(r, answered, false);
    ASSERT_FALSE(m) << why;
    EXPECT_NE(m.error().find(why), std::string::npos) << m.error();
  }
}

TEST(RedisClusterTopology, BadSlotsRepliesAreRefusedWithAReason) {
  const std::vector<std::pair<reply, std::string>> bad = {
      {str("nope"), "did not answer an array"},
      {arr({}), "serves no slot"},
      {arr({arr({num(0), num(10)})}), "without its master"},
      {arr({arr({num(0), num(20000), arr({str("h"), num(1)})})}), "not within"},
      {arr({arr({num(0), num(10), arr({str("h")})})}), "master without a usable address"},
      {arr({arr({num(0), num(10), arr({str("h"), num(1)}), arr({num(5)})})}),
       "replica without a usable address"},
      {arr({arr({num(0), num(10), arr({str("a"), num(1)})}),
            arr({num(5), num(20), arr({str("b"), num(1)})})}),
       "slot 5 is served by both a:1 and b:1"},
  };
  for (const auto& [r, why] : bad) {
    auto m = parse_cluster_slots(r, answered);
    ASSERT_FALSE(m) << why;
    EXPECT_NE(m.error().find(why), std::string::npos) << m.error();
  }
}

TEST(RedisClusterTopology, AHugeReplyIsRefusedNotTurnedIntoConnections) {
  std::vector<reply> shards;
  for (std::int64_t i = 0; i < 1200; ++i)
    shards.push_back(shard({i, i}, {shard_node("10.0.0.1", 1000 + i, "master")}));
  auto m = parse_cluster_shards(arr(std::move(shards)), answered, false);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().find("more than 1000"), std::string::npos) << m.error();
}

TEST(RedisClusterTopology, StandaloneServesEverySlot) {
  const auto m = slot_map::single({"redis.local", 6379});
  EXPECT_TRUE(m.standalone());
  EXPECT_EQ(m.covered(), slot_count);
  EXPECT_EQ(*m.master_of(0), (node_address{"redis.local", 6379}));
  EXPECT_EQ(*m.master_of(16383), (node_address{"redis.local", 6379}));
  EXPECT_EQ(m.master_of(16384), nullptr);
  EXPECT_EQ(slot_map().covered(), 0u);
  EXPECT_EQ(slot_map().master_of(0), nullptr);
}

TEST(RedisClusterTopology, MovedUpdatesOneSlotAndDropsAnEmptiedMaster) {
  auto m = *slot_map::from_ranges({{0, 0, local(1)}, {1, 16383, local(2)}}, {local(3)});
  m.move(0, local(3));  // a replica promoted: now a master, and 1 serves nothing
  EXPECT_EQ(*m.master_of(0), local(3));
  EXPECT_EQ(*m.master_of(1), local(2));
  EXPECT_EQ(m.masters(), (std::vector{local(2), local(3)}));
  EXPECT_TRUE(m.replicas().empty());
  EXPECT_EQ(m.slots_of(local(3)), 1u);
  EXPECT_EQ(m.covered(), slot_count);
  m.move(16384, local(9));  // out of range: ignored
  EXPECT_EQ(m.masters().size(), 2u);
  auto s = slot_map::single(local(5));
  s.move(0, local(6));  // one server: nothing moves
  EXPECT_EQ(*s.master_of(0), local(5));
}

TEST(RedisClusterTopology, HostPort) {
  const node_address from{"10.0.0.9", 7000};
  EXPECT_EQ(parse_host_port("127.0.0.1:7001", from), local(7001));
  EXPECT_EQ(parse_host_port(":7002", from), (node_address{"10.0.0.9", 7002}));
  EXPECT_EQ(parse_host_port("[::1]:7003", from), (node_address{"::1", 7003}));
  EXPECT_EQ(parse_host_port("::1:7003", from), (node_address{"::1", 7003}));
  EXPECT_EQ(parse_host_port("redis-0.svc:6379", from), (node_address{"redis-0.svc", 6379}));
  for (const auto* bad : {"", "abc", "h:", "h:0", "h:65536", "h:99999999999", "h:1x", "h :1"})
    EXPECT_FALSE(parse_host_port(bad, from)) << bad;
  EXPECT_EQ((node_address{"::1", 7003}).to_string(), "[::1]:7003");
  EXPECT_EQ(local(7003).to_string(), "127.0.0.1:7003");
}

TEST(RedisClusterTopology, ServerRepliesThatAreNotMaps) {
  EXPECT_TRUE(is_cluster_disabled("ERR This instance has cluster support disabled"));
  EXPECT_FALSE(is_cluster_disabled("ERR unknown subcommand 'SHARDS'"));
  EXPECT_TRUE(is_unknown_subcommand("ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP."));
  EXPECT_TRUE(is_unknown_subcommand("ERR Unknown subcommand or wrong number of arguments"));
  EXPECT_TRUE(
      is_cluster_command_refused("ERR unknown command 'CLUSTER', with args beginning "
                                 "with: 'SHARDS' "));
  EXPECT_TRUE(
      is_cluster_command_refused("NOPERM this user has no permissions to run the "
                                 "'cluster|shards' command"));
  EXPECT_FALSE(is_cluster_command_refused("ERR This instance has cluster support disabled"));
}

}  // namespace
}  // namespace ignis::redis::detail
