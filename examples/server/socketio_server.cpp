// Socket.IO without the Ignis helper: the server as Node's `new Server()`, with a middleware that
// checks the handshake's credentials, events with acknowledgements, rooms, broadcasts, a question
// the server asks a client and awaits (use_awaitable), and a second namespace. docs/embedding.md
// walks through it.
//
//   socketio_server [PORT] [SHARDS]    (default 3000, 4)
//
// With socket.io-client:  io("http://127.0.0.1:3000", {auth: {key: "let-me-in"}})
//   emit("echo", x, ack)          -> ack(x)
//   emit("join", "room")          -> joins; the room gets "joined" {id, room}
//   emit("say", "room", text)     -> the room, the sender excluded, gets "said" {id, text}
//   on("question", (q, answer) => answer(42))   asked once, right after connecting
// io(".../admin", {auth: {key: "admin-key"}}) gets "stats" {clients} every 5 s.
#include <ignis/net/http.hpp>
#include <ignis/net/runtime.hpp>
#include <ignis/socketio/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace ignis;
using socketio::make_args;

// Refuses a connection to the namespace unless the handshake's auth carries `key`: the client gets
// CONNECT_ERROR {message: "unauthorized"} (socket.io-client's "connect_error").
socketio::middleware require_key(std::string key) {
  return [key = std::move(key)](socketio::socket& s, socketio::next_fn next) {
    const auto* given = s.handshake().auth.if_contains("key");
    if (given && given->is_string() && given->get_string() == key) return next(std::nullopt);
    next(socketio::connect_error{"unauthorized", json::object{{"hint", "auth.key"}}});
  };
}

// Runs on the socket's shard (its executor): the server asks, the client answers through its
// acknowledgement, or the question times out.
asio::awaitable<void> ask(socketio::socket_ptr s) {
  auto [ec, answer] =
      co_await s->async_emit_with_ack("question", make_args("the answer?"), std::chrono::seconds(5),
                                      asio::as_tuple(asio::use_awaitable));
  if (ec) {
    std::cerr << s->id() << " did not answer: " << ec.message() << "\n";
  } else {
    std::cerr << s->id() << " answered " << json::serialize(answer.args) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<unsigned short>(argc > 1 ? std::stoi(argv[1]) : 3000);
  const auto shards = static_cast<unsigned>(argc > 2 ? std::stoi(argv[2]) : 4);

  net::runtime rt(shards);
  socketio::server io(rt);
  std::atomic<std::size_t> clients{0};

  auto& main_nsp = io.main();
  main_nsp.use(require_key("let-me-in"));
  main_nsp.on_connection([&clients](const socketio::socket_ptr& s) {
    // This runs on the shard of the client's connection, and so will every handler of `s`.
    ++clients;
    s->on("echo", [](socketio::socket&, socketio::payload& args, socketio::ack_responder ack) {
      if (ack) ack(std::move(args));
    });
    s->on("join", [](socketio::socket& self, socketio::payload& args, socketio::ack_responder) {
      if (args.args.empty() || !args.args[0].is_string()) return;
      std::string room(args.args[0].get_string());
      self.join(room);
      // To every member of the room, whichever shard they are on (the sender included).
      self.nsp().to(room).emit("joined",
                               make_args(json::object{{"id", self.id()}, {"room", room}}));
    });
    s->on("say", [](socketio::socket& self, socketio::payload& args, socketio::ack_responder) {
      if (args.args.size() < 2 || !args.args[0].is_string()) return;
      // socket.to(room): the room's members except the sender.
      self.to(std::string(args.args[0].get_string()))
          .emit("said", make_args(json::object{{"id", self.id()}, {"text", args.args[1]}}));
    });
    s->on_disconnect([&clients](socketio::socket& self, socketio::disconnect_reason why) {
      --clients;
      std::cerr << self.id() << " left: " << socketio::to_string(why) << "\n";
    });
    asio::co_spawn(s->home().executor(), ask(s), asio::detached);
  });

  auto& admin = io.of("/admin");
  admin.use(require_key("admin-key"));

  net::http_listener listener(rt, {io.engine()});
  if (auto ec = listener.listen({asio::ip::make_address("127.0.0.1"), port})) {
    std::cerr << "cannot listen on port " << port << ": " << ec.message() << "\n";
    return 1;
  }
  rt.start();
  std::printf("listening on http://127.0.0.1:%u (%u shards)\n",
              static_cast<unsigned>(listener.port()), shards);
  std::fflush(stdout);

  // Namespaces and broadcasts may be used from any thread, such as the application's own.
  asio::io_context app;
  asio::steady_timer timer(app);
  std::function<void()> every_5s = [&] {
    timer.expires_after(std::chrono::seconds(5));
    timer.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      admin.emit("stats", make_args(json::object{{"clients", clients.load()}}));
      every_5s();
    });
  };
  every_5s();
  asio::signal_set signals(app, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { timer.cancel(); });
  app.run();

  io.close();  // every socket gets "server shutting down"
  listener.close();
  rt.stop();
  return 0;
}
