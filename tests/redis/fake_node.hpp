#pragma once

// A scripted Redis peer for the tests of servers that misbehave: it parses the client's commands
// with the library's own RESP reader and answers what the test says, connection by connection.
#include "redis/harness.hpp"
#include "redis/resp_reader.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ignis::redis::test {

/// A loopback server that reads RESP commands (the verb in upper case) and answers each with
/// what `answer` returns (std::nullopt: nothing, ever). Counts the commands it got by name.
class fake_node {
  using tcp = boost::asio::ip::tcp;

 public:
  using answer_fn = std::function<std::optional<std::string>(const std::vector<std::string>&)>;
  /// The answers of the `n`th connection (from 0), with state of its own.
  using connection_fn = std::function<answer_fn(std::size_t n)>;

  /// Every connection answered by the same `answer`.
  explicit fake_node(answer_fn answer)
      : fake_node(connection_fn(
            [shared = std::make_shared<answer_fn>(std::move(answer))](std::size_t) -> answer_fn {
              return [shared](const std::vector<std::string>& args) { return (*shared)(args); };
            })) {}
  explicit fake_node(connection_fn per_connection)
      : acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        per_connection_(std::move(per_connection)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~fake_node() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port()); }
  std::size_t count(const std::string& command) const {
    std::lock_guard lk(mutex_);
    const auto it = counts_.find(command);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  struct session {
    explicit session(boost::asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::array<char, 4096> buf{};
    detail::resp_reader reader;
    answer_fn answer;
  };
  void accept() {
    auto s = std::make_shared<session>(io_);
    acceptor_.async_accept(s->socket, [this, s](error_code ec) {
      if (ec) return;
      s->answer = per_connection_(connections_++);
      serve(s);
      accept();
    });
  }
  void serve(const std::shared_ptr<session>& s) {
    s->socket.async_read_some(boost::asio::buffer(s->buf), [this, s](error_code ec, std::size_t n) {
      if (ec || s->reader.feed(std::string_view(s->buf.data(), n))) return;
      auto out = std::make_shared<std::string>();
      for (;;) {
        auto next = s->reader.next();
        if (!next || !*next) break;
        std::vector<std::string> args;
        for (const auto& e : (**next).elements)
          args.push_back(e.str);
        if (args.empty()) continue;
        for (auto& c : args[0])
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        {
          std::lock_guard lk(mutex_);
          ++counts_[args[0]];
        }
        if (auto a = s->answer(args)) *out += *a;
      }
      if (out->empty()) return serve(s);
      boost::asio::async_write(s->socket, boost::asio::buffer(*out),
                               [this, s, out](error_code e, std::size_t) {
                                 if (!e) serve(s);
                               });
    });
  }

  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  connection_fn per_connection_;
  std::size_t connections_ = 0;  // accepted so far (the io thread's)
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> counts_;
  std::thread thread_;
};

}  // namespace ignis::redis::test
