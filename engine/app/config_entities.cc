#include "engine/app/config_entities.h"

#include <arpa/inet.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace acd::app {
namespace {

bool all_of(std::string_view text, bool (*pred)(char)) {
  for (char c : text) {
    if (!pred(c)) return false;
  }
  return true;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Reads `count` digits at `pos` as a number; -1 when they are not digits.
int digits_at(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Minutes since midnight of "HH:MM" (24:00 allowed), or -1.
int minutes_of(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return -1;
  const int h = digits_at(text, 0, 2), m = digits_at(text, 3, 2);
  if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
  return h * 60 + m;
}

std::optional<std::chrono::year_month_day> date_of(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const int y = digits_at(text, 0, 4), m = digits_at(text, 5, 2), d = digits_at(text, 8, 2);
  if (y < 0 || m < 0 || d < 0) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(y),
                                  std::chrono::month(static_cast<unsigned>(m)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

}  // namespace

const char* to_string(UserRole role) {
  switch (role) {
    case UserRole::kAdmin: return "admin";
    case UserRole::kSupervisor: return "supervisor";
    case UserRole::kAgent: return "agent";
    case UserRole::kReadOnly: return "read-only";
  }
  return "?";
}

const char* to_string(IvrAction::Kind kind) {
  switch (kind) {
    case IvrAction::Kind::kQueue: return "queue";
    case IvrAction::Kind::kMenu: return "menu";
    case IvrAction::Kind::kVoicemail: return "voicemail";
    case IvrAction::Kind::kCallback: return "callback";
    case IvrAction::Kind::kHangup: return "hangup";
    case IvrAction::Kind::kOperator: return "operator";
  }
  return "?";
}

const char* weekday_name(std::size_t day) {
  static constexpr const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  return day < 7 ? kDays[day] : "?";
}

std::optional<std::string> canonical_cidr(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  unsigned char bytes[16] = {};
  int family = AF_INET;
  int max_bits = 32;
  if (::inet_pton(AF_INET, address.c_str(), bytes) != 1) {
    family = AF_INET6;
    max_bits = 128;
    if (::inet_pton(AF_INET6, address.c_str(), bytes) != 1) return std::nullopt;
  }
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view b = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (b.empty() || ec != std::errc() || ptr != b.data() + b.size() || bits < 0 ||
        bits > max_bits) {
      return std::nullopt;
    }
  }
  for (int i = bits; i < max_bits; ++i) {
    if (bytes[i / 8] & (0x80 >> (i % 8))) return std::nullopt;  // host bits set
  }
  char out[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(family, bytes, out, sizeof out) == nullptr) return std::nullopt;
  return std::string(out) + "/" + std::to_string(bits);
}

std::optional<std::string> canonical_timestamp(std::string_view text) {
  auto ymd = date_of(text.substr(0, 10));
  if (!ymd) return std::nullopt;
  int h = 0, m = 0, s = 0, offset = 0;
  std::string_view rest = text.substr(10);
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ') return std::nullopt;
    h = digits_at(rest, 1, 2);
    m = rest.size() >= 6 && rest[3] == ':' ? digits_at(rest, 4, 2) : -1;
    if (h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
    rest = rest.substr(6);
    if (!rest.empty() && rest[0] == ':') {
      s = digits_at(rest, 1, 2);
      if (s < 0 || s > 59) return std::nullopt;
      rest = rest.substr(3);
    }
    if (rest == "Z" || rest == "z") {
      rest = {};
    } else if (!rest.empty()) {
      if ((rest[0] != '+' && rest[0] != '-') || rest.size() != 6 || rest[3] != ':')
        return std::nullopt;
      const int oh = digits_at(rest, 1, 2), om = digits_at(rest, 4, 2);
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
      offset = (oh * 60 + om) * (rest[0] == '+' ? 1 : -1);
    }
  }
  using namespace std::chrono;
  const sys_seconds t = sys_days(*ymd) + hours(h) + minutes(m) + seconds(s) - minutes(offset);
  const sys_days day = floor<days>(t);
  const year_month_day utc(day);
  const hh_mm_ss<seconds> tod(t - day);
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(utc.year()),
                static_cast<unsigned>(utc.month()), static_cast<unsigned>(utc.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()));
  return std::string(out);
}

bool is_valid_date(std::string_view text) {
  return date_of(text).has_value();
}

bool is_valid_hours_range(std::string_view text) {
  if (text.size() != 11 || text[5] != '-') return false;
  const int from = minutes_of(text.substr(0, 5)), to = minutes_of(text.substr(6));
  return from >= 0 && to >= 0 && from < 24 * 60 && from < to;
}

bool is_valid_language(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
  if (i < 2 || i > 3) return false;
  while (i < text.size()) {
    if (text[i] != '-') return false;
    std::size_t j = i + 1;
    while (j < text.size() && is_alnum(text[j])) ++j;
    if (j - i - 1 < 1 || j - i - 1 > 8) return false;
    i = j;
  }
  return true;
}

bool is_valid_agent_language(std::string_view text) {
  return !text.empty() && text.size() <= 35 &&
         all_of(text, [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_valid_attribute_name(std::string_view text) {
  return !text.empty() && text.size() <= 64 && !(text.front() >= '0' && text.front() <= '9') &&
         all_of(text, [](char c) { return is_alnum(c) || c == '_'; });
}

bool is_valid_time_zone(std::string_view text) {
  if (text.empty() || text.size() > 64 || text.front() == '/' || text.back() == '/' ||
      text.find("..") != std::string_view::npos || text.find("//") != std::string_view::npos) {
    return false;
  }
  for (char c : text) {
    if (!(is_alnum(c) || c == '/' || c == '_' || c == '-' || c == '+')) return false;
  }
  const std::filesystem::path zoneinfo = "/usr/share/zoneinfo";
  std::error_code ec;
  if (!std::filesystem::is_directory(zoneinfo, ec))
    return true;  // cannot tell; the database checks
  return std::filesystem::is_regular_file(zoneinfo / std::string(text), ec);
}

bool is_valid_number(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.size() > 32) return false;
  return all_of(text, [](char c) {
    return is_alnum(c) || c == '*' || c == '#' || c == '.' || c == '_' || c == '-';
  });
}

bool is_valid_sip_username(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  return all_of(text, [](char c) {
    return is_alnum(c) || std::string_view("._~!$&'()*+,;=%-").find(c) != std::string_view::npos;
  });
}

std::optional<std::string> canonical_ip_address(std::string_view text) {
  const std::string address(text);
  unsigned char bytes[16] = {};
  int family = AF_INET;
  if (::inet_pton(AF_INET, address.c_str(), bytes) != 1) {
    family = AF_INET6;
    if (::inet_pton(AF_INET6, address.c_str(), bytes) != 1) return std::nullopt;
  }
  char out[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(family, bytes, out, sizeof out) == nullptr) return std::nullopt;
  return std::string(out);
}

bool is_wildcard_address(std::string_view canonical) {
  return canonical == "0.0.0.0" || canonical == "::";
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A DNS host name: dot-separated labels of letters, digits and '-' (not at either end of
// a label), 1-63 characters each, 253 at most in all; the last label is not all digits.
bool is_valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t start = 0;
  std::string_view last;
  while (true) {
    const std::size_t dot = host.find('.', start);
    const std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    if (!all_of(label, [](char c) { return is_alnum(c) || c == '-'; })) return false;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !all_of(last, is_digit);  // "10.0.0.300" is a bad address, not a name
}

// A URI parameter's name or value (RFC 3261 token characters; values may also hold an
// IPv6 reference such as maddr=[2001:db8::1]).
bool is_param_char(char c) {
  return is_alnum(c) || std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

}  // namespace

bool is_valid_sip_uri(std::string_view text) {
  std::string_view rest;
  if (text.size() > 4 && iequals(text.substr(0, 4), "sip:")) {
    rest = text.substr(4);
  } else if (text.size() > 5 && iequals(text.substr(0, 5), "sips:")) {
    rest = text.substr(5);
  } else {
    return false;
  }
  if (rest.size() > 1024 || rest.find('?') != std::string_view::npos) return false;
  // The user part ends at the first '@' (user names may contain ';' but not '@').
  if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
    if (!is_valid_sip_username(rest.substr(0, at))) return false;  // also refuses ':password'
    rest = rest.substr(at + 1);
  }
  // The host.
  std::string_view host;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(1, close - 1);
    unsigned char bytes[16];
    if (::inet_pton(AF_INET6, std::string(host).c_str(), bytes) != 1) return false;
    rest = rest.substr(close + 1);
  } else {
    const std::size_t end = rest.find_first_of(":;");
    host = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    unsigned char bytes[4];
    const bool dotted_digits =
        !host.empty() && all_of(host, [](char c) { return is_digit(c) || c == '.'; });
    if (dotted_digits ? ::inet_pton(AF_INET, std::string(host).c_str(), bytes) != 1
                      : !is_valid_host_name(host)) {
      return false;
    }
  }
  // The port.
  if (!rest.empty() && rest.front() == ':') {
    const std::size_t end = rest.find(';');
    const std::string_view digits = rest.substr(1, end == std::string_view::npos ? end : end - 1);
    if (digits.empty() || digits.size() > 5 || !all_of(digits, is_digit)) return false;
    int port = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (port < 1 || port > 65535) return false;
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  // The parameters.
  while (!rest.empty()) {
    if (rest.front() != ';') return false;
    rest.remove_prefix(1);
    const std::size_t end = rest.find(';');
    const std::string_view param = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    const std::size_t eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    if (name.empty() || !all_of(name, is_param_char)) return false;
    if (eq == std::string_view::npos) continue;
    const std::string_view value = param.substr(eq + 1);
    if (value.empty() ||
        !all_of(value, [](char c) { return is_param_char(c) || c == '[' || c == ']' || c == ':'; }))
      return false;
    if (iequals(name, "transport") && !iequals(value, "udp") && !iequals(value, "tcp") &&
        !iequals(value, "tls")) {
      return false;
    }
  }
  return true;
}

}  // namespace acd::app
