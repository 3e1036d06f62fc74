#include "engine/core/time_zone.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace acd::core {

namespace {

constexpr std::int64_t kSecondsPerDay = 86400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// ---- TZif (RFC 8536) --------------------------------------------------------------------

class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  [[nodiscard]] std::size_t left() const { return data_.size() - pos_; }
  [[nodiscard]] std::size_t pos() const { return pos_; }
  std::uint64_t be(std::size_t n) {  // the caller has checked left() >= n
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    pos_ += n;
    return v;
  }
  std::string_view take(std::size_t n) {
    const std::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

struct Header {
  char version = 0;
  std::uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

std::string read_header(Bytes& in, Header& h) {
  if (in.left() < 44) return "truncated TZif header: need 44 bytes";
  if (in.take(4) != "TZif") return "not a TZif file: it does not start with \"TZif\"";
  h.version = static_cast<char>(in.be(1));
  if (h.version != 0 && h.version != '2' && h.version != '3' && h.version != '4')
    return "unsupported TZif version byte " + std::to_string(static_cast<int>(h.version));
  in.take(15);
  h.isutcnt = in.be(4);
  h.isstdcnt = in.be(4);
  h.leapcnt = in.be(4);
  h.timecnt = in.be(4);
  h.typecnt = in.be(4);
  h.charcnt = in.be(4);
  if (h.typecnt == 0) return "invalid TZif header: no local time types";
  if (h.typecnt > 256) return "invalid TZif header: more than 256 local time types";
  if (h.charcnt == 0) return "invalid TZif header: no time zone designations";
  if (h.isutcnt != 0 && h.isutcnt != h.typecnt)
    return "invalid TZif header: UT/local indicators must be 0 or one per type";
  if (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)
    return "invalid TZif header: standard/wall indicators must be 0 or one per type";
  return {};
}

std::uint64_t block_size(const Header& h, std::uint64_t time_size) {
  return h.timecnt * time_size + h.timecnt + h.typecnt * 6 + h.charcnt +
         h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt;
}

// ---- POSIX TZ strings ---------------------------------------------------------------------

class TzParser {
 public:
  explicit TzParser(std::string_view s) : s_(s) {}
  [[nodiscard]] bool done() const { return i_ == s_.size(); }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  [[nodiscard]] bool peek_digit_or_sign() const {
    return i_ < s_.size() && (is_digit(s_[i_]) || s_[i_] == '+' || s_[i_] == '-');
  }
  bool name() {
    if (eat('<')) {
      const std::size_t start = i_;
      while (i_ < s_.size() && s_[i_] != '>') {
        const char c = s_[i_];
        if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-')) return false;
        ++i_;
      }
      if (i_ - start < 3 || !eat('>')) return false;
      return true;
    }
    const std::size_t start = i_;
    while (i_ < s_.size() && is_alpha(s_[i_])) ++i_;
    return i_ - start >= 3;
  }
  // [+-]hh[:mm[:ss]] in seconds, hours at most max_hours.
  bool hms(int max_hours, std::int64_t& out) {
    bool negative = false;
    if (eat('-'))
      negative = true;
    else
      eat('+');
    std::int64_t hours = 0, minutes = 0, seconds = 0;
    if (!number(hours, 3) || hours > max_hours) return false;
    if (eat(':')) {
      if (!number(minutes, 2) || minutes > 59) return false;
      if (eat(':') && (!number(seconds, 2) || seconds > 59)) return false;
    }
    out = hours * 3600 + minutes * 60 + seconds;
    if (negative) out = -out;
    return true;
  }
  bool rule(TimeZone::Rule& r) {
    std::int64_t a = 0, b = 0, c = 0;
    if (eat('M')) {
      if (!number(a, 2) || a < 1 || a > 12 || !eat('.') || !number(b, 1) || b < 1 || b > 5 ||
          !eat('.') || !number(c, 1) || c > 6) {
        return false;
      }
      r.kind = TimeZone::Rule::Kind::kMonthWeekDay;
      r.month = static_cast<int>(a);
      r.week = static_cast<int>(b);
      r.day = static_cast<int>(c);
    } else if (eat('J')) {
      if (!number(a, 3) || a < 1 || a > 365) return false;
      r.kind = TimeZone::Rule::Kind::kJulianNoLeap;
      r.day = static_cast<int>(a);
    } else {
      if (!number(a, 3) || a > 365) return false;
      r.kind = TimeZone::Rule::Kind::kZeroBasedDay;
      r.day = static_cast<int>(a);
    }
    r.time = 7200;
    if (eat('/')) return hms(167, r.time);  // RFC 8536 3.3.1: -167..167 hours
    return true;
  }

 private:
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  bool number(std::int64_t& out, std::size_t max_digits) {
    const std::size_t start = i_;
    out = 0;
    while (i_ < s_.size() && is_digit(s_[i_]) && i_ - start < max_digits)
      out = out * 10 + (s_[i_++] - '0');
    return i_ > start;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

bool parse_posix_tz(std::string_view text, TimeZone::PosixTz& tz) {
  TzParser p(text);
  std::int64_t west = 0;
  if (!p.name() || !p.hms(24, west)) return false;
  tz.std_offset = -west;
  if (p.done()) return true;
  if (!p.name()) return false;
  tz.has_dst = true;
  tz.dst_offset = tz.std_offset + 3600;
  if (p.peek_digit_or_sign()) {
    if (!p.hms(24, west)) return false;
    tz.dst_offset = -west;
  }
  // The rules are optional in POSIX, but a zone file's footer always gives them.
  if (!p.eat(',') || !p.rule(tz.start) || !p.eat(',') || !p.rule(tz.end)) return false;
  return p.done();
}

// Seconds since the epoch, on the local clock, at which `rule` fires in `year`.
std::int64_t local_seconds(const TimeZone::Rule& rule, int year) {
  const std::int64_t jan1 = days_from_civil({year, 1, 1});
  std::int64_t days = 0;
  switch (rule.kind) {
    case TimeZone::Rule::Kind::kMonthWeekDay: {
      const std::int64_t first = days_from_civil({year, rule.month, 1});
      const std::int64_t first_weekday = ((first + 4) % 7 + 7) % 7;  // 0 = Sunday
      std::int64_t day = (rule.day - first_weekday + 7) % 7 + (rule.week - 1) * 7;
      while (day >= days_in_month(year, rule.month)) day -= 7;
      days = first + day;
      break;
    }
    case TimeZone::Rule::Kind::kJulianNoLeap:
      days = jan1 + rule.day - 1 + (is_leap(year) && rule.day >= 60 ? 1 : 0);
      break;
    case TimeZone::Rule::Kind::kZeroBasedDay: days = jan1 + rule.day; break;
  }
  return days * kSecondsPerDay + rule.time;
}

std::int64_t posix_offset(const TimeZone::PosixTz& tz, std::int64_t t) {
  if (!tz.has_dst) return tz.std_offset;
  const int year = civil_from_days(floor_div(t + tz.std_offset, kSecondsPerDay)).year;
  const std::int64_t start = local_seconds(tz.start, year) - tz.std_offset;
  const std::int64_t end = local_seconds(tz.end, year) - tz.dst_offset;
  const bool dst = start < end ? (t >= start && t < end) : (t >= start || t < end);
  return dst ? tz.dst_offset : tz.std_offset;
}

}  // namespace

std::int64_t days_from_civil(const LocalDate& date) {
  // H. Hinnant's algorithm (days_from_civil), proleptic Gregorian.
  const std::int64_t y = static_cast<std::int64_t>(date.year) - (date.month <= 2 ? 1 : 0);
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (date.month + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

LocalDate civil_from_days(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return {static_cast<int>(y), static_cast<int>(m), static_cast<int>(d)};
}

bool parse_local_date(std::string_view text, LocalDate& out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int fields[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (std::size_t i = 0; i < lengths[f]; ++i) {
      const char c = text[starts[f] + i];
      if (c < '0' || c > '9') return false;
      fields[f] = fields[f] * 10 + (c - '0');
    }
  }
  if (fields[1] < 1 || fields[1] > 12 || fields[2] < 1 ||
      fields[2] > days_in_month(fields[0], fields[1])) {
    return false;
  }
  out = {fields[0], fields[1], fields[2]};
  return true;
}

std::variant<TimeZone, std::string> TimeZone::parse(std::string_view tzif, std::string name) {
  Bytes in(tzif);
  Header h;
  if (std::string error = read_header(in, h); !error.empty()) return error;
  std::uint64_t time_size = 4;
  if (h.version != 0) {  // skip the 32-bit block; use the 64-bit one after a second header
    const std::uint64_t skip = block_size(h, 4);
    if (in.left() < skip) return std::string("truncated TZif file: the version 1 data block");
    in.take(skip);
    if (std::string error = read_header(in, h); !error.empty()) return error;
    time_size = 8;
  }
  if (h.leapcnt != 0)
    return std::string("leap-second time zone files (\"right/...\") are not supported");
  if (in.left() < block_size(h, time_size))
    return std::string("truncated TZif file: the data block is shorter than its header says");

  TimeZone zone;
  zone.name_ = std::move(name);
  zone.transitions_.reserve(h.timecnt);
  for (std::uint64_t i = 0; i < h.timecnt; ++i) {
    const std::uint64_t raw = in.be(time_size);
    const std::int64_t t =
        time_size == 4 ? static_cast<std::int32_t>(raw) : static_cast<std::int64_t>(raw);
    if (!zone.transitions_.empty() && t <= zone.transitions_.back())
      return std::string("invalid TZif file: transition times are not ascending");
    zone.transitions_.push_back(t);
  }
  zone.transition_types_.reserve(h.timecnt);
  for (std::uint64_t i = 0; i < h.timecnt; ++i) {
    const auto type = static_cast<std::uint8_t>(in.be(1));
    if (type >= h.typecnt)
      return std::string("invalid TZif file: a transition names local time type ") +
             std::to_string(type) + " of " + std::to_string(h.typecnt);
    zone.transition_types_.push_back(type);
  }
  for (std::uint64_t i = 0; i < h.typecnt; ++i) {
    const auto offset = static_cast<std::int32_t>(in.be(4));
    const std::uint64_t is_dst = in.be(1);
    const std::uint64_t designation = in.be(1);
    if (offset <= -26 * 3600 || offset >= 26 * 3600 || is_dst > 1 || designation >= h.charcnt)
      return std::string("invalid TZif file: local time type ") + std::to_string(i) +
             " is malformed";
    zone.offsets_.push_back(offset);
  }
  in.take(h.charcnt + h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt);

  if (h.version != 0) {
    if (in.left() < 2 || in.be(1) != '\n')
      return std::string("invalid TZif file: the footer must start with a newline");
    const std::string_view rest = tzif.substr(in.pos());
    const std::size_t newline = rest.find('\n');
    if (newline == std::string_view::npos)
      return std::string("invalid TZif file: the footer must end with a newline");
    const std::string_view tz = rest.substr(0, newline);
    if (!tz.empty()) {
      if (!parse_posix_tz(tz, zone.footer_))
        return "invalid TZ string \"" + std::string(tz) + "\" in the TZif footer";
      zone.has_footer_ = true;
    }
  }
  return zone;
}

std::int64_t TimeZone::offset_at(std::int64_t t) const {
  if (transitions_.empty() || t >= transitions_.back()) {
    if (has_footer_) return posix_offset(footer_, t);
    if (transitions_.empty()) return offsets_.empty() ? 0 : offsets_.front();
    return offsets_[transition_types_.back()];
  }
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return offsets_.front();
  return offsets_[transition_types_[static_cast<std::size_t>(it - transitions_.begin()) - 1]];
}

std::chrono::seconds TimeZone::utc_offset(TimePoint t) const {
  return std::chrono::seconds(offset_at(floor_div(t.time_since_epoch().count(), 1'000'000'000)));
}

LocalTime TimeZone::to_local(TimePoint t) const {
  const std::int64_t utc = floor_div(t.time_since_epoch().count(), 1'000'000'000);
  const std::int64_t offset = offset_at(utc);
  const std::int64_t local = utc + offset;
  const std::int64_t days = floor_div(local, kSecondsPerDay);
  LocalTime out;
  out.date = civil_from_days(days);
  out.minute_of_day = static_cast<int>((local - days * kSecondsPerDay) / 60);
  out.weekday = static_cast<int>(((days + 3) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  out.utc_offset = std::chrono::seconds(offset);
  return out;
}

}  // namespace acd::core
