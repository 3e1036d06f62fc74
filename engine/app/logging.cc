#include "engine/app/logging.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <cstdio>

namespace acd::app {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kCritical: return spdlog::level::critical;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

constexpr const char* kTextPattern = "ts=%Y-%m-%dT%H:%M:%S.%e%z level=%l %v";
constexpr const char* kJsonPattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l",%v})";

// logfmt: bare when safe, else quoted with escapes.
void append_text_value(std::string& out, std::string_view s) {
  bool bare = !s.empty();
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x21) {
      bare = false;
      break;
    }
  }
  if (bare) {
    out += s;
    return;
  }
  append_json_string(out, s);  // same escapes
}

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    out += fmt::format("{}", static_cast<std::int64_t>(v));
    return;
  }
  std::string s = fmt::format("{:.3f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  out += s;
}

void append_value(std::string& out, LogFormat format, const LogField::Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          if (format == LogFormat::kJson)
            append_json_string(out, v);
          else
            append_text_value(out, v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          append_number(out, v);
        } else {
          out += fmt::format("{}", v);
        }
      },
      value);
}

}  // namespace

std::string format_log_fields(LogFormat format, std::string_view event,
                              std::span<const LogField> fields) {
  std::string out;
  out.reserve(64 + fields.size() * 24);
  if (format == LogFormat::kJson) {
    out += "\"event\":";
    append_json_string(out, event);
    for (const auto& f : fields) {
      out += ',';
      append_json_string(out, f.key());
      out += ':';
      append_value(out, format, f.value());
    }
  } else {
    out += "event=";
    out += event;
    for (const auto& f : fields) {
      out += ' ';
      out += f.key();
      out += '=';
      append_value(out, format, f.value());
    }
  }
  return out;
}

void configure_logging(LogLevel level, LogFormat format) {
  g_format.store(format);
  auto logger = spdlog::get("acdd");
  if (!logger) {
    logger = spdlog::stdout_logger_mt("acdd");
    spdlog::set_default_logger(logger);
  }
  logger->set_pattern(format == LogFormat::kJson ? kJsonPattern : kTextPattern);
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::trace);
}

void set_log_level(LogLevel level) {
  spdlog::default_logger_raw()->set_level(to_spdlog(level));
}

bool log_enabled(LogLevel level) {
  return spdlog::default_logger_raw()->should_log(to_spdlog(level));
}

void log_event(LogLevel level, std::string_view event, std::span<const LogField> fields) {
  auto* logger = spdlog::default_logger_raw();
  const auto spd_level = to_spdlog(level);
  if (!logger->should_log(spd_level)) return;
  const std::string line =
      format_log_fields(g_format.load(std::memory_order_relaxed), event, fields);
  logger->log(spdlog::source_loc{}, spd_level, spdlog::string_view_t(line.data(), line.size()));
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

}  // namespace acd::app
