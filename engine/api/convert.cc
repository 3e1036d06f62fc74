#include "engine/api/convert.h"

#include "engine/api/api_context.h"

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
  fill_channel_load(view->tasks, *out.mutable_tasks());
}

}  // namespace acd::api

namespace acd::api {

void set_duration(core::Duration d, google::protobuf::Duration& out) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  constexpr std::int64_t kBillion = 1'000'000'000;
  // Seconds and nanos carry the same sign (protobuf's rule).
  out.set_seconds(ns / kBillion);
  out.set_nanos(static_cast<std::int32_t>(ns % kBillion));
}

v1::ChatMessage chat_message(const std::string& from_user, const std::string& from_agent,
                             const std::string& text) {
  v1::ChatMessage m;
  m.set_from_user(from_user);
  m.set_from_agent(from_agent);
  m.set_text(text);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  m.mutable_sent_at()->set_seconds(seconds.count());
  m.mutable_sent_at()->set_nanos(static_cast<std::int32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - seconds).count()));
  return m;
}

std::optional<grpc::Status> check_message_text(const std::string& text) {
  constexpr std::size_t kMaxText = 1024;
  if (text.empty())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "text: required: the message");
  if (text.size() > kMaxText)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "text: " + std::to_string(text.size()) + " bytes; at most 1024");
  return std::nullopt;
}

std::optional<grpc::Status> check_priority(int priority) {
  constexpr int kMaxPriority = 1000000;
  if (priority < -kMaxPriority || priority > kMaxPriority)
    return invalid_field("priority",
                         std::to_string(priority) + " out of range (expected -1000000..1000000)");
  return std::nullopt;
}

std::optional<grpc::Status> check_vip_level(int vip_level) {
  constexpr int kMaxVipLevel = 10;
  if (vip_level < 0 || vip_level > kMaxVipLevel)
    return invalid_field("vip_level", std::to_string(vip_level) + " out of range (expected 0..10)");
  return std::nullopt;
}

std::optional<grpc::Status> check_size(std::string_view field, const std::string& value,
                                       std::size_t max) {
  if (value.size() > max)
    return invalid_field(field,
                         std::to_string(value.size()) + " bytes; at most " + std::to_string(max));
  return std::nullopt;
}

std::optional<grpc::Status> check_attribute(std::string_view field, const std::string& key,
                                            const std::string& value, std::size_t max_key) {
  if (key.empty() || key.size() > max_key)
    return invalid_field(field, "key \"" + key.substr(0, max_key) + "\" of " +
                                    std::to_string(key.size()) + " bytes; expected 1 to " +
                                    std::to_string(max_key));
  if (value.size() > kMaxAttributeValue)
    return invalid_field(field, "the value of \"" + key + "\" has " + std::to_string(value.size()) +
                                    " bytes; at most " + std::to_string(kMaxAttributeValue));
  return std::nullopt;
}

std::optional<grpc::Status> check_attributes(
    std::string_view field, const google::protobuf::Map<std::string, std::string>& attributes,
    int more) {
  const int entries = static_cast<int>(attributes.size()) + more;
  if (entries > kMaxAttributes)
    return invalid_field(
        field, std::to_string(entries) + " entries; at most " + std::to_string(kMaxAttributes));
  for (const auto& [key, value] : attributes)
    if (auto refusal = check_attribute(field, key, value)) return refusal;
  return std::nullopt;
}

void fill_queue_status(const core::QueueSnapshot& q, core::TimePoint at, v1::QueueStatus& out) {
  out.set_queue(q.name);
  out.set_waiting(q.waiting);
  out.set_offering(q.offering);
  set_duration(q.longest_wait, *out.mutable_longest_wait());
  set_duration(q.estimated_wait, *out.mutable_estimated_wait());
  out.set_overflow_tier(q.overflow_tier);
  out.set_agents_logged_in(q.members_logged_in);
  out.set_agents_ready(q.members_ready);
  out.set_agents_busy(q.members_busy);
  out.set_entered(q.counters.entered);
  out.set_answered(q.counters.answered);
  out.set_abandoned(q.counters.abandoned);
  out.set_exited(q.counters.exited);
  out.set_handled(q.counters.handled);
  out.set_service_level(q.sl_answered());
  out.set_abandon_rate(q.abandon_rate());
  set_duration(q.asa(), *out.mutable_asa());
  set_duration(q.aht(), *out.mutable_aht());
  set_timestamp(at, *out.mutable_at());
  out.set_tasks_waiting(q.tasks_waiting);
  out.set_tasks_offered(q.tasks_offered);
  out.set_tasks_accepted(q.tasks_accepted);
  set_duration(q.longest_task_wait, *out.mutable_longest_task_wait());
  v1::TaskTotals& totals = *out.mutable_task_totals();
  totals.set_entered(q.counters.tasks_entered);
  totals.set_accepted(q.counters.tasks_accepted);
  totals.set_completed(q.counters.tasks_completed);
  totals.set_abandoned(q.counters.tasks_abandoned);
}

void fill_offer(const core::RoutingCore& core, const core::CallOffered& event, v1::Offer& out) {
  out.set_call_id(static_cast<std::int64_t>(event.call.value));
  out.set_queue(std::string(core.queue_name(event.queue)));
  set_duration(event.ring_timeout, *out.mutable_ring_timeout());
  if (const auto view = core.call(event.call))
    set_duration(event.at - view->enqueued, *out.mutable_waited());
  if (const core::CallSpec* spec = core.call_spec(event.call)) {
    out.set_caller_number(spec->caller_number);
    out.set_dialed_number(spec->dialed_number);
    out.set_vip_level(spec->vip_level);
    out.set_priority(spec->priority);
    auto& attributes = *out.mutable_attributes();
    for (const auto& [key, value] : spec->attributes) attributes[key] = value;
  }
}

}  // namespace acd::api

namespace acd::api {

v1::Channel to_proto(core::Channel channel) {
  switch (channel) {
    case core::Channel::kChat: return v1::CHANNEL_CHAT;
    case core::Channel::kEmail: return v1::CHANNEL_EMAIL;
    case core::Channel::kSms: return v1::CHANNEL_SMS;
    case core::Channel::kWebForm: return v1::CHANNEL_WEB_FORM;
    case core::Channel::kCallback: return v1::CHANNEL_CALLBACK;
  }
  return v1::CHANNEL_UNSPECIFIED;
}

std::optional<core::Channel> from_proto(v1::Channel channel) {
  switch (channel) {
    case v1::CHANNEL_CHAT: return core::Channel::kChat;
    case v1::CHANNEL_EMAIL: return core::Channel::kEmail;
    case v1::CHANNEL_SMS: return core::Channel::kSms;
    case v1::CHANNEL_WEB_FORM: return core::Channel::kWebForm;
    case v1::CHANNEL_CALLBACK: return core::Channel::kCallback;
    default: return std::nullopt;
  }
}

v1::TaskPhase to_proto(core::TaskPhase phase) {
  switch (phase) {
    case core::TaskPhase::kWaiting: return v1::TASK_PHASE_WAITING;
    case core::TaskPhase::kOffered: return v1::TASK_PHASE_OFFERED;
    case core::TaskPhase::kAccepted: return v1::TASK_PHASE_ACCEPTED;
  }
  return v1::TASK_PHASE_UNSPECIFIED;
}

v1::TaskFinalState to_proto(core::TaskFinalState state) {
  switch (state) {
    case core::TaskFinalState::kCompleted: return v1::TASK_FINAL_STATE_COMPLETED;
    case core::TaskFinalState::kAbandoned: return v1::TASK_FINAL_STATE_ABANDONED;
    case core::TaskFinalState::kCancelled: return v1::TASK_FINAL_STATE_CANCELLED;
  }
  return v1::TASK_FINAL_STATE_UNSPECIFIED;
}

void fill_channel_load(const core::ChannelLoad& load, v1::ChannelLoad& out) {
  auto of = [&load](core::Channel c) { return load[static_cast<std::size_t>(c)]; };
  out.set_chat(of(core::Channel::kChat));
  out.set_email(of(core::Channel::kEmail));
  out.set_sms(of(core::Channel::kSms));
  out.set_web_form(of(core::Channel::kWebForm));
  out.set_callback(of(core::Channel::kCallback));
}

namespace {

// The fields a task came with, shared by Task and TaskOffer.
template <class Message>
void fill_task_spec(const core::TaskSpec& spec, Message& out) {
  out.set_subject(spec.subject);
  out.set_customer(spec.customer);
  out.set_priority(spec.priority);
  out.set_vip_level(spec.vip_level);
  auto& attributes = *out.mutable_attributes();
  for (const auto& [key, value] : spec.attributes) attributes[key] = value;
}

}  // namespace

void fill_task(const core::RoutingCore& core, const core::TaskView& view,
               const core::TaskSpec* spec, v1::Task& out) {
  out.set_id(static_cast<std::int64_t>(view.id.value));
  out.set_channel(to_proto(view.channel));
  out.set_phase(to_proto(view.phase));
  out.set_queue(std::string(core.queue_name(view.queue)));
  if (view.agent.valid()) out.set_agent(std::string(core.agent_name(view.agent)));
  if (view.preferred.valid()) out.set_preferred_agent(std::string(core.agent_name(view.preferred)));
  if (spec != nullptr) fill_task_spec(*spec, out);
  if (view.phase == core::TaskPhase::kWaiting) out.set_position(view.position);
  set_timestamp(view.created, *out.mutable_created());
  set_timestamp(view.enqueued, *out.mutable_enqueued());
  if (view.phase == core::TaskPhase::kAccepted)
    set_timestamp(view.accepted_at, *out.mutable_accepted());
}

void fill_task_offer(const core::RoutingCore& core, const core::TaskOffered& event,
                     v1::TaskOffer& out) {
  out.set_task_id(static_cast<std::int64_t>(event.task.value));
  out.set_channel(to_proto(event.channel));
  out.set_queue(std::string(core.queue_name(event.queue)));
  set_duration(event.timeout, *out.mutable_timeout());
  if (const auto view = core.task(event.task))
    set_duration(event.at - view->enqueued, *out.mutable_waited());
  if (const core::TaskSpec* spec = core.task_spec(event.task)) fill_task_spec(*spec, out);
}

}  // namespace acd::api
