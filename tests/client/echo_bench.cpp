// Echo round trips: emit_with_ack(event, [n, "payload"]) with `window` acknowledgements in flight
// at once, the server answering each with its argument. One argument, as ignis-bench sends: the
// echo handler of Node's bench profile (bench/node/server.js) takes one, and takes a second as its
// acknowledgement callback. Not a ctest test; run by hand with a Release build:
//   client_echo_bench [messages=20000] [window=1] [websocket|polling] [URL EVENT]
// Without URL it starts the Node server (tests/client/node_server.mjs) and uses its "ack" event;
// with one it uses that server and EVENT: "echo" of `ignis-socketio --profile bench` and of
// `node bench/node/server.js`, "message-with-ack" of `ignis-fixture --mode socketio`.
#include "client/support.hpp"

#include <ignis/client/manager.hpp>

#include <boost/json/array.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>

using namespace ignis::client;
using namespace ignis::client::test;

int main(int argc, char** argv) {
  const long total = argc > 1 ? std::atol(argv[1]) : 20000;
  const long window = argc > 2 ? std::atol(argv[2]) : 1;
  const std::string transport = argc > 3 ? argv[3] : "websocket";
  const std::string event = argc > 5 ? argv[5] : "ack";
  std::unique_ptr<node_server> node;
  std::string url;
  if (argc > 4) {
    url = argv[4];
  } else {
    node = std::make_unique<node_server>();
    url = node->url();
  }
  queue<int> up;
  std::promise<void> finished;
  io_thread io;
  manager_options o;
  o.transports = {transport == "polling" ? transport_kind::polling : transport_kind::websocket};
  manager m(io.executor(), url, o);
  auto s = m.socket();
  s->on_connect([&] { up.push(1); });
  s->connect();
  if (!up.pop()) {
    std::fprintf(stderr, "no connection\n");
    return 1;
  }

  // Every acknowledgement sends the next message, so `window` stay in flight.
  struct state {
    std::atomic<long> sent{0};
    std::atomic<long> done{0};
    long total = 0;
    std::promise<void>* finished = nullptr;
    std::shared_ptr<ignis::client::socket> s;
    std::string event;
  };
  auto st = std::make_shared<state>();
  st->total = total;
  st->finished = &finished;
  st->s = s;
  st->event = event;
  auto fire = std::make_shared<std::function<void()>>();
  *fire = [st, weak = std::weak_ptr<std::function<void()>>(fire)] {
    const long n = st->sent.fetch_add(1);
    if (n >= st->total) return;
    st->s->emit_with_ack(st->event, make_args(boost::json::array{n, "payload"}),
                         std::chrono::seconds(30), [st, weak](error_code ec, payload) {
                           if (ec) std::fprintf(stderr, "ack error: %s\n", ec.message().c_str());
                           if (st->done.fetch_add(1) + 1 == st->total) st->finished->set_value();
                           if (auto f = weak.lock()) (*f)();
                         });
  };
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < window; ++i)
    (*fire)();
  finished.get_future().wait();
  const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s %s window %ld: %ld round trips in %.3f s = %.0f messages/s\n", transport.c_str(),
              node ? "node" : url.c_str(), window, total, secs, total / secs);
  st->s.reset();
  return 0;
}
