#pragma once

// What every program here does around its servers: catch SIGTERM/SIGINT from the start (a signal
// sent right after the address is printed must stop the program cleanly, not kill it), listen,
// say where, run until a signal, stop accepting.
#include <ignis/net/http.hpp>
#include <ignis/net/runtime.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace ignis::program {

/// SIGTERM and SIGINT, caught from construction on.
class stop_signal {
 public:
  stop_signal();
  stop_signal(const stop_signal&) = delete;
  stop_signal& operator=(const stop_signal&) = delete;

  /// Blocks until a signal came (at once if one came already); meanwhile runs `periodic` every
  /// `period` if given.
  void wait(std::chrono::milliseconds period = {}, const std::function<void()>& periodic = {});

 private:
  boost::asio::io_context ctx_;
  boost::asio::signal_set signals_;
};

/// Binds `listener` to host:port (errors on stderr: 2 for a bad host, 1 when the port cannot be
/// bound), starts the runtime, calls `started` if given (on this thread, the runtime running),
/// prints "listening on SCHEME://HOST:PORT" on stdout, waits for `stop`, then closes the
/// listener. Returns 0 after a signal.
int serve(net::runtime& rt, net::http_listener& listener, const std::string& host,
          unsigned short port, stop_signal& stop, const char* scheme = "http",
          const std::function<void()>& started = {});

}  // namespace ignis::program
