#pragma once

// The official Socket.IO Admin UI's page (@socket.io/admin-ui's ui/dist, installed with the
// project's npm packages) under --admin-ui-path: every file of the directory is read once at
// start, and only those are served (GET and HEAD), so no request can reach another file.
#include <ignis/net/http.hpp>

#include <string>
#include <unordered_map>

namespace ignis::program {

class admin_ui_service final : public net::http_service {
 public:
  /// Serves the files of `dir` under `prefix` ("/admin": /admin/ is its index.html). Throws
  /// std::runtime_error, naming the directory, when it cannot be read, holds no index.html, or is
  /// larger than a UI can be (64 MiB, 4,096 files). Source maps (*.map) are left out.
  admin_ui_service(std::string prefix, const std::string& dir);

  bool matches(const net::http_request& req) const override;
  void handle(std::shared_ptr<net::http_exchange> ex) override;

  /// The content type served for a file name.
  static std::string_view content_type_of(std::string_view name) noexcept;

 private:
  struct file {
    std::string body;
    std::string_view content_type;
    bool immutable = false;  // a name with a content hash: cached for good
  };
  std::string prefix_;
  std::unordered_map<std::string, file> files_;  // by path relative to the directory
};

/// The default --admin-ui-dir: share/ignis-socketio/admin-ui found from the program's own path
/// (program_data()), where the build copies @socket.io/admin-ui's ui/dist and the install puts it.
std::string default_admin_ui_dir();

}  // namespace ignis::program
