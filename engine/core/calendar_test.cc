#include "engine/core/calendar.h"

#include <catch2/catch.hpp>
#include <utility>

#include "engine/core/tzif_test_util.h"

using acd::core::BusinessCalendar;
using acd::core::CalendarHoliday;
using acd::core::LocalDate;
using acd::core::MinuteRange;
using acd::core::parse_hours_range;
using acd::core::testing::at;
using acd::core::testing::berlin_zone;

namespace {

MinuteRange hours(const char* text) {
  auto range = parse_hours_range(text);
  REQUIRE(range.has_value());
  return *range;
}

// Mon-Fri 09:00-17:00, Sat 10:00-14:00, Sun 01:00-03:00 (the DST hour), in Berlin; closed on
// Christmas Day, short hours on Christmas Eve.
BusinessCalendar support() {
  std::array<std::vector<MinuteRange>, 7> weekly;
  for (int d = 0; d < 5; ++d) weekly[d] = {hours("09:00-17:00")};
  weekly[5] = {hours("10:00-14:00")};
  weekly[6] = {hours("01:00-03:00")};
  std::vector<CalendarHoliday> holidays;
  holidays.push_back({LocalDate{2026, 12, 25}, std::nullopt});
  holidays.push_back({LocalDate{2026, 12, 24}, std::vector<MinuteRange>{hours("09:00-12:00")}});
  auto zone = berlin_zone();
  REQUIRE(zone != nullptr);
  return BusinessCalendar("support", std::move(zone), std::move(weekly), std::move(holidays));
}

}  // namespace

TEST_CASE("parse_hours_range: HH:MM-HH:MM, 24:00 only as an end", "[calendar]") {
  CHECK(parse_hours_range("08:00-12:30") == MinuteRange{480, 750});
  CHECK(parse_hours_range("20:00-24:00") == MinuteRange{1200, 1440});
  CHECK_FALSE(parse_hours_range("24:00-24:00"));
  CHECK_FALSE(parse_hours_range("12:00-12:00"));
  CHECK_FALSE(parse_hours_range("13:00-12:00"));
  CHECK_FALSE(parse_hours_range("08:60-12:00"));
  CHECK_FALSE(parse_hours_range("24:30-24:40"));
  CHECK_FALSE(parse_hours_range("8:00-12:00"));
  CHECK_FALSE(parse_hours_range("08:00 12:00"));
}

TEST_CASE("BusinessCalendar: weekly hours in the calendar's time zone", "[calendar]") {
  const BusinessCalendar c = support();
  CHECK(c.name() == "support");
  CHECK(c.zone().name() == "Europe/Berlin");
  CHECK(c.open_at(at(1795509000)));        // Tue 08:30 UTC = 09:30 local
  CHECK_FALSE(c.open_at(at(1795507140)));  // Tue 07:59 UTC = 08:59 local
  CHECK(c.open_at(at(1795535940)));        // Tue 16:59 local
  CHECK_FALSE(c.open_at(at(1795536000)));  // Tue 17:00 local: the end is not included
  CHECK(c.open_at(at(1795858200)));        // Sat 10:30 local
  CHECK_FALSE(c.open_at(at(1795946400)));  // Sun 11:00 local: outside Sunday's hours
  CHECK_FALSE(c.holiday_at(at(1795509000)));
}

TEST_CASE("BusinessCalendar: holidays by local date, closed or with their own hours",
          "[calendar]") {
  const BusinessCalendar c = support();
  // Christmas Day, a Friday: closed all day.
  CHECK(c.holiday_at(at(1798192800)));
  CHECK_FALSE(c.open_at(at(1798192800)));
  // Christmas Eve, a Thursday: 09:00-12:00 instead of 09:00-17:00.
  CHECK(c.holiday_at(at(1798108200)));  // 11:30 local
  CHECK(c.open_at(at(1798108200)));
  CHECK(c.holiday_at(at(1798111800)));  // 12:30 local
  CHECK_FALSE(c.open_at(at(1798111800)));
  // 2026-12-24 23:30 UTC is already the 25th in Berlin.
  CHECK(c.state_at(at(1798155000)).holiday);
  CHECK_FALSE(c.state_at(at(1798155000)).open);
}

TEST_CASE("BusinessCalendar: hours follow the wall clock across DST", "[calendar]") {
  const BusinessCalendar c = support();
  CHECK_FALSE(c.open_at(at(1774251000)));  // Mon 2026-03-23 07:30 UTC = 08:30 CET
  CHECK(c.open_at(at(1774855800)));        // Mon 2026-03-30 07:30 UTC = 09:30 CEST
  // The DST day: 00:30 UTC is 01:30 CET (open); at 01:00 UTC clocks jump to 03:00 CEST.
  CHECK(c.open_at(at(1774744200)));
  CHECK_FALSE(c.open_at(at(1774746000)));
}

TEST_CASE("BusinessCalendar: no zone is UTC; a closed week is never open", "[calendar]") {
  std::array<std::vector<MinuteRange>, 7> weekly;
  weekly[1] = {hours("20:00-24:00")};
  const BusinessCalendar utc("late", nullptr, weekly, {});
  CHECK(utc.zone().name() == "UTC");
  CHECK(utc.open_at(at(1795556940)));        // Tue 21:49 UTC
  CHECK_FALSE(utc.open_at(at(1795509000)));  // Tue 08:30 UTC
  const BusinessCalendar closed("closed", nullptr, {}, {});
  CHECK_FALSE(closed.open_at(at(1795556940)));
  CHECK_FALSE(closed.holiday_at(at(1795556940)));
}
