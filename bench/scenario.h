// The population the routing benchmarks run against: a call center at a given scale,
// generated deterministically from a seed, loaded into a RoutingCore and brought to a
// realistic steady state.
//
// Shape (full scale): one tenant, 200 skills in 50 clusters of 4 related skills, 100
// teams, 10,000 agents, 1,000 queues (20 per cluster). Each queue requires 1-3 skills of
// its cluster (the third one sometimes optional) with minimum levels 1-6, and escalates
// (relax levels after 60 s, drop optional skills and admit tier 2 after 120 s, tier 3
// after 300 s). Each agent has the skills of one cluster, sometimes two (3-8 skills,
// proficiency 1-10), and is a member of 5-10 of its clusters' queues (tier 1: 65 %,
// tier 2: 25 %, tier 3: 10 %; penalties 0-5). Every queue has at least three tier-1
// members eligible from the start.
//
// The clusters fall into two halves:
//  * saturated: 40 % of the agents, all busy (Talking) or NotReady; their queues hold the
//    waiting calls (5,000 at full scale) and use a mix of strategies;
//  * serving: 60 % of the agents, mostly Ready (a fifth of them Talking); their queues
//    hold no waiting call and use the strategy under test, so a new call there is
//    offered at once.
// No Ready agent can take a waiting call (the core's invariant), which is what makes
// this steady: restoring each benchmark iteration keeps it so.
//
// With ScenarioOptions::rules every queue routes by rule-based targets (docs/RULES.md)
// instead of skills and escalation, written the way an integrator would state the same
// queue: its skills and minimum levels, the caller's language and the agent's tier in the
// targets, the levels relaxed and the tiers widened by later steps at the escalation's
// times, and ORDER BY the first skill, then idle time. See rules_routing() in scenario.cc.
// Agents then speak 1-3 of en/es/fr/de and every call carries a `language` attribute.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/core/events.h"
#include "engine/core/model.h"
#include "engine/core/random.h"
#include "engine/core/routing_core.h"
#include "engine/core/time.h"

namespace acd::bench {

struct Scale {
  const char* name = "full";
  int agents = 10'000;
  int queues = 1'000;
  int skills = 200;  // a multiple of 4 (clusters of 4 skills), at least 8
  int teams = 100;
  int waiting_calls = 5'000;
};

// ACD_BENCH_SCALE=small (the ctest smoke test, sanitizer builds) shrinks everything
// about 25x; unset or "full" is the scale the targets are stated for.
Scale scale_from_env();

// Counts every event by kind and remembers the last offer; optionally keeps every offer
// in a fixed ring (no allocation) for benchmarks that need to follow calls offered as a
// side effect of another command.
class CountingObserver final : public core::CoreObserver {
 public:
  void on_event(const core::CoreEvent& event) override;

  [[nodiscard]] std::uint64_t count(std::size_t kind) const { return counts_[kind]; }
  [[nodiscard]] std::uint64_t agent_state_changes() const { return counts_[0]; }
  [[nodiscard]] std::uint64_t offers() const { return offers_; }
  [[nodiscard]] std::uint64_t total() const { return total_; }
  [[nodiscard]] const core::CallOffered& last_offer() const { return last_offer_; }

  void keep_offers(std::size_t capacity);  // 0: stop keeping
  // Offers kept since the last call, oldest first; false when the ring overflowed.
  bool drain_offers(std::vector<core::CallOffered>& out);

 private:
  std::uint64_t counts_[std::variant_size_v<core::CoreEvent>] = {};
  std::uint64_t total_ = 0;
  std::uint64_t offers_ = 0;
  core::CallOffered last_offer_{};
  std::vector<core::CallOffered> ring_;
  std::uint64_t ring_head_ = 0;  // offers written
  std::uint64_t ring_tail_ = 0;  // offers drained
};

struct ScenarioOptions {
  core::Strategy strategy = core::Strategy::kLongestIdle;  // of the serving queues
  // Serving queues have after-call work (ended by the agent with end_wrap_up).
  bool wrap_up = false;
  // Fill the saturated queues with Scale::waiting_calls calls and make half of their
  // agents busy. Off: the saturated agents are all NotReady and nothing waits.
  bool waiting_calls = true;
  // Every queue routes by rule-based targets; the queues' required skills are left empty
  // (the targets state them), agents speak languages and calls carry one (see above).
  bool rules = false;
  std::uint64_t seed = 20240601;
};

// Thrown by the scenario when the core refuses a command the benchmark relies on.
struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void expect_ok(const core::Status& status, const char* what);

// The generated configuration and what the benchmarks need to know about it.
struct Population {
  core::CoreConfig config;
  core::TenantId tenant{0};
  std::vector<bool> queue_saturated;  // by queue index
  std::vector<bool> agent_saturated;  // by agent index
  // Saturated-side agents that are tier-1 members of some saturated queue with every
  // required skill at its minimum level: calls there are always theirs to take.
  std::vector<bool> agent_sure_eligible;
};

Population generate_population(const Scale& scale, const ScenarioOptions& options);

class Scenario {
 public:
  Scenario(const Scale& scale, const ScenarioOptions& options);
  Scenario(const Scenario&) = delete;
  Scenario& operator=(const Scenario&) = delete;

  // A new inbound call for the tenant; builds no heap strings (caller and dialed
  // numbers fit the small-string buffer).
  core::CallSpec make_call();
  // A new inbound call for `queue`: with options.rules it carries a `language` attribute,
  // drawn from the callers' mix and, in a serving queue, one that a Ready member speaks.
  core::CallSpec make_call(core::QueueId queue);

  // Takes an offered call to its end without after-call work left: ringing, answered,
  // hung up, and the agent back to Ready (ending wrap-up if there is any).
  // `talk` is how long the call lasts (the clock advances, timers run).
  void answer_and_release(core::CallId call, core::AgentId agent,
                          core::Duration talk = core::Duration::zero());
  // Makes `agent` Ready again after a call, whatever the call ended in.
  void ensure_ready(core::AgentId agent);
  [[nodiscard]] core::AgentState state_of(core::AgentId agent) const;
  // Calls waiting in all queues, per the core's snapshot.
  [[nodiscard]] int waiting_calls() const;

  // Advances the clock by `d` and fires whatever timers became due (counted in
  // timers_fired, stale ones included: the core's timer heap cancels lazily).
  void advance(core::Duration d);

  Scale scale;
  ScenarioOptions options;
  Population population;
  core::ManualClock clock{core::TimePoint{std::chrono::hours(24 * 365)}};
  core::Xoshiro256 core_random;
  core::Xoshiro256 rng;  // the benchmark's own choices
  CountingObserver observer;
  std::unique_ptr<core::RoutingCore> core;

  std::vector<core::QueueId> serving_queues;  // verified: a new call is offered at once
  // With options.rules, by queue index: the languages of new calls a serving queue offers
  // at once (verified like serving_queues), in the order of kLanguages.
  std::vector<std::vector<std::string_view>> languages_served;
  std::vector<core::QueueId> saturated_queues;
  std::vector<core::AgentId> serving_agents;         // Ready or Talking
  std::vector<core::AgentId> idle_saturated_agents;  // NotReady and sure to get a call
  std::uint64_t next_call_id = 1;
  std::uint64_t timers_fired = 0;
  std::int64_t setup_ns = 0;
};

}  // namespace acd::bench
