#pragma once

// The Engine.IO long-polling handshake over one keep-alive HTTP/1.1 connection, for the connect
// scenario: open (GET), Socket.IO CONNECT (POST "40", GET), optionally authenticate (POST, GET),
// then hold the connection with a pending GET, answering pings with POST "3".
#include "options.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace ignis::bench {

class polling_client {
 public:
  struct step {
    std::size_t used = 0;  ///< bytes of the input consumed
    bool ready = false;    ///< connected (and authenticated when asked)
    bool failed = false;
  };

  /// Queues the opening request into `out`.
  void start(const target& t, bool authenticate, std::string& out);
  /// Feeds received bytes; queues the next request into `out`.
  step on_bytes(std::string_view data, std::string& out);
  bool was_ready() const noexcept { return reported_ready_; }

 private:
  enum class stage : unsigned char {
    open,
    post_connect,
    get_connect,
    post_auth,
    get_auth,
    hold,
    post_pong
  };
  void get(std::string& out) const;
  void post(std::string& out, std::string_view body) const;
  bool on_response(std::string_view body, std::string& out);

  const target* target_ = nullptr;
  bool authenticate_ = false;
  bool ready_ = false;
  bool reported_ready_ = false;
  stage stage_ = stage::open;
  std::string sid_;
};

}  // namespace ignis::bench
