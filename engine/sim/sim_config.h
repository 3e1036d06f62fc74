// What a simulation run models: the routing configuration (built by the caller), the
// traffic offered to each queue, how callers and agents behave, and how long to run.
// Plain values. Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/model.h"
#include "engine/core/time.h"

namespace acd::sim {

// A skill that a share of a process's callers need beyond the queue's own requirements.
struct ExtraSkillMix {
  double share = 0.0;  // probability that a caller needs it
  core::SkillRequirement requirement;
};

// Poisson arrivals into one queue, with a mix of caller kinds.
struct ArrivalProcess {
  core::QueueId queue;
  double calls_per_hour = 0.0;
  double priority_share = 0.0;  // share of callers entering with `priority`
  int priority = 0;
  double vip_share = 0.0;  // share of callers with `vip_level` (drawn independently)
  int vip_level = 1;
  std::vector<ExtraSkillMix> extra_skills;
};

struct SimConfig {
  core::CoreConfig core;  // applied once at the start; must be valid
  std::vector<ArrivalProcess> arrivals;
  std::uint64_t seed = 1;

  // Simulated time starts at `start`; callers arrive during [start, start + duration);
  // then the run continues without new arrivals until the system is empty (at most
  // `drain_limit` more, after which whatever is left is reported as a violation).
  core::TimePoint start = core::TimePoint{std::chrono::seconds{1'704'067'200}};  // 2024-01-01
  core::Duration duration = std::chrono::hours{8};
  core::Duration drain_limit = std::chrono::hours{4};
  // Calls arriving in the first `warm_up` are left out of the measured figures, and
  // agent occupancy is measured over [start + warm_up, start + duration).
  core::Duration warm_up = std::chrono::minutes{30};
  core::Duration sl_threshold = std::chrono::seconds{20};

  // Callers. Talk time is exponential with this mean. Patience (time until a waiting
  // caller hangs up) is exponential with `mean_patience`, or infinite when unset.
  core::Duration mean_talk_time = std::chrono::seconds{180};
  std::optional<core::Duration> mean_patience;

  // Hold: with `hold_probability` an answered call is put on hold once, a third of the way
  // through its talk time, for an exponential time with mean `mean_hold` (the hang-up
  // comes that much later).
  double hold_probability = 0.0;
  core::Duration mean_hold = std::chrono::seconds{30};
  // Breakout: with `breakout_probability` a caller picks a breakout option ("press 1 for
  // voicemail") after an exponential time with mean `mean_breakout_after`, if still
  // waiting (not while an agent is being rung), and leaves to `breakout`.
  double breakout_probability = 0.0;
  core::Duration mean_breakout_after = std::chrono::seconds{60};
  core::ExitDestination breakout{core::ExitDestination::Kind::kVoicemail, {}, "breakout"};

  // Agents' phones. Time from the offer to the answer is uniform in
  // [answer_delay_min, answer_delay_max] (fixed when equal). With `no_answer_probability`
  // the agent lets the phone ring until the core's ring timeout (RONA).
  core::Duration answer_delay_min{0};
  core::Duration answer_delay_max{0};
  double no_answer_probability = 0.0;

  // Agents. All agents of `core` log in Ready at the start unless `logins` names a subset.
  std::vector<core::AgentId> logins;
  // After NotReady("no-answer") (RONA) or a RONA logout, the agent is back after this.
  core::Duration back_after_no_answer = std::chrono::seconds{30};
  // After any other not-ready reason the simulator did not ask for (e.g. manual-ready
  // after wrap-up in manual work mode), the agent readies themself after this.
  core::Duration back_after_other = std::chrono::seconds{5};
  // Manual wrap-up (queue's manual_wrap_up): the agent ends it after this.
  core::Duration manual_wrap_up = std::chrono::seconds{30};
  // Breaks: each agent asks for a break as a Poisson process of this rate (0: never),
  // with reason `break_reason`, when Ready or in wrap-up (otherwise, or when refused by
  // the team's break policy, they ask again after `break_retry`); a break lasts an
  // exponential time with mean `mean_break`.
  double breaks_per_agent_hour = 0.0;
  std::string break_reason = "break";
  core::Duration mean_break = std::chrono::minutes{10};
  core::Duration break_retry = std::chrono::seconds{60};

  // Checks. RoutingCore::check_invariants() is called after every simulator step (each
  // external event or timer run) when set; it costs O(agents x calls).
  bool check_core_invariants = true;
  std::size_t max_recorded_violations = 50;
  // Keep the per-call records (SimResults::calls) for the caller to inspect.
  bool keep_call_records = true;
  // Debugging aid: every core event and simulator event that concerns one of these calls
  // (CallId values) or agents goes to SimResults::trace, as text.
  std::vector<std::uint64_t> trace_calls;
  std::vector<core::AgentId> trace_agents;
};

}  // namespace acd::sim
