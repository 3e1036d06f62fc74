// Hashes for stored secrets: SHA-256 of API tokens and the SIP digest HA1
// (md5("username:realm:password")), as lower-case hex. OpenSSL's libcrypto does the
// work. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace acd {

std::string sha256_hex(std::string_view data);
std::string md5_hex(std::string_view data);
// md5_hex(username + ":" + realm + ":" + password).
std::string sip_ha1(std::string_view username, std::string_view realm, std::string_view password);
// True when `text` is exactly `digits` lower-case hex digits.
bool is_lower_hex(std::string_view text, std::size_t digits);

}  // namespace acd
