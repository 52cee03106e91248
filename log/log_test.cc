#include "log/log.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "log/version.h"

namespace tornado::log {
namespace {

TEST(LogTest, LoggersHaveTornadoNames) {
  EXPECT_EQ(access_log().name(), "tornado.access");
  EXPECT_EQ(app_log().name(), "tornado.application");
  EXPECT_EQ(gen_log().name(), "tornado.general");
}

TEST(LogTest, LoggersAreRegisteredWithSpdlog) {
  EXPECT_EQ(spdlog::get("tornado.application").get(), &app_log());
}

TEST(LogTest, MessagesReachAnAddedSink) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  gen_log().sinks().push_back(sink);
  gen_log().warn("connection {} reset", 7);
  gen_log().sinks().pop_back();
  EXPECT_NE(out.str().find("connection 7 reset"), std::string::npos) << out.str();
}

TEST(LogTest, VersionHeaderIsGenerated) {
  EXPECT_STREQ(kVersion, "0.1.0");
  EXPECT_EQ(kVersionMinor, 1);
}

}  // namespace
}  // namespace tornado::log
