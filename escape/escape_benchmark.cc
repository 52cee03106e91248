// Benchmarks for xhtml_escape and url_escape on a realistic 4 KiB string: mostly
// prose with some markup, quotes, ampersands, URLs and non-ASCII text.
#include <benchmark/benchmark.h>

#include <string>

#include "escape/escape.h"

namespace tornado::escape {
namespace {

std::string realistic_4k() {
  const std::string paragraph =
      "<p class=\"comment\">Thanks for the review! I've updated the patch &amp; the tests; "
      "see https://example.com/review?id=42&tab=files for details. "
      "Caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9 \xe2\x80\x94 \"quoted\" text, 100% done.</p>\n";
  std::string s;
  while (s.size() < 4096) s += paragraph;
  s.resize(4096);
  return s;
}

void BM_XhtmlEscape(benchmark::State& state) {
  const std::string input = realistic_4k();
  for (auto _ : state) benchmark::DoNotOptimize(xhtml_escape(input));
  state.SetBytesProcessed(state.iterations() * input.size());
}
BENCHMARK(BM_XhtmlEscape);

void BM_XhtmlUnescape(benchmark::State& state) {
  const std::string input = xhtml_escape(realistic_4k());
  for (auto _ : state) benchmark::DoNotOptimize(xhtml_unescape(input));
  state.SetBytesProcessed(state.iterations() * input.size());
}
BENCHMARK(BM_XhtmlUnescape);

void BM_UrlEscape(benchmark::State& state) {
  const std::string input = realistic_4k();
  const bool plus = state.range(0) != 0;
  for (auto _ : state) benchmark::DoNotOptimize(url_escape(input, plus));
  state.SetBytesProcessed(state.iterations() * input.size());
}
BENCHMARK(BM_UrlEscape)->Arg(1)->Arg(0);

void BM_UrlUnescape(benchmark::State& state) {
  const std::string input = url_escape(realistic_4k());
  for (auto _ : state) benchmark::DoNotOptimize(url_unescape(input));
  state.SetBytesProcessed(state.iterations() * input.size());
}
BENCHMARK(BM_UrlUnescape);

void BM_Linkify(benchmark::State& state) {
  const std::string input = realistic_4k();
  for (auto _ : state) benchmark::DoNotOptimize(linkify(input));
  state.SetBytesProcessed(state.iterations() * input.size());
}
BENCHMARK(BM_Linkify);

}  // namespace
}  // namespace tornado::escape
