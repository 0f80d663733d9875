#include "options.hpp"

#include "text_list.hpp"

namespace ignis::program {
namespace {

// Duration and count bounds (docs/configuration.md lists them).
constexpr unsigned max_timeout_ms = 3'600'000;         // 1 h
constexpr unsigned max_ping_interval_ms = 86'400'000;  // 24 h
constexpr unsigned max_jwt_age_s = 315'360'000;        // 10 years

bool is_origin_list(const std::string& cors_origin) {
  return !cors_origin.empty() && cors_origin != "*";
}

}  // namespace

void add_options(CLI::App& app, settings& cfg, bool test_knobs) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  // Captured defaults are what --print-config shows for options nobody set.
  app.option_defaults()->always_capture_default();
  auto env = [](CLI::Option* o, const char* name) { o->envname(name); };

  // Read before the other options (see config_file.hpp); declared here for --help and the env.
  env(app.add_option("--config", cfg.config_file, "TOML file with the same keys as the flags"),
      "IGNIS_CONFIG");
  app.add_flag("--print-config", cfg.print_config,
               "print the effective configuration (secrets masked) and exit");

  env(app.add_option("--host", cfg.host, "address to listen on"), "IGNIS_HOST");
  env(app.add_option("--port", cfg.port, "port (0: any free port)"), "IGNIS_PORT");
  env(app.add_option("--path", cfg.path, "Socket.IO path"), "IGNIS_PATH");
  env(app.add_option("--threads", cfg.threads, "event loops (0: one per hardware thread)"),
      "IGNIS_THREADS");
  env(app.add_option("--cors-origin", cfg.cors_origin, "'*' or a comma-separated list of origins"),
      "IGNIS_CORS_ORIGIN");
  env(app.add_option("--check-origin", cfg.check_origin,
                     "refuse browsers' requests from origins not in --cors-origin: on, off, or "
                     "auto (on when --cors-origin is a list)")
          ->check(CLI::IsMember({"auto", "on", "off"})),
      "IGNIS_CHECK_ORIGIN");
  env(app.add_option("--tls-cert", cfg.tls_cert, "PEM certificate chain: serve HTTPS and WSS"),
      "IGNIS_TLS_CERT");
  env(app.add_option("--tls-key", cfg.tls_key, "PEM private key of --tls-cert"), "IGNIS_TLS_KEY");
  env(app.add_option("--close-timeout", cfg.close_timeout,
                     "ms a closing connection is given to take its last bytes; then it is reset")
          ->check(CLI::Range(100u, 600'000u)),
      "IGNIS_CLOSE_TIMEOUT");
  env(app.add_option("--write-stall-timeout", cfg.write_stall_timeout,
                     "ms a connection may take none of the bytes waiting for it before it is "
                     "closed as a slow consumer (also the deadline of an HTTP response)")
          ->check(CLI::Range(1'000u, 3'600'000u)),
      "IGNIS_WRITE_STALL_TIMEOUT");
  env(app.add_option("--max-connections", cfg.max_connections,
                     "connections held at once (TLS ones count three); past it new ones get 503 "
                     "(0: the descriptor limit less 256)")
          ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 24)),
      "IGNIS_MAX_CONNECTIONS");
  env(app.add_option("--handshake-headers", cfg.handshake_headers,
                     "request headers each connection keeps for its lifetime: '*' (all but those "
                     "that negotiated the connection) or a comma-separated list (authentication's "
                     "own are always kept)"),
      "IGNIS_HANDSHAKE_HEADERS");

  env(app.add_option("--auth", cfg.auth, "tokens, jwt, webhook or none (required)")
          ->check(CLI::IsMember({"tokens", "jwt", "webhook", "none"})),
      "IGNIS_AUTH");
  env(app.add_option("--tokens", cfg.tokens, "accepted tokens (--auth tokens)"), "IGNIS_TOKENS");
  env(app.add_option("--tokens-file", cfg.tokens_file,
                     "file with the accepted tokens, comma- or newline-separated (instead of "
                     "--tokens, which other users can see in the process list)"),
      "IGNIS_TOKENS_FILE");
  env(app.add_option("--jwt-secret", cfg.jwt_secret, "HS256 secret (--auth jwt)"),
      "IGNIS_JWT_SECRET");
  env(app.add_option("--jwt-secret-file", cfg.jwt_secret_file,
                     "file holding the HS256 secret (instead of --jwt-secret)"),
      "IGNIS_JWT_SECRET_FILE");
  env(app.add_option("--jwt-public-key", cfg.jwt_public_key,
                     "RS256 public key PEM file (--auth jwt)"),
      "IGNIS_JWT_PUBLIC_KEY");
  env(app.add_flag("--jwt-require-exp", cfg.jwt_require_exp, "reject tokens without an exp claim"),
      "IGNIS_JWT_REQUIRE_EXP");
  env(app.add_option("--jwt-max-age", cfg.jwt_max_age,
                     "reject tokens issued (iat) more than this many seconds ago, and tokens "
                     "without iat (0: no limit)")
          ->check(CLI::Range(0u, max_jwt_age_s)),
      "IGNIS_JWT_MAX_AGE");
  env(app.add_option("--auth-url", cfg.auth_url,
                     "http:// URL the handshake is POSTed to (--auth webhook)"),
      "IGNIS_AUTH_URL");
  env(app.add_option("--auth-timeout", cfg.auth_timeout, "ms to wait for the webhook's answer")
          ->check(CLI::Range(1u, 600'000u)),
      "IGNIS_AUTH_TIMEOUT");
  env(app.add_option("--auth-headers", cfg.auth_headers,
                     "request headers forwarded to the webhook (comma-separated)"),
      "IGNIS_AUTH_HEADERS");
  env(app.add_option("--auth-pool-size", cfg.auth_pool_size,
                     "kept-alive connections to the webhook, per event loop")
          ->check(CLI::Range(1u, 1024u)),
      "IGNIS_AUTH_POOL_SIZE");

  env(app.add_option("--rooms-allow", cfg.rooms_allow, "glob patterns of joinable rooms"),
      "IGNIS_ROOMS_ALLOW");
  env(app.add_option("--default-rooms", cfg.default_rooms, "rooms joined at authentication"),
      "IGNIS_DEFAULT_ROOMS");
  env(app.add_option("--max-rooms-per-socket", cfg.max_rooms_per_socket,
                     "rooms a client may be in through its own join requests (0: no limit)")
          ->check(CLI::Range(0u, 100'000u)),
      "IGNIS_MAX_ROOMS_PER_SOCKET");
  env(app.add_option("--authenticate-timeout", cfg.authenticate_timeout, "ms to authenticate")
          ->check(CLI::Range(100u, max_timeout_ms)),
      "IGNIS_AUTHENTICATE_TIMEOUT");
  env(app.add_option("--ping-interval", cfg.ping_interval, "ms between application pings")
          ->check(CLI::Range(100u, max_ping_interval_ms)),
      "IGNIS_PING_INTERVAL");
  env(app.add_option("--connection-state-recovery", cfg.connection_state_recovery,
                     "ms a disconnected client may come back within and recover its socket and "
                     "what it missed (0: off)")
          ->check(CLI::Range(0u, 86'400'000u)),
      "IGNIS_CONNECTION_STATE_RECOVERY");
  env(app.add_option("--recovery-store-bytes", cfg.recovery_store_bytes,
                     "bytes of messages kept for recovery; past it the oldest go")
          ->check(CLI::Range(std::size_t{64 * 1024}, std::size_t{1} << 34)),
      "IGNIS_RECOVERY_STORE_BYTES");
  env(app.add_flag("--broadcast-to-unauthenticated", cfg.broadcast_to_unauthenticated),
      "IGNIS_BROADCAST_TO_UNAUTHENTICATED");

  env(app.add_option("--api-key", cfg.api_key, "enables the HTTP API (header X-API-Key)"),
      "IGNIS_API_KEY");
  env(app.add_option("--api-key-file", cfg.api_key_file,
                     "file holding the API key (instead of --api-key)"),
      "IGNIS_API_KEY_FILE");
  env(app.add_flag("--no-demo", cfg.no_demo, "do not serve the demo page at /"), "IGNIS_NO_DEMO");
  env(app.add_flag("--demo-chat", cfg.demo_chat,
                   "let authenticated clients use the demo page's chat (development)"),
      "IGNIS_DEMO_CHAT");
  env(app.add_option("--demo-client", cfg.demo_client,
                     "socket.io.min.js served to the demo page (default: the one installed with "
                     "the project)"),
      "IGNIS_DEMO_CLIENT");

  env(app.add_option("--admin-ui", cfg.admin_ui,
                     "the Socket.IO Admin UI: off, dev (every socket, room and event) or prod "
                     "(statistics only)")
          ->check(CLI::IsMember({"off", "dev", "prod"})),
      "IGNIS_ADMIN_UI");
  env(app.add_option("--admin-username", cfg.admin_username, "the Admin UI's login"),
      "IGNIS_ADMIN_USERNAME");
  env(app.add_option("--admin-password-hash", cfg.admin_password_hash,
                     "bcrypt hash of the Admin UI's password ($2a$, $2b$ or $2y$; see "
                     "--hash-password)"),
      "IGNIS_ADMIN_PASSWORD_HASH");
  env(app.add_option("--admin-password-hash-file", cfg.admin_password_hash_file,
                     "file holding the bcrypt hash (instead of --admin-password-hash)"),
      "IGNIS_ADMIN_PASSWORD_HASH_FILE");
  env(app.add_option("--admin-namespace", cfg.admin_namespace,
                     "the Socket.IO namespace the Admin UI connects to"),
      "IGNIS_ADMIN_NAMESPACE");
  env(app.add_option("--admin-ui-path", cfg.admin_ui_path, "where the Admin UI's page is served"),
      "IGNIS_ADMIN_UI_PATH");
  env(app.add_option("--admin-ui-dir", cfg.admin_ui_dir,
                     "the Admin UI's files (default: share/ignis-socketio/admin-ui next to the "
                     "program's bin/, @socket.io/admin-ui's ui/dist)"),
      "IGNIS_ADMIN_UI_DIR");
  env(app.add_option("--admin-server-id", cfg.admin_server_id,
                     "this server's name in the Admin UI (default: HOSTNAME#PID)"),
      "IGNIS_ADMIN_SERVER_ID");
  env(app.add_option("--admin-events-per-second", cfg.admin_events_per_second,
                     "--admin-ui dev: event_received/event_sent messages to the UI per second, "
                     "the rest left out (0: every event; a broadcast to N sockets is N)")
          ->check(CLI::Range(std::size_t{0}, std::size_t{10'000'000})),
      "IGNIS_ADMIN_EVENTS_PER_SECOND");
  env(app.add_flag("--admin-readonly", cfg.admin_readonly,
                   "the Admin UI may only look: no emit, join, leave or disconnect"),
      "IGNIS_ADMIN_READONLY");
  app.add_flag("--hash-password", cfg.hash_password,
               "read a password on stdin, print its bcrypt hash for --admin-password-hash, exit");

  env(app.add_option("--log-format", cfg.log_format, "text or json")
          ->check(CLI::IsMember({"text", "json"})),
      "IGNIS_LOG_FORMAT");
  env(app.add_option("--log-level", cfg.log_level, "debug, info, warn, error or off")
          ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"})),
      "IGNIS_LOG_LEVEL");
  env(app.add_option("--shutdown-timeout", cfg.shutdown_timeout,
                     "ms given to clients' queued packets on SIGTERM/SIGINT")
          ->check(CLI::Range(0u, max_timeout_ms)),
      "IGNIS_SHUTDOWN_TIMEOUT");

  if (test_knobs) {
    app.add_option("--mode", cfg.mode);
    app.add_option("--auth-behaviour", cfg.auth_behaviour);
    app.add_option("--client-connected", cfg.client_connected);
  }
}

std::optional<std::string> check_settings(const settings& cfg) {
  if (cfg.auth.empty()) return "auth is required (--auth, IGNIS_AUTH or auth in the config file)";
  const auto both = [](const std::string& value, const std::string& file,
                       std::string_view name) -> std::optional<std::string> {
    if (value.empty() || file.empty()) return std::nullopt;
    return "give --" + std::string(name) + " or --" + std::string(name) + "-file, not both";
  };
  if (auto e = both(cfg.tokens, cfg.tokens_file, "tokens")) return e;
  if (auto e = both(cfg.jwt_secret, cfg.jwt_secret_file, "jwt-secret")) return e;
  if (auto e = both(cfg.api_key, cfg.api_key_file, "api-key")) return e;
  if (cfg.auth == "tokens" && split_list(cfg.tokens).empty() && cfg.tokens_file.empty())
    return "--auth tokens needs --tokens or --tokens-file";
  const bool hs256 = !cfg.jwt_secret.empty() || !cfg.jwt_secret_file.empty();
  if (cfg.auth == "jwt" && !hs256 && cfg.jwt_public_key.empty())
    return "--auth jwt needs --jwt-secret (or --jwt-secret-file) or --jwt-public-key";
  if (hs256 && !cfg.jwt_public_key.empty())
    return "--jwt-secret and --jwt-public-key exclude each other: a server verifies one "
           "algorithm, HS256 or RS256";
  if (cfg.auth == "webhook" && !cfg.auth_url.starts_with("http://"))
    return "--auth webhook needs --auth-url http://host[:port]/path";
  if (cfg.tls_cert.empty() != cfg.tls_key.empty()) return "--tls-cert and --tls-key go together";
  if (cfg.check_origin == "on" && !is_origin_list(cfg.cors_origin))
    return "--check-origin on needs --cors-origin with the allowed origins (not '*')";
  if (cfg.demo_chat && cfg.no_demo) return "--demo-chat needs the demo: drop --no-demo";
  if (auto e = both(cfg.admin_password_hash, cfg.admin_password_hash_file, "admin-password-hash"))
    return e;
  if (cfg.admin_ui != "off") {
    if (cfg.admin_username.empty() ||
        (cfg.admin_password_hash.empty() && cfg.admin_password_hash_file.empty())) {
      return "--admin-ui needs --admin-username and --admin-password-hash (or "
             "--admin-password-hash-file)";
    }
    if (auto e = check_admin_ui_path(cfg)) return e;
    if (socketio_namespace(cfg.admin_namespace) == "/")
      return "--admin-namespace cannot be the main namespace \"/\"";
  }
  return std::nullopt;
}

std::string socketio_namespace(std::string name) {
  if (name.empty() || name.front() != '/') name.insert(name.begin(), '/');
  return name;
}

std::string admin_ui_prefix(const settings& cfg) {
  auto path = cfg.admin_ui_path;
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  return path;
}

std::optional<std::string> check_admin_ui_path(const settings& cfg) {
  const auto prefix = admin_ui_prefix(cfg);
  if (prefix.empty() || prefix.front() != '/' || prefix == "/" ||
      prefix.find_first_of("?#% ") != std::string::npos) {
    return "--admin-ui-path must be a path such as /admin (not /, no ?, #, % or spaces)";
  }
  // Under no other endpoint, nor above one.
  const auto overlaps = [&](std::string_view other) {
    const auto under = [](std::string_view a, std::string_view b) {
      return a == b || (a.starts_with(b) && (b.ends_with('/') || a[b.size()] == '/'));
    };
    return under(prefix, other) || under(other, prefix);
  };
  auto socketio_path = cfg.path;
  while (socketio_path.size() > 1 && socketio_path.back() == '/')
    socketio_path.pop_back();
  for (std::string_view taken :
       {std::string_view(socketio_path), std::string_view("/health"), std::string_view("/metrics"),
        std::string_view("/api"), std::string_view("/demo"), std::string_view("/index.html")}) {
    if (overlaps(taken)) {
      return "--admin-ui-path " + prefix + " overlaps " + std::string(taken) +
             ", which the program serves";
    }
  }
  return std::nullopt;
}

bool origins_checked(const settings& cfg) {
  if (cfg.check_origin == "off") return false;
  return is_origin_list(cfg.cors_origin);
}

}  // namespace ignis::program
