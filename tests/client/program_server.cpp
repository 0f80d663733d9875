#include "client/program_server.hpp"

#include "client/support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace ignis::client::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

constexpr std::string_view ready_prefix = "listening on http://127.0.0.1:";

// The whole exchange has a deadline: a program that stops answering fails the call (the test
// reports it) instead of blocking the test until ctest's timeout.
constexpr auto api_deadline = 10s;

http::response<http::string_body> exchange(int port, http::request<http::string_body> req) {
  asio::io_context io;
  boost::beast::tcp_stream stream(io);
  req.set(http::field::host, "127.0.0.1");
  req.set("X-API-Key", program_server::api_key);
  req.prepare_payload();
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  boost::system::error_code result = asio::error::timed_out;
  stream.expires_after(api_deadline);
  stream.async_connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)},
      [&](boost::system::error_code ec) {
        if (ec) {
          result = ec;
          return;
        }
        http::async_write(stream, req, [&](boost::system::error_code wec, std::size_t) {
          if (wec) {
            result = wec;
            return;
          }
          http::async_read(stream, buf, res,
                           [&](boost::system::error_code rec, std::size_t) { result = rec; });
        });
      });
  io.run();
  if (result) throw boost::system::system_error(result);
  return res;
}

}  // namespace

program_server::program_server(std::vector<std::string> flags) : flags_(std::move(flags)) {
  start();
}

program_server::~program_server() {
  kill();
}

std::string program_server::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void program_server::start() {
  const std::string program = IGNIS_PROGRAM_PATH;
  std::vector<std::string> args = {
      program,     "--host", "127.0.0.1", "--port", std::to_string(port_),
      "--threads", "1",      "--api-key", api_key};
  args.insert(args.end(), flags_.begin(), flags_.end());
  // The program prints "listening on http://127.0.0.1:<port>" once it accepts connections.
  const auto out = spawn_and_read_until(std::move(args), pid_, [](const std::string& so_far) {
    const auto at = so_far.find(ready_prefix);
    return at != std::string::npos && so_far.find('\n', at) != std::string::npos;
  });
  const auto at = out.find(ready_prefix);
  if (at == std::string::npos) {
    kill();
    throw std::runtime_error("ignis-socketio did not start: " + out);
  }
  port_ = std::stoi(out.substr(at + ready_prefix.size()));
}

void program_server::kill() {
  kill_and_reap(pid_);
}

void program_server::restart() {
  kill();
  start();
}

int program_server::api_post(const std::string& target, const boost::json::value& body) const {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::content_type, "application/json");
  req.body() = boost::json::serialize(body);
  try {
    return static_cast<int>(exchange(port_, std::move(req)).result_int());
  } catch (const std::exception&) {
    return 0;
  }
}

boost::json::value program_server::api_get(const std::string& target) const {
  try {
    auto res = exchange(port_, {http::verb::get, target, 11});
    return boost::json::parse(res.body());
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace ignis::client::test
