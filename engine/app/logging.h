// Structured logging: one event per line, as `key=value` pairs (format text, logfmt
// style) or as one JSON object (format json), e.g.
//   ts=2024-05-01T10:00:00.123+0000 level=info event=agent.state tenant=acme agent=alice ...
//   {"ts":"2024-05-01T10:00:00.123+0000","level":"info","event":"agent.state",...}
// Backed by spdlog (a thread-safe logger writing to stdout, flushed per line).
// Thread-safety: configure_logging() once at start-up before other threads log;
// everything else may be called from any thread.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "engine/app/config.h"
#include "engine/core/time.h"

namespace acd::app {

// One key=value pair. String values are viewed, not copied: a field lives only for the
// duration of the log call.
class LogField {
 public:
  using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;

  LogField(std::string_view key, std::string_view value) : key_(key), value_(value) {}
  LogField(std::string_view key, const char* value) : key_(key), value_(std::string_view(value)) {}
  LogField(std::string_view key, const std::string& value)
      : key_(key), value_(std::string_view(value)) {}
  template <std::signed_integral T>
  LogField(std::string_view key, T value) : key_(key), value_(static_cast<std::int64_t>(value)) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) LogField(std::string_view key, T value)
      : key_(key), value_(static_cast<std::uint64_t>(value)) {}
  LogField(std::string_view key, double value) : key_(key), value_(value) {}
  LogField(std::string_view key, bool value) : key_(key), value_(value) {}

  [[nodiscard]] std::string_view key() const { return key_; }
  [[nodiscard]] const Value& value() const { return value_; }

 private:
  std::string_view key_;
  Value value_;
};

// Installs the process logger (stdout) with the given level and line format.
// A JSON string literal (with quotes) for `text`, and the same appended to `out`.
std::string json_string(std::string_view text);
void append_json_string(std::string& out, std::string_view text);

void configure_logging(LogLevel level, LogFormat format);
void set_log_level(LogLevel level);
[[nodiscard]] bool log_enabled(LogLevel level);

void log_event(LogLevel level, std::string_view event, std::span<const LogField> fields);
inline void log_event(LogLevel level, std::string_view event,
                      std::initializer_list<LogField> fields) {
  log_event(level, event, std::span<const LogField>(fields.begin(), fields.size()));
}

// The message part of a line (without timestamp and level), exposed for tests:
//   text: `event=x key=value key="two words"`   json: `"event":"x","key":"value"`
std::string format_log_fields(LogFormat format, std::string_view event,
                              std::span<const LogField> fields);

// Durations in logs are integral milliseconds, in keys ending with `_ms`.
inline std::int64_t to_ms(core::Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace acd::app
