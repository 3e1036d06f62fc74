// A queue's rule-based targets (QueueConfig::routing, docs/RULES.md) compiled against the
// names of its tenant. The configuration layer compiles them to report located errors
// before anything is applied; the routing core compiles them again when the configuration
// is applied and evaluates them per candidate. Pure functions: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/core/model.h"
#include "engine/rules/compiler.h"
#include "engine/rules/schema.h"

namespace acd::core {

// The names a tenant's rules may use: its skills, queues and calendars by name, and the task
// attribute, IVR and agent attribute keys that any of its queues' routing texts mention
// (attributes are free-form, so mentioning a key declares it). Slots follow the order of
// `config`'s lists.
rules::Schema tenant_rules_schema(const CoreConfig& config, TenantId tenant);

struct CompiledRouting {
  std::vector<rules::CompiledExpression> targets;  // one per step
  std::optional<rules::CompiledOrder> order;       // none when order_by is empty
};

struct RoutingRuleError {
  static constexpr int kOrderBy = -1;
  int step = kOrderBy;  // the index of the step whose target failed, or kOrderBy
  std::string problem;  // a structural problem (the first step's `after`, order of steps)
  std::optional<rules::CompileError> compile_error;  // a compile error in the text

  // "routing step 2: 1:13: unknown skill 'biling' (did you mean 'billing'?)"
  [[nodiscard]] std::string to_string() const;
};

// Compiles every step's target (which must be boolean) and the ORDER BY list, and checks
// the steps' structure: at least one step, steps[0].after zero, `after` strictly increasing.
std::variant<CompiledRouting, RoutingRuleError> compile_queue_routing(const QueueRouting& routing,
                                                                      const rules::Schema& schema);

}  // namespace acd::core
