// Conversions between the routing core's values and the acd.v1 messages.
// Thread-safety: fill_* read the core: call them on the core's thread.
#pragma once

#include <string>

#include "acd/v1/common.pb.h"
#include "engine/core/routing_core.h"

namespace acd::api {

acd::v1::AgentState to_proto(core::AgentState state);
acd::v1::ChangeCause to_proto(core::Cause cause);
// Core time (Unix-epoch nanoseconds in the daemon) as a protobuf Timestamp.
void set_timestamp(core::TimePoint at, google::protobuf::Timestamp& out);
// `agent`'s state now (`name`: its configured name).
void fill_agent_status(const core::RoutingCore& core, core::AgentId agent, const std::string& name,
                       acd::v1::AgentStatus& out);

}  // namespace acd::api
