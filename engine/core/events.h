// Events the routing core emits. Every state change of an agent or a call is one event,
// delivered synchronously, in order, to the CoreObserver on the core's thread. Observers
// must not call back into the core from on_event (queue the work instead): the core is
// in the middle of a command when it emits.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "engine/core/agent_state.h"
#include "engine/core/ids.h"
#include "engine/core/model.h"
#include "engine/core/task.h"
#include "engine/core/time.h"

namespace acd::core {

struct AgentStateChanged {
  AgentId agent;
  TenantId tenant;
  AgentState from;
  AgentState to;
  ReasonId reason;  // valid for NotReady
  Cause cause;
  CallId call;  // the call involved, if any
  TimePoint at;
};

struct CallQueued {
  CallId call;
  TenantId tenant;
  QueueId queue;
  TimePoint at;
  // What the call brought with it (for records and screen pops), and the queue's
  // service-level threshold at the time the call joined.
  std::string caller_number;
  std::string dialed_number;
  int vip_level = 0;
  Duration sl_threshold{0};
};

// The router chose `agent` for `call`: the SIP adapter rings the agent's phone.
struct CallOffered {
  CallId call;
  TenantId tenant;
  QueueId queue;
  AgentId agent;
  Duration ring_timeout;
  TimePoint at;
};

enum class OfferEndReason : std::uint8_t {
  kNoAnswer,           // ring timeout (RONA)
  kBusy,               // the phone answered busy
  kDeclined,           // the agent rejected the offer
  kFailed,             // the phone could not be reached
  kAnsweredElsewhere,  // ring-all: another agent took it
  kCallerGone,         // the caller hung up while the agent was being rung
  kWithdrawn           // supervisor/system withdrew the agent (force logout, reload)
};

// An offer ended without the agent taking the call: stop ringing that phone.
struct OfferEnded {
  CallId call;
  TenantId tenant;
  AgentId agent;
  OfferEndReason reason;
  TimePoint at;
};

struct CallConnected {
  CallId call;
  TenantId tenant;
  QueueId queue;
  AgentId agent;
  Duration waited;  // time in this queue until answer
  TimePoint at;
};

// A waiting call's routing rules changed with waiting time.
struct CallEscalated {
  CallId call;
  TenantId tenant;
  QueueId queue;
  int step;  // 1-based index of the escalation step now in force
  TimePoint at;
};

enum class ExitReason : std::uint8_t {
  kMaxWait,       // waited the queue's maximum
  kQueueFull,     // the queue's maximum length was reached on joining
  kNoAgents,      // join or leave when no member is logged in
  kQueueClosed,   // the queue was removed from the configuration
  kCallerRequest  // the caller chose a breakout option (voicemail, callback)
};

// A call left its queue for a configured destination. When the destination is another
// queue, a CallQueued for that queue follows; otherwise a CallFinished follows.
struct CallExited {
  CallId call;
  TenantId tenant;
  QueueId queue;
  ExitReason reason;
  ExitDestination destination;
  TimePoint at;
};

enum class FinalState : std::uint8_t {
  kCompleted,   // answered by an agent, then ended
  kAbandoned,   // the caller hung up before an agent answered
  kVoicemail,   // left through an exit to voicemail
  kCallback,    // left through an exit to a callback request
  kHungUp,      // left through an exit that hangs up (with a message)
  kCancelled,   // ended by the system (shutdown, failure) before an agent answered
  kUnanswered,  // an outbound or internal call that never connected
  kTransferred  // answered, then handed by the agent to an outside party (see CallTransferred)
};

// Who or what ended a call (CallFinished::cause), in the host's words where the host ended
// it (RoutingCore::hang_up) and the core's own otherwise. to_string gives the stable text
// the history stores (calls.end_reason) and logs show.
enum class HangupCause : std::uint8_t {
  kUnspecified,        // "unspecified": the host did not say (hang_up's default)
  kCallerCancel,       // "caller-cancel": the caller gave up before being answered (SIP CANCEL)
  kCallerBye,          // "caller-bye": the caller hung up (BYE from the caller's side)
  kAgentBye,           // "agent-bye": the agent hung up (BYE from the agent's phone)
  kCallerNoAck,        // "caller-no-ack": the caller never confirmed the engine's answer (ACK)
  kSessionExpired,     // "session-expired": a session timer ran out without a refresh
  kMediaTimeout,       // "media-timeout": no media from a leg for too long
  kQueueExit,          // "queue-exit": left through a configured exit (see CallExited's reason)
  kTransfer,           // "transfer": handed outside, or a consultation joined by a transfer
  kDialFailed,         // "dial-failed": a call an agent placed was not answered (outbound_failed)
  kSystem,             // "system": the engine ended it (the call a consultation was for ended)
  kAgentRelease,       // "agent-release": the agent ended it from the desktop (API)
  kSupervisorRelease,  // "supervisor-release": a supervisor ended it (force release, API)
  kIvr                 // "ivr": an IVR menu or a call flow ended it (its hang-up or voicemail)
};

// The one final event of every call. `cause`: the one given to hang_up; kQueueExit after
// an exit (kVoicemail, kCallback, kHungUp); kTransfer for a call transferred outside and a
// consultation joined by complete_attended_transfer; kDialFailed after outbound_failed;
// kSystem for a consultation that ended because the call it was for ended.
struct CallFinished {
  CallId call;
  TenantId tenant;
  QueueId queue;  // the last queue the call was in
  AgentId agent;  // the agent who answered (kCompleted), or who transferred it (kTransferred)
  FinalState state;
  TimePoint arrived;  // first entered the engine
  Duration waited;    // time in the last queue before answer/abandon/exit
  Duration talk;      // over the whole call: every agent's part, also before a transfer
  Duration hold;
  TimePoint at;
  HangupCause cause = HangupCause::kUnspecified;  // who or what ended the call
};

// An agent handed their connected inbound call on (RoutingCore::transfer_to_queue,
// transfer_external, complete_attended_transfer). Emitted before anything the transfer
// causes: the agent's release (their AgentStateChanged), the consultation call's
// CallFinished, then
//   kQueue:    a CallQueued for `to_queue`: the call waits there again, preferring
//              `to_agent` (if valid) for a while;
//   kExternal: the call's CallFinished (kTransferred): an outside party has it now;
//   kAttended: after a consultation call the agent placed: with `to_agent` valid (an
//              internal consultation) the call stays connected, now to that agent; with
//              `to_agent` invalid (an outbound consultation) the call's CallFinished
//              (kTransferred) follows.
struct CallTransferred {
  enum class Kind : std::uint8_t { kQueue, kExternal, kAttended };
  CallId call;
  TenantId tenant;
  QueueId from_queue;  // the queue the call was answered in
  QueueId to_queue;    // kQueue: where it waits now; invalid otherwise
  AgentId from_agent;  // the agent who had the call
  AgentId to_agent;    // preferred (kQueue) or consulted (kAttended) agent; may be invalid
  Kind kind;
  TimePoint at;
  // from_agent's part of the call: talk and hold from when they got it until now.
  Duration talk{0};
  Duration hold{0};
};

struct OverflowLevelChanged {
  QueueId queue;
  TenantId tenant;
  int from_tier;
  int to_tier;
  TimePoint at;
};

enum class AlertKind : std::uint8_t { kBreakOverrun };

struct SupervisorAlert {
  AlertKind kind;
  TenantId tenant;
  TeamId team;
  AgentId agent;
  ReasonId reason;
  Duration overrun;  // how far past the limit at the time of the alert
  TimePoint at;
};

struct BreakWaitlisted {
  AgentId agent;
  TenantId tenant;
  TeamId team;
  ReasonId reason;
  int position;  // 1-based place in the team's wait list
  TimePoint at;
};

// ---- Non-voice tasks (engine/core/task.h) ----

// A task waits in `queue`: created there, or back after a transfer or an agent's logout.
struct TaskQueued {
  TaskId task;
  TenantId tenant;
  QueueId queue;
  Channel channel;
  AgentId preferred;  // a transfer directed it to this agent for a while; may be invalid
  TimePoint at;
  // What the task brought with it (for records and the agent's screen), and the queue's
  // service-level threshold at the time the task joined.
  std::string subject;
  std::string customer;
  int vip_level = 0;
  Duration sl_threshold{0};
};

// The router chose `agent` for `task`: the agent's desktop shows the offer, which the agent
// accepts or declines within `timeout`.
struct TaskOffered {
  TaskId task;
  TenantId tenant;
  QueueId queue;
  AgentId agent;
  Channel channel;
  Duration timeout;
  TimePoint at;
};

// An offer ended without the agent accepting: kNoAnswer (timeout), kDeclined, kCallerGone
// (the task was cancelled) or kWithdrawn (the agent logged out or left the configuration).
struct TaskOfferEnded {
  TaskId task;
  TenantId tenant;
  AgentId agent;
  OfferEndReason reason;
  TimePoint at;
};

struct TaskAccepted {
  TaskId task;
  TenantId tenant;
  QueueId queue;
  AgentId agent;
  Channel channel;
  Duration waited;  // time in this queue until accepted
  TimePoint at;
};

// An accepted task left its agent for a queue (a transfer, or the agent was logged out);
// a TaskQueued for `to_queue` follows.
struct TaskTransferred {
  TaskId task;
  TenantId tenant;
  QueueId from_queue;
  QueueId to_queue;
  AgentId from_agent;
  AgentId to_agent;  // preferred in to_queue for a while; may be invalid
  Cause cause;       // kAgent: a transfer; kSupervisor or kSystem: the agent was logged out
  Duration handled;  // from_agent's part: accepted until now
  TimePoint at;
};

// The one final event of every task.
struct TaskFinished {
  TaskId task;
  TenantId tenant;
  QueueId queue;  // the last queue the task was in
  AgentId agent;  // the agent who had it (kCompleted, kCancelled)
  Channel channel;
  TaskFinalState state;
  TimePoint created;
  Duration waited;   // time in the last queue until accepted, or until it ended unaccepted
  Duration handled;  // over the whole task: every agent's part, also before a transfer
  TimePoint at;
};

// New alternatives go at the end: the index of an event is part of simulation trace hashes.
// The one event of an inbound call that ended before it entered any queue: in an IVR menu
// or a call flow (its hang-up, voicemail or transfer outside, the caller hanging up),
// RoutingCore::end_before_queue. The core never held the call; the event is for its
// record. `entry`: where it ended ("menu main", "flow welcome").
struct CallEndedBeforeQueue {
  CallId call;
  TenantId tenant;
  std::string caller_number;
  std::string dialed_number;
  int vip_level = 0;
  FinalState state = FinalState::kAbandoned;
  HangupCause cause = HangupCause::kUnspecified;
  std::string entry;
  std::vector<std::pair<std::string, std::string>> attributes;  // what menus and flows set
  TimePoint arrived;                                            // entered the engine
  TimePoint at;
};

using CoreEvent =
    std::variant<AgentStateChanged, CallQueued, CallOffered, OfferEnded, CallConnected,
                 CallEscalated, CallExited, CallFinished, OverflowLevelChanged, SupervisorAlert,
                 BreakWaitlisted, CallTransferred, TaskQueued, TaskOffered, TaskOfferEnded,
                 TaskAccepted, TaskTransferred, TaskFinished, CallEndedBeforeQueue>;

class CoreObserver {
 public:
  virtual ~CoreObserver() = default;
  virtual void on_event(const CoreEvent& event) = 0;
};

const char* to_string(OfferEndReason r);
const char* to_string(ExitReason r);
const char* to_string(FinalState s);
const char* to_string(HangupCause c);
const char* to_string(AlertKind k);
const char* to_string(CallTransferred::Kind k);

}  // namespace acd::core
