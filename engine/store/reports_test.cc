// The reports of migrations/0004_reports.sql (docs/REPORTS.md) on synthetic history with
// hand-computed figures: every expected number below is worked out in the comments from
// the rows inserted, not read back from the functions.
#include <catch2/catch.hpp>
#include <cstddef>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "engine/store/migrator.h"
#include "engine/store/test_cluster_util.h"

namespace acd::store {
namespace {

constexpr const char* kNull = nullptr;
using Table = std::vector<std::vector<const char*>>;

// Queue history, tenant 'acme' (and one 'globex' call that must never show), service-level
// threshold 20 s in 'sales', 15 s in 'support' in November. Times are UTC.
//
//  id queue    entered        state        wait  talk  hold  wrap  (agent)
//   1 sales    03-05 10:02    completed      5s   60s   10s   20s  alice
//   2 sales    03-05 10:07    completed     25s  120s    0    10s  bob (alice RONA first)
//   3 sales    03-05 10:20    abandoned      8s                     (no queued_at)
//   4 sales    03-05 10:40    abandoned     40s
//   5 sales    03-05 10:50    completed     20s   30s    5s    5s  alice (20 s = threshold)
//   6 sales    03-05 10:55    voicemail     60s   timeout event
//   7 sales    03-05 10:30    interrupted   90s   not offered
//  15 sales    03-05 10:58    callback      12s   exit event (caller breakout)
//   8 sales -> support 10:10 / 10:10:30 completed 3s 45s 0 15s carol, no threshold recorded
//   9 sales    03-05 11:05    completed     10s   50s    0    10s  bob
//  10 sales    03-06 00:10    abandoned      2s
//  12 sales    04-02 09:00    completed      1s   10s    0     0   alice (no wrap-up event)
//  13 support  11-03 05:30    abandoned      4s   (01:30 EDT)
//  14 support  11-03 06:30    abandoned     30s   (01:30 EST, the repeated hour)
//  20 outbound 03-07 12:00    completed                            alice
//  21 sales    03-31 23:29:50 completed     10s   20s    0     0   alice (04-01 in Berlin)
//  11 globex sales 03-05 10:03 completed     1s    1s                alice of globex
constexpr const char* kQueueHistory = R"sql(
INSERT INTO calls (call_id, run_id, tenant, direction, first_queue, last_queue, agent,
                   final_state, arrived_at, queued_at, answered_at, ended_at,
                   wait_ms, talk_ms, hold_ms, sl_threshold_ms) VALUES
 (1, 1, 'acme', 'inbound', 'sales', 'sales', 'alice', 'completed', '2024-03-05 10:02:00+00',
  '2024-03-05 10:02:00+00', '2024-03-05 10:02:05+00', '2024-03-05 10:03:15+00',
  5000, 60000, 10000, 20000),
 (2, 1, 'acme', 'inbound', 'sales', 'sales', 'bob', 'completed', '2024-03-05 10:07:00+00',
  '2024-03-05 10:07:00+00', '2024-03-05 10:07:25+00', '2024-03-05 10:09:25+00',
  25000, 120000, 0, 20000),
 (3, 1, 'acme', 'inbound', 'sales', 'sales', NULL, 'abandoned', '2024-03-05 10:20:00+00',
  NULL, NULL, '2024-03-05 10:20:08+00', 8000, 0, 0, 20000),
 (4, 1, 'acme', 'inbound', 'sales', 'sales', NULL, 'abandoned', '2024-03-05 10:40:00+00',
  '2024-03-05 10:40:00+00', NULL, '2024-03-05 10:40:40+00', 40000, 0, 0, 20000),
 (5, 1, 'acme', 'inbound', 'sales', 'sales', 'alice', 'completed', '2024-03-05 10:50:00+00',
  '2024-03-05 10:50:00+00', '2024-03-05 10:50:20+00', '2024-03-05 10:50:55+00',
  20000, 30000, 5000, 20000),
 (6, 1, 'acme', 'inbound', 'sales', 'sales', NULL, 'voicemail', '2024-03-05 10:55:00+00',
  '2024-03-05 10:55:00+00', NULL, '2024-03-05 10:56:00+00', 60000, 0, 0, 20000),
 (7, 1, 'acme', 'inbound', 'sales', 'sales', NULL, 'interrupted', '2024-03-05 10:30:00+00',
  '2024-03-05 10:30:00+00', NULL, '2024-03-05 10:31:30+00', 90000, 0, 0, 20000),
 (8, 1, 'acme', 'inbound', 'sales', 'support', 'carol', 'completed', '2024-03-05 10:10:00+00',
  '2024-03-05 10:10:30+00', '2024-03-05 10:10:33+00', '2024-03-05 10:11:18+00',
  3000, 45000, 0, NULL),
 (9, 1, 'acme', 'inbound', 'sales', 'sales', 'bob', 'completed', '2024-03-05 11:05:00+00',
  '2024-03-05 11:05:00+00', '2024-03-05 11:05:10+00', '2024-03-05 11:06:00+00',
  10000, 50000, 0, 20000),
 (10, 1, 'acme', 'inbound', 'sales', 'sales', NULL, 'abandoned', '2024-03-06 00:10:00+00',
  '2024-03-06 00:10:00+00', NULL, '2024-03-06 00:10:02+00', 2000, 0, 0, 20000),
 (11, 1, 'globex', 'inbound', 'sales', 'sales', 'alice', 'completed', '2024-03-05 10:03:00+00',
  '2024-03-05 10:03:00+00', '2024-03-05 10:03:01+00', '2024-03-05 10:03:02+00',
  1000, 1000, 0, 20000),
 (12, 1, 'acme', 'inbound', 'sales', 'sales', 'alice', 'completed', '2024-04-02 09:00:00+00',
  '2024-04-02 09:00:00+00', '2024-04-02 09:00:01+00', '2024-04-02 09:00:11+00',
  1000, 10000, 0, 20000),
 (13, 2, 'acme', 'inbound', 'support', 'support', NULL, 'abandoned', '2024-11-03 05:30:00+00',
  '2024-11-03 05:30:00+00', NULL, '2024-11-03 05:30:04+00', 4000, 0, 0, 15000),
 (14, 2, 'acme', 'inbound', 'support', 'support', NULL, 'abandoned', '2024-11-03 06:30:00+00',
  '2024-11-03 06:30:00+00', NULL, '2024-11-03 06:30:30+00', 30000, 0, 0, 15000),
 (15, 1, 'acme', 'inbound', 'sales', 'sales', NULL, 'callback', '2024-03-05 10:58:00+00',
  '2024-03-05 10:58:00+00', NULL, '2024-03-05 10:58:12+00', 12000, 0, 0, 20000),
 (20, 1, 'acme', 'outbound', NULL, NULL, 'alice', 'completed', '2024-03-07 12:00:00+00',
  NULL, '2024-03-07 12:00:10+00', '2024-03-07 12:00:50+00', 0, 40000, 0, NULL),
 (21, 1, 'acme', 'inbound', 'sales', 'sales', 'alice', 'completed', '2024-03-31 23:29:50+00',
  '2024-03-31 23:29:50+00', '2024-03-31 23:30:00+00', '2024-03-31 23:30:20+00',
  10000, 20000, 0, 20000);

INSERT INTO queue_events (call_id, seq, run_id, tenant, queue, at, kind, agent, wait_ms) VALUES
 (6, 1, 1, 'acme', 'sales', '2024-03-05 10:55:00+00', 'enter', NULL, NULL),
 (6, 2, 1, 'acme', 'sales', '2024-03-05 10:56:00+00', 'timeout', NULL, 60000),
 (8, 1, 1, 'acme', 'sales', '2024-03-05 10:10:00+00', 'enter', NULL, NULL),
 (8, 2, 1, 'acme', 'sales', '2024-03-05 10:10:30+00', 'overflow', NULL, 30000),
 (8, 3, 1, 'acme', 'support', '2024-03-05 10:10:30+00', 'enter', NULL, NULL),
 (8, 4, 1, 'acme', 'support', '2024-03-05 10:10:33+00', 'connect', 'carol', 3000),
 (15, 1, 1, 'acme', 'sales', '2024-03-05 10:58:00+00', 'enter', NULL, NULL),
 (15, 2, 1, 'acme', 'sales', '2024-03-05 10:58:12+00', 'exit', NULL, NULL);

INSERT INTO agent_state_events (run_id, seq, tenant, agent, at, from_state, to_state, reason,
                                cause, call_id) VALUES
 (1, 1, 'acme', 'alice', '2024-03-05 10:03:15+00', 'talking', 'wrap-up', NULL, 'call', 1),
 (1, 2, 'acme', 'alice', '2024-03-05 10:03:35+00', 'wrap-up', 'ready', NULL, 'wrap-up', NULL),
 (1, 3, 'acme', 'bob', '2024-03-05 10:09:25+00', 'talking', 'wrap-up', NULL, 'call', 2),
 (1, 4, 'acme', 'bob', '2024-03-05 10:09:35+00', 'wrap-up', 'ready', NULL, 'wrap-up', NULL),
 (1, 5, 'acme', 'alice', '2024-03-05 10:50:55+00', 'talking', 'wrap-up', NULL, 'call', 5),
 (1, 6, 'acme', 'alice', '2024-03-05 10:51:00+00', 'wrap-up', 'ready', NULL, 'wrap-up', NULL),
 (1, 7, 'acme', 'bob', '2024-03-05 11:06:00+00', 'talking', 'wrap-up', NULL, 'call', 9),
 (1, 8, 'acme', 'bob', '2024-03-05 11:06:10+00', 'wrap-up', 'ready', NULL, 'wrap-up', NULL),
 (1, 9, 'acme', 'carol', '2024-03-05 10:11:18+00', 'talking', 'wrap-up', NULL, 'call', 8),
 (1, 10, 'acme', 'carol', '2024-03-05 10:11:33+00', 'wrap-up', 'ready', NULL, 'wrap-up', NULL);

INSERT INTO call_legs (call_id, leg, run_id, tenant, queue, agent, offered_at, answered_at,
                       ended_at, result) VALUES
 (1, 1, 1, 'acme', 'sales', 'alice', '2024-03-05 10:02:00+00', '2024-03-05 10:02:05+00',
  '2024-03-05 10:03:15+00', 'answered'),
 (2, 1, 1, 'acme', 'sales', 'alice', '2024-03-05 10:07:00+00', NULL,
  '2024-03-05 10:07:15+00', 'no-answer'),
 (2, 2, 1, 'acme', 'sales', 'bob', '2024-03-05 10:07:17+00', '2024-03-05 10:07:25+00',
  '2024-03-05 10:09:25+00', 'answered'),
 (5, 1, 1, 'acme', 'sales', 'alice', '2024-03-05 10:50:10+00', '2024-03-05 10:50:20+00',
  '2024-03-05 10:50:55+00', 'answered'),
 (8, 1, 1, 'acme', 'support', 'carol', '2024-03-05 10:10:31+00', '2024-03-05 10:10:33+00',
  '2024-03-05 10:11:18+00', 'answered'),
 (9, 1, 1, 'acme', 'sales', 'bob', '2024-03-05 11:05:05+00', '2024-03-05 11:05:10+00',
  '2024-03-05 11:06:00+00', 'answered'),
 (11, 1, 1, 'globex', 'sales', 'alice', '2024-03-05 10:03:00+00', '2024-03-05 10:03:01+00',
  '2024-03-05 10:03:02+00', 'answered'),
 (12, 1, 1, 'acme', 'sales', 'alice', '2024-04-02 09:00:00+00', '2024-04-02 09:00:01+00',
  '2024-04-02 09:00:11+00', 'answered'),
 (21, 1, 1, 'acme', 'sales', 'alice', '2024-03-31 23:30:00+00', '2024-03-31 23:30:00+00',
  '2024-03-31 23:30:20+00', 'answered');
)sql";

// Agent history, tenant 'initech' (and a 'globex' alice), UTC, 2024-03-05 unless noted.
//   alice  07:00 ready, 09:30-11:30 not-ready 'break', 11:30 ready, call 101: 11:40 reserved,
//          11:40:05 ringing, 11:40:15 talking, 11:45:15 held, 11:46:15 talking,
//          11:50:15 wrap-up, 11:50:45 not-ready 'lunch', 12:50:45 ready, call 102:
//          12:55 reserved, 12:55:02 ringing, 12:55:22 not-ready 'no-answer' (RONA),
//          13:10 ready, 14:00 logged out.
//   bob    10:15 ready, 10:20 dialing (outbound 201), 10:20:30 talking, 10:25 wrap-up,
//          10:25:10 ready, 10:45 logged out.
//   carol  06:00 ready, 08:00 logged out (nothing in the 09:00-13:00 range).
//   dave   12:30 not-ready without a reason, 12:40 ready, no later event (still ready).
//   erin   2024-11-02 12:00 ready until 2024-11-04 12:00 (over the DST change in New York).
constexpr const char* kAgentHistory = R"sql(
INSERT INTO agent_state_events (run_id, seq, tenant, agent, at, from_state, to_state, reason,
                                cause, call_id) VALUES
 (7, 1, 'initech', 'alice', '2024-03-05 07:00:00+00', 'logged-out', 'ready', NULL, 'agent', NULL),
 (7, 2, 'initech', 'alice', '2024-03-05 09:30:00+00', 'ready', 'not-ready', 'break', 'agent',
  NULL),
 (7, 3, 'initech', 'alice', '2024-03-05 11:30:00+00', 'not-ready', 'ready', NULL, 'agent', NULL),
 (7, 4, 'initech', 'alice', '2024-03-05 11:40:00+00', 'ready', 'reserved', NULL, 'offer', 101),
 (7, 5, 'initech', 'alice', '2024-03-05 11:40:05+00', 'reserved', 'ringing', NULL, 'offer', 101),
 (7, 6, 'initech', 'alice', '2024-03-05 11:40:15+00', 'ringing', 'talking', NULL, 'call', 101),
 (7, 7, 'initech', 'alice', '2024-03-05 11:45:15+00', 'talking', 'held', NULL, 'agent', 101),
 (7, 8, 'initech', 'alice', '2024-03-05 11:46:15+00', 'held', 'talking', NULL, 'agent', 101),
 (7, 9, 'initech', 'alice', '2024-03-05 11:50:15+00', 'talking', 'wrap-up', NULL, 'call', 101),
 (7, 10, 'initech', 'alice', '2024-03-05 11:50:45+00', 'wrap-up', 'not-ready', 'lunch', 'agent',
  NULL),
 (7, 11, 'initech', 'alice', '2024-03-05 12:50:45+00', 'not-ready', 'ready', NULL, 'agent', NULL),
 (7, 12, 'initech', 'alice', '2024-03-05 12:55:00+00', 'ready', 'reserved', NULL, 'offer', 102),
 (7, 13, 'initech', 'alice', '2024-03-05 12:55:02+00', 'reserved', 'ringing', NULL, 'offer', 102),
 (7, 14, 'initech', 'alice', '2024-03-05 12:55:22+00', 'ringing', 'not-ready', 'no-answer',
  'ring-timeout', NULL),
 (7, 15, 'initech', 'alice', '2024-03-05 13:10:00+00', 'not-ready', 'ready', NULL, 'agent', NULL),
 (7, 16, 'initech', 'alice', '2024-03-05 14:00:00+00', 'ready', 'logged-out', NULL, 'agent', NULL),
 (7, 17, 'initech', 'bob', '2024-03-05 10:15:00+00', 'logged-out', 'ready', NULL, 'agent', NULL),
 (7, 18, 'initech', 'bob', '2024-03-05 10:20:00+00', 'ready', 'dialing', NULL, 'agent', 201),
 (7, 19, 'initech', 'bob', '2024-03-05 10:20:30+00', 'dialing', 'talking', NULL, 'call', 201),
 (7, 20, 'initech', 'bob', '2024-03-05 10:25:00+00', 'talking', 'wrap-up', NULL, 'call', 201),
 (7, 21, 'initech', 'bob', '2024-03-05 10:25:10+00', 'wrap-up', 'ready', NULL, 'wrap-up', NULL),
 (7, 22, 'initech', 'bob', '2024-03-05 10:45:00+00', 'ready', 'logged-out', NULL, 'agent', NULL),
 (7, 23, 'initech', 'carol', '2024-03-05 06:00:00+00', 'logged-out', 'ready', NULL, 'agent', NULL),
 (7, 24, 'initech', 'carol', '2024-03-05 08:00:00+00', 'ready', 'logged-out', NULL, 'agent', NULL),
 (7, 25, 'initech', 'dave', '2024-03-05 12:30:00+00', 'logged-out', 'not-ready', NULL, 'agent',
  NULL),
 (7, 26, 'initech', 'dave', '2024-03-05 12:40:00+00', 'not-ready', 'ready', NULL, 'agent', NULL),
 (7, 27, 'initech', 'erin', '2024-11-02 12:00:00+00', 'logged-out', 'ready', NULL, 'agent', NULL),
 (7, 28, 'initech', 'erin', '2024-11-04 12:00:00+00', 'ready', 'logged-out', NULL, 'agent', NULL),
 (8, 1, 'globex', 'alice', '2024-03-05 09:00:00+00', 'logged-out', 'ready', NULL, 'agent', NULL);

INSERT INTO call_legs (call_id, leg, run_id, tenant, queue, agent, offered_at, answered_at,
                       ended_at, result) VALUES
 (101, 1, 7, 'initech', 'sales', 'alice', '2024-03-05 11:40:00+00', '2024-03-05 11:40:15+00',
  '2024-03-05 11:50:15+00', 'answered'),
 (102, 1, 7, 'initech', 'sales', 'alice', '2024-03-05 12:55:00+00', NULL,
  '2024-03-05 12:55:22+00', 'no-answer'),
 (103, 1, 8, 'globex', 'sales', 'alice', '2024-03-05 11:40:00+00', NULL,
  '2024-03-05 11:40:20+00', 'no-answer');
)sql";

// A migrated throwaway database, optionally with history; the session reads and writes
// times in UTC whatever the server's default.
class ReportDb {
 public:
  explicit ReportDb(const char* history = nullptr) {
    REQUIRE(migrate(cluster_.dsn(), builtin_migrations()).ok());
    connection_ = std::make_unique<pqxx::connection>(cluster_.dsn());
    exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'");
    if (history != nullptr) exec(history);
  }

  pqxx::result exec(const std::string& sql) {
    pqxx::nontransaction tx(*connection_);
    return tx.exec(sql);
  }

  // Runs `sql` and checks every row and column against `expected` (kNull for NULL), each
  // value compared in PostgreSQL's text form. A result of another shape fails the check
  // (showing what came back) and the test goes on.
  void check(const std::string& sql, const Table& expected) {
    INFO(sql);
    const pqxx::result r = exec(sql);
    bool same_shape = r.size() == expected.size();
    for (std::size_t i = 0; same_shape && i < expected.size(); ++i) {
      same_shape = static_cast<std::size_t>(r[static_cast<pqxx::result::size_type>(i)].size()) ==
                   expected[i].size();
    }
    if (!same_shape) {
      FAIL_CHECK("expected " << expected.size() << " rows, got:\n" << dump(r));
      return;
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const pqxx::row row = r[static_cast<pqxx::result::size_type>(i)];
      for (std::size_t j = 0; j < expected[i].size(); ++j) {
        const pqxx::field f = row[static_cast<pqxx::row::size_type>(j)];
        INFO("row " << i << ", column " << f.name());
        if (expected[i][j] == nullptr) {
          CHECK(f.is_null());
        } else {
          CHECK_FALSE(f.is_null());
          CHECK(std::string(f.c_str()) == expected[i][j]);
        }
      }
    }
  }

  static std::string dump(const pqxx::result& r) {
    std::string out;
    for (const pqxx::row& row : r) {
      for (const pqxx::field& f : row) {
        out += f.is_null() ? "NULL" : f.c_str();
        out += " | ";
      }
      out += "\n";
    }
    return out;
  }

  long count(const std::string& sql) { return exec(sql)[0][0].as<long>(); }

  // The SQLSTATE and message of the error `sql` raises, or "no error".
  std::string error_of(const std::string& sql) {
    try {
      exec(sql);
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate() + ": " + e.what();
    }
    return "no error";
  }

 private:
  testing::TestCluster cluster_;
  std::unique_ptr<pqxx::connection> connection_;
};

TEST_CASE("queue report: offered, answered, abandoned, SL variants and averages per hour",
          "[reports]") {
  ReportDb db(kQueueHistory);
  // sales 10:00-11:00: calls 1 2 3 4 5 6 15 offered (7 interrupted, 8's last queue is
  // support): answered 1 2 5, abandoned 3 4, ended otherwise 6 (voicemail) 15 (callback).
  // In threshold (wait <= 20 s): answered 1 (5 s) and 5 (20 s); abandoned 3 (8 s).
  //   sl_answered 2/3, sl_with_abandons (2+1)/(3+2), sl_abandons_after_threshold
  //   2/(3+2-1), abandon rate 2/5; ASA (5+25+20)/3 s = 16667 ms; AHT ((60+10+20) +
  //   (120+0+10) + (30+5+5))/3 s = 86667 ms; talk 210/3, hold 15/3, wrap-up 35/3 s;
  //   longest wait 60 s (call 6; the interrupted call's 90 s does not count); call 8
  //   entered sales at 10:10 and overflowed; call 6 timed out; call 15 left by an exit.
  // sales 11:00-12:00: call 9 alone. support 10:00: call 8, no threshold recorded, so not
  // in threshold; wrap-up 15 s by carol.
  db.check("SELECT * FROM report_queue_intervals('acme', '2024-03-05', '2024-03-06', 'hour')",
           {{"sales",
             "2024-03-05 10:00:00+00",
             "2024-03-05 10:00:00",
             "7",
             "3",
             "2",
             "2",
             "2",
             "1",
             "0.6667",
             "0.6000",
             "0.5000",
             "0.4000",
             "16667",
             "86667",
             "70000",
             "5000",
             "11667",
             "60000",
             "1",
             "1",
             "1",
             "1"},
            {"sales",
             "2024-03-05 11:00:00+00",
             "2024-03-05 11:00:00",
             "1",
             "1",
             "0",
             "0",
             "1",
             "0",
             "1.0000",
             "1.0000",
             "1.0000",
             "0.0000",
             "10000",
             "60000",
             "50000",
             "0",
             "10000",
             "10000",
             "0",
             "0",
             "0",
             "0"},
            {"support",
             "2024-03-05 10:00:00+00",
             "2024-03-05 10:00:00",
             "1",
             "1",
             "0",
             "0",
             "0",
             "0",
             "0.0000",
             "0.0000",
             "0.0000",
             "0.0000",
             "3000",
             "60000",
             "45000",
             "0",
             "15000",
             "3000",
             "0",
             "0",
             "0",
             "0"}});

  // The column names are part of the interface (docs/REPORTS.md).
  const pqxx::result columns = db.exec(
      "SELECT * FROM report_queue_intervals('acme', '2024-03-05', '2024-03-06', 'hour') "
      "LIMIT 1");
  const std::vector<std::string> names{"queue",
                                       "interval_start",
                                       "interval_local",
                                       "offered",
                                       "answered",
                                       "abandoned",
                                       "ended_otherwise",
                                       "answered_in_threshold",
                                       "abandoned_in_threshold",
                                       "sl_answered",
                                       "sl_with_abandons",
                                       "sl_abandons_after_threshold",
                                       "abandon_rate",
                                       "asa_ms",
                                       "aht_ms",
                                       "avg_talk_ms",
                                       "avg_hold_ms",
                                       "avg_wrap_up_ms",
                                       "longest_wait_ms",
                                       "overflowed_out",
                                       "timed_out",
                                       "exited",
                                       "interrupted"};
  REQUIRE(static_cast<std::size_t>(columns.columns()) == names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    CHECK(std::string(columns.column_name(static_cast<pqxx::row::size_type>(i))) == names[i]);
  }

  {
    INFO("a threshold given as a parameter replaces the recorded one");
    // 10 s: answered in threshold only call 1 (and 8 in support), abandoned only call 3:
    // 1/3, (1+1)/(3+2), 1/(3+2-1).
    db.check(
        "SELECT queue, answered_in_threshold, abandoned_in_threshold, sl_answered, "
        "sl_with_abandons, sl_abandons_after_threshold "
        "FROM report_queue_intervals('acme', '2024-03-05 10:00', '2024-03-05 11:00', 'hour', "
        "'UTC', 10000)",
        {{"sales", "1", "1", "0.3333", "0.4000", "0.2500"},
         {"support", "1", "0", "1.0000", "1.0000", "1.0000"}});
  }

  {
    INFO("a tenant sees its own calls only");
    db.check(
        "SELECT queue, interval_start, offered, answered, asa_ms, aht_ms "
        "FROM report_queue_intervals('globex', '2024-03-05', '2024-03-06', 'hour')",
        {{"sales", "2024-03-05 10:00:00+00", "1", "1", "1000", "1000"}});
  }

  {
    INFO("abandons only: SL of answered calls is NULL, the other variants are not");
    // November, support: calls 13 (4 s, within 15 s) and 14 (30 s) abandoned.
    db.check(
        "SELECT offered, answered, abandoned, abandoned_in_threshold, sl_answered, "
        "sl_with_abandons, sl_abandons_after_threshold, abandon_rate, asa_ms, aht_ms, "
        "avg_wrap_up_ms, longest_wait_ms "
        "FROM report_queue_intervals('acme', '2024-11-01', '2024-12-01', 'month')",
        {{"2", "0", "2", "1", kNull, "0.5000", "0.0000", "1.0000", kNull, kNull, kNull, "30000"}});
  }
}

TEST_CASE("queue report: 15-minute, day and month intervals, time zones and DST", "[reports]") {
  ReportDb db(kQueueHistory);
  const std::string columns =
      "SELECT queue, interval_start, interval_local, offered, answered, abandoned, "
      "ended_otherwise, answered_in_threshold, abandoned_in_threshold, sl_answered, "
      "sl_with_abandons, sl_abandons_after_threshold, asa_ms, longest_wait_ms, "
      "overflowed_out, timed_out, exited, interrupted ";

  {
    INFO("15 minutes");
    // 10:00 calls 1 2 (8 entered sales at 10:10 and overflowed); 10:15 call 3 (no
    // queued_at: arrived_at counts); 10:30 call 4 (and the interrupted 7); 10:45 calls 5 6
    // 15; 11:00 call 9.
    db.check(columns + "FROM report_queue_intervals('acme', '2024-03-05', '2024-03-06', '15 min')",
             {{"sales", "2024-03-05 10:00:00+00", "2024-03-05 10:00:00", "2", "2", "0", "0", "1",
               "0", "0.5000", "0.5000", "0.5000", "15000", "25000", "1", "0", "0", "0"},
              {"sales", "2024-03-05 10:15:00+00", "2024-03-05 10:15:00", "1", "0", "1", "0", "0",
               "1", kNull, "1.0000", kNull, kNull, "8000", "0", "0", "0", "0"},
              {"sales", "2024-03-05 10:30:00+00", "2024-03-05 10:30:00", "1", "0", "1", "0", "0",
               "0", kNull, "0.0000", "0.0000", kNull, "40000", "0", "0", "0", "1"},
              {"sales", "2024-03-05 10:45:00+00", "2024-03-05 10:45:00", "3", "1", "0", "2", "1",
               "0", "1.0000", "1.0000", "1.0000", "20000", "60000", "0", "1", "1", "0"},
              {"sales", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "1", "1", "0", "0", "1",
               "0", "1.0000", "1.0000", "1.0000", "10000", "10000", "0", "0", "0", "0"},
              {"support", "2024-03-05 10:00:00+00", "2024-03-05 10:00:00", "1", "1", "0", "0", "0",
               "0", "0.0000", "0.0000", "0.0000", "3000", "3000", "0", "0", "0", "0"}});
  }

  {
    INFO("days in UTC and in New York");
    // UTC: 03-05 holds 1-6, 9, 15 (8 offered); call 10 is on 03-06 and 21 on 03-31.
    db.check(
        "SELECT queue, interval_start, interval_local, offered, answered, abandoned "
        "FROM report_queue_intervals('acme', '2024-03-01', '2024-04-01', 'day')",
        {{"sales", "2024-03-05 00:00:00+00", "2024-03-05 00:00:00", "8", "4", "2"},
         {"sales", "2024-03-06 00:00:00+00", "2024-03-06 00:00:00", "1", "0", "1"},
         {"sales", "2024-03-31 00:00:00+00", "2024-03-31 00:00:00", "1", "1", "0"},
         {"support", "2024-03-05 00:00:00+00", "2024-03-05 00:00:00", "1", "1", "0"}});
    // New York (UTC-5 in early March): call 10 at 00:10 UTC is 19:10 on 03-05, so the
    // local day 03-05 (05:00 to 05:00 UTC) has 9 calls: answered 1 2 5 9, abandoned 3 4
    // 10; in threshold answered 1 5 9, abandoned 3 10: 3/4, (3+2)/(4+3), 3/(4+3-2).
    db.check(columns +
                 "FROM report_queue_intervals('acme', '2024-03-05 05:00+00', "
                 "'2024-03-06 05:00+00', 'day', 'America/New_York')",
             {{"sales", "2024-03-05 05:00:00+00", "2024-03-05 00:00:00", "9", "4", "3", "2", "3",
               "2", "0.7500", "0.7143", "0.6000", "15000", "60000", "1", "1", "1", "1"},
              {"support", "2024-03-05 05:00:00+00", "2024-03-05 00:00:00", "1", "1", "0", "0", "0",
               "0", "0.0000", "0.0000", "0.0000", "3000", "3000", "0", "0", "0", "0"}});
  }

  {
    INFO("months in UTC and in Berlin");
    // March (UTC): 1-6, 9, 10, 15, 21 offered; answered 1 2 5 9 21 (in threshold 1 5 9 21),
    // abandoned 3 4 10 (in threshold 3 10): 4/5, (4+2)/(5+3), 4/(5+3-2).
    db.check(
        "SELECT queue, interval_start, interval_local, offered, answered, abandoned, "
        "sl_answered, sl_with_abandons, sl_abandons_after_threshold "
        "FROM report_queue_intervals('acme', '2024-01-01', '2025-01-01', 'month')",
        {{"sales", "2024-03-01 00:00:00+00", "2024-03-01 00:00:00", "10", "5", "3", "0.8000",
          "0.7500", "0.6667"},
         {"sales", "2024-04-01 00:00:00+00", "2024-04-01 00:00:00", "1", "1", "0", "1.0000",
          "1.0000", "1.0000"},
         {"support", "2024-03-01 00:00:00+00", "2024-03-01 00:00:00", "1", "1", "0", "0.0000",
          "0.0000", "0.0000"},
         {"support", "2024-11-01 00:00:00+00", "2024-11-01 00:00:00", "2", "0", "2", kNull,
          "0.5000", "0.0000"}});
    // Berlin: call 21 (23:29:50 UTC on 03-31) is 01:29:50 CEST on April 1.
    db.check(
        "SELECT queue, interval_start, interval_local, offered "
        "FROM report_queue_intervals('acme', '2024-01-01', '2025-01-01', 'month', "
        "'Europe/Berlin')",
        {{"sales", "2024-02-29 23:00:00+00", "2024-03-01 00:00:00", "9"},
         {"sales", "2024-03-31 22:00:00+00", "2024-04-01 00:00:00", "2"},
         {"support", "2024-02-29 23:00:00+00", "2024-03-01 00:00:00", "1"},
         {"support", "2024-10-31 23:00:00+00", "2024-11-01 00:00:00", "2"}});
  }

  {
    INFO("hours of a zone half an hour off UTC");
    // Kolkata is UTC+5:30: local hours begin at :30 UTC. 15:00 IST holds 1 2 3 (and 8's
    // overflow); 16:00 IST holds 4 5 6 9 15 (and the interrupted 7).
    db.check(
        "SELECT queue, interval_start, interval_local, offered, overflowed_out, timed_out, "
        "exited, interrupted "
        "FROM report_queue_intervals('acme', '2024-03-05', '2024-03-06', 'hour', "
        "'Asia/Kolkata')",
        {{"sales", "2024-03-05 09:30:00+00", "2024-03-05 15:00:00", "3", "1", "0", "0", "0"},
         {"sales", "2024-03-05 10:30:00+00", "2024-03-05 16:00:00", "5", "0", "1", "1", "1"},
         {"support", "2024-03-05 09:30:00+00", "2024-03-05 15:00:00", "1", "0", "0", "0", "0"}});
  }

  {
    INFO("the hour that repeats when clocks go back, and the 25-hour day");
    // New York, 2024-11-03: 01:30 EDT (05:30 UTC) and 01:30 EST (06:30 UTC) are two hours
    // with the same wall-clock label; the day runs from 04:00 UTC to 05:00 UTC next day.
    db.check(
        "SELECT queue, interval_start, interval_local, offered, abandoned_in_threshold "
        "FROM report_queue_intervals('acme', '2024-11-03 04:00+00', '2024-11-04 05:00+00', "
        "'hour', 'America/New_York')",
        {{"support", "2024-11-03 05:00:00+00", "2024-11-03 01:00:00", "1", "1"},
         {"support", "2024-11-03 06:00:00+00", "2024-11-03 01:00:00", "1", "0"}});
    db.check(
        "SELECT queue, interval_start, interval_local, offered "
        "FROM report_queue_intervals('acme', '2024-11-03 04:00+00', '2024-11-04 05:00+00', "
        "'day', 'America/New_York')",
        {{"support", "2024-11-03 04:00:00+00", "2024-11-03 00:00:00", "2"}});
    db.check(
        "SELECT interval_start, interval_end, interval_local "
        "FROM report_intervals('2024-11-03 04:00+00', '2024-11-04 05:00+00', 'day', "
        "'America/New_York')",
        {{"2024-11-03 04:00:00+00", "2024-11-04 05:00:00+00", "2024-11-03 00:00:00"}});
    CHECK(db.count("SELECT count(*) FROM report_intervals('2024-11-03 04:00+00', "
                   "'2024-11-04 05:00+00', 'hour', 'America/New_York')") == 25);
  }
}

TEST_CASE("agent report: time in state split over intervals, not-ready by reason, RONA",
          "[reports]") {
  ReportDb db(kAgentHistory);

  {
    INFO("hours, with every column");
    // alice 09:00 ready 30 min (from her 07:00 event), break 30 min; 10:00 break 60 min;
    // 11:00 break 30 min, ready 10 min, reserved 5 s + ringing 10 s, talking 5 min + 4 min,
    // held 1 min, wrap-up 30 s, lunch 9 min 15 s; 12:00 lunch 50 min 45 s, ready 4 min 15 s,
    // reserved 2 s + ringing 20 s, no-answer 4 min 38 s (to 13:00, the end of the range).
    // bob 10:00 ready 5 min + 19 min 50 s, dialing 30 s, talking 4 min 30 s, wrap-up 10 s.
    // dave 12:00 not-ready without a reason 10 min, ready 20 min (no later event: until
    // the end of the range). carol logged out before 09:00: no rows.
    db.check(
        "SELECT * FROM report_agent_intervals('initech', '2024-03-05 09:00', "
        "'2024-03-05 13:00', 'hour')",
        {{"alice", "2024-03-05 09:00:00+00", "2024-03-05 09:00:00", "0", "0", "0", "3600000",
          "1800000", "1800000", R"j({"break": 1800000})j", "0", "0", "0", "0", "0"},
         {"alice", "2024-03-05 10:00:00+00", "2024-03-05 10:00:00", "0", "0", "0", "3600000", "0",
          "3600000", R"j({"break": 3600000})j", "0", "0", "0", "0", "0"},
         {"alice", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "1", "1", "0", "3600000",
          "600000", "2355000", R"j({"break": 1800000, "lunch": 555000})j", "15000", "0", "540000",
          "60000", "30000"},
         {"alice", "2024-03-05 12:00:00+00", "2024-03-05 12:00:00", "1", "0", "1", "3600000",
          "255000", "3323000", R"j({"lunch": 3045000, "no-answer": 278000})j", "22000", "0", "0",
          "0", "0"},
         {"bob", "2024-03-05 10:00:00+00", "2024-03-05 10:00:00", "0", "0", "0", "1800000",
          "1490000", "0", "{}", "0", "30000", "270000", "0", "10000"},
         {"dave", "2024-03-05 12:00:00+00", "2024-03-05 12:00:00", "0", "0", "0", "1800000",
          "1200000", "600000", R"j({"(none)": 600000})j", "0", "0", "0", "0", "0"}});
  }

  {
    INFO("a range that starts inside an interval is clipped to the range");
    // From 09:10: alice's 09:00 row holds ready 20 min and break 30 min.
    db.check(
        "SELECT agent, interval_start, logged_in_ms, ready_ms, not_ready_ms "
        "FROM report_agent_intervals('initech', '2024-03-05 09:10', '2024-03-05 10:00', "
        "'hour')",
        {{"alice", "2024-03-05 09:00:00+00", "3000000", "1200000", "1800000"}});
  }

  {
    INFO("15 minutes");
    // 11:30-11:45: ready 10 min, reserved+ringing 15 s, talking 4 min 45 s, offered and
    // answered call 101; 11:45-12:00: talking 15 s + 4 min, held 1 min, wrap-up 30 s,
    // lunch 9 min 15 s.
    db.check(
        "SELECT * FROM report_agent_intervals('initech', '2024-03-05 11:30', "
        "'2024-03-05 12:00', '15 min')",
        {{"alice", "2024-03-05 11:30:00+00", "2024-03-05 11:30:00", "1", "1", "0", "900000",
          "600000", "0", "{}", "15000", "0", "285000", "0", "0"},
         {"alice", "2024-03-05 11:45:00+00", "2024-03-05 11:45:00", "0", "0", "0", "900000", "0",
          "555000", R"j({"lunch": 555000})j", "0", "0", "255000", "60000", "30000"}});
    // 09:00-13:00 has 16 quarter hours, alice logged in all of them, 900 s each.
    db.check(
        "SELECT count(*), min(logged_in_ms), max(logged_in_ms) "
        "FROM report_agent_intervals('initech', '2024-03-05 09:00', '2024-03-05 13:00', "
        "'15 min') WHERE agent = 'alice'",
        {{"16", "900000", "900000"}});
  }

  {
    INFO("one row per state and reason");
    db.check(
        "SELECT * FROM report_agent_state_time('initech', '2024-03-05 11:00', "
        "'2024-03-05 12:00', 'hour')",
        {{"alice", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "held", kNull, "60000"},
         {"alice", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "not-ready", "break",
          "1800000"},
         {"alice", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "not-ready", "lunch", "555000"},
         {"alice", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "ready", kNull, "600000"},
         {"alice", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "reserved", kNull, "5000"},
         {"alice", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "ringing", kNull, "10000"},
         {"alice", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "talking", kNull, "540000"},
         {"alice", "2024-03-05 11:00:00+00", "2024-03-05 11:00:00", "wrap-up", kNull, "30000"}});
  }

  {
    INFO("days of a zone where midnight falls mid-shift");
    // Auckland is UTC+13 in March: local midnight is 11:00 UTC. Range 03-05 00:00 to
    // 03-06 00:00 UTC. Local 03-05 (to 11:00 UTC): alice ready 07:00-09:30, break
    // 09:30-11:00; bob 30 min; carol 06:00-08:00. Local 03-06 (from 11:00 UTC): alice
    // break 30 min, lunch 60 min, no-answer 14 min 38 s, ready 10 min + 4 min 15 s +
    // 50 min, reserved+ringing 37 s, talk 9 min, hold 1 min, wrap-up 30 s (3 h in all);
    // dave from 12:30 to the end of the range: not-ready 10 min, ready 11 h 20 min.
    db.check(
        "SELECT * FROM report_agent_intervals('initech', '2024-03-05', '2024-03-06', 'day', "
        "'Pacific/Auckland')",
        {{"alice", "2024-03-04 11:00:00+00", "2024-03-05 00:00:00", "0", "0", "0", "14400000",
          "9000000", "5400000", R"j({"break": 5400000})j", "0", "0", "0", "0", "0"},
         {"alice", "2024-03-05 11:00:00+00", "2024-03-06 00:00:00", "2", "1", "1", "10800000",
          "3855000", "6278000", R"j({"break": 1800000, "lunch": 3600000, "no-answer": 878000})j",
          "37000", "0", "540000", "60000", "30000"},
         {"bob", "2024-03-04 11:00:00+00", "2024-03-05 00:00:00", "0", "0", "0", "1800000",
          "1490000", "0", "{}", "0", "30000", "270000", "0", "10000"},
         {"carol", "2024-03-04 11:00:00+00", "2024-03-05 00:00:00", "0", "0", "0", "7200000",
          "7200000", "0", "{}", "0", "0", "0", "0", "0"},
         {"dave", "2024-03-05 11:00:00+00", "2024-03-06 00:00:00", "0", "0", "0", "41400000",
          "40800000", "600000", R"j({"(none)": 600000})j", "0", "0", "0", "0", "0"}});
  }

  {
    INFO("a month");
    // alice 07:00-14:00 = 7 h; dave from 03-05 12:30 to 04-01 00:00 = 26 d 11 h 30 min.
    db.check(
        "SELECT agent, interval_start, logged_in_ms, ready_ms, not_ready_ms, "
        "not_ready_by_reason "
        "FROM report_agent_intervals('initech', '2024-03-01', '2024-04-01', 'month')",
        {{"alice", "2024-03-01 00:00:00+00", "25200000", "12855000", "11678000",
          R"j({"break": 7200000, "lunch": 3600000, "no-answer": 878000})j"},
         {"bob", "2024-03-01 00:00:00+00", "1800000", "1490000", "0", "{}"},
         {"carol", "2024-03-01 00:00:00+00", "7200000", "7200000", "0", "{}"},
         {"dave", "2024-03-01 00:00:00+00", "2287800000", "2287200000", "600000",
          R"j({"(none)": 600000})j"}});
  }

  {
    INFO("the 25-hour day and its repeated hour");
    // New York 2024-11-03: erin and dave are ready the whole day, 25 hours; in hours, 25
    // rows each, two of them labelled 01:00.
    db.check(
        "SELECT agent, interval_start, interval_local, logged_in_ms, ready_ms "
        "FROM report_agent_intervals('initech', '2024-11-03 04:00+00', '2024-11-04 "
        "05:00+00', "
        "'day', 'America/New_York')",
        {{"dave", "2024-11-03 04:00:00+00", "2024-11-03 00:00:00", "90000000", "90000000"},
         {"erin", "2024-11-03 04:00:00+00", "2024-11-03 00:00:00", "90000000", "90000000"}});
    db.check(
        "SELECT count(*), count(DISTINCT interval_start), min(ready_ms), max(ready_ms), "
        "count(*) FILTER (WHERE interval_local = '2024-11-03 01:00') "
        "FROM report_agent_intervals('initech', '2024-11-03 04:00+00', '2024-11-04 "
        "05:00+00', "
        "'hour', 'America/New_York') WHERE agent = 'erin'",
        {{"25", "25", "3600000", "3600000", "2"}});
  }

  {
    INFO("a tenant sees its own agents only");
    // globex alice: ready from 09:00 (no later event), RONA at 11:40.
    db.check(
        "SELECT agent, interval_start, offers, rona, logged_in_ms, ready_ms "
        "FROM report_agent_intervals('globex', '2024-03-05 09:00', '2024-03-05 13:00', "
        "'hour')",
        {{"alice", "2024-03-05 09:00:00+00", "0", "0", "3600000", "3600000"},
         {"alice", "2024-03-05 10:00:00+00", "0", "0", "3600000", "3600000"},
         {"alice", "2024-03-05 11:00:00+00", "1", "1", "3600000", "3600000"},
         {"alice", "2024-03-05 12:00:00+00", "0", "0", "3600000", "3600000"}});
  }
}

TEST_CASE("agent monthly volume", "[reports]") {
  ReportDb db(kQueueHistory);
  // UTC. alice March: legs of calls 1 (answered), 2 (no answer), 5, 21 (answered), the
  // outbound call 20; talk 60+30+20 s, hold 10+5 s, wrap-up 20+5+0 s, AHT 150/3 s.
  // April: call 12. bob March: calls 2 and 9, talk 120+50 s, wrap-up 10+10 s. carol: 8.
  db.check("SELECT * FROM report_agent_monthly_volume('acme', '2024-01-01', '2025-01-01')",
           {{"alice", "2024-03-01 00:00:00+00", "2024-03-01", "4", "3", "1", "1", "110000", "15000",
             "25000", "50000"},
            {"alice", "2024-04-01 00:00:00+00", "2024-04-01", "1", "1", "0", "0", "10000", "0", "0",
             "10000"},
            {"bob", "2024-03-01 00:00:00+00", "2024-03-01", "2", "2", "0", "0", "170000", "0",
             "20000", "95000"},
            {"carol", "2024-03-01 00:00:00+00", "2024-03-01", "1", "1", "0", "0", "45000", "0",
             "15000", "60000"}});
  // Berlin: call 21 moves to April (01:30 CEST on April 1).
  db.check(
      "SELECT * FROM report_agent_monthly_volume('acme', '2024-01-01', '2025-01-01', "
      "'Europe/Berlin')",
      {{"alice", "2024-02-29 23:00:00+00", "2024-03-01", "3", "2", "1", "1", "90000", "15000",
        "25000", "65000"},
       {"alice", "2024-03-31 22:00:00+00", "2024-04-01", "2", "2", "0", "0", "30000", "0", "0",
        "15000"},
       {"bob", "2024-02-29 23:00:00+00", "2024-03-01", "2", "2", "0", "0", "170000", "0", "20000",
        "95000"},
       {"carol", "2024-02-29 23:00:00+00", "2024-03-01", "1", "1", "0", "0", "45000", "0", "15000",
        "60000"}});
  // Per-call wrap-up, the building block: alice's 20 s for call 1; none recorded for 12.
  CHECK(db.count("SELECT report_call_wrap_up_ms('acme', 1, 'alice')") == 20000);
  CHECK(db.count("SELECT report_call_wrap_up_ms('acme', 1, 'bob')") == 0);
  CHECK(db.count("SELECT report_call_wrap_up_ms('acme', 12)") == 0);
}

TEST_CASE("reports reject invalid parameters and return no rows for empty ranges", "[reports]") {
  ReportDb db(kQueueHistory);
  db.exec(kAgentHistory);

  {
    INFO("an unknown interval is refused, also where there is no data");
    for (const char* sql :
         {"SELECT * FROM report_queue_intervals('acme', '2024-03-05', '2024-03-06', 'week')",
          "SELECT * FROM report_queue_intervals('nobody', '2024-03-05', '2024-03-05', "
          "'week')",
          "SELECT * FROM report_agent_intervals('initech', '2024-03-05', '2024-03-06', "
          "'1 hour')",
          "SELECT * FROM report_agent_state_time('initech', '2024-03-05', '2024-03-06', "
          "'Hour')",
          "SELECT * FROM report_intervals('2024-03-05', '2024-03-06', 'minute')"}) {
      INFO(sql);
      const std::string error = db.error_of(sql);
      CHECK_THAT(error, Catch::StartsWith("22023: ") &&
                            Catch::Contains("invalid report interval '") &&
                            Catch::Contains("p_interval must be one of"));
    }
    CHECK_THAT(db.error_of("SELECT * FROM report_queue_intervals('acme', '2024-03-05', "
                           "'2024-03-06', NULL)"),
               Catch::Contains("invalid report interval NULL"));
  }

  {
    INFO("a range that ends before it starts is refused");
    CHECK_THAT(db.error_of("SELECT * FROM report_queue_intervals('acme', '2024-03-06', "
                           "'2024-03-05', 'hour')"),
               Catch::StartsWith("22023: ") && Catch::Contains("p_to") &&
                   Catch::Contains("is before p_from"));
    CHECK_THAT(db.error_of("SELECT * FROM report_agent_monthly_volume('acme', '2024-03-06', "
                           "'2024-03-05')"),
               Catch::Contains("is before p_from"));
  }

  {
    INFO("an unknown time zone is refused");
    CHECK_THAT(db.error_of("SELECT * FROM report_agent_intervals('initech', '2024-03-05', "
                           "'2024-03-06', 'day', 'Mars/Olympus')"),
               Catch::Contains("Mars/Olympus"));
    CHECK_THAT(db.error_of("SELECT * FROM report_agent_monthly_volume('acme', '2024-03-01', "
                           "'2024-04-01', NULL)"),
               Catch::Contains("p_time_zone is required"));
  }

  {
    INFO("empty ranges and ranges without data give no rows");
    for (const char* sql : {
             "SELECT * FROM report_queue_intervals('acme', '2024-03-05 10:00', "
             "'2024-03-05 10:00', 'hour')",
             "SELECT * FROM report_queue_intervals('acme', '2023-01-01', '2024-01-01', "
             "'month')",
             "SELECT * FROM report_queue_intervals('nobody', '2024-01-01', '2025-01-01', "
             "'day')",
             "SELECT * FROM report_agent_intervals('initech', '2024-03-05 10:00', "
             "'2024-03-05 10:00', '15 min')",
             "SELECT * FROM report_agent_intervals('initech', '2024-01-01', '2024-02-01', "
             "'day')",
             "SELECT * FROM report_agent_state_time('initech', '2024-03-05 10:00', "
             "'2024-03-05 10:00', 'hour')",
             "SELECT * FROM report_agent_monthly_volume('acme', '2024-03-05', '2024-03-05')",
             "SELECT * FROM report_agent_monthly_volume('acme', '2023-01-01', '2024-01-01')",
             "SELECT * FROM report_intervals('2024-03-05 10:00', '2024-03-05 10:00', 'hour')",
         }) {
      INFO(sql);
      CHECK(db.exec(sql).empty());
    }
  }

  {
    INFO("intervals cover the range, the first and last unclipped");
    db.check("SELECT * FROM report_intervals('2024-03-05 09:10', '2024-03-05 11:00', 'hour')",
             {{"2024-03-05 09:00:00+00", "2024-03-05 10:00:00+00", "2024-03-05 09:00:00"},
              {"2024-03-05 10:00:00+00", "2024-03-05 11:00:00+00", "2024-03-05 10:00:00"}});
    db.check("SELECT * FROM report_intervals('2024-03-05 10:20', '2024-03-05 10:31', '15 min')",
             {{"2024-03-05 10:15:00+00", "2024-03-05 10:30:00+00", "2024-03-05 10:15:00"},
              {"2024-03-05 10:30:00+00", "2024-03-05 10:45:00+00", "2024-03-05 10:30:00"}});
    db.check("SELECT * FROM report_intervals('2024-02-15', '2024-03-02', 'month', 'Asia/Tokyo')",
             {{"2024-01-31 15:00:00+00", "2024-02-29 15:00:00+00", "2024-02-01 00:00:00"},
              {"2024-02-29 15:00:00+00", "2024-03-31 15:00:00+00", "2024-03-01 00:00:00"}});
  }
}

// Transfers (migration 0006), tenant 'acme', 2024-05-06 UTC; thresholds: sales 20 s,
// support 30 s.
//   31 sales 09:00:00, alice answers 09:00:05 (wait 5 s), talks 60 s, holds 10 s, transfers
//      to support at 09:01:15 (alice wraps up 20 s); bob answers in support at 09:01:45
//      (wait 30 s), talks 40 s until 09:02:25 (wraps up 10 s): completed in support, talk
//      100 s, hold 10 s.
//   32 sales 09:10:00, alice answers 09:10:25 (wait 25 s), talks 30 s, transfers outside at
//      09:10:55 (wraps up 20 s): transferred.
//   33 sales 09:20:00, alice answers 09:20:10 (wait 10 s), talks 20 s, holds the caller for
//      a consultation (call 34 to bob, 09:20:30-09:21:00) and hands the call to bob at
//      09:21:00 (hold 30 s; alice wraps up 20 s); bob talks 50 s until 09:21:50 (wraps up
//      10 s): completed, talk 70 s, hold 30 s.
//   35 support 09:30:00, bob answers 09:30:04 (wait 4 s), talks 10 s, transfers to sales at
//      09:30:14 (no wrap-up); the caller hangs up in sales at 09:30:44 (wait 30 s).
constexpr const char* kTransferHistory = R"sql(
INSERT INTO calls (call_id, run_id, tenant, direction, first_queue, last_queue, agent,
                   final_state, arrived_at, queued_at, answered_at, ended_at,
                   wait_ms, talk_ms, hold_ms, sl_threshold_ms, queues) VALUES
 (31, 9, 'acme', 'inbound', 'sales', 'support', 'bob', 'completed', '2024-05-06 09:00:00+00',
  '2024-05-06 09:01:15+00', '2024-05-06 09:01:45+00', '2024-05-06 09:02:25+00',
  30000, 100000, 10000, 30000, 2),
 (32, 9, 'acme', 'inbound', 'sales', 'sales', 'alice', 'transferred', '2024-05-06 09:10:00+00',
  '2024-05-06 09:10:00+00', '2024-05-06 09:10:25+00', '2024-05-06 09:10:55+00',
  25000, 30000, 0, 20000, 1),
 (33, 9, 'acme', 'inbound', 'sales', 'sales', 'bob', 'completed', '2024-05-06 09:20:00+00',
  '2024-05-06 09:20:00+00', '2024-05-06 09:20:10+00', '2024-05-06 09:21:50+00',
  10000, 70000, 30000, 20000, 1),
 (34, 9, 'acme', 'outbound', NULL, NULL, 'alice', 'completed', '2024-05-06 09:20:30+00',
  NULL, NULL, '2024-05-06 09:21:00+00', 0, 25000, 0, NULL, 0),
 (35, 9, 'acme', 'inbound', 'support', 'sales', NULL, 'abandoned', '2024-05-06 09:30:00+00',
  '2024-05-06 09:30:14+00', NULL, '2024-05-06 09:30:44+00', 30000, 10000, 0, 20000, 2);

INSERT INTO queue_events (call_id, seq, run_id, tenant, queue, at, kind, agent, wait_ms,
                          reason, detail) VALUES
 (31, 1, 9, 'acme', 'sales', '2024-05-06 09:00:00+00', 'enter', NULL, NULL, NULL, '{}'),
 (31, 2, 9, 'acme', 'sales', '2024-05-06 09:00:05+00', 'connect', 'alice', 5000, NULL, '{}'),
 (31, 3, 9, 'acme', 'sales', '2024-05-06 09:01:15+00', 'transfer', 'alice', 5000, 'queue',
  '{"to": "support", "to_queue": "support", "talk_ms": 60000, "hold_ms": 10000,
    "sl_threshold_ms": 20000}'),
 (31, 4, 9, 'acme', 'support', '2024-05-06 09:01:15+00', 'enter', NULL, NULL, NULL, '{}'),
 (31, 5, 9, 'acme', 'support', '2024-05-06 09:01:45+00', 'connect', 'bob', 30000, NULL, '{}'),
 (32, 1, 9, 'acme', 'sales', '2024-05-06 09:10:00+00', 'enter', NULL, NULL, NULL, '{}'),
 (32, 2, 9, 'acme', 'sales', '2024-05-06 09:10:55+00', 'transfer', 'alice', 25000, 'external',
  '{"talk_ms": 30000, "hold_ms": 0, "sl_threshold_ms": 20000}'),
 (33, 1, 9, 'acme', 'sales', '2024-05-06 09:20:00+00', 'enter', NULL, NULL, NULL, '{}'),
 (33, 2, 9, 'acme', 'sales', '2024-05-06 09:21:00+00', 'transfer', 'alice', 10000, 'attended',
  '{"to": "bob", "to_agent": "bob", "talk_ms": 20000, "hold_ms": 30000,
    "sl_threshold_ms": 20000}'),
 (35, 1, 9, 'acme', 'support', '2024-05-06 09:30:00+00', 'enter', NULL, NULL, NULL, '{}'),
 (35, 2, 9, 'acme', 'support', '2024-05-06 09:30:14+00', 'transfer', 'bob', 4000, 'queue',
  '{"to": "sales", "to_queue": "sales", "talk_ms": 10000, "hold_ms": 0,
    "sl_threshold_ms": 30000}'),
 (35, 3, 9, 'acme', 'sales', '2024-05-06 09:30:14+00', 'enter', NULL, NULL, NULL, '{}'),
 (35, 4, 9, 'acme', 'sales', '2024-05-06 09:30:44+00', 'abandon', NULL, 30000, NULL, '{}');

INSERT INTO agent_state_events (run_id, seq, tenant, agent, at, from_state, to_state, reason,
                                cause, call_id) VALUES
 (9, 1, 'acme', 'alice', '2024-05-06 09:00:05+00', 'reserved', 'talking', NULL, 'call', 31),
 (9, 2, 'acme', 'alice', '2024-05-06 09:01:05+00', 'talking', 'held', NULL, 'agent', 31),
 (9, 3, 'acme', 'alice', '2024-05-06 09:01:15+00', 'held', 'wrap-up', NULL, 'agent', 31),
 (9, 4, 'acme', 'alice', '2024-05-06 09:01:35+00', 'wrap-up', 'ready', NULL, 'timer', 31),
 (9, 5, 'acme', 'bob', '2024-05-06 09:01:45+00', 'reserved', 'talking', NULL, 'call', 31),
 (9, 6, 'acme', 'bob', '2024-05-06 09:02:25+00', 'talking', 'wrap-up', NULL, 'call', 31),
 (9, 7, 'acme', 'bob', '2024-05-06 09:02:35+00', 'wrap-up', 'ready', NULL, 'timer', 31),
 (9, 8, 'acme', 'alice', '2024-05-06 09:10:25+00', 'reserved', 'talking', NULL, 'call', 32),
 (9, 9, 'acme', 'alice', '2024-05-06 09:10:55+00', 'talking', 'wrap-up', NULL, 'agent', 32),
 (9, 10, 'acme', 'alice', '2024-05-06 09:11:15+00', 'wrap-up', 'ready', NULL, 'timer', 32),
 (9, 11, 'acme', 'alice', '2024-05-06 09:20:10+00', 'reserved', 'talking', NULL, 'call', 33),
 (9, 12, 'acme', 'alice', '2024-05-06 09:20:30+00', 'talking', 'held', NULL, 'agent', 33),
 (9, 13, 'acme', 'bob', '2024-05-06 09:20:30+00', 'ready', 'ringing', NULL, 'call', 34),
 (9, 14, 'acme', 'bob', '2024-05-06 09:20:35+00', 'ringing', 'talking', NULL, 'call', 34),
 (9, 15, 'acme', 'alice', '2024-05-06 09:21:00+00', 'held', 'wrap-up', NULL, 'agent', 33),
 (9, 16, 'acme', 'alice', '2024-05-06 09:21:20+00', 'wrap-up', 'ready', NULL, 'timer', 33),
 (9, 17, 'acme', 'bob', '2024-05-06 09:21:50+00', 'talking', 'wrap-up', NULL, 'call', 33),
 (9, 18, 'acme', 'bob', '2024-05-06 09:22:00+00', 'wrap-up', 'ready', NULL, 'timer', 33),
 (9, 19, 'acme', 'bob', '2024-05-06 09:30:04+00', 'reserved', 'talking', NULL, 'call', 35),
 (9, 20, 'acme', 'bob', '2024-05-06 09:30:14+00', 'talking', 'ready', NULL, 'agent', 35);

INSERT INTO call_legs (call_id, leg, run_id, tenant, queue, agent, offered_at, answered_at,
                       ended_at, result) VALUES
 (31, 1, 9, 'acme', 'sales', 'alice', '2024-05-06 09:00:00+00', '2024-05-06 09:00:05+00',
  '2024-05-06 09:01:15+00', 'answered'),
 (31, 2, 9, 'acme', 'support', 'bob', '2024-05-06 09:01:40+00', '2024-05-06 09:01:45+00',
  '2024-05-06 09:02:25+00', 'answered'),
 (32, 1, 9, 'acme', 'sales', 'alice', '2024-05-06 09:10:20+00', '2024-05-06 09:10:25+00',
  '2024-05-06 09:10:55+00', 'answered'),
 (33, 1, 9, 'acme', 'sales', 'alice', '2024-05-06 09:20:05+00', '2024-05-06 09:20:10+00',
  '2024-05-06 09:21:00+00', 'answered'),
 (33, 2, 9, 'acme', 'sales', 'bob', '2024-05-06 09:21:00+00', '2024-05-06 09:21:00+00',
  '2024-05-06 09:21:50+00', 'answered'),
 (35, 1, 9, 'acme', 'support', 'bob', '2024-05-06 09:30:02+00', '2024-05-06 09:30:04+00',
  '2024-05-06 09:30:14+00', 'answered');
)sql";

TEST_CASE("reports count transferred calls as answered, each part where it was handled",
          "[reports][transfer]") {
  ReportDb db(kTransferHistory);
  // sales 09:00: calls 32 (transferred: answered, 25 s > 20 s), 33 (answered in 10 s),
  // 35 (abandoned after 30 s) and call 31's part in sales (transferred to support:
  // answered in 5 s) -> offered 4, answered 3, abandoned 1, answered in threshold 2.
  //   sl_answered 2/3, sl_with_abandons 2/4, sl_abandons_after_threshold 2/4, abandon
  //   rate 1/4; ASA (5 + 25 + 10)/3 s = 13333 ms.
  //   handle time: 31 in sales 60 + 10 + 20 (alice's wrap-up) = 90 s; 32 30 + 0 + 20 =
  //   50 s; 33 70 + 30 + 30 (both agents' wrap-up) = 130 s -> AHT 90000 ms; talk
  //   (60 + 30 + 70)/3, hold (10 + 0 + 30)/3, wrap-up (20 + 20 + 30)/3; longest wait 30 s
  //   (call 35).
  // support 09:00: call 31 (answered in 30 s = the threshold; its part in support: talk
  // 100 - 60 = 40 s, hold 10 - 10 = 0, bob's wrap-up 10 s) and call 35's part in support
  // (answered in 4 s, talk 10 s, no wrap-up) -> offered 2, answered 2, both in threshold;
  // ASA 17 s, AHT (50 + 10)/2 s, talk (40 + 10)/2, hold 0, wrap-up (10 + 0)/2.
  db.check("SELECT * FROM report_queue_intervals('acme', '2024-05-06', '2024-05-07', 'hour')",
           {{"sales",
             "2024-05-06 09:00:00+00",
             "2024-05-06 09:00:00",
             "4",
             "3",
             "1",
             "0",
             "2",
             "0",
             "0.6667",
             "0.5000",
             "0.5000",
             "0.2500",
             "13333",
             "90000",
             "53333",
             "13333",
             "23333",
             "30000",
             "0",
             "0",
             "0",
             "0"},
            {"support",
             "2024-05-06 09:00:00+00",
             "2024-05-06 09:00:00",
             "2",
             "2",
             "0",
             "0",
             "2",
             "0",
             "1.0000",
             "1.0000",
             "1.0000",
             "0.0000",
             "17000",
             "30000",
             "25000",
             "0",
             "5000",
             "30000",
             "0",
             "0",
             "0",
             "0"}});
  // A transfer counts where the call entered the queue it left: outside the range, nothing.
  db.check(
      "SELECT queue, offered, answered FROM report_queue_intervals('acme', "
      "'2024-05-06 09:01', '2024-05-06 09:30', 'hour')",
      {{"sales", "2", "2"}, {"support", "1", "1"}});

  // alice: legs of 31, 32 and 33, each ended by her transfer: talk 60 + 30 + 20 s, hold
  // 10 + 0 + 30 s, wrap-up 3 x 20 s; outbound: the consultation call 34 -> AHT 210/3 s.
  // bob: legs of 31 (the call's talk less alice's part: 40 s, hold 0) and 33 (70 - 20 =
  // 50 s, hold 30 - 30 = 0), and 35, ended by his transfer (10 s); wrap-up 10 + 10 s
  // -> AHT 120/3 s.
  db.check("SELECT * FROM report_agent_monthly_volume('acme', '2024-05-01', '2024-06-01')",
           {{"alice", "2024-05-01 00:00:00+00", "2024-05-01", "3", "3", "0", "1", "110000", "40000",
             "60000", "70000"},
            {"bob", "2024-05-01 00:00:00+00", "2024-05-01", "3", "3", "0", "0", "100000", "0",
             "20000", "40000"}});

  // 'transferred' is a final state the calls table accepts now; unknown states it does not.
  CHECK(db.error_of("INSERT INTO calls (call_id, run_id, tenant, final_state, arrived_at, "
                    "ended_at) VALUES (36, 9, 'acme', 'passed-on', now(), now())")
            .rfind("23514", 0) == 0);
}

}  // namespace
}  // namespace acd::store
