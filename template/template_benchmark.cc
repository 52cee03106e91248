// Benchmarks: rendering a realistic page (layout + extends + include + a 100-row table
// with escaping, template/testdata/bench_templates) and compiling it.
// bench/template/run.sh runs BM_RenderPage against Python Tornado on the same files.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <benchmark/benchmark.h>

#include "template/template.h"

namespace tornado::template_ {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// template/testdata, from the runfiles (bazel run / test run in the runfiles root) or
// from TEMPLATE_BENCH_DIR (bench/template/run.sh runs the binary directly).
std::string testdata_dir() {
  const char* dir = std::getenv("TEMPLATE_BENCH_DIR");
  return dir != nullptr ? dir : "template/testdata";
}

std::unique_ptr<BaseLoader> make_loader() {
  return std::make_unique<Loader>(testdata_dir() + "/bench_templates");
}

json load_data() {
  const std::string text = read(testdata_dir() + "/bench_data.json");
  if (text.empty()) throw std::runtime_error("no " + testdata_dir() + "/bench_data.json");
  return json::parse(text);
}

void BM_RenderPage(benchmark::State& state) {
  auto loader = make_loader();
  auto t = loader->load("page.html");
  const json data = load_data();
  Namespace ns;
  for (auto it = data.begin(); it != data.end(); ++it) ns[it.key()] = Value::ref(it.value());
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = t->generate(ns);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  if (const char* dump = std::getenv("TEMPLATE_BENCH_DUMP")) std::ofstream(dump) << t->generate(ns);
  state.counters["renders/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderPage);

void BM_CompilePage(benchmark::State& state) {
  auto loader = make_loader();
  for (auto _ : state) {
    loader->reset();
    benchmark::DoNotOptimize(loader->load("page.html"));
  }
}
BENCHMARK(BM_CompilePage);

void BM_EscapedExpression(benchmark::State& state) {
  Template t("{{ s }}");
  Namespace ns{{"s", "a <b> & \"c\" 'd' plain text of some length"}};
  for (auto _ : state) benchmark::DoNotOptimize(t.generate(ns));
}
BENCHMARK(BM_EscapedExpression);

}  // namespace
}  // namespace tornado::template_
