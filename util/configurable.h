// Configurable (tornado.util.Configurable): an interface whose factory builds the
// implementation chosen at runtime with configure(), plus Kwargs, the keyword
// arguments handed to implementations.
//
//   class Resolver : public util::Configurable<Resolver> {
//    public:
//     using ConfigurableDefault = DefaultResolver;  // Tornado's configurable_default()
//   };
//   class DefaultResolver : public Resolver {
//    public:
//     explicit DefaultResolver(const util::Kwargs& kwargs);
//   };
//   Resolver::configure<ThreadedResolver>({{"num_threads", 4}});
//   std::unique_ptr<Resolver> r = Resolver::create();  // Tornado: Resolver()
//
// An implementation may itself be a configurable base (derive from Configurable<Impl>
// too); create() then recurses into its configuration, as Tornado does. Such a class
// inherits two sets of static members, so it says which it means with
// `using Configurable<Impl>::create;` (and configure, configured_class, ...).
#pragma once

#include <any>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tornado::util {
namespace internal {
// Debian's abseil has its own string_view type, distinct from std::string_view.
inline absl::string_view to_absl(std::string_view s) { return {s.data(), s.size()}; }
}  // namespace internal

// Keyword arguments by name (Python's **kwargs). Values are std::any: {"a", 1} stores
// an int, {"name", "x"} a const char*, {"name", std::string("x")} a std::string.
class Kwargs {
 public:
  Kwargs() = default;
  Kwargs(std::initializer_list<std::pair<std::string, std::any>> items) {
    for (const auto& [name, value] : items) values_[name] = value;
  }

  // Sets (or replaces) one argument.
  void set(std::string name, std::any value) { values_[std::move(name)] = std::move(value); }

  // Copies every argument of `other` into this one; `other` wins on a clash
  // (Python's dict.update).
  void update(const Kwargs& other) {
    for (const auto& [name, value] : other.values_) values_[name] = value;
  }

  bool contains(std::string_view name) const { return values_.contains(internal::to_absl(name)); }
  size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }

  // The argument as a T, or nullptr when absent. Throws std::invalid_argument when it is
  // present with another type (Python would raise TypeError somewhere later).
  template <typename T>
  const T* get(std::string_view name) const {
    auto it = values_.find(internal::to_absl(name));
    if (it == values_.end()) return nullptr;
    const T* value = std::any_cast<T>(&it->second);
    if (value == nullptr) {
      throw std::invalid_argument(absl::StrCat("keyword argument '", internal::to_absl(name), "' is a ",
                                               it->second.type().name(), ", not a ",
                                               typeid(T).name()));
    }
    return value;
  }

  // The argument as a T, or `fallback` when absent.
  template <typename T>
  T get_or(std::string_view name, T fallback) const {
    const T* value = get<T>(name);
    return value != nullptr ? *value : std::move(fallback);
  }

 private:
  absl::flat_hash_map<std::string, std::any> values_;
};

// Base of a configurable interface; `Base` is the interface itself (CRTP) and must
// declare `using ConfigurableDefault = SomeImpl;` (Tornado's configurable_default()).
// Implementations derive from Base and are constructible from `const Kwargs&` (Tornado's
// initialize(**kwargs)). The interface's own base class is `Base` (Tornado's
// configurable_base()).
template <typename Base>
class Configurable {
 public:
  using Factory = std::function<std::unique_ptr<Base>(const Kwargs&)>;

  // A saved configuration, for tests that change it and must put it back.
  struct Configuration {
    bool configured = false;  // false: ConfigurableDefault with no saved kwargs
    std::type_index type = typeid(void);
    Factory factory;
    Kwargs kwargs;
  };

  virtual ~Configurable() = default;

  // Builds the configured implementation (Tornado: calling the base class, `Base(**kw)`).
  // Its constructor gets the kwargs saved by configure() updated with `kwargs`.
  static std::unique_ptr<Base> create(const Kwargs& kwargs = {}) {
    Configuration config = current();
    config.kwargs.update(kwargs);
    return config.factory(config.kwargs);
  }

  // Makes create() build `Impl` (Tornado's configure(impl, **kwargs)); `kwargs` are
  // saved and passed to every create(), under the caller's own.
  template <typename Impl>
  static void configure(Kwargs kwargs = {}) {
    static_assert(std::is_base_of_v<Base, Impl>, "configure: Impl must derive from Base");
    set(Configuration{true, typeid(Impl), factory_for<Impl>(), std::move(kwargs)});
  }

  // Goes back to ConfigurableDefault, with these saved kwargs (Tornado's
  // configure(None, **kwargs)).
  static void configure(std::nullptr_t, Kwargs kwargs = {}) {
    Configuration config = default_configuration();
    config.configured = true;
    config.kwargs = std::move(kwargs);
    set(std::move(config));
  }

  // Configures the implementation registered under `name` (Tornado's configure with a
  // dotted class name). NotFound when no such name was registered.
  static absl::Status configure(std::string_view name, Kwargs kwargs = {}) {
    Configuration config;
    {
      std::lock_guard<std::mutex> lock(state().mu);
      auto it = state().registry.find(internal::to_absl(name));
      if (it == state().registry.end()) {
        return absl::NotFoundError(absl::StrCat("no implementation named '", internal::to_absl(name),
                                                "' is registered for ", typeid(Base).name()));
      }
      config = it->second;
    }
    config.configured = true;
    config.kwargs = std::move(kwargs);
    set(std::move(config));
    return absl::OkStatus();
  }

  // Registers `Impl` under `name` so that configure(name) can select it, e.g. from a
  // command-line option.
  template <typename Impl>
  static void register_implementation(std::string name) {
    static_assert(std::is_base_of_v<Base, Impl>, "register: Impl must derive from Base");
    std::lock_guard<std::mutex> lock(state().mu);
    state().registry[std::move(name)] = Configuration{true, typeid(Impl), factory_for<Impl>(), {}};
  }

  // The implementation create() builds now (Tornado's configured_class()).
  static std::type_index configured_class() { return current().type; }

  // Tornado's _save_configuration / _restore_configuration.
  static Configuration save_configuration() {
    std::lock_guard<std::mutex> lock(state().mu);
    return state().config;
  }
  static void restore_configuration(Configuration saved) { set(std::move(saved)); }

 private:
  struct State {
    std::mutex mu;
    Configuration config;
    absl::flat_hash_map<std::string, Configuration> registry;
  };

  static State& state() {
    static State* s = new State();  // never destroyed: usable during static teardown
    return *s;
  }

  static void set(Configuration config) {
    std::lock_guard<std::mutex> lock(state().mu);
    state().config = std::move(config);
  }

  static Configuration default_configuration() {
    using Default = typename Base::ConfigurableDefault;
    return Configuration{false, typeid(Default), factory_for<Default>(), {}};
  }

  static Configuration current() {
    {
      std::lock_guard<std::mutex> lock(state().mu);
      if (state().config.factory) return state().config;
    }
    return default_configuration();
  }

  // An implementation that is itself a configurable base builds its own configured
  // implementation (Tornado: "the impl class is itself configurable, so recurse").
  template <typename Impl>
  static Factory factory_for() {
    if constexpr (!std::is_same_v<Impl, Base> && std::is_base_of_v<Configurable<Impl>, Impl>) {
      return [](const Kwargs& kwargs) -> std::unique_ptr<Base> {
        return Configurable<Impl>::create(kwargs);
      };
    } else {
      return [](const Kwargs& kwargs) -> std::unique_ptr<Base> {
        return std::make_unique<Impl>(kwargs);
      };
    }
  }
};

}  // namespace tornado::util
