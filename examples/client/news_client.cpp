// A C++ Socket.IO client of an Ignis server (ignis-socketio, or examples/server/chat_server):
// it connects with a token, authenticates, joins a room and awaits the server's answer in a
// coroutine (use_awaitable), then prints the events it receives. docs/client.md walks through it.
//
//   news_client URL TOKEN ROOM [COUNT]
//
// Prints "joined ROOM" once the server accepted the join, then one line "EVENT ARGS" per event
// (the helper's own "ping" left out). Exits 0 after COUNT events (default 1), 1 when the token
// or the room is refused, 2 when nothing arrives within 30 s.
//
//   ignis-socketio --auth tokens --tokens T --rooms-allow 'news-*' --api-key K &
//   news_client http://127.0.0.1:3000 T news-1 &
//   curl -H 'X-API-Key: K' -H 'Content-Type: application/json' http://127.0.0.1:3000/api/send \
//        -d '{"destination":"news-1","topic":"headline","data":{"text":"hello"}}'
#include <ignis/client/manager.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
#include <memory>
#include <string>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace ignis;

// Everything here runs on the manager's strand, one handler at a time: no locks.
struct session {
  std::string room;
  std::size_t wanted = 1;
  std::size_t received = 0;
  std::promise<int> exit;
  bool done = false;

  void finish(int status) {
    if (done) return;
    done = true;
    exit.set_value(status);
  }
};

// Runs on the socket's strand: asks to join and awaits the server's acknowledgement
// {rooms: [joined...], refused: [...]}.
asio::awaitable<void> join(std::shared_ptr<client::socket> socket, std::shared_ptr<session> s) {
  auto request = client::make_args(json::object{{"rooms", json::array{json::value(s->room)}}});
  auto [ec, answer] = co_await socket->async_emit_with_ack(
      "join", std::move(request), std::chrono::seconds(5), asio::as_tuple(asio::use_awaitable));
  if (ec) {
    std::cerr << "join: no answer (" << ec.message() << ")\n";
    co_return s->finish(2);
  }
  const auto* reply = answer.args.empty() ? nullptr : answer.args[0].if_object();
  const auto* rooms = reply ? reply->if_contains("rooms") : nullptr;
  const bool joined = rooms && rooms->is_array() && !rooms->get_array().empty();
  if (!joined) {
    std::cerr << "join refused: " << json::serialize(answer.args) << "\n";
    co_return s->finish(1);
  }
  std::printf("joined %s\n", s->room.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: news_client URL TOKEN ROOM [COUNT]\n";
    return 2;
  }
  auto s = std::make_shared<session>();
  s->room = argv[3];
  if (argc > 4) s->wanted = std::stoul(argv[4]);
  auto exit = s->exit.get_future();

  // The client's event loop on a thread of its own (a program with its own io_context passes
  // that context's executor instead). It outlives the manager and the socket declared after it.
  client::io_thread io;
  client::manager_options options;
  options.reconnection.attempts = 3;
  client::manager manager(io.executor(), argv[1], options);
  // The auth payload goes with the CONNECT packet: the server reads the token there.
  auto socket = manager.socket("/", json::object{{"token", argv[2]}});

  socket->on_connect([socket = std::weak_ptr(socket)] {
    if (auto sock = socket.lock()) sock->emit("authenticate");
  });
  socket->on("authenticated",
             [socket = std::weak_ptr(socket), s](client::payload&, client::ack_responder) {
               if (auto sock = socket.lock())
                 asio::co_spawn(sock->get_executor(), join(sock, s), asio::detached);
             });
  socket->on("unauthenticated", [s](client::payload& args, client::ack_responder) {
    std::cerr << "authentication refused: " << json::serialize(args.args) << "\n";
    s->finish(1);
  });
  socket->on_any([s](std::string_view event, client::payload& args, client::ack_responder) {
    if (event == "ping" || event == "authenticated" || event == "unauthenticated") return;
    std::printf("%.*s %s\n", static_cast<int>(event.size()), event.data(),
                json::serialize(args.args).c_str());
    std::fflush(stdout);
    if (++s->received >= s->wanted) s->finish(0);
  });
  socket->on_connect_error([s](const client::connect_error& e) {
    std::cerr << "cannot connect: " << e.message << "\n";
  });
  manager.on_reconnect_failed([s] { s->finish(2); });  // after options.reconnection.attempts
  socket->connect();

  int status = 2;
  if (exit.wait_for(std::chrono::seconds(30)) == std::future_status::ready) {
    status = exit.get();
  } else {
    std::cerr << "nothing arrived within 30 s\n";
  }
  socket->disconnect();
  return status;  // the socket and the manager close in the background; io_thread joins last
}
