// Schema declarations, YAML validation with file:line messages, and the resolved Config values.
#include "fluxion/core/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <petscsys.h>

#include "fluxion/core/error.hpp"
#include "fluxion/core/expression.hpp"  // abbreviate(): how messages quote what the user wrote

namespace fluxion {

namespace {

using StringMap = std::map<std::string, std::string>;
// One value of any key type; String and Expression share std::string.
using Data = std::variant<bool, long, double, std::string, std::vector<double>, std::vector<long>, StringMap,
                          std::vector<Config>>;

std::string format_real(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, end);
  // to_chars writes "1e-08"; people write "1e-8".
  if (auto e = text.find('e'); e != std::string::npos) {
    std::string mantissa = text.substr(0, e);
    std::string exponent = text.substr(e + 1);
    std::string sign;
    if (!exponent.empty() && (exponent[0] == '-' || exponent[0] == '+')) {
      if (exponent[0] == '-') sign = "-";
      exponent.erase(0, 1);
    }
    exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
    text = mantissa + "e" + sign + exponent;
  }
  return text;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string parent_of(std::string_view path) {
  auto dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string() : std::string(path.substr(0, dot));
}

std::string leaf_of(std::string_view path) {
  auto dot = path.rfind('.');
  return std::string(dot == std::string_view::npos ? path : path.substr(dot + 1));
}

std::string child_path(std::string_view section, std::string_view name) {
  return section.empty() ? std::string(name) : std::string(section) + "." + std::string(name);
}

std::string lowercase(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const char* type_name(KeyType type) {
  switch (type) {
    case KeyType::Bool: return "bool";
    case KeyType::Int: return "integer";
    case KeyType::Real: return "real";
    case KeyType::String: return "string";
    case KeyType::Expression: return "expression";
    case KeyType::RealList: return "list of reals";
    case KeyType::IntList: return "list of integers";
    case KeyType::StringMap: return "map of strings";
    case KeyType::List: return "list of maps";
  }
  return "?";
}

std::optional<long> parse_integer(std::string_view text, bool& too_large) {
  too_large = false;
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || end != text.data() + text.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    too_large = true;
    return std::nullopt;
  }
  if (ec != std::errc()) return std::nullopt;
  return value;
}

enum class RealParse { Ok, NotANumber, NotFinite };

RealParse parse_real(std::string_view text, double& value) {
  const std::string lower = lowercase(std::string(text));
  for (const char* special : {".inf", "-.inf", "+.inf", ".nan"})
    if (lower == special) return RealParse::NotFinite;
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || end != text.data() + text.size()) return RealParse::NotANumber;
  if (ec == std::errc::result_out_of_range) return RealParse::NotFinite;
  if (ec != std::errc()) return RealParse::NotANumber;
  return std::isfinite(value) ? RealParse::Ok : RealParse::NotFinite;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Range and Length

Range Range::at_least(double bound) { return Range{bound, std::nullopt, false, false}; }
Range Range::greater_than(double bound) { return Range{bound, std::nullopt, true, false}; }
Range Range::at_most(double bound) { return Range{std::nullopt, bound, false, false}; }
Range Range::less_than(double bound) { return Range{std::nullopt, bound, false, true}; }
Range Range::between(double low, double high) { return Range{low, high, false, false}; }

Range Range::and_at_most(double bound) const {
  Range r = *this;
  r.max = bound;
  r.max_exclusive = false;
  return r;
}

Range Range::and_less_than(double bound) const {
  Range r = *this;
  r.max = bound;
  r.max_exclusive = true;
  return r;
}

bool Range::contains(double value) const {
  if (min && (min_exclusive ? !(value > *min) : !(value >= *min))) return false;
  if (max && (max_exclusive ? !(value < *max) : !(value <= *max))) return false;
  return true;
}

std::string Range::describe() const {
  std::vector<std::string> parts;
  if (min) parts.push_back((min_exclusive ? "> " : ">= ") + format_real(*min));
  if (max) parts.push_back((max_exclusive ? "< " : "<= ") + format_real(*max));
  return join(parts, " and ");
}

Length Length::exactly(int count) { return Length{count, count}; }
Length Length::at_least(int count) { return Length{count, INT_MAX}; }
Length Length::between(int low, int high) { return Length{low, high}; }

// ---------------------------------------------------------------------------------------------
// Schema data

namespace detail {

struct KeyDecl {
  std::string path;
  KeyType type = KeyType::String;
  std::string doc;
  std::optional<Data> def;  // nullopt: required
  Range range;              // numbers, and each value of a numeric list
  Length length;            // lists
  std::vector<std::string> choices;
  std::shared_ptr<const SchemaData> element;  // KeyType::List
};

struct SchemaData {
  std::vector<KeyDecl> keys;  // declaration order is the order of docs and to_yaml
  std::vector<std::pair<std::string, std::string>> section_docs;

  const KeyDecl* find(std::string_view path) const {
    for (const auto& key : keys)
      if (key.path == path) return &key;
    return nullptr;
  }

  bool is_section(std::string_view path) const {
    if (path.empty()) return true;
    const std::string prefix = std::string(path) + ".";
    for (const auto& key : keys)
      if (key.path.compare(0, prefix.size(), prefix) == 0) return true;
    for (const auto& [section, doc] : section_docs)
      if (section == path || section.compare(0, prefix.size(), prefix) == 0) return true;
    return false;
  }

  std::string section_doc(std::string_view path) const {
    for (const auto& [section, doc] : section_docs)
      if (section == path) return doc;
    return {};
  }

  // Names directly inside `section` (keys and subsections), in declaration order.
  std::vector<std::string> children(std::string_view section) const {
    const std::string prefix = section.empty() ? std::string() : std::string(section) + ".";
    std::vector<std::string> names;
    auto add = [&](const std::string& path) {
      if (path.compare(0, prefix.size(), prefix) != 0 || path.size() == prefix.size()) return;
      std::string name = path.substr(prefix.size());
      name = name.substr(0, name.find('.'));
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    };
    for (const auto& key : keys) add(key.path);
    for (const auto& [path, doc] : section_docs) add(path);
    return names;
  }
};

// The value of one key after validation, with where it came from.
struct Resolved {
  Data data;
  std::string where = "default";
  bool set = false;
  std::map<std::string, std::string> entry_where;  // string_map entries
};

struct ConfigData {
  std::shared_ptr<const SchemaData> schema;
  std::string source;       // file name for messages
  std::string name_prefix;  // "obstacles[1]." inside a list element, so messages show the full key
  std::map<std::string, Resolved, std::less<>> values;
  std::map<std::string, std::string, std::less<>> section_where;  // "" is the whole map

  const KeyDecl& declared(std::string_view path) const {
    const KeyDecl* key = schema->find(path);
    if (!key)
      throw Error("config key '" + name_prefix + std::string(path) + "' is not declared in the schema");
    return *key;
  }

  const Resolved& get(std::string_view path, KeyType type) const {
    const KeyDecl& key = declared(path);
    if (key.type != type)
      throw Error("config key '" + name_prefix + std::string(path) + "' is declared as " + type_name(key.type) +
                  ", not read as " + type_name(type));
    return values.find(path)->second;
  }
};

struct ConfigAccess {
  static Config make(std::shared_ptr<const ConfigData> data) { return Config(std::move(data)); }
  static const SchemaData& data(const Schema& schema) { return *schema.data_; }
  static SchemaData& data(Schema& schema) { return *schema.data_; }
  static const ConfigData& data(const Config& config) { return *config.data_; }
};

}  // namespace detail

using detail::ConfigAccess;
using detail::ConfigData;
using detail::KeyDecl;
using detail::Resolved;
using detail::SchemaData;

// ---------------------------------------------------------------------------------------------
// Schema

namespace {

std::string count_text(int count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string describe_length(const Length& length, const std::string& noun) {
  if (length.min == length.max) return "exactly " + count_text(length.min, noun);
  if (length.max == INT_MAX) return length.min == 0 ? std::string() : "at least " + count_text(length.min, noun);
  if (length.min == 0) return "at most " + count_text(length.max, noun);
  return "between " + std::to_string(length.min) + " and " + count_text(length.max, noun);
}

bool fits(const Length& length, std::size_t size) {
  return size >= static_cast<std::size_t>(length.min) && size <= static_cast<std::size_t>(length.max);
}

void check_default(const KeyDecl& key) {
  if (!key.def) return;
  const std::string what = "config schema: the default of '" + key.path + "'";
  auto check_number = [&](double value) {
    if (!std::isfinite(value) || !key.range.contains(value))
      throw Error(what + " (" + format_real(value) + ") is outside " + key.range.describe());
  };
  const Data& def = *key.def;
  switch (key.type) {
    case KeyType::Int: check_number(static_cast<double>(std::get<long>(def))); break;
    case KeyType::Real: check_number(std::get<double>(def)); break;
    case KeyType::String: {
      const auto& value = std::get<std::string>(def);
      if (!key.choices.empty() && std::find(key.choices.begin(), key.choices.end(), value) == key.choices.end())
        throw Error(what + " ('" + value + "') is not one of its choices");
      break;
    }
    case KeyType::RealList: {
      const auto& values = std::get<std::vector<double>>(def);
      if (!fits(key.length, values.size())) throw Error(what + " does not have " + describe_length(key.length, "value"));
      for (double v : values) check_number(v);
      break;
    }
    case KeyType::IntList: {
      const auto& values = std::get<std::vector<long>>(def);
      if (!fits(key.length, values.size())) throw Error(what + " does not have " + describe_length(key.length, "value"));
      for (long v : values) check_number(static_cast<double>(v));
      break;
    }
    default: break;
  }
}

void add_key(SchemaData& schema, KeyDecl key) {
  if (key.path.empty()) throw Error("config schema: a key needs a path");
  for (const auto& part : split_path(key.path))
    if (part.empty() || part.find_first_of("[]= ") != std::string::npos)
      throw Error("config schema: '" + key.path + "' is not a valid dotted path");
  if (schema.find(key.path)) throw Error("config schema: '" + key.path + "' is declared twice");
  if (schema.is_section(key.path))
    throw Error("config schema: '" + key.path + "' is already a section and cannot be a key");
  for (std::string p = parent_of(key.path); !p.empty(); p = parent_of(p))
    if (schema.find(p)) throw Error("config schema: '" + key.path + "' lies inside the key '" + p + "'");
  check_default(key);
  schema.keys.push_back(std::move(key));
}

KeyDecl key_decl(std::string path, KeyType type, std::string doc, std::optional<Data> def, Range range = {},
                 Length length = {}, std::vector<std::string> choices = {}) {
  KeyDecl key;
  key.path = std::move(path);
  key.type = type;
  key.doc = std::move(doc);
  key.def = std::move(def);
  key.range = range;
  key.length = length;
  key.choices = std::move(choices);
  return key;
}

// Every integer ends up in a PetscInt or an int (32-bit here): a key's range never reaches past
// what that holds, so no value is truncated on the way; the bound shows in the docs and messages.
Range petsc_int_range(Range range) {
  const double lo = static_cast<double>(PETSC_MIN_INT), hi = static_cast<double>(PETSC_MAX_INT);
  if (!range.min || *range.min < lo) {
    range.min = lo;
    range.min_exclusive = false;
  }
  if (!range.max || *range.max > hi) {
    range.max = hi;
    range.max_exclusive = false;
  }
  return range;
}

template <class T, class... Args>
Data make_data(Args&&... args) {
  return Data(std::in_place_type<T>, std::forward<Args>(args)...);
}

}  // namespace

Schema::Schema() : data_(std::make_unique<SchemaData>()) {}
Schema::Schema(const Schema& other) : data_(std::make_unique<SchemaData>(*other.data_)) {}
Schema::Schema(Schema&& other) noexcept = default;
Schema& Schema::operator=(const Schema& other) {
  if (this != &other) data_ = std::make_unique<SchemaData>(*other.data_);
  return *this;
}
Schema& Schema::operator=(Schema&& other) noexcept = default;
Schema::~Schema() = default;

Schema& Schema::boolean(std::string path, bool def, std::string doc) {
  add_key(*data_, key_decl(std::move(path), KeyType::Bool, std::move(doc), make_data<bool>(def)));
  return *this;
}

Schema& Schema::boolean(std::string path, Required, std::string doc) {
  add_key(*data_, key_decl(std::move(path), KeyType::Bool, std::move(doc), std::nullopt));
  return *this;
}

Schema& Schema::integer(std::string path, long def, std::string doc, Range range) {
  add_key(*data_, key_decl(std::move(path), KeyType::Int, std::move(doc), make_data<long>(def), petsc_int_range(range)));
  return *this;
}

Schema& Schema::integer(std::string path, Required, std::string doc, Range range) {
  add_key(*data_, key_decl(std::move(path), KeyType::Int, std::move(doc), std::nullopt, petsc_int_range(range)));
  return *this;
}

Schema& Schema::real(std::string path, double def, std::string doc, Range range) {
  add_key(*data_, key_decl(std::move(path), KeyType::Real, std::move(doc), make_data<double>(def), range));
  return *this;
}

Schema& Schema::real(std::string path, Required, std::string doc, Range range) {
  add_key(*data_, key_decl(std::move(path), KeyType::Real, std::move(doc), std::nullopt, range));
  return *this;
}

Schema& Schema::string(std::string path, std::string def, std::string doc, std::vector<std::string> choices) {
  add_key(*data_, key_decl(std::move(path), KeyType::String, std::move(doc), make_data<std::string>(std::move(def)),
                           {}, {}, std::move(choices)));
  return *this;
}

Schema& Schema::string(std::string path, Required, std::string doc, std::vector<std::string> choices) {
  add_key(*data_, key_decl(std::move(path), KeyType::String, std::move(doc), std::nullopt, {}, {}, std::move(choices)));
  return *this;
}

Schema& Schema::expression(std::string path, std::string def, std::string doc) {
  add_key(*data_,
          key_decl(std::move(path), KeyType::Expression, std::move(doc), make_data<std::string>(std::move(def))));
  return *this;
}

Schema& Schema::expression(std::string path, Required, std::string doc) {
  add_key(*data_, key_decl(std::move(path), KeyType::Expression, std::move(doc), std::nullopt));
  return *this;
}

Schema& Schema::real_list(std::string path, std::vector<double> def, std::string doc, Length length, Range each) {
  add_key(*data_, key_decl(std::move(path), KeyType::RealList, std::move(doc),
                           make_data<std::vector<double>>(std::move(def)), each, length));
  return *this;
}

Schema& Schema::real_list(std::string path, Required, std::string doc, Length length, Range each) {
  add_key(*data_, key_decl(std::move(path), KeyType::RealList, std::move(doc), std::nullopt, each, length));
  return *this;
}

Schema& Schema::integer_list(std::string path, std::vector<long> def, std::string doc, Length length, Range each) {
  add_key(*data_, key_decl(std::move(path), KeyType::IntList, std::move(doc),
                           make_data<std::vector<long>>(std::move(def)), petsc_int_range(each), length));
  return *this;
}

Schema& Schema::integer_list(std::string path, Required, std::string doc, Length length, Range each) {
  add_key(*data_, key_decl(std::move(path), KeyType::IntList, std::move(doc), std::nullopt, petsc_int_range(each), length));
  return *this;
}

Schema& Schema::string_map(std::string path, std::string doc) {
  add_key(*data_, key_decl(std::move(path), KeyType::StringMap, std::move(doc), make_data<StringMap>()));
  return *this;
}

Schema& Schema::list(std::string path, Schema element, std::string doc, Length length) {
  // A list that must have entries has no sensible default, so it is required.
  std::optional<Data> def;
  if (length.min == 0) def = make_data<std::vector<Config>>();
  auto key = key_decl(std::move(path), KeyType::List, std::move(doc), std::move(def), {}, length);
  key.element = std::make_shared<const SchemaData>(std::move(*element.data_));
  add_key(*data_, std::move(key));
  return *this;
}

Schema& Schema::section(std::string path, std::string doc) {
  if (data_->find(path)) throw Error("config schema: '" + path + "' is a key and cannot be a section");
  for (auto& [section, section_doc] : data_->section_docs)
    if (section == path) {
      section_doc = std::move(doc);
      return *this;
    }
  data_->section_docs.emplace_back(std::move(path), std::move(doc));
  return *this;
}

std::vector<std::string> Schema::keys() const {
  std::vector<std::string> paths;
  for (const auto& key : data_->keys) paths.push_back(key.path);
  return paths;
}

Schema& Schema::merge(const Schema& other) {
  const SchemaData copy = *other.data_;  // other may be *this
  for (const auto& [path, doc] : copy.section_docs) section(path, doc);
  for (const auto& key : copy.keys) add_key(*data_, key);
  return *this;
}

// ---------------------------------------------------------------------------------------------
// Markdown reference

namespace {

std::string value_text(const Data& data, KeyType type) {
  auto list_text = [](const auto& values) {
    std::vector<std::string> parts;
    for (const auto& v : values) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>)
        parts.push_back(format_real(v));
      else
        parts.push_back(std::to_string(v));
    }
    return "[" + join(parts, ", ") + "]";
  };
  switch (type) {
    case KeyType::Bool: return std::get<bool>(data) ? "true" : "false";
    case KeyType::Int: return std::to_string(std::get<long>(data));
    case KeyType::Real: return format_real(std::get<double>(data));
    case KeyType::String:
    case KeyType::Expression: {
      const auto& text = std::get<std::string>(data);
      return text.empty() ? "\"\"" : text;
    }
    case KeyType::RealList: return list_text(std::get<std::vector<double>>(data));
    case KeyType::IntList: return list_text(std::get<std::vector<long>>(data));
    case KeyType::StringMap: return "{}";
    case KeyType::List: return "[]";
  }
  return {};
}

std::string allowed_text(const KeyDecl& key) {
  std::vector<std::string> parts;
  switch (key.type) {
    case KeyType::Bool: parts.push_back("true, false"); break;
    case KeyType::Int:
    case KeyType::Real: parts.push_back(key.range.describe()); break;
    case KeyType::String: {
      std::vector<std::string> quoted;
      for (const auto& choice : key.choices) quoted.push_back("`" + choice + "`");
      parts.push_back(join(quoted, ", "));
      break;
    }
    case KeyType::Expression: parts.push_back("formula of x, y, z, t"); break;
    case KeyType::RealList:
    case KeyType::IntList:
      parts.push_back(describe_length(key.length, "value"));
      if (!key.range.describe().empty()) parts.push_back("each " + key.range.describe());
      break;
    case KeyType::StringMap: parts.push_back("name: value"); break;
    case KeyType::List: parts.push_back(describe_length(key.length, "entry")); break;
  }
  parts.erase(std::remove(parts.begin(), parts.end(), std::string()), parts.end());
  return join(parts, "; ");
}

std::string table_cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

void append_tables(std::string& out, const SchemaData& schema, const std::string& prefix, const std::string& list_doc) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const KeyDecl*>> groups;
  for (const auto& key : schema.keys) {
    const std::string section = parent_of(key.path);
    // Keys outside any section come first, as they do in most files.
    if (!groups.count(section)) order.insert(section.empty() ? order.begin() : order.end(), section);
    groups[section].push_back(&key);
  }
  for (const auto& section : order) {
    std::string heading;
    std::string doc = schema.section_doc(section);
    if (section.empty()) {
      heading = prefix.empty() ? "Top level" : "`" + prefix.substr(0, prefix.size() - 1) + "` entries";
      if (!prefix.empty()) doc = list_doc;
    } else {
      heading = "`" + prefix + section + "`";
    }
    out += "\n## " + heading + "\n\n";
    if (!doc.empty()) out += table_cell(doc) + "\n\n";
    out += "| Key | Type | Default | Allowed | Description |\n";
    out += "|---|---|---|---|---|\n";
    for (const KeyDecl* key : groups[section]) {
      // Built by appends: GCC 12 warns (-Wrestrict, a false positive) on "`" + std::string&&.
      std::string def = "*required*";
      if (key->def) def.assign("`").append(value_text(*key->def, key->type)).append("`");
      out += "| `" + prefix + key->path + "` | " + type_name(key->type) + " | " + table_cell(def) + " | " +
             table_cell(allowed_text(*key)) + " | " + table_cell(key->doc) + " |\n";
    }
  }
  for (const auto& key : schema.keys)
    if (key.type == KeyType::List) append_tables(out, *key.element, prefix + key.path + "[].", key.doc);
}

}  // namespace

std::string Schema::markdown(std::string_view title) const {
  std::string out = "# " + std::string(title) + "\n\n";
  out += "Generated from the schema declarations: every key with its type, default and allowed values. "
         "Keys marked *required* have no default.\n";
  append_tables(out, *data_, "", "");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation

namespace {

// Where values come from: a file (locations carry its line) or one --set override.
struct Origin {
  std::string source;
  std::optional<std::string> set_key;

  std::string at(const YAML::Mark& mark) const {
    if (set_key) return "--set " + *set_key;
    if (mark.line < 0) return source;
    return source + ":" + std::to_string(mark.line + 1);
  }
};

[[noreturn]] void fail_at(const std::string& location, const std::string& name, const std::string& what) {
  // Key names come from the user too (an unknown key): shortened like values.
  throw ConfigError(location + ": " + abbreviate(name) + ": " + what);
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

std::string with_range(std::string what, const Range& range) {
  const std::string bounds = range.describe();
  return bounds.empty() ? what : what + " " + bounds;
}

std::string expected_text(const KeyDecl& key) {
  switch (key.type) {
    case KeyType::Bool: return "true or false";
    case KeyType::Int: return with_range("an integer", key.range);
    case KeyType::Real: return with_range("a real number", key.range);
    case KeyType::String: return key.choices.empty() ? "a string" : "one of: " + join(key.choices, ", ");
    case KeyType::Expression: return "a formula of x, y, z, t";
    case KeyType::RealList: return "a list of real numbers such as [0.5, 1]";
    case KeyType::IntList: return "a list of integers such as [64, 64]";
    case KeyType::StringMap: return "a map of names to values";
    case KeyType::List: return "a list of maps";
  }
  return {};
}

std::string given_text(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) return "'" + abbreviate(node.Scalar()) + "'";
  return "nothing";
}

YAML::Node load_yaml(std::string_view yaml, const std::string& source) {
  try {
    return YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    std::string location = source;
    if (e.mark.line >= 0)
      location += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    throw ConfigError(location + ": malformed YAML: " + e.msg);
  }
}

std::string unknown_key_message(const SchemaData& schema, const std::string& path, const std::string& prefix) {
  const auto parts = split_path(path);
  // The deepest declared section holding the path; its first unknown component is the mistake.
  std::string section;
  std::size_t i = 0;
  while (i + 1 < parts.size() && !schema.find(child_path(section, parts[i])) &&
         schema.is_section(child_path(section, parts[i])))
    section = child_path(section, parts[i++]);
  if (const KeyDecl* key = schema.find(child_path(section, parts[i])); key && i + 1 < parts.size())
    return "unknown key; '" + prefix + key->path + "' is a " + type_name(key->type) + " and holds no keys";
  std::string rest;
  for (std::size_t j = i + 1; j < parts.size(); ++j) rest += "." + parts[j];

  const std::string wrong = lowercase(parts[i]);
  const auto names = schema.children(section);
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& name : names) {
    const std::size_t distance = edit_distance(wrong, lowercase(name));
    const std::size_t allowed = std::clamp<std::size_t>(name.size() / 3, 1, 3);
    if (distance <= allowed && (!best || distance < best_distance)) {
      best = name;
      best_distance = distance;
    }
  }
  if (best) {
    std::string suggestion = child_path(section, *best);
    if (!rest.empty() && (schema.find(suggestion + rest) || schema.is_section(suggestion + rest))) suggestion += rest;
    return "unknown key; did you mean '" + prefix + suggestion + "'?";
  }
  // The right name in the wrong section.
  const std::string leaf = lowercase(parts.back());
  for (const auto& key : schema.keys)
    if (lowercase(leaf_of(key.path)) == leaf) return "unknown key; did you mean '" + prefix + key.path + "'?";
  if (names.empty()) return "unknown key; expected no keys here";
  return "unknown key; expected one of: " + join(names, ", ");
}

std::string scalar_text(const YAML::Node& value, const std::string& name, const std::string& location,
                        const std::string& expected) {
  if (value.IsNull()) fail_at(location, name, "has no value; expected " + expected);
  if (!value.IsScalar()) fail_at(location, name, given_text(value) + " was given; expected " + expected);
  return value.Scalar();
}

bool read_bool(const YAML::Node& value, const std::string& name, const std::string& location) {
  const std::string text = scalar_text(value, name, location, "true or false");
  if (text == "true") return true;
  if (text == "false") return false;
  fail_at(location, name, "'" + abbreviate(text) + "' is not a boolean; expected true or false");
}

long read_integer(const YAML::Node& value, const std::string& name, const std::string& location,
                  const Range& range) {
  const std::string expected = with_range("an integer", range);
  const std::string text = scalar_text(value, name, location, expected);
  bool too_large = false;
  const auto parsed = parse_integer(text, too_large);
  if (too_large) fail_at(location, name, "'" + abbreviate(text) + "' is too large for an integer; expected " + expected);
  if (!parsed) fail_at(location, name, "'" + abbreviate(text) + "' is not an integer; expected " + expected);
  if (!range.contains(static_cast<double>(*parsed)))
    fail_at(location, name, abbreviate(text) + " is out of range; expected " + range.describe());
  return *parsed;
}

double read_real(const YAML::Node& value, const std::string& name, const std::string& location, const Range& range) {
  const std::string expected = with_range("a real number", range);
  const std::string text = scalar_text(value, name, location, expected);
  double parsed = 0;
  switch (parse_real(text, parsed)) {
    case RealParse::NotANumber: fail_at(location, name, "'" + abbreviate(text) + "' is not a real number; expected " + expected);
    case RealParse::NotFinite: fail_at(location, name, "'" + abbreviate(text) + "' is not finite; expected a finite real number");
    case RealParse::Ok: break;
  }
  if (!range.contains(parsed)) fail_at(location, name, abbreviate(text) + " is out of range; expected " + range.describe());
  return parsed;
}

// The sequence of a list key, checked for its length; null reads as an empty list.
std::vector<YAML::Node> sequence_items(const KeyDecl& key, const YAML::Node& value, const std::string& name,
                                       const std::string& location, const std::string& noun) {
  std::vector<YAML::Node> items;
  if (!value.IsNull() && !value.IsSequence())
    fail_at(location, name, given_text(value) + " was given; expected " + expected_text(key));
  if (value.IsSequence())
    for (const auto& item : value) items.push_back(item);
  if (!fits(key.length, items.size()))
    fail_at(location, name, "has " + count_text(static_cast<int>(items.size()), noun) + "; expected " +
                                describe_length(key.length, noun));
  return items;
}

std::string item_name(const std::string& name, std::size_t index) {
  return name + "[" + std::to_string(index) + "]";
}

// Reads maps against one schema into a ConfigData; a list key nests a Reader per element.
class Reader {
 public:
  Reader(std::shared_ptr<const SchemaData> schema, std::string source, std::string name_prefix) {
    data_.schema = std::move(schema);
    data_.source = std::move(source);
    data_.name_prefix = std::move(name_prefix);
  }

  void read_section(const YAML::Node& map, const std::string& section, const std::string& location,
                    const Origin& origin) {
    data_.section_where[section] = location;
    if (map.IsNull()) return;
    if (!map.IsMap())
      fail_at(location, section_name(section),
              given_text(map) + " was given; expected a map with keys " + join(schema().children(section), ", "));
    std::map<std::string, int> first_line;
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies: yaml-cpp's iterator hands out a temporary pair, so references to it would dangle.
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      const std::string key_location = origin.at(key_node.Mark());
      if (!key_node.IsScalar()) fail_at(key_location, section_name(section), "a key must be a plain name");
      const std::string name = key_node.Scalar();
      const std::string path = child_path(section, name);
      const std::string full_name = data_.name_prefix + path;
      if (name.empty() || name.find_first_of(".[]") != std::string::npos)
        fail_at(key_location, full_name, "unknown key; expected a plain name, nested under its section");
      if (auto [first, inserted] = first_line.emplace(name, key_node.Mark().line + 1); !inserted)
        fail_at(key_location, full_name, "duplicate key; first given at line " + std::to_string(first->second));
      if (const KeyDecl* key = schema().find(path))
        store(*key, value, key_location, origin);
      else if (schema().is_section(path))
        read_section(value, path, key_location, origin);
      else
        fail_at(key_location, full_name, unknown_key_message(schema(), path, data_.name_prefix));
    }
  }

  // One "dotted.key=value" from the command line.
  void apply_override(const std::string& assignment) {
    const auto equals = assignment.find('=');
    const std::string path = trim(assignment.substr(0, std::min(equals, assignment.size())));
    if (equals == std::string::npos || path.empty())
      throw ConfigError("--set " + abbreviate(assignment) + ": expected dotted.key=value");
    const std::string value_text = assignment.substr(equals + 1);
    const Origin origin{data_.source, abbreviate(path)};
    const std::string location = "--set " + abbreviate(path);
    if (path.find_first_of("[]") != std::string::npos)
      fail_at(location, path, "cannot set a key inside a list; expected the whole list, as in --set obstacles=[{...}]");
    YAML::Node value;
    try {
      value = YAML::Load(value_text);
    } catch (const YAML::Exception& e) {
      fail_at(location, path, "malformed value '" + abbreviate(value_text) + "': " + e.msg + "; expected a YAML value");
    }
    if (const KeyDecl* key = schema().find(path)) return store(*key, value, location, origin);
    if (schema().is_section(path)) return read_section(value, path, location, origin);
    for (const auto& key : schema().keys)
      if (key.type == KeyType::StringMap && path.compare(0, key.path.size() + 1, key.path + ".") == 0)
        return set_entry(key, path.substr(key.path.size() + 1), value, location);
    fail_at(location, path, unknown_key_message(schema(), path, ""));
  }

  // Fills in defaults and reports the first required key that was not given.
  ConfigData finish() {
    for (const auto& key : schema().keys) {
      if (data_.values.count(key.path)) continue;
      if (key.def) {
        data_.values[key.path].data = *key.def;
        continue;
      }
      fail_at(enclosing_location(data_, key.path), data_.name_prefix + key.path,
              "required key is missing; expected " + expected_text(key));
    }
    return std::move(data_);
  }

  // The location of the innermost map around `path` that was given, else the source.
  static std::string enclosing_location(const ConfigData& data, std::string_view path) {
    std::string section(path);
    while (true) {
      if (auto it = data.section_where.find(section); it != data.section_where.end()) return it->second;
      if (section.empty()) return data.source;
      section = parent_of(section);
    }
  }

 private:
  const SchemaData& schema() const { return *data_.schema; }

  std::string section_name(const std::string& section) const {
    if (!section.empty()) return data_.name_prefix + section;
    if (data_.name_prefix.empty()) return "top level";
    return data_.name_prefix.substr(0, data_.name_prefix.size() - 1);
  }

  void store(const KeyDecl& key, const YAML::Node& value, const std::string& location, const Origin& origin) {
    Resolved resolved;
    resolved.where = location;
    resolved.set = true;
    resolved.data = convert(key, value, data_.name_prefix + key.path, location, origin, resolved.entry_where);
    data_.values[key.path] = std::move(resolved);
  }

  void set_entry(const KeyDecl& key, const std::string& entry, const YAML::Node& value, const std::string& location) {
    auto [it, inserted] = data_.values.try_emplace(key.path);
    Resolved& resolved = it->second;
    if (inserted) {
      resolved.data = StringMap{};
      resolved.where = location;
    }
    resolved.set = true;
    const std::string name = data_.name_prefix + key.path + "." + entry;
    std::get<StringMap>(resolved.data)[entry] = entry_text(value, name, location);
    resolved.entry_where[entry] = location;
  }

  // PETSc flags take no value ("ksp_monitor:"), so an empty entry is the empty string.
  static std::string entry_text(const YAML::Node& value, const std::string& name, const std::string& location) {
    if (value.IsNull()) return {};
    if (!value.IsScalar()) fail_at(location, name, given_text(value) + " was given; expected a single value");
    return value.Scalar();
  }

  Data convert(const KeyDecl& key, const YAML::Node& value, const std::string& name, const std::string& location,
               const Origin& origin, std::map<std::string, std::string>& entry_where) {
    switch (key.type) {
      case KeyType::Bool: return Data(std::in_place_type<bool>, read_bool(value, name, location));
      case KeyType::Int: return Data(std::in_place_type<long>, read_integer(value, name, location, key.range));
      case KeyType::Real: return Data(std::in_place_type<double>, read_real(value, name, location, key.range));
      case KeyType::String: {
        std::string text = scalar_text(value, name, location, expected_text(key));
        if (!key.choices.empty() && std::find(key.choices.begin(), key.choices.end(), text) == key.choices.end())
          fail_at(location, name,
                  "'" + abbreviate(text) + "' is not an allowed choice; expected one of: " + join(key.choices, ", "));
        return Data(std::in_place_type<std::string>, std::move(text));
      }
      case KeyType::Expression: {
        std::string text = scalar_text(value, name, location, expected_text(key));
        if (trim(text).empty()) fail_at(location, name, "is empty; expected " + expected_text(key));
        return Data(std::in_place_type<std::string>, std::move(text));
      }
      case KeyType::RealList: {
        std::vector<double> values;
        const auto items = sequence_items(key, value, name, location, "value");
        for (std::size_t i = 0; i < items.size(); ++i)
          values.push_back(read_real(items[i], item_name(name, i), origin.at(items[i].Mark()), key.range));
        return Data(std::in_place_type<std::vector<double>>, std::move(values));
      }
      case KeyType::IntList: {
        std::vector<long> values;
        const auto items = sequence_items(key, value, name, location, "value");
        for (std::size_t i = 0; i < items.size(); ++i)
          values.push_back(read_integer(items[i], item_name(name, i), origin.at(items[i].Mark()), key.range));
        return Data(std::in_place_type<std::vector<long>>, std::move(values));
      }
      case KeyType::StringMap: {
        StringMap entries;
        if (value.IsNull()) return Data(std::move(entries));
        if (!value.IsMap()) fail_at(location, name, given_text(value) + " was given; expected " + expected_text(key));
        for (auto it = value.begin(); it != value.end(); ++it) {
          const YAML::Node key_node = it->first;
          const YAML::Node entry_value = it->second;
          const std::string entry_location = origin.at(key_node.Mark());
          if (!key_node.IsScalar()) fail_at(entry_location, name, "a key must be a plain name");
          const std::string entry = key_node.Scalar();
          if (entries.count(entry)) fail_at(entry_location, name + "." + entry, "duplicate key");
          entries[entry] = entry_text(entry_value, name + "." + entry, entry_location);
          entry_where[entry] = entry_location;
        }
        return Data(std::move(entries));
      }
      case KeyType::List: {
        std::vector<Config> elements;
        const auto items = sequence_items(key, value, name, location, "entry");
        for (std::size_t i = 0; i < items.size(); ++i) {
          const std::string element_location = origin.at(items[i].Mark());
          const std::string element_name = item_name(name, i);
          if (!items[i].IsMap())
            fail_at(element_location, element_name,
                    given_text(items[i]) + " was given; expected a map with keys " +
                        join(key.element->children(""), ", "));
          Reader element(key.element, data_.source, element_name + ".");
          element.read_section(items[i], "", element_location, origin);
          elements.push_back(ConfigAccess::make(std::make_shared<const ConfigData>(element.finish())));
        }
        return Data(std::move(elements));
      }
    }
    throw Error("config: unhandled key type");
  }

  ConfigData data_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Config

Config::Config(std::shared_ptr<const ConfigData> data) : data_(std::move(data)) {}

namespace {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError("cannot open config file '" + file.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Config Config::from_file(const std::filesystem::path& file, const Schema& schema,
                         const std::vector<std::string>& overrides) {
  return from_string(read_file(file), file.string(), schema, overrides);
}

Config Config::from_string(std::string_view yaml, std::string source, const Schema& schema,
                           const std::vector<std::string>& overrides) {
  const YAML::Node root = load_yaml(yaml, source);
  Reader reader(std::make_shared<const SchemaData>(ConfigAccess::data(schema)), source, "");
  reader.read_section(root, "", source, Origin{source, std::nullopt});
  for (const auto& assignment : overrides) reader.apply_override(assignment);
  return Config(std::make_shared<const ConfigData>(reader.finish()));
}

std::string Config::peek_string(std::string_view yaml, std::string source, std::string_view key, std::string fallback,
                                const std::vector<std::string>& overrides) {
  for (auto it = overrides.rbegin(); it != overrides.rend(); ++it) {
    const auto equals = it->find('=');
    if (equals == std::string::npos || trim(it->substr(0, equals)) != key) continue;
    const std::string location = "--set " + std::string(key);
    YAML::Node value;
    try {
      value = YAML::Load(it->substr(equals + 1));
    } catch (const YAML::Exception& e) {
      fail_at(location, std::string(key), "malformed value: " + e.msg + "; expected a name");
    }
    if (value.IsNull()) return fallback;
    if (!value.IsScalar()) fail_at(location, std::string(key), given_text(value) + " was given; expected a name");
    return value.Scalar();
  }
  YAML::Node node = load_yaml(yaml, source);
  for (const auto& part : split_path(key)) {
    if (!node.IsMap()) return fallback;
    // Lookup through a const node: a non-const operator[] would insert the key.
    YAML::Node next = std::as_const(node)[part];
    if (!next) return fallback;
    node.reset(next);
  }
  if (node.IsNull()) return fallback;
  if (!node.IsScalar())
    fail_at(Origin{source, std::nullopt}.at(node.Mark()), std::string(key),
            given_text(node) + " was given; expected a name");
  return node.Scalar();
}

std::string Config::peek_string_from_file(const std::filesystem::path& file, std::string_view key,
                                          std::string fallback, const std::vector<std::string>& overrides) {
  return peek_string(read_file(file), file.string(), key, std::move(fallback), overrides);
}

bool Config::boolean(std::string_view path) const { return std::get<bool>(data_->get(path, KeyType::Bool).data); }
long Config::integer(std::string_view path) const { return std::get<long>(data_->get(path, KeyType::Int).data); }
double Config::real(std::string_view path) const { return std::get<double>(data_->get(path, KeyType::Real).data); }

std::string Config::string(std::string_view path) const {
  return std::get<std::string>(data_->get(path, KeyType::String).data);
}

std::string Config::expression(std::string_view path) const {
  return std::get<std::string>(data_->get(path, KeyType::Expression).data);
}

std::vector<double> Config::reals(std::string_view path) const {
  return std::get<std::vector<double>>(data_->get(path, KeyType::RealList).data);
}

std::vector<long> Config::integers(std::string_view path) const {
  return std::get<std::vector<long>>(data_->get(path, KeyType::IntList).data);
}

std::map<std::string, std::string> Config::string_map(std::string_view path) const {
  return std::get<StringMap>(data_->get(path, KeyType::StringMap).data);
}

std::vector<Config> Config::list(std::string_view path) const {
  return std::get<std::vector<Config>>(data_->get(path, KeyType::List).data);
}

namespace {

// A string_map key holding `path` as one of its entries, with the entry name.
std::optional<std::pair<const Resolved*, std::string>> map_entry(const ConfigData& data, std::string_view path) {
  for (const auto& key : data.schema->keys) {
    const std::string prefix = key.path + ".";
    if (key.type == KeyType::StringMap && path.substr(0, prefix.size()) == prefix)
      return std::make_pair(&data.values.find(key.path)->second, std::string(path.substr(prefix.size())));
  }
  return std::nullopt;
}

}  // namespace

bool Config::is_set(std::string_view path) const {
  if (data_->schema->find(path)) return data_->values.find(path)->second.set;
  if (!path.empty() && data_->schema->is_section(path)) {
    const std::string prefix = std::string(path) + ".";
    for (const auto& [key, resolved] : data_->values)
      if (key.compare(0, prefix.size(), prefix) == 0 && resolved.set) return true;
    return false;
  }
  if (auto entry = map_entry(*data_, path)) return entry->first->entry_where.count(entry->second) > 0;
  data_->declared(path);  // throws: not declared
  return false;
}

bool Config::is_default(std::string_view path) const {
  const KeyDecl& key = data_->declared(path);
  if (!key.def) return false;
  const Data& value = data_->values.find(path)->second.data;
  // Lists of maps have no equality (Config has none): only an empty one equals its empty default.
  if (key.type == KeyType::List)
    return std::get<std::vector<Config>>(value).empty() && std::get<std::vector<Config>>(*key.def).empty();
  return std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<Config>>)
          return false;
        else
          return v == std::get<T>(*key.def);
      },
      value);
}

std::string Config::where(std::string_view path) const {
  if (data_->schema->find(path)) return data_->values.find(path)->second.where;
  if (auto entry = map_entry(*data_, path)) {
    auto it = entry->first->entry_where.find(entry->second);
    return it == entry->first->entry_where.end() ? "default" : it->second;
  }
  if (!path.empty() && data_->schema->is_section(path)) {
    auto it = data_->section_where.find(path);
    return it == data_->section_where.end() ? "default" : it->second;
  }
  data_->declared(path);  // throws: not declared
  return {};
}

std::string Config::label(std::string_view path) const {
  std::string location = where(path);
  if (location == "default") location = Reader::enclosing_location(*data_, parent_of(path));
  return location + ": " + data_->name_prefix + std::string(path);
}

void Config::fail(std::string_view path, std::string_view message) const {
  throw ConfigError(label(path) + ": " + std::string(message));
}

// ---------------------------------------------------------------------------------------------
// Output of the resolved values

namespace {

// The dotted keys of one schema as nested maps in declaration order, ready to write.
struct OutputNode {
  std::string name;
  const KeyDecl* key = nullptr;  // null for a section
  const Data* value = nullptr;
  std::vector<OutputNode> children;
};

OutputNode output_tree(const ConfigData& data) {
  OutputNode root;
  for (const auto& key : data.schema->keys) {
    OutputNode* node = &root;
    for (const auto& part : split_path(key.path)) {
      auto it = std::find_if(node->children.begin(), node->children.end(),
                             [&](const OutputNode& child) { return child.name == part; });
      if (it == node->children.end()) {
        node->children.emplace_back();
        node->children.back().name = part;
        it = node->children.end() - 1;
      }
      node = &*it;
    }
    node->key = &key;
    node->value = &data.values.find(key.path)->second.data;
  }
  return root;
}

// Quotes strings that a YAML reader would take for a bool, null or number, so the text keeps its type.
void write_string(YAML::Emitter& out, const std::string& text) {
  static const std::vector<std::string> special{"", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n"};
  bool too_large = false;
  double real = 0;
  const bool looks_typed = std::find(special.begin(), special.end(), lowercase(text)) != special.end() ||
                           parse_integer(text, too_large) || too_large || parse_real(text, real) != RealParse::NotANumber;
  if (looks_typed) out << YAML::DoubleQuoted;
  out << text;
}

void write_map(YAML::Emitter& out, const OutputNode& map);

void write_value(YAML::Emitter& out, const Data& data, KeyType type) {
  switch (type) {
    case KeyType::Bool: out << std::get<bool>(data); break;
    case KeyType::Int: out << std::get<long>(data); break;
    // Shortest text that reads back to the same double, not yaml-cpp's 17 digits.
    case KeyType::Real: out << format_real(std::get<double>(data)); break;
    case KeyType::String:
    case KeyType::Expression: write_string(out, std::get<std::string>(data)); break;
    case KeyType::RealList:
      out << YAML::Flow << YAML::BeginSeq;
      for (double v : std::get<std::vector<double>>(data)) out << format_real(v);
      out << YAML::EndSeq;
      break;
    case KeyType::IntList:
      out << YAML::Flow << YAML::BeginSeq;
      for (long v : std::get<std::vector<long>>(data)) out << v;
      out << YAML::EndSeq;
      break;
    case KeyType::StringMap: {
      const auto& entries = std::get<StringMap>(data);
      if (entries.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& [name, value] : entries) {
        out << YAML::Key << name << YAML::Value;
        write_string(out, value);
      }
      out << YAML::EndMap;
      break;
    }
    case KeyType::List: {
      const auto& elements = std::get<std::vector<Config>>(data);
      if (elements.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& element : elements) write_map(out, output_tree(ConfigAccess::data(element)));
      out << YAML::EndSeq;
      break;
    }
  }
}

void write_map(YAML::Emitter& out, const OutputNode& map) {
  if (map.children.empty()) out << YAML::Flow;
  out << YAML::BeginMap;
  for (const auto& child : map.children) {
    out << YAML::Key << child.name << YAML::Value;
    if (child.key)
      write_value(out, *child.value, child.key->type);
    else
      write_map(out, child);
  }
  out << YAML::EndMap;
}

nlohmann::ordered_json config_json(const ConfigData& data);

nlohmann::ordered_json value_json(const Data& data, KeyType type) {
  switch (type) {
    case KeyType::Bool: return std::get<bool>(data);
    case KeyType::Int: return std::get<long>(data);
    case KeyType::Real: return std::get<double>(data);
    case KeyType::String:
    case KeyType::Expression: return std::get<std::string>(data);
    case KeyType::RealList: return std::get<std::vector<double>>(data);
    case KeyType::IntList: return std::get<std::vector<long>>(data);
    case KeyType::StringMap: {
      auto object = nlohmann::ordered_json::object();
      for (const auto& [name, value] : std::get<StringMap>(data)) object[name] = value;
      return object;
    }
    case KeyType::List: {
      auto array = nlohmann::ordered_json::array();
      for (const auto& element : std::get<std::vector<Config>>(data)) array.push_back(config_json(ConfigAccess::data(element)));
      return array;
    }
  }
  return {};
}

nlohmann::ordered_json config_json(const ConfigData& data) {
  auto root = nlohmann::ordered_json::object();
  for (const auto& key : data.schema->keys) {
    const auto parts = split_path(key.path);
    nlohmann::ordered_json* object = &root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) object = &(*object)[parts[i]];
    (*object)[parts.back()] = value_json(data.values.find(key.path)->second.data, key.type);
  }
  return root;
}

}  // namespace

std::string Config::to_yaml() const {
  YAML::Emitter out;
  write_map(out, output_tree(*data_));
  return std::string(out.c_str()) + "\n";
}

std::string Config::to_json() const { return config_json(*data_).dump(2) + "\n"; }

}  // namespace fluxion
