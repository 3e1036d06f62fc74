// Call control: what an agent's desktop or a supervisor's console may ask of a call in
// progress, in plain values. The API builds these requests (engine/api), the SIP side
// acts on them (engine/sip) as it acts on the same requests from an agent's phone
// (re-INVITE hold, REFER), and tells the routing core what changed.
#pragma once

#include <cstdint>
#include <string>

#include "engine/core/ids.h"

namespace acd::core {

enum class CallAction : std::uint8_t {
  kHold,             // the caller hears music on hold, the agent silence; the core counts it
  kRetrieve,         // back to the conversation
  kHangUp,           // ends the call for everybody (agent-release / supervisor-release)
  kPauseRecording,   // nothing is written to the call's recording until resumed
  kResumeRecording,  //
  kTransfer,         // blind: to `target`, an agent (name or extension), a queue or a number
  kMonitor,          // rings the phone `target` and lets it hear caller and agent
  kWhisper,          // as kMonitor, and the agent hears the supervisor (the caller does not)
  kBarge,            // as kMonitor, and everybody hears everybody
  kIntercept,        // rings the phone `target`; when it answers it takes the call over
  // A consultation placed by the desktop: the caller is held and the engine rings
  // `target` (an agent: transfer_to kAgent, or an outside number: kNumber); when it
  // answers the agent's phone talks to it.
  kConsult,
  kCompleteTransfer,  // the caller goes to the consulted party; the agent leaves
  kConference,        // caller, agent and consulted party all hear each other
  kCancelConsult,     // the consulted party is hung up; the agent has the caller back
  // Click-to-dial for an agent on no call: the engine rings the agent's own phone (asking
  // it to answer at once), then `target` (an agent: an internal call, or a number).
  kDial
};
const char* to_string(CallAction action);  // "hold", "retrieve", "hang-up", ...

// What kind of party a transfer's target names.
enum class TransferTo : std::uint8_t {
  kAgent,  // back to the call's queue, waiting for this agent first (sticky)
  kQueue,  // to a queue of the call's tenant
  kNumber  // to an outside number through the tenant's outbound trunk, where allowed
};

struct CallControl {
  CallAction action = CallAction::kHold;
  TenantId tenant;
  // Whose call: the call this agent is connected to (answered from a queue, or placed).
  AgentId agent;
  // kTransfer, kConsult, kDial: an agent's name or extension, a queue's name (transfers),
  // or an outside number, as `transfer_to` says.
  // kMonitor, kWhisper, kBarge, kIntercept: the extension (or name) of an agent of the
  // tenant whose registered phone the supervisor listens on.
  std::string target;
  TransferTo transfer_to = TransferTo::kQueue;
  // Asked by a supervisor (kHangUp: "supervisor-release"; transfers: Cause::kSupervisor).
  bool by_supervisor = false;
  // Who asked, for the log (the API user's name).
  std::string requested_by;
};

}  // namespace acd::core
