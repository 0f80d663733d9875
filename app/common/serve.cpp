#include "serve.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <iostream>

namespace ignis::program {

stop_signal::stop_signal() : signals_(ctx_, SIGINT, SIGTERM) {}

void stop_signal::wait(std::chrono::milliseconds period, const std::function<void()>& periodic) {
  signals_.async_wait([this](const boost::system::error_code&, int) { ctx_.stop(); });
  boost::asio::steady_timer timer(ctx_);
  std::function<void()> schedule = [&] {
    timer.expires_after(period);
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      periodic();
      schedule();
    });
  };
  if (periodic && period.count() > 0) schedule();
  ctx_.run();
}

int serve(net::runtime& rt, net::http_listener& listener, const std::string& host,
          unsigned short port, stop_signal& stop, const char* scheme,
          const std::function<void()>& started) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) {
    std::cerr << "error: invalid --host " << host << "\n";
    return 2;
  }
  if (auto lec = listener.listen({address, port})) {
    std::cerr << "error: cannot listen on " << host << ":" << port << ": " << lec.message() << "\n";
    return 1;
  }
  rt.start();
  if (started) started();
  std::printf("listening on %s://%s:%u\n", scheme, host.c_str(),
              static_cast<unsigned>(listener.port()));
  std::fflush(stdout);
  stop.wait();
  listener.close();
  return 0;
}

}  // namespace ignis::program
