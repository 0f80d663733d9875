#include "program.hpp"

#include "../common/serve.hpp"
#include "admin_ui_service.hpp"
#include "api_service.hpp"
#include "authenticators.hpp"
#include "config_file.hpp"
#include "demo_service.hpp"
#include "fixture_knobs.hpp"
#include "logging.hpp"
#include "operations.hpp"
#include "ops_service.hpp"
#include "options.hpp"
#include "redis_setup.hpp"
#include "secrets.hpp"
#include "text_list.hpp"
#include "tls_setup.hpp"

#include <ignis/admin/instrument.hpp>
#include <ignis/helpers/server_helper.hpp>
#include <ignis/net/http.hpp>
#include <ignis/net/shards.hpp>
#include <ignis/version.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <malloc.h>
#include <strings.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>

extern char** environ;

namespace ignis::program {
namespace {

// How long a graceful stop waits for polling clients to fetch their last packets.
constexpr int polling_shutdown_grace_ms = 2'000;

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

helpers::validate_room_fn room_rules(const settings& cfg) {
  if (!cfg.rooms_allow && cfg.auth != "jwt" && cfg.auth != "webhook") return {};
  auto patterns = split_list(cfg.rooms_allow.value_or(""));
  return [patterns](socketio::socket&, const std::optional<std::vector<std::string>>& own,
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

helpers::server_helper_options helper_options(const settings& cfg, net::runtime& rt,
                                              operations_state& ops, bool test_knobs) {
  helpers::server_helper_options options;
  options.identifier = "ignis-socketio";
  options.server.engine.path = cfg.path;
  options.server.engine.close_timeout = std::chrono::milliseconds(cfg.close_timeout);
  options.server.recovery.max_disconnection_duration =
      std::chrono::milliseconds(cfg.connection_state_recovery);
  options.server.recovery.max_bytes = cfg.recovery_store_bytes;
  options.server.engine.write_stall_timeout = std::chrono::milliseconds(cfg.write_stall_timeout);
  if (!cfg.cors_origin.empty()) {
    options.server.engine.cors.enabled = true;
    options.server.engine.cors.origins = split_list(cfg.cors_origin);
    options.server.engine.cors.credentials = cfg.cors_origin != "*";
    options.server.engine.cors.methods = "GET,POST";
  }
  options.server.engine.check_origin = origins_checked(cfg);
  if (cfg.handshake_headers != "*") {
    // What the authenticators read is kept whatever the list says.
    auto kept = split_list(cfg.handshake_headers);
    kept.emplace_back("authorization");
    if (cfg.auth == "webhook") {
      for (auto& name : split_list(cfg.auth_headers))
        kept.push_back(std::move(name));
    }
    for (auto& name : kept)
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    options.server.engine.kept_headers = std::move(kept);
  }
  // Once a shutdown begins, existing clients may still poll for their last packets, but no new
  // session starts.
  options.server.engine.allow_request =
      [&ops](const net::http_request&, const net::tcp::endpoint&) -> std::optional<std::string> {
    if (ops.stopping.load(std::memory_order_relaxed)) return "Server is shutting down";
    return std::nullopt;
  };
  options.authenticate = make_authenticator(cfg, rt);
  if (test_knobs) options.authenticate = with_behaviour(options.authenticate, cfg.auth_behaviour);
  options.authenticate = counting(std::move(options.authenticate), ops.auth);
  options.validate_room = room_rules(cfg);
  if (cfg.demo_chat) options.client_connected = demo_chat();
  if (test_knobs) options.client_connected = client_connected_knob(cfg.client_connected);
  options.default_rooms = split_list(cfg.default_rooms);
  options.max_rooms_per_socket = cfg.max_rooms_per_socket;
  options.authenticate_timeout = std::chrono::milliseconds(cfg.authenticate_timeout);
  options.ping_interval = std::chrono::milliseconds(cfg.ping_interval);
  options.broadcast_to_unauthenticated = cfg.broadcast_to_unauthenticated;
  options.log = log_line;
  return options;
}

// --hash-password: the bcrypt hash of the first line of stdin.
int print_password_hash() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    std::cerr << "error: --hash-password reads the password from stdin, which gave none\n";
    return 2;
  }
  try {
    std::cout << admin::hash_password(password, 12) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

// The Admin UI's options (the helper's view of each socket as its data).
admin::options admin_options(const settings& cfg) {
  admin::options o;
  o.namespace_name = socketio_namespace(cfg.admin_namespace);
  o.auth = admin::credentials{cfg.admin_username, cfg.admin_password_hash};
  o.readonly = cfg.admin_readonly;
  o.mode = cfg.admin_ui == "dev" ? admin::mode::development : admin::mode::production;
  o.server_id = cfg.admin_server_id;
  o.max_events_per_second = cfg.admin_events_per_second;
  o.socket_data = &helpers::server_helper::describe;
  return o;
}

// Development mode: the UIs learn of each authentication (the data they show changes).
helpers::client_connected_fn telling_admin_ui(helpers::client_connected_fn next,
                                              const std::unique_ptr<admin::instrument>& admin_ui) {
  return [next = std::move(next), &admin_ui](const socketio::socket_ptr& s) {
    if (admin_ui) admin_ui->socket_updated(*s);
    if (next) next(s);
  };
}

// Descriptors kept free for everything but client connections: Redis, the webhook's pool, the
// event loops' own, files.
constexpr std::size_t reserved_descriptors = 256;

// --max-connections 0: the process's descriptor limit less the reserve, so that accepting never
// fails for want of a descriptor (a refusal with 503 is clearer than a connection reset).
std::size_t connection_bound(std::size_t configured) {
  if (configured != 0) return configured;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  const auto descriptors = static_cast<std::size_t>(limit.rlim_cur);
  return descriptors > 2 * reserved_descriptors ? descriptors - reserved_descriptors
                                                : descriptors / 2;
}

net::http_limits listener_limits(const settings& cfg) {
  net::http_limits limits;
  limits.close_timeout = std::chrono::milliseconds(cfg.close_timeout);
  limits.write_timeout = std::chrono::milliseconds(cfg.write_stall_timeout);
  limits.max_connections = connection_bound(cfg.max_connections);
  return limits;
}

}  // namespace

int run(int argc, char** argv, bool test_knobs) {
  // Caught from the start: a SIGTERM sent as soon as the listening line is out stops the program
  // gracefully instead of killing it.
  stop_signal stop;
  drop_empty_environment();
  settings cfg;
  CLI::App app{
      "ignis-socketio: a Socket.IO server with authentication, validated rooms and an HTTP API"};
  app.set_version_flag("--version", std::string(test_knobs ? "ignis-fixture " : "ignis-socketio ") +
                                        IGNIS_VERSION_STRING);
  add_options(app, cfg, test_knobs);
  redis_settings redis_cfg;
  add_redis_options(app, redis_cfg);
  if (const auto path = config_file_path(argc, argv); !path.empty()) {
    if (auto error = apply_config_file(app, path)) {
      std::cerr << "error: " << *error << "\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  if (cfg.print_config) {
    std::cout << effective_config(app);
    return 0;
  }
  if (cfg.hash_password) return print_password_hash();
  if (auto error = check_settings(cfg)) {
    std::cerr << "error: " << *error << "\n";
    return 2;
  }
  if (auto error = load_secrets(cfg)) {
    std::cerr << "error: " << *error << "\n";
    return 2;
  }
  // The Admin UI's page is read now: a missing directory stops the start, not the first visit.
  std::shared_ptr<admin_ui_service> admin_page;
  if (cfg.admin_ui != "off") {
    if (!admin::is_bcrypt_hash(cfg.admin_password_hash)) {
      std::cerr << "error: --admin-password-hash: not a bcrypt hash ($2a$, $2b$ or $2y$, 60 "
                   "characters); make one with --hash-password\n";
      return 2;
    }
    const auto dir = cfg.admin_ui_dir.empty() ? default_admin_ui_dir() : cfg.admin_ui_dir;
    try {
      admin_page = std::make_shared<admin_ui_service>(admin_ui_prefix(cfg), dir);
    } catch (const std::runtime_error& e) {
      std::cerr << "error: " << e.what()
                << " (install the npm packages: ./scripts/run does; or give --admin-ui-dir)\n";
      return 2;
    }
  }
  configure_logging(cfg.log_format, cfg.log_level);
  if (cfg.auth == "none") {
    log_line("warn", "--auth none accepts every client; use it for development only");
  }
  if (cfg.auth == "webhook" && !origins_checked(cfg)) {
    for (const auto& h : split_list(cfg.auth_headers)) {
      if (h.size() != 6 || strncasecmp(h.c_str(), "cookie", 6) != 0) continue;
      log_line("warn",
               "--auth webhook forwards cookies, but origins are not checked: a page of any "
               "origin can open a socket as its visitor; set --cors-origin to your pages' origins");
    }
  }
  if (cfg.demo_chat) {
    log_line("info",
             "--demo-chat: authenticated clients may send chat messages to rooms they are in");
  }
  if (cfg.admin_ui == "dev") {
    log_line("warn",
             "--admin-ui dev sends every event of every socket to the Admin UI; use prod in "
             "production");
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(cfg.host, ec);
  if (ec) {
    std::cerr << "error: invalid --host " << cfg.host << "\n";
    return 2;
  }
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (!cfg.tls_cert.empty()) {
    auto loaded = load_tls_context(cfg.tls_cert, cfg.tls_key);
    if (!loaded.context) {
      std::cerr << "error: " << loaded.error << "\n";
      return 2;
    }
    tls = std::move(loaded.context);
  }

  net::runtime rt(cfg.threads);
  // Declared before the helper: the link outlives the server's adapters.
  std::unique_ptr<redis::adapter_link> redis_link;
  try {
    redis_link = start_redis_link(rt, redis_cfg);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  operations_state ops(rt);
  if (redis_link) {
    // /health and /metrics: the adapter link's state and counters.
    ops.redis_report = [link = redis_link.get()] {
      const auto stats = link->stats();
      redis_link_report r;
      r.state = redis::to_string(link->redis_state());
      r.publishes = stats.publishes;
      r.errors = stats.publish_errors;
      const auto cluster = link->redis_cluster();
      r.cluster = cluster.kind == redis::cluster_status::topology::cluster;
      for (const auto& n : cluster.nodes) {
        r.nodes.push_back({n.address, n.slots, redis::to_string(n.state), n.moved, n.ask});
      }
      if (cluster.last_refresh != std::chrono::steady_clock::time_point{}) {
        r.topology_age_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - cluster.last_refresh)
                .count();
      }
      r.topology_refreshes = cluster.refreshes;
      r.topology_refresh_failures = cluster.refresh_failures;
      r.topology_error = cluster.last_error;
      r.streams = link->options().mode == redis::adapter_mode::streams;
      r.stream_entries = stats.stream_entries;
      r.stream_malformed = stats.stream_malformed;
      r.stream_read_errors = stats.stream_read_errors;
      r.stream_position = stats.stream_position;
      r.stream_lag_ms = stats.stream_lag_ms;
      r.session_writes = stats.session_writes;
      return r;
    };
  }
  // The helper is embedded in the program's own listener, next to the operations endpoints, the
  // demo and the HTTP API (in that order: the API answers every other path).
  const auto limits = listener_limits(cfg);
  net::http_listener listener(rt, {}, limits);
  ops.connections = &listener.connections();
  if (tls) listener.use_tls(tls);
  std::unique_ptr<helpers::server_helper> helper;
  std::unique_ptr<admin::instrument> admin_ui;
  try {
    auto options = helper_options(cfg, rt, ops, test_knobs);
    if (cfg.admin_ui == "dev")
      options.client_connected = telling_admin_ui(std::move(options.client_connected), admin_ui);
    if (redis_link) options.adapters = redis_link->factory();
    options.runtime = helpers::server_runtime::embedded;
    options.host = &listener;
    helper = std::make_unique<helpers::server_helper>(rt, std::move(options));
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  helper->configure();
  if (admin_page) {
    admin_ui = std::make_unique<admin::instrument>(helper->io(), admin_options(cfg));
    if (cfg.admin_ui == "dev")
      ops.admin_events_not_sent = [a = admin_ui.get()] { return a->events_not_sent(); };
    log_line("info", "Admin UI (" + cfg.admin_ui + ") at " + admin_ui_prefix(cfg) +
                         "/, namespace " + admin_ui->config().namespace_name);
  }
  listener.mount(std::make_shared<ops_service>(*helper, ops));
  if (!cfg.no_demo) listener.mount(std::make_shared<demo_service>(cfg.path, cfg.demo_client));
  if (admin_page) listener.mount(admin_page);
  listener.mount(std::make_shared<api_service>(*helper, cfg.api_key));
  if (auto lec = listener.listen({address, cfg.port})) {
    std::cerr << "error: cannot listen on " << cfg.host << ":" << cfg.port << ": " << lec.message()
              << "\n";
    return 1;
  }
  rt.start();
  ops.lag.start();
  const char* scheme = tls ? "https" : "http";
  std::printf("listening on %s://%s:%u\n", scheme, cfg.host.c_str(),
              static_cast<unsigned>(listener.port()));
  std::fflush(stdout);
  log_line("info", std::string("listening on ") + scheme + "://" + cfg.host + ":" +
                       std::to_string(listener.port()) + " (auth " + cfg.auth + ", " +
                       std::to_string(rt.size()) + " event loops, at most " +
                       std::to_string(limits.max_connections) + " connections)");

  // Meanwhile freed memory goes back to the system every 10 s (glibc keeps it in its arenas, so
  // after a wave of connections closes the resident size would not follow the load down).
  stop.wait(std::chrono::seconds(10), [] { ::malloc_trim(0); });

  // Refuse new sessions, tell every client (a server disconnect), let their queued packets leave
  // until every connection is closed or --shutdown-timeout runs out, then stop accepting.
  log_line("info", "shutting down");
  ops.stopping = true;
  helper->shutdown();
  // Every WebSocket connection's last frames and every handed-over HTTP response are waited for
  // until the deadline. A polling session can only be flushed when its client comes for it: a
  // live client polls again within a round trip, one that is gone never will, so those get a
  // short grace only.
  const auto timeout = std::chrono::milliseconds(cfg.shutdown_timeout);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto engine = helper->io().engine();
  bool drained = engine
                     ->async_drain(timeout, std::chrono::milliseconds(polling_shutdown_grace_ms),
                                   boost::asio::use_future)
                     .get();
  std::promise<bool> written;
  net::wait_until(
      rt.at(0).executor(), [&] { return listener.connections().responses_in_flight() == 0; },
      deadline, [&](bool ok) { written.set_value(ok); });
  drained = written.get_future().get() && drained;
  if (!drained) {
    const auto left = engine->draining();
    log_line("warn", "--shutdown-timeout reached with " + std::to_string(left.sessions) +
                         " sessions and " + std::to_string(left.websockets) +
                         " WebSocket connections still sending, " +
                         std::to_string(listener.connections().responses_in_flight()) +
                         " responses unwritten");
  }
  // Only now: polling clients fetch their last packets on new connections.
  listener.close();
  ops.lag.stop();
  if (redis_link) redis_link->close();
  rt.stop();
  admin_ui.reset();
  log_line("info", "stopped");
  return 0;
}

}  // namespace ignis::program
