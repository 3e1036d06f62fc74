// Compiles routing-rules text against a Schema into a program that evaluates without
// looking up names or allocating: paths become slots into EvalContext arrays, every node is
// typed at compile time, and strings are compared as views.
//
// Use: compile a queue target's condition once (on load or reload), then call
// matches(context) for each candidate agent. compile_order() builds the ORDER BY keys that
// rank the matching candidates. Thread-safety: compiled objects are immutable; one may be
// evaluated from several threads at once, and copies share the program.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/rules/eval_context.h"
#include "engine/rules/result.h"
#include "engine/rules/schema.h"

namespace acd::rules {

namespace detail {
struct Program;
struct Node;
}  // namespace detail

class CompiledOrder;

// What a compiled expression reads that can change without any routing event (a task
// arriving, an agent becoming ready, ...), so that the router knows when a condition that
// was false may have become true on its own and must be evaluated again.
struct Reads {
  // Reads the clock, directly or not: now.time, now.weekday, open(), holiday() (calendars
  // open and close with time), task.waited or agent.idle.
  bool clock = false;
  // The slots (Schema::queues) of the queue.<q>.<figure> paths read; sorted, unique.
  std::vector<std::uint32_t> queue_slots;
  // The queue figures read, of any of those queues: QueueFigureRead bits.
  std::uint8_t queue_figures = 0;
  // Reads the task (task.*), or what changes with the agent's work (agent.idle,
  // agent.tasks).
  bool task = false;
  bool agent_live = false;

  // What the expression reads of the agent changes only when the configuration does
  // (skills, languages, team, attributes, name, tier, penalty) and it reads nothing else:
  // its value per agent and queue membership may be computed once, when the configuration
  // is applied.
  [[nodiscard]] bool agent_static() const {
    return !clock && queue_slots.empty() && !task && !agent_live;
  }
};

// Bits of Reads::queue_figures.
enum QueueFigureRead : std::uint8_t {
  kReadsWaiting = 1,
  kReadsReady = 2,
  kReadsLongestWait = 4,
  kReadsEstimatedWait = 8,
  kReadsServiceLevel = 16,
};

class CompiledExpression {
 public:
  [[nodiscard]] Type type() const;

  // Computed at compile time; a path counts even when evaluation may skip it (e.g. after a
  // false AND), so this is an upper bound of what one evaluation reads.
  [[nodiscard]] const Reads& reads() const;

  // The expression is the path agent.idle alone (a common ORDER BY key that a router can
  // compute from its own index without evaluating the expression).
  [[nodiscard]] bool is_agent_idle() const;

  // Requires type() == kBoolean.
  [[nodiscard]] bool evaluate_bool(const EvalContext& context) const;
  // Requires a number, duration (milliseconds) or time of day (minutes since midnight).
  [[nodiscard]] double evaluate_number(const EvalContext& context) const;

  // A routing condition: same as evaluate_bool.
  [[nodiscard]] bool matches(const EvalContext& context) const { return evaluate_bool(context); }

  // A hint: starts fetching the first of the program's nodes into the cache, so that a
  // router can overlap that with other work before evaluating. Changes nothing.
  void prefetch() const {
    __builtin_prefetch(nodes_);
    __builtin_prefetch(reinterpret_cast<const char*>(nodes_) + 64);
  }

 private:
  friend Result<CompiledExpression> compile_expression(std::string_view, const Schema&);
  friend Result<CompiledOrder> compile_order(std::string_view, const Schema&);
  explicit CompiledExpression(std::shared_ptr<const detail::Program> program);
  std::shared_ptr<const detail::Program> program_;
  // The program's nodes, root and set constants again, so that evaluating reads them
  // without going through the program object first.
  const detail::Node* nodes_ = nullptr;
  std::uint32_t root_ = 0;
  std::span<const std::string_view> set_elements_;
};

// An expression of any type.
Result<CompiledExpression> compile_expression(std::string_view text, const Schema& schema);

// A routing condition: the expression must be boolean.
Result<CompiledExpression> compile(std::string_view text, const Schema& schema);

struct OrderKey {
  CompiledExpression expression;  // a number, duration, time of day or boolean
  bool descending = false;
};

// "agent.skill.billing DESC, agent.idle DESC" (an optional leading ORDER BY is accepted).
class CompiledOrder {
 public:
  explicit CompiledOrder(std::vector<OrderKey> keys) : keys_(std::move(keys)) {}

  [[nodiscard]] const std::vector<OrderKey>& keys() const { return keys_; }
  [[nodiscard]] std::size_t size() const { return keys_.size(); }

  // The union of the keys' reads(): when a key reads the clock or a queue's figures, the
  // ranking can change without any routing event.
  [[nodiscard]] Reads reads() const;

  // Writes one sort key per ORDER BY term into out[0..size()) (out must be at least that
  // long): booleans as 0/1, descending terms negated, so that the candidate whose keys
  // compare lexicographically smallest (see precedes) comes first.
  void evaluate(const EvalContext& context, std::span<double> out) const;
  // The sort key of term `i` alone, as evaluate() writes it.
  [[nodiscard]] double evaluate_key(std::size_t i, const EvalContext& context) const;

  // True when a candidate with sort keys `a` goes before one with keys `b`.
  [[nodiscard]] static bool precedes(std::span<const double> a, std::span<const double> b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  std::vector<OrderKey> keys_;
};

Result<CompiledOrder> compile_order(std::string_view text, const Schema& schema);

// Attribute and IVR keys are free-form (whatever the telephony or the task's creator set), so
// the router declares every key its tenant's rules mention before compiling them: for each
// `task.attr.NAME`, `task.ivr.NAME` and `agent.attr.NAME` in `text` (a condition or an ORDER BY
// list), appends NAME to schema.task_attributes, schema.ivr_keys or schema.agent_attributes
// unless it is already there. Existing entries keep their order, and so their slots. NAME may
// be a keyword, as in any path (task.attr.order). Only tokens are looked at, not the grammar;
// scanning stops silently at a lexical error (compiling the text will report it), keeping
// the keys found before it.
void declare_keys(std::string_view text, Schema& schema);

// One term of a condition's top-level AND chain, as written, compiled on its own: what
// `acdctl route explain` names when a target does not admit an agent ("agent.skill.billing
// >= 3 is false").
struct Conjunct {
  std::string text;  // trimmed, without the parentheses that only grouped the whole chain
  CompiledExpression condition;
};

// Splits a boolean condition into its top-level AND terms (a condition without a top-level
// AND is one term) and compiles each. Fails as compile() fails on the whole text.
Result<std::vector<Conjunct>> compile_conjuncts(std::string_view text, const Schema& schema);

}  // namespace acd::rules
