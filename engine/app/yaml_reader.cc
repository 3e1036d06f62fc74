#include "engine/app/yaml_reader.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "engine/app/duration.h"
#include "engine/app/spelling.h"

namespace acd::app {
namespace {

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

std::string range_text(std::int64_t min, std::int64_t max) {
  if (max >= std::numeric_limits<std::int32_t>::max()) return ">= " + std::to_string(min);
  return "from " + std::to_string(min) + " to " + std::to_string(max);
}

std::string number_text(double v) {
  std::string s = std::to_string(v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

bool is_name_char(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '_' || c == '-' || c == '.'));
}

}  // namespace

std::string key_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return quoted(node.Scalar());
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "?";
}

std::optional<std::string> read_string(const YAML::Node& node, std::string_view path,
                                       ErrorList& errors) {
  if (!node.IsScalar()) {
    errors.add(node.Mark(), path, "expected a string, got " + describe(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::string> read_name(const YAML::Node& node, std::string_view path,
                                     ErrorList& errors) {
  auto text = read_string(node, path, errors);
  if (!text) return std::nullopt;
  bool valid = !text->empty() && text->size() <= 64;
  for (std::size_t i = 0; valid && i < text->size(); ++i) valid = is_name_char((*text)[i], i == 0);
  if (!valid) {
    errors.add(node.Mark(), path,
               "invalid name " + quoted(*text) +
                   "; expected 1 to 64 letters, digits, '_', '-' or '.', starting with a letter "
                   "or digit");
    return std::nullopt;
  }
  return text;
}

std::optional<std::int64_t> read_int(const YAML::Node& node, std::string_view path,
                                     ErrorList& errors, std::int64_t min, std::int64_t max) {
  if (!node.IsScalar()) {
    errors.add(node.Mark(), path,
               "expected an integer " + range_text(min, max) + ", got " + describe(node));
    return std::nullopt;
  }
  const std::string& text = node.Scalar();
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || begin == end) {
    errors.add(node.Mark(), path,
               "expected an integer " + range_text(min, max) + ", got " + quoted(text));
    return std::nullopt;
  }
  if (value < min || value > max) {
    errors.add(node.Mark(), path,
               "value " + text + " is out of range; expected an integer " + range_text(min, max));
    return std::nullopt;
  }
  return value;
}

std::optional<double> read_number(const YAML::Node& node, std::string_view path, ErrorList& errors,
                                  double min, double max) {
  const std::string range = "from " + number_text(min) + " to " + number_text(max);
  if (!node.IsScalar()) {
    errors.add(node.Mark(), path, "expected a number " + range + ", got " + describe(node));
    return std::nullopt;
  }
  const std::string& text = node.Scalar();
  double value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value, std::chars_format::fixed);
  if (ec != std::errc() || ptr != end || begin == end || !std::isfinite(value)) {
    errors.add(node.Mark(), path, "expected a number " + range + ", got " + quoted(text));
    return std::nullopt;
  }
  if (value < min || value > max) {
    errors.add(node.Mark(), path, "value " + text + " is out of range; expected a number " + range);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> read_bool(const YAML::Node& node, std::string_view path, ErrorList& errors) {
  if (node.IsScalar() && node.Scalar() == "true") return true;
  if (node.IsScalar() && node.Scalar() == "false") return false;
  errors.add(node.Mark(), path, "expected true or false, got " + describe(node));
  return std::nullopt;
}

std::optional<core::Duration> read_duration(const YAML::Node& node, std::string_view path,
                                            ErrorList& errors) {
  if (!node.IsScalar()) {
    errors.add(node.Mark(), path,
               std::string("expected a duration such as \"20s\", \"500ms\", \"5m\", got ") +
                   describe(node));
    return std::nullopt;
  }
  auto parsed = parse_duration(node.Scalar());
  if (!parsed) {
    errors.add(node.Mark(), path, parsed.error());
    return std::nullopt;
  }
  return parsed.value();
}

bool expect_list(const YAML::Node& node, std::string_view path, ErrorList& errors) {
  if (node.IsSequence()) return true;
  errors.add(node.Mark(), path, std::string("expected a list, got ") + describe(node));
  return false;
}

MapReader::MapReader(const YAML::Node& node, std::string path, ErrorList& errors,
                     std::initializer_list<std::string_view> allowed)
    : path_(std::move(path)), errors_(errors), mark_(node.Mark()) {
  if (!node.IsMap()) {
    errors_.add(node.Mark(), path_, std::string("expected a map, got ") + describe(node));
    return;
  }
  ok_ = true;
  empty_ = node.size() == 0;
  std::vector<std::string> allowed_names(allowed.begin(), allowed.end());
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: `it->` yields a temporary proxy
    if (!key.IsScalar()) {
      errors_.add(key.Mark(), path_, std::string("expected a key, got ") + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    bool duplicate = false;
    for (const auto& entry : entries_) {
      if (entry.name == name) {
        errors_.add(key.Mark(), path_of(name),
                    "duplicate key " + quoted(name) + " (first given at line " +
                        std::to_string(entry.value.Mark().line + 1) + ")");
        duplicate = true;
        break;
      }
    }
    if (duplicate) continue;
    bool known = false;
    for (const auto& a : allowed) known = known || a == name;
    if (!known) {
      std::string message = "unknown key " + quoted(name);
      if (auto guess = closest_match(name, allowed_names))
        message += " (did you mean " + quoted(*guess) + "?)";
      message += "; expected one of ";
      for (std::size_t i = 0; i < allowed_names.size(); ++i) {
        if (i > 0) message += ", ";
        message += allowed_names[i];
      }
      errors_.add(key.Mark(), path_of(name), std::move(message));
      continue;
    }
    entries_.push_back({name, key.Mark(), it->second});
  }
}

std::optional<YAML::Node> MapReader::get(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.name == key) return entry.value;
  }
  return std::nullopt;
}

YAML::Mark MapReader::key_mark(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.name == key) return entry.key_mark;
  }
  return mark_;
}

std::optional<YAML::Node> MapReader::require(std::string_view key) const {
  auto node = get(key);
  if (!node && ok_) errors_.add(mark_, path_, "missing required key " + quoted(key));
  return node;
}

bool MapReader::exactly_one_of(std::initializer_list<std::string_view> keys,
                               std::string_view message) const {
  int count = 0;
  for (auto key : keys) count += get(key) ? 1 : 0;
  if (count == 1) return true;
  if (ok_ && (count > 1 || empty_)) errors_.add(mark_, path_, std::string(message));
  return false;
}

bool MapReader::read(std::string_view key, std::string& out) const {
  auto node = get(key);
  if (!node) return false;
  auto value = read_string(*node, path_of(key), errors_);
  if (value) out = std::move(*value);
  return value.has_value();
}

bool MapReader::read_name(std::string_view key, std::string& out, bool required) const {
  auto node = required ? require(key) : get(key);
  if (!node) return false;
  auto value = acd::app::read_name(*node, path_of(key), errors_);
  if (value) out = std::move(*value);
  return value.has_value();
}

bool MapReader::read(std::string_view key, bool& out) const {
  auto node = get(key);
  if (!node) return false;
  auto value = read_bool(*node, path_of(key), errors_);
  if (value) out = *value;
  return value.has_value();
}

bool MapReader::read(std::string_view key, int& out, int min, int max) const {
  auto node = get(key);
  if (!node) return false;
  auto value = read_int(*node, path_of(key), errors_, min, max);
  if (value) out = static_cast<int>(*value);
  return value.has_value();
}

bool MapReader::read(std::string_view key, double& out, double min, double max) const {
  auto node = get(key);
  if (!node) return false;
  auto value = read_number(*node, path_of(key), errors_, min, max);
  if (value) out = *value;
  return value.has_value();
}

bool MapReader::read(std::string_view key, core::Duration& out) const {
  auto node = get(key);
  if (!node) return false;
  auto value = read_duration(*node, path_of(key), errors_);
  if (value) out = *value;
  return value.has_value();
}

}  // namespace acd::app
