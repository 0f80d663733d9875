// ignis-cli against the Node server: its JSON lines, exit status 0/2, and error messages.
#include "client/program_server.hpp"
#include "client/support.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

extern char** environ;

namespace ignis::client::test {
namespace {

struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};

run_result run_cli(std::vector<std::string> args, std::chrono::seconds limit = 20s) {
  args.insert(args.begin(), IGNIS_CLI_PATH);
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  int err[2];
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  ::close(err[1]);
  run_result r;
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::array<pollfd, 2> fds{{{out[0], POLLIN, 0}, {err[0], POLLIN, 0}}};
  int open = 2;
  while (open > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) <= 0) continue;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      const auto n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
        continue;
      }
      (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!node_path().empty()) server_ = std::make_unique<node_server>();
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    if (!server_) GTEST_SKIP() << "node not found";
  }
  static inline std::unique_ptr<node_server> server_;
};

TEST_F(CliTest, PrintsEventsAsJsonLinesAndExitsZero) {
  auto r = run_cli({server_->url(), "--emit", "echo", R"({"a":[1,"x"]})", "--emit", "echo",
                    R"("two")", "--listen", "echo", "--count", "2", "--timeout", "10"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"event\":\"echo\",\"args\":[{\"a\":[1,\"x\"]}]}\n"
            "{\"event\":\"echo\",\"args\":[\"two\"]}\n");
}

TEST_F(CliTest, WebSocketBinaryAndAck) {
  auto r = run_cli({server_->url() + "/admin", "--transport", "websocket", "--emit", "make-binary",
                    "null", "--listen", "binary", "--count", "1", "--timeout", "10"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"event\":\"binary\",\"args\":[{\"a\":[1,{\"b\":{\"_binary\":\"AQID\"}}],"
            "\"c\":{\"_binary\":\"aGVsbG8=\"},\"d\":\"text\"},{\"_binary\":\"\"}]}\n");
  auto a = run_cli({server_->url(), "--transport", "polling", "--emit", "ack", "[1,2]", "--ack",
                    "--timeout", "1"});
  EXPECT_EQ(a.status, 0) << a.err;  // no --count: the timeout ends the run normally
  EXPECT_EQ(a.out, "{\"ack\":\"ack\",\"args\":[[1,2]]}\n");
}

TEST_F(CliTest, TooFewEventsExitTwo) {
  auto r = run_cli({server_->url(), "--emit", "echo", "1", "--listen", "echo", "--count", "2",
                    "--timeout", "1"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "{\"event\":\"echo\",\"args\":[1]}\n");
  EXPECT_NE(r.err.find("timeout: 1 of 2 events"), std::string::npos) << r.err;
}

TEST_F(CliTest, AuthenticateJoinAndRoomEvents) {
  auto r = run_cli({server_->url(), "--auth", R"({"token":"good-token"})", "--authenticate",
                    "--join", "news", "--emit", "to-room",
                    R"({"room":"news","event":"headline","data":"hi"})", "--listen", "headline",
                    "--listen", "authenticated", "--count", "2", "--timeout", "10"});
  EXPECT_EQ(r.status, 0) << r.err;
  const auto nl = r.out.find('\n');
  ASSERT_NE(nl, std::string::npos) << r.out;
  EXPECT_EQ(r.out.rfind("{\"event\":\"authenticated\",\"args\":[{\"id\":", 0), 0u) << r.out;
  EXPECT_EQ(r.out.substr(nl + 1), "{\"event\":\"headline\",\"args\":[\"hi\"]}\n");

  auto bad = run_cli(
      {server_->url(), "--auth", R"({"token":"nope"})", "--authenticate", "--timeout", "10"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("authentication refused"), std::string::npos) << bad.err;
}

TEST_F(CliTest, ConnectionErrorsGoToStderr) {
  const int port = free_port();
  auto r = run_cli({"http://127.0.0.1:" + std::to_string(port), "--count", "1", "--timeout", "5"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("connect_error: xhr poll error"), std::string::npos) << r.err;

  auto refused = run_cli({server_->url() + "/guarded", "--auth", R"({"token":"x"})"});
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.err.find("connect_error: not authorized"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(R"(data={"code":42,"reason":"bad token"})"), std::string::npos);

  auto usage = run_cli({server_->url(), "--emit", "echo", "not json"});
  EXPECT_EQ(usage.status, 1);
  EXPECT_NE(usage.err.find("not JSON"), std::string::npos) << usage.err;
}

TEST_F(CliTest, ServerThatNeverAnswersTimesOut) {
  node_server silent(node_options{.mode = "silent"});  // accepts TCP, never answers
  auto r = run_cli({silent.url(), "--count", "1", "--timeout", "1"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("timeout: no connection to " + silent.url() + " within 1 s"),
            std::string::npos)
      << r.err;
}

// --path and --header against the program: its Engine.IO path is elsewhere, and it takes the
// token from "Authorization: Bearer".
TEST(CliProgramTest, PathAndHeaderAgainstIgnisSocketio) {
  program_server program({"--auth", "tokens", "--tokens", "good-token", "--path", "/rt"});
  auto r =
      run_cli({program.url(), "--path", "/rt", "--header", "Authorization: Bearer good-token",
               "--authenticate", "--listen", "authenticated", "--count", "1", "--timeout", "10"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"event\":\"authenticated\",\"args\":[{\"id\":", 0), 0u) << r.out;

  auto wrong = run_cli({program.url(), "--path", "/rt", "--header", "Authorization: Bearer nope",
                        "--authenticate", "--timeout", "10"});
  EXPECT_EQ(wrong.status, 2);
  EXPECT_NE(wrong.err.find("authentication refused"), std::string::npos) << wrong.err;

  auto elsewhere = run_cli({program.url(), "--count", "1", "--timeout", "10", "--no-reconnect"});
  EXPECT_EQ(elsewhere.status, 2);  // the default path /socket.io/ is not served
  EXPECT_NE(elsewhere.err.find("connect_error"), std::string::npos) << elsewhere.err;
}

}  // namespace
}  // namespace ignis::client::test
