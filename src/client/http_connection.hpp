#pragma once

// One keep-alive HTTP/1.1 connection for Engine.IO polling requests, one request at a time, on
// Beast's serializer and parser. It connects on first use and again when the server closed it.
#include "client/stream.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace ignis::client::detail {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

class http_connection : public std::enable_shared_from_this<http_connection> {
 public:
  using callback = std::function<void(error_code, http_response)>;

  http_connection(asio::any_io_executor ex, std::shared_ptr<const engine_config> cfg);

  /// Sends `req` and reads the response; `timeout` 0 means none (then client_error::timeout).
  /// After close(), `cb` is never called.
  void request(http_request req, std::chrono::milliseconds timeout, callback cb);
  bool busy() const noexcept { return static_cast<bool>(cb_); }
  void close() noexcept;

 private:
  void connect();
  void write();
  void read();
  void finish(error_code ec);
  bool retry_on(error_code ec);
  void drop_stream() noexcept;

  asio::any_io_executor ex_;
  std::shared_ptr<const engine_config> cfg_;
  std::shared_ptr<net_stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  http_request req_;
  callback cb_;
  asio::steady_timer timer_;
  std::uint64_t generation_ = 0;  // tells a stale completion from the current request's
  bool reused_ = false;           // the request went over a connection that served one before
  bool retried_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
};

}  // namespace ignis::client::detail
