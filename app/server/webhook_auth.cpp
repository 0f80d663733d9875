#include "webhook_auth.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <list>
#include <stdexcept>

namespace ignis::program {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::awaitable;
using tcp = asio::ip::tcp;
constexpr auto nothrow_awaitable = asio::as_tuple(asio::use_awaitable);

std::string webhook_request_body(const socketio::handshake_info& h,
                                 const std::vector<std::string>& forwarded_headers) {
  json::object headers;
  for (const auto& name : forwarded_headers) {
    const auto value = h.header(name);
    if (!value.empty()) headers[name] = value;
  }
  return json::serialize(json::object{
      {"auth", h.auth},
      {"query", h.query()},
      {"headers", std::move(headers)},
      {"address", h.address},
  });
}

helpers::auth_result webhook_decision(unsigned status, std::string_view body) {
  if (status < 200 || status > 299) return helpers::auth_result::reject();
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return helpers::auth_result::reject();
  const auto& obj = doc.get_object();
  const auto* ok = obj.if_contains("ok");
  if (!ok || !ok->is_bool() || !ok->get_bool()) return helpers::auth_result::reject();
  auto result = helpers::auth_result::accept();
  if (const auto* rooms = obj.if_contains("rooms"); rooms && !rooms->is_null()) {
    if (!rooms->is_array()) return helpers::auth_result::reject();
    std::vector<std::string> patterns;
    for (const auto& r : rooms->get_array()) {
      if (!r.is_string()) return helpers::auth_result::reject();
      patterns.emplace_back(r.get_string());
    }
    result.room_patterns = std::move(patterns);
  }
  if (const auto* data = obj.if_contains("data")) result.data = *data;
  return result;
}

// One shard's connections to the backend: the idle ones, how many are busy, and the requests
// waiting for one of them to come back.
struct webhook_client::pool {
  explicit pool(net::shard& s) : home(s) {}
  net::shard& home;
  std::vector<std::unique_ptr<beast::tcp_stream>> idle;
  unsigned busy = 0;
  // Requests waiting for a free slot, oldest first; each waits on its timer until the deadline
  // or until a finishing request wakes it.
  struct waiter {
    asio::steady_timer timer;
    bool woken = false;
  };
  std::list<waiter*> waiting;
};

namespace {

using clock = std::chrono::steady_clock;

struct exchange_result {
  bool completed = false;  // an HTTP answer arrived
  bool reusable = false;   // the connection may serve the next request
  unsigned status = 0;
  std::string body;
};

awaitable<exchange_result> exchange(beast::tcp_stream& stream,
                                    const http::request<http::string_body>& req,
                                    std::size_t max_body, clock::time_point deadline) {
  exchange_result out;
  stream.expires_at(deadline);
  auto [wec, wn] = co_await http::async_write(stream, req, nothrow_awaitable);
  if (wec) co_return out;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, nothrow_awaitable);
  if (rec) co_return out;
  out.completed = true;
  out.status = parser.get().result_int();
  out.reusable = parser.get().keep_alive() && buffer.size() == 0;
  out.body = std::move(parser.get().body());
  co_return out;
}

}  // namespace

webhook_client::webhook_client(net::runtime& rt, webhook_options options)
    : options_(std::move(options)) {
  auto url = boost::urls::parse_uri(options_.url);
  if (!url || url->scheme() != "http" || url->host().empty())
    throw std::invalid_argument("--auth-url must be http://host[:port][/path]");
  host_ = std::string(url->host());
  port_ = url->has_port() ? std::string(url->port()) : "80";
  target_ = url->encoded_path().empty() ? "/" : std::string(url->encoded_path());
  if (url->has_query()) target_ += "?" + std::string(url->encoded_query());
  for (std::size_t i = 0; i < rt.size(); ++i)
    pools_.push_back(std::make_unique<pool>(rt.at(i)));
}

webhook_client::~webhook_client() = default;

void webhook_client::authenticate(const socketio::handshake_info& h,
                                  std::function<void(helpers::auth_result)> done) {
  auto* shard = net::current_shard();
  if (!shard) return done(helpers::auth_result::fail());
  auto req = std::make_shared<http::request<http::string_body>>(http::verb::post, target_, 11);
  req->set(http::field::host, host_ + ":" + port_);
  req->set(http::field::content_type, "application/json");
  req->set(http::field::user_agent, "ignis-socketio");
  req->keep_alive(true);
  req->body() = webhook_request_body(h, options_.forwarded_headers);
  req->prepare_payload();

  auto run = [](std::shared_ptr<webhook_client> self, pool& p,
                std::shared_ptr<http::request<http::string_body>> request)
      -> awaitable<helpers::auth_result> {
    const auto deadline = clock::now() + self->options_.timeout;
    // Wait for a free connection slot, at most until the deadline.
    while (p.busy >= self->options_.pool_size) {
      pool::waiter w{asio::steady_timer(p.home.executor(), deadline)};
      auto it = p.waiting.insert(p.waiting.end(), &w);
      co_await w.timer.async_wait(nothrow_awaitable);
      if (!w.woken) {
        p.waiting.erase(it);
        co_return helpers::auth_result::fail();  // timed out waiting
      }
    }
    ++p.busy;
    helpers::auth_result result = helpers::auth_result::fail();
    // A kept-alive connection may have been closed by the backend meanwhile: then the request
    // is retried once on a fresh connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<beast::tcp_stream> stream;
      const bool reused = !p.idle.empty();
      if (reused) {
        stream = std::move(p.idle.back());
        p.idle.pop_back();
      } else {
        tcp::resolver resolver(p.home.executor());
        auto [rec, endpoints] =
            co_await resolver.async_resolve(self->host_, self->port_, nothrow_awaitable);
        if (rec) break;
        stream = std::make_unique<beast::tcp_stream>(p.home.executor());
        stream->expires_at(deadline);
        auto [cec, ep] = co_await stream->async_connect(endpoints, nothrow_awaitable);
        if (cec) break;
        boost::system::error_code ignored;
        stream->socket().set_option(tcp::no_delay(true), ignored);
      }
      auto answer =
          co_await exchange(*stream, *request, self->options_.max_response_bytes, deadline);
      if (!answer.completed) {
        if (reused && clock::now() < deadline) continue;
        break;
      }
      result = webhook_decision(answer.status, answer.body);
      if (answer.reusable && p.idle.size() < self->options_.pool_size) {
        stream->expires_never();
        p.idle.push_back(std::move(stream));
      }
      break;
    }
    --p.busy;
    if (!p.waiting.empty()) {
      // Handed over: the woken request no longer owns a place in the list.
      auto* next = p.waiting.front();
      p.waiting.pop_front();
      next->woken = true;
      next->timer.cancel();
    }
    co_return result;
  };
  auto& p = *pools_[shard->index()];
  asio::co_spawn(shard->executor(), run(shared_from_this(), p, std::move(req)),
                 [done = std::move(done)](std::exception_ptr e, helpers::auth_result r) {
                   done(e ? helpers::auth_result::fail() : std::move(r));
                 });
}

}  // namespace ignis::program
