// ignis-emit: publishes one message of the Redis emitter (@socket.io/redis-emitter's format, or
// with --redis-mode streams one stream entry as @socket.io/redis-streams-emitter writes it) and
// exits once Redis accepted it. Exit status 0 when published, 1 when Redis refused or was not
// reachable, 2 for bad arguments.
//
//   ignis-emit --redis redis://127.0.0.1:6379[,redis://SEED2...] [--redis-cluster auto|yes|no]
//              [--redis-mode classic|streams] [--redis-stream-name socket.io]
//              [--redis-stream-maxlen 10000] [--key socket.io] [--nsp /] [--to room]...
//              [--except room]... [--volatile] (--event NAME [--args JSON-ARRAY] [--binary HEX]...
//              | --sockets-join ROOM | --sockets-leave ROOM | --disconnect-sockets [--close]
//              | --server-side-emit NAME [--args JSON-ARRAY] [--binary HEX]...)
#include <ignis/redis/client.hpp>
#include <ignis/redis/emitter.hpp>
#include <ignis/socketio/json.hpp>
#include <ignis/version.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <charconv>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned byte = 0;
    const auto [end, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, byte, 16);
    if (ec != std::errc{} || end != hex.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(byte));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ignis-emit: send to the clients of a Socket.IO cluster through Redis"};
  app.set_version_flag("--version", "ignis-emit " IGNIS_VERSION_STRING);
  std::string url = "redis://127.0.0.1:6379", key = "socket.io", nsp = "/", cluster = "auto";
  std::string mode = "classic";
  ignis::redis::stream_options stream;
  std::vector<std::string> to, except, binary_hex;
  bool volatile_ = false, close = false, disconnect = false;
  std::string event, args_json = "[]", join, leave, server_event;
  app.add_option("--redis", url, "Redis URL, or Redis Cluster seed URLs (repeated, or commas)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::Join);
  app.add_option("--redis-cluster", cluster, "auto (ask the first seed), yes or no")
      ->check(CLI::IsMember({"auto", "yes", "no"}));
  app.add_option("--redis-mode", mode,
                 "classic (PUBLISH on the channels of @socket.io/redis-adapter) or streams (XADD "
                 "to the stream of @socket.io/redis-streams-adapter)")
      ->check(CLI::IsMember({"classic", "streams"}));
  app.add_option("--redis-stream-name", stream.stream_name,
                 "streams mode: the stream's key (the servers' --redis-stream-name)")
      ->capture_default_str();
  app.add_option("--redis-stream-maxlen", stream.max_len,
                 "streams mode: XADD MAXLEN ~ (the servers' --redis-stream-maxlen)")
      ->check(CLI::Range(std::size_t{10}, std::size_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--key", key, "classic mode: channel prefix of the cluster");
  app.add_option("--nsp", nsp, "namespace");
  app.add_option("--to", to, "room (repeatable)");
  app.add_option("--except", except, "room to leave out (repeatable)");
  app.add_flag("--volatile", volatile_, "volatile: only to clients ready to receive at once");
  app.add_option("--event", event, "event to broadcast");
  app.add_option("--args", args_json, "the event's arguments as a JSON array");
  app.add_option("--binary", binary_hex,
                 "a binary argument in hex, after those of --args (repeatable)");
  app.add_option("--sockets-join", join, "make the matching sockets join this room");
  app.add_option("--sockets-leave", leave, "make the matching sockets leave this room");
  app.add_flag("--disconnect-sockets", disconnect, "disconnect the matching sockets");
  app.add_flag("--close", close, "with --disconnect-sockets: close the connections");
  app.add_option("--server-side-emit", server_event,
                 "event for the servers' handlers (no acknowledgements)");
  CLI11_PARSE(app, argc, argv);

  auto parsed = ignis::socketio::parse_js(args_json);
  if (!parsed || !parsed->is_array()) {
    std::cerr << "error: --args must be a JSON array\n";
    return 2;
  }
  ignis::socketio::payload args(parsed->get_array());
  for (const auto& hex : binary_hex) {
    auto bytes = from_hex(hex);
    if (!bytes) {
      std::cerr << "error: --binary must be hex digits, two per byte\n";
      return 2;
    }
    args.args.push_back(args.add_binary(std::move(*bytes)));
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
  // PUBLISH, or XADD to the stream's slot on a Redis Cluster.
  auto send = [&](std::vector<std::string> command) {
    conn->command(std::move(command), [&](ignis::error_code ec, const ignis::redis::reply&) {
      if (ec) std::cerr << "error: " << ec.message() << "\n";
      status = ec ? 1 : 0;
      deadline.cancel();
      conn->close();
    });
  };
  auto e = mode == "streams" ? ignis::redis::emitter::streams(send, stream, nsp)
                             : ignis::redis::emitter(
                                   [&](std::string channel, std::string payload) {
                                     send({"PUBLISH", std::move(channel), std::move(payload)});
                                   },
                                   key, nsp);
  auto target = e.to(to).except(except);
  if (volatile_) target = target.volatile_();
  conn->on_state([&](ignis::redis::link_state s) {
    if (s != ignis::redis::link_state::connected || sent) return;
    sent = true;
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
