#include "engine/core/erlang.h"

#include <cmath>
#include <limits>

namespace acd::core::erlang {

double erlang_b(int agents, double offered_load) {
  double b = 1.0;
  for (int n = 1; n <= agents; ++n) b = offered_load * b / (n + offered_load * b);
  return b;
}

double probability_of_waiting(int agents, double offered_load) {
  if (agents <= 0 || offered_load >= agents) return 1.0;
  const double b = erlang_b(agents, offered_load);
  return agents * b / (agents - offered_load * (1.0 - b));
}

double service_level(int agents, double offered_load, double aht_seconds,
                     double threshold_seconds) {
  if (offered_load >= agents) return 0.0;
  const double p_wait = probability_of_waiting(agents, offered_load);
  return 1.0 - p_wait * std::exp(-(agents - offered_load) * threshold_seconds / aht_seconds);
}

double average_speed_of_answer(int agents, double offered_load, double aht_seconds) {
  if (offered_load >= agents) return std::numeric_limits<double>::infinity();
  return probability_of_waiting(agents, offered_load) * aht_seconds / (agents - offered_load);
}

int agents_for_service_level(double offered_load, double aht_seconds, double threshold_seconds,
                             double target_sl) {
  int n = static_cast<int>(std::floor(offered_load)) + 1;
  while (service_level(n, offered_load, aht_seconds, threshold_seconds) < target_sl) ++n;
  return n;
}

}  // namespace acd::core::erlang
