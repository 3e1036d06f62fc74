// Time zones for routing rules and business calendars: the tenant's (and each calendar's)
// IANA zone, as the rules read it (`now.time`, `now.weekday`, `open()`, `holiday()`).
//
// A TimeZone is built from the bytes of a TZif file (RFC 8536, versions 1 to 4), which the
// caller reads (the core does no I/O): engine/app reads /usr/share/zoneinfo/<name> once per
// configuration load. Version 2+ files are read from their 64-bit data block, and instants
// after the last transition follow the POSIX TZ string in the footer
// ("CET-1CEST,M3.5.0,M10.5.0/3"), so a "slim" file (transitions until the rule took effect)
// works as well as a "fat" one. Files with leap seconds ("right/...") are refused.
// Thread-safety: immutable after construction; share it freely (shared_ptr<const TimeZone>).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/core/time.h"

namespace acd::core {

// A proleptic Gregorian calendar date.
struct LocalDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  bool operator==(const LocalDate&) const = default;
};

// An instant as seen on the wall clock of a time zone.
struct LocalTime {
  LocalDate date;
  int minute_of_day = 0;  // 0..1439
  int weekday = 0;        // 0 = Monday .. 6 = Sunday
  std::chrono::seconds utc_offset{0};
};

// Days since 1970-01-01 of a date, and back (valid for any year a 64-bit count holds).
std::int64_t days_from_civil(const LocalDate& date);
LocalDate civil_from_days(std::int64_t days);
// "YYYY-MM-DD" naming a day that exists; nothing otherwise.
bool parse_local_date(std::string_view text, LocalDate& out);

class TimeZone {
 public:
  // UTC: no transitions, offset 0.
  TimeZone() = default;

  // Parses the contents of a TZif file; on bad data, a message saying what is wrong
  // ("not a TZif file: ...", "truncated ...", "invalid TZ string ...").
  static std::variant<TimeZone, std::string> parse(std::string_view tzif, std::string name);

  // The IANA name given to parse ("UTC" for the default zone).
  [[nodiscard]] const std::string& name() const { return name_; }
  // Local time minus UTC at `t` (Unix-epoch engine time), e.g. +1h for Berlin in winter.
  [[nodiscard]] std::chrono::seconds utc_offset(TimePoint t) const;
  // `t` on this zone's wall clock.
  [[nodiscard]] LocalTime to_local(TimePoint t) const;

  // A POSIX TZ rule (the footer): standard offset and, optionally, daylight time between
  // two yearly transitions. Offsets are seconds east of UTC (POSIX writes them west).
  struct Rule {
    enum class Kind : std::uint8_t { kMonthWeekDay, kJulianNoLeap, kZeroBasedDay };
    Kind kind = Kind::kMonthWeekDay;
    int month = 0;             // kMonthWeekDay: 1..12
    int week = 0;              // kMonthWeekDay: 1..5 (5: the last)
    int day = 0;               // weekday 0 (Sunday)..6; or the day number for the Julian kinds
    std::int64_t time = 7200;  // seconds after local midnight the change happens
  };
  struct PosixTz {
    std::int64_t std_offset = 0;
    bool has_dst = false;
    std::int64_t dst_offset = 0;
    Rule start;  // daylight time begins (written in standard local time)
    Rule end;    // daylight time ends (written in daylight local time)
  };

 private:
  std::int64_t offset_at(std::int64_t unix_seconds) const;

  std::string name_ = "UTC";
  std::vector<std::int64_t> transitions_;       // ascending Unix seconds
  std::vector<std::uint8_t> transition_types_;  // index into offsets_, per transition
  std::vector<std::int64_t> offsets_;           // per local time type; [0] before the first
  bool has_footer_ = false;
  PosixTz footer_;
};

}  // namespace acd::core
