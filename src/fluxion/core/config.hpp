// The strict YAML configuration: a Schema declares every key, a Config holds the validated values.
#pragma once

#include <climits>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fluxion {

namespace detail {
struct SchemaData;
struct ConfigData;
struct ConfigAccess;
}  // namespace detail

enum class KeyType { Bool, Int, Real, String, Expression, RealList, IntList, StringMap, List };

/// Passed in place of a default: the config must give this key ("Schema().real("domain.length", required, ...)").
struct Required {
  struct Tag {};
  // Explicit so that `{}` (an empty default list) never converts to Required.
  explicit constexpr Required(Tag) {}
};
inline constexpr Required required{Required::Tag{}};

/// Bounds on a number, each side optional and inclusive or exclusive:
/// `Range::greater_than(0).and_less_than(2)` is the open interval (0, 2).
struct Range {
  std::optional<double> min;
  std::optional<double> max;
  bool min_exclusive = false;
  bool max_exclusive = false;

  static Range at_least(double bound);
  static Range greater_than(double bound);
  static Range at_most(double bound);
  static Range less_than(double bound);
  static Range between(double low, double high);  // inclusive on both sides
  Range and_at_most(double bound) const;
  Range and_less_than(double bound) const;

  bool contains(double value) const;
  std::string describe() const;  // "> 0 and < 2"; empty when unbounded
};

/// Bounds on the number of values in a list.
struct Length {
  int min = 0;
  int max = INT_MAX;

  static Length exactly(int count);
  static Length at_least(int count);
  static Length between(int low, int high);
};

/// Declares every key a config may hold: dotted path, type, default, one-line doc, constraints.
/// A key declared with `required` instead of a default must be given. Builder calls chain like a table.
/// Integer keys (and each entry of an integer list) are always bounded to what a PetscInt holds
/// (PETSC_MIN_INT..PETSC_MAX_INT): a declared range is narrowed to that, an open side gets that bound.
/// Declaration mistakes (duplicate path, default outside its range) throw fluxion::Error.
class Schema {
 public:
  Schema();
  Schema(const Schema& other);
  Schema(Schema&& other) noexcept;
  Schema& operator=(const Schema& other);
  Schema& operator=(Schema&& other) noexcept;
  ~Schema();

  Schema& boolean(std::string path, bool def, std::string doc);
  Schema& boolean(std::string path, Required, std::string doc);
  Schema& integer(std::string path, long def, std::string doc, Range range = {});
  Schema& integer(std::string path, Required, std::string doc, Range range = {});
  Schema& real(std::string path, double def, std::string doc, Range range = {});
  Schema& real(std::string path, Required, std::string doc, Range range = {});
  /// Non-empty `choices` make the key an enumeration; a value outside it is an error listing them.
  Schema& string(std::string path, std::string def, std::string doc, std::vector<std::string> choices = {});
  Schema& string(std::string path, Required, std::string doc, std::vector<std::string> choices = {});
  /// A formula of x, y, z, t; its syntax is checked by Expression, which takes Config::label(path).
  Schema& expression(std::string path, std::string def, std::string doc);
  Schema& expression(std::string path, Required, std::string doc);
  Schema& real_list(std::string path, std::vector<double> def, std::string doc, Length length = {},
                    Range each = {});
  Schema& real_list(std::string path, Required, std::string doc, Length length = {}, Range each = {});
  Schema& integer_list(std::string path, std::vector<long> def, std::string doc, Length length = {},
                       Range each = {});
  Schema& integer_list(std::string path, Required, std::string doc, Length length = {}, Range each = {});
  /// A free-form map of names to scalar strings (the `petsc:` options); empty by default.
  Schema& string_map(std::string path, std::string doc);
  /// A sequence of maps, each validated against `element` (obstacles, probes); empty by default.
  Schema& list(std::string path, Schema element, std::string doc, Length length = {});
  /// Documents a map that groups keys; sections also arise from dotted paths without this.
  Schema& section(std::string path, std::string doc);
  /// The dotted paths of the declared keys, in declaration order.
  std::vector<std::string> keys() const;
  /// Adds every declaration of `other` (an app's schema onto the common one).
  Schema& merge(const Schema& other);

  /// A Markdown reference page: one table per section (key, type, default, allowed, doc).
  std::string markdown(std::string_view title) const;

 private:
  friend struct detail::ConfigAccess;
  std::unique_ptr<detail::SchemaData> data_;
};

/// Validated configuration values; every user error is a ConfigError of one line
/// "<file>:<line>: <dotted.key>: <what was wrong>; expected <what>", which quotes values (and key
/// names) the user wrote shortened by abbreviate() (expression.hpp), so a 100 kB value stays one short line.
/// Reading an undeclared path, or a key as the wrong type, is a programming error (fluxion::Error).
/// Copies are cheap and share the immutable values.
class Config {
 public:
  /// `overrides` are "dotted.key=value" with the value in YAML ("solver.rtol=1e-8", "grid.cells=[64,64]");
  /// they win over the file and are located as "--set dotted.key" in messages.
  static Config from_file(const std::filesystem::path& file, const Schema& schema,
                          const std::vector<std::string>& overrides = {});
  /// `source` names the text in messages (usually the file name).
  static Config from_string(std::string_view yaml, std::string source, const Schema& schema,
                            const std::vector<std::string>& overrides = {});

  /// Reads one scalar before validation (the app name decides the schema); `fallback` when absent.
  static std::string peek_string(std::string_view yaml, std::string source, std::string_view key,
                                 std::string fallback, const std::vector<std::string>& overrides = {});
  static std::string peek_string_from_file(const std::filesystem::path& file, std::string_view key,
                                           std::string fallback,
                                           const std::vector<std::string>& overrides = {});

  bool boolean(std::string_view path) const;
  long integer(std::string_view path) const;
  double real(std::string_view path) const;
  std::string string(std::string_view path) const;
  std::string expression(std::string_view path) const;
  std::vector<double> reals(std::string_view path) const;
  std::vector<long> integers(std::string_view path) const;
  std::map<std::string, std::string> string_map(std::string_view path) const;
  /// One Config per element, read with the element schema; its messages say "obstacles[1].radius".
  std::vector<Config> list(std::string_view path) const;

  /// True when the key was given in the file or by an override, false when defaulted.
  /// For a section: whether any key inside it was given.
  bool is_set(std::string_view path) const;
  /// True when the key holds its declared default (also when it was given with that value).
  bool is_default(std::string_view path) const;
  /// "cfg.yaml:12" for a value from the file, "--set solver.rtol" for an override, "default" otherwise.
  /// Also takes a string_map entry ("petsc.pc_type").
  std::string where(std::string_view path) const;
  /// The prefix of any message about this key: "cfg.yaml:12: solver.rtol" (the file name alone when defaulted).
  std::string label(std::string_view path) const;
  /// Throws ConfigError "<label(path)>: message", for semantic checks done by apps (a mesh file missing).
  [[noreturn]] void fail(std::string_view path, std::string_view message) const;

  /// The resolved config: every declared key with its value, defaults filled in.
  std::string to_yaml() const;
  std::string to_json() const;

 private:
  friend struct detail::ConfigAccess;
  explicit Config(std::shared_ptr<const detail::ConfigData> data);
  std::shared_ptr<const detail::ConfigData> data_;
};

}  // namespace fluxion
