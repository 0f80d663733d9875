#include "client/support.hpp"

#include <ignis/socketio/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <stdexcept>

extern char** environ;

namespace ignis::client::test {

std::string node_path() {
  if (const char* env = std::getenv("IGNIS_NODE"); env && *env) return env;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/usr/local/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    const auto end = p.find(':', start);
    const auto dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / "node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

std::string test_dir() {
  return IGNIS_CLIENT_TEST_DIR;
}

node_server::node_server(node_options o) : opts_(std::move(o)) {
  start();
}

node_server::~node_server() {
  kill();
}

std::string node_server::url() const {
  return (opts_.tls_key.empty() ? "http://127.0.0.1:" : "https://localhost:") +
         std::to_string(port_);
}

void node_server::start() {
  const auto node = node_path();
  if (node.empty()) throw std::runtime_error("node not found");
  std::vector<std::string> args = {node,
                                   test_dir() + "/node_server.mjs",
                                   "--mode",
                                   opts_.mode,
                                   "--port",
                                   std::to_string(port_ ? port_ : opts_.port),
                                   "--ping-interval",
                                   std::to_string(opts_.ping_interval),
                                   "--ping-timeout",
                                   std::to_string(opts_.ping_timeout)};
  if (!opts_.transports.empty()) {
    args.push_back("--transports");
    args.push_back(opts_.transports);
  }
  if (opts_.csr) args.push_back("--csr");
  if (!opts_.tls_key.empty()) {
    args.insert(args.end(), {"--tls-key", opts_.tls_key, "--tls-cert", opts_.tls_cert});
  }
  // Node takes a few hundred ms to load socket.io before it prints "PORT <n>\n".
  const auto line = spawn_and_read_until(std::move(args), pid_, [](const std::string& out) {
    return out.find('\n') != std::string::npos;
  });
  if (line.rfind("PORT ", 0) != 0) {
    kill();
    throw std::runtime_error("node server did not start: " + line);
  }
  port_ = std::stoi(line.substr(5));
}

void node_server::kill() {
  kill_and_reap(pid_);
}

namespace {

// Starts argv[0] with its standard output on `stdout_fd`. The child is killed when the test
// process ends, however it ends (a fatal failure that skips the teardown, a sanitizer report that
// stops the process): a server left behind would keep ctest's output pipe open, and ctest would
// wait for it until the test's timeout. PR_SET_PDEATHSIG follows the thread that forked; the
// tests start their servers from the main thread, which lives as long as the process.
pid_t spawn_child(std::vector<char*>& argv, int stdout_fd) {
  // exec's failure comes back through this pipe (closed by a successful exec).
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent ended before prctl
    if (::dup2(stdout_fd, STDOUT_FILENO) >= 0) ::execve(argv[0], argv.data(), environ);
    const int error = errno;
    (void)!::write(status_pipe[1], &error, sizeof error);
    ::_exit(127);
  }
  const int fork_error = errno;
  ::close(status_pipe[1]);
  if (pid < 0) {
    ::close(status_pipe[0]);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(fork_error));
  }
  int exec_error = 0;
  ssize_t n = 0;
  while ((n = ::read(status_pipe[0], &exec_error, sizeof exec_error)) < 0 && errno == EINTR) {
  }
  ::close(status_pipe[0]);
  if (n > 0) {
    pid_t dead = pid;
    kill_and_reap(dead);
    throw std::runtime_error(std::string("cannot start ") + argv[0] + ": " +
                             std::strerror(exec_error));
  }
  return pid;
}

}  // namespace

std::string spawn_and_read_until(std::vector<std::string> args, pid_t& pid,
                                 const std::function<bool(const std::string&)>& ready) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  try {
    pid = spawn_child(argv, fds[1]);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    pid = -1;
    throw;
  }
  ::close(fds[1]);
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!ready(out)) {
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
  return out;
}

void kill_and_reap(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGCONT);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  pid = -1;
}

void node_server::restart() {
  kill();
  start();
}

void node_server::freeze() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void node_server::thaw() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::optional<ack_result> call(client::socket& s, std::string_view event, payload args,
                               std::chrono::milliseconds timeout, std::chrono::milliseconds wait) {
  auto done = std::make_shared<std::promise<ack_result>>();
  auto result = done->get_future();
  s.emit_with_ack(event, std::move(args), timeout, [done](error_code ec, payload p) {
    done->set_value({ec, std::move(p)});
  });
  if (result.wait_for(wait) != std::future_status::ready) return std::nullopt;
  return result.get();
}

void record_lifecycle(client::socket& s, queue<std::string>& q) {
  s.on_connect([&q] { q.push("connect"); });
  s.on_disconnect([&q](disconnect_reason r) { q.push("disconnect:" + std::string(to_string(r))); });
  s.on_connect_error([&q](const connect_error& e) { q.push("connect_error:" + e.message); });
}

bool reconnection_barrier(boost::asio::any_io_executor ex, const manager_options& o) {
  auto started = std::make_shared<queue<std::size_t>>();  // shared: handlers may outlive the call
  manager control(std::move(ex), "http://127.0.0.1:" + std::to_string(free_port()), o);
  control.on_reconnect_attempt([started](std::size_t n) { started->push(n); });
  auto s = control.socket();
  s->connect();
  return started->wait_for(3);
}

}  // namespace ignis::client::test
