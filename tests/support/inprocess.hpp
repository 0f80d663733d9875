#pragma once

// In-process peers for the server layers: shards that run on the test's thread with a manual
// clock, and Engine.IO / Socket.IO clients that speak long-polling through synthetic HTTP
// exchanges handed straight to the service. No socket, no thread, no sleep: every step runs the
// shards' handlers until they are idle, and time moves only when a test advances it.
#include <ignis/engineio/packet.hpp>
#include <ignis/net/http.hpp>
#include <ignis/net/runtime.hpp>

#include <boost/asio/post.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ignis::test {

/// Shards that never start their threads: run() executes what is ready on the calling thread.
class loop {
 public:
  explicit loop(unsigned shards = 1) : rt(shards) {
    for (std::size_t i = 0; i < rt.size(); ++i)
      rt.at(i).use_manual_clock(&clock);
  }
  ~loop() { run(); }

  /// Runs every shard's ready handlers until none is left.
  void run() {
    for (bool busy = true; busy;) {
      busy = false;
      for (std::size_t i = 0; i < rt.size(); ++i) {
        auto& ctx = rt.at(i).context();
        ctx.restart();
        busy = ctx.poll() > 0 || busy;
      }
    }
  }
  /// Moves the clock and runs the deadlines that passed, then whatever they set off.
  void advance(net::clock::duration d) {
    clock.advance(d);
    for (std::size_t i = 0; i < rt.size(); ++i)
      rt.at(i).timers().run_due();
    run();
  }

  net::runtime rt;
  net::manual_clock clock;
};

/// A request handed to a service; `response` is set once it is answered.
struct exchange {
  std::shared_ptr<net::http_exchange> ex;
  std::optional<net::http_response> response;
  bool answered() const noexcept { return response.has_value(); }
};

/// Hands `req` to `service` on `shard` and runs the loop.
inline std::shared_ptr<exchange> send_request(loop& l, std::shared_ptr<net::http_service> service,
                                              net::http_request req, unsigned shard = 0) {
  auto& home = l.rt.at(shard);
  req.prepare_payload();
  auto out = std::make_shared<exchange>();
  out->ex = std::make_shared<net::http_exchange>(
      std::move(req), net::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 40000), home);
  out->ex->set_sink([weak = std::weak_ptr<exchange>(out), &home](net::http_response res) {
    auto self = weak.lock();
    if (!self) return;
    self->response = std::move(res);
    // As a connection does once the response is written.
    if (auto then = self->ex->take_after_write()) boost::asio::post(home.executor(), then);
  });
  boost::asio::post(home.executor(), [service, ex = out->ex] { service->handle(ex); });
  l.run();
  return out;
}

/// An Engine.IO client on long-polling.
class polling_client {
 public:
  /// Its requests are handed to the service on shard `shard` (where its session then lives).
  polling_client(loop& l, std::shared_ptr<net::http_service> service, std::string path,
                 unsigned shard = 0)
      : loop_(l), service_(std::move(service)), path_(std::move(path)), shard_(shard) {}

  /// The handshake; returns the open packet's JSON.
  std::string open() {
    auto x = request(net::http::verb::get, "");
    if (!x->answered() || x->response->result_int() != 200)
      throw std::runtime_error("handshake refused");
    const auto body = x->response->body();
    if (body.empty() || body[0] != '0') throw std::runtime_error("no open packet: " + body);
    const auto start = body.find("\"sid\":\"") + 7;
    sid_ = body.substr(start, body.find('"', start) - start);
    return body.substr(1);
  }
  const std::string& sid() const noexcept { return sid_; }

  /// POSTs one payload of Engine.IO packets (e.g. "40", "42[\"x\"]"); returns the status.
  unsigned post(const std::vector<std::string>& packets) {
    std::string body;
    for (const auto& p : packets) {
      if (!body.empty()) body.push_back(engineio::record_separator);
      body += p;
    }
    auto x = request(net::http::verb::post, body);
    return x->answered() ? x->response->result_int() : 0;
  }
  unsigned post(std::string packet) { return post(std::vector<std::string>{std::move(packet)}); }

  /// Issues a GET unless one is held; returns whether it is held (not answered at once).
  bool poll() {
    if (!held_) held_ = request(net::http::verb::get, "");
    collect();
    return held_ != nullptr;
  }
  /// The Engine.IO packets received so far, taken (text packets as sent: "40{…}", "2", …).
  std::vector<std::string> take() {
    collect();
    std::vector<std::string> out(received_.begin(), received_.end());
    received_.clear();
    return out;
  }
  /// The status of the last answered GET.
  unsigned last_status() const noexcept { return last_status_; }
  bool holding() const noexcept { return held_ != nullptr; }

  std::shared_ptr<exchange> request(net::http::verb method, std::string body) {
    std::string target = path_ + "?EIO=4&transport=polling";
    if (!sid_.empty()) target += "&sid=" + sid_;
    net::http_request req{method, target, 11};
    req.body() = std::move(body);
    if (method == net::http::verb::post) req.set(net::http::field::content_type, "text/plain");
    return send_request(loop_, service_, std::move(req), shard_);
  }

 private:
  void collect() {
    loop_.run();  // what the server did since (a send flushed at the end of its loop turn)
    if (!held_ || !held_->answered()) return;
    last_status_ = held_->response->result_int();
    const auto body = std::move(held_->response->body());
    held_.reset();
    if (last_status_ != 200) return;
    std::size_t from = 0;
    for (;;) {
      const auto sep = body.find(engineio::record_separator, from);
      received_.push_back(body.substr(from, sep - from));
      if (sep == std::string::npos) break;
      from = sep + 1;
    }
  }

  loop& loop_;
  std::shared_ptr<net::http_service> service_;
  std::string path_;
  unsigned shard_;
  std::string sid_;
  std::shared_ptr<exchange> held_;
  std::deque<std::string> received_;
  unsigned last_status_ = 0;
};

/// A Socket.IO client on long-polling: Socket.IO packets in their text form ("40{…}",
/// "42[\"ev\",1]", "431[…]") without the Engine.IO "4" in front.
class sio_client {
 public:
  sio_client(loop& l, std::shared_ptr<net::http_service> service, std::string path = "/socket.io/",
             unsigned shard = 0)
      : eio_(l, std::move(service), std::move(path), shard) {
    eio_.open();
    eio_.poll();
  }
  polling_client& engine() noexcept { return eio_; }

  /// Sends Socket.IO packets ("0", "0/chat,{…}", "2[\"ev\"]", …).
  void send(const std::string& packet) { eio_.post("4" + packet); }
  /// Everything received so far; afterwards a poll is held, as a client keeps one. Engine.IO
  /// pings are answered, other Engine.IO packets dropped.
  std::vector<std::string> received() {
    std::vector<std::string> out;
    for (;;) {
      eio_.poll();  // a new GET unless one is held; an answer is collected
      auto packets = eio_.take();
      if (packets.empty()) break;  // the GET is held (or refused): nothing more now
      bool pinged = false;
      for (auto& p : packets) {
        if (p.starts_with("4")) out.push_back(p.substr(1));
        pinged = pinged || p == "2";
      }
      if (pinged) eio_.post("3");
    }
    return out;
  }
  /// Connects to `nsp` ("/" or "/chat") with `auth` (JSON, or empty); returns the answer.
  std::string connect(const std::string& nsp = "/", const std::string& auth = {}) {
    std::string p = "0";
    if (nsp != "/") p += nsp + (auth.empty() ? "" : ",");
    p += auth;
    send(p);
    auto got = received();
    for (auto& g : got) {
      if (g.starts_with("0") || g.starts_with("4")) return g;
    }
    return {};
  }
  /// The socket id from a CONNECT answer.
  static std::string sid_of(const std::string& connect_answer) {
    const auto start = connect_answer.find("\"sid\":\"") + 7;
    return connect_answer.substr(start, connect_answer.find('"', start) - start);
  }

 private:
  polling_client eio_;
};

}  // namespace ignis::test
