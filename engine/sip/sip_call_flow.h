// SipCallFlow: a call-flow session as the SIP service drives it, without knowing what runs
// it (the daemon adapts Lua call-flow scripts, engine/flows, to this; engine/sip depends on
// neither Lua nor engine/flows).
//
// The service starts the session when a call to a flow's dialled number has been answered,
// carries out each step it returns (plays prompts, collects DTMF digits, looks the caller
// up), answers the step and resumes the session, until the session is done: then it acts
// on the decision as it acts on an IVR menu's choice (a queue, voicemail, a callback, a
// hang-up, a transfer to a number). A caller hanging up mid-flow destroys the session.
//
// Thread-safety: a session belongs to the SIP thread once made; SipFlow::make_session is
// called on the SIP thread. A SipCustomerLookup may answer on any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/model.h"

namespace acd::sip {

// Play prompts (names of the tenant's prompt set), then answer SipFlowPlayed.
struct SipFlowPlay {
  std::vector<std::string> prompts;
};
// Play the prompt if any (keys may be pressed while it plays), then collect up to
// max_digits DTMF digits; '#' or `timeout` after the prompt without a key ends early.
// Answer SipFlowCollected.
struct SipFlowCollect {
  std::optional<std::string> prompt;
  int max_digits = 1;
  std::chrono::milliseconds timeout{5000};
};
// Look the customer of `number` up (SipCustomerLookup), then answer SipFlowLookedUp.
struct SipFlowLookup {
  std::string number;
};
// The session has decided: where the call goes, and what it takes into the queue.
struct SipFlowDone {
  enum class Kind : std::uint8_t { kQueue, kVoicemail, kCallback, kHangup, kTransfer };
  Kind kind = Kind::kHangup;
  core::QueueId queue;  // kQueue
  std::string target;   // kVoicemail: the box; kCallback, kTransfer: the number
  std::vector<std::pair<std::string, std::string>> attributes;  // for the routing core
  std::optional<int> priority;  // replaces the dialled number's priority when set
  // Skills the agent must have on top of the queue's own (CallSpec::extra_skills).
  std::vector<core::SkillRequirement> skills;
};
using SipFlowStep = std::variant<SipFlowPlay, SipFlowCollect, SipFlowLookup, SipFlowDone>;

struct SipFlowPlayed {
  bool completed = true;  // false: the prompt was missing, interrupted or not played
};
struct SipFlowCollected {
  std::string digits;  // '0'-'9', '*' (no '#'); empty: nothing pressed in time
};
struct SipFlowLookedUp {
  std::optional<std::map<std::string, std::string>> customer;  // nullopt: not found
};
using SipFlowAnswer = std::variant<SipFlowPlayed, SipFlowCollected, SipFlowLookedUp>;

class SipCallFlow {
 public:
  virtual ~SipCallFlow() = default;  // frees the session wherever it was
  // Called once, then resume() with the answer to each step but SipFlowDone.
  virtual SipFlowStep start() = 0;
  virtual SipFlowStep resume(const SipFlowAnswer& answer) = 0;
};

// What a session knows of its call.
struct SipFlowCall {
  core::CallId id;
  std::string tenant;
  std::string caller;
  std::string dialled;
};

// A tenant's flow, by name, as dialled numbers name it.
struct SipFlow {
  std::string name;
  std::function<std::unique_ptr<SipCallFlow>(const SipFlowCall& call)> make_session;
};

// The customer record of a number in tenant `tenant` (by name), as text fields; `done` is
// called exactly once, on any thread (nullopt: not found, or the lookup failed).
using SipCustomerLookup = std::function<void(
    const std::string& tenant, const std::string& number,
    std::function<void(std::optional<std::map<std::string, std::string>>)> done)>;

}  // namespace acd::sip
