// Tests for Template, DictLoader and Loader: the behaviours of Tornado's template_test.py
// (expressions translated to our expression language) plus bad inputs.
#include "template/template.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace tornado::template_ {
namespace {

using Dict = std::map<std::string, std::string>;

std::string render(std::string_view src, const Namespace& ns = {}) {
  return Template(src).generate(ns);
}

Value upper_fn() {
  return Value::function([](const CallArgs& a) -> Value {
    std::string s = a.args.at(0).str();
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // É (U+00C9) from é (U+00E9), as Python's str.upper does.
    size_t i;
    while ((i = s.find("\xc3\xa9")) != std::string::npos) s.replace(i, 2, "\xc3\x89");
    return Value(s);
  });
}

TEST(TemplateTest, Simple) { EXPECT_EQ(render("Hello {{ name }}!", {{"name", "Ben"}}), "Hello Ben!"); }

TEST(TemplateTest, Expressions) { EXPECT_EQ(render("2 + 2 = {{ 2 + 2 }}"), "2 + 2 = 4"); }

TEST(TemplateTest, Comment) {
  EXPECT_EQ(render("Hello{# TODO i18n #} {{ name }}!", {{"name", "Ben"}}), "Hello Ben!");
}

TEST(TemplateTest, Include) {
  DictLoader loader(Dict{{"index.html", "{% include \"header.html\" %}\nbody text"},
                     {"header.html", "header text"}});
  EXPECT_EQ(loader.load("index.html")->generate(), "header text\nbody text");
}

TEST(TemplateTest, IncludeSharesNamespace) {
  DictLoader loader(Dict{{"a.html", "{% set x = 5 %}{% include 'b.html' %}{{ y }}"},
                     {"b.html", "{{ x }}{% set y = x * 2 %}"}});
  EXPECT_EQ(loader.load("a.html")->generate(), "510");
}

TEST(TemplateTest, Extends) {
  DictLoader loader({
      {"base.html",
       "<title>{% block title %}default title{% end %}</title>\n"
       "<body>{% block body %}default body{% end %}</body>\n"},
      {"page.html",
       "{% extends \"base.html\" %}\n{% block title %}page title{% end %}\n"
       "{% block body %}page body{% end %}\n"},
  });
  EXPECT_EQ(loader.load("page.html")->generate(),
            "<title>page title</title>\n<body>page body</body>\n");
}

TEST(TemplateTest, ExtendsThreeLevelsKeepsUnoverriddenBlocks) {
  DictLoader loader({
      {"base.html", "[{% block a %}A{% end %}|{% block b %}B{% end %}]"},
      {"mid.html", "{% extends 'base.html' %}{% block a %}mid-a{% end %}"},
      {"leaf.html", "{% extends 'mid.html' %}{% block b %}leaf-b{% end %}"},
  });
  EXPECT_EQ(loader.load("leaf.html")->generate(), "[mid-a|leaf-b]");
  EXPECT_EQ(loader.load("mid.html")->generate(), "[mid-a|B]");
}

TEST(TemplateTest, RelativeLoad) {
  DictLoader loader(Dict{{"a/1.html", "{% include '2.html' %}"},
                     {"a/2.html", "{% include '../b/3.html' %}"},
                     {"b/3.html", "ok"}});
  EXPECT_EQ(loader.load("a/1.html")->generate(), "ok");
}

TEST(TemplateTest, Escaping) {
  EXPECT_THROW(Template("{{"), ParseError);
  EXPECT_THROW(Template("{%"), ParseError);
  EXPECT_EQ(render("{{!"), "{{");
  EXPECT_EQ(render("{%!"), "{%");
  EXPECT_EQ(render("{#!"), "{#");
  EXPECT_EQ(render("{{ 'expr' }} {{!jquery expr}}"), "expr {{jquery expr}}");
}

TEST(TemplateTest, TripleBracesUseInnermost) { EXPECT_EQ(render("{{{ 1 }}}"), "{1}"); }

TEST(TemplateTest, UnicodeTemplate) { EXPECT_EQ(render("\xc3\xa9"), "\xc3\xa9"); }

TEST(TemplateTest, UnicodeLiteralExpression) {
  EXPECT_EQ(render("{{ \"\xc3\xa9\" }}"), "\xc3\xa9");
  EXPECT_EQ(render("{{ '\\u00e9' }}"), "\xc3\xa9");
}

TEST(TemplateTest, CustomNamespace) {
  BaseLoader::Options opts;
  opts.namespace_["inc"] = Value::function([](const CallArgs& a) -> Value {
    return Value(a.args.at(0).data().get<int64_t>() + 1);
  });
  DictLoader loader(Dict{{"test.html", "{{ inc(5) }}"}}, opts);
  EXPECT_EQ(loader.load("test.html")->generate(), "6");
}

TEST(TemplateTest, Apply) {
  EXPECT_EQ(render("{% apply upper %}foo{% end %}", {{"upper", upper_fn()}}), "FOO");
  EXPECT_EQ(render("{% apply upper %}foo \xc3\xa9{% end %}", {{"upper", upper_fn()}}),
            "FOO \xc3\x89");
}

TEST(TemplateTest, If) {
  Template t("{% if x > 4 %}yes{% else %}no{% end %}");
  EXPECT_EQ(t.generate({{"x", 5}}), "yes");
  EXPECT_EQ(t.generate({{"x", 3}}), "no");
}

TEST(TemplateTest, IfElif) {
  Template t("{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% end %}");
  EXPECT_EQ(t.generate({{"x", 1}}), "one");
  EXPECT_EQ(t.generate({{"x", 2}}), "two");
  EXPECT_EQ(t.generate({{"x", 3}}), "many");
}

TEST(TemplateTest, IfEmptyBody) { EXPECT_EQ(render("{% if True %}{% else %}{% end %}"), ""); }

TEST(TemplateTest, Try) {
  Template t(
      "{% try %}\ntry{% set y = 1/x %}\n{% except %}-except\n{% else %}-else\n"
      "{% finally %}-finally\n{% end %}");
  EXPECT_EQ(t.generate({{"x", 1}}), "\ntry\n-else\n-finally\n");
  EXPECT_EQ(t.generate({{"x", 0}}), "\ntry-except\n-finally\n");
}

TEST(TemplateTest, TryExceptByKindAndAs) {
  Template t(
      "{% try %}{{ d[k] }}{% except ZeroDivisionError %}zero{% except KeyError as e %}"
      "missing {{ e }}{% end %}");
  EXPECT_EQ(t.generate({{"d", json{{"a", 1}}}, {"k", "a"}}), "1");
  EXPECT_EQ(t.generate({{"d", json{{"a", 1}}}, {"k", "b"}}), "missing &#x27;b&#x27;");
  // An unmatched kind propagates.
  EXPECT_THROW(t.generate({{"d", json::array()}, {"k", "b"}}), TemplateError);
}

TEST(TemplateTest, CommentDirective) { EXPECT_EQ(render("{% comment blah blah %}foo"), "foo"); }

TEST(TemplateTest, BreakContinue) {
  std::string out = render(
      "{% for i in range(10) %}\n    {% if i == 2 %}\n        {% continue %}\n    {% end %}\n"
      "    {{ i }}\n    {% if i == 6 %}\n        {% break %}\n    {% end %}\n{% end %}");
  std::erase_if(out, [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  EXPECT_EQ(out, "013456");
}

TEST(TemplateTest, ForElseAndWhile) {
  EXPECT_EQ(render("{% for i in [] %}x{% else %}empty{% end %}"), "empty");
  EXPECT_EQ(render("{% for i in [1, 2] %}{% if i == 2 %}{% break %}{% end %}{{ i }}{% else %}E{% end %}"),
            "1");
  EXPECT_EQ(render("{% set i = 0 %}{% while i < 3 %}{{ i }}{% set i += 1 %}{% end %}"), "012");
}

TEST(TemplateTest, ForTupleUnpacking) {
  EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% end %}",
                   {{"d", json{{"a", 1}, {"b", "x"}}}}),
            "a=1;b=x;");
  EXPECT_EQ(render("{% for (i, x) in enumerate(['a', 'b'], 1) %}{{ i }}{{ x }}{% end %}"), "1a2b");
  EXPECT_THROW(render("{% for a, b in [[1, 2, 3]] %}{% end %}"), TemplateError);
}

TEST(TemplateTest, LoopVariableSurvivesLoop) {
  EXPECT_EQ(render("{% for x in sorted([3, 1, 2]) %}{% end %}{{ x }}"), "3");
}

TEST(TemplateTest, BreakOutsideLoop) {
  EXPECT_THROW(Template("{% break %}"), ParseError);
  EXPECT_THROW(Template("{% if True %}{% continue %}{% end %}"), ParseError);
}

TEST(TemplateTest, BreakInApply) {
  EXPECT_THROW(Template("{% for i in [] %}{% apply foo %}{% break %}{% end %}{% end %}"),
               ParseError);
}

TEST(TemplateTest, TrueDivision) { EXPECT_EQ(render("{{ 1 / 2 }}"), "0.5"); }

TEST(TemplateTest, NonAsciiName) {
  DictLoader loader(Dict{{"t\xc3\xa9st.html", "hello"}});
  EXPECT_EQ(loader.load("t\xc3\xa9st.html")->generate(), "hello");
}

TEST(TemplateTest, SetAndModule) {
  auto modules = std::make_shared<ObjectDict>();
  modules->attrs()["Hello"] = Value::function(
      [](const CallArgs& a) -> Value { return Value("<b>" + a.args.at(0).str() + "</b>"); });
  EXPECT_EQ(render("{% set x = 'a' %}{% module Hello(x) %}",
                   {{"_tt_modules", Value(std::shared_ptr<const Object>(modules))}}),
            "<b>a</b>");
}

TEST(TemplateTest, ImportIsAParseError) {
  EXPECT_THROW(Template("{% import os %}"), ParseError);
  EXPECT_THROW(Template("{% from os import path %}"), ParseError);
}

TEST(TemplateTest, GenerateToAppends) {
  Template t("{{ a }}");
  std::string out = "x";
  t.generate_to(out, {{"a", 1}});
  EXPECT_EQ(out, "x1");
}

TEST(TemplateTest, BorrowedJson) {
  json rows = json::array({{{"name", "<a>"}}, {{"name", "b"}}});
  EXPECT_EQ(render("{% for r in rows %}{{ r.name }}{{ r['name'] }}{% end %}",
                   {{"rows", Value::ref(rows)}}),
            "&lt;a&gt;&lt;a&gt;bb");
}

TEST(TemplateTest, CreateReturnsStatus) {
  EXPECT_FALSE(Template::create("{% if %}").ok());
  auto t = Template::create("ok");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->generate(), "ok");
}

// ---------------------------------------------------------------- errors with lines

TEST(StackTraceTest, ErrorLineNumberExpression) {
  DictLoader loader(Dict{{"test.html", "one\ntwo{{1/0}}\nthree\n        "}});
  try {
    loader.load("test.html")->generate();
    FAIL() << "no exception";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.kind(), "ZeroDivisionError");
    EXPECT_EQ(e.filename(), "test.html");
    EXPECT_EQ(e.lineno(), 2);
  }
}

TEST(StackTraceTest, ErrorLineNumberDirective) {
  DictLoader loader(Dict{{"test.html", "one\ntwo{%if 1/0%}\nthree{%end%}\n        "}});
  try {
    loader.load("test.html")->generate();
    FAIL() << "no exception";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.kind(), "ZeroDivisionError");
    EXPECT_EQ(e.lineno(), 2);
  }
}

TEST(StackTraceTest, ErrorLineNumberModule) {
  DictLoader* lp = nullptr;
  auto modules = std::make_shared<ObjectDict>();
  modules->attrs()["Template"] = Value::function([&lp](const CallArgs& a) -> Value {
    return Value(lp->load(a.args.at(0).str())->generate());
  });
  BaseLoader::Options opts;
  opts.namespace_["_tt_modules"] = Value(std::shared_ptr<const Object>(modules));
  DictLoader loader(Dict{{"base.html", "{% module Template('sub.html') %}"}, {"sub.html", "{{1/0}}"}},
                    opts);
  lp = &loader;
  try {
    loader.load("base.html")->generate();
    FAIL() << "no exception";
  } catch (const TemplateError& e) {
    // The innermost template names the failing line; the outer render passes it through.
    EXPECT_EQ(e.filename(), "sub.html");
    EXPECT_EQ(e.lineno(), 1);
  }
}

TEST(StackTraceTest, ErrorLineNumberInclude) {
  DictLoader loader(Dict{{"base.html", "{% include 'sub.html' %}"}, {"sub.html", "{{1/0}}"}});
  try {
    loader.load("base.html")->generate();
    FAIL() << "no exception";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.filename(), "sub.html");
    EXPECT_EQ(e.via(), "base.html:1");
    EXPECT_NE(std::string(e.what()).find("sub.html:1 via base.html:1"), std::string::npos);
  }
}

TEST(StackTraceTest, ErrorLineNumberExtendsBaseError) {
  DictLoader loader(Dict{{"base.html", "{{1/0}}"}, {"sub.html", "{% extends 'base.html' %}"}});
  try {
    loader.load("sub.html")->generate();
    FAIL() << "no exception";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.filename(), "base.html");
    EXPECT_EQ(e.lineno(), 1);
  }
}

TEST(StackTraceTest, ErrorLineNumberExtendsSubError) {
  DictLoader loader(Dict{{"base.html", "{% block 'block' %}{% end %}"},
                     {"sub.html",
                      "\n{% extends 'base.html' %}\n{% block 'block' %}\n{{1/0}}\n{% end %}\n"}});
  try {
    loader.load("sub.html")->generate();
    FAIL() << "no exception";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.filename(), "sub.html");
    EXPECT_EQ(e.lineno(), 4);
    EXPECT_EQ(e.via(), "base.html:1");
  }
}

TEST(StackTraceTest, MultiIncludes) {
  DictLoader loader(Dict{{"a.html", "{% include 'b.html' %}"},
                     {"b.html", "{% include 'c.html' %}"},
                     {"c.html", "{{1/0}}"}});
  try {
    loader.load("a.html")->generate();
    FAIL() << "no exception";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.filename(), "c.html");
    EXPECT_EQ(e.via(), "b.html:1, a.html:1");
  }
}

TEST(StackTraceTest, NameError) {
  try {
    render("\n\n{{ nope }}");
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.kind(), "NameError");
    EXPECT_EQ(e.lineno(), 3);
  }
}

// ---------------------------------------------------------------- parse errors

TEST(ParseErrorTest, NamesFileAndLine) {
  DictLoader loader(Dict{{"foo.html", "\n\n{{"}});
  try {
    loader.load("foo.html");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.filename(), "foo.html");
    EXPECT_EQ(e.lineno(), 3);
    EXPECT_EQ(std::string(e.what()), "Missing end expression }} at foo.html:3");
  }
}

TEST(ParseErrorTest, NestedFile) {
  DictLoader loader(Dict{{"a.html", "{% include 'b.html' %}"}, {"b.html", "x\n{% if %}"}});
  try {
    loader.load("a.html");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.filename(), "b.html");
    EXPECT_EQ(e.lineno(), 2);
  }
}

TEST(ParseErrorTest, BadInputs) {
  for (const char* src : {
           "{{ }}", "{% %}", "{% end %}", "{% if x %}", "{% for x in y %}", "{% bogus %}",
           "{% else %}", "{% for x in y %}{% except %}{% end %}", "{% if x %}{% except %}{% end %}",
           "{% try %}{% end %}", "{{ 1 + }}", "{{ (1 }}", "{{ 'abc }}", "{{ a b }}",
           "{% for in y %}{% end %}", "{% for x y %}{% end %}", "{% set %}", "{% set 1 = 2 %}",
           "{% whitespace bogus %}", "{% block %}{% end %}", "{% apply %}{% end %}",
           "{% extends 'x.html' %}", "{% include 'x.html' %}", "{# unterminated",
           "{% if x %}{% else %}{% elif y %}{% end %}", "{{ 99999999999999999999 }}",
           "{{ a[] }}", "{{ f(a=1, 2) }}", "{{ $ }}", "{% raw %}", "{% module %}",
       }) {
    EXPECT_THROW(Template(src, "t.txt"), ParseError) << src;
  }
}

TEST(ParseErrorTest, MissingTemplate) {
  DictLoader loader(Dict{{"a.html", "\n{% include 'nope.html' %}"}});
  EXPECT_THROW(loader.load("zzz.html"), ParseError);
  try {
    loader.load("a.html");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.filename(), "a.html");
    EXPECT_EQ(e.lineno(), 2);
  }
}

TEST(ParseErrorTest, IncludeAndExtendsCycles) {
  DictLoader loader(Dict{{"a.html", "{% include 'b.html' %}"},
                     {"b.html", "{% include 'a.html' %}"},
                     {"self.html", "{% include 'self.html' %}"},
                     {"x.html", "{% extends 'y.html' %}"},
                     {"y.html", "{% extends 'x.html' %}"}});
  for (const char* n : {"a.html", "b.html", "self.html", "x.html", "y.html"}) {
    try {
      loader.load(n);
      FAIL() << n;
    } catch (const ParseError& e) {
      EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos) << e.what();
    }
  }
}

TEST(ParseErrorTest, DeepNesting) {
  std::string blocks;
  for (int i = 0; i < 5000; ++i) blocks += "{% if 1 %}";
  EXPECT_THROW(Template{blocks}, ParseError);
  std::string expr = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  EXPECT_THROW(Template{expr}, ParseError);
  EXPECT_THROW(Template("{{ " + std::string(100000, '-') + "1 }}"), ParseError);
  EXPECT_THROW(Template("{{ " + std::string(100000, '[') + " }}"), ParseError);
  std::string nots = "{{ ";
  for (int i = 0; i < 100000; ++i) nots += "not ";
  EXPECT_THROW(Template(nots + "1 }}"), ParseError);
  // Moderate nesting is fine.
  EXPECT_EQ(render("{{ " + std::string(30, '(') + "1" + std::string(30, ')') + " }}"), "1");
}

TEST(ParseErrorTest, DeepIncludeChain) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 300; ++i)
    files["t" + std::to_string(i) + ".html"] = "{% include 't" + std::to_string(i + 1) + ".html' %}";
  files["t300.html"] = "end";
  DictLoader loader(files);
  EXPECT_THROW(loader.load("t0.html"), ParseError);
}

TEST(ParseErrorTest, ExponentialIncludesBounded) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 40; ++i) {
    std::string next = "t" + std::to_string(i + 1) + ".html";
    files["t" + std::to_string(i) + ".html"] =
        "{% include '" + next + "' %}{% include '" + next + "' %}";
  }
  files["t40.html"] = "{{ x }}";
  DictLoader loader(files);
  EXPECT_THROW(loader.load("t0.html"), ParseError);
}

// ---------------------------------------------------------------- autoescape

std::map<std::string, std::string> AutoEscapeTemplates() {
  return {
      {"escaped.html", "{% autoescape xhtml_escape %}{{ name }}"},
      {"unescaped.html", "{% autoescape None %}{{ name }}"},
      {"default.html", "{{ name }}"},
      {"include.html",
       "escaped: {% include 'escaped.html' %}\nunescaped: {% include 'unescaped.html' %}\n"
       "default: {% include 'default.html' %}\n"},
      {"escaped_block.html", "{% autoescape xhtml_escape %}{% block name %}base: {{ name }}{% end %}"},
      {"unescaped_block.html", "{% autoescape None %}{% block name %}base: {{ name }}{% end %}"},
      {"escaped_extends_unescaped.html",
       "{% autoescape xhtml_escape %}{% extends \"unescaped_block.html\" %}"},
      {"escaped_overrides_unescaped.html",
       "{% autoescape xhtml_escape %}{% extends \"unescaped_block.html\" %}"
       "{% block name %}extended: {{ name }}{% end %}"},
      {"unescaped_extends_escaped.html",
       "{% autoescape None %}{% extends \"escaped_block.html\" %}"},
      {"unescaped_overrides_escaped.html",
       "{% autoescape None %}{% extends \"escaped_block.html\" %}"
       "{% block name %}extended: {{ name }}{% end %}"},
      {"raw_expression.html", "{% autoescape xhtml_escape %}expr: {{ name }}\nraw: {% raw name %}"},
  };
}

TEST(AutoEscapeTest, DefaultOff) {
  BaseLoader::Options opts;
  opts.autoescape = "";
  DictLoader loader(AutoEscapeTemplates(), opts);
  Namespace ns{{"name", "Bobby <table>s"}};
  EXPECT_EQ(loader.load("escaped.html")->generate(ns), "Bobby &lt;table&gt;s");
  EXPECT_EQ(loader.load("unescaped.html")->generate(ns), "Bobby <table>s");
  EXPECT_EQ(loader.load("default.html")->generate(ns), "Bobby <table>s");
  EXPECT_EQ(loader.load("include.html")->generate(ns),
            "escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby <table>s\n");
}

TEST(AutoEscapeTest, DefaultOn) {
  DictLoader loader(AutoEscapeTemplates());
  Namespace ns{{"name", "Bobby <table>s"}};
  EXPECT_EQ(loader.load("escaped.html")->generate(ns), "Bobby &lt;table&gt;s");
  EXPECT_EQ(loader.load("unescaped.html")->generate(ns), "Bobby <table>s");
  EXPECT_EQ(loader.load("default.html")->generate(ns), "Bobby &lt;table&gt;s");
  EXPECT_EQ(loader.load("include.html")->generate(ns),
            "escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\n"
            "default: Bobby &lt;table&gt;s\n");
}

TEST(AutoEscapeTest, UnextendedBlock) {
  DictLoader loader(AutoEscapeTemplates());
  Namespace ns{{"name", "<script>"}};
  EXPECT_EQ(loader.load("escaped_block.html")->generate(ns), "base: &lt;script&gt;");
  EXPECT_EQ(loader.load("unescaped_block.html")->generate(ns), "base: <script>");
}

TEST(AutoEscapeTest, ExtendedBlock) {
  DictLoader loader(AutoEscapeTemplates());
  Namespace ns{{"name", "<script>"}};
  EXPECT_EQ(loader.load("escaped_extends_unescaped.html")->generate(ns), "base: <script>");
  EXPECT_EQ(loader.load("escaped_overrides_unescaped.html")->generate(ns),
            "extended: &lt;script&gt;");
  EXPECT_EQ(loader.load("unescaped_extends_escaped.html")->generate(ns), "base: &lt;script&gt;");
  EXPECT_EQ(loader.load("unescaped_overrides_escaped.html")->generate(ns), "extended: <script>");
}

TEST(AutoEscapeTest, RawExpression) {
  DictLoader loader(AutoEscapeTemplates());
  EXPECT_EQ(loader.load("raw_expression.html")->generate({{"name", "<>&\""}}),
            "expr: &lt;&gt;&amp;&quot;\nraw: <>&\"");
}

TEST(AutoEscapeTest, CustomEscape) {
  DictLoader loader(Dict{{"foo.py", "{% autoescape py_escape %}s = {{ name }}\n"}});
  Value py_escape = Value::function([](const CallArgs& a) -> Value {
    EXPECT_TRUE(a.args.at(0).is_string());
    return Value(a.args.at(0).repr());
  });
  auto r = [&](Value name) {
    return loader.load("foo.py")->generate({{"py_escape", py_escape}, {"name", name}});
  };
  EXPECT_EQ(r("<html>"), "s = '<html>'\n");
  EXPECT_EQ(r("';sys.exit()"), "s = \"';sys.exit()\"\n");
  EXPECT_EQ(r(json::array({"not a string"})), "s = \"['not a string']\"\n");
}

TEST(AutoEscapeTest, PerTemplateOverrideAndNamespaceOverride) {
  TemplateOptions opts;
  opts.autoescape = "";
  EXPECT_EQ(Template("{{ x }}", "t", nullptr, opts).generate({{"x", "<"}}), "<");
  Value custom = Value::function([](const CallArgs&) -> Value { return Value("X"); });
  EXPECT_EQ(render("{{ x }}", {{"x", "<"}, {"xhtml_escape", custom}}), "X");
}

TEST(AutoEscapeTest, MinimizeWhitespace) {
  DictLoader loader(Dict{{"foo.txt",
                      "{% for i in items\n  %}{% if i > 0 %}, {% end %}{#\n  #}{{i\n  }}{% end\n%}"}});
  EXPECT_EQ(loader.load("foo.txt")->generate({{"items", json::array({0, 1, 2, 3, 4})}}),
            "0, 1, 2, 3, 4");
}

// ---------------------------------------------------------------- whitespace

TEST(WhitespaceTest, ModesBySuffixAndDirective) {
  const char* src = "a   b\n\n  c\t\td";
  DictLoader loader(Dict{{"x.html", src}, {"x.txt", src}, {"x.js", src},
                     {"y.txt", "{% whitespace oneline %}a  \n b"},
                     {"z.html", "{% whitespace all %}a  \n b"},
                     {"p.html", "<pre>a  \n  b</pre>"}});
  EXPECT_EQ(loader.load("x.html")->generate(), "a b\nc d");
  EXPECT_EQ(loader.load("x.js")->generate(), "a b\nc d");
  EXPECT_EQ(loader.load("x.txt")->generate(), src);
  EXPECT_EQ(loader.load("y.txt")->generate(), "a b");
  EXPECT_EQ(loader.load("z.html")->generate(), "a  \n b");
  EXPECT_EQ(loader.load("p.html")->generate(), "<pre>a  \n  b</pre>");
  BaseLoader::Options opts;
  opts.whitespace = "all";
  DictLoader all({{"x.html", src}}, opts);
  EXPECT_EQ(all.load("x.html")->generate(), src);
}

TEST(WhitespaceTest, FilterWhitespace) {
  EXPECT_EQ(filter_whitespace("single", "  a \t\n\n b "), " a\nb ");
  EXPECT_EQ(filter_whitespace("oneline", "  a \t\n\n b "), " a b ");
  EXPECT_THROW(filter_whitespace("nope", "x"), ParseError);
}

// ---------------------------------------------------------------- loaders

TEST(LoaderTest, CachesAndResets) {
  DictLoader loader(Dict{{"a.html", "a"}});
  auto t1 = loader.load("a.html");
  EXPECT_EQ(t1.get(), loader.load("a.html").get());
  loader.reset();
  EXPECT_NE(t1.get(), loader.load("a.html").get());
}

TEST(LoaderTest, FileLoader) {
  auto dir = std::filesystem::path(testing::TempDir()) / "tpl_loader_test";
  std::filesystem::create_directories(dir / "sub");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
  };
  write("utf8.html", "H\xc3\xa9llo\n");
  write("base.html", "<h1>{% block t %}{% end %}</h1>{% include 'sub/inc.html' %}");
  write("sub/page.html", "{% extends '../base.html' %}{% block t %}{{ x }}{% end %}");
  write("sub/inc.html", "[inc]");
  Loader loader(dir.string());
  EXPECT_EQ(loader.load("utf8.html")->generate(), "H\xc3\xa9llo\n");
  EXPECT_EQ(loader.load("sub/page.html")->generate({{"x", "<"}}), "<h1>&lt;</h1>[inc]");
  EXPECT_THROW(loader.load("../etc/passwd"), ParseError);
  // reset() re-reads changed files (debug mode).
  write("utf8.html", "changed");
  EXPECT_EQ(loader.load("utf8.html")->generate(), "H\xc3\xa9llo\n");
  loader.reset();
  EXPECT_EQ(loader.load("utf8.html")->generate(), "changed");
}

TEST(LoaderTest, LoaderNamespaceShadowedByKwargs) {
  BaseLoader::Options opts;
  opts.namespace_["site"] = Value("loader");
  DictLoader loader(Dict{{"a.html", "{{ site }}"}}, opts);
  EXPECT_EQ(loader.load("a.html")->generate(), "loader");
  EXPECT_EQ(loader.load("a.html")->generate({{"site", "kw"}}), "kw");
}

TEST(LoaderTest, DefaultNamespace) {
  EXPECT_EQ(render("{% raw xhtml_escape('<') %} {% raw escape('&') %} {{ url_escape('a b') }} "
                   "{% raw json_encode({'a': [1, None]}) %} {{ squeeze('a   b') }}"),
            "&lt; &amp; a+b {\"a\": [1, null]} a b");
  EXPECT_EQ(render("{% raw linkify('see http://x.com') %}"),
            "see <a href=\"http://x.com\">http://x.com</a>");
  EXPECT_EQ(render("{{ datetime.strftime('%Y-%m-%d', 86400) }}"), "1970-01-02");
  EXPECT_EQ(render("{{ len(datetime.utcnow()) }}"), "26");
}

}  // namespace
}  // namespace tornado::template_
