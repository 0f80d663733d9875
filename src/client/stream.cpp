#include "client/stream.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include <openssl/ssl.h>

namespace ignis::client::detail {

net_stream::net_stream(executor_type ex, std::shared_ptr<const engine_config> cfg)
    : cfg_(std::move(cfg)), resolver_(ex) {
  if (cfg_->tls) {
    tls_.emplace(ex, *cfg_->tls);
  } else {
    plain_.emplace(ex);
  }
}

void net_stream::async_connect(std::function<void(error_code)> done) {
  // An address needs no resolver (whose asynchronous form runs getaddrinfo on a thread of Asio's).
  error_code addr_ec;
  const auto address = asio::ip::make_address(cfg_->host, addr_ec);
  if (!addr_ec) {
    socket().async_connect(tcp::endpoint(address, cfg_->port_number),
                           [self = shared_from_this(), done = std::move(done)](
                               error_code ec) mutable { self->on_connected(ec, std::move(done)); });
    return;
  }
  resolver_.async_resolve(cfg_->host, cfg_->port,
                          [self = shared_from_this(), done = std::move(done)](
                              error_code ec, tcp::resolver::results_type results) mutable {
                            self->on_resolved(ec, std::move(results), std::move(done));
                          });
}

void net_stream::on_resolved(error_code ec, tcp::resolver::results_type results,
                             std::function<void(error_code)> done) {
  if (ec) return done(ec);
  asio::async_connect(
      socket(), results,
      [self = shared_from_this(), done = std::move(done)](
          error_code e, const tcp::endpoint&) mutable { self->on_connected(e, std::move(done)); });
}

void net_stream::on_connected(error_code ec, std::function<void(error_code)> done) {
  if (ec) return done(ec);
  error_code ignored;
  socket().set_option(tcp::no_delay(true), ignored);
  if (!tls_) return done({});

  // SNI carries host names only, never an address literal (RFC 6066 §3).
  error_code addr_ec;
  asio::ip::make_address(cfg_->host, addr_ec);
  if (addr_ec && !SSL_set_tlsext_host_name(tls_->native_handle(), cfg_->host.c_str())) {
    return done(error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
  }
  if (cfg_->tls_verify) {
    tls_->set_verify_mode(asio::ssl::verify_peer);
    tls_->set_verify_callback(asio::ssl::host_name_verification(cfg_->host));
  } else {
    tls_->set_verify_mode(asio::ssl::verify_none);
  }
  tls_->async_handshake(
      asio::ssl::stream_base::client,
      [self = shared_from_this(), done = std::move(done)](error_code e) { done(e); });
}

void net_stream::close() noexcept {
  error_code ignored;
  resolver_.cancel();
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

}  // namespace ignis::client::detail
