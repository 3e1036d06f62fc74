// The facts one evaluation reads, resolved in advance by the caller so that evaluation never
// looks up a name. Arrays are indexed by the Schema's slots (the order of its lists). A slot
// beyond an array's end reads as absent: the empty string, proficiency 0, zero figures and a
// closed, non-holiday calendar. Views must outlive the evaluation; nothing is copied.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace acd::rules {

struct TaskFacts {
  std::string_view caller;                       // task.caller
  std::string_view dialled;                      // task.dialled
  std::string_view language;                     // task.language
  std::string_view channel;                      // task.channel
  double vip = 0;                                // task.vip
  double priority = 0;                           // task.priority
  std::int64_t waited_ms = 0;                    // task.waited
  std::span<const std::string_view> attributes;  // task.attr.<key>, by Schema::task_attributes
  std::span<const std::string_view> ivr;         // task.ivr.<key>, by Schema::ivr_keys
};

struct AgentFacts {
  std::string_view name;                         // agent.name
  std::string_view team;                         // agent.team
  std::span<const std::string_view> languages;   // agent.languages
  std::span<const std::uint8_t> skills;          // agent.skill.<skill> 1..10, 0 = lacks it
  std::int64_t idle_ms = 0;                      // agent.idle
  double tasks = 0;                              // agent.tasks
  std::span<const std::string_view> attributes;  // agent.attr.<key>, by Schema::agent_attributes
  // The candidate's membership of the queue being routed, so that one agent's facts differ
  // from queue to queue: its tier (1 = primary, 2..9 = backup tiers) and, within the tier, its
  // penalty (lower is tried first). An agent outside the queue keeps the defaults.
  double tier = 1;     // agent.tier
  double penalty = 0;  // agent.penalty
};

struct QueueFigures {
  double waiting = 0;                  // queue.<q>.waiting
  double ready = 0;                    // queue.<q>.ready
  std::int64_t longest_wait_ms = 0;    // queue.<q>.longest_wait
  std::int64_t estimated_wait_ms = 0;  // queue.<q>.estimated_wait
  double service_level = 0;            // queue.<q>.sl, a ratio 0..1
};

struct CalendarState {
  bool open = false;     // open('<calendar>')
  bool holiday = false;  // holiday('<calendar>')
};

inline constexpr TaskFacts kNoTask{};
inline constexpr AgentFacts kNoAgent{};

struct EvalContext {
  const TaskFacts* task = &kNoTask;          // never null
  const AgentFacts* agent = &kNoAgent;       // never null
  std::span<const QueueFigures> queues;      // by Schema::queues
  std::span<const CalendarState> calendars;  // by Schema::calendars
  int time_of_day_minutes = 0;               // now.time, 0..1439, tenant time zone
  int weekday = 0;                           // now.weekday: 0 = 'mon' .. 6 = 'sun'
};

}  // namespace acd::rules
