// compile_conjuncts: a condition's top-level AND terms as written, each compiled on its own.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine/rules/compiler.h"
#include "engine/rules/test_support.h"

namespace acd::rules {
namespace {

std::vector<std::string> terms(const std::string& text) {
  auto conjuncts = compile_conjuncts(text, testing::test_schema());
  INFO(text);
  REQUIRE(conjuncts.is_ok());
  std::vector<std::string> out;
  for (const auto& c : conjuncts.value()) out.push_back(c.text);
  return out;
}

TEST_CASE("a condition splits into its top-level AND terms as written", "[rules][conjuncts]") {
  using V = std::vector<std::string>;
  CHECK(terms("agent.skill.billing >= 3") == V{"agent.skill.billing >= 3"});
  CHECK(terms("agent.skill.billing >= 3 AND agent.skill.billing <= 7") ==
        V{"agent.skill.billing >= 3", "agent.skill.billing <= 7"});
  CHECK(terms("(task.vip >= 1 OR task.priority > 5) AND agent.team = 'gold' AND "
              "NOT (agent.tasks > 2)") ==
        V{"(task.vip >= 1 OR task.priority > 5)", "agent.team = 'gold'", "NOT (agent.tasks > 2)"});
  // Parentheses around the whole chain only group it.
  CHECK(terms("(agent.skill.sales >= 2 AND agent.team = 'a)')") ==
        V{"agent.skill.sales >= 2", "agent.team = 'a)'"});
  CHECK(terms("((agent.skill.sales >= 2) AND (agent.team = 'x'))") ==
        V{"(agent.skill.sales >= 2)", "(agent.team = 'x')"});
  // A top-level OR is one term; AND inside BETWEEN is not a conjunction.
  CHECK(terms("task.vip >= 1 OR agent.team = 'gold' AND agent.tasks < 2") ==
        V{"task.vip >= 1 OR agent.team = 'gold' AND agent.tasks < 2"});
  CHECK(terms("task.waited BETWEEN 10s AND 20s and agent.idle > 5s") ==
        V{"task.waited BETWEEN 10s AND 20s", "agent.idle > 5s"});
  // Lines are kept as written.
  CHECK(terms("agent.skill.sales >= 2\n  AND\n  agent.team = 'x'") ==
        V{"agent.skill.sales >= 2", "agent.team = 'x'"});
}

TEST_CASE("each term evaluates on its own; errors are those of the whole", "[rules][conjuncts]") {
  const Schema schema = testing::test_schema();
  auto conjuncts = compile_conjuncts("agent.skill.billing >= 3 AND agent.team = 'gold'", schema);
  REQUIRE(conjuncts.is_ok());
  REQUIRE(conjuncts.value().size() == 2);
  const std::uint8_t skills[] = {5, 0, 0};
  AgentFacts agent;
  agent.skills = skills;
  agent.team = "silver";
  EvalContext context;
  context.agent = &agent;
  CHECK(conjuncts.value()[0].condition.matches(context));
  CHECK_FALSE(conjuncts.value()[1].condition.matches(context));

  auto bad = compile_conjuncts("agent.skill.biling >= 3 AND true", schema);
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.error().to_string() == "1:13: unknown skill 'biling' (did you mean 'billing'?)");
  CHECK_FALSE(compile_conjuncts("agent.skill.billing", schema).is_ok());
}

}  // namespace
}  // namespace acd::rules
