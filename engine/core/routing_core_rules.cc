// Rule-based queue targets in the routing core (QueueConfig::routing, docs/RULES.md): the
// rules are compiled when the configuration is applied; a call or task at step i of such a
// queue may go to exactly the members for whom step i's target holds, ranked by the
// queue's ORDER BY, then tier and the queue's strategy. The shared state is in
// routing_core_impl.h. Layout:
//   1. building: schemas, compiled rules, agents' facts
//   2. facts: what one evaluation reads of a call, a task, an agent and the queues
//   3. routing a call by rules (task-first for tasks stays in routing_core_tasks.cc)
//   4. live rules: evaluated again while anything waits
//   5. explaining a routing decision (a dry run)
#include <algorithm>
#include <cstring>
#include <new>
#include <type_traits>

#include "engine/core/routing_core.h"
#include "engine/core/routing_core_impl.h"

namespace acd::core {

namespace {

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

AgentRuleFacts::AgentRuleFacts(std::string_view name, std::string_view team,
                               const std::vector<std::string>& languages,
                               const std::vector<std::string_view>& attributes,
                               const std::vector<std::uint8_t>& skills) {
  static_assert(std::is_trivially_destructible_v<rules::AgentFacts>);
  static_assert(sizeof(rules::AgentFacts) % alignof(std::string_view) == 0);
  std::size_t characters = name.size() + team.size();
  for (const auto& language : languages) characters += language.size();
  for (const auto& value : attributes) characters += value.size();
  const std::size_t views = languages.size() + attributes.size();
  const std::size_t views_at = sizeof(rules::AgentFacts);
  const std::size_t characters_at = views_at + views * sizeof(std::string_view);
  const std::size_t skills_at = characters_at + characters;
  block_ = std::make_unique<std::byte[]>(skills_at + skills.size());
  auto* facts = new (block_.get()) rules::AgentFacts{};
  auto* view = reinterpret_cast<std::string_view*>(block_.get() + views_at);
  char* text = reinterpret_cast<char*>(block_.get() + characters_at);
  auto keep = [&text](std::string_view from) {
    if (!from.empty()) std::memcpy(text, from.data(), from.size());
    const std::string_view kept(text, from.size());
    text += from.size();
    return kept;
  };
  facts->name = keep(name);
  facts->team = keep(team);
  std::string_view* const language_views = view;
  for (const auto& language : languages) new (view++) std::string_view(keep(language));
  facts->languages = std::span<const std::string_view>(language_views, languages.size());
  std::string_view* const attribute_views = view;
  for (const auto& value : attributes) new (view++) std::string_view(keep(value));
  facts->attributes = std::span<const std::string_view>(attribute_views, attributes.size());
  auto* levels = reinterpret_cast<std::uint8_t*>(block_.get() + skills_at);
  if (!skills.empty()) std::memcpy(levels, skills.data(), skills.size());
  facts->skills = std::span<const std::uint8_t>(levels, skills.size());
}

void RoutingCore::Impl::build_rules(const CoreConfig& config) {
  for (auto& tenant : tenants) {
    if (!tenant.exists) continue;
    tenant.rules_schema = tenant_rules_schema(config, tenant.cfg.id);
    tenant.rules_queue_index.clear();
    for (const auto& queue : config.queues)
      if (queue.tenant == tenant.cfg.id) tenant.rules_queue_index.push_back(queue.id.value);
  }
  for (auto& q : queues) {
    q.rules.reset();
    q.rule_ready_width = 0;
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
      rules->reads_clock = rules->reads_clock || target.reads().clock;
      append_unique(rules->queue_slots, target.reads().queue_slots);
      rules->queue_figures |= target.reads().queue_figures;
    }
    if (rules->compiled.order) {
      const rules::Reads order_reads = rules->compiled.order->reads();
      rules->reads_clock = rules->reads_clock || order_reads.clock;
      append_unique(rules->queue_slots, order_reads.queue_slots);
      rules->queue_figures |= order_reads.queue_figures;
      for (const auto& key : rules->compiled.order->keys()) {
        if (key.expression.reads().agent_static())
          rules->indexed_order_keys.push_back(static_cast<int>(rules->static_order_keys++));
        else if (key.expression.is_agent_idle())
          rules->indexed_order_keys.push_back(-1);
        else
          break;
      }
    }
    for (const auto& step : q.cfg.routing.steps) {
      auto& terms = rules->step_terms.emplace_back();
      auto split = rules::compile_conjuncts(step.target, tenant.rules_schema);
      if (!split) continue;  // compiled whole above; a split cannot fail, but refuse nobody
      std::vector<rules::Conjunct*> dynamic;
      for (auto& term : split.value()) {
        if (term.condition.reads().agent_static())
          terms.static_terms.push_back(std::move(term.condition));
        else
          dynamic.push_back(&term);
      }
      if (dynamic.size() == 1) {
        terms.dynamic_terms = std::move(dynamic.front()->condition);
      } else if (dynamic.size() > 1) {
        std::string joined;
        for (const rules::Conjunct* term : dynamic)
          joined += (joined.empty() ? "(" : " AND (") + term->text + ")";
        auto compiled_terms = rules::compile(joined, tenant.rules_schema);
        if (!compiled_terms) {  // as compiled whole: cannot fail; evaluate the whole target
          terms.static_terms.clear();
          continue;
        }
        terms.dynamic_terms = std::move(compiled_terms.value());
      }
      terms.split = true;
    }
    q.rule_ready_width = rules->static_order_keys;
    q.rules = std::move(rules);
  }
  for (auto& tenant : tenants) tenant.rule_skill_slots.clear();
  for (const auto& skill : config.skills)
    if (skill.tenant.value < tenants.size())
      tenants[skill.tenant.value].rule_skill_slots.push_back(skill.id);
  for (auto& q : queues) {
    q.rule_static_keys.clear();
    ++q.rule_keys_gen;  // every member gets a new row
  }
  for (auto& a : agents) build_agent_rules(a);
}

// What the rules read of `a` (AgentRuleFacts), and per membership of a rules-routed queue
// what the targets and ORDER BY read only of the configuration: evaluated once here, not
// once per routing decision (Membership::rule_steps, QueueRt::rule_static_keys). Called
// when the configuration is applied, and when the agent's skills change; the agent is not
// in the ready index then.
void RoutingCore::Impl::build_agent_rules(AgentRt& a) {
  a.rule_facts.reset();
  for (auto& m : a.memberships) m.rule_steps = ~std::uint64_t{0};
  if (!a.exists || a.cfg.tenant.value >= tenants.size()) return;
  const TenantRt& tenant = tenants[a.cfg.tenant.value];
  const rules::Schema& schema = tenant.rules_schema;
  std::string_view team_name;
  if (const TeamRt* team = team_of(a)) team_name = team->cfg.name;
  std::vector<std::string_view> attributes(schema.agent_attributes.size());
  for (std::size_t i = 0; i < schema.agent_attributes.size(); ++i)
    for (const auto& [key, value] : a.cfg.attributes)
      if (key == schema.agent_attributes[i]) attributes[i] = value;
  const auto& slots = tenant.rule_skill_slots;
  std::vector<std::uint8_t> skill_levels(slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i)
    skill_levels[i] = static_cast<std::uint8_t>(agent_level(a.cfg, slots[i]));
  auto facts = std::make_shared<const AgentRuleFacts>(a.cfg.name, team_name, a.cfg.languages,
                                                      attributes, skill_levels);
  a.rule_facts = std::move(facts);

  RuleScratch& s = admit_scratch;
  s.task = rules::TaskFacts{};
  s.context = rules::EvalContext{};
  s.context.task = &s.task;  // static terms never read the task; it is there all the same
  for (auto& m : a.memberships) {
    QueueRt& q = queues[m.queue];
    if (q.rules == nullptr) continue;
    const QueueRules& rules = *q.rules;
    set_rule_agent(a, &m, TimePoint{}, s);
    for (std::size_t step = 0; step < rules.step_terms.size() && step < 64; ++step)
      for (const auto& term : rules.step_terms[step].static_terms)
        if (!term.matches(s.context)) {
          m.rule_steps &= ~(std::uint64_t{1} << step);
          break;
        }
    const std::size_t width = rules.static_order_keys;
    if (width == 0) continue;
    // A row of its own when the configuration is applied; the same row when skills change.
    const bool has_row = (std::size_t{m.rule_row} + 1) * width <= q.rule_static_keys.size() &&
                         m.rule_row_queue_gen == q.rule_keys_gen;
    if (!has_row) {
      m.rule_row = static_cast<std::uint32_t>(q.rule_static_keys.size() / width);
      m.rule_row_queue_gen = q.rule_keys_gen;
      q.rule_static_keys.resize(q.rule_static_keys.size() + width);
    }
    double* row = q.rule_static_keys.data() + std::size_t{m.rule_row} * width;
    for (std::size_t i = 0; i < rules.indexed_order_keys.size(); ++i)
      if (const int column = rules.indexed_order_keys[i]; column >= 0)
        row[column] = rules.compiled.order->evaluate_key(i, s.context);
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
    rules::QueueFigures& f = s.figures[slot];
    f.waiting = other.waiting_count;
    // The other figures take a walk over the queue's members and calls: only when read.
    if ((q.rules->queue_figures & ~rules::kReadsWaiting) == 0) continue;
    const QueueSnapshot snap = core.queue_snapshot(other, t);
    f.ready = snap.members_ready;
    f.longest_wait_ms = to_ms(snap.longest_wait);
    f.estimated_wait_ms = to_ms(snap.estimated_wait);
    f.service_level = snap.sl_answered();
  }
  s.context.queues = s.figures;
  s.context.task = &s.task;
  s.context.agent = &s.agent;
  if (!q.rules->reads_clock) return;  // a time zone conversion per calendar: only when read
  // Calendars and now.* on the wall clock (engine time is Unix-epoch based): each calendar
  // in its own zone, now.* in the tenant's (null: UTC).
  s.calendars.resize(tenant.cfg.calendars.size());
  for (std::size_t i = 0; i < tenant.cfg.calendars.size(); ++i) {
    const BusinessCalendar::State state = tenant.cfg.calendars[i].state_at(t);
    s.calendars[i] = {state.open, state.holiday};
  }
  s.context.calendars = s.calendars;
  static const TimeZone kUtc;
  const LocalTime local = (tenant.cfg.time_zone ? *tenant.cfg.time_zone : kUtc).to_local(t);
  s.context.time_of_day_minutes = local.minute_of_day;
  s.context.weekday = local.weekday;
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
  if (const AgentRuleFacts* facts = a.rule_facts.get()) {
    f = facts->facts();
  } else {
    f = rules::AgentFacts{};
    f.name = a.cfg.name;
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
  RuleScratch& s = admit_scratch;
  prepare_call_rules(q, c, t, s);
  set_rule_agent(a, m, t, s);
  return target_admits(q, c.step, s);
}

bool RoutingCore::Impl::task_target_admits(const QueueRt& q, const TaskRt& k, const AgentRt& a,
                                           const Membership* m, TimePoint t) const {
  RuleScratch& s = admit_scratch;
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
//
// Only the best candidates are evaluated. The cheap checks (the member's precomputed
// static terms, the call's conditions) come first; the survivors are sorted by their
// precomputed agent-static ORDER BY keys (then tier and the strategy's order when the
// ORDER BY has nothing else), and the target is evaluated block by block in that order: a
// block is a run of equal static keys (and, with no other keys, equal tier and penalty),
// so a strategy's best group never spans two blocks. The first block with an admitted
// agent decides, or the first blocks that fill ring-all's limit.
bool RoutingCore::Impl::route_call_by_rules(CallRt& c, QueueRt& q, TimePoint t) {
  const StepRule& rule = q.steps[static_cast<std::size_t>(c.step)];
  const QueueRules& rules = *q.rules;
  // The program evaluated per candidate is fetched while the candidates are gathered.
  if (const auto step = static_cast<std::size_t>(c.step); step < rules.step_terms.size()) {
    const auto& terms = rules.step_terms[step];
    if (terms.split && terms.dynamic_terms) terms.dynamic_terms->prefetch();
  }
  const rules::CompiledOrder* order = rules.compiled.order ? &*rules.compiled.order : nullptr;
  const std::size_t key_count = order != nullptr ? order->size() : 0;
  const std::size_t indexed_count = rules.indexed_order_keys.size();
  const bool other_keys = key_count > indexed_count;
  RuleScratch& s = rule_scratch;
  auto indexed_of = [&](const RuleCandidate& x) {
    return std::span<const double>(s.indexed_keys).subspan(x.indexed, indexed_count);
  };
  // -1, 0 or 1 as x's indexed ORDER BY keys come before, with or after y's.
  auto indexed_compare = [&](const RuleCandidate& x, const RuleCandidate& y) {
    if (indexed_count == 0) return 0;
    if (x.first_key != y.first_key) return x.first_key < y.first_key ? -1 : 1;
    if (indexed_count == 1) return 0;
    if (rules::CompiledOrder::precedes(indexed_of(x), indexed_of(y))) return -1;
    return rules::CompiledOrder::precedes(indexed_of(y), indexed_of(x)) ? 1 : 0;
  };
  auto pool_less = [&](const RuleCandidate& x, const RuleCandidate& y) {
    if (const int by_keys = indexed_compare(x, y); by_keys != 0) return by_keys < 0;
    if (x.tier != y.tier) return x.tier < y.tier;
    return x.key < y.key;
  };
  auto same_block = [&](const RuleCandidate& x, const RuleCandidate& y) {
    if (indexed_compare(x, y) != 0) return false;
    return other_keys || (x.tier == y.tier && x.key.penalty == y.key.penalty);
  };

  // One pass over the flat index: the candidates, their indexed keys (as
  // CompiledOrder::evaluate would give them) and the best of them.
  auto& pool = scratch_pool;
  pool.clear();
  s.indexed_keys.clear();
  std::size_t best = 0;
  const std::size_t width = q.rule_ready_width;
  for (std::size_t i = 0; i < q.rule_ready.size(); ++i) {
    const RuleReady& r = q.rule_ready[i];
    if (!rule_step_possible(r.key.rule_steps, c.step)) continue;
    if (!gaps_ok(r.required_gap, r.optional_gap, rule)) continue;
    if (!residual_ok(agents[r.key.agent], AgentId(r.key.agent), c, q, t)) continue;
    RuleCandidate& x = pool.emplace_back(
        RuleCandidate{0, r.tier, r.key, s.indexed_keys.size(), 0, r.idle_from, r.facts});
    const double* row = q.rule_ready_static.data() + i * width;
    for (std::size_t k = 0; k < indexed_count; ++k) {
      const int column = rules.indexed_order_keys[k];
      double value = 0;
      if (column >= 0) {
        value = row[column];
      } else {
        value = static_cast<double>(to_ms(t - x.idle_from));
        if (order->keys()[k].descending) value = -value;
      }
      s.indexed_keys.push_back(value);
    }
    if (indexed_count > 0) x.first_key = s.indexed_keys[x.indexed];
    if (pool_less(x, pool[best])) best = pool.size() - 1;
  }
  if (pool.empty()) return false;

  // The best block goes to the front in one pass. The rest becomes a heap only when the
  // best block does not decide (most offers are decided there), and each further block is
  // taken off it in order, into scratch_block.
  const RuleCandidate best_candidate = pool[best];
  const auto rest = std::partition(pool.begin(), pool.end(), [&](const RuleCandidate& x) {
    return same_block(x, best_candidate);
  });
  std::sort(pool.begin(), rest, pool_less);
  auto heap_end = pool.end();
  auto heap_after = [&](const RuleCandidate& x, const RuleCandidate& y) { return pool_less(y, x); };
  auto& block = scratch_block;
  auto next_block = [&]() -> std::span<const RuleCandidate> {
    if (heap_end == pool.end()) std::make_heap(rest, heap_end, heap_after);
    block.clear();
    while (heap_end != rest && (block.empty() || same_block(block.front(), *rest))) {
      std::pop_heap(rest, heap_end, heap_after);
      --heap_end;
      block.push_back(*heap_end);
    }
    return block;
  };
  // A candidate's facts are one block (AgentRuleFacts): the first ones are fetched while
  // the call's facts are prepared, the next ones while one is evaluated.
  auto prefetch = [](const RuleCandidate& x) {
    if (const auto* facts = reinterpret_cast<const char*>(x.facts)) {
      __builtin_prefetch(facts);
      __builtin_prefetch(facts + 64);
      __builtin_prefetch(facts + 128);
    }
  };
  constexpr std::ptrdiff_t kPrefetchAhead = 3;
  for (auto it = pool.begin(); it != rest && it - pool.begin() < kPrefetchAhead; ++it)
    prefetch(*it);

  prepare_call_rules(q, c, t, s);
  const bool ring_all = q.cfg.strategy == Strategy::kRingAll;
  const bool whole_group = q.cfg.strategy == Strategy::kRandom ||
                           q.cfg.strategy == Strategy::kWeightedRandom ||
                           q.cfg.strategy == Strategy::kRoundRobin;
  const std::size_t wanted =
      ring_all ? static_cast<std::size_t>(std::max(1, q.cfg.ring_all_limit)) : 1;
  auto& found = scratch_candidates;
  found.clear();
  s.keys.clear();
  const std::span<double> no_keys;
  auto keys_of = [&](const RuleCandidate& x) {
    return key_count == 0 ? no_keys : std::span<double>(s.keys).subspan(x.keys, key_count);
  };
  auto full_order = [&](const RuleCandidate& x, const RuleCandidate& y) {
    if (rules::CompiledOrder::precedes(keys_of(x), keys_of(y))) return true;
    if (rules::CompiledOrder::precedes(keys_of(y), keys_of(x))) return false;
    if (x.tier != y.tier) return x.tier < y.tier;
    return x.key < y.key;
  };
  std::span<const RuleCandidate> candidates(pool.data(),
                                            static_cast<std::size_t>(rest - pool.begin()));
  while (!candidates.empty() && found.size() < wanted) {
    const std::size_t block_start = found.size();
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (i + kPrefetchAhead < candidates.size()) prefetch(candidates[i + kPrefetchAhead]);
      const RuleCandidate& x = candidates[i];
      if (x.facts != nullptr) {
        // The candidate is indexed: it holds no task, and its idle time is the entry's.
        s.agent = *x.facts;
        s.agent.idle_ms = to_ms(t - x.idle_from);
        s.agent.tier = x.tier;
        s.agent.penalty = x.key.penalty;
        s.context.agent = &s.agent;
      } else {
        const AgentRt& a = agents[x.key.agent];
        set_rule_agent(a, &a.memberships[x.key.member], t, s);
      }
      // An agent without facts had no static term evaluated: the whole target decides.
      if (!(x.facts != nullptr ? member_target_admits(q, c.step, s) : target_admits(q, c.step, s)))
        continue;
      RuleCandidate admitted = x;
      admitted.keys = s.keys.size();
      if (other_keys) {
        s.keys.resize(admitted.keys + key_count);
        order->evaluate(s.context, std::span<double>(s.keys).subspan(admitted.keys, key_count));
      } else if (key_count > 0) {
        // Every key is indexed: the decision has them already.
        const auto known = indexed_of(x);
        s.keys.insert(s.keys.end(), known.begin(), known.end());
      }
      found.push_back(admitted);
      // Without other keys the block is in its final order: the first admitted ones are
      // the best, unless the strategy draws from (or cycles through) the whole group.
      if (!other_keys && !whole_group && found.size() >= wanted) break;
    }
    if (other_keys)
      std::sort(found.begin() + static_cast<std::ptrdiff_t>(block_start), found.end(), full_order);
    if (found.size() >= wanted) break;
    candidates = next_block();
    if (!candidates.empty()) prefetch(candidates.front());
  }
  if (found.empty()) return false;
  // Same ORDER BY keys, tier and penalty: the strategy alone decides between them.
  auto same_group = [&](const RuleCandidate& x, const RuleCandidate& y) {
    return !rules::CompiledOrder::precedes(keys_of(x), keys_of(y)) &&
           !rules::CompiledOrder::precedes(keys_of(y), keys_of(x)) && x.tier == y.tier &&
           x.key.penalty == y.key.penalty;
  };
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
            std::max(1, agents[x.key.agent].memberships[x.key.member].weight));
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

// =====================================================================================
// 5. Explaining a routing decision
// =====================================================================================

std::string RoutingCore::Impl::skill_refusal(const AgentRt& a, const Membership& m,
                                             const QueueRt& q,
                                             const std::vector<SkillRequirement>& extra,
                                             int step) const {
  const StepRule& rule = q.steps[static_cast<std::size_t>(step)];
  std::string why;
  auto add = [&](const std::string& reason) { why += (why.empty() ? "" : "; ") + reason; };
  auto check = [&](const SkillRequirement& req) {
    if (req.optional && rule.drop_optional) return;
    const int level = agent_level(a.cfg, req.skill);
    const std::string name = req.skill.value < skills.size() ? skills[req.skill.value].name
                                                             : std::to_string(req.skill.value);
    if (level == 0)
      add("lacks skill " + name);
    else if (gap(level, req.min_level) > rule.relax)
      add("skill " + name + " at " + std::to_string(level) + ", needs " +
          std::to_string(std::max(kMinProficiency, req.min_level - rule.relax)));
  };
  for (const auto& req : q.cfg.required_skills) check(req);
  for (const auto& req : extra) check(req);
  const int max_tier = std::max(rule.max_tier, q.overflow_tier);
  if (m.tier > max_tier)
    add("tier " + std::to_string(m.tier) + " (tiers 1.." + std::to_string(max_tier) +
        " take calls at this step)");
  return why;
}

Status RoutingCore::Impl::explain_route(const RouteQuery& query, RouteExplanation& out) const {
  out = RouteExplanation{};
  const QueueRt* qp = const_cast<Impl*>(this)->find_queue(query.queue);
  if (qp == nullptr) return not_found("queue", query.queue.value);
  const QueueRt& q = *qp;
  if (query.call.tenant.valid() && query.call.tenant != q.cfg.tenant)
    return {ErrorCode::kInvalidArgument,
            "the call belongs to another tenant than queue '" + q.cfg.name + "'"};
  if (query.waited < Duration::zero()) return {ErrorCode::kInvalidArgument, "waited must be >= 0"};
  const TimePoint t = now();
  const bool is_task = query.channel.has_value();
  out.queue_name = q.cfg.name;
  out.strategy = q.cfg.strategy;
  out.by_rules = q.rules != nullptr;
  out.order_by = q.cfg.routing.order_by;

  // The hypothetical call or task, as if it had entered `waited` ago.
  CallRt c;
  c.spec = query.call;
  c.spec.tenant = q.cfg.tenant;
  c.queue = static_cast<std::uint32_t>(qp - queues.data());
  c.enqueued = t - query.waited;
  TaskRt k;
  k.spec.tenant = q.cfg.tenant;
  k.spec.channel = query.channel.value_or(Channel::kChat);
  k.spec.customer = query.call.caller_number;
  k.spec.priority = query.call.priority;
  k.spec.vip_level = query.call.vip_level;
  k.spec.extra_skills = query.call.extra_skills;
  k.spec.attributes = query.call.attributes;
  k.queue = c.queue;
  k.enqueued = c.enqueued;
  while (static_cast<std::size_t>(c.step) + 1 < q.steps.size() &&
         q.steps[static_cast<std::size_t>(c.step) + 1].after <= query.waited)
    ++c.step;
  k.step = c.step;
  out.current_step = c.step;

  // The steps, and each target's terms for saying which one refused an agent.
  std::vector<std::vector<rules::Conjunct>> terms(q.steps.size());
  for (std::size_t i = 0; i < q.steps.size(); ++i) {
    RouteExplanation::Step step;
    step.after = q.steps[i].after;
    step.current = static_cast<int>(i) == c.step;
    if (q.rules != nullptr) {
      step.rule = q.cfg.routing.steps[i].target;
      auto split = rules::compile_conjuncts(step.rule, tenants[q.cfg.tenant.value].rules_schema);
      if (split) terms[i] = std::move(split.value());
    } else {
      const StepRule& rule = q.steps[i];
      step.rule = q.cfg.required_skills.empty() ? "any member" : "required skills";
      if (rule.relax > 0) step.rule += ", minimum levels lowered by " + std::to_string(rule.relax);
      if (rule.drop_optional) step.rule += ", optional skills dropped";
      step.rule += ", tiers 1.." + std::to_string(std::max(rule.max_tier, q.overflow_tier));
    }
    out.steps.push_back(std::move(step));
  }

  RuleScratch s;
  const rules::CompiledOrder* order =
      q.rules != nullptr && q.rules->compiled.order ? &*q.rules->compiled.order : nullptr;
  if (q.rules != nullptr) {
    if (is_task)
      prepare_task_rules(q, k, t, s);
    else
      prepare_call_rules(q, c, t, s);
  }
  struct Ranked {
    std::size_t member = 0;
    std::vector<double> keys;  // as the router compares them (descending terms negated)
    int tier = 1;
    ReadyKey key;
    int load = 0;
  };
  std::vector<Ranked> candidates;
  for (std::uint32_t ai : q.members) {
    const AgentRt& a = agents[ai];
    if (!a.exists) continue;
    const Membership* m = nullptr;
    for (const auto& mm : a.memberships)
      if (mm.queue == c.queue) m = &mm;
    if (m == nullptr) continue;
    RouteExplanation::Member row;
    row.agent = AgentId(ai);
    row.name = a.cfg.name;
    row.tier = m->tier;
    row.penalty = m->penalty;
    row.state = a.state;
    const auto channel = static_cast<std::size_t>(k.spec.channel);
    row.free = is_task ? a.state == AgentState::kReady && !a.retiring && !a.logout_pending &&
                             a.task_load[channel] < a.cfg.capacity[channel]
                       : voice_available(a);
    if (q.rules != nullptr) set_rule_agent(a, m, t, s);
    for (std::size_t i = 0; i < q.steps.size(); ++i) {
      std::string why;
      if (q.rules != nullptr) {
        why = skill_refusal(a, *m, q, query.call.extra_skills, static_cast<int>(i));
        // Tiers do not limit routing steps (kMaxTier): only skills can appear here.
        for (const auto& term : terms[i])
          if (!term.condition.matches(s.context))
            why += (why.empty() ? "" : "; ") + term.text + " is false";
        if (why.empty() && !target_admits(q, static_cast<int>(i), s)) why = "the target is false";
      } else {
        why = skill_refusal(a, *m, q, query.call.extra_skills, static_cast<int>(i));
      }
      row.admitted.push_back(why.empty());
      row.refused_by.push_back(std::move(why));
    }
    Ranked ranked;
    if (order != nullptr) {
      ranked.keys.resize(order->size());
      order->evaluate(s.context, ranked.keys);
      for (std::size_t i = 0; i < order->size(); ++i)
        row.order_keys.push_back(order->keys()[i].descending ? -ranked.keys[i] : ranked.keys[i]);
    }
    if (!row.free)
      row.not_now =
          a.state == AgentState::kReady ? "holds tasks" : std::string("is ") + to_string(a.state);
    else if (!row.admitted[static_cast<std::size_t>(c.step)])
      row.not_now = "not admitted at step " + std::to_string(c.step + 1);
    if (row.free && is_task && row.not_now.empty() && a.state == AgentState::kReady &&
        a.task_load[channel] >= a.cfg.capacity[channel])
      row.not_now = "no room for another task";
    if (row.not_now.empty()) {
      ranked.member = out.members.size();
      ranked.tier = m->tier;
      ranked.key = ready_key(a, ai, q, *m);
      ranked.load = a.tasks_in_hand;
      candidates.push_back(std::move(ranked));
    }
    out.members.push_back(std::move(row));
  }
  std::stable_sort(candidates.begin(), candidates.end(), [&](const Ranked& x, const Ranked& y) {
    if (rules::CompiledOrder::precedes(x.keys, y.keys)) return true;
    if (rules::CompiledOrder::precedes(y.keys, x.keys)) return false;
    if (x.tier != y.tier) return x.tier < y.tier;
    if (x.key.penalty != y.key.penalty) return x.key.penalty < y.key.penalty;
    if (is_task && x.load != y.load) return x.load < y.load;
    return x.key < y.key;
  });
  for (std::size_t i = 0; i < candidates.size(); ++i)
    out.members[candidates[i].member].rank = static_cast<int>(i) + 1;
  if (candidates.empty()) return Status::ok();
  auto same_group = [&](const Ranked& x, const Ranked& y) {
    return !rules::CompiledOrder::precedes(x.keys, y.keys) &&
           !rules::CompiledOrder::precedes(y.keys, x.keys) && x.tier == y.tier &&
           x.key.penalty == y.key.penalty;
  };
  std::size_t group = 1;
  while (group < candidates.size() && same_group(candidates.front(), candidates[group])) ++group;
  std::size_t chosen = 1;
  if (q.cfg.strategy == Strategy::kRingAll && !is_task)
    chosen = std::min<std::size_t>(candidates.size(), std::max(1, q.cfg.ring_all_limit));
  if (q.cfg.strategy == Strategy::kRandom || q.cfg.strategy == Strategy::kWeightedRandom) {
    out.random_group = static_cast<int>(group);
    chosen = group;
  }
  for (std::size_t i = 0; i < chosen; ++i)
    out.chosen.push_back(out.members[candidates[i].member].agent);
  return Status::ok();
}

}  // namespace acd::core
