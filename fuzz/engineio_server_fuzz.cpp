// The HTTP entry and the Engine.IO session state machine, end to end: a fresh Engine.IO echo
// server (one shard, its event loop run on this thread) behind the real HTTP listener on
// 127.0.0.1, driven by up to four client connections. The input is a list of steps:
//
//   op (1 byte) | length (1 byte) | `length` bytes of data
//
// op & 7 picks the action, (op >> 3) & 3 the connection slot, op & 0x20 a variation:
//   0  polling handshake GET (data appended to the query)
//   1  POST data as a polling body to the current sid
//   2  GET poll on the current sid
//   3  raw bytes, "@SID@" replaced by the current sid
//   4  WebSocket upgrade (variation: with the current sid, i.e. an upgrade from polling)
//   5  one masked WebSocket frame: first data byte = first frame byte, the rest = payload
//   6  close the connection (reset)
//   7  a text frame "2probe" / "5" (variation) to drive the upgrade
// After every step the event loop runs until it has nothing left to do; what the server wrote
// is read, and the newest "sid" in it becomes the current sid. Nothing is asserted about the
// answers: the sanitizers and the absence of a crash or hang are the oracle.
// IGNIS_FUZZ_VERBOSE=1 prints what the server wrote after each step.
#include <ignis/engineio/server.hpp>
#include <ignis/net/http.hpp>
#include <ignis/net/runtime.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace ignis;

class echo_handler final : public engineio::session_handler {
 public:
  void on_open(const std::shared_ptr<engineio::session>&,
               engineio::session::handshake_request) override {}
  void on_message(engineio::session& s, const engineio::packet& p) override {
    if (!p.binary && p.data == "close-me") {
      s.close();
      return;
    }
    if (p.binary) {
      s.send_binary(p.data);
    } else {
      s.send_text(p.data);
    }
  }
  void on_close(engineio::session&, engineio::close_reason) override {}
};

// A client end: a plain non-blocking socket, so that this thread never waits on the server.
class client_conn {
 public:
  client_conn() = default;
  client_conn(const client_conn&) = delete;
  client_conn& operator=(const client_conn&) = delete;
  ~client_conn() { reset(); }

  bool open() const noexcept { return fd_ >= 0; }

  void connect(std::uint16_t port) {
    reset();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd_ < 0) std::abort();
    // Reset on close: no TIME_WAIT, so millions of runs do not exhaust the ephemeral ports.
    const linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // On loopback the handshake completes inside connect(), even on a non-blocking socket, or
    // reports EINPROGRESS and completes before the server's accept runs.
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
        errno != EINPROGRESS) {
      reset();
    }
  }

  // Writes what the socket takes now; the rest of a large write is dropped (the server stopped
  // reading, which is a legitimate outcome).
  void write(std::string_view bytes) {
    while (open() && !bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Everything the server wrote so far.
  void drain(std::string& into) {
    std::array<char, 16384> buf;
    while (open()) {
      const auto n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) {
        into.append(buf.data(), static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) reset();  // the server closed
      return;
    }
  }

  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

void run_until_idle(boost::asio::io_context& ctx) {
  // Bounded: a bug that keeps posting work must show up as a finding, not a hang.
  for (int i = 0; i < 10'000; ++i) {
    ctx.restart();
    if (ctx.poll() == 0) {
      // One more round: a write that completed may have made a read ready.
      ctx.restart();
      if (ctx.poll() == 0) return;
    }
  }
  std::abort();
}

// The newest 20-character sid in `text`, if any.
void update_sid(std::string_view text, std::string& sid) {
  constexpr std::string_view key = "\"sid\":\"";
  for (auto pos = text.find(key); pos != std::string_view::npos; pos = text.find(key, pos + 1)) {
    const auto value = text.substr(pos + key.size(), 20);
    if (value.size() == 20) sid.assign(value);
  }
}

std::string ws_frame(std::uint8_t first, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>(first));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  }
  f.append("\x01\x02\x03\x04", 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(payload[i] ^ static_cast<char>(1 + i % 4)));
  return f;
}

std::string replace_sid(std::string_view data, const std::string& sid) {
  std::string out(data);
  for (auto pos = out.find("@SID@"); pos != std::string::npos; pos = out.find("@SID@", pos))
    out.replace(pos, 5, sid);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  net::runtime rt(1);
  engineio::server_options options;
  options.max_payload = 2000;
  options.max_buffered_bytes = 64 * 1024;
  auto server = std::make_shared<engineio::server>(rt, options, std::make_shared<echo_handler>());
  net::http_limits limits;
  limits.max_header_bytes = 2048;
  limits.max_body_bytes = options.max_payload;
  {
    net::http_listener listener(rt, {server}, limits);
    if (listener.listen({boost::asio::ip::address_v4::loopback(), 0})) std::abort();
    auto& ctx = rt.at(0).context();
    run_until_idle(ctx);

    // IGNIS_FUZZ_VERBOSE=1 prints what the server wrote after each step (to check a seed).
    static const bool verbose = std::getenv("IGNIS_FUZZ_VERBOSE") != nullptr;
    std::array<client_conn, 4> conns;
    std::string sid = "AAAAAAAAAAAAAAAAAAAA";
    std::string received;
    const std::string q = "/engine.io/?EIO=4&transport=";
    std::size_t at = 0;
    while (at + 2 <= size) {
      const std::uint8_t op = data[at];
      const std::size_t len = std::min<std::size_t>(data[at + 1], size - at - 2);
      const std::string_view arg(reinterpret_cast<const char*>(data + at + 2), len);
      at += 2 + len;
      auto& conn = conns[(op >> 3) & 3];
      const bool variation = (op & 0x20) != 0;
      if (!conn.open() && (op & 7) != 6) conn.connect(listener.port());
      switch (op & 7) {
        case 0:
          conn.write("GET " + q + "polling" + std::string(arg) + " HTTP/1.1\r\nHost: x\r\n\r\n");
          break;
        case 1:
          conn.write("POST " + q + "polling&sid=" + sid +
                     " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " +
                     std::to_string(arg.size()) + "\r\n\r\n" + std::string(arg));
          break;
        case 2:
          conn.write("GET " + q + "polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n");
          break;
        case 3:
          conn.write(replace_sid(arg, sid));
          break;
        case 4:
          conn.write("GET " + q + "websocket" + (variation ? "&sid=" + sid : std::string()) +
                     " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n");
          break;
        case 5:
          if (!arg.empty()) conn.write(ws_frame(static_cast<std::uint8_t>(arg[0]), arg.substr(1)));
          break;
        case 6:
          conn.reset();
          break;
        case 7:
          conn.write(ws_frame(0x81, variation ? "5" : "2probe"));
          break;
      }
      run_until_idle(ctx);
      received.clear();
      for (auto& c : conns)
        c.drain(received);
      update_sid(received, sid);
      if (verbose)
        std::fprintf(stderr, "step %u slot %u%s -> %s\n", op & 7u, (op >> 3) & 3u,
                     conn.open() ? "" : " (closed)", received.c_str());
      run_until_idle(ctx);
    }
    // Tear down the way the program does: sessions closed, clients gone, listener closed.
    server->close_all();
    run_until_idle(ctx);
    for (auto& c : conns)
      c.reset();
    run_until_idle(ctx);
    listener.close();
    run_until_idle(ctx);
  }
  rt.stop();
  return 0;
}
