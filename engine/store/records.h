// Records: the history rows the engine writes to PostgreSQL (see migrations/0002_history.sql,
// 0009_recordings.sql, 0012_tasks.sql), as plain values. The routing side
// (engine/app/call_recorder) makes them from the core's events, the daemon a RecordingRecord
// from each recording the media engine finishes; the RecordStore spools them to disk and
// ships them to the database.
//
// Every record carries the keys that make writing it idempotent: a call row its call_id,
// a call's leg and queue events (call_id, seq), agent-state and overflow events
// (run_id, seq), a recording (call_id, path), a task row (run_id, task_id). Times are
// microseconds since the Unix epoch; durations milliseconds.
// Names (tenant, queue, agent, reason) are text as the configuration spells them.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace acd::store {

using EpochMicros = std::int64_t;

struct CallRecord {
  std::int64_t call_id = 0;
  std::int64_t run_id = 0;
  std::string tenant;
  std::string direction = "inbound";  // inbound, outbound, internal
  std::string caller;                 // empty: unknown
  std::string dialled;
  std::string first_queue;
  std::string last_queue;
  std::string agent;        // who answered; empty: nobody
  std::string final_state;  // completed, abandoned, ... (see the calls table)
  std::string exit_reason;  // empty: none
  EpochMicros arrived_at = 0;
  std::optional<EpochMicros> queued_at;
  std::optional<EpochMicros> answered_at;
  EpochMicros ended_at = 0;
  std::int64_t wait_ms = 0;
  std::int64_t total_wait_ms = 0;
  std::int64_t talk_ms = 0;
  std::int64_t hold_ms = 0;
  std::optional<std::int64_t> sl_threshold_ms;
  std::int32_t offers = 0;
  std::int32_t queues = 0;
  std::int32_t vip_level = 0;
  // Who or what ended the call (core::HangupCause's text: caller-cancel, agent-bye, ...);
  // empty: unknown (a record spooled before record format 2, see record_codec.h).
  std::string end_reason;

  friend bool operator==(const CallRecord&, const CallRecord&) = default;
};

struct CallLegRecord {
  std::int64_t call_id = 0;
  std::int32_t leg = 0;  // 1-based
  std::int64_t run_id = 0;
  std::string tenant;
  std::string queue;
  std::string agent;
  EpochMicros offered_at = 0;
  std::optional<EpochMicros> answered_at;
  EpochMicros ended_at = 0;
  std::string result;  // answered, no-answer, busy, ...

  friend bool operator==(const CallLegRecord&, const CallLegRecord&) = default;
};

struct QueueEventRecord {
  std::int64_t call_id = 0;
  std::int32_t seq = 0;  // 1-based within the call
  std::int64_t run_id = 0;
  std::string tenant;
  std::string queue;  // empty: none
  EpochMicros at = 0;
  std::string kind;  // enter, offer, ring-no-answer, ... (see the queue_events table)
  std::string agent;
  std::optional<std::int64_t> wait_ms;
  std::string reason;
  std::string detail_json = "{}";  // a JSON object

  friend bool operator==(const QueueEventRecord&, const QueueEventRecord&) = default;
};

struct AgentStateRecord {
  std::int64_t run_id = 0;
  std::int64_t seq = 0;  // 1-based within the run
  std::string tenant;
  std::string agent;
  EpochMicros at = 0;
  std::string from_state;
  std::string to_state;
  std::string reason;  // empty: none
  std::string cause;
  std::optional<std::int64_t> call_id;

  friend bool operator==(const AgentStateRecord&, const AgentStateRecord&) = default;
};

struct OverflowRecord {
  std::int64_t run_id = 0;
  std::int64_t seq = 0;  // 1-based within the run
  std::string tenant;
  std::string queue;
  EpochMicros at = 0;
  std::int32_t from_tier = 0;
  std::int32_t to_tier = 0;

  friend bool operator==(const OverflowRecord&, const OverflowRecord&) = default;
};

struct CallbackRecord {
  std::int64_t call_id = 0;
  std::string tenant;
  std::string queue;
  std::string number;
  EpochMicros requested_at = 0;

  friend bool operator==(const CallbackRecord&, const CallbackRecord&) = default;
};

// Announces a daemon run (written first in every run's spool): lets a later run close out
// the calls this one left unfinished.
struct RunStartedRecord {
  std::int64_t run_id = 0;
  EpochMicros at = 0;

  friend bool operator==(const RunStartedRecord&, const RunStartedRecord&) = default;
};

// Written last by a run that stops cleanly.
struct RunStoppedRecord {
  std::int64_t run_id = 0;
  EpochMicros at = 0;

  friend bool operator==(const RunStoppedRecord&, const RunStoppedRecord&) = default;
};

// A call recording or voicemail message whose file is complete (or could not be written):
// what the media engine's recorder reported (engine/media/recorder.h). Keyed by
// (call_id, path): a call has at most one recording and one voicemail message, each its
// own file.
struct RecordingRecord {
  std::int64_t call_id = 0;
  std::int64_t run_id = 0;
  std::string kind = "call";     // call (from the bridge to the end), voicemail (a message)
  std::string path;              // the WAV file
  std::string mode = "stereo";   // call: stereo or mixed (media::RecordingMode); voicemail: mono
  std::string mailbox;           // voicemail: the mailbox it was left in; empty: none
  std::int64_t duration_ms = 0;  // the audio in the file (paused stretches are not in it)
  EpochMicros started_at = 0;    // the file was opened
  EpochMicros ended_at = 0;      // the file was complete
  bool ok = false;               // false: the file could not be (fully) written
  std::string error;             // why not; empty when ok

  friend bool operator==(const RecordingRecord&, const RecordingRecord&) = default;
};

// One non-voice task (chat, e-mail, SMS, web form, callback request; engine/core/task.h),
// written when it finishes. Task ids are unique only within a run of the daemon (whoever
// creates a task picks its id), so the row is keyed by (run_id, task_id). A task still in
// the system when the daemon dies gets no row.
struct TaskRecord {
  std::int64_t task_id = 0;
  std::int64_t run_id = 0;
  std::string tenant;
  std::string channel;   // chat, email, sms, web-form, callback (core::to_string(Channel))
  std::string subject;   // as it first entered a queue; empty: none
  std::string customer;  // the customer's address, as it first entered a queue; empty: none
  std::string first_queue;
  std::string last_queue;
  std::string agent;        // the last agent who accepted it; empty: nobody
  std::string final_state;  // completed, abandoned, cancelled (core::TaskFinalState)
  EpochMicros created_at = 0;
  std::optional<EpochMicros> queued_at;    // entered the last queue
  std::optional<EpochMicros> accepted_at;  // first accepted by an agent
  EpochMicros finished_at = 0;
  std::int64_t wait_ms = 0;    // in the last queue until accepted, or until it ended
  std::int64_t handle_ms = 0;  // accepted by an agent, summed over every agent
  std::optional<std::int64_t> sl_threshold_ms;  // the last queue's, at the time
  std::int32_t offers = 0;                      // offers made to agents
  std::int32_t transfers = 0;                   // transfers by an agent to a queue
  std::int32_t requeues = 0;                    // back to a queue because its agent was logged out
  std::int32_t queues = 0;     // queue entries (the first, then one per transfer or requeue)
  std::int32_t vip_level = 0;  // as it first entered a queue

  friend bool operator==(const TaskRecord&, const TaskRecord&) = default;
};

// The order of the alternatives is the spool's type byte: append only.
using Record =
    std::variant<CallRecord, CallLegRecord, QueueEventRecord, AgentStateRecord, OverflowRecord,
                 CallbackRecord, RunStartedRecord, RunStoppedRecord, RecordingRecord, TaskRecord>;

}  // namespace acd::store
