#pragma once

// Everything the program can be told, by flag, IGNIS_* variable or configuration file (see
// docs/configuration.md). Each member is bound to one option in options.cpp.
#include <cstddef>
#include <optional>
#include <string>

namespace ignis::program {

struct settings {
  std::string config_file;
  bool print_config = false;

  // Listening.
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  std::string path = "/socket.io";
  unsigned threads = 0;
  std::string cors_origin;
  std::string check_origin = "auto";  // auto: on when cors_origin is a list of origins
  std::string tls_cert;
  std::string tls_key;

  // Connection deadlines and bounds.
  unsigned close_timeout = 5'000;
  unsigned write_stall_timeout = 30'000;
  std::size_t max_connections = 0;      ///< 0: the descriptor limit less a reserve
  std::string handshake_headers = "*";  ///< kept for handshake.headers: "*" or a list

  // Authentication.
  std::string auth;
  std::string tokens;
  std::string tokens_file;
  std::string jwt_secret;
  std::string jwt_secret_file;
  std::string jwt_public_key;
  bool jwt_require_exp = false;
  unsigned jwt_max_age = 0;  // seconds; 0: no limit
  std::string auth_url;
  unsigned auth_timeout = 5'000;
  std::string auth_headers = "authorization,cookie,user-agent,origin,x-forwarded-for";
  unsigned auth_pool_size = 8;

  // The helper.
  std::optional<std::string> rooms_allow;
  std::string default_rooms = "io-default,io-notification";
  unsigned max_rooms_per_socket = 100;
  unsigned authenticate_timeout = 10'000;
  unsigned ping_interval = 30'000;
  unsigned connection_state_recovery = 0;  ///< ms; 0: off
  std::size_t recovery_store_bytes = 32 * 1024 * 1024;
  bool broadcast_to_unauthenticated = false;

  // HTTP endpoints.
  std::string api_key;
  std::string api_key_file;
  bool no_demo = false;
  bool demo_chat = false;
  std::string demo_client;

  // The Admin UI (@socket.io/admin-ui).
  std::string admin_ui = "off";  ///< off, dev or prod
  std::string admin_username;
  std::string admin_password_hash;
  std::string admin_password_hash_file;
  std::string admin_namespace = "/admin";
  std::string admin_ui_path = "/admin";
  std::string admin_ui_dir;
  std::string admin_server_id;
  bool admin_readonly = false;
  std::size_t admin_events_per_second = 2'000;  ///< 0: every event
  bool hash_password = false;

  // Operations.
  std::string log_format = "text";
  std::string log_level = "info";
  unsigned shutdown_timeout = 10'000;

  // Read at start from the file --jwt-public-key names (not an option).
  std::string jwt_public_key_pem;

  // Test knobs (ignis-fixture only).
  std::string mode;
  std::string auth_behaviour = "ok";
  std::string client_connected = "none";
};

}  // namespace ignis::program
