// The configuration in the database against a real PostgreSQL (a throwaway embedded
// cluster per test case): apply, diff, export, load, notifications, secrets.
#include "engine/app/config_db.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <vector>

#include "engine/app/config_cli.h"
#include "engine/common/digest.h"
#include "engine/store/migrator.h"
#include "engine/store/test_cluster_util.h"

namespace acd::app {
namespace {

class MigratedCluster {
 public:
  MigratedCluster() {
    auto migrated = store::migrate(cluster_.dsn(), store::builtin_migrations());
    if (!migrated) FAIL(migrated.error().message);
  }
  const std::string& dsn() const { return cluster_.dsn(); }
  const std::filesystem::path& root() const { return cluster_.root(); }

 private:
  store::testing::TestCluster cluster_;
};

// Files of tenants only, checked as `acdd config apply` checks them: against the
// music-on-hold classes of a daemon file that defines "jazz" (kSmall's sales names it).
DaemonConfig parse(const std::string& text) {
  NameRegistry registry;
  LoadOptions options;
  options.music_on_hold_classes = std::vector<std::string>{"default", "jazz"};
  auto loaded = load_config_text(text, "test.yaml", registry, options);
  if (!loaded.ok()) {
    for (const auto& e : loaded.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(loaded.ok());
  return std::move(loaded).value();
}

DaemonConfig example() {
  NameRegistry registry;
  auto loaded = load_config_file(ACD_EXAMPLE_CONFIG, registry);
  REQUIRE(loaded.ok());
  return std::move(loaded).value();
}

ApplyReport apply_file(const std::string& dsn, const DaemonConfig& config, bool prune = false) {
  ApplyOptions options;
  options.prune = prune;
  auto applied = apply_config(dsn, config, options);
  if (!applied) FAIL(applied.error());
  return std::move(applied).value();
}

std::vector<std::string> diff(const std::string& dsn, const DaemonConfig& config,
                              bool prune = false) {
  auto d = diff_config(dsn, config, prune);
  if (!d) FAIL(d.error());
  return std::move(d).value();
}

std::string query1(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  auto r = tx.exec(sql);
  REQUIRE(r.size() == 1);
  return r[0][0].is_null() ? "NULL" : r[0][0].c_str();
}

// Collects the payloads on 'acd_config' until the sentinel NOTIFY sent by until_now(),
// which arrives after every notification committed before it: no sleeping, no guessing.
class Listener : public pqxx::notification_receiver {
 public:
  explicit Listener(pqxx::connection& c) : pqxx::notification_receiver(c, "acd_config") {}
  void operator()(const std::string& payload, int) override {
    if (payload == "sentinel") {
      done_ = true;
    } else {
      payloads_.push_back(payload);
    }
  }
  std::vector<std::string> until_now(const std::string& dsn) {
    {
      pqxx::connection c(dsn);
      pqxx::nontransaction tx(c);
      tx.exec("NOTIFY acd_config, 'sentinel'");
    }
    done_ = false;
    for (int i = 0; i < 300 && !done_; ++i) conn().await_notification(1, 0);
    REQUIRE(done_);
    return std::exchange(payloads_, {});
  }

 private:
  bool done_ = false;
  std::vector<std::string> payloads_;
};

const char* const kSmall = R"(
tenants:
  - name: t1
    skills: [english, french]
    teams:
      - name: crew
    agents:
      - {name: bob, extension: "11", team: crew, skills: {english: 5}}
      - {name: ann, extension: "10", team: crew, skills: {english: 7, french: 3},
         sip: {username: ann, password: "ann's secret phone password"}}
    queues:
      - name: sales
        strategy: longest-idle
        ring_timeout: 15s
        music_on_hold: jazz
        breakout:
          prompt: sales-breakout
          keys: {"1": {voicemail: sales-box}, "#": {callback: "caller asked"}}
        required_skills: [{skill: english, min_level: 3}]
        members: [{agent: ann}, {agent: bob, tier: 2}]
    users:
      - name: boss
        roles: [supervisor]
        agent: ann
        tokens: [{name: api, token: "plaintext-token-0123456789"}]
    trunks:
      - name: carrier
        allowed_sources: [192.0.2.0/24]
        auth: {username: t1-carrier, password: "trunk secret password"}
        dids: [{number: "+15550100", queue: sales}]
)";

TEST_CASE("config db: the example applies to an empty database, idempotently", "[config_db]") {
  MigratedCluster db;
  auto has = has_configuration(db.dsn());
  REQUIRE(has.ok());
  CHECK_FALSE(has.value());

  const DaemonConfig file = example();
  auto first = apply_file(db.dsn(), file);
  CHECK(first.rows_written > 50);
  CHECK(std::find(first.diff.begin(), first.diff.end(), "+ agent acme/alice") != first.diff.end());
  CHECK(query1(db.dsn(), "SELECT count(*) FROM agents") == "15");
  CHECK(query1(db.dsn(), "SELECT count(*) FROM queue_members") == "25");
  CHECK(query1(db.dsn(), "SELECT count(*) FROM dids") == "4");
  CHECK(has_configuration(db.dsn()).value());

  CHECK(diff(db.dsn(), file).empty());

  // A second apply writes nothing: no notification, no row version changes.
  const std::string xmins =
      query1(db.dsn(), "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM agents");
  pqxx::connection c(db.dsn());
  Listener listener(c);
  auto second = apply_file(db.dsn(), file);
  CHECK(second.diff.empty());
  CHECK(second.rows_written == 0);
  CHECK(listener.until_now(db.dsn()).empty());
  CHECK(query1(db.dsn(), "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM agents") == xmins);
}

TEST_CASE("config db: the diff names entities and fields, in a stable order", "[config_db]") {
  MigratedCluster db;
  apply_file(db.dsn(), parse(kSmall));
  std::string changed = kSmall;
  auto replace = [&](const std::string& from, const std::string& to) {
    auto at = changed.find(from);
    REQUIRE(at != std::string::npos);
    changed.replace(at, from.size(), to);
  };
  replace("strategy: longest-idle\n        ring_timeout: 15s",
          "strategy: ring-all\n        ring_timeout: 12s");
  replace("      - {name: bob, extension: \"11\", team: crew, skills: {english: 5}}\n",
          "      - {name: zoe, extension: \"12\", skills: {english: 5}}\n");
  replace("{agent: bob, tier: 2}", "{agent: zoe, tier: 2}");
  replace("skills: [english, french]", "skills: [english]");
  replace("skills: {english: 7, french: 3},", "skills: {english: 8},");
  const std::vector<std::string> expected = {
      "- skill t1/french",
      "~ agent t1/ann: skill english: level 7 -> 8; - skill french",
      "- agent t1/bob",
      "+ agent t1/zoe",
      "~ queue t1/sales: strategy longest-idle -> ring-all; ring_timeout 15s -> 12s; members "
      "order ann, bob -> ann, zoe; + member zoe; - member bob",
  };
  const DaemonConfig file = parse(changed);
  CHECK(diff(db.dsn(), file) == expected);
  CHECK(apply_file(db.dsn(), file).diff == expected);
  CHECK(diff(db.dsn(), file).empty());
  CHECK(query1(db.dsn(), "SELECT count(*) FROM skills") == "1");
}

TEST_CASE("config db: one changed field updates its row in place and notifies once",
          "[config_db]") {
  MigratedCluster db;
  apply_file(db.dsn(), parse(kSmall));
  const std::string tenant_id = query1(db.dsn(), "SELECT id FROM tenants WHERE name = 't1'");
  const std::string queue_id = query1(db.dsn(), "SELECT id FROM queues WHERE name = 'sales'");
  std::string changed = kSmall;
  changed.replace(changed.find("ring_timeout: 15s"), 17, "ring_timeout: 20s");

  pqxx::connection c(db.dsn());
  Listener listener(c);
  auto report = apply_file(db.dsn(), parse(changed));
  CHECK(report.diff == std::vector<std::string>{"~ queue t1/sales: ring_timeout 15s -> 20s"});
  CHECK(report.rows_written == 1);
  CHECK(listener.until_now(db.dsn()) ==
        std::vector<std::string>{"{\"table\":\"queues\",\"tenant\":" + tenant_id +
                                 ",\"id\":" + queue_id + ",\"op\":\"UPDATE\"}"});
  CHECK(query1(db.dsn(), "SELECT id FROM queues WHERE name = 'sales'") == queue_id);
  CHECK(query1(db.dsn(), "SELECT ring_timeout_ms FROM queues WHERE name = 'sales'") == "20000");
}

TEST_CASE("config db: export round-trips through apply", "[config_db]") {
  MigratedCluster db;
  const DaemonConfig file = example();
  apply_file(db.dsn(), file);
  apply_file(db.dsn(), parse(kSmall));  // a third tenant with secrets given in plaintext
  auto exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  INFO(exported.value());
  const DaemonConfig again = parse(exported.value());
  CHECK(again.tenants.size() == 3);
  CHECK(diff(db.dsn(), again).empty());
  CHECK(diff_configs(again, file, false).empty());
  CHECK(apply_file(db.dsn(), again).rows_written == 0);

  // music_on_hold is stored, exported (only when set) and loaded.
  CHECK(query1(db.dsn(),
               "SELECT music_on_hold FROM queues WHERE name = 'sales' AND tenant_id = "
               "(SELECT id FROM tenants WHERE name = 't1')") == "jazz");
  CHECK(query1(db.dsn(), "SELECT count(*) FROM queues WHERE music_on_hold = ''") == "4");
  CHECK(exported->find("music_on_hold: jazz") != std::string::npos);
  CHECK(exported->find("music_on_hold: \"\"") == std::string::npos);
  // Breakout keys travel in the exits column and come back in the export.
  CHECK(query1(db.dsn(),
               "SELECT exits->'breakout'->'keys'->'1'->>'voicemail' FROM queues WHERE name = "
               "'sales' AND tenant_id = (SELECT id FROM tenants WHERE name = 't1')") ==
        "sales-box");
  CHECK(exported->find("breakout:") != std::string::npos);

  auto one = export_config(db.dsn(), std::string("globex"));
  REQUIRE(one.ok());
  CHECK(parse(one.value()).tenants.size() == 1);
  CHECK_FALSE(export_config(db.dsn(), std::string("nobody")).ok());

  // Loading from the database: all tenants, or some by name or id.
  NameRegistry registry;
  auto all = load_config_from_database(db.dsn(), registry);
  REQUIRE(all.ok());
  CHECK(all->domain.agents.size() == 15 + 2);
  const std::int64_t globex_id =
      std::stoll(query1(db.dsn(), "SELECT id FROM tenants WHERE name = 'globex'"));
  TenantSelection some;
  some.ids = {globex_id};
  some.names = {"t1"};
  auto partial = load_config_from_database(db.dsn(), registry, some);
  REQUIRE(partial.ok());
  REQUIRE(partial->tenants.size() == 2);
  CHECK(partial->tenants[0].name == "globex");
  // Ids stay with their names across loads.
  CHECK(*registry.find_tenant("globex") == partial->tenants[0].id);
  // The database's classes are the daemon file's: not checked unless given.
  const auto& queues = all->domain.queues;
  const auto jazz = std::find_if(queues.begin(), queues.end(),
                                 [](const auto& q) { return q.music_on_hold == "jazz"; });
  REQUIRE(jazz != queues.end());
  CHECK(jazz->name == "sales");
  CHECK(jazz->breakout_prompt == "sales-breakout");
  REQUIRE(jazz->breakout.size() == 2);
  CHECK(jazz->breakout[0].first == '#');
  CHECK(jazz->breakout[0].second.kind == core::ExitDestination::Kind::kCallback);
  CHECK(jazz->breakout[0].second.target == "caller asked");
  CHECK(jazz->tenant == *registry.find_tenant("t1"));
  CHECK(std::count_if(queues.begin(), queues.end(),
                      [](const auto& q) { return q.music_on_hold.empty(); }) == 4);
  LoadOptions checked;
  checked.music_on_hold_classes = std::vector<std::string>{"default"};
  auto refused = load_config_from_database(db.dsn(), registry, {}, checked);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().front().to_string(),
             Catch::Contains("music_on_hold: unknown music-on-hold class \"jazz\""));

  // A changed class shows in the diff and updates the row.
  std::string changed = kSmall;
  changed.replace(changed.find("music_on_hold: jazz"), 19, "music_on_hold: default");
  const DaemonConfig with_default = parse(changed);
  const std::vector<std::string> expected = {"~ queue t1/sales: music_on_hold jazz -> default"};
  CHECK(diff(db.dsn(), with_default) == expected);
  CHECK(apply_file(db.dsn(), with_default).rows_written == 1);
  changed.replace(changed.find("        music_on_hold: default\n"), 31, "");
  CHECK(diff(db.dsn(), parse(changed)) ==
        std::vector<std::string>{"~ queue t1/sales: music_on_hold default -> (first class)"});
}

TEST_CASE("config db: tenants not in the file stay unless pruned", "[config_db]") {
  MigratedCluster db;
  apply_file(db.dsn(), example());
  const DaemonConfig only_t1 = parse(kSmall);
  apply_file(db.dsn(), only_t1);
  CHECK(query1(db.dsn(), "SELECT count(*) FROM tenants") == "3");
  CHECK(diff(db.dsn(), only_t1, true) ==
        std::vector<std::string>{"- tenant acme", "- tenant globex"});
  apply_file(db.dsn(), only_t1, true);
  CHECK(query1(db.dsn(), "SELECT string_agg(name, ',') FROM tenants") == "t1");
  CHECK(query1(db.dsn(), "SELECT count(*) FROM agents") == "2");
}

TEST_CASE("config db: secrets are stored only as hashes", "[config_db]") {
  MigratedCluster db;
  const DaemonConfig file = parse(kSmall);
  CHECK(file.warnings.size() == 3);  // the token and both passwords
  apply_file(db.dsn(), file);
  for (const char* table : {"tenants", "agents", "users", "api_tokens", "trunks", "dids"}) {
    INFO(table);
    for (const char* secret : {"plaintext-token", "secret phone", "trunk secret"}) {
      CHECK(query1(db.dsn(), std::string("SELECT count(*) FROM ") + table +
                                 " x WHERE to_jsonb(x)::text LIKE '%" + secret + "%'") == "0");
    }
  }
  CHECK(query1(db.dsn(), "SELECT sip_ha1 FROM agents WHERE name = 'ann'") ==
        sip_ha1("ann", "t1", "ann's secret phone password"));
  CHECK(query1(db.dsn(), "SELECT auth_ha1 FROM trunks") ==
        sip_ha1("t1-carrier", "t1", "trunk secret password"));
  CHECK(query1(db.dsn(), "SELECT sha256 FROM api_tokens") ==
        sha256_hex("plaintext-token-0123456789"));
  auto exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  CHECK(exported->find("secret") == std::string::npos);
  CHECK(exported->find("plaintext") == std::string::npos);
}

TEST_CASE("config db: the schema refuses references across tenants", "[config_db]") {
  MigratedCluster db;
  apply_file(db.dsn(), example());
  pqxx::connection c(db.dsn());
  pqxx::work tx(c);
  CHECK_THROWS_AS(tx.exec("INSERT INTO queue_members (tenant_id, queue_id, agent_id) "
                          "SELECT q.tenant_id, q.id, a.id FROM queues q, agents a "
                          "WHERE q.name = 'helpdesk' AND a.name = 'alice'"),
                  pqxx::foreign_key_violation);
}

TEST_CASE("config db: a broken file is refused with its lines, the database untouched",
          "[config_db]") {
  MigratedCluster db;
  const auto daemon = db.root() / "daemon.yaml";
  const auto broken = db.root() / "broken.yaml";
  std::ofstream(daemon) << "database:\n  dsn: \"" << db.dsn()
                        << "\"\nsip:\n  media:\n    music_on_hold: [{name: jazz, path: \""
                        << db.root().string() << "\"}]\ntenants: []\n";
  std::ofstream(broken) << "tenants:\n"
                           "  - name: t1\n"
                           "    queues: [{name: q}]\n"
                           "    trunks:\n"
                           "      - name: c\n"
                           "        dids: [{number: \"100\", queue: nowhere}]\n";
  const std::string daemon_path = daemon.string(), broken_path = broken.string();
  const char* args[] = {"apply", broken_path.c_str(), "--config", daemon_path.c_str(), "--yes"};
  std::istringstream in;
  std::ostringstream out, err;
  CHECK(run_config_command(5, args, in, out, err, false) == 2);
  CHECK_THAT(err.str(),
             Catch::Contains(broken_path + ":6:39: tenants[0].trunks[0].dids[0].queue: "
                                           "unknown queue \"nowhere\" in tenant \"t1\""));
  CHECK(query1(db.dsn(), "SELECT count(*) FROM tenants") == "0");

  // A queue's music_on_hold must name a class of the daemon file.
  std::ofstream(broken, std::ios::trunc) << "tenants:\n"
                                            "  - name: t1\n"
                                            "    queues: [{name: q, music_on_hold: blues}]\n";
  std::ostringstream out1, err1;
  CHECK(run_config_command(5, args, in, out1, err1, false) == 2);
  CHECK_THAT(err1.str(),
             Catch::Contains(broken_path + ":3:39: tenants[0].queues[0].music_on_hold: unknown "
                                           "music-on-hold class \"blues\"; expected one of the "
                                           "classes of the daemon file's "
                                           "sip.media.music_on_hold: jazz"));
  CHECK(query1(db.dsn(), "SELECT count(*) FROM tenants") == "0");

  // Without a terminal and without --yes, apply refuses.
  std::ofstream(broken, std::ios::trunc) << kSmall;
  const char* no_yes[] = {"apply", broken_path.c_str(), "--config", daemon_path.c_str()};
  std::ostringstream out2, err2;
  CHECK(run_config_command(4, no_yes, in, out2, err2, false) == 1);
  CHECK_THAT(err2.str(), Catch::Contains("--yes"));
  CHECK_THAT(out2.str(), Catch::Contains("+ tenant t1"));
  CHECK(query1(db.dsn(), "SELECT count(*) FROM tenants") == "0");

  // On a terminal, "y" applies.
  std::istringstream yes("y\n");
  std::ostringstream out3, err3;
  CHECK(run_config_command(4, no_yes, yes, out3, err3, true) == 0);
  CHECK(query1(db.dsn(), "SELECT count(*) FROM tenants") == "1");
}

const char* const kSipSettings = R"(
tenants:
  - name: s1
    transfer: {allow_external: true}
    outbound_trunk: out
    queues: [{name: q}]
    agents:
      - {name: ann, extension: "10", sip: {contact: "sip:10@127.0.0.1:5070"}}
      - {name: bob, extension: "11", sip: {username: bob, password: "bob's phone password",
                                            contact: "sips:bob@phones.example;transport=tls"}}
      - {name: cid, extension: "12"}
    trunks:
      - name: in
        allowed_sources: [127.0.0.0/8]
        dids: [{number: "100", queue: q, priority: 10, vip_level: 3}, {number: "200", queue: q}]
      - name: out
        outbound: "sip:carrier.example.com:5060;transport=udp"
        dids: [{number: "300", queue: q, priority: -1000}]
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

TEST_CASE("config db: the SIP settings apply, diff, export and load", "[config_db][sip]") {
  MigratedCluster db;
  const DaemonConfig file = parse(kSipSettings);
  // The outbound trunk is new in the same apply as its tenant: written once it exists.
  apply_file(db.dsn(), file);
  CHECK(query1(db.dsn(),
               "SELECT t.allow_external_transfer::text || ' ' || tr.name FROM tenants t "
               "JOIN trunks tr ON tr.id = t.outbound_trunk_id") == "true out");
  CHECK(query1(db.dsn(),
               "SELECT string_agg(coalesce(sip_contact, '-'), ',' ORDER BY id) "
               "FROM agents") == "sip:10@127.0.0.1:5070,sips:bob@phones.example;transport=tls,-");
  CHECK(query1(db.dsn(), "SELECT count(*) FROM agents WHERE sip_username IS NULL") == "2");
  CHECK(query1(db.dsn(),
               "SELECT string_agg(name || '=' || outbound_uri, ',' ORDER BY id) "
               "FROM trunks") == "in=,out=sip:carrier.example.com:5060;transport=udp");
  CHECK(query1(db.dsn(),
               "SELECT string_agg(number || ':' || priority || ':' || vip_level, ',' "
               "ORDER BY id) FROM dids") == "100:10:3,200:0:0,300:-1000:0");
  CHECK(diff(db.dsn(), file).empty());
  CHECK(apply_file(db.dsn(), file).rows_written == 0);

  // Export and load round-trip exactly.
  auto exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  INFO(exported.value());
  const DaemonConfig again = parse(exported.value());
  CHECK(diff_configs(again, file, false).empty());
  CHECK(diff(db.dsn(), again).empty());
  NameRegistry registry;
  auto loaded = load_config_from_database(db.dsn(), registry);
  REQUIRE(loaded.ok());
  const TenantSettings& t = loaded->tenants[0];
  CHECK(t.allow_external_transfer);
  CHECK(t.outbound_trunk == "out");
  REQUIRE(t.agent_sip.size() == 2);
  CHECK_FALSE(t.agent_sip[0].credentials.has_value());
  CHECK(t.agent_sip[0].contact == "sip:10@127.0.0.1:5070");
  REQUIRE(t.agent_sip[1].credentials.has_value());
  CHECK(t.agent_sip[1].credentials->ha1 == sip_ha1("bob", "s1", "bob's phone password"));
  CHECK(t.agent_sip[1].contact == "sips:bob@phones.example;transport=tls");
  REQUIRE(t.trunks.size() == 2);
  CHECK(t.trunks[1].outbound_uri == "sip:carrier.example.com:5060;transport=udp");
  CHECK(t.trunks[0].dids[0].priority == 10);
  CHECK(t.trunks[0].dids[0].vip_level == 3);
  CHECK(t.trunks[1].dids[0].priority == -1000);

  // Each field shows in the diff and updates its row in place.
  std::string changed = kSipSettings;
  changed = replaced(changed, "    transfer: {allow_external: true}\n", "");
  changed = replaced(changed, "priority: 10, vip_level: 3", "priority: 5");
  changed = replaced(changed, "sip: {contact: \"sip:10@127.0.0.1:5070\"}",
                     "sip: {contact: \"sip:10@127.0.0.1:5072\"}");
  changed = replaced(changed, "      - {name: cid, extension: \"12\"}",
                     "      - {name: cid, extension: \"12\", sip: {contact: \"sip:cid@[::1]\"}}");
  changed =
      replaced(changed, "- name: in\n", "- name: in\n        outbound: \"sip:127.0.0.1:5080\"\n");
  changed = replaced(changed, "outbound_trunk: out", "outbound_trunk: in");
  const std::string agents_id =
      query1(db.dsn(), "SELECT string_agg(id::text, ',' ORDER BY id) FROM agents");
  const DaemonConfig second = parse(changed);
  const std::vector<std::string> expected = {
      "~ tenant s1: transfer.allow_external true -> false; outbound_trunk out -> in",
      "~ agent s1/ann: sip.contact sip:10@127.0.0.1:5070 -> sip:10@127.0.0.1:5072",
      "~ agent s1/cid: sip.contact (none) -> sip:cid@[::1]",
      "~ trunk s1/in: outbound (none) -> sip:127.0.0.1:5080; did 100: priority 10 -> 5, vip_level "
      "3 -> 0",
  };
  CHECK(diff(db.dsn(), second) == expected);
  CHECK(apply_file(db.dsn(), second).diff == expected);
  CHECK(diff(db.dsn(), second).empty());
  CHECK(query1(db.dsn(), "SELECT string_agg(id::text, ',' ORDER BY id) FROM agents") == agents_id);
  CHECK(query1(db.dsn(),
               "SELECT tr.name FROM tenants t JOIN trunks tr ON tr.id = "
               "t.outbound_trunk_id") == "in");

  // The outbound trunk removed with its trunk, in one apply; then the tenant pruned.
  std::string third = replaced(changed, "    outbound_trunk: in\n", "");
  third = replaced(third,
                   "      - name: in\n        outbound: \"sip:127.0.0.1:5080\"\n"
                   "        allowed_sources: [127.0.0.0/8]\n"
                   "        dids: [{number: \"100\", queue: q, priority: 5}, "
                   "{number: \"200\", queue: q}]\n",
                   "");
  const DaemonConfig without = parse(third);
  CHECK(diff(db.dsn(), without) ==
        std::vector<std::string>{"~ tenant s1: outbound_trunk in -> (none)", "- trunk s1/in"});
  apply_file(db.dsn(), without);
  CHECK(query1(db.dsn(), "SELECT outbound_trunk_id FROM tenants") == "NULL");
  CHECK(diff(db.dsn(), without).empty());
  apply_file(db.dsn(), second);  // back, then pruned with the tenant's trunks
  apply_file(db.dsn(), parse("tenants: [{name: other}]\n"), true);
  CHECK(query1(db.dsn(), "SELECT string_agg(name, ',') FROM tenants") == "other");
  CHECK(query1(db.dsn(), "SELECT count(*) FROM trunks") == "0");
}

TEST_CASE("config db: the schema checks the SIP settings", "[config_db][sip]") {
  MigratedCluster db;
  apply_file(db.dsn(), parse(kSipSettings));
  apply_file(db.dsn(), example());
  auto refused = [&](const std::string& sql) {
    pqxx::connection c(db.dsn());
    pqxx::work tx(c);
    try {
      tx.exec(sql);
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(refused("UPDATE dids SET priority = 1001 WHERE number = '100'"),
             Catch::Contains("dids_priority_check"));
  CHECK_THAT(refused("UPDATE dids SET vip_level = -1 WHERE number = '100'"),
             Catch::Contains("dids_vip_level_check"));
  CHECK_THAT(refused("UPDATE trunks SET outbound_uri = 'http://x' WHERE name = 'in'"),
             Catch::Contains("trunks_outbound_uri_check"));
  CHECK_THAT(refused("UPDATE agents SET sip_contact = 'sip: x' WHERE name = 'ann'"),
             Catch::Contains("agents_sip_contact_check"));
  // A tenant's outbound trunk is one of its own trunks.
  CHECK_THAT(refused("UPDATE tenants SET outbound_trunk_id = (SELECT id FROM trunks WHERE name "
                     "= 'carrier') WHERE name = 's1'"),
             Catch::Contains("tenants_outbound_trunk"));

  // What the schema lets through, the loader still checks: a bad URI written by hand
  // makes the database's configuration fail to load, located.
  CHECK(refused("UPDATE trunks SET outbound_uri = 'sip:carrier.example.com:0' WHERE name = "
                "'out'")
            .empty());
  NameRegistry registry;
  auto loaded = load_config_from_database(db.dsn(), registry);
  REQUIRE_FALSE(loaded.ok());
  CHECK_THAT(loaded.error().front().to_string(),
             Catch::Contains("tenants[0].trunks[1].outbound: invalid SIP URI "
                             "\"sip:carrier.example.com:0\""));
}

TEST_CASE("config db: agents' capacity applies, diffs, exports and loads", "[config_db]") {
  MigratedCluster db;
  const std::string ann_before = "skills: {english: 7, french: 3},\n";
  const std::string with_capacity = replaced(
      kSmall, ann_before, ann_before + "         capacity: {chat: 3, email: 2, sms: 0},\n");
  const DaemonConfig file = parse(with_capacity);
  apply_file(db.dsn(), file);
  const auto stored = [&](const char* agent) {
    return query1(db.dsn(),
                  std::string("SELECT capacity::text FROM agents WHERE name = '") + agent + "'");
  };
  // Only the channels that differ from the default are stored.
  CHECK(stored("ann") == "{\"sms\": 0, \"chat\": 3, \"email\": 2}");
  CHECK(stored("bob") == "{}");
  CHECK(diff(db.dsn(), file).empty());
  CHECK(apply_file(db.dsn(), file).rows_written == 0);

  // Exported only where it differs, in the channels' order; the export loads back equal.
  auto exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  INFO(exported.value());
  CHECK(exported->find("capacity: {chat: 3, email: 2, sms: 0}") != std::string::npos);
  CHECK(exported->find("capacity:") == exported->rfind("capacity:"));  // bob has none
  const DaemonConfig again = parse(exported.value());
  CHECK(diff_configs(again, file, false).empty());
  CHECK(diff(db.dsn(), again).empty());
  NameRegistry registry;
  auto loaded = load_config_from_database(db.dsn(), registry);
  REQUIRE(loaded.ok());
  const auto& agents = loaded->domain.agents;
  auto capacity_of = [&](const std::string& name) {
    auto it =
        std::find_if(agents.begin(), agents.end(), [&](const auto& a) { return a.name == name; });
    REQUIRE(it != agents.end());
    return it->capacity;
  };
  CHECK(capacity_of("ann") == core::ChannelCapacity{3, 2, 0, 1, 1});
  CHECK(capacity_of("bob") == core::kDefaultCapacity);

  // A change shows in the diff and updates the agent's row in place.
  std::string changed = replaced(with_capacity, "capacity: {chat: 3, email: 2, sms: 0}",
                                 "capacity: {chat: 4, email: 2}");
  changed = replaced(changed, "team: crew, skills: {english: 5}}",
                     "team: crew, skills: {english: 5}, capacity: {web-form: 0, chat: 1}}");
  const std::vector<std::string> expected = {
      "~ agent t1/ann: capacity chat 3, email 2, sms 0 -> chat 4, email 2",
      "~ agent t1/bob: capacity (1 of each channel) -> web-form 0",
  };
  CHECK(diff(db.dsn(), parse(changed)) == expected);
  const ApplyReport report = apply_file(db.dsn(), parse(changed));
  CHECK(report.diff == expected);
  CHECK(report.rows_written == 2);
  CHECK(stored("ann") == "{\"chat\": 4, \"email\": 2}");
  CHECK(stored("bob") == "{\"web-form\": 0}");

  // Back to the default: nothing stored, nothing exported.
  apply_file(db.dsn(), parse(kSmall));
  CHECK(stored("ann") == "{}");
  CHECK(stored("bob") == "{}");
  exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  CHECK(exported->find("capacity") == std::string::npos);
}

TEST_CASE("config db: the schema checks agents' capacity", "[config_db]") {
  MigratedCluster db;
  apply_file(db.dsn(), parse(kSmall));
  auto set = [&](const std::string& json) {
    pqxx::connection c(db.dsn());
    pqxx::work tx(c);
    try {
      tx.exec("UPDATE agents SET capacity = " + tx.quote(json) + " WHERE name = 'ann'");
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  for (const char* bad : {R"({"voice": 1})", R"({"chat": 33})", R"({"chat": -1})",
                          R"({"chat": 2.5})", R"({"chat": "3"})", R"({"chat": null})",
                          R"({"chat": [3]})", R"([1])", R"(3)", R"({"Chat": 1})"}) {
    INFO(bad);
    CHECK_THAT(set(bad), Catch::Contains("agents_capacity_check"));
  }
  CHECK(set(R"({"chat": 32, "email": 0, "sms": 5, "web-form": 1, "callback": 10})").empty());
  // A value of 1 written by hand is the default: not exported, loaded as 1.
  CHECK(set(R"({"chat": 1, "sms": 0})").empty());
  auto exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  CHECK(exported->find("capacity: {sms: 0}") != std::string::npos);
  NameRegistry registry;
  auto loaded = load_config_from_database(db.dsn(), registry);
  REQUIRE(loaded.ok());
  for (const auto& a : loaded->domain.agents) {
    INFO(a.name);
    CHECK(a.capacity ==
          (a.name == "ann" ? core::ChannelCapacity{1, 1, 0, 1, 1} : core::kDefaultCapacity));
  }
}

// kSmall with languages and attributes for ann and routing rules for sales.
std::string with_rules() {
  std::string text = replaced(kSmall, "skills: {english: 7, french: 3},\n",
                              "skills: {english: 7, french: 3},\n"
                              "         languages: [fr, en], attributes: {site: paris, level: "
                              "senior, quote: \"it's \\\"odd\\\": #1\"},\n");
  return replaced(text, "        members: [{agent: ann}, {agent: bob, tier: 2}]\n",
                  "        members: [{agent: ann}, {agent: bob, tier: 2}]\n"
                  "        routing:\n"
                  "          steps:\n"
                  "            - target: \"agent.skill.english >= 5 AND agent.languages HAS "
                  "task.language\"\n"
                  "            - after: 30s\n"
                  "              target: \"agent.skill.english >= 3 OR agent.attr.site = "
                  "'paris'\"\n"
                  "            - {after: 2m, target: 'true'}\n"
                  "          order_by: \"agent.skill.english DESC, agent.idle DESC\"\n");
}

TEST_CASE("config db: routing rules, languages and attributes apply, diff, export and load",
          "[config_db]") {
  MigratedCluster db;
  const DaemonConfig file = parse(with_rules());
  apply_file(db.dsn(), file);
  // Whether `column` of row `name` holds `json` (compared as jsonb: its keys in any order).
  const auto is = [&](const char* table, const char* column, const char* name,
                      const std::string& json) {
    std::string literal;
    for (char c : json) literal += c == '\'' ? std::string("''") : std::string(1, c);
    return query1(db.dsn(), std::string("SELECT ") + column + " = '" + literal + "'::jsonb FROM " +
                                table + " WHERE name = '" + name + "'") == "t";
  };
  CHECK(is("queues", "routing", "sales",
           R"({"steps": [{"after_ms": 0, "target": "agent.skill.english >= 5 AND )"
           R"(agent.languages HAS task.language"}, {"after_ms": 30000, "target": )"
           R"("agent.skill.english >= 3 OR agent.attr.site = 'paris'"}, {"after_ms": 120000, )"
           R"("target": "true"}], "order_by": "agent.skill.english DESC, agent.idle DESC"})"));
  CHECK(is("agents", "languages", "ann", R"(["fr", "en"])"));
  CHECK(is("agents", "attributes", "ann",
           R"({"site": "paris", "level": "senior", "quote": "it's \"odd\": #1"})"));
  CHECK(is("agents", "languages", "bob", "[]"));
  CHECK(is("agents", "attributes", "bob", "{}"));
  CHECK(diff(db.dsn(), file).empty());
  CHECK(apply_file(db.dsn(), file).rows_written == 0);

  // Exported (languages in their order, attributes by name) and loaded back equal.
  auto exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  INFO(exported.value());
  CHECK(exported->find("languages: [fr, en]") != std::string::npos);
  CHECK(exported->find("attributes: {level: senior, quote: \"it's \\\"odd\\\": #1\", site: "
                       "paris}") != std::string::npos);
  CHECK(exported->find("        routing:\n"
                       "          steps:\n"
                       "            - target: agent.skill.english >= 5 AND agent.languages HAS "
                       "task.language\n"
                       "            - after: 30s\n") != std::string::npos);
  const DaemonConfig again = parse(exported.value());
  CHECK(diff_configs(again, file, false).empty());
  CHECK(diff(db.dsn(), again).empty());
  CHECK(apply_file(db.dsn(), again).rows_written == 0);
  NameRegistry registry;
  auto loaded = load_config_from_database(db.dsn(), registry);
  REQUIRE(loaded.ok());
  const auto& queues = loaded->domain.queues;
  REQUIRE(queues.size() == 1);
  CHECK(queues[0].routing == file.domain.queues[0].routing);
  REQUIRE(queues[0].routing.steps.size() == 3);
  CHECK(queues[0].routing.steps[2].after == std::chrono::minutes(2));
  for (const auto& agent : loaded->domain.agents) {
    INFO(agent.name);
    const auto& expected = *std::find_if(file.domain.agents.begin(), file.domain.agents.end(),
                                         [&](const auto& a) { return a.name == agent.name; });
    CHECK(agent.languages == expected.languages);
    // Loaded from the export: by name.
    auto sorted = expected.attributes;
    std::sort(sorted.begin(), sorted.end());
    CHECK(agent.attributes == sorted);
  }

  // Changes show in the diff and update the rows in place; the attributes' order is not one.
  std::string changed = replaced(with_rules(), "after: 30s", "after: 45s");
  changed =
      replaced(changed, "          order_by: \"agent.skill.english DESC, agent.idle DESC\"\n", "");
  changed = replaced(changed, "languages: [fr, en], attributes: {site: paris, level: senior, ",
                     "languages: [en], attributes: {level: junior, site: paris, ");
  changed = replaced(changed, "team: crew, skills: {english: 5}}",
                     "team: crew, skills: {english: 5}, languages: [de]}");
  const std::vector<std::string> expected = {
      "~ agent t1/ann: languages fr, en -> en; attributes level \"senior\", quote \"it's "
      "\\\"odd\\\": #1\", site \"paris\" -> level \"junior\", quote \"it's \\\"odd\\\": #1\", "
      "site \"paris\"",
      "~ agent t1/bob: languages (none) -> de",
      "~ queue t1/sales: routing 0s \"agent.skill.english >= 5 AND agent.languages HAS "
      "task.language\", 30s \"agent.skill.english >= 3 OR agent.attr.site = 'paris'\", 2m "
      "\"true\", order_by \"agent.skill.english DESC, agent.idle DESC\" -> 0s "
      "\"agent.skill.english >= 5 AND agent.languages HAS task.language\", 45s "
      "\"agent.skill.english >= 3 OR agent.attr.site = 'paris'\", 2m \"true\"",
  };
  CHECK(diff(db.dsn(), parse(changed)) == expected);
  const ApplyReport report = apply_file(db.dsn(), parse(changed));
  CHECK(report.diff == expected);
  CHECK(report.rows_written == 3);
  CHECK(is("agents", "languages", "bob", R"(["de"])"));
  CHECK(diff(db.dsn(), parse(changed)).empty());

  // Back to none: nothing stored, nothing exported.
  CHECK(diff(db.dsn(), parse(kSmall)) ==
        std::vector<std::string>{
            "~ agent t1/ann: languages en -> (none); attributes level \"junior\", quote \"it's "
            "\\\"odd\\\": #1\", site \"paris\" -> (none)",
            "~ agent t1/bob: languages de -> (none)",
            "~ queue t1/sales: routing 0s \"agent.skill.english >= 5 AND agent.languages HAS "
            "task.language\", 45s \"agent.skill.english >= 3 OR agent.attr.site = 'paris'\", 2m "
            "\"true\" -> (none)"});
  apply_file(db.dsn(), parse(kSmall));
  CHECK(is("queues", "routing", "sales", "{}"));
  CHECK(is("agents", "languages", "ann", "[]"));
  CHECK(is("agents", "attributes", "ann", "{}"));
  exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  CHECK(exported->find("routing") == std::string::npos);
  CHECK(exported->find("languages") == std::string::npos);
  CHECK(exported->find("attributes") == std::string::npos);
}

TEST_CASE("config db: the schema checks routing rules, languages and attributes", "[config_db]") {
  MigratedCluster db;
  apply_file(db.dsn(), parse(kSmall));
  auto set = [&](const char* table, const char* column, const char* name, const std::string& json) {
    pqxx::connection c(db.dsn());
    pqxx::work tx(c);
    try {
      tx.exec(std::string("UPDATE ") + table + " SET " + column + " = " + tx.quote(json) +
              " WHERE name = '" + name + "'");
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  for (const char* bad :
       {R"([])", R"("x")", R"({"steps": []})", R"({"order_by": "agent.idle"})",
        R"({"steps": [{"after_ms": 0, "target": "true"}], "order": "x"})",
        R"({"steps": [{"after_ms": 0, "target": "true"}], "order_by": 3})",
        R"({"steps": {"after_ms": 0, "target": "true"}})", R"({"steps": ["true"]})",
        R"({"steps": [{"target": "true"}]})", R"({"steps": [{"after_ms": 0}]})",
        R"({"steps": [{"after_ms": -1, "target": "true"}]})",
        R"({"steps": [{"after_ms": 1.5, "target": "true"}]})",
        R"({"steps": [{"after_ms": "0", "target": "true"}]})",
        R"({"steps": [{"after_ms": 0, "target": true}]})",
        R"({"steps": [{"after_ms": 0, "target": "true", "max_tier": 2}]})"}) {
    INFO(bad);
    CHECK_THAT(set("queues", "routing", "sales", bad), Catch::Contains("queues_routing_check"));
  }
  CHECK(set("queues", "routing", "sales",
            R"({"steps": [{"after_ms": 0, "target": "true"}, {"after_ms": 1000, )"
            R"("target": "agent.skill.english >= 1"}], "order_by": "agent.idle DESC"})")
            .empty());
  const std::string too_many_languages = [] {
    std::string out;
    for (int i = 0; i < 33; ++i) out += (i ? ",\"l" : "[\"l") + std::to_string(i) + "\"";
    return out + "]";
  }();
  for (const std::string& bad :
       {std::string(R"({})"), std::string(R"("en")"), std::string(R"([1])"),
        std::string(R"([null])"), std::string(R"([["en"]])"), std::string(R"([""])"),
        std::string(R"(["e_s"])"), std::string(R"(["en", "en"])"),
        "[\"" + std::string(36, 'x') + "\"]", too_many_languages}) {
    INFO(bad);
    CHECK_THAT(set("agents", "languages", "ann", bad), Catch::Contains("agents_languages_check"));
  }
  CHECK(set("agents", "languages", "ann", "[\"pt-BR\", \"" + std::string(35, 'x') + "\"]").empty());
  const std::string too_many_attributes = [] {
    std::string out;
    for (int i = 0; i < 65; ++i) out += (i ? ",\"a" : "{\"a") + std::to_string(i) + "\": \"x\"";
    return out + "}";
  }();
  for (const std::string& bad :
       {std::string(R"([])"), std::string(R"("x")"), std::string(R"({"site": 3})"),
        std::string(R"({"site": null})"), std::string(R"({"site": ["paris"]})"),
        std::string(R"({"9site": "paris"})"), std::string(R"({"site-name": "paris"})"),
        std::string(R"({"": "x"})"), "{\"a" + std::string(64, 'b') + "\": \"x\"}",
        "{\"note\": \"" + std::string(257, 'v') + "\"}", too_many_attributes}) {
    INFO(bad);
    CHECK_THAT(set("agents", "attributes", "ann", bad), Catch::Contains("agents_attributes_check"));
  }
  CHECK(set("agents", "attributes", "ann",
            "{\"_site\": \"paris\", \"note\": \"" + std::string(256, 'v') + "\"}")
            .empty());
  // What the schema admits, the export writes and the loader reads back.
  auto exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  INFO(exported.value());
  NameRegistry registry;
  auto loaded = load_config_from_database(db.dsn(), registry);
  REQUIRE(loaded.ok());
  CHECK(loaded->domain.queues[0].routing.steps.size() == 2);
  CHECK(loaded->domain.queues[0].routing.order_by == "agent.idle DESC");
  const auto ann = std::find_if(loaded->domain.agents.begin(), loaded->domain.agents.end(),
                                [](const auto& a) { return a.name == "ann"; });
  REQUIRE(ann != loaded->domain.agents.end());
  CHECK(ann->languages == std::vector<std::string>{"pt-BR", std::string(35, 'x')});
  CHECK(ann->attributes == std::vector<std::pair<std::string, std::string>>{
                               {"_site", "paris"}, {"note", std::string(256, 'v')}});
  // A rule the schema admits but the loader does not is reported, located in the export.
  CHECK(set("queues", "routing", "sales",
            R"({"steps": [{"after_ms": 0, "target": "agent.skill.englsh >= 1"}]})")
            .empty());
  auto refused = load_config_from_database(db.dsn(), registry);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().front().to_string(),
             Catch::Contains("tenants[0].queues[0].routing.steps[0].target: routing step 1 "
                             "target: 1:13: unknown skill 'englsh' (did you mean 'english'?)"));
}

}  // namespace
}  // namespace acd::app

namespace acd::app {
namespace {

const char* const kFlows = R"yaml(
tenants:
  - name: f1
    queues: [{name: sales}, {name: support}]
    flows:
      - name: main
        source: |
          local digit = call.collect("menu", 1, 5)
          call.queue(digit == "2" and "support" or "sales")
        fallback: {queue: sales}
      - name: terse
        source: "call.hangup()"
        instruction_limit: 5000
        memory_limit: 131072
        fallback: {voicemail: box}
      - name: bye
        source: "  call.hangup()  \n\n"
        fallback: {hangup: ""}
    trunks:
      - name: in
        allowed_sources: [127.0.0.0/8]
        dids: [{number: "100", flow: main}, {number: "200", queue: sales}]
)yaml";

TEST_CASE("config db: flows apply, diff, export and load", "[config_db][flows]") {
  MigratedCluster db;
  const DaemonConfig file = parse(kFlows);
  apply_file(db.dsn(), file);
  CHECK(diff(db.dsn(), file).empty());
  CHECK(apply_file(db.dsn(), file).rows_written == 0);
  CHECK(query1(db.dsn(), "SELECT count(*) FROM flows") == "3");
  CHECK(query1(db.dsn(),
               "SELECT d.kind || ' ' || f.name FROM dids d JOIN flows f ON f.id = "
               "d.flow_id WHERE d.number = '100'") == "flow main");
  CHECK(query1(db.dsn(),
               "SELECT fallback || ' ' || fallback_target || ' ' || instruction_limit "
               "|| ' ' || memory_limit FROM flows WHERE name = 'terse'") ==
        "voicemail box 5000 131072");
  CHECK(query1(db.dsn(),
               "SELECT q.name FROM flows f JOIN queues q ON q.id = "
               "f.fallback_queue_id WHERE f.name = 'main'") == "sales");

  // The export has every script inline and loads back equal, whatever its white space.
  auto exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  INFO(exported.value());
  CHECK(exported->find("flow: main") != std::string::npos);
  const DaemonConfig again = parse(exported.value());
  REQUIRE(again.tenants.at(0).flows.size() == 3);
  CHECK(again.tenants[0].flows[2].source == "  call.hangup()  \n\n");
  CHECK(diff_configs(again, file, false).empty());
  CHECK(diff(db.dsn(), again).empty());
  CHECK(apply_file(db.dsn(), again).rows_written == 0);

  // Loading from the database compiles the scripts.
  NameRegistry registry;
  auto loaded = load_config_from_database(db.dsn(), registry);
  REQUIRE(loaded.ok());
  const TenantSettings& t = loaded->tenants.at(0);
  REQUIRE(t.flows.size() == 3);
  CHECK(t.flows[0].script != nullptr);
  CHECK(t.flows[1].fallback.kind == IvrAction::Kind::kVoicemail);
  CHECK(t.trunks.at(0).dids.at(0).entry.kind == EntryPoint::Kind::kFlow);

  // A changed script shows as changed (not printed) and updates its row.
  const DaemonConfig changed =
      parse(replaced(kFlows, "\"call.hangup()\"", "\"call.queue('sales')\""));
  const std::vector<std::string> expected = {"~ flow f1/terse: source changed"};
  CHECK(diff(db.dsn(), changed) == expected);
  CHECK(apply_file(db.dsn(), changed).rows_written == 1);
  CHECK(query1(db.dsn(), "SELECT source FROM flows WHERE name = 'terse'") == "call.queue('sales')");

  // A number moved from its flow to a queue, and the flow removed.
  std::string without =
      replaced(kFlows, "{number: \"100\", flow: main}", "{number: \"100\", ivr_menu: m}");
  without =
      replaced(without, "    trunks:", "    ivr_menus: [{name: m, prompt: hello}]\n    trunks:");
  without = replaced(without, "      - name: terse", "      - name: tersely");
  apply_file(db.dsn(), parse(without));
  CHECK(query1(db.dsn(),
               "SELECT kind || ' ' || (flow_id IS NULL)::text FROM dids WHERE number "
               "= '100'") == "menu true");
  CHECK(query1(db.dsn(), "SELECT string_agg(name, ',' ORDER BY name) FROM flows") ==
        "bye,main,tersely");
}

TEST_CASE("config db: a flow read from a file is stored with its text", "[config_db][flows]") {
  MigratedCluster db;
  const auto dir = db.root() / "config";
  std::filesystem::create_directories(dir / "flows");
  std::ofstream(dir / "flows" / "main.lua") << "call.play(\"hello\")\ncall.queue(\"sales\")\n";
  std::ofstream(dir / "acdd.yaml")
      << replaced(kFlows,
                  "source: |\n          local digit = call.collect(\"menu\", 1, 5)\n          "
                  "call.queue(digit == \"2\" and \"support\" or \"sales\")\n",
                  "file: flows/main.lua\n");
  NameRegistry registry;
  auto loaded = load_config_file((dir / "acdd.yaml").string(), registry);
  if (!loaded.ok()) {
    for (const auto& e : loaded.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(loaded.ok());
  apply_file(db.dsn(), loaded.value());
  CHECK(query1(db.dsn(), "SELECT file || ' ' || source FROM flows WHERE name = 'main'") ==
        "flows/main.lua call.play(\"hello\")\ncall.queue(\"sales\")\n");
  auto exported = export_config(db.dsn());
  REQUIRE(exported.ok());
  INFO(exported.value());
  CHECK(exported->find("file:") == std::string::npos);
  CHECK(diff(db.dsn(), parse(exported.value())).empty());
  CHECK(diff(db.dsn(), loaded.value()).empty());
}

TEST_CASE("config db: the schema checks flows and flow numbers", "[config_db][flows]") {
  MigratedCluster db;
  apply_file(db.dsn(), parse(kFlows));
  auto refused = [&](const std::string& sql) {
    pqxx::connection c(db.dsn());
    pqxx::work tx(c);
    try {
      tx.exec(sql);
      tx.commit();
    } catch (const pqxx::sql_error&) {
      return true;
    }
    return false;
  };
  CHECK(refused("UPDATE dids SET flow_id = NULL WHERE number = '100'"));
  CHECK(refused("UPDATE dids SET kind = 'queue' WHERE number = '100'"));
  CHECK(refused("UPDATE flows SET instruction_limit = 10 WHERE name = 'main'"));
  CHECK(refused("UPDATE flows SET memory_limit = 1 WHERE name = 'main'"));
  CHECK(refused("UPDATE flows SET source = '' WHERE name = 'main'"));
  CHECK(refused("UPDATE flows SET fallback = 'hangup' WHERE name = 'main'"));
  CHECK(refused("UPDATE flows SET fallback_target = '../x' WHERE name = 'terse'"));
  CHECK_FALSE(refused("UPDATE flows SET fallback_target = 'other' WHERE name = 'terse'"));
}

}  // namespace
}  // namespace acd::app
