#include "client/polling_transport.hpp"

#include "client/inflate.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

namespace ignis::client::detail {
namespace {

// A POST normally takes one round trip; a server that holds it this long is gone.
constexpr std::chrono::milliseconds post_timeout{20'000};
// The goodbye POST: best effort, it must not keep a closed client around.
constexpr std::chrono::milliseconds close_post_timeout{2'000};

std::string describe(const http_response& res) {
  std::string d = "HTTP " + std::to_string(res.result_int());
  if (!res.body().empty()) d += ": " + res.body().substr(0, 200);
  return d;
}

}  // namespace

polling_transport::polling_transport(asio::any_io_executor ex,
                                     std::shared_ptr<const engine_config> cfg)
    : ex_(ex),
      cfg_(std::move(cfg)),
      get_(std::make_shared<http_connection>(ex_, cfg_)),
      post_(std::make_shared<http_connection>(ex_, cfg_)) {}

http_request polling_transport::make_request(http::verb verb, std::string body) const {
  http_request req{verb, cfg_->target(transport_kind::polling, sid_), 11};
  req.set(http::field::host, cfg_->host_header);
  if (cfg_->accept_compression) req.set(http::field::accept_encoding, "gzip, deflate");
  if (verb == http::verb::post) {
    req.set(http::field::content_type, "text/plain;charset=UTF-8");
    req.body() = std::move(body);
  }
  for (const auto& [k, v] : cfg_->headers)
    req.set(k, v);
  return req;
}

void polling_transport::open() {
  if (state_ != state::idle) return;
  state_ = state::opening;
  poll();
}

void polling_transport::poll() {
  polling_ = true;
  get_->request(make_request(http::verb::get, {}), std::chrono::milliseconds(0),
                [self = shared_from_this()](error_code ec, http_response res) {
                  self->on_poll(ec, std::move(res));
                });
}

void polling_transport::on_poll(error_code ec, http_response res) {
  polling_ = false;
  if (state_ == state::closed) return;
  auto l = listener();
  if (!l) return abort();  // the engine is gone
  if (ec) return fail("xhr poll error", ec, ec.message());
  if (res.result() != http::status::ok) {
    return fail("xhr poll error", client_error::http_status, describe(res));
  }

  std::string body = std::move(res.body());
  const auto encoding = res[http::field::content_encoding];
  if (encoding == "gzip" || encoding == "deflate") {
    auto inflated = inflate_body(body, cfg_->max_message_size);
    if (!inflated) return fail("xhr poll error", inflated.error(), inflated.error().message());
    body = std::move(*inflated);
  } else if (!encoding.empty() && encoding != "identity") {
    return fail("xhr poll error", client_error::bad_content_encoding, std::string(encoding));
  }

  auto packets = engineio::decode_payload(body);
  if (!packets) return fail("parse error", packets.error(), packets.error().message());
  for (auto& p : *packets) {
    if (state_ == state::opening && p.type == engineio::packet_type::open) {
      state_ = state::open;
      writable_ = true;
      l->on_transport_open(*this);
      if (state_ == state::closed) return;
    }
    if (p.type == engineio::packet_type::close) {
      abort();
      l->on_transport_close(*this);
      return;
    }
    l->on_transport_packet(*this, p);
    if (state_ == state::closed) return;
  }
  if (state_ == state::pausing) return check_paused();
  if (state_ == state::open || state_ == state::opening) poll();
}

void polling_transport::send(std::vector<engineio::packet> packets) {
  if (state_ == state::closed || packets.empty()) return;
  writable_ = false;
  auto body = engineio::encode_payload(packets);
  inflight_bytes_ = body.size();
  post_->request(
      make_request(http::verb::post, std::move(body)), post_timeout,
      [self = shared_from_this()](error_code ec, http_response res) { self->on_post(ec, res); });
}

void polling_transport::on_post(error_code ec, const http_response& res) {
  writable_ = true;
  inflight_bytes_ = 0;
  if (!close_bodies_.empty()) return send_close_post();
  if (state_ == state::closed) return;
  auto l = listener();
  if (!l) return abort();
  if (ec) return fail("xhr post error", ec, ec.message());
  if (res.result() != http::status::ok) {
    return fail("xhr post error", client_error::http_status, describe(res));
  }
  l->on_transport_drain(*this);
  if (state_ == state::pausing) check_paused();
}

void polling_transport::pause(std::function<void()> done) {
  if (state_ != state::open) return;
  state_ = state::pausing;
  on_paused_ = std::move(done);
  check_paused();
}

void polling_transport::check_paused() {
  if (state_ != state::pausing || polling_ || !writable_) return;
  state_ = state::paused;
  auto done = std::move(on_paused_);
  on_paused_ = nullptr;
  if (done) done();
}

void polling_transport::resume() {
  if (state_ != state::pausing && state_ != state::paused) return;
  state_ = state::open;
  on_paused_ = nullptr;
  if (!polling_) poll();
}

void polling_transport::close(std::vector<engineio::packet> last) {
  listener_.reset();  // nothing is reported after close()
  if (state_ == state::closed) return;
  const bool opened = state_ != state::idle && state_ != state::opening;
  state_ = state::closed;
  on_paused_ = nullptr;
  if (!opened || sid_.empty()) {
    get_->close();
    post_->close();
    return;
  }
  // The held GET stays until the goodbye is through: Node takes a GET aborted by the client for a
  // "transport error" and may see that before our "1", dropping the packets sent with it. It
  // answers the GET with a noop once it has read the "1".
  //
  // Engine.IO's goodbye: the packets still waiting, then "1", in two POSTs as engine.io-client
  // does (it waits for the drain). Node handles a namespace DISCONNECT on the next tick but a
  // "1" at once, so "41\x1e1" in one body would close the session before the DISCONNECT counts.
  if (!last.empty()) close_bodies_.push_back(engineio::encode_payload(last));
  const auto goodbye = engineio::packet::text(engineio::packet_type::close);
  close_bodies_.push_back(engineio::encode_payload({&goodbye, 1}));
  if (writable_) send_close_post();  // else on_post sends it once the POST in flight is done
}

void polling_transport::send_close_post() {
  auto body = std::move(close_bodies_.front());
  close_bodies_.pop_front();
  post_->request(make_request(http::verb::post, std::move(body)), close_post_timeout,
                 [self = shared_from_this()](error_code ec, const http_response& res) {
                   if (!ec && res.result() == http::status::ok && !self->close_bodies_.empty()) {
                     return self->send_close_post();
                   }
                   self->close_bodies_.clear();
                   self->post_->close();
                   self->get_->close();
                 });
}

void polling_transport::abort() {
  listener_.reset();
  state_ = state::closed;
  on_paused_ = nullptr;
  close_bodies_.clear();
  get_->close();
  post_->close();
}

void polling_transport::fail(std::string_view message, error_code ec, std::string description) {
  auto l = listener();
  abort();
  if (l)
    l->on_transport_error(*this,
                          connect_error{std::string(message), nullptr, ec, std::move(description)});
}

}  // namespace ignis::client::detail
