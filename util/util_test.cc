// Tests for util.h: Tornado's TimedeltaToSecondsTest and ReUnescapeTest, errno helpers.
#include "util/util.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <future>
#include <stdexcept>
#include <system_error>

#include <gtest/gtest.h>

#include "util/version.h"

namespace tornado::util {
namespace {

TEST(TimedeltaToSecondsTest, OneHourIs3600Seconds) {
  EXPECT_EQ(timedelta_to_seconds(std::chrono::hours(1)), 3600.0);
  EXPECT_EQ(timedelta_to_seconds(absl::Hours(1)), 3600.0);
}

TEST(TimedeltaToSecondsTest, KeepsFractionsAndSign) {
  EXPECT_DOUBLE_EQ(timedelta_to_seconds(std::chrono::milliseconds(1500)), 1.5);
  EXPECT_DOUBLE_EQ(timedelta_to_seconds(std::chrono::microseconds(-250)), -0.00025);
  EXPECT_DOUBLE_EQ(timedelta_to_seconds(absl::Milliseconds(-1500)), -1.5);
  EXPECT_EQ(timedelta_to_seconds(absl::InfiniteDuration()), HUGE_VAL);
}

TEST(ReUnescapeTest, UndoesPythonReEscape) {
  // (original, Python 3's re.escape(original)).
  const std::pair<const char*, const char*> cases[] = {
      {"/favicon.ico", "/favicon\\.ico"},
      {"index.html", "index\\.html"},
      {"Hello, World!", "Hello,\\ World!"},
      {"!$@#%;", "!\\$@\\#%;"},
  };
  for (const auto& [original, escaped] : cases) {
    absl::StatusOr<std::string> got = re_unescape(escaped);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, original);
  }
}

TEST(ReUnescapeTest, RaisesErrorOnInvalidInput) {
  for (const char* bad : {"\\d", "\\b", "\\Z", "abc\\9"}) {
    absl::StatusOr<std::string> got = re_unescape(bad);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(re_unescape("\\d").status().message(), "cannot unescape '\\\\d'");
}

TEST(ReUnescapeTest, EscapedBackslashNewlineAndUtf8) {
  EXPECT_EQ(*re_unescape("a\\\\b"), "a\\b");
  EXPECT_EQ(*re_unescape("a\\\nb"), "a\nb");  // DOTALL: newline after a backslash
  EXPECT_EQ(*re_unescape("\\\xc3\xa9"), "\xc3\xa9");
  EXPECT_EQ(*re_unescape("end\\"), "end\\");  // a lone trailing backslash stays
}

TEST(ReUnescapeTest, LinearOnAMegabyteOfBackslashes) {
  std::string input;
  for (int i = 0; i < (1 << 19); ++i) input += "\\.";
  absl::StatusOr<std::string> got = re_unescape(input);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), size_t{1} << 19);
}

TEST(ErrnoTest, FromSystemError) {
  const std::system_error e(ECONNRESET, std::generic_category(), "read");
  EXPECT_EQ(errno_from_exception(e), ECONNRESET);
  EXPECT_EQ(errno_from_exception(std::make_exception_ptr(e)), ECONNRESET);
  EXPECT_EQ(errno_from_exception(std::system_error(EPIPE, std::system_category())), EPIPE);
}

TEST(ErrnoTest, NoneForOtherExceptions) {
  EXPECT_EQ(errno_from_exception(std::runtime_error("x")), std::nullopt);
  EXPECT_EQ(errno_from_exception(std::system_error(std::make_error_code(std::future_errc::broken_promise))),
            std::nullopt);
  EXPECT_EQ(errno_from_exception(std::exception_ptr()), std::nullopt);
  EXPECT_EQ(errno_from_exception(std::make_exception_ptr(42)), std::nullopt);
}

TEST(ErrnoTest, Classification) {
  EXPECT_TRUE(errno_would_block(EAGAIN));
  EXPECT_TRUE(errno_would_block(EWOULDBLOCK));
  EXPECT_FALSE(errno_would_block(EINTR));
  for (int e : {ECONNRESET, ECONNABORTED, EPIPE, ETIMEDOUT}) EXPECT_TRUE(errno_connection_reset(e));
  EXPECT_FALSE(errno_connection_reset(EAGAIN));
  EXPECT_TRUE(errno_in_progress(EINPROGRESS));
  EXPECT_FALSE(errno_in_progress(EAGAIN));
}

TEST(UtilVersionTest, VersionHeaderIsGenerated) { EXPECT_STREQ(kVersion, "0.2.0"); }

TEST(TimeoutErrorTest, IsARuntimeErrorWithItsMessage) {
  try {
    throw TimeoutError("Timeout");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "Timeout");
    EXPECT_NE(dynamic_cast<const TimeoutError*>(&e), nullptr);
  }
}

}  // namespace
}  // namespace tornado::util
