// Simulator: a discrete-event simulation of call-center traffic around one RoutingCore,
// in simulated time.
//
// It owns a ManualClock, the random sources (one for the simulated world, one injected
// into the core, both seeded from SimConfig::seed), an agenda of external events
// (arrivals, caller patience and breakouts, phones ringing and being answered, holds,
// hang-ups after the talk time, agents' breaks and returns) and the core. The main loop
// takes the earlier of the next external event and core.next_deadline(), sets the clock
// and runs it (core timers win ties). The simulator is the core's observer: it never
// calls the core from on_event, it schedules zero-delay external events instead.
//
// On every core event it checks what must always hold (an agent never holds two calls,
// every call gets exactly one CallFinished and nothing after it, no events for unknown
// calls, AgentStateChanged events chain along existing transitions, offers respect queue
// membership, skills, tiers and rona_retry, exits, final states and their causes match what
// happened, time stamps are the clock's). After every step (one external event or one
// run_due_timers(); the core may not be called from inside on_event) it compares the
// agents and calls it touched with the core's own view and, optionally, runs
// core.check_invariants(). Violations are recorded with the simulated time, never thrown.
//
// Thread-safety: none. A Simulator and its core run on the calling thread; independent
// Simulators may run on different threads.
#pragma once

#include <memory>

#include "engine/sim/sim_config.h"
#include "engine/sim/sim_results.h"

namespace acd::sim {

class Simulator {
 public:
  explicit Simulator(SimConfig config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Runs the whole simulation. Call once.
  SimResults run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience: Simulator(config).run().
SimResults simulate(SimConfig config);

}  // namespace acd::sim
