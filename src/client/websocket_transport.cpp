#include "client/websocket_transport.hpp"

#include <ignis/common/random.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace ignis::client::detail {
namespace {

namespace http = boost::beast::http;

// After our close frame, the server is given this long to take it before the socket is closed.
constexpr std::chrono::milliseconds close_grace{1'000};

bool header_has_token(std::string_view value, std::string_view token) {
  // "Connection: keep-alive, Upgrade": a comma-separated list, compared case-insensitively.
  while (!value.empty()) {
    const auto comma = value.find(',');
    auto item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (boost::beast::iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

websocket_transport::websocket_transport(asio::any_io_executor ex,
                                         std::shared_ptr<const engine_config> cfg)
    : ex_(ex),
      cfg_(std::move(cfg)),
      decoder_(net::ws::role::client, {.max_message_size = cfg_->max_message_size}),
      close_timer_(ex) {}

void websocket_transport::open() {
  if (state_ != state::idle) return;
  state_ = state::connecting;
  stream_ = std::make_shared<net_stream>(ex_, cfg_);
  stream_->async_connect([self = shared_from_this()](error_code ec) {
    if (self->state_ != state::connecting) return;
    if (ec) return self->fail("websocket error", ec, ec.message());
    self->write_upgrade();
  });
}

void websocket_transport::write_upgrade() {
  std::array<std::uint8_t, 16> nonce{};
  random_bytes(nonce);  // RFC 6455 §4.1: a random 16-byte nonce
  key_ = net::ws::make_key(nonce);

  upgrade_req_ = {http::verb::get, cfg_->target(transport_kind::websocket, sid_), 11};
  upgrade_req_.set(http::field::host, cfg_->host_header);
  upgrade_req_.set(http::field::upgrade, "websocket");
  upgrade_req_.set(http::field::connection, "Upgrade");
  upgrade_req_.set(http::field::sec_websocket_key, key_);
  upgrade_req_.set(http::field::sec_websocket_version, "13");
  for (const auto& [k, v] : cfg_->headers)
    upgrade_req_.set(k, v);
  http::async_write(*stream_, upgrade_req_,
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      if (self->state_ != state::connecting) return;
                      if (ec) return self->fail("websocket error", ec, ec.message());
                      self->read_upgrade();
                    });
}

void websocket_transport::read_upgrade() {
  parser_.emplace();
  parser_->header_limit(64 * 1024);
  parser_->body_limit(64 * 1024);  // only a refusal has a body
  http::async_read(*stream_, upgrade_buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, std::size_t) {
                     if (self->state_ != state::connecting) return;
                     self->on_upgrade(ec);
                   });
}

void websocket_transport::on_upgrade(error_code ec) {
  if (ec) return fail("websocket error", ec, ec.message());
  const auto& res = parser_->get();
  if (res.result() != http::status::switching_protocols) {
    std::string d = "HTTP " + std::to_string(res.result_int());
    if (!res.body().empty()) d += ": " + res.body().substr(0, 200);
    return fail("websocket error", client_error::websocket_handshake, std::move(d));
  }
  if (!boost::beast::iequals(res[http::field::upgrade], "websocket") ||
      !header_has_token(res[http::field::connection], "upgrade") ||
      res[http::field::sec_websocket_accept] != net::ws::accept_key(key_)) {
    return fail("websocket error", client_error::websocket_handshake,
                "invalid 101 response (Upgrade, Connection or Sec-WebSocket-Accept)");
  }
  parser_.reset();
  state_ = state::open;
  auto l = listener();
  if (!l) return abort();
  l->on_transport_open(*this);
  if (state_ != state::open) return;
  // Frames that came in the same read as the 101.
  if (upgrade_buffer_.size() > 0) {
    const auto data = upgrade_buffer_.data();
    std::string leftover(static_cast<const char*>(data.data()), data.size());
    upgrade_buffer_.clear();
    if (!on_bytes(as_bytes(leftover))) return;
  }
  upgrade_buffer_.shrink_to_fit();
  read();
}

void websocket_transport::read() {
  stream_->async_read_some(asio::buffer(read_buffer_),
                           [self = shared_from_this()](error_code ec, std::size_t n) {
                             if (self->state_ != state::open && self->state_ != state::closing)
                               return;
                             if (ec) {
                               if (self->state_ == state::closing) return self->abort();
                               if (ec == asio::error::eof) return self->lost();
                               return self->fail("websocket error", ec, ec.message());
                             }
                             if (!self->on_bytes(byte_span(self->read_buffer_.data(), n))) return;
                             self->read();
                           });
}

bool websocket_transport::on_bytes(byte_span bytes) {
  events_.clear();
  const auto ec = decoder_.feed(bytes, events_);
  for (auto& ev : events_) {
    if (!dispatch(ev)) return false;
  }
  if (ec) {
    queue_close(control_.on_error(ec).code);
    fail("websocket error", ec, ec.message());
    return false;
  }
  return state_ == state::open || state_ == state::closing;
}

bool websocket_transport::dispatch(net::ws::event& ev) {
  using kind = net::ws::control::action::kind;
  const auto action = control_.on_event(ev);
  switch (action.what) {
    case kind::none:
      return state_ == state::open || state_ == state::closing;
    case kind::ended:
      // The server answered our close: the connection ends.
      abort();
      return false;
    case kind::pong:
      queue_frame(net::ws::opcode::pong, ev.payload);
      return true;
    case kind::close:
      queue_close(action.code);
      lost();
      return false;
    case kind::deliver:
      break;
  }
  auto l = listener();
  if (!l) {
    abort();
    return false;
  }
  if (ev.kind == net::ws::event_kind::binary) {
    auto p = engineio::packet::bytes(std::move(ev.payload));
    l->on_transport_packet(*this, p);
  } else {
    auto p = engineio::decode_packet(ev.payload);
    if (!p) {
      if (control_.close()) queue_close(1000);
      fail("parse error", p.error(), p.error().message());
      return false;
    }
    l->on_transport_packet(*this, *p);
  }
  return state_ == state::open;
}

void websocket_transport::send(std::vector<engineio::packet> packets) {
  if (state_ != state::open) return;
  std::string text;
  for (const auto& p : packets) {
    if (p.binary) {
      queue_frame(net::ws::opcode::binary, p.data);
    } else {
      text.clear();
      engineio::encode_packet(p, text);
      queue_frame(net::ws::opcode::text, text);
    }
  }
  flush();
}

void websocket_transport::queue_frame(net::ws::opcode op, std::string_view payload) {
  if (close_queued_) return;
  std::string frame;
  frame.reserve(net::ws::frame_header_size(payload.size(), true) + payload.size());
  net::ws::encode_frame(frame, op, payload, true, masks_.next());
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
}

void websocket_transport::queue_close(std::uint16_t code) {
  if (close_queued_ || !stream_) return;
  std::string frame;
  net::ws::encode_close_frame(frame, code, {}, masks_.next());
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  close_queued_ = true;
}

void websocket_transport::flush() {
  if (writing_ || state_ == state::closed || queue_.empty()) return;
  writing_ = true;
  inflight_.swap(queue_);
  inflight_bytes_ = queued_bytes_;
  queued_bytes_ = 0;
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(inflight_.size());
  for (const auto& f : inflight_)
    buffers.emplace_back(f.data(), f.size());
  asio::async_write(*stream_, buffers, [self = shared_from_this()](error_code ec, std::size_t) {
    self->writing_ = false;
    self->inflight_.clear();
    self->inflight_bytes_ = 0;
    if (self->state_ == state::closed) return;
    if (ec) {
      if (self->state_ == state::closing) return self->abort();
      return self->fail("websocket error", ec, ec.message());
    }
    if (!self->queue_.empty()) return self->flush();
    // Our close frame is out: give the server a moment to answer, then end the connection (we
    // do not wait for its close frame beyond that).
    if (self->state_ == state::closing && self->close_queued_) self->arm_close_timer(close_grace);
  });
}

void websocket_transport::close(std::vector<engineio::packet> last) {
  listener_.reset();  // nothing is reported after close()
  if (state_ == state::closed || state_ == state::closing) return;
  if (state_ != state::open) return abort();
  send(std::move(last));
  if (control_.close()) queue_close(1000);
  linger();
}

void websocket_transport::linger() {
  if (!close_queued_ || (!writing_ && queue_.empty())) return abort();
  state_ = state::closing;
  flush();
  // Bounded even when the write never completes.
  arm_close_timer(close_grace * 2);
}

void websocket_transport::arm_close_timer(std::chrono::milliseconds after) {
  close_timer_.expires_after(after);
  close_timer_.async_wait([weak = weak_from_this()](error_code e) {
    auto self = weak.lock();
    if (!e && self) self->abort();
  });
}

void websocket_transport::abort() {
  listener_.reset();
  if (state_ == state::closed) return;
  state_ = state::closed;
  close_timer_.cancel();
  if (stream_) stream_->close();
  queue_.clear();
  queued_bytes_ = 0;
}

void websocket_transport::lost() {
  // The server closed the connection (close frame or end of stream): "transport close". Our
  // answering close frame, if any, still goes out.
  auto l = listener();
  listener_.reset();
  linger();
  if (l) l->on_transport_close(*this);
}

void websocket_transport::fail(std::string_view message, error_code ec, std::string description) {
  auto l = listener();
  listener_.reset();
  linger();
  if (l)
    l->on_transport_error(*this,
                          connect_error{std::string(message), nullptr, ec, std::move(description)});
}

}  // namespace ignis::client::detail
