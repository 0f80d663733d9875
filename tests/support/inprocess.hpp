#pragma once

// In-process peers for the server layers: shards that run on the test's thread with a manual
// clock, and Engine.IO / Socket.IO clients that speak long-polling through synthetic HTTP
// exchanges handed straight to the service. No socket, no thread, no sleep: every step runs the
// shards' handlers until they are idle, and time moves only when a test advances it.
#include <ignis/engineio/packet.hpp>
#include <ignis/net/http.hpp>
#include <ignis/net/runtime.hpp>
#include <ignis/net/websocket.hpp>

#include <boost/asio/post.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
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
  /// Header fields sent with every request from now on (a browser's, say).
  void set_headers(std::vector<std::pair<std::string, std::string>> headers) {
    headers_ = std::move(headers);
  }

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
    for (const auto& [name, value] : headers_)
      req.set(name, value);
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
  std::vector<std::pair<std::string, std::string>> headers_;
  std::shared_ptr<exchange> held_;
  std::deque<std::string> received_;
  unsigned last_status_ = 0;
};

/// A Socket.IO client on long-polling: Socket.IO packets in their text form ("40{…}",
/// "42[\"ev\",1]", "431[…]") without the Engine.IO "4" in front.
class sio_client {
 public:
  sio_client(loop& l, std::shared_ptr<net::http_service> service, std::string path = "/socket.io/",
             unsigned shard = 0, std::vector<std::pair<std::string, std::string>> headers = {})
      : eio_(l, std::move(service), std::move(path), shard) {
    eio_.set_headers(std::move(headers));
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

/// A WebSocket client on one end of a local socket pair; the other end is handed to the service
/// as the HTTP layer hands over an upgrade it has read. The kernel moves the bytes between the two
/// ends at once, so running the loop is all it takes for either side to see what the other wrote.
class websocket_client {
 public:
  /// Sends the upgrade request for `target` (e.g. "/engine.io/?EIO=4&transport=websocket") to
  /// the service on shard `shard` and reads the answer's status line.
  websocket_client(loop& l, std::shared_ptr<net::http_service> service, std::string target,
                   unsigned shard = 0)
      : loop_(l) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
      throw std::runtime_error("socketpair failed");
    fd_ = fds[0];
    auto& home = l.rt.at(shard);
    net::tcp::socket server_end(home.context());
    server_end.assign(net::tcp::v4(), fds[1]);
    net::http_request req{net::http::verb::get, target, 11};
    req.set(net::http::field::upgrade, "websocket");
    req.set(net::http::field::connection, "Upgrade");
    req.set(net::http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(net::http::field::sec_websocket_version, "13");
    boost::asio::post(home.executor(), [service, req = std::move(req), &home,
                                        sock = std::move(server_end)]() mutable {
      service->upgrade(std::move(req), net::upgraded_connection{std::move(sock), {}, {}}, home);
    });
    read();
  }
  ~websocket_client() {
    if (fd_ >= 0) ::close(fd_);
  }
  websocket_client(const websocket_client&) = delete;
  websocket_client& operator=(const websocket_client&) = delete;

  /// The answer's status line ("HTTP/1.1 101 Switching Protocols"), once its headers are in.
  const std::string& status() const noexcept { return status_; }

  void send_text(std::string_view text) { send_frame(net::ws::opcode::text, text); }
  void send_binary(std::string_view data) { send_frame(net::ws::opcode::binary, data); }
  void send_close(std::uint16_t code) {
    std::string frame;
    net::ws::encode_close_frame(frame, code, "", mask);
    write(frame);
  }
  /// Sends Engine.IO text packets ("2probe", "5", "4hello").
  void send(std::string_view packet) { send_text(packet); }

  /// Every frame received so far, taken.
  std::vector<net::ws::event> take_events() {
    read();
    std::vector<net::ws::event> out(events_.begin(), events_.end());
    events_.clear();
    return out;
  }
  /// The text frames received so far (Engine.IO packets as sent: "0{…}", "2", "4hi"), taken;
  /// other frames are kept for take_events().
  std::vector<std::string> take() {
    read();
    std::vector<std::string> out;
    std::deque<net::ws::event> rest;
    for (auto& e : events_) {
      if (e.kind == net::ws::event_kind::text)
        out.push_back(std::move(e.payload));
      else
        rest.push_back(std::move(e));
    }
    events_ = std::move(rest);
    return out;
  }
  /// True once the server's end is closed (read returned end of file or a reset).
  bool closed() {
    read();
    return eof_;
  }
  /// Makes the kernel keep at most about `bytes` for this end (to stall a reader quickly).
  void shrink_receive_buffer(int bytes) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  /// Stops taking bytes: read() leaves them in the kernel, as a client that stopped reading.
  void stop_reading() { reading_ = false; }

  static constexpr net::ws::mask_key mask{0x11, 0x22, 0x33, 0x44};

 private:
  void send_frame(net::ws::opcode op, std::string_view payload) {
    std::string frame;
    net::ws::encode_frame(frame, op, payload, true, mask);
    write(frame);
  }
  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) throw std::runtime_error("write to the server's end failed");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    loop_.run();
  }
  // Runs the loop, then takes what the server wrote, until neither has anything more to do.
  void read() {
    for (;;) {
      loop_.run();
      if (!reading_ || eof_) return;
      char buf[65536];
      const auto n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        eof_ = true;
        return;
      }
      if (n < 0) return;
      consume(std::string_view(buf, static_cast<std::size_t>(n)));
    }
  }
  void consume(std::string_view in) {
    if (status_.empty() || !headers_done_) {
      head_.append(in);
      const auto end = head_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      status_ = head_.substr(0, head_.find("\r\n"));
      headers_done_ = true;
      in = std::string_view(head_).substr(end + 4);
    }
    std::vector<net::ws::event> out;
    decoder_.feed(ignis::byte_span(reinterpret_cast<const std::uint8_t*>(in.data()), in.size()),
                  out);
    for (auto& e : out)
      events_.push_back(std::move(e));
  }

  loop& loop_;
  int fd_ = -1;
  bool reading_ = true;
  bool eof_ = false;
  bool headers_done_ = false;
  std::string status_;
  std::string head_;
  net::ws::frame_decoder decoder_{net::ws::role::client, {.max_message_size = 64 << 20}};
  std::deque<net::ws::event> events_;
};

}  // namespace ignis::test
