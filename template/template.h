// Tornado's template language (tornado.template): Template, Loader, DictLoader, ParseError.
// Templates are parsed once into a tree (includes and inheritance resolved, names bound
// to slots) and rendered by walking it into one output buffer. Namespace:
// tornado::template_ (`template` is a C++ keyword).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "template/expr.h"
#include "template/value.h"

namespace tornado::template_ {

// Maximum nesting of blocks ({% if %}, {% for %}, ...) plus includes and inherited blocks.
inline constexpr int kMaxNesting = 100;
// Maximum number of compiled nodes in one template after includes are inlined.
inline constexpr size_t kMaxNodes = 100'000;

// Raised for template syntax errors, unknown or misplaced directives, bad expressions,
// missing templates and include/extends cycles (Tornado's ParseError). what() is
// "<message> at <filename>:<lineno>".
class ParseError : public std::runtime_error {
 public:
  ParseError(std::string message, std::string filename = "<unknown>", int lineno = 0);
  const std::string& message() const { return message_; }
  const std::string& filename() const { return filename_; }
  int lineno() const { return lineno_; }

 private:
  std::string message_, filename_;
  int lineno_;
};

// Per-template settings (Tornado's Template constructor keywords).
struct TemplateOptions {
  // Name of the escaping function for {{ }}: unset means the Loader's setting, or
  // "xhtml_escape" without a Loader; "" means no escaping (Tornado's None).
  std::optional<std::string> autoescape;
  // "all", "single" or "oneline"; unset means the Loader's setting, else "single" for
  // names ending in .html or .js and "all" otherwise.
  std::optional<std::string> whitespace;
};

class BaseLoader;
struct Chunk;
struct Node;

// A compiled template (tornado.template.Template). Immutable after construction, so one
// Template may render concurrently from many threads.
class Template {
 public:
  // Parses and compiles `source`; throws ParseError. `loader` resolves {% extends %} and
  // {% include %} and must outlive the constructor call only.
  explicit Template(std::string_view source, std::string name = "<string>",
                    BaseLoader* loader = nullptr, TemplateOptions options = {});
  ~Template();
  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;

  // Like the constructor, but returns the ParseError as a status instead of throwing.
  static absl::StatusOr<std::shared_ptr<const Template>> create(std::string_view source,
                                                                std::string name = "<string>",
                                                                BaseLoader* loader = nullptr,
                                                                TemplateOptions options = {});

  // Renders with `ns` (Tornado's generate(**kwargs)); values in `ns` shadow the Loader's
  // namespace and the builtins. Throws TemplateError (naming file and line) for errors in
  // template code, and lets exceptions from C++ functions through unchanged.
  std::string generate(const Namespace& ns = {}) const;
  // Appends the output to `out` instead of returning a new string.
  void generate_to(std::string& out, const Namespace& ns = {}) const;

  const std::string& name() const { return name_; }
  // The escaping function name, "" for none (Tornado's Template.autoescape).
  const std::string& autoescape() const { return autoescape_; }

 private:
  friend class BaseLoader;
  friend struct Compiler;
  void parse(std::string_view source);
  void compile(BaseLoader* loader);

  std::string name_;
  std::string autoescape_;
  std::string whitespace_;
  std::vector<Chunk> file_;  // parsed source, used by templates that extend or include this
  std::vector<std::shared_ptr<const Template>> ancestors_;  // extends chain, parent first

  SlotTable slots_;
  std::vector<Value> base_slots_;  // loader namespace + builtins, per slot
  bool escape_overridden_ = false;  // the loader namespace replaces xhtml_escape
  std::vector<Node> root_;
  size_t node_count_ = 0;
  mutable std::atomic<size_t> size_hint_{0};
};

// Loads and caches templates by name (tornado.template.BaseLoader). Thread-safe.
class BaseLoader {
 public:
  struct Options {
    // Escaping function for {{ }} in templates that don't say; "" disables escaping.
    std::string autoescape = "xhtml_escape";
    // Functions and values every template of this loader sees (Tornado's namespace=):
    // the C++ equivalent of importing a module in a template.
    Namespace namespace_;
    // Whitespace mode for all templates ("all", "single", "oneline"); unset = by suffix.
    std::optional<std::string> whitespace;
  };
  explicit BaseLoader(Options options);
  virtual ~BaseLoader();

  // The compiled template `name` (resolved relative to `parent_path`), parsed on first
  // use and cached. Throws ParseError, including for a missing template and for
  // extends/include cycles.
  std::shared_ptr<const Template> load(std::string_view name, std::string_view parent_path = "");
  // Drops every cached template, so files are re-read (debug mode).
  void reset();
  // Converts a possibly relative name to the cache key (Tornado's resolve_path).
  virtual std::string resolve_path(std::string_view name, std::string_view parent_path) const = 0;

  const Options& options() const { return options_; }

 protected:
  // The source text of the template `name` (already resolved); nullopt if missing.
  virtual std::optional<std::string> read_source(const std::string& name) = 0;

 private:
  Options options_;
  std::recursive_mutex mu_;
  std::map<std::string, std::shared_ptr<const Template>> templates_;
  std::vector<std::string> loading_;  // names being compiled, to detect cycles
};

// Loads templates from files under a root directory (tornado.template.Loader).
class Loader : public BaseLoader {
 public:
  explicit Loader(std::string root_directory, Options options = {});
  std::string resolve_path(std::string_view name, std::string_view parent_path) const override;
  const std::string& root() const { return root_; }

 protected:
  std::optional<std::string> read_source(const std::string& name) override;

 private:
  std::string root_;
};

// Loads templates from an in-memory map of name to source (tornado.template.DictLoader).
class DictLoader : public BaseLoader {
 public:
  explicit DictLoader(std::map<std::string, std::string> templates, Options options = {});
  std::string resolve_path(std::string_view name, std::string_view parent_path) const override;

 protected:
  std::optional<std::string> read_source(const std::string& name) override;

 private:
  std::map<std::string, std::string> dict_;
};

// Applies a whitespace mode to template text (tornado.template.filter_whitespace).
// Throws ParseError for an unknown mode.
std::string filter_whitespace(std::string_view mode, std::string_view text);

}  // namespace tornado::template_
