// Benchmarks: rendering a realistic page (layout + extends + include + a 100-row table
// with escaping) and compiling it. bench/template/run.sh runs BM_RenderPage against
// Python Tornado on the same templates (TEMPLATE_BENCH_DIR); without that variable the
// embedded copies below are used.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <benchmark/benchmark.h>

#include "template/template.h"

namespace tornado::template_ {
namespace {

const char* kLayout = R"(<!DOCTYPE html>
<html>
<head><title>{% block title %}Site{% end %}</title></head>
<body>
<div id="nav">{% include "nav.html" %}</div>
<div id="content">{% block content %}{% end %}</div>
<div id="footer">{% block footer %}&copy; example{% end %}</div>
</body>
</html>
)";
const char* kNav =
    R"(<ul>{% for item in nav %}<li class="{{ 'active' if item['url'] == current else '' }}"><a href="{{ item['url'] }}">{{ item['title'] }}</a></li>{% end %}</ul>
)";
const char* kPage = R"({% extends "layout.html" %}
{% block title %}{{ title }} - Site{% end %}
{% block content %}
<h1>{{ title }}</h1>
<table>
{% for i, row in enumerate(rows) %}
  <tr class="{{ 'odd' if i % 2 else 'even' }}">
    <td>{{ row['id'] }}</td>
    <td><a href="/user/{{ row['id'] }}">{{ row['name'] }}</a></td>
    <td>{{ row['email'] }}</td>
    <td>{{ '%.2f' % row['score'] }}</td>
    <td>{% if row['active'] %}yes{% else %}no{% end %}</td>
  </tr>
{% end %}
</table>
<p>{{ len(rows) }} rows</p>
{% end %}
)";

json make_data() {
  json rows = json::array();
  for (int i = 0; i < 100; ++i)
    rows.push_back({{"id", i},
                    {"name", "User <" + std::to_string(i) + "> & \"friends\""},
                    {"email", "user" + std::to_string(i) + "@example.com"},
                    {"score", i * 1.25},
                    {"active", i % 3 != 0}});
  json nav = json::array({{{"url", "/"}, {"title", "Home"}},
                          {{"url", "/users"}, {"title", "Users & Groups"}},
                          {{"url", "/about"}, {"title", "About <us>"}}});
  return {{"title", "Users <list>"}, {"rows", rows}, {"nav", nav}, {"current", "/users"}};
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<BaseLoader> make_loader() {
  if (const char* dir = std::getenv("TEMPLATE_BENCH_DIR"))
    return std::make_unique<Loader>(std::string(dir) + "/templates");
  return std::make_unique<DictLoader>(std::map<std::string, std::string>{
      {"layout.html", kLayout}, {"nav.html", kNav}, {"page.html", kPage}});
}

json load_data() {
  if (const char* dir = std::getenv("TEMPLATE_BENCH_DIR"))
    return json::parse(read(std::string(dir) + "/data.json"));
  return make_data();
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
