// ReportQueries (the report service's database side) against a throwaway cluster with every
// migration applied: calls written with SQL are searched page by page, with each filter,
// across tenants and with hostile values; the reports come back as the SQL functions give
// them; outages, timeouts and cancelled requests are answered as values.
#include "engine/store/report_queries.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/migrator.h"
#include "engine/store/query_worker.h"
#include "engine/store/test_cluster_util.h"

namespace acd::store {
namespace {

using namespace std::chrono_literals;

constexpr auto kGenerous = 60s;
constexpr const char* kDeadDsn = "host=/nonexistent/acd-report-queries-test dbname=acd";

// 2024-03-05 10:00:00 UTC
constexpr std::int64_t kBase = 1709632800;

ReportTime at(std::int64_t seconds) {
  return ReportTime(std::chrono::seconds(seconds));
}
std::int64_t seconds_of(ReportTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void exec(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

std::string scalar(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  return tx.exec(sql)[0][0].c_str();
}

// One synthetic call (what the search tests insert and what they expect back).
struct Call {
  std::int64_t id = 0;
  std::int64_t arrived = 0;  // seconds since the epoch
  std::string tenant = "acme";
  std::string caller;
  std::string first_queue;
  std::string last_queue;
  std::string agent;  // '' = NULL
  std::string state;
};

// 24 calls of acme, one every 5 minutes from kBase, two at each time (so the order's tie on
// arrived_at is broken by call_id), callers presented in two ways, three agents, calls
// moving between queues; and four of globex that must never show for acme.
std::vector<Call> history() {
  std::vector<Call> calls;
  const char* callers[] = {"+1 555-000 0001", "+15550000001", "+15550000002", "0049 30 1234"};
  const char* agents[] = {"ann", "bob", "", "carl"};
  const char* states[] = {"completed", "abandoned", "completed", "voicemail", "transferred"};
  for (int i = 0; i < 24; ++i) {
    Call c;
    c.id = 1000 + ((i * 7) % 24);  // ids not in arrival order
    c.arrived = kBase + (i / 2) * 300;
    c.caller = callers[i % 4];
    c.first_queue = i % 3 == 0 ? "sales" : "support";
    c.last_queue = i % 5 == 0 ? "billing" : c.first_queue;
    c.agent = agents[i % 4];
    c.state = states[i % 5];
    if (c.state == "abandoned" || c.state == "voicemail") c.agent.clear();
    calls.push_back(c);
  }
  for (int i = 0; i < 4; ++i) {
    Call c;
    c.id = 2000 + i;
    c.arrived = kBase + 600 + i;
    c.tenant = "globex";
    c.caller = "+15550000001";
    c.first_queue = c.last_queue = "sales";
    c.agent = "ann";
    c.state = "completed";
    calls.push_back(c);
  }
  return calls;
}

void insert(const std::string& dsn, const std::vector<Call>& calls) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  for (const Call& call : calls) {
    tx.exec_params(
        "INSERT INTO calls (call_id, run_id, tenant, direction, caller, dialled, first_queue, "
        "last_queue, agent, final_state, arrived_at, queued_at, ended_at, wait_ms, talk_ms, "
        "sl_threshold_ms) VALUES ($1, 1, $2, 'inbound', $3, '100', $4, $5, NULLIF($6, ''), $7, "
        "to_timestamp($8), to_timestamp($8), to_timestamp($8) + interval '1 minute', 2000, "
        "30000, 20000)",
        call.id, call.tenant, call.caller, call.first_queue, call.last_queue, call.agent,
        call.state, call.arrived);
  }
  tx.commit();
}

std::string digits(const std::string& number) {
  std::string out;
  for (char c : number)
    if ((c >= '0' && c <= '9') || (c == '+' && out.empty())) out += c;
  return out;
}

// The ids `search` must find, newest first, worked out from the synthetic calls.
std::vector<std::int64_t> expected(const std::vector<Call>& calls, const CallSearch& search) {
  std::vector<Call> found;
  for (const Call& c : calls) {
    if (c.tenant != search.tenant) continue;
    if (c.arrived < seconds_of(search.from) || c.arrived >= seconds_of(search.to)) continue;
    if (!search.caller_number.empty() && digits(c.caller) != digits(search.caller_number)) continue;
    if (!search.agent.empty() && c.agent != search.agent) continue;
    if (!search.queue.empty() && c.first_queue != search.queue && c.last_queue != search.queue)
      continue;
    if (!search.final_state.empty() && c.state != search.final_state) continue;
    found.push_back(c);
  }
  std::sort(found.begin(), found.end(), [](const Call& a, const Call& b) {
    return a.arrived != b.arrived ? a.arrived > b.arrived : a.id > b.id;
  });
  std::vector<std::int64_t> ids;
  for (const Call& c : found) ids.push_back(c.id);
  return ids;
}

std::optional<CallSearchResult> run(ReportQueries& queries, CallSearch search) {
  auto answer = std::make_shared<std::promise<CallSearchResult>>();
  auto future = answer->get_future();
  if (!queries.search(std::move(search),
                      [answer](CallSearchResult r) { answer->set_value(std::move(r)); }))
    return std::nullopt;
  if (future.wait_for(kGenerous) != std::future_status::ready) return std::nullopt;
  return future.get();
}

std::optional<ReportResult> run(ReportQueries& queries, ReportRequest request) {
  auto answer = std::make_shared<std::promise<ReportResult>>();
  auto future = answer->get_future();
  if (!queries.report(std::move(request),
                      [answer](ReportResult r) { answer->set_value(std::move(r)); }))
    return std::nullopt;
  if (future.wait_for(kGenerous) != std::future_status::ready) return std::nullopt;
  return future.get();
}

// Every page of `search` with `limit` calls a page; the ids in the order seen. Each page
// but the last is full and says there is more; the last says there is not.
std::vector<std::int64_t> walk(ReportQueries& queries, CallSearch search, int limit) {
  std::vector<std::int64_t> ids;
  search.limit = limit;
  for (int page = 0; page < 200; ++page) {
    auto r = run(queries, search);
    REQUIRE(r);
    INFO(r->status.error);
    REQUIRE(r->status.ok());
    for (const auto& c : r->calls) ids.push_back(c.call_id);
    if (!r->more) {
      CHECK(r->calls.size() <= static_cast<std::size_t>(limit));
      return ids;
    }
    REQUIRE(r->calls.size() == static_cast<std::size_t>(limit));
    search.after = CallKey{r->calls.back().arrived_at, r->calls.back().call_id};
  }
  FAIL("the search never ended");
  return ids;
}

struct Fixture {
  Fixture() {
    REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
    insert(t.dsn(), calls);
  }
  ReportQueriesOptions options() const {
    ReportQueriesOptions o;
    o.dsn = t.dsn() + " application_name=acd-report-queries-test";
    return o;
  }
  CallSearch acme() const {
    CallSearch s;
    s.tenant = "acme";
    s.from = at(kBase);
    s.to = at(kBase + 86400);
    return s;
  }

  testing::TestCluster t;
  std::vector<Call> calls = history();
};

}  // namespace

TEST_CASE("a call search walks every call once, newest first, page by page", "[store]") {
  Fixture f;
  ReportQueries queries(f.options());
  const CallSearch all = f.acme();
  const std::vector<std::int64_t> want = expected(f.calls, all);
  REQUIRE(want.size() == 24);
  for (int limit : {1, 2, 3, 5, 7, 23, 24, 25, 1000}) {
    INFO("limit " << limit);
    CHECK(walk(queries, all, limit) == want);
  }

  SECTION("a page that ends exactly at the last call says there is no more") {
    CallSearch s = all;
    s.limit = 24;
    auto r = run(queries, s);
    REQUIRE(r);
    REQUIRE(r->status.ok());
    CHECK(r->calls.size() == 24);
    CHECK_FALSE(r->more);
  }

  SECTION("calls recorded while paging neither repeat nor push calls off a page") {
    CallSearch s = all;
    s.limit = 5;
    auto first = run(queries, s);
    REQUIRE(first);
    REQUIRE(first->status.ok());
    std::vector<std::int64_t> ids;
    for (const auto& c : first->calls) ids.push_back(c.call_id);
    // Newer than everything, and one with the very time of the first page's last call but a
    // higher id (so before it in the order): neither belongs after that page.
    const CallRecordRow& last = first->calls.back();
    insert(f.t.dsn(),
           {Call{5000, kBase + 80000, "acme", "+15550000009", "sales", "sales", "", "abandoned"},
            Call{5001, seconds_of(last.arrived_at), "acme", "+15550000009", "sales", "sales", "",
                 "abandoned"}});
    s.after = CallKey{last.arrived_at, last.call_id};
    const std::vector<std::int64_t> rest = walk(queries, s, 5);
    ids.insert(ids.end(), rest.begin(), rest.end());
    CHECK(ids == want);
  }
}

TEST_CASE("each filter of a call search narrows it", "[store]") {
  Fixture f;
  ReportQueries queries(f.options());
  auto check = [&](const CallSearch& s) {
    const std::vector<std::int64_t> want = expected(f.calls, s);
    CHECK_FALSE(want.empty());
    CHECK(walk(queries, s, 4) == want);
  };

  CallSearch s = f.acme();
  SECTION("caller number, compared normalized") {
    s.caller_number = "+1 (555) 000-0001";  // both presentations of +15550000001
    check(s);
    CHECK(expected(f.calls, s).size() == 12);
    s.caller_number = "tel:0049-30-1234";
    check(s);
    s.caller_number = "15550000001";  // no '+': another number
    CHECK(walk(queries, s, 4).empty());
  }
  SECTION("the caller number's search is an index scan in the search's order") {
    std::string plan;
    pqxx::connection c(f.t.dsn());
    pqxx::nontransaction tx(c);
    tx.exec("SET enable_seqscan = off");
    for (const auto& row :
         tx.exec("EXPLAIN SELECT call_id FROM calls c WHERE c.tenant = 'acme' AND c.arrived_at >= "
                 "now() - interval '1 year' AND c.arrived_at < now() AND c.arrived_at <= now() AND "
                 "(c.arrived_at, c.call_id) < (now(), 5) AND c.direction = 'inbound' AND "
                 "acd_normalize_phone(c.caller) = '+15550000001' ORDER BY c.arrived_at DESC, "
                 "c.call_id DESC LIMIT 51")) {
      plan += row[0].c_str();
      plan += '\n';
    }
    INFO(plan);
    CHECK(plan.find("calls_tenant_caller_arrived") != std::string::npos);
    CHECK(plan.find("Sort") == std::string::npos);
  }
  SECTION("agent") {
    s.agent = "ann";
    check(s);
    s.agent = "bob";
    check(s);
    s.agent = "nobody";
    CHECK(walk(queries, s, 4).empty());
  }
  SECTION("queue: the first or the last") {
    s.queue = "billing";  // only ever a last queue
    check(s);
    s.queue = "sales";  // first queues, some of which ended in billing
    check(s);
  }
  SECTION("final state") {
    s.final_state = "transferred";
    check(s);
    s.final_state = "abandoned";
    check(s);
  }
  SECTION("several at once") {
    s.caller_number = "+15550000001";
    s.agent = "ann";
    s.queue = "sales";
    s.final_state = "completed";
    check(s);
  }
  SECTION("the range is half-open: from included, to excluded") {
    s.from = at(kBase + 600);
    s.to = at(kBase + 1500);
    const auto want = expected(f.calls, s);
    CHECK(want.size() == 6);  // 600, 900, 1200 (two each); not 1500
    CHECK(walk(queries, s, 4) == want);
    s.to = s.from;
    CHECK(walk(queries, s, 4).empty());
  }
}

TEST_CASE("a call record comes back with every column", "[store]") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  exec(t.dsn(), R"sql(
INSERT INTO calls (call_id, run_id, tenant, direction, caller, dialled, first_queue, last_queue,
                   agent, final_state, exit_reason, arrived_at, queued_at, answered_at,
                   ended_at, wait_ms, total_wait_ms, talk_ms, hold_ms, sl_threshold_ms, offers,
                   queues, vip_level, end_reason) VALUES
 (7, 1, 'acme', 'inbound', '+1 555 0100', '800', 'sales', 'support', 'ann', 'completed',
  NULL, '2024-03-05 10:00:00.123456+00', '2024-03-05 10:00:30+00', '2024-03-05 10:01:00+00',
  '2024-03-05 10:05:00+00', 30000, 60000, 240000, 15000, 20000, 2, 2, 3, 'agent-bye'),
 (8, 1, 'acme', 'outbound', '1001', '+15550100', NULL, NULL, 'ann', 'unanswered',
  NULL, '2024-03-05 11:00:00+00', NULL, NULL, '2024-03-05 11:00:20+00', 0, 0, 0, 0, NULL, 0,
  0, 0, NULL),
 (9, 1, 'acme', 'inbound', NULL, NULL, 'sales', 'sales', NULL, 'voicemail',
  'timeout', '2024-03-05 12:00:00+00', '2024-03-05 12:00:00+00', NULL,
  '2024-03-05 12:02:00+00', 120000, 120000, 0, 0, 20000, 1, 1, 0, 'queue-exit');
)sql");
  ReportQueriesOptions options;
  options.dsn = t.dsn();
  ReportQueries queries(options);
  CallSearch s;
  s.tenant = "acme";
  s.from = at(kBase);
  s.to = at(kBase + 86400);
  auto r = run(queries, s);
  REQUIRE(r);
  REQUIRE(r->status.ok());
  REQUIRE(r->calls.size() == 3);
  const CallRecordRow& full = r->calls[2];
  CHECK(full.call_id == 7);
  CHECK(full.direction == "inbound");
  CHECK(full.caller == "+1 555 0100");
  CHECK(full.dialled == "800");
  CHECK(full.first_queue == "sales");
  CHECK(full.last_queue == "support");
  CHECK(full.agent == "ann");
  CHECK(full.final_state == "completed");
  CHECK(full.exit_reason.empty());
  CHECK(full.end_reason == "agent-bye");
  CHECK(std::chrono::duration_cast<std::chrono::microseconds>(full.arrived_at.time_since_epoch())
            .count() == kBase * 1000000 + 123456);
  REQUIRE(full.queued_at);
  CHECK(seconds_of(*full.queued_at) == kBase + 30);
  REQUIRE(full.answered_at);
  CHECK(seconds_of(*full.answered_at) == kBase + 60);
  CHECK(seconds_of(full.ended_at) == kBase + 300);
  CHECK(full.wait_ms == 30000);
  CHECK(full.total_wait_ms == 60000);
  CHECK(full.talk_ms == 240000);
  CHECK(full.hold_ms == 15000);
  CHECK(full.sl_threshold_ms == 20000);
  CHECK(full.offers == 2);
  CHECK(full.queues == 2);
  CHECK(full.vip_level == 3);

  const CallRecordRow& outbound = r->calls[1];
  CHECK(outbound.direction == "outbound");
  CHECK(outbound.first_queue.empty());
  CHECK_FALSE(outbound.queued_at);
  CHECK_FALSE(outbound.answered_at);
  CHECK_FALSE(outbound.sl_threshold_ms);
  CHECK(outbound.end_reason.empty());

  const CallRecordRow& voicemail = r->calls[0];
  CHECK(voicemail.caller.empty());
  CHECK(voicemail.agent.empty());
  CHECK(voicemail.exit_reason == "timeout");

  // The exact microsecond continues a search: the call at it is not repeated.
  s.after = CallKey{full.arrived_at, full.call_id};
  auto after = run(queries, s);
  REQUIRE(after);
  CHECK(after->calls.empty());
  s.after = CallKey{full.arrived_at, full.call_id + 1};
  after = run(queries, s);
  REQUIRE(after);
  REQUIRE(after->calls.size() == 1);
  CHECK(after->calls[0].call_id == 7);
}

TEST_CASE("tenants do not see each other's calls or reports", "[store]") {
  Fixture f;
  ReportQueries queries(f.options());
  CallSearch s = f.acme();
  s.caller_number = "+15550000001";
  for (std::int64_t id : walk(queries, s, 100)) CHECK(id < 2000);

  s.tenant = "globex";
  CHECK(walk(queries, s, 100) == std::vector<std::int64_t>{2003, 2002, 2001, 2000});
  s.tenant = "initech";  // no such tenant
  CHECK(walk(queries, s, 100).empty());
  s.tenant = "ACME";  // names are exact
  CHECK(walk(queries, s, 100).empty());

  ReportRequest report;
  report.kind = ReportKind::kQueueIntervals;
  report.tenant = "globex";
  report.from = at(kBase);
  report.to = at(kBase + 86400);
  report.interval = "day";
  auto r = run(queries, report);
  REQUIRE(r);
  REQUIRE(r->status.ok());
  const auto& rows = std::get<std::vector<QueueIntervalRow>>(r->rows);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].queue == "sales");
  CHECK(rows[0].offered == 4);
}

TEST_CASE("SQL metacharacters in a search or a report are inert", "[store]") {
  Fixture f;
  ReportQueries queries(f.options());
  const std::vector<std::string> hostile = {
      "' OR '1'='1",
      "ann'; DROP TABLE calls; --",
      "%",
      "_",
      "\\' OR 1=1 --",
      "1); DELETE FROM calls; --",
      "$1 $2 $$ ; SELECT pg_sleep(10)",
      "\"}, {\"ann",
      "{ann,bob}",
  };
  for (const auto& value : hostile) {
    INFO(value);
    for (int field = 0; field < 5; ++field) {
      CallSearch s = f.acme();
      switch (field) {
        case 0: s.caller_number = value + "9"; break;  // a digit, so it is compared
        case 1: s.agent = value; break;
        case 2: s.queue = value; break;
        case 3: s.final_state = value; break;
        case 4: s.tenant = value; break;
      }
      auto r = run(queries, s);
      REQUIRE(r);
      INFO(r->status.error);
      CHECK(r->status.ok());
      CHECK(r->calls.empty());
    }
    ReportRequest report;
    report.kind = ReportKind::kAgentIntervals;
    report.tenant = "acme";
    report.from = at(kBase);
    report.to = at(kBase + 86400);
    report.interval = "hour";
    report.names = {value, "ann"};
    auto r = run(queries, report);
    REQUIRE(r);
    CHECK(r->status.ok());
    // As a time zone, a value is refused by the database, or read as a POSIX zone
    // specification ("' OR '1'='1" is one): never as SQL.
    report.time_zone = value;
    r = run(queries, report);
    REQUIRE(r);
    INFO(r->status.error);
    CHECK((r->status.ok() || (r->status.failure == QueryFailure::kRejected &&
                              r->status.error.rfind("time_zone: ", 0) == 0)));
  }
  CHECK(scalar(f.t.dsn(), "SELECT count(*) FROM calls") == "28");
  CHECK(walk(queries, f.acme(), 100).size() == 24);
}

// The report functions' rows straight from SQL, by column name, to compare with what the
// queries give.
pqxx::result direct(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  return tx.exec(sql);
}

std::int64_t micros(const ReportTime& t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::optional<std::int64_t> maybe(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::int64_t>();
}

std::optional<double> ratio(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<double>();
}

std::string local(const pqxx::field& f) {
  std::string s = f.c_str();
  std::replace(s.begin(), s.end(), ' ', 'T');
  return s;
}

TEST_CASE("the reports are the SQL functions' rows, column by column", "[store]") {
  Fixture f;
  // Agent history for the agent reports: ann is ready, takes a call, wraps up, goes on a
  // break and to lunch; bob is rung and does not answer.
  exec(f.t.dsn(), R"sql(
INSERT INTO agent_state_events (run_id, seq, tenant, agent, at, from_state, to_state, reason,
                                cause, call_id) VALUES
 (1, 1, 'acme', 'ann', '2024-03-05 09:00:00+00', 'logged-out', 'ready', NULL, 'agent', NULL),
 (1, 2, 'acme', 'ann', '2024-03-05 10:00:00+00', 'ready', 'talking', NULL, 'call', 1000),
 (1, 3, 'acme', 'ann', '2024-03-05 10:05:00+00', 'talking', 'wrap-up', NULL, 'call', 1000),
 (1, 4, 'acme', 'ann', '2024-03-05 10:05:30+00', 'wrap-up', 'not-ready', 'break', 'agent', NULL),
 (1, 5, 'acme', 'ann', '2024-03-05 10:20:00+00', 'not-ready', 'not-ready', 'lunch', 'agent',
  NULL),
 (1, 6, 'acme', 'ann', '2024-03-05 11:00:00+00', 'not-ready', 'logged-out', NULL, 'agent', NULL),
 (1, 7, 'acme', 'bob', '2024-03-05 09:30:00+00', 'logged-out', 'ready', NULL, 'agent', NULL),
 (1, 8, 'acme', 'bob', '2024-03-05 10:10:00+00', 'ready', 'ringing', NULL, 'router', 1007),
 (1, 9, 'acme', 'bob', '2024-03-05 10:10:15+00', 'ringing', 'not-ready', 'no-answer', 'timer',
  NULL),
 (1, 10, 'acme', 'bob', '2024-03-05 10:30:00+00', 'not-ready', 'logged-out', NULL, 'agent', NULL);
INSERT INTO call_legs (call_id, leg, run_id, tenant, queue, agent, offered_at, answered_at,
                       ended_at, result) VALUES
 (1000, 1, 1, 'acme', 'sales', 'ann', '2024-03-05 09:59:55+00', '2024-03-05 10:00:00+00',
  '2024-03-05 10:05:00+00', 'answered'),
 (1007, 1, 1, 'acme', 'support', 'bob', '2024-03-05 10:10:00+00', NULL,
  '2024-03-05 10:10:15+00', 'no-answer');
)sql");
  ReportQueries queries(f.options());
  ReportRequest request;
  request.tenant = "acme";
  request.from = at(kBase - 3600);
  request.to = at(kBase + 86400);
  request.interval = "hour";
  const std::string range = "'acme', to_timestamp(" + std::to_string(kBase - 3600) +
                            "), to_timestamp(" + std::to_string(kBase + 86400) + ")";

  SECTION("queue report") {
    request.kind = ReportKind::kQueueIntervals;
    request.time_zone = "Europe/Berlin";
    request.sl_threshold_ms = 1000;
    auto r = run(queries, request);
    REQUIRE(r);
    INFO(r->status.error);
    REQUIRE(r->status.ok());
    const auto& rows = std::get<std::vector<QueueIntervalRow>>(r->rows);
    const pqxx::result want =
        direct(f.t.dsn(),
               "SELECT r.*, (extract(epoch FROM r.interval_start) * 1000000)::bigint AS start_us "
               "FROM report_queue_intervals(" +
                   range + ", 'hour', 'Europe/Berlin', 1000) r ORDER BY queue, interval_start");
    REQUIRE(rows.size() == want.size());
    REQUIRE(rows.size() >= 3);  // billing, sales and support, in one or two hours
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& got = rows[i];
      const auto& w = want[i];
      INFO("row " << i);
      CHECK(got.queue == w["queue"].as<std::string>());
      CHECK(micros(got.interval_start) == w["start_us"].as<std::int64_t>());
      CHECK(got.interval_local == local(w["interval_local"]));
      CHECK(got.offered == w["offered"].as<std::int64_t>());
      CHECK(got.answered == w["answered"].as<std::int64_t>());
      CHECK(got.abandoned == w["abandoned"].as<std::int64_t>());
      CHECK(got.ended_otherwise == w["ended_otherwise"].as<std::int64_t>());
      CHECK(got.answered_in_threshold == w["answered_in_threshold"].as<std::int64_t>());
      CHECK(got.abandoned_in_threshold == w["abandoned_in_threshold"].as<std::int64_t>());
      CHECK(got.sl_answered == ratio(w["sl_answered"]));
      CHECK(got.sl_with_abandons == ratio(w["sl_with_abandons"]));
      CHECK(got.sl_abandons_after_threshold == ratio(w["sl_abandons_after_threshold"]));
      CHECK(got.abandon_rate == ratio(w["abandon_rate"]));
      CHECK(got.asa_ms == maybe(w["asa_ms"]));
      CHECK(got.aht_ms == maybe(w["aht_ms"]));
      CHECK(got.avg_talk_ms == maybe(w["avg_talk_ms"]));
      CHECK(got.avg_hold_ms == maybe(w["avg_hold_ms"]));
      CHECK(got.avg_wrap_up_ms == maybe(w["avg_wrap_up_ms"]));
      CHECK(got.longest_wait_ms == maybe(w["longest_wait_ms"]));
      CHECK(got.overflowed_out == w["overflowed_out"].as<std::int64_t>());
      CHECK(got.timed_out == w["timed_out"].as<std::int64_t>());
      CHECK(got.exited == w["exited"].as<std::int64_t>());
      CHECK(got.interrupted == w["interrupted"].as<std::int64_t>());
    }
    // Hand-checked: the hour 11:00 in Berlin (10:00 UTC) of sales: calls 0, 6 (i = 0 ends in
    // billing), ... all with wait 2 s over a 1 s threshold: no service level at all.
    const auto sales = std::find_if(rows.begin(), rows.end(),
                                    [](const auto& row) { return row.queue == "sales"; });
    REQUIRE(sales != rows.end());
    CHECK(sales->interval_local == "2024-03-05T11:00:00");
    CHECK(sales->answered_in_threshold == 0);
    REQUIRE(sales->sl_answered);
    CHECK(*sales->sl_answered == 0.0);

    SECTION("only the queues asked for") {
      request.names = {"support", "billing"};
      auto some = run(queries, request);
      REQUIRE(some);
      REQUIRE(some->status.ok());
      const auto& picked = std::get<std::vector<QueueIntervalRow>>(some->rows);
      REQUIRE_FALSE(picked.empty());
      for (const auto& row : picked) CHECK((row.queue == "support" || row.queue == "billing"));
      CHECK(picked.size() == rows.size() - static_cast<std::size_t>(std::count_if(
                                               rows.begin(), rows.end(), [](const auto& row) {
                                                 return row.queue == "sales";
                                               })));
    }
  }

  SECTION("agent report") {
    request.kind = ReportKind::kAgentIntervals;
    auto r = run(queries, request);
    REQUIRE(r);
    INFO(r->status.error);
    REQUIRE(r->status.ok());
    const auto& rows = std::get<std::vector<AgentIntervalRow>>(r->rows);
    const pqxx::result want =
        direct(f.t.dsn(),
               "SELECT r.*, (extract(epoch FROM r.interval_start) * 1000000)::bigint AS "
               "start_us, r.not_ready_by_reason::text AS reasons FROM report_agent_intervals(" +
                   range + ", 'hour') r ORDER BY agent, interval_start");
    REQUIRE(rows.size() == want.size());
    REQUIRE(rows.size() == 4);  // ann and bob, 09:00 and 10:00 (logged out at 11:00)
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& got = rows[i];
      const auto& w = want[i];
      INFO("row " << i);
      CHECK(got.agent == w["agent"].as<std::string>());
      CHECK(micros(got.interval_start) == w["start_us"].as<std::int64_t>());
      CHECK(got.interval_local == local(w["interval_local"]));
      CHECK(got.offers == w["offers"].as<std::int64_t>());
      CHECK(got.answered == w["answered"].as<std::int64_t>());
      CHECK(got.rona == w["rona"].as<std::int64_t>());
      CHECK(got.logged_in_ms == w["logged_in_ms"].as<std::int64_t>());
      CHECK(got.ready_ms == w["ready_ms"].as<std::int64_t>());
      CHECK(got.not_ready_ms == w["not_ready_ms"].as<std::int64_t>());
      CHECK(got.ringing_ms == w["ringing_ms"].as<std::int64_t>());
      CHECK(got.dialing_ms == w["dialing_ms"].as<std::int64_t>());
      CHECK(got.talk_ms == w["talk_ms"].as<std::int64_t>());
      CHECK(got.hold_ms == w["hold_ms"].as<std::int64_t>());
      CHECK(got.wrap_up_ms == w["wrap_up_ms"].as<std::int64_t>());
      std::string reasons = "{";
      for (const auto& [reason, ms] : got.not_ready_by_reason) {
        if (reasons.size() > 1) reasons += ", ";
        reasons += "\"" + reason + "\": " + std::to_string(ms);
      }
      CHECK(reasons + "}" == w["reasons"].as<std::string>());
    }
    // Hand-checked: ann in the 10:00 hour: 5 min talk, 30 s wrap-up, 14.5 min break, 40 min
    // lunch; bob: one RONA.
    const auto& ann = rows[1];
    CHECK(ann.agent == "ann");
    CHECK(ann.talk_ms == 300000);
    CHECK(ann.wrap_up_ms == 30000);
    CHECK(ann.not_ready_by_reason ==
          std::map<std::string, std::int64_t>{{"break", 870000}, {"lunch", 2400000}});
    const auto& bob = rows[3];
    CHECK(bob.agent == "bob");
    CHECK(bob.rona == 1);
    CHECK(bob.not_ready_by_reason == std::map<std::string, std::int64_t>{{"no-answer", 1185000}});

    SECTION("only the agents asked for") {
      request.names = {"bob"};
      auto some = run(queries, request);
      REQUIRE(some);
      REQUIRE(some->status.ok());
      const auto& picked = std::get<std::vector<AgentIntervalRow>>(some->rows);
      REQUIRE(picked.size() == 2);
      CHECK(picked[0].agent == "bob");
    }
  }

  SECTION("state time") {
    request.kind = ReportKind::kAgentStateTime;
    auto r = run(queries, request);
    REQUIRE(r);
    INFO(r->status.error);
    REQUIRE(r->status.ok());
    const auto& rows = std::get<std::vector<AgentStateTimeRow>>(r->rows);
    const pqxx::result want =
        direct(f.t.dsn(),
               "SELECT r.*, (extract(epoch FROM r.interval_start) * 1000000)::bigint AS start_us "
               "FROM report_agent_state_time(" +
                   range + ", 'hour') r ORDER BY agent, interval_start, state, reason NULLS FIRST");
    REQUIRE(rows.size() == want.size());
    REQUIRE_FALSE(rows.empty());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      INFO("row " << i);
      CHECK(rows[i].agent == want[i]["agent"].as<std::string>());
      CHECK(micros(rows[i].interval_start) == want[i]["start_us"].as<std::int64_t>());
      CHECK(rows[i].interval_local == local(want[i]["interval_local"]));
      CHECK(rows[i].state == want[i]["state"].as<std::string>());
      CHECK(rows[i].reason == (want[i]["reason"].is_null() ? "" : want[i]["reason"].c_str()));
      CHECK(rows[i].duration_ms == want[i]["duration_ms"].as<std::int64_t>());
    }
  }

  SECTION("monthly volume") {
    request.kind = ReportKind::kAgentMonthlyVolume;
    request.interval.clear();
    auto r = run(queries, request);
    REQUIRE(r);
    INFO(r->status.error);
    REQUIRE(r->status.ok());
    const auto& rows = std::get<std::vector<AgentMonthRow>>(r->rows);
    const pqxx::result want =
        direct(f.t.dsn(),
               "SELECT r.*, (extract(epoch FROM r.month_start) * 1000000)::bigint AS start_us "
               "FROM report_agent_monthly_volume(" +
                   range + ") r ORDER BY agent, month_start");
    REQUIRE(rows.size() == want.size());
    REQUIRE(rows.size() == 2);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      INFO("row " << i);
      CHECK(rows[i].agent == want[i]["agent"].as<std::string>());
      CHECK(micros(rows[i].month_start) == want[i]["start_us"].as<std::int64_t>());
      CHECK(rows[i].month == want[i]["month"].as<std::string>());
      CHECK(rows[i].offers == want[i]["offers"].as<std::int64_t>());
      CHECK(rows[i].answered == want[i]["answered"].as<std::int64_t>());
      CHECK(rows[i].rona == want[i]["rona"].as<std::int64_t>());
      CHECK(rows[i].outbound == want[i]["outbound"].as<std::int64_t>());
      CHECK(rows[i].talk_ms == want[i]["talk_ms"].as<std::int64_t>());
      CHECK(rows[i].hold_ms == want[i]["hold_ms"].as<std::int64_t>());
      CHECK(rows[i].wrap_up_ms == want[i]["wrap_up_ms"].as<std::int64_t>());
      CHECK(rows[i].aht_ms == maybe(want[i]["aht_ms"]));
    }
    CHECK(rows[0].month == "2024-03-01");
    CHECK(rows[1].agent == "bob");
    CHECK_FALSE(rows[1].aht_ms);  // bob answered nothing
  }

  SECTION("an unknown time zone is refused, naming the field") {
    request.kind = ReportKind::kQueueIntervals;
    request.time_zone = "Mars/Olympus_Mons";
    auto r = run(queries, request);
    REQUIRE(r);
    CHECK(r->status.failure == QueryFailure::kRejected);
    CHECK(r->status.error == "time_zone: time zone \"Mars/Olympus_Mons\" not recognized");
    request.time_zone = "UTC";
    r = run(queries, request);  // and the connection is still good
    REQUIRE(r);
    CHECK(r->status.ok());
  }

  SECTION("a report longer than max_report_rows is refused whole") {
    ReportQueriesOptions small = f.options();
    small.max_report_rows = 2;
    ReportQueries limited(small);
    request.kind = ReportKind::kAgentIntervals;
    auto r = run(limited, request);
    REQUIRE(r);
    CHECK_FALSE(r->status.ok());
    CHECK(r->too_many_rows);
    CHECK(r->status.error.find("more than 2 rows") != std::string::npos);
    CHECK(std::get<std::vector<AgentIntervalRow>>(r->rows).empty());
    request.names = {"bob"};  // two rows: allowed
    r = run(limited, request);
    REQUIRE(r);
    CHECK(r->status.ok());
    CHECK(std::get<std::vector<AgentIntervalRow>>(r->rows).size() == 2);
  }
}

TEST_CASE("outages, timeouts and cancelled requests are answered, not thrown", "[store]") {
  SECTION("no database") {
    std::vector<std::string> lines;
    std::mutex mutex;
    ReportQueriesOptions options;
    options.dsn = kDeadDsn;
    options.log = [&](bool is_error, const std::string& message) {
      std::lock_guard lock(mutex);
      if (is_error) lines.push_back(message);
    };
    ReportQueries queries(options);
    CallSearch s;
    s.tenant = "acme";
    s.to = at(kBase);
    for (int i = 0; i < 2; ++i) {
      auto r = run(queries, s);
      REQUIRE(r);
      CHECK(r->status.failure == QueryFailure::kUnavailable);
      CHECK(r->status.error.rfind("report queries: connect: ", 0) == 0);
    }
    std::lock_guard lock(mutex);
    CHECK(lines.size() == 1);  // an outage is one line, not one per request
  }

  SECTION("a statement timeout") {
    Fixture f;
    ReportQueriesOptions options = f.options();
    options.statement_timeout = 200ms;
    ReportQueries queries(options);
    REQUIRE(run(queries, f.acme())->status.ok());
    pqxx::connection locker(f.t.dsn());
    pqxx::work tx(locker);
    tx.exec("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE");
    auto slow = run(queries, f.acme());
    REQUIRE(slow);
    CHECK(slow->status.failure == QueryFailure::kTimeout);
    CHECK(slow->status.error.find("statement timeout") != std::string::npos);
    tx.abort();
    auto after = run(queries, f.acme());
    REQUIRE(after);
    CHECK(after->status.ok());
    CHECK(after->calls.size() == 24);
  }

  SECTION("a request whose requester has gone is skipped") {
    ReportQueriesOptions options;
    options.dsn = kDeadDsn;  // never reached
    ReportQueries queries(options);
    CallSearch s;
    s.tenant = "acme";
    s.cancelled = [] { return true; };
    auto r = run(queries, s);
    REQUIRE(r);
    CHECK(r->status.failure == QueryFailure::kCancelled);
    ReportRequest report;
    report.cancelled = [] { return true; };
    auto rr = run(queries, report);
    REQUIRE(rr);
    CHECK(rr->status.failure == QueryFailure::kCancelled);
  }

  SECTION("beyond max_pending, and after stop, requests are refused") {
    ReportQueriesOptions options;
    options.dsn = kDeadDsn;
    options.max_pending = 2;
    ReportQueries queries(options);
    std::promise<void> entered;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    CallSearch s;
    s.tenant = "acme";
    REQUIRE(queries.search(s, [&](CallSearchResult) {
      entered.set_value();
      released.wait();
    }));
    REQUIRE(entered.get_future().wait_for(kGenerous) == std::future_status::ready);
    std::vector<CallSearchResult> answers;
    std::mutex mutex;
    auto keep = [&](CallSearchResult r) {
      std::lock_guard lock(mutex);
      answers.push_back(std::move(r));
    };
    CHECK(queries.search(s, keep));
    CHECK(queries.search(s, keep));
    CHECK_FALSE(queries.search(s, keep));
    std::thread stopper([&] { queries.stop(); });
    // Stopping answers the two queued ones once the one in progress is done.
    release.set_value();
    stopper.join();
    REQUIRE(answers.size() == 2);
    for (const auto& r : answers) CHECK_FALSE(r.status.ok());
    CHECK_FALSE(queries.search(s, keep));
  }
}

TEST_CASE("the query worker classifies failures and goes on", "[store]") {
  testing::TestCluster t;
  std::vector<std::string> lines;
  std::mutex mutex;
  QueryWorkerOptions options;
  options.name = "test worker";
  options.dsn = t.dsn();
  options.log = [&](bool, const std::string& message) {
    std::lock_guard lock(mutex);
    lines.push_back(message);
  };
  QueryWorker worker(options);
  auto status_of = [&](std::function<void(pqxx::connection&)> query) {
    auto answer = std::make_shared<std::promise<QueryStatus>>();
    auto future = answer->get_future();
    QueryWorker::Job job;
    job.query = std::move(query);
    job.done = [answer](QueryStatus s) { answer->set_value(std::move(s)); };
    REQUIRE(worker.post(std::move(job)));
    REQUIRE(future.wait_for(kGenerous) == std::future_status::ready);
    return future.get();
  };
  auto sql = [](const char* text) {
    return [text](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec(text);
    };
  };
  CHECK(status_of(sql("SELECT 1")).ok());
  const QueryStatus rejected = status_of(sql("SELECT 1/0"));
  CHECK(rejected.failure == QueryFailure::kRejected);
  CHECK(rejected.error.rfind("test worker: ", 0) == 0);
  const QueryStatus failed = status_of(sql("SELECT * FROM no_such_table"));
  CHECK(failed.failure == QueryFailure::kFailed);
  const QueryStatus timeout = status_of(sql("SET statement_timeout = 50; SELECT pg_sleep(5)"));
  CHECK(timeout.failure == QueryFailure::kTimeout);
  const QueryStatus thrown =
      status_of([](pqxx::connection&) { throw std::runtime_error("the reader's own error"); });
  CHECK(thrown.failure == QueryFailure::kFailed);
  CHECK(thrown.error == "test worker: the reader's own error");
  // No database needed: ok at once.
  CHECK(status_of({}).ok());
  std::lock_guard lock(mutex);
  // A refused value is not an outage: logged are the failure, the timeout, the thrown error
  // (each a new error), never the division by zero.
  for (const auto& line : lines) CHECK(line.find("division by zero") == std::string::npos);
}

}  // namespace acd::store
