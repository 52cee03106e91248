// Tests of ExpectLog (Tornado's ExpectLog behaviour: required / not required / level)
// and bind_unused_port.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "log/log.h"
#include "testing/testing.h"

namespace tornado::testing {
namespace {

// Captures what reaches app_log's sinks past any ExpectLog (installed first, so an
// ExpectLog created later sits in front of it).
class AppLogOutput {
 public:
  AppLogOutput() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    sink_->set_pattern("%l %v");
    log::app_log().sinks().push_back(sink_);
  }
  ~AppLogOutput() {
    auto& sinks = log::app_log().sinks();
    std::erase(sinks, sink_);
  }
  std::string str() {
    sink_->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

TEST(ExpectLogTest, MatchingRecordIsSwallowedAndCounted) {
  AppLogOutput output;
  {
    ExpectLog expect(log::app_log(), "expected \\d+");
    log::app_log().error("expected 1");
    log::app_log().error("something else");
    log::app_log().warn("expected 2 and more");
    log::app_log().error("not expected 3");  // re.match: anchored at the start
    EXPECT_TRUE(expect.matched());
    EXPECT_EQ(expect.match_count(), 2u);
    EXPECT_EQ(expect.matched_messages(), (std::vector<std::string>{"expected 1", "expected 2 and more"}));
  }
  EXPECT_EQ(output.str(), "error something else\nerror not expected 3\n");
  log::app_log().error("expected 4");  // the guard is gone: passes through
  EXPECT_EQ(output.str(), "error something else\nerror not expected 3\nerror expected 4\n");
}

TEST(ExpectLogTest, RequiredAndNothingMatchedFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      { ExpectLog expect(log::app_log(), "never logged"); },
      "did not get expected log message matching 'never logged' on logger tornado.application");
}

TEST(ExpectLogTest, NotRequiredAndNothingMatchedPasses) {
  ExpectLog expect(log::gen_log(), "never logged", /*required=*/false);
  EXPECT_FALSE(expect.matched());
}

TEST(ExpectLogTest, NoFailureWhileAnExceptionUnwinds) {
  try {
    ExpectLog expect(log::app_log(), "never logged");
    throw std::runtime_error("unwinding");
  } catch (const std::runtime_error&) {
  }
}

TEST(ExpectLogTest, LoggerByName) {
  ExpectLog expect("tornado.general", "by name");
  log::gen_log().info("by name");
  EXPECT_EQ(expect.match_count(), 1u);
  EXPECT_THROW(ExpectLog("no.such.logger", "x"), std::invalid_argument);
}

TEST(ExpectLogTest, BadPatternThrows) {
  EXPECT_THROW(ExpectLog(log::app_log(), "(unclosed"), std::invalid_argument);
}

TEST(ExpectLogTest, LevelMustMatchExactly) {
  AppLogOutput output;
  {
    ExpectLog expect(log::app_log(), "leveled", true, spdlog::level::warn);
    log::app_log().error("leveled at error");
    log::app_log().warn("leveled at warn");
    EXPECT_EQ(expect.match_count(), 1u);
  }
  EXPECT_EQ(output.str(),
            "warning Got expected log message 'leveled at error' at unexpected level (WARNING vs "
            "ERROR)\nerror leveled at error\n");
}

TEST(ExpectLogTest, LevelBelowTheLoggersIsEnabledForTheScope) {
  const auto original = log::app_log().level();
  log::app_log().set_level(spdlog::level::warn);
  {
    ExpectLog expect(log::app_log(), "debug detail", true, spdlog::level::debug);
    EXPECT_EQ(log::app_log().level(), spdlog::level::debug);
    log::app_log().debug("debug detail");
    EXPECT_TRUE(expect.matched());
  }
  EXPECT_EQ(log::app_log().level(), spdlog::level::warn);
  log::app_log().set_level(original);
}

TEST(ExpectLogTest, LoggedStackIsSetByExceptionRecords) {
  ExpectLog expect(log::app_log(), "Exception in callback");
  log::app_log().error("Exception in callback: plain");
  EXPECT_FALSE(expect.logged_stack());
  try {
    throw std::runtime_error("with stack");
  } catch (...) {
    TORNADO_LOG_EXCEPTION(log::app_log(), "Exception in callback");
  }
  EXPECT_TRUE(expect.logged_stack());
  EXPECT_EQ(expect.match_count(), 2u);
}

TEST(ExpectLogTest, GuardsNest) {
  AppLogOutput output;
  {
    ExpectLog outer(log::app_log(), "outer");
    {
      ExpectLog inner(log::app_log(), "inner");
      log::app_log().error("inner message");
      log::app_log().error("outer message");
      EXPECT_EQ(inner.match_count(), 1u);
    }
    EXPECT_EQ(outer.match_count(), 1u);
  }
  EXPECT_EQ(output.str(), "");
}

TEST(ExpectLogTest, ManyThreadsLogThroughTheGuard) {
  AppLogOutput output;
  {
    ExpectLog expect(log::app_log(), "from thread");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([t] {
        for (int i = 0; i < 200; ++i) {
          log::app_log().error("from thread {}", t);
          log::app_log().error("other {}", t);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(expect.match_count(), 800u);
  }
  const std::string text = output.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 800);
  EXPECT_EQ(text.find("from thread"), std::string::npos);
}

// Logged by the loop while a test's AsyncTestCase runs it: ExpectLog swallows it.
class ExpectLogInLoopTest : public AsyncTestCase {
 protected:
  std::unique_ptr<ioloop::IOLoop> get_new_ioloop() override {
    return std::make_unique<ioloop::IOLoop>();  // a plain loop: exceptions are only logged
  }
};

TEST_F(ExpectLogInLoopTest, CallbackExceptionLoggedByAPlainLoop) {
  ExpectLog expect(log::app_log(), "Exception in callback: logged boom");
  io_loop()->add_callback([] { throw std::runtime_error("logged boom"); });
  io_loop()->add_callback([this] { stop(); });
  wait();
  EXPECT_TRUE(expect.matched());
}

int connect_to(int port, int family) {
  const int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (family == AF_INET) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return close(fd), -1;
  } else {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    addr.sin6_addr = in6addr_loopback;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return close(fd), -1;
  }
  return fd;
}

TEST(BindUnusedPortTest, ListensOnAFreshPort) {
  auto [fd, port] = bind_unused_port();
  ASSERT_GE(fd, 0);
  EXPECT_GT(port, 0);
  auto second = bind_unused_port();
  EXPECT_NE(second.port, port);
  const int client = connect_to(port, AF_INET);
  EXPECT_GE(client, 0);
  close(client);
  close(second.fd);
  close(fd);
}

TEST(BindUnusedPortTest, ReusePortAndIPv6) {
  auto bound = bind_unused_port(/*reuse_port=*/true);
  int value = 0;
  socklen_t length = sizeof(value);
  ASSERT_EQ(getsockopt(bound.fd, SOL_SOCKET, SO_REUSEPORT, &value, &length), 0);
  EXPECT_EQ(value, 1);
  close(bound.fd);
  try {
    auto v6 = bind_unused_port(false, "::1");
    const int client = connect_to(v6.port, AF_INET6);
    EXPECT_GE(client, 0);
    if (client >= 0) close(client);
    close(v6.fd);
  } catch (const std::system_error& e) {
    // Only a host without IPv6 loopback may refuse; anything else is a failure.
    EXPECT_EQ(e.code().value(), EADDRNOTAVAIL) << e.what();
  }
  EXPECT_THROW(bind_unused_port(false, "localhost"), std::invalid_argument);
}

}  // namespace
}  // namespace tornado::testing
