// TimeZone on hand-built TZif bytes (the core reads no files; engine/app's
// time_zones_test.cc checks the system's /usr/share/zoneinfo).
#include "engine/core/time_zone.h"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/core/tzif_test_util.h"

using acd::core::LocalDate;
using acd::core::TimePoint;
using acd::core::TimeZone;
using acd::core::testing::at;
using acd::core::testing::berlin;
using acd::core::testing::Tzif;
using std::chrono::seconds;

namespace {

TimeZone parse_ok(const std::string& bytes, std::string name = "test") {
  auto parsed = TimeZone::parse(bytes, std::move(name));
  if (auto* error = std::get_if<std::string>(&parsed)) FAIL(*error);
  return std::get<TimeZone>(std::move(parsed));
}

std::string parse_error(const std::string& bytes) {
  auto parsed = TimeZone::parse(bytes, "bad");
  REQUIRE(std::holds_alternative<std::string>(parsed));
  return std::get<std::string>(parsed);
}

}  // namespace

TEST_CASE("TimeZone: the default zone is UTC", "[time_zone]") {
  const TimeZone utc;
  CHECK(utc.name() == "UTC");
  CHECK(utc.utc_offset(at(1795556940)) == seconds(0));
  const auto local = utc.to_local(at(1795556940));  // 2026-11-24 21:49 UTC, a Tuesday
  CHECK(local.date == LocalDate{2026, 11, 24});
  CHECK(local.minute_of_day == 21 * 60 + 49);
  CHECK(local.weekday == 1);
  const auto before_epoch = utc.to_local(at(-1));  // 1969-12-31 23:59:59, a Wednesday
  CHECK(before_epoch.date == LocalDate{1969, 12, 31});
  CHECK(before_epoch.minute_of_day == 1439);
  CHECK(before_epoch.weekday == 2);
}

TEST_CASE("TimeZone: transitions, then the footer rule", "[time_zone]") {
  const TimeZone zone = parse_ok(berlin().bytes(), "Europe/Berlin");
  CHECK(zone.name() == "Europe/Berlin");
  // Before the first transition: type 0 (winter).
  CHECK(zone.utc_offset(at(1768465800)) == seconds(3600));
  // Spring forward at 01:00 UTC exactly.
  CHECK(zone.utc_offset(at(1774746000 - 1)) == seconds(3600));
  CHECK(zone.utc_offset(at(1774746000)) == seconds(7200));
  const auto summer = zone.to_local(at(1784104200));  // 2026-07-15 08:30 UTC
  CHECK(summer.minute_of_day == 10 * 60 + 30);
  CHECK(summer.weekday == 2);
  // Fall back at the last transition, from where the footer applies.
  CHECK(zone.utc_offset(at(1792890000 - 1)) == seconds(7200));
  CHECK(zone.utc_offset(at(1792890000)) == seconds(3600));
  // 2100: last Sundays are March 28 and October 31; only the footer knows.
  CHECK(zone.utc_offset(at(4109878800 - 1)) == seconds(3600));
  CHECK(zone.utc_offset(at(4109878800)) == seconds(7200));
  const auto far = zone.to_local(at(4118126400));  // 2100-07-01 12:00 UTC, a Thursday
  CHECK(far.date == LocalDate{2100, 7, 1});
  CHECK(far.minute_of_day == 14 * 60);
  CHECK(far.weekday == 3);
  CHECK(far.utc_offset == seconds(7200));
}

TEST_CASE("TimeZone: footer-only zones, half hours and the southern hemisphere", "[time_zone]") {
  Tzif kolkata;
  kolkata.offsets = {{19800, false}};
  kolkata.footer = "IST-5:30";
  const TimeZone india = parse_ok(kolkata.bytes());
  CHECK(india.utc_offset(at(1784104200)) == seconds(19800));
  CHECK(india.to_local(at(1784104200)).minute_of_day == 14 * 60);  // 08:30 UTC

  Tzif lord_howe;  // DST of 30 minutes, from October to April
  lord_howe.offsets = {{37800, false}};
  lord_howe.footer = "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0";
  const TimeZone lh = parse_ok(lord_howe.bytes());
  CHECK(lh.utc_offset(at(1768478400)) == seconds(39600));  // 2026-01-15 12:00 UTC
  CHECK(lh.utc_offset(at(1784116800)) == seconds(37800));  // 2026-07-15 12:00 UTC

  Tzif new_york;  // end of DST at 02:00 daylight time = 06:00 UTC on 2026-11-01
  new_york.offsets = {{-18000, false}};
  new_york.footer = "EST5EDT,M3.2.0,M11.1.0";
  const TimeZone ny = parse_ok(new_york.bytes());
  CHECK(ny.utc_offset(at(1793512800 - 1)) == seconds(-14400));
  CHECK(ny.utc_offset(at(1793512800)) == seconds(-18000));
  // Starts 2026-03-08 02:00 EST = 07:00 UTC.
  CHECK(ny.utc_offset(at(1772953200 - 1)) == seconds(-18000));
  CHECK(ny.utc_offset(at(1772953200)) == seconds(-14400));
}

TEST_CASE("TimeZone: a version 1 file uses its 32-bit data and its last type after",
          "[time_zone]") {
  Tzif v1 = berlin();
  v1.version = 0;
  const TimeZone zone = parse_ok(v1.bytes());
  CHECK(zone.utc_offset(at(1768465800)) == seconds(3600));
  CHECK(zone.utc_offset(at(1784104200)) == seconds(7200));
  CHECK(zone.utc_offset(at(4118126400)) == seconds(3600));  // no rule after the last
}

TEST_CASE("TimeZone: malformed data is refused with a reason", "[time_zone]") {
  const std::string good = berlin().bytes();
  CHECK_THAT(parse_error(""), Catch::Contains("truncated TZif header"));
  CHECK_THAT(parse_error("TZjf" + good.substr(4)), Catch::Contains("not a TZif file"));
  std::string version = good;
  version[4] = '9';
  CHECK_THAT(parse_error(version), Catch::Contains("unsupported TZif version"));
  CHECK_THAT(parse_error(good.substr(0, good.size() - 40)), Catch::Contains("truncated"));

  Tzif bad_type = berlin();
  bad_type.types = {1, 2};
  CHECK_THAT(parse_error(bad_type.bytes()), Catch::Contains("names local time type 2 of 2"));
  Tzif unordered = berlin();
  unordered.times = {1792890000, 1774746000};
  CHECK_THAT(parse_error(unordered.bytes()), Catch::Contains("not ascending"));
  Tzif leap = berlin();
  leap.leap_count = 1;
  CHECK_THAT(parse_error(leap.bytes()), Catch::Contains("leap-second"));
  Tzif huge_offset = berlin();
  huge_offset.offsets[1].first = 100000;
  CHECK_THAT(parse_error(huge_offset.bytes()), Catch::Contains("local time type 1"));
  for (const char* footer : {"CET", "CET-1CEST", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.5.0",
                             "CET-25", "CET-1CEST,M3.5.0,M10.5.0/3x", "<CE-1"}) {
    Tzif bad_footer = berlin();
    bad_footer.footer = footer;
    CHECK_THAT(parse_error(bad_footer.bytes()), Catch::Contains("invalid TZ string"));
  }
  const std::string no_newline = good.substr(0, good.size() - 1);
  CHECK_THAT(parse_error(no_newline), Catch::Contains("footer must end with a newline"));
}

TEST_CASE("TimeZone: civil dates", "[time_zone]") {
  CHECK(acd::core::days_from_civil({1970, 1, 1}) == 0);
  CHECK(acd::core::days_from_civil({2000, 3, 1}) == 11017);
  CHECK(acd::core::civil_from_days(11017) == LocalDate{2000, 3, 1});
  CHECK(acd::core::civil_from_days(-1) == LocalDate{1969, 12, 31});
  LocalDate d;
  CHECK(acd::core::parse_local_date("2024-02-29", d));
  CHECK(d == LocalDate{2024, 2, 29});
  CHECK_FALSE(acd::core::parse_local_date("2026-02-29", d));
  CHECK_FALSE(acd::core::parse_local_date("2026-13-01", d));
  CHECK_FALSE(acd::core::parse_local_date("2026-1-01", d));
}
