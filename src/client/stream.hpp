#pragma once

// A client byte stream over TCP or TLS, with the connect sequence (resolve, connect, TLS handshake
// with SNI and certificate verification). It meets Beast's AsyncReadStream/AsyncWriteStream
// requirements, so Beast's HTTP reader and writer run on it; their completions hold the stream's
// owner, which holds the stream.
#include "client/config.hpp"

#include <ignis/common/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace ignis::client::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class net_stream : public std::enable_shared_from_this<net_stream> {
 public:
  using executor_type = asio::any_io_executor;

  net_stream(executor_type ex, std::shared_ptr<const engine_config> cfg);

  executor_type get_executor() noexcept { return socket().get_executor(); }

  /// Resolves, connects and (for TLS) handshakes; the pending steps hold the stream. Only for a
  /// stream owned by a shared_ptr.
  void async_connect(std::function<void(error_code)> done);
  bool is_open() noexcept { return socket().is_open(); }
  /// Closes at once; pending operations complete with operation_aborted.
  void close() noexcept;

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return plain_->async_read_some(buffers, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
    return plain_->async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  tcp::socket& socket() noexcept { return tls_ ? tls_->next_layer() : *plain_; }
  void on_resolved(error_code ec, tcp::resolver::results_type results,
                   std::function<void(error_code)> done);
  void on_connected(error_code ec, std::function<void(error_code)> done);

  std::shared_ptr<const engine_config> cfg_;
  tcp::resolver resolver_;
  std::optional<tcp::socket> plain_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;
};

}  // namespace ignis::client::detail
