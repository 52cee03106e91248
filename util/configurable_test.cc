// Tests for Configurable, after Tornado's ConfigurableTest (tornado/test/util_test.py).
#include "util/configurable.h"

#include <optional>
#include <stdexcept>

#include <gtest/gtest.h>

namespace tornado::util {
namespace {

class TestConfig1;

class TestConfigurable : public Configurable<TestConfigurable> {
 public:
  using ConfigurableDefault = TestConfig1;
};

// Tornado's positional argument becomes the keyword "pos_arg".
class TestConfig1 : public TestConfigurable {
 public:
  explicit TestConfig1(const Kwargs& kwargs)
      : a(optional_int(kwargs, "a")), pos_arg(optional_int(kwargs, "pos_arg")) {}
  static std::optional<int> optional_int(const Kwargs& kwargs, std::string_view name) {
    const int* v = kwargs.get<int>(name);
    return v ? std::optional<int>(*v) : std::nullopt;
  }
  std::optional<int> a, pos_arg;
};

class TestConfig2 : public TestConfigurable {
 public:
  explicit TestConfig2(const Kwargs& kwargs)
      : b(TestConfig1::optional_int(kwargs, "b")),
        pos_arg(TestConfig1::optional_int(kwargs, "pos_arg")) {}
  std::optional<int> b, pos_arg;
};

class TestConfig3A;

// A configuration option that is itself configurable.
class TestConfig3 : public TestConfigurable, public Configurable<TestConfig3> {
 public:
  using ConfigurableDefault = TestConfig3A;
  using Configurable<TestConfig3>::create;
  using Configurable<TestConfig3>::configure;
  using Configurable<TestConfig3>::configured_class;
  using Configurable<TestConfig3>::save_configuration;
  using Configurable<TestConfig3>::restore_configuration;
};

class TestConfig3A : public TestConfig3 {
 public:
  explicit TestConfig3A(const Kwargs& kwargs) : a(TestConfig1::optional_int(kwargs, "a")) {}
  std::optional<int> a;
};

class TestConfig3B : public TestConfig3 {
 public:
  explicit TestConfig3B(const Kwargs& kwargs) : b(TestConfig1::optional_int(kwargs, "b")) {}
  std::optional<int> b;
};

template <typename T, typename P>
T* as(const std::unique_ptr<P>& p) {
  return dynamic_cast<T*>(p.get());
}

class ConfigurableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = TestConfigurable::save_configuration();
    saved3_ = TestConfig3::save_configuration();
  }
  void TearDown() override {
    TestConfigurable::restore_configuration(saved_);
    TestConfig3::restore_configuration(saved3_);
  }
  Configurable<TestConfigurable>::Configuration saved_;
  Configurable<TestConfig3>::Configuration saved3_;
};

TEST_F(ConfigurableTest, Default) {
  auto obj = TestConfigurable::create();
  ASSERT_NE(as<TestConfig1>(obj), nullptr);
  EXPECT_EQ(as<TestConfig1>(obj)->a, std::nullopt);

  obj = TestConfigurable::create({{"a", 1}});
  ASSERT_NE(as<TestConfig1>(obj), nullptr);
  EXPECT_EQ(as<TestConfig1>(obj)->a, 1);
  EXPECT_EQ(TestConfigurable::configured_class(), typeid(TestConfig1));
}

TEST_F(ConfigurableTest, ConfigClass) {
  TestConfigurable::configure<TestConfig2>();
  EXPECT_EQ(TestConfigurable::configured_class(), typeid(TestConfig2));
  auto obj = TestConfigurable::create();
  ASSERT_NE(as<TestConfig2>(obj), nullptr);
  EXPECT_EQ(as<TestConfig2>(obj)->b, std::nullopt);

  obj = TestConfigurable::create({{"b", 2}});
  ASSERT_NE(as<TestConfig2>(obj), nullptr);
  EXPECT_EQ(as<TestConfig2>(obj)->b, 2);
}

// Tornado's test_config_str: configure by name (Tornado imports a dotted class name).
TEST_F(ConfigurableTest, ConfigByRegisteredName) {
  TestConfigurable::register_implementation<TestConfig2>("test_config2");
  ASSERT_TRUE(TestConfigurable::configure("test_config2").ok());
  auto obj = TestConfigurable::create({{"b", 2}});
  ASSERT_NE(as<TestConfig2>(obj), nullptr);
  EXPECT_EQ(as<TestConfig2>(obj)->b, 2);

  absl::Status missing = TestConfigurable::configure("no_such_impl");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  // A failed configure leaves the configuration as it was.
  EXPECT_EQ(TestConfigurable::configured_class(), typeid(TestConfig2));
}

TEST_F(ConfigurableTest, ConfigArgs) {
  TestConfigurable::configure(nullptr, {{"a", 3}});
  auto obj = TestConfigurable::create();
  ASSERT_NE(as<TestConfig1>(obj), nullptr);
  EXPECT_EQ(as<TestConfig1>(obj)->a, 3);

  obj = TestConfigurable::create({{"pos_arg", 42}, {"a", 4}});
  ASSERT_NE(as<TestConfig1>(obj), nullptr);
  EXPECT_EQ(as<TestConfig1>(obj)->a, 4);  // the caller's kwargs win over configured ones
  EXPECT_EQ(as<TestConfig1>(obj)->pos_arg, 42);
}

TEST_F(ConfigurableTest, ConfigClassArgs) {
  TestConfigurable::configure<TestConfig2>({{"b", 5}});
  auto obj = TestConfigurable::create();
  ASSERT_NE(as<TestConfig2>(obj), nullptr);
  EXPECT_EQ(as<TestConfig2>(obj)->b, 5);

  obj = TestConfigurable::create({{"pos_arg", 42}, {"b", 6}});
  ASSERT_NE(as<TestConfig2>(obj), nullptr);
  EXPECT_EQ(as<TestConfig2>(obj)->b, 6);
  EXPECT_EQ(as<TestConfig2>(obj)->pos_arg, 42);
}

TEST_F(ConfigurableTest, ConfigMultiLevel) {
  TestConfigurable::configure<TestConfig3>({{"a", 1}});
  auto obj = TestConfigurable::create();
  ASSERT_NE(as<TestConfig3A>(obj), nullptr);
  EXPECT_EQ(as<TestConfig3A>(obj)->a, 1);

  TestConfigurable::configure<TestConfig3>();
  TestConfig3::configure<TestConfig3B>({{"b", 2}});
  auto obj2 = TestConfigurable::create();
  ASSERT_NE(as<TestConfig3B>(obj2), nullptr);
  EXPECT_EQ(as<TestConfig3B>(obj2)->b, 2);
}

TEST_F(ConfigurableTest, ConfigInnerLevel) {
  // The inner level can be used even when the outer level doesn't point to it.
  EXPECT_NE(as<TestConfig3A>(TestConfig3::create()), nullptr);
  TestConfig3::configure<TestConfig3B>();
  EXPECT_NE(as<TestConfig3B>(TestConfig3::create()), nullptr);

  // Configuring the base doesn't configure the inner.
  EXPECT_NE(as<TestConfig1>(TestConfigurable::create()), nullptr);
  TestConfigurable::configure<TestConfig2>();
  EXPECT_NE(as<TestConfig2>(TestConfigurable::create()), nullptr);
  EXPECT_NE(as<TestConfig3B>(TestConfig3::create()), nullptr);
}

TEST_F(ConfigurableTest, SaveAndRestore) {
  const auto before = TestConfigurable::save_configuration();
  TestConfigurable::configure<TestConfig2>({{"b", 7}});
  TestConfigurable::restore_configuration(before);
  EXPECT_EQ(TestConfigurable::configured_class(), typeid(TestConfig1));
  EXPECT_NE(as<TestConfig1>(TestConfigurable::create()), nullptr);
}

TEST(KwargsTest, GetUpdateAndTypeMismatch) {
  Kwargs kw{{"a", 1}, {"s", std::string("x")}};
  EXPECT_EQ(*kw.get<int>("a"), 1);
  EXPECT_EQ(kw.get<int>("missing"), nullptr);
  EXPECT_EQ(kw.get_or<std::string>("s", "default"), "x");
  EXPECT_EQ(kw.get_or<int>("missing", 9), 9);
  EXPECT_THROW(kw.get<std::string>("a"), std::invalid_argument);
  kw.update(Kwargs{{"a", 2}, {"c", 3}});
  EXPECT_EQ(*kw.get<int>("a"), 2);
  EXPECT_EQ(kw.size(), 3u);
}

}  // namespace
}  // namespace tornado::util
