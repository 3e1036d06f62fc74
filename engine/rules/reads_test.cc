// Reads: what a compiled condition or ORDER BY list reads that changes without routing
// events (the clock, queue figures), computed at compile time for the router.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/rules/test_support.h"

namespace acd::rules::testing {
namespace {

using Slots = std::vector<std::uint32_t>;

Reads reads_of(const std::string& text) {
  return compile_or_fail(text, test_schema()).reads();
}

Reads order_reads_of(const std::string& text) {
  Result<CompiledOrder> order = compile_order(text, test_schema());
  INFO("order: " << text);
  if (!order) FAIL("compile error: " << order.error().to_string());
  return order.value().reads();
}

TEST_CASE("Reads: each path or function that follows the clock", "[rules][reads]") {
  for (const char* text : {"now.time > 09:00", "now.weekday = 'sat'", "open('business-hours')",
                           "holiday('national')", "task.waited > 30s", "agent.idle >= 1m",
                           "lower(now.weekday) IN ['sat', 'sun']", "HOLIDAY('national')"}) {
    INFO(text);
    const Reads reads = reads_of(text);
    CHECK(reads.clock);
    CHECK(reads.queue_slots.empty());
  }
}

TEST_CASE("Reads: facts that change only with routing events do not count", "[rules][reads]") {
  for (const char* text : {"true",
                           "task.caller CONTAINS '+33'",
                           "task.dialled = '1'",
                           "task.language = 'fr'",
                           "task.channel = 'voice'",
                           "task.vip >= 1",
                           "task.priority > 2",
                           "task.attr.segment = 'gold'",
                           "task.ivr.menu = '2'",
                           "agent.name = 'a'",
                           "agent.team = 't'",
                           "agent.languages HAS 'en'",
                           "agent.skill.billing >= 3",
                           "agent.tasks = 0",
                           "agent.tier = 1",
                           "agent.penalty < 5",
                           "agent.attr.site = 'x'",
                           "number(task.attr.account) > 10",
                           "30s > 1m",
                           "09:00 < 17:00"}) {
    INFO(text);
    const Reads reads = reads_of(text);
    CHECK_FALSE(reads.clock);
    CHECK(reads.queue_slots.empty());
  }
}

TEST_CASE("Reads count paths that evaluation may skip", "[rules][reads]") {
  // An upper bound: the AND stops at false today, but the text still names the clock.
  CHECK(reads_of("false AND task.waited > 1m").clock);
  CHECK(reads_of("true OR queue.backup.waiting > 0").queue_slots == Slots{2});
}

TEST_CASE("Reads: queue slots are sorted and unique, whatever the figure", "[rules][reads]") {
  // test_schema(): queues sales = 0, support = 1, backup = 2.
  CHECK(reads_of("queue.support.waiting > 3").queue_slots == Slots{1});
  CHECK(reads_of("queue.backup.waiting > 0 OR queue.sales.sl < 0.8 OR "
                 "queue.backup.longest_wait > 1m OR queue.sales.ready = 0")
            .queue_slots == Slots{0, 2});
  const Reads all = reads_of(
      "queue.backup.estimated_wait < queue.support.estimated_wait AND "
      "queue.sales.waiting + queue.support.ready > queue.backup.sl AND now.time > 08:00");
  CHECK(all.queue_slots == Slots{0, 1, 2});
  CHECK(all.clock);
  CHECK_FALSE(reads_of("queue.sales.waiting > 0").clock);
}

TEST_CASE("Reads of a compiled condition are shared by its copies", "[rules][reads]") {
  const CompiledExpression compiled =
      compile_or_fail("queue.support.ready > 0 AND open('national')", test_schema());
  const CompiledExpression copy = compiled;
  CHECK(&copy.reads() == &compiled.reads());
  CHECK(copy.reads().clock);
  CHECK(copy.reads().queue_slots == Slots{1});
}

TEST_CASE("Reads of an ORDER BY list are the union over its keys", "[rules][reads]") {
  const Reads none = order_reads_of("agent.skill.billing DESC, agent.tier, agent.penalty");
  CHECK_FALSE(none.clock);
  CHECK(none.queue_slots.empty());

  const Reads one_key = order_reads_of("ORDER BY agent.tasks, agent.idle DESC");
  CHECK(one_key.clock);
  CHECK(one_key.queue_slots.empty());

  Result<CompiledOrder> order = compile_order(
      "queue.backup.estimated_wait DESC, queue.sales.waiting + queue.backup.waiting, "
      "queue.backup.sl >= 0.5",
      test_schema());
  REQUIRE(order);
  CHECK(order.value().keys()[0].expression.reads().queue_slots == Slots{2});
  CHECK(order.value().keys()[1].expression.reads().queue_slots == Slots{0, 2});
  const Reads all = order.value().reads();
  CHECK_FALSE(all.clock);
  CHECK(all.queue_slots == Slots{0, 2});

  CHECK(order_reads_of("now.time, queue.support.ready").clock);
  CHECK(order_reads_of("now.time, queue.support.ready").queue_slots == Slots{1});
}

TEST_CASE("Reads: what a condition reads of the task, the agent's work and queue figures",
          "[rules][reads]") {
  for (const char* text : {"agent.skill.billing >= 3", "agent.languages HAS 'en'", "agent.tier = 1",
                           "agent.penalty < 5", "agent.attr.site = 'x'", "agent.team = 't'",
                           "agent.name = 'a'", "NOT (agent.skill.billing BETWEEN 2 AND 4)"}) {
    INFO(text);
    CHECK(reads_of(text).agent_static());
  }
  for (const char* text : {"agent.languages HAS task.language", "task.vip >= 1", "agent.tasks = 0",
                           "agent.idle > 1m", "queue.sales.waiting > 2", "now.time > 09:00",
                           "agent.skill.billing >= 3 AND task.attr.segment = 'gold'"}) {
    INFO(text);
    CHECK_FALSE(reads_of(text).agent_static());
  }
  CHECK(reads_of("agent.languages HAS task.language").task);
  CHECK_FALSE(reads_of("agent.languages HAS task.language").agent_live);
  CHECK(reads_of("agent.tasks = 0").agent_live);
  CHECK(reads_of("agent.idle > 1m").agent_live);
  CHECK_FALSE(reads_of("agent.idle > 1m").task);
  CHECK(reads_of("queue.sales.waiting > 2").queue_figures == kReadsWaiting);
  CHECK(reads_of("queue.sales.ready > 2 OR queue.backup.sl < 0.8").queue_figures ==
        (kReadsReady | kReadsServiceLevel));
  CHECK(order_reads_of("queue.sales.longest_wait DESC, agent.idle").queue_figures ==
        kReadsLongestWait);
  CHECK(order_reads_of("queue.sales.longest_wait DESC, agent.idle").agent_live);
}
}  // namespace
}  // namespace acd::rules::testing
