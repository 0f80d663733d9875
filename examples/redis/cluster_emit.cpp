// Sends an event to the clients of a cluster of servers joined through Redis (ignis-socketio
// --redis URL, programs with the Redis adapter, or Node servers with @socket.io/redis-adapter)
// from a process that is no server: the Redis emitter (@socket.io/redis-emitter's messages).
// docs/embedding.md mentions it with the Redis adapter.
//
//   cluster_emit REDIS_URL ROOM EVENT TEXT      e.g. redis://127.0.0.1:6379 lobby news hello
//
// Every client in ROOM, on any server of the cluster, gets EVENT with the argument TEXT. Exits 0
// once Redis took the message, 1 when it could not be published within 5 s.
#include <ignis/redis/client.hpp>
#include <ignis/redis/emitter.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  using namespace ignis;
  if (argc != 5) {
    std::cerr << "usage: cluster_emit REDIS_URL ROOM EVENT TEXT\n";
    return 2;
  }
  boost::asio::io_context io;
  redis::config cfg;
  cfg.url = argv[1];
  cfg.command_timeout = std::chrono::seconds(3);
  auto conn = redis::connection::create(io.get_executor(), cfg);

  int status = 1;
  boost::asio::steady_timer deadline(io, std::chrono::seconds(5));
  // The emitter builds each message and hands it over; here it goes out as one PUBLISH, and the
  // program ends with its answer.
  redis::emitter emitter(
      [&](std::string channel, std::string message) {
        conn->command({"PUBLISH", std::move(channel), std::move(message)},
                      [&](error_code ec, const redis::reply&) {
                        if (ec) std::cerr << "not published: " << ec.message() << "\n";
                        status = ec ? 1 : 0;
                        deadline.cancel();
                        conn->close();
                      });
      },
      "socket.io");  // the adapters' channel prefix (Node's `key`, --redis-key-prefix)

  bool sent = false;
  conn->on_state([&](redis::link_state state) {
    if (state != redis::link_state::connected || sent) return;
    sent = true;
    emitter.to(argv[2]).emit(argv[3], socketio::make_args(argv[4]));
  });
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    std::cerr << "Redis at " << argv[1] << " did not take the message within 5 s\n";
    conn->close();
  });
  conn->start();
  io.run();
  return status;
}
