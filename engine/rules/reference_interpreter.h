// A deliberately simple interpreter of the rules language, for tests only: it walks the
// syntax tree and looks every name up as a string in a ReferenceWorld. Property tests check
// that compiled evaluation agrees with it. It assumes the expression compiled (so it is well
// typed) and does not repeat the compiler's checks. Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/rules/compiler.h"
#include "engine/rules/eval_context.h"
#include "engine/rules/parser.h"
#include "engine/rules/schema.h"

namespace acd::rules::testing {

// All facts by name. Anything missing from a map reads as "" or 0 (as in EvalContext).
struct ReferenceWorld {
  std::string caller, dialled, language, channel;
  double vip = 0;
  double priority = 0;
  std::int64_t waited_ms = 0;
  std::map<std::string, std::string> task_attributes;
  std::map<std::string, std::string> ivr;

  std::string agent_name, team;
  std::vector<std::string> languages;
  std::map<std::string, int> skills;
  std::int64_t idle_ms = 0;
  double tasks = 0;
  double tier = 1;
  double penalty = 0;
  std::map<std::string, std::string> agent_attributes;

  std::map<std::string, QueueFigures> queues;
  std::map<std::string, CalendarState> calendars;
  int time_of_day_minutes = 0;
  std::string weekday = "mon";
};

struct ReferenceValue {
  Type type = Type::kBoolean;
  double number = 0;  // number, duration (ms), time of day (minutes)
  bool boolean = false;
  std::string text;
  std::vector<std::string> set;
};

ReferenceValue interpret(const SyntaxNode& node, const ReferenceWorld& world);

// What CompiledExpression::reads() should be for this tree, found by walking it and naming
// the paths and functions that read the clock or a queue (whose slot is its index in
// schema.queues).
Reads reference_reads(const SyntaxNode& node, const Schema& schema);

// The EvalContext a router would build for `world`: arrays in the Schema's slot order,
// views into `world` (which must outlive this object).
class WorldContext {
 public:
  WorldContext(const ReferenceWorld& world, const Schema& schema);
  WorldContext(const WorldContext&) = delete;
  WorldContext& operator=(const WorldContext&) = delete;

  [[nodiscard]] const EvalContext& context() const { return context_; }

 private:
  TaskFacts task_;
  AgentFacts agent_;
  std::vector<std::string_view> task_attributes_, ivr_, agent_attributes_, languages_;
  std::vector<std::uint8_t> skills_;
  std::vector<QueueFigures> queues_;
  std::vector<CalendarState> calendars_;
  EvalContext context_;
};

}  // namespace acd::rules::testing
