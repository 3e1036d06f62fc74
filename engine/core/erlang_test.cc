#include "engine/core/erlang.h"

#include <catch2/catch.hpp>

using namespace acd::core::erlang;

TEST_CASE("Erlang B matches published table values", "[erlang]") {
  // Classic table: 10 erlangs on 10 trunks blocks 21.46%; 5 erlangs on 10 trunks 1.84%.
  CHECK(erlang_b(10, 10.0) == Approx(0.2146).margin(1e-4));
  CHECK(erlang_b(10, 5.0) == Approx(0.01838).margin(1e-4));
  CHECK(erlang_b(0, 3.0) == Approx(1.0));
}

TEST_CASE("Erlang C waiting probability, SL and ASA", "[erlang]") {
  // 2 agents, 1 erlang: P_wait = 1/3 (textbook M/M/2 result).
  CHECK(probability_of_waiting(2, 1.0) == Approx(1.0 / 3.0).epsilon(1e-9));
  // Known staffing example: 360 calls/h, AHT 240 s -> A = 24 erlangs; 30 agents.
  const double a = 24.0;
  const double p = probability_of_waiting(30, a);
  CHECK(p > 0.0);
  CHECK(p < 0.3);
  CHECK(service_level(30, a, 240, 20) == Approx(1.0 - p * std::exp(-6.0 * 20 / 240)));
  CHECK(average_speed_of_answer(30, a, 240) == Approx(p * 240 / 6.0));
  // Overload: everyone waits, SL is zero, ASA unbounded.
  CHECK(probability_of_waiting(10, 12.0) == 1.0);
  CHECK(service_level(10, 12.0, 180, 20) == 0.0);
}

TEST_CASE("Staffing for a service-level target", "[erlang]") {
  const int n = agents_for_service_level(24.0, 240, 20, 0.8);
  CHECK(service_level(n, 24.0, 240, 20) >= 0.8);
  CHECK(service_level(n - 1, 24.0, 240, 20) < 0.8);
}
