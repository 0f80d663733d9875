#include "client/program_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace ignis::client::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

constexpr std::string_view ready_prefix = "listening on http://127.0.0.1:";

http::response<http::string_body> exchange(int port, http::request<http::string_body> req) {
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  req.set(http::field::host, "127.0.0.1");
  req.set("X-API-Key", program_server::api_key);
  req.prepare_payload();
  http::write(sock, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res);
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
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  const int rc = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::runtime_error("cannot start " + program + ": " + std::strerror(rc));
  }
  // The program prints "listening on http://127.0.0.1:<port>" once it accepts connections.
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (out.find(ready_prefix) == std::string::npos ||
         out.find('\n', out.find(ready_prefix)) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{fds[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[256];
    const auto n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  const auto at = out.find(ready_prefix);
  if (at == std::string::npos) {
    kill();
    throw std::runtime_error("ignis-socketio did not start: " + out);
  }
  port_ = std::stoi(out.substr(at + ready_prefix.size()));
}

void program_server::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
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
