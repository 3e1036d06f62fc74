// The audit log's budget for refusals: a flood of bad requests cannot flood the log, and
// the number of refusals is never lost.
#include "engine/api/log_budget.h"

#include <catch2/catch.hpp>

#include "engine/api/api_test_fixture.h"

namespace acd::api {
namespace {

using namespace std::chrono_literals;
using Clock = LogBudget::Clock;

TEST_CASE("a log budget lets a burst through, then its rate, and counts what it drops",
          "[api][audit]") {
  LogBudget budget(2, 5);
  const Clock::time_point t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i) CHECK(budget.take(t0) == std::optional<std::uint64_t>(0));
  for (int i = 0; i < 7; ++i) CHECK_FALSE(budget.take(t0 + 10ms).has_value());
  // Half a second later: one more line (2 a second), which reports the 7 dropped.
  CHECK(budget.take(t0 + 510ms) == std::optional<std::uint64_t>(7));
  CHECK_FALSE(budget.take(t0 + 520ms).has_value());
  // A quiet minute refills the bucket up to the burst, not beyond.
  const Clock::time_point later = t0 + 60s;
  CHECK(budget.take(later) == std::optional<std::uint64_t>(1));
  for (int i = 1; i < 5; ++i) CHECK(budget.take(later) == std::optional<std::uint64_t>(0));
  CHECK_FALSE(budget.take(later).has_value());
  // A clock that goes back does not add tokens.
  CHECK_FALSE(budget.take(t0).has_value());
}

TEST_CASE("a flood of requests without a valid token is audited within the budget",
          "[api][audit]") {
  ApiOptions options;
  options.denied_log_per_second = 0;  // no refill: exactly the burst is written
  options.denied_log_burst = 10;
  testing::Fixture f(options);
  for (int i = 0; i < 400; ++i) {
    v1::AgentStatus out;
    const grpc::Status s =
        f.call(&v1::AgentService::Stub::GetStatus, "forged-token", v1::GetStatusRequest{}, out);
    REQUIRE(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  std::lock_guard lock(f.log_mutex);
  CHECK(f.denied.size() == 10);
  CHECK(f.denied_dropped == 0);  // reported with the next line written; none is
}

}  // namespace
}  // namespace acd::api
