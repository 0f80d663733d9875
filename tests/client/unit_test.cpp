// Sans-I/O parts of the client: backoff, URL/option handling, Content-Encoding, error strings.
#include "client/backoff.hpp"
#include "client/config.hpp"
#include "client/inflate.hpp"
#include "client/random.hpp"

#include <ignis/client/error.hpp>
#include <ignis/client/helper.hpp>

#include <gtest/gtest.h>

#include <zlib.h>

#include <set>

namespace ignis::client {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, DoublesUpToTheCapWithoutJitter) {
  detail::backoff b(1000ms, 5000ms, 2.0, 0.0);
  EXPECT_EQ(b.duration(), 1000ms);
  EXPECT_EQ(b.duration(), 2000ms);
  EXPECT_EQ(b.duration(), 4000ms);
  EXPECT_EQ(b.duration(), 5000ms);
  EXPECT_EQ(b.attempts(), 4u);
  for (int i = 0; i < 2000; ++i)
    EXPECT_EQ(b.duration(), 5000ms);  // stays finite after many attempts
  b.reset();
  EXPECT_EQ(b.attempts(), 0u);
  EXPECT_EQ(b.duration(), 1000ms);
}

TEST(Backoff, JitterStaysWithinTheFactorAndVaries) {
  // socket.io-client's defaults: 1000 ms ± 50%, then 2000 ± 50%, capped at 5000.
  std::set<long long> seen;
  for (int i = 0; i < 200; ++i) {
    detail::backoff b(1000ms, 5000ms, 2.0, 0.5);
    const auto first = b.duration().count();
    const auto second = b.duration().count();
    EXPECT_GE(first, 500);
    EXPECT_LE(first, 1500);
    EXPECT_GE(second, 1000);
    EXPECT_LE(second, 3000);
    seen.insert(first);
  }
  EXPECT_GT(seen.size(), 20u);
}

TEST(Config, BuildsTargetsFromUrlAndOptions) {
  manager_options o;
  o.path = "chat";
  o.query = {{"token", "a b&c"}};
  auto cfg = detail::make_engine_config("http://example.com:8080/ns?x=1", o);
  EXPECT_FALSE(cfg->secure);
  EXPECT_EQ(cfg->host, "example.com");
  EXPECT_EQ(cfg->port, "8080");
  EXPECT_EQ(cfg->host_header, "example.com:8080");
  EXPECT_EQ(cfg->path, "/chat/");
  EXPECT_EQ(cfg->target(transport_kind::polling, ""),
            "/chat/?EIO=4&transport=polling&x=1&token=a%20b%26c");
  EXPECT_EQ(cfg->target(transport_kind::websocket, "abc"),
            "/chat/?EIO=4&transport=websocket&sid=abc&x=1&token=a%20b%26c");
}

TEST(Config, DefaultPortsIpv6AndTls) {
  auto a = detail::make_engine_config("wss://[::1]/", {});
  EXPECT_TRUE(a->secure);
  EXPECT_TRUE(a->tls);
  EXPECT_TRUE(a->tls_verify);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, "443");
  EXPECT_EQ(a->host_header, "[::1]");
  auto b = detail::make_engine_config("ws://h", {});
  EXPECT_EQ(b->port, "80");
  EXPECT_EQ(b->host_header, "h");
  EXPECT_EQ(b->path, "/socket.io/");
}

TEST(Config, RefusesUnusableInput) {
  EXPECT_THROW(detail::make_engine_config("ftp://h/", {}), std::invalid_argument);
  EXPECT_THROW(detail::make_engine_config("not a url", {}), std::invalid_argument);
  EXPECT_THROW(detail::make_engine_config("http://h:99999/", {}), std::invalid_argument);
  EXPECT_EQ(detail::make_engine_config("http://h:/", {})->port, "80");
  manager_options o;
  o.extra_headers = {{"X-Evil", "a\r\nInjected: 1"}};
  EXPECT_THROW(detail::make_engine_config("http://h/", o), std::invalid_argument);
  o.extra_headers.clear();
  o.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(detail::make_engine_config("https://h/", o), std::invalid_argument);
}

TEST(Config, NamespaceOfUrl) {
  EXPECT_EQ(url_namespace("http://h:1/admin"), "/admin");
  EXPECT_EQ(url_namespace("http://h:1"), "/");
  EXPECT_EQ(url_namespace("http://h:1/"), "/");
}

std::string deflate_with(std::string_view in, int window_bits) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(Inflate, GzipZlibAndRawDeflate) {
  const std::string body = "4" + std::string(5000, 'x') + "\x1e" + "2";
  for (const int bits : {31, 15, -15}) {
    auto r = detail::inflate_body(deflate_with(body, bits), 1 << 20);
    ASSERT_TRUE(r) << bits;
    EXPECT_EQ(*r, body);
  }
}

TEST(Inflate, BoundsAndGarbage) {
  const std::string big(100'000, 'a');
  auto r = detail::inflate_body(deflate_with(big, 31), 10'000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), client_error::body_too_large);
  auto g = detail::inflate_body("definitely not deflate", 1 << 20);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error(), client_error::bad_content_encoding);
  auto gz = deflate_with(big, 31);
  auto t = detail::inflate_body(std::string_view(gz).substr(0, gz.size() / 2), 1 << 20);
  EXPECT_FALSE(t);  // truncated
}

TEST(Random, MaskKeysDiffer) {
  detail::mask_source masks;
  std::set<std::array<std::uint8_t, 4>> keys;
  for (int i = 0; i < 500; ++i)
    keys.insert(masks.next());
  EXPECT_GT(keys.size(), 490u);  // 500 draws from 2^32: a repeat would be a broken generator
}

TEST(Strings, AsSocketIoClientSaysThem) {
  EXPECT_EQ(to_string(disconnect_reason::io_server_disconnect), "io server disconnect");
  EXPECT_EQ(to_string(disconnect_reason::io_client_disconnect), "io client disconnect");
  EXPECT_EQ(to_string(disconnect_reason::ping_timeout), "ping timeout");
  EXPECT_EQ(to_string(disconnect_reason::transport_close), "transport close");
  EXPECT_EQ(to_string(disconnect_reason::transport_error), "transport error");
  EXPECT_EQ(to_string(disconnect_reason::parse_error), "parse error");
  EXPECT_EQ(make_error_code(client_error::ack_timeout).message(), "operation has timed out");
  EXPECT_EQ(make_error_code(client_error::disconnected).message(), "socket has been disconnected");
  EXPECT_EQ(to_string(helper_state::unauthorized), "unauthorized");
  EXPECT_EQ(to_string(helper_state::authenticating), "authenticating");
  EXPECT_EQ(to_string(helper_state::authenticated), "authenticated");
  EXPECT_EQ(to_string(transport_kind::websocket), "websocket");
}

}  // namespace
}  // namespace ignis::client
