#include "engine/sip/location.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

using namespace acd::sip;
using namespace std::chrono_literals;
using acd::core::kNever;
using acd::core::TimePoint;
using Update = LocationService::Update;

namespace {

constexpr TimePoint kT0{std::chrono::hours(1000)};

Binding binding(const std::string& contact, const std::string& call_id, std::uint32_t cseq) {
  Binding b;
  b.contact = contact;
  b.received = "udp:192.0.2.10:5070";
  b.call_id = call_id;
  b.cseq = cseq;
  b.user_agent = "Linphone/5.2";
  return b;
}

std::vector<std::string> contacts(const std::vector<Binding>& bindings) {
  std::vector<std::string> out;
  out.reserve(bindings.size());
  for (const Binding& b : bindings) out.push_back(b.contact);
  return out;
}

constexpr const char* kAlice = "acme/alice";
constexpr const char* kPhone = "sip:alice@192.0.2.10:5070;transport=udp";

}  // namespace

TEST_CASE("location: register, look up, expire", "[location]") {
  LocationService location;
  CHECK(location.next_expiry() == kNever);
  CHECK(location.update(kAlice, binding(kPhone, "c1", 1), 60s, kT0) == Update::kAdded);
  const auto found = location.lookup(kAlice, kT0 + 1s);
  REQUIRE(found.size() == 1);
  CHECK(found[0].contact == kPhone);
  CHECK(found[0].received == "udp:192.0.2.10:5070");
  CHECK(found[0].user_agent == "Linphone/5.2");
  CHECK(found[0].expires == kT0 + 60s);
  CHECK(location.next_expiry() == kT0 + 60s);
  CHECK(location.lookup("acme/bob", kT0).empty());

  CHECK(location.expire(kT0 + 59s).empty());
  // Expired bindings are invisible at once, and reported by the next expire().
  CHECK(location.lookup(kAlice, kT0 + 60s).empty());
  CHECK(location.expire(kT0 + 60s) == std::vector<std::string>{kAlice});
  CHECK(location.next_expiry() == kNever);
  CHECK(location.keys() == 0);
  CHECK(location.expire(kT0 + 61s).empty());
}

TEST_CASE("location: a refresh extends the binding", "[location]") {
  LocationService location;
  location.update(kAlice, binding(kPhone, "c1", 1), 60s, kT0);
  Binding refresh = binding(kPhone, "c1", 2);
  refresh.received = "udp:198.51.100.7:40000";  // the NAT mapping changed
  CHECK(location.update(kAlice, refresh, 60s, kT0 + 50s) == Update::kRefreshed);
  CHECK(location.next_expiry() == kT0 + 110s);
  CHECK(location.expire(kT0 + 60s).empty());
  const auto found = location.lookup(kAlice, kT0 + 60s);
  REQUIRE(found.size() == 1);
  CHECK(found[0].received == "udp:198.51.100.7:40000");
  CHECK(found[0].cseq == 2);
}

TEST_CASE("location: an old CSeq of the same Call-ID is refused", "[location]") {
  LocationService location;
  location.update(kAlice, binding(kPhone, "c1", 5), 60s, kT0);
  CHECK(location.update(kAlice, binding(kPhone, "c1", 5), 3600s, kT0 + 1s) == Update::kStaleCseq);
  CHECK(location.update(kAlice, binding(kPhone, "c1", 4), 3600s, kT0 + 1s) == Update::kStaleCseq);
  CHECK(location.update(kAlice, binding(kPhone, "c1", 4), 0s, kT0 + 1s) == Update::kStaleCseq);
  CHECK(location.lookup(kAlice, kT0 + 1s).at(0).expires == kT0 + 60s);  // unchanged
  // A phone that restarted has a new Call-ID; its CSeq may start lower.
  CHECK(location.update(kAlice, binding(kPhone, "c2", 1), 60s, kT0 + 2s) == Update::kRefreshed);
  CHECK(location.lookup(kAlice, kT0 + 2s).at(0).call_id == "c2");
}

TEST_CASE("location: expires 0 removes one contact", "[location]") {
  LocationService location;
  location.update(kAlice, binding("sip:alice@desk", "c1", 1), 60s, kT0);
  location.update(kAlice, binding("sip:alice@mobile", "c2", 1), 120s, kT0);
  CHECK(location.update(kAlice, binding("sip:alice@desk", "c1", 2), 0s, kT0 + 1s) ==
        Update::kRemoved);
  CHECK(contacts(location.lookup(kAlice, kT0 + 1s)) ==
        std::vector<std::string>{"sip:alice@mobile"});
  CHECK(location.next_expiry() == kT0 + 120s);
  // Removing an unknown contact or key leaves nothing to remove.
  CHECK(location.update(kAlice, binding("sip:alice@gone", "c3", 1), 0s, kT0) == Update::kRemoved);
  CHECK(location.update("acme/nobody", binding("sip:x", "c4", 1), 0s, kT0) == Update::kRemoved);
  CHECK(location.keys() == 1);
  // Removing the last one drops the key (the registrar logs the agent out itself).
  CHECK(location.update(kAlice, binding("sip:alice@mobile", "c9", 1), -1s, kT0 + 2s) ==
        Update::kRemoved);
  CHECK(location.keys() == 0);
  CHECK(location.next_expiry() == kNever);
  CHECK(location.expire(kT0 + 1h).empty());
}

TEST_CASE("location: several contacts, newest first, at most eight", "[location]") {
  LocationService location;
  for (int i = 0; i < 8; ++i) {
    CHECK(location.update(kAlice, binding("sip:p" + std::to_string(i), "c" + std::to_string(i), 1),
                          60s + std::chrono::seconds(i), kT0) == Update::kAdded);
  }
  auto found = location.lookup(kAlice, kT0);
  REQUIRE(found.size() == 8);
  CHECK(found.front().contact == "sip:p7");
  CHECK(found.back().contact == "sip:p0");

  // A refresh moves p0 to the front; a ninth contact then replaces p1, now the oldest.
  CHECK(location.update(kAlice, binding("sip:p0", "c0", 2), 60s, kT0 + 1s) == Update::kRefreshed);
  CHECK(location.update(kAlice, binding("sip:p8", "c8", 1), 60s, kT0 + 2s) == Update::kAdded);
  found = location.lookup(kAlice, kT0 + 2s);
  REQUIRE(found.size() == LocationService::kMaxBindingsPerKey);
  CHECK(contacts(found) == std::vector<std::string>{"sip:p8", "sip:p0", "sip:p7", "sip:p6",
                                                    "sip:p5", "sip:p4", "sip:p3", "sip:p2"});
  CHECK(location.next_expiry() == kT0 + 61s);  // the refreshed p0
}

TEST_CASE("location: expire reports only keys that lost their last binding", "[location]") {
  LocationService location;
  location.update("acme/alice", binding("sip:a1", "a1", 1), 30s, kT0);
  location.update("acme/alice", binding("sip:a2", "a2", 1), 90s, kT0);
  location.update("acme/bob", binding("sip:b", "b", 1), 30s, kT0);
  location.update("other/carol", binding("sip:c", "c", 1), 40s, kT0);
  CHECK(location.next_expiry() == kT0 + 30s);

  CHECK(location.expire(kT0 + 30s) == std::vector<std::string>{"acme/bob"});
  CHECK(contacts(location.lookup("acme/alice", kT0 + 30s)) == std::vector<std::string>{"sip:a2"});
  CHECK(location.next_expiry() == kT0 + 40s);
  CHECK(location.expire(kT0 + 100s).size() == 2);  // carol and alice
  CHECK(location.next_expiry() == kNever);
}

TEST_CASE("location: a late refresh of an expired binding keeps the agent", "[location]") {
  LocationService location;
  location.update(kAlice, binding(kPhone, "c1", 1), 60s, kT0);
  // The timer has not run yet when the refresh arrives.
  CHECK(location.update(kAlice, binding(kPhone, "c1", 2), 60s, kT0 + 61s) == Update::kRefreshed);
  CHECK(location.expire(kT0 + 61s).empty());
  CHECK(location.lookup(kAlice, kT0 + 61s).size() == 1);
}

TEST_CASE("location: remove_all", "[location]") {
  LocationService location;
  location.update(kAlice, binding("sip:a1", "a1", 1), 30s, kT0);
  location.update(kAlice, binding("sip:a2", "a2", 1), 90s, kT0);
  location.update("acme/bob", binding("sip:b", "b", 1), 60s, kT0);
  location.remove_all(kAlice);
  location.remove_all("acme/nobody");
  CHECK(location.lookup(kAlice, kT0).empty());
  CHECK(location.next_expiry() == kT0 + 60s);
  CHECK(location.expire(kT0 + 1h) == std::vector<std::string>{"acme/bob"});
}

TEST_CASE("location: a huge expiry saturates instead of overflowing", "[location]") {
  LocationService location;
  CHECK(location.update(kAlice, binding(kPhone, "c1", 1), acd::core::Duration::max(), kT0) ==
        Update::kAdded);
  CHECK(location.lookup(kAlice, kT0 + 24h * 365 * 100).size() == 1);
  CHECK(location.next_expiry() == kNever);
  CHECK(location.expire(kT0 + 24h * 365 * 100).empty());
}
