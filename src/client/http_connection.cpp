#include "client/http_connection.hpp"

#include <ignis/client/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace ignis::client::detail {

http_connection::http_connection(asio::any_io_executor ex, std::shared_ptr<const engine_config> cfg)
    : ex_(ex), cfg_(std::move(cfg)), timer_(ex) {}

void http_connection::request(http_request req, std::chrono::milliseconds timeout, callback cb) {
  if (closed_) return;
  req_ = std::move(req);
  req_.prepare_payload();
  cb_ = std::move(cb);
  retried_ = false;
  timed_out_ = false;
  ++generation_;
  if (timeout.count() > 0) {
    timer_.expires_after(timeout);
    timer_.async_wait([weak = weak_from_this(), gen = generation_](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->generation_ != gen || !self->cb_) return;
      self->timed_out_ = true;
      self->drop_stream();  // the pending operation completes with operation_aborted
    });
  }
  if (stream_ && stream_->is_open()) {
    reused_ = true;
    write();
  } else {
    connect();
  }
}

void http_connection::connect() {
  reused_ = false;
  stream_ = std::make_shared<net_stream>(ex_, cfg_);
  buffer_.clear();
  stream_->async_connect([self = shared_from_this(), gen = generation_](error_code ec) {
    if (self->closed_ || gen != self->generation_) return;
    if (ec) return self->finish(ec);
    self->write();
  });
}

void http_connection::write() {
  http::async_write(*stream_, req_,
                    [self = shared_from_this(), gen = generation_](error_code ec, std::size_t) {
                      if (self->closed_ || gen != self->generation_) return;
                      if (ec) {
                        if (self->retry_on(ec)) return;
                        return self->finish(ec);
                      }
                      self->read();
                    });
}

void http_connection::read() {
  parser_.emplace();
  parser_->header_limit(64 * 1024);
  parser_->body_limit(cfg_->max_message_size);
  http::async_read(*stream_, buffer_, *parser_,
                   [self = shared_from_this(), gen = generation_](error_code ec, std::size_t n) {
                     if (self->closed_ || gen != self->generation_) return;
                     if (ec) {
                       // A kept-alive connection the server closed meanwhile fails before any
                       // byte of the answer: try once more on a fresh one.
                       if (n == 0 && self->retry_on(ec)) return;
                       return self->finish(ec);
                     }
                     self->finish({});
                   });
}

bool http_connection::retry_on(error_code ec) {
  if (!reused_ || retried_ || timed_out_) return false;
  if (ec != http::error::end_of_stream && ec != asio::error::eof &&
      ec != asio::error::connection_reset && ec != asio::error::broken_pipe &&
      ec != http::error::partial_message) {
    return false;
  }
  retried_ = true;
  drop_stream();
  connect();
  return true;
}

void http_connection::finish(error_code ec) {
  timer_.cancel();
  auto cb = std::move(cb_);
  cb_ = nullptr;
  if (timed_out_) ec = client_error::timeout;
  if (ec == http::error::body_limit) ec = client_error::body_too_large;
  http_response res;
  if (!ec) {
    res = parser_->release();
    if (!res.keep_alive()) drop_stream();
  } else {
    drop_stream();
  }
  parser_.reset();
  if (cb) cb(ec, std::move(res));
}

void http_connection::drop_stream() noexcept {
  if (stream_) stream_->close();
  buffer_.clear();
}

void http_connection::close() noexcept {
  if (closed_) return;
  closed_ = true;
  cb_ = nullptr;
  timer_.cancel();
  drop_stream();
}

}  // namespace ignis::client::detail
