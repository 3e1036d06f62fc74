// The agent state machine: states, the causes of transitions, and the table of which
// transitions exist. RoutingCore drives the machine; this file is the single statement
// of what is allowed, so the API layer, the docs and the tests agree.
#pragma once

#include <cstdint>

namespace acd::core {

enum class AgentState : std::uint8_t {
  kLoggedOut,
  kNotReady,  // with a reason code
  kReady,     // idle, waiting for an offer
  kReserved,  // chosen for a call, phone not yet ringing
  kRinging,   // phone ringing (inbound offer, or an internal call to this agent)
  kDialing,   // placing an outbound or internal call
  kTalking,
  kHeld,   // the agent's call is on hold
  kWrapUp  // after-call work
};
constexpr int kAgentStateCount = 9;

// What kind of call the agent is on (Reserved .. WrapUp).
enum class CallKind : std::uint8_t { kNone, kInbound, kOutbound, kInternal };

// Who or what caused a transition.
enum class Cause : std::uint8_t {
  kAgent,       // the agent's own request (desktop or phone)
  kSupervisor,  // a supervisor forced it
  kRouter,      // the router offered a call
  kCall,        // call progress: ringing, answer, hang-up
  kTimer,       // wrap-up end, ring timeout, break grant
  kSystem       // configuration change, shutdown
};

const char* to_string(AgentState s);
const char* to_string(CallKind k);
const char* to_string(Cause c);

// True when the machine has an edge from `from` to `to`. Whether a particular request may
// take that edge (e.g. an agent may not leave Talking for Ready) is decided by the core.
bool transition_exists(AgentState from, AgentState to);

inline bool is_logged_in(AgentState s) {
  return s != AgentState::kLoggedOut;
}
inline bool is_on_call(AgentState s) {
  return s == AgentState::kReserved || s == AgentState::kRinging || s == AgentState::kDialing ||
         s == AgentState::kTalking || s == AgentState::kHeld;
}

}  // namespace acd::core
