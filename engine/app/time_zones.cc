#include "engine/app/time_zones.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace acd::app {

namespace {

// A name that stays inside the zoneinfo directory: letters, digits, '/', '_', '-', '+', no
// empty or ".." component (the syntax is_valid_time_zone checks; the file's existence is
// checked against this instance's directory).
bool is_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/' ||
      name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos)
    return false;
  for (char c : name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!(alnum || c == '/' || c == '_' || c == '-' || c == '+')) return false;
  }
  return true;
}

}  // namespace

Result<std::shared_ptr<const core::TimeZone>, std::string> TimeZoneFiles::load(
    const std::string& name) {
  using R = Result<std::shared_ptr<const core::TimeZone>, std::string>;
  if (name == "UTC") return R::success(nullptr);
  if (auto it = cache_.find(name); it != cache_.end()) return R::success(it->second);
  if (!is_zone_name(name)) return R::failure("unknown time zone \"" + name + "\"");
  const std::filesystem::path path = std::filesystem::path(root_) / name;
  std::error_code ec;
  std::ifstream in;
  if (std::filesystem::is_regular_file(path, ec)) in.open(path, std::ios::binary);
  if (!in.is_open())
    return R::failure("unknown time zone \"" + name + "\" (no file " + path.string() + ")");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return R::failure("time zone \"" + name + "\": cannot read " + path.string());
  auto parsed = core::TimeZone::parse(bytes.str(), name);
  if (auto* error = std::get_if<std::string>(&parsed))
    return R::failure("time zone \"" + name + "\": " + path.string() + ": " + *error);
  auto zone = std::make_shared<const core::TimeZone>(std::move(std::get<core::TimeZone>(parsed)));
  cache_.emplace(name, zone);
  return R::success(std::move(zone));
}

namespace {

std::vector<core::MinuteRange> to_ranges(const DayHours& hours) {
  std::vector<core::MinuteRange> ranges;
  for (const std::string& text : hours)
    if (auto range = core::parse_hours_range(text)) ranges.push_back(*range);
  return ranges;
}

}  // namespace

core::BusinessCalendar to_business_calendar(const CalendarConfig& calendar,
                                            std::shared_ptr<const core::TimeZone> zone) {
  std::array<std::vector<core::MinuteRange>, 7> weekly;
  for (std::size_t d = 0; d < 7; ++d) weekly[d] = to_ranges(calendar.weekly[d]);
  std::vector<core::CalendarHoliday> holidays;
  for (const Holiday& h : calendar.holidays) {
    core::CalendarHoliday holiday;
    if (!core::parse_local_date(h.date, holiday.date)) continue;  // validated by the loader
    if (h.hours) holiday.hours = to_ranges(*h.hours);
    holidays.push_back(std::move(holiday));
  }
  return core::BusinessCalendar(calendar.name, std::move(zone), std::move(weekly),
                                std::move(holidays));
}

}  // namespace acd::app
