// Tests of tornado::options, following tornado/test/options_test.py and the logging
// option tests of tornado/test/log_test.py.
#include "options/options.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "log/log.h"
#include "log/pretty_logging.h"

namespace tornado::options {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string testdata(const std::string& name) { return "options/testdata/" + name; }

TEST(OptionsTest, ParseCommandLine) {
  OptionParser options;
  options.define("port", {.default_value = 80});
  options.parse_command_line({"main.py", "--port=443"});
  EXPECT_EQ(options.get<int>("port"), 443);
  EXPECT_EQ(options.get<int64_t>("port"), 443);
}

TEST(OptionsTest, ParseConfigFile) {
  OptionParser options;
  options.define("port", {.default_value = 80});
  options.define("username", {.default_value = "foo"});
  options.define("my_path");
  options.parse_config_file(testdata("options_test.cfg"));
  EXPECT_EQ(options.get<int>("port"), 443);
  EXPECT_EQ(options.get<std::string>("username"), "李康");
  EXPECT_EQ(options.get<std::string>("my_path"), testdata("options_test.cfg"));
}

TEST(OptionsTest, ParseCallbacks) {
  OptionParser options;
  bool called = false;
  options.add_parse_callback([&] { called = true; });
  options.parse_command_line({"main.py"}, /*final=*/false);
  EXPECT_FALSE(called);
  options.parse_command_line({"main.py"});
  EXPECT_TRUE(called);
  called = false;
  options.parse_command_line({"main.py"});
  EXPECT_TRUE(called);
  called = false;
  options.parse_config_text("", "x.cfg");
  EXPECT_TRUE(called);
}

TEST(OptionsDeathTest, HelpPrintsUsageAndExits) {
  OptionParser options;
  options.define("port", {.default_value = 80, .help = "the port"});
  EXPECT_EXIT(options.parse_command_line({"main.py", "--help"}), ::testing::ExitedWithCode(0),
              "Usage: main.py \\[OPTIONS\\]");
}

TEST(OptionsTest, PrintHelpGroupsAndWraps) {
  OptionParser options;
  options.define("port", {.default_value = 80, .help = "the port", .group = "server"});
  options.define("name", {.help = std::string(100, 'x') + " tail", .metavar = "NAME",
                          .group = "server"});
  options.define("zeta_flag", {.default_value = true, .group = "other"});
  std::ostringstream out;
  options.print_help(out);
  std::string help = out.str();
  EXPECT_THAT(help, HasSubstr("Usage: main [OPTIONS]"));
  EXPECT_THAT(help, HasSubstr("\nserver options:\n"));
  EXPECT_THAT(help, HasSubstr("  --port                           the port (default 80)\n"));
  EXPECT_THAT(help, HasSubstr("  --zeta-flag                      (default True)\n"));
  EXPECT_THAT(help, HasSubstr("  --name=NAME                      " + std::string(44, 'x')));
  EXPECT_THAT(help, HasSubstr("--help"));
  // Groups are sorted: "other" before "server"; the "" group (help) has no header.
  EXPECT_LT(help.find("other options"), help.find("server options"));
  EXPECT_LT(help.find("--name"), help.find("--port"));
}

TEST(OptionsTest, Subcommand) {
  OptionParser base;
  base.define("verbose", {.default_value = false});
  OptionParser sub;
  sub.define("foo", {.type = Type::kString});
  std::vector<std::string> rest =
      base.parse_command_line({"main.py", "--verbose", "subcommand", "--foo=bar"});
  EXPECT_THAT(rest, ElementsAre("subcommand", "--foo=bar"));
  EXPECT_TRUE(base.get<bool>("verbose"));
  EXPECT_TRUE(sub.parse_command_line(rest).empty());
  EXPECT_EQ(sub.get<std::string>("foo"), "bar");
  std::ostringstream sink;
  auto* old = std::cerr.rdbuf(sink.rdbuf());
  EXPECT_THROW(sub.parse_command_line({"subcommand", "--verbose"}), Error);
  std::cerr.rdbuf(old);
}

TEST(OptionsTest, DoubleDashEndsFlags) {
  OptionParser options;
  options.define("a", {.default_value = 1});
  EXPECT_THAT(options.parse_command_line({"p", "--a=2", "--", "--a=3", "x"}),
              ElementsAre("--a=3", "x"));
  EXPECT_EQ(options.get<int>("a"), 2);
}

TEST(OptionsTest, UnknownOptionNamesClosest) {
  OptionParser options;
  options.define("port", {.default_value = 80});
  options.define("address", {.default_value = ""});
  std::ostringstream sink;
  auto* old = std::cerr.rdbuf(sink.rdbuf());
  try {
    options.parse_command_line({"main.py", "--prot=1"});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("Unrecognized command line option: 'prot'"));
    EXPECT_THAT(e.what(), HasSubstr("did you mean '--port'"));
  }
  std::cerr.rdbuf(old);
  EXPECT_THAT(sink.str(), HasSubstr("Usage:"));
}

TEST(OptionsTest, ValueRequiredForNonBool) {
  OptionParser options;
  options.define("port", {.default_value = 80});
  EXPECT_THROW(options.parse_command_line({"main.py", "--port"}), Error);
}

TEST(OptionsTest, Setattr) {
  OptionParser options;
  options.define("foo", {.default_value = 1, .type = Type::kInt});
  options.set("foo", 2);
  EXPECT_EQ(options.get<int>("foo"), 2);
}

TEST(OptionsTest, SetattrTypeCheck) {
  OptionParser options;
  options.define("foo", {.default_value = 1, .type = Type::kInt});
  EXPECT_THROW(options.set("foo", "2"), Error);
  EXPECT_EQ(options.get<int>("foo"), 1);
  options.set("foo", None{});  // None is allowed, as in Tornado
  EXPECT_EQ(options.get<std::optional<int>>("foo"), std::nullopt);
}

TEST(OptionsTest, SetattrWithCallback) {
  std::vector<Value> values;
  OptionParser options;
  options.define("foo", {.default_value = 1,
                         .type = Type::kInt,
                         .callback = [&](const Value& v) { values.push_back(v); }});
  options.set("foo", 2);
  options.parse_command_line({"main.py", "--foo=3"});
  EXPECT_THAT(values, ElementsAre(Value(int64_t{2}), Value(int64_t{3})));
}

OptionParser* sample_options() {
  auto* options = new OptionParser();
  options->define("a", {.default_value = 1});
  options->define("b", {.default_value = 2});
  return options;
}

TEST(OptionsTest, Iter) {
  std::unique_ptr<OptionParser> options(sample_options());
  EXPECT_THAT(options->names(), ElementsAre("a", "b", "help"));
}

TEST(OptionsTest, GetItemAndSetItem) {
  std::unique_ptr<OptionParser> options(sample_options());
  EXPECT_EQ(options->value("a"), Value(int64_t{1}));
  options->set("a", 5);
  EXPECT_EQ(options->value("a"), Value(int64_t{5}));
}

TEST(OptionsTest, ItemsAndAsDict) {
  std::unique_ptr<OptionParser> options(sample_options());
  using P = std::pair<std::string, Value>;
  EXPECT_THAT(options->items(), ElementsAre(P("a", int64_t{1}), P("b", int64_t{2}),
                                            P("help", None{})));
  std::map<std::string, Value> expected = {{"a", int64_t{1}}, {"b", int64_t{2}}, {"help", None{}}};
  EXPECT_EQ(options->as_dict(), expected);
}

TEST(OptionsTest, GroupDict) {
  OptionParser options;
  options.define("a", {.default_value = 1});
  options.define("b", {.default_value = 2, .group = "b_group"});
  EXPECT_THAT(options.groups(), ElementsAre("", "b_group", __FILE__));
  std::map<std::string, Value> b = {{"b", int64_t{2}}};
  EXPECT_EQ(options.group_dict("b_group"), b);
  EXPECT_TRUE(options.group_dict("nonexistent").empty());
}

TEST(OptionsTest, MockPatch) {
  OptionParser options;
  options.define("foo", {.default_value = 1});
  options.parse_command_line({"main.py", "--foo=2"});
  EXPECT_EQ(options.get<int>("foo"), 2);
  {
    auto patch = options.mockable("foo", int64_t{3});
    EXPECT_EQ(options.get<int>("foo"), 3);
  }
  EXPECT_EQ(options.get<int>("foo"), 2);
  {
    auto patch = options.mockable("foo", int64_t{4});
    EXPECT_EQ(options.get<int>("foo"), 4);
    options.set("foo", 5);
    EXPECT_EQ(options.get<int>("foo"), 5);
    {
      auto inner = options.mockable("foo", int64_t{6});
      EXPECT_EQ(options.get<int>("foo"), 6);
    }
    EXPECT_EQ(options.get<int>("foo"), 5);
  }
  EXPECT_EQ(options.get<int>("foo"), 2);
  EXPECT_THROW(options.mockable("foo", "x"), Error);
  EXPECT_EQ(options.get<int>("foo"), 2);
}

void define_types(OptionParser& options) {
  options.define("str", {.type = Type::kString});
  options.define("basestring", {.type = Type::kString});
  options.define("int", {.type = Type::kInt});
  options.define("float", {.type = Type::kFloat});
  options.define("datetime", {.type = Type::kDatetime});
  options.define("timedelta", {.type = Type::kDuration});
  options.define("list-of-int", {.type = Type::kInt, .multiple = true});
  options.define("list-of-str", {.type = Type::kString, .multiple = true});
}

void check_types(const OptionParser& options) {
  EXPECT_EQ(options.get<std::string>("str"), "asdf");
  EXPECT_EQ(options.get<std::string>("basestring"), "qwer");
  EXPECT_EQ(options.get<int>("int"), 42);
  EXPECT_EQ(options.get<double>("float"), 1.5);
  EXPECT_EQ(options.get<absl::CivilSecond>("datetime"), absl::CivilSecond(2013, 4, 28, 5, 16, 0));
  EXPECT_EQ(options.get<absl::Duration>("timedelta"), absl::Seconds(45));
  EXPECT_EQ(options.get<std::vector<int64_t>>("list_of_int"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(options.get<std::vector<std::string>>("list_of_str"),
            (std::vector<std::string>{"a", "b", "c"}));
}

TEST(OptionsTest, Types) {
  OptionParser options;
  define_types(options);
  options.parse_command_line({"main.py", "--str=asdf", "--basestring=qwer", "--int=42",
                              "--float=1.5", "--datetime=2013-04-28 05:16", "--timedelta=45s",
                              "--list-of-int=1,2,3", "--list-of-str=a,b,c"});
  check_types(options);
}

TEST(OptionsTest, TypesWithConfFile) {
  for (const char* file : {"options_test_types.cfg", "options_test_types_str.cfg"}) {
    SCOPED_TRACE(file);
    OptionParser options;
    define_types(options);
    options.parse_config_file(testdata(file));
    check_types(options);
  }
}

TEST(OptionsTest, BoolParsing) {
  OptionParser options;
  options.define("flag", {.default_value = false});
  for (auto [text, want] : std::vector<std::pair<std::string, bool>>{
           {"--flag", true}, {"--flag=false", false}, {"--flag=F", false}, {"--flag=0", false},
           {"--flag=yes", true}, {"--flag=1", true}, {"--flag=FALSE", false}}) {
    options.parse_command_line({"main.py", text});
    EXPECT_EQ(options.get<bool>("flag"), want) << text;
  }
}

TEST(OptionsTest, Durations) {
  OptionParser options;
  options.define("d", {.type = Type::kDuration});
  auto parse = [&](const std::string& text) {
    options.parse_command_line({"main.py", "--d=" + text});
    return options.get<absl::Duration>("d");
  };
  EXPECT_EQ(parse("5m"), absl::Minutes(5));
  EXPECT_EQ(parse("1h30s"), absl::Hours(1) + absl::Seconds(30));
  EXPECT_EQ(parse("1h 30m"), absl::Minutes(90));
  EXPECT_EQ(parse("10"), absl::Seconds(10));
  EXPECT_EQ(parse("1.5 hours"), absl::Minutes(90));
  EXPECT_EQ(parse("2w"), absl::Hours(24 * 14));
  EXPECT_EQ(parse("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(parse("3d 4us"), absl::Hours(72) + absl::Microseconds(4));
  EXPECT_THROW(parse("5 parsecs"), Error);
  EXPECT_THROW(parse("h"), Error);
  EXPECT_THROW(parse("1e400s"), Error);
}

TEST(OptionsTest, Datetimes) {
  OptionParser options;
  options.define("t", {.type = Type::kDatetime});
  auto parse = [&](const std::string& text) {
    options.parse_command_line({"main.py", "--t=" + text});
    return options.get<absl::CivilSecond>("t");
  };
  EXPECT_EQ(parse("Sun Apr 28 05:16:07 2013"), absl::CivilSecond(2013, 4, 28, 5, 16, 7));
  EXPECT_EQ(parse("2013-04-28T05:16"), absl::CivilSecond(2013, 4, 28, 5, 16, 0));
  EXPECT_EQ(parse("20130428 05:16:07"), absl::CivilSecond(2013, 4, 28, 5, 16, 7));
  EXPECT_EQ(parse("2013-04-28"), absl::CivilSecond(2013, 4, 28, 0, 0, 0));
  EXPECT_EQ(parse("20130428"), absl::CivilSecond(2013, 4, 28, 0, 0, 0));
  EXPECT_EQ(parse("05:16"), absl::CivilSecond(1900, 1, 1, 5, 16, 0));
  EXPECT_THROW(parse("yesterday"), Error);
}

TEST(OptionsTest, MultipleString) {
  OptionParser options;
  options.define("foo", {.type = Type::kString, .multiple = true});
  options.parse_command_line({"main.py", "--foo=a,b,c"});
  EXPECT_EQ(options.get<std::vector<std::string>>("foo"),
            (std::vector<std::string>{"a", "b", "c"}));
}

TEST(OptionsTest, MultipleInt) {
  OptionParser options;
  options.define("foo", {.type = Type::kInt, .multiple = true});
  options.parse_command_line({"main.py", "--foo=1,3,5:7"});
  EXPECT_EQ(options.get<std::vector<int64_t>>("foo"), (std::vector<int64_t>{1, 3, 5, 6, 7}));
  options.parse_command_line({"main.py", "--foo=7:5"});  // Python's empty range
  EXPECT_TRUE(options.get<std::vector<int64_t>>("foo").empty());
}

TEST(OptionsTest, HugeRangeIsAnErrorNotAnAllocation) {
  OptionParser options;
  options.define("foo", {.type = Type::kInt, .multiple = true});
  EXPECT_THROW(options.parse_command_line({"main.py", "--foo=0:9223372036854775807"}), Error);
  EXPECT_THROW(options.parse_command_line({"main.py", "--foo=-9223372036854775808:0"}), Error);
  options.parse_command_line({"main.py", "--foo=9223372036854775806:9223372036854775807"});
  EXPECT_EQ(options.get<std::vector<int64_t>>("foo").size(), 2u);
}

TEST(OptionsTest, ErrorRedefine) {
  OptionParser options;
  options.define("foo");
  try {
    options.define("foo");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::ContainsRegex("Option.*foo.*already defined"));
  }
}

TEST(OptionsTest, ErrorRedefineUnderscore) {
  for (auto [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"foo-bar", "foo-bar"}, {"foo_bar", "foo_bar"}, {"foo-bar", "foo_bar"},
           {"foo_bar", "foo-bar"}}) {
    OptionParser options;
    options.define(a);
    try {
      options.define(b);
      ADD_FAILURE() << a << " " << b;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), ::testing::ContainsRegex("Option.*foo.bar.*already defined"));
    }
  }
}

TEST(OptionsTest, DashUnderscoreCli) {
  for (std::string defined : {"foo-bar", "foo_bar"}) {
    for (std::string flag : {"--foo-bar=a", "--foo_bar=a"}) {
      OptionParser options;
      options.define(defined);
      options.parse_command_line({"main.py", flag});
      EXPECT_EQ(options.get<std::string>("foo_bar"), "a");
      EXPECT_EQ(options.get<std::string>("foo-bar"), "a");
    }
  }
}

TEST(OptionsTest, DashUnderscoreFile) {
  for (std::string defined : {"foo-bar", "foo_bar"}) {
    OptionParser options;
    options.define(defined);
    options.parse_config_file(testdata("options_test.cfg"));
    EXPECT_EQ(options.get<std::string>("foo_bar"), "a");
  }
}

TEST(OptionsTest, DashUnderscoreIntrospection) {
  OptionParser options;
  options.define("with-dash", {.group = "g"});
  options.define("with_underscore", {.group = "g"});
  EXPECT_THAT(options.names(), ElementsAre("help", "with-dash", "with_underscore"));
  std::vector<std::string> keys;
  for (auto& [k, v] : options.as_dict()) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("help", "with-dash", "with_underscore"));
  keys.clear();
  for (auto& [k, v] : options.group_dict("g")) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("with-dash", "with_underscore"));
  std::ostringstream out;
  options.print_help(out);
  EXPECT_THAT(out.str(), HasSubstr("--with-dash"));
  EXPECT_THAT(out.str(), HasSubstr("--with-underscore"));
}

TEST(OptionsTest, TypedAccessErrors) {
  OptionParser options;
  options.define("port", {.default_value = 80});
  options.define("big", {.default_value = int64_t{1} << 40});
  try {
    options.get<std::string>("port");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Option 'port' is a int, not a str");
  }
  EXPECT_THROW(options.get<int>("nope"), Error);
  EXPECT_THROW(options.get<int>("big"), Error);
  EXPECT_EQ(options.get<int64_t>("big"), int64_t{1} << 40);
  EXPECT_THROW(options.set("nope", 1), Error);
  EXPECT_THROW(options.define("bad", {.default_value = "x", .type = Type::kInt}), Error);
}

TEST(OptionsTest, BadValuesOnCommandLine) {
  OptionParser options;
  options.define("port", {.default_value = 80});
  options.define("ratio", {.default_value = 0.5});
  EXPECT_THROW(options.parse_command_line({"main.py", "--port=eighty"}), Error);
  EXPECT_THROW(options.parse_command_line({"main.py", "--port=99999999999999999999"}), Error);
  EXPECT_THROW(options.parse_command_line({"main.py", "--ratio=half"}), Error);
  EXPECT_EQ(options.get<int>("port"), 80);
  options.parse_command_line({"main.py", "--port= 1_000 "});
  EXPECT_EQ(options.get<int>("port"), 1000);
  options.set("ratio", 2);  // an int widens to float
  EXPECT_EQ(options.get<double>("ratio"), 2.0);
}

TEST(OptionsTest, ConfigFileValueTypes) {
  OptionParser options;
  options.define("port", {.default_value = 80});
  options.define("ratio", {.default_value = 0.5});
  options.define("names", {.type = Type::kString, .multiple = true});
  options.define("flag", {.default_value = false});
  options.define("maybe", {.type = Type::kString});
  options.parse_config_text(
      "port = 0x1F\nratio = 2\nnames = ['a', \"b\"]\nflag = True\nmaybe = None\n", "t.cfg");
  EXPECT_EQ(options.get<int>("port"), 31);
  EXPECT_EQ(options.get<double>("ratio"), 2.0);
  EXPECT_EQ(options.get<std::vector<std::string>>("names"),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(options.get<bool>("flag"));
  EXPECT_EQ(options.get<std::optional<std::string>>("maybe"), std::nullopt);
  try {
    options.parse_config_text("\n\nport = [1]\n", "t.cfg");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("t.cfg:3: Option 'port' is required to be a int"));
  }
  try {
    options.parse_config_text("port = 1\nimport os\n", "t.cfg");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("t.cfg:2:"));
  }
  // A bad file sets nothing: parsing happens before any assignment.
  EXPECT_EQ(options.get<int>("port"), 31);
  EXPECT_THROW(options.parse_config_file("options/testdata/does-not-exist.cfg"), Error);
}

TEST(OptionsTest, GarbageAndLargeConfigFiles) {
  OptionParser options;
  options.define("x", {.default_value = 1});
  // Large valid file: linear time.
  std::string big;
  for (int i = 0; i < 200000; ++i) big += "x = " + std::to_string(i) + "  # c\n";
  options.parse_config_text(big, "big.cfg");
  EXPECT_EQ(options.get<int>("x"), 199999);
  // Deep nesting fails cleanly instead of overflowing the stack.
  EXPECT_THROW(options.parse_config_text("x = " + std::string(100000, '['), "deep.cfg"), Error);
  // A huge unterminated string.
  EXPECT_THROW(options.parse_config_text("x = '''" + std::string(1 << 20, 'a'), "s.cfg"), Error);
  // Pseudo-random bytes never crash.
  uint32_t seed = 12345;
  for (int round = 0; round < 300; ++round) {
    std::string junk;
    for (int i = 0; i < 400; ++i) {
      seed = seed * 1103515245 + 12345;
      static const char kAlphabet[] = "x =[]{}(),:'\"\\#\n0123456789.eE+-_rbuTrueFalseNone\xc3\xa9";
      junk += kAlphabet[(seed >> 16) % (sizeof(kAlphabet) - 1)];
    }
    try {
      options.parse_config_text(junk, "junk.cfg");
    } catch (const Error&) {
    }
  }
}

// ---- the logging options (log_test.py's LoggingOptionTest) ----

class LoggingOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    define_logging_options(parser_);
    log::app_log().set_level(spdlog::level::warn);
  }
  void TearDown() override {
    log::app_log().set_level(spdlog::level::info);
  }
  bool info_enabled() { return log::app_log().should_log(spdlog::level::info); }
  OptionParser parser_;
};

TEST_F(LoggingOptionsTest, DefaultDoesNothingUntilParsed) { EXPECT_FALSE(info_enabled()); }

TEST_F(LoggingOptionsTest, ParseEnablesInfo) {
  parser_.parse_command_line({"main.py"});
  EXPECT_TRUE(info_enabled());
}

TEST_F(LoggingOptionsTest, DisableCommandLine) {
  parser_.parse_command_line({"main.py", "--logging=none"});
  EXPECT_FALSE(info_enabled());
}

TEST_F(LoggingOptionsTest, DisableCommandLineCaseInsensitive) {
  parser_.parse_command_line({"main.py", "--logging=None"});
  EXPECT_FALSE(info_enabled());
}

TEST_F(LoggingOptionsTest, DisableCodeString) {
  parser_.set("logging", "none");
  parser_.parse_command_line({"main.py"});
  EXPECT_FALSE(info_enabled());
}

TEST_F(LoggingOptionsTest, DisableCodeNone) {
  parser_.set("logging", None{});
  parser_.parse_command_line({"main.py"});
  EXPECT_FALSE(info_enabled());
}

TEST_F(LoggingOptionsTest, CommandLineBeatsCode) {
  parser_.set("logging", None{});
  parser_.parse_command_line({"main.py", "--logging=info"});
  EXPECT_TRUE(info_enabled());
}

TEST_F(LoggingOptionsTest, CommandLineBeatsConfigFileWhenParsedLast) {
  parser_.parse_config_text("logging = 'none'\n", "log.cfg", /*final=*/false);
  parser_.parse_command_line({"main.py", "--logging=debug"});
  EXPECT_TRUE(log::app_log().should_log(spdlog::level::debug));
}

TEST_F(LoggingOptionsTest, LogFileFromFlags) {
  std::string path = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") +
                     "/options_log_test.log";
  std::remove(path.c_str());
  parser_.parse_command_line({"main.py", "--log_file_prefix=" + path, "--log-to-stderr=false",
                              "--log_file_max_size=1000000", "--log_rotate_mode=size"});
  log::app_log().info("hello from options");
  log::app_log().flush();
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_THAT(content.str(), HasSubstr("hello from options"));
  log::enable_pretty_logging(log::LoggingOptions{});  // back to stderr only
}

TEST_F(LoggingOptionsTest, InvalidLevelThrows) {
  EXPECT_THROW(parser_.parse_command_line({"main.py", "--logging=loud"}), std::invalid_argument);
}

TEST(GlobalOptionsTest, HasLoggingOptionsAndDefine) {
  EXPECT_TRUE(options().contains("logging"));
  EXPECT_TRUE(options().contains("log-file-prefix"));
  EXPECT_EQ(options().get<std::string>("log_rotate_mode"), "size");
  define("global_test_port", {.default_value = 8888});
  EXPECT_EQ(options().get<int>("global_test_port"), 8888);
  {
    auto o = options().mockable("global_test_port", int64_t{1});
    EXPECT_EQ(options().get<int>("global_test_port"), 1);
  }
  EXPECT_EQ(options().get<int>("global_test_port"), 8888);
}

TEST(FormatValueTest, PythonStyle) {
  EXPECT_EQ(format_value(Value(true)), "True");
  EXPECT_EQ(format_value(Value(1.5)), "1.5");
  EXPECT_EQ(format_value(Value(2.0)), "2.0");
  EXPECT_EQ(format_value(Value(None{})), "None");
  EXPECT_EQ(format_value(Value(std::vector<int64_t>{1, 2})), "[1, 2]");
  EXPECT_EQ(format_value(Value(std::vector<std::string>{"a"})), "['a']");
  EXPECT_EQ(format_value(Value(absl::Seconds(45))), "0:00:45");
  EXPECT_EQ(format_value(Value(absl::Hours(49))), "2 days, 1:00:00");
}

}  // namespace
}  // namespace tornado::options
