// Strict, located reading of YAML values for the configuration loader.
//
// MapReader checks a mapping against the keys it may hold (unknown keys are errors, with
// a "did you mean" suggestion; duplicate keys are errors) and reads typed values; every
// problem goes to an ErrorList with the line and column of the offending key or value
// and its key path. Readers never throw. Thread-safety: belongs to one load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/app/config_error.h"
#include "engine/core/time.h"

namespace acd::app {

// "tenants[0]" + "queues" -> "tenants[0].queues"; "" + "log" -> "log".
std::string key_path(std::string_view parent, std::string_view key);
// "tenants" + 2 -> "tenants[2]".
std::string index_path(std::string_view parent, std::size_t index);

// What a YAML node is, for messages: "a map", "a list", "nothing", or a scalar quoted.
std::string describe(const YAML::Node& node);

// One enumerator spelled as in the file.
template <class E>
struct EnumName {
  const char* name;
  E value;
};

// Typed reads of one value. Each returns nothing (and records an error) when the node is
// not what was expected.
std::optional<std::string> read_string(const YAML::Node& node, std::string_view path,
                                       ErrorList& errors);
// An entity name: letters, digits, '_', '-', '.', starting with a letter or digit.
std::optional<std::string> read_name(const YAML::Node& node, std::string_view path,
                                     ErrorList& errors);
std::optional<std::int64_t> read_int(const YAML::Node& node, std::string_view path,
                                     ErrorList& errors, std::int64_t min, std::int64_t max);
std::optional<double> read_number(const YAML::Node& node, std::string_view path, ErrorList& errors,
                                  double min, double max);
// Only `true` and `false`: YAML 1.1's yes/no/on/off are too easy to write by accident.
std::optional<bool> read_bool(const YAML::Node& node, std::string_view path, ErrorList& errors);
std::optional<core::Duration> read_duration(const YAML::Node& node, std::string_view path,
                                            ErrorList& errors);
// True when the node is a sequence; records "expected a list" otherwise.
bool expect_list(const YAML::Node& node, std::string_view path, ErrorList& errors);

template <class E>
std::optional<E> read_enum(const YAML::Node& node, std::string_view path, ErrorList& errors,
                           std::type_identity_t<std::span<const EnumName<E>>> names,
                           std::string_view noun) {
  auto text = read_string(node, path, errors);
  if (!text) return std::nullopt;
  std::string expected;
  for (const auto& n : names) {
    if (*text == n.name) return n.value;
    if (!expected.empty()) expected += ", ";
    expected += n.name;
  }
  errors.add(node.Mark(), path,
             "unknown " + std::string(noun) + " \"" + *text + "\"; expected one of " + expected);
  return std::nullopt;
}

class MapReader {
 public:
  // Records "expected a map" when `node` is not a mapping (then ok() is false and every
  // read finds nothing). `allowed` lists the keys the map may hold.
  MapReader(const YAML::Node& node, std::string path, ErrorList& errors,
            std::initializer_list<std::string_view> allowed);

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string path_of(std::string_view key) const { return key_path(path_, key); }
  [[nodiscard]] YAML::Mark mark() const { return mark_; }
  [[nodiscard]] ErrorList& errors() const { return errors_; }

  // The value of `key`, if present.
  [[nodiscard]] std::optional<YAML::Node> get(std::string_view key) const;
  // Where `key` itself is written (the map's mark when absent).
  [[nodiscard]] YAML::Mark key_mark(std::string_view key) const;
  // The value of `key`; records "missing required key" at the map when absent.
  [[nodiscard]] std::optional<YAML::Node> require(std::string_view key) const;
  // True when exactly one of `keys` is present. Otherwise false, and `message` is recorded
  // at the map when two or more are, or when the map is empty (a map holding only unknown
  // keys had those reported already).
  bool exactly_one_of(std::initializer_list<std::string_view> keys, std::string_view message) const;

  // Typed reads: assign `out` and return true when the key is present and valid; leave
  // `out` alone otherwise (absent keys keep their defaults; invalid ones are recorded).
  bool read(std::string_view key, std::string& out) const;
  bool read_name(std::string_view key, std::string& out, bool required = false) const;
  bool read(std::string_view key, bool& out) const;
  bool read(std::string_view key, int& out, int min, int max) const;
  bool read(std::string_view key, double& out, double min, double max) const;
  bool read(std::string_view key, core::Duration& out) const;
  template <class E>
  bool read_enum(std::string_view key, E& out,
                 std::type_identity_t<std::span<const EnumName<E>>> names,
                 std::string_view noun) const {
    auto node = get(key);
    if (!node) return false;
    auto value = acd::app::read_enum<E>(*node, path_of(key), errors_, names, noun);
    if (value) out = *value;
    return value.has_value();
  }

 private:
  std::string path_;
  ErrorList& errors_;
  YAML::Mark mark_;
  bool ok_ = false;
  bool empty_ = true;  // the map has no key at all, known or not
  struct Entry {
    std::string name;
    YAML::Mark key_mark;
    YAML::Node value;
  };
  std::vector<Entry> entries_;
};

}  // namespace acd::app
