// declare_keys: the router declares the free-form attribute and IVR keys its rules mention
// before compiling them.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine/rules/test_support.h"

namespace acd::rules::testing {
namespace {

using Names = std::vector<std::string>;

TEST_CASE("declare_keys declares task, IVR and agent keys in order of appearance",
          "[rules][declare_keys]") {
  Schema schema;
  declare_keys(
      "task.attr.segment = 'gold' AND task.ivr.menu = '2' AND agent.attr.site = 'paris' AND "
      "task.attr.account != '' AND task.ivr.reason = 'x'",
      schema);
  CHECK(schema.task_attributes == Names{"segment", "account"});
  CHECK(schema.ivr_keys == Names{"menu", "reason"});
  CHECK(schema.agent_attributes == Names{"site"});
  CHECK(schema.skills.empty());  // only keys are free-form; other names stay undeclared
  CHECK(schema.queues.empty());
  CHECK(schema.calendars.empty());
}

TEST_CASE("declare_keys adds each key once and keeps existing slots", "[rules][declare_keys]") {
  Schema schema;
  schema.task_attributes = {"vip_reason", "account"};
  declare_keys("task.attr.account = task.attr.segment OR task.attr.segment = ''", schema);
  declare_keys("ORDER BY number(task.attr.rank) DESC, number(task.attr.account)", schema);
  declare_keys("task.attr.rank = '1' AND agent.attr.site = task.attr.vip_reason", schema);
  CHECK(schema.task_attributes == Names{"vip_reason", "account", "segment", "rank"});
  CHECK(schema.agent_attributes == Names{"site"});
  // The same key under task.attr, task.ivr and agent.attr is three different keys.
  declare_keys("task.ivr.site = agent.attr.site AND task.attr.site = ''", schema);
  CHECK(schema.ivr_keys == Names{"site"});
  CHECK(schema.agent_attributes == Names{"site"});
  CHECK(schema.task_attributes == Names{"vip_reason", "account", "segment", "rank", "site"});
}

TEST_CASE("declare_keys accepts keywords as keys, as written", "[rules][declare_keys]") {
  Schema schema;
  const std::string text =
      "task.attr.order = '' AND task.attr.And = 'x' AND task.ivr.BY != 'y' AND "
      "agent.attr.desc = '' AND agent.attr.true = 'z'";
  declare_keys(text, schema);
  CHECK(schema.task_attributes == Names{"order", "And"});
  CHECK(schema.ivr_keys == Names{"BY"});
  CHECK(schema.agent_attributes == Names{"desc", "true"});
  Result<CompiledExpression> compiled = compile(text, schema);
  INFO((compiled ? std::string() : compiled.error().to_string()));
  CHECK(compiled);
}

TEST_CASE("declare_keys ignores what is not such a path", "[rules][declare_keys]") {
  Schema schema;
  declare_keys(
      "task.language = 'task.attr.quoted' AND Task.attr.capital = '' AND task.ATTR.upper = '' "
      "AND agent.ivr.wrong = '' AND queue.attr.depth > 0 AND now.attr.x = '' AND "
      "agent.skill.billing > 1 AND task.attr = '' AND task.attr.5 = ''",
      schema);
  CHECK(schema.task_attributes.empty());
  CHECK(schema.ivr_keys.empty());
  CHECK(schema.agent_attributes.empty());
  CHECK(schema.skills.empty());
}

TEST_CASE("declare_keys stops silently at a lexical error, keeping the keys before it",
          "[rules][declare_keys]") {
  Schema schema;
  declare_keys("task.attr.before = '' AND task.vip == 1 AND task.attr.after = ''", schema);
  CHECK(schema.task_attributes == Names{"before"});
  declare_keys("task.ivr.menu = 'unterminated AND task.ivr.hidden = ''", schema);
  CHECK(schema.ivr_keys == Names{"menu"});
  declare_keys("agent.attr.site = '' OR agent.attr.# = ''", schema);
  CHECK(schema.agent_attributes == Names{"site"});
  declare_keys("", schema);  // nothing at all
  CHECK(schema.task_attributes == Names{"before"});
}

TEST_CASE("Texts compile once their keys are declared", "[rules][declare_keys]") {
  Schema schema;
  schema.skills = {"billing"};
  schema.queues = {"sales"};
  const std::vector<std::string> conditions = {
      "task.attr.segment = 'gold' AND agent.skill.billing >= 3",
      "task.ivr.menu IN ['1', '2'] OR agent.attr.site = task.attr.site",
      "lower(task.attr.segment) != 'blocked' AND task . attr . spaced = ''\n"
      "  AND agent.attr.order = task.ivr.desc",
  };
  const std::string order = "ORDER BY number(agent.attr.seniority) DESC, agent.tier";
  for (const std::string& text : conditions) declare_keys(text, schema);
  declare_keys(order, schema);
  CHECK(schema.task_attributes == Names{"segment", "site", "spaced"});
  CHECK(schema.ivr_keys == Names{"menu", "desc"});
  CHECK(schema.agent_attributes == Names{"site", "order", "seniority"});
  for (const std::string& text : conditions) {
    Result<CompiledExpression> compiled = compile(text, schema);
    INFO(text << ": " << (compiled ? std::string() : compiled.error().to_string()));
    CHECK(compiled);
  }
  Result<CompiledOrder> compiled_order = compile_order(order, schema);
  INFO((compiled_order ? std::string() : compiled_order.error().to_string()));
  CHECK(compiled_order);

  // Without declaring, the same text does not compile.
  CHECK_FALSE(compile(conditions[0], Schema{.skills = {"billing"}}));
}

}  // namespace
}  // namespace acd::rules::testing
