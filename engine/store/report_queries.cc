#include "engine/store/report_queries.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>
#include <pqxx/pqxx>
#include <type_traits>
#include <utility>

#include "engine/store/customer_lookup.h"
#include "engine/store/query_worker.h"

namespace acd::store {
namespace {

// ---- Call search ----
//
// One statement per combination of filters (16), so that each has a plan of its own (an
// agent's calls by calls_tenant_agent_arrived, ...) instead of one plan for all with
// "$n IS NULL OR ..." conditions. The text is assembled only from the fixed fragments
// below; every value is a parameter. Parameters: $1 tenant, $2 from, $3 and $4 the
// position to continue after (arrival, call id; the first page starts after (to, the
// smallest id), which is "arrived before to"), $5 the row limit, $6 to, then one per
// filter in the order of kFilters.
struct Filter {
  const char* condition;  // with %d for its parameter's number
};
constexpr Filter kFilters[] = {
    // Inbound calls only (on an agent's own calls the caller is the agent's extension), as
    // calls_tenant_caller_arrived (0010) has them: the index is the search's order.
    {"c.direction = 'inbound' AND acd_normalize_phone(c.caller) = $%d::text"},  // caller
    {"c.agent = $%d::text"},                                                    // agent
    {"(c.last_queue = $%d::text OR c.first_queue = $%d::text)"},                // queue
    {"c.final_state = $%d::text"},                                              // final state
};
constexpr int kFilterCount = 4;

std::string search_statement(unsigned mask) {
  return "acd_search_calls_" + std::to_string(mask);
}

std::string search_sql(unsigned mask) {
  std::string sql = R"sql(
SELECT c.call_id, c.direction, coalesce(c.caller, ''), coalesce(c.dialled, ''),
       coalesce(c.first_queue, ''), coalesce(c.last_queue, ''), coalesce(c.agent, ''),
       c.final_state, coalesce(c.exit_reason, ''), coalesce(c.end_reason, ''),
       (extract(epoch FROM c.arrived_at) * 1000000)::bigint,
       (extract(epoch FROM c.queued_at) * 1000000)::bigint,
       (extract(epoch FROM c.answered_at) * 1000000)::bigint,
       (extract(epoch FROM c.ended_at) * 1000000)::bigint,
       c.wait_ms, c.total_wait_ms, c.talk_ms, c.hold_ms, c.sl_threshold_ms, c.offers, c.queues,
       c.vip_level
FROM calls c
WHERE c.tenant = $1::text
  AND c.arrived_at >= $2::timestamptz
  AND c.arrived_at < $6::timestamptz
  AND c.arrived_at <= $3::timestamptz
  AND (c.arrived_at, c.call_id) < ($3::timestamptz, $4::bigint))sql";
  int parameter = 7;
  for (int i = 0; i < kFilterCount; ++i) {
    if ((mask & (1U << i)) == 0) continue;
    char condition[128];
    std::snprintf(condition, sizeof condition, kFilters[i].condition, parameter, parameter);
    sql += "\n  AND ";
    sql += condition;
    ++parameter;
  }
  sql += "\nORDER BY c.arrived_at DESC, c.call_id DESC\nLIMIT $5::int\n";
  return sql;
}

// ---- Reports ----
//
// Each report function with its rows limited to some queues or agents ($7: a text[];
// NULL: all) and to one row more than may be returned ($8), its timestamps as
// microseconds since the epoch, wall-clock labels as text, ratios as float8.
constexpr const char* kQueueReport = "acd_report_queue_intervals";
constexpr const char* kQueueReportSql = R"sql(
SELECT r.queue, (extract(epoch FROM r.interval_start) * 1000000)::bigint,
       to_char(r.interval_local, 'YYYY-MM-DD"T"HH24:MI:SS'),
       r.offered, r.answered, r.abandoned, r.ended_otherwise, r.answered_in_threshold,
       r.abandoned_in_threshold, r.sl_answered::float8, r.sl_with_abandons::float8,
       r.sl_abandons_after_threshold::float8, r.abandon_rate::float8, r.asa_ms, r.aht_ms,
       r.avg_talk_ms, r.avg_hold_ms, r.avg_wrap_up_ms, r.longest_wait_ms, r.overflowed_out,
       r.timed_out, r.exited, r.interrupted
FROM report_queue_intervals($1::text, $2::timestamptz, $3::timestamptz, $4::text, $5::text,
                            $6::bigint) r
WHERE $7::text[] IS NULL OR r.queue = ANY ($7::text[])
ORDER BY r.queue, r.interval_start
LIMIT $8::int
)sql";

constexpr const char* kAgentReport = "acd_report_agent_intervals";
constexpr const char* kAgentReportSql = R"sql(
SELECT r.agent, (extract(epoch FROM r.interval_start) * 1000000)::bigint,
       to_char(r.interval_local, 'YYYY-MM-DD"T"HH24:MI:SS'),
       r.offers, r.answered, r.rona, r.logged_in_ms, r.ready_ms, r.not_ready_ms,
       ARRAY(SELECT k FROM jsonb_object_keys(r.not_ready_by_reason) k ORDER BY k COLLATE "C"),
       ARRAY(SELECT (r.not_ready_by_reason ->> k)::bigint
             FROM jsonb_object_keys(r.not_ready_by_reason) k ORDER BY k COLLATE "C"),
       r.ringing_ms, r.dialing_ms, r.talk_ms, r.hold_ms, r.wrap_up_ms
FROM report_agent_intervals($1::text, $2::timestamptz, $3::timestamptz, $4::text, $5::text) r
WHERE $6::text[] IS NULL OR r.agent = ANY ($6::text[])
ORDER BY r.agent, r.interval_start
LIMIT $7::int
)sql";

constexpr const char* kStateTimeReport = "acd_report_agent_state_time";
constexpr const char* kStateTimeReportSql = R"sql(
SELECT r.agent, (extract(epoch FROM r.interval_start) * 1000000)::bigint,
       to_char(r.interval_local, 'YYYY-MM-DD"T"HH24:MI:SS'), r.state, coalesce(r.reason, ''),
       r.duration_ms
FROM report_agent_state_time($1::text, $2::timestamptz, $3::timestamptz, $4::text, $5::text) r
WHERE $6::text[] IS NULL OR r.agent = ANY ($6::text[])
ORDER BY r.agent, r.interval_start, r.state, r.reason NULLS FIRST
LIMIT $7::int
)sql";

constexpr const char* kMonthlyReport = "acd_report_agent_monthly_volume";
constexpr const char* kMonthlyReportSql = R"sql(
SELECT r.agent, (extract(epoch FROM r.month_start) * 1000000)::bigint,
       to_char(r.month, 'YYYY-MM-DD'), r.offers, r.answered, r.rona, r.outbound, r.talk_ms,
       r.hold_ms, r.wrap_up_ms, r.aht_ms
FROM report_agent_monthly_volume($1::text, $2::timestamptz, $3::timestamptz, $4::text) r
WHERE $5::text[] IS NULL OR r.agent = ANY ($5::text[])
ORDER BY r.agent, r.month_start
LIMIT $6::int
)sql";

void prepare(pqxx::connection& connection) {
  for (unsigned mask = 0; mask < (1U << kFilterCount); ++mask)
    connection.prepare(search_statement(mask), search_sql(mask));
  connection.prepare(kQueueReport, kQueueReportSql);
  connection.prepare(kAgentReport, kAgentReportSql);
  connection.prepare(kStateTimeReport, kStateTimeReportSql);
  connection.prepare(kMonthlyReport, kMonthlyReportSql);
}

// ---- Values ----

std::int64_t micros_of(ReportTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

ReportTime time_of(std::int64_t micros) {
  return ReportTime(
      std::chrono::duration_cast<ReportTime::duration>(std::chrono::microseconds(micros)));
}

// A timestamptz literal for a parameter: "2024-03-05 16:00:00.123456+00" (exact to the
// microsecond; the text is the parameter's value, never part of the statement).
std::string timestamp_text(ReportTime t) {
  const std::int64_t micros = micros_of(t);
  std::int64_t seconds = micros / 1000000;
  std::int64_t fraction = micros % 1000000;
  if (fraction < 0) {
    fraction += 1000000;
    --seconds;
  }
  const std::time_t tt = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(fraction));
  return text;
}

// A text[] literal of `names` ({"a","b\"c"}): a parameter's value, quoted element by
// element, so no name can end the array or the statement.
std::string text_array(const std::vector<std::string>& names) {
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : names[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string text(const pqxx::field& f) {
  return f.is_null() ? std::string() : f.as<std::string>();
}
std::int64_t count(const pqxx::field& f) {
  return f.is_null() ? 0 : f.as<std::int64_t>();
}
std::optional<std::int64_t> maybe_int(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::int64_t>();
}
std::optional<double> maybe_double(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<double>();
}
std::optional<ReportTime> maybe_time(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return time_of(f.as<std::int64_t>());
}

// The string elements of a one-dimensional text or bigint array.
std::vector<std::string> elements(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  pqxx::array_parser parser = f.as_array();
  for (;;) {
    auto [juncture, value] = parser.get_next();
    if (juncture == pqxx::array_parser::done) break;
    if (juncture == pqxx::array_parser::string_value) out.push_back(std::move(value));
  }
  return out;
}

// The database's message without libpq's "ERROR:  " and the lines of context after it.
std::string first_line(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  if (line.rfind("ERROR:", 0) == 0) line.erase(0, line.find_first_not_of(' ', 6));
  return line;
}

CallRecordRow call_row(const pqxx::row& row) {
  CallRecordRow c;
  c.call_id = row[0].as<std::int64_t>();
  c.direction = text(row[1]);
  c.caller = text(row[2]);
  c.dialled = text(row[3]);
  c.first_queue = text(row[4]);
  c.last_queue = text(row[5]);
  c.agent = text(row[6]);
  c.final_state = text(row[7]);
  c.exit_reason = text(row[8]);
  c.end_reason = text(row[9]);
  c.arrived_at = time_of(row[10].as<std::int64_t>());
  c.queued_at = maybe_time(row[11]);
  c.answered_at = maybe_time(row[12]);
  c.ended_at = time_of(row[13].as<std::int64_t>());
  c.wait_ms = count(row[14]);
  c.total_wait_ms = count(row[15]);
  c.talk_ms = count(row[16]);
  c.hold_ms = count(row[17]);
  c.sl_threshold_ms = maybe_int(row[18]);
  c.offers = static_cast<std::int32_t>(count(row[19]));
  c.queues = static_cast<std::int32_t>(count(row[20]));
  c.vip_level = static_cast<std::int32_t>(count(row[21]));
  return c;
}

QueueIntervalRow queue_row(const pqxx::row& row) {
  QueueIntervalRow r;
  r.queue = text(row[0]);
  r.interval_start = time_of(row[1].as<std::int64_t>());
  r.interval_local = text(row[2]);
  r.offered = count(row[3]);
  r.answered = count(row[4]);
  r.abandoned = count(row[5]);
  r.ended_otherwise = count(row[6]);
  r.answered_in_threshold = count(row[7]);
  r.abandoned_in_threshold = count(row[8]);
  r.sl_answered = maybe_double(row[9]);
  r.sl_with_abandons = maybe_double(row[10]);
  r.sl_abandons_after_threshold = maybe_double(row[11]);
  r.abandon_rate = maybe_double(row[12]);
  r.asa_ms = maybe_int(row[13]);
  r.aht_ms = maybe_int(row[14]);
  r.avg_talk_ms = maybe_int(row[15]);
  r.avg_hold_ms = maybe_int(row[16]);
  r.avg_wrap_up_ms = maybe_int(row[17]);
  r.longest_wait_ms = maybe_int(row[18]);
  r.overflowed_out = count(row[19]);
  r.timed_out = count(row[20]);
  r.exited = count(row[21]);
  r.interrupted = count(row[22]);
  return r;
}

AgentIntervalRow agent_row(const pqxx::row& row) {
  AgentIntervalRow r;
  r.agent = text(row[0]);
  r.interval_start = time_of(row[1].as<std::int64_t>());
  r.interval_local = text(row[2]);
  r.offers = count(row[3]);
  r.answered = count(row[4]);
  r.rona = count(row[5]);
  r.logged_in_ms = count(row[6]);
  r.ready_ms = count(row[7]);
  r.not_ready_ms = count(row[8]);
  const std::vector<std::string> reasons = elements(row[9]);
  const std::vector<std::string> durations = elements(row[10]);
  for (std::size_t i = 0; i < reasons.size() && i < durations.size(); ++i)
    r.not_ready_by_reason[reasons[i]] = std::stoll(durations[i]);
  r.ringing_ms = count(row[11]);
  r.dialing_ms = count(row[12]);
  r.talk_ms = count(row[13]);
  r.hold_ms = count(row[14]);
  r.wrap_up_ms = count(row[15]);
  return r;
}

AgentStateTimeRow state_row(const pqxx::row& row) {
  AgentStateTimeRow r;
  r.agent = text(row[0]);
  r.interval_start = time_of(row[1].as<std::int64_t>());
  r.interval_local = text(row[2]);
  r.state = text(row[3]);
  r.reason = text(row[4]);
  r.duration_ms = count(row[5]);
  return r;
}

AgentMonthRow month_row(const pqxx::row& row) {
  AgentMonthRow r;
  r.agent = text(row[0]);
  r.month_start = time_of(row[1].as<std::int64_t>());
  r.month = text(row[2]);
  r.offers = count(row[3]);
  r.answered = count(row[4]);
  r.rona = count(row[5]);
  r.outbound = count(row[6]);
  r.talk_ms = count(row[7]);
  r.hold_ms = count(row[8]);
  r.wrap_up_ms = count(row[9]);
  r.aht_ms = maybe_int(row[10]);
  return r;
}

template <class Row>
std::vector<Row> rows_of(const pqxx::result& result, Row (*convert)(const pqxx::row&)) {
  std::vector<Row> rows;
  rows.reserve(result.size());
  for (const auto& row : result) rows.push_back(convert(row));
  return rows;
}

// Runs the report of `request` into `out`.
void run_report(pqxx::connection& connection, const ReportRequest& request, int limit,
                ReportResult& out) {
  pqxx::nontransaction tx(connection);
  const std::string from = timestamp_text(request.from);
  const std::string to = timestamp_text(request.to);
  const std::string names = text_array(request.names);
  const char* names_or_null = request.names.empty() ? nullptr : names.c_str();
  switch (request.kind) {
    case ReportKind::kQueueIntervals: {
      const std::string threshold =
          request.sl_threshold_ms ? std::to_string(*request.sl_threshold_ms) : std::string();
      const pqxx::result r = tx.exec_prepared(
          kQueueReport, request.tenant, from, to, request.interval, request.time_zone,
          request.sl_threshold_ms ? threshold.c_str() : nullptr, names_or_null, limit);
      out.rows = rows_of(r, queue_row);
      break;
    }
    case ReportKind::kAgentIntervals: {
      const pqxx::result r =
          tx.exec_prepared(kAgentReport, request.tenant, from, to, request.interval,
                           request.time_zone, names_or_null, limit);
      out.rows = rows_of(r, agent_row);
      break;
    }
    case ReportKind::kAgentStateTime: {
      const pqxx::result r =
          tx.exec_prepared(kStateTimeReport, request.tenant, from, to, request.interval,
                           request.time_zone, names_or_null, limit);
      out.rows = rows_of(r, state_row);
      break;
    }
    case ReportKind::kAgentMonthlyVolume: {
      const pqxx::result r = tx.exec_prepared(kMonthlyReport, request.tenant, from, to,
                                              request.time_zone, names_or_null, limit);
      out.rows = rows_of(r, month_row);
      break;
    }
  }
}

std::size_t row_count(const ReportResult& result) {
  return std::visit([](const auto& rows) { return rows.size(); }, result.rows);
}

}  // namespace

ReportQueries::ReportQueries(ReportQueriesOptions options) : options_(std::move(options)) {
  QueryWorkerOptions worker;
  worker.name = "report queries";
  worker.dsn = options_.dsn;
  worker.max_pending = options_.max_pending;
  worker.statement_timeout = options_.statement_timeout;
  worker.prepare = prepare;
  worker.outage_note = "; reports and call searches fail until it is back";
  worker.jobs = "queries";
  worker.log = options_.log;
  worker_ = std::make_unique<QueryWorker>(std::move(worker));
}

ReportQueries::~ReportQueries() {
  stop();
}

void ReportQueries::stop() {
  worker_->stop();
}

bool ReportQueries::search(CallSearch search, std::function<void(CallSearchResult)> done) {
  auto result = std::make_shared<CallSearchResult>();
  QueryWorker::Job job;
  job.cancelled = std::move(search.cancelled);
  job.query = [result, search = std::move(search)](pqxx::connection& connection) {
    unsigned mask = 0;
    std::vector<std::string> filters;
    const std::string number = normalize_phone_number(search.caller_number);
    const std::string* values[kFilterCount] = {&number, &search.agent, &search.queue,
                                               &search.final_state};
    const bool wanted[kFilterCount] = {!search.caller_number.empty(), !search.agent.empty(),
                                       !search.queue.empty(), !search.final_state.empty()};
    for (int i = 0; i < kFilterCount; ++i) {
      if (!wanted[i]) continue;
      mask |= 1U << i;
      filters.push_back(*values[i]);
    }
    const int limit = std::clamp(search.limit, 1, kMaxSearchLimit);
    // The first page continues after (to, the smallest id): everything that arrived before
    // `to`.
    const CallKey after =
        search.after.value_or(CallKey{search.to, std::numeric_limits<std::int64_t>::min()});
    std::vector<std::string> parameters = {search.tenant,
                                           timestamp_text(search.from),
                                           timestamp_text(after.arrived_at),
                                           std::to_string(after.call_id),
                                           std::to_string(limit + 1),
                                           timestamp_text(search.to)};
    parameters.insert(parameters.end(), filters.begin(), filters.end());
    pqxx::nontransaction tx(connection);
    const pqxx::result rows =
        tx.exec_prepared(search_statement(mask), pqxx::prepare::make_dynamic_params(parameters));
    result->calls.reserve(rows.size());
    for (const auto& row : rows) {
      if (result->calls.size() == static_cast<std::size_t>(limit)) {
        result->more = true;
        break;
      }
      result->calls.push_back(call_row(row));
    }
  };
  job.done = [result, done = std::move(done)](QueryStatus status) {
    if (!done) return;
    if (!status.ok()) {
      CallSearchResult failed;
      failed.status = std::move(status);
      done(std::move(failed));
      return;
    }
    done(std::move(*result));
  };
  return worker_->post(std::move(job));
}

bool ReportQueries::report(ReportRequest request, std::function<void(ReportResult)> done) {
  auto result = std::make_shared<ReportResult>();
  auto refused = std::make_shared<std::string>();  // the database's words for a kRejected
  const std::size_t max_rows = options_.max_report_rows;
  QueryWorker::Job job;
  job.cancelled = std::move(request.cancelled);
  job.query = [result, refused, max_rows,
               request = std::move(request)](pqxx::connection& connection) {
    const int limit =
        static_cast<int>(std::min<std::size_t>(max_rows, std::numeric_limits<int>::max() - 1) + 1);
    try {
      run_report(connection, request, limit, *result);
    } catch (const pqxx::sql_error& e) {
      // The report functions raise 22023 for their parameters; the service has checked the
      // range and interval, so what is left is the time zone ("time zone "Mars/Olympus" not
      // recognized").
      if (e.sqlstate().rfind("22", 0) == 0) {
        const std::string line = first_line(e.what());
        *refused = (line.find("time zone") != std::string::npos ? "time_zone: " : "") + line;
      }
      throw;
    }
    if (row_count(*result) > max_rows) result->too_many_rows = true;
  };
  job.done = [result, refused, max_rows, done = std::move(done)](QueryStatus status) {
    if (!done) return;
    ReportResult answer;
    if (!status.ok()) {
      if (status.failure == QueryFailure::kRejected && !refused->empty()) status.error = *refused;
      answer.status = std::move(status);
      done(std::move(answer));
      return;
    }
    if (result->too_many_rows) {
      answer.status = {QueryFailure::kFailed, "the report has more than " +
                                                  std::to_string(max_rows) +
                                                  " rows: ask for a shorter range, a longer "
                                                  "interval or fewer queues or agents"};
      answer.too_many_rows = true;
      std::visit([&answer](const auto& rows) { answer.rows = std::decay_t<decltype(rows)>{}; },
                 result->rows);
      done(std::move(answer));
      return;
    }
    done(std::move(*result));
  };
  return worker_->post(std::move(job));
}

}  // namespace acd::store
