// Tests for the expression language on its own: literals, operators, builtins, methods,
// formatting and errors, through one-expression templates without escaping.
#include "template/expr.h"

#include <gtest/gtest.h>

#include "template/template.h"

namespace tornado::template_ {
namespace {

std::string ev(std::string_view src, const Namespace& ns = {}) {
  TemplateOptions o;
  o.autoescape = "";
  return Template(absl::StrCat("{{ ", std::string(src), " }}"), "<expr>", nullptr, o).generate(ns);
}

std::string err_kind(std::string_view src, const Namespace& ns = {}) {
  try {
    ev(src, ns);
  } catch (const TemplateError& e) {
    return e.kind();
  }
  return "no error";
}

TEST(ExprTest, Literals) {
  EXPECT_EQ(ev("1"), "1");
  EXPECT_EQ(ev("-3"), "-3");
  EXPECT_EQ(ev("1.5"), "1.5");
  EXPECT_EQ(ev("2.0"), "2.0");
  EXPECT_EQ(ev("1e20"), "1e+20");
  EXPECT_EQ(ev("0x1f"), "31");
  EXPECT_EQ(ev("1_000"), "1000");
  EXPECT_EQ(ev("'a' \"b\""), "ab");
  EXPECT_EQ(ev("'tab\\there'"), "tab\there");
  EXPECT_EQ(ev("r'a\\n'"), "a\\n");
  EXPECT_EQ(ev("True"), "True");
  EXPECT_EQ(ev("None"), "None");
  EXPECT_EQ(ev("[1, 'a', None, True, 2.5]"), "[1, 'a', None, True, 2.5]");
  EXPECT_EQ(ev("{'b': 1, 'a': [2]}"), "{'a': [2], 'b': 1}");
  EXPECT_EQ(ev("(1, 2)"), "[1, 2]");
  EXPECT_EQ(ev("()"), "[]");
  EXPECT_EQ(ev("[\"it's\"]"), "[\"it's\"]");
}

TEST(ExprTest, Arithmetic) {
  EXPECT_EQ(ev("1 + 2 * 3"), "7");
  EXPECT_EQ(ev("(1 + 2) * 3"), "9");
  EXPECT_EQ(ev("7 / 2"), "3.5");
  EXPECT_EQ(ev("7 // 2"), "3");
  EXPECT_EQ(ev("-7 // 2"), "-4");
  EXPECT_EQ(ev("-7 % 3"), "2");
  EXPECT_EQ(ev("7 % -3"), "-2");
  EXPECT_EQ(ev("2 ** 10"), "1024");
  EXPECT_EQ(ev("2 ** -1"), "0.5");
  EXPECT_EQ(ev("-2 ** 2"), "-4");
  EXPECT_EQ(ev("1 + 0.5"), "1.5");
  EXPECT_EQ(ev("'ab' + 'cd'"), "abcd");
  EXPECT_EQ(ev("'ab' * 3"), "ababab");
  EXPECT_EQ(ev("[1] + [2]"), "[1, 2]");
  EXPECT_EQ(ev("[0] * 3"), "[0, 0, 0]");
  EXPECT_EQ(err_kind("1 / 0"), "ZeroDivisionError");
  EXPECT_EQ(err_kind("1 % 0"), "ZeroDivisionError");
  EXPECT_EQ(err_kind("1.0 / 0"), "ZeroDivisionError");
  EXPECT_EQ(err_kind("1 + 'a'"), "TypeError");
  EXPECT_EQ(err_kind("9223372036854775807 + 1"), "OverflowError");
  EXPECT_EQ(err_kind("2 ** 100"), "OverflowError");
  EXPECT_EQ(err_kind("'a' * 100000000"), "MemoryError");
}

TEST(ExprTest, ComparisonsAndLogic) {
  EXPECT_EQ(ev("1 < 2 < 3"), "True");
  EXPECT_EQ(ev("1 < 3 < 2"), "False");
  EXPECT_EQ(ev("1 == 1.0"), "True");
  EXPECT_EQ(ev("'a' < 'b'"), "True");
  EXPECT_EQ(ev("[1, 2] < [1, 3]"), "True");
  EXPECT_EQ(ev("1 != 2"), "True");
  EXPECT_EQ(ev("'b' in 'abc'"), "True");
  EXPECT_EQ(ev("2 in [1, 2]"), "True");
  EXPECT_EQ(ev("'k' in {'k': 1}"), "True");
  EXPECT_EQ(ev("3 not in [1, 2]"), "True");
  EXPECT_EQ(ev("None is None"), "True");
  EXPECT_EQ(ev("1 is not None"), "True");
  EXPECT_EQ(ev("0 or 'x'"), "x");
  EXPECT_EQ(ev("1 and 0"), "0");
  EXPECT_EQ(ev("not []"), "True");
  EXPECT_EQ(ev("'y' if 0 else 'n'"), "n");
  EXPECT_EQ(ev("'y' if [1] else 'n'"), "y");
  EXPECT_EQ(ev("0 and 1 / 0"), "0");  // short-circuit
  EXPECT_EQ(err_kind("1 < 'a'"), "TypeError");
}

TEST(ExprTest, NamesAttributesIndexing) {
  Namespace ns{{"d", json{{"a", {{"b", json::array({10, 20, 30})}}}, {"s", "h\xc3\xa9llo"}}},
               {"x", 5}};
  EXPECT_EQ(ev("x * 2", ns), "10");
  EXPECT_EQ(ev("d.a.b[1]", ns), "20");
  EXPECT_EQ(ev("d['a']['b'][-1]", ns), "30");
  EXPECT_EQ(ev("d.a.b[1:]", ns), "[20, 30]");
  EXPECT_EQ(ev("d.a.b[::-1]", ns), "[30, 20, 10]");
  EXPECT_EQ(ev("d.a.b[:-1]", ns), "[10, 20]");
  EXPECT_EQ(ev("d.s[1]", ns), "\xc3\xa9");
  EXPECT_EQ(ev("d.s[1:3]", ns), "\xc3\xa9l");
  EXPECT_EQ(ev("len(d.s)", ns), "5");
  EXPECT_EQ(ev("'hello'[::2]", ns), "hlo");
  EXPECT_EQ(err_kind("nope", ns), "NameError");
  EXPECT_EQ(err_kind("d.zz", ns), "AttributeError");
  EXPECT_EQ(err_kind("d['zz']", ns), "KeyError");
  EXPECT_EQ(err_kind("d.a.b[3]", ns), "IndexError");
  EXPECT_EQ(err_kind("x[0]", ns), "TypeError");
  EXPECT_EQ(err_kind("x()", ns), "TypeError");
}

TEST(ExprTest, CallsWithKeywords) {
  Value f = Value::function([](const CallArgs& a) -> Value {
    std::string out;
    for (auto& v : a.args) out += v.str() + ",";
    for (auto& [k, v] : a.kwargs) out += k + "=" + v.str() + ",";
    return Value(out);
  });
  EXPECT_EQ(ev("f(1, 'a', b=2, c=None)", {{"f", f}}), "1,a,b=2,c=None,");
  auto obj = std::make_shared<ObjectDict>();
  obj->attrs()["name"] = Value("N");
  obj->attrs()["greet"] = f;
  Namespace ns{{"o", Value(std::shared_ptr<const Object>(obj))}};
  EXPECT_EQ(ev("o.name", ns), "N");
  EXPECT_EQ(ev("o.greet(o.name)", ns), "N,");
  EXPECT_EQ(err_kind("o.missing", ns), "AttributeError");
}

TEST(ExprTest, Builtins) {
  EXPECT_EQ(ev("len([1, 2])"), "2");
  EXPECT_EQ(ev("len({'a': 1})"), "1");
  EXPECT_EQ(ev("range(3)"), "[0, 1, 2]");
  EXPECT_EQ(ev("range(1, 10, 4)"), "[1, 5, 9]");
  EXPECT_EQ(ev("range(3, 0, -1)"), "[3, 2, 1]");
  EXPECT_EQ(ev("enumerate('ab')"), "[[0, 'a'], [1, 'b']]");
  EXPECT_EQ(ev("sorted([3, 1, 2])"), "[1, 2, 3]");
  EXPECT_EQ(ev("sorted([3, 1, 2], reverse=True)"), "[3, 2, 1]");
  EXPECT_EQ(ev("sorted(['bb', 'a', 'ccc'], key=len)"), "['a', 'bb', 'ccc']");
  EXPECT_EQ(ev("reversed([1, 2])"), "[2, 1]");
  EXPECT_EQ(ev("str(1.0) + str(None)"), "1.0None");
  EXPECT_EQ(ev("int('42') + int(3.9) + int('-1')"), "44");
  EXPECT_EQ(ev("int('ff', 16)"), "255");
  EXPECT_EQ(ev("float('1.5')"), "1.5");
  EXPECT_EQ(ev("bool([])"), "False");
  EXPECT_EQ(ev("list('ab')"), "['a', 'b']");
  EXPECT_EQ(ev("dict([['a', 1]], b=2)"), "{'a': 1, 'b': 2}");
  EXPECT_EQ(ev("min([3, 1, 2])"), "1");
  EXPECT_EQ(ev("max(3, 7, 2)"), "7");
  EXPECT_EQ(ev("sum([1, 2, 3])"), "6");
  EXPECT_EQ(ev("abs(-2)"), "2");
  EXPECT_EQ(ev("round(2.5)"), "2");
  EXPECT_EQ(ev("round(2.675, 1)"), "2.7");
  EXPECT_EQ(ev("zip([1, 2], 'ab')"), "[[1, 'a'], [2, 'b']]");
  EXPECT_EQ(ev("any([0, 1]), all([0, 1])"), "[True, False]");
  EXPECT_EQ(ev("repr('a')"), "'a'");
  EXPECT_EQ(err_kind("int('x')"), "ValueError");
  EXPECT_EQ(err_kind("len(1)"), "TypeError");
  EXPECT_EQ(err_kind("range(100000000000)"), "MemoryError");
  EXPECT_EQ(err_kind("min([])"), "ValueError");
}

TEST(ExprTest, Methods) {
  EXPECT_EQ(ev("'Ab'.upper() + 'Ab'.lower()"), "ABab");
  EXPECT_EQ(ev("'  x '.strip() + '|' + 'xxaxx'.lstrip('x') + '|' + ' a '.rstrip()"), "x|axx| a");
  EXPECT_EQ(ev("'abc'.startswith('ab') and 'abc'.endswith(('x', 'bc'))"), "True");
  EXPECT_EQ(ev("', '.join(['a', 'b'])"), "a, b");
  EXPECT_EQ(ev("'a b  c'.split()"), "['a', 'b', 'c']");
  EXPECT_EQ(ev("'a,b,c'.split(',', 1)"), "['a', 'b,c']");
  EXPECT_EQ(ev("'aXbX'.replace('X', '-')"), "a-b-");
  EXPECT_EQ(ev("'hello'.find('l')"), "2");
  EXPECT_EQ(ev("'hello'.count('l')"), "2");
  EXPECT_EQ(ev("'hello world'.title() + 'x'.capitalize()"), "Hello WorldX");
  EXPECT_EQ(ev("'12'.isdigit()"), "True");
  EXPECT_EQ(ev("'{} and {name}'.format(1, name='n')"), "1 and n");
  EXPECT_EQ(ev("{'b': 2, 'a': 1}.items()"), "[['a', 1], ['b', 2]]");
  EXPECT_EQ(ev("{'b': 2, 'a': 1}.keys()"), "['a', 'b']");
  EXPECT_EQ(ev("{'b': 2, 'a': 1}.values()"), "[1, 2]");
  EXPECT_EQ(ev("{'a': 1}.get('a')"), "1");
  EXPECT_EQ(ev("{'a': 1}.get('z', 'd')"), "d");
  EXPECT_EQ(ev("[1, 2, 2].count(2)"), "2");
  EXPECT_EQ(ev("[1, 2].index(2)"), "1");
  EXPECT_EQ(err_kind("'a'.nope()"), "AttributeError");
  EXPECT_EQ(err_kind("[].index(1)"), "ValueError");
}

TEST(ExprTest, PercentFormatting) {
  EXPECT_EQ(ev("'%s-%d' % ('a', 3)"), "a-3");
  EXPECT_EQ(ev("'%05.2f' % 3.14159"), "03.14");
  EXPECT_EQ(ev("'%5s|%-5s|' % ('a', 'b')"), "    a|b    |");
  EXPECT_EQ(ev("'%x %X %o %%' % (255, 255, 8)"), "ff FF 10 %");
  EXPECT_EQ(ev("'%r' % 'a'"), "'a'");
  EXPECT_EQ(ev("'%(n)s is %(a)d' % {'n': 'x', 'a': 2}"), "x is 2");
  EXPECT_EQ(ev("'%03d' % 7"), "007");
  EXPECT_EQ(ev("'%.1e' % 12345.0"), "1.2e+04");
  EXPECT_EQ(err_kind("'%s %s' % ('a',)"), "TypeError");
  EXPECT_EQ(err_kind("'%s' % ('a', 'b')"), "TypeError");
  EXPECT_EQ(err_kind("'%d' % 'a'"), "TypeError");
}

TEST(ExprTest, FloatRepr) {
  EXPECT_EQ(ev("0.1 + 0.2"), "0.30000000000000004");
  EXPECT_EQ(ev("1e16"), "1e+16");
  EXPECT_EQ(ev("1.5e-5"), "1.5e-05");
  EXPECT_EQ(ev("0.0001"), "0.0001");
  EXPECT_EQ(ev("float('inf')"), "inf");
}

TEST(ExprTest, ParseErrors) {
  SlotTable slots;
  for (const char* src : {"", "1 +", "(", "[1, 2", "{'a' 1}", "a.", "a[1", "f(1,", "'x",
                          "1 2", "lambda x: x", "a if b", "not", "@", "0x", "import"}) {
    EXPECT_FALSE(parse_expression(src, slots).ok()) << src;
  }
  EXPECT_TRUE(parse_expression("a.b(c)[d:e:f] if g else -h ** 2", slots).ok());
}

TEST(ExprTest, Tokenizer) {
  auto t = tokenize("a.b  += 'x\\u00e9' 1.5e3 //= **");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 9u);  // including the end token
  EXPECT_EQ((*t)[3].text, "+=");
  EXPECT_EQ((*t)[4].text, "x\xc3\xa9");
  EXPECT_EQ((*t)[5].number.str(), "1500.0");
  EXPECT_EQ((*t)[6].text, "//=");
  EXPECT_EQ((*t)[7].text, "**");
}

TEST(ExprTest, SetStatements) {
  TemplateOptions o;
  o.autoescape = "";
  EXPECT_EQ(Template("{% set a, b = [1, 2] %}{% set a += 10 %}{% set s = 'x' %}{% set s *= 3 %}"
                     "{{ a }} {{ b }} {{ s }}", "t", nullptr, o).generate(),
            "11 2 xxx");
  EXPECT_EQ(Template("{% set xs = [1] %}{% set xs = xs + [2] %}{{ xs }}", "t", nullptr, o).generate(),
            "[1, 2]");
}

}  // namespace
}  // namespace tornado::template_
