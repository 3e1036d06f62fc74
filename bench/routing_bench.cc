// routing_bench: latency, throughput and memory of the routing core at call-center scale.
//
//   routing_bench --benchmark_format=json
//   ACD_BENCH_SCALE=small routing_bench --benchmark_min_time=0.01   (the ctest smoke test)
//
// Benchmarks (all single-threaded, on the population of bench/scenario.h: 10,000 agents,
// 1,000 queues, 200 skills, 5,000 waiting calls):
//   BM_RoutingDecision/<strategy>  a new call enters a queue with Ready eligible agents;
//                                  measured: enqueue(), i.e. the decision and the offer.
//   BM_RoutingDecision/rules       the same with every queue routed by rule-based targets
//                                  (ScenarioOptions::rules, bench/scenario.h): each Ready
//                                  member is evaluated against the step's target, the
//                                  admitted ones ranked by ORDER BY; ties by longest idle.
//   BM_AgentReadyToDispatch        a NotReady agent whose queues hold waiting calls becomes
//                                  Ready; measured: set_ready(), i.e. choosing the call and
//                                  offering it.
//   BM_AgentReadyToDispatch/rules  the same with rule-based targets: the waiting calls'
//                                  targets are evaluated against the agent. The agent is
//                                  sure to have the skills but not to speak a waiting
//                                  caller's language: set_ready() without an offer is
//                                  counted in no_offer and left out of the percentiles.
//   BM_AgentStateEvents            agents cycle through Ready -> Reserved -> Ringing ->
//                                  Talking -> WrapUp -> Ready and Ready <-> NotReady;
//                                  items_per_second = AgentStateChanged events per second.
//   BM_MemoryPerAgent              live heap bytes per configured, logged-in agent.
//   BM_MemoryPerWaitingCall        live heap bytes per waiting call.
//
// Each latency benchmark brackets only the measured command with the steady clock
// (UseManualTime) and reports percentiles over every iteration: p50_ns, p90_ns, p99_ns,
// p999_ns, max_ns, mean_ns. Everything that restores the state (answering and hanging up
// the call, putting the agent back) happens outside the measured window, so every
// iteration sees the same population. The manual clock moves by about a millisecond per
// iteration so idle-time orderings change as they would in production. The population is
// built once per benchmark, not per iteration, and reused across the repetitions Google
// Benchmark makes to size the iteration count.
//
// Other counters: allocs_per_op (operator new calls inside the measured window),
// heap_growth_per_op_bytes (live heap growth across the loop, per iteration),
// timers_fired_per_op (timers run_due_timers fired outside the windows, stale ones
// included), timer_overhead_ns (cost of the now_ns() pair included in every sample),
// waiting_calls / agents / queues / skills (the population, read back from the core),
// ready_members_per_queue (BM_RoutingDecision: Ready members of a serving queue, on
// average, i.e. the candidates a rules-routed decision evaluates).
// A benchmark that fails reports an error and the program exits with status 1.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "bench/alloc_counter.h"
#include "bench/percentiles.h"
#include "bench/scenario.h"

namespace acd::bench {
namespace {

using namespace std::chrono_literals;
using core::AgentId;
using core::AgentState;
using core::CallId;
using core::QueueId;
using core::Strategy;

Scale g_scale;
bool g_failed = false;  // some benchmark reported an error: the program exits with 1

void fail(benchmark::State& state, const std::exception& e) {
  g_failed = true;
  state.SkipWithError(e.what());
}

std::unique_ptr<Scenario> g_scenario;
std::string g_scenario_key;

// The shared population for a set of options, built when the options change.
Scenario& scenario_for(const ScenarioOptions& options) {
  const std::string key =
      std::string(core::to_string(options.strategy)) + (options.wrap_up ? "/wrap-up" : "") +
      (options.waiting_calls ? "/waiting" : "") + (options.rules ? "/rules" : "");
  if (!g_scenario || g_scenario_key != key) {
    g_scenario.reset();
    g_scenario_key.clear();
    g_scenario = std::make_unique<Scenario>(g_scale, options);
    g_scenario_key = key;
  }
  return *g_scenario;
}

void report_population(benchmark::State& state, const Scenario& sc) {
  state.counters["agents"] = static_cast<double>(sc.population.config.agents.size());
  state.counters["queues"] = static_cast<double>(sc.population.config.queues.size());
  state.counters["skills"] = static_cast<double>(sc.population.config.skills.size());
  state.counters["waiting_calls"] = static_cast<double>(sc.waiting_calls());
  state.counters["setup_ms"] = static_cast<double>(sc.setup_ns) / 1e6;
  state.counters["timer_overhead_ns"] = static_cast<double>(timer_overhead_ns());
}

// Live heap growth over the loop, per iteration. The loop restores the population every
// iteration (and the sample buffers are reserved beforehand), so anything above zero is
// state the core keeps per operation, e.g. cancelled timers still in its heap.
// Also: timers the core fired per iteration (outside the measured windows), most of them
// stale entries of calls that ended long ago.
void report_heap_growth(benchmark::State& state, const Scenario& sc, std::int64_t heap_before,
                        std::uint64_t timers_before) {
  const auto n = static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations()));
  state.counters["heap_growth_per_op_bytes"] =
      static_cast<double>(live_heap_bytes() - heap_before) / n;
  state.counters["timers_fired_per_op"] = static_cast<double>(sc.timers_fired - timers_before) / n;
}

core::Duration jitter(core::Random& r, std::int64_t lo_us, std::int64_t hi_us) {
  return std::chrono::microseconds(
      lo_us + static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(hi_us - lo_us + 1))));
}

// ---- 1. Routing decision: a new call, Ready eligible agents ----

void routing_decision(benchmark::State& state, const ScenarioOptions& options) {
  try {
    Scenario& sc = scenario_for(options);
    std::vector<std::int64_t> samples;
    samples.reserve(static_cast<std::size_t>(state.max_iterations));
    std::uint64_t allocations = 0;
    std::size_t next_queue = 0;
    const std::int64_t heap_before = live_heap_bytes();
    const std::uint64_t timers_before = sc.timers_fired;

    for (auto _ : state) {
      sc.advance(jitter(sc.rng, 200, 800));
      const QueueId queue = sc.serving_queues[next_queue++ % sc.serving_queues.size()];
      core::CallSpec spec = sc.make_call(queue);
      const CallId call = spec.id;
      const std::uint64_t offers = sc.observer.offers();
      const std::uint64_t allocs = allocation_count();

      const std::int64_t t0 = now_ns();
      core::Status status = sc.core->enqueue(std::move(spec), queue);
      const std::int64_t t1 = now_ns();

      allocations += allocation_count() - allocs;
      samples.push_back(t1 - t0);
      state.SetIterationTime(static_cast<double>(t1 - t0) * 1e-9);
      expect_ok(status, "enqueue");
      if (sc.observer.offers() != offers + 1 || sc.observer.last_offer().call != call)
        throw ScenarioError("the new call was not offered at once");
      // Restore: the agent answers, talks briefly, hangs up and is Ready again.
      sc.answer_and_release(call, sc.observer.last_offer().agent, jitter(sc.rng, 200, 800));
    }
    report_heap_growth(state, sc, heap_before, timers_before);
    report_latency(state, samples);
    state.counters["allocs_per_op"] =
        static_cast<double>(allocations) / static_cast<double>(state.iterations());
    state.counters["serving_queues"] = static_cast<double>(sc.serving_queues.size());
    // Ready members of a serving queue, on average: what a rules-routed decision evaluates.
    double ready = 0;
    for (const auto& q : sc.core->snapshot().queues)
      if (std::find(sc.serving_queues.begin(), sc.serving_queues.end(), q.id) !=
          sc.serving_queues.end())
        ready += q.members_ready;
    state.counters["ready_members_per_queue"] =
        ready / static_cast<double>(sc.serving_queues.size());
    report_population(state, sc);
  } catch (const std::exception& e) {
    fail(state, e);
  }
}

// ---- 2. Agent ready -> dispatch of a waiting call ----

void agent_ready_to_dispatch(benchmark::State& state, const ScenarioOptions& options) {
  try {
    Scenario& sc = scenario_for(options);
    if (sc.idle_saturated_agents.empty()) throw ScenarioError("no NotReady agent to ready");
    std::vector<std::int64_t> samples;
    samples.reserve(static_cast<std::size_t>(state.max_iterations));
    std::uint64_t allocations = 0;
    std::uint64_t no_offer = 0;
    std::size_t next_agent = 0;
    const std::int64_t heap_before = live_heap_bytes();
    const std::uint64_t timers_before = sc.timers_fired;

    for (auto _ : state) {
      sc.advance(jitter(sc.rng, 200, 800));
      const AgentId agent =
          sc.idle_saturated_agents[next_agent++ % sc.idle_saturated_agents.size()];
      const std::uint64_t offers = sc.observer.offers();
      const std::uint64_t allocs = allocation_count();

      const std::int64_t t0 = now_ns();
      core::Status status = sc.core->set_ready(agent);
      const std::int64_t t1 = now_ns();

      allocations += allocation_count() - allocs;
      state.SetIterationTime(static_cast<double>(t1 - t0) * 1e-9);
      expect_ok(status, "set_ready");
      if (sc.observer.offers() == offers) {
        // Not a dispatch (with skills only, this should not happen: the agent is sure to be
        // eligible); excluded from the percentiles, counted in no_offer.
        ++no_offer;
        expect_ok(sc.core->set_not_ready(agent, "break"), "set_not_ready (no offer)");
        continue;
      }
      samples.push_back(t1 - t0);
      const core::CallOffered offer = sc.observer.last_offer();
      if (offer.agent != agent) throw ScenarioError("set_ready offered another agent");
      // Restore: the agent answers; a supervisor puts them NotReady, which takes effect when
      // the call ends; the call ends; a fresh call takes its place in the same queue.
      expect_ok(sc.core->offer_ringing(offer.call, agent), "offer_ringing");
      expect_ok(sc.core->offer_answered(offer.call, agent), "offer_answered");
      expect_ok(sc.core->set_not_ready(agent, "break", core::Cause::kSupervisor),
                "set_not_ready (supervisor, on call)");
      sc.advance(jitter(sc.rng, 200, 800));
      expect_ok(sc.core->hang_up(offer.call), "hang_up");
      if (sc.state_of(agent) != AgentState::kNotReady)
        throw ScenarioError(std::string("agent not NotReady after the call but ") +
                            core::to_string(sc.state_of(agent)));
      const std::uint64_t offers_before_refill = sc.observer.offers();
      expect_ok(sc.core->enqueue(sc.make_call(offer.queue), offer.queue), "enqueue (refill)");
      if (sc.observer.offers() != offers_before_refill)
        throw ScenarioError("the refill call was offered");
    }
    report_heap_growth(state, sc, heap_before, timers_before);
    report_latency(state, samples);
    state.counters["allocs_per_op"] =
        static_cast<double>(allocations) / static_cast<double>(state.iterations());
    state.counters["no_offer"] = static_cast<double>(no_offer);
    state.counters["candidate_agents"] = static_cast<double>(sc.idle_saturated_agents.size());
    report_population(state, sc);
  } catch (const std::exception& e) {
    fail(state, e);
  }
}

// ---- 3. Agent-state events per second ----

// A pipeline of agents and calls in every phase at once. One benchmark iteration is one
// round of seven commands, each taking the oldest item of its phase one step further:
//   enqueue (an agent Ready -> Reserved), offer_ringing (Reserved -> Ringing),
//   offer_answered (Ringing -> Talking), hang_up (Talking -> WrapUp),
//   end_wrap_up (WrapUp -> Ready), set_not_ready (Ready -> NotReady),
//   set_ready (NotReady -> Ready).
// Each command is timed alone; the iteration time is their sum, and the items are the
// AgentStateChanged events emitted inside the timed windows.
enum Op { kEnqueue, kRinging, kAnswer, kHangUp, kEndWrapUp, kNotReady, kReady, kOpCount };
constexpr const char* kOpNames[kOpCount] = {"enqueue",     "ringing",   "answer", "hang_up",
                                            "end_wrap_up", "not_ready", "ready"};

class StatePipeline {
 public:
  StatePipeline(Scenario& sc, benchmark::State& state) : sc_(sc), state_(state) {
    sc_.observer.keep_offers(1 << 16);
    const std::size_t lag =
        std::max<std::size_t>(4, std::min<std::size_t>(300, sc_.serving_agents.size() / 20));
    for (std::size_t i = 0; i < 4 * lag; ++i) step(kEnqueue, false);
    for (std::size_t i = 0; i < 3 * lag; ++i) step(kRinging, false);
    for (std::size_t i = 0; i < 2 * lag; ++i) step(kAnswer, false);
    for (std::size_t i = 0; i < lag; ++i) step(kHangUp, false);
    for (std::size_t i = 0; i < lag; ++i) step(kNotReady, false);
    for (auto& s : samples_) s.reserve(static_cast<std::size_t>(state.max_iterations));
    all_samples_.reserve(static_cast<std::size_t>(state.max_iterations) * kOpCount);
    drained_.reserve(64);
  }
  ~StatePipeline() { sc_.observer.keep_offers(0); }

  // One command of kind `op`; returns its duration (0 if there was nothing to do).
  std::int64_t step(Op op, bool measure) {
    sc_.advance(jitter(sc_.rng, 500, 1500));  // ~140 calls a second: timers reach steady state
    std::int64_t t0 = 0;
    std::int64_t t1 = 0;
    std::uint64_t events = 0;
    auto timed = [&](auto&& command, const char* what) {
      const std::uint64_t e0 = sc_.observer.agent_state_changes();
      t0 = now_ns();
      core::Status status = command();
      t1 = now_ns();
      events = sc_.observer.agent_state_changes() - e0;
      expect_ok(status, what);
    };
    switch (op) {
      case kEnqueue: {
        const QueueId q = sc_.serving_queues[sc_.rng.below(sc_.serving_queues.size())];
        core::CallSpec spec = sc_.make_call(q);
        timed([&] { return sc_.core->enqueue(std::move(spec), q); }, "enqueue");
        break;
      }
      case kRinging: {
        if (reserved_.empty()) return 0;
        const core::CallOffered o = reserved_.front();
        reserved_.pop_front();
        timed([&] { return sc_.core->offer_ringing(o.call, o.agent); }, "offer_ringing");
        ringing_.push_back(o);
        break;
      }
      case kAnswer: {
        if (ringing_.empty()) return 0;
        const core::CallOffered o = ringing_.front();
        ringing_.pop_front();
        timed([&] { return sc_.core->offer_answered(o.call, o.agent); }, "offer_answered");
        talking_.push_back(o);
        break;
      }
      case kHangUp: {
        if (talking_.empty()) return 0;
        const core::CallOffered o = talking_.front();
        talking_.pop_front();
        timed([&] { return sc_.core->hang_up(o.call); }, "hang_up");
        wrap_up_.push_back(o.agent);
        break;
      }
      case kEndWrapUp: {
        AgentId a;
        do {  // skip agents whose wrap-up already ended on its timer
          if (wrap_up_.empty()) return 0;
          a = wrap_up_.front();
          wrap_up_.pop_front();
        } while (sc_.state_of(a) != AgentState::kWrapUp);
        timed([&] { return sc_.core->end_wrap_up(a); }, "end_wrap_up");
        break;
      }
      case kNotReady: {
        AgentId a;
        int tries = 0;
        do {
          if (++tries > 64) return 0;
          a = sc_.serving_agents[sc_.rng.below(sc_.serving_agents.size())];
        } while (sc_.state_of(a) != AgentState::kReady);
        static constexpr const char* kReasons[] = {"break", "lunch", "training", "meeting"};
        const char* reason = kReasons[sc_.rng.below(4)];
        timed([&] { return sc_.core->set_not_ready(a, reason); }, "set_not_ready");
        not_ready_.push_back(a);
        break;
      }
      case kReady: {
        if (not_ready_.empty()) return 0;
        const AgentId a = not_ready_.front();
        not_ready_.pop_front();
        timed([&] { return sc_.core->set_ready(a); }, "set_ready");
        break;
      }
      case kOpCount: return 0;
    }
    // Offers made by this command (or by the timers since) join the Reserved phase.
    drained_.clear();
    if (!sc_.observer.drain_offers(drained_)) throw ScenarioError("offer ring overflowed");
    for (const auto& o : drained_) reserved_.push_back(o);
    if (measure) {
      samples_[op].push_back(t1 - t0);
      all_samples_.push_back(t1 - t0);
      events_ += events;
      ++ops_;
    }
    return t1 - t0;
  }

  void report() {
    for (int op = 0; op < kOpCount; ++op)
      report_latency(state_, samples_[op], std::string(kOpNames[op]) + "_");
    report_latency(state_, all_samples_);  // per command (~ one event each)
    state_.counters["events"] = static_cast<double>(events_);
    state_.counters["events_per_command"] =
        static_cast<double>(events_) / static_cast<double>(ops_ == 0 ? 1 : ops_);
    state_.counters["in_flight_calls"] =
        static_cast<double>(reserved_.size() + ringing_.size() + talking_.size());
  }

  [[nodiscard]] std::uint64_t events() const { return events_; }

  // Ends every call and break the pipeline holds, so that the next run (Google Benchmark
  // calls the function again with more iterations) starts from the same population.
  void drain() {
    auto release = [&](AgentId a) {  // the agent may have been offered a call again: fine
      const AgentState st = sc_.state_of(a);
      if (st == AgentState::kWrapUp) expect_ok(sc_.core->end_wrap_up(a), "end_wrap_up (drain)");
      if (st == AgentState::kNotReady) expect_ok(sc_.core->set_ready(a), "set_ready (drain)");
    };
    for (;;) {
      drained_.clear();
      if (!sc_.observer.drain_offers(drained_)) throw ScenarioError("offer ring overflowed");
      for (const auto& o : drained_) reserved_.push_back(o);
      if (!reserved_.empty() || !ringing_.empty()) {
        auto& fifo = reserved_.empty() ? ringing_ : reserved_;
        const core::CallOffered o = fifo.front();
        fifo.pop_front();
        expect_ok(sc_.core->hang_up(o.call), "hang_up (drain, offered)");  // an abandon
        release(o.agent);
      } else if (!talking_.empty()) {
        const core::CallOffered o = talking_.front();
        talking_.pop_front();
        expect_ok(sc_.core->hang_up(o.call), "hang_up (drain)");
        release(o.agent);
      } else if (!wrap_up_.empty()) {
        const AgentId a = wrap_up_.front();
        wrap_up_.pop_front();
        release(a);
      } else if (!not_ready_.empty()) {
        const AgentId a = not_ready_.front();
        not_ready_.pop_front();
        release(a);
      } else {
        break;
      }
    }
  }

 private:
  Scenario& sc_;
  benchmark::State& state_;
  std::deque<core::CallOffered> reserved_, ringing_, talking_;
  std::deque<AgentId> wrap_up_, not_ready_;
  std::vector<core::CallOffered> drained_;
  std::vector<std::int64_t> samples_[kOpCount];
  std::vector<std::int64_t> all_samples_;
  std::uint64_t events_ = 0;
  std::uint64_t ops_ = 0;
};

void agent_state_events(benchmark::State& state) {
  try {
    ScenarioOptions options;
    options.wrap_up = true;
    Scenario& sc = scenario_for(options);
    StatePipeline pipeline(sc, state);
    const std::int64_t heap_before = live_heap_bytes();
    const std::uint64_t timers_before = sc.timers_fired;
    for (auto _ : state) {
      std::int64_t ns = 0;
      for (int op = 0; op < kOpCount; ++op) ns += pipeline.step(static_cast<Op>(op), true);
      state.SetIterationTime(static_cast<double>(ns) * 1e-9);
    }
    report_heap_growth(state, sc, heap_before, timers_before);
    state.SetItemsProcessed(static_cast<std::int64_t>(pipeline.events()));
    pipeline.report();
    pipeline.drain();
    report_population(state, sc);
  } catch (const std::exception& e) {
    fail(state, e);
  }
}

// ---- 4. Memory ----

void memory_per_agent(benchmark::State& state) {
  try {
    g_scenario.reset();  // nothing else alive: the figures are the core's alone
    const Population pop = generate_population(g_scale, ScenarioOptions{});
    core::CoreConfig no_agents = pop.config;
    no_agents.agents.clear();
    no_agents.members.clear();
    std::size_t skills = 0;
    for (const auto& a : pop.config.agents) skills += a.skills.size();
    const double n = static_cast<double>(pop.config.agents.size());

    for (auto _ : state) {
      core::ManualClock clock;
      core::Xoshiro256 random(1);
      CountingObserver observer;
      auto core = std::make_unique<core::RoutingCore>(clock, random, &observer);
      expect_ok(core->apply_config(no_agents), "apply_config (no agents)");
      const std::int64_t before = live_heap_bytes();
      const std::int64_t t0 = now_ns();
      expect_ok(core->apply_config(pop.config), "apply_config (agents)");
      const std::int64_t configured = live_heap_bytes();
      for (const auto& a : pop.config.agents) {
        expect_ok(core->login(a.id, !pop.agent_saturated[a.id.value]), "login");
        clock.advance(1ms);
      }
      const std::int64_t t1 = now_ns();
      const std::int64_t logged_in = live_heap_bytes();
      state.SetIterationTime(static_cast<double>(t1 - t0) * 1e-9);
      state.counters["bytes_per_agent"] = static_cast<double>(logged_in - before) / n;
      state.counters["bytes_per_agent_configured"] = static_cast<double>(configured - before) / n;
      state.counters["bytes_per_agent_login"] = static_cast<double>(logged_in - configured) / n;
      state.counters["memberships_per_agent"] = static_cast<double>(pop.config.members.size()) / n;
      state.counters["skills_per_agent"] = static_cast<double>(skills) / n;
      state.counters["agents"] = n;
      state.counters["core_total_bytes"] = static_cast<double>(logged_in - before);
    }
  } catch (const std::exception& e) {
    fail(state, e);
  }
}

void memory_per_waiting_call(benchmark::State& state) {
  try {
    g_scenario.reset();
    ScenarioOptions options;
    options.waiting_calls = false;  // all saturated agents NotReady, nothing waiting yet
    for (auto _ : state) {
      auto sc = std::make_unique<Scenario>(g_scale, options);
      const auto n = static_cast<std::size_t>(g_scale.waiting_calls);
      std::vector<core::CallSpec> specs;
      std::vector<QueueId> queues;
      specs.reserve(n);
      queues.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        specs.push_back(sc->make_call());
        queues.push_back(sc->saturated_queues[sc->rng.below(sc->saturated_queues.size())]);
      }
      const std::uint64_t offers = sc->observer.offers();
      const std::int64_t before = live_heap_bytes();
      const std::int64_t t0 = now_ns();
      for (std::size_t i = 0; i < n; ++i) {
        expect_ok(sc->core->enqueue(std::move(specs[i]), queues[i]), "enqueue");
        sc->clock.advance(2ms);
      }
      const std::int64_t t1 = now_ns();
      const std::int64_t after = live_heap_bytes();
      if (sc->observer.offers() != offers) throw ScenarioError("a waiting call was offered");
      state.SetIterationTime(static_cast<double>(t1 - t0) * 1e-9);
      state.counters["bytes_per_waiting_call"] =
          static_cast<double>(after - before) / static_cast<double>(n);
      state.counters["waiting_calls"] = static_cast<double>(sc->waiting_calls());
      state.counters["agents"] = static_cast<double>(sc->population.config.agents.size());
    }
  } catch (const std::exception& e) {
    fail(state, e);
  }
}

void register_benchmarks() {
  struct Named {
    const char* name;
    Strategy strategy;
  };
  const Named strategies[] = {
      {"longest_idle", Strategy::kLongestIdle},
      {"best_proficiency", Strategy::kBestProficiency},
      {"round_robin", Strategy::kRoundRobin},
      {"fewest_calls", Strategy::kFewestCalls},
      {"least_talk_time", Strategy::kLeastTalkTime},
      {"top_down", Strategy::kTopDown},
      {"random", Strategy::kRandom},
      {"weighted_random", Strategy::kWeightedRandom},
  };
  for (const auto& s : strategies) {
    ScenarioOptions options;
    options.strategy = s.strategy;
    benchmark::RegisterBenchmark(
        (std::string("BM_RoutingDecision/") + s.name).c_str(),
        [options](benchmark::State& state) { routing_decision(state, options); })
        ->UseManualTime();
  }
  ScenarioOptions rules;
  rules.rules = true;
  benchmark::RegisterBenchmark("BM_RoutingDecision/rules", [rules](benchmark::State& state) {
    routing_decision(state, rules);
  })->UseManualTime();
  // The rules population first: the scenario is built once for both of its benchmarks.
  benchmark::RegisterBenchmark("BM_AgentReadyToDispatch/rules", [rules](benchmark::State& state) {
    agent_ready_to_dispatch(state, rules);
  })->UseManualTime();
  benchmark::RegisterBenchmark("BM_AgentReadyToDispatch", [](benchmark::State& state) {
    agent_ready_to_dispatch(state, ScenarioOptions{});
  })->UseManualTime();
  benchmark::RegisterBenchmark("BM_AgentStateEvents", agent_state_events)->UseManualTime();
  benchmark::RegisterBenchmark("BM_MemoryPerAgent", memory_per_agent)
      ->UseManualTime()
      ->Iterations(1);
  benchmark::RegisterBenchmark("BM_MemoryPerWaitingCall", memory_per_waiting_call)
      ->UseManualTime()
      ->Iterations(1);
}

}  // namespace
}  // namespace acd::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  acd::bench::g_scale = acd::bench::scale_from_env();
  benchmark::AddCustomContext("acd_scale", acd::bench::g_scale.name);
  acd::bench::register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  acd::bench::g_scenario.reset();
  return acd::bench::g_failed ? 1 : 0;
}
