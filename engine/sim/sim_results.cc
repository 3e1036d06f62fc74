#include "engine/sim/sim_results.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

namespace acd::sim {
namespace {

std::string seconds_since(core::TimePoint start, core::TimePoint at) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "t=%.3fs", core::to_seconds(at - start));
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

std::uint64_t SimResults::final_state_total() const {
  return std::accumulate(final_states.begin(), final_states.end(), std::uint64_t{0});
}

std::string SimResults::summary() const {
  std::ostringstream out;
  out << "calls created " << calls_created << ", refused " << calls_refused << ", unfinished "
      << calls_unfinished << "\n";
  out << "final states:";
  for (std::size_t i = 0; i < kFinalStateCount; ++i) {
    if (final_states[i] == 0) continue;
    out << " " << core::to_string(static_cast<core::FinalState>(i)) << "=" << final_states[i];
  }
  out << "\n";
  out << "measured calls " << measured_calls << ": answered " << answered << ", abandoned "
      << abandoned << ", exited " << exited << "\n";
  out << "SL " << fixed(service_level, 4) << ", ASA " << fixed(asa_seconds, 2)
      << " s, abandon rate " << fixed(abandon_rate, 4) << ", AHT " << fixed(aht_seconds, 1)
      << " s, occupancy " << fixed(occupancy, 4) << "\n";
  out << "events " << events_processed() << " (core " << core_events << ", external "
      << external_events << "), timer runs " << timer_runs << " (fired " << timers_fired
      << "), commands " << commands << ", core invariant checks " << core_invariant_checks << "\n";
  out << "offers " << offers << ", no-answers " << no_answers << ", escalations " << escalations
      << ", exits " << exits << ", overflow changes " << overflow_changes << ", alerts "
      << supervisor_alerts << ", breaks started " << breaks_started << " (waitlisted "
      << breaks_waitlisted << ", refused " << breaks_refused << "), holds " << holds
      << ", breakouts " << breakouts << "\n";
  out << "simulated " << fixed(core::to_seconds(ended - started) / 3600.0, 3) << " h, drained "
      << (drained ? "yes" : "no") << ", violations " << violation_count << "\n";
  return out.str();
}

std::string SimResults::describe_violations(std::size_t max) const {
  std::ostringstream out;
  out << violation_count << " violation(s)";
  const std::size_t n = std::min(max, violations.size());
  if (n > 0) out << ", first " << n << ":";
  out << "\n";
  for (std::size_t i = 0; i < n; ++i) {
    out << "  " << seconds_since(started, violations[i].at) << " " << violations[i].what << "\n";
  }
  return out.str();
}

std::string SimResults::describe_trace() const {
  std::ostringstream out;
  for (const auto& line : trace) out << seconds_since(started, line.at) << " " << line.what << "\n";
  return out.str();
}

bool same_outcome(const SimResults& a, const SimResults& b) {
  return a.calls_created == b.calls_created && a.calls_refused == b.calls_refused &&
         a.final_states == b.final_states && a.calls_unfinished == b.calls_unfinished &&
         a.measured_calls == b.measured_calls && a.answered == b.answered &&
         a.answered_in_threshold == b.answered_in_threshold && a.abandoned == b.abandoned &&
         a.exited == b.exited && a.service_level == b.service_level &&
         a.asa_seconds == b.asa_seconds && a.abandon_rate == b.abandon_rate &&
         a.aht_seconds == b.aht_seconds && a.occupancy == b.occupancy &&
         a.core_events == b.core_events && a.external_events == b.external_events &&
         a.timer_runs == b.timer_runs && a.timers_fired == b.timers_fired &&
         a.commands == b.commands && a.offers == b.offers && a.no_answers == b.no_answers &&
         a.escalations == b.escalations && a.exits == b.exits &&
         a.overflow_changes == b.overflow_changes && a.supervisor_alerts == b.supervisor_alerts &&
         a.breaks_started == b.breaks_started && a.breaks_waitlisted == b.breaks_waitlisted &&
         a.breaks_refused == b.breaks_refused && a.holds == b.holds && a.breakouts == b.breakouts &&
         a.ended == b.ended && a.drained == b.drained && a.trace_hash == b.trace_hash &&
         a.violation_count == b.violation_count;
}

}  // namespace acd::sim
