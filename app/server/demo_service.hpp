#pragma once

// The demo chat page at "/" and the Socket.IO browser client it loads (/demo/socket.io.min.js,
// read once at start from socket.io-client's file, which the build copies next to the program and
// the install puts in share/ignis-socketio, so no CDN is needed). Disabled with --no-demo.
#include <ignis/helpers/server_helper.hpp>
#include <ignis/net/http.hpp>

#include <string>

namespace ignis::program {

/// The page, with the Socket.IO path it connects to filled in.
std::string demo_page_html(std::string_view socketio_path);

/// The program's data `name` (a file or a directory): share/ignis-socketio/NAME found from the
/// running program's own path (/proc/self/exe), in an install as in the build tree.
std::string program_data(std::string_view name);

/// The browser client's file when --demo-client is not given: share/ignis-socketio/socket.io.min.js
/// found from the running program's own path (/proc/self/exe), in an install as in the build tree.
std::string default_demo_client();

class demo_service final : public net::http_service {
 public:
  /// `client_file`: socket.io.min.js; empty means default_demo_client(). A
  /// missing file is reported on the log and the page says so.
  demo_service(std::string_view socketio_path, std::string client_file);

  bool matches(const net::http_request& req) const override;
  void handle(std::shared_ptr<net::http_exchange> ex) override;

 private:
  std::string page_;
  std::string client_script_;  // empty when the file could not be read
};

/// The demo's chat: an authenticated client emits "chat" {room, text} for a room it is in, and
/// everyone in that room (itself included) gets "chat" {room, from, text, time}. Off unless
/// --demo-chat: it lets any authenticated client broadcast to the rooms it is in (io-default
/// holds every authenticated client).
helpers::client_connected_fn demo_chat();

}  // namespace ignis::program
