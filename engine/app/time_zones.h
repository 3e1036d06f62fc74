// Time zones and business calendars for the routing core, from the configuration.
// TimeZoneFiles reads /usr/share/zoneinfo/<name> (the I/O the core does not do) once per
// name and keeps what it read for the rest of one configuration load, so that a tenant
// and its calendars share one zone. Thread-safety: one instance per load, one thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "engine/app/config_entities.h"
#include "engine/app/result.h"
#include "engine/core/calendar.h"
#include "engine/core/time_zone.h"

namespace acd::app {

class TimeZoneFiles {
 public:
  explicit TimeZoneFiles(std::string root = "/usr/share/zoneinfo") : root_(std::move(root)) {}

  // "UTC" is built in (null: the core reads null as UTC); any other name is read from
  // root/<name> and parsed. The error says what went wrong: "unknown time zone
  // \"Mars/Base\" (no file /usr/share/zoneinfo/Mars/Base)", or the file is not valid TZif.
  Result<std::shared_ptr<const core::TimeZone>, std::string> load(const std::string& name);

 private:
  std::string root_;  // the zoneinfo directory
  std::map<std::string, std::shared_ptr<const core::TimeZone>, std::less<>> cache_;
};

// The core's view of a calendar the loader validated (hours "HH:MM-HH:MM", dates
// "YYYY-MM-DD"); `zone` is its time zone as load() returned it.
core::BusinessCalendar to_business_calendar(const CalendarConfig& calendar,
                                            std::shared_ptr<const core::TimeZone> zone);

}  // namespace acd::app
