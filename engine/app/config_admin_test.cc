// AdminService's requests (config_admin.h) against a real PostgreSQL (a throwaway embedded
// cluster per test case): export, diff and apply of one tenant's document, entities put,
// got, listed and deleted, located errors, another tenant left alone, reload, the worker.
#include "engine/app/config_admin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "engine/app/config_admin_worker.h"
#include "engine/app/config_db.h"
#include "engine/store/migrator.h"
#include "engine/store/test_cluster_util.h"

namespace acd::app {
namespace {

using api::AdminRequest;
using api::AdminResult;
using api::ConfigKind;
using Code = AdminResult::Code;
using Op = AdminRequest::Op;

class MigratedCluster {
 public:
  MigratedCluster() {
    auto migrated = store::migrate(cluster_.dsn(), store::builtin_migrations());
    if (!migrated) FAIL(migrated.error().message);
  }
  const std::string& dsn() const { return cluster_.dsn(); }

 private:
  store::testing::TestCluster cluster_;
};

const char* const kTwoTenants = R"(
tenants:
  - name: acme
    skills: [billing, french]
    agents:
      - {name: ann, extension: "10", skills: {billing: 5}}
      - {name: bob, extension: "11"}
    queues:
      - name: support
        strategy: longest-idle
        music_on_hold: jazz
        members:
          - {agent: ann}
          - {agent: bob}
    users:
      - name: root
        roles: [admin]
        tokens: [{name: cli, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}]
  - name: globex
    skills: [spanish]
    agents:
      - {name: carl, extension: "20"}
    queues:
      - name: sales
        members: [{agent: carl}]
)";

// A database holding kTwoTenants, and requests against it as acme's administrator.
struct World {
  MigratedCluster cluster;
  ConfigAdminOptions options;

  World() {
    options.dsn = cluster.dsn();
    options.music_on_hold_classes = {"default", "jazz"};
    NameRegistry registry;
    LoadOptions load;
    load.music_on_hold_classes = options.music_on_hold_classes;
    auto loaded = load_config_text(kTwoTenants, "test.yaml", registry, load);
    REQUIRE(loaded.ok());
    auto applied = apply_config(cluster.dsn(), loaded.value());
    if (!applied) FAIL(applied.error());
  }

  AdminResult run(AdminRequest request) {
    if (request.tenant.empty()) request.tenant = "acme";
    return run_admin_request(options, request);
  }
  AdminResult ok(AdminRequest request) {
    AdminResult result = run(std::move(request));
    INFO(result.error);
    REQUIRE(result.ok());
    return result;
  }
  std::string exported(const std::string& tenant = "acme") {
    AdminRequest r;
    r.op = Op::kExport;
    r.tenant = tenant;
    return ok(r).yaml;
  }
  AdminResult apply(const std::string& yaml, bool dry_run = false) {
    AdminRequest r;
    r.op = Op::kApply;
    r.yaml = yaml;
    r.dry_run = dry_run;
    return run(r);
  }
  AdminResult put(ConfigKind kind, const std::string& yaml, bool dry_run = false) {
    AdminRequest r;
    r.op = Op::kPut;
    r.kind = kind;
    r.yaml = yaml;
    r.dry_run = dry_run;
    return run(r);
  }
  AdminResult remove(ConfigKind kind, const std::string& name, bool dry_run = false) {
    AdminRequest r;
    r.op = Op::kDelete;
    r.kind = kind;
    r.name = name;
    r.dry_run = dry_run;
    return run(r);
  }
  AdminResult get(ConfigKind kind, const std::string& name) {
    AdminRequest r;
    r.op = Op::kGet;
    r.kind = kind;
    r.name = name;
    return run(r);
  }
};

// `text` with the first `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The 1-based number of the line of `text` that holds `needle`.
int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  REQUIRE(at != std::string::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

TEST_CASE("a tenant's document: export, apply, diff and located errors", "[app][admin][db]") {
  World w;
  const std::string globex = w.exported("globex");
  const std::string acme = w.exported();
  CHECK_THAT(acme, Catch::Contains("name: acme") && Catch::Contains("name: support"));
  CHECK_THAT(acme, !Catch::Contains("globex") && !Catch::Contains("carl"));

  // Its own export applies without a change.
  auto same = w.apply(acme);
  REQUIRE(same.ok());
  CHECK(same.changes.empty());
  CHECK_FALSE(same.applied);

  // A change: a dry run shows it and writes nothing; the apply writes it.
  const std::string changed =
      replaced(acme, "strategy: longest-idle", "strategy: longest-idle\n        ring_timeout: 12s");
  const std::vector<std::string> expected{"~ queue acme/support: ring_timeout 15s -> 12s"};
  auto dry = w.apply(changed, /*dry_run=*/true);
  INFO(changed);
  INFO(dry.error);
  REQUIRE(dry.ok());
  CHECK(dry.changes == expected);
  CHECK_FALSE(dry.applied);
  CHECK(w.exported() == acme);
  AdminRequest diff;
  diff.op = Op::kDiff;
  diff.yaml = changed;
  CHECK(w.ok(diff).changes == expected);
  auto applied = w.apply(changed);
  REQUIRE(applied.ok());
  CHECK(applied.changes == expected);
  CHECK(applied.applied);
  CHECK(applied.rows_written == 1);
  CHECK_THAT(w.exported(), Catch::Contains("ring_timeout: 12s"));
  CHECK(w.apply(changed).changes.empty());

  // An invalid document: every error located in it, nothing written.
  const std::string bad =
      replaced(replaced(changed, "strategy: longest-idle", "strategy: sideways"),
               "extension: \"11\"", "extension: {x: 1}");
  auto refused = w.apply(bad);
  CHECK(refused.code == Code::kInvalid);
  CHECK_THAT(refused.error,
             Catch::Contains("line " + std::to_string(line_of(bad, "sideways")) + ", column ") &&
                 Catch::Contains(": tenants[0].queues[0].strategy: ") &&
                 Catch::Contains(": tenants[0].agents[1].extension: expected a string"));
  CHECK_THAT(refused.error, Catch::StartsWith("line " + std::to_string(line_of(bad, "{x: 1}"))));
  const std::string syntax = "tenants:\n  - name: acme\n    agents: [\n";
  auto broken = w.apply(syntax);
  CHECK(broken.code == Code::kInvalid);
  CHECK_THAT(broken.error, Catch::StartsWith("line "));

  // Another tenant, or anything beside tenants:, is refused.
  auto other = w.apply("tenants:\n  - name: globex\n");
  CHECK(other.code == Code::kForbidden);
  CHECK_THAT(other.error, Catch::StartsWith("line 2, column 11: tenants[0].name: tenant \"globex\" "
                                            "is not yours; expected \"acme\""));
  auto both = w.apply(acme + "  - name: globex\n");
  CHECK(both.code == Code::kForbidden);
  CHECK_THAT(both.error, Catch::Contains("tenants[1].name"));
  auto daemon = w.apply("log: {level: debug}\n" + acme);
  CHECK(daemon.code == Code::kInvalid);
  CHECK_THAT(daemon.error, Catch::StartsWith("line 1, column 1: log: not accepted here"));
  auto none = w.apply("tenants: []\n");
  CHECK(none.code == Code::kInvalid);
  CHECK_THAT(none.error, Catch::Contains("tenants: expected exactly one tenant, \"acme\""));

  // Removing everything of acme's but the tenant: globex never changes.
  auto emptied = w.apply("tenants:\n  - name: acme\n");
  REQUIRE(emptied.ok());
  CHECK(emptied.applied);
  CHECK(std::find(emptied.changes.begin(), emptied.changes.end(), "- agent acme/ann") !=
        emptied.changes.end());
  CHECK(w.exported("globex") == globex);
}

TEST_CASE("entities one by one: list, get, put, delete", "[app][admin][db]") {
  World w;
  const std::string globex = w.exported("globex");

  AdminRequest list;
  list.op = Op::kList;
  list.kind = ConfigKind::kAgent;
  auto agents = w.ok(list);
  REQUIRE(agents.entities.size() == 2);
  CHECK(agents.entities[0].name == "ann");
  CHECK(agents.entities[1].name == "bob");
  CHECK_THAT(agents.entities[0].yaml, Catch::StartsWith("name: ann\n"));
  list.kind = ConfigKind::kSkill;
  auto skills = w.ok(list);
  REQUIRE(skills.entities.size() == 2);
  CHECK(skills.entities[1].name == "french");
  CHECK(skills.entities[1].yaml == "name: \"french\"\n");

  auto queue = w.get(ConfigKind::kQueue, "support");
  REQUIRE(queue.ok());
  CHECK_THAT(queue.yaml, Catch::StartsWith("name: support\n") &&
                             Catch::Contains("strategy: longest-idle") &&
                             Catch::Contains("members:"));
  // Another tenant's agent is as unknown as none at all.
  auto carl = w.get(ConfigKind::kAgent, "carl");
  CHECK(carl.code == Code::kNotFound);
  CHECK(carl.error == "no agent \"carl\" in tenant acme");
  auto settings = w.get(ConfigKind::kTenant, "");
  REQUIRE(settings.ok());
  CHECK_THAT(settings.yaml, Catch::StartsWith("name: acme") && !Catch::Contains("agents"));

  // Put: a new agent, visible in the export; globex untouched.
  auto zoe = w.put(ConfigKind::kAgent, "name: zoe\nextension: \"12\"\nskills: {billing: 7}\n");
  INFO(zoe.error);
  REQUIRE(zoe.ok());
  CHECK(zoe.changes == std::vector<std::string>{"+ agent acme/zoe"});
  CHECK(zoe.applied);
  CHECK_THAT(w.exported(), Catch::Contains("name: zoe"));
  // Again: nothing to change.
  auto again = w.put(ConfigKind::kAgent, "{name: zoe, extension: \"12\", skills: {billing: 7}}");
  REQUIRE(again.ok());
  CHECK(again.changes.empty());
  // A dry run reports and writes nothing.
  auto dry = w.put(ConfigKind::kAgent, "name: zoe\nextension: \"13\"\n", /*dry_run=*/true);
  REQUIRE(dry.ok());
  CHECK_FALSE(dry.applied);
  REQUIRE(dry.changes.size() == 1);
  CHECK_THAT(dry.changes[0], Catch::StartsWith("~ agent acme/zoe: extension 12 -> 13"));
  CHECK_THAT(w.get(ConfigKind::kAgent, "zoe").yaml, Catch::Contains("12"));

  // Errors in the entity are located in the request's own YAML.
  auto level = w.put(ConfigKind::kAgent, "name: zoe\nextension: \"12\"\nskills: {billing: 11}\n");
  CHECK(level.code == Code::kInvalid);
  CHECK_THAT(level.error, Catch::StartsWith("line 3, column ") &&
                              Catch::Contains(": skills.billing: ") && Catch::Contains("11"));
  auto unknown = w.put(ConfigKind::kAgent, "name: zoe\nextension: \"12\"\nteam: nobody\n");
  CHECK(unknown.code == Code::kInvalid);
  CHECK_THAT(unknown.error,
             Catch::StartsWith("line 3, column 7: team: ") && Catch::Contains("nobody"));
  auto syntax = w.put(ConfigKind::kAgent, "name: zoe\nextension: [\n");
  CHECK(syntax.code == Code::kInvalid);
  CHECK_THAT(syntax.error, Catch::StartsWith("line 3, column 1: YAML syntax error: "));
  auto markers = w.put(ConfigKind::kAgent, "---\nname: zoe\n");
  CHECK(markers.code == Code::kInvalid);
  CHECK_THAT(markers.error, Catch::StartsWith("line 1, column 1: document markers"));
  auto nameless = w.put(ConfigKind::kAgent, "extension: \"14\"\n");
  CHECK(nameless.code == Code::kInvalid);
  CHECK_THAT(nameless.error, Catch::Contains("name"));

  // A queue replaced: bob is no longer its member.
  auto support = w.put(ConfigKind::kQueue,
                       "name: support\nstrategy: ring-all\nmusic_on_hold: jazz\nmembers:\n"
                       "  - {agent: ann}\n  - {agent: zoe, tier: 2}\n");
  INFO(support.error);
  REQUIRE(support.ok());
  REQUIRE(support.changes.size() == 1);
  CHECK_THAT(support.changes[0], Catch::StartsWith("~ queue acme/support: strategy longest-idle "
                                                   "-> ring-all") &&
                                     Catch::Contains("+ member zoe") &&
                                     Catch::Contains("- member bob"));
  // Lines a message mentions are the request's own.
  auto twice =
      w.put(ConfigKind::kQueue, "name: support\nmembers:\n  - {agent: ann}\n  - {agent: ann}\n");
  CHECK(twice.code == Code::kInvalid);
  CHECK_THAT(twice.error, Catch::StartsWith("line 4, column ") &&
                              Catch::EndsWith("is already a member of queue \"support\" (line 3)"));
  auto token = w.put(ConfigKind::kUser,
                     "name: twin\nroles: [admin]\ntokens:\n  - {name: cli, sha256: "
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}\n");
  CHECK(token.code == Code::kInvalid);
  CHECK_THAT(token.error, Catch::StartsWith("line 4, column ") &&
                              Catch::EndsWith("the same token is already given elsewhere in "
                                              "the tenant"));
  auto moh = w.put(ConfigKind::kQueue, "name: support\nmusic_on_hold: disco\n");
  CHECK(moh.code == Code::kInvalid);
  CHECK_THAT(moh.error, Catch::StartsWith("line 2, column 16: music_on_hold: "));

  // Delete: refused while another entity refers to it, naming that entity.
  auto in_use = w.remove(ConfigKind::kAgent, "ann");
  CHECK(in_use.code == Code::kReferenced);
  CHECK_THAT(in_use.error, Catch::StartsWith("agent ann is still in use:\nqueue support: "
                                             "members[0].agent: "));
  auto bob = w.remove(ConfigKind::kAgent, "bob");
  INFO(bob.error);
  REQUIRE(bob.ok());
  CHECK(bob.changes == std::vector<std::string>{"- agent acme/bob"});
  CHECK_THAT(w.exported(), !Catch::Contains("name: bob"));
  CHECK(w.remove(ConfigKind::kAgent, "bob").code == Code::kNotFound);
  CHECK(w.remove(ConfigKind::kAgent, "carl").code == Code::kNotFound);
  CHECK(w.remove(ConfigKind::kTenant, "acme").code == Code::kInvalid);

  // Skills: by name, or as {name: ...}.
  auto german = w.put(ConfigKind::kSkill, "german");
  REQUIRE(german.ok());
  CHECK(german.changes == std::vector<std::string>{"+ skill acme/german"});
  CHECK(w.put(ConfigKind::kSkill, "name: german\n").changes.empty());
  auto bad_skill = w.put(ConfigKind::kSkill, "name: \"no spaces\"\n");
  CHECK(bad_skill.code == Code::kInvalid);
  CHECK_THAT(bad_skill.error, Catch::StartsWith("line 1, column 7: name: invalid name"));
  auto skill_keys = w.put(ConfigKind::kSkill, "name: x\nlevel: 3\n");
  CHECK(skill_keys.code == Code::kInvalid);
  CHECK(w.remove(ConfigKind::kSkill, "german").ok());

  // The tenant's settings.
  auto zone = w.put(ConfigKind::kTenant, "name: acme\ntime_zone: Europe/Berlin\n");
  INFO(zone.error);
  REQUIRE(zone.ok());
  CHECK(zone.changes == std::vector<std::string>{"~ tenant acme: time_zone UTC -> Europe/Berlin"});
  CHECK_THAT(w.exported(), Catch::Contains("name: zoe") && Catch::Contains("ring-all"));
  auto rename = w.put(ConfigKind::kTenant, "name: globex\n");
  CHECK(rename.code == Code::kForbidden);
  CHECK_THAT(rename.error, Catch::StartsWith("line 1, column 7: name: tenant \"globex\" is not"));
  auto lists = w.put(ConfigKind::kTenant, "time_zone: UTC\nagents: []\n");
  CHECK(lists.code == Code::kInvalid);
  CHECK_THAT(lists.error, Catch::StartsWith("line 2, column 1: agents: not one of the tenant's"));
  auto zone_error = w.put(ConfigKind::kTenant, "time_zone: Mars/Olympus\n");
  CHECK(zone_error.code == Code::kInvalid);
  CHECK_THAT(zone_error.error, Catch::StartsWith("line 1, column 12: time_zone: "));

  // A user with a plaintext token: accepted, hashed, and warned about, located.
  auto user = w.put(
      ConfigKind::kUser,
      "name: ops\nroles: [read-only]\ntokens:\n  - {name: cli, token: ops-token-0123456789}\n");
  INFO(user.error);
  REQUIRE(user.ok());
  REQUIRE(user.warnings.size() == 1);
  CHECK_THAT(user.warnings[0],
             Catch::StartsWith("line 4, column ") && Catch::Contains("tokens[0]"));
  CHECK_THAT(w.exported(),
             Catch::Contains("name: ops") && !Catch::Contains("ops-token-0123456789"));

  CHECK(w.exported("globex") == globex);
}

TEST_CASE("an agent's capacity through the API: put, get, apply, located errors",
          "[app][admin][db]") {
  World w;
  // Put with a capacity: stored, and shown in the entity's YAML only where it differs.
  auto zoe =
      w.put(ConfigKind::kAgent, "name: zoe\nextension: \"12\"\ncapacity: {chat: 3, email: 2}\n");
  INFO(zoe.error);
  REQUIRE(zoe.ok());
  CHECK(zoe.changes == std::vector<std::string>{"+ agent acme/zoe"});
  CHECK_THAT(w.get(ConfigKind::kAgent, "zoe").yaml,
             Catch::Contains("capacity: {chat: 3, email: 2}"));
  CHECK_THAT(w.get(ConfigKind::kAgent, "ann").yaml, !Catch::Contains("capacity"));
  auto ann = w.put(ConfigKind::kAgent,
                   "name: ann\nextension: \"10\"\nskills: {billing: 5}\ncapacity: {sms: 0}\n");
  REQUIRE(ann.ok());
  CHECK(ann.changes ==
        std::vector<std::string>{"~ agent acme/ann: capacity (1 of each channel) -> sms 0"});

  // Errors name the field, located in the request's YAML.
  auto channel = w.put(ConfigKind::kAgent, "name: zoe\nextension: \"12\"\ncapacity: {chta: 3}\n");
  CHECK(channel.code == Code::kInvalid);
  CHECK(channel.error ==
        "line 3, column 12: capacity.chta: unknown channel \"chta\" (did you mean \"chat\"?); "
        "expected one of chat, email, sms, web-form, callback");
  auto range = w.put(ConfigKind::kAgent, "name: zoe\nextension: \"12\"\ncapacity: {chat: 33}\n");
  CHECK(range.code == Code::kInvalid);
  CHECK(range.error ==
        "line 3, column 18: capacity.chat: value 33 is out of range; expected an integer from 0 "
        "to 32");
  auto shape = w.put(ConfigKind::kAgent, "name: zoe\nextension: \"12\"\ncapacity: 3\n");
  CHECK(shape.code == Code::kInvalid);
  CHECK_THAT(shape.error, Catch::StartsWith("line 3, column 11: capacity: expected a map of "
                                            "channel: tasks at once (0-32)"));
  CHECK_THAT(w.get(ConfigKind::kAgent, "zoe").yaml,
             Catch::Contains("capacity: {chat: 3, email: 2}"));

  // In a whole document the path names the agent by its place.
  const std::string acme = w.exported();
  CHECK_THAT(acme, Catch::Contains("capacity: {sms: 0}"));
  auto refused = w.apply(replaced(acme, "capacity: {sms: 0}", "capacity: {sms: -1}"));
  CHECK(refused.code == Code::kInvalid);
  CHECK_THAT(refused.error, Catch::Contains(": tenants[0].agents[0].capacity.sms: value -1 is out "
                                            "of range; expected an integer from 0 to 32"));
  auto applied = w.apply(replaced(acme, "capacity: {sms: 0}", "capacity: {sms: 0, web-form: 4}"));
  INFO(applied.error);
  REQUIRE(applied.ok());
  CHECK(applied.changes ==
        std::vector<std::string>{"~ agent acme/ann: capacity sms 0 -> sms 0, web-form 4"});
}

TEST_CASE("routing rules, languages and attributes through the API: put, get, apply, errors",
          "[app][admin][db]") {
  World w;
  // An agent with languages and attributes: stored, and shown in the entity's YAML.
  auto zoe = w.put(ConfigKind::kAgent,
                   "name: zoe\nextension: \"12\"\nskills: {billing: 7}\nlanguages: [en, es]\n"
                   "attributes: {site: paris, level: senior}\n");
  INFO(zoe.error);
  REQUIRE(zoe.ok());
  CHECK(zoe.changes == std::vector<std::string>{"+ agent acme/zoe"});
  const std::string zoe_yaml = w.get(ConfigKind::kAgent, "zoe").yaml;
  CHECK_THAT(zoe_yaml, Catch::Contains("languages: [en, es]") &&
                           Catch::Contains("attributes: {level: senior, site: paris}"));
  CHECK_THAT(w.get(ConfigKind::kAgent, "ann").yaml,
             !Catch::Contains("languages") && !Catch::Contains("attributes"));
  // What get shows puts back unchanged.
  CHECK(w.put(ConfigKind::kAgent, zoe_yaml).changes.empty());

  // A queue with routing steps.
  const std::string support =
      "name: support\n"
      "music_on_hold: jazz\n"
      "routing:\n"
      "  steps:\n"
      "    - target: \"agent.skill.billing >= 5 AND agent.languages HAS task.language\"\n"
      "    - after: 30s\n"
      "      target: \"agent.attr.site = 'paris' OR agent.skill.billing >= 2\"\n"
      "  order_by: \"agent.skill.billing DESC, agent.idle DESC\"\n"
      "members:\n"
      "  - {agent: ann}\n"
      "  - {agent: zoe}\n";
  auto queue = w.put(ConfigKind::kQueue, support);
  INFO(queue.error);
  REQUIRE(queue.ok());
  CHECK(queue.changes ==
        std::vector<std::string>{
            "~ queue acme/support: routing (none) -> 0s \"agent.skill.billing >= 5 AND "
            "agent.languages HAS task.language\", 30s \"agent.attr.site = 'paris' OR "
            "agent.skill.billing >= 2\", order_by \"agent.skill.billing DESC, agent.idle DESC\"; "
            "members order ann, bob -> ann, zoe; + member zoe; - member bob"});
  const std::string queue_yaml = w.get(ConfigKind::kQueue, "support").yaml;
  CHECK_THAT(queue_yaml,
             Catch::Contains("routing:\n  steps:\n    - target: agent.skill.billing >= 5 AND "
                             "agent.languages HAS task.language\n    - after: 30s\n"));
  CHECK(w.put(ConfigKind::kQueue, queue_yaml).changes.empty());

  // Errors name the field, located in the request's YAML, with the rule's own line:column.
  auto typo = w.put(ConfigKind::kQueue, replaced(support, "billing >= 2", "biling >= 2"));
  CHECK(typo.code == Code::kInvalid);
  CHECK(typo.error ==
        "line 7, column 15: routing.steps[1].target: routing step 2 target: 1:42: unknown skill "
        "'biling' (did you mean 'billing'?)");
  auto order = w.put(ConfigKind::kQueue, replaced(support, "agent.idle DESC", "agent.idel DESC"));
  CHECK(order.code == Code::kInvalid);
  CHECK(order.error ==
        "line 8, column 13: routing.order_by: routing order_by: 1:33: unknown field 'idel' of "
        "agent (did you mean 'idle'?)");
  auto after = w.put(ConfigKind::kQueue, replaced(support, "after: 30s", "after: 0s"));
  CHECK(after.code == Code::kInvalid);
  CHECK(after.error ==
        "line 6, column 14: routing.steps[1].after: routing step 2: steps must begin later than "
        "the step before: `after` must increase");
  auto escalation = w.put(ConfigKind::kQueue, "name: support\nescalation: [{after: 10s}]\n" +
                                                  support.substr(support.find("routing:")));
  CHECK(escalation.code == Code::kInvalid);
  CHECK(escalation.error ==
        "line 3, column 1: routing: a queue with routing steps relaxes them through its targets; "
        "remove escalation");
  auto languages = w.put(ConfigKind::kAgent, "name: zoe\nextension: \"12\"\nlanguages: [en, en]\n");
  CHECK(languages.code == Code::kInvalid);
  CHECK(languages.error ==
        "line 3, column 17: languages[1]: duplicate language \"en\" (first given at line 3)");
  auto attribute =
      w.put(ConfigKind::kAgent, "name: zoe\nextension: \"12\"\nattributes: {site-x: paris}\n");
  CHECK(attribute.code == Code::kInvalid);
  CHECK_THAT(attribute.error,
             Catch::StartsWith("line 3, column 14: attributes.site-x: invalid attribute name"));
  // A skill a rule names may not go.
  auto billing = w.remove(ConfigKind::kSkill, "billing");
  CHECK(billing.code == Code::kReferenced);
  CHECK_THAT(billing.error, Catch::Contains("queue support: routing.steps[0].target: routing step "
                                            "1 target: 1:13: unknown skill 'billing'"));

  // The whole document: exported and applied again, unchanged; changed in place.
  const std::string acme = w.exported();
  auto same = w.apply(acme);
  INFO(acme);
  REQUIRE(same.ok());
  CHECK(same.changes.empty());
  auto applied = w.apply(replaced(acme, "languages: [en, es]", "languages: [es]"));
  INFO(applied.error);
  REQUIRE(applied.ok());
  CHECK(applied.changes == std::vector<std::string>{"~ agent acme/zoe: languages en, es -> es"});
  auto refused = w.apply(replaced(acme, "after: 30s",
                                  "after: 1s\n              target: \"true\"\n"
                                  "            - after: 1s"));
  CHECK(refused.code == Code::kInvalid);
  CHECK_THAT(refused.error, Catch::Contains(": tenants[0].queues[0].routing.steps[2].after: "
                                            "routing step 3: steps must begin later"));
}

TEST_CASE("no change to a user may lock the tenant's admins out of the API", "[app][admin][db]") {
  World w;
  const char* lockout = "this change would leave tenant acme with no admin user";
  // root is acme's only admin: deleting it, taking its role or its token, or letting its
  // only token expire is refused, and nothing is written.
  const std::string before = w.exported();
  for (const AdminResult& refused :
       {w.remove(ConfigKind::kUser, "root"),
        w.put(ConfigKind::kUser,
              "name: root\nroles: [supervisor]\ntokens:\n  - {name: cli, sha256: "
              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}\n"),
        w.put(ConfigKind::kUser, "name: root\nroles: [admin]\n"),
        w.put(ConfigKind::kUser,
              "name: root\nroles: [admin]\ntokens:\n  - {name: cli, expires_at: "
              "\"2001-01-01T00:00:00Z\", sha256: "
              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}\n")}) {
    CHECK(refused.code == Code::kReferenced);
    CHECK_THAT(refused.error, Catch::StartsWith(lockout));
  }
  CHECK(w.exported() == before);
  // With a second admin holding a token, root may go.
  auto second =
      w.put(ConfigKind::kUser,
            "name: deputy\nroles: [admin, supervisor]\ntokens:\n  - {name: cli, "
            "sha256: fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210}\n");
  INFO(second.error);
  REQUIRE(second.ok());
  auto gone = w.remove(ConfigKind::kUser, "root");
  INFO(gone.error);
  REQUIRE(gone.ok());
  CHECK(gone.changes == std::vector<std::string>{"- user acme/root"});
  // ... and now deputy is the last one.
  CHECK(w.remove(ConfigKind::kUser, "deputy").code == Code::kReferenced);
}

TEST_CASE("prompt sets written through the API stay in the daemon's prompt directories",
          "[app][admin][db]") {
  World w;
  w.options.prompt_roots = {"/srv/acd/prompts", "/opt/voice/"};
  for (const char* path : {"/srv/acd/prompts", "/srv/acd/prompts/en", "/opt/voice/de/./x"}) {
    INFO(path);
    auto put = w.put(ConfigKind::kPromptSet, std::string("{name: en, path: \"") + path + "\"}");
    INFO(put.error);
    CHECK(put.ok());
  }
  for (const char* path :
       {"/etc", "/srv/acd/prompts/../../../etc", "/srv/acd/promptsX", "prompts/en", "/opt"}) {
    INFO(path);
    auto put = w.put(ConfigKind::kPromptSet, std::string("{name: en, path: \"") + path + "\"}");
    CHECK(put.code == Code::kForbidden);
    CHECK_THAT(put.error, Catch::StartsWith(std::string("path: \"") + path + "\" is not") &&
                              Catch::EndsWith("/srv/acd/prompts, /opt/voice/"));
  }
  // A whole document too, naming the prompt set's field; nothing is written.
  const std::string before = w.exported();
  auto apply = w.apply(
      "tenants:\n  - name: acme\n    prompt_sets:\n      - {name: en, path: /srv/acd/prompts}\n"
      "      - {name: fr, path: /var/lib/postgresql}\n");
  CHECK(apply.code == Code::kForbidden);
  CHECK_THAT(apply.error, Catch::StartsWith("prompt_sets[1].path: \"/var/lib/postgresql\""));
  CHECK(w.exported() == before);
  // A daemon whose file names no prompt directory lets none be written.
  w.options.prompt_roots.clear();
  auto none = w.put(ConfigKind::kPromptSet, "{name: de, path: /srv/acd/prompts/de}");
  CHECK(none.code == Code::kForbidden);
  CHECK_THAT(none.error, Catch::EndsWith("(it has none)"));
}

TEST_CASE("flows written through the API give their script as source, never a file",
          "[app][admin][db]") {
  World w;
  // A file of the daemon's host is not read (its text would come back in errors and exports).
  const std::string before = w.exported();
  auto file = w.put(ConfigKind::kFlow, "{name: main, file: /etc/passwd, fallback: {hangup: bye}}");
  CHECK(file.code == Code::kInvalid);
  CHECK_THAT(file.error, Catch::Contains("file: a script file is not read for a document sent "
                                         "through the API; give the script's text as source:"));
  CHECK_THAT(file.error, !Catch::Contains("root:"));
  auto apply = w.apply(
      "tenants:\n  - name: acme\n    flows:\n"
      "      - {name: main, file: ../../etc/hostname, fallback: {hangup: bye}}\n");
  CHECK(apply.code == Code::kInvalid);
  CHECK_THAT(apply.error, Catch::Contains("flows[0].file: a script file is not read"));
  CHECK(w.exported() == before);
  // The same script as text is taken.
  auto source =
      w.put(ConfigKind::kFlow, "{name: main, source: \"call.hangup()\", fallback: {hangup: bye}}");
  INFO(source.error);
  CHECK(source.ok());
}

TEST_CASE("reload checks the database and asks the daemon; the worker runs requests in order",
          "[app][admin][db]") {
  World w;
  std::atomic<int> reloads{0};
  w.options.request_reload = [&] { ++reloads; };
  ConfigAdminWorker worker(w.options);
  auto hook = worker.hook();

  auto ask = [&](AdminRequest request) {
    auto promise = std::make_shared<std::promise<std::pair<AdminResult, std::thread::id>>>();
    auto answer = promise->get_future();
    REQUIRE(hook(std::move(request), [promise](AdminResult result) {
      promise->set_value({std::move(result), std::this_thread::get_id()});
    }));
    return answer;
  };
  AdminRequest reload;
  reload.op = Op::kReload;
  reload.tenant = "acme";
  auto [reloaded, thread] = ask(reload).get();
  INFO(reloaded.error);
  REQUIRE(reloaded.ok());
  CHECK(thread != std::this_thread::get_id());
  CHECK(reloads == 1);
  CHECK(reloaded.agents == 2);
  CHECK(reloaded.queues == 1);
  CHECK(reloaded.skills == 2);
  CHECK(reloaded.users == 1);
  CHECK_THAT(reloaded.message, Catch::StartsWith("reload requested; tenant acme in the database: "
                                                 "2 agents, 1 queues, 2 skills, 1 users"));

  // Requests run in order: a put, then an export that sees it.
  AdminRequest put;
  put.op = Op::kPut;
  put.tenant = "globex";
  put.kind = ConfigKind::kAgent;
  put.yaml = "name: dina\nextension: \"21\"\n";
  AdminRequest exported;
  exported.op = Op::kExport;
  exported.tenant = "globex";
  auto first = ask(put);
  auto second = ask(exported);
  CHECK(first.get().first.changes == std::vector<std::string>{"+ agent globex/dina"});
  CHECK_THAT(second.get().first.yaml, Catch::Contains("name: dina"));

  // Stopped: requests are refused.
  worker.stop();
  CHECK_FALSE(hook(exported, [](AdminResult) {}));
}

TEST_CASE("the worker answers what it could not run when it stops", "[app][admin]") {
  // A loopback listener that accepts the worker's connection and says nothing holds the
  // first request in progress, so the queue's bound is exact and not a race with the worker.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);

  ConfigAdminOptions options;
  options.dsn = "host=127.0.0.1 port=" + std::to_string(ntohs(address.sin_port)) +
                " dbname=acd connect_timeout=60 sslmode=disable gssencmode=disable";
  ConfigAdminWorker worker(options, 2);
  std::atomic<int> unavailable{0};
  AdminRequest request;
  request.op = Op::kExport;
  request.tenant = "acme";
  auto count_unavailable = [&](AdminResult r) {
    if (r.code == Code::kUnavailable) ++unavailable;
  };
  REQUIRE(worker.post(request, count_unavailable));
  pollfd waiting{listener, POLLIN, 0};
  REQUIRE(::poll(&waiting, 1, 30000) == 1);  // the worker is connecting: the first job runs
  const int connection = ::accept(listener, nullptr, nullptr);
  REQUIRE(connection >= 0);

  int taken = 1;
  for (int i = 0; i < 4; ++i) taken += worker.post(request, count_unavailable);
  CHECK(taken == 3);  // one running, two waiting, two refused

  ::close(connection);  // the running request fails; later connections are refused
  ::close(listener);
  worker.stop();
  CHECK(unavailable == taken);
}

}  // namespace
}  // namespace acd::app
