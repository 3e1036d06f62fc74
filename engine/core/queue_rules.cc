#include "engine/core/queue_rules.h"

#include <utility>

namespace acd::core {

rules::Schema tenant_rules_schema(const CoreConfig& config, TenantId tenant) {
  rules::Schema schema;
  for (const auto& skill : config.skills)
    if (skill.tenant == tenant) schema.skills.push_back(skill.name);
  for (const auto& queue : config.queues)
    if (queue.tenant == tenant) schema.queues.push_back(queue.name);
  for (const auto& t : config.tenants)
    if (t.id == tenant)
      for (const auto& calendar : t.calendars) schema.calendars.push_back(calendar.name());
  for (const auto& queue : config.queues) {
    if (queue.tenant != tenant) continue;
    for (const auto& step : queue.routing.steps) rules::declare_keys(step.target, schema);
    rules::declare_keys(queue.routing.order_by, schema);
  }
  return schema;
}

std::string RoutingRuleError::to_string() const {
  std::string where =
      step == kOrderBy ? "routing order_by" : "routing step " + std::to_string(step + 1);
  if (compile_error) return where + ": " + compile_error->to_string();
  return where + ": " + problem;
}

std::variant<CompiledRouting, RoutingRuleError> compile_queue_routing(const QueueRouting& routing,
                                                                      const rules::Schema& schema) {
  CompiledRouting compiled;
  if (routing.steps.empty()) return RoutingRuleError{0, "at least one step is needed", {}};
  for (std::size_t i = 0; i < routing.steps.size(); ++i) {
    const RoutingStep& step = routing.steps[i];
    const int index = static_cast<int>(i);
    if (i == 0 && step.after != Duration::zero())
      return RoutingRuleError{
          index, "the first step applies from the start: its `after` must be 0", {}};
    if (i > 0 && step.after <= routing.steps[i - 1].after)
      return RoutingRuleError{
          index, "steps must begin later than the step before: `after` must increase", {}};
    auto target = rules::compile(step.target, schema);
    if (!target) return RoutingRuleError{index, {}, target.error()};
    compiled.targets.push_back(std::move(target.value()));
  }
  if (!routing.order_by.empty()) {
    auto order = rules::compile_order(routing.order_by, schema);
    if (!order) return RoutingRuleError{RoutingRuleError::kOrderBy, {}, order.error()};
    compiled.order = std::move(order.value());
  }
  return compiled;
}

}  // namespace acd::core
