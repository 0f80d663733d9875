#pragma once

// Authentication by an existing backend: the handshake (auth, query, allowed headers, address)
// is POSTed as JSON to --auth-url. A 2xx answer {"ok":true,"rooms":[...],"data":{...}} accepts
// (rooms become the client's join rules, data its socket.data); any other answer rejects; a
// timeout or an unreachable backend is a failure. Each event loop keeps a few connections to the
// backend alive and never opens more than the pool size at once.
#include <ignis/helpers/server_helper.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ignis::program {

struct webhook_options {
  std::string url;  ///< http://host[:port]/path
  std::chrono::milliseconds timeout{5'000};
  std::vector<std::string> forwarded_headers;  ///< lower-case names
  unsigned pool_size = 8;                      ///< connections per event loop
  std::size_t max_response_bytes = 64 * 1024;
};

/// The JSON document the backend receives for a handshake.
std::string webhook_request_body(const socketio::handshake_info& h,
                                 const std::vector<std::string>& forwarded_headers);
/// The decision for a backend's answer (status and body).
helpers::auth_result webhook_decision(unsigned status, std::string_view body);

class webhook_client : public std::enable_shared_from_this<webhook_client> {
 public:
  /// Throws std::invalid_argument for a URL that is not http://host[:port][/path].
  webhook_client(net::runtime& rt, webhook_options options);
  ~webhook_client();

  /// Asks the backend; `done` runs on the calling shard. Call from a shard.
  void authenticate(const socketio::handshake_info& h,
                    std::function<void(helpers::auth_result)> done);

  struct pool;

 private:
  webhook_options options_;
  std::string host_;
  std::string port_;
  std::string target_;
  std::vector<std::unique_ptr<pool>> pools_;  // one per shard
};

}  // namespace ignis::program
