// End-to-end: whole tests that must FAIL (or pass) when run by GoogleTest, checked by a
// small runner. Each "Fails*" test below must fail with a message containing the text
// in kExpected; the "Passes*" ones must pass. Exit status 0 only if all of that holds.
#include <sys/eventfd.h>

#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>

#include "gen/gen.h"
#include "gtest/gtest.h"
#include "testing/testing.h"

namespace {

using tornado::concurrent::Future;
using tornado::ioloop::IOLoop;

class Inner : public tornado::testing::AsyncTestCase {};

ASYNC_TEST_F_TIMEOUT(Inner, FailsTimeout, 0.05) { co_await tornado::gen::sleep(1); }

ASYNC_TEST_F(Inner, FailsThrow) {
  co_await tornado::gen::sleep(0);
  throw std::runtime_error("thrown from the body");
}

ASYNC_TEST_F(Inner, FailsCoAssert) {
  co_await tornado::gen::sleep(0);
  CO_ASSERT_EQ(2 + 2, 5);
}

ASYNC_TEST_F(Inner, FailsExpect) {
  co_await tornado::gen::sleep(0);
  EXPECT_EQ(2 + 2, 5) << "expect inside a coroutine";
}

TEST_F(Inner, FailsWaitTimeout) {
  io_loop()->call_later(1, [this] { stop(); });
  wait(0.02);
}

TEST_F(Inner, FailsLeakedFd) { (void)eventfd(0, EFD_CLOEXEC); }

TEST_F(Inner, FailsCallbackException) {
  io_loop()->add_callback([] { throw std::runtime_error("escaped a callback"); });
  wait(0.5);
}

TEST_F(Inner, FailsExpectLogRequired) { tornado::testing::ExpectLog expect("tornado.application", "absent"); }

ASYNC_TEST_F(Inner, PassesAsync) { co_await tornado::gen::sleep(0); }

TEST_F(Inner, PassesWait) {
  io_loop()->add_callback([this] { stop(); });
  wait();
}

const std::map<std::string, std::string> kExpected = {
    {"Inner.FailsTimeout", "Inner.FailsTimeout timed out after 0.05s"},
    {"Inner.FailsThrow", "Inner.FailsThrow failed: exception escaped the test body: thrown from the body"},
    {"Inner.FailsCoAssert", "Which is: 4"},
    {"Inner.FailsExpect", "expect inside a coroutine"},
    {"Inner.FailsWaitTimeout", "Async operation timed out after 0.02 seconds"},
    {"Inner.FailsLeakedFd", "(anon_inode:[eventfd])"},
    {"Inner.FailsCallbackException", "escaped a callback"},
    {"Inner.FailsExpectLogRequired", "did not get expected log message matching 'absent'"},
    {"Inner.PassesAsync", ""},
    {"Inner.PassesWait", ""},
};

class Recorder : public ::testing::EmptyTestEventListener {
 public:
  // (UnitTest::current_test_info() would deadlock here: gtest holds its mutex.)
  void OnTestStart(const ::testing::TestInfo& info) override {
    current = std::string(info.test_suite_name()) + "." + info.name();
  }
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (result.failed()) messages[current] += result.message();
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    ran[std::string(info.test_suite_name()) + "." + info.name()] = true;
  }
  std::map<std::string, std::string> messages;
  std::map<std::string, bool> ran;
  std::string current;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto* recorder = new Recorder;
  ::testing::UnitTest::GetInstance()->listeners().Append(recorder);
  const int gtest_status = RUN_ALL_TESTS();  // non-zero by design: most inner tests fail
  if (gtest_status == 0) std::printf("EXPECTATION FAILED: every inner test passed\n");
  int errors = 0;
  for (const auto& [name, text] : kExpected) {
    const auto it = recorder->messages.find(name);
    if (!recorder->ran[name]) {
      std::printf("EXPECTATION FAILED: %s did not run\n", name.c_str());
      ++errors;
    } else if (text.empty() && it != recorder->messages.end()) {
      std::printf("EXPECTATION FAILED: %s should pass, failed with: %s\n", name.c_str(), it->second.c_str());
      ++errors;
    } else if (!text.empty() && (it == recorder->messages.end() || it->second.find(text) == std::string::npos)) {
      std::printf("EXPECTATION FAILED: %s should fail with '%s', got: %s\n", name.c_str(), text.c_str(),
                  it == recorder->messages.end() ? "(passed)" : it->second.c_str());
      ++errors;
    }
  }
  if (recorder->ran.size() != kExpected.size()) {
    std::printf("EXPECTATION FAILED: %zu tests ran, %zu expected\n", recorder->ran.size(), kExpected.size());
    ++errors;
  }
  std::printf("%s: %zu inner tests behaved as expected\n", errors == 0 ? "OK" : "FAILED",
              kExpected.size() - static_cast<std::size_t>(errors));
  return errors == 0 && gtest_status != 0 ? 0 : 1;
}
