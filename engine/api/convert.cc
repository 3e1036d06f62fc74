#include "engine/api/convert.h"

namespace acd::api {

namespace v1 = acd::v1;

v1::AgentState to_proto(core::AgentState state) {
  switch (state) {
    case core::AgentState::kLoggedOut: return v1::AGENT_STATE_LOGGED_OUT;
    case core::AgentState::kNotReady: return v1::AGENT_STATE_NOT_READY;
    case core::AgentState::kReady: return v1::AGENT_STATE_READY;
    case core::AgentState::kReserved: return v1::AGENT_STATE_RESERVED;
    case core::AgentState::kRinging: return v1::AGENT_STATE_RINGING;
    case core::AgentState::kDialing: return v1::AGENT_STATE_DIALING;
    case core::AgentState::kTalking: return v1::AGENT_STATE_TALKING;
    case core::AgentState::kHeld: return v1::AGENT_STATE_HELD;
    case core::AgentState::kWrapUp: return v1::AGENT_STATE_WRAP_UP;
  }
  return v1::AGENT_STATE_UNSPECIFIED;
}

v1::ChangeCause to_proto(core::Cause cause) {
  switch (cause) {
    case core::Cause::kAgent: return v1::CHANGE_CAUSE_AGENT;
    case core::Cause::kSupervisor: return v1::CHANGE_CAUSE_SUPERVISOR;
    case core::Cause::kRouter: return v1::CHANGE_CAUSE_ROUTER;
    case core::Cause::kCall: return v1::CHANGE_CAUSE_CALL;
    case core::Cause::kTimer: return v1::CHANGE_CAUSE_TIMER;
    case core::Cause::kSystem: return v1::CHANGE_CAUSE_SYSTEM;
  }
  return v1::CHANGE_CAUSE_UNSPECIFIED;
}

void set_timestamp(core::TimePoint at, google::protobuf::Timestamp& out) {
  const auto ns = at.time_since_epoch().count();
  constexpr std::int64_t kBillion = 1'000'000'000;
  std::int64_t seconds = ns / kBillion;
  std::int64_t nanos = ns % kBillion;
  if (nanos < 0) {
    nanos += kBillion;
    --seconds;
  }
  out.set_seconds(seconds);
  out.set_nanos(static_cast<std::int32_t>(nanos));
}

void fill_agent_status(const core::RoutingCore& core, core::AgentId agent, const std::string& name,
                       v1::AgentStatus& out) {
  out.set_agent(name);
  const auto view = core.agent(agent);
  if (!view) {
    out.set_state(v1::AGENT_STATE_LOGGED_OUT);
    return;
  }
  out.set_state(to_proto(view->state));
  if (view->state == core::AgentState::kNotReady)
    out.set_reason(std::string(core.reason_name(view->reason)));
  if (view->call.valid()) out.set_call_id(static_cast<std::int64_t>(view->call.value));
  set_timestamp(view->since, *out.mutable_since());
}

}  // namespace acd::api
