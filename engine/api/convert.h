// Conversions between the routing core's values and the acd.v1 messages.
// Thread-safety: fill_* read the core: call them on the core's thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

#include "acd/v1/agent_service.pb.h"
#include "acd/v1/common.pb.h"
#include "engine/core/routing_core.h"

namespace acd::api {

acd::v1::AgentState to_proto(core::AgentState state);
acd::v1::ChangeCause to_proto(core::Cause cause);
// Core time (Unix-epoch nanoseconds in the daemon) as a protobuf Timestamp.
void set_timestamp(core::TimePoint at, google::protobuf::Timestamp& out);
void set_duration(core::Duration d, google::protobuf::Duration& out);
// A chat message from `caller` with `text`, stamped now (recipients set by the caller).
// (Check the text with check_message_text first.)
acd::v1::ChatMessage chat_message(const std::string& from_user, const std::string& from_agent,
                                  const std::string& text);
// INVALID_ARGUMENT naming `text` when the text is empty or longer than 1024 bytes.
std::optional<grpc::Status> check_message_text(const std::string& text);
// A queue's figures (QueueSnapshot) as a QueueStatus taken at `at`.
void fill_queue_status(const core::QueueSnapshot& queue, core::TimePoint at,
                       acd::v1::QueueStatus& out);
// The offer of `event` to its agent: the call's data from the core (call_spec), its
// queue's name; no screen pop.
void fill_offer(const core::RoutingCore& core, const core::CallOffered& event, acd::v1::Offer& out);
// `agent`'s state now (`name`: its configured name).
void fill_agent_status(const core::RoutingCore& core, core::AgentId agent, const std::string& name,
                       acd::v1::AgentStatus& out);

}  // namespace acd::api
