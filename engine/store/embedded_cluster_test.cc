#include "engine/store/embedded_cluster.h"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "engine/store/test_cluster_util.h"

namespace acd::store {
namespace {

std::string query_one(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  return tx.exec(sql)[0][0].c_str();
}

TEST_CASE("the newest PostgreSQL binaries are found") {
  auto bin = find_postgres_bin_dir();
  REQUIRE(bin.ok());
  CHECK(std::filesystem::exists(bin.value() / "initdb"));
  CHECK(std::filesystem::exists(bin.value() / "pg_ctl"));
}

TEST_CASE("an embedded cluster serves the acd database on a unix socket only") {
  testing::TestCluster t;
  CHECK(t.cluster().owns_server());
  CHECK(query_one(t.dsn(), "SELECT current_database()") == "acd");
  CHECK(query_one(t.dsn(), "SHOW listen_addresses").empty());
  CHECK(query_one(t.dsn(), "SHOW unix_socket_directories") == t.cluster().dir().string());
  CHECK(std::filesystem::exists(t.cluster().dir() / ".s.PGSQL.5432"));
}

TEST_CASE("an embedded cluster keeps its data across restarts and shares a running server") {
  testing::TestCluster t;
  {
    pqxx::connection c(t.dsn());
    pqxx::work tx(c);
    tx.exec("CREATE TABLE kept (x int)");
    tx.exec("INSERT INTO kept VALUES (42)");
    tx.commit();
  }
  SECTION("a second start while it runs uses it and leaves it running") {
    EmbeddedClusterOptions options;
    options.dir = t.cluster().dir();
    auto second = EmbeddedCluster::start(options);
    REQUIRE(second.ok());
    CHECK_FALSE(second.value()->owns_server());
    REQUIRE(second.value()->stop().ok());
    CHECK(query_one(t.dsn(), "SELECT x FROM kept") == "42");
  }
  SECTION("stopped and started again, the data is still there") {
    REQUIRE(t.cluster().stop().ok());
    EmbeddedClusterOptions options;
    options.dir = t.cluster().dir();
    auto again = EmbeddedCluster::start(options);
    REQUIRE(again.ok());
    CHECK(again.value()->owns_server());
    CHECK(query_one(again.value()->dsn(), "SELECT x FROM kept") == "42");
    REQUIRE(again.value()->stop().ok());
  }
}

TEST_CASE("a cluster directory too long for a unix socket is refused with a clear error") {
  EmbeddedClusterOptions options;
  options.dir = "/tmp/" + std::string(120, 'x');
  auto started = EmbeddedCluster::start(options);
  REQUIRE_FALSE(started.ok());
  CHECK_THAT(started.error().message, Catch::Contains("too long for a unix socket"));
}

}  // namespace
}  // namespace acd::store
