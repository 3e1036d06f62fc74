// Non-voice tasks: chats, e-mails, SMS, web forms and callback requests that the same
// router offers to agents as it offers calls (the queue's skills, tiers, escalation,
// priority and strategy), within a per-agent capacity per channel.
//
// The rules (docs/ARCHITECTURE.md, "Omnichannel tasks"):
//   - An agent takes tasks only while Ready (not on a call, not in wrap-up, not NotReady),
//     up to their capacity on each channel; channels are independent of each other (three
//     chats and an e-mail at once when the capacities say so).
//   - Voice is exclusive: an agent holding any task (offered or accepted) is offered no
//     call, and an agent on a call (or in wrap-up) is offered no task. When their last task
//     ends, a Ready agent is offered the longest-waiting call first, then tasks.
//   - Among eligible agents the router prefers the lowest tier and penalty, then the agent
//     with the fewest tasks in hand, then the queue's strategy (longest idle counts from
//     the agent's last task or call).
//   - An offer not accepted within the queue's ring timeout goes to another agent; the
//     agent is treated by the queue's RONA policy (not-ready or logout move a Ready agent to
//     NotReady "no-answer"; tasks in hand are kept) and avoided by that task for the
//     queue's rona_retry.
//   - A NotReady agent keeps and may finish their tasks. An agent with accepted tasks may
//     not log out; a supervisor's forced logout returns them to their queues.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/model.h"
#include "engine/core/time.h"

namespace acd::core {

// An agent's tasks in hand per channel, indexed by Channel.
using ChannelLoad = std::array<int, kChannelCount>;

// A task entering a queue. The id is chosen by whoever creates the task and must be unique
// among tasks in the core.
struct TaskSpec {
  TaskId id;
  TenantId tenant;
  Channel channel = Channel::kChat;
  std::string subject;   // what the agent sees first (a chat's first line, a mail subject)
  std::string customer;  // the customer's address: phone number, e-mail, chat handle
  int priority = 0;      // higher is served first
  int vip_level = 0;     // each level adds the queue's vip_boost
  std::vector<SkillRequirement> extra_skills;  // beyond the queue's own requirements
  std::vector<std::pair<std::string, std::string>> attributes;
};

enum class TaskPhase : std::uint8_t {
  kWaiting,  // in a queue, no agent chosen
  kOffered,  // offered to an agent who has not accepted yet
  kAccepted  // an agent works on it
};

struct TaskView {
  TaskId id;
  TenantId tenant;
  Channel channel = Channel::kChat;
  TaskPhase phase = TaskPhase::kWaiting;
  QueueId queue;
  AgentId agent;      // offered to or accepted by
  AgentId preferred;  // a transfer directed it to this agent (for a while)
  int position = 0;   // 1-based place among its queue's waiting tasks (kWaiting)
  TimePoint created;
  TimePoint enqueued;     // entered its current queue
  TimePoint accepted_at;  // kAccepted
};

enum class TaskFinalState : std::uint8_t {
  kCompleted,  // accepted by an agent, who completed it
  kAbandoned,  // cancelled before any agent accepted it (the customer left)
  kCancelled   // cancelled while an agent worked on it
};

const char* to_string(Channel c);
const char* to_string(TaskPhase p);
const char* to_string(TaskFinalState s);
// "chat", "email", "sms", "web-form", "callback"; nullopt for anything else.
std::optional<Channel> parse_channel(std::string_view text);

}  // namespace acd::core
