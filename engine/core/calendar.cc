#include "engine/core/calendar.h"

#include <utility>

namespace acd::core {

namespace {

// "HH:MM", 00:00..24:00, in minutes; -1 when malformed.
int minutes_of(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return -1;
  for (std::size_t i : {0U, 1U, 3U, 4U})
    if (text[i] < '0' || text[i] > '9') return -1;
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
  return h * 60 + m;
}

bool inside(const std::vector<MinuteRange>& ranges, int minute) {
  for (const MinuteRange& r : ranges)
    if (minute >= r.from && minute < r.to) return true;
  return false;
}

const TimeZone& utc_zone() {
  static const TimeZone kUtc;
  return kUtc;
}

}  // namespace

std::optional<MinuteRange> parse_hours_range(std::string_view text) {
  if (text.size() != 11 || text[5] != '-') return std::nullopt;
  const int from = minutes_of(text.substr(0, 5)), to = minutes_of(text.substr(6));
  if (from < 0 || to < 0 || from >= 24 * 60 || from >= to) return std::nullopt;
  return MinuteRange{from, to};
}

BusinessCalendar::BusinessCalendar(std::string name, std::shared_ptr<const TimeZone> zone,
                                   std::array<std::vector<MinuteRange>, 7> weekly,
                                   std::vector<CalendarHoliday> holidays)
    : name_(std::move(name)),
      zone_(std::move(zone)),
      weekly_(std::move(weekly)),
      holidays_(std::move(holidays)) {}

const TimeZone& BusinessCalendar::zone() const {
  return zone_ ? *zone_ : utc_zone();
}

const CalendarHoliday* BusinessCalendar::holiday_on(const LocalDate& date) const {
  for (const CalendarHoliday& h : holidays_)
    if (h.date == date) return &h;
  return nullptr;
}

BusinessCalendar::State BusinessCalendar::state_at(TimePoint t) const {
  const LocalTime local = zone().to_local(t);
  State state;
  if (const CalendarHoliday* h = holiday_on(local.date)) {
    state.holiday = true;
    state.open = h->hours && inside(*h->hours, local.minute_of_day);
  } else {
    state.open = inside(weekly_[static_cast<std::size_t>(local.weekday)], local.minute_of_day);
  }
  return state;
}

bool BusinessCalendar::open_at(TimePoint t) const {
  return state_at(t).open;
}

bool BusinessCalendar::holiday_at(TimePoint t) const {
  return state_at(t).holiday;
}

}  // namespace acd::core
