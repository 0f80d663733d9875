// What the cluster code decides, as vectors: the redirections an error reply asks for, where a
// command may go, how far a command follows redirections (a loop ends), and how often the map of
// slots may be asked for (never a busy loop, whatever asks for it).
#include "redis/cluster_policy.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ignis::redis::detail {
namespace {

using namespace std::chrono_literals;
using action = redirect_decision::action;

const node_address from{"10.0.0.9", 7000};

TEST(RedisClusterPolicy, RedirectionsAreRead) {
  EXPECT_EQ(parse_redirect("MOVED 3999 127.0.0.1:6381", from),
            (redirect{redirect_kind::moved, 3999, {"127.0.0.1", 6381}}));
  EXPECT_EQ(parse_redirect("ASK 3999 127.0.0.1:6381", from),
            (redirect{redirect_kind::ask, 3999, {"127.0.0.1", 6381}}));
  // A node that does not know its own address leaves the host out.
  EXPECT_EQ(parse_redirect("MOVED 1 :7002", from),
            (redirect{redirect_kind::moved, 1, {"10.0.0.9", 7002}}));
  EXPECT_EQ(parse_redirect("MOVED 16383 ::1:7002", from),
            (redirect{redirect_kind::moved, 16383, {"::1", 7002}}));
  EXPECT_EQ(parse_redirect("TRYAGAIN Multiple keys request during rehashing of slot", from)->kind,
            redirect_kind::tryagain);
  EXPECT_EQ(parse_redirect("CLUSTERDOWN The cluster is down", from)->kind,
            redirect_kind::clusterdown);
  EXPECT_EQ(parse_redirect("CLUSTERDOWN", from)->kind, redirect_kind::clusterdown);
}

TEST(RedisClusterPolicy, OtherErrorsAndBrokenRedirectionsAreNotFollowed) {
  for (const auto* text :
       {"", "ERR unknown command", "MOVED", "MOVED 12", "MOVED x 1.2.3.4:5", "MOVED 16384 h:1",
        "MOVED -1 h:1", "MOVED 1 h", "MOVED 1 h:0", "MOVED 1 h:70000", "ASK 1", "moved 1 h:1",
        "MOVEDX 1 h:1", "WRONGTYPE Operation", "CROSSSLOT Keys"}) {
    EXPECT_FALSE(parse_redirect(text, from)) << text;
  }
}

TEST(RedisClusterPolicy, Routes) {
  auto r = [](std::vector<std::string> args) { return route_of(args); };
  EXPECT_EQ(r({"SPUBLISH", "foo", "x"}), (route{route::kind::slot, 12182}));
  EXPECT_EQ(r({"spublish", "{foo}bar", "x"}), (route{route::kind::slot, 12182}));
  EXPECT_EQ(r({"PUBLISH", "foo", "x"}), (route{route::kind::slot_or_any, 12182}));
  EXPECT_EQ(r({"GET", "foo"}), (route{route::kind::slot, 12182}));
  // XREAD's key follows STREAMS, after the options.
  EXPECT_EQ(r({"XREAD", "COUNT", "100", "BLOCK", "5000", "STREAMS", "foo", "0-0"}),
            (route{route::kind::slot, 12182}));
  EXPECT_EQ(r({"xread", "streams", "foo", "$"}), (route{route::kind::slot, 12182}));
  EXPECT_EQ(r({"XADD", "foo", "MAXLEN", "~", "10", "*", "a", "b"}),
            (route{route::kind::slot, 12182}));
  EXPECT_EQ(r({"XREAD", "COUNT", "1"}), route{});
  EXPECT_EQ(r({"PUBSUB", "SHARDNUMSUB", "foo"}), route{});
  EXPECT_EQ(r({"cluster", "shards"}), route{});
  EXPECT_EQ(r({"PING"}), route{});
  EXPECT_EQ(r({"ping", "x"}), route{});
  EXPECT_EQ(r({}), route{});
}

TEST(RedisClusterPolicy, MovedIsFollowedAndRefreshesTheMap) {
  const auto d = decide({redirect_kind::moved, 5, {"b", 2}}, 0, 5000ms);
  EXPECT_EQ(d.what, action::resend);
  EXPECT_EQ(d.target, (node_address{"b", 2}));
  EXPECT_FALSE(d.asking);
  EXPECT_TRUE(d.refresh);
}

TEST(RedisClusterPolicy, AskIsFollowedOnceWithAsking) {
  const auto d = decide({redirect_kind::ask, 5, {"b", 2}}, 0, 5000ms);
  EXPECT_EQ(d.what, action::resend);
  EXPECT_TRUE(d.asking);
  EXPECT_FALSE(d.refresh);  // the slot is still the old node's until the migration ends
}

TEST(RedisClusterPolicy, TryAgainAndClusterDownWaitLongerEachTime) {
  std::vector<std::chrono::milliseconds> delays;
  for (unsigned n = 0; n < 4; ++n) {
    const auto d = decide({redirect_kind::tryagain, 0, {}}, n, 5000ms);
    ASSERT_EQ(d.what, action::wait);
    EXPECT_FALSE(d.refresh);
    delays.push_back(d.delay);
  }
  EXPECT_EQ(delays, (std::vector{20ms, 40ms, 80ms, 160ms}));
  const auto down = decide({redirect_kind::clusterdown, 0, {}}, 0, 5000ms);
  EXPECT_EQ(down.what, action::wait);
  EXPECT_TRUE(down.refresh);
  // A wait that would end after the command's deadline fails it now.
  EXPECT_EQ(decide({redirect_kind::tryagain, 0, {}}, 3, 100ms).what, action::fail);
  EXPECT_EQ(decide({redirect_kind::clusterdown, 0, {}}, 0, 0ms).what, action::fail);
}

// Two nodes that each say the other serves the slot: the command gives up after max_redirects,
// it does not bounce for ever.
TEST(RedisClusterPolicy, RedirectionLoopEnds) {
  const node_address a{"a", 1}, b{"b", 1};
  redirect_limits limits;
  limits.max_redirects = 5;
  node_address at = a;
  unsigned followed = 0;
  for (unsigned sent = 0; sent < 100; ++sent) {
    const redirect r{redirect_kind::moved, 7, at == a ? b : a};
    const auto d = decide(r, followed, 5000ms, limits);
    if (d.what == action::fail) {
      EXPECT_TRUE(d.refresh);
      break;
    }
    ASSERT_EQ(d.what, action::resend);
    at = d.target;
    ++followed;
  }
  EXPECT_EQ(followed, 5u);
  limits.max_redirects = 0;
  EXPECT_EQ(decide({redirect_kind::ask, 1, a}, 0, 5000ms, limits).what, action::fail);
}

using clock = refresh_schedule::clock;

TEST(RedisClusterRefresh, OneAtATimeAndNeverSoonerThanTheInterval) {
  refresh_schedule s(100ms, 1000ms);
  const auto t0 = clock::time_point{} + 1h;
  EXPECT_EQ(s.request(t0), 0ms);
  EXPECT_EQ(s.request(t0), std::nullopt);  // already scheduled: served by that one
  s.started(t0);
  EXPECT_EQ(s.request(t0 + 10ms), std::nullopt);  // running: another one follows it
  EXPECT_EQ(s.request(t0 + 20ms), std::nullopt);  // (only one)
  EXPECT_EQ(s.finished(t0 + 30ms, true), 70ms);   // 100 ms after the previous start
  s.started(t0 + 100ms);
  EXPECT_EQ(s.finished(t0 + 110ms, true), std::nullopt);
  EXPECT_EQ(s.request(t0 + 500ms), 0ms);
}

TEST(RedisClusterRefresh, FailuresSpaceThemOutUpToTheMaximumAndSuccessResets) {
  refresh_schedule s(100ms, 1000ms);
  auto t = clock::time_point{} + 1h;
  std::vector<std::chrono::milliseconds> gaps;
  for (int i = 0; i < 6; ++i) {
    const auto d = s.request(t);
    ASSERT_TRUE(d);
    t += *d;
    s.started(t);
    s.finished(t, false);
    gaps.push_back(*d);
  }
  EXPECT_EQ(gaps, (std::vector{0ms, 200ms, 400ms, 800ms, 1000ms, 1000ms}));
  const auto d = s.request(t);
  t += *d;
  s.started(t);
  s.finished(t, true);
  EXPECT_EQ(s.interval(), 100ms);
  EXPECT_EQ(s.request(t), 100ms);
}

// Whatever asks (every MOVED of a burst of 10,000 publishes, every lost node), a cluster that
// stays broken for 10 s is asked for its map at most once per max interval after the first
// doublings: about 15 times, not thousands.
TEST(RedisClusterRefresh, ABrokenClusterIsNotAskedInALoop) {
  refresh_schedule s(100ms, 1000ms);
  auto now = clock::time_point{} + 1h;
  const auto end = now + 10s;
  std::optional<clock::time_point> due;
  int refreshes = 0;
  while (now < end) {
    if (!due) {
      if (const auto d = s.request(now)) due = now + *d;
    }
    if (due && *due <= now) {
      s.started(now);
      ++refreshes;
      due.reset();
      if (const auto again = s.finished(now + 1ms, false)) due = now + 1ms + *again;
    }
    now += 1ms;  // a request every millisecond
  }
  EXPECT_GE(refreshes, 8);
  EXPECT_LE(refreshes, 16);
}

TEST(RedisClusterRefresh, AConnectionsScheduleStaysWithinBounds) {
  EXPECT_EQ(refresh_schedule::within_bounds(100ms, 5000ms).interval(), 100ms);
  EXPECT_EQ(refresh_schedule::within_bounds(1ms, 2ms).interval(), 100ms);  // never a loop
  auto s = refresh_schedule::within_bounds(100ms, 5000ms);
  const auto t = clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) {
    s.request(t);
    s.started(t);
    s.finished(t, false);
  }
  EXPECT_EQ(s.interval(), 500ms);  // a promoted replica is found within half a second
}

}  // namespace
}  // namespace ignis::redis::detail
