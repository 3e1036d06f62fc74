// Conversions between the routing core's values and the acd.v1 messages.
// Thread-safety: fill_* read the core: call them on the core's thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <string_view>

#include "acd/v1/agent_service.pb.h"
#include "acd/v1/common.pb.h"
#include "acd/v1/task_service.pb.h"
#include "engine/core/routing_core.h"
#include "engine/core/task.h"

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

// ---- What a call or task comes with (TaskService.CreateTask, SupervisorService.ExplainRoute)
// Each check answers INVALID_ARGUMENT naming `field`, or nullopt when the value is fine.
inline constexpr int kMaxAttributes = 64;
inline constexpr std::size_t kMaxAttributeKey = 64;
inline constexpr std::size_t kMaxAttributeValue = 1024;
// -1000000..1000000, as the routing core takes priorities.
std::optional<grpc::Status> check_priority(int priority);
// 0..10.
std::optional<grpc::Status> check_vip_level(int vip_level);
// At most `max` bytes.
std::optional<grpc::Status> check_size(std::string_view field, const std::string& value,
                                       std::size_t max);
// One attribute: a key of 1..`max_key` bytes, a value of at most kMaxAttributeValue bytes.
std::optional<grpc::Status> check_attribute(std::string_view field, const std::string& key,
                                            const std::string& value,
                                            std::size_t max_key = kMaxAttributeKey);
// At most kMaxAttributes entries (`more`: entries given elsewhere in the request), each
// checked by check_attribute.
std::optional<grpc::Status> check_attributes(
    std::string_view field, const google::protobuf::Map<std::string, std::string>& attributes,
    int more = 0);

// A queue's figures (QueueSnapshot) as a QueueStatus taken at `at`.
void fill_queue_status(const core::QueueSnapshot& queue, core::TimePoint at,
                       acd::v1::QueueStatus& out);
// The offer of `event` to its agent: the call's data from the core (call_spec), its
// queue's name; no screen pop.
void fill_offer(const core::RoutingCore& core, const core::CallOffered& event, acd::v1::Offer& out);
// `agent`'s state now (`name`: its configured name), with the tasks in hand.
void fill_agent_status(const core::RoutingCore& core, core::AgentId agent, const std::string& name,
                       acd::v1::AgentStatus& out);

// ---- Non-voice tasks ----
acd::v1::Channel to_proto(core::Channel channel);
// nullopt for CHANNEL_UNSPECIFIED and values this engine does not know.
std::optional<core::Channel> from_proto(acd::v1::Channel channel);
acd::v1::TaskPhase to_proto(core::TaskPhase phase);
acd::v1::TaskFinalState to_proto(core::TaskFinalState state);
void fill_channel_load(const core::ChannelLoad& load, acd::v1::ChannelLoad& out);
// A task in the core as a Task: its place (`view`) and what it came with (`spec`, which may
// be null: those fields stay empty).
void fill_task(const core::RoutingCore& core, const core::TaskView& view,
               const core::TaskSpec* spec, acd::v1::Task& out);
// The offer of `event` to its agent: the task's data from the core, its queue's name; no
// screen pop.
void fill_task_offer(const core::RoutingCore& core, const core::TaskOffered& event,
                     acd::v1::TaskOffer& out);

}  // namespace acd::api
