#include "engine/store/config_watcher.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>

#include "engine/store/test_cluster_util.h"

namespace acd::store {
namespace {

using namespace std::chrono_literals;

// Collects the watcher's reports; tests wait for them with a generous timeout.
class Changes {
 public:
  void add(const ConfigChangeNotice& c) {
    std::lock_guard lock(mutex_);
    changes_.push_back(c);
    cv_.notify_all();
  }
  void listening() {
    std::lock_guard lock(mutex_);
    ++listening_;
    cv_.notify_all();
  }
  bool wait(const std::function<bool(const std::vector<ConfigChangeNotice>&, int)>& done) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, 60s, [&] { return done(changes_, listening_); });
  }
  std::vector<ConfigChangeNotice> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(changes_, {});
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<ConfigChangeNotice> changes_;
  int listening_ = 0;
};

void notify(const std::string& dsn, const std::vector<std::string>& payloads) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  for (const auto& p : payloads) tx.exec("SELECT pg_notify('acd_config', " + tx.quote(p) + ")");
  tx.commit();
}

TEST_CASE("payloads name their tenant", "[config][watcher]") {
  CHECK(tenant_of_payload(R"({"table":"agents","tenant":12,"id":3,"op":"UPDATE"})") == 12);
  CHECK(tenant_of_payload(R"({"table":"tenants","tenant": 7})") == 7);
  CHECK_FALSE(tenant_of_payload(R"({"table":"x"})"));
  CHECK_FALSE(tenant_of_payload(R"({"tenant":null})"));
}

TEST_CASE("changes are heard, batched, and a reconnect asks for a full resync",
          "[config][watcher]") {
  testing::TestCluster t;
  Changes changes;
  ConfigWatcherOptions options;
  options.dsn = t.dsn();
  options.debounce = 100ms;
  options.retry_min = 20ms;
  options.retry_max = 200ms;
  options.on_change = [&](const ConfigChangeNotice& c) { changes.add(c); };
  options.on_listening = [&] { changes.listening(); };
  ConfigWatcher watcher(options);
  REQUIRE(watcher.start().ok());
  // The first connect: listening, then a full resync.
  REQUIRE(changes.wait([](const auto& c, int listening) {
    return listening == 1 && c.size() == 1 && c[0].full_resync;
  }));
  changes.take();

  // One transaction touching two tenants: one change naming both.
  notify(t.dsn(), {R"({"table":"agents","tenant":5,"id":1,"op":"UPDATE"})",
                   R"({"table":"queues","tenant":6,"id":2,"op":"INSERT"})",
                   R"({"table":"agents","tenant":5,"id":3,"op":"DELETE"})"});
  REQUIRE(changes.wait([](const auto& c, int) { return !c.empty(); }));
  auto got = changes.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].tenants == std::set<std::int64_t>{5, 6});
  CHECK_FALSE(got[0].full_resync);

  // The server goes away and comes back: the watcher reconnects and resyncs.
  REQUIRE(t.cluster().stop().ok());
  EmbeddedClusterOptions again;
  again.dir = t.root() / "pg";
  auto restarted = EmbeddedCluster::start(again);
  REQUIRE(restarted.ok());
  REQUIRE(changes.wait([](const auto& c, int listening) {
    return listening == 2 && !c.empty() && c.back().full_resync;
  }));
  changes.take();
  notify(t.dsn(), {R"({"table":"skills","tenant":9,"id":1,"op":"INSERT"})"});
  REQUIRE(changes.wait([](const auto& c, int) { return !c.empty(); }));
  CHECK(changes.take()[0].tenants == std::set<std::int64_t>{9});
  watcher.stop();
  REQUIRE((*restarted)->stop().ok());
}

}  // namespace
}  // namespace acd::store
