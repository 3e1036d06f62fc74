// Human output of acdctl: the API's messages as lines and tables for a terminal, and the
// `acdctl top` wallboard (its state, fed by the watch streams, and its rendering). Pure
// functions of their inputs (the time is passed in), so tests check them exactly.
// Thread-safety: plain values; Wallboard is not synchronized (acdctl top locks around it).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acd/v1/agent_service.pb.h"
#include "acd/v1/report_service.pb.h"
#include "acd/v1/supervisor_service.pb.h"
#include "acd/v1/task_service.pb.h"

namespace acd::cli {

using WallTime = std::chrono::system_clock::time_point;

// "READY", "NOT_READY", ... (the enum's name without its prefix).
std::string state_name(acd::v1::AgentState state);
// "1:05", "12:00:03" (hours only when there are any); negative durations as 0:00.
std::string clock_text(std::chrono::seconds d);
WallTime to_wall(const google::protobuf::Timestamp& t);
std::chrono::seconds to_seconds(const google::protobuf::Duration& d);

// "ann  NOT_READY (lunch)  since 10:02:03  call 17  tasks chat 2, email 1"
std::string agent_line(const acd::v1::AgentStatus& status);
// "chat 2, email 1": the channels with tasks; "-" when none.
std::string load_text(const acd::v1::ChannelLoad& load);
// "10:02:03  message   from ann (ann) to the supervisors: angry caller on 17"
std::string message_line(const acd::v1::ChatMessage& message);
// One line per event of an agent's stream.
std::string event_line(const acd::v1::AgentEvent& event);
// A table of queues / agents (a header, then one row each), as `acdctl queue list` shows.
std::string queue_table(const acd::v1::QueueUpdate& update, WallTime now);
std::string agent_table(const acd::v1::AgentUpdate& update, WallTime now);

// What `acdctl top` shows: the latest figures of each queue and the latest state of each
// agent, as the watch streams deliver them.
class Wallboard {
 public:
  void apply(const acd::v1::QueueUpdate& update);
  void apply(const acd::v1::AgentUpdate& update);
  // The screen at `now`: waiting times and time in state age with the clock between
  // updates. `width`/`height`: the terminal's size (rows beyond it are cut).
  [[nodiscard]] std::string render(WallTime now, int width, int height,
                                   const std::string& title) const;
  [[nodiscard]] bool empty() const { return queues_.empty() && agents_.empty(); }

 private:
  std::map<std::string, acd::v1::QueueStatus> queues_;
  std::map<std::string, acd::v1::AgentStatus> agents_;
};

// ---- Non-voice tasks (TaskService) ----

// "chat", "email", "sms", "web-form", "callback" (as acdctl's --channel takes them); "-" for
// UNSPECIFIED. channel_from_word reads them back (nullopt: no such channel).
std::string channel_word(acd::v1::Channel channel);
std::optional<acd::v1::Channel> channel_from_word(std::string_view word);
// "waiting", "offered", "accepted", "ended"; phase_from_word reads the first three back
// (acdctl task list --phase).
std::string phase_word(acd::v1::TaskPhase phase);
std::optional<acd::v1::TaskPhase> phase_from_word(std::string_view word);
// "task 7  chat  offered to ann  in support  from +15550100: order 1234 is late"
std::string task_line(const acd::v1::Task& task);
// Every field of a task, one "name: value" line each (acdctl task show).
std::string task_details(const acd::v1::Task& task, WallTime now);
// A table of tasks (a header, then one row each); WAITED: since the task entered its
// queue, at `now`.
std::string task_table(const acd::v1::ListTasksResponse& tasks, WallTime now);

// ---- Routing's dry run (SupervisorService.ExplainRoute, acdctl route explain) ----

// "longest-idle", "ring-all", ... (as the configuration writes strategies); "-" for
// UNSPECIFIED.
std::string strategy_word(acd::v1::QueueStrategy strategy);
// The dry run for people: the queue, its strategy, by rules or by skills and its ORDER BY;
// the steps (the current one marked); a table of the members (rank or '-', name, state,
// tier, penalty, whether each step admits them, the ORDER BY values, and why they are not
// a candidate: not_now, or the refusal at the current step); then who would be offered it
// ("would offer to: alice (then bob, carol)") or why nobody can take it now.
std::string route_explanation_text(const acd::v1::ExplainRouteResponse& explanation);

// ---- Reports and call records (ReportService) ----

// "2024-03-05 10:00:03" (UTC).
std::string date_time_text(WallTime t);
// "2024-03-05T10:00:03.250000Z": exact to the microsecond, and parse_time reads it back.
std::string iso_time_text(WallTime t);
// "hung-up" for CALL_FINAL_STATE_HUNG_UP (as calls.final_state says it); "-" for
// UNSPECIFIED. final_state_from_word reads it back (nullopt: no such state).
std::string final_state_word(acd::v1::CallFinalState state);
std::optional<acd::v1::CallFinalState> final_state_from_word(std::string_view word);
// A time as acdctl's --from and --to take it: "now"; "-30m", "-24h", "-7d" (that long
// before `now`); "2024-03-05" (midnight UTC); "2024-03-05T10:00", "2024-03-05 10:00:30",
// "2024-03-05T10:00:30.250" with an optional offset "Z", "+01:00", "-0500" (none: UTC).
// nullopt when it is none of these or not a real date and time.
std::optional<WallTime> parse_time(std::string_view text, WallTime now);
// Tables of the report service's answers (a header, then one row each; "-" where a figure
// is absent). call_table's header only when `header` (acdctl call search --all prints it
// once).
std::string call_table(const acd::v1::SearchCallsResponse& page, bool header = true);
std::string queue_report_table(const acd::v1::QueueReportResponse& report);
std::string agent_report_table(const acd::v1::AgentReportResponse& report);
std::string state_time_table(const acd::v1::AgentStateTimeResponse& report);
std::string monthly_volume_table(const acd::v1::AgentMonthlyVolumeResponse& report);

}  // namespace acd::cli
