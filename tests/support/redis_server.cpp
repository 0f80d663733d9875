#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace ignis::test {
namespace {

using namespace std::chrono_literals;

// The kernel picks a free port; the tiny window before redis-server binds it is covered by
// spawn() retrying on another port.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("redis_server: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("redis_server: bind() failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Sends an inline PING and reads whatever comes back: any reply (+PONG, -NOAUTH, -LOADING...)
// means the server is listening and running.
bool answers_ping(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{0, 200 * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    static constexpr char ping[] = "PING\r\n";
    char buf[64];
    ok = ::write(fd, ping, sizeof ping - 1) == static_cast<ssize_t>(sizeof ping - 1) &&
         ::read(fd, buf, sizeof buf) > 0;
  }
  ::close(fd);
  return ok;
}

// Runs argv, returns its stdout; stderr goes to /dev/null.
std::string run_capture(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("redis_server: pipe() failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("redis_server: fork() failed");
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, STDERR_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

}  // namespace

redis_server::redis_server(redis_server_options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/ignis-redis-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("redis_server: mkdtemp failed");
  dir_ = tmpl;
  for (int attempt = 0;; ++attempt) {
    port_ = free_port();
    if (!options_.tls_cert_file.empty()) tls_port_ = free_port();
    // A cluster node also listens on a bus port, by default its port + 10000: past 65535 for a
    // fifth of the kernel's ephemeral ports (it then exits at start). Chosen free, like the port.
    if (options_.cluster) cluster_port_ = free_port();
    spawn();
    try {
      wait_ready();
      break;
    } catch (const std::exception&) {
      stop();
      if (attempt == 2) {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
      }
    }
  }
  if (options_.cluster) {
    cli({"CLUSTER", "ADDSLOTSRANGE", "0", "16383"});
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (cli({"CLUSTER", "INFO"}).find("cluster_state:ok") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("redis_server: the cluster did not reach cluster_state:ok");
      }
      std::this_thread::sleep_for(10ms);
    }
  }
}

redis_server::~redis_server() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string redis_server::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_);
}

void redis_server::spawn() {
  std::vector<std::string> argv = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_.string(),
                                   "--logfile",
                                   (dir_ / "redis.log").string()};
  if (options_.cluster) {
    argv.insert(argv.end(),
                {"--cluster-enabled", "yes", "--cluster-config-file",
                 (dir_ / "nodes.conf").string(), "--cluster-port", std::to_string(cluster_port_)});
  }
  if (!options_.tls_cert_file.empty()) {
    argv.insert(argv.end(),
                {"--tls-port", std::to_string(tls_port_), "--tls-cert-file", options_.tls_cert_file,
                 "--tls-key-file", options_.tls_key_file, "--tls-ca-cert-file",
                 options_.tls_ca_file, "--tls-auth-clients", "no"});
  }
  argv.insert(argv.end(), options_.args.begin(), options_.args.end());

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("redis_server: fork() failed");
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(devnull, STDOUT_FILENO);
      ::dup2(devnull, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  pid_ = pid;
  paused_ = false;
}

void redis_server::wait_ready() {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!answers_ping(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      // The directory goes with the last attempt: say what the log said.
      std::ifstream log(dir_ / "redis.log");
      std::string line, last;
      while (std::getline(log, line))
        if (!line.empty()) last = line;
      throw std::runtime_error("redis_server: redis-server exited at start: " + last);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("redis_server: redis-server did not answer PING");
    }
    std::this_thread::sleep_for(5ms);
  }
}

void redis_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  paused_ = false;
}

void redis_server::restart() {
  stop();
  spawn();
  wait_ready();
}

void redis_server::pause() {
  if (pid_ > 0 && !paused_ && ::kill(pid_, SIGSTOP) == 0) paused_ = true;
}

void redis_server::resume() {
  if (pid_ > 0 && paused_ && ::kill(pid_, SIGCONT) == 0) paused_ = false;
}

std::string redis_server::cli(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port_)};
  if (!options_.password.empty())
    argv.insert(argv.end(), {"-a", options_.password, "--no-auth-warning"});
  argv.insert(argv.end(), args.begin(), args.end());
  return run_capture(argv);
}

redis_cluster::redis_cluster(std::chrono::milliseconds node_timeout) {
  for (int i = 0; i < 6; ++i) {
    redis_server_options o;
    o.args = {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port",
              std::to_string(free_port()), "--cluster-node-timeout",
              std::to_string(node_timeout.count()),
              // A replica is in sync (and may take over) at once, not 5-10 s later.
              "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"};
    nodes_.push_back(std::make_unique<redis_server>(std::move(o)));
  }
  std::vector<std::string> create = {"redis-cli", "--cluster", "create"};
  for (const auto& n : nodes_)
    create.push_back("127.0.0.1:" + std::to_string(n->port()));
  create.insert(create.end(), {"--cluster-replicas", "1", "--cluster-yes"});
  run_capture(create);
  wait_healthy();
  // Every node has met every other, and each master has its replica in sync.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    bool ready = true;
    for (const auto& n : nodes_) {
      const auto nodes = n->cli({"CLUSTER", "NODES"});
      std::size_t lines = 0;
      for (const char c : nodes)
        lines += c == '\n' ? 1 : 0;
      if (lines + 1 != nodes_.size() || nodes.find("handshake") != std::string::npos) ready = false;
      if (n->cli({"ROLE"}).rfind("slave", 0) == 0 &&
          n->cli({"INFO", "replication"}).find("master_link_status:up") == std::string::npos) {
        ready = false;
      }
    }
    if (ready) break;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("redis_cluster: nodes did not meet, or replicas did not sync");
    std::this_thread::sleep_for(50ms);
  }
}

std::string redis_cluster::seeds() const {
  std::string out;
  for (std::size_t i = 0; i < 3; ++i)
    out += (i ? "," : "") + nodes_[i]->url();
  return out;
}

std::vector<std::uint16_t> redis_cluster::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& n : nodes_)
    out.push_back(n->port());
  return out;
}

redis_server& redis_cluster::node(std::uint16_t port) {
  for (auto& n : nodes_)
    if (n->port() == port) return *n;
  throw std::runtime_error("redis_cluster: no node on port " + std::to_string(port));
}

const redis_server& redis_cluster::any_running() const {
  for (const auto& n : nodes_)
    if (n->running()) return *n;
  throw std::runtime_error("redis_cluster: no node is running");
}

std::string redis_cluster::cli(const std::vector<std::string>& args) const {
  return any_running().cli(args);
}

namespace {

// CLUSTER NODES lines of healthy masters: (port, ranges "lo-hi" or "slot").
std::vector<std::pair<std::uint16_t, std::vector<std::string>>> masters_in(
    const std::string& nodes) {
  std::vector<std::pair<std::uint16_t, std::vector<std::string>>> out;
  std::size_t start = 0;
  while (start < nodes.size()) {
    auto end = nodes.find('\n', start);
    if (end == std::string::npos) end = nodes.size();
    std::vector<std::string> f;
    std::size_t p = start;
    while (p < end) {
      auto sp = nodes.find(' ', p);
      if (sp == std::string::npos || sp > end) sp = end;
      f.push_back(nodes.substr(p, sp - p));
      p = sp + 1;
    }
    start = end + 1;
    if (f.size() < 8 || f[2].find("master") == std::string::npos ||
        f[2].find("fail") != std::string::npos) {
      continue;
    }
    const auto colon = f[1].find(':');
    const auto at = f[1].find('@');
    const auto port = static_cast<std::uint16_t>(std::stoi(f[1].substr(colon + 1, at - colon - 1)));
    out.push_back({port, std::vector<std::string>(f.begin() + 8, f.end())});
  }
  std::sort(out.begin(), out.end());  // each node lists itself and the others in its own order
  return out;
}

}  // namespace

std::uint16_t redis_cluster::master_of(std::uint16_t slot) const {
  for (const auto& [port, ranges] : masters_in(cli({"CLUSTER", "NODES"}))) {
    for (const auto& r : ranges) {
      if (r.empty() || r.front() == '[') continue;  // [slot->-id]: a migration in progress
      const auto dash = r.find('-');
      const int lo = std::stoi(r.substr(0, dash));
      const int hi = dash == std::string::npos ? lo : std::stoi(r.substr(dash + 1));
      if (lo <= slot && slot <= hi) return port;
    }
  }
  return 0;
}

std::string redis_cluster::id_of(std::uint16_t port) const {
  for (const auto& n : nodes_)
    if (n->port() == port) return n->cli({"CLUSTER", "MYID"});
  return {};
}

void redis_cluster::wait_healthy(std::chrono::milliseconds limit) const {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    bool ok = true;
    std::string first;
    for (const auto& n : nodes_) {
      if (!n->running()) continue;
      if (n->cli({"CLUSTER", "INFO"}).find("cluster_state:ok") == std::string::npos) {
        ok = false;
        break;
      }
      std::string view;
      for (const auto& [port, ranges] : masters_in(n->cli({"CLUSTER", "NODES"}))) {
        view += std::to_string(port) + ":";
        for (const auto& r : ranges)
          view += r + " ";
      }
      if (first.empty()) first = view;
      if (view != first || view.empty()) ok = false;
    }
    if (ok && !first.empty()) return;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("redis_cluster: not healthy in time");
    std::this_thread::sleep_for(50ms);
  }
}

std::string shared_redis_url() {
  const char* url = std::getenv("IGNIS_TEST_REDIS_URL");
  return url != nullptr ? url : "";
}

}  // namespace ignis::test
