// Simulation tests of the routing core: hours of call-center traffic in simulated time
// through engine/sim, checking the core's invariants on every event and its service
// figures against Erlang C.
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "engine/core/erlang.h"
#include "engine/core/routing_core.h"
#include "engine/sim/simulator.h"

namespace {

namespace core = acd::core;
namespace sim = acd::sim;
using namespace std::chrono_literals;

constexpr double kAhtSeconds = 180.0;
constexpr double kThresholdSeconds = 20.0;

double elapsed_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string format(const char* fmt, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}

// Everything a test needs to see when a run breaks an invariant.
void require_clean(const sim::SimResults& r) {
  INFO(r.summary() << r.describe_violations(10));
  REQUIRE(r.violation_count == 0);
  REQUIRE(r.calls_unfinished == 0);
  REQUIRE(r.drained);
  REQUIRE(r.calls_refused == 0);
  // Every call created ended in exactly one final state.
  REQUIRE(r.final_state_total() == r.calls_created);
  std::size_t not_exactly_once = 0;
  for (const auto& call : r.calls) {
    if (call.finish_events != 1 || !call.final_state) ++not_exactly_once;
  }
  REQUIRE(not_exactly_once == 0);
}

// ---- a. Erlang C ----

// One queue, longest idle, no wrap-up, agents answer at once and always, callers never
// give up: the M/M/N queue that Erlang C describes.
sim::SimConfig erlang_scenario(int agents, double erlangs, std::uint64_t seed) {
  const core::TenantId tenant{1};
  const core::QueueId queue{1};
  sim::SimConfig cfg;
  cfg.core.tenants.push_back(core::TenantConfig{tenant, "erlang"});
  core::QueueConfig q;
  q.id = queue;
  q.tenant = tenant;
  q.name = "sales";
  q.strategy = core::Strategy::kLongestIdle;
  q.sl_threshold = 20s;
  q.wrap_up = 0s;
  cfg.core.queues.push_back(q);
  for (int i = 1; i <= agents; ++i) {
    core::AgentConfig a;
    a.id = core::AgentId{static_cast<std::uint32_t>(i)};
    a.tenant = tenant;
    a.name = "agent-" + std::to_string(i);
    a.extension = std::to_string(1000 + i);
    cfg.core.agents.push_back(a);
    core::QueueMember m;
    m.queue = queue;
    m.agent = a.id;
    cfg.core.members.push_back(m);
  }
  sim::ArrivalProcess arrivals;
  arrivals.queue = queue;
  arrivals.calls_per_hour = erlangs * 3600.0 / kAhtSeconds;  // A = lambda x AHT
  cfg.arrivals.push_back(arrivals);
  cfg.seed = seed;
  cfg.duration = 8h;
  cfg.warm_up = 30min;
  cfg.sl_threshold = 20s;
  cfg.mean_talk_time = std::chrono::seconds{static_cast<int>(kAhtSeconds)};
  cfg.mean_patience.reset();  // infinite patience
  cfg.answer_delay_min = cfg.answer_delay_max = 0s;
  cfg.no_answer_probability = 0.0;
  cfg.breaks_per_agent_hour = 0.0;
  return cfg;
}

struct Pooled {
  int runs = 0;
  std::uint64_t calls = 0;
  std::uint64_t answered = 0;
  std::uint64_t in_threshold = 0;
  double wait_sum = 0.0;
  double handle_sum = 0.0;
  double occupancy_sum = 0.0;
  std::uint64_t events = 0;
  std::uint64_t core_checks = 0;
  double real_seconds = 0.0;

  double sl() const { return static_cast<double>(in_threshold) / static_cast<double>(answered); }
  double asa() const { return wait_sum / static_cast<double>(answered); }
  double aht() const { return handle_sum / static_cast<double>(answered); }
  double occupancy() const { return occupancy_sum / runs; }
};

// `runs` independent 8-hour days (seeds first_seed, first_seed + 1, ...), pooled. The
// simulator's own checks run on every event of every run; the core's O(agents x calls)
// check_invariants() runs after every step of the first run only, to keep the test fast.
Pooled run_days(int agents, double erlangs, int runs, std::uint64_t first_seed) {
  Pooled p;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) {
    sim::SimConfig cfg = erlang_scenario(agents, erlangs, first_seed + static_cast<unsigned>(i));
    cfg.check_core_invariants = i == 0;
    const sim::SimResults r = sim::simulate(std::move(cfg));
    INFO("run " << i << " (seed " << first_seed + static_cast<unsigned>(i) << ")");
    require_clean(r);
    REQUIRE(r.count(core::FinalState::kCompleted) == r.calls_created);  // nobody gives up
    ++p.runs;
    p.calls += r.calls_created;
    p.answered += r.answered;
    p.in_threshold += r.answered_in_threshold;
    p.wait_sum += r.asa_seconds * static_cast<double>(r.answered);
    p.handle_sum += r.aht_seconds * static_cast<double>(r.answered);
    p.occupancy_sum += r.occupancy;
    p.events += r.events_processed();
    p.core_checks += r.core_invariant_checks;
  }
  p.real_seconds = elapsed_since(t0);
  return p;
}

// Tolerances. Calibration (Release build, 400 independent 8-hour days per load, seeds
// 1001..1400, outside this test): for one day (7.5 measured hours) the standard deviation
// of the measured SL(20 s) is 0.074 and of the ASA 6.8 s (52% of the mean) at 50 agents
// and 45 erlangs, and 0.105 / 19.1 s (60%) at 40 agents and 37 erlangs; the 400-day means
// agree with Erlang C (SL 0.797 vs 0.791, ASA 12.7 vs 13.1 s; 0.623 vs 0.622, 31.7 vs
// 31.7 s). Waiting times near 90% occupancy are strongly correlated over tens of minutes,
// which is why one day says little and several days are pooled. Both distributions are
// skewed (a bad day drags SL down and ASA up a lot), so the margins are generous.
//
// 50 agents: 64 pooled days give standard errors 0.074/8 = 0.0093 (SL) and 6.5% (ASA);
// the tolerances, absolute 0.04 on SL and 25% on ASA, are about 4 standard errors. Check
// of the check: 150 independent pools of 64 days (seeds 100000..) all passed, the worst
// deviations being 0.023 (SL) and 18.6% (ASA).
constexpr int kDays50 = 64;
constexpr double kSlTolerance50 = 0.04;
constexpr double kAsaRelTolerance50 = 0.25;
// 40 agents (the control): 32 days, standard errors 0.019 and 10.6%; tolerances 0.09 and
// 45% (150 pools of 32 days: worst 0.074 and 32.5%). Still narrower than the gap between
// the two Erlang predictions (REQUIREd below), so the control can only pass if the
// simulated system responds to staffing the way Erlang C says.
constexpr int kDays40 = 32;
constexpr double kSlTolerance40 = 0.09;
constexpr double kAsaRelTolerance40 = 0.45;
// Occupancy is carried load / agents = A/N; one day's spread is 0.016-0.018, so a pool
// of 32 or more days is within 0.004 of it (0.02 is 6 standard errors or more).
constexpr double kOccupancyTolerance = 0.02;

TEST_CASE("Erlang C: 50 agents offered 45 erlangs", "[sim][erlang]") {
  const int agents = 50;
  const double load = 45.0;
  const double p_wait = core::erlang::probability_of_waiting(agents, load);
  const double sl = core::erlang::service_level(agents, load, kAhtSeconds, kThresholdSeconds);
  const double asa = core::erlang::average_speed_of_answer(agents, load, kAhtSeconds);
  REQUIRE(p_wait > 0.3);  // a substantial share of callers waits: the queue matters

  const Pooled p = run_days(agents, load, kDays50, /*first_seed=*/1);
  WARN(format("Erlang C, 50 agents, 45 erlangs, AHT 180 s: P_wait %.3f", p_wait)
       << "\n  " << p.runs << " days x 8 h (first 30 min of each discarded), " << p.calls
       << " calls, " << p.events << " events, core invariants checked " << p.core_checks << " times"
       << format("\n  SL(20 s): measured %.4f, Erlang C %.4f (tolerance +-%.2f)", p.sl(), sl,
                 kSlTolerance50)
       << format("\n  ASA:      measured %.2f s, Erlang C %.2f s (tolerance +-%.0f%%)", p.asa(),
                 asa, 100 * kAsaRelTolerance50)
       << format("\n  AHT %.1f s, occupancy %.4f (A/N = %.4f)", p.aht(), p.occupancy(),
                 load / agents)
       << format("\n  real time %.2f s", p.real_seconds));

  CHECK(std::abs(p.sl() - sl) <= kSlTolerance50);
  CHECK(std::abs(p.asa() - asa) <= kAsaRelTolerance50 * asa);
  CHECK(std::abs(p.occupancy() - load / agents) <= kOccupancyTolerance);
  CHECK(std::abs(p.aht() - kAhtSeconds) <= 0.02 * kAhtSeconds);
}

TEST_CASE("Erlang C control: 40 agents offered 37 erlangs differ as Erlang predicts",
          "[sim][erlang]") {
  const double sl50 = core::erlang::service_level(50, 45.0, kAhtSeconds, kThresholdSeconds);
  const double asa50 = core::erlang::average_speed_of_answer(50, 45.0, kAhtSeconds);
  const int agents = 40;
  const double load = 37.0;
  const double sl = core::erlang::service_level(agents, load, kAhtSeconds, kThresholdSeconds);
  const double asa = core::erlang::average_speed_of_answer(agents, load, kAhtSeconds);
  // The two predictions are further apart than the two tolerance bands are wide.
  REQUIRE(sl50 - kSlTolerance50 > sl + kSlTolerance40);
  REQUIRE(asa50 * (1 + kAsaRelTolerance50) < asa * (1 - kAsaRelTolerance40));

  const Pooled p = run_days(agents, load, kDays40, /*first_seed=*/101);
  WARN(format("Erlang C control, 40 agents, 37 erlangs: P_wait %.3f",
              core::erlang::probability_of_waiting(agents, load))
       << "\n  " << p.runs << " days x 8 h, " << p.calls << " calls"
       << format("\n  SL(20 s): measured %.4f, Erlang C %.4f (tolerance +-%.3f); 50 agents: %.4f",
                 p.sl(), sl, kSlTolerance40, sl50)
       << format("\n  ASA:      measured %.2f s, Erlang C %.2f s (tolerance +-%.0f%%); 50 agents: "
                 "%.2f s",
                 p.asa(), asa, 100 * kAsaRelTolerance40, asa50)
       << format("\n  occupancy %.4f (A/N = %.4f), real time %.2f s", p.occupancy(), load / agents,
                 p.real_seconds));

  CHECK(std::abs(p.sl() - sl) <= kSlTolerance40);
  CHECK(std::abs(p.asa() - asa) <= kAsaRelTolerance40 * asa);
  CHECK(std::abs(p.occupancy() - load / agents) <= kOccupancyTolerance);
  // ... and so it is clearly not what the 50-agent system measures.
  CHECK(p.sl() < sl50 - kSlTolerance50);
  CHECK(p.asa() > asa50 * (1 + kAsaRelTolerance50));
}

// ---- b. Everything at once ----

// Two main queues (and a small ring-all line) and 50 agents in two teams: proficiency and
// escalation steps, VIP and priority callers, impatient callers, callers who press 1 for
// voicemail, agents who let the phone ring out (RONA), hold, wrap-up, manual work mode,
// breaks under team break policies (one wait-lists, one refuses), an overflow rule that
// brings in backup tiers, and exits (max wait to voicemail, a full queue to callback,
// billing's max wait moving the caller to the general queue).
sim::SimConfig mixed_scenario(std::uint64_t seed) {
  const core::TenantId tenant{1};
  const core::SkillId general{1};
  const core::SkillId billing{2};
  const core::SkillId spanish{3};
  const core::QueueId q_general{1};
  const core::QueueId q_billing{2};
  const core::QueueId q_key{3};
  const core::TeamId front{1};
  const core::TeamId back{2};

  sim::SimConfig cfg;
  core::CoreConfig& c = cfg.core;
  c.tenants = {core::TenantConfig{tenant, "acme"}};
  c.skills = {core::SkillConfig{general, tenant, "general"},
              core::SkillConfig{billing, tenant, "billing"},
              core::SkillConfig{spanish, tenant, "spanish"}};
  core::TeamConfig front_team{front, tenant, "front", {}};
  front_team.break_policy.reasons = {"break"};
  front_team.break_policy.max_concurrent = 2;
  front_team.break_policy.max_duration = 10min;
  front_team.break_policy.over_limit = core::BreakPolicy::OverLimit::kWaitlist;
  core::TeamConfig back_team{back, tenant, "back", {}};
  back_team.break_policy = front_team.break_policy;
  back_team.break_policy.over_limit = core::BreakPolicy::OverLimit::kRefuse;
  c.teams = {front_team, back_team};

  for (std::uint32_t i = 1; i <= 50; ++i) {
    core::AgentConfig a;
    a.id = core::AgentId{i};
    a.tenant = tenant;
    a.name = "agent-" + std::to_string(i);
    a.extension = std::to_string(2000 + i);
    if (i <= 30) {
      a.team = front;
      a.skills.push_back({general, static_cast<int>(3 + i % 8)});  // 3..10
      if (i % 4 == 0) a.skills.push_back({spanish, 6});
      if (i <= 10) a.skills.push_back({billing, 2});
    } else {
      a.team = back;
      a.skills.push_back({billing, static_cast<int>(3 + i % 7)});  // 3..9
      a.skills.push_back({general, static_cast<int>(2 + i % 3)});  // 2..4
    }
    if (i == 15 || i == 45) a.work_mode = core::WorkMode::kManual;
    c.agents.push_back(a);
  }

  core::QueueConfig g;
  g.id = q_general;
  g.tenant = tenant;
  g.name = "general";
  g.strategy = core::Strategy::kLongestIdle;
  g.required_skills = {core::SkillRequirement{general, 5, false}};
  g.ring_timeout = 12s;
  g.wrap_up = 15s;
  g.max_wait = 3min;
  g.on_timeout.kind = core::ExitDestination::Kind::kVoicemail;
  g.on_timeout.target = "general-mailbox";
  g.max_length = 12;
  g.on_full.kind = core::ExitDestination::Kind::kCallback;
  g.aging_per_minute = 1.0;
  g.vip_boost = 100;
  g.escalation = {core::EscalationStep{30s, 2, false, 0}, core::EscalationStep{60s, 0, true, 0},
                  core::EscalationStep{120s, 0, false, 2}};
  g.overflow.enabled = true;
  g.overflow.min_calls = 4;
  g.overflow.min_wait = 10s;
  g.overflow.sustain = 2min;
  g.overflow.max_tier = 3;
  g.overflow.clear_below_calls = 2;
  g.overflow.clear_after = 1min;
  g.rona_policy = core::RonaPolicy::kNotReady;

  core::QueueConfig b;
  b.id = q_billing;
  b.tenant = tenant;
  b.name = "billing";
  b.strategy = core::Strategy::kBestProficiency;
  b.required_skills = {core::SkillRequirement{billing, 4, false}};
  b.ring_timeout = 15s;
  b.wrap_up = 30s;
  b.max_wait = 90s;
  b.on_timeout.kind = core::ExitDestination::Kind::kQueue;
  b.on_timeout.queue = q_general;
  b.escalation = {core::EscalationStep{30s, 2, false, 0}, core::EscalationStep{60s, 0, false, 2}};
  b.rona_policy = core::RonaPolicy::kReady;
  b.rona_retry = 30s;
  // A small line for key accounts that rings several agents at once.
  core::QueueConfig k;
  k.id = q_key;
  k.tenant = tenant;
  k.name = "key-accounts";
  k.strategy = core::Strategy::kRingAll;
  k.ring_all_limit = 4;
  k.ring_timeout = 10s;
  k.wrap_up = 10s;
  k.rona_policy = core::RonaPolicy::kNotReady;
  c.queues = {g, b, k};

  auto member = [&](core::QueueId q, std::uint32_t agent, int tier) {
    core::QueueMember m;
    m.queue = q;
    m.agent = core::AgentId{agent};
    m.tier = tier;
    c.members.push_back(m);
  };
  for (std::uint32_t i = 1; i <= 30; ++i) member(q_general, i, 1);
  for (std::uint32_t i = 31; i <= 40; ++i) member(q_general, i, 2);
  for (std::uint32_t i = 41; i <= 50; ++i) member(q_general, i, 3);
  for (std::uint32_t i = 31; i <= 50; ++i) member(q_billing, i, 1);
  for (std::uint32_t i = 1; i <= 10; ++i) member(q_billing, i, 2);
  for (std::uint32_t i = 21; i <= 30; ++i) member(q_key, i, 1);

  sim::ArrivalProcess ga;
  ga.queue = q_general;
  ga.calls_per_hour = 520;
  ga.priority_share = 0.10;
  ga.priority = 5;
  ga.vip_share = 0.05;
  ga.vip_level = 1;
  ga.extra_skills = {sim::ExtraSkillMix{0.15, core::SkillRequirement{spanish, 5, true}},
                     sim::ExtraSkillMix{0.03, core::SkillRequirement{spanish, 3, false}}};
  sim::ArrivalProcess ba;
  ba.queue = q_billing;
  ba.calls_per_hour = 300;
  ba.vip_share = 0.10;
  ba.vip_level = 1;
  sim::ArrivalProcess ka;
  ka.queue = q_key;
  ka.calls_per_hour = 40;
  cfg.arrivals = {ga, ba, ka};

  cfg.seed = seed;
  cfg.duration = 8h;
  cfg.warm_up = 30min;
  cfg.mean_talk_time = 180s;
  cfg.hold_probability = 0.2;
  cfg.mean_hold = 30s;
  cfg.mean_patience = 180s;
  cfg.breakout_probability = 0.05;
  cfg.mean_breakout_after = 60s;
  cfg.answer_delay_min = 1s;
  cfg.answer_delay_max = 6s;
  cfg.no_answer_probability = 0.03;
  cfg.back_after_no_answer = 20s;
  cfg.breaks_per_agent_hour = 0.6;
  cfg.mean_break = 7min;
  cfg.break_retry = 60s;
  cfg.check_core_invariants = true;
  return cfg;
}

TEST_CASE("Mixed traffic: every invariant holds on every event for 8 hours", "[sim]") {
  const auto t0 = std::chrono::steady_clock::now();
  const sim::SimResults r = sim::simulate(mixed_scenario(7));
  const double real = elapsed_since(t0);
  WARN("Mixed traffic, 3 queues, 50 agents, 8 h:\n"
       << r.summary() << format("real time %.2f s", real));
  require_clean(r);

  // The counts add up: every arrival is in exactly one final state.
  std::uint64_t moved = 0;
  std::uint64_t escalated = 0;
  for (const auto& call : r.calls) {
    if (call.queue_entries > 1) ++moved;
    if (call.escalation_step > 0) ++escalated;
  }
  CHECK(r.calls.size() == r.calls_created);
  CHECK(r.count(core::FinalState::kCompleted) + r.count(core::FinalState::kAbandoned) +
            r.count(core::FinalState::kVoicemail) + r.count(core::FinalState::kCallback) +
            r.count(core::FinalState::kHungUp) ==
        r.calls_created);
  CHECK(r.count(core::FinalState::kCancelled) == 0);
  CHECK(r.count(core::FinalState::kUnanswered) == 0);
  CHECK(r.answered + r.abandoned + r.exited == r.measured_calls);

  // The scenario really exercised what it claims to.
  CHECK(r.count(core::FinalState::kCompleted) > 0);
  CHECK(r.count(core::FinalState::kAbandoned) > 0);
  CHECK(r.no_answers > 0);
  CHECK(r.escalations > 0);
  CHECK(escalated > 0);
  CHECK(moved > 0);
  CHECK(r.exits >= moved);
  CHECK(r.breaks_started > 0);
  CHECK(r.breaks_waitlisted + r.breaks_refused > 0);
  CHECK(r.overflow_changes > 0);
  CHECK(r.holds > 0);
  CHECK(r.breakouts > 0);
  CHECK(r.count(core::FinalState::kVoicemail) > 0);
  CHECK(r.count(core::FinalState::kCallback) > 0);
  CHECK(r.core_invariant_checks > 0);
}

// ---- c. Determinism ----

TEST_CASE("The same seed gives the same run", "[sim]") {
  auto scenario = [](std::uint64_t seed) {
    sim::SimConfig cfg = mixed_scenario(seed);
    cfg.duration = 3h;
    cfg.check_core_invariants = false;  // covered above; this test is about repeatability
    return cfg;
  };
  const sim::SimResults first = sim::simulate(scenario(11));
  const sim::SimResults second = sim::simulate(scenario(11));
  const sim::SimResults other = sim::simulate(scenario(12));
  require_clean(first);
  require_clean(second);
  require_clean(other);
  INFO("first:\n" << first.summary() << "second:\n" << second.summary());
  CHECK(sim::same_outcome(first, second));
  CHECK(first.trace_hash == second.trace_hash);
  REQUIRE(first.calls.size() == second.calls.size());
  std::size_t differing = 0;
  std::uint64_t first_differing = 0;
  for (std::size_t i = 0; i < first.calls.size(); ++i) {
    const auto& a = first.calls[i];
    const auto& b = second.calls[i];
    const bool same = a.arrived == b.arrived && a.connected == b.connected &&
                      a.finished == b.finished && a.agent == b.agent &&
                      a.final_state == b.final_state && a.offers == b.offers &&
                      a.last_queue == b.last_queue && a.talk == b.talk && a.hold == b.hold;
    if (!same && differing++ == 0) first_differing = a.id.value;
  }
  INFO("first differing call " << first_differing);
  CHECK(differing == 0);
  // A different seed is a different day (the comparison above is not vacuous).
  CHECK(first.trace_hash != other.trace_hash);
  CHECK_FALSE(sim::same_outcome(first, other));
}

// ---- Reproductions of core issues the simulator found ----
// Regressions: each reproduces a core issue the simulator found (now fixed).

struct Recorder final : core::CoreObserver {
  std::vector<core::CoreEvent> events;
  void on_event(const core::CoreEvent& e) override { events.push_back(e); }
};

// Found by the mixed scenario (about 1.5% of seeds): a caller who rang out at an agent in
// a queue whose RONA policy leaves the agent Ready is offered to that same agent again,
// inside rona_retry, as soon as a max-wait exit moves the call to another queue
// (enqueue_into clears the call's exclusions).
TEST_CASE("A call avoids an agent who let it ring out, also after moving queue", "[core-issue]") {
  core::ManualClock clock(core::TimePoint{1000s});
  core::Xoshiro256 random(1);
  Recorder recorder;
  core::RoutingCore rc(clock, random, &recorder);
  const core::TenantId tenant{1};
  const core::AgentId agent{1};
  core::CoreConfig c;
  c.tenants = {core::TenantConfig{tenant, "t"}};
  core::AgentConfig a;
  a.id = agent;
  a.tenant = tenant;
  a.name = "a1";
  a.extension = "1001";
  c.agents = {a};
  core::QueueConfig qa;
  qa.id = core::QueueId{1};
  qa.tenant = tenant;
  qa.name = "A";
  core::QueueConfig qb = qa;
  qb.id = core::QueueId{2};
  qb.name = "B";
  qb.ring_timeout = 15s;
  qb.rona_policy = core::RonaPolicy::kReady;
  qb.rona_retry = 30s;
  qb.max_wait = 20s;
  qb.on_timeout.kind = core::ExitDestination::Kind::kQueue;
  qb.on_timeout.queue = qa.id;
  c.queues = {qa, qb};
  c.members = {core::QueueMember{qa.id, agent}, core::QueueMember{qb.id, agent}};
  REQUIRE(rc.apply_config(c).is_ok());
  REQUIRE(rc.login(agent, true).is_ok());
  core::CallSpec spec;
  spec.id = core::CallId{1};
  spec.tenant = tenant;
  REQUIRE(rc.enqueue(spec, qb.id).is_ok());           // offered to agent 1 in B
  REQUIRE(rc.offer_ringing(spec.id, agent).is_ok());  // rings
  clock.advance(15s);
  rc.run_due_timers();  // ring timeout: OfferEnded(no-answer), agent Ready
  clock.advance(5s);
  recorder.events.clear();
  rc.run_due_timers();  // B's max wait: CallExited, CallQueued(A) ... and?
  bool reoffered = false;
  for (const auto& e : recorder.events) {
    if (const auto* o = std::get_if<core::CallOffered>(&e))
      reoffered = reoffered || o->agent == agent;
  }
  CHECK_FALSE(reoffered);  // 5 s after the ring-out, rona_retry is 30 s
}

}  // namespace
