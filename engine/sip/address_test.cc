#include "engine/sip/address.h"

#include <catch2/catch.hpp>
#include <string>
#include <unordered_set>

using namespace acd::sip;
using namespace std::string_literals;

namespace {

IpAddress ip(std::string_view text) {
  const std::optional<IpAddress> address = IpAddress::parse(text);
  INFO(text);
  REQUIRE(address);
  return *address;
}

CidrSet cidr(const std::vector<std::string>& entries) {
  std::string error;
  std::optional<CidrSet> set = CidrSet::parse(entries, &error);
  INFO(error);
  REQUIRE(set);
  return *set;
}

}  // namespace

TEST_CASE("address: IPv4 and IPv6 text", "[address]") {
  const IpAddress v4 = ip("192.0.2.1");
  CHECK_FALSE(v4.v6);
  CHECK(v4.bytes[0] == 192);
  CHECK(v4.bytes[3] == 1);
  CHECK(v4.bytes[4] == 0);
  CHECK(v4.to_string() == "192.0.2.1");

  const IpAddress v6 = ip("2001:0DB8:0000:0000:0000:0000:0000:0001");
  CHECK(v6.v6);
  CHECK(v6.bytes[0] == 0x20);
  CHECK(v6.bytes[15] == 1);
  CHECK(v6.to_string() == "2001:db8::1");  // RFC 5952
  CHECK(ip("[2001:db8::1]") == v6);
  CHECK(ip("::1").to_string() == "::1");
  CHECK(ip("::").to_string() == "::");
  CHECK(ip("0.0.0.0").to_string() == "0.0.0.0");
  CHECK(ip("::ffff:0:1.2.3.4").v6);  // IPv4-translated, not mapped
}

TEST_CASE("address: IPv4-mapped IPv6 is the IPv4 address", "[address]") {
  CHECK(ip("::ffff:192.0.2.1") == ip("192.0.2.1"));
  CHECK(ip("[::ffff:c000:201]") == ip("192.0.2.1"));
  CHECK(ip("::ffff:192.0.2.1").to_string() == "192.0.2.1");
}

TEST_CASE("address: anything else is refused", "[address]") {
  for (const std::string& text :
       {""s, "1.2.3"s, "1.2.3.4.5"s, "256.1.1.1"s, "1.2.3.-4"s, " 1.2.3.4"s, "1.2.3.4 "s,
        "1.2.3.4/24"s, "[1.2.3.4]"s, "[::1"s, "::1]"s, "[]"s, "fe80::1%eth0"s, "example.com"s,
        "2001:db8::1::2"s, "2001:db8:0:0:0:0:0:0:1"s, "1.2.3.4\0junk"s, "1.2.3.4:5060"s,
        std::string(200, '1')}) {
    INFO(text);
    CHECK_FALSE(IpAddress::parse(text));
  }
}

TEST_CASE("address: ordering and hashing", "[address]") {
  CHECK(ip("0.0.0.0") != ip("::"));
  CHECK(ip("10.0.0.1") < ip("10.0.0.2"));
  CHECK(ip("255.255.255.255") < ip("::"));  // IPv4 first
  const IpAddressHash hash;
  CHECK(hash(ip("10.0.0.1")) == hash(ip("::ffff:10.0.0.1")));
  std::unordered_set<IpAddress, IpAddressHash> set;
  for (int i = 0; i < 256; ++i) set.insert(ip("10.0.0." + std::to_string(i)));
  set.insert(ip("::"));
  set.insert(ip("0.0.0.0"));
  CHECK(set.size() == 258);  // 10.0.0.0 to 10.0.0.255, ::, 0.0.0.0
}

TEST_CASE("cidr: networks and hosts", "[address]") {
  const CidrSet set = cidr({"10.0.0.0/8", "192.168.1.0/24", "127.0.0.1", "2001:db8::/32", " ::1 ",
                            "::ffff:172.16.0.0/108"});
  CHECK_FALSE(set.empty());
  CHECK(set.contains(ip("10.0.0.0")));
  CHECK(set.contains(ip("10.255.255.255")));
  CHECK_FALSE(set.contains(ip("11.0.0.0")));
  CHECK(set.contains(ip("192.168.1.200")));
  CHECK_FALSE(set.contains(ip("192.168.2.1")));
  CHECK(set.contains(ip("127.0.0.1")));
  CHECK_FALSE(set.contains(ip("127.0.0.2")));
  CHECK(set.contains(ip("2001:db8:ffff::5")));
  CHECK_FALSE(set.contains(ip("2001:db9::5")));
  CHECK(set.contains(ip("::1")));
  CHECK_FALSE(set.contains(ip("::2")));
  CHECK(set.contains(ip("172.31.255.1")));  // the mapped /108 is 172.16.0.0/12
  CHECK_FALSE(set.contains(ip("172.32.0.1")));
  CHECK(set.contains(ip("::ffff:10.1.2.3")));  // a mapped source address
  // An IPv4 network never matches IPv6 addresses, whatever their bytes.
  CHECK_FALSE(set.contains(ip("a00::")));
}

TEST_CASE("cidr: /0 matches its whole family only", "[address]") {
  const CidrSet v4 = cidr({"0.0.0.0/0"});
  CHECK(v4.contains(ip("1.2.3.4")));
  CHECK(v4.contains(ip("255.255.255.255")));
  CHECK_FALSE(v4.contains(ip("2001:db8::1")));
  const CidrSet v6 = cidr({"::/0"});
  CHECK(v6.contains(ip("2001:db8::1")));
  CHECK_FALSE(v6.contains(ip("1.2.3.4")));
}

TEST_CASE("cidr: odd prefix lengths", "[address]") {
  const CidrSet set = cidr({"10.0.0.0/9", "2001:db8:8000::/33", "192.0.2.128/25"});
  CHECK(set.contains(ip("10.127.255.255")));
  CHECK_FALSE(set.contains(ip("10.128.0.0")));
  CHECK(set.contains(ip("2001:db8:ffff::1")));
  CHECK_FALSE(set.contains(ip("2001:db8:7fff::1")));
  CHECK(set.contains(ip("192.0.2.200")));
  CHECK_FALSE(set.contains(ip("192.0.2.127")));
}

TEST_CASE("cidr: an empty list is an empty set", "[address]") {
  const CidrSet set = cidr({});
  CHECK(set.empty());
  CHECK_FALSE(set.contains(ip("127.0.0.1")));
}

TEST_CASE("cidr: bad entries are named in the error", "[address]") {
  struct Case {
    std::string entry;
    std::string error;
  };
  const Case cases[] = {
      {"", "'': expected an IPv4 or IPv6 address, optionally with a /prefix length"},
      {"pbx.example.com", "'pbx.example.com': expected an IPv4 or IPv6 address"},
      {"10.0.0/8", "'10.0.0/8': expected an IPv4 or IPv6 address"},
      {"10.0.0.0/", "'10.0.0.0/': expected a prefix length of 0 to 32 after the '/'"},
      {"10.0.0.0/x", "'10.0.0.0/x': expected a prefix length of 0 to 32"},
      {"10.0.0.0/33", "'10.0.0.0/33': expected a prefix length of 0 to 32"},
      {"10.0.0.0/-1", "'10.0.0.0/-1': expected a prefix length of 0 to 32"},
      {"10.0.0.0/8/9", "'10.0.0.0/8/9': expected a prefix length of 0 to 32"},
      {"10.0.0.0/99999999999", "'10.0.0.0/99999999999': expected a prefix length of 0 to 32"},
      {"2001:db8::/129", "'2001:db8::/129': expected a prefix length of 0 to 128"},
      {"::ffff:10.0.0.0/95", "'::ffff:10.0.0.0/95': expected a prefix length of 96 to 128"},
      {"10.1.0.0/8",
       "'10.1.0.0/8': expected no address bits set after the /8 prefix (did you mean "
       "10.0.0.0/8?)"},
      {"2001:db8::1/32",
       "'2001:db8::1/32': expected no address bits set after the /32 prefix "
       "(did you mean 2001:db8::/32?)"},
  };
  for (const Case& c : cases) {
    INFO(c.entry);
    std::string error;
    CHECK_FALSE(CidrSet::parse({"127.0.0.1", c.entry}, &error));
    CHECK_THAT(error, Catch::StartsWith(c.error));
    CHECK_FALSE(CidrSet::parse({c.entry}, nullptr));
  }
}
