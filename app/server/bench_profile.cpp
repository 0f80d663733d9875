// The bench profile: the three handlers bench/node/server.js also has, on a bare Socket.IO server,
// so that a comparison with Node measures the servers and not the applications.
#include "bench_profile.hpp"

#include "../common/serve.hpp"
#include "redis_setup.hpp"
#include "text_list.hpp"

#include <ignis/admin/instrument.hpp>
#include <ignis/net/http.hpp>
#include <ignis/net/runtime.hpp>
#include <ignis/socketio/server.hpp>
#include <ignis/version.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace ignis::program {
namespace {

// The namespace's handlers serve every socket (as each Node socket's own listeners do): a
// connection carries no handler entries of its own.
void install_handlers(socketio::namespace_& nsp) {
  // echo: the same argument back, as an acknowledgement when one is asked, else as an event.
  nsp.on_event("echo",
               [](socketio::socket& self, socketio::payload& args, socketio::ack_responder ack) {
                 if (ack) {
                   ack(std::move(args));
                 } else {
                   self.emit("echo", std::move(args));
                 }
               });
  // broadcast: to every socket of the namespace, the sender included (Node's io.emit).
  nsp.on_event("broadcast",
               [](socketio::socket& self, socketio::payload& args, socketio::ack_responder) {
                 self.nsp().emit("broadcast", std::move(args));
               });
  // authenticate: the "authenticated" event always (ignis-bench waits for it), and {ok: true}
  // as the acknowledgement when one is asked (load tools such as artillery wait for that).
  nsp.on_event("authenticate",
               [](socketio::socket& self, socketio::payload&, socketio::ack_responder ack) {
                 if (ack) ack(socketio::make_args(boost::json::object{{"ok", true}}));
                 self.emit("authenticated");
               });
}

}  // namespace

bool wants_profile(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--profile" || arg.starts_with("--profile=")) return true;
  }
  return false;
}

int run_bench_profile(int argc, char** argv) {
  stop_signal stop;  // from the start: see serve.hpp
  std::string profile;
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  unsigned threads = 1;
  std::string path = "/socket.io";
  CLI::App app{"ignis-socketio --profile bench: the server ignis-bench measures"};
  app.set_version_flag("--version", "ignis-socketio " IGNIS_VERSION_STRING);
  app.add_option("--profile", profile, "bench")->required()->check(CLI::IsMember({"bench"}));
  app.add_option("--host", host, "address to listen on");
  app.add_option("--port", port, "port (0: any free port)");
  app.add_option("--threads", threads, "event loops (0: one per hardware thread)");
  app.add_option("--path", path, "Socket.IO path");
  unsigned recovery_ms = 0;
  app.add_option("--connection-state-recovery", recovery_ms,
                 "ms a client may come back within and recover (0: off)");
  std::string admin_ui = "off";
  app.add_option("--admin-ui", admin_ui,
                 "the Admin UI's namespace /admin, without a login (the bench listens on "
                 "loopback): off, dev or prod")
      ->check(CLI::IsMember({"off", "dev", "prod"}));
  std::size_t admin_events = 2'000;
  app.add_option("--admin-events-per-second", admin_events,
                 "--admin-ui dev: event messages to the UI per second (0: every event)");
  std::string handshake_headers = "*";
  app.add_option("--handshake-headers", handshake_headers,
                 "request headers each connection keeps: '*' (all but those that negotiated the "
                 "connection) or a comma-separated list (the bench's handlers read none)");
  // Several bench servers on one Redis: broadcasts reach the clients of all of them (the cluster
  // points of bench/compare).
  redis_settings redis_cfg;
  add_redis_options(app, redis_cfg, redis_option_set::bench);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  net::runtime rt(threads);
  // Declared before the server: the link outlives its adapters.
  std::unique_ptr<redis::adapter_link> redis_link;
  try {
    redis_link = start_redis_link(rt, redis_cfg);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  socketio::server_options options;
  options.engine.path = path;
  options.recovery.max_disconnection_duration = std::chrono::milliseconds(recovery_ms);
  if (handshake_headers != "*") options.engine.kept_headers = split_list(handshake_headers);
  socketio::server server(rt, options, redis_link ? redis_link->factory() : nullptr);
  std::unique_ptr<admin::instrument> instrumented;
  if (admin_ui != "off") {
    admin::options o;
    o.mode = admin_ui == "dev" ? admin::mode::development : admin::mode::production;
    o.max_events_per_second = admin_events;
    instrumented = std::make_unique<admin::instrument>(server, std::move(o));
  }
  install_handlers(server.main());
  net::http_listener listener(rt, {server.engine()});
  // A measurement starts when every server says it listens: by then a broadcast must reach the
  // other servers, so that line waits (a while) for both Redis connections.
  const auto wait_for_redis = [&redis_link] {
    if (!redis_link) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (redis_link->redis_state() != redis::link_state::connected &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (redis_link->redis_state() != redis::link_state::connected)
      std::cerr << "warning: not connected to Redis yet, listening anyway\n";
  };
  const int status = serve(rt, listener, host, port, stop, "http", wait_for_redis);
  server.close();
  if (redis_link) redis_link->close();
  rt.stop();
  return status;
}

}  // namespace ignis::program
