// CustomerLookup (the screen pop's database side) against a throwaway cluster with every
// migration applied: customers and calls rows are written with SQL, then looked up.
#include "engine/store/customer_lookup.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/migrator.h"
#include "engine/store/test_cluster_util.h"

namespace acd::store {
namespace {

using namespace std::chrono_literals;

constexpr auto kGenerous = 60s;

// A DSN nobody answers: the socket directory does not exist, so connecting fails at once.
constexpr const char* kDeadDsn = "host=/nonexistent/acd-customer-lookup-test dbname=acd";

// Collects the lookup's log lines and lets a test wait for one.
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
    return cv_.wait_for(lock, kGenerous, [&] { return count_locked(needle) > 0; });
  }
  int count(const std::string& needle) {
    std::lock_guard lock(mutex_);
    return count_locked(needle);
  }

 private:
  int count_locked(const std::string& needle) const {
    int n = 0;
    for (const auto& line : lines_) {
      if (line.find(needle) != std::string::npos) ++n;
    }
    return n;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

// Looks `number` up and waits for the answer; nullopt when the lookup was refused or no
// answer came.
std::optional<CallerLookupResult> look_up(CustomerLookup& lookup, const std::string& tenant,
                                          std::string number) {
  auto answer = std::make_shared<std::promise<CallerLookupResult>>();
  auto future = answer->get_future();
  if (!lookup.lookup(tenant, std::move(number),
                     [answer](CallerLookupResult r) { answer->set_value(std::move(r)); })) {
    return std::nullopt;
  }
  if (future.wait_for(kGenerous) != std::future_status::ready) return std::nullopt;
  return future.get();
}

void exec(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

std::string text(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  return tx.exec(sql)[0][0].c_str();
}

// A migrated cluster with tenants 'acme' and 'globex'.
struct Fixture {
  Fixture() {
    REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
    acme = std::stoll(text(t.dsn(), "INSERT INTO tenants (name) VALUES ('acme') RETURNING id"));
    globex = std::stoll(text(t.dsn(), "INSERT INTO tenants (name) VALUES ('globex') RETURNING id"));
  }

  CustomerLookupOptions options() const {
    CustomerLookupOptions o;
    o.dsn = t.dsn() + " application_name=acd-customer-lookup-test";
    o.log = watch.sink();
    return o;
  }

  testing::TestCluster t;
  mutable LogWatch watch;
  std::int64_t acme = 0;
  std::int64_t globex = 0;
};

std::int64_t micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// Blocks the worker inside the first request's callback until released, so that later
// requests stay queued.
class Blocker {
 public:
  std::function<void(CallerLookupResult)> callback() {
    return [this](CallerLookupResult r) {
      first_ = std::move(r);
      entered_.set_value();
      release_future_.wait();
    };
  }
  bool wait_entered() { return entered_future_.wait_for(kGenerous) == std::future_status::ready; }
  void release() { release_.set_value(); }
  const CallerLookupResult& first() const { return first_; }

 private:
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> release_;
  std::shared_future<void> release_future_ = release_.get_future().share();
  CallerLookupResult first_;
};

// Counts answers and keeps them, from the worker thread.
class Answers {
 public:
  std::function<void(CallerLookupResult)> callback() {
    return [this](CallerLookupResult r) {
      std::lock_guard lock(mutex_);
      results_.push_back(std::move(r));
      cv_.notify_all();
    };
  }
  bool wait_count(std::size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kGenerous, [&] { return results_.size() >= n; });
  }
  std::vector<CallerLookupResult> results() {
    std::lock_guard lock(mutex_);
    return results_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<CallerLookupResult> results_;
};

}  // namespace

TEST_CASE("phone numbers normalize to '+' and digits", "[store]") {
  CHECK(normalize_phone_number("+15551234567") == "+15551234567");
  CHECK(normalize_phone_number("+1 (555) 123-4567") == "+15551234567");
  CHECK(normalize_phone_number("tel:+1.555.123.4567") == "+15551234567");
  CHECK(normalize_phone_number("0049 30 1234") == "0049301234");
  CHECK(normalize_phone_number("1+2") == "12");  // a '+' after a digit is dropped
  CHECK(normalize_phone_number("++44") == "+44");
  CHECK(normalize_phone_number("anonymous") == "");
  CHECK(normalize_phone_number("+") == "+");
  CHECK(normalize_phone_number("") == "");
  CHECK(normalize_phone_number(std::string("12\0"
                                           "34",
                                           5)) == "1234");
}

TEST_CASE("the C++ and SQL phone normalizations agree", "[store]") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  pqxx::connection c(t.dsn());
  pqxx::nontransaction tx(c);
  for (const std::string number :
       {"+15551234567", "+1 (555) 123-4567", "tel:+1.555.123.4567", "0049 30 1234", "1+2", "++44",
        "anonymous", "+", "", " +7 ", "\xd9\xa3\xd9\xa4 12", "a+b1", "%_'\\;--12"}) {
    INFO(number);
    const pqxx::row r = tx.exec_params1("SELECT acd_normalize_phone($1)", number);
    CHECK(r[0].as<std::string>() == normalize_phone_number(number));
  }
  CHECK(tx.exec1("SELECT acd_normalize_phone(NULL) IS NULL")[0].as<bool>());
}

TEST_CASE("a caller's customer record is found with its fields", "[store]") {
  Fixture f;
  // Written as a CRM has it: the trigger stores it normalized.
  exec(f.t.dsn(),
       "INSERT INTO customers (tenant_id, phone_number, name, account, tier, notes, "
       "fields) VALUES (" +
           std::to_string(f.acme) +
           ", '+1 555-123 4567', 'Ada Lovelace', 'AC-1001', 'gold', 'prefers email', "
           "'{\"plan\": \"pro\", \"seats\": 42, \"beta\": true, \"manager\": null, "
           "\"tags\": [\"a\", \"b\"]}')");
  CHECK(text(f.t.dsn(), "SELECT phone_number FROM customers") == "+15551234567");
  // The same number written another way is the same customer; a number needs a digit.
  const std::string acme = std::to_string(f.acme);
  CHECK_THROWS_AS(exec(f.t.dsn(), "INSERT INTO customers (tenant_id, phone_number) VALUES (" +
                                      acme + ", 'tel:+1 (555) 1234567')"),
                  pqxx::unique_violation);
  CHECK_THROWS_AS(exec(f.t.dsn(), "INSERT INTO customers (tenant_id, phone_number) VALUES (" +
                                      acme + ", 'anonymous')"),
                  pqxx::check_violation);
  CHECK(text(f.t.dsn(),
             "UPDATE customers SET notes = 'prefers email' "
             "RETURNING updated_at > created_at") == "t");
  exec(f.t.dsn(), "INSERT INTO customers (tenant_id, phone_number, name) VALUES (" +
                      std::to_string(f.acme) + ", '+15550000000', 'No Fields')");

  CustomerLookup lookup(f.options());
  for (const std::string number : {"+15551234567", "+1 (555) 123-4567", "tel:+1.555.123.4567"}) {
    INFO(number);
    auto r = look_up(lookup, "acme", number);
    REQUIRE(r);
    REQUIRE(r->ok);
    CHECK(r->error.empty());
    CHECK(r->number == "+15551234567");
    REQUIRE(r->customer);
    CHECK(r->customer->name == "Ada Lovelace");
    CHECK(r->customer->account == "AC-1001");
    CHECK(r->customer->tier == "gold");
    CHECK(r->customer->notes == "prefers email");
    using Field = std::pair<std::string, std::string>;
    CHECK(r->customer->fields == std::vector<Field>{{"beta", "true"},
                                                    {"manager", ""},
                                                    {"plan", "pro"},
                                                    {"seats", "42"},
                                                    {"tags", "[\"a\", \"b\"]"}});
    CHECK(r->previous_contacts.empty());
  }

  auto bare = look_up(lookup, "acme", "+15550000000");
  REQUIRE(bare);
  REQUIRE(bare->ok);
  REQUIRE(bare->customer);
  CHECK(bare->customer->name == "No Fields");
  CHECK(bare->customer->account.empty());
  CHECK(bare->customer->fields.empty());
}

TEST_CASE("an unknown or unusable caller number finds nothing", "[store]") {
  Fixture f;
  exec(f.t.dsn(), "INSERT INTO customers (tenant_id, phone_number, name) VALUES (" +
                      std::to_string(f.acme) + ", '+15551234567', 'Ada')");
  CustomerLookup lookup(f.options());
  for (const std::string& number :
       {std::string("+15557654321"), std::string("15551234567"), std::string(""),
        std::string("anonymous"), std::string("+"), std::string(65, '1')}) {
    INFO(number);
    auto r = look_up(lookup, "acme", number);
    REQUIRE(r);
    CHECK(r->ok);
    CHECK(r->error.empty());
    CHECK_FALSE(r->customer);
    CHECK(r->previous_contacts.empty());
  }
  // 64 characters are still looked up.
  auto r = look_up(lookup, "acme", std::string(64, '1'));
  REQUIRE(r);
  CHECK(r->ok);
  CHECK(r->number == std::string(64, '1'));
}

TEST_CASE("previous contacts come newest first, limited", "[store]") {
  Fixture f;
  // Seven inbound calls of +15551234567 to acme, presented in different ways, one an hour
  // (call 107 the newest), and calls that must not show: another number, an outbound call
  // the agent placed to the number (on which the agent's extension is the caller), the same
  // number at globex.
  exec(f.t.dsn(), R"sql(
INSERT INTO calls (call_id, run_id, tenant, direction, caller, first_queue, last_queue, agent,
                   final_state, arrived_at, ended_at, talk_ms, end_reason) VALUES
 (101, 1, 'acme', 'inbound', '+15551234567', 'sales', 'sales', 'alice', 'completed',
  '2024-03-05 10:00:00+00', '2024-03-05 10:05:00+00', 300000, 'agent-bye'),
 (102, 1, 'acme', 'inbound', '+1-555-123-4567', 'sales', 'sales', NULL, 'abandoned',
  '2024-03-05 11:00:00+00', '2024-03-05 11:00:30+00', 0, 'caller-cancel'),
 (103, 1, 'acme', 'inbound', '+15551234567', 'sales', 'support', 'bob', 'completed',
  '2024-03-05 12:00:00+00', '2024-03-05 12:03:00+00', 170000, 'caller-bye'),
 (104, 1, 'acme', 'inbound', '+1 555 123 4567', 'support', 'support', NULL, 'voicemail',
  '2024-03-05 13:00:00+00', '2024-03-05 13:02:00+00', 0, NULL),
 (105, 1, 'acme', 'inbound', '+15551234567', 'sales', 'sales', 'carol', 'completed',
  '2024-03-05 14:00:00+00', '2024-03-05 14:01:00+00', 55000, 'agent-bye'),
 (106, 1, 'acme', 'inbound', '+15551234567', NULL, NULL, NULL, 'hung-up',
  '2024-03-05 15:00:00+00', '2024-03-05 15:00:05+00', 0, 'caller-bye'),
 (107, 1, 'acme', 'inbound', '+15551234567', 'sales', 'billing', 'dave', 'completed',
  '2024-03-05 16:00:00.123456+00', '2024-03-05 16:10:00+00', 590000, 'agent-bye'),
 (201, 1, 'acme', 'inbound', '+15557654321', 'sales', 'sales', 'alice', 'completed',
  '2024-03-05 16:30:00+00', '2024-03-05 16:31:00+00', 60000, 'agent-bye'),
 (202, 1, 'acme', 'outbound', '+15551234567', NULL, NULL, 'alice', 'completed',
  '2024-03-05 17:00:00+00', '2024-03-05 17:01:00+00', 60000, 'agent-bye'),
 (203, 1, 'globex', 'inbound', '+15551234567', 'sales', 'sales', 'erin', 'completed',
  '2024-03-05 18:00:00+00', '2024-03-05 18:01:00+00', 60000, 'agent-bye');
)sql");

  CustomerLookupOptions options = f.options();
  options.previous_contacts = 5;
  CustomerLookup lookup(options);
  auto r = look_up(lookup, "acme", "+1 (555) 123-4567");
  REQUIRE(r);
  REQUIRE(r->ok);
  CHECK_FALSE(r->customer);  // contacts come also for numbers without a customer record
  REQUIRE(r->previous_contacts.size() == 5);
  std::vector<std::int64_t> ids;
  for (const auto& c : r->previous_contacts) ids.push_back(c.call_id);
  CHECK(ids == std::vector<std::int64_t>{107, 106, 105, 104, 103});

  const PreviousContact& newest = r->previous_contacts[0];
  CHECK(micros(newest.arrived_at) == 1'709'654'400'123'456);  // 2024-03-05 16:00:00.123456Z
  CHECK(newest.queue == "billing");
  CHECK(newest.agent == "dave");
  CHECK(newest.final_state == "completed");
  CHECK(newest.talk_ms == 590000);
  CHECK(newest.end_reason == "agent-bye");
  const PreviousContact& unanswered = r->previous_contacts[1];
  CHECK(micros(unanswered.arrived_at) == 1'709'650'800'000'000);  // 15:00:00Z
  CHECK(unanswered.queue.empty());
  CHECK(unanswered.agent.empty());
  CHECK(unanswered.final_state == "hung-up");
  CHECK(unanswered.talk_ms == 0);
  CHECK(r->previous_contacts[3].end_reason.empty());  // 104: not recorded
  CHECK(r->previous_contacts[3].final_state == "voicemail");

  // The query is an index scan of calls_tenant_caller_arrived.
  const std::string plan = [&] {
    pqxx::connection c(f.t.dsn());
    pqxx::nontransaction tx(c);
    tx.exec("SET enable_seqscan = off");
    std::string all;
    for (const auto& row :
         tx.exec("EXPLAIN SELECT call_id FROM calls WHERE tenant = 'acme' AND direction = "
                 "'inbound' AND acd_normalize_phone(caller) = '+15551234567' "
                 "ORDER BY arrived_at DESC, call_id DESC LIMIT 5")) {
      all += row[0].c_str();
      all += '\n';
    }
    return all;
  }();
  INFO(plan);
  CHECK(plan.find("Index Scan using calls_tenant_caller_arrived") != std::string::npos);
  CHECK(plan.find("Sort") == std::string::npos);

  SECTION("no limit beyond the calls there are, and a limit of 0 reads none") {
    CustomerLookupOptions more = f.options();
    more.previous_contacts = 50;
    CustomerLookup all(more);
    auto every = look_up(all, "acme", "+15551234567");
    REQUIRE(every);
    REQUIRE(every->ok);
    CHECK(every->previous_contacts.size() == 7);
    CHECK(every->previous_contacts.back().call_id == 101);

    CustomerLookupOptions none = f.options();
    none.previous_contacts = 0;
    CustomerLookup customer_only(none);
    auto bare = look_up(customer_only, "acme", "+15551234567");
    REQUIRE(bare);
    CHECK(bare->ok);
    CHECK(bare->previous_contacts.empty());
  }
}

TEST_CASE("tenants do not see each other's customers or calls", "[store]") {
  Fixture f;
  exec(f.t.dsn(), "INSERT INTO customers (tenant_id, phone_number, name, tier) VALUES (" +
                      std::to_string(f.acme) + ", '+15551234567', 'Ada at Acme', 'gold'), (" +
                      std::to_string(f.globex) + ", '+15551234567', 'Ada at Globex', '')");
  exec(f.t.dsn(), R"sql(
INSERT INTO calls (call_id, run_id, tenant, direction, caller, last_queue, agent, final_state,
                   arrived_at, ended_at) VALUES
 (1, 1, 'acme', 'inbound', '+15551234567', 'sales', 'alice', 'completed',
  '2024-03-05 10:00:00+00', '2024-03-05 10:05:00+00'),
 (2, 1, 'globex', 'inbound', '+15551234567', 'help', 'erin', 'completed',
  '2024-03-05 11:00:00+00', '2024-03-05 11:05:00+00'),
 (3, 1, 'globex', 'inbound', '+15551234567', 'help', 'erin', 'abandoned',
  '2024-03-05 12:00:00+00', '2024-03-05 12:00:05+00');
)sql");
  CustomerLookup lookup(f.options());

  auto acme = look_up(lookup, "acme", "+15551234567");
  REQUIRE(acme);
  REQUIRE(acme->ok);
  REQUIRE(acme->customer);
  CHECK(acme->customer->name == "Ada at Acme");
  REQUIRE(acme->previous_contacts.size() == 1);
  CHECK(acme->previous_contacts[0].call_id == 1);

  auto globex = look_up(lookup, "globex", "+15551234567");
  REQUIRE(globex);
  REQUIRE(globex->ok);
  REQUIRE(globex->customer);
  CHECK(globex->customer->name == "Ada at Globex");
  REQUIRE(globex->previous_contacts.size() == 2);
  CHECK(globex->previous_contacts[0].call_id == 3);
  CHECK(globex->previous_contacts[1].call_id == 2);

  auto nobody = look_up(lookup, "initech", "+15551234567");  // no such tenant
  REQUIRE(nobody);
  CHECK(nobody->ok);
  CHECK_FALSE(nobody->customer);
  CHECK(nobody->previous_contacts.empty());
}

TEST_CASE("SQL metacharacters in a caller number are inert", "[store]") {
  Fixture f;
  exec(f.t.dsn(), "INSERT INTO customers (tenant_id, phone_number, name) VALUES (" +
                      std::to_string(f.acme) + ", '+15551234567', 'Ada')");
  exec(f.t.dsn(), R"sql(
INSERT INTO calls (call_id, run_id, tenant, direction, caller, final_state, arrived_at, ended_at)
VALUES (1, 1, 'acme', 'inbound', '+15551234567', 'completed', '2024-03-05 10:00:00+00',
        '2024-03-05 10:05:00+00');
)sql");
  CustomerLookup lookup(f.options());
  const std::vector<std::string> hostile = {
      "' OR '1'='1",
      "+1555'; DROP TABLE customers; --",
      "+1%",
      "_%",
      "\\x27 OR 1=1 --",
      "1); DELETE FROM calls; --",
      std::string("+1555\0'; DROP TABLE calls; --", 29),
      "+1555\xff\xfe\xc0'",  // not UTF-8
      "$1 $2 $$ ; SELECT pg_sleep(10)",
  };
  for (const auto& number : hostile) {
    INFO(number);
    auto r = look_up(lookup, "acme", number);
    REQUIRE(r);
    CHECK(r->ok);
    CHECK(r->error.empty());
    CHECK_FALSE(r->customer);
    CHECK(r->previous_contacts.empty());
  }
  // Normalization keeps the digits, so the digits found among the punctuation are the number.
  auto digits = look_up(lookup, "acme", "+1555'; --1234567");
  REQUIRE(digits);
  REQUIRE(digits->ok);
  CHECK(digits->number == "+15551234567");
  CHECK(digits->customer);

  CHECK(text(f.t.dsn(), "SELECT count(*) FROM customers") == "1");
  CHECK(text(f.t.dsn(), "SELECT count(*) FROM calls") == "1");
  auto after = look_up(lookup, "acme", "+15551234567");
  REQUIRE(after);
  REQUIRE(after->ok);
  REQUIRE(after->customer);
  CHECK(after->customer->name == "Ada");
  CHECK(after->previous_contacts.size() == 1);
}

TEST_CASE("an unreachable database gives errors, and lookups go on", "[store]") {
  LogWatch watch;
  CustomerLookupOptions options;
  options.dsn = kDeadDsn;
  options.log = watch.sink();
  CustomerLookup lookup(options);

  auto first = look_up(lookup, "acme", "+15551234567");
  REQUIRE(first);
  CHECK_FALSE(first->ok);
  CHECK(first->error.find("customer lookup: connect:") == 0);
  CHECK_FALSE(first->customer);
  CHECK(first->previous_contacts.empty());

  auto second = look_up(lookup, "acme", "+15551234568");
  REQUIRE(second);
  CHECK_FALSE(second->ok);
  CHECK_FALSE(second->error.empty());
  // A number with nothing to look up needs no database.
  auto empty = look_up(lookup, "acme", "");
  REQUIRE(empty);
  CHECK(empty->ok);
  // The outage is logged once, not per lookup.
  CHECK(watch.count("error: customer lookup: connect:") == 1);
}

TEST_CASE("a broken connection fails one lookup and the next reconnects", "[store]") {
  Fixture f;
  exec(f.t.dsn(), "INSERT INTO customers (tenant_id, phone_number, name) VALUES (" +
                      std::to_string(f.acme) + ", '+15551234567', 'Ada')");
  CustomerLookup lookup(f.options());
  auto before = look_up(lookup, "acme", "+15551234567");
  REQUIRE(before);
  REQUIRE(before->ok);

  // End the lookup's server process and wait until it is gone.
  CHECK(text(f.t.dsn(),
             "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
             "WHERE application_name = 'acd-customer-lookup-test'") == "1");

  auto broken = look_up(lookup, "acme", "+15551234567");
  REQUIRE(broken);
  CHECK_FALSE(broken->ok);
  CHECK_FALSE(broken->error.empty());
  CHECK(f.watch.wait_for("reconnecting with the next lookup"));

  auto after = look_up(lookup, "acme", "+15551234567");
  REQUIRE(after);
  REQUIRE(after->ok);
  REQUIRE(after->customer);
  CHECK(after->customer->name == "Ada");
  CHECK(f.watch.count("info: customer lookup: working again") == 1);
}

TEST_CASE("a lookup that takes too long is cancelled; the connection stays", "[store]") {
  Fixture f;
  exec(f.t.dsn(), "INSERT INTO customers (tenant_id, phone_number, name) VALUES (" +
                      std::to_string(f.acme) + ", '+15551234567', 'Ada')");
  CustomerLookupOptions options = f.options();
  options.statement_timeout = 200ms;
  CustomerLookup lookup(options);
  REQUIRE(look_up(lookup, "acme", "+15551234567")->ok);  // connected

  {
    // Another session holds customers locked: the lookup waits on the lock until its
    // statement timeout.
    pqxx::connection locker(f.t.dsn());
    pqxx::work tx(locker);
    tx.exec("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
    auto slow = look_up(lookup, "acme", "+15551234567");
    REQUIRE(slow);
    CHECK_FALSE(slow->ok);
    CHECK(slow->error.find("statement timeout") != std::string::npos);
    CHECK_FALSE(slow->customer);
    tx.abort();
  }
  auto after = look_up(lookup, "acme", "+15551234567");
  REQUIRE(after);
  REQUIRE(after->ok);
  REQUIRE(after->customer);
  CHECK(f.watch.count("error: customer lookup: ") == 1);
  CHECK(f.watch.count("reconnecting") == 0);  // a timeout does not drop the connection
  CHECK(f.watch.count("info: customer lookup: working again") == 1);
}

TEST_CASE("lookups beyond max_pending are refused", "[store]") {
  CustomerLookupOptions options;
  options.dsn = kDeadDsn;
  options.max_pending = 3;
  CustomerLookup lookup(options);
  Blocker blocker;
  Answers answers;
  REQUIRE(lookup.lookup("acme", "+15550000001", blocker.callback()));
  REQUIRE(blocker.wait_entered());  // the worker holds the first; the queue is empty
  CHECK(lookup.lookup("acme", "+15550000002", answers.callback()));
  CHECK(lookup.lookup("acme", "+15550000003", answers.callback()));
  CHECK(lookup.lookup("acme", "+15550000004", answers.callback()));
  bool refused_called = false;
  CHECK_FALSE(
      lookup.lookup("acme", "+15550000005", [&](CallerLookupResult) { refused_called = true; }));
  blocker.release();
  REQUIRE(answers.wait_count(3));
  // Room again once the queue drained.
  CHECK(lookup.lookup("acme", "+15550000006", answers.callback()));
  REQUIRE(answers.wait_count(4));
  lookup.stop();
  CHECK_FALSE(refused_called);
  CHECK(answers.results().size() == 4);
  for (const auto& r : answers.results()) CHECK(r.error != "shutting down");
}

TEST_CASE("stop answers the queued lookups and refuses new ones", "[store]") {
  Fixture f;
  exec(f.t.dsn(), "INSERT INTO customers (tenant_id, phone_number, name) VALUES (" +
                      std::to_string(f.acme) + ", '+15551234567', 'Ada')");
  CustomerLookup lookup(f.options());
  Blocker blocker;
  Answers answers;
  REQUIRE(lookup.lookup("acme", "+15551234567", blocker.callback()));
  REQUIRE(blocker.wait_entered());
  for (int i = 0; i < 3; ++i) REQUIRE(lookup.lookup("acme", "+15551234567", answers.callback()));

  std::thread stopper([&] { lookup.stop(); });
  // stop() has refused new requests and counted the queued ones before it logs.
  REQUIRE(f.watch.wait_for("customer lookup stopping: 3 queued lookups"));
  CHECK_FALSE(lookup.lookup("acme", "+15551234567", answers.callback()));
  blocker.release();
  stopper.join();

  // The one in progress finished normally; the queued ones were told why not.
  CHECK(blocker.first().ok);
  REQUIRE(blocker.first().customer);
  CHECK(blocker.first().customer->name == "Ada");
  const auto results = answers.results();
  REQUIRE(results.size() == 3);
  for (const auto& r : results) {
    CHECK_FALSE(r.ok);
    CHECK(r.error == "shutting down");
  }
  CHECK_FALSE(lookup.lookup("acme", "+15551234567", answers.callback()));
  lookup.stop();  // again: nothing happens
  CHECK(answers.results().size() == 3);
}

TEST_CASE("destroying the lookup answers what is queued", "[store]") {
  Answers answers;
  Blocker blocker;
  {
    CustomerLookupOptions options;
    options.dsn = kDeadDsn;
    CustomerLookup lookup(options);
    REQUIRE(lookup.lookup("acme", "+15550000001", blocker.callback()));
    REQUIRE(blocker.wait_entered());
    REQUIRE(lookup.lookup("acme", "+15550000002", answers.callback()));
    blocker.release();
  }
  // Either answered by a connect error (the worker got to it first) or "shutting down".
  REQUIRE(answers.results().size() == 1);
  CHECK_FALSE(answers.results()[0].ok);
}

}  // namespace acd::store
