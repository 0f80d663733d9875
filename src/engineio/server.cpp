#include "common/block_pool.hpp"
#include "common/id_table.hpp"
#include "engineio/http_responses.hpp"
#include "engineio/session_machine.hpp"
#include "engineio/websocket_transport.hpp"

#include <ignis/common/random.hpp>
#include <ignis/engineio/server.hpp>
#include <ignis/net/shards.hpp>
#include <ignis/net/websocket.hpp>

#include <boost/asio/post.hpp>
#include <boost/url/parse.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>

namespace ignis::engineio {
namespace asio = boost::asio;
namespace http = net::http;

namespace {

constexpr std::string_view sid_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct query_params {
  std::optional<std::string> eio;
  std::optional<std::string> transport;
  std::optional<std::string> sid;
};

query_params parse_query(std::string_view target) {
  query_params q;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return q;
  for (const auto& param : url->params()) {
    if (!param.has_value) continue;
    if (param.key == "EIO")
      q.eio = param.value;
    else if (param.key == "transport")
      q.transport = param.value;
    else if (param.key == "sid")
      q.sid = param.value;
  }
  return q;
}

// Node rejects an Origin header holding characters that are invalid in a header value.
bool has_invalid_header_chars(std::string_view v) {
  for (const unsigned char c : v) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

// check_origin: a request without Origin passes; one with an Origin the CORS rules do not allow
// does not.
bool origin_allowed(const server_options& o, const net::http_request& req) {
  if (!o.check_origin) return true;
  const auto origin = req[http::field::origin];
  if (origin.empty()) return true;
  if (o.cors.origin_fn) return o.cors.origin_fn(origin);
  for (const auto& allowed : o.cors.origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  return false;
}

void raw_reject(net::upgraded_connection conn, std::string_view message) {
  // Node's abortUpgrade: a plain-text 400 whatever the cause, then the connection ends.
  net::refuse_connection(std::move(conn),
                         "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-type: "
                         "text/html\r\nContent-Length: " +
                             std::to_string(message.size()) + "\r\n\r\n" + std::string(message));
}

void raw_reject(net::upgraded_connection conn, http_error e) {
  raw_reject(std::move(conn), to_string(e));
}

}  // namespace

namespace {

// Id bytes come from the kernel's generator in batches: one getrandom per 32 ids instead of one
// per id (every connection takes two, its Engine.IO and its Socket.IO id). Bytes handed out are
// wiped from the pool.
void take_random(std::uint8_t* out, std::size_t size) {
  thread_local std::array<std::uint8_t, 32 * 15> pool;
  thread_local std::size_t left = 0;
  if (left < size) {
    random_bytes(pool);
    left = pool.size();
  }
  std::uint8_t* from = pool.data() + (pool.size() - left);
  std::memcpy(out, from, size);
  std::memset(from, 0, size);
  left -= size;
}

}  // namespace

inline_id generate_id(unsigned shard_index, unsigned shard_count) {
  std::uint8_t bytes[15];
  take_random(bytes, sizeof bytes);
  // 15 bytes are exactly 20 base64url characters, without padding.
  char text[20];
  for (std::size_t i = 0, o = 0; i < sizeof bytes; i += 3, o += 4) {
    const unsigned v = (unsigned(bytes[i]) << 16) | (unsigned(bytes[i + 1]) << 8) | bytes[i + 2];
    text[o] = sid_alphabet[(v >> 18) & 63];
    text[o + 1] = sid_alphabet[(v >> 12) & 63];
    text[o + 2] = sid_alphabet[(v >> 6) & 63];
    text[o + 3] = sid_alphabet[v & 63];
  }
  unsigned first = static_cast<unsigned>(sid_alphabet.find(text[0]));
  first = first - first % shard_count + shard_index;
  if (first >= 64) first -= shard_count;
  text[0] = sid_alphabet[first];
  return inline_id(std::string_view(text, sizeof text));
}

unsigned shard_of_id(std::string_view id, unsigned shard_count) noexcept {
  if (id.size() != 20) return shard_count;
  const auto pos = sid_alphabet.find(id[0]);
  if (pos == std::string_view::npos) return shard_count;
  return static_cast<unsigned>(pos % shard_count);
}

struct server::shard_state {
  explicit shard_state(const server_options& o)
      : transports(std::make_shared<websocket_shared>(o.close_timeout, o.write_stall_timeout)) {}
  // The shard's counters and what its WebSocket transports share: a poller may still hold them
  // after the server is gone (until the runtime itself is destroyed).
  std::shared_ptr<websocket_shared> transports;
  // Found by the session's own id: no copy of it, no allocation per entry.
  ignis::detail::id_table<session> sessions;
  // Sessions the client closed by POSTing "1" while no GET was held, with the time until which a
  // GET that was sent concurrently (and overtaken by the POST, e.g. on another shard) still gets
  // the noop it would have got had it arrived first.
  std::vector<std::pair<std::string, net::clock::time_point>> client_closed;
};

namespace {
constexpr auto client_close_grace = std::chrono::seconds(1);
// The open packet's JSON up to the session id (encode_handshake's key order).
constexpr std::string_view open_head = R"({"sid":")";

// `name` equals `lower` (already in lower case) ignoring ASCII case.
bool equals_lowercase(std::string_view name, std::string_view lower) noexcept {
  if (name.size() != lower.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c =
        name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
    if (c != lower[i]) return false;
  }
  return true;
}

// Headers that only negotiated the connection the handshake came on: hop-by-hop (RFC 9110 §7.6.1)
// or consumed by the WebSocket handshake itself (RFC 6455 §4.2.1). No handler can act on them
// once the connection is open, so the default keeps every header but these.
bool negotiates_connection(std::string_view name) noexcept {
  for (std::string_view n : {"connection", "upgrade", "sec-websocket-key", "sec-websocket-version",
                             "sec-websocket-extensions"}) {
    if (equals_lowercase(name, n)) return true;
  }
  return false;
}

// What the session's handler may keep of its opening request: the URL, the peer and the headers
// the options keep.
session::handshake_request request_details(const server_options& options,
                                           const net::http_request& req,
                                           net::tcp::endpoint remote) {
  const auto& kept = options.kept_headers;
  auto keeps = [&kept](std::string_view name) {
    if (!kept) return !negotiates_connection(name);
    return std::any_of(kept->begin(), kept->end(),
                       [name](const std::string& k) { return equals_lowercase(name, k); });
  };
  // Sized first, so that the kept headers take one allocation.
  std::size_t bytes = 0;
  std::size_t count = 0;
  for (const auto& field : req) {
    if (!keeps(field.name_string())) continue;
    bytes += field.name_string().size() + field.value().size();
    ++count;
  }
  session::handshake_request out;
  out.url = req.target();
  out.remote = std::move(remote);
  out.headers.reserve(bytes, count);
  for (const auto& field : req) {
    if (keeps(field.name_string())) out.headers.add_lowercase(field.name_string(), field.value());
  }
  return out;
}

}  // namespace

void server::remember_client_close(session& s) {
  auto& list = shards_[s.home().index()]->client_closed;
  const auto now = s.home().now();
  std::erase_if(list, [now](const auto& e) { return e.second <= now; });
  list.emplace_back(std::string(s.id()), now + client_close_grace);
}

server::server(net::runtime& rt, server_options options, std::shared_ptr<session_handler> handler)
    : runtime_(rt), options_(std::move(options)), handler_(std::move(handler)) {
  if (options_.path.empty() || options_.path.back() != '/') options_.path.push_back('/');
  session_config_ = std::make_unique<session_config>(
      session_config{options_.ping_interval, options_.ping_timeout, options_.upgrade_timeout,
                     options_.close_timeout, options_.max_buffered_bytes, options_.allow_upgrades});
  for (std::size_t i = 0; i < rt.size(); ++i)
    shards_.push_back(std::make_unique<shard_state>(options_));
  for (const auto t : {transport_kind::polling, transport_kind::websocket}) {
    handshake h;
    if (t == transport_kind::polling && options_.websocket && options_.allow_upgrades)
      h.upgrades = {"websocket"};
    h.ping_interval = static_cast<std::uint32_t>(options_.ping_interval.count());
    h.ping_timeout = static_cast<std::uint32_t>(options_.ping_timeout.count());
    h.max_payload = options_.max_payload;
    // Encoded with an empty id, {"sid":"" then what every connection's open packet shares: from
    // the id's closing quote on.
    open_tail_[static_cast<std::size_t>(t)] = encode_handshake(h).substr(open_head.size());
  }
}

// Sessions still open when the server is let go of without close_all() (a program that ends, a
// test) may be referred to by a poll they hold: drop those references so the sessions go with the
// server.
server::~server() {
  for (auto& shard : shards_) {
    shard->sessions.for_each([](const std::shared_ptr<session>& s) {
      s->detach_listener();
      if (s->polling_) s->polling_->held_poll.reset();
    });
  }
}

bool server::matches(const net::http_request& req) const {
  return net::target_path(req.target()).starts_with(options_.path);
}

std::size_t server::session_count() const noexcept {
  return session_count_.load(std::memory_order_relaxed);
}

server::drain_status server::draining() const noexcept {
  std::int64_t idle = 0;
  std::int64_t websockets = 0;
  for (const auto& shard : shards_) {
    idle += shard->transports->counters.closing_idle.get();
    websockets += shard->transports->counters.open_transports.get();
  }
  const auto sessions = static_cast<std::int64_t>(session_count()) - idle;
  return {static_cast<std::size_t>(std::max<std::int64_t>(0, sessions)),
          static_cast<std::size_t>(std::max<std::int64_t>(0, websockets))};
}

void server::drain(std::chrono::milliseconds timeout, std::chrono::milliseconds polling_grace,
                   std::function<void(bool)> done) {
  const auto start = net::clock::now();
  const auto deadline = start + timeout;
  const auto polling_deadline = start + std::min(timeout, polling_grace);
  // Past the polling grace only the WebSocket connections are waited for: a polling client that
  // is gone never comes for its last packets.
  auto drained = [self = shared_from_this(), polling_deadline] {
    const auto left = self->draining();
    return left.websockets == 0 && (left.sessions == 0 || net::clock::now() >= polling_deadline);
  };
  net::wait_until(runtime_.at(0).executor(), std::move(drained), deadline, std::move(done));
}

const traffic_counters& server::counters(unsigned shard_index) const noexcept {
  return shards_[shard_index]->transports->counters;
}

traffic_counters& server::counters(unsigned shard_index) noexcept {
  return shards_[shard_index]->transports->counters;
}

unsigned server::shard_of(std::string_view sid) const noexcept {
  return shard_of_id(sid, static_cast<unsigned>(shards_.size()));
}

std::shared_ptr<session> server::find(unsigned shard_index, std::string_view sid) const {
  const auto* found = shards_[shard_index]->sessions.find(sid);
  return found ? *found : nullptr;
}

void server::forget(session& s) {
  if (auto keep = shards_[s.home().index()]->sessions.take(s)) {
    session_count_.fetch_sub(1, std::memory_order_relaxed);
    // Keep the session alive until the caller's frame ends.
    asio::post(s.home().executor(), [keep = std::move(keep)] {});
  }
}

std::string server::handshake_json(std::string_view sid, transport_kind t) const {
  // Session ids are made here (generate_id: [A-Za-z0-9_-]), so they need no JSON escaping.
  const auto& tail = open_tail_[static_cast<std::size_t>(t)];
  std::string out;
  out.reserve(open_head.size() + sid.size() + tail.size());
  out.append(open_head).append(sid).append(tail);
  return out;
}

namespace {

// CORS response headers: literal names, values made for the request.
using cors_headers = std::vector<std::pair<std::string_view, std::string>>;

cors_headers cors_header_list(const cors_options& c, const net::http_request& req, bool preflight) {
  cors_headers out;
  if (!c.enabled) return out;
  std::string vary;
  const auto origin = req[http::field::origin];
  const bool any = !c.origin_fn && c.origins.size() == 1 && c.origins[0] == "*";
  if (any) {
    out.emplace_back("Access-Control-Allow-Origin", "*");
  } else {
    bool allowed = false;
    if (c.origin_fn) {
      allowed = c.origin_fn(origin);
    } else {
      for (const auto& o : c.origins)
        allowed = allowed || o == origin;
    }
    if (allowed && !origin.empty())
      out.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    vary = "Origin";
  }
  if (c.credentials) out.emplace_back("Access-Control-Allow-Credentials", "true");
  if (preflight) {
    out.emplace_back("Access-Control-Allow-Methods", c.methods);
    if (c.allowed_headers.empty()) {
      const auto requested = req["Access-Control-Request-Headers"];
      if (!requested.empty())
        out.emplace_back("Access-Control-Allow-Headers", std::string(requested));
      vary += vary.empty() ? "Access-Control-Request-Headers" : ", Access-Control-Request-Headers";
    } else {
      out.emplace_back("Access-Control-Allow-Headers", c.allowed_headers);
    }
    if (c.max_age) out.emplace_back("Access-Control-Max-Age", std::to_string(*c.max_age));
  }
  if (!c.exposed_headers.empty())
    out.emplace_back("Access-Control-Expose-Headers", c.exposed_headers);
  if (!vary.empty()) out.emplace_back("Vary", std::move(vary));
  return out;
}

}  // namespace

void server::add_cors_headers(const net::http_request& req, net::http_response& res) const {
  for (auto& [name, value] : cors_header_list(options_.cors, req, false))
    res.set(name, value);
}

void server::add_cors_headers(const net::http_request& req, std::string& raw_headers) const {
  for (auto& [name, value] : cors_header_list(options_.cors, req, false)) {
    raw_headers.append(name);
    raw_headers.append(": ");
    raw_headers.append(value);
    raw_headers.append("\r\n");
  }
}

void server::reject(const std::shared_ptr<net::http_exchange>& ex, http_error e) const {
  reject(ex, e, to_string(e));
}

void server::reject(const std::shared_ptr<net::http_exchange>& ex, http_error e,
                    std::string_view message) const {
  auto res = error_response(ex->request(), e, message);
  add_cors_headers(ex->request(), res);
  ex->respond(std::move(res));
}

void server::handle(std::shared_ptr<net::http_exchange> ex) {
  const auto& req = ex->request();
  if (req.method() == http::verb::options && options_.cors.enabled) {
    net::http_response res{static_cast<http::status>(options_.cors.options_success_status),
                           req.version()};
    for (auto& [name, value] : cors_header_list(options_.cors, req, true))
      res.set(name, value);
    res.keep_alive(req.keep_alive());
    res.content_length(0);
    ex->respond(std::move(res));
    return;
  }

  const auto q = parse_query(req.target());
  const bool transport_ok = q.transport && ((*q.transport == "polling" && options_.polling) ||
                                            (*q.transport == "websocket" && options_.websocket));
  if (!transport_ok) return reject(ex, http_error::unknown_transport);
  if (has_invalid_header_chars(req[http::field::origin]))
    return reject(ex, http_error::bad_request);
  if (!origin_allowed(options_, req)) return reject(ex, http_error::forbidden);

  if (q.sid) {
    const unsigned owner = shard_of(*q.sid);
    if (owner >= shards_.size()) return reject(ex, http_error::unknown_sid);
    // Weak: a held poll belongs to its session, which the server owns; a strong reference here
    // would keep a server that is let go of with polls held (and its sessions) for ever.
    ex->on_abort([server = weak_from_this(), owner, weak = std::weak_ptr<net::http_exchange>(ex),
                  sid = *q.sid] {
      auto self = server.lock();
      if (!self) return;
      asio::post(self->runtime_.at(owner).executor(), [self, owner, weak, sid] {
        auto aborted = weak.lock();
        if (!aborted) return;
        if (auto s = self->find(owner, sid)) s->on_poll_aborted(*aborted);
      });
    });
    auto& target = runtime_.at(owner);
    if (&target == &ex->home()) {
      handle_on_owner(std::move(ex), *q.sid);
    } else {
      asio::post(target.executor(),
                 [self = shared_from_this(), ex = std::move(ex), sid = *q.sid]() mutable {
                   self->handle_on_owner(std::move(ex), sid);
                 });
    }
    return;
  }

  if (req.method() != http::verb::get) return reject(ex, http_error::bad_handshake_method);
  if (*q.transport == "websocket") return reject(ex, http_error::bad_request);
  if (options_.allow_request) {
    if (auto refusal = options_.allow_request(req, ex->remote()))
      return reject(ex, http_error::forbidden, *refusal);
  }
  if (q.eio != protocol_version) return reject(ex, http_error::unsupported_protocol_version);

  auto& home = ex->home();
  auto sid = generate_id(home.index(), static_cast<unsigned>(shards_.size()));
  // One pooled block with its control block (the shard's timer wheel links the session itself,
  // so nothing keeps the block once the session is gone).
  auto s =
      ignis::detail::make_pooled<session>(*this, home, std::move(sid), transport_kind::polling);
  shards_[home.index()]->sessions.insert(s);
  session_count_.fetch_add(1, std::memory_order_relaxed);
  auto& counters = shards_[home.index()]->transports->counters;
  counters.handshakes.add();
  counters.open_polling.add();
  auto request = request_details(options_, req, ex->remote());
  s->start_polling(std::move(ex), std::move(request));
}

void server::handle_on_owner(std::shared_ptr<net::http_exchange> ex, std::string sid) {
  const unsigned owner = shard_of(sid);
  auto s = find(owner, sid);
  if (!s) {
    auto& closed = shards_[owner]->client_closed;
    const auto it =
        std::find_if(closed.begin(), closed.end(), [&](const auto& e) { return e.first == sid; });
    if (it != closed.end() && it->second > runtime_.at(owner).now() &&
        ex->request().method() == http::verb::get) {
      closed.erase(it);
      auto res = poll_response(ex->request(), "6");
      add_cors_headers(ex->request(), res);
      ex->respond(std::move(res));
      return;
    }
    return reject(ex, http_error::unknown_sid);
  }
  const auto q = parse_query(ex->request().target());
  if (q.transport != to_string(s->transport()) || q.eio != protocol_version)
    return reject(ex, http_error::bad_request);
  switch (ex->request().method()) {
    case http::verb::get:
      s->on_poll(std::move(ex));
      return;
    case http::verb::post:
      s->on_post(std::move(ex));
      return;
    default: {
      auto res = empty_response(ex->request(), http::status::internal_server_error);
      add_cors_headers(ex->request(), res);
      ex->respond(std::move(res));
    }
  }
}

void server::upgrade(net::http_request req, net::upgraded_connection conn, net::shard& home) {
  const auto q = parse_query(req.target());
  if (!options_.websocket || q.transport != "websocket")
    return raw_reject(std::move(conn), http_error::unknown_transport);
  if (has_invalid_header_chars(req[http::field::origin]))
    return raw_reject(std::move(conn), http_error::bad_request);
  if (!origin_allowed(options_, req)) return raw_reject(std::move(conn), http_error::forbidden);
  const auto key = req[http::field::sec_websocket_key];
  if (req[http::field::sec_websocket_version] != "13" || !net::ws::is_valid_key(key)) {
    return raw_reject(std::move(conn), http_error::bad_request);
  }
  if (q.eio != protocol_version) {
    return raw_reject(std::move(conn),
                      q.sid ? http_error::bad_request : http_error::unsupported_protocol_version);
  }
  if (!q.sid && options_.allow_request) {
    boost::system::error_code rec;
    const auto remote = conn.remote ? *conn.remote : conn.socket.remote_endpoint(rec);
    if (auto refusal = options_.allow_request(req, remote)) {
      return raw_reject(std::move(conn), *refusal);
    }
  }
  if (q.sid && shard_of(*q.sid) >= shards_.size())
    return raw_reject(std::move(conn), http_error::unknown_sid);

  net::shard& owner = q.sid ? runtime_.at(shard_of(*q.sid)) : home;
  if (&owner == &home) return open_websocket(std::move(req), std::move(conn), home);

  // The session lives on another shard: move the connection there.
  // A decrypted TLS connection arrives on a local socket pair, which has no TCP endpoint: the
  // protocol only tells Asio how to wrap the descriptor.
  boost::system::error_code ec;
  auto protocol = net::tcp::v4();
  if (const auto local = conn.socket.local_endpoint(ec); !ec) protocol = local.protocol();
  const int fd = conn.socket.release(ec);
  if (ec) return;
  asio::post(owner.executor(), [self = shared_from_this(), req = std::move(req), protocol, fd,
                                leftover = std::move(conn.leftover), slot = std::move(conn.slot),
                                remote = conn.remote, no_delay = conn.no_delay, &owner]() mutable {
    net::tcp::socket moved(owner.context());
    boost::system::error_code aec;
    moved.assign(protocol, fd, aec);
    if (aec) {
      ::close(fd);
      return;
    }
    self->open_websocket(std::move(req),
                         {std::move(moved), std::move(leftover), std::move(slot), remote, no_delay},
                         owner);
  });
}

void server::open_websocket(net::http_request req, net::upgraded_connection conn,
                            net::shard& home) {
  const auto q = parse_query(req.target());
  std::shared_ptr<session> existing;
  if (q.sid) {
    existing = find(home.index(), *q.sid);
    if (!existing) return raw_reject(std::move(conn), http_error::unknown_sid);
  }
  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\nSec-WebSocket-Accept: ";
  response += net::ws::accept_key(req[http::field::sec_websocket_key]);
  response += "\r\n";
  add_cors_headers(req, response);
  response += "\r\n";

  boost::system::error_code ec;
  const auto remote = conn.remote ? *conn.remote : conn.socket.remote_endpoint(ec);
  auto leftover = std::move(conn.leftover);
  auto ws = ignis::detail::make_pooled<websocket_transport>(
      home, std::move(conn), options_.max_payload, shards_[home.index()]->transports);
  ws->start(std::move(response));
  if (existing) {
    existing->upgrade_to(ws);
    ws->begin_reading(std::move(leftover));
    return;
  }
  auto sid = generate_id(home.index(), static_cast<unsigned>(shards_.size()));
  // One block with its control block (as in handle()).
  auto s =
      ignis::detail::make_pooled<session>(*this, home, std::move(sid), transport_kind::websocket);
  shards_[home.index()]->sessions.insert(s);
  session_count_.fetch_add(1, std::memory_order_relaxed);
  auto& counters = shards_[home.index()]->transports->counters;
  counters.handshakes.add();
  counters.open_websocket.add();
  // Frames that came with the request are read once the session is bound.
  s->start_websocket(ws, request_details(options_, req, remote));
  ws->begin_reading(std::move(leftover));
}

void server::close_all() {
  net::for_each_shard(runtime_, [self = shared_from_this()](net::shard& shard) {
    for (auto& s : self->shards_[shard.index()]->sessions.snapshot())
      s->close();
  });
}

}  // namespace ignis::engineio
