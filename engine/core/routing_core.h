// RoutingCore: the skills-based router and the agent state machine.
//
// Pure domain code: no I/O, no threads, no system clock. Commands arrive as method calls;
// every state change leaves as a CoreEvent to the observer; time comes from the injected
// Clock and randomness from the injected Random. Timers (ring timeout, wrap-up, maximum
// wait, escalation, overflow, break overrun, ...) live in one internal heap: the host
// asks next_deadline(), sleeps until then (or until a command arrives) and calls
// run_due_timers(). Nothing is ever polled: every routing decision is triggered by the
// event that makes it possible (a call entering, an agent becoming ready, a timer).
//
// Thread-safety: none. One thread owns a RoutingCore (see engine/app/core_thread.h for
// the thread that hosts it in the daemon, and docs/THREADING.md).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/agent_state.h"
#include "engine/core/events.h"
#include "engine/core/ids.h"
#include "engine/core/model.h"
#include "engine/core/random.h"
#include "engine/core/snapshot.h"
#include "engine/core/status.h"
#include "engine/core/task.h"
#include "engine/core/time.h"

namespace acd::core {

// A caller (task) entering a queue. The id is chosen by whoever creates the call and must
// be unique among calls in the core.
struct CallSpec {
  CallId id;
  TenantId tenant;
  std::string caller_number;
  std::string dialed_number;
  int priority = 0;                            // higher is served first
  int vip_level = 0;                           // 0: normal; each level adds the queue's vip_boost
  std::vector<SkillRequirement> extra_skills;  // beyond the queue's own requirements
  std::vector<std::pair<std::string, std::string>> attributes;
};

struct AgentView {
  AgentState state = AgentState::kLoggedOut;
  ReasonId reason;
  CallKind call_kind = CallKind::kNone;
  CallId call;
  TimePoint since;
  bool break_waitlisted = false;
  ChannelLoad tasks{};  // tasks in hand (offered or accepted) per channel
};

enum class CallPhase : std::uint8_t {
  kWaiting,    // in a queue, no agent chosen
  kOffering,   // agent(s) reserved or ringing
  kConnected,  // talking to an agent (or held)
  kDialing     // outbound or internal call being placed by an agent
};

struct CallView {
  CallPhase phase;
  QueueId queue;
  AgentId agent;  // connected agent (kConnected / kDialing originator)
  std::vector<AgentId> offered_to;
  int escalation_step = 0;
  int position = 0;  // 1-based place in its queue (kWaiting), 0 otherwise
  TimePoint enqueued;
  AgentId preferred;   // the agent the call waits for (sticky routing, directed transfer)
  CallId consult;      // an inbound call: the consultation call its agent placed
  CallId consult_for;  // a consultation call: the inbound call its originator holds
};

struct RouteQuery;
struct RouteExplanation;

class RoutingCore {
 public:
  RoutingCore(Clock& clock, Random& random, CoreObserver* observer);
  ~RoutingCore();
  RoutingCore(const RoutingCore&) = delete;
  RoutingCore& operator=(const RoutingCore&) = delete;

  // ---- Configuration ----
  // Validates the whole configuration (tenant isolation, ranges, references) and, if valid,
  // reconciles live state with it: new entities appear, changed ones take effect at once,
  // removed agents are logged out when idle, removed queues close to new callers and
  // finish serving the calls they hold. Waiting calls are re-evaluated. On error nothing
  // changes.
  Status apply_config(const CoreConfig& config);

  // ---- Agent requests (from the agent's desktop or a supervisor) ----
  Status login(AgentId agent, bool ready = false, Cause cause = Cause::kAgent);
  // An agent may log out when not on a call. A supervisor's forced logout of an agent on a
  // call takes effect when the call ends; while the agent is being offered a call the
  // offer is withdrawn.
  Status logout(AgentId agent, Cause cause = Cause::kAgent);
  Status set_ready(AgentId agent, Cause cause = Cause::kAgent);
  // A reason governed by the agent's team break policy may be refused or wait-listed
  // (then a BreakWaitlisted event is emitted and the state is unchanged). A supervisor's
  // forced not-ready of an agent on a call takes effect when the call ends.
  Status set_not_ready(AgentId agent, std::string_view reason, Cause cause = Cause::kAgent);
  Status end_wrap_up(AgentId agent);
  Status set_work_mode(AgentId agent, WorkMode mode);
  Status cancel_break_request(AgentId agent);
  Status set_agent_skills(AgentId agent, std::vector<AgentSkill> skills);

  // ---- Inbound call progress (from the SIP adapter) ----
  Status enqueue(CallSpec spec, QueueId queue);
  Status offer_ringing(CallId call, AgentId agent);
  Status offer_answered(CallId call, AgentId agent);
  Status offer_failed(CallId call, AgentId agent, OfferEndReason reason);
  // The caller or the agent ended the call. Before an agent answered, this is an abandon.
  // `cause` says who or why (a CANCEL, the caller's or the agent's BYE, a session timer,
  // ...); it travels in the call's CallFinished to the records (calls.end_reason). On a
  // call an agent placed, the agent is its caller.
  Status hang_up(CallId call, HangupCause cause = HangupCause::kUnspecified);
  // The caller chose a breakout option (e.g. "press 1 for voicemail").
  Status leave_queue(CallId call, ExitDestination destination);
  // A new call whose caller asked, before being queued (a call flow's call.callback), to be
  // called back on `number` (empty: the caller's) by `queue`: the call enters the queue
  // and leaves it at once for a callback, as a waiting caller's breakout key would make it
  // (CallQueued, CallExited with reason caller-request, CallFinished with state callback);
  // it is never offered. The same checks as enqueue(), and a closed queue (removed from the
  // configuration) is refused; `number` is at most 64 characters.
  Status request_callback(CallSpec spec, QueueId queue, std::string number);
  // A new inbound call that ended before it entered any queue, in an IVR menu or a call
  // flow, `in_engine` after it arrived: the core never holds it, it only says so
  // (CallEndedBeforeQueue) so that the call has its record like every other. `state`:
  // kHungUp (the menu's or flow's hang-up), kVoicemail, kTransferred (a flow's transfer
  // outside), kAbandoned (the caller hung up) or kCancelled (the engine ended it: shutdown,
  // no ACK, a session or media timeout, a failure). Refused for an unknown tenant, a call id the core holds, another
  // state or a negative in_engine.
  Status end_before_queue(CallSpec spec, Duration in_engine, FinalState state, HangupCause cause,
                          std::string entry);
  Status hold(CallId call);
  Status retrieve(CallId call);
  Status set_call_priority(CallId call, int priority);

  // ---- Transfers (from the agent's phone: REFER) ----
  // Every transfer emits CallTransferred first; the agent who had the call is then released
  // as when a call ends for them (handled, talk and hold accounted, wrap-up per the queue
  // the call was answered in). Only a connected inbound call (talking or held) whose
  // agent has no consultation call in progress can be transferred blind.
  //
  // Blind, to a queue of the call's tenant (may be its current queue): the call waits in
  // `queue` again (CallQueued) with its caller data, priority, arrival and history; its
  // new wait counts from now. Refused when the queue would refuse a new caller (removed,
  // full, or no member logged in with join_when_empty off). With `preferred` (a logged-in
  // agent of the tenant) the call waits for that agent, member of the queue or not and
  // whatever their skills, for the queue's sticky_wait (30 s when it is 0); it is offered
  // to them as soon as they are Ready, then anyone eligible may take it.
  Status transfer_to_queue(CallId call, QueueId queue, AgentId preferred = AgentId{},
                           Cause cause = Cause::kAgent);
  // Blind, to an outside party: the call ends at once (CallFinished, kTransferred).
  Status transfer_external(CallId call, Cause cause = Cause::kAgent);
  // Attended: the agent of inbound `call` placed `consult` (start_outbound while on `call`)
  // and it was answered. An internal consultation: `call` is connected to the consulted
  // agent from now on (who stays Talking; the caller is no longer held) and `consult`
  // ends (kCompleted). An outbound consultation: `call` ends (kTransferred) and so does
  // `consult` (kCompleted).
  Status complete_attended_transfer(CallId call, CallId consult);

  // ---- Outbound and internal calls placed by an agent ----
  // kind is kOutbound (to an outside number) or kInternal (to agent `callee`, who must be
  // Ready or NotReady; their phone rings). The agent is Ready or NotReady, or Talking or
  // Held on a connected inbound call: then `call` is a consultation call (one at a time)
  // and the agent's own state keeps following the inbound call (hold it first, as phones
  // do); the consultation ends with the inbound call if the caller hangs up, cannot be
  // held itself, and leads to complete_attended_transfer or ends by hang_up /
  // outbound_failed like any placed call, without after-call work of its own.
  Status start_outbound(AgentId agent, CallId call, CallKind kind, AgentId callee = AgentId{});
  Status outbound_answered(CallId call);
  Status outbound_failed(CallId call);

  // ---- Non-voice tasks (the rules are in engine/core/task.h) ----
  // The task waits in `queue` (of its tenant) and is offered at once when an agent can
  // take it. Refused like a call when the queue would refuse a caller (removed, full, no
  // member logged in with join_when_empty off); no exit applies to a task.
  Status create_task(TaskSpec spec, QueueId queue);
  Status accept_task(TaskId task, AgentId agent);
  // The task goes to another agent and avoids `agent` for the queue's rona_retry.
  Status decline_task(TaskId task, AgentId agent);
  Status complete_task(TaskId task, AgentId agent);
  // An accepted task goes back to waiting, in `queue` (invalid: its current queue), for
  // `preferred` (a logged-in agent of the tenant, member of the queue or not) for the
  // queue's sticky_wait (30 s when 0) if given, then for anyone eligible.
  Status transfer_task(TaskId task, AgentId agent, QueueId queue, AgentId preferred = AgentId{});
  // The task ends wherever it is: kAbandoned before an agent accepted it, kCancelled after.
  Status cancel_task(TaskId task);

  // ---- Time ----
  [[nodiscard]] TimePoint next_deadline() const;
  // Fires every timer whose deadline is at or before clock.now(). Returns how many fired.
  std::size_t run_due_timers();

  // ---- Reads ----
  // The core's clock now.
  [[nodiscard]] TimePoint now() const;
  [[nodiscard]] CoreSnapshot snapshot() const;
  [[nodiscard]] std::optional<AgentView> agent(AgentId agent) const;
  [[nodiscard]] std::optional<CallView> call(CallId call) const;
  [[nodiscard]] std::optional<QueueSnapshot> queue(QueueId queue) const;
  // What a call in the core came with (caller, dialled number, attributes such as IVR
  // choices); null when the call is not in the core. Valid until the next command.
  [[nodiscard]] const CallSpec* call_spec(CallId call) const;
  [[nodiscard]] std::optional<TaskView> task(TaskId task) const;
  // What a task in the core came with; null when it is not in the core. Valid until the
  // next command.
  [[nodiscard]] const TaskSpec* task_spec(TaskId task) const;
  // The tasks of `tenant` in the core (waiting, offered, accepted), oldest first.
  [[nodiscard]] std::vector<TaskView> tasks(TenantId tenant) const;
  // Configured names; empty when the agent or queue is unknown.
  [[nodiscard]] std::string_view agent_name(AgentId agent) const;
  [[nodiscard]] std::string_view queue_name(QueueId queue) const;
  // The queues `agent` is a member of (for figures that move with its state).
  [[nodiscard]] std::vector<QueueId> queues_of(AgentId agent) const;
  [[nodiscard]] int overflow_tier(QueueId queue) const;
  [[nodiscard]] std::size_t calls_in_system() const;
  [[nodiscard]] std::size_t tasks_in_system() const;
  [[nodiscard]] std::string_view reason_name(ReasonId id) const;
  [[nodiscard]] std::optional<ReasonId> find_reason(std::string_view name) const;

  // A dry run (route_explanation.h): what routing would do with `query` now, and why.
  // kNotFound for an unknown queue, kInvalidArgument for a call of another tenant.
  [[nodiscard]] Status explain_route(const RouteQuery& query, RouteExplanation& out) const;

  void reset_statistics();

  // Walks all state and checks the core's invariants (every agent holds at most one call,
  // indices agree with states, no waiting call could be given to a ready agent, ...).
  // Costs O(agents x calls): for tests and simulations.
  [[nodiscard]] Status check_invariants() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace acd::core
