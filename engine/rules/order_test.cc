#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "engine/rules/test_support.h"

namespace acd::rules::testing {
namespace {

TEST_CASE("ORDER BY ranks candidates by its keys, descending keys negated", "[rules][order]") {
  const Schema schema = test_schema();
  Result<CompiledOrder> order =
      compile_order("ORDER BY agent.skill.billing DESC, agent.idle DESC", schema);
  REQUIRE(order);
  REQUIRE(order.value().size() == 2);

  struct Candidate {
    std::string name;
    int billing;
    std::int64_t idle_ms;
  };
  const std::vector<Candidate> candidates = {{"low-skill", 3, 900'000},
                                             {"top-rested", 9, 60'000},
                                             {"top-fresh", 9, 5'000},
                                             {"mid", 6, 10'000}};
  std::vector<std::pair<std::array<double, 2>, std::string>> keyed;
  for (const Candidate& candidate : candidates) {
    ReferenceWorld world;
    world.agent_name = candidate.name;
    world.skills["billing"] = candidate.billing;
    world.idle_ms = candidate.idle_ms;
    const WorldContext context(world, schema);
    std::array<double, 2> keys{};
    order.value().evaluate(context.context(), keys);
    keyed.emplace_back(keys, candidate.name);
  }
  CHECK(keyed[1].first == std::array<double, 2>{-9, -60'000});
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return CompiledOrder::precedes(a.first, b.first);
  });
  std::vector<std::string> names;
  for (const auto& entry : keyed) names.push_back(entry.second);
  CHECK(names == std::vector<std::string>{"top-rested", "top-fresh", "mid", "low-skill"});
}

TEST_CASE("ORDER BY accepts expressions, booleans and ascending keys", "[rules][order]") {
  const Schema schema = test_schema();
  Result<CompiledOrder> order = compile_order(
      "agent.tasks, agent.skill.sales + agent.skill.support desc, "
      "agent.languages HAS 'fr' DESC, now.time",
      schema);
  REQUIRE(order);
  REQUIRE(order.value().size() == 4);
  CHECK_FALSE(order.value().keys()[0].descending);
  CHECK(order.value().keys()[1].descending);
  ReferenceWorld world;
  world.tasks = 2;
  world.skills = {{"sales", 4}, {"support", 5}};
  world.languages = {"fr"};
  world.time_of_day_minutes = 600;
  const WorldContext context(world, schema);
  std::array<double, 4> keys{};
  order.value().evaluate(context.context(), keys);
  CHECK(keys == std::array<double, 4>{2, -9, -1, 600});
  CHECK(CompiledOrder::precedes(std::array<double, 2>{1, 5}, std::array<double, 2>{1, 6}));
  CHECK_FALSE(CompiledOrder::precedes(std::array<double, 2>{1, 6}, std::array<double, 2>{1, 6}));
}

TEST_CASE("ORDER BY errors", "[rules][order]") {
  const Schema schema = test_schema();
  CHECK(compile_order("agent.team DESC", schema).error().to_string() ==
        "1:1: cannot order by a string: order by numbers, durations, times of day or booleans");
  CHECK(compile_order("agent.idel DESC", schema).error().to_string() ==
        "1:7: unknown field 'idel' of agent (did you mean 'idle'?)");
  CHECK(compile_order("ORDER agent.idle", schema).error().to_string() ==
        "1:7: expected 'BY' after 'ORDER', got 'agent'");
  CHECK(compile_order("agent.idle DESC agent.tasks", schema).error().to_string() ==
        "1:17: expected ASC, DESC, ',' or end of input, got 'agent'");
  CHECK(compile_order("agent.idle,", schema).error().to_string() ==
        "1:12: expected an operand after ',', got end of input");
}

}  // namespace
}  // namespace acd::rules::testing
