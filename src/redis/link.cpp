#include "redis/link.hpp"

#include "redis/resp_encoder.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace ignis::redis::detail {

// One connection attempt's socket and read buffer. Handlers hold it by shared_ptr, so a socket
// that a newer attempt replaced stays alive until its aborted operations have completed.
struct link::transport {
  explicit transport(const strand_type& strand, asio::ssl::context* tls) : resolver(strand) {
    if (tls != nullptr) {
      secure.emplace(strand, *tls);
    } else {
      plain.emplace(strand);
    }
  }
  tcp::socket& socket() noexcept { return secure ? secure->next_layer() : *plain; }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& b, Handler&& h) {
    if (secure) return secure->async_read_some(b, std::forward<Handler>(h));
    plain->async_read_some(b, std::forward<Handler>(h));
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& b, Handler&& h) {
    if (secure) return secure->async_write_some(b, std::forward<Handler>(h));
    plain->async_write_some(b, std::forward<Handler>(h));
  }
  template <class Handler>
  void async_write_all(asio::const_buffer b, Handler&& h) {
    if (secure) return asio::async_write(*secure, b, std::forward<Handler>(h));
    asio::async_write(*plain, b, std::forward<Handler>(h));
  }
  void close() noexcept {
    error_code ignored;
    resolver.cancel();
    socket().close(ignored);
  }

  tcp::resolver resolver;
  std::optional<tcp::socket> plain;
  std::optional<asio::ssl::stream<tcp::socket>> secure;
  std::array<char, 64 * 1024> buffer{};
};

link::link(asio::any_io_executor ex, config cfg)
    : cfg_(std::move(cfg)),
      strand_(asio::make_strand(ex)),
      backoff_(cfg_.reconnect_min, cfg_.reconnect_max),
      connect_deadline_(strand_),
      reconnect_timer_(strand_) {
  auto parsed = parse_url(cfg_.url);
  if (!parsed) throw std::invalid_argument("ignis::redis: invalid Redis URL: " + cfg_.url);
  url_ = std::move(*parsed);
  if (url_.tls) {
    tls_context_.emplace(asio::ssl::context::tls_client);
    error_code ec;
    if (!cfg_.tls_ca_file.empty()) {
      tls_context_->load_verify_file(cfg_.tls_ca_file, ec);
    } else {
      tls_context_->set_default_verify_paths(ec);
    }
    // A missing CA file shows up as a failed verification at connect, which is retried and
    // reported like any other connection failure.
  }
}

link::~link() = default;

void link::start() {
  run([this] {
    if (started_ || closed_) return;
    started_ = true;
    connect_attempt();
  });
}

void link::close() {
  {
    std::lock_guard lk(callbacks_mutex_);
    silenced_ = true;
  }
  // Visible at once to state() on any thread; the strand finishes the work.
  state_.store(link_state::closed, std::memory_order_release);
  run([this] {
    if (closed_) return;
    closed_ = true;
    ++generation_;
    drop_transport();
    connect_deadline_.cancel();
    reconnect_timer_.cancel();
    on_down(make_error_code(error::closed));
    set_state(link_state::closed);
  });
}

void link::on_state(std::function<void(link_state)> fn) {
  set_callback(on_state_, std::move(fn));
}

std::optional<tcp::endpoint> link::remote_endpoint() const {
  if (!transport_ || !connected_) return std::nullopt;
  error_code ec;
  auto ep = transport_->socket().remote_endpoint(ec);
  if (ec) return std::nullopt;
  return ep;
}

void link::set_state(link_state s) {
  // Closed is final, even for a failure handled on the strand just after close() was called.
  link_state current = state_.load(std::memory_order_acquire);
  do {
    if (current == s || current == link_state::closed) return;
  } while (!state_.compare_exchange_weak(current, s, std::memory_order_acq_rel));
  notify([&] {
    // A copy: the callback may replace itself.
    if (auto fn = on_state_) fn(s);
  });
}

void link::drop_transport() {
  if (transport_) transport_->close();
  transport_.reset();
  connected_ = false;
  up_ = false;
  out_.clear();
  writing_.clear();
  reader_.reset();
}

void link::connect_attempt() {
  if (closed_) return;
  const std::uint64_t gen = ++generation_;
  drop_transport();
  transport_ = std::make_shared<transport>(strand_, tls_context_ ? &*tls_context_ : nullptr);

  // One deadline covers resolving, connecting, the TLS handshake and the AUTH/PING batch: a
  // server that accepts TCP but never answers (stopped, overloaded) counts as unreachable.
  connect_deadline_.expires_after(std::max(cfg_.command_timeout, std::chrono::milliseconds(1)));
  connect_deadline_.async_wait([self = shared_from_this(), this, gen](error_code ec) {
    if (ec || gen != generation_ || up_) return;
    fail(gen, make_error_code(error::timeout));
  });

  auto t = transport_;
  error_code addr_ec;
  const auto address = asio::ip::make_address(url_.host, addr_ec);
  if (!addr_ec) {
    t->socket().async_connect(
        tcp::endpoint(address, url_.port),
        [self = shared_from_this(), this, gen, t](error_code ec) { on_connected(gen, ec); });
    return;
  }
  t->resolver.async_resolve(
      url_.host, std::to_string(url_.port),
      [self = shared_from_this(), this, gen, t](error_code ec, tcp::resolver::results_type rs) {
        if (gen != generation_) return;
        if (ec) return fail(gen, ec);
        asio::async_connect(
            t->socket(), rs,
            [self, this, gen, t](error_code e, const tcp::endpoint&) { on_connected(gen, e); });
      });
}

void link::on_connected(std::uint64_t gen, error_code ec) {
  if (gen != generation_) return;
  if (ec) return fail(gen, ec);
  auto t = transport_;
  error_code ignored;
  t->socket().set_option(tcp::no_delay(true), ignored);
  if (!t->secure) return begin_handshake(gen);

  // SNI carries host names only, never an address literal (RFC 6066 §3).
  error_code addr_ec;
  asio::ip::make_address(url_.host, addr_ec);
  if (addr_ec && !SSL_set_tlsext_host_name(t->secure->native_handle(), url_.host.c_str())) {
    return fail(gen,
                error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
  }
  if (cfg_.tls_verify) {
    t->secure->set_verify_mode(asio::ssl::verify_peer);
    t->secure->set_verify_callback(asio::ssl::host_name_verification(url_.host));
  } else {
    t->secure->set_verify_mode(asio::ssl::verify_none);
  }
  t->secure->async_handshake(asio::ssl::stream_base::client,
                             [self = shared_from_this(), this, gen, t](error_code e) {
                               if (gen != generation_) return;
                               if (e) return fail(gen, e);
                               begin_handshake(gen);
                             });
}

void link::begin_handshake(std::uint64_t gen) {
  connected_ = true;
  // RESP2 throughout (hiredis' reader does not parse RESP3), so AUTH rather than HELLO 3.
  std::string batch;
  handshake_left_ = 0;
  auto add = [&](std::vector<std::string_view> args) {
    encode_command(batch, args);
    ++handshake_left_;
  };
  if (!url_.password.empty()) {
    if (url_.user.empty()) {
      add({"AUTH", url_.password});
    } else {
      add({"AUTH", url_.user, url_.password});
    }
  }
  const std::string db = std::to_string(url_.db);
  if (url_.db != 0) add({"SELECT", db});
  if (!cfg_.client_name.empty()) add({"CLIENT", "SETNAME", cfg_.client_name});
  // Always one round trip: a server that accepts TCP but does not run (stopped, still loading)
  // must not be reported as connected.
  add({"PING"});
  out_ = std::move(batch);
  write_some(gen);
  read_some(gen);
}

void link::send(std::string_view bytes) {
  if (!connected_ || !up_) return;
  out_.append(bytes);
  if (writing_.empty()) write_some(generation_);
}

void link::write_some(std::uint64_t gen) {
  if (out_.empty() || !writing_.empty()) return;
  writing_.swap(out_);
  auto t = transport_;
  // async_write rather than write_some: the whole batch goes, in as few syscalls as the kernel
  // allows, while new commands collect in out_ to form the next batch.
  t->async_write_all(asio::buffer(writing_),
                     [self = shared_from_this(), this, gen, t](error_code ec, std::size_t) {
                       if (gen != generation_) return;
                       if (ec) return fail(gen, ec);
                       writing_.clear();
                       write_some(gen);
                     });
}

void link::read_some(std::uint64_t gen) {
  auto t = transport_;
  t->async_read_some(asio::buffer(t->buffer),
                     [self = shared_from_this(), this, gen, t](error_code ec, std::size_t n) {
                       on_read(gen, ec, n);
                     });
}

void link::on_read(std::uint64_t gen, error_code ec, std::size_t n) {
  if (gen != generation_) return;
  if (ec) return fail(gen, ec);
  last_read_ = clock::now();
  auto t = transport_;
  if (auto fed = reader_.feed(std::string_view(t->buffer.data(), n)); fed) return fail(gen, fed);
  for (;;) {
    auto next = reader_.next();
    if (!next) return fail(gen, next.error());
    if (!*next) break;
    reply r = std::move(**next);
    if (!up_) {
      if (r.is_error()) return fail(gen, make_error_code(error::server_error));
      if (--handshake_left_ == 0) {
        up_ = true;
        connect_deadline_.cancel();
        backoff_.reset();
        on_up();
        if (gen != generation_) return;
        set_state(link_state::connected);
        if (gen != generation_) return;
      }
      continue;
    }
    on_reply(std::move(r));
    if (gen != generation_) return;  // the derived class (or a callback) reset or closed us
  }
  read_some(gen);
}

void link::reset_link(error_code why) {
  fail(generation_, why);
}

void link::fail(std::uint64_t gen, error_code why) {
  if (gen != generation_ || closed_) return;
  ++generation_;
  last_failure_ = why;
  drop_transport();
  connect_deadline_.cancel();
  on_down(why);
  if (closed_) return;  // a completion called close()
  set_state(link_state::degraded);
  if (closed_) return;
  reconnect_timer_.expires_after(backoff_.next());
  reconnect_timer_.async_wait([self = shared_from_this(), this](error_code ec) {
    if (ec || closed_) return;
    connect_attempt();
  });
}

}  // namespace ignis::redis::detail
