// Business-hours calendars, as routing rules read them: `open('<calendar>')` is true while
// the calendar's opening hours include the current local time, `holiday('<calendar>')` on
// the local days listed as its holidays. A holiday is closed all day unless it gives its own
// (shorter) hours, which replace the weekday's. Local time is the calendar's time zone, so a
// DST change moves the opening hours with the wall clock (09:00 stays 09:00).
// Thread-safety: immutable after construction; plain values.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/time.h"
#include "engine/core/time_zone.h"

namespace acd::core {

// [from, to) in minutes since local midnight; 0 <= from < to <= 1440 ("24:00").
struct MinuteRange {
  int from = 0;
  int to = 0;
  bool operator==(const MinuteRange&) const = default;
};

// "HH:MM-HH:MM": the start before the end, the start before 24:00, the end at most 24:00.
std::optional<MinuteRange> parse_hours_range(std::string_view text);

struct CalendarHoliday {
  LocalDate date;
  std::optional<std::vector<MinuteRange>> hours;  // nullopt: closed all day
};

class BusinessCalendar {
 public:
  // `zone` null: UTC. `weekly` is Monday..Sunday; an empty day is closed.
  BusinessCalendar(std::string name, std::shared_ptr<const TimeZone> zone,
                   std::array<std::vector<MinuteRange>, 7> weekly,
                   std::vector<CalendarHoliday> holidays);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const TimeZone& zone() const;
  // Inside the opening hours at `t` (a holiday's own hours on a holiday).
  [[nodiscard]] bool open_at(TimePoint t) const;
  // `t` falls on one of the holidays (a local date).
  [[nodiscard]] bool holiday_at(TimePoint t) const;

  struct State {
    bool open = false;
    bool holiday = false;
  };
  // Both at once, converting `t` to local time once.
  [[nodiscard]] State state_at(TimePoint t) const;

 private:
  const CalendarHoliday* holiday_on(const LocalDate& date) const;

  std::string name_;
  std::shared_ptr<const TimeZone> zone_;
  std::array<std::vector<MinuteRange>, 7> weekly_;
  std::vector<CalendarHoliday> holidays_;
};

}  // namespace acd::core
