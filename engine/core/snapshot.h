// Live statistics and the immutable snapshot readers get. The core keeps the counters;
// RoutingCore::snapshot() copies them, with derived figures (SL variants, ASA, AHT,
// abandon rate, estimated wait), into a value that any thread may read once published.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/agent_state.h"
#include "engine/core/ids.h"
#include "engine/core/model.h"
#include "engine/core/time.h"

namespace acd::core {

// Cumulative per-queue counters since the core started (or since reset_statistics).
struct QueueCounters {
  std::uint64_t entered = 0;
  std::uint64_t answered = 0;
  std::uint64_t answered_in_threshold = 0;
  std::uint64_t abandoned = 0;
  std::uint64_t abandoned_in_threshold = 0;
  std::uint64_t exited = 0;   // left through an exit (timeout, full, empty, closed, breakout)
  std::uint64_t handled = 0;  // answered calls that have ended
  Duration total_answer_wait{0};
  Duration total_talk{0};
  Duration total_hold{0};
  Duration total_wrap_up{0};
  // Non-voice tasks.
  std::uint64_t tasks_entered = 0;
  std::uint64_t tasks_accepted = 0;
  std::uint64_t tasks_completed = 0;
  std::uint64_t tasks_abandoned = 0;
};

struct QueueSnapshot {
  QueueId id;
  TenantId tenant;
  std::string name;
  int waiting = 0;
  int offering = 0;  // calls whose agent is being rung
  Duration longest_wait{0};
  Duration estimated_wait{0};  // for a caller joining now
  int overflow_tier = 1;       // highest agent tier currently brought in by the overflow rule
  int members_logged_in = 0;
  int members_ready = 0;  // Ready with no task in hand: free for a call
  int members_busy = 0;   // reserved, ringing, talking, held, wrap-up, or Ready with tasks
  int tasks_waiting = 0;
  int tasks_offered = 0;
  int tasks_accepted = 0;  // accepted tasks whose current queue is this one
  Duration longest_task_wait{0};
  QueueCounters counters;

  // Service level, the three variants of the domain page (1.0 when nothing counted yet):
  // answered in threshold / answered
  [[nodiscard]] double sl_answered() const;
  // (answered in threshold + abandoned in threshold) / (answered + abandoned)
  [[nodiscard]] double sl_with_short_abandons() const;
  // answered in threshold / (answered + abandoned after threshold)
  [[nodiscard]] double sl_penalize_late_abandons() const;
  [[nodiscard]] Duration asa() const;
  [[nodiscard]] Duration aht() const;
  [[nodiscard]] double abandon_rate() const;  // abandoned / (answered + abandoned)
};

struct AgentCounters {
  std::uint64_t handled = 0;   // inbound calls answered and ended
  std::uint64_t outbound = 0;  // outbound and internal calls placed and ended
  std::uint64_t offered = 0;
  std::uint64_t rona = 0;
  std::uint64_t tasks_completed = 0;
  Duration talk{0};
  Duration hold{0};
  Duration wrap_up{0};
  Duration ready{0};
  std::vector<std::pair<ReasonId, Duration>> not_ready_by_reason;
};

struct AgentSnapshot {
  AgentId id;
  TenantId tenant;
  std::string name;
  AgentState state = AgentState::kLoggedOut;
  ReasonId reason;
  CallKind call_kind = CallKind::kNone;
  CallId call;
  TimePoint state_since;
  TimePoint idle_since;                    // meaningful in Ready
  AgentCounters counters;                  // includes time in the current state up to `at`
  std::array<int, kChannelCount> tasks{};  // tasks in hand (offered or accepted) per channel
};

struct CoreSnapshot {
  TimePoint at;
  std::uint64_t sequence = 0;  // increases with every published snapshot
  std::vector<QueueSnapshot> queues;
  std::vector<AgentSnapshot> agents;
  std::vector<std::string> reasons;  // ReasonId -> name
  int calls_in_system = 0;
  int tasks_in_system = 0;

  [[nodiscard]] const std::string& reason_name(ReasonId id) const;
};

}  // namespace acd::core
