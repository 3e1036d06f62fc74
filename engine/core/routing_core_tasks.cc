// Non-voice tasks in the routing core: chats, e-mails, SMS, web forms and callback
// requests, routed by the same queues (skills, tiers, escalation, priority, strategy) as
// calls, within each agent's capacity per channel. The rules are stated in
// engine/core/task.h; the shared state is in routing_core_impl.h. Layout:
//   1. eligibility and the order of candidate agents
//   2. routing (task-first and agent-first)
//   3. lifecycle (enter, offer, accept, decline, time out, complete, transfer, cancel)
//   4. timers, reads and invariants
#include <cmath>

#include "engine/core/routing_core.h"
#include "engine/core/routing_core_impl.h"

namespace acd::core {

namespace {

std::size_t channel_index(Channel c) {
  return static_cast<std::size_t>(c);
}

Duration preference_wait(const QueueConfig& q) {
  return q.sticky_wait > Duration::zero() ? q.sticky_wait : Duration(std::chrono::seconds(30));
}

Status no_task(TaskId id) {
  return {ErrorCode::kNotFound, "task " + std::to_string(id.value) + " does not exist"};
}

}  // namespace

// =====================================================================================
// 1. Eligibility and the order of candidates
// =====================================================================================

bool RoutingCore::Impl::task_eligible(const AgentRt& a, AgentId id, const Membership* m,
                                      const TaskRt& k, const QueueRt& q, TimePoint t) const {
  if (!a.exists || a.retiring || a.logout_pending || a.state != AgentState::kReady) return false;
  if (a.cfg.tenant != k.spec.tenant) return false;
  const std::size_t ch = channel_index(k.spec.channel);
  if (a.task_load[ch] >= a.cfg.capacity[ch]) return false;
  if (!k.excluded.empty() && excluded(k.excluded, id, t)) return false;
  // A transfer to an agent: only they may take it for a while, member of the queue or not.
  if (k.preferred.valid() && t < k.preferred_until) return k.preferred == id;
  if (m == nullptr || m->required_gap >= kNeverEligible) return false;
  const StepRule& rule = q.steps[static_cast<std::size_t>(k.step)];
  if (m->tier > std::max(rule.max_tier, q.overflow_tier)) return false;
  if (!gaps_ok(m->required_gap, m->optional_gap, rule)) return false;
  if (!k.spec.extra_skills.empty() && !extra_skills_ok(a, k.spec.extra_skills, rule)) return false;
  if (q.rules == nullptr) return true;
  return rule_step_possible(m->rule_steps, k.step) && task_target_admits(q, k, a, m, t);
}

TaskCandidateKey RoutingCore::Impl::task_candidate_key(const AgentRt& a, std::uint32_t idx,
                                                       const QueueRt& q, const Membership* m) {
  TaskCandidateKey key;
  key.agent = idx;
  key.load = a.tasks_in_hand;
  if (m != nullptr) {
    key.tier = m->tier;
    key.penalty = m->penalty;
  }
  // Idle counts from the agent's last call or task, whichever came later.
  const std::int64_t idle = std::max(a.idle_since, a.task_idle_since).time_since_epoch().count();
  const int position = m != nullptr ? m->position : 0;
  switch (q.cfg.strategy) {
    case Strategy::kLongestIdle:
    case Strategy::kRingAll: key.primary = idle; break;  // a task goes to one agent at a time
    case Strategy::kLeastTalkTime:
      key.primary = a.counters.talk.count();
      key.secondary = idle;
      break;
    case Strategy::kFewestCalls:
      key.primary = static_cast<std::int64_t>(a.counters.tasks_completed);
      key.secondary = idle;
      break;
    case Strategy::kRoundRobin: {
      // The member after the last one offered a task, wrapping around.
      const auto n = static_cast<std::int64_t>(std::max<std::size_t>(1, q.members.size()));
      key.primary = ((position - q.task_rr_last_position - 1) % n + n) % n;
      break;
    }
    case Strategy::kTopDown: key.primary = position; break;
    case Strategy::kBestProficiency:
      key.primary = m != nullptr ? -m->proficiency : 0;
      key.secondary = idle;
      break;
    case Strategy::kRandom: key.primary = static_cast<std::int64_t>(random.next_u64() >> 1); break;
    case Strategy::kWeightedRandom: {
      // Exponential race: the smallest -ln(u)/weight wins with probability weight / total.
      const double u = 1.0 - random.uniform01();  // (0, 1]
      const int weight = m != nullptr ? std::max(1, m->weight) : 1;
      key.primary = static_cast<std::int64_t>(-std::log(u) / weight * 1e12);
      break;
    }
  }
  return key;
}

// =====================================================================================
// 2. Routing
// =====================================================================================

// Task-first: `k` waits (it just arrived, came back, escalated, or the rules changed).
bool RoutingCore::Impl::route_task(TaskRt& k) {
  if (k.phase != TaskPhase::kWaiting) return false;
  QueueRt& q = queues[k.queue];
  const TimePoint t = now();
  if (k.preferred.valid() && t < k.preferred_until) {
    AgentRt* a = find_agent(k.preferred);
    if (a == nullptr || !task_eligible(*a, k.preferred, membership(*a, k.queue), k, q, t))
      return false;
    offer_task(k, k.preferred.value);
    return true;
  }
  bool found = false;
  TaskCandidateKey best;
  // A queue's ORDER BY ranks candidates before the task order (tier, penalty, load, ...).
  const rules::CompiledOrder* order =
      q.rules != nullptr && q.rules->compiled.order ? &*q.rules->compiled.order : nullptr;
  RuleScratch& s = rule_scratch;
  const std::size_t key_count = order != nullptr ? order->size() : 0;
  if (order != nullptr) {
    prepare_task_rules(q, k, t, s);
    s.keys.assign(2 * key_count, 0.0);
  }
  const std::span<double> best_keys = std::span<double>(s.keys).first(key_count);
  const std::span<double> keys = std::span<double>(s.keys).subspan(key_count, key_count);
  for (std::uint32_t ai : q.members) {
    AgentRt& a = agents[ai];
    const Membership* m = membership(a, k.queue);
    if (!task_eligible(a, AgentId(ai), m, k, q, t)) continue;
    const TaskCandidateKey key = task_candidate_key(a, ai, q, m);
    if (order != nullptr) {
      set_rule_agent(a, m, t, s);
      order->evaluate(s.context, keys);
      if (found && rules::CompiledOrder::precedes(best_keys, keys)) continue;
      if (found && !rules::CompiledOrder::precedes(keys, best_keys) && !(key < best)) continue;
      std::copy(keys.begin(), keys.end(), best_keys.begin());
    } else if (found && !(key < best)) {
      continue;
    }
    best = key;
    found = true;
  }
  if (!found) return false;
  offer_task(k, best.agent);
  return true;
}

void RoutingCore::Impl::route_waiting_tasks(QueueRt& q) {
  if (q.waiting_tasks.empty()) return;
  std::vector<TaskRt*> order;
  order.reserve(q.waiting_tasks.size());
  for (const TaskKey& key : q.waiting_tasks) order.push_back(key.ptr);
  for (TaskRt* k : order) route_task(*k);
}

// Agent-first: `a` is Ready and may have room for more tasks. Tasks transferred to them
// come first; then, in the agent's queue-priority order, the best waiting task they may
// take; repeated while they have room.
void RoutingCore::Impl::route_agent_tasks(AgentRt& a) {
  const auto idx = static_cast<std::uint32_t>(&a - agents.data());
  const AgentId id(idx);
  for (;;) {
    if (!a.exists || a.state != AgentState::kReady || a.retiring || a.logout_pending) return;
    const TimePoint t = now();
    TaskRt* best = nullptr;
    double best_priority = 0;
    auto consider = [&](TaskRt& k, double priority) {
      if (best == nullptr || priority > best_priority ||
          (priority == best_priority &&
           (k.enqueued < best->enqueued || (k.enqueued == best->enqueued && k.seq < best->seq)))) {
        best = &k;
        best_priority = priority;
      }
    };
    std::erase_if(a.directed_tasks, [&](TaskId tid) {
      TaskRt* k = find_task(tid);
      return k == nullptr || k->preferred != id || t >= k->preferred_until;
    });
    for (TaskId tid : a.directed_tasks) {
      TaskRt& k = *find_task(tid);
      const QueueRt& q = queues[k.queue];
      if (k.phase == TaskPhase::kWaiting && task_eligible(a, id, membership(a, k.queue), k, q, t))
        consider(k, effective_priority(q, k.key.rank, t));
    }
    if (best == nullptr) {
      int best_group = 0;
      for (const Membership& m : a.memberships) {
        if (best != nullptr && m.queue_priority > best_group) break;
        const QueueRt& q = queues[m.queue];
        for (const TaskKey& key : q.waiting_tasks) {
          if (!task_eligible(a, id, &m, *key.ptr, q, t)) continue;
          consider(*key.ptr, effective_priority(q, key.rank, t));
          best_group = m.queue_priority;
          break;  // waiting tasks are in order: the first eligible is this queue's best
        }
      }
    }
    if (best == nullptr) return;
    offer_task(*best, idx);
  }
}

// `a` has just let go of a task. A Ready agent with nothing left in hand is free for calls
// again (calls first), and may take more tasks.
void RoutingCore::Impl::agent_freed(AgentRt& a) {
  if (!a.exists || a.state != AgentState::kReady) return;
  if (a.tasks_in_hand == 0) {
    if (route_agent(a)) return;
    index_ready(a);
  }
  route_agent_tasks(a);
}

// =====================================================================================
// 3. Lifecycle
// =====================================================================================

Status RoutingCore::Impl::check_task_admission(const QueueRt& q) const {
  if (q.closed) return {ErrorCode::kInvalidState, "queue '" + q.cfg.name + "' is closed (removed)"};
  if (!q.cfg.join_when_empty && q.logged_in_members == 0)
    return {ErrorCode::kInvalidState, "queue '" + q.cfg.name + "' has no member logged in"};
  if (q.cfg.max_length > 0 &&
      static_cast<int>(q.waiting_tasks.size()) + q.tasks_offered >= q.cfg.max_length)
    return {ErrorCode::kLimitReached,
            "queue '" + q.cfg.name + "' is full (" + std::to_string(q.cfg.max_length) + " tasks)"};
  return Status::ok();
}

void RoutingCore::Impl::enqueue_task(TaskRt& k, std::uint32_t qi, AgentId preferred) {
  QueueRt& q = queues[qi];
  const TimePoint t = now();
  k.queue = qi;
  k.enqueued = t;
  k.phase = TaskPhase::kWaiting;
  k.agent = AgentId{};
  k.step = 0;
  ++k.gen;
  std::erase_if(k.excluded, [&](const auto& e) { return e.second <= t; });
  k.preferred = AgentId{};
  if (AgentRt* p = find_agent(preferred); p != nullptr && p->state != AgentState::kLoggedOut) {
    k.preferred = preferred;
    k.preferred_until = t + preference_wait(q.cfg);
    // An explicit request: an earlier no-answer of this agent no longer keeps them away.
    std::erase_if(k.excluded, [&](const auto& e) { return e.first == preferred; });
    if (std::find(p->directed_tasks.begin(), p->directed_tasks.end(), k.spec.id) ==
        p->directed_tasks.end())
      p->directed_tasks.push_back(k.spec.id);
    schedule(k.preferred_until, TimerKind::kTaskRetry, k.spec.id.value, k.gen);
  }
  k.key = TaskKey{rank_of(q, k.spec.priority, k.spec.vip_level, t), t.time_since_epoch().count(),
                  k.spec.id.value, &k};
  q.waiting_tasks.insert(k.key);
  watch_live_rules(q);
  ++q.counters.tasks_entered;
  emit(TaskQueued{k.spec.id, k.spec.tenant, q.cfg.id, k.spec.channel, k.preferred, t,
                  k.spec.subject, k.spec.customer, k.spec.vip_level, q.cfg.sl_threshold});
  if (q.steps.size() > 1)
    schedule(t + q.steps[1].after, TimerKind::kTaskEscalation, k.spec.id.value, k.gen);
  route_task(k);
}

void RoutingCore::Impl::offer_task(TaskRt& k, std::uint32_t agent_index) {
  AgentRt& a = agents[agent_index];
  QueueRt& q = queues[k.queue];
  const TimePoint t = now();
  q.waiting_tasks.erase(k.key);
  k.phase = TaskPhase::kOffered;
  k.agent = AgentId(agent_index);
  ++k.offer_gen;
  ++q.tasks_offered;
  if (a.tasks_in_hand == 0) unindex_ready(a);  // no calls while holding tasks
  ++a.task_load[channel_index(k.spec.channel)];
  ++a.tasks_in_hand;
  a.task_idle_since = t;
  if (q.cfg.strategy == Strategy::kRoundRobin)
    if (const Membership* m = membership(a, k.queue)) q.task_rr_last_position = m->position;
  schedule(t + q.cfg.ring_timeout, TimerKind::kTaskOfferTimeout, k.spec.id.value, k.offer_gen);
  emit(TaskOffered{k.spec.id, k.spec.tenant, q.cfg.id, k.agent, k.spec.channel, q.cfg.ring_timeout,
                   t});
}

// The agent no longer holds `k` (offered or accepted): their capacity is free again.
void RoutingCore::Impl::take_back_task(AgentRt& a, TaskRt& k) {
  QueueRt& q = queues[k.queue];
  if (k.phase == TaskPhase::kOffered) --q.tasks_offered;
  if (k.phase == TaskPhase::kAccepted) --q.tasks_accepted;
  --a.task_load[channel_index(k.spec.channel)];
  --a.tasks_in_hand;
  a.task_idle_since = now();
  k.agent = AgentId{};
}

// An offer ended without acceptance: the task waits again (avoiding the agent for the
// queue's rona_retry unless the offer was withdrawn), and the agent is free for more work.
void RoutingCore::Impl::end_task_offer(TaskRt& k, OfferEndReason reason) {
  AgentRt& a = agents[k.agent.value];
  const AgentId agent = k.agent;
  QueueRt& q = queues[k.queue];
  const TimePoint t = now();
  emit(TaskOfferEnded{k.spec.id, k.spec.tenant, agent, reason, t});
  take_back_task(a, k);
  if (reason != OfferEndReason::kWithdrawn) {
    if (k.preferred == agent) k.preferred = AgentId{};  // stop waiting for them
    k.excluded.emplace_back(agent, t + q.cfg.rona_retry);
    schedule(t + q.cfg.rona_retry, TimerKind::kTaskRetry, k.spec.id.value, k.gen);
  }
  if (reason == OfferEndReason::kNoAnswer) {
    ++a.counters.rona;
    if (q.cfg.rona_policy != RonaPolicy::kReady && a.state == AgentState::kReady)
      set_state(a, AgentState::kNotReady, Cause::kTimer, kNoAnswer);
  }
  k.phase = TaskPhase::kWaiting;
  k.key.rank = rank_of(q, k.spec.priority, k.spec.vip_level, k.enqueued);
  q.waiting_tasks.insert(k.key);
  watch_live_rules(q);
  route_task(k);
  agent_freed(a);
}

void RoutingCore::Impl::finish_task(TaskRt& k, TaskFinalState state) {
  const TimePoint t = now();
  QueueRt& q = queues[k.queue];
  const bool accepted = k.phase == TaskPhase::kAccepted;
  const Duration waited = (accepted ? k.accepted_at : t) - k.enqueued;
  const Duration handled = k.handled_before + (accepted ? t - k.accepted_at : Duration::zero());
  if (k.phase == TaskPhase::kWaiting) q.waiting_tasks.erase(k.key);
  AgentId agent = k.agent;
  if (agent.valid()) take_back_task(agents[agent.value], k);
  if (state == TaskFinalState::kCompleted) ++q.counters.tasks_completed;
  if (state == TaskFinalState::kAbandoned) ++q.counters.tasks_abandoned;
  if (state == TaskFinalState::kAbandoned) agent = AgentId{};  // nobody had it
  emit(TaskFinished{k.spec.id, k.spec.tenant, q.cfg.id, agent, k.spec.channel, state, k.created,
                    waited, handled, t});
  tasks.erase(k.spec.id);  // `k` is gone from here on
  delete_closed_queue_if_empty(q);
}

// The agent is logging out: offers are withdrawn and accepted tasks go back to their
// queues, after the agent has left (so they are not offered to them again).
void RoutingCore::Impl::log_out_returning_tasks(AgentRt& a, Cause cause) {
  const AgentId id(static_cast<std::uint32_t>(&a - agents.data()));
  a.directed_tasks.clear();
  if (a.tasks_in_hand == 0) {
    set_state(a, AgentState::kLoggedOut, cause);
    return;
  }
  std::vector<TaskRt*> held;
  for (auto& [tid, k] : tasks)
    if (k->agent == id) held.push_back(k.get());
  std::sort(held.begin(), held.end(),
            [](const TaskRt* x, const TaskRt* y) { return x->seq < y->seq; });
  const TimePoint t = now();
  std::vector<std::pair<TaskRt*, std::uint32_t>> requeue;
  for (TaskRt* k : held) {
    if (k->phase == TaskPhase::kOffered) {
      emit(TaskOfferEnded{k->spec.id, k->spec.tenant, id, OfferEndReason::kWithdrawn, t});
    } else {
      const Duration part = t - k->accepted_at;
      k->handled_before += part;
      emit(TaskTransferred{k->spec.id, k->spec.tenant, queues[k->queue].cfg.id,
                           queues[k->queue].cfg.id, id, AgentId{}, cause, part, t});
    }
    take_back_task(a, *k);
    requeue.emplace_back(k, k->queue);
  }
  set_state(a, AgentState::kLoggedOut, cause);
  for (auto [k, qi] : requeue) enqueue_task(*k, qi, AgentId{});
}

// =====================================================================================
// 4. Timers, reads and invariants
// =====================================================================================

void RoutingCore::Impl::fire_task_timer(const Timer& timer) {
  TaskRt* k = find_task(TaskId(timer.target));
  if (k == nullptr) return;
  const TimePoint t = now();
  switch (timer.kind) {
    case TimerKind::kTaskOfferTimeout:
      if (k->phase == TaskPhase::kOffered && k->offer_gen == timer.gen)
        end_task_offer(*k, OfferEndReason::kNoAnswer);
      return;
    case TimerKind::kTaskEscalation: {
      if (k->gen != timer.gen || k->phase == TaskPhase::kAccepted) return;
      QueueRt& q = queues[k->queue];
      const int next = k->step + 1;
      if (static_cast<std::size_t>(next) >= q.steps.size()) return;
      k->step = next;
      if (static_cast<std::size_t>(next) + 1 < q.steps.size())
        schedule(k->enqueued + q.steps[static_cast<std::size_t>(next) + 1].after,
                 TimerKind::kTaskEscalation, timer.target, k->gen);
      route_task(*k);
      return;
    }
    case TimerKind::kTaskRetry:
      if (k->gen != timer.gen) return;
      std::erase_if(k->excluded, [&](const auto& e) { return e.second <= t; });
      route_task(*k);
      return;
    default: return;
  }
}

TaskView RoutingCore::Impl::task_view(const TaskRt& k) const {
  TaskView v;
  v.id = k.spec.id;
  v.tenant = k.spec.tenant;
  v.channel = k.spec.channel;
  v.phase = k.phase;
  v.queue = queues[k.queue].cfg.id;
  v.agent = k.agent;
  if (k.preferred.valid() && now() < k.preferred_until) v.preferred = k.preferred;
  v.created = k.created;
  v.enqueued = k.enqueued;
  if (k.phase == TaskPhase::kAccepted) v.accepted_at = k.accepted_at;
  if (k.phase == TaskPhase::kWaiting) {
    const auto& waiting = queues[k.queue].waiting_tasks;
    v.position = static_cast<int>(std::distance(waiting.begin(), waiting.find(k.key))) + 1;
  }
  return v;
}

Status RoutingCore::Impl::check_task_invariants() const {
  auto fail = [](std::string m) { return Status(ErrorCode::kInvalidState, std::move(m)); };
  const TimePoint t = now();
  std::vector<ChannelLoad> load(agents.size(), ChannelLoad{});
  std::vector<int> waiting(queues.size(), 0), offered(queues.size(), 0), accepted(queues.size(), 0);
  for (const auto& [id, kp] : tasks) {
    const TaskRt& k = *kp;
    const std::string ks = "task " + std::to_string(id.value);
    if (k.queue >= queues.size() || !queues[k.queue].exists) return fail(ks + " has no queue");
    const bool listed = queues[k.queue].waiting_tasks.count(k.key) > 0;
    if (listed != (k.phase == TaskPhase::kWaiting))
      return fail(ks + " is " + to_string(k.phase) + " but " + (listed ? "" : "not ") +
                  "listed as waiting");
    if (k.phase == TaskPhase::kWaiting) {
      ++waiting[k.queue];
      if (k.agent.valid()) return fail(ks + " waits but names an agent");
      continue;
    }
    if (!k.agent.valid() || k.agent.value >= agents.size())
      return fail(ks + " is " + to_string(k.phase) + " without an agent");
    ++load[k.agent.value][channel_index(k.spec.channel)];
    (k.phase == TaskPhase::kOffered ? offered : accepted)[k.queue]++;
    if (agents[k.agent.value].state == AgentState::kLoggedOut)
      return fail(ks + " is held by logged-out agent " + agents[k.agent.value].cfg.name);
  }
  for (std::size_t i = 0; i < agents.size(); ++i) {
    const AgentRt& a = agents[i];
    if (!a.exists) continue;
    int total = 0;
    for (int n : load[i]) total += n;
    if (load[i] != a.task_load || total != a.tasks_in_hand)
      return fail("agent " + a.cfg.name + " task load mismatch");
  }
  for (std::size_t qi = 0; qi < queues.size(); ++qi) {
    const QueueRt& q = queues[qi];
    if (!q.exists) continue;
    if (static_cast<int>(q.waiting_tasks.size()) != waiting[qi] || q.tasks_offered != offered[qi] ||
        q.tasks_accepted != accepted[qi])
      return fail("queue " + q.cfg.name + " task counts mismatch");
  }
  // Maximality: no waiting task could be offered to an agent with room for it. Only
  // meaningful once all due timers have run.
  if (!timers.empty() && timers.top().at <= t) return Status::ok();
  for (const auto& [id, kp] : tasks) {
    const TaskRt& k = *kp;
    if (k.phase != TaskPhase::kWaiting) continue;
    const QueueRt& q = queues[k.queue];
    if (q.rules != nullptr && q.rules->live) continue;  // evaluated again within a second
    for (std::size_t i = 0; i < agents.size(); ++i) {
      const AgentRt& a = agents[i];
      const AgentId aid(static_cast<std::uint32_t>(i));
      const Membership* m = nullptr;
      for (const auto& mm : a.memberships)
        if (mm.queue == k.queue) m = &mm;
      if (task_eligible(a, aid, m, k, q, t))
        return fail("task " + std::to_string(id.value) + " waits in " + q.cfg.name +
                    " while agent " + a.cfg.name + " could take it");
    }
  }
  return Status::ok();
}

// =====================================================================================
// Public API
// =====================================================================================

Status RoutingCore::create_task(TaskSpec spec, QueueId queue) {
  QueueRt* q = impl_->find_queue(queue);
  if (q == nullptr) return Impl::not_found("queue", queue.value);
  if (!spec.id.valid()) return {ErrorCode::kInvalidArgument, "task id is missing"};
  if (impl_->tasks.count(spec.id))
    return {ErrorCode::kAlreadyExists, "task " + std::to_string(spec.id.value) + " already exists"};
  if (channel_index(spec.channel) >= kChannelCount)
    return {ErrorCode::kInvalidArgument, "unknown channel"};
  if (Status st = impl_->check_entry("task", spec.tenant, *q, spec.priority, spec.vip_level,
                                     spec.extra_skills);
      !st)
    return st;
  if (Status st = impl_->check_task_admission(*q); !st) return st;
  auto owned = std::make_unique<TaskRt>();
  TaskRt& k = *owned;
  k.spec = std::move(spec);
  k.seq = ++impl_->task_seq;
  k.created = impl_->now();
  impl_->tasks.emplace(k.spec.id, std::move(owned));
  impl_->enqueue_task(k, queue.value, AgentId{});
  return Status::ok();
}

namespace {
// The task `agent` holds in `phase`, or why not.
Status check_holder(const TaskRt* k, TaskId id, AgentId agent, TaskPhase phase,
                    const char* request) {
  if (k == nullptr) return no_task(id);
  if (k->agent != agent || k->phase != phase)
    return {ErrorCode::kInvalidState,
            "task " + std::to_string(id.value) + " is " + to_string(k->phase) +
                (k->agent == agent ? "" : " and not") + " held by this agent: cannot " + request +
                " (allowed when " + to_string(phase) + " to them)"};
  return Status::ok();
}
}  // namespace

Status RoutingCore::accept_task(TaskId task, AgentId agent) {
  TaskRt* k = impl_->find_task(task);
  if (Status st = check_holder(k, task, agent, TaskPhase::kOffered, "accept"); !st) return st;
  QueueRt& q = impl_->queues[k->queue];
  const TimePoint t = impl_->now();
  k->phase = TaskPhase::kAccepted;
  k->accepted_at = t;
  ++k->offer_gen;  // the offer timer is void
  --q.tasks_offered;
  ++q.tasks_accepted;
  ++q.counters.tasks_accepted;
  impl_->emit(
      TaskAccepted{task, k->spec.tenant, q.cfg.id, agent, k->spec.channel, t - k->enqueued, t});
  return Status::ok();
}

Status RoutingCore::decline_task(TaskId task, AgentId agent) {
  TaskRt* k = impl_->find_task(task);
  if (Status st = check_holder(k, task, agent, TaskPhase::kOffered, "decline"); !st) return st;
  impl_->end_task_offer(*k, OfferEndReason::kDeclined);
  return Status::ok();
}

Status RoutingCore::complete_task(TaskId task, AgentId agent) {
  TaskRt* k = impl_->find_task(task);
  if (Status st = check_holder(k, task, agent, TaskPhase::kAccepted, "complete"); !st) return st;
  AgentRt& a = impl_->agents[agent.value];
  ++a.counters.tasks_completed;
  impl_->finish_task(*k, TaskFinalState::kCompleted);
  impl_->agent_freed(a);
  return Status::ok();
}

Status RoutingCore::transfer_task(TaskId task, AgentId agent, QueueId queue, AgentId preferred) {
  TaskRt* k = impl_->find_task(task);
  if (Status st = check_holder(k, task, agent, TaskPhase::kAccepted, "transfer"); !st) return st;
  const QueueRt& from = impl_->queues[k->queue];
  const QueueRt* to = queue.valid() ? impl_->find_queue(queue) : &from;
  if (to == nullptr) return Impl::not_found("queue", queue.value);
  if (to->cfg.tenant != k->spec.tenant)
    return {ErrorCode::kPermissionDenied, "queue '" + to->cfg.name + "' belongs to another tenant"};
  if (Status st = impl_->check_task_admission(*to); !st) return st;
  if (preferred.valid()) {
    const AgentRt* p = impl_->find_agent(preferred);
    if (p == nullptr) return Impl::not_found("agent", preferred.value);
    if (p->cfg.tenant != k->spec.tenant)
      return {ErrorCode::kPermissionDenied,
              "agent '" + p->cfg.name + "' belongs to another tenant"};
    if (p->state == AgentState::kLoggedOut)
      return {ErrorCode::kInvalidState, "agent '" + p->cfg.name + "' is not logged in"};
    if (preferred == agent)
      return {ErrorCode::kInvalidArgument, "an agent cannot transfer a task to themself"};
  }
  const TimePoint t = impl_->now();
  AgentRt& a = impl_->agents[agent.value];
  const auto qi = static_cast<std::uint32_t>(to - impl_->queues.data());
  const Duration part = t - k->accepted_at;
  k->handled_before += part;
  impl_->emit(TaskTransferred{task, k->spec.tenant, from.cfg.id, to->cfg.id, agent, preferred,
                              Cause::kAgent, part, t});
  const std::uint32_t from_qi = k->queue;
  impl_->take_back_task(a, *k);
  // Handing the task on and getting it straight back would defeat the transfer.
  k->excluded.emplace_back(agent, t + to->cfg.rona_retry);
  impl_->enqueue_task(*k, qi, preferred);
  impl_->schedule(t + to->cfg.rona_retry, TimerKind::kTaskRetry, task.value, k->gen);
  impl_->delete_closed_queue_if_empty(impl_->queues[from_qi]);
  impl_->agent_freed(a);
  return Status::ok();
}

Status RoutingCore::cancel_task(TaskId task) {
  TaskRt* k = impl_->find_task(task);
  if (k == nullptr) return no_task(task);
  const AgentId agent = k->agent;
  switch (k->phase) {
    case TaskPhase::kWaiting:
      impl_->finish_task(*k, TaskFinalState::kAbandoned);
      return Status::ok();
    case TaskPhase::kOffered:
      impl_->emit(
          TaskOfferEnded{task, k->spec.tenant, agent, OfferEndReason::kCallerGone, impl_->now()});
      impl_->finish_task(*k, TaskFinalState::kAbandoned);
      break;
    case TaskPhase::kAccepted: impl_->finish_task(*k, TaskFinalState::kCancelled); break;
  }
  impl_->agent_freed(impl_->agents[agent.value]);
  return Status::ok();
}

std::optional<TaskView> RoutingCore::task(TaskId task) const {
  const TaskRt* k = impl_->find_task(task);
  if (k == nullptr) return std::nullopt;
  return impl_->task_view(*k);
}

const TaskSpec* RoutingCore::task_spec(TaskId task) const {
  const TaskRt* k = impl_->find_task(task);
  return k == nullptr ? nullptr : &k->spec;
}

std::vector<TaskView> RoutingCore::tasks(TenantId tenant) const {
  std::vector<const TaskRt*> mine;
  for (const auto& [id, k] : impl_->tasks)
    if (k->spec.tenant == tenant) mine.push_back(k.get());
  std::sort(mine.begin(), mine.end(),
            [](const TaskRt* x, const TaskRt* y) { return x->seq < y->seq; });
  std::vector<TaskView> views;
  views.reserve(mine.size());
  for (const TaskRt* k : mine) views.push_back(impl_->task_view(*k));
  return views;
}

std::size_t RoutingCore::tasks_in_system() const {
  return impl_->tasks.size();
}

}  // namespace acd::core
