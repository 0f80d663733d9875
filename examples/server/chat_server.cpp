// A chat server on the server helper with its own listener: the application decides who may
// connect (an authenticator that asks a slow "user store" on another thread) and which rooms each
// user may join (a room validator), and adds its own events. docs/embedding.md walks through it.
//
//   chat_server [PORT] [SHARDS]        (default 3000, 2)
//
// Users and their tokens (a real application asks its database or identity provider):
//   alice-token -> alice, may join "team-red" and "lobby"
//   bob-token   -> bob,   may join "team-blue" and "lobby"
// After authenticating, a client emits "chat" {room, text} to talk to a room it is in; everyone in
// the room gets "chat" {room, user, text}. Every 10 s the server sends "tick" to all.
#include <ignis/helpers/server_helper.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace ignis;

struct user {
  std::string name;
  std::vector<std::string> rooms;  // glob patterns (helpers::glob_match)
};

// The application's user store, slow enough that it must not run on a shard: a shard serves
// thousands of connections, and a blocking call there delays all of them.
class user_store {
 public:
  void find_by_token(std::string token, std::function<void(std::optional<user>)> done) {
    asio::post(pool_, [this, token = std::move(token), done = std::move(done)] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a database round trip
      const auto it = users_.find(token);
      done(it == users_.end() ? std::nullopt : std::optional<user>(it->second));
    });
  }
  ~user_store() { pool_.join(); }

 private:
  asio::thread_pool pool_{1};
  const std::map<std::string, user, std::less<>> users_{
      {"alice-token", {"alice", {"team-red", "lobby"}}},
      {"bob-token", {"bob", {"team-blue", "lobby"}}},
  };
};

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<unsigned short>(argc > 1 ? std::stoi(argv[1]) : 3000);
  const auto shards = static_cast<unsigned>(argc > 2 ? std::stoi(argv[2]) : 2);

  // The shards: one event loop and thread each. A connection stays on one shard, and the
  // handlers of its socket run there, one at a time.
  net::runtime rt(shards);
  user_store users;

  helpers::server_helper_options options;
  options.identifier = "chat-server";
  options.runtime = helpers::server_runtime::standalone;  // the helper's own HTTP listener
  options.listen = net::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);

  // Called on the socket's shard when the client emits "authenticate". The answer may come later
  // and from any thread: here from the store's thread.
  options.authenticate = [&users](const socketio::handshake_info& handshake,
                                  std::function<void(helpers::auth_result)> done) {
    const auto* token = handshake.auth.if_contains("token");
    if (!token || !token->is_string()) return done(helpers::auth_result::reject());
    users.find_by_token(std::string(token->get_string()), [done](std::optional<user> found) {
      if (!found) return done(helpers::auth_result::reject());
      auto result = helpers::auth_result::accept();
      result.room_patterns = found->rooms;                // this user's own room rules
      result.data = json::object{{"user", found->name}};  // becomes socket.data
      done(std::move(result));
    });
  };

  // Which of the requested rooms the client may join: `patterns` are the rules the authenticator
  // gave this client (room_patterns above). Names of a socket id's form are refused before this
  // is asked. The answer may come later, from any thread.
  options.validate_room =
      [](socketio::socket&, const std::optional<std::vector<std::string>>& patterns,
         std::vector<std::string> requested, std::function<void(std::vector<std::string>)> done) {
        std::vector<std::string> allowed;
        for (auto& room : requested) {
          if (!patterns) continue;
          for (const auto& pattern : *patterns) {
            if (helpers::glob_match(pattern, room)) {
              allowed.push_back(std::move(room));
              break;
            }
          }
        }
        done(std::move(allowed));
      };

  // The application's own events, registered for each client once it is authenticated.
  options.client_connected = [](const socketio::socket_ptr& s) {
    s->on("chat", [](socketio::socket& self, socketio::payload& args, socketio::ack_responder ack) {
      const auto* msg = args.args.empty() ? nullptr : args.args[0].if_object();
      const auto* room = msg ? msg->if_contains("room") : nullptr;
      const auto* text = msg ? msg->if_contains("text") : nullptr;
      const bool ok = room && room->is_string() && text && text->is_string() &&
                      self.in_room(room->get_string());
      if (ok) {
        const auto* who =
            self.data.is_object() ? self.data.get_object().if_contains("user") : nullptr;
        self.nsp()
            .to(std::string(room->get_string()))
            .emit("chat", socketio::make_args(json::object{{"room", room->get_string()},
                                                           {"user", who ? *who : json::value("?")},
                                                           {"text", text->get_string()}}));
      }
      if (ack) ack(socketio::make_args(json::object{{"ok", ok}}));
    });
  };
  options.log = [](std::string_view level, std::string_view message) {
    std::cerr << level << ": " << message << "\n";
  };

  helpers::server_helper helper(rt, std::move(options));
  helper.configure();  // binds the port (std::system_error if it cannot)
  rt.start();
  std::printf("listening on http://127.0.0.1:%u (%u shards)\n",
              static_cast<unsigned>(helper.port()), shards);
  std::fflush(stdout);

  // The application's own loop: a periodic message to every authenticated client, and the stop.
  asio::io_context app;
  asio::steady_timer tick(app);
  std::function<void()> schedule = [&] {
    tick.expires_after(std::chrono::seconds(10));
    tick.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      helper.send({.destination = "",
                   .topic = "tick",
                   .data = json::object{{"clients", helper.authenticated_count()}}});
      schedule();
    });
  };
  schedule();
  asio::signal_set signals(app, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) {
    tick.cancel();
    // Every client gets its disconnect, and the connections their last frames, before the shards
    // stop (for 2 s at most).
    helper.shutdown();
    auto busy = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
        app.get_executor());
    helper.io().engine()->async_drain(std::chrono::seconds(2), std::chrono::seconds(2),
                                      [busy](bool) { busy->reset(); });
  });
  app.run();
  rt.stop();
  return 0;
}
