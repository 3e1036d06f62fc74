// Specification tests of calendars and the tenant's time zone in rule-based queue targets
// (docs/RULES.md): open('<calendar>') and holiday('<calendar>') follow the calendar's hours
// and holidays in its zone, and now.* reads the tenant's zone.
#include <catch2/catch.hpp>
#include <utility>

#include "engine/core/routing_core.h"
#include "engine/core/routing_core_test_harness.h"
#include "engine/core/tzif_test_util.h"

namespace {

using acd::core::testing::at;
using acd::core::testing::berlin_zone;

MinuteRange range(const char* text) {
  auto r = parse_hours_range(text);
  REQUIRE(r.has_value());
  return *r;
}

// Tenant 0 in Berlin with calendar "support" (Mon-Fri 09:00-17:00 Berlin time, closed on
// 2026-12-25); queue 0 with agent 0 (billing 5) in tier 1 and agent 1 in tier 2.
void calendar_setup(Harness& h, std::string target) {
  auto zone = berlin_zone();
  REQUIRE(zone != nullptr);
  std::array<std::vector<MinuteRange>, 7> weekly;
  for (int d = 0; d < 5; ++d) weekly[d] = {range("09:00-17:00")};
  h.cb.c.tenants[0].time_zone = zone;
  h.cb.c.tenants[0].calendars.emplace_back(
      "support", zone, std::move(weekly),
      std::vector<CalendarHoliday>{{LocalDate{2026, 12, 25}, std::nullopt}});
  h.cb.skill(0, "billing");
  h.setup(2);
  h.cb.a(0).skills.push_back(AgentSkill{S(0), 5});
  h.cb.m(0, 1).tier = 2;
  h.cb.q(0).routing.steps = {{0s, std::move(target)}};
}

// The business-hours recipe of docs/RULES.md's cookbook.
constexpr const char* kHoursOrBackup =
    "(open('support') AND agent.tier = 1) OR (holiday('support') AND agent.tier = 2)";

}  // namespace

TEST_CASE("open(): a target admits agents only inside the calendar's local hours",
          "[core][rules][calendar]") {
  Harness h;
  h.clock.set(at(1795507140));  // Tue 2026-11-24 07:59 UTC = 08:59 in Berlin
  calendar_setup(h, kHoursOrBackup);
  h.apply();
  h.login(0);
  h.login(1);
  h.enqueue(1);
  h.advance(59s);
  CHECK_FALSE(h.offered_to(1).has_value());  // 08:59:59 local: closed
  h.advance(2s);                             // 09:00:01 local (08:00 UTC): open
  CHECK(h.offered_to(1) == 0u);
  h.answer(1, 0);
  // After hours (17:00 local = 16:00 UTC) a new call waits: no target admits anyone.
  h.advance(at(1795536000) - h.now());
  h.enqueue(2);
  h.advance(5s);
  CHECK_FALSE(h.offered_to(2).has_value());
}

TEST_CASE("holiday(): on a holiday (a local date) the backup tier takes the calls",
          "[core][rules][calendar]") {
  Harness h;
  h.clock.set(at(1798192800));  // Fri 2026-12-25 10:00 UTC = 11:00 in Berlin, a holiday
  calendar_setup(h, kHoursOrBackup);
  h.apply();
  h.login(0);
  h.login(1);
  h.enqueue(1);
  CHECK(h.offered_to(1) == 1u);  // tier 2, although agent 0 has been idle longer
}

TEST_CASE("now.time and now.weekday read the tenant's time zone", "[core][rules][calendar]") {
  Harness h;
  h.clock.set(at(1795509000 - 60));  // Tue 2026-11-24 08:29 UTC = 09:29 in Berlin
  calendar_setup(h, "now.time >= 09:30 AND now.weekday = 'tue' AND agent.skill.billing >= 5");
  h.apply();
  h.login(0);
  h.enqueue(1);
  h.advance(59s);
  CHECK_FALSE(h.offered_to(1).has_value());
  h.advance(2s);  // 09:30 in Berlin (08:30 UTC)
  CHECK(h.offered_to(1) == 0u);
}
