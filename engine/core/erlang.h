// Erlang B / Erlang C formulas for staffing and for checking the router against theory
// (see ../shared docs: "Formulas worth getting right"). Pure functions.
#pragma once

namespace acd::core::erlang {

// Blocking probability of N servers offered A erlangs, by the stable recurrence
// B_0 = 1, B_n = A*B_{n-1} / (n + A*B_{n-1}).
double erlang_b(int agents, double offered_load);

// Probability that a caller waits (Erlang C). 1.0 when the load meets or exceeds capacity.
double probability_of_waiting(int agents, double offered_load);

// Share of callers answered within `threshold_seconds`:
// SL(t) = 1 - P_wait * exp(-(N - A) * t / AHT).
double service_level(int agents, double offered_load, double aht_seconds, double threshold_seconds);

// Average speed of answer: P_wait * AHT / (N - A).
double average_speed_of_answer(int agents, double offered_load, double aht_seconds);

// Smallest number of agents reaching `target_sl` within the threshold.
int agents_for_service_level(double offered_load, double aht_seconds, double threshold_seconds,
                             double target_sl);

}  // namespace acd::core::erlang
