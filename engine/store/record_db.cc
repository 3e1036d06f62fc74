#include "engine/store/record_db.h"

#include <array>
#include <cinttypes>
#include <ctime>
#include <pqxx/pqxx>
#include <type_traits>

namespace acd::store {
namespace {

// One field of a COPY row: text (escaped by libpqxx's stream) or NULL.
struct CopyField {
  std::string text;
  bool null = false;
};

}  // namespace
}  // namespace acd::store

template <>
struct pqxx::string_traits<acd::store::CopyField> {
  static constexpr const char* name() noexcept { return "acd::store::CopyField"; }
  static constexpr bool has_null() noexcept { return true; }
  static bool is_null(const acd::store::CopyField& f) { return f.null; }
  static acd::store::CopyField null() { return {{}, true}; }
  static void from_string(const char text[], acd::store::CopyField& f) { f = {text, false}; }
  static std::string to_string(const acd::store::CopyField& f) { return f.text; }
};

namespace acd::store {
namespace {

// A COPY row under construction.
class CopyRow {
 public:
  CopyRow& text(const std::string& value) {
    fields_.push_back({value, false});
    return *this;
  }
  // Empty text is NULL.
  CopyRow& text_or_null(const std::string& value) { return value.empty() ? null() : text(value); }
  CopyRow& number(std::int64_t value) { return text(std::to_string(value)); }
  CopyRow& number(const std::optional<std::int64_t>& value) {
    return value ? number(*value) : null();
  }
  CopyRow& time(EpochMicros value) { return text(timestamp_text(value)); }
  CopyRow& time(const std::optional<EpochMicros>& value) { return value ? time(*value) : null(); }
  CopyRow& null() {
    fields_.push_back({{}, true});
    return *this;
  }
  std::vector<CopyField> take() { return std::move(fields_); }

 private:
  std::vector<CopyField> fields_;
};

using Row = std::vector<CopyField>;

// libpqxx 6 streams rows as tuples: turn a row of N fields into a tuple of N references.
template <std::size_t... I>
void stream_fixed(pqxx::stream_to& stream, const Row& row, std::index_sequence<I...>) {
  stream << std::tie(row[I]...);
}

template <std::size_t N>
void stream_row_of(pqxx::stream_to& stream, const Row& row) {
  stream_fixed(stream, row, std::make_index_sequence<N>());
}

constexpr std::size_t kMaxColumns = 32;

template <std::size_t... N>
constexpr auto make_streamers(std::index_sequence<N...>) {
  return std::array<void (*)(pqxx::stream_to&, const Row&), sizeof...(N)>{&stream_row_of<N + 1>...};
}
// kStreamers[n - 1] streams a row of n fields.
constexpr auto kStreamers = make_streamers(std::make_index_sequence<kMaxColumns>());

void stream_row(pqxx::stream_to& stream, const Row& row) {
  if (row.empty() || row.size() > kMaxColumns) {
    throw std::logic_error("a COPY row of " + std::to_string(row.size()) + " columns");
  }
  kStreamers[row.size() - 1](stream, row);
}

Row call_row(const CallRecord& r) {
  CopyRow row;
  row.number(r.call_id).number(r.run_id).text(r.tenant).text(r.direction);
  row.text_or_null(r.caller).text_or_null(r.dialled).text_or_null(r.first_queue);
  row.text_or_null(r.last_queue).text_or_null(r.agent).text(r.final_state);
  row.text_or_null(r.exit_reason).time(r.arrived_at).time(r.queued_at).time(r.answered_at);
  row.time(r.ended_at).number(r.wait_ms).number(r.total_wait_ms).number(r.talk_ms);
  row.number(r.hold_ms).number(r.sl_threshold_ms).number(r.offers).number(r.queues);
  row.number(r.vip_level).text("{}").text_or_null(r.end_reason);  // end_reason: 0007
  return row.take();
}

Row leg_row(const CallLegRecord& r) {
  CopyRow row;
  row.number(r.call_id).number(r.leg).number(r.run_id).text(r.tenant).text_or_null(r.queue);
  row.text(r.agent).time(r.offered_at).time(r.answered_at).time(r.ended_at).text(r.result);
  return row.take();
}

Row queue_event_row(const QueueEventRecord& r) {
  CopyRow row;
  row.number(r.call_id).number(r.seq).number(r.run_id).text(r.tenant).text_or_null(r.queue);
  row.time(r.at).text(r.kind).text_or_null(r.agent).number(r.wait_ms).text_or_null(r.reason);
  row.text(r.detail_json.empty() ? std::string("{}") : r.detail_json);
  return row.take();
}

Row agent_state_row(const AgentStateRecord& r) {
  CopyRow row;
  row.number(r.run_id).number(r.seq).text(r.tenant).text(r.agent).time(r.at);
  row.text(r.from_state).text(r.to_state).text_or_null(r.reason).text(r.cause);
  row.number(r.call_id);
  return row.take();
}

Row overflow_row(const OverflowRecord& r) {
  CopyRow row;
  row.number(r.run_id).number(r.seq).text(r.tenant).text(r.queue).time(r.at);
  row.number(r.from_tier).number(r.to_tier);
  return row.take();
}

Row callback_row(const CallbackRecord& r) {
  CopyRow row;
  row.number(r.call_id).text(r.tenant).text_or_null(r.queue).text_or_null(r.number);
  row.time(r.requested_at).text("pending").number(0).null();
  return row.take();
}

Row recording_row(const RecordingRecord& r) {
  CopyRow row;
  row.number(r.call_id).text(r.path).number(r.run_id).text(r.kind).text(r.mode);
  row.text_or_null(r.mailbox).number(r.duration_ms).time(r.started_at).time(r.ended_at);
  row.text(r.ok ? "true" : "false").text_or_null(r.error);
  return row.take();
}

// The columns of `tasks` in table order (migrations/0012_tasks.sql).
Row task_row(const TaskRecord& r) {
  CopyRow row;
  row.number(r.run_id).number(r.task_id).text(r.tenant).text(r.channel);
  row.text_or_null(r.subject).text_or_null(r.customer).text_or_null(r.first_queue);
  row.text_or_null(r.last_queue).text_or_null(r.agent).text(r.final_state);
  row.time(r.created_at).time(r.queued_at).time(r.accepted_at).time(r.finished_at);
  row.number(r.wait_ms).number(r.handle_ms).number(r.sl_threshold_ms).number(r.offers);
  row.number(r.transfers).number(r.requeues).number(r.queues).number(r.vip_level);
  return row.take();
}

// The history tables in the order their staging tables are filled.
enum TableIndex {
  kCalls,
  kLegs,
  kQueueEvents,
  kAgentStates,
  kOverflows,
  kCallbacks,
  kRecordings,
  kTasks,
  kTables
};
constexpr std::array<const char*, kTables> kTableNames = {
    "calls",     "call_legs",       "queue_events", "agent_state_events", "queue_overflow_events",
    "callbacks", "call_recordings", "tasks"};

}  // namespace

std::string timestamp_text(EpochMicros micros) {
  std::int64_t seconds = micros / 1'000'000;
  std::int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06" PRId64 "+00",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                fraction);
  return text;
}

struct RecordDatabase::Connection {
  explicit Connection(const std::string& dsn) : c(dsn) {}
  pqxx::connection c;
};

RecordDatabase::RecordDatabase(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)) {}

RecordDatabase::~RecordDatabase() = default;

Result<std::unique_ptr<RecordDatabase>> RecordDatabase::connect(const std::string& dsn) {
  using R = Result<std::unique_ptr<RecordDatabase>>;
  try {
    auto connection = std::make_unique<Connection>(dsn);
    pqxx::nontransaction tx(connection->c);
    for (const char* table : kTableNames) {
      tx.exec(std::string("CREATE TEMP TABLE stage_") + table + " (LIKE " + table +
              " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
    }
    return R::success(std::unique_ptr<RecordDatabase>(new RecordDatabase(std::move(connection))));
  } catch (const std::exception& e) {
    return R::failure(std::string("records database: ") + e.what());
  }
}

Result<WriteCounts> RecordDatabase::write(const std::vector<Record>& records) {
  using R = Result<WriteCounts>;
  std::array<std::vector<Row>, kTables> rows;
  std::vector<const RunStartedRecord*> started;
  std::vector<const RunStoppedRecord*> stopped;
  for (const Record& record : records) {
    std::visit(
        [&](const auto& r) {
          using T = std::decay_t<decltype(r)>;
          if constexpr (std::is_same_v<T, CallRecord>)
            rows[kCalls].push_back(call_row(r));
          else if constexpr (std::is_same_v<T, CallLegRecord>)
            rows[kLegs].push_back(leg_row(r));
          else if constexpr (std::is_same_v<T, QueueEventRecord>)
            rows[kQueueEvents].push_back(queue_event_row(r));
          else if constexpr (std::is_same_v<T, AgentStateRecord>)
            rows[kAgentStates].push_back(agent_state_row(r));
          else if constexpr (std::is_same_v<T, OverflowRecord>)
            rows[kOverflows].push_back(overflow_row(r));
          else if constexpr (std::is_same_v<T, CallbackRecord>)
            rows[kCallbacks].push_back(callback_row(r));
          else if constexpr (std::is_same_v<T, RecordingRecord>)
            rows[kRecordings].push_back(recording_row(r));
          else if constexpr (std::is_same_v<T, TaskRecord>)
            rows[kTasks].push_back(task_row(r));
          else if constexpr (std::is_same_v<T, RunStartedRecord>)
            started.push_back(&r);
          else
            stopped.push_back(&r);
        },
        record);
  }
  try {
    WriteCounts counts;
    pqxx::work tx(connection_->c);
    for (std::size_t t = 0; t < kTables; ++t) {
      if (rows[t].empty()) continue;
      // Fast path: COPY straight into the table. Replays are rare (after a crash or an
      // outage), so a batch that meets a row already there (a unique violation) is rolled
      // back to a savepoint and goes the idempotent way: COPY into the staging table,
      // then INSERT ... ON CONFLICT DO NOTHING.
      bool copied = false;
      try {
        pqxx::subtransaction direct(tx, "direct_copy");
        {
          pqxx::stream_to stream(direct, kTableNames[t]);
          for (const Row& row : rows[t]) stream_row(stream, row);
          stream.complete();
        }
        direct.commit();
        copied = true;
      } catch (const pqxx::unique_violation&) {
        // Some rows were written before: take the slow path below.
      }
      if (copied) {
        counts.inserted += rows[t].size();
        continue;
      }
      const std::string stage = std::string("stage_") + kTableNames[t];
      {
        pqxx::stream_to stream(tx, stage);
        for (const Row& row : rows[t]) stream_row(stream, row);
        stream.complete();
      }
      const pqxx::result moved = tx.exec(std::string("INSERT INTO ") + kTableNames[t] +
                                         " SELECT * FROM " + stage + " ON CONFLICT DO NOTHING");
      const auto inserted = static_cast<std::uint64_t>(moved.affected_rows());
      counts.inserted += inserted;
      counts.duplicates += rows[t].size() - inserted;
    }
    for (const RunStartedRecord* r : started) {
      const pqxx::result done =
          tx.exec("INSERT INTO runs (run_id, started_at) VALUES (" + std::to_string(r->run_id) +
                  ", " + tx.quote(timestamp_text(r->at)) + ") ON CONFLICT DO NOTHING");
      const auto inserted = static_cast<std::uint64_t>(done.affected_rows());
      counts.inserted += inserted;
      counts.duplicates += 1 - inserted;
    }
    for (const RunStoppedRecord* r : stopped) {
      tx.exec("INSERT INTO runs (run_id, started_at, stopped_at) VALUES (" +
              std::to_string(r->run_id) + ", " + tx.quote(timestamp_text(r->at)) + ", " +
              tx.quote(timestamp_text(r->at)) +
              ") ON CONFLICT (run_id) DO UPDATE SET stopped_at = EXCLUDED.stopped_at");
      counts.inserted += 1;
    }
    tx.commit();
    return R::success(counts);
  } catch (const std::exception& e) {
    return R::failure(std::string("writing records: ") + e.what());
  }
}

Result<CloseOutCounts> RecordDatabase::close_out_runs_before(std::int64_t current_run) {
  using R = Result<CloseOutCounts>;
  try {
    CloseOutCounts counts;
    pqxx::work tx(connection_->c);
    const std::string run = std::to_string(current_run);
    const pqxx::result dead = tx.exec("SELECT run_id FROM runs WHERE run_id < " + run +
                                      " AND closed_out_at IS NULL ORDER BY run_id FOR UPDATE");
    if (dead.empty()) return R::success(counts);
    counts.runs = dead.size();
    const std::string dead_runs =
        "(SELECT run_id FROM runs WHERE run_id < " + run + " AND closed_out_at IS NULL)";
    // Calls a dead run left unfinished: what its queue events say about them.
    const pqxx::result calls = tx.exec(
        "INSERT INTO calls (call_id, run_id, tenant, first_queue, last_queue, agent, "
        "  final_state, arrived_at, answered_at, ended_at, offers, queues) "
        "SELECT e.call_id, min(e.run_id), min(e.tenant), "
        "  (array_agg(e.queue ORDER BY e.seq) FILTER (WHERE e.queue IS NOT NULL))[1], "
        "  (array_agg(e.queue ORDER BY e.seq DESC) FILTER (WHERE e.queue IS NOT NULL))[1], "
        // The agent who had the call last: the latest connect, or the target agent of a
        // later attended transfer (detail.to_agent).
        "  (array_agg(CASE WHEN e.kind = 'transfer' THEN e.detail->>'to_agent' ELSE e.agent END "
        "     ORDER BY e.seq DESC) FILTER (WHERE e.kind = 'connect' OR (e.kind = 'transfer' "
        "     AND e.reason = 'attended' AND e.detail ? 'to_agent')))[1], "
        "  'interrupted', min(e.at), max(e.at) FILTER (WHERE e.kind = 'connect'), "
        "  greatest(max(e.at), coalesce(max(r.stopped_at), max(e.at))), "
        "  count(*) FILTER (WHERE e.kind = 'offer'), count(*) FILTER (WHERE e.kind = 'enter') "
        "FROM queue_events e JOIN runs r ON r.run_id = e.run_id "
        "WHERE e.run_id IN " +
        dead_runs +
        "  AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = e.call_id) "
        "GROUP BY e.call_id "
        "ON CONFLICT DO NOTHING");
    counts.calls = static_cast<std::uint64_t>(calls.affected_rows());
    // Agents a dead run left logged in: a final transition to logged-out at the run's end.
    const pqxx::result agents = tx.exec(
        "WITH last AS ("
        "  SELECT DISTINCT ON (e.run_id, e.tenant, e.agent) e.run_id, e.tenant, e.agent, "
        "    e.to_state "
        "  FROM agent_state_events e WHERE e.run_id IN " +
        dead_runs +
        "  ORDER BY e.run_id, e.tenant, e.agent, e.seq DESC), "
        "ends AS ("
        "  SELECT e.run_id, max(e.seq) AS max_seq, max(e.at) AS last_at "
        "  FROM agent_state_events e WHERE e.run_id IN " +
        dead_runs +
        " GROUP BY e.run_id) "
        "INSERT INTO agent_state_events (run_id, seq, tenant, agent, at, from_state, to_state, "
        "  reason, cause) "
        "SELECT l.run_id, n.max_seq + row_number() OVER (PARTITION BY l.run_id "
        "    ORDER BY l.tenant, l.agent), "
        "  l.tenant, l.agent, greatest(n.last_at, coalesce(r.stopped_at, n.last_at)), "
        "  l.to_state, 'logged-out', 'engine-restart', 'system' "
        "FROM last l JOIN ends n ON n.run_id = l.run_id JOIN runs r ON r.run_id = l.run_id "
        "WHERE l.to_state <> 'logged-out' "
        "ON CONFLICT DO NOTHING");
    counts.agents = static_cast<std::uint64_t>(agents.affected_rows());
    tx.exec("UPDATE runs SET closed_out_at = now() WHERE run_id IN " + dead_runs);
    tx.commit();
    return R::success(counts);
  } catch (const std::exception& e) {
    return R::failure(std::string("closing out earlier runs: ") + e.what());
  }
}

}  // namespace acd::store
