// LogFormatter's cost per record, against spdlog's own pattern formatter.
#include <chrono>
#include <string>

#include <benchmark/benchmark.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>

#include "log/log_formatter.h"

namespace tornado::log {
namespace {

spdlog::details::log_msg make_msg(std::string_view text) {
  return spdlog::details::log_msg(std::chrono::system_clock::now(),
                                  {"/src/web/web.cc", 2310, "log_request"}, "tornado.access",
                                  spdlog::level::info,
                                  spdlog::string_view_t(text.data(), text.size()));
}

void BM_LogFormatterAccessLine(benchmark::State& state) {
  LogFormatter formatter(LogFormatter::Options{.color = ColorMode::kNever});
  auto msg = make_msg("200 GET /api/items?page=2 (127.0.0.1) 1.52ms");
  spdlog::memory_buf_t out;
  for (auto _ : state) {
    out.clear();
    formatter.format(msg, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_LogFormatterAccessLine);

void BM_LogFormatterNonAscii(benchmark::State& state) {
  LogFormatter formatter(LogFormatter::Options{.color = ColorMode::kAlways});
  auto msg = make_msg("caf\xc3\xa9 \xe2\x82\xac \xff multi\nline");
  spdlog::memory_buf_t out;
  for (auto _ : state) {
    out.clear();
    formatter.format(msg, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_LogFormatterNonAscii);

void BM_SpdlogPatternFormatter(benchmark::State& state) {
  spdlog::pattern_formatter formatter("[%L %y%m%d %H:%M:%S %s:%#] %v");
  auto msg = make_msg("200 GET /api/items?page=2 (127.0.0.1) 1.52ms");
  spdlog::memory_buf_t out;
  for (auto _ : state) {
    out.clear();
    formatter.format(msg, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_SpdlogPatternFormatter);

}  // namespace
}  // namespace tornado::log
