// https/wss against a Node server with a test certificate made by the openssl command: the
// certificate is verified by default, a trusted CA file makes it pass, verification can be turned
// off, and the host name is checked.
#include "client/support.hpp"

#include <ignis/client/manager.hpp>

#include <boost/asio/ssl/error.hpp>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace ignis::client::test {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (node_path().empty() || std::system("openssl version > /dev/null 2>&1") != 0) return;
    dir_ =
        std::filesystem::temp_directory_path() / ("ignis-client-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // Valid for "localhost" only (no IP address), so 127.0.0.1 fails the host name check.
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost"
        " -addext subjectAltName=DNS:localhost -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() + " > /dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return;
    server_ = std::make_unique<node_server>(node_options{.tls_key = (dir_ / "key.pem").string(),
                                                         .tls_cert = (dir_ / "cert.pem").string()});
  }
  static void TearDownTestSuite() {
    server_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  void SetUp() override {
    if (!server_) GTEST_SKIP() << "node or openssl not available";
  }

  static manager_options options(std::vector<transport_kind> t) {
    manager_options o;
    o.transports = std::move(t);
    o.reconnection.enabled = false;
    o.tls.use_system_store = false;  // only what the test trusts
    return o;
  }

  static inline std::filesystem::path dir_;
  static inline std::unique_ptr<node_server> server_;
};

TEST_F(TlsTest, UntrustedCertificateIsRefusedByDefault) {
  for (const auto t : {transport_kind::polling, transport_kind::websocket}) {
    queue<connect_error> errors;
    io_thread io;
    manager m(io.executor(), server_->url(), options({t}));
    auto s = m.socket();
    s->on_connect_error([&](const connect_error& e) { errors.push(e); });
    s->connect();
    auto e = errors.pop();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->ec.category(), boost::asio::error::get_ssl_category()) << e->ec.message();
    EXPECT_FALSE(s->connected());
  }
}

TEST_F(TlsTest, TrustedCaFileConnectsAndUpgrades) {
  queue<std::string> events;
  queue<transport_kind> upgrades;
  io_thread io;
  auto o = options({transport_kind::polling, transport_kind::websocket});
  o.tls.ca_file = (dir_ / "cert.pem").string();
  manager m(io.executor(), server_->url(), o);
  m.on_upgrade([&](transport_kind t) { upgrades.push(t); });
  auto s = m.socket();
  record_lifecycle(*s, events);
  s->connect();
  ASSERT_TRUE(events.wait_for("connect"));
  EXPECT_EQ(upgrades.pop(), transport_kind::websocket);
  auto r = call(*s, "ack", make_args("over tls"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->args, make_args("over tls"));
  auto info = call(*s, "info");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->args.args[0].at("transport"), "websocket");
}

TEST_F(TlsTest, HostNameIsChecked) {
  queue<connect_error> errors;
  io_thread io;
  auto o = options({transport_kind::websocket});
  o.tls.ca_file = (dir_ / "cert.pem").string();
  // Trusted certificate, wrong name: it is valid for localhost, not for 127.0.0.1.
  manager m(io.executor(), "wss://127.0.0.1:" + std::to_string(server_->port()), o);
  auto s = m.socket();
  s->on_connect_error([&](const connect_error& e) { errors.push(e); });
  s->connect();
  auto e = errors.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ec.category(), boost::asio::error::get_ssl_category()) << e->ec.message();
}

TEST_F(TlsTest, VerificationCanBeTurnedOff) {
  queue<std::string> events;
  io_thread io;
  auto o = options({transport_kind::websocket});
  o.tls.verify = false;
  manager m(io.executor(), "wss://127.0.0.1:" + std::to_string(server_->port()), o);
  auto s = m.socket();
  record_lifecycle(*s, events);
  s->connect();
  ASSERT_TRUE(events.wait_for("connect"));
  auto r = call(*s, "ack", make_args(1));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ec);
}

}  // namespace
}  // namespace ignis::client::test
