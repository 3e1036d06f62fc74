// The domain model's configuration: tenants, skills, teams, agents, queues and queue
// membership. Every entity belongs to exactly one tenant and may reference only entities
// of the same tenant; RoutingCore::apply_config refuses anything that crosses tenants.
// These are plain values, built by the config layer (YAML or, later, PostgreSQL) and
// handed to the core as a whole; the core reconciles its live state with them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/calendar.h"
#include "engine/core/ids.h"
#include "engine/core/time.h"
#include "engine/core/time_zone.h"

namespace acd::core {

constexpr int kMinProficiency = 1;
constexpr int kMaxProficiency = 10;
constexpr int kMaxTier = 9;

struct TenantConfig {
  TenantId id;
  std::string name;
  // The zone of routing rules' now.time and now.weekday; null: UTC.
  std::shared_ptr<const TimeZone> time_zone = nullptr;
  // What open('<name>') and holiday('<name>') read, each in its own zone; names unique.
  std::vector<BusinessCalendar> calendars = {};
};

struct SkillConfig {
  SkillId id;
  TenantId tenant;
  std::string name;
};

// At most `max_concurrent` agents of a team on one of `reasons` at once, each for at most
// `max_duration`; an over-limit request is refused or wait-listed; an overrun raises a
// supervisor alert. Zero means "no limit".
struct BreakPolicy {
  enum class OverLimit : std::uint8_t { kRefuse, kWaitlist };
  std::vector<std::string> reasons;
  int max_concurrent = 0;
  Duration max_duration{0};
  OverLimit over_limit = OverLimit::kRefuse;
};

struct TeamConfig {
  TeamId id;
  TenantId tenant;
  std::string name;
  BreakPolicy break_policy;
};

enum class WorkMode : std::uint8_t {
  kAutoReady,  // wrap-up ends -> Ready
  kManual      // wrap-up ends -> NotReady("manual-ready"); the agent readies themself
};

// The channels of non-voice tasks (engine/core/task.h). Voice calls are not a channel here:
// an agent takes one call at a time, and no call while holding tasks.
enum class Channel : std::uint8_t { kChat, kEmail, kSms, kWebForm, kCallback };
constexpr std::size_t kChannelCount = 5;
constexpr int kMaxChannelCapacity = 32;

// Tasks (offered or accepted) an agent may hold at once per channel, indexed by Channel;
// 0: the agent takes no task of that channel.
using ChannelCapacity = std::array<int, kChannelCount>;
// One task of each channel at a time unless configured otherwise.
constexpr ChannelCapacity kDefaultCapacity{1, 1, 1, 1, 1};

struct AgentSkill {
  SkillId skill;
  int level = kMinProficiency;  // proficiency 1..10
};

struct AgentConfig {
  AgentId id;
  TenantId tenant;
  std::string name;
  std::string extension;
  TeamId team;  // may be invalid (no team)
  std::vector<AgentSkill> skills;
  WorkMode work_mode = WorkMode::kAutoReady;
  Duration outbound_wrap_up{0};                 // after-call work after outbound calls
  ChannelCapacity capacity = kDefaultCapacity;  // non-voice tasks held at once, per channel
  // What routing rules read as agent.languages and agent.attr.<key> (docs/RULES.md).
  std::vector<std::string> languages;                           // e.g. "en", "es"; no duplicates
  std::vector<std::pair<std::string, std::string>> attributes;  // keys unique
};

enum class Strategy : std::uint8_t {
  kLongestIdle,
  kLeastTalkTime,
  kFewestCalls,
  kRoundRobin,  // round robin with memory: the member after the last one offered
  kTopDown,     // always the first free member in list order
  kRingAll,
  kRandom,
  kWeightedRandom,
  kBestProficiency  // highest proficiency in the queue's skills, ties by longest idle
};

struct SkillRequirement {
  SkillId skill;
  int min_level = kMinProficiency;
  bool optional = false;  // required until an escalation step drops optional skills
};

// One step of per-call escalation, taken when the call has waited `after` in the queue.
// Steps are cumulative: a later step keeps what earlier steps relaxed.
struct EscalationStep {
  Duration after{0};
  int relax_min_level = 0;            // minimum proficiency lowered by this much (floor 1)
  bool drop_optional_skills = false;  // optional requirements no longer apply
  int max_tier = 0;                   // agent tiers 1..max_tier may take the call (0: unchanged)
};

// The sustained-condition overflow rule: when at least `min_calls` calls have waited
// `min_wait` or more, continuously for `sustain`, the next backup tier joins (up to
// `max_tier`), and another after each further `sustain`. Hysteresis: a tier leaves again
// only when fewer than `clear_below_calls` calls have waited `min_wait`, continuously
// for `clear_after`.
struct OverflowRule {
  bool enabled = false;
  int min_calls = 5;
  Duration min_wait = std::chrono::seconds(10);
  Duration sustain = std::chrono::minutes(5);
  int max_tier = 4;
  int clear_below_calls = 2;
  Duration clear_after = std::chrono::minutes(2);
  bool operator==(const OverflowRule&) const = default;
};

struct ExitDestination {
  enum class Kind : std::uint8_t { kHangup, kQueue, kVoicemail, kCallback };
  Kind kind = Kind::kHangup;
  QueueId queue;       // kQueue: the queue to move to (same tenant)
  std::string target;  // kVoicemail: mailbox; kHangup: message prompt; kCallback: note
  std::string number;  // kCallback: the number to call back; empty: the caller's
};

// What happens to an agent who does not answer an offer before the ring timeout.
enum class RonaPolicy : std::uint8_t {
  kNotReady,  // NotReady("no-answer"): the agent must ready themself again
  kReady,     // back to Ready (the call will not be re-offered to them for `rona_retry`)
  kLogout
};

// Rule-based targets (docs/RULES.md): which members may take a call or task, step by step
// as its wait grows, and in which order. A waiting call or task is at step i from
// `steps[i].after` (steps[0].after is zero; `after` strictly increases) until the next step
// begins; at step i exactly the members for whom steps[i].target holds may take it (steps
// are not cumulative: a wider step names the agents it adds). Candidates are ranked by
// `order_by` (empty: none), then tier, penalty and the queue's strategy. A queue with
// routing steps has no escalation steps and no overflow rule (its targets can name
// agent.tier); its required skills still apply, without relaxation.
struct RoutingStep {
  Duration after{0};
  std::string target;  // a condition over task.*, agent.*, queue.*, now.*
  bool operator==(const RoutingStep&) const = default;
};

struct QueueRouting {
  std::vector<RoutingStep> steps;  // empty: the queue routes by skills and escalation
  std::string order_by;            // "agent.skill.billing DESC, agent.idle DESC"
  [[nodiscard]] bool enabled() const { return !steps.empty(); }
  bool operator==(const QueueRouting&) const = default;
};

struct QueueConfig {
  QueueId id;
  TenantId tenant;
  std::string name;
  Strategy strategy = Strategy::kLongestIdle;
  std::vector<SkillRequirement> required_skills;

  Duration sl_threshold = std::chrono::seconds(20);  // service-level threshold
  Duration ring_timeout = std::chrono::seconds(15);
  Duration wrap_up{0};          // timed after-call work; 0: none
  bool manual_wrap_up = false;  // wrap-up lasts until the agent ends it
  Duration default_handle_time =
      std::chrono::seconds(180);  // used for wait estimates before any call is handled

  // Exits. Zero means "no limit".
  Duration max_wait{0};
  int max_length = 0;
  bool join_when_empty = true;    // false: refuse callers when no member is logged in
  bool leave_when_empty = false;  // true: waiting callers leave when the last member logs out
  ExitDestination on_timeout;
  ExitDestination on_full;
  ExitDestination on_empty;

  // Priority: effective = priority + vip_level * vip_boost + aging_per_minute * minutes waited.
  double aging_per_minute = 0.0;
  int vip_boost = 100;

  std::vector<EscalationStep> escalation;  // sorted by `after`
  OverflowRule overflow;

  RonaPolicy rona_policy = RonaPolicy::kNotReady;
  Duration rona_retry =
      std::chrono::seconds(30);  // the call avoids an agent who failed to answer it this long
  int ring_all_limit = 32;       // ring-all: most agents rung at once

  // Sticky (last-agent) routing: a caller served within `sticky_window` prefers that agent
  // for up to `sticky_wait`. Zero window disables it.
  Duration sticky_window{0};
  Duration sticky_wait = std::chrono::seconds(30);

  // The music-on-hold class callers waiting in this queue hear (a name from
  // sip.media.music_on_hold); empty: the first class. The core does not use it.
  std::string music_on_hold;

  // Breakout: keys a waiting caller may press to leave the queue ('1': voicemail, '2': a
  // callback request, ...), and the prompt offering them, said after each position
  // announcement (a name in the tenant's prompt set; empty: none). The SIP side turns a
  // key into leave_queue(); the core does not use these.
  std::vector<std::pair<char, ExitDestination>> breakout;
  std::string breakout_prompt;

  QueueRouting routing;  // rule-based targets instead of skill escalation
};

struct QueueMember {
  QueueId queue;
  AgentId agent;
  int tier = 1;            // 1 = primary; 2.. = backup tiers brought in by escalation/overflow
  int penalty = 0;         // within a tier, lower penalty is tried first
  int queue_priority = 0;  // the agent's own preference among queues, lower first
  int weight = 1;          // weighted-random strategy
};

struct CoreConfig {
  std::vector<TenantConfig> tenants;
  std::vector<SkillConfig> skills;
  std::vector<TeamConfig> teams;
  std::vector<AgentConfig> agents;
  std::vector<QueueConfig> queues;
  // The order of members of a queue is its list order (top-down, round robin).
  std::vector<QueueMember> members;
};

const char* to_string(Strategy s);
const char* to_string(ExitDestination::Kind k);
const char* to_string(RonaPolicy p);

}  // namespace acd::core
