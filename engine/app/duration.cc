#include "engine/app/duration.h"

#include <cmath>
#include <cstdint>

namespace acd::app {
namespace {

using core::Duration;
using Error = Result<Duration, std::string>;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

}  // namespace

Result<Duration, std::string> parse_duration(std::string_view text) {
  if (text.empty())
    return Error::failure("empty duration; expected e.g. \"20s\", \"500ms\", \"5m\", \"1h\"");
  if (text.front() == '-')
    return Error::failure("negative duration " + quoted(text) + "; durations must be >= 0");
  if (text.front() == '+') text.remove_prefix(1);

  double total_ns = 0;
  std::size_t pos = 0;
  int components = 0;
  while (pos < text.size()) {
    // Number: digits with at most one decimal point.
    const std::size_t num_start = pos;
    bool dot = false;
    bool digits = false;
    while (pos < text.size() && (is_digit(text[pos]) || (text[pos] == '.' && !dot))) {
      if (text[pos] == '.')
        dot = true;
      else
        digits = true;
      ++pos;
    }
    if (!digits) {
      return Error::failure("malformed duration " + quoted(text) +
                            "; expected a number with a unit (ms, s, m, h), e.g. \"20s\"");
    }
    const double number = std::stod(std::string(text.substr(num_start, pos - num_start)));
    const std::size_t unit_start = pos;
    while (pos < text.size() && is_alpha(text[pos])) ++pos;
    const std::string_view unit = text.substr(unit_start, pos - unit_start);
    double unit_ns = 0;
    if (unit.empty()) {
      // A bare number means seconds, but only on its own ("20", not "1m20").
      if (components > 0 || pos != text.size()) {
        return Error::failure("malformed duration " + quoted(text) +
                              "; every part of a compound duration needs a unit (ms, s, m, h)");
      }
      unit_ns = 1e9;
    } else if (unit == "ms") {
      unit_ns = 1e6;
    } else if (unit == "s") {
      unit_ns = 1e9;
    } else if (unit == "m") {
      unit_ns = 60e9;
    } else if (unit == "h") {
      unit_ns = 3600e9;
    } else {
      return Error::failure("unknown unit " + quoted(unit) + " in " + quoted(text) +
                            "; expected ms, s, m or h");
    }
    total_ns += number * unit_ns;
    ++components;
  }
  if (!std::isfinite(total_ns) ||
      total_ns > static_cast<double>(std::chrono::nanoseconds(kMaxConfigDuration).count())) {
    return Error::failure("duration " + quoted(text) + " is too long; at most 366 days");
  }
  return Error::success(Duration(static_cast<std::int64_t>(std::llround(total_ns))));
}

std::string format_duration(Duration d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  constexpr std::int64_t kMs = 1'000'000, kS = 1000 * kMs, kM = 60 * kS, kH = 60 * kM;
  if (ns % kMs != 0) return out + std::to_string(ns) + "ns";  // not expressible in config units
  if (ns % kS != 0 && ns < kS) return out + std::to_string(ns / kMs) + "ms";
  if (ns % kS != 0) {
    // Whole seconds plus milliseconds: write as fractional seconds.
    std::string frac = std::to_string(ns % kS / kMs);
    frac.insert(0, 3 - frac.size(), '0');
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return out + std::to_string(ns / kS) + "." + frac + "s";
  }
  if (ns >= kH) {
    out += std::to_string(ns / kH) + "h";
    ns %= kH;
  }
  if (ns >= kM) {
    out += std::to_string(ns / kM) + "m";
    ns %= kM;
  }
  if (ns > 0) out += std::to_string(ns / kS) + "s";
  return out;
}

}  // namespace acd::app
