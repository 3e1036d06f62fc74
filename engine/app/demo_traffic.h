// DemoTraffic: simulated callers and agents, so `acdd --config config/acdd.yaml` shows
// the engine routing before the SIP adapter exists.
//
// A driver on the core thread's io_context: callers arrive as a Poisson process
// (demo.calls_per_minute, spread over demo.queues by weight) and give up after an
// exponential patience; agents are logged in and made ready at start, answer offers after
// a random ring delay (or, with demo.no_answer_probability, let them ring out), talk for
// an exponential time, occasionally take a break ("break") and make themselves ready
// again after no-answer or manual wrap-up. It uses only the core's public commands and
// reacts to the core's events (CallOffered, OfferEnded, CallConnected, CallFinished,
// AgentStateChanged); every delay is a timer, nothing is polled. Every
// demo.report_interval it logs one line per queue from the latest published snapshot.
//
// Thread-safety: start(), stop_arrivals() and stop() may be called from any thread (they
// submit to the core thread); update_config() and on_core_event() run on the core thread.
// Destroy a DemoTraffic only after its CoreThread has stopped.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/app/config.h"
#include "engine/app/core_listener.h"
#include "engine/app/core_thread.h"
#include "engine/app/timer_set.h"
#include "engine/core/random.h"

namespace acd::app {

class DemoTraffic final : public CoreListener {
 public:
  DemoTraffic(CoreThread& thread, const DaemonConfig& config);
  ~DemoTraffic() override = default;
  DemoTraffic(const DemoTraffic&) = delete;
  DemoTraffic& operator=(const DemoTraffic&) = delete;

  // Registers with the core thread, logs every agent in (ready) and starts arrivals and
  // reports.
  void start();
  // No new callers; calls in the system go on to their end (graceful drain).
  void stop_arrivals();
  // Everything stops: pending actions are dropped and the listener is removed. The
  // future is ready once the core thread no longer calls this object.
  std::future<core::Status> stop();

  // Core thread only, with the core (e.g. in the command that applies a reload): takes
  // the new settings, queues and agents; agents new to the configuration are logged in.
  void update_config(const DaemonConfig& config, core::RoutingCore& core);

  void on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) override;

  // For tests and reports; readable from any thread.
  [[nodiscard]] std::uint64_t calls_created() const { return calls_created_.load(); }
  [[nodiscard]] std::uint64_t calls_finished() const { return calls_finished_.load(); }

 private:
  struct DemoCall {
    core::TenantId tenant;
    core::QueueId queue;
    bool connected = false;
    TimerSet::Token patience = TimerSet::kNone;
    TimerSet::Token talk = TimerSet::kNone;
  };

  void take_settings(const DaemonConfig& config);
  void start_on_core(core::RoutingCore& core);
  void schedule_arrival();
  void arrive();
  void schedule_report();
  void report();
  void forget_call(core::CallId call);
  void schedule_agent_action(core::AgentId agent, core::Duration delay,
                             std::function<void(core::RoutingCore&)> action);
  void on_agent_state(const core::AgentStateChanged& e, const core::RoutingCore& core);

  // Random draws.
  core::Duration exponential(core::Duration mean);
  core::Duration jittered(core::Duration base);  // uniform in [0.5, 1.5] x base
  bool chance(double probability);

  CoreThread& thread_;

  // Core-thread state.
  DemoConfig settings_;
  std::shared_ptr<const NameTable> names_;
  std::vector<DemoQueue> queues_;
  double total_weight_ = 0;
  std::unordered_set<std::uint32_t> manual_wrap_up_queues_;
  std::unordered_set<std::uint32_t> agents_;
  std::vector<core::AgentId> agent_order_;
  std::vector<std::pair<core::TenantId, std::string>> tenants_;
  std::unordered_map<std::uint64_t, DemoCall> calls_;
  std::map<std::pair<std::uint64_t, std::uint32_t>, TimerSet::Token> answers_;  // (call, agent)
  std::unordered_map<std::uint32_t, TimerSet::Token> agent_actions_;
  std::unordered_map<std::uint32_t, core::QueueId> agent_last_queue_;
  core::Xoshiro256 rng_;
  TimerSet timers_;
  TimerSet::Token arrival_timer_ = TimerSet::kNone;
  bool running_ = false;
  bool arrivals_on_ = false;

  std::atomic<std::uint64_t> calls_created_{0};
  std::atomic<std::uint64_t> calls_finished_{0};
};

}  // namespace acd::app
