#include "engine/app/config_error.h"

#include <yaml-cpp/mark.h>

#include <algorithm>
#include <tuple>

namespace acd::app {

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

void ErrorList::add(const YAML::Mark& mark, std::string_view path, std::string message) {
  if (full()) {
    truncated_ = true;
    return;
  }
  ConfigError error{file_, 0, 0, std::string(path), std::move(message)};
  if (!mark.is_null()) {
    error.line = mark.line + 1;
    error.column = mark.column + 1;
  }
  errors_.push_back(std::move(error));
}

void ErrorList::add_file_error(std::string message) {
  if (full()) {
    truncated_ = true;
    return;
  }
  errors_.push_back({file_, 0, 0, "", std::move(message)});
}

std::vector<ConfigError> ErrorList::take() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  if (truncated_) {
    errors_.push_back(
        {file_, 0, 0, "", "too many errors; stopped after " + std::to_string(limit_)});
    truncated_ = false;
  }
  return std::move(errors_);
}

}  // namespace acd::app
