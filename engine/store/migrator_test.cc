#include "engine/store/migrator.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "engine/store/test_cluster_util.h"

namespace acd::store {
namespace {

Migration make(int version, std::string name, std::string sql) {
  return Migration{version, std::move(name), std::move(sql)};
}

long count(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  return tx.exec(sql)[0][0].as<long>();
}

TEST_CASE("migration file names are NNNN_name.sql") {
  auto ok = parse_migration_file_name("0042_add_things.sql");
  REQUIRE(ok.ok());
  CHECK(ok->version == 42);
  CHECK(ok->name == "add_things");
  for (const char* bad : {"0001.sql", "_x.sql", "0001_.sql", "0001_x.txt", "00a1_x.sql",
                          "0000_zero.sql", "0001_bad-name.sql"}) {
    INFO(bad);
    CHECK_FALSE(parse_migration_file_name(bad).ok());
  }
}

TEST_CASE("duplicate migration versions are refused, the rest is sorted") {
  auto dup = validate_migrations({make(1, "a", ""), make(1, "b", "")});
  REQUIRE_FALSE(dup.ok());
  CHECK_THAT(dup.error().message, Catch::Contains("0001_a") && Catch::Contains("0001_b"));
  auto sorted = validate_migrations({make(3, "c", ""), make(1, "a", "")});
  REQUIRE(sorted.ok());
  CHECK(sorted->front().version == 1);
}

TEST_CASE("migrations are loaded from a directory in version order") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("acd-migrations-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "0002_second.sql") << "SELECT 2;";
  std::ofstream(dir / "0001_first.sql") << "SELECT 1;";
  std::ofstream(dir / "README") << "not a migration";
  auto loaded = load_migrations(dir);
  std::filesystem::remove_all(dir);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 2);
  CHECK(loaded.value()[0].name == "first");
  CHECK(loaded.value()[1].sql == "SELECT 2;");
}

TEST_CASE("the built-in migrations start at 0001_initial") {
  const auto& builtin = builtin_migrations();
  REQUIRE_FALSE(builtin.empty());
  CHECK(builtin.front().version == 1);
  CHECK(builtin.front().name == "initial");
}

TEST_CASE("migrating an empty database applies everything, a second run nothing") {
  testing::TestCluster t;
  const auto& builtin = builtin_migrations();
  auto first = migrate(t.dsn(), builtin);
  REQUIRE(first.ok());
  CHECK(first->applied.size() == builtin.size());
  CHECK(first->version == builtin.back().version);
  CHECK(count(t.dsn(), "SELECT count(*) FROM schema_migrations") ==
        static_cast<long>(builtin.size()));
  for (const char* table : {"tenants",
                            "skills",
                            "teams",
                            "agents",
                            "agent_skills",
                            "queues",
                            "queue_members",
                            "calls",
                            "call_legs",
                            "queue_events",
                            "agent_state_events",
                            "queue_overflow_events",
                            "callbacks",
                            "recordings",
                            "voicemails",
                            "runs",
                            "call_recordings",
                            "tasks",
                            "users",
                            "api_tokens",
                            "trunks",
                            "dids"}) {
    INFO(table);
    CHECK(count(t.dsn(), std::string("SELECT count(*) FROM ") + table) == 0);
  }

  auto second = migrate(t.dsn(), builtin);
  REQUIRE(second.ok());
  CHECK(second->applied.empty());
  CHECK(second->version == builtin.back().version);
  auto versions = applied_versions(t.dsn());
  REQUIRE(versions.ok());
  CHECK(versions->size() == builtin.size());
}

TEST_CASE("the initial schema keeps names unique per tenant and references in the tenant") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  pqxx::connection c(t.dsn());
  {
    pqxx::work tx(c);
    tx.exec("INSERT INTO tenants (name) VALUES ('acme'), ('globex')");
    tx.exec("INSERT INTO skills (tenant_id, name) SELECT id, 'english' FROM tenants");
    tx.commit();
  }
  CHECK(count(t.dsn(), "SELECT count(*) FROM skills") == 2);
  pqxx::work tx(c);
  tx.exec(
      "INSERT INTO agents (tenant_id, name, extension) SELECT id, 'alice', '1001' FROM tenants "
      "WHERE name='acme'");
  CHECK_THROWS_AS(tx.exec("INSERT INTO agent_skills (tenant_id, agent_id, skill_id, proficiency) "
                          "SELECT a.tenant_id, a.id, s.id, 5 FROM agents a, skills s, tenants g "
                          "WHERE s.tenant_id = g.id AND g.name = 'globex'"),
                  pqxx::foreign_key_violation);
}

TEST_CASE("a failing migration is rolled back and named") {
  testing::TestCluster t;
  std::vector<Migration> list{make(1, "good", "CREATE TABLE a (x int);"),
                              make(2, "bad", "CREATE TABLE b (x int); SELECT nonsense;")};
  auto result = migrate(t.dsn(), list);
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.error().message, Catch::Contains("0002_bad"));
  CHECK(count(t.dsn(), "SELECT count(*) FROM schema_migrations") == 1);
  CHECK(count(t.dsn(), "SELECT count(*) FROM pg_tables WHERE tablename = 'b'") == 0);
}

TEST_CASE("two migrators at once both succeed and apply each version once") {
  testing::TestCluster t;
  // The first migration sleeps so the two really overlap.
  std::vector<Migration> list{make(1, "slow", "SELECT pg_sleep(0.5); CREATE TABLE a (x int);"),
                              make(2, "more", "CREATE TABLE b (x int);")};
  std::optional<Result<MigrateReport>> r1, r2;
  std::thread a([&] { r1.emplace(migrate(t.dsn(), list)); });
  std::thread b([&] { r2.emplace(migrate(t.dsn(), list)); });
  a.join();
  b.join();
  REQUIRE(r1->ok());
  REQUIRE(r2->ok());
  std::vector<int> all = r1->value().applied;
  all.insert(all.end(), r2->value().applied.begin(), r2->value().applied.end());
  std::sort(all.begin(), all.end());
  // A named vector: g++ 12 -O2 warns falsely (free-nonheap-object) on a temporary here.
  const std::vector<int> expected{1, 2};
  CHECK(all == expected);
  CHECK(r1->value().version == 2);
  CHECK(r2->value().version == 2);
  CHECK(count(t.dsn(), "SELECT count(*) FROM schema_migrations") == 2);
}

TEST_CASE("a database newer than the known migrations is refused, naming both versions") {
  testing::TestCluster t;
  REQUIRE(migrate(t.dsn(), builtin_migrations()).ok());
  {
    pqxx::connection c(t.dsn());
    pqxx::work tx(c);
    tx.exec("INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')");
    tx.commit();
  }
  auto result = migrate(t.dsn(), builtin_migrations());
  REQUIRE_FALSE(result.ok());
  const std::string newest = std::to_string(builtin_migrations().back().version);
  CHECK_THAT(result.error().message,
             Catch::Contains("9999") && Catch::Contains(newest) && Catch::Contains("newer"));
}

TEST_CASE("an unreachable database is an error value") {
  auto result =
      migrate("host=/nonexistent-acd-dir dbname=acd connect_timeout=2", builtin_migrations());
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.error().message, Catch::Contains("migrating the database failed"));
}

}  // namespace
}  // namespace acd::store
