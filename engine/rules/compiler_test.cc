#include <catch2/catch.hpp>

#include "engine/rules/test_support.h"

namespace acd::rules::testing {
namespace {

ReferenceWorld sample_world() {
  ReferenceWorld world;
  world.caller = "+33123456789";
  world.dialled = "0800100200";
  world.language = "FR";
  world.channel = "voice";
  world.vip = 2;
  world.priority = 5;
  world.waited_ms = 45'000;
  world.task_attributes = {{"segment", "Gold"}, {"account", "42.5"}};
  world.ivr = {{"menu", "2"}};
  world.agent_name = "Alice";
  world.team = "tier1";
  world.languages = {"en", "fr"};
  world.skills = {{"billing", 7}, {"sales", 3}};
  world.idle_ms = 90'000;
  world.tasks = 1;
  world.tier = 2;
  world.penalty = 3;
  world.agent_attributes = {{"site", "paris"}};
  world.queues = {{"sales", QueueFigures{12, 3, 120'000, 60'000, 0.8}}};
  world.calendars = {{"business-hours", CalendarState{true, false}}};
  world.time_of_day_minutes = 9 * 60 + 30;
  world.weekday = "tue";
  return world;
}

TEST_CASE("Paths read the facts in their slots", "[rules][compiler]") {
  const ReferenceWorld world = sample_world();
  CHECK(evaluate("task.caller = '+33123456789'", world));
  CHECK(evaluate("task.dialled = '0800100200'", world));
  CHECK(evaluate("task.language = 'FR'", world));
  CHECK(evaluate("task.channel = 'voice'", world));
  CHECK(evaluate("task.vip = 2", world));
  CHECK(evaluate("task.priority = 5", world));
  CHECK(evaluate("task.waited = 45s", world));
  CHECK(evaluate("task.attr.segment = 'Gold'", world));
  CHECK(evaluate("task.attr.order = ''", world));  // absent attribute: empty string
  CHECK(evaluate("task.ivr.menu = '2'", world));
  CHECK(evaluate("task.ivr.reason = ''", world));
  CHECK(evaluate("agent.name = 'Alice'", world));
  CHECK(evaluate("agent.team = 'tier1'", world));
  CHECK(evaluate("agent.skill.billing = 7", world));
  CHECK(evaluate("agent.skill.support = 0", world));  // lacks the skill
  CHECK(evaluate("agent.idle = 1m30s", world));
  CHECK(evaluate("agent.tasks = 1", world));
  CHECK(evaluate("agent.tier = 2", world));
  CHECK(evaluate("agent.penalty = 3", world));
  CHECK(evaluate("agent.attr.tier = ''", world));  // an attribute, not the queue's tier
  CHECK(evaluate("agent.attr.site = 'paris'", world));
  CHECK(evaluate("queue.sales.waiting = 12", world));
  CHECK(evaluate("queue.sales.ready = 3", world));
  CHECK(evaluate("queue.sales.longest_wait = 2m", world));
  CHECK(evaluate("queue.sales.estimated_wait = 60s", world));
  CHECK(evaluate("queue.sales.sl = 0.8", world));
  CHECK(evaluate("queue.backup.waiting = 0", world));  // no figures: zero
  CHECK(evaluate("now.time = 09:30", world));
  CHECK(evaluate("now.weekday = 'tue'", world));
  CHECK(evaluate("open('business-hours')", world));
  CHECK_FALSE(evaluate("holiday('business-hours')", world));
  CHECK_FALSE(evaluate("open('national')", world));
}

TEST_CASE("Slots beyond the caller's arrays read as absent", "[rules][compiler]") {
  const Schema schema = test_schema();
  const EvalContext empty;  // no task, agent, queue or calendar facts at all
  CHECK(compile_or_fail("agent.skill.support", schema).evaluate_number(empty) == 0);
  CHECK(compile_or_fail("queue.backup.longest_wait", schema).evaluate_number(empty) == 0);
  CHECK(compile_or_fail("task.attr.order = ''", schema).evaluate_bool(empty));
  CHECK_FALSE(compile_or_fail("open('national')", schema).evaluate_bool(empty));
  CHECK_FALSE(compile_or_fail("agent.languages HAS ''", schema).evaluate_bool(empty));
  // Without an agent: a primary tier and no penalty.
  CHECK(compile_or_fail("agent.tier", schema).evaluate_number(empty) == 1);
  CHECK(compile_or_fail("agent.penalty", schema).evaluate_number(empty) == 0);
}

TEST_CASE("agent.tier and agent.penalty are numbers from the queue membership",
          "[rules][compiler]") {
  ReferenceWorld world;
  world.tier = 3;
  world.penalty = 10;
  CHECK(evaluate("agent.tier <= 3 AND agent.penalty < 20", world));
  CHECK(evaluate("agent.tier BETWEEN 2 AND 4", world));
  CHECK(evaluate("agent.tier * 100 + agent.penalty = 310", world));
  CHECK_FALSE(evaluate("agent.tier = 1", world));
  CHECK(compile_or_fail("agent.tier", test_schema()).type() == Type::kNumber);
  CHECK(compile_or_fail("agent.penalty", test_schema()).type() == Type::kNumber);
}

TEST_CASE("Boolean operators short-circuit and combine", "[rules][compiler]") {
  CHECK(evaluate("true AND true"));
  CHECK_FALSE(evaluate("true AND false"));
  CHECK(evaluate("false OR true"));
  CHECK_FALSE(evaluate("false OR false"));
  CHECK(evaluate("NOT false"));
  CHECK(evaluate("true = true"));
  CHECK(evaluate("true != false"));
  CHECK(evaluate("false OR true AND true"));
  CHECK_FALSE(evaluate("(false OR true) AND false"));
}

TEST_CASE("Number comparisons and arithmetic", "[rules][compiler]") {
  CHECK(evaluate("1 < 2"));
  CHECK(evaluate("2 <= 2"));
  CHECK(evaluate("3 > 2.5"));
  CHECK(evaluate("3 >= 3"));
  CHECK(evaluate("3 != 4"));
  CHECK(evaluate("1 + 2 * 3 = 7"));
  CHECK(evaluate("(1 + 2) * 3 = 9"));
  CHECK(evaluate("7 / 2 = 3.5"));
  CHECK(evaluate("7 % 3 = 1"));
  CHECK(evaluate("-7 % 3 = -1"));
  CHECK(evaluate("-(2 - 5) = 3"));
  CHECK(evaluate("5 / 0 = 0"));  // division by zero gives 0
  CHECK(evaluate("5 % 0 = 0"));
}

TEST_CASE("Durations: arithmetic and comparison with durations only", "[rules][compiler]") {
  ReferenceWorld world;
  world.waited_ms = 95'000;
  CHECK(evaluate("task.waited > 1m30s", world));
  CHECK(evaluate("task.waited - 35s = 1m", world));
  CHECK(evaluate("task.waited + 5s = 100000ms", world));
  CHECK(evaluate("2 * 30s = 1m", world));
  CHECK(evaluate("1m * 2 = 2m", world));
  CHECK(evaluate("1m / 4 = 15s", world));
  CHECK(evaluate("1m / 30s = 2", world));  // a ratio is a number
  CHECK(evaluate("95s % 1m = 35s", world));
  CHECK(evaluate("-30s < 0s", world));
  CHECK(evaluate("task.waited BETWEEN 1m AND 2m", world));
}

TEST_CASE("Times of day: comparison and BETWEEN, wrapping past midnight", "[rules][compiler]") {
  ReferenceWorld world;
  world.time_of_day_minutes = 23 * 60;
  CHECK(evaluate("now.time >= 17:30", world));
  CHECK_FALSE(evaluate("now.time BETWEEN 09:00 AND 17:30", world));
  CHECK(evaluate("now.time NOT BETWEEN 09:00 AND 17:30", world));
  CHECK(evaluate("now.time BETWEEN 22:00 AND 06:00", world));
  world.time_of_day_minutes = 5 * 60;
  CHECK(evaluate("now.time BETWEEN 22:00 AND 06:00", world));
  world.time_of_day_minutes = 12 * 60;
  CHECK_FALSE(evaluate("now.time BETWEEN 22:00 AND 06:00", world));
  CHECK(evaluate("now.time BETWEEN 12:00 AND 12:00", world));  // inclusive
}

TEST_CASE("BETWEEN is inclusive; NOT BETWEEN is its negation", "[rules][compiler]") {
  CHECK(evaluate("3 BETWEEN 3 AND 7"));
  CHECK(evaluate("7 BETWEEN 3 AND 7"));
  CHECK_FALSE(evaluate("8 BETWEEN 3 AND 7"));
  CHECK_FALSE(evaluate("5 BETWEEN 7 AND 3"));  // numbers do not wrap
  CHECK(evaluate("8 NOT BETWEEN 3 AND 7"));
  CHECK_FALSE(evaluate("5 NOT BETWEEN 3 AND 7"));
}

TEST_CASE("Strings: equality, order, CONTAINS, IN, lower()", "[rules][compiler]") {
  const ReferenceWorld world = sample_world();
  CHECK(evaluate("'abc' = 'abc'"));
  CHECK(evaluate("'abc' != 'abd'"));
  CHECK(evaluate("'abc' < 'abd'"));
  CHECK(evaluate("'ab' < 'abc'"));
  CHECK(evaluate("'b' > 'abc'"));
  CHECK(evaluate("'B' < 'a'"));  // byte order
  CHECK(evaluate("'abc' <= 'abc' AND 'abc' >= 'abc'"));
  CHECK(evaluate("task.caller CONTAINS '+33'", world));
  CHECK(evaluate("task.caller CONTAINS ''", world));
  CHECK_FALSE(evaluate("'ab' CONTAINS 'abc'"));
  CHECK(evaluate("task.language IN ['DE', 'FR']", world));
  CHECK_FALSE(evaluate("task.language IN ['fr']", world));
  CHECK(evaluate("lower(task.language) IN ['fr']", world));
  CHECK(evaluate("task.language NOT IN ['fr']", world));
  CHECK_FALSE(evaluate("'x' IN []"));
  CHECK(evaluate("lower('MiXeD') = 'mixed'"));
  CHECK(evaluate("lower('ABC') < 'abd'"));
  CHECK(evaluate("lower('HELLO World') CONTAINS 'o w'"));
  CHECK(evaluate("'hello' CONTAINS lower('LL')"));
  CHECK(evaluate("lower(lower('Q')) = 'q'"));
  CHECK_FALSE(evaluate("lower('ÉA') = 'éa'"));  // only ASCII letters fold
}

TEST_CASE("Sets: HAS and CONTAINS test membership", "[rules][compiler]") {
  const ReferenceWorld world = sample_world();
  CHECK(evaluate("agent.languages HAS 'en'", world));
  CHECK_FALSE(evaluate("agent.languages HAS task.language", world));
  CHECK(evaluate("agent.languages HAS lower(task.language)", world));
  CHECK(evaluate("agent.languages CONTAINS 'fr'", world));
  CHECK_FALSE(evaluate("agent.languages CONTAINS 'f'", world));
  CHECK(evaluate("['a', 'b'] HAS 'b'"));
  CHECK(evaluate("'fr' IN agent.languages", world));
}

TEST_CASE("number() converts decimal text and gives 0 for anything else", "[rules][compiler]") {
  const ReferenceWorld world = sample_world();
  CHECK(evaluate("number(task.attr.account) = 42.5", world));
  CHECK(evaluate("number(task.ivr.menu) + 1 = 3", world));
  CHECK(evaluate("number('-3') = -3"));
  CHECK(evaluate("number('+3.25') = 3.25"));
  CHECK(evaluate("number('') = 0"));
  CHECK(evaluate("number('abc') = 0"));
  CHECK(evaluate("number('1e3') = 0"));
  CHECK(evaluate("number(' 1') = 0"));
  CHECK(evaluate("number('1.') = 0"));
  CHECK(evaluate("number('nan') = 0"));
  CHECK(evaluate("number('inf') = 0"));
}

TEST_CASE("Keywords and function names are case-insensitive", "[rules][compiler]") {
  CHECK(evaluate("TRUE and NOT False oR false"));
  CHECK(evaluate("'a' in ['a'] AnD 'abc' contains 'b'"));
  CHECK(evaluate("NUMBER('2') = 2 AND Lower('A') = 'a'"));
}

TEST_CASE("A typical routing condition", "[rules][compiler]") {
  ReferenceWorld world = sample_world();
  const std::string rule =
      "agent.skill.billing BETWEEN 3 AND 7\n"
      "  AND agent.languages HAS lower(task.language)\n"
      "  AND (task.vip >= 2 OR task.waited > 2m)\n"
      "  AND open('business-hours') AND NOT holiday('national')";
  CHECK(evaluate(rule, world));
  world.skills["billing"] = 8;
  CHECK_FALSE(evaluate(rule, world));
}

TEST_CASE("evaluate_number returns numbers, milliseconds and minutes", "[rules][compiler]") {
  const Schema schema = test_schema();
  const EvalContext context;
  CHECK(compile_or_fail("1 + 2", schema).evaluate_number(context) == 3);
  CHECK(compile_or_fail("1m30s", schema).type() == Type::kDuration);
  CHECK(compile_or_fail("1m30s", schema).evaluate_number(context) == 90'000);
  CHECK(compile_or_fail("17:30", schema).type() == Type::kTimeOfDay);
  CHECK(compile_or_fail("17:30", schema).evaluate_number(context) == 1050);
  CHECK(compile_or_fail("'x'", schema).type() == Type::kString);
  CHECK(compile_or_fail("['x']", schema).type() == Type::kStringSet);
}

TEST_CASE("A compiled expression outlives its source text and copies share it",
          "[rules][compiler]") {
  std::string text = "task.language = 'a rather long string literal, longer than SSO'";
  Result<CompiledExpression> compiled = compile(text, test_schema());
  REQUIRE(compiled);
  text.assign(text.size(), 'x');
  const CompiledExpression copy = compiled.value();
  ReferenceWorld world;
  world.language = "a rather long string literal, longer than SSO";
  const WorldContext context(world, test_schema());
  CHECK(copy.matches(context.context()));
}

}  // namespace
}  // namespace acd::rules::testing
