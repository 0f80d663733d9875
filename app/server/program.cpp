#include "program.hpp"

#include "api_service.hpp"
#include "jwt.hpp"

#include <ignis/helpers/server_helper.hpp>
#include <ignis/net/http.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

extern char** environ;

namespace ignis::program {
namespace {

namespace json = boost::json;

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    const auto b = item.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    const auto e = item.find_last_not_of(" \t");
    out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

// The token of a handshake: auth.token, then "Authorization: Bearer <t>", then ?token=.
std::string handshake_token(const socketio::handshake_info& h) {
  if (const auto* t = h.auth.if_contains("token");
      t && t->is_string() && !t->get_string().empty()) {
    return std::string(t->get_string());
  }
  const auto authorization = h.header("authorization");
  if (authorization.size() > 7) {
    std::string scheme(authorization.substr(0, 7));
    for (auto& c : scheme)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "bearer ") return std::string(authorization.substr(7));
  }
  return std::string(h.query_param("token"));
}

struct settings {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  std::string path = "/socket.io";
  unsigned threads = 0;
  std::string cors_origin;
  std::string auth;
  std::string tokens;
  std::string jwt_secret;
  std::string jwt_public_key;
  std::optional<std::string> rooms_allow;
  std::string default_rooms = "io-default,io-notification";
  unsigned authenticate_timeout = 10'000;
  unsigned ping_interval = 30'000;
  bool broadcast_to_unauthenticated = false;
  std::string api_key;
  // Test knobs (ignis-fixture only).
  std::string mode;
  std::string auth_behaviour = "ok";
  std::string client_connected = "none";
};

// Empty IGNIS_* variables count as unset.
void drop_empty_environment() {
  std::vector<std::string> empty;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("IGNIS_")) continue;
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos && eq + 1 == entry.size())
      empty.emplace_back(entry.substr(0, eq));
  }
  for (const auto& name : empty)
    ::unsetenv(name.c_str());
}

helpers::authenticate_fn make_authenticator(const settings& cfg) {
  if (cfg.auth == "none") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)> done) {
      done(helpers::auth_result::accept());
    };
  }
  if (cfg.auth == "tokens") {
    auto tokens = split_list(cfg.tokens);
    return [tokens](const socketio::handshake_info& h,
                    std::function<void(helpers::auth_result)> done) {
      const auto token = handshake_token(h);
      const bool ok =
          !token.empty() && std::find(tokens.begin(), tokens.end(), token) != tokens.end();
      done(ok ? helpers::auth_result::accept() : helpers::auth_result::reject());
    };
  }
  program::jwt_key key;
  key.hs256_secret = cfg.jwt_secret;
  if (!cfg.jwt_public_key.empty()) {
    std::ifstream in(cfg.jwt_public_key);
    std::stringstream pem;
    pem << in.rdbuf();
    key.rs256_pem = pem.str();
  }
  return [key](const socketio::handshake_info& h, std::function<void(helpers::auth_result)> done) {
    const auto claims = verify_jwt(handshake_token(h), key);
    if (!claims) return done(helpers::auth_result::reject());
    auto result = helpers::auth_result::accept();
    if (const auto* rooms = claims->if_contains("rooms")) {
      if (!rooms->is_array()) return done(helpers::auth_result::reject());
      std::vector<std::string> patterns;
      for (const auto& r : rooms->get_array()) {
        if (!r.is_string()) return done(helpers::auth_result::reject());
        patterns.emplace_back(r.get_string());
      }
      result.room_patterns = std::move(patterns);
    }
    done(std::move(result));
  };
}

// Wraps the authenticator with the fixture's failure knobs.
helpers::authenticate_fn with_behaviour(helpers::authenticate_fn inner,
                                        const std::string& behaviour) {
  if (behaviour == "false") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)> done) {
      done(helpers::auth_result::reject());
    };
  }
  if (behaviour == "throw") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)>) {
      throw std::runtime_error("authenticateFn threw");
    };
  }
  if (behaviour == "reject") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)> done) {
      boost::asio::post(net::current_shard()->executor(),
                        [done] { done(helpers::auth_result::fail()); });
    };
  }
  if (behaviour == "never") {
    return [](const socketio::handshake_info&, std::function<void(helpers::auth_result)>) {};
  }
  if (behaviour.starts_with("slow:")) {
    const auto ms = std::stoul(behaviour.substr(5));
    return [ms](const socketio::handshake_info&, std::function<void(helpers::auth_result)> done) {
      auto timer = std::make_shared<boost::asio::steady_timer>(net::current_shard()->executor(),
                                                               std::chrono::milliseconds(ms));
      timer->async_wait([timer, done](const boost::system::error_code&) {
        done(helpers::auth_result::accept());
      });
    };
  }
  return inner;
}

helpers::client_connected_fn client_connected_knob(const std::string& knob) {
  if (knob == "emit") {
    return [](const socketio::socket_ptr& s) {
      s->emit("welcome", socketio::make_args(json::object{{"id", s->id()}}));
    };
  }
  if (knob == "throw") {
    return [](const socketio::socket_ptr&) { throw std::runtime_error("clientConnectedFn threw"); };
  }
  if (knob == "handler") {
    return [](const socketio::socket_ptr& s) {
      s->on("echo", [](socketio::socket&, socketio::payload& args, socketio::ack_responder ack) {
        ack(std::move(args));
      });
    };
  }
  return {};  // none, and "reject": an asynchronous failure has no effect on the client
}

}  // namespace

int run(int argc, char** argv, bool test_knobs) {
  drop_empty_environment();
  settings cfg;
  CLI::App app{
      "ignis-socketio: a Socket.IO server with authentication, validated rooms and an HTTP API"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  auto env = [](CLI::Option* o, const char* name) { o->envname(name); };
  env(app.add_option("--host", cfg.host, "address to listen on"), "IGNIS_HOST");
  env(app.add_option("--port", cfg.port, "port (0: any free port)"), "IGNIS_PORT");
  env(app.add_option("--path", cfg.path, "Socket.IO path"), "IGNIS_PATH");
  env(app.add_option("--threads", cfg.threads, "event loops (0: one per hardware thread)"),
      "IGNIS_THREADS");
  env(app.add_option("--cors-origin", cfg.cors_origin, "'*' or a comma-separated list of origins"),
      "IGNIS_CORS_ORIGIN");
  env(app.add_option("--auth", cfg.auth, "tokens, jwt or none")
          ->required()
          ->check(CLI::IsMember({"tokens", "jwt", "none"})),
      "IGNIS_AUTH");
  env(app.add_option("--tokens", cfg.tokens, "accepted tokens (--auth tokens)"), "IGNIS_TOKENS");
  env(app.add_option("--jwt-secret", cfg.jwt_secret, "HS256 secret (--auth jwt)"),
      "IGNIS_JWT_SECRET");
  env(app.add_option("--jwt-public-key", cfg.jwt_public_key,
                     "RS256 public key PEM file (--auth jwt)"),
      "IGNIS_JWT_PUBLIC_KEY");
  env(app.add_option("--rooms-allow", cfg.rooms_allow, "glob patterns of joinable rooms"),
      "IGNIS_ROOMS_ALLOW");
  env(app.add_option("--default-rooms", cfg.default_rooms, "rooms joined at authentication"),
      "IGNIS_DEFAULT_ROOMS");
  env(app.add_option("--authenticate-timeout", cfg.authenticate_timeout, "ms to authenticate"),
      "IGNIS_AUTHENTICATE_TIMEOUT");
  env(app.add_option("--ping-interval", cfg.ping_interval, "ms between application pings"),
      "IGNIS_PING_INTERVAL");
  env(app.add_flag("--broadcast-to-unauthenticated", cfg.broadcast_to_unauthenticated),
      "IGNIS_BROADCAST_TO_UNAUTHENTICATED");
  env(app.add_option("--api-key", cfg.api_key, "enables the HTTP API (header X-API-Key)"),
      "IGNIS_API_KEY");
  if (test_knobs) {
    app.add_option("--mode", cfg.mode);
    app.add_option("--auth-behaviour", cfg.auth_behaviour);
    app.add_option("--client-connected", cfg.client_connected);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  if (cfg.auth == "tokens" && split_list(cfg.tokens).empty()) {
    std::cerr << "error: --auth tokens needs --tokens\n";
    return 2;
  }
  if (cfg.auth == "jwt" && cfg.jwt_secret.empty() && cfg.jwt_public_key.empty()) {
    std::cerr << "error: --auth jwt needs --jwt-secret or --jwt-public-key\n";
    return 2;
  }
  if (cfg.auth == "none") {
    std::cerr << "warning: --auth none accepts every client; use it for development only\n";
  }

  net::runtime rt(cfg.threads);
  helpers::server_helper_options options;
  options.identifier = "ignis-socketio";
  options.server.engine.path = cfg.path;
  if (!cfg.cors_origin.empty()) {
    options.server.engine.cors.enabled = true;
    options.server.engine.cors.origins = split_list(cfg.cors_origin);
    options.server.engine.cors.credentials = cfg.cors_origin != "*";
    options.server.engine.cors.methods = "GET,POST";
  }
  options.authenticate = make_authenticator(cfg);
  if (test_knobs) options.authenticate = with_behaviour(options.authenticate, cfg.auth_behaviour);
  const bool jwt_rules = cfg.auth == "jwt";
  if (cfg.rooms_allow || jwt_rules) {
    auto patterns = split_list(cfg.rooms_allow.value_or(""));
    options.validate_room = [patterns](socketio::socket&,
                                       const std::optional<std::vector<std::string>>& own,
                                       std::vector<std::string> requested,
                                       std::function<void(std::vector<std::string>)> done) {
      const auto& rules = own ? *own : patterns;
      std::vector<std::string> allowed;
      for (auto& r : requested) {
        for (const auto& p : rules) {
          if (helpers::glob_match(p, r)) {
            allowed.push_back(std::move(r));
            break;
          }
        }
      }
      done(std::move(allowed));
    };
  }
  if (test_knobs) options.client_connected = client_connected_knob(cfg.client_connected);
  options.default_rooms = split_list(cfg.default_rooms);
  options.authenticate_timeout = std::chrono::milliseconds(cfg.authenticate_timeout);
  options.ping_interval = std::chrono::milliseconds(cfg.ping_interval);
  options.broadcast_to_unauthenticated = cfg.broadcast_to_unauthenticated;
  options.log = [](std::string_view level, std::string_view message) {
    std::cerr << level << ": " << message << "\n";
  };

  // The helper is embedded in the program's own listener, next to the HTTP API.
  net::http_listener listener(rt);
  options.runtime = helpers::server_runtime::embedded;
  options.host = &listener;
  helpers::server_helper helper(rt, std::move(options));
  helper.configure();
  listener.mount(std::make_shared<api_service>(helper, cfg.api_key));
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(cfg.host, ec);
  if (ec) {
    std::cerr << "error: invalid --host " << cfg.host << "\n";
    return 2;
  }
  if (auto lec = listener.listen({address, cfg.port})) {
    std::cerr << "error: cannot listen on " << cfg.host << ":" << cfg.port << ": " << lec.message()
              << "\n";
    return 1;
  }
  rt.start();
  std::printf("listening on http://%s:%u\n", cfg.host.c_str(),
              static_cast<unsigned>(listener.port()));
  std::fflush(stdout);

  boost::asio::io_context signals_ctx;
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { signals_ctx.stop(); });
  // glibc keeps freed memory in its arenas; after a wave of connections closes, hand it back so
  // the resident size follows the load down.
  boost::asio::steady_timer trim(signals_ctx);
  std::function<void()> schedule_trim = [&] {
    trim.expires_after(std::chrono::seconds(10));
    trim.async_wait([&](const boost::system::error_code& wait_error) {
      if (wait_error) return;
      ::malloc_trim(0);
      schedule_trim();
    });
  };
  schedule_trim();
  signals_ctx.run();

  // Stop accepting, disconnect every client, give their last packets a moment to leave.
  listener.close();
  helper.shutdown();
  for (int i = 0; i < 100 && helper.client_count() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  rt.stop();
  return 0;
}

}  // namespace ignis::program
