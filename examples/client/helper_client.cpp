// The Ignis client helper (client::helper, the C++ SocketIOClientHelper): it connects,
// authenticates by itself after every (re)connection, joins rooms, and hands each message of a
// topic to a handler. docs/client.md walks through it.
//
//   helper_client URL TOKEN TOPIC [ROOM...]
//
// Prints "authenticated" once the server accepted the token (the client is then in the default
// rooms, io-default and io-notification), joins the ROOMs, prints the first message of TOPIC as
// "TOPIC DATA" and exits 0; 1 when the token is refused, 2 when nothing comes within 30 s.
//
//   ignis-socketio --auth tokens --tokens T --api-key K &
//   helper_client http://127.0.0.1:3000 T alert &
//   curl -H 'X-API-Key: K' -H 'Content-Type: application/json' http://127.0.0.1:3000/api/send \
//        -d '{"destination":"io-default","topic":"alert","data":{"level":"info"}}'
#include <ignis/client/helper.hpp>

#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using namespace ignis;
  namespace json = boost::json;
  if (argc < 4) {
    std::cerr << "usage: helper_client URL TOKEN TOPIC [ROOM...]\n";
    return 2;
  }
  const std::string topic = argv[3];
  const std::vector<std::string> rooms(argv + 4, argv + argc);

  // The callbacks run on the helper's strand, one at a time.
  auto exit = std::make_shared<std::promise<int>>();
  auto done = std::make_shared<bool>(false);
  auto finish = [exit, done](int status) {
    if (*done) return;
    *done = true;
    exit->set_value(status);
  };

  client::io_thread io;
  std::atomic<client::helper*> self{nullptr};  // the helper below, once constructed
  client::helper_options options;
  options.identifier = "helper-client";
  options.host = argv[1];
  options.auth = json::object{{"token", argv[2]}};
  options.auto_authenticate = true;  // emit "authenticate" after every (re)connection
  options.on_authenticated = [&self, rooms] {
    std::printf("authenticated\n");
    std::fflush(stdout);
    if (auto* h = self.load(); h && !rooms.empty()) h->join_rooms({.rooms = rooms});
  };
  options.on_unauthenticated = [finish](std::string_view message) {
    std::cerr << "refused: " << message << "\n";
    finish(1);
  };
  options.on_error = [](const client::connect_error& e) {
    std::cerr << "connection error: " << e.message << "\n";
  };
  options.log = [](std::string_view level, std::string_view message) {
    if (level != "debug") std::cerr << level << ": " << message << "\n";
  };

  // Connects at once, on io's thread.
  client::helper helper(io.executor(), std::move(options));
  self.store(&helper);
  helper.subscribe(
      {.event = topic, .handler = [topic, finish](client::payload& args, client::ack_responder) {
         const auto data = args.args.empty() ? json::value() : args.args[0];
         std::printf("%s %s\n", topic.c_str(), json::serialize(data).c_str());
         std::fflush(stdout);
         finish(0);
       }});

  auto status = exit->get_future();
  int code = 2;
  if (status.wait_for(std::chrono::seconds(30)) == std::future_status::ready) {
    code = status.get();
  } else {
    std::cerr << "no " << topic << " within 30 s\n";
  }
  helper.shutdown();
  return code;
}
