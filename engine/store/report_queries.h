// ReportQueries: the database side of the API's report service (engine/api/report_service.h):
// a search of the call records (table calls, migrations/0002_history.sql) and the reports
// of docs/REPORTS.md (the SQL functions of migrations/0004_reports.sql and 0006), for one
// tenant over a time range.
//
// One QueryWorker (query_worker.h) runs them off the event loop: a thread with its own
// connection, prepared statements only (every value of a request is a parameter; nothing
// a client sends becomes SQL text), each statement under `statement_timeout`, at most
// `max_pending` requests waiting (beyond that search() and report() refuse), errors
// reported in the result's status, never thrown. Answers come through the request's
// callback, on the worker thread, in request order; a long report delays the searches
// queued behind it.
//
// A search is keyset-paginated: calls newest first by (arrived_at, call_id), a page of at
// most `limit` calls after the position `after` (the last call of the previous page), so
// a page costs the same wherever it is and calls recorded while someone pages never make
// a page repeat or skip a call. The caller number is compared normalized (as the screen
// pop does: normalize_phone_number() and the SQL acd_normalize_phone()), with inbound calls
// only (on an agent's outbound and internal calls the caller is the agent's extension).
//
// Thread-safety: search() and report() from any thread, also from a callback; stop() from
// one controlling thread (the destructor calls it), never from a callback.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/store/query_status.h"

namespace acd::store {

class QueryWorker;

using ReportTime = std::chrono::system_clock::time_point;

// A call's place in a search's order (newest first): its arrival and its id.
struct CallKey {
  ReportTime arrived_at;
  std::int64_t call_id = 0;
};

struct CallSearch {
  std::string tenant;  // calls.tenant (history names its tenant by name)
  // Calls that arrived in [from, to) (calls.arrived_at). Microsecond precision.
  ReportTime from;
  ReportTime to;
  // Each filter narrows the search; empty: any.
  std::string caller_number;  // as given: compared normalized with calls.caller of inbound calls
  std::string agent;          // calls.agent: the agent who answered (or placed) the call
  std::string queue;          // calls.first_queue or calls.last_queue
  std::string final_state;    // calls.final_state ('completed', 'abandoned', ...)
  int limit = 50;             // calls per page, 1..kMaxSearchLimit
  // The last call of the previous page; nullopt: the first page (the newest calls).
  std::optional<CallKey> after;
  // Asked before the query runs: true when whoever asked has gone (the query is skipped).
  std::function<bool()> cancelled;
};
inline constexpr int kMaxSearchLimit = 1000;

// One row of table calls. Optional columns that are NULL are empty strings or nullopt.
struct CallRecordRow {
  std::int64_t call_id = 0;
  std::string direction;  // 'inbound', 'outbound', 'internal'
  std::string caller;     // as received
  std::string dialled;
  std::string first_queue;
  std::string last_queue;
  std::string agent;
  std::string final_state;
  std::string exit_reason;
  std::string end_reason;
  ReportTime arrived_at;
  std::optional<ReportTime> queued_at;
  std::optional<ReportTime> answered_at;
  ReportTime ended_at;
  std::int64_t wait_ms = 0;
  std::int64_t total_wait_ms = 0;
  std::int64_t talk_ms = 0;
  std::int64_t hold_ms = 0;
  std::optional<std::int64_t> sl_threshold_ms;
  std::int32_t offers = 0;
  std::int32_t queues = 0;
  std::int32_t vip_level = 0;
};

struct CallSearchResult {
  QueryStatus status;                // not ok: calls is empty
  std::vector<CallRecordRow> calls;  // newest first
  bool more = false;                 // calls after the last one of this page exist
};

// The reports (docs/REPORTS.md), by their SQL function.
enum class ReportKind : std::uint8_t {
  kQueueIntervals,     // report_queue_intervals
  kAgentIntervals,     // report_agent_intervals
  kAgentStateTime,     // report_agent_state_time
  kAgentMonthlyVolume  // report_agent_monthly_volume
};

struct ReportRequest {
  ReportKind kind = ReportKind::kQueueIntervals;
  std::string tenant;
  ReportTime from;  // [from, to), microsecond precision
  ReportTime to;
  std::string interval;           // '15 min', 'hour', 'day' or 'month' (not for the volume)
  std::string time_zone = "UTC";  // an IANA name
  std::optional<std::int64_t> sl_threshold_ms;  // the queue report's p_sl_threshold_ms
  // Only the rows of these queues (queue report) or agents (the others); empty: all.
  std::vector<std::string> names;
  std::function<bool()> cancelled;  // as CallSearch::cancelled
};

// The columns of each report, as docs/REPORTS.md defines them; NULL ratios and averages
// are nullopt. interval_local is the wall-clock label "YYYY-MM-DDTHH:MM:SS".
struct QueueIntervalRow {
  std::string queue;
  ReportTime interval_start;
  std::string interval_local;
  std::int64_t offered = 0;
  std::int64_t answered = 0;
  std::int64_t abandoned = 0;
  std::int64_t ended_otherwise = 0;
  std::int64_t answered_in_threshold = 0;
  std::int64_t abandoned_in_threshold = 0;
  std::optional<double> sl_answered;
  std::optional<double> sl_with_abandons;
  std::optional<double> sl_abandons_after_threshold;
  std::optional<double> abandon_rate;
  std::optional<std::int64_t> asa_ms;
  std::optional<std::int64_t> aht_ms;
  std::optional<std::int64_t> avg_talk_ms;
  std::optional<std::int64_t> avg_hold_ms;
  std::optional<std::int64_t> avg_wrap_up_ms;
  std::optional<std::int64_t> longest_wait_ms;
  std::int64_t overflowed_out = 0;
  std::int64_t timed_out = 0;
  std::int64_t exited = 0;
  std::int64_t interrupted = 0;
};

struct AgentIntervalRow {
  std::string agent;
  ReportTime interval_start;
  std::string interval_local;
  std::int64_t offers = 0;
  std::int64_t answered = 0;
  std::int64_t rona = 0;
  std::int64_t logged_in_ms = 0;
  std::int64_t ready_ms = 0;
  std::int64_t not_ready_ms = 0;
  std::map<std::string, std::int64_t> not_ready_by_reason;  // reason -> ms
  std::int64_t ringing_ms = 0;
  std::int64_t dialing_ms = 0;
  std::int64_t talk_ms = 0;
  std::int64_t hold_ms = 0;
  std::int64_t wrap_up_ms = 0;
};

struct AgentStateTimeRow {
  std::string agent;
  ReportTime interval_start;
  std::string interval_local;
  std::string state;   // agent_state_events.to_state: 'ready', 'not-ready', 'talking', ...
  std::string reason;  // the not-ready reason; '' for other states
  std::int64_t duration_ms = 0;
};

struct AgentMonthRow {
  std::string agent;
  ReportTime month_start;
  std::string month;  // the month's first day, "YYYY-MM-DD"
  std::int64_t offers = 0;
  std::int64_t answered = 0;
  std::int64_t rona = 0;
  std::int64_t outbound = 0;
  std::int64_t talk_ms = 0;
  std::int64_t hold_ms = 0;
  std::int64_t wrap_up_ms = 0;
  std::optional<std::int64_t> aht_ms;
};

struct ReportResult {
  // Not ok: no rows. kRejected for a value the database refused; its error then begins
  // with the request field at fault ("time_zone: ..."). kFailed with too_many_rows when
  // the report has more than max_report_rows rows (none are returned).
  QueryStatus status;
  bool too_many_rows = false;
  // The rows of the kind asked for, in the report's order (by queue or agent, then time).
  std::variant<std::vector<QueueIntervalRow>, std::vector<AgentIntervalRow>,
               std::vector<AgentStateTimeRow>, std::vector<AgentMonthRow>>
      rows;
};

struct ReportQueriesOptions {
  std::string dsn;               // a libpq connection string
  std::size_t max_pending = 64;  // most requests waiting for the worker
  // Reports read a lot (a month of hourly agent rows takes seconds; docs/REPORTS.md).
  std::chrono::milliseconds statement_timeout{30000};
  std::size_t max_report_rows = 10000;  // a longer report is refused (too_many_rows)
  // Outages, recoveries and failures (on the worker thread, and on stop()'s caller).
  std::function<void(bool is_error, const std::string& message)> log;
};

class ReportQueries {
 public:
  // Starts the worker; connects with the first request.
  explicit ReportQueries(ReportQueriesOptions options);
  ~ReportQueries();  // stop()
  ReportQueries(const ReportQueries&) = delete;
  ReportQueries& operator=(const ReportQueries&) = delete;

  // Queue a request. Never block on the database. False, and `done` is never called, when
  // max_pending requests are waiting or the queries are stopping; otherwise `done` is
  // called exactly once, on the worker thread.
  bool search(CallSearch search, std::function<void(CallSearchResult)> done);
  bool report(ReportRequest request, std::function<void(ReportResult)> done);

  // Refuses new requests, answers the queued ones with kShuttingDown, joins the worker.
  // Idempotent.
  void stop();

 private:
  const ReportQueriesOptions options_;
  std::unique_ptr<QueryWorker> worker_;
};

}  // namespace acd::store
