// The StateReader helpers and the in-memory state store.
#include "fluxion/tune/state.hpp"

#include <cmath>

#include "fluxion/core/error.hpp"

namespace fluxion {

std::vector<double> StateReader::get_doubles(const std::string& name, std::size_t size) const {
  std::vector<double> values = get_doubles(name);
  if (values.size() != size)
    throw IoError("learner state entry '" + name + "' has " + std::to_string(values.size()) +
                  " values, expected " + std::to_string(size));
  for (double v : values)
    if (!std::isfinite(v)) throw IoError("learner state entry '" + name + "' holds a non-finite value");
  return values;
}

double StateReader::get_double(const std::string& name) const { return get_doubles(name, 1)[0]; }

std::int64_t StateReader::get_integer(const std::string& name) const {
  std::vector<std::int64_t> values = get_integers(name);
  if (values.size() != 1)
    throw IoError("learner state entry '" + name + "' has " + std::to_string(values.size()) +
                  " values, expected one integer");
  return values[0];
}

void MemoryState::put(const std::string& name, std::span<const double> values) {
  entries_[name] = std::vector<double>(values.begin(), values.end());
}

void MemoryState::put(const std::string& name, std::span<const std::int64_t> values) {
  entries_[name] = std::vector<std::int64_t>(values.begin(), values.end());
}

void MemoryState::put(const std::string& name, std::string_view text) { entries_[name] = std::string(text); }

bool MemoryState::contains(const std::string& name) const { return entries_.count(name) != 0; }

const MemoryState::Value& MemoryState::find(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw IoError("learner state has no entry '" + name + "'");
  return it->second;
}

std::vector<double> MemoryState::get_doubles(const std::string& name) const {
  const auto* v = std::get_if<std::vector<double>>(&find(name));
  if (!v) throw IoError("learner state entry '" + name + "' is not an array of doubles");
  return *v;
}

std::vector<std::int64_t> MemoryState::get_integers(const std::string& name) const {
  const auto* v = std::get_if<std::vector<std::int64_t>>(&find(name));
  if (!v) throw IoError("learner state entry '" + name + "' is not an array of integers");
  return *v;
}

std::string MemoryState::get_string(const std::string& name) const {
  const auto* v = std::get_if<std::string>(&find(name));
  if (!v) throw IoError("learner state entry '" + name + "' is not a string");
  return *v;
}

}  // namespace fluxion
