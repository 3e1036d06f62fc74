#include "engine/core/agent_state.h"

namespace acd::core {

const char* to_string(AgentState s) {
  switch (s) {
    case AgentState::kLoggedOut: return "LoggedOut";
    case AgentState::kNotReady: return "NotReady";
    case AgentState::kReady: return "Ready";
    case AgentState::kReserved: return "Reserved";
    case AgentState::kRinging: return "Ringing";
    case AgentState::kDialing: return "Dialing";
    case AgentState::kTalking: return "Talking";
    case AgentState::kHeld: return "Held";
    case AgentState::kWrapUp: return "WrapUp";
  }
  return "?";
}

const char* to_string(CallKind k) {
  switch (k) {
    case CallKind::kNone: return "none";
    case CallKind::kInbound: return "inbound";
    case CallKind::kOutbound: return "outbound";
    case CallKind::kInternal: return "internal";
  }
  return "?";
}

const char* to_string(Cause c) {
  switch (c) {
    case Cause::kAgent: return "agent";
    case Cause::kSupervisor: return "supervisor";
    case Cause::kRouter: return "router";
    case Cause::kCall: return "call";
    case Cause::kTimer: return "timer";
    case Cause::kSystem: return "system";
  }
  return "?";
}

bool transition_exists(AgentState from, AgentState to) {
  using S = AgentState;
  switch (from) {
    case S::kLoggedOut: return to == S::kNotReady || to == S::kReady;
    case S::kNotReady:  // NotReady -> NotReady changes the reason code
      return to == S::kNotReady || to == S::kReady || to == S::kLoggedOut || to == S::kDialing ||
             to == S::kRinging;
    case S::kReady:
      return to == S::kNotReady || to == S::kReserved || to == S::kRinging || to == S::kDialing ||
             to == S::kLoggedOut;
    case S::kReserved:
      return to == S::kRinging || to == S::kTalking || to == S::kReady || to == S::kNotReady ||
             to == S::kLoggedOut;
    case S::kRinging:
      return to == S::kTalking || to == S::kReady || to == S::kNotReady || to == S::kLoggedOut;
    case S::kDialing:  // LoggedOut: a forced logout pending when the dial fails
      return to == S::kTalking || to == S::kReady || to == S::kNotReady || to == S::kLoggedOut;
    case S::kTalking:
      return to == S::kHeld || to == S::kWrapUp || to == S::kReady || to == S::kNotReady ||
             to == S::kLoggedOut;
    case S::kHeld:
      return to == S::kTalking || to == S::kWrapUp || to == S::kReady || to == S::kNotReady ||
             to == S::kLoggedOut;
    case S::kWrapUp: return to == S::kReady || to == S::kNotReady || to == S::kLoggedOut;
  }
  return false;
}

}  // namespace acd::core
