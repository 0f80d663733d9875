#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
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
    argv.insert(argv.end(), {"--cluster-enabled", "yes", "--cluster-config-file",
                             (dir_ / "nodes.conf").string()});
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
      throw std::runtime_error("redis_server: redis-server exited at start (see " +
                               (dir_ / "redis.log").string() + ")");
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

std::string shared_redis_url() {
  const char* url = std::getenv("IGNIS_TEST_REDIS_URL");
  return url != nullptr ? url : "";
}

}  // namespace ignis::test
