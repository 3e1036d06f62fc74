// CallRecorder: turns the routing core's events into the history records of engine/store
// (records.h): one CallRecord and its CallLegRecords per call when it ends, a
// QueueEventRecord for every step of a call through its queues, an AgentStateRecord for
// every agent-state transition, an OverflowRecord per overflow-level change, a
// CallbackRecord per callback request, and one TaskRecord per non-voice task (chat, e-mail,
// ...; engine/core/task.h) when it finishes. Records go to a sink (the RecordStore in the
// daemon) as they are made; the sink must not block.
//
// It keeps what a call's final record needs (arrival, first queue, legs, sequence
// numbers) while the call is in the system, and what a task's needs (first queue, subject,
// customer, first acceptance, offers, transfers, the last agent) while the task is:
// O(calls and tasks in progress) memory. Tasks are recorded from their events alone; their
// steps get no QueueEventRecords (queue_events is keyed by call id, see
// migrations/0012_tasks.sql).
// Thread-safety: a CoreListener; on_core_event() and set_names() on the core thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/app/core_listener.h"
#include "engine/app/name_table.h"
#include "engine/core/events.h"
#include "engine/store/records.h"

namespace acd::app {

class CallRecorder final : public CoreListener {
 public:
  using Sink = std::function<void(store::Record&&)>;

  CallRecorder(std::int64_t run_id, std::shared_ptr<const NameTable> names, Sink sink);

  void on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) override;
  // After a reload: the new table (names of entities still referenced stay resolvable).
  void set_names(std::shared_ptr<const NameTable> names) { names_ = std::move(names); }

  [[nodiscard]] std::size_t calls_tracked() const { return calls_.size(); }
  [[nodiscard]] std::size_t tasks_tracked() const { return tasks_.size(); }

 private:
  struct Leg {
    std::int32_t number = 0;
    std::string queue;
    std::string agent;
    store::EpochMicros offered_at = 0;
    std::optional<store::EpochMicros> answered_at;
  };
  struct Call {
    std::string tenant;
    std::string caller;
    std::string dialled;
    std::string first_queue;
    std::string last_queue;
    std::string exit_reason;
    std::string callback_number;  // the last exit to a callback named one
    std::int32_t vip_level = 0;
    std::int32_t seq = 0;
    std::int32_t queues = 0;
    std::int32_t legs_made = 0;
    std::int32_t transfer_legs = 0;  // legs of attended-transfer targets (nobody was rung)
    std::optional<store::EpochMicros> queued_at;
    std::optional<store::EpochMicros> answered_at;  // answered in the last queue
    std::int64_t last_wait_ms = 0;                  // the wait before the last answer
    // Waiting before a transfer to a queue (arrival to the first answer, ...) and the start
    // of the current wait (arrival when unset; the first CallQueued marks the arrival
    // until CallFinished names it).
    store::EpochMicros first_queued_at = 0;
    std::int64_t earlier_wait_us = 0;
    std::optional<store::EpochMicros> wait_since;
    std::int64_t sl_threshold_ms = 0;
    std::unordered_map<std::uint32_t, Leg> open_legs;  // by agent id
  };

  // What a task's record needs, from its first TaskQueued to its TaskFinished.
  struct Task {
    std::string tenant;
    std::string subject;   // from the first TaskQueued
    std::string customer;  // from the first TaskQueued
    std::string first_queue;
    std::string last_queue;
    std::string agent;  // the last agent who accepted it
    std::int32_t vip_level = 0;
    std::int32_t queues = 0;
    std::int32_t offers = 0;
    std::int32_t transfers = 0;
    std::int32_t requeues = 0;
    std::optional<store::EpochMicros> queued_at;    // entered the last queue
    std::optional<store::EpochMicros> accepted_at;  // first accepted
    std::int64_t sl_threshold_ms = 0;
  };

  Call& call(core::CallId id, core::TenantId tenant);
  Task& task(core::TaskId id, core::TenantId tenant);
  void task_finished(const core::TaskFinished& e);
  void queue_event(core::CallId id, Call& c, std::string queue, core::TimePoint at,
                   const char* kind, std::string agent = {},
                   std::optional<std::int64_t> wait_ms = std::nullopt, std::string reason = {},
                   std::string detail_json = "{}");
  void end_leg(core::CallId id, Call& c, std::uint32_t agent, store::EpochMicros at,
               std::string result);
  void transferred(const core::CallTransferred& e);

  std::int64_t run_id_;
  std::shared_ptr<const NameTable> names_;
  Sink sink_;
  std::unordered_map<std::uint64_t, Call> calls_;
  std::unordered_map<std::uint64_t, Task> tasks_;
  std::int64_t agent_seq_ = 0;
  std::int64_t overflow_seq_ = 0;
};

// Lower-case, hyphenated state names as the history tables store them ("not-ready").
const char* record_state_name(core::AgentState state);

}  // namespace acd::app
