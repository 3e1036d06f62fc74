// One problem found in a configuration file, located by file, line and column (1-based,
// from yaml-cpp's Mark) and by key path ("tenants[0].queues[1].strategy"), and the list
// that collects them while a file is validated. Thread-safety: plain values; an
// ErrorList belongs to the one load that fills it.
#pragma once

#include <yaml-cpp/mark.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acd::app {

struct ConfigError {
  std::string file;
  int line = 0;      // 1-based; 0 when the error concerns the whole file
  int column = 0;    // 1-based; 0 when unknown
  std::string path;  // key path; empty for file-level errors (unreadable, YAML syntax)
  std::string message;

  // "config/acdd.yaml:42:7: tenants[0].queues[1].strategy: unknown strategy ..."
  [[nodiscard]] std::string to_string() const;
};

class ErrorList {
 public:
  static constexpr std::size_t kDefaultLimit = 50;

  explicit ErrorList(std::string file, std::size_t limit = kDefaultLimit)
      : file_(std::move(file)), limit_(limit) {}

  void add(const YAML::Mark& mark, std::string_view path, std::string message);
  void add_file_error(std::string message);

  [[nodiscard]] bool empty() const { return errors_.empty(); }
  [[nodiscard]] std::size_t size() const { return errors_.size(); }
  // True once the limit is reached: further errors are dropped, and take() ends with an
  // entry that says so.
  [[nodiscard]] bool full() const { return errors_.size() >= limit_; }
  [[nodiscard]] const std::string& file() const { return file_; }
  // The errors in file order (line, then column), plus the "too many errors" entry.
  std::vector<ConfigError> take();

 private:
  std::string file_;
  std::size_t limit_;
  bool truncated_ = false;
  std::vector<ConfigError> errors_;
};

}  // namespace acd::app
