// Fuzz-style robustness test: random bytes, random mixes of template tokens and every
// truncation/mutation of realistic templates must produce output or a ParseError /
// TemplateError, never a crash or a hang.
#include <random>

#include <gtest/gtest.h>

#include "template/template.h"

namespace tornado::template_ {
namespace {

const char* kSeeds[] = {
    "{% extends 'base.html' %}{% block body %}{% for i, r in enumerate(rows) %}"
    "<td>{{ r['name'] }}</td>{% if i % 2 %}odd{% elif i > 3 %}big{% else %}even{% end %}"
    "{% end %}{% end %}",
    "{% try %}{{ 1 / x }}{% except ZeroDivisionError %}z{% else %}e{% finally %}f{% end %}",
    "{% set a = {'k': [1, 2, 3]} %}{{ a.k[1:] }}{% raw '%s-%d' % ('a', 1) %}{# c #}{{! x }}",
    "{% apply upper %}{% include 'inc.html' %}{% end %}{% whitespace oneline %}  x  ",
    "{% for k, v in d.items() %}{% if k in 'abc' %}{% continue %}{% end %}{{ k }}{{ v }}"
    "{% break %}{% end %}{% autoescape None %}{{ sorted(d.keys(), reverse=True) }}",
};

void try_template(const std::string& src, DictLoader& loader) {
  try {
    Template t(src, "fuzz.html", &loader);
    if (src.find("while") != std::string::npos) return;  // a while loop may legitimately not end
    Namespace ns{{"rows", json::array({{{"name", "a"}}, {{"name", "<b>"}}})},
                 {"x", 0},
                 {"d", json{{"a", 1}, {"z", 2}}},
                 {"upper", Value::function([](const CallArgs& a) -> Value { return a.args.empty() ? Value() : Value(a.args[0].str()); })}};
    std::string out = t.generate(ns);
    (void)out;
  } catch (const ParseError&) {
  } catch (const TemplateError&) {
  }
}

TEST(TemplateFuzzTest, RandomBytesTruncationsAndMutations) {
  DictLoader loader({{"base.html", "<html>{% block body %}{% end %}</html>"},
                     {"inc.html", "[{{ x }}]"}});
  std::mt19937 rng(12345);
  int rendered = 0;
  for (const char* seed : kSeeds) {
    std::string s = seed;
    // Baseline: seeds are valid.
    EXPECT_NO_THROW(Template(s, "fuzz.html", &loader)) << s;
    for (size_t n = 0; n <= s.size(); ++n) try_template(s.substr(0, n), loader);
    for (int i = 0; i < 3000; ++i) {
      std::string m = s;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        size_t pos = rng() % m.size();
        switch (rng() % 4) {
          case 0: m.erase(pos, 1 + rng() % 5); break;
          case 1: m.insert(pos, 1, "{}%#()[]'\",.:=+-*/ab1 \n"[rng() % 24]); break;
          case 2: m[pos] = static_cast<char>(rng() % 256); break;
          case 3: m.insert(pos, s.substr(rng() % s.size(), rng() % 20)); break;
        }
      }
      try_template(m, loader);
      ++rendered;
    }
  }
  static const char* kPieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "if", "for", "end", "in",
                                  "x", "(", ")", "[", "]", "'", "1", "+", "else", "try",
                                  "except", "block", "set", "=", " ", "\n", "!", "{", "}", ","};
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 30);
    for (int k = 0; k < n; ++k) s += kPieces[rng() % (sizeof kPieces / sizeof *kPieces)];
    try_template(s, loader);
  }
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    try_template(s, loader);
  }
  EXPECT_GT(rendered, 0);
}

}  // namespace
}  // namespace tornado::template_
