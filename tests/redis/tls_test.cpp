// rediss:// against redis-server's TLS port, with a CA and certificate made for the test.
#include "redis/harness.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ignis::redis::test {
namespace {

using ignis::test::redis_server;

// Makes a CA and a server certificate for localhost / 127.0.0.1 in `dir`; false if openssl
// failed.
bool make_certificates(const std::filesystem::path& dir) {
  std::ofstream(dir / "san.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  const std::string d = dir.string();
  const std::string script =
      "cd '" + d +
      "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      " -keyout ca.key -out ca.crt -days 1 -subj /CN=ignis-test-ca"
      " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      " -keyout server.key -out server.csr -subj /CN=localhost"
      " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
      " -out server.crt -days 1 -extfile san.ext";
  return std::system((script + " >/dev/null 2>&1").c_str()) == 0;
}

// redis-server is built with TLS on Debian 12 (it links libssl); a build without it refuses
// --tls-port, and the test says so instead of failing.
bool redis_has_tls() {
  return std::system("ldd \"$(command -v redis-server)\" 2>/dev/null | grep -q libssl") == 0;
}

class RedisTls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_has_tls()) GTEST_SKIP() << "redis-server was built without TLS support";
    char tmpl[] = "/tmp/ignis-redis-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    if (!make_certificates(dir_)) GTEST_SKIP() << "openssl could not make test certificates";
    redis_.emplace(
        ignis::test::redis_server_options{.tls_cert_file = (dir_ / "server.crt").string(),
                                          .tls_key_file = (dir_ / "server.key").string(),
                                          .tls_ca_file = (dir_ / "ca.crt").string()});
  }
  void TearDown() override {
    redis_.reset();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  std::string tls_url() const { return "rediss://localhost:" + std::to_string(redis_->tls_port()); }

  std::filesystem::path dir_;
  std::optional<redis_server> redis_;
};

TEST_F(RedisTls, VerifiedConnection) {
  io_thread io;
  queue<link_state> states;
  auto cfg = quick_config(tls_url());
  cfg.tls_ca_file = (dir_ / "ca.crt").string();
  auto c = connection::create(io.executor(), cfg);
  ASSERT_TRUE(start_and_wait(*c, states));
  auto o = call(*c, {"ECHO", "over tls"});
  ASSERT_FALSE(o.ec) << o.ec.message();
  EXPECT_EQ(o.r.str, "over tls");
}

TEST_F(RedisTls, VerificationIsOnByDefault) {
  io_thread io;
  queue<link_state> states;
  // The system store does not know the test CA: the handshake must fail.
  auto c = connection::create(io.executor(), quick_config(tls_url()));
  c->on_state([&](link_state s) { states.push(s); });
  c->start();
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  EXPECT_EQ(call(*c, {"PING"}).ec, make_error_code(error::not_connected));
}

TEST_F(RedisTls, SubscriberOverTls) {
  io_thread io;
  queue<link_state> states;
  auto cfg = quick_config(tls_url());
  cfg.tls_ca_file = (dir_ / "ca.crt").string();
  auto pub = connection::create(io.executor(), cfg);
  ASSERT_TRUE(start_and_wait(*pub, states));
  auto sub = subscriber::create(io.executor(), cfg);
  queue<std::string> got;
  queue<std::string> subscribed;
  sub->on_message(
      [&](std::string_view, std::string_view, std::string_view m) { got.push(std::string(m)); });
  sub->on_subscription(
      [&](subscription_kind, std::string_view n, bool) { subscribed.push(std::string(n)); });
  sub->subscribe("t");
  sub->start();
  ASSERT_TRUE(subscribed.wait_for("t"));
  EXPECT_EQ(call(*pub, {"PUBLISH", "t", "secret"}).r.integer, 1);
  EXPECT_TRUE(got.wait_for("secret"));
  sub->close();
}

}  // namespace
}  // namespace ignis::redis::test
