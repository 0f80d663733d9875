#include "demo_service.hpp"

#include "logging.hpp"

#include <ignis/common/iso_time.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

// Where the program's data lies relative to its own directory: share/ignis-socketio next to bin/
// when installed, and the same relative place in the build tree (app/CMakeLists.txt copies the
// demo's client and the Admin UI's page there).
#ifndef IGNIS_DATA_FROM_BIN
#define IGNIS_DATA_FROM_BIN "../share/ignis-socketio"
#endif

namespace ignis::program {
namespace json = boost::json;
namespace http = net::http;

namespace {

constexpr std::string_view client_path = "/demo/socket.io.min.js";
constexpr std::size_t max_chat_text = 2000;

}  // namespace

std::string program_data(std::string_view name) {
  std::error_code ec;
  const auto program = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::string(name);
  return (program.parent_path() / IGNIS_DATA_FROM_BIN / name).lexically_normal().string();
}

std::string default_demo_client() {
  return program_data("socket.io.min.js");
}

demo_service::demo_service(std::string_view socketio_path, std::string client_file)
    : page_(demo_page_html(socketio_path)) {
  if (client_file.empty()) client_file = default_demo_client();
  std::ifstream in(client_file, std::ios::binary);
  std::stringstream content;
  if (in) content << in.rdbuf();
  client_script_ = content.str();
  if (client_script_.empty()) {
    log_line("warn", "demo: cannot read the Socket.IO browser client '" + client_file +
                         "' (install the npm packages and build again: ./scripts/run does; or "
                         "give --demo-client)");
  }
}

bool demo_service::matches(const net::http_request& req) const {
  const auto path = net::target_path(req.target());
  return path == "/" || path == "/index.html" || path == client_path;
}

void demo_service::handle(std::shared_ptr<net::http_exchange> ex) {
  const auto& req = ex->request();
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return ex->respond(net::make_response(req, http::status::method_not_allowed,
                                          "Method Not Allowed", "text/plain"));
  }
  if (net::target_path(req.target()) == client_path) {
    if (client_script_.empty()) {
      return ex->respond(net::make_response(req, http::status::not_found,
                                            "the Socket.IO browser client is not installed",
                                            "text/plain"));
    }
    auto res = net::make_response(req, http::status::ok, client_script_,
                                  "application/javascript; charset=utf-8");
    res.set(http::field::cache_control, "public, max-age=3600");
    return ex->respond(std::move(res));
  }
  auto res = net::make_response(req, http::status::ok, page_, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-cache");
  ex->respond(std::move(res));
}

helpers::client_connected_fn demo_chat() {
  return [](const socketio::socket_ptr& s) {
    s->on("chat", [](socketio::socket& self, socketio::payload& args, socketio::ack_responder ack) {
      if (args.args.empty() || !args.args[0].is_object()) return;
      const auto& msg = args.args[0].get_object();
      const auto* room = msg.if_contains("room");
      const auto* text = msg.if_contains("text");
      if (!room || !room->is_string() || !text || !text->is_string()) return;
      const std::string room_name(room->get_string());
      // Only to rooms the client is in, and never to a socket-id room it does not own.
      if (!self.in_room(room_name) || text->get_string().size() > max_chat_text) {
        if (ack) ack(socketio::make_args(json::object{{"ok", false}}));
        return;
      }
      self.nsp().to(room_name).emit("chat",
                                    socketio::make_args(json::object{{"room", room_name},
                                                                     {"from", self.id()},
                                                                     {"text", text->get_string()},
                                                                     {"time", iso_time()}}));
      if (ack) ack(socketio::make_args(json::object{{"ok", true}}));
    });
  };
}

}  // namespace ignis::program
