// A tiny key-value interface through which learners save and restore their state, and an in-memory store.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fluxion {

/// Where a learner writes its state. Names are '/'-separated paths of lowercase words
/// ("bin2/k"), so a file-backed store can map them onto groups and datasets. Writing a name
/// twice replaces the first value.
class StateWriter {
 public:
  virtual ~StateWriter() = default;
  virtual void put(const std::string& name, std::span<const double> values) = 0;
  virtual void put(const std::string& name, std::span<const std::int64_t> values) = 0;
  virtual void put(const std::string& name, std::string_view text) = 0;

  void put_double(const std::string& name, double value) { put(name, std::span<const double>(&value, 1)); }
  void put_integer(const std::string& name, std::int64_t value) { put(name, std::span<const std::int64_t>(&value, 1)); }
};

/// Where a learner reads its state back. Every getter throws fluxion::IoError naming the entry
/// when it is missing or holds another kind of value.
class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual bool contains(const std::string& name) const = 0;
  virtual std::vector<double> get_doubles(const std::string& name) const = 0;
  virtual std::vector<std::int64_t> get_integers(const std::string& name) const = 0;
  virtual std::string get_string(const std::string& name) const = 0;

  /// A double array of exactly `size` finite values (IoError otherwise).
  std::vector<double> get_doubles(const std::string& name, std::size_t size) const;
  /// A one-element double entry, finite (IoError otherwise).
  double get_double(const std::string& name) const;
  /// A one-element integer entry (IoError otherwise).
  std::int64_t get_integer(const std::string& name) const;
};

/// Both interfaces over a std::map: for tests, and for copying a state between learners.
class MemoryState : public StateWriter, public StateReader {
 public:
  using Value = std::variant<std::vector<double>, std::vector<std::int64_t>, std::string>;

  using StateWriter::put;
  void put(const std::string& name, std::span<const double> values) override;
  void put(const std::string& name, std::span<const std::int64_t> values) override;
  void put(const std::string& name, std::string_view text) override;

  using StateReader::get_doubles;
  bool contains(const std::string& name) const override;
  std::vector<double> get_doubles(const std::string& name) const override;
  std::vector<std::int64_t> get_integers(const std::string& name) const override;
  std::string get_string(const std::string& name) const override;

  /// Everything stored, by name (tests use it to corrupt a state on purpose).
  std::map<std::string, Value>& entries() { return entries_; }
  const std::map<std::string, Value>& entries() const { return entries_; }

 private:
  const Value& find(const std::string& name) const;
  std::map<std::string, Value> entries_;
};

}  // namespace fluxion
