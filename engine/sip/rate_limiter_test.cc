#include "engine/sip/rate_limiter.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

using namespace acd::sip;
using namespace std::chrono_literals;
using acd::core::TimePoint;
using Decision = SourceRateLimiter::Decision;

namespace {

constexpr TimePoint kT0{std::chrono::hours(1000)};

IpAddress ip(const std::string& text) {
  return *IpAddress::parse(text);
}

// The i-th address of 10.0.0.0/8.
IpAddress nth(std::uint32_t i) {
  IpAddress address;
  address.bytes = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                   static_cast<std::uint8_t>(i)};
  return address;
}

SourceRateLimiter::Options options(double rate, double burst, std::size_t max_sources = 1000) {
  SourceRateLimiter::Options o;
  o.requests_per_second = rate;
  o.burst = burst;
  o.ban_time = 60s;
  o.max_sources = max_sources;
  return o;
}

}  // namespace

TEST_CASE("rate limiter: a burst is allowed, then the source is banned once", "[rate_limiter]") {
  SourceRateLimiter limiter(options(10, 5));
  const IpAddress source = ip("192.0.2.1");
  for (int i = 0; i < 5; ++i) CHECK(limiter.admit(source, kT0) == Decision::kAllow);
  CHECK(limiter.admit(source, kT0) == Decision::kNewlyBanned);
  CHECK(limiter.admit(source, kT0) == Decision::kBanned);
  CHECK(limiter.admit(source, kT0 + 30s) == Decision::kBanned);
  CHECK(limiter.banned(kT0 + 30s) == 1);
  // Other sources are not affected.
  CHECK(limiter.admit(ip("192.0.2.2"), kT0) == Decision::kAllow);
  CHECK(limiter.admit(ip("2001:db8::1"), kT0) == Decision::kAllow);
}

TEST_CASE("rate limiter: requests during a ban do not extend it", "[rate_limiter]") {
  SourceRateLimiter limiter(options(10, 2));
  const IpAddress source = ip("192.0.2.1");
  limiter.admit(source, kT0);
  limiter.admit(source, kT0);
  REQUIRE(limiter.admit(source, kT0) == Decision::kNewlyBanned);
  for (auto t = kT0; t < kT0 + 60s; t += 100ms)
    CHECK(limiter.admit(source, t) == Decision::kBanned);
  CHECK(limiter.banned(kT0 + 60s - 1ns) == 1);
  CHECK(limiter.banned(kT0 + 60s) == 0);
  // The ban is over: a full bucket again.
  CHECK(limiter.admit(source, kT0 + 60s) == Decision::kAllow);
  CHECK(limiter.admit(source, kT0 + 60s) == Decision::kAllow);
  CHECK(limiter.admit(source, kT0 + 60s) == Decision::kNewlyBanned);
}

TEST_CASE("rate limiter: a steady rate within the limit is never banned", "[rate_limiter]") {
  SourceRateLimiter limiter(options(10, 3));
  const IpAddress source = ip("192.0.2.1");
  for (auto t = kT0; t < kT0 + 10min; t += 100ms)
    REQUIRE(limiter.admit(source, t) == Decision::kAllow);
  // Eleven a second is not: the burst drains in a few seconds.
  int allowed = 0;
  auto t = kT0 + 10min;
  while (limiter.admit(source, t) == Decision::kAllow) {
    ++allowed;
    t += std::chrono::nanoseconds(1s) / 11;
  }
  CHECK(allowed > 10);
  CHECK(allowed < 40);
  CHECK(limiter.banned(t) == 1);
}

TEST_CASE("rate limiter: tokens refill with time, up to the burst", "[rate_limiter]") {
  SourceRateLimiter limiter(options(2, 4));
  const IpAddress source = ip("192.0.2.1");
  for (int i = 0; i < 4; ++i) REQUIRE(limiter.admit(source, kT0) == Decision::kAllow);
  // 1.5 s later: 3 tokens.
  for (int i = 0; i < 3; ++i) CHECK(limiter.admit(source, kT0 + 1500ms) == Decision::kAllow);
  CHECK(limiter.admit(source, kT0 + 1500ms) == Decision::kNewlyBanned);

  // An hour of silence fills the bucket to the burst, not beyond.
  const IpAddress quiet = ip("192.0.2.2");
  REQUIRE(limiter.admit(quiet, kT0) == Decision::kAllow);
  for (int i = 0; i < 4; ++i) CHECK(limiter.admit(quiet, kT0 + 1h) == Decision::kAllow);
  CHECK(limiter.admit(quiet, kT0 + 1h) == Decision::kNewlyBanned);
}

TEST_CASE("rate limiter: a full table evicts idle sources, least recently seen first",
          "[rate_limiter]") {
  SourceRateLimiter limiter(options(1, 2, 2));
  const IpAddress a = ip("192.0.2.1"), b = ip("192.0.2.2"), c = ip("192.0.2.3");
  CHECK(limiter.admit(a, kT0) == Decision::kAllow);  // 1 token left
  CHECK(limiter.admit(b, kT0) == Decision::kAllow);  // 1 token left
  // Nobody is idle: a new source is refused without being tracked.
  CHECK(limiter.admit(c, kT0) == Decision::kBanned);
  CHECK(limiter.tracked() == 2);
  CHECK(limiter.banned(kT0) == 0);

  CHECK(limiter.admit(a, kT0 + 500ms) == Decision::kAllow);  // a: 0.5 tokens
  // At +1 s b's bucket is full again (it was seen least recently); a's is not.
  CHECK(limiter.admit(c, kT0 + 1s) == Decision::kAllow);
  CHECK(limiter.tracked() == 2);
  // a kept its state: one token, then banned.
  CHECK(limiter.admit(a, kT0 + 1s) == Decision::kAllow);
  CHECK(limiter.admit(a, kT0 + 1s) == Decision::kNewlyBanned);
  // b comes back: a is banned and c not idle, so b is refused.
  CHECK(limiter.admit(b, kT0 + 1s) == Decision::kBanned);
  CHECK(limiter.tracked() == 2);
}

TEST_CASE("rate limiter: ended bans make room for new sources", "[rate_limiter]") {
  SourceRateLimiter limiter(options(1, 1, 1));
  const IpAddress a = ip("192.0.2.1"), b = ip("192.0.2.2");
  CHECK(limiter.admit(a, kT0) == Decision::kAllow);
  CHECK(limiter.admit(a, kT0) == Decision::kNewlyBanned);
  CHECK(limiter.admit(b, kT0 + 59s) == Decision::kBanned);  // a's ban still holds the slot
  CHECK(limiter.admit(b, kT0 + 60s) == Decision::kAllow);
  CHECK(limiter.tracked() == 1);
  CHECK(limiter.banned(kT0 + 60s) == 0);
}

TEST_CASE("rate limiter: memory stays bounded under a scan of many addresses", "[rate_limiter]") {
  SourceRateLimiter limiter(options(50, 100, 1000));
  std::size_t allowed = 0;
  auto t = kT0;
  for (std::uint32_t i = 0; i < 200000; ++i) {
    // Each source sends three requests, a new source every 10 ms.
    for (int r = 0; r < 3; ++r) allowed += limiter.admit(nth(i), t) == Decision::kAllow;
    REQUIRE(limiter.tracked() <= 1000);
    t += 10ms;
  }
  CHECK(allowed == 600000);  // buckets refill long before they are evicted
  CHECK(limiter.tracked() == 1000);
}

TEST_CASE("rate limiter: many banned sources are counted", "[rate_limiter]") {
  SourceRateLimiter limiter(options(1, 1, 100000));
  for (std::uint32_t i = 0; i < 5000; ++i) {
    limiter.admit(nth(i), kT0 + std::chrono::milliseconds(i));
    CHECK(limiter.admit(nth(i), kT0 + std::chrono::milliseconds(i)) == Decision::kNewlyBanned);
  }
  CHECK(limiter.banned(kT0 + 5s) == 5000);
  CHECK(limiter.banned(kT0 + 60s + 2500ms) == 2499);  // bans end 60 s after they began
  CHECK(limiter.banned(kT0 + 70s) == 0);
}

TEST_CASE("rate limiter: degenerate options are clamped", "[rate_limiter]") {
  SourceRateLimiter limiter(options(0, 0, 0));
  const IpAddress source = ip("192.0.2.1");
  CHECK(limiter.admit(source, kT0) == Decision::kAllow);             // a burst of at least one
  CHECK(limiter.admit(source, kT0 + 1h) == Decision::kNewlyBanned);  // no refill at rate 0
  CHECK(limiter.tracked() == 1);
}
