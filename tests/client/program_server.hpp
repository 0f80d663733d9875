#pragma once

// The ignis-socketio program as a child process for the client helper's checklist, and a small
// client for its HTTP API (which lets a test make the server send to a socket or a room).
#include <boost/json/value.hpp>

#include <sys/types.h>

#include <string>
#include <vector>

namespace ignis::client::test {

/// The program (IGNIS_PROGRAM_PATH at build time) on 127.0.0.1 with the given flags and
/// `--api-key program_server::api_key`.
class program_server {
 public:
  static constexpr const char* api_key = "checklist-key";

  explicit program_server(std::vector<std::string> flags);
  ~program_server();
  program_server(const program_server&) = delete;
  program_server& operator=(const program_server&) = delete;

  int port() const noexcept { return port_; }
  std::string url() const;
  /// SIGKILL: the connections die as with a crash.
  void kill();
  /// Starts it again on the same port.
  void restart();

  /// POSTs `body` to the HTTP API; the HTTP status (0 when no answer).
  int api_post(const std::string& target, const boost::json::value& body) const;
  /// GETs from the HTTP API; the JSON answer (null when none).
  boost::json::value api_get(const std::string& target) const;

 private:
  void start();
  std::vector<std::string> flags_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace ignis::client::test
