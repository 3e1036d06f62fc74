// What a simulation run produced: per-call records, measured figures, activity counters
// and every invariant violation seen. Plain values. Thread-safety: plain values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/events.h"
#include "engine/core/ids.h"
#include "engine/core/time.h"

namespace acd::sim {

constexpr std::size_t kFinalStateCount = 8;  // FinalState::kCompleted .. kTransferred

// What happened to one call, as seen through the core's events.
struct CallRecord {
  core::CallId id;
  std::uint32_t process = 0;  // index of the ArrivalProcess that created it
  core::QueueId first_queue;
  core::QueueId last_queue;
  int priority = 0;
  int vip_level = 0;
  core::TimePoint arrived{};
  core::TimePoint connected = core::kNever;  // answered by `agent`
  core::TimePoint finished = core::kNever;
  core::AgentId agent;
  int queue_entries = 0;  // CallQueued events (more than one: moved by an exit)
  int offers = 0;
  int no_answers = 0;
  int escalation_step = 0;  // highest escalation step reached
  core::Duration talk{0};   // measured by the simulator: answer to hang-up, less hold
  core::Duration hold{0};
  core::Duration wrap_up{0};  // the answering agent's wrap-up after this call
  std::optional<core::FinalState> final_state;
  int finish_events = 0;  // CallFinished events seen (exactly one when all is well)
};

struct Violation {
  core::TimePoint at;
  std::string what;
};

struct SimResults {
  // All calls.
  std::uint64_t calls_created = 0;  // accepted by RoutingCore::enqueue
  std::uint64_t calls_refused = 0;  // refused by enqueue (also a violation)
  std::array<std::uint64_t, kFinalStateCount> final_states{};  // indexed by FinalState
  std::uint64_t calls_unfinished = 0;  // no CallFinished by the end of the run
  [[nodiscard]] std::uint64_t final_state_total() const;
  [[nodiscard]] std::uint64_t count(core::FinalState s) const {
    return final_states[static_cast<std::size_t>(s)];
  }

  // Calls that arrived after the warm-up (and before arrivals stopped).
  std::uint64_t measured_calls = 0;
  std::uint64_t answered = 0;
  std::uint64_t answered_in_threshold = 0;
  std::uint64_t abandoned = 0;
  std::uint64_t exited = 0;    // voicemail, callback, hang-up with message
  double service_level = 1.0;  // answered in threshold / answered
  double asa_seconds = 0.0;    // mean wait of answered calls, arrival to answer
  double abandon_rate = 0.0;   // abandoned / (answered + abandoned)
  double aht_seconds = 0.0;    // mean (talk + hold + wrap-up) of answered calls
  double occupancy = 0.0;      // agents' busy time / (busy + ready time) in the window

  // Activity.
  std::uint64_t core_events = 0;      // events received from the core
  std::uint64_t external_events = 0;  // simulator events run
  std::uint64_t timer_runs = 0;       // run_due_timers() calls
  std::uint64_t timers_fired = 0;
  std::uint64_t commands = 0;  // commands issued to the core
  std::uint64_t core_invariant_checks = 0;
  std::uint64_t offers = 0;
  std::uint64_t no_answers = 0;  // OfferEnded(kNoAnswer)
  std::uint64_t escalations = 0;
  std::uint64_t exits = 0;  // CallExited events (including moves to another queue)
  std::uint64_t overflow_changes = 0;
  std::uint64_t supervisor_alerts = 0;
  std::uint64_t breaks_started = 0;
  std::uint64_t breaks_waitlisted = 0;
  std::uint64_t breaks_refused = 0;  // refused by the team's break policy
  std::uint64_t holds = 0;
  std::uint64_t breakouts = 0;  // leave_queue() issued
  [[nodiscard]] std::uint64_t events_processed() const { return core_events + external_events; }

  core::TimePoint started{};
  core::TimePoint ended{};       // simulated time when the run stopped
  bool drained = false;          // the system emptied before the drain limit
  std::uint64_t trace_hash = 0;  // digest of every core event, for determinism checks

  std::uint64_t violation_count = 0;
  std::vector<Violation> violations;  // the first SimConfig::max_recorded_violations

  std::vector<CallRecord> calls;  // indexed by call id - 1 (when kept)
  std::vector<Violation> trace;   // SimConfig::trace_calls / trace_agents, in order

  [[nodiscard]] bool ok() const { return violation_count == 0; }
  // Multi-line human-readable summary of the figures.
  [[nodiscard]] std::string summary() const;
  // The first `max` violations, one per line, with simulated seconds since the start.
  [[nodiscard]] std::string describe_violations(std::size_t max = 10) const;
  // The trace, one line per entry.
  [[nodiscard]] std::string describe_trace() const;
};

// Equality of everything a repeated run with the same seed must reproduce.
bool same_outcome(const SimResults& a, const SimResults& b);

}  // namespace acd::sim
