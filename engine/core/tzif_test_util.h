// Hand-built TZif bytes for core tests (the core reads no files): a builder and a zone like
// Europe/Berlin's (its 2026 transitions, then the rule "CET-1CEST,M3.5.0,M10.5.0/3").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/core/time.h"
#include "engine/core/time_zone.h"

namespace acd::core::testing {

inline TimePoint at(std::int64_t unix_seconds) {
  return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::seconds(unix_seconds)));
}

inline void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

struct Tzif {
  char version = '2';
  std::vector<std::int64_t> times;
  std::vector<std::uint8_t> types;
  std::vector<std::pair<std::int32_t, bool>> offsets = {{0, false}};
  std::uint32_t leap_count = 0;
  std::string footer;

  void header(std::string& out, std::uint64_t timecnt, std::uint64_t typecnt,
              std::uint64_t charcnt) const {
    out += "TZif";
    out.push_back(version);
    out.append(15, '\0');
    for (std::uint64_t n :
         {std::uint64_t{0}, std::uint64_t{0}, std::uint64_t{leap_count}, timecnt, typecnt, charcnt})
      put_be(out, n, 4);
  }
  void data(std::string& out, int time_size) const {
    for (std::int64_t t : times) put_be(out, static_cast<std::uint64_t>(t), time_size);
    for (std::uint8_t type : types) out.push_back(static_cast<char>(type));
    for (const auto& [offset, dst] : offsets) {
      put_be(out, static_cast<std::uint32_t>(offset), 4);
      out.push_back(dst ? 1 : 0);
      out.push_back(0);  // designation index: "X"
    }
    out += "X";
    out.push_back('\0');
    out.append(leap_count * (time_size + 4), '\0');
  }
  [[nodiscard]] std::string bytes() const {
    std::string out;
    if (version == 0) {
      header(out, times.size(), offsets.size(), 2);
      data(out, 4);
      return out;
    }
    header(out, 0, 1, 2);  // a minimal version 1 block, which readers of v2+ skip
    put_be(out, 0, 4);
    out.push_back(0);
    out.push_back(0);
    out += "X";
    out.push_back('\0');
    out.append(leap_count * 8, '\0');
    header(out, times.size(), offsets.size(), 2);
    data(out, 8);
    out += "\n" + footer + "\n";
    return out;
  }
};

// A Berlin-like zone: its 2026 transitions, then the POSIX rule.
inline Tzif berlin() {
  Tzif z;
  z.times = {1774746000, 1792890000};  // 2026-03-29 01:00 UTC, 2026-10-25 01:00 UTC
  z.types = {1, 0};
  z.offsets = {{3600, false}, {7200, true}};
  z.footer = "CET-1CEST,M3.5.0,M10.5.0/3";
  return z;
}

// The Berlin-like zone, parsed; null if the bytes were refused (a test failure).
inline std::shared_ptr<const TimeZone> berlin_zone() {
  auto parsed = TimeZone::parse(berlin().bytes(), "Europe/Berlin");
  if (!std::holds_alternative<TimeZone>(parsed)) return nullptr;
  return std::make_shared<const TimeZone>(std::get<TimeZone>(std::move(parsed)));
}

}  // namespace acd::core::testing
