// The system's time zone files (/usr/share/zoneinfo, Debian's tzdata) read and parsed, and
// calendars and time zones in the configuration as routing rules use them.
#include "engine/app/time_zones.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/app/config.h"

namespace acd::app {
namespace {

core::TimePoint at(std::int64_t unix_seconds) {
  return core::TimePoint(
      std::chrono::duration_cast<core::Duration>(std::chrono::seconds(unix_seconds)));
}

std::shared_ptr<const core::TimeZone> zone(TimeZoneFiles& files, const std::string& name) {
  auto loaded = files.load(name);
  if (!loaded) FAIL(loaded.error());
  REQUIRE(loaded.value() != nullptr);
  return loaded.value();
}

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

}  // namespace

TEST_CASE("time zones: UTC is built in; other names are read from zoneinfo once", "[tz]") {
  TimeZoneFiles files;
  auto utc = files.load("UTC");
  REQUIRE(utc);
  CHECK(utc.value() == nullptr);  // the core reads null as UTC
  auto etc_utc = zone(files, "Etc/UTC");
  CHECK(etc_utc->utc_offset(at(1795556940)) == seconds(0));
  auto berlin = zone(files, "Europe/Berlin");
  CHECK(berlin->name() == "Europe/Berlin");
  CHECK(zone(files, "Europe/Berlin") == berlin);  // the same object: read once

  auto unknown = files.load("Mars/Olympus_Mons");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error() ==
        "unknown time zone \"Mars/Olympus_Mons\" (no file /usr/share/zoneinfo/Mars/Olympus_Mons)");
  auto escape = files.load("../etc/passwd");
  REQUIRE_FALSE(escape);
  CHECK(escape.error() == "unknown time zone \"../etc/passwd\"");
}

TEST_CASE("time zones: Europe/Berlin across both 2026 DST changes and in 2100", "[tz]") {
  TimeZoneFiles files;
  auto berlin = zone(files, "Europe/Berlin");
  CHECK(berlin->utc_offset(at(1774745999)) == hours(1));  // 2026-03-29 00:59:59 UTC
  CHECK(berlin->utc_offset(at(1774746000)) == hours(2));  // 01:00 UTC: 03:00 CEST
  CHECK(berlin->utc_offset(at(1792889999)) == hours(2));  // 2026-10-25 00:59:59 UTC
  CHECK(berlin->utc_offset(at(1792890000)) == hours(1));
  const auto winter = berlin->to_local(at(1795509000));  // 2026-11-24 08:30 UTC
  CHECK(winter.minute_of_day == 9 * 60 + 30);
  CHECK(winter.weekday == 1);  // Tuesday
  CHECK(winter.date == core::LocalDate{2026, 11, 24});
  // Far beyond the file's transitions (fat files stop at 2037): the footer's rule.
  CHECK(berlin->utc_offset(at(4103697600)) == hours(1));  // 2100-01-15 12:00 UTC
  CHECK(berlin->utc_offset(at(4119336000)) == hours(2));  // 2100-07-15 12:00 UTC
}

TEST_CASE("time zones: New York, Kolkata and Lord Howe", "[tz]") {
  TimeZoneFiles files;
  auto new_york = zone(files, "America/New_York");
  CHECK(new_york->utc_offset(at(1772953199)) == hours(-5));  // 2026-03-08 06:59:59 UTC
  CHECK(new_york->utc_offset(at(1772953200)) == hours(-4));
  CHECK(new_york->utc_offset(at(1793512799)) == hours(-4));  // 2026-11-01 05:59:59 UTC
  CHECK(new_york->utc_offset(at(1793512800)) == hours(-5));
  CHECK(new_york->utc_offset(at(4119336000)) == hours(-4));  // 2100-07-15

  auto kolkata = zone(files, "Asia/Kolkata");
  CHECK(kolkata->utc_offset(at(1795509000)) == hours(5) + minutes(30));
  CHECK(kolkata->to_local(at(1795509000)).minute_of_day == 14 * 60);  // 08:30 UTC
  CHECK(kolkata->utc_offset(at(4119336000)) == hours(5) + minutes(30));

  if (!std::filesystem::exists("/usr/share/zoneinfo/Australia/Lord_Howe")) return;
  auto lord_howe = zone(files, "Australia/Lord_Howe");        // DST of 30 minutes
  CHECK(lord_howe->utc_offset(at(1775314799)) == hours(11));  // 2026-04-05 01:59:59 local
  CHECK(lord_howe->utc_offset(at(1775314800)) == hours(10) + minutes(30));
  CHECK(lord_howe->utc_offset(at(1791041399)) == hours(10) + minutes(30));
  CHECK(lord_howe->utc_offset(at(1791041400)) == hours(11));  // 2026-10-04 02:00 local
  CHECK(lord_howe->utc_offset(at(4103697600)) == hours(11));  // 2100-01-15
}

TEST_CASE("time zones: a corrupted zone file is refused with the reason", "[tz]") {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("acd-tz-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "Test");
  std::string bytes;
  {
    std::ifstream in("/usr/share/zoneinfo/Europe/Berlin", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(bytes.size() > 100);
  std::ofstream(root / "Test/Truncated", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  std::ofstream(root / "Test/Magic", std::ios::binary) << bad_magic;
  TimeZoneFiles files(root.string());
  auto truncated = files.load("Test/Truncated");
  REQUIRE_FALSE(truncated);
  CHECK_THAT(truncated.error(), Catch::Contains("Test/Truncated: truncated"));
  auto magic = files.load("Test/Magic");
  REQUIRE_FALSE(magic);
  CHECK_THAT(magic.error(), Catch::Contains("not a TZif file"));
  std::filesystem::remove_all(root);
}

namespace {

// A tenant in Berlin with a calendar and a queue whose target names it (lines numbered).
constexpr std::string_view kCalendars =
    "tenants:\n"                                                                           // 1
    "  - name: acme\n"                                                                     // 2
    "    time_zone: Europe/Berlin\n"                                                       // 3
    "    agents: [{name: alice, extension: \"1001\"}]\n"                                   // 4
    "    calendars:\n"                                                                     // 5
    "      - name: support\n"                                                              // 6
    "        weekly: {mon: [\"09:00-17:00\"], tue: [\"09:00-12:00\", \"13:00-24:00\"]}\n"  // 7
    "        holidays: [{date: 2026-12-25, name: Christmas}, {date: 2026-12-24, hours: "
    "[\"09:00-12:00\"]}]\n"                                                    // 8
    "      - name: night\n"                                                    // 9
    "        time_zone: America/New_York\n"                                    // 10
    "        weekly: {sun: [\"00:00-06:00\"]}\n"                               // 11
    "    queues:\n"                                                            // 12
    "      - name: sales\n"                                                    // 13
    "        members: [{agent: alice}]\n"                                      // 14
    "        routing:\n"                                                       // 15
    "          steps:\n"                                                       // 16
    "            - target: \"open('support') AND NOT holiday('support')\"\n";  // 17

std::string calendars_with(std::string_view from, std::string_view to) {
  std::string text(kCalendars);
  const auto where = text.find(from);
  REQUIRE(where != std::string::npos);
  text.replace(where, from.size(), to);
  return text;
}

std::vector<std::string> load_errors(std::string_view text) {
  NameRegistry registry;
  auto result = load_config_text(text, "test.yaml", registry);
  std::vector<std::string> out;
  if (!result.ok())
    for (const auto& e : result.error()) out.push_back(e.to_string());
  return out;
}

}  // namespace

TEST_CASE("config: calendars and the tenant's time zone reach the routing core", "[tz][config]") {
  NameRegistry registry;
  auto result = load_config_text(kCalendars, "test.yaml", registry);
  if (!result.ok())
    for (const auto& e : result.error()) UNSCOPED_INFO(e.to_string());
  REQUIRE(result.ok());
  const core::CoreConfig& core = result.value().domain;
  REQUIRE(core.tenants.size() == 1);
  const core::TenantConfig& tenant = core.tenants[0];
  REQUIRE(tenant.time_zone != nullptr);
  CHECK(tenant.time_zone->name() == "Europe/Berlin");
  REQUIRE(tenant.calendars.size() == 2);
  const core::BusinessCalendar& support = tenant.calendars[0];
  CHECK(support.name() == "support");
  CHECK(&support.zone() == tenant.time_zone.get());  // one zone per load, shared
  CHECK(support.open_at(at(1795509000)));            // Tue 2026-11-24 09:30 Berlin
  CHECK_FALSE(support.open_at(at(1795519800)));      // Tue 12:30 Berlin: the lunch break
  CHECK(support.open_at(at(1795521600)));            // Tue 13:00 Berlin
  CHECK(support.open_at(at(1795561140)));            // Tue 23:59 Berlin: open until 24:00
  CHECK(support.holiday_at(at(1798192800)));         // 2026-12-25
  CHECK_FALSE(support.open_at(at(1798192800)));      // closed all day
  CHECK(support.open_at(at(1798108200)));            // 2026-12-24 11:30 Berlin: short hours
  const core::BusinessCalendar& night = tenant.calendars[1];
  CHECK(night.zone().name() == "America/New_York");
  CHECK(night.open_at(at(1795928400)));             // Sun 2026-11-29 00:00 New York
  CHECK_FALSE(night.open_at(at(1795928400 - 60)));  // Sat 23:59 New York
  REQUIRE(core.queues.size() == 1);
  CHECK(core.queues[0].routing.steps[0].target == "open('support') AND NOT holiday('support')");

  // Without a time zone the tenant's is UTC (null) and calendars default to it.
  auto utc = load_config_text(
      "tenants: [{name: t, calendars: [{name: c, weekly: {mon: [\"09:00-17:00\"]}}]}]\n",
      "test.yaml", registry);
  REQUIRE(utc.ok());
  CHECK(utc.value().domain.tenants[0].time_zone == nullptr);
  REQUIRE(utc.value().domain.tenants[0].calendars.size() == 1);
  CHECK(utc.value().domain.tenants[0].calendars[0].zone().name() == "UTC");
}

TEST_CASE("config: a rule naming an unknown calendar is a located error", "[tz][config]") {
  auto errors = load_errors(calendars_with("open('support')", "open('suport')"));
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::StartsWith("test.yaml:17:"));
  CHECK_THAT(errors[0], Catch::Contains("tenants[0].queues[0].routing.steps[0].target: routing "
                                        "step 1 target: 1:6: unknown calendar 'suport' (did you "
                                        "mean 'support'?)"));
  errors = load_errors(calendars_with("holiday('support')", "holiday('nights')"));
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("unknown calendar 'nights' (did you mean 'night'?)"));
}

TEST_CASE("config: an unknown time zone is a located error", "[tz][config]") {
  auto errors =
      load_errors(calendars_with("time_zone: Europe/Berlin", "time_zone: Europe/Nowhere"));
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::StartsWith("test.yaml:3:16: tenants[0].time_zone: invalid time "
                                          "zone \"Europe/Nowhere\""));
  errors = load_errors(calendars_with("America/New_York", "America/Nowhere"));
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::StartsWith("test.yaml:10:20: tenants[0].calendars[1].time_zone: "
                                          "invalid time zone \"America/Nowhere\""));
}

}  // namespace acd::app
