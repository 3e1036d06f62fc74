// Human output of acdctl: the API's messages as lines and tables for a terminal, and the
// `acdctl top` wallboard (its state, fed by the watch streams, and its rendering). Pure
// functions of their inputs (the time is passed in), so tests check them exactly.
// Thread-safety: plain values; Wallboard is not synchronized (acdctl top locks around it).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "acd/v1/agent_service.pb.h"
#include "acd/v1/supervisor_service.pb.h"

namespace acd::cli {

using WallTime = std::chrono::system_clock::time_point;

// "READY", "NOT_READY", ... (the enum's name without its prefix).
std::string state_name(acd::v1::AgentState state);
// "1:05", "12:00:03" (hours only when there are any); negative durations as 0:00.
std::string clock_text(std::chrono::seconds d);
WallTime to_wall(const google::protobuf::Timestamp& t);
std::chrono::seconds to_seconds(const google::protobuf::Duration& d);

// "ann  NOT_READY (lunch)  since 10:02:03  call 17"
std::string agent_line(const acd::v1::AgentStatus& status);
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

}  // namespace acd::cli
