#include "engine/app/config.h"

#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/common/digest.h"

namespace acd::app {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> errors_of(std::string_view text) {
  NameRegistry registry;
  auto result = load_config_text(text, "test.yaml", registry);
  std::vector<std::string> out;
  if (!result.ok()) {
    for (const auto& e : result.error()) out.push_back(e.to_string());
  }
  return out;
}

// Expects exactly one error, and returns it.
std::string single_error(std::string_view text) {
  const auto errors = errors_of(text);
  INFO([&] {
    std::string all;
    for (const auto& e : errors) all += e + "\n";
    return all;
  }());
  REQUIRE(errors.size() == 1);
  return errors.front();
}

DaemonConfig loaded(std::string_view text, NameRegistry& registry) {
  auto result = load_config_text(text, "test.yaml", registry);
  if (!result.ok()) {
    for (const auto& e : result.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(result.ok());
  return std::move(result).value();
}

const core::AgentConfig& agent_named(const DaemonConfig& c, std::string_view name) {
  auto it = std::find_if(c.domain.agents.begin(), c.domain.agents.end(),
                         [&](const auto& a) { return a.name == name; });
  REQUIRE(it != c.domain.agents.end());
  return *it;
}

const core::QueueConfig& queue_named(const DaemonConfig& c, std::string_view name) {
  auto it = std::find_if(c.domain.queues.begin(), c.domain.queues.end(),
                         [&](const auto& q) { return q.name == name; });
  REQUIRE(it != c.domain.queues.end());
  return *it;
}

TEST_CASE("config: the example file loads", "[config]") {
  NameRegistry registry;
  auto result = load_config_file(ACD_EXAMPLE_CONFIG, registry);
  if (!result.ok()) {
    for (const auto& e : result.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(result.ok());
  const DaemonConfig& c = result.value();

  CHECK(c.path == ACD_EXAMPLE_CONFIG);
  CHECK(c.log.level == LogLevel::kInfo);
  CHECK(c.log.format == LogFormat::kText);
  CHECK(c.core.snapshot_interval == 500ms);
  CHECK(c.shutdown.drain_timeout == 30s);

  REQUIRE(c.domain.tenants.size() == 2);
  CHECK(c.domain.tenants[0].name == "acme");
  CHECK(c.domain.tenants[0].id.value == 0);
  CHECK(c.domain.tenants[1].name == "globex");
  CHECK(c.domain.skills.size() == 4);
  CHECK(c.domain.teams.size() == 3);
  CHECK(c.domain.agents.size() == 15);
  CHECK(c.domain.queues.size() == 4);
  CHECK(c.domain.members.size() == 25);

  // Ids in file order.
  CHECK(agent_named(c, "alice").id.value == 0);
  CHECK(agent_named(c, "oscar").id.value == 11);
  CHECK(agent_named(c, "xena").id.value == 12);
  CHECK(agent_named(c, "xena").tenant == c.domain.tenants[1].id);

  const auto& alice = agent_named(c, "alice");
  CHECK(alice.extension == "1001");
  CHECK(alice.outbound_wrap_up == 30s);
  REQUIRE(alice.skills.size() == 2);
  CHECK(alice.skills[0].level == 9);
  CHECK(agent_named(c, "oscar").work_mode == core::WorkMode::kManual);
  CHECK(alice.languages == std::vector<std::string>{"en", "es"});
  CHECK(alice.attributes ==
        std::vector<std::pair<std::string, std::string>>{{"site", "berlin"}, {"level", "senior"}});
  CHECK(agent_named(c, "bob").languages.empty());
  for (const auto& q : c.domain.queues) CHECK_FALSE(q.routing.enabled());
  // The demo agents take three chats and two e-mails at once, one of each other channel.
  for (const auto& a : c.domain.agents) {
    INFO(a.name);
    CHECK(a.capacity == core::ChannelCapacity{3, 2, 1, 1, 1});
  }

  const auto& team = c.domain.teams[0];
  CHECK(team.name == "front-line");
  CHECK(team.break_policy.max_concurrent == 2);
  CHECK(team.break_policy.max_duration == 10min);
  CHECK(team.break_policy.over_limit == core::BreakPolicy::OverLimit::kWaitlist);
  CHECK(team.break_policy.reasons == std::vector<std::string>{"break", "lunch"});

  const auto& sales = queue_named(c, "sales");
  CHECK(sales.strategy == core::Strategy::kLongestIdle);
  REQUIRE(sales.required_skills.size() == 2);
  CHECK(sales.required_skills[0].min_level == 6);
  CHECK(sales.required_skills[1].optional);
  CHECK(sales.max_wait == 3min);
  CHECK(sales.on_timeout.kind == core::ExitDestination::Kind::kVoicemail);
  CHECK(sales.on_timeout.target == "sales-mailbox");
  CHECK(sales.on_full.kind == core::ExitDestination::Kind::kCallback);
  REQUIRE(sales.escalation.size() == 3);
  CHECK(sales.escalation[2].max_tier == 2);
  CHECK(sales.overflow.enabled);
  CHECK(sales.overflow.max_tier == 4);
  CHECK(sales.overflow.sustain == 20s);

  const auto& support = queue_named(c, "support");
  CHECK(support.strategy == core::Strategy::kRoundRobin);
  CHECK(support.sticky_window == 1h);
  CHECK(support.sticky_wait == 20s);
  CHECK(support.rona_policy == core::RonaPolicy::kReady);

  const auto& billing = queue_named(c, "billing");
  CHECK_FALSE(billing.join_when_empty);
  CHECK(billing.on_empty.kind == core::ExitDestination::Kind::kQueue);
  CHECK(billing.on_empty.queue == support.id);

  CHECK(queue_named(c, "helpdesk").strategy == core::Strategy::kRingAll);
  CHECK(queue_named(c, "helpdesk").tenant == c.domain.tenants[1].id);

  // Members are in list order, with tiers.
  std::vector<core::QueueMember> sales_members;
  for (const auto& m : c.domain.members) {
    if (m.queue == sales.id) sales_members.push_back(m);
  }
  REQUIRE(sales_members.size() == 8);
  CHECK(sales_members[0].agent == alice.id);
  CHECK(sales_members[3].penalty == 1);
  CHECK(sales_members[7].tier == 4);

  CHECK(c.demo.enabled);
  REQUIRE(c.demo.queues.size() == 4);
  CHECK(c.demo.queues[0].name == "acme/sales");
  CHECK(c.demo.queues[0].weight == 4.0);
  CHECK(c.demo.queues[3].queue == queue_named(c, "helpdesk").id);

  CHECK(c.names->agent(alice.id) == "alice");
  CHECK(to_core_config(c).agents.size() == 15);

  // The SIP section and the tenant's SIP settings.
  CHECK(c.sip.enabled);
  REQUIRE(c.sip.listen.size() == 2);
  CHECK(c.sip.listen[0].transport == sip::Transport::kUdp);
  CHECK(c.sip.listen[1].transport == sip::Transport::kTcp);
  CHECK(c.sip.listen[1].address == "127.0.0.1");
  CHECK(c.sip.listen[1].port == 5060);
  CHECK(c.sip.effective_public_address() == "127.0.0.1");
  CHECK(c.sip.effective_media_address() == "127.0.0.1");
  CHECK(c.sip.rtp_port_min == 20000);
  CHECK(c.sip.rtp_port_max == 29999);
  CHECK(c.sip.login_on_register == sip::LoginOnRegister::kReady);
  // No music-on-hold class: the example must load where no audio has been made yet.
  CHECK(c.media.music_on_hold.empty());
  CHECK(c.media.latch_relearn_after == 5s);
  CHECK(c.media.rtcp_interval == 5s);
  CHECK(c.media.realtime_priority == 0);
  CHECK(queue_named(c, "sales").music_on_hold.empty());
  const TenantSettings& acme = c.tenants[0];
  CHECK_FALSE(acme.allow_external_transfer);
  CHECK(acme.outbound_trunk == "local-test");
  REQUIRE(acme.trunks.size() == 2);
  const TrunkConfig& local = acme.trunks[1];
  CHECK(local.name == "local-test");
  CHECK(local.allowed_sources == std::vector<std::string>{"127.0.0.0/8"});
  CHECK(local.outbound_uri == "sip:127.0.0.1:5080;transport=udp");
  REQUIRE(local.dids.size() == 2);
  CHECK(local.dids[0].number == "100");
  CHECK(local.dids[0].entry.target == "sales");
  CHECK(local.dids[0].priority == 10);
  CHECK(local.dids[1].entry.target == "support");
  CHECK(local.dids[1].priority == 0);
  REQUIRE(acme.agent_sip.size() == 2);
  CHECK(acme.agent_sip[0].credentials.has_value());
  CHECK(acme.agent_sip[0].contact.empty());
  CHECK(acme.agent_sip[1].agent == "bob");
  CHECK_FALSE(acme.agent_sip[1].credentials.has_value());
  CHECK(acme.agent_sip[1].contact == "sip:1002@127.0.0.1:5070");
}

constexpr std::string_view kMinimal =
    "tenants:\n"                       // 1
    "  - name: acme\n"                 // 2
    "    skills: [english]\n"          // 3
    "    agents:\n"                    // 4
    "      - name: alice\n"            // 5
    "        extension: \"1001\"\n"    // 6
    "        skills: {english: 5}\n"   // 7
    "    queues:\n"                    // 8
    "      - name: sales\n"            // 9
    "        strategy: round-robin\n"  // 10
    "        members:\n"               // 11
    "          - agent: alice\n";      // 12

TEST_CASE("config: a minimal file loads with defaults", "[config]") {
  NameRegistry registry;
  const DaemonConfig c = loaded(kMinimal, registry);
  CHECK(c.log.level == LogLevel::kInfo);
  CHECK_FALSE(c.demo.enabled);
  CHECK_FALSE(c.sip.enabled);
  CHECK(c.sip.listen.empty());
  CHECK(c.tenants[0].outbound_trunk.empty());
  CHECK_FALSE(c.tenants[0].allow_external_transfer);
  REQUIRE(c.domain.queues.size() == 1);
  const auto& q = c.domain.queues[0];
  CHECK(q.ring_timeout == 15s);
  CHECK(q.sl_threshold == 20s);
  CHECK(q.on_timeout.kind == core::ExitDestination::Kind::kHangup);
  REQUIRE(c.domain.members.size() == 1);
  CHECK(c.domain.members[0].tier == 1);
  CHECK(c.domain.members[0].weight == 1);
}

TEST_CASE("config: unknown keys are errors with location and a suggestion", "[config]") {
  CHECK(single_error("log:\n  level: info\n  formt: json\ntenants: []\n") ==
        "test.yaml:3:3: log.formt: unknown key \"formt\" (did you mean \"format\"?); "
        "expected one of level, format");
  CHECK_THAT(
      single_error("tenants:\n  - name: acme\n    queues:\n      - name: q\n"
                   "        ring_timout: 10s\n"),
      Catch::StartsWith("test.yaml:5:9: tenants[0].queues[0].ring_timout: unknown key "
                        "\"ring_timout\" (did you mean \"ring_timeout\"?); expected one of name, "
                        "strategy, "));
  const auto top = errors_of("tenant: []\n");
  REQUIRE(top.size() == 2);
  CHECK_THAT(top[0],
             Catch::StartsWith(
                 "test.yaml:1:1: tenant: unknown key \"tenant\" (did you mean \"tenants\"?)"));
  CHECK(top[1] == "test.yaml:1:1: missing required key \"tenants\"");
}

TEST_CASE("config: bad durations name the key and the problem", "[config]") {
  CHECK(
      single_error("shutdown:\n  drain_timeout: 10 minutes\ntenants: []\n") ==
      "test.yaml:2:18: shutdown.drain_timeout: malformed duration \"10 minutes\"; every part of a "
      "compound duration needs a unit (ms, s, m, h)");
  CHECK(
      single_error("shutdown:\n  drain_timeout: -5s\ntenants: []\n") ==
      "test.yaml:2:18: shutdown.drain_timeout: negative duration \"-5s\"; durations must be >= 0");
  CHECK(single_error("core:\n  snapshot_interval: 0s\ntenants: []\n") ==
        "test.yaml:2:22: core.snapshot_interval: must be greater than zero");
}

TEST_CASE("config: bad levels and tiers", "[config]") {
  std::string text(kMinimal);
  text.replace(text.find("english: 5}"), 11, "english: 11}");
  CHECK(single_error(text) ==
        "test.yaml:7:27: tenants[0].agents[0].skills.english: value 11 is out of range; "
        "expected an integer from 1 to 10");

  text = std::string(kMinimal) + "            tier: 10\n";
  CHECK(single_error(text) ==
        "test.yaml:13:19: tenants[0].queues[0].members[0].tier: value 10 is out of range; "
        "expected an integer from 1 to 9");

  text = std::string(kMinimal);
  text.replace(text.find("english: 5}"), 11, "english: high}");
  CHECK(single_error(text) ==
        "test.yaml:7:27: tenants[0].agents[0].skills.english: expected an integer from 1 to 10, "
        "got \"high\"");
}

TEST_CASE("config: an agent's capacity per channel", "[config]") {
  // kMinimal with `capacity_line` as line 8, in alice's mapping.
  auto with_capacity = [](std::string_view capacity_line) {
    std::string text(kMinimal);
    const std::string after = "        skills: {english: 5}\n";
    text.insert(text.find(after) + after.size(), std::string(capacity_line) + "\n");
    return text;
  };
  NameRegistry registry;
  CHECK(agent_named(loaded(kMinimal, registry), "alice").capacity == core::kDefaultCapacity);
  CHECK(
      agent_named(loaded(with_capacity("        capacity: {chat: 3, email: 2, sms: 0}"), registry),
                  "alice")
          .capacity == core::ChannelCapacity{3, 2, 0, 1, 1});
  CHECK(agent_named(loaded(with_capacity("        capacity:\n          web-form: 32\n"
                                         "          callback: 0"),
                           registry),
                    "alice")
            .capacity == core::ChannelCapacity{1, 1, 1, 32, 0});
  CHECK(agent_named(loaded(with_capacity("        capacity: {}"), registry), "alice").capacity ==
        core::kDefaultCapacity);

  CHECK(single_error(with_capacity("        capacity: {chta: 3}")) ==
        "test.yaml:8:20: tenants[0].agents[0].capacity.chta: unknown channel \"chta\" (did you "
        "mean \"chat\"?); expected one of chat, email, sms, web-form, callback");
  CHECK(single_error(with_capacity("        capacity: {voice: 1}")) ==
        "test.yaml:8:20: tenants[0].agents[0].capacity.voice: unknown channel \"voice\"; expected "
        "one of chat, email, sms, web-form, callback");
  CHECK(single_error(with_capacity("        capacity: {chat: 33}")) ==
        "test.yaml:8:26: tenants[0].agents[0].capacity.chat: value 33 is out of range; expected "
        "an integer from 0 to 32");
  CHECK(single_error(with_capacity("        capacity: {sms: -1}")) ==
        "test.yaml:8:25: tenants[0].agents[0].capacity.sms: value -1 is out of range; expected "
        "an integer from 0 to 32");
  CHECK(single_error(with_capacity("        capacity: {email: many}")) ==
        "test.yaml:8:27: tenants[0].agents[0].capacity.email: expected an integer from 0 to 32, "
        "got \"many\"");
  CHECK(single_error(with_capacity("        capacity: {email: 2.5}")) ==
        "test.yaml:8:27: tenants[0].agents[0].capacity.email: expected an integer from 0 to 32, "
        "got \"2.5\"");
  CHECK(single_error(with_capacity("        capacity: 3")) ==
        "test.yaml:8:19: tenants[0].agents[0].capacity: expected a map of channel: tasks at once "
        "(0-32) such as {chat: 3, email: 2}, got \"3\"");
  CHECK(single_error(with_capacity("        capacity: [chat]")) ==
        "test.yaml:8:19: tenants[0].agents[0].capacity: expected a map of channel: tasks at once "
        "(0-32) such as {chat: 3, email: 2}, got a list");
  CHECK(single_error(with_capacity("        capacity: {chat: 3, chat: 2}")) ==
        "test.yaml:8:29: tenants[0].agents[0].capacity.chat: duplicate channel \"chat\" (first "
        "given at line 8)");
  // Every bad channel is reported, not only the first.
  CHECK(errors_of(with_capacity("        capacity: {chat: 99, mail: 1, sms: x}")).size() == 3);
}

TEST_CASE("config: an agent's languages and attributes", "[config]") {
  // kMinimal with `line` as line 8, in alice's mapping.
  auto with_line = [](std::string_view line) {
    std::string text(kMinimal);
    const std::string after = "        skills: {english: 5}\n";
    text.insert(text.find(after) + after.size(), std::string(line) + "\n");
    return text;
  };
  using Attributes = std::vector<std::pair<std::string, std::string>>;
  NameRegistry registry;
  const DaemonConfig minimal = loaded(kMinimal, registry);
  const auto& plain = agent_named(minimal, "alice");
  CHECK(plain.languages.empty());
  CHECK(plain.attributes.empty());
  const DaemonConfig c = loaded(with_line("        languages: [en, es, pt-BR]\n"
                                          "        attributes: {site: paris, level: senior, "
                                          "floor: 3, note: \"\", _x9: \"a, b\"}"),
                                registry);
  const auto& alice = agent_named(c, "alice");
  CHECK(alice.languages == std::vector<std::string>{"en", "es", "pt-BR"});
  // In the file's order.
  CHECK(alice.attributes ==
        Attributes{
            {"site", "paris"}, {"level", "senior"}, {"floor", "3"}, {"note", ""}, {"_x9", "a, b"}});
  CHECK(agent_named(loaded(with_line("        languages: []\n        attributes: {}"), registry),
                    "alice")
            .languages.empty());
  const std::string longest_language(35, 'x');
  const std::string longest_name = "a" + std::string(63, '_');
  const std::string longest_value(256, 'v');
  const DaemonConfig longest_config =
      loaded(with_line("        languages: [" + longest_language + "]\n        attributes: {" +
                       longest_name + ": " + longest_value + "}"),
             registry);
  const auto& longest = agent_named(longest_config, "alice");
  CHECK(longest.languages == std::vector<std::string>{longest_language});
  CHECK(longest.attributes == Attributes{{longest_name, longest_value}});

  // Languages.
  CHECK(single_error(with_line("        languages: [en, e_s]")) ==
        "test.yaml:8:25: tenants[0].agents[0].languages[1]: invalid language \"e_s\"; expected 1 "
        "to 35 letters, digits or '-', such as \"en\" or \"pt-BR\"");
  CHECK(single_error(with_line("        languages: [\"\"]")) ==
        "test.yaml:8:21: tenants[0].agents[0].languages[0]: invalid language \"\"; expected 1 to "
        "35 letters, digits or '-', such as \"en\" or \"pt-BR\"");
  CHECK_THAT(single_error(with_line("        languages: [" + longest_language + "x]")),
             Catch::StartsWith("test.yaml:8:21: tenants[0].agents[0].languages[0]: invalid "
                               "language \"xxxxxxxx"));
  CHECK(single_error(with_line("        languages:\n          - en\n          - es\n"
                               "          - en")) ==
        "test.yaml:11:13: tenants[0].agents[0].languages[2]: duplicate language \"en\" (first "
        "given at line 9)");
  CHECK(single_error(with_line("        languages: en")) ==
        "test.yaml:8:20: tenants[0].agents[0].languages: expected a list, got \"en\"");
  CHECK(single_error(with_line("        languages: [[en]]")) ==
        "test.yaml:8:21: tenants[0].agents[0].languages[0]: expected a string, got a list");
  std::string many;
  for (int i = 0; i < 33; ++i) many += (i ? ", l" : "l") + std::to_string(i);
  CHECK(single_error(with_line("        languages: [" + many + "]")) ==
        "test.yaml:8:20: tenants[0].agents[0].languages: expected at most 32 languages, got 33");

  // Attributes.
  CHECK(single_error(with_line("        attributes: {9site: paris}")) ==
        "test.yaml:8:22: tenants[0].agents[0].attributes.9site: invalid attribute name "
        "\"9site\"; expected 1 to 64 letters, digits or '_', not starting with a digit (rules "
        "read it as agent.attr.<name>)");
  CHECK_THAT(single_error(with_line("        attributes: {site-name: paris}")),
             Catch::Contains("attributes.site-name: invalid attribute name \"site-name\""));
  CHECK_THAT(single_error(with_line("        attributes: {" + longest_name + "x: paris}")),
             Catch::Contains("invalid attribute name"));
  CHECK(single_error(with_line("        attributes:\n          site: paris\n"
                               "          site: lyon")) ==
        "test.yaml:10:11: tenants[0].agents[0].attributes.site: duplicate attribute \"site\" "
        "(first given at line 9)");
  CHECK(single_error(with_line("        attributes: {site: [paris]}")) ==
        "test.yaml:8:28: tenants[0].agents[0].attributes.site: expected a string, got a list");
  CHECK(single_error(with_line("        attributes: {site: }")) ==
        "test.yaml:8:28: tenants[0].agents[0].attributes.site: expected a string, got nothing");
  CHECK(single_error(with_line("        attributes: {note: " + longest_value + "v}")) ==
        "test.yaml:8:28: tenants[0].agents[0].attributes.note: a value of 257 characters is too "
        "long; expected at most 256");
  // Characters, not bytes: 256 two-byte characters fit.
  std::string accents;
  for (int i = 0; i < 256; ++i) accents += "\xC3\xA9";
  CHECK(agent_named(loaded(with_line("        attributes: {note: " + accents + "}"), registry),
                    "alice")
            .attributes == Attributes{{"note", accents}});
  CHECK(single_error(with_line("        attributes: [site]")) ==
        "test.yaml:8:21: tenants[0].agents[0].attributes: expected a map of name: value such as "
        "{site: paris, level: senior}, got a list");
  std::string pairs;
  for (int i = 0; i < 65; ++i) pairs += (i ? ", a" : "a") + std::to_string(i) + ": x";
  CHECK(single_error(with_line("        attributes: {" + pairs + "}")) ==
        "test.yaml:8:21: tenants[0].agents[0].attributes: expected at most 64 attributes, got 65");
  CHECK_THAT(single_error(with_line("        atributes: {site: paris}")),
             Catch::StartsWith("test.yaml:8:9: tenants[0].agents[0].atributes: unknown key "
                               "\"atributes\" (did you mean \"attributes\"?)"));
  // Every problem is reported, not only the first.
  CHECK(errors_of(with_line("        languages: [e_s, en, en]\n        attributes: {9: x, y: [z]}"))
            .size() == 4);
}

// A tenant with a queue routed by rules (the lines are numbered for the errors below).
constexpr std::string_view kRouting =
    "tenants:\n"                                                                           // 1
    "  - name: acme\n"                                                                     // 2
    "    skills: [billing, english]\n"                                                     // 3
    "    agents:\n"                                                                        // 4
    "      - {name: alice, extension: \"1001\", skills: {billing: 5}, languages: [en]}\n"  // 5
    "    queues:\n"                                                                        // 6
    "      - name: sales\n"                                                                // 7
    "        members: [{agent: alice}]\n"                                                  // 8
    "        routing:\n"                                                                   // 9
    "          steps:\n"                                                                   // 10
    "            - target: \"agent.skill.billing >= 5 AND agent.languages HAS "
    "task.language\"\n"                                                    // 11
    "            - after: 30s\n"                                           // 12
    "              target: \"agent.skill.billing >= 2\"\n"                 // 13
    "          order_by: \"agent.skill.billing DESC, agent.idle DESC\"\n"  // 14
    "      - name: support\n";                                             // 15

// kRouting with the first `from` replaced by `to`.
std::string routing_with(std::string_view from, std::string_view to) {
  std::string text(kRouting);
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

TEST_CASE("config: a queue's routing rules", "[config]") {
  NameRegistry registry;
  const DaemonConfig c = loaded(kRouting, registry);
  const auto& sales = queue_named(c, "sales");
  REQUIRE(sales.routing.steps.size() == 2);
  CHECK(sales.routing.enabled());
  CHECK(sales.routing.steps[0] ==
        core::RoutingStep{0s, "agent.skill.billing >= 5 AND agent.languages HAS task.language"});
  CHECK(sales.routing.steps[1] == core::RoutingStep{30s, "agent.skill.billing >= 2"});
  CHECK(sales.routing.order_by == "agent.skill.billing DESC, agent.idle DESC");
  CHECK_FALSE(queue_named(c, "support").routing.enabled());
  // An explicit `after: 0s` on the first step; no order_by; another queue's figures and
  // agent attributes (any key a rule mentions is declared).
  const DaemonConfig second = loaded(
      routing_with("            - target: ", "            - after: 0s\n              target: ") +
          "        routing: {steps: [{target: \"queue.sales.waiting > 2 AND "
          "agent.attr.site = 'paris'\"}]}\n",
      registry);
  const auto& one = queue_named(second, "support");
  CHECK(one.routing.steps == std::vector<core::RoutingStep>{
                                 {0s, "queue.sales.waiting > 2 AND agent.attr.site = 'paris'"}});
  CHECK(one.routing.order_by.empty());

  // Errors in the rules: at the line of the text, with the rules' own line:column.
  CHECK(single_error(routing_with("billing >= 2", "biling >= 2")) ==
        "test.yaml:13:23: tenants[0].queues[0].routing.steps[1].target: routing step 2 target: "
        "1:13: unknown skill 'biling' (did you mean 'billing'?)");
  CHECK(single_error(routing_with("HAS task.language\"", "HAS\"")) ==
        "test.yaml:11:23: tenants[0].queues[0].routing.steps[0].target: routing step 1 target: "
        "1:49: expected an operand after 'HAS', got end of input");
  CHECK(single_error(routing_with("\"agent.skill.billing >= 2\"", "\"agent.idle\"")) ==
        "test.yaml:13:23: tenants[0].queues[0].routing.steps[1].target: routing step 2 target: "
        "1:1: a routing condition must be true or false, got duration");
  CHECK(single_error(routing_with("agent.idle DESC", "agent.name DESC")) ==
        "test.yaml:14:21: tenants[0].queues[0].routing.order_by: routing order_by: 1:27: cannot "
        "order by a string: order by numbers, durations, times of day or booleans");
  // Every text with an error is reported.
  CHECK(errors_of(routing_with("billing >= 2", "biling >= 2 AND")).size() == 1);
  CHECK(errors_of(routing_with("billing >= 5", "biling >= 5")).size() == 1);
  const auto three = errors_of(routing_with("billing >= 5", "biling >= 5") +
                               "        routing: {steps: [{target: \"1\"}], order_by: \"x\"}\n");
  CHECK(three.size() == 3);
  // A step's `after` and its target, and the order: all three of the queue's problems.
  std::string all_wrong = routing_with("after: 30s\n              target: \"agent.skill.billing",
                                       "after: 0s\n              target: \"agent.skill.biling");
  all_wrong.replace(all_wrong.find("agent.idle DESC"), 15, "agent.idel DESC");
  CHECK(errors_of(all_wrong) ==
        std::vector<std::string>{
            "test.yaml:12:22: tenants[0].queues[0].routing.steps[1].after: routing step 2: steps "
            "must begin later than the step before: `after` must increase",
            "test.yaml:13:23: tenants[0].queues[0].routing.steps[1].target: routing step 2 "
            "target: 1:13: unknown skill 'biling' (did you mean 'billing'?)",
            "test.yaml:14:21: tenants[0].queues[0].routing.order_by: routing order_by: 1:33: "
            "unknown field 'idel' of agent (did you mean 'idle'?)"});

  // The steps' structure: at the `after` of the step.
  CHECK(single_error(routing_with("            - target: ",
                                  "            - after: 5s\n              target: ")) ==
        "test.yaml:11:22: tenants[0].queues[0].routing.steps[0].after: routing step 1: the first "
        "step applies from the start: its `after` must be 0");
  CHECK(single_error(routing_with("after: 30s", "after: 0s")) ==
        "test.yaml:12:22: tenants[0].queues[0].routing.steps[1].after: routing step 2: steps "
        "must begin later than the step before: `after` must increase");
  CHECK(single_error(routing_with("            - after: 30s\n              target: ",
                                  "            - target: ")) ==
        "test.yaml:12:15: tenants[0].queues[0].routing.steps[1]: missing required key \"after\"");
  CHECK(single_error(routing_with("after: 30s", "after: soon")) ==
        "test.yaml:12:22: tenants[0].queues[0].routing.steps[1].after: malformed duration "
        "\"soon\"; expected a number with a unit (ms, s, m, h), e.g. \"20s\"");
  CHECK(single_error("tenants:\n  - name: acme\n    queues:\n      - name: q\n"
                     "        routing: {steps: []}\n") ==
        "test.yaml:5:26: tenants[0].queues[0].routing.steps: expected at least one step, such as "
        "{target: \"agent.skill.billing >= 5\"}; leave routing out to route by skills and "
        "escalation");
  CHECK(single_error("tenants:\n  - name: acme\n    queues:\n      - name: q\n"
                     "        routing: {order_by: \"agent.idle DESC\"}\n") ==
        "test.yaml:5:18: tenants[0].queues[0].routing: missing required key \"steps\"");
  CHECK(errors_of(routing_with("            - after: 30s\n", "            - aftr: 30s\n")) ==
        std::vector<std::string>{
            "test.yaml:12:15: tenants[0].queues[0].routing.steps[1].aftr: unknown key \"aftr\" "
            "(did you mean \"after\"?); expected one of after, target",
            "test.yaml:12:15: tenants[0].queues[0].routing.steps[1]: missing required key "
            "\"after\""});
  CHECK(single_error(routing_with("          order_by:", "          oder_by:")) ==
        "test.yaml:14:11: tenants[0].queues[0].routing.oder_by: unknown key \"oder_by\" (did you "
        "mean \"order_by\"?); expected one of steps, order_by");
  CHECK(single_error(routing_with("target: \"agent.skill.billing >= 2\"", "target: \"\"")) ==
        "test.yaml:13:23: tenants[0].queues[0].routing.steps[1].target: expected a routing "
        "condition such as \"agent.skill.billing >= 5\", got an empty string");
  CHECK(single_error(routing_with("target: \"agent.skill.billing >= 2\"", "target: [a]")) ==
        "test.yaml:13:23: tenants[0].queues[0].routing.steps[1].target: expected a string, got a "
        "list");
  CHECK(single_error(routing_with("            - after: 30s\n              target: "
                                  "\"agent.skill.billing >= 2\"\n",
                                  "            - after: 30s\n")) ==
        "test.yaml:12:15: tenants[0].queues[0].routing.steps[1]: missing required key \"target\"");
  CHECK(single_error("tenants:\n  - name: acme\n    queues:\n      - name: q\n"
                     "        routing: on\n") ==
        "test.yaml:5:18: tenants[0].queues[0].routing: expected a map, got \"on\"");

  // The example file's commented-out routing is valid (for a queue without escalation).
  std::ifstream example_file(ACD_EXAMPLE_CONFIG);
  std::stringstream example_text;
  example_text << example_file.rdbuf();
  const std::string example = example_text.str();
  auto at = example.find("        # routing:\n");
  REQUIRE(at != std::string::npos);
  std::string example_routing;
  while (at < example.size() && example.compare(at, 10, "        # ") == 0) {
    const auto end = example.find('\n', at);
    if (example.compare(at, 11, "        # r") != 0 && example.compare(at, 12, "        #   ") != 0)
      break;
    example_routing += "        " + example.substr(at + 10, end - at - 10) + "\n";
    at = end + 1;
  }
  INFO(example_routing);
  CHECK(queue_named(
            loaded(routing_with("billing, english", "billing, english, spanish") + example_routing,
                   registry),
            "support")
            .routing.steps.size() == 2);

  // Not beside escalation or an enabled overflow rule: at the `routing` key.
  CHECK(single_error(routing_with("        routing:\n",
                                  "        escalation: [{after: 10s, relax_min_level: 1}]\n"
                                  "        routing:\n")) ==
        "test.yaml:10:9: tenants[0].queues[0].routing: a queue with routing steps relaxes them "
        "through its targets; remove escalation");
  CHECK(single_error(routing_with("        routing:\n",
                                  "        overflow: {enabled: true}\n        routing:\n")) ==
        "test.yaml:10:9: tenants[0].queues[0].routing: a queue with routing steps names backup "
        "tiers with agent.tier; remove overflow");
  // A disabled overflow rule and an empty escalation list are no routing of their own.
  CHECK(queue_named(loaded(routing_with("        routing:\n",
                                        "        overflow: {enabled: false, min_calls: 3}\n"
                                        "        escalation: []\n        routing:\n"),
                           registry),
                    "sales")
            .routing.enabled());
}

TEST_CASE("config: unknown strategy lists the known ones", "[config]") {
  std::string text(kMinimal);
  text.replace(text.find("round-robin"), 11, "fastest");
  CHECK(
      single_error(text) ==
      "test.yaml:10:19: tenants[0].queues[0].strategy: unknown strategy \"fastest\"; expected one "
      "of longest-idle, least-talk-time, fewest-calls, round-robin, top-down, ring-all, random, "
      "weighted-random, best-proficiency");
}

TEST_CASE("config: references across tenants are errors naming both tenants", "[config]") {
  const std::string text = std::string(kMinimal) +
                           "          - agent: zoe\n"         // 13
                           "  - name: globex\n"               // 14
                           "    agents:\n"                    // 15
                           "      - name: zoe\n"              // 16
                           "        extension: \"1001\"\n"    // 17
                           "        skills: {english: 3}\n";  // 18
  const auto errors = errors_of(text);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] ==
        "test.yaml:13:20: tenants[0].queues[0].members[1].agent: agent \"zoe\" belongs to tenant "
        "\"globex\", not to tenant \"acme\"; a tenant may reference only its own agents");
  CHECK(errors[1] ==
        "test.yaml:18:18: tenants[1].agents[0].skills.english: skill \"english\" belongs to tenant "
        "\"acme\", not to tenant \"globex\"; a tenant may reference only its own skills");
}

TEST_CASE("config: unknown references suggest a close name", "[config]") {
  std::string text(kMinimal);
  text.replace(text.find("agent: alice"), 12, "agent: alcie");
  CHECK(single_error(text) ==
        "test.yaml:12:20: tenants[0].queues[0].members[0].agent: unknown agent \"alcie\" in tenant "
        "\"acme\" (did you mean \"alice\"?)");
}

TEST_CASE("config: duplicate names", "[config]") {
  const std::string agent_twice = std::string(kMinimal) +
                                  "    teams:\n"         // 13
                                  "      - name: t1\n"   // 14
                                  "      - name: t1\n";  // 15
  CHECK(
      single_error(agent_twice) ==
      "test.yaml:15:15: tenants[0].teams[1].name: duplicate team \"t1\" in tenant \"acme\" (first "
      "defined at line 14)");

  CHECK(single_error("tenants:\n  - name: acme\n  - name: acme\n") ==
        "test.yaml:3:11: tenants[1].name: duplicate tenant \"acme\" (first defined at line 2)");

  CHECK(single_error("log:\n  level: info\n  level: debug\ntenants: []\n") ==
        "test.yaml:3:3: log.level: duplicate key \"level\" (first given at line 2)");

  // The same name in two tenants is fine.
  NameRegistry registry;
  const DaemonConfig c = loaded(
      "tenants:\n  - name: a\n    queues: [{name: q}]\n  - name: b\n    queues: [{name: q}]\n",
      registry);
  REQUIRE(c.domain.queues.size() == 2);
  CHECK(c.domain.queues[0].id != c.domain.queues[1].id);
}

TEST_CASE("config: breakout keys let a waiting caller leave a queue", "[config]") {
  NameRegistry registry;
  const DaemonConfig c = loaded(R"(tenants:
  - name: acme
    queues:
      - name: sales
        breakout:
          prompt: sales-breakout
          keys:
            "1": {voicemail: sales-box}
            "2": {callback: "caller asked"}
            "*": {queue: support}
      - name: support
)",
                                registry);
  const auto& sales = queue_named(c, "sales");
  CHECK(sales.breakout_prompt == "sales-breakout");
  REQUIRE(sales.breakout.size() == 3);  // in key order
  CHECK(sales.breakout[0].first == '*');
  CHECK(sales.breakout[0].second.kind == core::ExitDestination::Kind::kQueue);
  CHECK(sales.breakout[0].second.queue == queue_named(c, "support").id);
  CHECK(sales.breakout[1].first == '1');
  CHECK(sales.breakout[1].second.kind == core::ExitDestination::Kind::kVoicemail);
  CHECK(sales.breakout[1].second.target == "sales-box");
  CHECK(sales.breakout[2].first == '2');
  CHECK(sales.breakout[2].second.kind == core::ExitDestination::Kind::kCallback);
  CHECK(queue_named(c, "support").breakout.empty());

  const std::string head = "tenants:\n  - name: acme\n    queues:\n      - name: q\n";
  CHECK(single_error(head + "        breakout: {keys: {\"12\": {voicemail: box}}}\n") ==
        "test.yaml:5:27: tenants[0].queues[0].breakout.keys.12: invalid key \"12\"; expected "
        "one of 0-9, \"*\" or \"#\"");
  CHECK(single_error(head + "        breakout: {keys: {}}\n") ==
        "test.yaml:5:26: tenants[0].queues[0].breakout.keys: expected a map of key: exit (keys "
        "0-9, \"*\", \"#\"; exits as in on_timeout), got a map");
  CHECK(single_error(head + "        breakout: {prompt: x}\n") ==
        "test.yaml:5:19: tenants[0].queues[0].breakout: missing required key \"keys\"");
  CHECK(single_error(head + "        breakout: {keys: {\"1\": {queue: q}}}\n") ==
        "test.yaml:5:40: tenants[0].queues[0].breakout.keys.1.queue: queue \"q\" cannot exit "
        "to itself");
  CHECK(single_error(head + "        breakout: {keys: {\"1\": {voicemail: ../etc}}}\n")
            .find("breakout.keys.1.voicemail") != std::string::npos);
  INFO(single_error(head + "        breakout: {keys: {\"1\": {hangup: x}}, promt: y}\n"));
  CHECK(single_error(head + "        breakout: {keys: {\"1\": {hangup: x}}, promt: y}\n")
            .find("breakout.promt: unknown key") != std::string::npos);
}

TEST_CASE("config: YAML syntax errors are located", "[config]") {
  const auto errors = errors_of("tenants:\n  - name: acme\n    skills: [english, spanish\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::StartsWith("test.yaml:4:1: YAML syntax error: "));
  const auto tabs = errors_of("tenants:\n\t- name: acme\n");
  REQUIRE(tabs.size() == 1);
  CHECK_THAT(tabs[0], Catch::Matches("test\\.yaml:2:\\d+: YAML syntax error: .*"));
}

TEST_CASE("config: wrong shapes and missing keys", "[config]") {
  CHECK(single_error("tenants:\n  - skills: [english]\n") ==
        "test.yaml:2:5: tenants[0]: missing required key \"name\"");
  CHECK(single_error("log: verbose\ntenants: []\n") ==
        "test.yaml:1:6: log: expected a map, got \"verbose\"");
  CHECK(single_error("tenants:\n  - name: acme\n    queues:\n      - name: q\n"
                     "        on_timeout: {hangup: bye, voicemail: box}\n") ==
        "test.yaml:5:21: tenants[0].queues[0].on_timeout: an exit has exactly one destination: "
        "{hangup: message}, {queue: name}, {voicemail: box} or {callback: note}");
  CHECK(single_error("tenants:\n  - name: acme\n    queues:\n      - name: q\n"
                     "        on_timeout: {queue: q}\n") ==
        "test.yaml:5:29: tenants[0].queues[0].on_timeout.queue: queue \"q\" cannot exit to itself");
  CHECK(
      single_error("tenants:\n  - name: acme\n    queues:\n      - name: q\n"
                   "        join_when_empty: yes\n") ==
      "test.yaml:5:26: tenants[0].queues[0].join_when_empty: expected true or false, got \"yes\"");
  CHECK(single_error("tenants: []\ndemo:\n  queues: [acme/sales]\n") ==
        "test.yaml:3:12: demo.queues[0]: unknown tenant \"acme\"");
  CHECK(single_error("tenants:\n  - name: bad name\n") ==
        "test.yaml:2:11: tenants[0].name: invalid name \"bad name\"; expected 1 to 64 letters, "
        "digits, '_', '-' or '.', starting with a letter or digit");
}

TEST_CASE("config: semantic checks", "[config]") {
  CHECK(single_error("tenants:\n  - name: acme\n    not_ready_reasons: [break]\n    teams:\n"
                     "      - name: t\n        break_policy: {reasons: [brek]}\n") ==
        "test.yaml:6:34: tenants[0].teams[0].break_policy.reasons[0]: not-ready reason \"brek\" is "
        "not in tenant \"acme\"'s not_ready_reasons (did you mean \"break\"?)");
  CHECK(single_error("tenants:\n  - name: acme\n    queues:\n      - name: q\n"
                     "        escalation: [{after: 30s}, {after: 10s}]\n") ==
        "test.yaml:5:44: tenants[0].queues[0].escalation[1].after: escalation steps must be in "
        "order of `after`; this step comes before the previous one");
  CHECK(single_error("tenants:\n  - name: acme\n    queues:\n      - name: q\n"
                     "        overflow: {min_calls: 2, clear_below_calls: 3}\n") ==
        "test.yaml:5:53: tenants[0].queues[0].overflow.clear_below_calls: clear_below_calls (3) "
        "must not exceed min_calls (2)");
  CHECK(
      single_error(std::string(kMinimal) + "          - agent: alice\n") ==
      "test.yaml:13:20: tenants[0].queues[0].members[1].agent: agent \"alice\" is already a member "
      "of queue \"sales\" (line 12)");
  CHECK(
      single_error("tenants:\n  - name: acme\n    agents:\n"
                   "      - {name: a, extension: \"1\"}\n      - {name: b, extension: \"1\"}\n") ==
      "test.yaml:5:30: tenants[0].agents[1].extension: extension \"1\" is already used by agent "
      "\"a\" in tenant \"acme\"");
}

TEST_CASE("config: every error is collected, up to a limit", "[config]") {
  std::string text = "tenants:\n  - name: acme\n    agents:\n";
  for (int i = 0; i < 3; ++i) {
    text += "      - {name: a" + std::to_string(i) + ", extension: \"" + std::to_string(i) +
            "\", work_mode: lazy}\n";
  }
  CHECK(errors_of(text).size() == 3);

  std::string many = "tenants:\n  - name: acme\n    agents:\n";
  for (int i = 0; i < 80; ++i) {
    many += "      - {name: a" + std::to_string(i) + ", extension: \"" + std::to_string(i) +
            "\", work_mode: lazy}\n";
  }
  const auto errors = errors_of(many);
  REQUIRE(errors.size() == ErrorList::kDefaultLimit + 1);
  CHECK_THAT(errors.back(), Catch::Contains("too many errors; stopped after 50"));
}

TEST_CASE("config: a reload keeps ids by name; a failed load changes nothing", "[config]") {
  NameRegistry registry;
  const DaemonConfig first = loaded(kMinimal, registry);
  const auto alice = agent_named(first, "alice").id;
  const auto sales = queue_named(first, "sales").id;

  // The second file puts a new agent before alice and a new queue before sales.
  const std::string second_text =
      "tenants:\n  - name: acme\n    skills: [english]\n    agents:\n"
      "      - {name: bob, extension: \"1002\"}\n"
      "      - {name: alice, extension: \"1001\"}\n"
      "    queues:\n      - {name: support}\n      - {name: sales}\n";
  const DaemonConfig second = loaded(second_text, registry);
  CHECK(agent_named(second, "alice").id == alice);
  CHECK(queue_named(second, "sales").id == sales);
  CHECK(agent_named(second, "bob").id != alice);
  const auto bob = agent_named(second, "bob").id;

  // A broken file teaches the registry nothing.
  CHECK_FALSE(errors_of("tenants:\n  - name: acme\n    agents: [{name: carol}]\n").empty());
  auto broken = load_config_text("tenants:\n  - name: acme\n    agents: [{name: carol}]\n",
                                 "test.yaml", registry);
  REQUIRE_FALSE(broken.ok());
  CHECK_FALSE(registry.find_agent(core::TenantId(0), "carol").has_value());

  const DaemonConfig third = loaded(
      "tenants:\n  - name: acme\n    agents: [{name: carol, extension: \"3\"}, "
      "{name: bob, extension: \"2\"}]\n",
      registry);
  CHECK(agent_named(third, "bob").id == bob);
  CHECK(agent_named(third, "carol").id.value == bob.value + 1);
  // The names of removed entities stay known (for logs about their last calls).
  CHECK(third.names->agent(alice) == "alice");
}

TEST_CASE("config: unreadable file", "[config]") {
  NameRegistry registry;
  auto result = load_config_file("/nonexistent/acdd.yaml", registry);
  REQUIRE_FALSE(result.ok());
  REQUIRE(result.error().size() == 1);
  CHECK(result.error()[0].to_string() ==
        "/nonexistent/acdd.yaml: cannot open: No such file or directory");
}

TEST_CASE("config: log levels", "[config]") {
  CHECK(parse_log_level("debug") == LogLevel::kDebug);
  CHECK_FALSE(parse_log_level("verbose").has_value());
  CHECK(std::string(to_string(LogLevel::kWarn)) == "warn");
  CHECK(single_error("log: {level: verbose}\ntenants: []\n") ==
        "test.yaml:1:14: log.level: unknown log level \"verbose\"; expected one of trace, debug, "
        "info, warn, error, critical, off");
}

}  // namespace
}  // namespace acd::app

TEST_CASE("the database section has defaults, reads its keys and rejects unknown ones") {
  acd::app::NameRegistry registry;
  auto defaults = acd::app::load_config_text("tenants: []\n", "test.yaml", registry);
  REQUIRE(defaults.ok());
  CHECK(defaults->database.dsn.empty());
  CHECK(defaults->database.data_dir == "var/pg");
  CHECK(defaults->database.migrate_on_start);
  auto set = acd::app::load_config_text(
      "database:\n  dsn: host=/tmp dbname=x\n  data_dir: /srv/pg\n  migrate_on_start: false\n"
      "tenants: []\n",
      "test.yaml", registry);
  REQUIRE(set.ok());
  CHECK(set->database.dsn == "host=/tmp dbname=x");
  CHECK(set->database.data_dir == "/srv/pg");
  CHECK_FALSE(set->database.migrate_on_start);
  auto bad =
      acd::app::load_config_text("database:\n  dns: x\ntenants: []\n", "test.yaml", registry);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().front().to_string(),
             Catch::Contains("test.yaml:2:3") && Catch::Contains("database.dns"));
}

namespace acd::app {
namespace {

const char* const kEntities = R"(tenants:
  - name: t
    sip_realm: t.example
    default_language: de-CH
    time_zone: Europe/Zurich
    skills: [en]
    agents:
      - {name: ann, extension: "10", sip: {password: "pw"}}
      - {name: bob, extension: "11", sip: {username: b, ha1: 0123456789ABCDEF0123456789abcdef}}
    queues:
      - {name: q}
    prompt_sets:
      - {name: p, path: /prompts}
    calendars:
      - name: c
        weekly: {mon: ["08:00-12:00", "13:00-24:00"]}
        holidays: [{date: 2025-12-25, name: X}, {date: 2025-12-24, hours: ["09:00-12:00"]}]
    ivr_menus:
      - name: m
        prompt: hello
        prompt_set: p
        options: {"1": {queue: q}, "*": {menu: m}, "0": {operator: ""}}
        on_failure: {voicemail: box}
    trunks:
      - name: tr
        allowed_sources: [10.1.2.3, "2001:db8::/32"]
        auth: {username: carrier, password: secret}
        caller_id: "+41440000000"
        dids: [{number: "+41440000001", queue: q}, {number: "100", ivr_menu: m}]
    users:
      - name: u
        roles: [admin, read-only]
        agent: ann
        tokens:
          - {name: a, token: "0123456789abcdef-token"}
          - {name: b, sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08, expires_at: "2030-01-01T01:00:00+01:00"}
)";

TEST_CASE("config: tenants carry users, SIP credentials, trunks, menus, prompts, calendars",
          "[config]") {
  NameRegistry registry;
  const DaemonConfig c = loaded(kEntities, registry);
  REQUIRE(c.tenants.size() == 1);
  const TenantSettings& t = c.tenants[0];
  CHECK(t.realm() == "t.example");
  CHECK(t.default_language == "de-CH");
  CHECK(t.time_zone == "Europe/Zurich");
  REQUIRE(t.agent_sip.size() == 2);
  CHECK(t.agent_sip[0].credentials->username == "ann");
  CHECK(t.agent_sip[0].credentials->ha1 == sip_ha1("ann", "t.example", "pw"));
  CHECK(t.agent_sip[1].credentials->ha1 == "0123456789abcdef0123456789abcdef");
  REQUIRE(t.users.size() == 1);
  CHECK(t.users[0].roles == std::vector<UserRole>{UserRole::kAdmin, UserRole::kReadOnly});
  CHECK(t.users[0].agent == "ann");
  REQUIRE(t.users[0].tokens.size() == 2);
  CHECK(t.users[0].tokens[0].sha256 == sha256_hex("0123456789abcdef-token"));
  CHECK(t.users[0].tokens[1].sha256.substr(0, 4) == "9f86");
  CHECK(t.users[0].tokens[1].expires_at == "2030-01-01T00:00:00Z");
  REQUIRE(t.trunks.size() == 1);
  CHECK(t.trunks[0].allowed_sources == std::vector<std::string>{"10.1.2.3/32", "2001:db8::/32"});
  CHECK(t.trunks[0].auth->ha1 == sip_ha1("carrier", "t.example", "secret"));
  CHECK(t.trunks[0].dids[1].entry.kind == EntryPoint::Kind::kMenu);
  REQUIRE(t.ivr_menus.size() == 1);
  CHECK(t.ivr_menus[0].options.size() == 3);
  CHECK(t.ivr_menus[0].on_failure.kind == IvrAction::Kind::kVoicemail);
  CHECK(t.ivr_menus[0].timeout == 5s);
  REQUIRE(t.prompt_sets.size() == 1);
  CHECK(t.prompt_sets[0].language == "de-CH");  // the tenant's default
  REQUIRE(t.calendars.size() == 1);
  CHECK(t.calendars[0].time_zone == "Europe/Zurich");
  CHECK(t.calendars[0].weekly[0] == DayHours{"08:00-12:00", "13:00-24:00"});
  CHECK_FALSE(t.calendars[0].holidays[0].hours.has_value());
  CHECK(t.calendars[0].holidays[1].hours == DayHours{"09:00-12:00"});
  // Plaintext secrets are accepted with a warning each, located, that shows the hash.
  REQUIRE(c.warnings.size() == 3);
  CHECK_THAT(c.warnings[0].to_string(),
             Catch::StartsWith("test.yaml:8:54: tenants[0].agents[0].sip.password: password "
                               "given in plaintext"));
}

TEST_CASE("config: errors in the new entities are located and explained", "[config]") {
  auto with = [](std::string from, std::string to) {
    std::string text = kEntities;
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return single_error(text);
  };
  CHECK(with("queue: q}, {number: \"100\"", "queue: nope}, {number: \"100\"") ==
        "test.yaml:29:48: tenants[0].trunks[0].dids[0].queue: unknown queue \"nope\" in tenant "
        "\"t\"");
  CHECK(with("\"100\", ivr_menu: m}", "\"+41440000001\", ivr_menu: m}") ==
        "test.yaml:29:61: tenants[0].trunks[0].dids[1].number: number \"+41440000001\" is "
        "already routed by trunk \"tr\" in tenant \"t\"");
  CHECK_THAT(with("Europe/Zurich", "Europe/Nowhere"),
             Catch::Contains("test.yaml:5:16: tenants[0].time_zone: invalid time zone"));
  CHECK_THAT(with("10.1.2.3,", "10.1.2.3/8,"),
             Catch::Contains("tenants[0].trunks[0].allowed_sources[0]: invalid network"));
  CHECK_THAT(with("\"13:00-24:00\"", "\"11:00-13:00\""),
             Catch::Contains("tenants[0].calendars[0].weekly.mon[1]: opening hours "
                             "\"11:00-13:00\" overlap"));
  CHECK_THAT(with("roles: [admin, read-only]", "roles: [admin, root]"),
             Catch::Contains("tenants[0].users[0].roles[1]: unknown role \"root\""));
  CHECK_THAT(with("{password: \"pw\"}", "{password: \"pw\", ha1: x}"),
             Catch::Contains("tenants[0].agents[0].sip: give exactly one of `password`"));
  CHECK_THAT(with("\"*\": {menu: m}", "\"x\": {menu: m}"),
             Catch::Contains("tenants[0].ivr_menus[0].options.x: invalid key"));
  CHECK_THAT(with("sha256: 9F86", "sha256: 9G86"),
             Catch::Contains("tenants[0].users[0].tokens[1].sha256: invalid SHA-256"));
  CHECK_THAT(with("agent: ann\n", "agent: zed\n"),
             Catch::Contains("tenants[0].users[0].agent: unknown agent \"zed\""));
  CHECK_THAT(with("prompt_set: p", "prompt_sett: p"),
             Catch::Contains("unknown key \"prompt_sett\" (did you mean \"prompt_set\"?)"));
  CHECK_THAT(with("2025-12-24", "2025-02-30"),
             Catch::Contains("tenants[0].calendars[0].holidays[1].date: invalid date"));
}

TEST_CASE("config: an IVR option may not name another tenant's queue", "[config]") {
  const std::string text = std::string(kEntities) +
                           "  - name: other\n"
                           "    queues: [{name: theirs}]\n"
                           "    ivr_menus: [{name: m, prompt: p, options: {\"1\": {queue: q}}}]\n";
  CHECK_THAT(single_error(text),
             Catch::Contains("tenants[1].ivr_menus[0].options.1.queue: queue \"q\" belongs to "
                             "tenant \"t\", not to tenant \"other\""));
}

}  // namespace
}  // namespace acd::app

namespace acd::app {
namespace {

using namespace std::chrono_literals;

const char* const kSip = R"(sip:
  enabled: true
  listen:
    - {transport: udp, address: 192.0.2.10, port: 5070}
    - {transport: tcp, address: "2001:DB8::0010"}
    - {transport: tls, address: 0.0.0.0}
  public_address: 198.51.100.7
  tls_certificate_dir: /etc/acd/tls
  media: {address: 192.0.2.11, rtp_port_min: 30000, rtp_port_max: 30999}
  unknown_source: drop
  rate_limit: {requests_per_second: 2.5, burst: 10, ban_time: 1m}
  max_calls: 20
  retry_after: 5s
  registration: {min_expires: 30s, max_expires: 2h, default_expires: 5m, login: not-ready}
  session_timer: {session_expires: 10m, min_session_expires: 2m}
  user_agent: acd/1.0
  flow_lookup_timeout: 1500ms
tenants: []
)";

// The text of kSip with `from` replaced by `to`.
std::string sip_with(const std::string& from, const std::string& to) {
  std::string text = kSip;
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

TEST_CASE("config: the sip section", "[config][sip]") {
  NameRegistry registry;
  const DaemonConfig c = loaded(kSip, registry);
  const SipConfig& sip = c.sip;
  CHECK(sip.enabled);
  REQUIRE(sip.listen.size() == 3);
  CHECK(sip.listen[0].transport == sip::Transport::kUdp);
  CHECK(sip.listen[0].address == "192.0.2.10");
  CHECK(sip.listen[0].port == 5070);
  CHECK(sip.listen[1].transport == sip::Transport::kTcp);
  CHECK(sip.listen[1].address == "2001:db8::10");  // canonical
  CHECK(sip.listen[1].port == 5060);
  CHECK(sip.listen[2].transport == sip::Transport::kTls);
  CHECK(sip.listen[2].port == 5061);  // the TLS default
  CHECK(sip.public_address == "198.51.100.7");
  CHECK(sip.effective_public_address() == "198.51.100.7");
  CHECK(sip.tls_certificate_dir == "/etc/acd/tls");
  CHECK(sip.media_address == "192.0.2.11");
  CHECK(sip.rtp_port_min == 30000);
  CHECK(sip.rtp_port_max == 30999);
  CHECK(sip.unknown_source == sip::SipOptions::UnknownSource::kDrop);
  CHECK(sip.rate_limit_per_second == 2.5);
  CHECK(sip.rate_limit_burst == 10);
  CHECK(sip.ban_time == 1min);
  CHECK(sip.max_calls == 20);
  CHECK(sip.retry_after == 5s);
  CHECK(sip.min_register_expires == 30s);
  CHECK(sip.max_register_expires == 2h);
  CHECK(sip.default_register_expires == 5min);
  CHECK(sip.login_on_register == sip::LoginOnRegister::kNotReady);
  CHECK(sip.session_expires == 10min);
  CHECK(sip.min_session_expires == 2min);
  CHECK(sip.user_agent == "acd/1.0");
  CHECK(sip.flow_lookup_timeout == 1500ms);
  CHECK(std::string(to_string(sip.listen[2].transport)) == "tls");
  CHECK(std::string(to_string(sip.unknown_source)) == "drop");
  CHECK(std::string(to_string(sip.login_on_register)) == "not-ready");

  // Defaults.
  const DaemonConfig d = loaded("sip:\n  enabled: true\n  listen: [{}]\ntenants: []\n", registry);
  REQUIRE(d.sip.listen.size() == 1);
  CHECK(d.sip.listen[0].transport == sip::Transport::kUdp);
  CHECK(d.sip.listen[0].address == "127.0.0.1");
  CHECK(d.sip.listen[0].port == 5060);
  CHECK(d.sip.effective_media_address() == "127.0.0.1");
  CHECK(d.sip.unknown_source == sip::SipOptions::UnknownSource::kReject);
  CHECK(d.sip.login_on_register == sip::LoginOnRegister::kReady);
  CHECK(d.sip.max_calls == 1000);
  CHECK(d.sip.session_expires == 30min);
  CHECK(d.sip.user_agent == "acd");

  // Disabled, nothing else is needed (port 0: any free port).
  CHECK_FALSE(loaded("sip: {enabled: false}\ntenants: []\n", registry).sip.enabled);
  CHECK(loaded("sip: {enabled: true, listen: [{port: 0}, {port: 0}]}\ntenants: []\n", registry)
            .sip.listen.size() == 2);
}

TEST_CASE("config: errors in the sip section are located and explained", "[config][sip]") {
  CHECK(single_error(sip_with("user_agent:", "user_agnt:")) ==
        "test.yaml:16:3: sip.user_agnt: unknown key \"user_agnt\" (did you mean "
        "\"user_agent\"?); expected one of enabled, listen, public_address, tls_certificate_dir, "
        "media, unknown_source, rate_limit, max_calls, retry_after, registration, session_timer, "
        "user_agent, flow_lookup_timeout");
  CHECK(single_error(sip_with("flow_lookup_timeout: 1500ms", "flow_lookup_timeout: 0s")) ==
        "test.yaml:17:24: sip.flow_lookup_timeout: must be greater than zero");
  CHECK(single_error(sip_with("transport: udp", "transport: sctp")) ==
        "test.yaml:4:19: sip.listen[0].transport: unknown transport \"sctp\"; expected one of "
        "udp, tcp, tls");
  CHECK(single_error(sip_with("address: 192.0.2.10", "address: pbx.example.com")) ==
        "test.yaml:4:33: sip.listen[0].address: invalid listen address \"pbx.example.com\"; "
        "expected a literal IPv4 or IPv6 address such as \"192.0.2.10\" or \"2001:db8::10\" "
        "(no host name, no brackets, no port)");
  CHECK(single_error(sip_with("port: 5070", "port: 65536")) ==
        "test.yaml:4:51: sip.listen[0].port: value 65536 is out of range; expected an integer "
        "from 0 to 65535");
  CHECK(single_error(sip_with("transport: tcp, address: \"2001:DB8::0010\"",
                              "transport: udp, address: 192.0.2.10, port: 5070")) ==
        "test.yaml:5:7: sip.listen[1]: duplicate listen address udp 192.0.2.10 port 5070");
  CHECK(single_error(sip_with("  tls_certificate_dir: /etc/acd/tls\n", "")) ==
        "test.yaml:6:7: sip.listen[2]: a tls listen address needs sip.tls_certificate_dir (a "
        "directory with agent.pem)");
  CHECK(single_error(sip_with("public_address: 198.51.100.7", "public_address: \"::\"")) ==
        "test.yaml:7:19: sip.public_address: the public address may not be the wildcard \"::\"; "
        "expected the address phones and trunks reach the engine at");
  CHECK(single_error(sip_with("media: {address: 192.0.2.11", "media: {address: 0.0.0.0")) ==
        "test.yaml:9:20: sip.media.address: the media address may not be the wildcard "
        "\"0.0.0.0\"; it is written in SDP: expected the address callers send RTP to");
  CHECK(single_error(sip_with("rtp_port_min: 30000", "rtp_port_min: 30001")) ==
        "test.yaml:9:46: sip.media.rtp_port_min: rtp_port_min (30001) must be even: RTP takes "
        "the even port of each pair, RTCP the odd one");
  CHECK(single_error(sip_with("rtp_port_max: 30999", "rtp_port_max: 30000")) ==
        "test.yaml:9:67: sip.media.rtp_port_max: rtp_port_max (30000) must be greater than "
        "rtp_port_min (30000)");
  CHECK(single_error(sip_with("rtp_port_min: 30000", "rtp_port_min: 80")) ==
        "test.yaml:9:46: sip.media.rtp_port_min: value 80 is out of range; expected an integer "
        "from 1024 to 65534");
  CHECK(single_error(sip_with("unknown_source: drop", "unknown_source: ignore")) ==
        "test.yaml:10:19: sip.unknown_source: unknown unknown-source action \"ignore\"; expected "
        "one of reject, drop");
  CHECK(single_error(sip_with("requests_per_second: 2.5", "requests_per_second: 0")) ==
        "test.yaml:11:37: sip.rate_limit.requests_per_second: must be greater than zero");
  CHECK(single_error(sip_with("burst: 10", "burst: 0.5")) ==
        "test.yaml:11:49: sip.rate_limit.burst: value 0.5 is out of range; expected a number "
        "from 1 to 1000000");
  CHECK(single_error(sip_with("ban_time: 1m", "ban_time: 0s")) ==
        "test.yaml:11:63: sip.rate_limit.ban_time: must be greater than zero");
  CHECK(single_error(sip_with("max_calls: 20", "max_calls: 0")) ==
        "test.yaml:12:14: sip.max_calls: value 0 is out of range; expected an integer from 1 to "
        "1000000");
  CHECK(single_error(sip_with("default_expires: 5m", "default_expires: 3h")) ==
        "test.yaml:14:17: sip.registration: expected min_expires <= default_expires <= "
        "max_expires, got 30s, 3h and 2h");
  CHECK(single_error(sip_with("min_expires: 30s", "min_expires: 500ms")) ==
        "test.yaml:14:31: sip.registration.min_expires: must be at least 1s (Expires is in whole "
        "seconds)");
  CHECK(single_error(sip_with("login: not-ready", "login: auto")) ==
        "test.yaml:14:81: sip.registration.login: unknown login action \"auto\"; expected one of "
        "none, not-ready, ready");
  CHECK(single_error(sip_with("min_session_expires: 2m", "min_session_expires: 60s")) ==
        "test.yaml:15:62: sip.session_timer.min_session_expires: must be at least 90s (RFC "
        "4028's smallest Min-SE)");
  CHECK(single_error(sip_with("session_expires: 10m", "session_expires: 100s")) ==
        "test.yaml:15:36: sip.session_timer.session_expires: session_expires (1m40s) must not be "
        "shorter than min_session_expires (2m)");
  CHECK(single_error(sip_with("user_agent: acd/1.0", "user_agent: \"\"")) ==
        "test.yaml:16:15: sip.user_agent: invalid user agent \"\"; expected 1 to 128 printable "
        "ASCII characters, e.g. \"acd/1.0\"");
  CHECK(single_error("sip: {enabled: true}\ntenants: []\n") ==
        "test.yaml:1:6: sip.listen: at least one listen address is needed when sip.enabled is "
        "true, e.g. {transport: udp, address: 127.0.0.1, port: 5060}");
  CHECK(single_error("sip: {enabled: true, listen: [{address: 0.0.0.0}]}\ntenants: []\n") ==
        "test.yaml:1:31: sip.listen[0]: the first listen address \"0.0.0.0\" is a wildcard; set "
        "sip.public_address to the address phones and trunks reach the engine at");
  CHECK(single_error("sip: {enabled: true, listen: {transport: udp}}\ntenants: []\n") ==
        "test.yaml:1:30: sip.listen: expected a list, got a map");
  // Not enabled: the cross checks do not apply (the section can be prepared).
  NameRegistry registry;
  CHECK_FALSE(loaded("sip: {listen: [{address: 0.0.0.0}]}\ntenants: []\n", registry).sip.enabled);
}

TEST_CASE("config: SIP URIs", "[config][sip]") {
  for (const char* good :
       {"sip:carrier.example.com", "sip:carrier.example.com:5060;transport=udp",
        "SIP:carrier.example.com;transport=TCP", "sips:carrier.example.com:5061",
        "sip:1001@127.0.0.1:5070", "sip:+4930123@[2001:db8::1]:5060;user=phone;lr",
        "sip:alice@host-1.example", "sip:[::1]", "sip:h;maddr=[2001:db8::2]"}) {
    INFO(good);
    CHECK(is_valid_sip_uri(good));
  }
  for (const char* bad : {"",
                          "sip:",
                          "tel:+4930123",
                          "http://example.com",
                          "carrier.example.com",
                          "sip:@host",
                          "sip:user:password@host",
                          "sip:host:0",
                          "sip:host:65536",
                          "sip:host:",
                          "sip:host:50a",
                          "sip:-host.example",
                          "sip:host..example",
                          "sip:10.0.0.300",
                          "sip:[2001:db8::1",
                          "sip:[not-v6]",
                          "sip:2001:db8::1",
                          "sip:host;transport=sctp",
                          "sip:host;=x",
                          "sip:host;transport=",
                          "sip:host?subject=x",
                          "sip:ho st",
                          "sip:a@b@c"}) {
    INFO(bad);
    CHECK_FALSE(is_valid_sip_uri(bad));
  }
  CHECK(canonical_ip_address("2001:DB8:0::1") == "2001:db8::1");
  CHECK(canonical_ip_address("127.0.0.1") == "127.0.0.1");
  CHECK_FALSE(canonical_ip_address("[::1]").has_value());
  CHECK_FALSE(canonical_ip_address("localhost").has_value());
  CHECK(is_wildcard_address("::"));
  CHECK_FALSE(is_wildcard_address("::1"));
}

const char* const kSipTenant = R"(tenants:
  - name: t
    transfer: {allow_external: true}
    outbound_trunk: out
    queues: [{name: q}]
    agents:
      - {name: ann, extension: "10", sip: {contact: "sip:10@127.0.0.1:5070"}}
      - {name: bob, extension: "11", sip: {password: pw, contact: "sips:bob@phones.example"}}
      - {name: cid, extension: "12", sip: {username: c, ha1: 0123456789abcdef0123456789abcdef}}
    trunks:
      - name: in
        dids: [{number: "100", queue: q, priority: -5, vip_level: 2}]
      - name: out
        outbound: "sip:carrier.example.com:5060;transport=udp"
        dids: [{number: "200", queue: q}]
)";

std::string tenant_with(const std::string& from, const std::string& to) {
  std::string text = kSipTenant;
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

TEST_CASE("config: tenants' SIP settings: transfers, outbound trunk, DIDs, static contacts",
          "[config][sip]") {
  NameRegistry registry;
  const DaemonConfig c = loaded(kSipTenant, registry);
  const TenantSettings& t = c.tenants[0];
  CHECK(t.allow_external_transfer);
  CHECK(t.outbound_trunk == "out");
  REQUIRE(t.trunks.size() == 2);
  CHECK(t.trunks[0].outbound_uri.empty());
  CHECK(t.trunks[1].outbound_uri == "sip:carrier.example.com:5060;transport=udp");
  CHECK(t.trunks[0].dids[0].priority == -5);
  CHECK(t.trunks[0].dids[0].vip_level == 2);
  CHECK(t.trunks[1].dids[0].priority == 0);
  CHECK(t.trunks[1].dids[0].vip_level == 0);
  REQUIRE(t.agent_sip.size() == 3);
  CHECK(t.agent_sip[0].agent == "ann");
  CHECK_FALSE(t.agent_sip[0].credentials.has_value());
  CHECK(t.agent_sip[0].contact == "sip:10@127.0.0.1:5070");
  REQUIRE(t.agent_sip[1].credentials.has_value());
  CHECK(t.agent_sip[1].credentials->username == "bob");
  CHECK(t.agent_sip[1].credentials->ha1 == sip_ha1("bob", "t", "pw"));
  CHECK(t.agent_sip[1].contact == "sips:bob@phones.example");
  REQUIRE(t.agent_sip[2].credentials.has_value());
  CHECK(t.agent_sip[2].credentials->username == "c");
  CHECK(t.agent_sip[2].contact.empty());
}

TEST_CASE("config: errors in tenants' SIP settings are located and explained", "[config][sip]") {
  CHECK(single_error(tenant_with("outbound_trunk: out", "outbound_trunk: in")) ==
        "test.yaml:4:21: tenants[0].outbound_trunk: trunk \"in\" takes no outbound calls; give it "
        "an `outbound` URI or name another trunk");
  CHECK(single_error(tenant_with("outbound_trunk: out", "outbound_trunk: ot")) ==
        "test.yaml:4:21: tenants[0].outbound_trunk: unknown trunk \"ot\" in tenant \"t\" (did "
        "you mean \"out\"?)");
  CHECK_THAT(single_error(std::string(kSipTenant) + "  - name: u\n    outbound_trunk: out\n"),
             Catch::Contains("tenants[1].outbound_trunk: trunk \"out\" belongs to tenant \"t\", "
                             "not to tenant \"u\""));
  CHECK(single_error(tenant_with("allow_external: true", "allow_external: yes")) ==
        "test.yaml:3:32: tenants[0].transfer.allow_external: expected true or false, got \"yes\"");
  CHECK_THAT(single_error(tenant_with("transfer: {allow_external", "transfer: {allow_externals")),
             Catch::Contains("test.yaml:3:16: tenants[0].transfer.allow_externals: unknown key"));
  CHECK(single_error(tenant_with("carrier.example.com:5060;", "carrier.example.com:99999;")) ==
        "test.yaml:14:19: tenants[0].trunks[1].outbound: invalid SIP URI "
        "\"sip:carrier.example.com:99999;transport=udp\"; expected \"sip:\" or \"sips:\", an "
        "optional user and '@', a host name, IPv4 address or [IPv6 address], an optional :port "
        "(1-65535) and optional ;parameters (transport=udp, tcp or tls), e.g. "
        "\"sip:carrier.example.com:5060;transport=udp\"");
  CHECK_THAT(single_error(tenant_with("\"sip:carrier.example.com:5060;transport=udp\"",
                                      "\"carrier.example.com\"")),
             Catch::Contains("tenants[0].trunks[1].outbound: invalid SIP URI"));
  CHECK(single_error(tenant_with("priority: -5", "priority: 1001")) ==
        "test.yaml:12:52: tenants[0].trunks[0].dids[0].priority: value 1001 is out of range; "
        "expected an integer from -1000 to 1000");
  CHECK(single_error(tenant_with("vip_level: 2", "vip_level: 11")) ==
        "test.yaml:12:67: tenants[0].trunks[0].dids[0].vip_level: value 11 is out of range; "
        "expected an integer from 0 to 10");
  CHECK(single_error(tenant_with("vip_level: 2", "vip_level: 2, answer: later")) ==
        "test.yaml:12:78: tenants[0].trunks[0].dids[0].answer: expected immediate or "
        "on-connect, got 'later'");
  CHECK_THAT(single_error(tenant_with("vip_level: 2", "vip_levl: 2")),
             Catch::Contains("tenants[0].trunks[0].dids[0].vip_levl: unknown key \"vip_levl\" (did "
                             "you mean \"vip_level\"?)"));
  CHECK(single_error(
            tenant_with("\"sip:10@127.0.0.1:5070\"", "\"sip:10@127.0.0.1:5070;transport=ws\"")) ==
        "test.yaml:7:53: tenants[0].agents[0].sip.contact: invalid SIP URI "
        "\"sip:10@127.0.0.1:5070;transport=ws\"; expected \"sip:\" or \"sips:\", an optional "
        "user and '@', a host name, IPv4 address or [IPv6 address], an optional :port (1-65535) "
        "and optional ;parameters (transport=udp, tcp or tls), e.g. "
        "\"sip:carrier.example.com:5060;transport=udp\"");
  CHECK(single_error(tenant_with("sip: {contact: \"sip:10@127.0.0.1:5070\"}", "sip: {}")) ==
        "test.yaml:7:43: tenants[0].agents[0].sip: give credentials the phone registers with "
        "(`password` or `ha1`, and optionally `username`), a static `contact`, or both");
  CHECK_THAT(single_error(
                 tenant_with("sip: {contact: \"sip:10@127.0.0.1:5070\"}", "sip: {username: ann}")),
             Catch::Contains("tenants[0].agents[0].sip: give exactly one of `password`"));
  CHECK_THAT(single_error(tenant_with("sip: {contact: \"sip:10@127.0.0.1:5070\"}",
                                      "sip: {username: c, password: x}")),
             Catch::Contains("tenants[0].agents[2].sip.username: SIP user name \"c\" is already "
                             "used by agent \"ann\" in tenant \"t\""));
}

}  // namespace
}  // namespace acd::app

namespace acd::app {
namespace {

using namespace std::chrono_literals;

// A directory of its own under /tmp, removed at the end, holding one (not decoded) tune.
class MohDir {
 public:
  MohDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "acd-moh-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    std::ofstream(dir_ / "tune.wav") << "not decoded by the loader";
  }
  ~MohDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  MohDir(const MohDir&) = delete;
  MohDir& operator=(const MohDir&) = delete;
  [[nodiscard]] std::string dir() const { return dir_.string(); }
  [[nodiscard]] std::string file() const { return (dir_ / "tune.wav").string(); }

 private:
  std::filesystem::path dir_;
};

// @DIR@ and @FILE@ are replaced by the paths of a MohDir.
const char* const kMoh = R"(sip:
  media:
    music_on_hold:
      - {name: default, path: "@DIR@"}
      - {name: jazz, mode: from-start, path: "@FILE@"}
    latch_relearn_after: 2s
    rtcp_interval: 10s
    realtime_priority: 40
tenants:
  - name: acme
    queues:
      - {name: sales, music_on_hold: jazz}
      - {name: support}
)";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::string moh_text(const MohDir& d) {
  return replace_all(replace_all(kMoh, "@DIR@", d.dir()), "@FILE@", d.file());
}

std::vector<std::string> errors_with(std::string_view text, const LoadOptions& options) {
  NameRegistry registry;
  auto result = load_config_text(text, "test.yaml", registry, options);
  std::vector<std::string> out;
  if (!result.ok()) {
    for (const auto& e : result.error()) out.push_back(e.to_string());
  }
  return out;
}

TEST_CASE("config: music on hold and the media settings", "[config][media]") {
  const MohDir d;
  NameRegistry registry;
  const DaemonConfig c = loaded(moh_text(d), registry);
  REQUIRE(c.media.music_on_hold.size() == 2);
  CHECK(c.media.music_on_hold[0].name == "default");
  CHECK(c.media.music_on_hold[0].path == d.dir());
  CHECK(c.media.music_on_hold[0].mode == media::MohMode::kShared);
  CHECK(c.media.music_on_hold[1].name == "jazz");
  CHECK(c.media.music_on_hold[1].path == d.file());
  CHECK(c.media.music_on_hold[1].mode == media::MohMode::kFromStart);
  CHECK(c.media.latch_relearn_after == 2s);
  CHECK(c.media.rtcp_interval == 10s);
  CHECK(c.media.realtime_priority == 40);
  CHECK(music_on_hold_names(c) == std::vector<std::string>{"default", "jazz"});
  CHECK(queue_named(c, "sales").music_on_hold == "jazz");
  CHECK(queue_named(c, "support").music_on_hold.empty());

  // Defaults: no classes; a queue plays the first class.
  const DaemonConfig none = loaded(kMinimal, registry);
  CHECK(none.media.music_on_hold.empty());
  CHECK(none.media.latch_relearn_after == 5s);
  CHECK(none.media.rtcp_interval == 5s);
  CHECK(none.media.realtime_priority == 0);
  CHECK(none.domain.queues[0].music_on_hold.empty());
  CHECK(loaded("sip: {media: {music_on_hold: []}}\n"
               "tenants: [{name: t, queues: [{name: q, music_on_hold: \"\"}]}]\n",
               registry)
            .domain.queues[0]
            .music_on_hold.empty());
}

TEST_CASE("config: call recording and voicemail", "[config][media]") {
  NameRegistry registry;
  const DaemonConfig defaults = loaded(kMinimal, registry);
  CHECK(defaults.media.recording_directory.empty());
  CHECK(defaults.media.recording_mode == media::RecordingMode::kStereo);
  CHECK(defaults.media.voicemail_directory.empty());
  CHECK(defaults.media.voicemail_max_length == std::chrono::minutes(2));
  const std::string text =
      "sip:\n"
      "  media:\n"
      "    recording: {directory: /srv/rec, mode: mixed}\n"
      "    voicemail: {directory: /srv/vm, max_length: 90s}\n"
      "    announce_position_every: 45s\n"
      "tenants: [{name: t}]\n";
  const DaemonConfig c = loaded(text, registry);
  CHECK(c.media.recording_directory == "/srv/rec");
  CHECK(c.media.recording_mode == media::RecordingMode::kMixed);
  CHECK(c.media.voicemail_directory == "/srv/vm");
  CHECK(c.media.voicemail_max_length == 90s);
  CHECK(c.media.announce_every == 45s);
  CHECK(defaults.media.announce_every == 0s);
  CHECK(single_error(replace_all(text, "mode: mixed", "mode: surround")) ==
        "test.yaml:3:44: sip.media.recording.mode: unknown recording mode \"surround\"; "
        "expected one of stereo, mixed");
  CHECK(single_error(replace_all(text, "max_length: 90s", "max_length: 0s")) ==
        "test.yaml:4:49: sip.media.voicemail.max_length: must be greater than zero");
  CHECK_THAT(single_error(replace_all(text, "directory: /srv/vm", "folder: /srv/vm")),
             Catch::StartsWith("test.yaml:4:17: sip.media.voicemail.folder: unknown key"));
  // A mailbox names a directory: a plain name, never a path.
  CHECK_THAT(single_error("tenants:\n"
                          "  - name: t\n"
                          "    ivr_menus:\n"
                          "      - {name: m, prompt: p, options: {\"1\": {voicemail: ../etc}}}\n"),
             Catch::Contains("invalid name \"../etc\""));
}

TEST_CASE("config: errors in music on hold are located and explained", "[config][media]") {
  const MohDir d;
  const std::string text = moh_text(d);
  // A queue naming a class that sip.media.music_on_hold does not define.
  CHECK(single_error(replace_all(text, "music_on_hold: jazz", "music_on_hold: jaz")) ==
        "test.yaml:12:38: tenants[0].queues[0].music_on_hold: unknown music-on-hold class "
        "\"jaz\" (did you mean \"jazz\"?); expected one of the classes of "
        "sip.media.music_on_hold: default, jazz");
  CHECK(single_error("tenants: [{name: t, queues: [{name: q, music_on_hold: jazz}]}]\n") ==
        "test.yaml:1:55: tenants[0].queues[0].music_on_hold: unknown music-on-hold class "
        "\"jazz\"; sip.media.music_on_hold defines no classes (leave music_on_hold out, or "
        "define the class there)");
  CHECK(single_error(replace_all(text, "music_on_hold: jazz", "music_on_hold: \"jazz band\"")) ==
        "test.yaml:12:38: tenants[0].queues[0].music_on_hold: invalid name \"jazz band\"; "
        "expected 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit");

  // A path that does not exist.
  CHECK(single_error(replace_all(text, "\"" + d.dir() + "\"", "\"/nonexistent/acd-moh\"")) ==
        "test.yaml:4:31: sip.media.music_on_hold[0].path: cannot access \"/nonexistent/acd-moh\": "
        "No such file or directory; expected an audio file or a directory of audio files");
  CHECK_THAT(single_error(replace_all(text, "\"" + d.dir() + "\"", "\"no-such-dir/moh\"")),
             Catch::StartsWith("test.yaml:4:31: sip.media.music_on_hold[0].path: cannot access "
                               "\"no-such-dir/moh\": No such file or directory; expected an audio "
                               "file or a directory of audio files (a relative path is taken "
                               "from the working directory, /"));
  CHECK(single_error(replace_all(text, "\"" + d.dir() + "\"", "\"\"")) ==
        "test.yaml:4:31: sip.media.music_on_hold[0].path: expected an audio file or a directory "
        "of audio files, got an empty string");
  CHECK(single_error(replace_all(text, ", path: \"" + d.dir() + "\"", "")) ==
        "test.yaml:4:9: sip.media.music_on_hold[0]: missing required key \"path\"");

  // A bad mode, a bad or duplicate name.
  CHECK(single_error(replace_all(text, "from-start", "loud")) ==
        "test.yaml:5:28: sip.media.music_on_hold[1].mode: unknown music-on-hold mode \"loud\"; "
        "expected one of shared, from-start");
  CHECK(single_error(replace_all(replace_all(text, "name: jazz, mode", "name: default, mode"),
                                 "music_on_hold: jazz", "music_on_hold: default")) ==
        "test.yaml:5:16: sip.media.music_on_hold[1].name: duplicate music-on-hold class "
        "\"default\" (first defined at line 4)");
  CHECK_THAT(single_error(replace_all(text, "name: default", "name: \"\"")),
             Catch::StartsWith("test.yaml:4:16: sip.media.music_on_hold[0].name: invalid name "
                               "\"\"; expected 1 to 64 letters"));

  // The other media settings.
  CHECK(single_error(replace_all(text, "latch_relearn_after: 2s", "latch_relearn_after: 0s")) ==
        "test.yaml:6:26: sip.media.latch_relearn_after: must be greater than zero");
  CHECK(single_error(replace_all(text, "rtcp_interval: 10s", "rtcp_interval: 500ms")) ==
        "test.yaml:7:20: sip.media.rtcp_interval: must be at least 1s");
  CHECK(single_error(replace_all(text, "realtime_priority: 40", "realtime_priority: 100")) ==
        "test.yaml:8:24: sip.media.realtime_priority: value 100 is out of range; expected an "
        "integer from 0 to 99");
  CHECK_THAT(single_error(replace_all(text, "rtcp_interval", "rtcp_intervall")),
             Catch::StartsWith("test.yaml:7:5: sip.media.rtcp_intervall: unknown key "
                               "\"rtcp_intervall\" (did you mean \"rtcp_interval\"?); expected "
                               "one of address, rtp_port_min, rtp_port_max, music_on_hold, "
                               "latch_relearn_after, rtcp_interval, realtime_priority"));
}

TEST_CASE("config: a file of tenants only names the daemon file's music-on-hold classes",
          "[config][media]") {
  const std::string tenants =
      "tenants:\n  - name: t\n    queues: [{name: q, music_on_hold: jazz}]\n";
  LoadOptions daemon;
  daemon.music_on_hold_classes = std::vector<std::string>{"default", "jazz"};
  CHECK(errors_with(tenants, daemon).empty());
  daemon.music_on_hold_classes = std::vector<std::string>{"default"};
  CHECK(errors_with(tenants, daemon) ==
        std::vector<std::string>{
            "test.yaml:3:39: tenants[0].queues[0].music_on_hold: unknown music-on-hold class "
            "\"jazz\"; expected one of the classes of the daemon file's sip.media.music_on_hold: "
            "default"});
  // Unchecked (the database's configuration): any name passes, a malformed one does not.
  CHECK(errors_with(tenants, LoadOptions::music_on_hold_unchecked()).empty());
  CHECK(errors_with(replace_all(tenants, "jazz", "\"a b\""), LoadOptions::music_on_hold_unchecked())
            .size() == 1);
}

}  // namespace
}  // namespace acd::app

// ---------------------------------------------------------------------------------------
// Call-flow scripts (docs/FLOWS.md, "Configuring flows").

namespace acd::app {
namespace {

const char* const kFlows = R"yaml(tenants:
  - name: t
    queues:
      - {name: sales}
      - {name: support}
    flows:
      - name: main
        source: |
          local digit = call.collect("menu", 1, 5)
          call.queue(digit == "2" and "support" or "sales")
        fallback: {queue: sales}
      - name: small
        source: "call.hangup()"
        instruction_limit: 5000
        memory_limit: 131072
        fallback: {hangup: sorry}
    trunks:
      - name: tr
        dids: [{number: "100", flow: main}, {number: "101", queue: sales}]
)yaml";

std::string flows_with(std::string from, std::string to) {
  std::string text = kFlows;
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

TEST_CASE("config: flows are compiled at load and a number may run one", "[config][flows]") {
  NameRegistry registry;
  const DaemonConfig c = loaded(kFlows, registry);
  const TenantSettings& t = c.tenants.at(0);
  REQUIRE(t.flows.size() == 2);
  CHECK(t.flows[0].name == "main");
  CHECK(t.flows[0].file.empty());
  CHECK(t.flows[0].source.find("call.collect") != std::string::npos);
  CHECK(t.flows[0].instruction_limit == 1'000'000);
  CHECK(t.flows[0].memory_limit == 2u * 1024 * 1024);
  CHECK(t.flows[0].fallback.kind == IvrAction::Kind::kQueue);
  CHECK(t.flows[0].fallback.target == "sales");
  REQUIRE(t.flows[0].script != nullptr);
  CHECK(t.flows[0].script->name() == "main.lua");
  CHECK(t.flows[1].instruction_limit == 5000);
  CHECK(t.flows[1].memory_limit == 131072);
  CHECK(t.flows[1].fallback.kind == IvrAction::Kind::kHangup);
  CHECK(t.flows[1].fallback.target == "sorry");
  REQUIRE(t.trunks.at(0).dids.size() == 2);
  CHECK(t.trunks[0].dids[0].entry.kind == EntryPoint::Kind::kFlow);
  CHECK(t.trunks[0].dids[0].entry.target == "main");
}

TEST_CASE("config: a flow's errors are located, with the script's own line", "[config][flows]") {
  CHECK(single_error(flows_with("call.queue(digit", "if true then call.queue(digit")) ==
        "test.yaml:8:17: tenants[0].flows[0].source: flow \"main\" does not compile: main.lua:3: "
        "'end' expected (to close 'if' at line 2) near <eof>");
  CHECK(single_error(flows_with("        fallback: {queue: sales}\n", "")) ==
        "test.yaml:7:9: tenants[0].flows[0]: missing required key \"fallback\"");
  CHECK(single_error(flows_with("{queue: sales}", "{queue: sale}")) ==
        "test.yaml:11:27: tenants[0].flows[0].fallback.queue: unknown queue \"sale\" in tenant "
        "\"t\" (did you mean \"sales\"?)");
  CHECK_THAT(single_error(flows_with("{queue: sales}", "{menu: m}")),
             Catch::Contains("tenants[0].flows[0].fallback.menu: unknown key \"menu\""));
  CHECK_THAT(single_error(flows_with("{queue: sales}", "{}")),
             Catch::Contains("tenants[0].flows[0].fallback: a fallback has exactly one of"));
  CHECK_THAT(single_error(flows_with("instruction_limit: 5000", "instruction_limit: 10")),
             Catch::Contains("tenants[0].flows[1].instruction_limit: value 10 is out of range"));
  CHECK_THAT(single_error(flows_with("memory_limit: 131072", "memory_limit: 1e9")),
             Catch::Contains("tenants[0].flows[1].memory_limit:"));
  CHECK_THAT(single_error(flows_with("source: \"call.hangup()\"",
                                     "source: \"call.hangup()\"\n        file: x.lua")),
             Catch::Contains("tenants[0].flows[1]: a flow has exactly one of {file: "));
  CHECK(single_error(flows_with("source: \"call.hangup()\"", "source: \" \"")) ==
        "test.yaml:13:17: tenants[0].flows[1].source: flow \"small\" has an empty script; "
        "expected Lua text");
  CHECK_THAT(single_error(flows_with("source: \"call.hangup()\"", "")),
             Catch::Contains("tenants[0].flows[1]: a flow has exactly one of {file: "));
  CHECK(single_error(flows_with("flow: main}", "flow: mian}")) ==
        "test.yaml:19:38: tenants[0].trunks[0].dids[0].flow: unknown flow \"mian\" in tenant "
        "\"t\" (did you mean \"main\"?)");
  CHECK_THAT(single_error(flows_with("flow: main}", "flow: main, queue: sales}")),
             Catch::Contains("tenants[0].trunks[0].dids[0]: a number goes to exactly one entry "
                             "point: {queue: name}, {ivr_menu: name} or {flow: name}"));
  CHECK_THAT(single_error(flows_with("name: small", "name: main")),
             Catch::Contains("tenants[0].flows[1].name: duplicate flow \"main\" in tenant \"t\""));
}

TEST_CASE("config: a flow's file is read relative to the configuration file", "[config][flows]") {
  std::string pattern = (std::filesystem::temp_directory_path() / "acd-flow-test-XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  const std::filesystem::path dir(pattern);
  std::filesystem::create_directories(dir / "flows");
  std::ofstream(dir / "flows" / "welcome.lua") << "call.play(\"hello\")\ncall.queue(\"sales\")\n";
  std::ofstream(dir / "flows" / "broken.lua") << "call.play(\"hello\"\n";
  auto write_config = [&](const std::string& file) {
    std::ofstream(dir / "acdd.yaml") << flows_with(
        "source: |\n          local digit = "
        "call.collect(\"menu\", 1, 5)\n          "
        "call.queue(digit == \"2\" and \"support\" or "
        "\"sales\")\n",
        "file: " + file + "\n");
  };
  const std::string path = (dir / "acdd.yaml").string();

  write_config("flows/welcome.lua");
  NameRegistry registry;
  auto result = load_config_file(path, registry);
  if (!result.ok()) {
    for (const auto& e : result.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(result.ok());
  const CallFlowConfig& flow = result.value().tenants.at(0).flows.at(0);
  CHECK(flow.file == "flows/welcome.lua");
  CHECK(flow.source == "call.play(\"hello\")\ncall.queue(\"sales\")\n");
  CHECK(flow.script->name() == "welcome.lua");

  write_config("flows/broken.lua");
  auto broken = load_config_file(path, registry);
  REQUIRE_FALSE(broken.ok());
  REQUIRE(broken.error().size() == 1);
  CHECK(broken.error()[0].to_string() ==
        path +
            ":8:15: tenants[0].flows[0].file: flow \"main\" does not compile: broken.lua:2: ')' "
            "expected (to close '(' at line 1) near <eof>");

  write_config("flows/missing.lua");
  auto missing = load_config_file(path, registry);
  REQUIRE_FALSE(missing.ok());
  REQUIRE(missing.error().size() == 1);
  CHECK(missing.error()[0].to_string() ==
        path + ":8:15: tenants[0].flows[0].file: cannot read flow script \"" +
            (dir / "flows" / "missing.lua").string() + "\": No such file or directory");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace acd::app
