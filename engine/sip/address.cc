#include "engine/sip/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <tuple>

namespace acd::sip {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// inet_pton wants a NUL-terminated string; the longest IPv6 text form is 45 characters.
bool pton(int family, std::string_view text, void* out) {
  std::array<char, 64> buffer{};
  if (text.empty() || text.size() >= buffer.size() || text.find('\0') != std::string_view::npos)
    return false;
  std::copy(text.begin(), text.end(), buffer.begin());
  return inet_pton(family, buffer.data(), out) == 1;
}

// Clears every bit after the first `prefix_length`.
IpAddress masked(IpAddress address, int prefix_length) {
  for (int i = 0; i < 16; ++i) {
    const int kept = std::clamp(prefix_length - 8 * i, 0, 8);
    address.bytes[i] &= static_cast<std::uint8_t>(0xff00u >> kept);
  }
  return address;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  const bool bracketed = text.size() >= 2 && text.front() == '[' && text.back() == ']';
  if (bracketed) text = text.substr(1, text.size() - 2);
  IpAddress address;
  if (!bracketed && pton(AF_INET, text, address.bytes.data())) return address;
  if (!pton(AF_INET6, text, address.bytes.data())) return std::nullopt;
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), address.bytes.begin())) {
    std::copy_n(address.bytes.begin() + 12, 4, address.bytes.begin());
    std::fill(address.bytes.begin() + 4, address.bytes.end(), 0);
    return address;
  }
  address.v6 = true;
  return address;
}

std::string IpAddress::to_string() const {
  std::array<char, INET6_ADDRSTRLEN> buffer{};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer.data(), buffer.size()) == nullptr)
    return {};
  return buffer.data();
}

std::size_t IpAddressHash::operator()(const IpAddress& address) const noexcept {
  // FNV-1a over the family and the bytes.
  std::uint64_t hash = 14695981039346656037ull ^ (address.v6 ? 1u : 0u);
  hash *= 1099511628211ull;
  for (std::uint8_t byte : address.bytes) {
    hash ^= byte;
    hash *= 1099511628211ull;
  }
  return static_cast<std::size_t>(hash);
}

std::optional<CidrSet> CidrSet::parse(const std::vector<std::string>& entries, std::string* error) {
  CidrSet set;
  for (const std::string& entry : entries) {
    const auto fail = [&](std::string_view expected) {
      if (error) *error = "'" + entry + "': expected " + std::string(expected);
      return std::nullopt;
    };
    const std::string_view text = trim(entry);
    const std::size_t slash = text.find('/');
    const std::string_view address_text = text.substr(0, slash);
    std::optional<IpAddress> address = IpAddress::parse(address_text);
    if (!address) return fail("an IPv4 or IPv6 address, optionally with a /prefix length");
    // ::ffff:a.b.c.d/104 is the IPv4 network a.b.c.d/8.
    const bool mapped = !address->v6 && address_text.find(':') != std::string_view::npos;
    const int bits = address->v6 ? 128 : 32;
    int prefix_length = bits;
    if (slash != std::string_view::npos) {
      const std::string_view digits = text.substr(slash + 1);
      const char* end = digits.data() + digits.size();
      const auto [ptr, ec] = std::from_chars(digits.data(), end, prefix_length);
      if (digits.empty() || ec != std::errc() || ptr != end) {
        return fail("a prefix length of 0 to " + std::to_string(mapped ? 128 : bits) +
                    " after the '/'");
      }
      if (mapped) prefix_length -= 96;
      if (prefix_length < 0 || prefix_length > bits) {
        return fail(mapped ? "a prefix length of 96 to 128 for an IPv4-mapped network"
                           : "a prefix length of 0 to " + std::to_string(bits) + " after the '/'");
      }
    }
    const IpAddress network = masked(*address, prefix_length);
    if (network != *address) {
      const std::string prefix = std::to_string(prefix_length);
      return fail("no address bits set after the /" + prefix + " prefix (did you mean " +
                  network.to_string() + "/" + prefix + "?)");
    }
    auto level = std::find_if(set.levels_.begin(), set.levels_.end(), [&](const Level& l) {
      return l.v6 == network.v6 && l.prefix_length == prefix_length;
    });
    if (level == set.levels_.end()) {
      level = set.levels_.insert(set.levels_.end(), Level{network.v6, prefix_length, {}});
    }
    level->networks.insert(network);
  }
  std::sort(set.levels_.begin(), set.levels_.end(), [](const Level& a, const Level& b) {
    return std::tie(a.v6, a.prefix_length) < std::tie(b.v6, b.prefix_length);
  });
  return set;
}

bool CidrSet::contains(const IpAddress& address) const {
  return std::any_of(levels_.begin(), levels_.end(), [&](const Level& level) {
    return level.v6 == address.v6 && level.networks.contains(masked(address, level.prefix_length));
  });
}

}  // namespace acd::sip
