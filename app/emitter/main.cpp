// ignis-emit: publishes one message of the Redis emitter (@socket.io/redis-emitter's format) and
// exits once Redis accepted it. Exit status 0 when published, 1 when Redis refused or was not
// reachable, 2 for bad arguments.
//
//   ignis-emit --redis redis://127.0.0.1:6379[,redis://SEED2...] [--redis-cluster auto|yes|no]
//              [--key socket.io] [--nsp /] [--to room]...
//              [--except room]... [--volatile] (--event NAME [--args JSON-ARRAY]
//              | --sockets-join ROOM | --sockets-leave ROOM | --disconnect-sockets [--close]
//              | --server-side-emit NAME [--args JSON-ARRAY])
#include <ignis/redis/client.hpp>
#include <ignis/redis/emitter.hpp>
#include <ignis/socketio/json.hpp>
#include <ignis/version.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"ignis-emit: send to the clients of a Socket.IO cluster through Redis"};
  app.set_version_flag("--version", "ignis-emit " IGNIS_VERSION_STRING);
  std::string url = "redis://127.0.0.1:6379", key = "socket.io", nsp = "/", cluster = "auto";
  std::vector<std::string> to, except;
  bool volatile_ = false, close = false, disconnect = false;
  std::string event, args_json = "[]", join, leave, server_event;
  app.add_option("--redis", url, "Redis URL, or Redis Cluster seed URLs (repeated, or commas)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::Join);
  app.add_option("--redis-cluster", cluster, "auto (ask the first seed), yes or no")
      ->check(CLI::IsMember({"auto", "yes", "no"}));
  app.add_option("--key", key, "channel prefix of the cluster");
  app.add_option("--nsp", nsp, "namespace");
  app.add_option("--to", to, "room (repeatable)");
  app.add_option("--except", except, "room to leave out (repeatable)");
  app.add_flag("--volatile", volatile_);
  app.add_option("--event", event, "event to broadcast");
  app.add_option("--args", args_json, "the event's arguments as a JSON array");
  app.add_option("--sockets-join", join, "make the matching sockets join this room");
  app.add_option("--sockets-leave", leave, "make the matching sockets leave this room");
  app.add_flag("--disconnect-sockets", disconnect, "disconnect the matching sockets");
  app.add_flag("--close", close, "with --disconnect-sockets: close the connections");
  app.add_option("--server-side-emit", server_event, "event for the servers' handlers");
  CLI11_PARSE(app, argc, argv);

  auto parsed = ignis::socketio::parse_js(args_json);
  if (!parsed || !parsed->is_array()) {
    std::cerr << "error: --args must be a JSON array\n";
    return 2;
  }
  const int actions =
      !event.empty() + !join.empty() + !leave.empty() + disconnect + !server_event.empty();
  if (actions != 1) {
    std::cerr << "error: give exactly one of --event, --sockets-join, --sockets-leave, "
                 "--disconnect-sockets, --server-side-emit\n";
    return 2;
  }

  boost::asio::io_context io;
  ignis::redis::config cfg;
  cfg.url = url;
  cfg.cluster = cluster == "yes"  ? ignis::redis::cluster_mode::on
                : cluster == "no" ? ignis::redis::cluster_mode::off
                                  : ignis::redis::cluster_mode::automatic;
  cfg.log = [](std::string_view level, std::string_view message) {
    if (level != "info") std::cerr << level << ": " << message << "\n";
  };
  if (!ignis::redis::parse_seeds(url) ||
      (cfg.cluster == ignis::redis::cluster_mode::off && url.find(',') != std::string::npos)) {
    std::cerr << "error: --redis needs one redis:// or rediss:// URL, or (with a cluster) seed "
                 "URLs separated by commas\n";
    return 2;
  }
  cfg.command_timeout = std::chrono::milliseconds(3000);
  auto conn = ignis::redis::connection::create(io.get_executor(), cfg);
  int status = 1;
  bool sent = false;
  // A Redis that never answers must not hang the caller.
  boost::asio::steady_timer deadline(io, std::chrono::seconds(10));
  ignis::redis::emitter e(
      [&](std::string channel, std::string payload) {
        conn->command({"PUBLISH", std::move(channel), std::move(payload)},
                      [&](ignis::error_code ec, const ignis::redis::reply&) {
                        if (ec) std::cerr << "error: " << ec.message() << "\n";
                        status = ec ? 1 : 0;
                        deadline.cancel();
                        conn->close();
                      });
      },
      key, nsp);
  auto target = e.to(to).except(except);
  if (volatile_) target = target.volatile_();
  conn->on_state([&](ignis::redis::link_state s) {
    if (s != ignis::redis::link_state::connected || sent) return;
    sent = true;
    ignis::socketio::payload args(parsed->get_array());
    try {
      if (!event.empty()) target.emit(event, std::move(args));
      if (!join.empty()) target.sockets_join({join});
      if (!leave.empty()) target.sockets_leave({leave});
      if (disconnect) target.disconnect_sockets(close);
      if (!server_event.empty()) target.server_side_emit(server_event, std::move(args));
    } catch (const std::invalid_argument& err) {
      std::cerr << "error: " << err.what() << "\n";
      status = 2;
      deadline.cancel();
      conn->close();
    }
  });
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) conn->close();
  });
  conn->start();
  io.run();
  return status;
}
