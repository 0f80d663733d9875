#pragma once

// Test support for the client: the Node reference server as a child process, and small blocking
// queues to await what the client's handlers report (no sleeps as synchronisation).
#include "support/event_queue.hpp"

#include <ignis/client/manager.hpp>

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ignis::client::test {

using namespace std::chrono_literals;

using ignis::test::queue;

struct node_options {
  std::string mode = "sio";  ///< "sio" or "silent"
  int port = 0;
  int ping_interval = 25000;
  int ping_timeout = 20000;
  std::string transports{};  ///< e.g. "polling"; empty: both
  std::string tls_key{};
  std::string tls_cert{};
  bool csr = false;  ///< connectionStateRecovery on
};

/// tests/client/node_server.mjs run by Node (IGNIS_NODE, else `node` on PATH).
class node_server {
 public:
  explicit node_server(node_options o = {});
  ~node_server();
  node_server(const node_server&) = delete;
  node_server& operator=(const node_server&) = delete;

  int port() const noexcept { return port_; }
  std::string url() const;
  /// Stops the process (SIGKILL: the connections die as with a crash).
  void kill();
  /// Starts it again on the same port.
  void restart();
  /// SIGSTOP / SIGCONT: a server that stops answering, and comes back.
  void freeze();
  void thaw();

 private:
  void start();
  node_options opts_;
  pid_t pid_ = -1;
  int port_ = 0;
};

/// A TCP port of 127.0.0.1 that nobody listens on (bound and released by the call).
int free_port();

/// Starts `args[0]` with `args` and reads its standard output until `ready(output)` holds, the
/// output ends, or 15 s pass. Sets `pid` and returns what was read; throws if it cannot start.
std::string spawn_and_read_until(std::vector<std::string> args, pid_t& pid,
                                 const std::function<bool(const std::string&)>& ready);
/// Kills `pid` (SIGCONT first, in case it was stopped), reaps it, and sets it to -1.
void kill_and_reap(pid_t& pid);

/// The Node executable, or empty when there is none (the tests are then skipped).
std::string node_path();
/// Directory of the test sources (node_server.mjs, ...).
std::string test_dir();

/// The result of an acknowledged emit.
struct ack_result {
  error_code ec{};
  payload args{};
};
/// Emits with an acknowledgement and waits for it (at most `wait`).
std::optional<ack_result> call(client::socket& s, std::string_view event, payload args = {},
                               std::chrono::milliseconds timeout = 5s,
                               std::chrono::milliseconds wait = 10s);

/// A socket's lifecycle as strings: "connect", "disconnect:<reason>", "connect_error:<message>".
void record_lifecycle(client::socket& s, queue<std::string>& q);

/// The bound of a check that a client does not reconnect (an event, not a guessed delay): starts a
/// control client with the same options against a port nobody listens on and waits (at most
/// 10 s) until it has started its third reconnection attempt. Each of its delays is at least
/// min(delay * (1 - randomization), delay_max), so with a randomization of at most 0.5 (the
/// default) the three take at least as long as the longest first delay, min(1.5 * delay,
/// delay_max). Given the executor of a client that lost its connection before the call (timers
/// of one io_context fire in deadline order), that client, were it to reconnect, would have
/// started its first attempt by then. False if the control did not get there.
bool reconnection_barrier(boost::asio::any_io_executor ex, const manager_options& o);

/// True for "disconnect:transport close" and "disconnect:transport error" (a killed server may
/// end the TCP connection either way).
inline bool is_transport_loss(const std::string& e) {
  return e == "disconnect:transport close" || e == "disconnect:transport error" ||
         e == "disconnected:transport close" || e == "disconnected:transport error";
}

}  // namespace ignis::client::test
