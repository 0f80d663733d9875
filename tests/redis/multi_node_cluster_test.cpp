// The connection and the subscriber against a real Redis Cluster of six redis-server processes
// (three masters, three replicas), started once for all the tests of this executable (ctest runs
// it as one test): commands routed to the master of their slot, MOVED and ASK followed during a
// slot migration, shard channels subscribed on their slot's master and followed when the slot
// moves, classic channels heard from any master, and a master killed (kill -9): its replica is
// promoted and both follow. The tests run in order and leave a healthy cluster behind.
#include "redis/harness.hpp"
#include "redis/key_slot.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace ignis::redis::test {
namespace {

using ignis::redis::detail::key_slot;
using ignis::test::redis_cluster;

redis_cluster* the_cluster = nullptr;

class cluster_environment : public ::testing::Environment {
 public:
  void SetUp() override {
    cluster_ = std::make_unique<redis_cluster>();
    the_cluster = cluster_.get();
  }
  void TearDown() override {
    the_cluster = nullptr;
    cluster_.reset();
  }

 private:
  std::unique_ptr<redis_cluster> cluster_;
};

const auto* registered = ::testing::AddGlobalTestEnvironment(new cluster_environment);

config cluster_config() {
  auto c = quick_config(the_cluster->seeds());
  c.cluster = cluster_mode::on;
  return c;
}

// A name whose slot `master` serves (a shard channel or key), from a stem plus a counter.
std::string name_on(std::uint16_t master, const std::string& stem) {
  for (int i = 0;; ++i) {
    auto name = stem + std::to_string(i);
    if (the_cluster->master_of(key_slot(name)) == master) return name;
  }
}

std::vector<std::uint16_t> masters() {
  std::set<std::uint16_t> out;
  for (std::uint16_t slot = 0; slot < detail::slot_count; slot += 512)
    out.insert(the_cluster->master_of(slot));
  return {out.begin(), out.end()};
}

// Moves `slot` from its master to `to` as redis-cli --cluster reshard does it, in two steps:
// begin() leaves it migrating (the old master answers ASK for keys it does not have), finish()
// gives it to `to` on every node (the old master answers MOVED, and pushes SUNSUBSCRIBE to the
// slot's shard channel subscribers).
struct slot_move {
  std::uint16_t slot, from, to;
  void begin() const {
    const auto s = std::to_string(slot);
    EXPECT_EQ(
        the_cluster->node(to).cli({"CLUSTER", "SETSLOT", s, "IMPORTING", the_cluster->id_of(from)}),
        "OK");
    EXPECT_EQ(
        the_cluster->node(from).cli({"CLUSTER", "SETSLOT", s, "MIGRATING", the_cluster->id_of(to)}),
        "OK");
  }
  void finish() const {
    const auto s = std::to_string(slot);
    const auto owner = the_cluster->id_of(to);
    EXPECT_EQ(the_cluster->node(to).cli({"CLUSTER", "SETSLOT", s, "NODE", owner}), "OK");
    EXPECT_EQ(the_cluster->node(from).cli({"CLUSTER", "SETSLOT", s, "NODE", owner}), "OK");
    for (const auto m : masters())
      if (m != from && m != to) the_cluster->node(m).cli({"CLUSTER", "SETSLOT", s, "NODE", owner});
    the_cluster->wait_healthy();
  }
};

// Waits until every name in `names` was confirmed active, in whatever order.
bool all_active(queue<std::pair<std::string, bool>>& events, std::set<std::string> names) {
  while (!names.empty()) {
    auto e = events.wait_until([&](const auto& v) { return v.second && names.count(v.first) > 0; });
    if (!e) return false;
    names.erase(e->first);
  }
  return true;
}

const node_status* status_of(const cluster_status& st, std::uint16_t port) {
  const auto addr = "127.0.0.1:" + std::to_string(port);
  for (const auto& n : st.nodes)
    if (n.address == addr) return &n;
  return nullptr;
}

TEST(RedisMultiNodeCluster, CommandsGoToTheMasterOfTheirSlot) {
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), cluster_config());
  ASSERT_TRUE(start_and_wait(*c, states));
  const auto ms = masters();
  ASSERT_EQ(ms.size(), 3u);
  const auto st = c->cluster();
  EXPECT_EQ(st.kind, cluster_status::topology::cluster);
  ASSERT_EQ(st.nodes.size(), 3u);  // masters only: replicas are never written to
  std::size_t slots = 0;
  for (const auto m : ms) {
    const auto* n = status_of(st, m);
    ASSERT_NE(n, nullptr) << m;
    EXPECT_EQ(n->state, link_state::connected);
    EXPECT_GT(n->slots, 5000u);
    slots += n->slots;
  }
  EXPECT_EQ(slots, detail::slot_count);

  for (const auto m : ms) {
    const auto key = name_on(m, "key-");
    EXPECT_EQ(call(*c, {"SET", key, "v" + key}).r.str, "OK");
    EXPECT_EQ(call(*c, {"GET", key}).r.str, "v" + key);
    // Written on that master itself: asked directly (no redirection), it has it.
    EXPECT_EQ(the_cluster->node(m).cli({"GET", key}), "v" + key);
  }
  // One reply per master.
  std::promise<std::vector<std::pair<error_code, reply>>> all;
  c->command_all({"PING"}, [&](auto r) { all.set_value(std::move(r)); });
  const auto replies = all.get_future().get();
  ASSERT_EQ(replies.size(), 3u);
  for (const auto& [ec, r] : replies)
    EXPECT_EQ(r.str, "PONG") << ec.message();
  EXPECT_EQ(c->cluster().nodes.size(), 3u);
  for (const auto& n : c->cluster().nodes)
    EXPECT_EQ(n.moved + n.ask, 0u);
}

TEST(RedisMultiNodeCluster, AskDuringAMigrationAndMovedAfterIt) {
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), cluster_config());
  ASSERT_TRUE(start_and_wait(*c, states));
  const auto ms = masters();
  const auto key = name_on(ms[0], "migrating-");
  const slot_move move{key_slot(key), ms[0], ms[1]};
  const auto slots_before = status_of(c->cluster(), ms[1])->slots;
  move.begin();
  // The key is not on the old master: it answers ASK, the command goes to the new one once.
  auto o = call(*c, {"SET", key, "there"});
  EXPECT_FALSE(o.ec) << o.ec.message() << " " << o.r.str;
  EXPECT_EQ(status_of(c->cluster(), ms[0])->ask, 1u);
  EXPECT_EQ(status_of(c->cluster(), ms[0])->moved, 0u);

  move.finish();
  // The old master now answers MOVED; the command follows it and the map is updated.
  o = call(*c, {"GET", key});
  EXPECT_FALSE(o.ec) << o.ec.message();
  EXPECT_EQ(o.r.str, "there");
  EXPECT_EQ(status_of(c->cluster(), ms[0])->moved, 1u);
  ASSERT_TRUE(within(5s, [&] {
    const auto* n = status_of(c->cluster(), ms[1]);
    return n != nullptr && n->slots == slots_before + 1;
  }));
  // Later commands go straight there.
  EXPECT_EQ(call(*c, {"GET", key}).r.str, "there");
  EXPECT_EQ(status_of(c->cluster(), ms[0])->moved, 1u);
}

TEST(RedisMultiNodeCluster, ShardChannelsLiveOnTheirMasterAndFollowTheirSlot) {
  io_thread io;
  queue<link_state> states;
  auto pub = connection::create(io.executor(), cluster_config());
  ASSERT_TRUE(start_and_wait(*pub, states));
  auto sub = subscriber::create(io.executor(), cluster_config());
  queue<std::string> messages;
  queue<std::pair<std::string, bool>> events;
  sub->on_message([&](std::string_view, std::string_view ch, std::string_view payload) {
    messages.push(std::string(ch) + "=" + std::string(payload));
  });
  sub->on_subscription([&](subscription_kind, std::string_view name, bool active) {
    events.push({std::string(name), active});
  });
  const auto ms = masters();
  std::map<std::uint16_t, std::string> channel_on;
  for (const auto m : ms) {
    channel_on[m] = name_on(m, "room-");
    sub->ssubscribe(channel_on[m]);
  }
  sub->subscribe("classic-channel");
  queue<link_state> sub_states;
  sub->on_state([&](link_state s) { sub_states.push(s); });
  sub->start();
  std::set<std::string> wanted = {"classic-channel"};
  for (const auto m : ms)
    wanted.insert(channel_on[m]);
  ASSERT_TRUE(all_active(events, wanted));
  ASSERT_TRUE(sub_states.wait_for(link_state::connected));

  for (const auto m : ms) {
    // Each master has exactly its channel.
    EXPECT_EQ(the_cluster->node(m).cli({"PUBSUB", "SHARDCHANNELS"}), channel_on[m]);
    EXPECT_EQ(call(*pub, {"SPUBLISH", channel_on[m], "hi"}).r.integer, 1);
    ASSERT_TRUE(messages.wait_for(channel_on[m] + "=hi"));
    // A classic PUBLISH on any master reaches the one subscription.
    the_cluster->node(m).cli({"PUBLISH", "classic-channel", std::to_string(m)});
    ASSERT_TRUE(messages.wait_for("classic-channel=" + std::to_string(m)));
  }

  // The slot of one channel moves: Redis pushes SUNSUBSCRIBE, the subscriber finds the new
  // master and subscribes there.
  const auto ch = channel_on[ms[2]];
  const slot_move move{key_slot(ch), ms[2], ms[0]};
  move.begin();
  move.finish();
  ASSERT_TRUE(events.wait_for({ch, true}));
  EXPECT_EQ(the_cluster->node(ms[2]).cli({"PUBSUB", "SHARDCHANNELS"}), "");
  ASSERT_TRUE(within(5s, [&] {
    return the_cluster->node(ms[0]).cli({"PUBSUB", "SHARDNUMSUB", ch}).find("\n1") !=
           std::string::npos;
  }));
  EXPECT_EQ(call(*pub, {"SPUBLISH", ch, "moved"}).r.integer, 1);
  ASSERT_TRUE(messages.wait_for(ch + "=moved"));
  ASSERT_TRUE(within(5s, [&] { return sub->state() == link_state::connected; }));
  // The slot goes back, for the tests after this one.
  const slot_move back{key_slot(ch), ms[0], ms[2]};
  back.begin();
  back.finish();
  ASSERT_TRUE(events.wait_for({ch, true}));
  sub->close();
}

TEST(RedisMultiNodeCluster, AMasterKilledIsReplacedByItsReplicaAndFollowed) {
  io_thread io;
  queue<link_state> states;
  auto pub = connection::create(io.executor(), cluster_config());
  ASSERT_TRUE(start_and_wait(*pub, states));
  auto sub = subscriber::create(io.executor(), cluster_config());
  queue<std::string> messages;
  queue<std::pair<std::string, bool>> events;
  sub->on_message([&](std::string_view, std::string_view ch, std::string_view payload) {
    messages.push(std::string(ch) + "=" + std::string(payload));
  });
  sub->on_subscription([&](subscription_kind, std::string_view name, bool active) {
    events.push({std::string(name), active});
  });
  const auto ms = masters();
  const auto victim = ms[1];
  const auto ch = name_on(victim, "doomed-");
  const auto key = name_on(victim, "doomed-key-");
  sub->ssubscribe(ch);
  sub->subscribe("everyone");
  sub->start();
  ASSERT_TRUE(all_active(events, {ch, "everyone"}));
  EXPECT_EQ(call(*pub, {"SPUBLISH", ch, "before"}).r.integer, 1);
  ASSERT_TRUE(messages.wait_for(ch + "=before"));

  const auto killed_at = std::chrono::steady_clock::now();
  the_cluster->node(victim).stop();  // SIGKILL
  // The replica takes over within a few node timeouts; both follow by themselves.
  ASSERT_TRUE(within(20s, [&] {
    const auto m = the_cluster->master_of(key_slot(ch));
    return m != 0 && m != victim;
  }));
  const auto promoted = the_cluster->master_of(key_slot(ch));
  ASSERT_TRUE(within(10s, [&] {
    const auto o = call(*pub, {"SPUBLISH", ch, "after"});
    return !o.ec && o.r.integer == 1;
  }));
  const auto resumed = std::chrono::steady_clock::now() - killed_at;
  ASSERT_TRUE(messages.wait_for(ch + "=after"));
  EXPECT_EQ(call(*pub, {"SET", key, "v"}).r.str, "OK");
  EXPECT_EQ(the_cluster->node(promoted).cli({"GET", key}), "v");
  ASSERT_TRUE(within(10s, [&] {
    return pub->state() == link_state::connected && sub->state() == link_state::connected;
  }));
  // The dead master is no node of either any more; classic channels are heard again.
  EXPECT_EQ(status_of(pub->cluster(), victim), nullptr);
  EXPECT_EQ(status_of(sub->cluster(), victim), nullptr);
  ASSERT_TRUE(within(5s, [&] {
    the_cluster->cli({"PUBLISH", "everyone", "back"});
    return messages.wait_for("everyone=back", 100ms);
  }));
  std::cout << "[ failover ] SPUBLISH delivered again "
            << std::chrono::duration_cast<std::chrono::milliseconds>(resumed).count()
            << " ms after the kill\n";

  // The old master comes back as a replica; nothing is sent to it.
  the_cluster->node(victim).restart();
  the_cluster->wait_healthy();
  EXPECT_EQ(the_cluster->node(victim).cli({"ROLE"}).rfind("slave", 0), 0u);
  EXPECT_EQ(call(*pub, {"SPUBLISH", ch, "later"}).r.integer, 1);
  ASSERT_TRUE(messages.wait_for(ch + "=later"));
  EXPECT_EQ(status_of(pub->cluster(), victim), nullptr);
  sub->close();
}

}  // namespace
}  // namespace ignis::redis::test
