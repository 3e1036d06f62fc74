// IP addresses and CIDR sets for the SIP layer: the source address of a request, the
// trunk and phone access lists (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`), and the key
// of the flood guard. Pure values, no name resolution. Thread-safety: values; a CidrSet
// is immutable after parse(), so several threads may query one concurrently.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace acd::sip {

struct IpAddress {
  bool v6 = false;
  // Network byte order. An IPv4 address uses the first 4 bytes; the rest stay zero.
  std::array<std::uint8_t, 16> bytes{};

  // Dotted IPv4 ("192.0.2.1") or IPv6 text ("2001:db8::1", also in brackets:
  // "[2001:db8::1]"). IPv4-mapped IPv6 (::ffff:192.0.2.1) comes back as the IPv4 address.
  // nullopt for anything else (host names, zone ids, prefixes, surrounding spaces).
  static std::optional<IpAddress> parse(std::string_view text);
  // "192.0.2.1", or the RFC 5952 form for IPv6 ("2001:db8::1", without brackets).
  [[nodiscard]] std::string to_string() const;

  auto operator<=>(const IpAddress&) const = default;
};

struct IpAddressHash {
  std::size_t operator()(const IpAddress& address) const noexcept;
};

// A set of networks. contains() costs one hash lookup per distinct prefix length in the
// set, whatever the number of entries.
class CidrSet {
 public:
  // Entries like "10.0.0.0/8", "2001:db8::/32", "127.0.0.1" (one host). An entry whose
  // address has bits set beyond its prefix ("10.1.0.0/8") is an error, since it is most
  // likely a typo. nullopt + *error naming the bad entry and what was expected.
  static std::optional<CidrSet> parse(const std::vector<std::string>& entries, std::string* error);

  [[nodiscard]] bool contains(const IpAddress& address) const;
  [[nodiscard]] bool empty() const { return levels_.empty(); }

 private:
  struct Level {  // the networks of one family and prefix length, host bits cleared
    bool v6 = false;
    int prefix_length = 0;
    std::unordered_set<IpAddress, IpAddressHash> networks;
  };
  std::vector<Level> levels_;  // IPv4 first, then by prefix length
};

}  // namespace acd::sip
