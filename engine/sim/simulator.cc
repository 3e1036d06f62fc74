// Implementation of the simulator. Layout:
//   1. tracked state (calls, agents, queues) and the external events
//   2. the main loop
//   3. external events: the simulated callers and agents act on the core
//   4. core events: bookkeeping, per-event checks, zero-delay reactions
//   5. per-step checks against the core's own view, and the final accounting
#include "engine/sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "engine/core/routing_core.h"
#include "engine/sim/event_list.h"

namespace acd::sim {

using core::AgentId;
using core::AgentState;
using core::CallId;
using core::Duration;
using core::FinalState;
using core::QueueId;
using core::Status;
using core::TimePoint;

namespace {

// ---- 1. Tracked state ----

enum class EventKind : std::uint8_t {
  kArrival,       // index: arrival process
  kPatience,      // call: the caller hangs up unless answered by now
  kRing,          // call, index: agent, token: offer — the phone starts ringing
  kAnswer,        // call, index: agent, token: offer — the agent picks up
  kHangUp,        // call: the conversation ends
  kAgentNoticed,  // index: agent, token: epoch — react to NotReady / LoggedOut
  kAgentBack,     // index: agent, token: epoch — set_ready (or login) after a not-ready
  kBreakEnd,      // index: agent, token: epoch — back from a break
  kEndWrapUp,     // index: agent, token: epoch — manual wrap-up done
  kBreakRequest,  // index: agent — the agent asks for a break
  kHold,          // call — the agent puts the caller on hold
  kRetrieve,      // call — and takes them back
  kBreakout       // call — the caller picks a breakout option
};

struct SimEvent {
  EventKind kind;
  std::uint32_t index = 0;
  std::uint64_t call = 0;  // CallId value
  std::uint64_t token = 0;
};

enum class Phase : std::uint8_t {
  kNew,        // enqueue issued, no event yet
  kWaiting,    // in a queue, no live offer
  kOffering,   // at least one live offer
  kConnected,  // answered
  kMoving,     // exited to another queue, CallQueued expected
  kFinished,   // CallFinished seen
  kRefused     // enqueue failed
};

const char* to_string(Phase p) {
  switch (p) {
    case Phase::kNew: return "new";
    case Phase::kWaiting: return "waiting";
    case Phase::kOffering: return "offering";
    case Phase::kConnected: return "connected";
    case Phase::kMoving: return "moving";
    case Phase::kFinished: return "finished";
    case Phase::kRefused: return "refused";
  }
  return "?";
}

struct LiveOffer {
  AgentId agent;
  std::uint64_t token = 0;
};

struct CallTrack {
  CallRecord rec;
  Phase phase = Phase::kNew;
  TimePoint queued_at{};  // entered its current queue
  int step = 0;           // escalation step in force in the current queue
  std::vector<core::SkillRequirement> extra_skills;
  std::vector<LiveOffer> offers;
  std::vector<std::pair<AgentId, TimePoint>> no_answered;  // RONA by agent, when
  bool held = false;
  TimePoint held_since{};
  bool breakout_requested = false;  // the simulator issued leave_queue()
  bool caller_hung_up = false;      // the simulator issued hang_up()
  bool exited = false;
  core::ExitDestination exit_to;
  bool dirty = false;
};

struct AgentTrack {
  AgentId id;
  std::vector<core::AgentSkill> skills;
  AgentState state = AgentState::kLoggedOut;
  core::ReasonId reason;
  std::uint64_t epoch = 0;  // bumped on every AgentStateChanged
  TimePoint since{};
  CallId call;                    // offered to or connected to this agent
  std::uint64_t offer_token = 0;  // the live offer (when !connected)
  bool connected = false;
  std::uint64_t last_call = 0;  // the last call answered (wrap-up attribution)
  bool break_waitlisted = false;
  std::array<Duration, core::kAgentStateCount> time_in{};  // inside the measuring window
  bool dirty = false;
};

struct QueueTrack {
  core::QueueConfig cfg;
  std::unordered_map<std::uint32_t, int> member_tier;  // agent id -> tier
  int overflow_tier = 1;
};

int skill_level(const AgentTrack& a, core::SkillId skill) {
  for (const auto& s : a.skills) {
    if (s.skill == skill) return s.level;
  }
  return 0;
}

Duration from_seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

bool same_destination(const core::ExitDestination& a, const core::ExitDestination& b) {
  return a.kind == b.kind && (a.kind != core::ExitDestination::Kind::kQueue || a.queue == b.queue);
}

std::string id_text(std::uint64_t v) {
  return std::to_string(v);
}

// One line of text for a core event, for traces.
std::string describe(const core::CoreEvent& event) {
  struct Describe {
    std::string operator()(const core::AgentStateChanged& e) const {
      return "AgentStateChanged agent " + id_text(e.agent.value) + " " + core::to_string(e.from) +
             " -> " + core::to_string(e.to) + " reason " + id_text(e.reason.value) + " cause " +
             core::to_string(e.cause) + " call " + id_text(e.call.value);
    }
    std::string operator()(const core::CallQueued& e) const {
      return "CallQueued call " + id_text(e.call.value) + " queue " + id_text(e.queue.value);
    }
    std::string operator()(const core::CallOffered& e) const {
      return "CallOffered call " + id_text(e.call.value) + " queue " + id_text(e.queue.value) +
             " agent " + id_text(e.agent.value);
    }
    std::string operator()(const core::OfferEnded& e) const {
      return "OfferEnded call " + id_text(e.call.value) + " agent " + id_text(e.agent.value) + " " +
             core::to_string(e.reason);
    }
    std::string operator()(const core::CallConnected& e) const {
      return "CallConnected call " + id_text(e.call.value) + " queue " + id_text(e.queue.value) +
             " agent " + id_text(e.agent.value) + " waited " +
             std::to_string(core::to_seconds(e.waited)) + " s";
    }
    std::string operator()(const core::CallEscalated& e) const {
      return "CallEscalated call " + id_text(e.call.value) + " queue " + id_text(e.queue.value) +
             " step " + std::to_string(e.step);
    }
    std::string operator()(const core::CallExited& e) const {
      return "CallExited call " + id_text(e.call.value) + " queue " + id_text(e.queue.value) + " " +
             core::to_string(e.reason) + " to " + core::to_string(e.destination.kind) + " " +
             id_text(e.destination.queue.value);
    }
    std::string operator()(const core::CallFinished& e) const {
      return "CallFinished call " + id_text(e.call.value) + " queue " + id_text(e.queue.value) +
             " " + core::to_string(e.state) + " agent " + id_text(e.agent.value) + " " +
             core::to_string(e.cause);
    }
    std::string operator()(const core::OverflowLevelChanged& e) const {
      return "OverflowLevelChanged queue " + id_text(e.queue.value) + " " +
             std::to_string(e.from_tier) + " -> " + std::to_string(e.to_tier);
    }
    std::string operator()(const core::SupervisorAlert& e) const {
      return "SupervisorAlert " + std::string(core::to_string(e.kind)) + " agent " +
             id_text(e.agent.value);
    }
    std::string operator()(const core::BreakWaitlisted& e) const {
      return "BreakWaitlisted agent " + id_text(e.agent.value) + " position " +
             std::to_string(e.position);
    }
    std::string operator()(const core::CallTransferred& e) const {
      return "CallTransferred(" + std::string(core::to_string(e.kind)) + ") call " +
             id_text(e.call.value) + " from agent " + id_text(e.from_agent.value) + " to queue " +
             id_text(e.to_queue.value) + " agent " + id_text(e.to_agent.value);
    }
    // Tasks (the simulation places none).
    std::string operator()(const core::TaskQueued& e) const {
      return "TaskQueued task " + id_text(e.task.value);
    }
    std::string operator()(const core::TaskOffered& e) const {
      return "TaskOffered task " + id_text(e.task.value);
    }
    std::string operator()(const core::TaskOfferEnded& e) const {
      return "TaskOfferEnded task " + id_text(e.task.value);
    }
    std::string operator()(const core::TaskAccepted& e) const {
      return "TaskAccepted task " + id_text(e.task.value);
    }
    std::string operator()(const core::TaskTransferred& e) const {
      return "TaskTransferred task " + id_text(e.task.value);
    }
    std::string operator()(const core::TaskFinished& e) const {
      return "TaskFinished task " + id_text(e.task.value);
    }
    std::string operator()(const core::CallEndedBeforeQueue& e) const {
      return "CallEndedBeforeQueue call " + id_text(e.call.value);
    }
  };
  return std::visit(Describe{}, event);
}

// The call and agent an event concerns (invalid ids when none).
std::pair<CallId, AgentId> subjects(const core::CoreEvent& event) {
  struct Subjects {
    std::pair<CallId, AgentId> operator()(const core::AgentStateChanged& e) const {
      return {e.call, e.agent};
    }
    std::pair<CallId, AgentId> operator()(const core::CallQueued& e) const { return {e.call, {}}; }
    std::pair<CallId, AgentId> operator()(const core::CallOffered& e) const {
      return {e.call, e.agent};
    }
    std::pair<CallId, AgentId> operator()(const core::OfferEnded& e) const {
      return {e.call, e.agent};
    }
    std::pair<CallId, AgentId> operator()(const core::CallConnected& e) const {
      return {e.call, e.agent};
    }
    std::pair<CallId, AgentId> operator()(const core::CallEscalated& e) const {
      return {e.call, {}};
    }
    std::pair<CallId, AgentId> operator()(const core::CallExited& e) const { return {e.call, {}}; }
    std::pair<CallId, AgentId> operator()(const core::CallFinished& e) const {
      return {e.call, e.agent};
    }
    std::pair<CallId, AgentId> operator()(const core::OverflowLevelChanged&) const { return {}; }
    std::pair<CallId, AgentId> operator()(const core::SupervisorAlert& e) const {
      return {{}, e.agent};
    }
    std::pair<CallId, AgentId> operator()(const core::BreakWaitlisted& e) const {
      return {{}, e.agent};
    }
    std::pair<CallId, AgentId> operator()(const core::CallTransferred& e) const {
      return {e.call, e.from_agent};
    }
    std::pair<CallId, AgentId> operator()(const core::TaskQueued&) const { return {}; }
    std::pair<CallId, AgentId> operator()(const core::TaskOffered&) const { return {}; }
    std::pair<CallId, AgentId> operator()(const core::TaskOfferEnded&) const { return {}; }
    std::pair<CallId, AgentId> operator()(const core::TaskAccepted&) const { return {}; }
    std::pair<CallId, AgentId> operator()(const core::TaskTransferred&) const { return {}; }
    std::pair<CallId, AgentId> operator()(const core::TaskFinished&) const { return {}; }
    std::pair<CallId, AgentId> operator()(const core::CallEndedBeforeQueue& e) const {
      return {e.call, {}};
    }
  };
  return std::visit(Subjects{}, event);
}

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::kArrival: return "arrival";
    case EventKind::kPatience: return "patience-expired";
    case EventKind::kRing: return "ring";
    case EventKind::kAnswer: return "answer";
    case EventKind::kHangUp: return "hang-up";
    case EventKind::kAgentNoticed: return "agent-noticed";
    case EventKind::kAgentBack: return "agent-back";
    case EventKind::kBreakEnd: return "break-end";
    case EventKind::kEndWrapUp: return "end-wrap-up";
    case EventKind::kBreakRequest: return "break-request";
    case EventKind::kHold: return "hold";
    case EventKind::kRetrieve: return "retrieve";
    case EventKind::kBreakout: return "breakout";
  }
  return "?";
}

}  // namespace

class Simulator::Impl final : public core::CoreObserver {
 public:
  explicit Impl(SimConfig config)
      : cfg_(std::move(config)),
        clock_(cfg_.start),
        random_(cfg_.seed),
        core_random_(cfg_.seed ^ 0x5eed'c0de'5eed'c0deULL),
        core_(std::make_unique<core::RoutingCore>(clock_, core_random_, this)),
        tracing_(!cfg_.trace_calls.empty() || !cfg_.trace_agents.empty()) {}

  SimResults run();
  void on_event(const core::CoreEvent& event) override;

 private:
  // ---- 2. loop ----
  bool set_up();
  void run_external(const SimEvent& e);
  void schedule(Duration delay, SimEvent e) { agenda_.push(clock_.now() + delay, e); }
  TimePoint now() const { return clock_.now(); }
  bool traced(std::uint64_t call, AgentId agent) const {
    return (call != 0 && std::find(cfg_.trace_calls.begin(), cfg_.trace_calls.end(), call) !=
                             cfg_.trace_calls.end()) ||
           (agent.valid() && std::find(cfg_.trace_agents.begin(), cfg_.trace_agents.end(), agent) !=
                                 cfg_.trace_agents.end());
  }

  // ---- 3. external events ----
  void arrive(std::uint32_t process);
  void caller_gives_up(std::uint64_t call);
  void phone_rings(const SimEvent& e);
  void agent_answers(const SimEvent& e);
  void conversation_ends(std::uint64_t call);
  void hold(std::uint64_t call, bool on_hold);
  void breakout(std::uint64_t call);
  void agent_noticed(const SimEvent& e);
  void agent_back(const SimEvent& e, bool from_break);
  void end_wrap_up(const SimEvent& e);
  void request_break(std::uint32_t agent);
  void schedule_break_request(std::uint32_t agent, Duration delay);
  bool live_offer(const SimEvent& e) const;

  // ---- 4. core events ----
  void handle(const core::AgentStateChanged& e);
  void handle(const core::CallQueued& e);
  void handle(const core::CallOffered& e);
  void handle(const core::OfferEnded& e);
  void handle(const core::CallConnected& e);
  void handle(const core::CallEscalated& e);
  void handle(const core::CallExited& e);
  void handle(const core::CallFinished& e);
  void handle(const core::OverflowLevelChanged& e);
  void handle(const core::SupervisorAlert& e);
  void handle(const core::BreakWaitlisted& e);
  void handle(const core::CallTransferred& e);
  // The simulated traffic is voice only: a task event means the core made one up.
  void handle(const core::TaskQueued&) { violation("task event in a voice-only simulation"); }
  void handle(const core::TaskOffered&) { violation("task event in a voice-only simulation"); }
  void handle(const core::TaskOfferEnded&) { violation("task event in a voice-only simulation"); }
  void handle(const core::TaskAccepted&) { violation("task event in a voice-only simulation"); }
  void handle(const core::TaskTransferred&) { violation("task event in a voice-only simulation"); }
  void handle(const core::TaskFinished&) { violation("task event in a voice-only simulation"); }
  // Simulated calls go straight into queues: no menu or flow ends one before.
  void handle(const core::CallEndedBeforeQueue&) {
    violation("a call ended before any queue in a simulation without menus");
  }
  CallTrack* event_call(CallId id, const char* event);
  AgentTrack* event_agent(AgentId id, const char* event);
  QueueTrack* event_queue(QueueId id, const char* event);
  void check_at(TimePoint at, const char* event);
  void check_eligible(const CallTrack& c, const AgentTrack& a, const QueueTrack& q);
  void account_time(AgentTrack& a);

  // ---- 5. checks and accounting ----
  void after_step();
  void check_agent(AgentTrack& a);
  void check_call(CallTrack& c);
  void final_checks();
  void compute_figures();

  // Helpers.
  // Wraps every command to the core (the call itself is the argument, already made).
  Status issue(Status status) {
    ++results_.commands;
    if (in_event_) violation("the simulator called the core from on_event");
    return status;
  }
  template <class Describe>
  void expect_ok(const Status& s, Describe&& describe) {
    if (!s) violation(describe() + " failed: " + s.to_string());
  }
  void violation(std::string what);
  void touch(CallTrack& c);
  void touch(AgentTrack& a);
  Duration exponential(Duration mean);
  Duration uniform(Duration lo, Duration hi);
  bool chance(double p) { return p > 0.0 && random_.uniform01() < p; }
  void mix(std::uint64_t v) {  // FNV-style, a word at a time
    trace_ = (trace_ ^ v) * 0x100000001b3ULL;
    trace_ ^= trace_ >> 29;
  }
  void mix_at(TimePoint t) { mix(static_cast<std::uint64_t>(t.time_since_epoch().count())); }
  std::string call_name(std::uint64_t call) const { return "call " + std::to_string(call); }
  std::string agent_name(AgentId a) const { return "agent " + std::to_string(a.value); }

  SimConfig cfg_;
  core::ManualClock clock_;
  core::Xoshiro256 random_;       // the simulated world
  core::Xoshiro256 core_random_;  // injected into the core
  std::unique_ptr<core::RoutingCore> core_;
  EventList<SimEvent> agenda_;

  std::vector<CallTrack> calls_;  // call id value - 1
  std::vector<AgentTrack> agents_;
  std::unordered_map<AgentId, std::uint32_t> agent_index_;
  std::vector<QueueTrack> queues_;
  std::unordered_map<QueueId, std::uint32_t> queue_index_;
  std::vector<std::uint32_t> dirty_agents_;
  std::vector<std::uint32_t> dirty_calls_;
  std::uint64_t live_calls_ = 0;
  std::uint64_t next_token_ = 0;
  TimePoint arrivals_end_{};
  TimePoint window_start_{};
  bool in_event_ = false;
  bool tracing_ = false;
  std::uint64_t trace_ = 0xcbf29ce484222325ULL;
  SimResults results_;
};

// ---- 2. The main loop ----

SimResults Simulator::Impl::run() {
  results_.started = cfg_.start;
  arrivals_end_ = cfg_.start + cfg_.duration;
  window_start_ = std::min(cfg_.start + cfg_.warm_up, arrivals_end_);
  const TimePoint hard_end = arrivals_end_ + cfg_.drain_limit;

  double expected_calls = 0.0;
  for (const auto& ap : cfg_.arrivals) {
    expected_calls += ap.calls_per_hour * core::to_seconds(cfg_.duration) / 3600.0;
  }
  calls_.reserve(static_cast<std::size_t>(expected_calls * 1.1) + 16);
  if (set_up()) {
    for (;;) {
      const TimePoint t_ext = agenda_.next_time();
      const TimePoint t_core = core_->next_deadline();
      if (t_ext == core::kNever && t_core == core::kNever) break;
      const TimePoint t = std::min(t_ext, t_core);
      if (t > hard_end) break;
      clock_.set(std::max(t, now()));
      if (t_core <= t_ext) {
        ++results_.timer_runs;
        results_.timers_fired += core_->run_due_timers();
        if (core_->next_deadline() <= now()) {
          violation("next_deadline() is still due after run_due_timers(); stopping");
          after_step();
          break;
        }
      } else {
        ++results_.external_events;
        run_external(agenda_.pop());
      }
      after_step();
    }
  }
  results_.ended = now();
  final_checks();
  compute_figures();
  results_.trace_hash = trace_;
  if (cfg_.keep_call_records) {
    results_.calls.reserve(calls_.size());
    for (const auto& c : calls_) results_.calls.push_back(c.rec);
  }
  return std::move(results_);
}

bool Simulator::Impl::set_up() {
  clock_.set(cfg_.start);
  if (Status s = core_->apply_config(cfg_.core); !s) {
    violation("apply_config failed: " + s.to_string());
    return false;
  }
  for (const auto& q : cfg_.core.queues) {
    queue_index_.emplace(q.id, static_cast<std::uint32_t>(queues_.size()));
    queues_.push_back(QueueTrack{q, {}, 1});
  }
  for (const auto& m : cfg_.core.members) {
    auto it = queue_index_.find(m.queue);
    if (it != queue_index_.end()) queues_[it->second].member_tier[m.agent.value] = m.tier;
  }
  for (const auto& a : cfg_.core.agents) {
    agent_index_.emplace(a.id, static_cast<std::uint32_t>(agents_.size()));
    AgentTrack t;
    t.id = a.id;
    t.skills = a.skills;
    t.since = now();
    agents_.push_back(std::move(t));
  }
  std::vector<AgentId> logins = cfg_.logins;
  if (logins.empty()) {
    for (const auto& a : cfg_.core.agents) logins.push_back(a.id);
  }
  for (AgentId id : logins) {
    expect_ok(issue(core_->login(id, /*ready=*/true)), [&] { return "login " + agent_name(id); });
    after_step();
  }
  for (std::uint32_t p = 0; p < cfg_.arrivals.size(); ++p) {
    const double rate = cfg_.arrivals[p].calls_per_hour;
    if (rate > 0.0) {
      schedule(exponential(from_seconds(3600.0 / rate)), SimEvent{EventKind::kArrival, p});
    }
  }
  if (cfg_.breaks_per_agent_hour > 0.0) {
    for (std::uint32_t i = 0; i < agents_.size(); ++i) {
      schedule_break_request(i, exponential(from_seconds(3600.0 / cfg_.breaks_per_agent_hour)));
    }
  }
  return true;
}

void Simulator::Impl::run_external(const SimEvent& e) {
  if (tracing_) {
    const bool about_agent = e.kind != EventKind::kArrival && e.kind != EventKind::kPatience &&
                             e.kind != EventKind::kHangUp && e.kind != EventKind::kHold &&
                             e.kind != EventKind::kRetrieve && e.kind != EventKind::kBreakout;
    const AgentId agent = about_agent ? agents_[e.index].id : AgentId{};
    const std::uint64_t call = e.kind == EventKind::kArrival ? calls_.size() + 1 : e.call;
    if (traced(call, agent)) {
      results_.trace.push_back(Violation{now(), std::string("simulator: ") + to_string(e.kind) +
                                                    " call " + std::to_string(call) + " agent " +
                                                    std::to_string(agent.value)});
    }
  }
  switch (e.kind) {
    case EventKind::kArrival: arrive(e.index); break;
    case EventKind::kPatience: caller_gives_up(e.call); break;
    case EventKind::kRing: phone_rings(e); break;
    case EventKind::kAnswer: agent_answers(e); break;
    case EventKind::kHangUp: conversation_ends(e.call); break;
    case EventKind::kAgentNoticed: agent_noticed(e); break;
    case EventKind::kAgentBack: agent_back(e, /*from_break=*/false); break;
    case EventKind::kBreakEnd: agent_back(e, /*from_break=*/true); break;
    case EventKind::kEndWrapUp: end_wrap_up(e); break;
    case EventKind::kBreakRequest: request_break(e.index); break;
    case EventKind::kHold: hold(e.call, true); break;
    case EventKind::kRetrieve: hold(e.call, false); break;
    case EventKind::kBreakout: breakout(e.call); break;
  }
}

// ---- 3. External events ----

void Simulator::Impl::arrive(std::uint32_t process) {
  if (now() >= arrivals_end_) return;
  const ArrivalProcess& ap = cfg_.arrivals[process];
  const Duration gap = exponential(from_seconds(3600.0 / ap.calls_per_hour));
  if (now() + gap < arrivals_end_) schedule(gap, SimEvent{EventKind::kArrival, process});

  const std::uint64_t number = calls_.size() + 1;
  CallTrack c;
  c.rec.id = CallId{number};
  c.rec.process = process;
  c.rec.first_queue = ap.queue;
  c.rec.last_queue = ap.queue;
  c.rec.arrived = now();
  if (chance(ap.priority_share)) c.rec.priority = ap.priority;
  if (chance(ap.vip_share)) c.rec.vip_level = ap.vip_level;
  for (const auto& mix_entry : ap.extra_skills) {
    if (chance(mix_entry.share)) c.extra_skills.push_back(mix_entry.requirement);
  }
  core::CallSpec spec;
  spec.id = c.rec.id;
  auto q = queue_index_.find(ap.queue);
  if (q != queue_index_.end()) {
    spec.tenant = queues_[q->second].cfg.tenant;
    spec.dialed_number = queues_[q->second].cfg.name;
  }
  spec.caller_number = "+1555" + std::to_string(1'000'000 + number);
  spec.priority = c.rec.priority;
  spec.vip_level = c.rec.vip_level;
  spec.extra_skills = c.extra_skills;
  calls_.push_back(std::move(c));
  ++live_calls_;
  touch(calls_.back());

  if (Status s = issue(core_->enqueue(std::move(spec), ap.queue)); !s) {
    violation("enqueue " + call_name(number) + " refused: " + s.to_string());
    ++results_.calls_refused;
    calls_[number - 1].phase = Phase::kRefused;
    --live_calls_;
    return;
  }
  ++results_.calls_created;
  if (cfg_.mean_patience) {
    schedule(exponential(*cfg_.mean_patience), SimEvent{EventKind::kPatience, 0, number});
  }
  if (chance(cfg_.breakout_probability)) {
    schedule(exponential(cfg_.mean_breakout_after), SimEvent{EventKind::kBreakout, 0, number});
  }
}

void Simulator::Impl::caller_gives_up(std::uint64_t call) {
  CallTrack& c = calls_[call - 1];
  if (c.phase != Phase::kWaiting && c.phase != Phase::kOffering) return;
  c.caller_hung_up = true;
  expect_ok(issue(core_->hang_up(c.rec.id, core::HangupCause::kCallerCancel)),
            [&] { return "hang_up (abandon) " + call_name(call); });
}

bool Simulator::Impl::live_offer(const SimEvent& e) const {
  const AgentTrack& a = agents_[e.index];
  return a.call.value == e.call && !a.connected && a.offer_token == e.token;
}

void Simulator::Impl::phone_rings(const SimEvent& e) {
  if (!live_offer(e)) return;  // the offer ended before the phone rang
  expect_ok(issue(core_->offer_ringing(CallId{e.call}, agents_[e.index].id)), [&] {
    return "offer_ringing " + call_name(e.call) + " " + agent_name(agents_[e.index].id);
  });
}

void Simulator::Impl::agent_answers(const SimEvent& e) {
  if (!live_offer(e)) return;  // caller gone, ring timeout, ...
  expect_ok(issue(core_->offer_answered(CallId{e.call}, agents_[e.index].id)), [&] {
    return "offer_answered " + call_name(e.call) + " " + agent_name(agents_[e.index].id);
  });
}

void Simulator::Impl::conversation_ends(std::uint64_t call) {
  CallTrack& c = calls_[call - 1];
  if (c.phase != Phase::kConnected) {
    violation("hang-up due for " + call_name(call) + " but it is " + to_string(c.phase));
    return;
  }
  c.rec.talk = now() - c.rec.connected - c.rec.hold;
  c.caller_hung_up = true;
  expect_ok(issue(core_->hang_up(c.rec.id, core::HangupCause::kCallerBye)),
            [&] { return "hang_up " + call_name(call); });
}

void Simulator::Impl::hold(std::uint64_t call, bool on_hold) {
  CallTrack& c = calls_[call - 1];
  if (c.phase != Phase::kConnected || c.held == on_hold) {
    violation(std::string(on_hold ? "hold" : "retrieve") + " due for " + call_name(call) +
              " but it is " + to_string(c.phase) + (c.held ? ", held" : ""));
    return;
  }
  if (on_hold) {
    ++results_.holds;
    expect_ok(issue(core_->hold(c.rec.id)), [&] { return "hold " + call_name(call); });
    c.held = true;
    c.held_since = now();
  } else {
    expect_ok(issue(core_->retrieve(c.rec.id)), [&] { return "retrieve " + call_name(call); });
    c.held = false;
    c.rec.hold += now() - c.held_since;
  }
}

void Simulator::Impl::breakout(std::uint64_t call) {
  CallTrack& c = calls_[call - 1];
  if (c.phase != Phase::kWaiting) return;  // answered, ringing, gone: the moment passed
  ++results_.breakouts;
  c.breakout_requested = true;
  expect_ok(issue(core_->leave_queue(c.rec.id, cfg_.breakout)),
            [&] { return "leave_queue " + call_name(call); });
}

void Simulator::Impl::agent_noticed(const SimEvent& e) {
  AgentTrack& a = agents_[e.index];
  if (a.epoch != e.token) return;  // moved on already
  const SimEvent back{EventKind::kAgentBack, e.index, 0, a.epoch};
  if (a.state == AgentState::kLoggedOut) {
    schedule(cfg_.back_after_no_answer, back);
    return;
  }
  if (a.state != AgentState::kNotReady) return;
  const std::string_view reason = core_->reason_name(a.reason);
  if (reason == cfg_.break_reason) {
    ++results_.breaks_started;
    a.break_waitlisted = false;
    schedule(exponential(cfg_.mean_break), SimEvent{EventKind::kBreakEnd, e.index, 0, a.epoch});
  } else if (reason == "no-answer") {
    schedule(cfg_.back_after_no_answer, back);
  } else {
    schedule(cfg_.back_after_other, back);
  }
}

void Simulator::Impl::agent_back(const SimEvent& e, bool from_break) {
  AgentTrack& a = agents_[e.index];
  if (a.epoch != e.token) return;
  if (a.state == AgentState::kLoggedOut) {
    expect_ok(issue(core_->login(a.id, /*ready=*/true)),
              [&] { return "login " + agent_name(a.id); });
  } else if (a.state == AgentState::kNotReady) {
    expect_ok(issue(core_->set_ready(a.id)), [&] { return "set_ready " + agent_name(a.id); });
  }
  if (from_break && cfg_.breaks_per_agent_hour > 0.0) {
    schedule_break_request(e.index, exponential(from_seconds(3600.0 / cfg_.breaks_per_agent_hour)));
  }
}

void Simulator::Impl::end_wrap_up(const SimEvent& e) {
  AgentTrack& a = agents_[e.index];
  if (a.epoch != e.token || a.state != AgentState::kWrapUp) return;
  expect_ok(issue(core_->end_wrap_up(a.id)), [&] { return "end_wrap_up " + agent_name(a.id); });
}

void Simulator::Impl::schedule_break_request(std::uint32_t agent, Duration delay) {
  if (now() + delay >= arrivals_end_) return;  // no new breaks once the day is over
  schedule(delay, SimEvent{EventKind::kBreakRequest, agent});
}

void Simulator::Impl::request_break(std::uint32_t agent) {
  AgentTrack& a = agents_[agent];
  if (a.break_waitlisted) return;  // the core grants it later; the break end re-arms
  if (a.state != AgentState::kReady && a.state != AgentState::kWrapUp) {
    schedule_break_request(agent, cfg_.break_retry);  // busy or away: ask again later
    return;
  }
  const AgentState before = a.state;
  const Status s = issue(core_->set_not_ready(a.id, cfg_.break_reason));
  if (s) {
    // Granted (NotReady now, or when wrap-up ends) or wait-listed: the state events
    // drive what follows. If neither happened the request is lost; ask again later.
    if (a.state != AgentState::kNotReady && !a.break_waitlisted && a.state == before) {
      schedule_break_request(agent, cfg_.break_retry);
    }
    return;
  }
  if (s.code() == core::ErrorCode::kLimitReached) {
    ++results_.breaks_refused;
  } else if (!(s.code() == core::ErrorCode::kInvalidState && before == AgentState::kWrapUp)) {
    violation("set_not_ready(" + cfg_.break_reason + ") " + agent_name(a.id) + " in " +
              core::to_string(before) + " failed: " + s.to_string());
  }
  schedule_break_request(agent, cfg_.break_retry);
}

// ---- 4. Core events ----

void Simulator::Impl::on_event(const core::CoreEvent& event) {
  ++results_.core_events;
  if (in_event_) violation("on_event re-entered: the core emitted from inside an emit");
  in_event_ = true;
  mix(event.index());
  if (tracing_) {
    const auto [call, agent] = subjects(event);
    if (traced(call.value, agent)) results_.trace.push_back(Violation{now(), describe(event)});
  }
  std::visit([this](const auto& e) { handle(e); }, event);
  in_event_ = false;
}

void Simulator::Impl::check_at(TimePoint at, const char* event) {
  if (at != now()) {
    violation(std::string(event) + " stamped " + std::to_string(core::to_seconds(at - now())) +
              " s away from the clock");
  }
}

CallTrack* Simulator::Impl::event_call(CallId id, const char* event) {
  if (!id.valid() || id.value == 0 || id.value > calls_.size()) {
    violation(std::string(event) + " for unknown " + call_name(id.value));
    return nullptr;
  }
  CallTrack& c = calls_[id.value - 1];
  if (c.phase == Phase::kFinished || c.phase == Phase::kRefused) {
    violation(std::string(event) + " for " + call_name(id.value) + " after it " +
              (c.phase == Phase::kFinished ? "finished" : "was refused"));
    return nullptr;
  }
  touch(c);
  return &c;
}

AgentTrack* Simulator::Impl::event_agent(AgentId id, const char* event) {
  auto it = agent_index_.find(id);
  if (it == agent_index_.end()) {
    violation(std::string(event) + " for unknown " + agent_name(id));
    return nullptr;
  }
  AgentTrack& a = agents_[it->second];
  touch(a);
  return &a;
}

QueueTrack* Simulator::Impl::event_queue(QueueId id, const char* event) {
  auto it = queue_index_.find(id);
  if (it == queue_index_.end()) {
    violation(std::string(event) + " for unknown queue " + std::to_string(id.value));
    return nullptr;
  }
  return &queues_[it->second];
}

void Simulator::Impl::account_time(AgentTrack& a) {
  const TimePoint from = std::max(a.since, window_start_);
  const TimePoint to = std::min(now(), arrivals_end_);
  if (to > from) a.time_in[static_cast<std::size_t>(a.state)] += to - from;
  a.since = now();
}

void Simulator::Impl::handle(const core::AgentStateChanged& e) {
  mix(e.agent.value);
  mix(static_cast<std::uint64_t>(e.to));
  mix(e.reason.value);
  mix_at(e.at);
  check_at(e.at, "AgentStateChanged");
  AgentTrack* a = event_agent(e.agent, "AgentStateChanged");
  if (a == nullptr) return;
  auto who = [&]() -> std::string { return agent_name(e.agent); };
  if (e.from != a->state) {
    violation("AgentStateChanged chain broken for " + who() + ": from " + core::to_string(e.from) +
              " but the previous event left it " + core::to_string(a->state));
  }
  if (!core::transition_exists(e.from, e.to) || (e.from == e.to && e.to != AgentState::kNotReady)) {
    violation("AgentStateChanged " + who() + ": no transition " + core::to_string(e.from) + " -> " +
              core::to_string(e.to));
  }
  if (a->state == AgentState::kWrapUp && a->last_call != 0) {
    // Wrap-up time belongs to the call answered last.
    calls_[a->last_call - 1].rec.wrap_up += now() - a->since;
  }
  account_time(*a);
  a->state = e.to;
  a->reason = e.reason;
  ++a->epoch;
  const auto index = agent_index_[e.agent];
  switch (e.to) {
    case AgentState::kNotReady:
    case AgentState::kLoggedOut:
      schedule(Duration{0}, SimEvent{EventKind::kAgentNoticed, index, 0, a->epoch});
      break;
    case AgentState::kWrapUp: {
      if (a->last_call == 0) break;
      const auto q = queue_index_.find(calls_[a->last_call - 1].rec.last_queue);
      if (q != queue_index_.end() && queues_[q->second].cfg.manual_wrap_up) {
        schedule(cfg_.manual_wrap_up, SimEvent{EventKind::kEndWrapUp, index, 0, a->epoch});
      }
      break;
    }
    default: break;
  }
}

void Simulator::Impl::handle(const core::CallQueued& e) {
  mix(e.call.value);
  mix(e.queue.value);
  mix_at(e.at);
  check_at(e.at, "CallQueued");
  CallTrack* c = event_call(e.call, "CallQueued");
  if (c == nullptr) return;
  event_queue(e.queue, "CallQueued");
  auto who = [&]() -> std::string { return call_name(e.call.value); };
  switch (c->phase) {
    case Phase::kNew:
      if (e.queue != c->rec.first_queue) {
        violation("CallQueued " + who() + " into queue " + std::to_string(e.queue.value) +
                  ", enqueued into " + std::to_string(c->rec.first_queue.value));
      }
      break;
    case Phase::kMoving:
      if (e.queue != c->exit_to.queue) {
        violation("CallQueued " + who() + " into queue " + std::to_string(e.queue.value) +
                  ", its exit led to queue " + std::to_string(c->exit_to.queue.value));
      }
      break;
    case Phase::kConnected: violation("CallQueued " + who() + " while connected"); return;
    default:
      if (e.queue == c->rec.last_queue) break;
      violation("CallQueued " + who() + " moved from queue " +
                std::to_string(c->rec.last_queue.value) + " without a CallExited");
      break;
  }
  if (c->phase == Phase::kNew || c->phase == Phase::kMoving || e.queue != c->rec.last_queue) {
    c->queued_at = now();
    c->step = 0;
  }
  c->rec.last_queue = e.queue;
  ++c->rec.queue_entries;
  c->phase = c->offers.empty() ? Phase::kWaiting : Phase::kOffering;
}

void Simulator::Impl::check_eligible(const CallTrack& c, const AgentTrack& a, const QueueTrack& q) {
  auto who = [&]() -> std::string {
    return call_name(c.rec.id.value) + " offered to " + agent_name(a.id);
  };
  auto m = q.member_tier.find(a.id.value);
  if (m == q.member_tier.end()) {
    violation(who() + ", not a member of queue " + std::to_string(q.cfg.id.value));
    return;
  }
  // The most lenient reading of cumulative steps: relaxations add up, the highest tier wins.
  int allowed_tier = std::max(1, q.overflow_tier);
  int relax = 0;
  bool drop_optional = false;
  for (int i = 0; i < c.step && i < static_cast<int>(q.cfg.escalation.size()); ++i) {
    const auto& s = q.cfg.escalation[static_cast<std::size_t>(i)];
    relax += s.relax_min_level;
    drop_optional = drop_optional || s.drop_optional_skills;
    allowed_tier = std::max(allowed_tier, s.max_tier);
  }
  if (m->second > allowed_tier) {
    violation(who() + " of tier " + std::to_string(m->second) + "; tiers up to " +
              std::to_string(allowed_tier) + " allowed (escalation step " + std::to_string(c.step) +
              ", overflow tier " + std::to_string(q.overflow_tier) + ")");
  }
  auto check = [&](const core::SkillRequirement& r) {
    if (r.optional && drop_optional) return;
    const int need = std::max(core::kMinProficiency, r.min_level - relax);
    const int have = skill_level(a, r.skill);
    if (have < need) {
      violation(who() + " lacking skill " + std::to_string(r.skill.value) + " (level " +
                std::to_string(have) + ", needs " + std::to_string(need) + " at step " +
                std::to_string(c.step) + ")");
    }
  };
  for (const auto& r : q.cfg.required_skills) check(r);
  for (const auto& r : c.extra_skills) check(r);
  for (const auto& [agent, when] : c.no_answered) {
    if (agent == a.id && now() < when + q.cfg.rona_retry) {
      violation(who() + " " + std::to_string(core::to_seconds(now() - when)) +
                " s after the agent let it ring out (rona_retry " +
                std::to_string(core::to_seconds(q.cfg.rona_retry)) + " s)");
    }
  }
}

void Simulator::Impl::handle(const core::CallOffered& e) {
  mix(e.call.value);
  mix(e.agent.value);
  mix_at(e.at);
  check_at(e.at, "CallOffered");
  ++results_.offers;
  CallTrack* c = event_call(e.call, "CallOffered");
  AgentTrack* a = event_agent(e.agent, "CallOffered");
  QueueTrack* q = event_queue(e.queue, "CallOffered");
  if (c == nullptr || a == nullptr) return;
  ++c->rec.offers;
  auto who = [&]() -> std::string {
    return call_name(e.call.value) + " offered to " + agent_name(e.agent);
  };
  if (c->phase != Phase::kWaiting && c->phase != Phase::kOffering) {
    violation(who() + " while the call is " + to_string(c->phase));
  }
  if (e.queue != c->rec.last_queue) {
    violation(who() + " from queue " + std::to_string(e.queue.value) + " but it is in queue " +
              std::to_string(c->rec.last_queue.value));
  }
  if (a->call.valid()) {
    violation(who() + " while the agent already holds " + call_name(a->call.value) +
              (a->connected ? " (connected)" : " (offered)"));
  }
  if (a->state != AgentState::kReady && a->state != AgentState::kReserved) {
    violation(who() + " while the agent is " + core::to_string(a->state));
  }
  for (const auto& o : c->offers) {
    if (o.agent == e.agent) violation(who() + " twice at once");
  }
  if (q != nullptr) {
    check_eligible(*c, *a, *q);
    if (e.ring_timeout != q->cfg.ring_timeout) violation(who() + " with a foreign ring timeout");
  }

  const std::uint64_t token = ++next_token_;
  a->call = e.call;
  a->offer_token = token;
  a->connected = false;
  c->offers.push_back(LiveOffer{e.agent, token});
  c->phase = Phase::kOffering;

  // The agent's phone: rings at once; picks up after the answer delay, or never (RONA).
  const auto index = agent_index_[e.agent];
  schedule(Duration{0}, SimEvent{EventKind::kRing, index, e.call.value, token});
  if (!chance(cfg_.no_answer_probability)) {
    schedule(uniform(cfg_.answer_delay_min, cfg_.answer_delay_max),
             SimEvent{EventKind::kAnswer, index, e.call.value, token});
  }
}

void Simulator::Impl::handle(const core::OfferEnded& e) {
  mix(e.call.value);
  mix(e.agent.value);
  mix(static_cast<std::uint64_t>(e.reason));
  mix_at(e.at);
  check_at(e.at, "OfferEnded");
  CallTrack* c = event_call(e.call, "OfferEnded");
  AgentTrack* a = event_agent(e.agent, "OfferEnded");
  if (c == nullptr || a == nullptr) return;
  auto who = [&]() -> std::string {
    return "OfferEnded(" + std::string(core::to_string(e.reason)) + ") " + call_name(e.call.value) +
           " " + agent_name(e.agent);
  };
  auto it = std::find_if(c->offers.begin(), c->offers.end(),
                         [&](const LiveOffer& o) { return o.agent == e.agent; });
  if (it == c->offers.end()) {
    violation(who() + ": no such offer is live");
  } else {
    c->offers.erase(it);
  }
  if (a->call == e.call && !a->connected) {
    a->call = CallId{};
    a->offer_token = 0;
  }
  if (e.reason == core::OfferEndReason::kNoAnswer) {
    ++results_.no_answers;
    ++c->rec.no_answers;
    c->no_answered.emplace_back(e.agent, now());
  }
  if (e.reason == core::OfferEndReason::kCallerGone && !c->caller_hung_up) {
    violation(who() + " but the caller did not hang up");
  }
  if (c->phase == Phase::kOffering && c->offers.empty()) c->phase = Phase::kWaiting;
}

void Simulator::Impl::handle(const core::CallConnected& e) {
  mix(e.call.value);
  mix(e.agent.value);
  mix(static_cast<std::uint64_t>(e.waited.count()));
  mix_at(e.at);
  check_at(e.at, "CallConnected");
  CallTrack* c = event_call(e.call, "CallConnected");
  AgentTrack* a = event_agent(e.agent, "CallConnected");
  if (c == nullptr || a == nullptr) return;
  auto who = [&]() -> std::string {
    return "CallConnected " + call_name(e.call.value) + " " + agent_name(e.agent);
  };
  auto it = std::find_if(c->offers.begin(), c->offers.end(),
                         [&](const LiveOffer& o) { return o.agent == e.agent; });
  if (it == c->offers.end()) {
    violation(who() + " without a live offer to that agent");
  } else {
    c->offers.erase(it);
  }
  if (c->phase != Phase::kOffering) violation(who() + " while the call is " + to_string(c->phase));
  if (a->call.valid() && a->call != e.call) {
    violation(who() + " while the agent holds " + call_name(a->call.value));
  }
  if (e.waited != now() - c->queued_at) {
    violation(who() + ": waited " + std::to_string(core::to_seconds(e.waited)) +
              " s, but it entered queue " + std::to_string(c->rec.last_queue.value) + " " +
              std::to_string(core::to_seconds(now() - c->queued_at)) + " s ago");
  }
  c->phase = Phase::kConnected;
  c->rec.connected = now();
  c->rec.agent = e.agent;
  a->call = e.call;
  a->connected = true;
  a->offer_token = 0;
  a->last_call = e.call.value;
  const Duration talk = exponential(cfg_.mean_talk_time);
  Duration on_hold{0};
  if (chance(cfg_.hold_probability)) {
    on_hold = exponential(cfg_.mean_hold);
    schedule(talk / 3, SimEvent{EventKind::kHold, 0, e.call.value});
    schedule(talk / 3 + on_hold, SimEvent{EventKind::kRetrieve, 0, e.call.value});
  }
  schedule(talk + on_hold, SimEvent{EventKind::kHangUp, 0, e.call.value});
}

void Simulator::Impl::handle(const core::CallEscalated& e) {
  mix(e.call.value);
  mix(static_cast<std::uint64_t>(e.step));
  mix_at(e.at);
  check_at(e.at, "CallEscalated");
  ++results_.escalations;
  CallTrack* c = event_call(e.call, "CallEscalated");
  QueueTrack* q = event_queue(e.queue, "CallEscalated");
  if (c == nullptr || q == nullptr) return;
  auto who = [&]() -> std::string {
    return "CallEscalated " + call_name(e.call.value) + " to step " + std::to_string(e.step);
  };
  if (c->phase != Phase::kWaiting && c->phase != Phase::kOffering) {
    violation(who() + " while the call is " + to_string(c->phase));
  }
  if (e.queue != c->rec.last_queue) violation(who() + " in a queue it is not in");
  if (e.step <= c->step || e.step > static_cast<int>(q->cfg.escalation.size())) {
    violation(who() + " after step " + std::to_string(c->step));
  } else if (now() - c->queued_at < q->cfg.escalation[static_cast<std::size_t>(e.step - 1)].after) {
    violation(who() + " after only " + std::to_string(core::to_seconds(now() - c->queued_at)) +
              " s in the queue");
  }
  c->step = std::max(c->step, e.step);
  c->rec.escalation_step = std::max(c->rec.escalation_step, e.step);
}

void Simulator::Impl::handle(const core::CallExited& e) {
  mix(e.call.value);
  mix(static_cast<std::uint64_t>(e.reason));
  mix_at(e.at);
  check_at(e.at, "CallExited");
  ++results_.exits;
  CallTrack* c = event_call(e.call, "CallExited");
  QueueTrack* q = event_queue(e.queue, "CallExited");
  if (c == nullptr) return;
  auto who = [&]() -> std::string {
    return "CallExited(" + std::string(core::to_string(e.reason)) + ") " + call_name(e.call.value);
  };
  // A call refused on joining (queue full, no agents, queue closed) exits without a
  // CallQueued, whether it is new or arriving through another queue's exit; the
  // CallExited then names the queue it tried to join.
  const bool refused_on_joining = e.reason == core::ExitReason::kQueueFull ||
                                  e.reason == core::ExitReason::kNoAgents ||
                                  e.reason == core::ExitReason::kQueueClosed;
  if (c->phase == Phase::kConnected ||
      ((c->phase == Phase::kNew || c->phase == Phase::kMoving) && !refused_on_joining)) {
    violation(who() + " while the call is " + to_string(c->phase));
  }
  const QueueId expected_queue = c->phase == Phase::kNew      ? c->rec.first_queue
                                 : c->phase == Phase::kMoving ? c->exit_to.queue
                                                              : c->rec.last_queue;
  if (e.queue != expected_queue) {
    violation(who() + " from queue " + std::to_string(e.queue.value) + "; it is in (or joining) " +
              std::to_string(expected_queue.value));
  }
  if (!c->offers.empty()) violation(who() + " with offers still live");
  if (e.reason == core::ExitReason::kCallerRequest &&
      (!c->breakout_requested || !same_destination(e.destination, cfg_.breakout))) {
    violation(who() + " but the caller asked for no such thing");
  }
  c->rec.last_queue = e.queue;
  if (q != nullptr && e.reason == core::ExitReason::kMaxWait) {
    if (q->cfg.max_wait <= Duration{0} || now() - c->queued_at < q->cfg.max_wait) {
      violation(who() + " after " + std::to_string(core::to_seconds(now() - c->queued_at)) +
                " s in the queue");
    }
    if (!same_destination(e.destination, q->cfg.on_timeout))
      violation(who() + " to the wrong place");
  }
  if (q != nullptr && e.reason == core::ExitReason::kQueueFull &&
      !same_destination(e.destination, q->cfg.on_full)) {
    violation(who() + " to the wrong place");
  }
  c->exited = true;
  c->exit_to = e.destination;
  if (e.destination.kind == core::ExitDestination::Kind::kQueue) c->phase = Phase::kMoving;
}

void Simulator::Impl::handle(const core::CallFinished& e) {
  mix(e.call.value);
  mix(static_cast<std::uint64_t>(e.state));
  mix(static_cast<std::uint64_t>(e.cause));
  mix(e.agent.value);
  mix(static_cast<std::uint64_t>(e.talk.count()));
  mix_at(e.at);
  check_at(e.at, "CallFinished");
  if (e.call.valid() && e.call.value >= 1 && e.call.value <= calls_.size() &&
      calls_[e.call.value - 1].phase == Phase::kFinished) {
    ++calls_[e.call.value - 1].rec.finish_events;
    violation("second CallFinished for " + call_name(e.call.value));
    return;
  }
  CallTrack* c = event_call(e.call, "CallFinished");
  if (c == nullptr) return;
  auto who = [&]() -> std::string {
    return "CallFinished(" + std::string(core::to_string(e.state)) + ") " + call_name(e.call.value);
  };
  using core::ExitDestination;
  switch (e.state) {
    case FinalState::kCompleted:
      if (c->phase != Phase::kConnected || e.agent != c->rec.agent) {
        violation(who() + " but it is " + to_string(c->phase) + " (agent " +
                  std::to_string(c->rec.agent.value) + ")");
      } else if (e.talk != c->rec.talk || e.hold != c->rec.hold) {
        violation(who() + ": talk " + std::to_string(core::to_seconds(e.talk)) + " s, hold " +
                  std::to_string(core::to_seconds(e.hold)) + " s; measured " +
                  std::to_string(core::to_seconds(c->rec.talk)) + " s and " +
                  std::to_string(core::to_seconds(c->rec.hold)) + " s");
      }
      if (!c->caller_hung_up) violation(who() + " but nobody hung up");
      if (e.cause != core::HangupCause::kCallerBye)
        violation(who() + " with cause " + core::to_string(e.cause) + ", not caller-bye");
      break;
    case FinalState::kAbandoned:
      if (c->phase == Phase::kConnected) violation(who() + " after it was answered");
      if (!c->caller_hung_up) violation(who() + " but the caller did not hang up");
      if (e.cause != core::HangupCause::kCallerCancel)
        violation(who() + " with cause " + core::to_string(e.cause) + ", not caller-cancel");
      break;
    case FinalState::kVoicemail:
    case FinalState::kCallback:
    case FinalState::kHungUp: {
      const auto expected = e.state == FinalState::kVoicemail  ? ExitDestination::Kind::kVoicemail
                            : e.state == FinalState::kCallback ? ExitDestination::Kind::kCallback
                                                               : ExitDestination::Kind::kHangup;
      if (!c->exited || c->exit_to.kind != expected) violation(who() + " without a matching exit");
      if (c->phase == Phase::kConnected) violation(who() + " after it was answered");
      if (e.cause != core::HangupCause::kQueueExit)
        violation(who() + " with cause " + core::to_string(e.cause) + ", not queue-exit");
      break;
    }
    case FinalState::kCancelled:
    case FinalState::kUnanswered:
    case FinalState::kTransferred:
      violation(who() + ": not a possible end of an inbound call in this simulation");
      break;
  }
  if (e.arrived != c->rec.arrived) violation(who() + " with a different arrival time");
  if (!c->offers.empty()) violation(who() + " with offers still live");
  if (c->phase == Phase::kConnected) {
    auto it = agent_index_.find(c->rec.agent);
    if (it != agent_index_.end()) {
      AgentTrack& a = agents_[it->second];
      if (a.call == e.call) {
        a.call = CallId{};
        a.connected = false;
      }
      touch(a);
    }
  }
  // Every agent this call was still offered to is released too (the offers are reported).
  for (const auto& o : c->offers) {
    auto it = agent_index_.find(o.agent);
    if (it == agent_index_.end()) continue;
    AgentTrack& a = agents_[it->second];
    if (a.call == e.call) {
      a.call = CallId{};
      a.offer_token = 0;
    }
  }
  c->offers.clear();
  c->phase = Phase::kFinished;
  c->rec.finished = now();
  c->rec.final_state = e.state;
  ++c->rec.finish_events;
  --live_calls_;
  ++results_.final_states[static_cast<std::size_t>(e.state)];
}

void Simulator::Impl::handle(const core::OverflowLevelChanged& e) {
  mix(e.queue.value);
  mix(static_cast<std::uint64_t>(e.to_tier));
  mix_at(e.at);
  check_at(e.at, "OverflowLevelChanged");
  ++results_.overflow_changes;
  QueueTrack* q = event_queue(e.queue, "OverflowLevelChanged");
  if (q == nullptr) return;
  auto who = [&]() -> std::string {
    return "OverflowLevelChanged queue " + std::to_string(e.queue.value) + " " +
           std::to_string(e.from_tier) + " -> " + std::to_string(e.to_tier);
  };
  if (e.from_tier != q->overflow_tier) {
    violation(who() + " but it was at tier " + std::to_string(q->overflow_tier));
  }
  if (!q->cfg.overflow.enabled || e.to_tier < 1 || e.to_tier > q->cfg.overflow.max_tier ||
      e.to_tier == e.from_tier) {
    violation(who() + ": out of the rule's range");
  }
  q->overflow_tier = e.to_tier;
}

void Simulator::Impl::handle(const core::SupervisorAlert& e) {
  mix(e.agent.value);
  mix_at(e.at);
  check_at(e.at, "SupervisorAlert");
  ++results_.supervisor_alerts;
  event_agent(e.agent, "SupervisorAlert");
}

void Simulator::Impl::handle(const core::BreakWaitlisted& e) {
  mix(e.agent.value);
  mix(static_cast<std::uint64_t>(e.position));
  mix_at(e.at);
  check_at(e.at, "BreakWaitlisted");
  ++results_.breaks_waitlisted;
  AgentTrack* a = event_agent(e.agent, "BreakWaitlisted");
  if (a == nullptr) return;
  if (e.position < 1) violation("BreakWaitlisted " + agent_name(e.agent) + " at position 0");
  a->break_waitlisted = true;
}

// The simulated agents never transfer a call (RoutingCore::transfer_*): any transfer is
// the core acting on its own.
void Simulator::Impl::handle(const core::CallTransferred& e) {
  mix(e.call.value);
  mix(static_cast<std::uint64_t>(e.kind));
  mix_at(e.at);
  check_at(e.at, "CallTransferred");
  if (event_call(e.call, "CallTransferred") == nullptr) return;
  violation(describe(core::CoreEvent(e)) + ": nobody asked for a transfer in this simulation");
}

// ---- 5. Checks and accounting ----

void Simulator::Impl::touch(CallTrack& c) {
  if (c.dirty) return;
  c.dirty = true;
  dirty_calls_.push_back(static_cast<std::uint32_t>(c.rec.id.value - 1));
}

void Simulator::Impl::touch(AgentTrack& a) {
  if (a.dirty) return;
  a.dirty = true;
  dirty_agents_.push_back(agent_index_[a.id]);
}

void Simulator::Impl::after_step() {
  for (std::uint32_t i : dirty_agents_) {
    agents_[i].dirty = false;
    check_agent(agents_[i]);
  }
  dirty_agents_.clear();
  for (std::uint32_t i : dirty_calls_) {
    calls_[i].dirty = false;
    check_call(calls_[i]);
  }
  dirty_calls_.clear();
  if (core_->calls_in_system() != live_calls_) {
    violation("calls_in_system() is " + std::to_string(core_->calls_in_system()) +
              ", the events leave " + std::to_string(live_calls_));
  }
  if (cfg_.check_core_invariants) {
    ++results_.core_invariant_checks;
    if (Status s = core_->check_invariants(); !s) violation("check_invariants: " + s.to_string());
  }
}

void Simulator::Impl::check_agent(AgentTrack& a) {
  const auto v = core_->agent(a.id);
  auto who = [&]() -> std::string { return agent_name(a.id); };
  if (!v) {
    violation(who() + " unknown to the core");
    return;
  }
  if (v->state != a.state) {
    violation(who() + ": the events leave it " + core::to_string(a.state) + ", the core says " +
              core::to_string(v->state));
  }
  const bool on_call = core::is_on_call(a.state);
  if (on_call) {
    if (!a.call.valid()) {
      violation(who() + " is " + core::to_string(a.state) +
                " without an offered or connected call");
    } else if (v->call != a.call) {
      violation(who() + ": the core says call " + std::to_string(v->call.value) + ", the events " +
                call_name(a.call.value));
    }
    const bool talking = a.state == AgentState::kTalking || a.state == AgentState::kHeld;
    if (a.call.valid() && talking != a.connected) {
      violation(who() + " is " + core::to_string(a.state) + " but its call is " +
                (a.connected ? "connected" : "only offered"));
    }
  } else if (a.call.valid()) {
    violation(who() + " is " + core::to_string(a.state) + " but still holds " +
              call_name(a.call.value) + (a.connected ? " (connected)" : " (offered)"));
  }
}

void Simulator::Impl::check_call(CallTrack& c) {
  const auto v = core_->call(c.rec.id);
  auto who = [&]() -> std::string { return call_name(c.rec.id.value); };
  switch (c.phase) {
    case Phase::kFinished:
    case Phase::kRefused:
      if (v) violation(who() + " is " + to_string(c.phase) + " but the core still holds it");
      return;
    case Phase::kNew: violation(who() + " was accepted but neither queued nor finished"); return;
    case Phase::kMoving: violation(who() + " exited to a queue but was not queued there"); return;
    default: break;
  }
  if (!v) {
    violation(who() + " is " + to_string(c.phase) + " but unknown to the core");
    return;
  }
  if (v->queue != c.rec.last_queue) {
    violation(who() + ": the core has it in queue " + std::to_string(v->queue.value) +
              ", the events in " + std::to_string(c.rec.last_queue.value));
  }
  const core::CallPhase expected = c.phase == Phase::kWaiting    ? core::CallPhase::kWaiting
                                   : c.phase == Phase::kOffering ? core::CallPhase::kOffering
                                                                 : core::CallPhase::kConnected;
  if (v->phase != expected) {
    violation(who() + " is " + to_string(c.phase) + " by the events, not by the core (phase " +
              std::to_string(static_cast<int>(v->phase)) + ")");
  }
  if (c.phase == Phase::kConnected && v->agent != c.rec.agent) {
    violation(who() + ": connected to " + agent_name(c.rec.agent) + " by the events, to " +
              agent_name(v->agent) + " by the core");
  }
  if (c.phase == Phase::kConnected && !c.offers.empty()) {
    violation(who() + " is connected with other offers still live");
  }
  if (c.phase == Phase::kOffering) {
    bool same = v->offered_to.size() == c.offers.size();
    for (const auto& o : c.offers) {
      same = same &&
             std::find(v->offered_to.begin(), v->offered_to.end(), o.agent) != v->offered_to.end();
    }
    if (!same) violation(who() + ": the core's offers differ from the events'");
  }
}

void Simulator::Impl::final_checks() {
  int reported = 0;
  for (auto& c : calls_) {
    if (c.phase == Phase::kRefused) continue;
    if (c.rec.finish_events == 0) {
      ++results_.calls_unfinished;
      if (reported++ < 5) {
        violation(call_name(c.rec.id.value) + " never finished (" + to_string(c.phase) +
                  ", queue " + std::to_string(c.rec.last_queue.value) + ", arrived " +
                  std::to_string(core::to_seconds(c.rec.arrived - cfg_.start)) + " s)");
      }
    }
  }
  if (results_.calls_unfinished > 5) {
    violation(std::to_string(results_.calls_unfinished) + " calls never finished in all");
  }
  results_.drained = live_calls_ == 0;
  if (core_->calls_in_system() != 0) {
    violation("the core still holds " + std::to_string(core_->calls_in_system()) +
              " calls at the end");
  }
  for (auto& a : agents_) {
    account_time(a);
    if (a.call.valid()) {
      violation(agent_name(a.id) + " still holds " + call_name(a.call.value) + " at the end");
    }
  }
  if (const Status s = core_->check_invariants(); !s) {
    violation("check_invariants at the end: " + s.to_string());
  }
}

void Simulator::Impl::compute_figures() {
  double wait_sum = 0.0;
  double handle_sum = 0.0;
  for (const auto& c : calls_) {
    if (c.rec.arrived < window_start_ || c.rec.arrived >= arrivals_end_) continue;
    if (!c.rec.final_state) continue;
    ++results_.measured_calls;
    switch (*c.rec.final_state) {
      case FinalState::kCompleted: {
        ++results_.answered;
        const Duration wait = c.rec.connected - c.rec.arrived;
        if (wait <= cfg_.sl_threshold) ++results_.answered_in_threshold;
        wait_sum += core::to_seconds(wait);
        handle_sum += core::to_seconds(c.rec.talk + c.rec.hold + c.rec.wrap_up);
        break;
      }
      case FinalState::kAbandoned: ++results_.abandoned; break;
      default: ++results_.exited; break;
    }
  }
  if (results_.answered > 0) {
    const auto n = static_cast<double>(results_.answered);
    results_.service_level = static_cast<double>(results_.answered_in_threshold) / n;
    results_.asa_seconds = wait_sum / n;
    results_.aht_seconds = handle_sum / n;
  }
  if (results_.answered + results_.abandoned > 0) {
    results_.abandon_rate = static_cast<double>(results_.abandoned) /
                            static_cast<double>(results_.answered + results_.abandoned);
  }
  Duration busy{0};
  Duration ready{0};
  for (const auto& a : agents_) {
    for (std::size_t s = 0; s < a.time_in.size(); ++s) {
      const auto state = static_cast<AgentState>(s);
      if (state == AgentState::kReady) {
        ready += a.time_in[s];
      } else if (core::is_on_call(state) || state == AgentState::kWrapUp) {
        busy += a.time_in[s];
      }
    }
  }
  if (busy + ready > Duration{0}) {
    results_.occupancy = core::to_seconds(busy) / core::to_seconds(busy + ready);
  }
}

void Simulator::Impl::violation(std::string what) {
  ++results_.violation_count;
  if (results_.violations.size() < cfg_.max_recorded_violations) {
    results_.violations.push_back(Violation{now(), std::move(what)});
  }
}

Duration Simulator::Impl::exponential(Duration mean) {
  // Inverse transform; 1 - u is in (0, 1], so the logarithm is finite.
  const double u = random_.uniform01();
  return from_seconds(-core::to_seconds(mean) * std::log1p(-u));
}

Duration Simulator::Impl::uniform(Duration lo, Duration hi) {
  if (hi <= lo) return lo;
  return lo + from_seconds(core::to_seconds(hi - lo) * random_.uniform01());
}

// ---- Public API ----

Simulator::Simulator(SimConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Simulator::~Simulator() = default;
SimResults Simulator::run() {
  return impl_->run();
}

SimResults simulate(SimConfig config) {
  return Simulator(std::move(config)).run();
}

}  // namespace acd::sim
