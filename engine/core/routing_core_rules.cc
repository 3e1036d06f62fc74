// Rule-based queue targets in the routing core (QueueConfig::routing, docs/RULES.md): the
// rules are compiled when the configuration is applied; a call or task at step i of such a
// queue may go to exactly the members for whom step i's target holds, ranked by the
// queue's ORDER BY, then tier and the queue's strategy. The shared state is in
// routing_core_impl.h. Layout:
//   1. building: schemas, compiled rules, agents' facts
//   2. facts: what one evaluation reads of a call, a task, an agent and the queues
//   3. routing a call by rules (task-first for tasks stays in routing_core_tasks.cc)
//   4. live rules: evaluated again while anything waits
#include <algorithm>
#include <unordered_map>

#include "engine/core/routing_core.h"
#include "engine/core/routing_core_impl.h"

namespace acd::core {

namespace {

constexpr std::int64_t kNsPerMinute = 60'000'000'000;
constexpr std::int64_t kMinutesPerDay = 24 * 60;

std::int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// The value of attribute `key` ("ivr." + key when `ivr`), or empty.
std::string_view attribute(const std::vector<std::pair<std::string, std::string>>& attributes,
                           std::string_view key, bool ivr) {
  constexpr std::string_view kIvr = "ivr.";
  for (const auto& [name, value] : attributes) {
    std::string_view n = name;
    if (ivr) {
      if (!n.starts_with(kIvr)) continue;
      n.remove_prefix(kIvr.size());
    }
    if (n == key) return value;
  }
  return {};
}

void resolve_attributes(const std::vector<std::pair<std::string, std::string>>& attributes,
                        const rules::Schema& schema, RuleScratch& s) {
  s.task_attributes.resize(schema.task_attributes.size());
  for (std::size_t i = 0; i < schema.task_attributes.size(); ++i)
    s.task_attributes[i] = attribute(attributes, schema.task_attributes[i], false);
  s.task_ivr.resize(schema.ivr_keys.size());
  for (std::size_t i = 0; i < schema.ivr_keys.size(); ++i)
    s.task_ivr[i] = attribute(attributes, schema.ivr_keys[i], true);
  s.task.attributes = s.task_attributes;
  s.task.ivr = s.task_ivr;
  s.task.language = attribute(attributes, "language", false);
}

void append_unique(std::vector<std::uint32_t>& out, const std::vector<std::uint32_t>& more) {
  for (std::uint32_t slot : more)
    if (std::find(out.begin(), out.end(), slot) == out.end()) out.push_back(slot);
}

}  // namespace

// =====================================================================================
// 1. Building
// =====================================================================================

void RoutingCore::Impl::build_rules(const CoreConfig& config) {
  std::unordered_map<std::uint32_t, std::vector<SkillId>> skill_slots;  // tenant -> slot -> id
  for (const auto& skill : config.skills) skill_slots[skill.tenant.value].push_back(skill.id);
  for (auto& tenant : tenants) {
    if (!tenant.exists) continue;
    tenant.rules_schema = tenant_rules_schema(config, tenant.cfg.id);
    tenant.rules_queue_index.clear();
    for (const auto& queue : config.queues)
      if (queue.tenant == tenant.cfg.id) tenant.rules_queue_index.push_back(queue.id.value);
  }
  for (auto& q : queues) {
    q.rules.reset();
    if (!q.exists || !q.cfg.routing.enabled() || q.cfg.tenant.value >= tenants.size()) continue;
    const TenantRt& tenant = tenants[q.cfg.tenant.value];
    auto compiled = compile_queue_routing(q.cfg.routing, tenant.rules_schema);
    // validate() compiled the open queues' rules; a closed queue's may no longer compile
    // (a skill it names was removed): its members then take its remaining calls by skills.
    if (compiled.index() != 0) continue;
    auto rules = std::make_shared<QueueRules>();
    rules->compiled = std::move(std::get<CompiledRouting>(compiled));
    for (const auto& target : rules->compiled.targets) {
      rules->live = rules->live || target.reads().clock || !target.reads().queue_slots.empty();
      append_unique(rules->queue_slots, target.reads().queue_slots);
    }
    if (rules->compiled.order)
      append_unique(rules->queue_slots, rules->compiled.order->reads().queue_slots);
    q.rules = std::move(rules);
  }
  for (auto& a : agents) {
    a.rule_facts.reset();
    if (!a.exists || a.cfg.tenant.value >= tenants.size()) continue;
    const rules::Schema& schema = tenants[a.cfg.tenant.value].rules_schema;
    auto facts = std::make_shared<AgentRuleFacts>();
    if (const TeamRt* team = team_of(a)) facts->team.push_back(team->cfg.name);
    facts->languages = a.cfg.languages;
    facts->language_views.assign(facts->languages.begin(), facts->languages.end());
    facts->attribute_values.resize(schema.agent_attributes.size());
    for (std::size_t i = 0; i < schema.agent_attributes.size(); ++i)
      for (const auto& [key, value] : a.cfg.attributes)
        if (key == schema.agent_attributes[i]) facts->attribute_values[i] = value;
    facts->attribute_views.assign(facts->attribute_values.begin(), facts->attribute_values.end());
    const auto& slots = skill_slots[a.cfg.tenant.value];
    facts->skills.resize(slots.size());
    for (std::size_t i = 0; i < slots.size(); ++i)
      facts->skills[i] = static_cast<std::uint8_t>(agent_level(a.cfg, slots[i]));
    a.rule_facts = std::move(facts);
  }
}

// =====================================================================================
// 2. Facts
// =====================================================================================

namespace {

// The figures of the queues `rules` read, and the clock, into `s.context`.
template <class Impl>
void prepare_common(const Impl& core, const QueueRt& q, TimePoint t, RuleScratch& s) {
  const TenantRt& tenant = core.tenants[q.cfg.tenant.value];
  s.figures.resize(tenant.rules_schema.queues.size());
  for (std::uint32_t slot : q.rules->queue_slots) {
    if (slot >= tenant.rules_queue_index.size()) continue;
    const QueueRt& other = core.queues[tenant.rules_queue_index[slot]];
    const QueueSnapshot snap = core.queue_snapshot(other, t);
    rules::QueueFigures& f = s.figures[slot];
    f.waiting = snap.waiting;
    f.ready = snap.members_ready;
    f.longest_wait_ms = to_ms(snap.longest_wait);
    f.estimated_wait_ms = to_ms(snap.estimated_wait);
    f.service_level = snap.sl_answered();
  }
  s.context.queues = s.figures;
  s.context.calendars = {};
  // Engine time is Unix-epoch based: day 0 (1970-01-01) was a Thursday.
  const std::int64_t minutes = t.time_since_epoch().count() / kNsPerMinute;
  const std::int64_t days =
      minutes >= 0 ? minutes / kMinutesPerDay : (minutes + 1) / kMinutesPerDay - 1;
  s.context.time_of_day_minutes = static_cast<int>(minutes - days * kMinutesPerDay);
  s.context.weekday = static_cast<int>(((days + 3) % 7 + 7) % 7);
  s.context.task = &s.task;
  s.context.agent = &s.agent;
}

}  // namespace

void RoutingCore::Impl::prepare_call_rules(const QueueRt& q, const CallRt& c, TimePoint t,
                                           RuleScratch& s) const {
  const rules::Schema& schema = tenants[q.cfg.tenant.value].rules_schema;
  s.task = rules::TaskFacts{};
  s.task.caller = c.spec.caller_number;
  s.task.dialled = c.spec.dialed_number;
  s.task.channel = "voice";
  s.task.vip = c.spec.vip_level;
  s.task.priority = c.spec.priority;
  s.task.waited_ms = to_ms(t - c.enqueued);
  resolve_attributes(c.spec.attributes, schema, s);
  prepare_common(*this, q, t, s);
}

void RoutingCore::Impl::prepare_task_rules(const QueueRt& q, const TaskRt& k, TimePoint t,
                                           RuleScratch& s) const {
  const rules::Schema& schema = tenants[q.cfg.tenant.value].rules_schema;
  s.task = rules::TaskFacts{};
  s.task.caller = k.spec.customer;
  s.task.channel = to_string(k.spec.channel);
  s.task.vip = k.spec.vip_level;
  s.task.priority = k.spec.priority;
  s.task.waited_ms = to_ms(t - k.enqueued);
  resolve_attributes(k.spec.attributes, schema, s);
  prepare_common(*this, q, t, s);
}

void RoutingCore::Impl::set_rule_agent(const AgentRt& a, const Membership* m, TimePoint t,
                                       RuleScratch& s) const {
  rules::AgentFacts& f = s.agent;
  f = rules::AgentFacts{};
  f.name = a.cfg.name;
  if (const AgentRuleFacts* facts = a.rule_facts.get()) {
    if (!facts->team.empty()) f.team = facts->team.front();
    f.languages = facts->language_views;
    f.skills = facts->skills;
    f.attributes = facts->attribute_views;
  }
  f.idle_ms = to_ms(t - std::max(a.idle_since, a.task_idle_since));
  f.tasks = a.tasks_in_hand;
  if (m != nullptr) {
    f.tier = m->tier;
    f.penalty = m->penalty;
  }
  s.context.agent = &f;
}

bool RoutingCore::Impl::call_target_admits(const QueueRt& q, const CallRt& c, const AgentRt& a,
                                           const Membership* m, TimePoint t) const {
  RuleScratch s;
  prepare_call_rules(q, c, t, s);
  set_rule_agent(a, m, t, s);
  return target_admits(q, c.step, s);
}

bool RoutingCore::Impl::task_target_admits(const QueueRt& q, const TaskRt& k, const AgentRt& a,
                                           const Membership* m, TimePoint t) const {
  RuleScratch s;
  prepare_task_rules(q, k, t, s);
  set_rule_agent(a, m, t, s);
  return target_admits(q, k.step, s);
}

// =====================================================================================
// 3. Routing a call by rules
// =====================================================================================

// Call-first matching in a queue with routing rules: every Ready member that the bucket
// structure, the call's own conditions (sticky, exclusions, extra skills) and the current
// step's target admit is a candidate; the queue's ORDER BY, then tier, penalty and the
// strategy rank them.
bool RoutingCore::Impl::route_call_by_rules(CallRt& c, QueueRt& q, TimePoint t) {
  const StepRule& rule = q.steps[static_cast<std::size_t>(c.step)];
  RuleScratch& s = rule_scratch;
  prepare_call_rules(q, c, t, s);
  const rules::CompiledOrder* order = q.rules->compiled.order ? &*q.rules->compiled.order : nullptr;
  const std::size_t key_count = order != nullptr ? order->size() : 0;
  auto& found = scratch_candidates;
  found.clear();
  s.keys.clear();
  for (auto& b : q.buckets) {
    if (!gaps_ok(b.required_gap, b.optional_gap, rule)) continue;
    for (const ReadyKey& k : b.agents) {
      const AgentRt& a = agents[k.agent];
      if (!residual_ok(a, AgentId(k.agent), c, q, t)) continue;
      set_rule_agent(a, membership(agents[k.agent], c.queue), t, s);
      if (!target_admits(q, c.step, s)) continue;
      const std::size_t at = s.keys.size();
      if (order != nullptr) {
        s.keys.resize(at + key_count);
        order->evaluate(s.context, std::span<double>(s.keys).subspan(at, key_count));
      }
      found.push_back(RuleCandidate{at, b.tier, k});
    }
  }
  if (found.empty()) return false;
  const std::span<const double> keys(s.keys);
  auto keys_of = [&](const RuleCandidate& x) { return keys.subspan(x.keys, key_count); };
  // Same ORDER BY keys, tier and penalty: the strategy alone decides between them.
  auto same_group = [&](const RuleCandidate& x, const RuleCandidate& y) {
    return !rules::CompiledOrder::precedes(keys_of(x), keys_of(y)) &&
           !rules::CompiledOrder::precedes(keys_of(y), keys_of(x)) && x.tier == y.tier &&
           x.key.penalty == y.key.penalty;
  };
  std::sort(found.begin(), found.end(), [&](const RuleCandidate& x, const RuleCandidate& y) {
    if (rules::CompiledOrder::precedes(keys_of(x), keys_of(y))) return true;
    if (rules::CompiledOrder::precedes(keys_of(y), keys_of(x))) return false;
    if (x.tier != y.tier) return x.tier < y.tier;
    return x.key < y.key;
  });
  std::size_t group = 1;
  while (group < found.size() && same_group(found.front(), found[group])) ++group;

  scratch_agents.clear();
  switch (q.cfg.strategy) {
    case Strategy::kRingAll: {
      const std::size_t n = std::min<std::size_t>(found.size(), std::max(1, q.cfg.ring_all_limit));
      for (std::size_t i = 0; i < n; ++i) scratch_agents.push_back(found[i].key.agent);
      break;
    }
    case Strategy::kRandom: scratch_agents.push_back(found[random.below(group)].key.agent); break;
    case Strategy::kWeightedRandom: {
      auto weight = [&](const RuleCandidate& x) {
        return static_cast<std::uint64_t>(
            std::max(1, membership(agents[x.key.agent], c.queue)->weight));
      };
      std::uint64_t total = 0;
      for (std::size_t i = 0; i < group; ++i) total += weight(found[i]);
      std::uint64_t pick = random.below(total);
      for (std::size_t i = 0; i < group; ++i) {
        if (pick < weight(found[i])) {
          scratch_agents.push_back(found[i].key.agent);
          break;
        }
        pick -= weight(found[i]);
      }
      break;
    }
    case Strategy::kRoundRobin: {
      // The best group is in list order: the first after the last member offered, wrapping.
      std::size_t chosen = 0;
      for (std::size_t i = 0; i < group; ++i)
        if (found[i].key.primary > q.rr_last_position) {
          chosen = i;
          break;
        }
      scratch_agents.push_back(found[chosen].key.agent);
      break;
    }
    default: scratch_agents.push_back(found.front().key.agent); break;
  }
  offer(c, scratch_agents);
  return true;
}

// =====================================================================================
// 4. Live rules
// =====================================================================================

void RoutingCore::Impl::watch_live_rules(QueueRt& q) {
  if (q.rules == nullptr || !q.rules->live || q.rules_tick_pending) return;
  if (q.waiting_count == 0 && q.waiting_tasks.empty()) return;
  q.rules_tick_pending = true;
  schedule(now() + kRulesReevaluation, TimerKind::kRulesReevaluate,
           static_cast<std::uint64_t>(&q - queues.data()), 0);
}

void RoutingCore::Impl::fire_rules_reevaluate(std::uint32_t queue_index) {
  if (queue_index >= queues.size()) return;
  QueueRt& q = queues[queue_index];
  q.rules_tick_pending = false;
  if (!q.exists || q.rules == nullptr || !q.rules->live) return;
  route_waiting_calls(q);
  watch_live_rules(q);
}

}  // namespace acd::core
