// Property test: compiled evaluation agrees with the reference interpreter on random
// well-typed expressions over random facts, and reads() with the paths the expression names.
// The generator is seeded with a fixed seed, so a failure reproduces; it prints the seed, the
// case number and the expression.
#include <array>
#include <catch2/catch.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/rules/test_support.h"

namespace acd::rules::testing {
namespace {

constexpr std::uint64_t kSeed = 20240608;

class ExpressionGenerator {
 public:
  explicit ExpressionGenerator(std::mt19937_64& random) : random_(random) {}

  std::string generate(Type type, int depth) {
    switch (type) {
      case Type::kBoolean: return boolean(depth);
      case Type::kNumber: return number(depth);
      case Type::kDuration: return duration(depth);
      case Type::kTimeOfDay: return time_of_day();
      case Type::kString: return text(depth);
      case Type::kStringSet: return set();
    }
    return "";
  }

 private:
  int pick(int count) { return std::uniform_int_distribution<int>(0, count - 1)(random_); }
  template <std::size_t N>
  std::string one_of(const std::array<const char*, N>& choices) {
    return choices[pick(static_cast<int>(N))];
  }
  // Keywords in a random case, since they are case-insensitive.
  std::string keyword(std::string word) {
    const int style = pick(3);
    for (char& c : word) {
      if (style == 0) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (style == 2 && pick(2) == 0)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return word;
  }
  Type numeric_type() {
    constexpr std::array<Type, 3> kTypes = {Type::kNumber, Type::kDuration, Type::kTimeOfDay};
    return kTypes[pick(3)];
  }
  std::string compare_op() {
    return one_of(std::array{" = ", " != ", " < ", " <= ", " > ", " >= "});
  }

  std::string boolean(int depth) {
    if (depth <= 0 || pick(6) == 0) {
      return one_of(std::array{"true", "false", "open('business-hours')", "holiday('national')",
                               "open('national')", "FALSE"});
    }
    const int next = depth - 1;
    switch (pick(12)) {
      case 0: return "(" + boolean(next) + " " + keyword("AND") + " " + boolean(next) + ")";
      case 1: return "(" + boolean(next) + " " + keyword("OR") + " " + boolean(next) + ")";
      case 2: return "(" + keyword("NOT") + " " + boolean(next) + ")";
      case 3:
      case 4: {
        const Type type = numeric_type();
        return "(" + generate(type, next) + compare_op() + generate(type, next) + ")";
      }
      case 5: return "(" + text(next) + compare_op() + text(next) + ")";
      case 6: return "(" + boolean(next) + one_of(std::array{" = ", " != "}) + boolean(next) + ")";
      case 7:
        return "(" + text(next) + (pick(2) ? " " + keyword("NOT") : std::string()) + " " +
               keyword("IN") + " " + set() + ")";
      case 8: return "(" + text(next) + " " + keyword("CONTAINS") + " " + text(next) + ")";
      case 9:
        return "(" + set() + " " + (pick(2) ? keyword("HAS") : keyword("CONTAINS")) + " " +
               text(next) + ")";
      default: {
        const Type type = numeric_type();
        return "(" + generate(type, next) + (pick(2) ? " " + keyword("NOT") : std::string()) + " " +
               keyword("BETWEEN") + " " + generate(type, next) + " " + keyword("AND") + " " +
               generate(type, next) + ")";
      }
    }
  }

  std::string number(int depth) {
    if (depth <= 0 || pick(4) == 0) {
      return one_of(std::array{"0",
                               "1",
                               "2",
                               "3",
                               "2.5",
                               "7",
                               "10",
                               "0.5",
                               "task.vip",
                               "task.priority",
                               "agent.skill.billing",
                               "agent.skill.sales",
                               "agent.skill.support",
                               "agent.tasks",
                               "agent.tier",
                               "agent.penalty",
                               "queue.sales.waiting",
                               "queue.support.ready",
                               "queue.backup.sl",
                               "queue.sales.sl"});
    }
    const int next = depth - 1;
    switch (pick(5)) {
      case 0:
      case 1:
        return "(" + number(next) + one_of(std::array{" + ", " - ", " * ", " / ", " % "}) +
               number(next) + ")";
      case 2: return "(-" + number(next) + ")";
      case 3: return "number(" + text(next) + ")";
      default: return "(" + duration(next) + " / " + duration(next) + ")";
    }
  }

  std::string duration(int depth) {
    if (depth <= 0 || pick(4) == 0) {
      return one_of(std::array{"0s", "500ms", "30s", "1m", "1m30s", "2h", "task.waited",
                               "agent.idle", "queue.sales.longest_wait",
                               "queue.support.estimated_wait", "queue.backup.longest_wait"});
    }
    const int next = depth - 1;
    switch (pick(6)) {
      case 0:
        return "(" + duration(next) + one_of(std::array{" + ", " - ", " % "}) + duration(next) +
               ")";
      case 1: return "(" + duration(next) + " * " + number(next) + ")";
      case 2: return "(" + number(next) + " * " + duration(next) + ")";
      case 3: return "(" + duration(next) + " / " + number(next) + ")";
      case 4: return "(-" + duration(next) + ")";
      default: return duration(0);
    }
  }

  std::string time_of_day() {
    return one_of(std::array{"now.time", "now.time", "09:00", "17:30", "00:00", "23:59", "12:00"});
  }

  std::string text(int depth) {
    if (depth <= 0 || pick(4) != 0) {
      return one_of(std::array{"'en'",
                               "'EN'",
                               "'fr'",
                               "\"Fr\"",
                               "''",
                               "'12'",
                               "'-3.5'",
                               "'abc'",
                               "'ABC'",
                               "'b'",
                               "task.caller",
                               "task.dialled",
                               "task.language",
                               "task.channel",
                               "task.attr.segment",
                               "task.attr.account",
                               "task.attr.order",
                               "task.ivr.menu",
                               "task.ivr.reason",
                               "agent.team",
                               "agent.name",
                               "agent.attr.site",
                               "agent.attr.tier",
                               "now.weekday"});
    }
    return keyword("LOWER") + "(" + text(depth - 1) + ")";
  }

  std::string set() {
    return one_of(std::array{"agent.languages", "agent.languages", "['en', 'fr']", "[]",
                             "['EN', 'abc', '12']", "['b']"});
  }

  std::mt19937_64& random_;
};

ReferenceWorld random_world(std::mt19937_64& random) {
  const auto pick = [&](int count) {
    return std::uniform_int_distribution<int>(0, count - 1)(random);
  };
  const std::array<const char*, 10> strings = {"en", "EN",   "fr",  "Fr",  "",
                                               "12", "-3.5", "abc", "ABC", "b"};
  const auto some_string = [&] { return std::string(strings[pick(10)]); };
  const auto some_duration = [&] { return std::int64_t{500} * pick(400); };
  ReferenceWorld world;
  world.caller = some_string();
  world.dialled = some_string();
  world.language = some_string();
  world.channel = some_string();
  world.vip = pick(4);
  world.priority = pick(11) * 0.5;
  world.waited_ms = some_duration();
  for (const char* key : {"segment", "account", "order"}) {
    if (pick(3) != 0) world.task_attributes[key] = some_string();
  }
  for (const char* key : {"menu", "reason"}) {
    if (pick(3) != 0) world.ivr[key] = some_string();
  }
  world.agent_name = some_string();
  world.team = some_string();
  for (const char* language : {"en", "fr", "EN", "de", "abc"}) {
    if (pick(2) != 0) world.languages.emplace_back(language);
  }
  for (const char* skill : {"billing", "sales", "support"}) {
    if (pick(4) != 0) world.skills[skill] = pick(11);
  }
  world.idle_ms = some_duration();
  world.tasks = pick(4);
  world.tier = 1 + pick(9);
  world.penalty = pick(6);
  for (const char* key : {"site", "tier"}) {
    if (pick(3) != 0) world.agent_attributes[key] = some_string();
  }
  for (const char* queue : {"sales", "support", "backup"}) {
    if (pick(4) == 0) continue;
    world.queues[queue] = QueueFigures{double(pick(20)), double(pick(5)), some_duration(),
                                       some_duration(), pick(11) / 10.0};
  }
  for (const char* calendar : {"business-hours", "national"}) {
    world.calendars[calendar] = CalendarState{pick(2) == 0, pick(2) == 0};
  }
  const std::array<int, 6> times = {540, 1050, 0, 1439, 720, 600};
  world.time_of_day_minutes = pick(2) == 0 ? times[pick(6)] : pick(1440);
  const std::array<const char*, 7> weekdays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  world.weekday = weekdays[pick(7)];
  return world;
}

TEST_CASE("Compiled evaluation agrees with the reference interpreter", "[rules][property]") {
  std::mt19937_64 random(kSeed);
  ExpressionGenerator generator(random);
  const Schema schema = test_schema();
  constexpr int kExpressions = 4000;
  constexpr int kWorldsPerExpression = 4;
  int true_results = 0;
  int boolean_results = 0;
  constexpr std::array<Type, 3> kTopTypes = {Type::kBoolean, Type::kNumber, Type::kDuration};
  for (int i = 0; i < kExpressions; ++i) {
    const Type type = i % 4 == 3 ? kTopTypes[1 + (i / 4) % 2] : kTopTypes[0];
    const std::string expression = generator.generate(type, 1 + i % 5);
    INFO("seed " << kSeed << ", case " << i << ": " << expression);
    Result<CompiledExpression> compiled = compile_expression(expression, schema);
    if (!compiled) FAIL("compile error: " << compiled.error().to_string());
    REQUIRE(compiled.value().type() == type);
    Result<SyntaxTree> syntax = parse_expression(expression);
    REQUIRE(syntax);
    const Reads expected_reads = reference_reads(*syntax.value(), schema);
    REQUIRE(compiled.value().reads().clock == expected_reads.clock);
    REQUIRE(compiled.value().reads().queue_slots == expected_reads.queue_slots);
    REQUIRE(compiled.value().reads().queue_figures == expected_reads.queue_figures);
    REQUIRE(compiled.value().reads().task == expected_reads.task);
    REQUIRE(compiled.value().reads().agent_live == expected_reads.agent_live);
    for (int w = 0; w < kWorldsPerExpression; ++w) {
      const ReferenceWorld world = random_world(random);
      const WorldContext context(world, schema);
      const ReferenceValue expected = interpret(*syntax.value(), world);
      if (type == Type::kBoolean) {
        const bool actual = compiled.value().evaluate_bool(context.context());
        if (actual != expected.boolean) {
          FAIL("world " << w << ": compiled " << actual << ", interpreter " << expected.boolean);
        }
        ++boolean_results;
        true_results += actual ? 1 : 0;
      } else {
        const double actual = compiled.value().evaluate_number(context.context());
        if (actual != expected.number) {
          FAIL("world " << w << ": compiled " << actual << ", interpreter " << expected.number);
        }
      }
    }
  }
  // The generated conditions must not be trivially constant, or agreement would prove little.
  INFO(true_results << " of " << boolean_results << " conditions were true");
  CHECK(true_results > boolean_results / 5);
  CHECK(true_results < boolean_results * 4 / 5);
}

}  // namespace
}  // namespace acd::rules::testing
