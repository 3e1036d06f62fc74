// ASCII text helpers for SIP and SDP, whose names and tokens compare case-insensitively
// in ASCII only (never by locale). Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <string_view>

namespace acd::sip {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace acd::sip
