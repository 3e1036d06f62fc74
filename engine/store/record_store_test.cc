#include "engine/store/record_store.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>

#include "engine/store/migrator.h"
#include "engine/store/record_codec.h"
#include "engine/store/test_cluster_util.h"

namespace acd::store {
namespace {

using namespace std::chrono_literals;

constexpr auto kGenerous = 60s;

// Collects the store's log lines and lets a test wait for one.
class LogWatch {
 public:
  std::function<void(bool, const std::string&)> sink() {
    return [this](bool is_error, const std::string& message) {
      std::lock_guard lock(mutex_);
      lines_.push_back((is_error ? "error: " : "info: ") + message);
      cv_.notify_all();
    };
  }
  bool wait_for(const std::string& needle) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kGenerous, [&] {
      for (const auto& line : lines_) {
        if (line.find(needle) != std::string::npos) return true;
      }
      return false;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

std::int64_t count(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  return tx.exec(sql)[0][0].as<std::int64_t>();
}

std::string text(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  return tx.exec(sql)[0][0].c_str();
}

// The recording of call `call_id` and, when `voicemail`, a message left in 'sales-box'.
RecordingRecord recording(std::int64_t run, std::int64_t call_id, bool voicemail) {
  RecordingRecord r;
  r.call_id = call_id;
  r.run_id = run;
  r.kind = voicemail ? "voicemail" : "call";
  r.path = voicemail
               ? "/var/lib/acd/voicemail/acme/sales-box/" + std::to_string(call_id) + ".wav"
               : "/var/lib/acd/recordings/acme/2027-01-15/" + std::to_string(call_id) + ".wav";
  r.mode = voicemail ? "mono" : "stereo";
  r.mailbox = voicemail ? "sales-box" : "";
  r.duration_ms = voicemail ? 3000 : 61'480;
  r.started_at = 1'800'000'000'000'000;
  r.ended_at = r.started_at + (voicemail ? 3'020'000 : 61'500'000);
  r.ok = true;
  return r;
}

// A finished call with its events; call ids and times derived from `n`.
std::vector<Record> finished_call(std::int64_t run, std::int64_t n) {
  const std::int64_t id = 1'000'000 + n;
  const EpochMicros t0 = 1'800'000'000'000'000 + n * 1'000'000;
  QueueEventRecord enter{id, 1, run, "acme", "sales", t0, "enter", "", std::nullopt, "", "{}"};
  QueueEventRecord offer{id,      2,       run,          "acme", "sales", t0 + 1000,
                         "offer", "alice", std::nullopt, "",     "{}"};
  QueueEventRecord connect{id, 3, run, "acme", "sales", t0 + 2000, "connect", "alice", 2, "", "{}"};
  QueueEventRecord complete{id,         4,       run,          "acme", "sales",           t0 + 9000,
                            "complete", "alice", std::nullopt, "",     R"({"talk_ms":7})"};
  CallLegRecord leg{id,      1,         run,       "acme",    "sales",
                    "alice", t0 + 1000, t0 + 2000, t0 + 9000, "answered"};
  CallRecord call;
  call.call_id = id;
  call.run_id = run;
  call.tenant = "acme";
  call.first_queue = call.last_queue = "sales";
  call.agent = "alice";
  call.final_state = "completed";
  call.arrived_at = t0;
  call.queued_at = t0;
  call.answered_at = t0 + 2000;
  call.ended_at = t0 + 9000;
  call.wait_ms = 2;
  call.talk_ms = 7;
  call.offers = 1;
  call.queues = 1;
  call.end_reason = "agent-bye";
  return {enter, offer, connect, complete, leg, call};
}

// Task `id` of run `run`: a chat Bob completed after Alice transferred it to 'support'
// (`transferred`), or an SMS abandoned in 'sales' before anybody accepted it.
TaskRecord task(std::int64_t run, std::int64_t id, bool transferred) {
  TaskRecord r;
  r.task_id = id;
  r.run_id = run;
  r.tenant = "acme";
  r.first_queue = "sales";
  r.created_at = 1'800'000'000'000'000 + id * 1'000'000;
  if (transferred) {
    r.channel = "chat";
    r.subject = "Where is my parcel? \"ASAP\"\ttab";
    r.customer = "chat:jane-42";
    r.last_queue = "support";
    r.agent = "bob";
    r.final_state = "completed";
    r.queued_at = r.created_at + 60'000'000;
    r.accepted_at = r.created_at + 5'000'000;
    r.finished_at = r.created_at + 200'000'000;
    r.wait_ms = 4'000;
    r.handle_ms = 191'000;
    r.sl_threshold_ms = 30'000;
    r.offers = 2;
    r.transfers = 1;
    r.queues = 2;
    r.vip_level = 1;
  } else {
    r.channel = "sms";
    r.last_queue = "sales";
    r.final_state = "abandoned";
    r.queued_at = r.created_at;
    r.finished_at = r.created_at + 12'000'000;
    r.wait_ms = 12'000;
    r.sl_threshold_ms = 20'000;
    r.offers = 1;
    r.queues = 1;
  }
  return r;
}

RecordStoreOptions options_for(const std::string& dsn, const std::filesystem::path& spool,
                               std::int64_t run, LogWatch& watch) {
  RecordStoreOptions o;
  o.dsn = dsn;
  o.spool_dir = spool;
  o.run_id = run;
  o.retry_min = 20ms;
  o.retry_max = 200ms;
  o.batch_records = 7;  // small, so batches cross record kinds and segment boundaries
  o.segment_bytes = 2048;
  o.log = watch.sink();
  return o;
}

TEST_CASE("records reach the database once, and a full replay inserts nothing",
          "[records][store]") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  const auto spool = t.root() / "spool";
  LogWatch watch;
  {
    auto store = RecordStore::open(options_for(t.dsn(), spool, 10, watch));
    REQUIRE(store.ok());
    for (int n = 0; n < 40; ++n) (*store)->submit(finished_call(10, n));
    (*store)->submit(AgentStateRecord{10, 1, "acme", "alice", 5, "logged-out", "ready", "", "agent",
                                      std::nullopt});
    REQUIRE((*store)->wait_shipped(kGenerous));
    const auto stats = (*store)->stats();
    CHECK(stats.spooled == stats.submitted);
    CHECK(stats.duplicates == 0);
    CHECK(stats.backlog == 0);
    (*store)->stop(10s);
  }
  CHECK(count(t.dsn(), "SELECT count(*) FROM calls") == 40);
  CHECK(count(t.dsn(), "SELECT count(*) FROM calls WHERE end_reason = 'agent-bye'") == 40);
  CHECK(count(t.dsn(), "SELECT count(*) FROM queue_events") == 160);
  CHECK(count(t.dsn(), "SELECT count(*) FROM call_legs") == 40);
  CHECK(count(t.dsn(), "SELECT count(*) FROM agent_state_events") == 1);
  CHECK(count(t.dsn(), "SELECT count(*) FROM runs WHERE run_id = 10 AND stopped_at IS NOT NULL") ==
        1);

  SECTION("replaying the whole spool again") {
    // Make every segment unshipped again: the checkpoint back to the start. (Segments are
    // deleted once shipped, so write the same records into a fresh spool as a crashed run
    // would have left them.)
    std::filesystem::remove_all(spool);
    {
      auto writer = SpoolWriter::open({spool, 1 << 20});
      REQUIRE(writer.ok());
      std::string frames;
      std::string payload;
      for (int n = 0; n < 40; ++n) {
        for (const Record& r : finished_call(10, n)) {
          payload.clear();
          encode_record(r, payload);
          append_frame(payload, frames);
        }
      }
      REQUIRE((*writer)->write(frames).ok());
    }
    auto store = RecordStore::open(options_for(t.dsn(), spool, 11, watch));
    REQUIRE(store.ok());
    REQUIRE((*store)->wait_shipped(kGenerous));
    (*store)->stop(10s);
    const auto stats = (*store)->stats();
    CHECK(stats.duplicates == 240);  // every replayed row was already there
    CHECK(count(t.dsn(), "SELECT count(*) FROM calls") == 40);
    CHECK(count(t.dsn(), "SELECT count(*) FROM queue_events") == 160);
  }
}

TEST_CASE("recordings reach call_recordings once, as the recorder reported them",
          "[records][store][recordings]") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  const auto spool = t.root() / "spool";
  LogWatch watch;
  RecordingRecord failed = recording(50, 502, false);
  failed.mode = "mixed";
  failed.duration_ms = 0;
  failed.ok = false;
  failed.error = "System error : No space left on device.";
  {
    auto store = RecordStore::open(options_for(t.dsn(), spool, 50, watch));
    REQUIRE(store.ok());
    // Call 501 was recorded and then left a message; the same record twice ships once.
    (*store)->submit(recording(50, 501, false));
    (*store)->submit(recording(50, 501, true));
    (*store)->submit(failed);
    (*store)->submit(recording(50, 501, false));
    REQUIRE((*store)->wait_shipped(kGenerous));
    (*store)->stop(10s);
    CHECK((*store)->stats().duplicates == 1);
  }
  CHECK(count(t.dsn(), "SELECT count(*) FROM call_recordings") == 3);
  CHECK(count(t.dsn(), "SELECT count(*) FROM call_recordings WHERE call_id = 501") == 2);
  CHECK(text(t.dsn(),
             "SELECT concat_ws(' ', run_id, kind, path, mode, coalesce(mailbox, '-'), "
             "duration_ms, started_at AT TIME ZONE 'UTC', ended_at AT TIME ZONE 'UTC', ok::text, "
             "coalesce(error, '-')) FROM call_recordings WHERE call_id = 501 AND kind = "
             "'call'") ==
        "50 call /var/lib/acd/recordings/acme/2027-01-15/501.wav stereo - 61480 "
        "2027-01-15 08:00:00 2027-01-15 08:01:01.5 true -");
  CHECK(text(t.dsn(),
             "SELECT concat_ws(' ', kind, path, mode, mailbox, duration_ms, ok::text) "
             "FROM call_recordings WHERE call_id = 501 AND kind = 'voicemail'") ==
        "voicemail /var/lib/acd/voicemail/acme/sales-box/501.wav mono sales-box 3000 true");
  CHECK(text(t.dsn(),
             "SELECT concat_ws(' ', mode, duration_ms, ok::text, error) FROM call_recordings "
             "WHERE call_id = 502") == "mixed 0 false System error : No space left on device.");

  SECTION("a later run shipping the same recordings again inserts nothing") {
    auto store = RecordStore::open(options_for(t.dsn(), spool, 51, watch));
    REQUIRE(store.ok());
    (*store)->submit(recording(50, 501, true));
    (*store)->submit(failed);
    REQUIRE((*store)->wait_shipped(kGenerous));
    (*store)->stop(10s);
    CHECK((*store)->stats().duplicates == 2);
    CHECK(count(t.dsn(), "SELECT count(*) FROM call_recordings") == 3);
  }
}

TEST_CASE("task records are written to tasks once, column by column", "[records][store][tasks]") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  auto db = RecordDatabase::connect(t.dsn());
  REQUIRE(db.ok());
  // Run 60's task 1 and run 61's task 1: the same id in two runs is two tasks.
  const std::vector<Record> batch{task(60, 1, true), task(60, 2, false), task(61, 1, false)};
  auto written = (*db)->write(batch);
  REQUIRE(written.ok());
  CHECK(written->inserted == 3);
  CHECK(written->duplicates == 0);
  CHECK(count(t.dsn(), "SELECT count(*) FROM tasks") == 3);
  CHECK(text(t.dsn(),
             "SELECT concat_ws('|', tenant, channel, subject, customer, first_queue, last_queue, "
             "agent, final_state, created_at AT TIME ZONE 'UTC', queued_at AT TIME ZONE 'UTC', "
             "accepted_at AT TIME ZONE 'UTC', finished_at AT TIME ZONE 'UTC', wait_ms, handle_ms, "
             "sl_threshold_ms, offers, transfers, requeues, queues, vip_level) "
             "FROM tasks WHERE run_id = 60 AND task_id = 1") ==
        "acme|chat|Where is my parcel? \"ASAP\"\ttab|chat:jane-42|sales|support|bob|completed|"
        "2027-01-15 08:00:01|2027-01-15 08:01:01|2027-01-15 08:00:06|2027-01-15 08:03:21|"
        "4000|191000|30000|2|1|0|2|1");
  // What is not there is NULL, not empty text.
  CHECK(count(t.dsn(),
              "SELECT count(*) FROM tasks WHERE run_id = 60 AND task_id = 2 AND subject IS NULL "
              "AND customer IS NULL AND agent IS NULL AND accepted_at IS NULL AND channel = 'sms' "
              "AND final_state = 'abandoned' AND wait_ms = 12000 AND handle_ms = 0") == 1);

  SECTION("the same records again (a replay) insert nothing") {
    const std::vector<Record> again{task(60, 1, true), task(60, 3, false)};
    auto replayed = (*db)->write(again);
    REQUIRE(replayed.ok());
    CHECK(replayed->inserted == 1);
    CHECK(replayed->duplicates == 1);
    CHECK(count(t.dsn(), "SELECT count(*) FROM tasks") == 4);
  }
  SECTION("a channel the schema does not know fails the batch, which writes nothing") {
    TaskRecord odd = task(60, 4, false);
    odd.channel = "fax";
    const std::vector<Record> bad{task(60, 5, false), odd};
    auto refused = (*db)->write(bad);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("tasks_channel_check"));
    CHECK(count(t.dsn(), "SELECT count(*) FROM tasks") == 3);
  }
}

TEST_CASE("task records go through the spool to the database like call records",
          "[records][store][tasks]") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  LogWatch watch;
  auto store = RecordStore::open(options_for(t.dsn(), t.root() / "spool", 70, watch));
  REQUIRE(store.ok());
  for (int n = 1; n <= 10; ++n) (*store)->submit(task(70, n, n % 2 == 0));
  (*store)->submit(finished_call(70, 1));
  (*store)->submit(task(70, 4, true));  // the same task twice ships once
  REQUIRE((*store)->wait_shipped(kGenerous));
  (*store)->stop(10s);
  CHECK((*store)->stats().duplicates == 1);
  CHECK(count(t.dsn(), "SELECT count(*) FROM tasks WHERE run_id = 70") == 10);
  CHECK(count(t.dsn(),
              "SELECT count(*) FROM tasks WHERE final_state = 'completed' AND "
              "channel = 'chat' AND agent = 'bob'") == 5);
  CHECK(count(t.dsn(), "SELECT count(*) FROM calls") == 1);
}

TEST_CASE("records an older engine spooled (record format 1) are shipped as they were",
          "[records][store]") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  const auto spool = t.root() / "spool";
  {
    // Segment 1 as an engine of format 1 left it: calls without end_reason.
    std::string bytes = "ACDSPOOL";
    bytes.append("\x01\x00\x00\x00", 4);
    std::string payload;
    for (int n = 0; n < 5; ++n) {
      for (const Record& r : finished_call(40, n)) {
        payload.clear();
        encode_record(r, payload, 1);
        append_frame(payload, bytes);
      }
    }
    std::filesystem::create_directories(spool);
    std::ofstream(segment_path(spool, 1), std::ios::binary) << bytes;
  }
  LogWatch watch;
  auto store = RecordStore::open(options_for(t.dsn(), spool, 41, watch));
  REQUIRE(store.ok());
  (*store)->submit(finished_call(41, 5));
  REQUIRE((*store)->wait_shipped(kGenerous));
  (*store)->stop(10s);
  CHECK((*store)->stats().duplicates == 0);
  CHECK(count(t.dsn(), "SELECT count(*) FROM calls WHERE end_reason IS NULL") == 5);
  CHECK(count(t.dsn(), "SELECT count(*) FROM calls WHERE end_reason = 'agent-bye'") == 1);
  CHECK(count(t.dsn(), "SELECT count(*) FROM queue_events") == 24);
}

TEST_CASE("while the database is down records wait in the spool, then arrive in order",
          "[records][store][outage]") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  LogWatch watch;
  auto store = RecordStore::open(options_for(t.dsn(), t.root() / "spool", 20, watch));
  REQUIRE(store.ok());
  for (int n = 0; n < 5; ++n) (*store)->submit(finished_call(20, n));
  REQUIRE((*store)->wait_shipped(kGenerous));

  REQUIRE(t.cluster().stop().ok());
  for (int n = 5; n < 60; ++n) (*store)->submit(finished_call(20, n));
  REQUIRE(watch.wait_for("records are kept in the spool"));
  CHECK_FALSE((*store)->stats().database_up);
  CHECK((*store)->stats().backlog > 0);

  EmbeddedClusterOptions again;
  again.dir = t.root() / "pg";
  auto restarted = EmbeddedCluster::start(again);
  REQUIRE(restarted.ok());
  REQUIRE(watch.wait_for("reachable again"));
  REQUIRE((*store)->wait_shipped(kGenerous));
  (*store)->stop(10s);
  CHECK(count(t.dsn(), "SELECT count(*) FROM calls") == 60);
  CHECK(count(t.dsn(), "SELECT count(*) FROM queue_events") == 240);
  // Every call's events are 1..4 with no gap.
  CHECK(count(t.dsn(),
              "SELECT count(*) FROM (SELECT call_id FROM queue_events GROUP BY call_id "
              "HAVING min(seq) = 1 AND max(seq) = 4 AND count(*) = 4) ok") == 60);
  REQUIRE((*restarted)->stop().ok());
}

TEST_CASE("a later run replays what a dead run spooled and closes the dead run out",
          "[records][store][crash]") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  const auto spool = t.root() / "spool";
  LogWatch watch;
  {
    // The first run never reaches its database (as if killed before it could).
    auto dead = RecordStore::open(
        options_for("host=/nonexistent/acd dbname=acd connect_timeout=1", spool, 30, watch));
    REQUIRE(dead.ok());
    for (int n = 0; n < 3; ++n) (*dead)->submit(finished_call(30, n));
    // A call still in its queue and another being talked when the run died.
    (*dead)->submit(QueueEventRecord{77, 1, 30, "acme", "sales", 1'800'000'100'000'000, "enter", "",
                                     std::nullopt, "", "{}"});
    (*dead)->submit(QueueEventRecord{78, 1, 30, "acme", "support", 1'800'000'100'000'000, "enter",
                                     "", std::nullopt, "", "{}"});
    (*dead)->submit(QueueEventRecord{78, 2, 30, "acme", "support", 1'800'000'101'000'000, "connect",
                                     "bob", 1000, "", "{}"});
    // A call Alice answered and handed to Dave by an attended transfer: Dave has it.
    (*dead)->submit(QueueEventRecord{79, 1, 30, "acme", "sales", 1'800'000'100'000'000, "enter", "",
                                     std::nullopt, "", "{}"});
    (*dead)->submit(QueueEventRecord{79, 2, 30, "acme", "sales", 1'800'000'101'000'000, "connect",
                                     "alice", 1000, "", "{}"});
    (*dead)->submit(QueueEventRecord{79, 3, 30, "acme", "sales", 1'800'000'102'000'000, "transfer",
                                     "alice", 1000, "attended",
                                     R"({"to":"dave","to_agent":"dave"})"});
    (*dead)->submit(AgentStateRecord{30, 1, "acme", "bob", 1'800'000'099'000'000, "logged-out",
                                     "ready", "", "agent", std::nullopt});
    (*dead)->submit(AgentStateRecord{30, 2, "acme", "bob", 1'800'000'101'000'000, "ready",
                                     "talking", "", "call", 78});
    (*dead)->submit(AgentStateRecord{30, 3, "acme", "carol", 1'800'000'099'000'000, "logged-out",
                                     "ready", "", "agent", std::nullopt});
    (*dead)->submit(AgentStateRecord{30, 4, "acme", "carol", 1'800'000'099'500'000, "ready",
                                     "logged-out", "", "agent", std::nullopt});
    REQUIRE(watch.wait_for("records are kept in the spool"));
    (*dead)->stop(0ms);
  }
  auto next = RecordStore::open(options_for(t.dsn(), spool, 31, watch));
  REQUIRE(next.ok());
  REQUIRE((*next)->wait_shipped(kGenerous));
  REQUIRE(watch.wait_for("closed out 1 earlier run"));
  (*next)->stop(10s);
  CHECK(count(t.dsn(), "SELECT count(*) FROM calls WHERE final_state = 'completed'") == 3);
  CHECK(count(t.dsn(), "SELECT count(*) FROM calls WHERE final_state = 'interrupted'") == 3);
  CHECK(count(t.dsn(), "SELECT count(*) FROM calls WHERE call_id = 79 AND agent = 'dave'") == 1);
  CHECK(count(t.dsn(),
              "SELECT count(*) FROM calls WHERE call_id = 78 AND agent = 'bob' AND "
              "answered_at IS NOT NULL AND last_queue = 'support'") == 1);
  // Bob was left talking: he gets a final logged-out; Carol had logged out herself.
  CHECK(count(t.dsn(),
              "SELECT count(*) FROM agent_state_events WHERE agent = 'bob' AND "
              "to_state = 'logged-out' AND reason = 'engine-restart' AND seq = 5") == 1);
  CHECK(count(t.dsn(), "SELECT count(*) FROM agent_state_events WHERE agent = 'carol'") == 2);
  CHECK(count(t.dsn(),
              "SELECT count(*) FROM runs WHERE run_id = 30 AND closed_out_at IS NOT "
              "NULL") == 1);
  CHECK(count(t.dsn(), "SELECT count(*) FROM runs WHERE run_id = 31 AND closed_out_at IS NULL") ==
        1);
}

}  // namespace
}  // namespace acd::store
