// Closing and destroying clients in every state: while connecting (to a live, a silent and a
// refused server), while connected and busy, while reconnecting, from inside handlers, from
// another thread, and with many threads using one socket. Built and run under ASan+UBSan and TSan
// too (-DIGNIS_SANITIZE=...): there the point is that nothing is used after free, no data race is
// reported and nothing deadlocks. The assertions check what must hold in any build: no handler of
// a client starts once its handles are destroyed (watched until the client's strand and then the
// whole io_context have run out of work), and none of them keeps a session open on the server.
#include "client/support.hpp"

#include <ignis/client/manager.hpp>

#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <thread>

namespace ignis::client::test {
namespace {

namespace json = boost::json;

// Counts the handler calls of one client; `late` counts the calls that started after its handles
// were destroyed (which must never happen). `destroyed` is set on the client's strand once the
// handles are gone (mark_destroyed, or destroy() in DestroyFromInsideHandlers), so a handler that
// was already running when another thread destroyed them is not counted.
struct watch {
  std::atomic<int> calls{0};
  std::atomic<int> late{0};
  std::atomic<bool> destroyed{false};
  void hit() {
    ++calls;
    if (destroyed.load()) ++late;
  }
};

// Runs `f` on `strand` and waits for it (at most 10 s): everything posted to the strand before
// has run by then. The strand outlives the client's handles (the io_context owns it).
[[nodiscard]] bool run_on(const manager::executor_type& strand, std::function<void()> f = {}) {
  auto done = std::make_shared<queue<int>>();  // shared: the task may outlive a failed wait
  boost::asio::post(strand, [done, f = std::move(f)] {
    if (f) f();
    done->push(1);
  });
  return done->pop().has_value();
}

// The handles of the client on `strand` are gone: from now on none of its handlers may start.
[[nodiscard]] bool mark_destroyed(watch& w, const manager::executor_type& strand) {
  return run_on(strand, [&w] { w.destroyed = true; });
}

// Lets the io_context run out of work (io_thread's destructor waits for that, at most 3 s), then
// checks that no watched handler started after its client was destroyed, however late.
void expect_no_late_calls(std::optional<io_thread>& io, const std::deque<watch>& watches) {
  io.reset();
  for (std::size_t i = 0; i < watches.size(); ++i)
    EXPECT_EQ(watches[i].late.load(), 0) << "client " << i;
}

void watch_all(watch& w, manager& m, client::socket& s) {
  s.on_connect([&w] { w.hit(); });
  s.on_disconnect([&w](disconnect_reason) { w.hit(); });
  s.on_connect_error([&w](const connect_error&) { w.hit(); });
  s.on_any([&w](std::string_view, payload&, ack_responder) { w.hit(); });
  m.on_error([&w](const connect_error&) { w.hit(); });
  m.on_close([&w](disconnect_reason) { w.hit(); });
  m.on_reconnect_attempt([&w](std::size_t) { w.hit(); });
}

class LifecycleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (node_path().empty()) return;
    // A short heartbeat, so that sessions the client abandoned mid-handshake expire quickly.
    live_ = std::make_unique<node_server>(node_options{.ping_interval = 400, .ping_timeout = 400});
    silent_ = std::make_unique<node_server>(node_options{.mode = "silent"});
    refused_port_ = free_port();
  }
  static void TearDownTestSuite() {
    live_.reset();
    silent_.reset();
  }
  void SetUp() override {
    if (!live_) GTEST_SKIP() << "node not found";
  }
  // Every client of the test is gone: the server must be left with no session but the observer's
  // own, i.e. nothing kept a session alive (a polling loop or a socket that outlived its client).
  void TearDown() override {
    if (!live_ || HasFatalFailure()) return;
    queue<int> up;
    io_thread io;
    manager m(io.executor(), live_->url(), options(1));
    auto s = m.socket();
    s->on_connect([&up] { up.push(1); });
    s->connect();
    ASSERT_TRUE(up.pop());
    std::int64_t count = -1;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = call(*s, "engine-count");
      ASSERT_TRUE(r);
      count = r->args.args[0].as_int64();
      if (count == 1) break;
      up.pop(100ms);  // server-side expiry has no event to await: look again shortly
    }
    EXPECT_EQ(count, 1);
  }

  static std::vector<std::string> urls() {
    return {live_->url(), silent_->url(), "http://127.0.0.1:" + std::to_string(refused_port_)};
  }
  static manager_options options(int i) {
    manager_options o;
    if (i % 3 == 1) o.transports = {transport_kind::websocket};
    if (i % 3 == 2) o.transports = {transport_kind::polling};
    o.timeout = 200ms;
    o.reconnection.delay = 10ms;
    o.reconnection.delay_max = 20ms;
    return o;
  }

  std::mt19937 rng_{12345};
  void jitter() {
    // Varies the state the client is in when it is destroyed (not a synchronisation).
    std::this_thread::sleep_for(std::chrono::microseconds(rng_() % 3000));
  }

  static inline std::unique_ptr<node_server> live_;
  static inline std::unique_ptr<node_server> silent_;
  static inline int refused_port_ = 0;
};

TEST_F(LifecycleTest, DestroyWhileConnecting) {
  std::deque<watch> watches;
  std::optional<io_thread> io(std::in_place);
  for (int i = 0; i < 30; ++i) {
    for (const auto& url : urls()) {
      auto& w = watches.emplace_back();
      std::optional<manager> m(std::in_place, io->executor(), url, options(i));
      const auto strand = m->get_executor();
      auto s = m->socket(i % 2 ? "/" : "/admin");
      watch_all(w, *m, *s);
      s->connect();
      s->emit_with_ack("ack", make_args(i), 50ms, [&w](error_code, payload) { w.hit(); });
      if (i % 4 == 0) jitter();
      if (i % 2) {
        s.reset();
        m.reset();
        ASSERT_TRUE(mark_destroyed(w, strand));
      } else {
        m.reset();  // the socket outlives its manager: its calls do nothing, no handler runs
        ASSERT_TRUE(mark_destroyed(w, strand));
        s->connect();
        s->emit("echo", make_args(1));
        s->emit_with_ack("ack", make_args(i), 50ms, [&w](error_code, payload) { w.hit(); });
        s.reset();
      }
    }
  }
  expect_no_late_calls(io, watches);
}

TEST_F(LifecycleTest, DestroyWhileConnectedAndBusy) {
  std::deque<watch> watches;
  queue<int> up;
  queue<int> burst_started;
  std::optional<io_thread> io(std::in_place);
  for (int i = 0; i < 20; ++i) {
    auto& w = watches.emplace_back();
    std::optional<manager> m(std::in_place, io->executor(), live_->url(), options(i));
    const auto strand = m->get_executor();
    auto s = m->socket();
    watch_all(w, *m, *s);
    s->on_connect([&up] { up.push(1); });
    s->on("burst", [&burst_started, i](payload& p, ack_responder) {
      if (p.args.at(0) == 0) burst_started.push(i);
    });
    s->connect();
    ASSERT_TRUE(up.pop());
    s->emit("burst", make_args(json::object{{"count", 200}}));
    for (int k = 0; k < 20; ++k)
      s->emit_with_ack("ack", make_args(k), 1s, [&w](error_code, payload) { w.hit(); });
    // Half of the clients go while their emits are still on the way out, half once the server's
    // burst is coming in (its first event is awaited: the jitter alone is too short for it under
    // the sanitizers).
    const bool awaited = i % 4 < 2;
    if (awaited) {
      ASSERT_TRUE(burst_started.wait_for(i));
    }
    // The watch's connect handler ran before the test's (handlers run in the order they were
    // added), and the catch-all before the event's own handler saw the burst's first event.
    EXPECT_GE(w.calls.load(), awaited ? 2 : 1) << "client " << i;
    jitter();
    if (i % 3 == 0) m->close();
    if (i % 3 == 1) s->disconnect();
    if (i % 2) {
      s.reset();
      m.reset();
    } else {
      m.reset();
      s.reset();
    }
    ASSERT_TRUE(mark_destroyed(w, strand));
  }
  expect_no_late_calls(io, watches);
}

// A client destroyed during a reconnection attempt never connects nor calls back afterwards.
// Nothing marks the moment it would have, so a control client is put in the same state right
// after it was destroyed, with the same options: once the control has reconnected (live server)
// or made three attempts (refused port), the destroyed one, ahead of it, would have done the same.
TEST_F(LifecycleTest, DestroyWhileReconnecting) {
  std::deque<watch> watches;
  std::optional<io_thread> io(std::in_place);
  // Connects a client and, for the live server, has it close its transport; returns its
  // "connect", "attempt <n>" and "reconnect" events once the first reconnection attempt started
  // (null if it did not). Shared: the handlers may outlive the iteration.
  const auto start_reconnecting = [](manager& m, client::socket& s, bool refused) {
    auto events = std::make_shared<queue<std::string>>();
    m.on_reconnect_attempt(
        [events](std::size_t n) { events->push("attempt " + std::to_string(n)); });
    m.on_reconnect([events](std::size_t) { events->push("reconnect"); });
    s.on_connect([events] { events->push("connect"); });
    s.connect();
    if (!refused) {
      if (!events->wait_for("connect")) return decltype(events){};
      s.emit("close-me");  // transport close: reconnection starts
    }
    if (!events->wait_for("attempt 1")) return decltype(events){};
    return events;
  };
  for (int i = 0; i < 15; ++i) {
    const bool refused = i % 2 == 0;
    const auto url = refused ? urls()[2] : live_->url();
    auto& w = watches.emplace_back();
    std::optional<manager> m(std::in_place, io->executor(), url, options(i));
    const auto strand = m->get_executor();
    auto s = m->socket();
    watch_all(w, *m, *s);
    ASSERT_TRUE(start_reconnecting(*m, *s, refused)) << "case " << i;
    if (i % 3 == 0) jitter();
    s.reset();
    m.reset();
    ASSERT_TRUE(mark_destroyed(w, strand));

    manager control(io->executor(), url, options(i));
    auto cs = control.socket();
    const auto control_events = start_reconnecting(control, *cs, refused);
    ASSERT_TRUE(control_events) << "case " << i;
    ASSERT_TRUE(control_events->wait_for(refused ? "attempt 3" : "reconnect")) << "case " << i;
    EXPECT_EQ(w.late.load(), 0) << "case " << i;
  }
  expect_no_late_calls(io, watches);
}

// Destroys the handles from inside a handler: the other handlers of the same event, and every
// later one, must not run.
TEST_F(LifecycleTest, DestroyFromInsideHandlers) {
  enum class where { connect, event, ack, disconnect, connect_error, reconnect_attempt };
  std::deque<watch> watches;
  queue<int> done;
  std::optional<io_thread> io(std::in_place);
  for (int i = 0; i < 24; ++i) {
    auto& w = watches.emplace_back();
    const auto at = static_cast<where>(i % 6);
    struct holder {
      std::optional<manager> m;
      std::shared_ptr<client::socket> s;
    };
    auto h = std::make_shared<holder>();
    const auto url =
        at == where::connect_error || at == where::reconnect_attempt ? urls()[2] : live_->url();
    h->m.emplace(io->executor(), url, options(i));
    h->s = h->m->socket();
    const auto strand = h->m->get_executor();
    // Runs on the strand: nothing can interleave with it.
    auto destroy = [h, &w, &done] {
      if (!h->s) return;
      h->s->disconnect();
      h->m->close();
      h->s.reset();
      h->m.reset();
      w.destroyed = true;
      done.push(1);
    };
    auto& s = *h->s;
    auto& m = *h->m;
    switch (at) {
      case where::connect:
        s.on_connect(destroy);
        break;
      case where::event:
        s.on_connect([sp = std::weak_ptr<client::socket>(h->s)] {
          if (auto x = sp.lock()) x->emit("burst", make_args(json::object{{"count", 100}}));
        });
        s.on("burst", [destroy](payload& p, ack_responder) {
          if (p.args[0] == 10) destroy();
        });
        break;
      case where::ack:
        s.on_connect([sp = std::weak_ptr<client::socket>(h->s), destroy] {
          if (auto x = sp.lock())
            x->emit_with_ack("ack", {}, 1s, [destroy](error_code, payload) { destroy(); });
        });
        break;
      case where::disconnect:
        s.on_connect([sp = std::weak_ptr<client::socket>(h->s)] {
          if (auto x = sp.lock()) x->emit("disconnect-me");
        });
        s.on_disconnect([destroy](disconnect_reason) { destroy(); });
        break;
      case where::connect_error:
        s.on_connect_error([destroy](const connect_error&) { destroy(); });
        break;
      case where::reconnect_attempt:
        m.on_reconnect_attempt([destroy](std::size_t) { destroy(); });
        break;
    }
    // Registered after the destroying handler: must never run once it did.
    s.on_connect([&w] { w.hit(); });
    s.on_disconnect([&w](disconnect_reason) { w.hit(); });
    s.on_connect_error([&w](const connect_error&) { w.hit(); });
    s.on("burst", [&w](payload&, ack_responder) { w.hit(); });
    m.on_reconnect_attempt([&w](std::size_t) { w.hit(); });
    m.on_close([&w](disconnect_reason) { w.hit(); });
    s.connect();
    h.reset();  // the handlers own it now
    ASSERT_TRUE(done.pop()) << "case " << i;
    // `done` was pushed inside destroy(), while the event's other handlers and whatever is queued
    // behind it on the strand had still to come: they have run once a task posted now has.
    ASSERT_TRUE(run_on(strand)) << "case " << i;
    EXPECT_EQ(w.late.load(), 0) << "case " << i;
  }
  expect_no_late_calls(io, watches);  // and none came later either
}

TEST_F(LifecycleTest, DestroyFromAnotherThread) {
  std::deque<watch> watches;
  queue<int> up;
  std::optional<io_thread> io(std::in_place);
  for (int i = 0; i < 15; ++i) {
    auto& w = watches.emplace_back();
    auto m = std::make_unique<manager>(io->executor(), live_->url(), options(i));
    const auto strand = m->get_executor();
    auto s = m->socket();
    watch_all(w, *m, *s);
    s->on_connect([&up] { up.push(1); });
    s->connect();
    ASSERT_TRUE(up.pop());
    // One thread keeps emitting while another destroys the manager, then its copy of the socket
    // (the emitter holds the last one): the acknowledgements stop with the manager.
    std::atomic<bool> stop{false};
    std::thread emitter([s, &stop, &w] {
      for (int k = 0; !stop.load() && k < 2000; ++k)
        s->emit_with_ack("ack", make_args(k), 500ms, [&w](error_code, payload) { w.hit(); });
    });
    std::thread destroyer([m = std::move(m), s = std::move(s), this]() mutable {
      jitter();
      m.reset();
      s.reset();
    });
    destroyer.join();
    const bool marked = mark_destroyed(w, strand);
    stop = true;
    emitter.join();
    ASSERT_TRUE(marked);
  }
  expect_no_late_calls(io, watches);
}

TEST_F(LifecycleTest, ManyThreadsShareOneSocket) {
  queue<int> up;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  queue<int> all_done;
  io_thread io;
  manager m(io.executor(), live_->url(), options(0));
  auto s = m.socket();
  s->on_connect([&up] { up.push(1); });
  s->connect();
  ASSERT_TRUE(up.pop());
  constexpr int threads = 4;
  constexpr int per_thread = 200;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int k = 0; k < per_thread; ++k) {
        const auto id = s->on("echo", [](payload&, ack_responder) {});
        s->emit_with_ack("ack", make_args(t, k), 10s, [&, t, k](error_code ec, payload p) {
          if (!ec && p == make_args(t, k)) {
            ++ok;
          } else {
            ++failed;
          }
          if (ok + failed == threads * per_thread) all_done.push(1);
        });
        s->off(id);
        (void)s->connected();
        (void)s->id();
        (void)m.transport();
      }
    });
  }
  for (auto& th : pool)
    th.join();
  ASSERT_TRUE(all_done.pop(30s));
  EXPECT_EQ(ok.load(), threads * per_thread);
  EXPECT_EQ(failed.load(), 0);
}

}  // namespace
}  // namespace ignis::client::test
