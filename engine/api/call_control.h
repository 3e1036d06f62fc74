// Call control through the API: AgentService.Hold/Retrieve/Transfer/HangUp/
// SetRecordingPaused and SupervisorService.ListenIn/Intercept/ForceRelease build a
// core::CallControl, the host's SIP side acts on it (ApiHooks::control_call), and its
// verdict finishes the gRPC call.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

#include "engine/api/api_context.h"
#include "engine/core/call_control.h"

namespace acd::api {

// Sends `request` and finishes `reactor` exactly once with the verdict. `target_field`:
// the request field that named the target (a transfer's agent or queue, a supervisor's
// phone): a target the SIP side does not know becomes INVALID_ARGUMENT naming it.
// UNAVAILABLE when the engine handles no calls (no SIP) or is shutting down.
void send_call_control(const ApiContext& context, grpc::ServerUnaryReactor* reactor,
                       core::CallControl request, std::string target_field = {});

// An outside number a transfer may dial: 1 to 32 digits, optionally after one '+'.
bool is_dialable_number(std::string_view number);

}  // namespace acd::api
