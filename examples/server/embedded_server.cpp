// An application with its own Boost.Beast HTTP server that embeds the Socket.IO endpoint of the
// server helper under /socket.io/, next to its own routes:
//
//   GET /hello        → a plain text greeting
//   GET /api/clients  → {"clients":N,"authenticated":M}
//   /socket.io/...    → handed to the helper (long polling and WebSocket upgrades)
//
// Clients authenticate with the token given by --token (default "demo-token") and may join rooms
// whose names start with "public-".
//
//   embedded-server [--port N] [--token T]
#include <ignis/helpers/server_helper.hpp>
#include <ignis/net/embedding.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace ignis;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// The application's router. The helper mounts its endpoint here in configure(); the application
// keeps its own routes for everything else.
class router final : public net::http_host {
 public:
  void mount(std::shared_ptr<net::http_service> service) override {
    services_.push_back(std::move(service));
  }
  std::shared_ptr<net::http_service> find(const net::http_request& req) const {
    for (const auto& s : services_)
      if (s->matches(req)) return s;
    return nullptr;
  }

 private:
  std::vector<std::shared_ptr<net::http_service>> services_;
};

net::http_response app_route(const net::http_request& req, const helpers::server_helper& helper) {
  if (req.method() == http::verb::get && req.target() == "/hello") {
    return net::make_response(req, http::status::ok, "hello from the application\n", "text/plain");
  }
  if (req.method() == http::verb::get && req.target() == "/api/clients") {
    const boost::json::object body{{"clients", helper.client_count()},
                                   {"authenticated", helper.authenticated_count()}};
    return net::make_response(req, http::status::ok, boost::json::serialize(body),
                              "application/json");
  }
  return net::make_response(req, http::status::not_found, "not found\n", "text/plain");
}

asio::awaitable<void> serve(beast::tcp_stream stream, const router& routes, net::runtime& rt,
                            const helpers::server_helper& helper) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1'000'000);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
    if (ec) co_return;
    stream.expires_never();
    auto req = parser.release();
    if (auto service = routes.find(req)) {
      if (beast::websocket::is_upgrade(req)) {
        // The connection is the service's from here on.
        auto socket = stream.release_socket();
        net::accept_upgrade(rt, std::move(service), std::move(req), socket, buffer);
        co_return;
      }
      // Long polls are held until the service answers, or the client goes.
      auto [sec, keep_alive] =
          co_await net::async_serve(rt, std::move(service), stream, std::move(req), nothrow);
      if (sec || !keep_alive) co_return;
      continue;
    }
    auto res = app_route(req, helper);
    const bool keep_alive = res.keep_alive();
    auto [wec, wn] = co_await http::async_write(stream, res, nothrow);
    if (wec || !keep_alive) co_return;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const router& routes, net::runtime& rt,
                                  const helpers::server_helper& helper) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(),
                   serve(beast::tcp_stream(std::move(socket)), routes, rt, helper), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 3000;
  std::string token = "demo-token";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) {
      port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--token") == 0) {
      token = argv[i + 1];
    } else {
      std::cerr << "usage: embedded-server [--port N] [--token T]\n";
      return 2;
    }
  }

  // The Socket.IO side runs on its own shards; the application keeps its own event loop.
  net::runtime rt(1);
  router routes;
  helpers::server_helper_options options;
  options.runtime = helpers::server_runtime::embedded;
  options.host = &routes;
  options.authenticate = [token](const socketio::handshake_info& handshake,
                                 std::function<void(helpers::auth_result)> done) {
    const auto* given = handshake.auth.if_contains("token");
    const bool ok = given && given->is_string() && given->as_string() == token;
    done(ok ? helpers::auth_result::accept() : helpers::auth_result::reject());
  };
  options.validate_room = [](socketio::socket&, const std::optional<std::vector<std::string>>&,
                             std::vector<std::string> requested,
                             std::function<void(std::vector<std::string>)> done) {
    std::vector<std::string> allowed;
    for (auto& room : requested)
      if (helpers::glob_match("public-*", room)) allowed.push_back(std::move(room));
    done(std::move(allowed));
  };
  options.log = [](std::string_view level, std::string_view message) {
    std::cerr << level << ": " << message << "\n";
  };
  helpers::server_helper helper(rt, std::move(options));
  helper.configure();
  helper.on("connection", [](const socketio::socket_ptr& socket) {
    socket->on("chat",
               [](socketio::socket& self, socketio::payload& args, socketio::ack_responder) {
                 self.nsp().to("public-chat").emit("chat", std::move(args));
               });
  });
  rt.start();

  asio::io_context app;
  tcp::acceptor acceptor(app, {asio::ip::make_address("127.0.0.1"), port});
  asio::co_spawn(app, accept_loop(acceptor, routes, rt, helper), asio::detached);
  asio::signal_set signals(app, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    boost::system::error_code ec;
    acceptor.close(ec);
    // Every client gets its disconnect, and the connections their last frames, before the
    // shards stop (for 2 s at most).
    helper.shutdown();
    auto busy = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
        app.get_executor());
    helper.io().engine()->async_drain(std::chrono::seconds(2), std::chrono::seconds(2),
                                      [busy](bool) { busy->reset(); });
  });
  std::printf("listening on http://127.0.0.1:%u\n",
              static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  app.run();
  rt.stop();
  return 0;
}
