// Implementation of the routing core. See routing_core.h for the contract and
// docs/ARCHITECTURE.md for the design. Layout of this file:
//   1. internal data: routing_core_impl.h (agents, queues, calls, teams, timers, indices)
//   2. agent state machine plumbing (set_state, accounting, break policy)
//   3. routing (call-first and agent-first matching, strategies)
//   4. call lifecycle (enqueue, offer, answer, RONA, exits, hang-up)
//   5. timers
//   6. configuration reconciliation
//   7. reads, snapshot, invariants
#include "engine/core/routing_core.h"

#include "engine/core/routing_core_impl.h"

namespace acd::core {

// =====================================================================================
// 2. Agent state machine plumbing
// =====================================================================================

void RoutingCore::Impl::account_leave(AgentRt& a, TimePoint t) {
  const Duration d = t - a.accounted_since;
  switch (a.state) {
    case AgentState::kReady: a.counters.ready += d; break;
    case AgentState::kTalking: a.counters.talk += d; break;
    case AgentState::kHeld: a.counters.hold += d; break;
    case AgentState::kWrapUp:
      a.counters.wrap_up += d;
      if (a.last_queue < queues.size()) queues[a.last_queue].counters.total_wrap_up += d;
      break;
    case AgentState::kNotReady: {
      auto& list = a.counters.not_ready_by_reason;
      auto it = std::find_if(list.begin(), list.end(),
                             [&](const auto& e) { return e.first == a.reason; });
      if (it == list.end())
        list.emplace_back(a.reason, d);
      else
        it->second += d;
      break;
    }
    default: break;
  }
}

bool RoutingCore::Impl::is_break_reason(const TeamRt& t, ReasonId r) const {
  return std::find(t.break_reasons.begin(), t.break_reasons.end(), r) != t.break_reasons.end();
}

bool RoutingCore::Impl::break_slot_free(const TeamRt& t) const {
  return t.cfg.break_policy.max_concurrent <= 0 || t.on_break < t.cfg.break_policy.max_concurrent;
}

void RoutingCore::Impl::set_state(AgentRt& a, AgentState to, Cause cause, ReasonId reason,
                                  bool keep_idle) {
  const TimePoint t = now();
  const AgentState from = a.state;
  assert(transition_exists(from, to));
  account_leave(a, t);
  if (from == AgentState::kReady) unindex_ready(a);

  TeamRt* team = team_of(a);
  const bool was_break = a.on_counted_break;
  const bool now_break =
      team != nullptr && to == AgentState::kNotReady && is_break_reason(*team, reason);
  if (was_break && !now_break) {
    if (team != nullptr) --team->on_break;
    a.on_counted_break = false;
    ++a.break_gen;
  } else if (!was_break && now_break) {
    ++team->on_break;
    a.on_counted_break = true;
    a.break_since = t;
    ++a.break_gen;
    if (team->cfg.break_policy.max_duration > Duration::zero())
      schedule(t + team->cfg.break_policy.max_duration, TimerKind::kBreakOverrun,
               static_cast<std::uint64_t>(&a - agents.data()), a.break_gen);
  }

  a.state = to;
  a.reason = to == AgentState::kNotReady ? reason : ReasonId{};
  a.since = t;
  a.accounted_since = t;
  if (to == AgentState::kReady && !keep_idle) a.idle_since = t;
  if (from == AgentState::kLoggedOut)
    for (auto& m : a.memberships) ++queues[m.queue].logged_in_members;
  if (to == AgentState::kLoggedOut)
    for (auto& m : a.memberships) --queues[m.queue].logged_in_members;

  emit(AgentStateChanged{AgentId(static_cast<std::uint32_t>(&a - agents.data())), a.cfg.tenant,
                         from, to, a.reason, cause, a.call, t});

  if (to == AgentState::kLoggedOut)
    for (auto& m : a.memberships) on_member_logged_out(m.queue);
  if (was_break && !now_break && team != nullptr) grant_waitlisted_breaks(*team);
}

void RoutingCore::Impl::remove_from_waitlist(AgentRt& a) {
  if (!a.waitlisted) return;
  a.waitlisted = false;
  if (TeamRt* team = team_of(a)) {
    const AgentId id(static_cast<std::uint32_t>(&a - agents.data()));
    auto it = std::find(team->waitlist.begin(), team->waitlist.end(), id);
    if (it != team->waitlist.end()) team->waitlist.erase(it);
  }
}

void RoutingCore::Impl::grant_waitlisted_breaks(TeamRt& t) {
  while (break_slot_free(t)) {
    auto it = std::find_if(t.waitlist.begin(), t.waitlist.end(), [&](AgentId id) {
      const AgentRt& a = agents[id.value];
      return a.state == AgentState::kReady ||
             (a.state == AgentState::kNotReady && !a.on_counted_break);
    });
    if (it == t.waitlist.end()) return;
    AgentRt& a = agents[it->value];
    t.waitlist.erase(it);
    a.waitlisted = false;
    set_state(a, AgentState::kNotReady, Cause::kTimer, a.waitlist_reason);
  }
}

void RoutingCore::Impl::make_ready(AgentRt& a, Cause cause, bool keep_idle) {
  a.pending_not_ready.reset();
  a.return_reason.reset();
  if (a.retiring) {
    do_logout(a, Cause::kSystem);
    return;
  }
  if (a.waitlisted) {
    TeamRt* team = team_of(a);
    if (team != nullptr && break_slot_free(*team)) {
      remove_from_waitlist(a);
      set_state(a, AgentState::kNotReady, Cause::kTimer, a.waitlist_reason);
      return;
    }
  }
  set_state(a, AgentState::kReady, cause, ReasonId{}, keep_idle);
  // Calls first; an agent with tasks in hand takes no call (engine/core/task.h).
  if (a.tasks_in_hand == 0) {
    if (route_agent(a)) return;
    index_ready(a);
  }
  route_agent_tasks(a);
}

// The agent's call has ended; a.call still names it until after-call work is over.
void RoutingCore::Impl::after_call(AgentRt& a, Duration wrap_up, bool manual_wrap_up, Cause cause) {
  if (!a.logout_pending && !a.retiring && (manual_wrap_up || wrap_up > Duration::zero())) {
    set_state(a, AgentState::kWrapUp, cause);
    if (!manual_wrap_up)
      schedule(now() + wrap_up, TimerKind::kWrapUpEnd,
               static_cast<std::uint64_t>(&a - agents.data()), ++a.wrap_gen);
    return;
  }
  finish_wrap_up(a, cause);
}

void RoutingCore::Impl::finish_wrap_up(AgentRt& a, Cause cause) {
  ++a.wrap_gen;
  a.call = CallId{};
  a.call_kind = CallKind::kNone;
  if (a.logout_pending || a.retiring) {
    do_logout(a, a.retiring ? Cause::kSystem : Cause::kSupervisor);
    return;
  }
  if (a.pending_not_ready) {
    const ReasonId r = *a.pending_not_ready;
    a.pending_not_ready.reset();
    a.return_reason.reset();
    set_state(a, AgentState::kNotReady, Cause::kSupervisor, r);
    return;
  }
  if (a.return_reason) {
    const ReasonId r = *a.return_reason;
    a.return_reason.reset();
    return_to_not_ready(a, r, cause);
    return;
  }
  if (a.cfg.work_mode == WorkMode::kManual) {
    TeamRt* team = team_of(a);
    if (a.waitlisted && team != nullptr && break_slot_free(*team)) {
      remove_from_waitlist(a);
      set_state(a, AgentState::kNotReady, Cause::kTimer, a.waitlist_reason);
      return;
    }
    set_state(a, AgentState::kNotReady, cause, kManualReady);
    return;
  }
  make_ready(a, cause);
}

// Back to a not-ready reason the agent left for a call. A break reason goes through the
// team's break policy again: with no slot free the agent returns to work (wait-listed if the
// policy says so) rather than exceed the limit.
void RoutingCore::Impl::return_to_not_ready(AgentRt& a, ReasonId reason, Cause cause) {
  TeamRt* team = team_of(a);
  if (team != nullptr && is_break_reason(*team, reason) && !a.on_counted_break &&
      !break_slot_free(*team)) {
    if (team->cfg.break_policy.over_limit == BreakPolicy::OverLimit::kWaitlist && !a.waitlisted) {
      const AgentId id(static_cast<std::uint32_t>(&a - agents.data()));
      a.waitlisted = true;
      a.waitlist_reason = reason;
      team->waitlist.push_back(id);
      emit(BreakWaitlisted{id, a.cfg.tenant, a.cfg.team, reason,
                           static_cast<int>(team->waitlist.size()), now()});
    }
    make_ready(a, cause);
    return;
  }
  set_state(a, AgentState::kNotReady, cause, reason);
}

void RoutingCore::Impl::do_logout(AgentRt& a, Cause cause) {
  remove_from_waitlist(a);
  a.return_reason.reset();
  a.logout_pending = false;
  a.pending_not_ready.reset();
  ++a.wrap_gen;
  a.call = CallId{};
  a.call_kind = CallKind::kNone;
  log_out_returning_tasks(a, cause);
  const AgentId id(static_cast<std::uint32_t>(&a - agents.data()));
  // Callers waiting for this agent (sticky routing, directed transfers) no longer wait for
  // them.
  a.directed_calls.clear();
  std::vector<CallRt*> released;
  for (auto& [cid, c] : calls)
    if (c->preferred == id) {
      c->preferred = AgentId{};
      if (c->phase == CallPhase::kWaiting) released.push_back(c.get());
    }
  for (CallRt* c : released) route_call(*c);
  if (a.retiring) {
    for (auto& m : a.memberships) {
      auto& members = queues[m.queue].members;
      members.erase(std::remove(members.begin(), members.end(), id.value), members.end());
    }
    a.memberships.clear();
    a.exists = false;
  }
}

// =====================================================================================
// 3. Routing
// =====================================================================================

// Agent-first matching: `a` has just become Ready. Among the queues it serves, in the
// agent's queue-priority order, pick the best waiting call it may take.
bool RoutingCore::Impl::route_agent(AgentRt& a) {
  const TimePoint t = now();
  const auto idx = static_cast<std::uint32_t>(&a - agents.data());
  const AgentId id(idx);
  // Calls transferred to this agent come first, whatever the queues they wait in.
  if (!a.directed_calls.empty()) {
    if (CallRt* directed = best_directed_call(a, t)) {
      scratch_agents.assign(1, idx);
      offer(*directed, scratch_agents);
      return true;
    }
  }
  CallRt* best = nullptr;
  double best_priority = 0;
  int best_group = 0;
  for (const Membership& m : a.memberships) {
    if (best != nullptr && m.queue_priority > best_group) break;
    if (m.required_gap >= kNeverEligible) continue;
    QueueRt& q = queues[m.queue];
    if (q.waiting_count == 0) continue;
    for (std::size_t s = 0; s < q.steps.size(); ++s) {
      const StepRule& rule = q.steps[s];
      if (!gaps_ok(m.required_gap, m.optional_gap, rule)) continue;
      if (m.tier > std::max(rule.max_tier, q.overflow_tier)) continue;
      if (q.rules != nullptr && !rule_step_possible(m.rule_steps, static_cast<int>(s))) continue;
      for (const WaitKey& k : q.waiting[s]) {
        CallRt& c = *k.ptr;
        if (!residual_ok(a, id, c, q, t)) continue;
        if (q.rules != nullptr) {
          prepare_call_rules(q, c, t, rule_scratch);
          set_rule_agent(a, &m, t, rule_scratch);
          // Without facts no static term was evaluated: the whole target decides.
          if (!(a.rule_facts != nullptr ? member_target_admits(q, c.step, rule_scratch)
                                        : target_admits(q, c.step, rule_scratch)))
            continue;
        }
        const double prio = effective_priority(q, c, t);
        if (best == nullptr || prio > best_priority ||
            (prio == best_priority &&
             (c.enqueued < best->enqueued ||
              (c.enqueued == best->enqueued && c.spec.id < best->spec.id)))) {
          best = &c;
          best_priority = prio;
          best_group = m.queue_priority;
        }
        break;  // the first eligible call of a step is the best of that step
      }
    }
  }
  if (best == nullptr) return false;
  scratch_agents.assign(1, idx);
  offer(*best, scratch_agents);
  return true;
}

// Call-first matching: `c` is waiting (it just arrived, came back, escalated, or the
// rules changed). Pick the agent(s) the queue's strategy prefers among eligible Ready ones.
bool RoutingCore::Impl::route_call(CallRt& c) {
  if (c.phase != CallPhase::kWaiting || !c.in_queue) return false;
  QueueRt& q = queues[c.queue];
  const TimePoint t = now();
  const StepRule& rule = q.steps[c.step];
  const int max_tier = effective_tier(q, c);

  if (sticky_active(c, t)) {
    AgentRt* a = find_agent(c.preferred);
    if (a == nullptr || !voice_available(*a)) return false;
    if (c.directed) {
      if (!directed_to(c, c.preferred, t)) return false;
    } else {
      Membership* m = membership(*a, c.queue);
      if (m == nullptr || !m->indexed || !eligible(*a, c.preferred, *m, c, q, t)) return false;
    }
    scratch_agents.assign(1, c.preferred.value);
    offer(c, scratch_agents);
    return true;
  }

  if (q.rules != nullptr) return route_call_by_rules(c, q, t);
  const Strategy strategy = q.cfg.strategy;
  const bool collect_all = strategy == Strategy::kRingAll || strategy == Strategy::kRandom ||
                           strategy == Strategy::kWeightedRandom;
  for (int tier = 1; tier <= max_tier; ++tier) {
    if (collect_all) {
      // Every eligible agent of the lowest penalty present in this tier.
      auto& found = scratch_found;
      found.clear();
      int best_penalty = INT32_MAX;
      for (auto& b : q.buckets) {
        if (b.tier != tier || !gaps_ok(b.required_gap, b.optional_gap, rule)) continue;
        for (const ReadyKey& k : b.agents) {
          if (k.penalty > best_penalty) break;
          if (!residual_ok(agents[k.agent], AgentId(k.agent), c, q, t)) continue;
          if (k.penalty < best_penalty) {
            best_penalty = k.penalty;
            found.clear();
          }
          found.emplace_back(k, k.agent);
        }
      }
      if (found.empty()) continue;
      std::sort(found.begin(), found.end());
      scratch_agents.clear();
      if (strategy == Strategy::kRingAll) {
        const std::size_t n =
            std::min<std::size_t>(found.size(), std::max(1, q.cfg.ring_all_limit));
        for (std::size_t i = 0; i < n; ++i) scratch_agents.push_back(found[i].second);
      } else if (strategy == Strategy::kRandom) {
        scratch_agents.push_back(found[random.below(found.size())].second);
      } else {
        std::uint64_t total = 0;
        for (auto& f : found) total += std::max(1, membership(agents[f.second], c.queue)->weight);
        std::uint64_t pick = random.below(total);
        for (auto& f : found) {
          const std::uint64_t w = std::max(1, membership(agents[f.second], c.queue)->weight);
          if (pick < w) {
            scratch_agents.push_back(f.second);
            break;
          }
          pick -= w;
        }
      }
      offer(c, scratch_agents);
      return true;
    }

    // Ordered strategies: the smallest key among the first eligible agent of each bucket.
    const ReadyKey* best = nullptr;
    for (auto& b : q.buckets) {
      if (b.tier != tier || !gaps_ok(b.required_gap, b.optional_gap, rule)) continue;
      for (const ReadyKey& k : b.agents) {
        if (best != nullptr && !(k < *best)) break;
        if (!residual_ok(agents[k.agent], AgentId(k.agent), c, q, t)) continue;
        best = &k;
        break;
      }
    }
    if (best == nullptr) continue;
    std::uint32_t chosen = best->agent;
    if (strategy == Strategy::kRoundRobin) {
      // Among eligible agents of the best penalty, the first whose list position follows
      // the last one offered; wrap around to the first otherwise.
      const int penalty = best->penalty;
      const ReadyKey* after = nullptr;
      for (auto& b : q.buckets) {
        if (b.tier != tier || !gaps_ok(b.required_gap, b.optional_gap, rule)) continue;
        for (auto it =
                 b.agents.lower_bound(ReadyKey{penalty, q.rr_last_position + 1, INT64_MIN, 0});
             it != b.agents.end() && it->penalty == penalty; ++it) {
          if (after != nullptr && !(*it < *after)) break;
          if (!residual_ok(agents[it->agent], AgentId(it->agent), c, q, t)) continue;
          after = &*it;
          break;
        }
      }
      if (after != nullptr) chosen = after->agent;
    }
    scratch_agents.assign(1, chosen);
    offer(c, scratch_agents);
    return true;
  }
  return false;
}

// The best call waiting for `a` through a directed transfer (highest effective priority,
// then the earliest in its queue), or nullptr. Drops stale entries of a.directed_calls.
CallRt* RoutingCore::Impl::best_directed_call(AgentRt& a, TimePoint t) {
  const AgentId id(static_cast<std::uint32_t>(&a - agents.data()));
  CallRt* best = nullptr;
  double best_priority = 0;
  std::erase_if(a.directed_calls, [&](CallId cid) {
    CallRt* c = find_call(cid);
    if (c == nullptr || !c->in_queue || !c->directed || c->preferred != id || !sticky_active(*c, t))
      return true;
    if (c->phase != CallPhase::kWaiting || !directed_to(*c, id, t) || c == best) return false;
    const double prio = effective_priority(queues[c->queue], *c, t);
    if (best == nullptr || prio > best_priority ||
        (prio == best_priority && (c->enqueued < best->enqueued || (c->enqueued == best->enqueued &&
                                                                    c->spec.id < best->spec.id)))) {
      best = c;
      best_priority = prio;
    }
    return false;
  });
  return best;
}

void RoutingCore::Impl::route_waiting_calls(QueueRt& q) {
  std::vector<CallRt*> order;
  order.reserve(static_cast<std::size_t>(q.waiting_count));
  for (auto& step : q.waiting)
    for (const WaitKey& k : step) order.push_back(k.ptr);
  std::sort(order.begin(), order.end(), [&](CallRt* x, CallRt* y) { return x->key < y->key; });
  for (CallRt* c : order) {
    // Nobody Ready in the queue: only a call directed to an agent (who need not be a
    // member) may be offered now.
    const bool nobody_ready = q.rules != nullptr ? q.rule_ready.empty() : q.buckets.empty();
    if (nobody_ready && !c->directed) continue;
    route_call(*c);
  }
  route_waiting_tasks(q);
}

// =====================================================================================
// 4. Call lifecycle
// =====================================================================================

void RoutingCore::Impl::insert_waiting(CallRt& c) {
  QueueRt& q = queues[c.queue];
  q.waiting[static_cast<std::size_t>(c.step)].insert(c.key);
  ++q.waiting_count;
  watch_live_rules(q);
}

void RoutingCore::Impl::erase_waiting(CallRt& c) {
  QueueRt& q = queues[c.queue];
  q.waiting[static_cast<std::size_t>(c.step)].erase(c.key);
  --q.waiting_count;
}

void RoutingCore::Impl::offer(CallRt& c, const std::vector<std::uint32_t>& agent_indices) {
  QueueRt& q = queues[c.queue];
  const TimePoint t = now();
  erase_waiting(c);
  c.phase = CallPhase::kOffering;
  ++q.offering_count;
  c.offered.clear();
  ++c.offer_gen;
  // Nothing below routes, so `agent_indices` (often scratch_agents) stays intact.
  const std::vector<std::uint32_t>& chosen = agent_indices;
  for (std::uint32_t idx : chosen) c.offered.emplace_back(idx);
  if (q.cfg.strategy == Strategy::kRoundRobin)
    if (const Membership* m = membership(agents[chosen.front()], c.queue))
      q.rr_last_position = m->position;
  schedule(t + q.cfg.ring_timeout, TimerKind::kRingTimeout, c.spec.id.value, c.offer_gen);
  for (std::uint32_t idx : chosen) {
    AgentRt& a = agents[idx];
    a.call = c.spec.id;
    a.call_kind = CallKind::kInbound;
    ++a.counters.offered;
    set_state(a, AgentState::kReserved, Cause::kRouter);
    emit(CallOffered{c.spec.id, c.spec.tenant, q.cfg.id, AgentId(idx), q.cfg.ring_timeout, t});
  }
}

void RoutingCore::Impl::release_offered_agent(AgentRt& a, Cause cause, bool keep_idle) {
  a.call = CallId{};
  a.call_kind = CallKind::kNone;
  if (a.logout_pending || a.retiring) {
    do_logout(a, a.retiring ? Cause::kSystem : Cause::kSupervisor);
  } else if (a.pending_not_ready) {
    const ReasonId r = *a.pending_not_ready;
    a.pending_not_ready.reset();
    set_state(a, AgentState::kNotReady, Cause::kSupervisor, r);
  } else {
    make_ready(a, cause, keep_idle);
  }
}

void RoutingCore::Impl::end_offer(CallRt& c, AgentId agent, OfferEndReason reason, bool requeue) {
  auto it = std::find(c.offered.begin(), c.offered.end(), agent);
  if (it == c.offered.end()) return;
  c.offered.erase(it);
  const TimePoint t = now();
  QueueRt& q = queues[c.queue];
  AgentRt& a = agents[agent.value];
  emit(OfferEnded{c.spec.id, c.spec.tenant, agent, reason, t});
  switch (reason) {
    case OfferEndReason::kNoAnswer:
    case OfferEndReason::kDeclined:
    case OfferEndReason::kBusy:
    case OfferEndReason::kFailed: {
      if (reason == OfferEndReason::kNoAnswer) ++a.counters.rona;
      if (c.preferred == agent) c.preferred = AgentId{};  // stop waiting for them
      c.excluded.emplace_back(agent, t + q.cfg.rona_retry);
      schedule(t + q.cfg.rona_retry, TimerKind::kExclusionExpire, c.spec.id.value, c.gen);
      a.call = CallId{};
      a.call_kind = CallKind::kNone;
      if (a.logout_pending || a.retiring || a.pending_not_ready) {
        release_offered_agent(a, Cause::kCall, false);
      } else if (reason == OfferEndReason::kBusy) {
        set_state(a, AgentState::kNotReady, Cause::kCall, kBusy);
      } else if (reason == OfferEndReason::kFailed) {
        set_state(a, AgentState::kNotReady, Cause::kCall, kUnreachable);
      } else {
        switch (q.cfg.rona_policy) {
          case RonaPolicy::kNotReady:
            set_state(a, AgentState::kNotReady, Cause::kTimer, kNoAnswer);
            break;
          case RonaPolicy::kReady: make_ready(a, Cause::kTimer); break;
          case RonaPolicy::kLogout: do_logout(a, Cause::kSystem); break;
        }
      }
      break;
    }
    case OfferEndReason::kAnsweredElsewhere:
    case OfferEndReason::kCallerGone:
    case OfferEndReason::kWithdrawn:
      release_offered_agent(a, Cause::kCall, /*keep_idle=*/true);
      break;
  }
  if (requeue && c.offered.empty() && c.phase == CallPhase::kOffering) return_to_queue(c);
}

void RoutingCore::Impl::return_to_queue(CallRt& c) {
  QueueRt& q = queues[c.queue];
  --q.offering_count;
  c.phase = CallPhase::kWaiting;
  insert_waiting(c);  // same key: the call's original place
  if (c.max_wait_reached) {
    exit_call(c, ExitReason::kMaxWait, q.cfg.on_timeout);
    return;
  }
  if (q.cfg.leave_when_empty && q.logged_in_members == 0) {
    exit_call(c, ExitReason::kNoAgents, q.cfg.on_empty);
    return;
  }
  route_call(c);
}

void RoutingCore::Impl::leave_queue_accounting(CallRt& c) {
  if (!c.in_queue) return;
  QueueRt& q = queues[c.queue];
  if (c.phase == CallPhase::kWaiting)
    erase_waiting(c);
  else if (c.phase == CallPhase::kOffering)
    --q.offering_count;
  c.in_queue = false;
  ++c.gen;
  if (c.over_threshold) {
    c.over_threshold = false;
    --q.over_threshold;
    reevaluate_overflow(q);
  }
}

void RoutingCore::Impl::apply_sticky(CallRt& c, QueueRt& q) {
  if (q.cfg.sticky_window <= Duration::zero() || c.spec.caller_number.empty()) return;
  TenantRt& tenant = tenants[c.spec.tenant.value];
  auto it = tenant.last_agent.find(c.spec.caller_number);
  if (it == tenant.last_agent.end()) return;
  const TimePoint t = now();
  if (t - it->second.served > q.cfg.sticky_window) return;
  AgentRt* a = find_agent(it->second.agent);
  if (a == nullptr || a->state == AgentState::kLoggedOut || membership(*a, c.queue) == nullptr)
    return;
  c.preferred = it->second.agent;
  c.sticky_until = t + q.cfg.sticky_wait;
}

void RoutingCore::Impl::remember_agent(CallRt& c) {
  const QueueRt& q = queues[c.queue];
  if (q.cfg.sticky_window <= Duration::zero() || c.spec.caller_number.empty()) return;
  TenantRt& tenant = tenants[c.spec.tenant.value];
  const TimePoint t = now();
  tenant.last_agent[c.spec.caller_number] = StickyEntry{c.agent, t};
  tenant.last_agent_order.emplace_back(t, c.spec.caller_number);
  while (!tenant.last_agent_order.empty() &&
         t - tenant.last_agent_order.front().first > max_sticky_window) {
    auto& [served, caller] = tenant.last_agent_order.front();
    auto it = tenant.last_agent.find(caller);
    if (it != tenant.last_agent.end() && it->second.served == served) tenant.last_agent.erase(it);
    tenant.last_agent_order.pop_front();
  }
}

void RoutingCore::Impl::schedule_call_timers(CallRt& c) {
  const QueueRt& q = queues[c.queue];
  const std::uint64_t id = c.spec.id.value;
  if (q.cfg.max_wait > Duration::zero())
    schedule(c.enqueued + q.cfg.max_wait, TimerKind::kMaxWait, id, c.gen);
  if (static_cast<std::size_t>(c.step) + 1 < q.steps.size())
    schedule(c.enqueued + q.steps[static_cast<std::size_t>(c.step) + 1].after,
             TimerKind::kEscalation, id, c.gen);
  if (q.cfg.overflow.enabled && !c.over_threshold)
    schedule(c.enqueued + q.cfg.overflow.min_wait, TimerKind::kOverThreshold, id, c.gen);
  if (sticky_active(c, now())) schedule(c.sticky_until, TimerKind::kStickyExpire, id, c.gen);
  for (const auto& [agent, until] : c.excluded)
    if (until > now()) schedule(until, TimerKind::kExclusionExpire, id, c.gen);
}

// `transfer`: the call comes from an agent (transfer_to_queue): the caller's last agent is
// not preferred (that is most likely the agent who just transferred it); `directed`, if
// valid and still logged in, is preferred instead, as a directed transfer.
Status RoutingCore::Impl::enqueue_into(CallRt& c, std::uint32_t qi, bool /*first_entry*/,
                                       bool transfer, AgentId directed) {
  QueueRt& q = queues[qi];
  const TimePoint t = now();
  c.queue = qi;
  c.enqueued = t;
  if (q.closed) {
    exit_call(c, ExitReason::kQueueClosed, q.cfg.on_empty);
    return Status::ok();
  }
  if (!q.cfg.join_when_empty && q.logged_in_members == 0) {
    exit_call(c, ExitReason::kNoAgents, q.cfg.on_empty);
    return Status::ok();
  }
  if (q.cfg.max_length > 0 && q.waiting_count + q.offering_count >= q.cfg.max_length) {
    exit_call(c, ExitReason::kQueueFull, q.cfg.on_full);
    return Status::ok();
  }
  c.step = 0;
  c.over_threshold = false;
  c.max_wait_reached = false;
  // Exclusions (agents who just failed to answer this caller) follow the call to a new queue.
  std::erase_if(c.excluded, [&](const auto& e) { return e.second <= t; });
  c.preferred = AgentId{};
  c.directed = false;
  c.key = WaitKey{rank_of(q, c.spec, t), t.time_since_epoch().count(), c.spec.id.value, &c};
  c.phase = CallPhase::kWaiting;
  c.in_queue = true;
  ++c.gen;
  ++q.counters.entered;
  insert_waiting(c);
  emit(CallQueued{c.spec.id, c.spec.tenant, q.cfg.id, t, c.spec.caller_number, c.spec.dialed_number,
                  c.spec.vip_level, q.cfg.sl_threshold});
  if (!transfer) apply_sticky(c, q);
  if (AgentRt* p = find_agent(directed); p != nullptr && p->state != AgentState::kLoggedOut) {
    c.preferred = directed;
    c.directed = true;
    c.sticky_until =
        t + (q.cfg.sticky_wait > Duration::zero() ? q.cfg.sticky_wait
                                                  : Duration(std::chrono::seconds(30)));
    // An explicit request: an earlier no-answer of this agent no longer keeps them away.
    std::erase_if(c.excluded, [&](const auto& e) { return e.first == directed; });
    (void)best_directed_call(*p, t);  // drops stale entries: the list stays short
    if (std::find(p->directed_calls.begin(), p->directed_calls.end(), c.spec.id) ==
        p->directed_calls.end())
      p->directed_calls.push_back(c.spec.id);
  }
  schedule_call_timers(c);
  // Live rules read the queue's figures: the new call may admit agents for older calls.
  if (q.rules != nullptr && q.rules->live)
    route_waiting_calls(q);
  else
    route_call(c);
  return Status::ok();
}

void RoutingCore::Impl::exit_call(CallRt& c, ExitReason reason, const ExitDestination& dest) {
  QueueRt& q = queues[c.queue];
  const TimePoint t = now();
  const Duration waited = c.in_queue ? t - c.enqueued : Duration::zero();
  leave_queue_accounting(c);
  ++q.counters.exited;
  emit(CallExited{c.spec.id, c.spec.tenant, q.cfg.id, reason, dest, t});
  if (dest.kind == ExitDestination::Kind::kQueue) {
    QueueRt* target = find_queue(dest.queue);
    if (target != nullptr && target->cfg.tenant == c.spec.tenant && c.hops < kMaxQueueHops) {
      ++c.hops;
      const std::uint32_t from = c.queue;
      (void)enqueue_into(c, dest.queue.value, false);
      delete_closed_queue_if_empty(queues[from]);
      return;
    }
  }
  FinalState state = FinalState::kHungUp;
  if (dest.kind == ExitDestination::Kind::kVoicemail) state = FinalState::kVoicemail;
  if (dest.kind == ExitDestination::Kind::kCallback) state = FinalState::kCallback;
  finish(c, state, waited, HangupCause::kQueueExit);
}

// Ends the current agent's part of a connected call at `t`: its talk and hold go to the
// call's totals and, for an inbound call, to the queue's counters. The next part (after an
// attended transfer) starts at `t`, not held.
RoutingCore::Impl::Part RoutingCore::Impl::close_part(CallRt& c, TimePoint t) {
  Part p;
  p.hold = c.hold_total + (c.held ? t - c.hold_started : Duration::zero());
  p.talk = (t - c.talk_since) - p.hold;
  if (c.kind == CallKind::kInbound && c.queue < queues.size()) {
    queues[c.queue].counters.total_talk += p.talk;
    queues[c.queue].counters.total_hold += p.hold;
  }
  c.talk_before += p.talk;
  c.hold_before += p.hold;
  c.talk_since = t;
  c.hold_total = Duration::zero();
  c.held = false;
  return p;
}

void RoutingCore::Impl::finish(CallRt& c, FinalState state, Duration waited, HangupCause cause) {
  const TimePoint t = now();
  if (c.phase == CallPhase::kConnected) close_part(c, t);
  const std::uint32_t qi = c.queue;
  emit(CallFinished{c.spec.id, c.spec.tenant, qi < queues.size() ? queues[qi].cfg.id : QueueId{},
                    c.agent, state, c.arrived, waited, c.talk_before, c.hold_before, t, cause});
  const CallId id = c.spec.id;
  calls.erase(id);  // `c` is gone from here on
  if (qi < queues.size()) delete_closed_queue_if_empty(queues[qi]);
}

// An agent whose placed call failed (or ended unanswered) goes back where they were.
void RoutingCore::Impl::release_after_dial(AgentRt& x) {
  x.call = CallId{};
  x.call_kind = CallKind::kNone;
  x.return_reason.reset();
  if (x.logout_pending || x.retiring || x.pending_not_ready)
    release_offered_agent(x, Cause::kCall, true);
  else if (x.state_before_dial == AgentState::kReady)
    make_ready(x, Cause::kCall, /*keep_idle=*/true);
  else
    return_to_not_ready(x, x.reason_before_dial, Cause::kCall);
}

// Ends placed call `c` (not a consultation) before it was answered: unanswered; both
// agents go back where they were.
void RoutingCore::Impl::end_dial(CallRt& c, HangupCause cause) {
  AgentRt* a = find_agent(c.agent);
  AgentRt* b = find_agent(c.callee);
  finish(c, FinalState::kUnanswered, Duration::zero(), cause);
  for (AgentRt* x : {a, b})
    if (x != nullptr) release_after_dial(*x);
}

// Ends consultation call `k`: completed if it was answered, unanswered otherwise. Its
// originator stays on the inbound call they consult for (no after-call work for `k`); the
// consulted agent, if internal, is free again.
void RoutingCore::Impl::end_consult(CallRt& k, HangupCause cause) {
  if (CallRt* in = find_call(k.consult_for)) in->consult = CallId{};
  AgentRt* a = find_agent(k.agent);
  AgentRt* b = find_agent(k.callee);
  const bool connected = k.phase == CallPhase::kConnected;
  finish(k, connected ? FinalState::kCompleted : FinalState::kUnanswered, Duration::zero(), cause);
  if (connected && a != nullptr) ++a->counters.outbound;
  if (b == nullptr) return;
  if (connected) {
    b->last_queue = UINT32_MAX;
    after_call(*b, Duration::zero(), false);
  } else {
    release_after_dial(*b);
  }
}

namespace {
const char* phase_text(CallPhase p) {
  switch (p) {
    case CallPhase::kWaiting: return "waiting in a queue";
    case CallPhase::kOffering: return "being offered to an agent";
    case CallPhase::kConnected: return "connected";
    case CallPhase::kDialing: return "being dialled";
  }
  return "?";
}
}  // namespace

Status RoutingCore::Impl::check_transferable(const CallRt& c, const char* what) const {
  const std::string cs = "call " + std::to_string(c.spec.id.value);
  if (c.kind != CallKind::kInbound)
    return {ErrorCode::kInvalidState,
            cs + " is " +
                (c.consult_for.valid() ? std::string("a consultation call")
                                       : std::string("an ") + to_string(c.kind) + " call") +
                ": only a connected inbound call can be " + what};
  if (c.phase != CallPhase::kConnected)
    return {ErrorCode::kInvalidState,
            cs + " is " + phase_text(c.phase) + ": only a connected inbound call can be " + what};
  return Status::ok();
}

// The agent who had a call that was transferred is done with it, as if it had ended:
// handled, wrap-up per the queue it was answered in.
void RoutingCore::Impl::release_transferring_agent(AgentRt& a, std::uint32_t qi, Cause cause) {
  ++a.counters.handled;
  a.last_queue = qi;
  const Duration wrap = queues[qi].cfg.wrap_up;
  const bool manual = queues[qi].cfg.manual_wrap_up;
  after_call(a, wrap, manual, cause);
}

void RoutingCore::Impl::delete_closed_queue_if_empty(QueueRt& q) {
  if (!q.exists || !q.closed || q.waiting_count > 0 || q.offering_count > 0) return;
  if (!q.waiting_tasks.empty() || q.tasks_offered > 0 || q.tasks_accepted > 0) return;
  for (const auto& [id, c] : calls)
    if (c->queue == static_cast<std::uint32_t>(&q - queues.data()) && c->in_queue) return;
  const auto qi = static_cast<std::uint32_t>(&q - queues.data());
  for (std::uint32_t ai : q.members) {
    AgentRt& a = agents[ai];
    auto it = std::find_if(a.memberships.begin(), a.memberships.end(),
                           [&](const Membership& m) { return m.queue == qi; });
    if (it == a.memberships.end()) continue;
    // The ready index holds positions in the list: take the agent out while it shrinks
    // (any membership may be indexed, whether or not this one is).
    const bool indexed = std::any_of(a.memberships.begin(), a.memberships.end(),
                                     [](const Membership& m) { return m.indexed; });
    if (indexed) unindex_ready(a);
    a.memberships.erase(it);
    if (indexed) index_ready(a);
  }
  q.members.clear();
  clear_ready_index(q);
  q.exists = false;
}

void RoutingCore::Impl::on_member_logged_out(std::uint32_t qi) {
  QueueRt& q = queues[qi];
  if (q.logged_in_members > 0 || !q.cfg.leave_when_empty || q.waiting_count == 0) return;
  std::vector<CallRt*> leaving;
  for (auto& step : q.waiting)
    for (const WaitKey& k : step) leaving.push_back(k.ptr);
  for (CallRt* c : leaving) exit_call(*c, ExitReason::kNoAgents, q.cfg.on_empty);
}

// =====================================================================================
// 5. Timers
// =====================================================================================

void RoutingCore::Impl::reevaluate_overflow(QueueRt& q) {
  const OverflowRule& rule = q.cfg.overflow;
  if (!rule.enabled) return;
  const Trend want = q.over_threshold >= rule.min_calls          ? Trend::kRising
                     : q.over_threshold < rule.clear_below_calls ? Trend::kFalling
                                                                 : Trend::kNeutral;
  if (want == q.trend) return;
  q.trend = want;
  ++q.overflow_gen;
  const auto qi = static_cast<std::uint64_t>(&q - queues.data());
  if (want == Trend::kRising && q.overflow_tier < rule.max_tier)
    schedule(now() + rule.sustain, TimerKind::kOverflowSustain, qi, q.overflow_gen);
  if (want == Trend::kFalling && q.overflow_tier > 1)
    schedule(now() + rule.clear_after, TimerKind::kOverflowClear, qi, q.overflow_gen);
}

void RoutingCore::Impl::fire(const Timer& timer) {
  const TimePoint t = now();
  switch (timer.kind) {
    case TimerKind::kRingTimeout: {
      const CallId id(timer.target);
      CallRt* c = find_call(id);
      if (c == nullptr || c->phase != CallPhase::kOffering || c->offer_gen != timer.gen) return;
      const std::vector<AgentId> offered = c->offered;
      for (AgentId a : offered) {
        c = find_call(id);
        if (c == nullptr || c->offer_gen != timer.gen) break;
        end_offer(*c, a, OfferEndReason::kNoAnswer, /*requeue=*/true);
      }
      return;
    }
    case TimerKind::kWrapUpEnd: {
      if (timer.target >= agents.size()) return;
      AgentRt& a = agents[timer.target];
      if (a.exists && a.state == AgentState::kWrapUp && a.wrap_gen == timer.gen)
        finish_wrap_up(a, Cause::kTimer);
      return;
    }
    case TimerKind::kBreakOverrun: {
      if (timer.target >= agents.size()) return;
      AgentRt& a = agents[timer.target];
      TeamRt* team = team_of(a);
      if (!a.exists || !a.on_counted_break || a.break_gen != timer.gen || team == nullptr) return;
      emit(SupervisorAlert{AlertKind::kBreakOverrun, a.cfg.tenant, a.cfg.team,
                           AgentId(static_cast<std::uint32_t>(timer.target)), a.reason,
                           t - a.break_since - team->cfg.break_policy.max_duration, t});
      return;
    }
    case TimerKind::kOverflowSustain:
    case TimerKind::kOverflowClear: {
      if (timer.target >= queues.size()) return;
      QueueRt& q = queues[timer.target];
      if (!q.exists || q.overflow_gen != timer.gen) return;
      const OverflowRule& rule = q.cfg.overflow;
      const int from = q.overflow_tier;
      if (timer.kind == TimerKind::kOverflowSustain) {
        if (q.trend != Trend::kRising || q.overflow_tier >= rule.max_tier) return;
        ++q.overflow_tier;
        if (q.overflow_tier < rule.max_tier)
          schedule(t + rule.sustain, TimerKind::kOverflowSustain, timer.target, timer.gen);
      } else {
        if (q.trend != Trend::kFalling || q.overflow_tier <= 1) return;
        --q.overflow_tier;
        if (q.overflow_tier > 1)
          schedule(t + rule.clear_after, TimerKind::kOverflowClear, timer.target, timer.gen);
      }
      emit(OverflowLevelChanged{q.cfg.id, q.cfg.tenant, from, q.overflow_tier, t});
      if (q.overflow_tier > from) route_waiting_calls(q);
      return;
    }
    case TimerKind::kTaskOfferTimeout:
    case TimerKind::kTaskEscalation:
    case TimerKind::kTaskRetry: fire_task_timer(timer); return;
    case TimerKind::kRulesReevaluate:
      fire_rules_reevaluate(static_cast<std::uint32_t>(timer.target));
      return;
    default: break;
  }

  // Call timers: valid while the call is still in the queue entry that scheduled them.
  CallRt* c = find_call(CallId(timer.target));
  if (c == nullptr || c->gen != timer.gen || !c->in_queue) return;
  QueueRt& q = queues[c->queue];
  switch (timer.kind) {
    case TimerKind::kMaxWait:
      if (c->phase == CallPhase::kWaiting)
        exit_call(*c, ExitReason::kMaxWait, q.cfg.on_timeout);
      else
        c->max_wait_reached = true;  // leaves if the current offer is not answered
      return;
    case TimerKind::kEscalation: {
      const int next = c->step + 1;
      if (static_cast<std::size_t>(next) >= q.steps.size()) return;
      const bool waiting = c->phase == CallPhase::kWaiting;
      if (waiting) erase_waiting(*c);
      c->step = next;
      if (waiting) insert_waiting(*c);
      emit(CallEscalated{c->spec.id, c->spec.tenant, q.cfg.id, next, t});
      if (static_cast<std::size_t>(next) + 1 < q.steps.size())
        schedule(c->enqueued + q.steps[static_cast<std::size_t>(next) + 1].after,
                 TimerKind::kEscalation, timer.target, c->gen);
      if (waiting) route_call(*c);
      return;
    }
    case TimerKind::kOverThreshold:
      if (c->over_threshold) return;
      c->over_threshold = true;
      ++q.over_threshold;
      reevaluate_overflow(q);
      return;
    case TimerKind::kStickyExpire:
      if (c->phase == CallPhase::kWaiting) route_call(*c);
      return;
    case TimerKind::kExclusionExpire:
      std::erase_if(c->excluded, [&](const auto& e) { return e.second <= t; });
      if (c->phase == CallPhase::kWaiting) route_call(*c);
      return;
    default: return;
  }
}

// =====================================================================================
// 6. Configuration
// =====================================================================================

namespace {

constexpr std::uint32_t kMaxEntityId = 1u << 24;

template <class T>
Status check_ids(const std::vector<T>& items, const char* what) {
  std::unordered_set<std::uint32_t> seen;
  for (const auto& item : items) {
    if (!item.id.valid() || item.id.value >= kMaxEntityId)
      return {ErrorCode::kInvalidArgument, std::string(what) + " '" + item.name +
                                               "': id out of range (expected 0.." +
                                               std::to_string(kMaxEntityId - 1) + ")"};
    if (!seen.insert(item.id.value).second)
      return {ErrorCode::kAlreadyExists,
              std::string(what) + " id " + std::to_string(item.id.value) + " is used twice"};
    if (item.name.empty())
      return {ErrorCode::kInvalidArgument,
              std::string(what) + " id " + std::to_string(item.id.value) + ": name is empty"};
  }
  return Status::ok();
}

Status invalid(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}

}  // namespace

Status RoutingCore::Impl::validate(const CoreConfig& cfg) const {
  for (Status s : {check_ids(cfg.tenants, "tenant"), check_ids(cfg.skills, "skill"),
                   check_ids(cfg.teams, "team"), check_ids(cfg.agents, "agent"),
                   check_ids(cfg.queues, "queue")})
    if (!s) return s;
  std::unordered_map<std::uint32_t, const TenantConfig*> tenant_by_id;
  for (const auto& t : cfg.tenants) tenant_by_id[t.id.value] = &t;
  std::unordered_map<std::uint32_t, TenantId> skill_tenant, team_tenant, agent_tenant, queue_tenant;
  auto tenant_ok = [&](TenantId t, const std::string& who) -> Status {
    if (!tenant_by_id.count(t.value))
      return invalid(who + ": unknown tenant id " + std::to_string(t.value));
    return Status::ok();
  };
  for (const auto& s : cfg.skills) {
    if (Status st = tenant_ok(s.tenant, "skill '" + s.name + "'"); !st) return st;
    skill_tenant[s.id.value] = s.tenant;
  }
  auto skill_ok = [&](SkillId skill, int level, TenantId tenant, const std::string& who) -> Status {
    auto it = skill_tenant.find(skill.value);
    if (it == skill_tenant.end())
      return invalid(who + ": unknown skill id " + std::to_string(skill.value));
    if (it->second != tenant)
      return invalid(who + ": skill id " + std::to_string(skill.value) +
                     " belongs to another tenant");
    if (level < kMinProficiency || level > kMaxProficiency)
      return invalid(who + ": proficiency " + std::to_string(level) +
                     " out of range (expected 1..10)");
    return Status::ok();
  };
  for (const auto& t : cfg.teams) {
    const std::string who = "team '" + t.name + "'";
    if (Status st = tenant_ok(t.tenant, who); !st) return st;
    if (t.break_policy.max_concurrent < 0)
      return invalid(who + ": break max_concurrent must be >= 0");
    if (t.break_policy.max_duration < Duration::zero())
      return invalid(who + ": break max_duration must be >= 0");
    team_tenant[t.id.value] = t.tenant;
  }
  for (const auto& a : cfg.agents) {
    const std::string who = "agent '" + a.name + "'";
    if (Status st = tenant_ok(a.tenant, who); !st) return st;
    if (a.team.valid()) {
      auto it = team_tenant.find(a.team.value);
      if (it == team_tenant.end())
        return invalid(who + ": unknown team id " + std::to_string(a.team.value));
      if (it->second != a.tenant) return invalid(who + ": team belongs to another tenant");
    }
    std::unordered_set<std::uint32_t> seen;
    for (const auto& sk : a.skills) {
      if (Status st = skill_ok(sk.skill, sk.level, a.tenant, who); !st) return st;
      if (!seen.insert(sk.skill.value).second) return invalid(who + ": skill listed twice");
    }
    if (a.outbound_wrap_up < Duration::zero())
      return invalid(who + ": outbound_wrap_up must be >= 0");
    for (std::size_t ch = 0; ch < kChannelCount; ++ch)
      if (a.capacity[ch] < 0 || a.capacity[ch] > kMaxChannelCapacity)
        return invalid(who + ": capacity for " + to_string(static_cast<Channel>(ch)) +
                       " out of range (expected 0.." + std::to_string(kMaxChannelCapacity) + ")");
    if (a.id.value < agents.size() && agents[a.id.value].exists &&
        agents[a.id.value].cfg.tenant != a.tenant)
      return invalid(who + ": an agent cannot move to another tenant");
    agent_tenant[a.id.value] = a.tenant;
  }
  for (const auto& q : cfg.queues) queue_tenant[q.id.value] = q.tenant;
  for (const auto& q : cfg.queues) {
    const std::string who = "queue '" + q.name + "'";
    if (Status st = tenant_ok(q.tenant, who); !st) return st;
    if (q.id.value < queues.size() && queues[q.id.value].exists &&
        queues[q.id.value].cfg.tenant != q.tenant)
      return invalid(who + ": a queue cannot move to another tenant");
    for (const auto& r : q.required_skills)
      if (Status st = skill_ok(r.skill, r.min_level, q.tenant, who + " required skill"); !st)
        return st;
    if (q.ring_timeout <= Duration::zero()) return invalid(who + ": ring_timeout must be > 0");
    for (Duration d : {q.sl_threshold, q.wrap_up, q.max_wait, q.rona_retry, q.sticky_window,
                       q.sticky_wait, q.default_handle_time})
      if (d < Duration::zero()) return invalid(who + ": durations must be >= 0");
    if (q.max_length < 0) return invalid(who + ": max_length must be >= 0");
    if (q.ring_all_limit < 1) return invalid(who + ": ring_all_limit must be >= 1");
    if (q.aging_per_minute < 0 || !std::isfinite(q.aging_per_minute))
      return invalid(who + ": aging_per_minute must be a finite number >= 0");
    if (q.vip_boost < 0) return invalid(who + ": vip_boost must be >= 0");
    Duration prev{0};
    for (const auto& step : q.escalation) {
      if (step.after <= prev && !(prev == Duration::zero() && step.after > Duration::zero()))
        return invalid(who + ": escalation steps must have strictly increasing 'after' > 0");
      prev = step.after;
      if (step.relax_min_level < 0 || step.relax_min_level > kMaxProficiency)
        return invalid(who + ": escalation relax_min_level out of range (expected 0..10)");
      if (step.max_tier < 0 || step.max_tier > kMaxTier)
        return invalid(who + ": escalation max_tier out of range (expected 0..9)");
    }
    const auto& o = q.overflow;
    if (o.enabled) {
      if (o.min_calls < 1) return invalid(who + ": overflow min_calls must be >= 1");
      if (o.max_tier < 1 || o.max_tier > kMaxTier)
        return invalid(who + ": overflow max_tier out of range (expected 1..9)");
      if (o.clear_below_calls < 0 || o.clear_below_calls > o.min_calls)
        return invalid(who + ": overflow clear_below_calls must be in 0..min_calls (hysteresis)");
      if (o.sustain <= Duration::zero() || o.clear_after <= Duration::zero() ||
          o.min_wait < Duration::zero())
        return invalid(who + ": overflow sustain and clear_after must be > 0, min_wait >= 0");
    }
    for (const ExitDestination* d : {&q.on_timeout, &q.on_full, &q.on_empty}) {
      if (d->kind != ExitDestination::Kind::kQueue) continue;
      auto it = queue_tenant.find(d->queue.value);
      if (!d->queue.valid() || it == queue_tenant.end())
        return invalid(who + ": exit to an unknown queue");
      if (it->second != q.tenant) return invalid(who + ": exit to a queue of another tenant");
      if (d->queue == q.id) return invalid(who + ": exit to itself");
    }
  }
  // Routing rules compile against their tenant's names; a queue routes either by rules or
  // by skill escalation and overflow.
  std::unordered_map<std::uint32_t, rules::Schema> schemas;
  for (const auto& q : cfg.queues) {
    if (!q.routing.enabled()) continue;
    const std::string who = "queue '" + q.name + "'";
    if (!q.escalation.empty())
      return invalid(who + ": a queue with routing steps has no escalation steps");
    if (q.overflow.enabled)
      return invalid(who + ": a queue with routing steps has no overflow rule (use agent.tier)");
    auto schema = schemas.find(q.tenant.value);
    if (schema == schemas.end())
      schema = schemas.emplace(q.tenant.value, tenant_rules_schema(cfg, q.tenant)).first;
    auto compiled = compile_queue_routing(q.routing, schema->second);
    if (const auto* error = std::get_if<RoutingRuleError>(&compiled))
      return invalid(who + ": " + error->to_string());
  }
  std::set<std::pair<std::uint32_t, std::uint32_t>> pairs;
  for (const auto& m : cfg.members) {
    auto qt = queue_tenant.find(m.queue.value);
    auto at = agent_tenant.find(m.agent.value);
    const std::string who = "member (queue " + std::to_string(m.queue.value) + ", agent " +
                            std::to_string(m.agent.value) + ")";
    if (qt == queue_tenant.end() || at == agent_tenant.end())
      return invalid(who + ": unknown queue or agent");
    if (qt->second != at->second)
      return invalid(who + ": agent and queue belong to different tenants");
    if (m.tier < 1 || m.tier > kMaxTier)
      return invalid(who + ": tier out of range (expected 1..9)");
    if (m.weight < 1) return invalid(who + ": weight must be >= 1");
    if (!pairs.emplace(m.queue.value, m.agent.value).second) return invalid(who + ": listed twice");
  }
  return Status::ok();
}

void RoutingCore::Impl::build_steps(QueueRt& q) {
  q.steps.clear();
  if (q.cfg.routing.enabled()) {
    // Routing steps: the targets decide who may take a call, tiers included.
    for (const auto& step : q.cfg.routing.steps) {
      StepRule rule;
      rule.after = step.after;
      rule.max_tier = kMaxTier;
      q.steps.push_back(rule);
    }
    return;
  }
  StepRule rule;
  q.steps.push_back(rule);
  for (const auto& step : q.cfg.escalation) {
    rule.after = step.after;
    rule.relax += step.relax_min_level;
    rule.drop_optional = rule.drop_optional || step.drop_optional_skills;
    if (step.max_tier > 0) rule.max_tier = std::max(rule.max_tier, step.max_tier);
    q.steps.push_back(rule);
  }
}

Status RoutingCore::Impl::apply_config(const CoreConfig& cfg) {
  if (Status st = validate(cfg); !st) return st;
  for (auto& a : agents)
    if (a.exists && a.state == AgentState::kReady) unindex_ready(a);

  auto grow = [](auto& vec, std::uint32_t id) {
    if (vec.size() <= id) vec.resize(id + 1);
  };
  // Tenants and skills.
  for (auto& t : tenants) t.exists = false;
  for (const auto& tc : cfg.tenants) {
    grow(tenants, tc.id.value);
    tenants[tc.id.value].cfg = tc;
    tenants[tc.id.value].exists = true;
  }
  skills = cfg.skills;
  // Teams.
  std::vector<bool> team_seen(teams.size(), false);
  for (const auto& tc : cfg.teams) {
    grow(teams, tc.id.value);
    team_seen.resize(teams.size(), false);
    team_seen[tc.id.value] = true;
    TeamRt& t = teams[tc.id.value];
    t.cfg = tc;
    t.exists = true;
    t.break_reasons.clear();
    for (const auto& r : tc.break_policy.reasons)
      if (auto id = intern(r)) t.break_reasons.push_back(*id);
  }
  for (std::size_t i = 0; i < teams.size(); ++i)
    if (!team_seen[i] && teams[i].exists) {
      for (AgentId id : teams[i].waitlist) agents[id.value].waitlisted = false;
      teams[i] = TeamRt{};
    }
  // Queues: removed ones close and finish serving the calls they hold.
  std::vector<bool> queue_seen(queues.size(), false);
  max_sticky_window = Duration::zero();
  for (const auto& qc : cfg.queues) {
    grow(queues, qc.id.value);
    queue_seen.resize(queues.size(), false);
    queue_seen[qc.id.value] = true;
    QueueRt& q = queues[qc.id.value];
    q.overflow_rule_changed = !q.exists || !(q.cfg.overflow == qc.overflow);
    q.cfg = qc;
    q.exists = true;
    q.closed = false;
    build_steps(q);
    max_sticky_window = std::max(max_sticky_window, qc.sticky_window);
  }
  for (std::size_t i = 0; i < queues.size(); ++i)
    if (!queue_seen[i] && queues[i].exists) queues[i].closed = true;
  // Agents: removed ones retire (logged out now if idle, else after their call).
  std::vector<bool> agent_seen(agents.size(), false);
  for (const auto& ac : cfg.agents) {
    grow(agents, ac.id.value);
    agent_seen.resize(agents.size(), false);
    agent_seen[ac.id.value] = true;
    AgentRt& a = agents[ac.id.value];
    if (!a.exists) a = AgentRt{};
    a.cfg = ac;
    a.exists = true;
    a.retiring = false;
  }
  for (std::size_t i = 0; i < agents.size(); ++i)
    if (!agent_seen[i] && agents[i].exists) agents[i].retiring = true;

  // Memberships: from the configuration for open queues; closed queues keep theirs.
  std::vector<std::vector<Membership>> kept(agents.size());
  for (std::size_t i = 0; i < agents.size(); ++i)
    for (const auto& m : agents[i].memberships)
      if (queues[m.queue].exists && queues[m.queue].closed) kept[i].push_back(m);
  for (auto& q : queues)
    if (!q.closed) q.members.clear();
  for (const auto& mc : cfg.members) {
    QueueRt& q = queues[mc.queue.value];
    Membership m;
    m.queue = mc.queue.value;
    m.tier = mc.tier;
    m.penalty = mc.penalty;
    m.queue_priority = mc.queue_priority;
    m.weight = mc.weight;
    m.position = static_cast<int>(q.members.size());
    q.members.push_back(mc.agent.value);
    kept[mc.agent.value].push_back(m);
  }
  for (std::size_t i = 0; i < agents.size(); ++i) {
    AgentRt& a = agents[i];
    if (!a.exists) continue;
    a.memberships = std::move(kept[i]);
    if (a.retiring) {  // a retiring agent no longer serves open queues
      std::erase_if(a.memberships, [&](const Membership& m) { return !queues[m.queue].closed; });
    }
    for (auto& m : a.memberships) {
      m.indexed = false;
      m.in_ready_set = false;
      compute_gaps(a, queues[m.queue], m);
    }
    std::stable_sort(a.memberships.begin(), a.memberships.end(),
                     [](const Membership& x, const Membership& y) {
                       return x.queue_priority < y.queue_priority;
                     });
  }
  build_rules(cfg);
  for (auto& q : queues) q.logged_in_members = 0;
  for (auto& a : agents)
    if (a.exists && a.state != AgentState::kLoggedOut)
      for (auto& m : a.memberships) ++queues[m.queue].logged_in_members;
  // Break accounting against the (possibly new) policies.
  for (auto& t : teams) t.on_break = 0;
  for (auto& a : agents) {
    if (!a.exists) continue;
    TeamRt* team = team_of(a);
    const bool counted =
        team != nullptr && a.state == AgentState::kNotReady && is_break_reason(*team, a.reason);
    if (counted) ++team->on_break;
    if (counted && !a.on_counted_break) a.break_since = now();
    a.on_counted_break = counted;
    if (team == nullptr) a.waitlisted = false;
  }

  // Waiting calls: re-derive escalation step, rank and timers under the new rules.
  for (auto& q : queues) {
    q.waiting.assign(q.steps.size(), {});
    q.waiting_count = 0;
    q.over_threshold = 0;
    clear_ready_index(q);
  }
  const TimePoint t = now();
  for (auto& [id, c] : calls) {
    if (!c->in_queue) continue;
    QueueRt& q = queues[c->queue];
    int step = 0;
    while (static_cast<std::size_t>(step) + 1 < q.steps.size() &&
           q.steps[static_cast<std::size_t>(step) + 1].after <= t - c->enqueued)
      ++step;
    c->step = step;
    c->key.rank = rank_of(q, c->spec, c->enqueued);
    if (!q.cfg.overflow.enabled) c->over_threshold = false;
    if (c->over_threshold) ++q.over_threshold;
    if (c->phase == CallPhase::kWaiting) insert_waiting(*c);
    ++c->gen;
    schedule_call_timers(*c);
  }
  for (auto& a : agents)
    if (a.exists && voice_available(a)) index_ready(a);
  for (auto& q : queues) {
    if (!q.exists) continue;
    if (!q.overflow_rule_changed) {
      // Same rule: the running sustain/clear countdown continues; only a changed count matters.
      reevaluate_overflow(q);
      continue;
    }
    q.trend = Trend::kNeutral;
    ++q.overflow_gen;
    if (!q.cfg.overflow.enabled) q.overflow_tier = 1;
    q.overflow_tier = std::min(q.overflow_tier, std::max(1, q.cfg.overflow.max_tier));
    reevaluate_overflow(q);
  }
  // Retire idle removed agents now; the rest when their call ends.
  for (auto& a : agents)
    if (a.exists && a.retiring &&
        (a.state == AgentState::kReady || a.state == AgentState::kNotReady ||
         a.state == AgentState::kWrapUp || a.state == AgentState::kLoggedOut)) {
      if (a.state == AgentState::kLoggedOut) {
        a.memberships.clear();
        a.exists = false;
      } else {
        do_logout(a, Cause::kSystem);
      }
    }
  for (auto& q : queues)
    if (q.exists) route_waiting_calls(q);
  for (auto& q : queues) delete_closed_queue_if_empty(q);
  return Status::ok();
}

// =====================================================================================
// 7. Reads, snapshot, invariants
// =====================================================================================

QueueSnapshot RoutingCore::Impl::queue_snapshot(const QueueRt& q, TimePoint t) const {
  QueueSnapshot s;
  s.id = q.cfg.id;
  s.tenant = q.cfg.tenant;
  s.name = q.cfg.name;
  s.waiting = q.waiting_count;
  s.offering = q.offering_count;
  s.overflow_tier = q.overflow_tier;
  s.counters = q.counters;
  for (const auto& step : q.waiting)
    for (const WaitKey& k : step) s.longest_wait = std::max(s.longest_wait, t - k.ptr->enqueued);
  s.tasks_waiting = static_cast<int>(q.waiting_tasks.size());
  s.tasks_offered = q.tasks_offered;
  s.tasks_accepted = q.tasks_accepted;
  for (const TaskKey& k : q.waiting_tasks)
    s.longest_task_wait = std::max(s.longest_task_wait, t - k.ptr->enqueued);
  int serving = 0;
  for (std::uint32_t ai : q.members) {
    const AgentRt& a = agents[ai];
    if (!a.exists || a.state == AgentState::kLoggedOut) continue;
    ++s.members_logged_in;
    if (voice_available(a))
      ++s.members_ready;
    else if (a.state != AgentState::kNotReady)
      ++s.members_busy;
    if (a.state != AgentState::kNotReady) ++serving;
  }
  const Duration aht = q.counters.handled > 0 ? s.aht() : q.cfg.default_handle_time;
  if (s.waiting + s.offering > 0 || s.members_ready == 0)
    s.estimated_wait = aht * (s.waiting + s.offering + 1) / std::max(1, serving);
  return s;
}

CoreSnapshot RoutingCore::Impl::snapshot() const {
  CoreSnapshot snap;
  const TimePoint t = now();
  snap.at = t;
  snap.calls_in_system = static_cast<int>(calls.size());
  snap.tasks_in_system = static_cast<int>(tasks.size());
  snap.reasons = reason_names;
  std::vector<Duration> offering_wait(queues.size(), Duration::zero());
  for (const auto& [id, c] : calls)
    if (c->in_queue && c->phase == CallPhase::kOffering)
      offering_wait[c->queue] = std::max(offering_wait[c->queue], t - c->enqueued);
  for (std::size_t i = 0; i < queues.size(); ++i) {
    if (!queues[i].exists) continue;
    snap.queues.push_back(queue_snapshot(queues[i], t));
    snap.queues.back().longest_wait = std::max(snap.queues.back().longest_wait, offering_wait[i]);
  }
  for (std::size_t i = 0; i < agents.size(); ++i) {
    const AgentRt& a = agents[i];
    if (!a.exists) continue;
    AgentSnapshot s;
    s.id = AgentId(static_cast<std::uint32_t>(i));
    s.tenant = a.cfg.tenant;
    s.name = a.cfg.name;
    s.state = a.state;
    s.reason = a.reason;
    s.call_kind = a.call_kind;
    s.call = a.call;
    s.state_since = a.since;
    s.idle_since = a.idle_since;
    s.tasks = a.task_load;
    AgentRt copy_for_accounting;
    copy_for_accounting.state = a.state;
    copy_for_accounting.reason = a.reason;
    copy_for_accounting.accounted_since = a.accounted_since;
    copy_for_accounting.counters = a.counters;
    copy_for_accounting.last_queue = UINT32_MAX;
    const_cast<Impl*>(this)->account_leave(copy_for_accounting, t);
    s.counters = std::move(copy_for_accounting.counters);
    snap.agents.push_back(std::move(s));
  }
  return snap;
}

Status RoutingCore::Impl::check_invariants() const {
  const TimePoint t = now();
  auto fail = [](std::string m) { return Status(ErrorCode::kInvalidState, std::move(m)); };
  std::unordered_map<std::uint32_t, CallId> holder;
  auto hold = [&](AgentId a, CallId c) -> bool {
    auto [it, inserted] = holder.emplace(a.value, c);
    return inserted || it->second == c;
  };
  std::vector<int> waiting(queues.size(), 0), offering(queues.size(), 0);
  for (const auto& [id, cp] : calls) {
    const CallRt& c = *cp;
    const std::string cs = "call " + std::to_string(id.value);
    if (c.phase == CallPhase::kWaiting || c.phase == CallPhase::kOffering) {
      if (!c.in_queue) return fail(cs + " waits but is in no queue");
      const QueueRt& q = queues[c.queue];
      if (c.phase == CallPhase::kWaiting) {
        ++waiting[c.queue];
        if (!q.waiting[static_cast<std::size_t>(c.step)].count(c.key))
          return fail(cs + " is missing from its queue's waiting list");
      } else {
        ++offering[c.queue];
        if (c.offered.empty()) return fail(cs + " is offering to nobody");
        for (AgentId a : c.offered) {
          const AgentRt& ag = agents[a.value];
          if (ag.call != id ||
              (ag.state != AgentState::kReserved && ag.state != AgentState::kRinging))
            return fail(cs + " offered to agent " + ag.cfg.name + " who is " + to_string(ag.state));
          if (!hold(a, id)) return fail("agent " + ag.cfg.name + " holds two calls");
        }
      }
    } else {
      const AgentRt& ag = agents[c.agent.value];
      if (c.consult_for.valid()) {
        // A consultation: its originator is on the inbound call it was placed for.
        const CallRt* in = find_call(c.consult_for);
        if (in == nullptr || in->consult != id || in->agent != c.agent ||
            in->phase != CallPhase::kConnected || c.kind == CallKind::kInbound)
          return fail(cs + " is a consultation of no connected call of agent " + ag.cfg.name);
      } else {
        if (ag.call != id) return fail(cs + " is not the call of its agent " + ag.cfg.name);
        const bool ok = c.phase == CallPhase::kDialing
                            ? ag.state == AgentState::kDialing
                            : (ag.state == AgentState::kTalking || ag.state == AgentState::kHeld);
        if (!ok) return fail(cs + " agent " + ag.cfg.name + " is " + to_string(ag.state));
        if (!hold(c.agent, id)) return fail("agent " + ag.cfg.name + " holds two calls");
      }
      if (c.callee.valid()) {
        const AgentRt& b = agents[c.callee.value];
        if (!hold(c.callee, id)) return fail("agent " + b.cfg.name + " holds two calls");
        const AgentState want =
            c.phase == CallPhase::kDialing ? AgentState::kRinging : AgentState::kTalking;
        if (b.call != id || b.state != want)
          return fail(cs + " callee " + b.cfg.name + " is " + to_string(b.state));
      }
      if (c.consult.valid()) {
        const CallRt* k = find_call(c.consult);
        if (k == nullptr || k->consult_for != id)
          return fail(cs + " names consultation call " + std::to_string(c.consult.value) +
                      " that is not its own");
      }
    }
    if (c.consult.valid() && c.phase != CallPhase::kConnected)
      return fail(cs + " has a consultation call but is not connected");
    if (c.directed && c.in_queue && sticky_active(c, t)) {
      const AgentRt* p = find_agent(c.preferred);
      if (p == nullptr || std::find(p->directed_calls.begin(), p->directed_calls.end(), id) ==
                              p->directed_calls.end())
        return fail(cs + " is directed to an agent who does not list it");
    }
  }
  for (std::size_t qi = 0; qi < queues.size(); ++qi) {
    const QueueRt& q = queues[qi];
    std::size_t in_sets = 0;
    for (const auto& step : q.waiting) in_sets += step.size();
    if (static_cast<int>(in_sets) != q.waiting_count || q.waiting_count != waiting[qi])
      return fail("queue " + q.cfg.name + " waiting count mismatch");
    if (q.offering_count != offering[qi])
      return fail("queue " + q.cfg.name + " offering count mismatch");
  }
  std::vector<int> logged_in(queues.size(), 0);
  for (std::size_t i = 0; i < agents.size(); ++i) {
    const AgentRt& a = agents[i];
    if (!a.exists) continue;
    const std::string as = "agent " + a.cfg.name;
    if (is_on_call(a.state) && (!a.call.valid() || !holder.count(static_cast<std::uint32_t>(i))))
      return fail(as + " is " + to_string(a.state) + " without a call");
    if (!is_on_call(a.state) && holder.count(static_cast<std::uint32_t>(i)))
      return fail(as + " is " + to_string(a.state) + " but holds a call");
    for (const auto& m : a.memberships) {
      if (a.state != AgentState::kLoggedOut) ++logged_in[m.queue];
      const bool should = voice_available(a) && m.required_gap < kNeverEligible;
      if (should != m.indexed) return fail(as + " ready-index mismatch");
      const QueueRt& q = queues[m.queue];
      if (m.indexed && m.in_ready_set != (q.rules == nullptr))
        return fail(as + " indexed in the wrong ready index of " + q.cfg.name);
      if (m.indexed && m.in_ready_set && !q.buckets[m.bucket].agents.count(m.key))
        return fail(as + " missing from its ready bucket");
      if (m.indexed && q.rules != nullptr &&
          (m.rule_ready_pos >= q.rule_ready.size() || q.rule_ready[m.rule_ready_pos].key != m.key ||
           q.rule_ready[m.rule_ready_pos].bucket != m.bucket ||
           q.rule_ready[m.rule_ready_pos].idle_from != std::max(a.idle_since, a.task_idle_since) ||
           q.rule_ready[m.rule_ready_pos].facts !=
               (a.rule_facts ? &a.rule_facts->facts() : nullptr) ||
           a.tasks_in_hand != 0 ||
           m.key.member != static_cast<std::size_t>(&m - a.memberships.data())))
        return fail(as + " missing from the flat ready index of " + q.cfg.name);
    }
  }
  for (const QueueRt& q : queues) {
    std::size_t in_buckets = 0;
    for (const auto& b : q.buckets) in_buckets += b.agents.size();
    if (q.rules != nullptr && in_buckets != 0)
      return fail("queue " + q.cfg.name + " routes by rules but has agents in its bucket sets");
    if (q.rules == nullptr && !q.rule_ready.empty())
      return fail("queue " + q.cfg.name + " routes by skills but has a flat ready index");
    const std::size_t width = q.rules != nullptr ? q.rules->static_order_keys : 0;
    if (q.rule_ready_width != width)
      return fail("queue " + q.cfg.name + " flat ready index width mismatch");
    if (q.rule_ready_static.size() != q.rule_ready.size() * width)
      return fail("queue " + q.cfg.name + " flat ready index keys size mismatch");
    for (std::size_t i = 0; i < q.rule_ready.size() && width > 0; ++i) {
      const RuleReady& r = q.rule_ready[i];
      const Membership& m = agents[r.key.agent].memberships[r.key.member];
      if (!std::equal(
              q.rule_static_keys.begin() + static_cast<std::ptrdiff_t>(m.rule_row * width),
              q.rule_static_keys.begin() + static_cast<std::ptrdiff_t>((m.rule_row + 1) * width),
              q.rule_ready_static.begin() + static_cast<std::ptrdiff_t>(i * width)))
        return fail("queue " + q.cfg.name + " flat ready index keys mismatch");
    }
  }
  for (std::size_t qi = 0; qi < queues.size(); ++qi)
    if (queues[qi].exists && queues[qi].logged_in_members != logged_in[qi])
      return fail("queue " + queues[qi].cfg.name + " logged-in count mismatch");
  for (const auto& team : teams) {
    if (!team.exists) continue;
    int on_break = 0;
    for (const auto& a : agents)
      if (a.exists && a.on_counted_break && a.cfg.team == team.cfg.id) ++on_break;
    if (on_break != team.on_break) return fail("team " + team.cfg.name + " break count mismatch");
  }
  if (Status st = check_task_invariants(); !st) return st;
  // Maximality: no waiting call could be given to a Ready agent. Only meaningful once all
  // due timers have run.
  if (!timers.empty() && timers.top().at <= t) return Status::ok();
  for (const auto& [id, cp] : calls) {
    const CallRt& c = *cp;
    if (c.phase != CallPhase::kWaiting) continue;
    if (c.directed && directed_to(c, c.preferred, t)) {
      const AgentRt* p = find_agent(c.preferred);
      if (p != nullptr && voice_available(*p))
        return fail("call " + std::to_string(id.value) + " waits in " + queues[c.queue].cfg.name +
                    " while " + p->cfg.name + ", to whom it was transferred, is Ready");
    }
    const QueueRt& q = queues[c.queue];
    // Live rules (clock, queue figures) may admit an agent since their last evaluation;
    // they are evaluated again within kRulesReevaluation.
    if (q.rules != nullptr && q.rules->live) continue;
    for (std::uint32_t ai : q.members) {
      const AgentRt& a = agents[ai];
      if (!a.exists || !voice_available(a)) continue;
      for (const auto& m : a.memberships)
        if (m.queue == c.queue && m.required_gap < kNeverEligible &&
            eligible(a, AgentId(ai), m, c, q, t))
          return fail("call " + std::to_string(id.value) + " waits in " + q.cfg.name +
                      " while eligible agent " + a.cfg.name + " is Ready");
    }
  }
  return Status::ok();
}

// =====================================================================================
// Public API
// =====================================================================================

RoutingCore::RoutingCore(Clock& clock, Random& random, CoreObserver* observer)
    : impl_(std::make_unique<Impl>(clock, random, observer)) {
  impl_->epoch = clock.now();
}

RoutingCore::~RoutingCore() = default;

Status RoutingCore::apply_config(const CoreConfig& config) {
  return impl_->apply_config(config);
}

Status RoutingCore::login(AgentId agent, bool ready, Cause cause) {
  AgentRt* ag = impl_->find_agent(agent);
  if (ag == nullptr) return Impl::not_found("agent", agent.value);
  if (ag->retiring)
    return {ErrorCode::kInvalidState,
            "agent '" + ag->cfg.name + "' was removed from the configuration"};
  if (ag->state != AgentState::kLoggedOut) return Impl::bad_state(*ag, "log in", "LoggedOut");
  if (ready)
    impl_->make_ready(*ag, cause);
  else
    impl_->set_state(*ag, AgentState::kNotReady, cause, impl_->kLogin);
  return Status::ok();
}

Status RoutingCore::logout(AgentId agent, Cause cause) {
  AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return Impl::not_found("agent", agent.value);
  switch (a->state) {
    case AgentState::kLoggedOut: return Impl::bad_state(*a, "log out", "any logged-in state");
    case AgentState::kReady:
    case AgentState::kNotReady:
    case AgentState::kWrapUp: {
      // Offered tasks are withdrawn; accepted ones are the agent's work in progress.
      int accepted = 0;
      for (const auto& [id, k] : impl_->tasks)
        if (k->agent == agent && k->phase == TaskPhase::kAccepted) ++accepted;
      if (accepted > 0 && cause == Cause::kAgent)
        return {ErrorCode::kInvalidState,
                "agent '" + a->cfg.name + "' has " + std::to_string(accepted) +
                    " accepted task(s): complete or transfer them before logging out"};
      impl_->do_logout(*a, cause);
      return Status::ok();
    }
    default:
      if (cause != Cause::kSupervisor && cause != Cause::kSystem)
        return Impl::bad_state(*a, "log out", "Ready, NotReady or WrapUp; the agent is on a call");
      a->logout_pending = true;
      if (a->call_kind == CallKind::kInbound &&
          (a->state == AgentState::kReserved || a->state == AgentState::kRinging)) {
        if (CallRt* c = impl_->find_call(a->call))
          impl_->end_offer(*c, agent, OfferEndReason::kWithdrawn, /*requeue=*/true);
      }
      return Status::ok();
  }
}

Status RoutingCore::set_ready(AgentId agent, Cause cause) {
  AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return Impl::not_found("agent", agent.value);
  if (a->state != AgentState::kNotReady && a->state != AgentState::kWrapUp)
    return Impl::bad_state(*a, "become Ready", "NotReady or WrapUp");
  if (a->state == AgentState::kWrapUp) {
    ++a->wrap_gen;
    a->call = CallId{};
    a->call_kind = CallKind::kNone;
  }
  a->pending_not_ready.reset();
  impl_->make_ready(*a, cause);
  return Status::ok();
}

Status RoutingCore::set_not_ready(AgentId agent, std::string_view reason, Cause cause) {
  AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return Impl::not_found("agent", agent.value);
  if (reason.empty() || reason.size() > 64)
    return {ErrorCode::kInvalidArgument, "reason code must be 1 to 64 characters"};
  if (a->state == AgentState::kLoggedOut)
    return Impl::bad_state(*a, "become NotReady", "a logged-in state");
  if (is_on_call(a->state) && cause != Cause::kSupervisor)
    return Impl::bad_state(*a, "become NotReady",
                           "Ready, NotReady or WrapUp; the agent is on a call");
  // Interned only once the request is acceptable: refused requests cannot fill the table.
  const auto r = impl_->intern(reason);
  if (!r) return {ErrorCode::kLimitReached, "too many distinct reason codes (at most 1024)"};
  if (is_on_call(a->state)) {
    a->pending_not_ready = *r;  // a supervisor's request, applied when the call ends  // takes
                                // effect when the call ends
    return Status::ok();
  }
  if (a->state == AgentState::kNotReady && a->reason == *r) return Status::ok();
  TeamRt* team = impl_->team_of(*a);
  if (team != nullptr && impl_->is_break_reason(*team, *r) && !a->on_counted_break &&
      !impl_->break_slot_free(*team)) {
    const auto& policy = team->cfg.break_policy;
    if (policy.over_limit == BreakPolicy::OverLimit::kRefuse || cause == Cause::kSupervisor)
      return {ErrorCode::kLimitReached, "team '" + team->cfg.name + "' already has " +
                                            std::to_string(team->on_break) +
                                            " agents on a break (at most " +
                                            std::to_string(policy.max_concurrent) + " at once)"};
    if (!a->waitlisted) {
      a->waitlisted = true;
      team->waitlist.push_back(agent);
    }
    a->waitlist_reason = *r;
    const auto pos =
        std::find(team->waitlist.begin(), team->waitlist.end(), agent) - team->waitlist.begin();
    impl_->emit(BreakWaitlisted{agent, a->cfg.tenant, a->cfg.team, *r, static_cast<int>(pos) + 1,
                                impl_->now()});
    return Status::ok();
  }
  if (a->state == AgentState::kWrapUp) {
    ++a->wrap_gen;
    a->call = CallId{};
    a->call_kind = CallKind::kNone;
  }
  if (team != nullptr && impl_->is_break_reason(*team, *r)) impl_->remove_from_waitlist(*a);
  impl_->set_state(*a, AgentState::kNotReady, cause, *r);
  return Status::ok();
}

Status RoutingCore::end_wrap_up(AgentId agent) {
  AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return Impl::not_found("agent", agent.value);
  if (a->state != AgentState::kWrapUp) return Impl::bad_state(*a, "end wrap-up", "WrapUp");
  impl_->finish_wrap_up(*a, Cause::kAgent);
  return Status::ok();
}

Status RoutingCore::set_work_mode(AgentId agent, WorkMode mode) {
  AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return Impl::not_found("agent", agent.value);
  a->cfg.work_mode = mode;
  return Status::ok();
}

Status RoutingCore::cancel_break_request(AgentId agent) {
  AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return Impl::not_found("agent", agent.value);
  if (!a->waitlisted)
    return {ErrorCode::kInvalidState, "agent '" + a->cfg.name + "' has no break request waiting"};
  impl_->remove_from_waitlist(*a);
  return Status::ok();
}

Status RoutingCore::set_agent_skills(AgentId agent, std::vector<AgentSkill> skills) {
  AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return Impl::not_found("agent", agent.value);
  std::unordered_set<std::uint32_t> seen;
  for (const auto& sk : skills) {
    auto it = std::find_if(impl_->skills.begin(), impl_->skills.end(),
                           [&](const SkillConfig& s) { return s.id == sk.skill; });
    if (it == impl_->skills.end()) return Impl::not_found("skill", sk.skill.value);
    if (it->tenant != a->cfg.tenant)
      return {ErrorCode::kPermissionDenied, "skill '" + it->name + "' belongs to another tenant"};
    if (sk.level < kMinProficiency || sk.level > kMaxProficiency)
      return {ErrorCode::kInvalidArgument, "skill '" + it->name + "': proficiency " +
                                               std::to_string(sk.level) +
                                               " out of range (expected 1..10)"};
    if (!seen.insert(sk.skill.value).second)
      return {ErrorCode::kInvalidArgument, "skill '" + it->name + "' listed twice"};
  }
  const bool ready = Impl::voice_available(*a);
  if (ready) impl_->unindex_ready(*a);
  a->cfg.skills = std::move(skills);
  for (auto& m : a->memberships) impl_->compute_gaps(*a, impl_->queues[m.queue], m);
  impl_->build_agent_rules(*a);  // routing rules read skills: their precomputed parts too
  if (ready && !impl_->route_agent(*a)) impl_->index_ready(*a);
  if (a->state == AgentState::kReady) impl_->route_agent_tasks(*a);
  return Status::ok();
}

Status RoutingCore::Impl::check_entry(const char* what, TenantId& tenant, const QueueRt& q,
                                      int priority, int vip_level,
                                      const std::vector<SkillRequirement>& extra_skills) const {
  if (!tenant.valid()) tenant = q.cfg.tenant;
  if (tenant != q.cfg.tenant)
    return {ErrorCode::kPermissionDenied,
            std::string("a ") + what + " of tenant " + std::to_string(tenant.value) +
                " cannot join queue '" + q.cfg.name + "' of another tenant"};
  if (vip_level < 0 || vip_level > 100)
    return {ErrorCode::kInvalidArgument, "vip_level out of range (expected 0..100)"};
  if (priority < -1000000 || priority > 1000000)
    return {ErrorCode::kInvalidArgument, "priority out of range (expected -1000000..1000000)"};
  for (const auto& req : extra_skills) {
    auto it = std::find_if(skills.begin(), skills.end(),
                           [&](const SkillConfig& sk) { return sk.id == req.skill; });
    if (it == skills.end()) return not_found("skill", req.skill.value);
    if (it->tenant != tenant)
      return {ErrorCode::kPermissionDenied, "skill '" + it->name + "' belongs to another tenant"};
    if (req.min_level < kMinProficiency || req.min_level > kMaxProficiency)
      return {ErrorCode::kInvalidArgument, "required proficiency out of range (expected 1..10)"};
  }
  return Status::ok();
}

Status RoutingCore::enqueue(CallSpec spec, QueueId queue) {
  CallRt* c = nullptr;
  if (Status st = impl_->add_inbound_call(std::move(spec), queue, c); !st) return st;
  return impl_->enqueue_into(*c, queue.value, true);
}

Status RoutingCore::request_callback(CallSpec spec, QueueId queue, std::string number) {
  if (number.size() > 64)
    return {ErrorCode::kInvalidArgument,
            "callback number: " + std::to_string(number.size()) + " characters (at most 64)"};
  if (const QueueRt* closed = impl_->find_queue(queue); closed != nullptr && closed->closed)
    return {ErrorCode::kInvalidState,
            "queue '" + closed->cfg.name + "' is closed (removed from the configuration)"};
  CallRt* call = nullptr;
  if (Status st = impl_->add_inbound_call(std::move(spec), queue, call); !st) return st;
  CallRt& c = *call;
  QueueRt& q = impl_->queues[queue.value];
  const TimePoint t = impl_->now();
  c.queue = queue.value;
  c.enqueued = t;
  ++q.counters.entered;
  impl_->emit(CallQueued{c.spec.id, c.spec.tenant, q.cfg.id, t, c.spec.caller_number,
                         c.spec.dialed_number, c.spec.vip_level, q.cfg.sl_threshold});
  ExitDestination callback;
  callback.kind = ExitDestination::Kind::kCallback;
  callback.target = "asked before queueing";
  callback.number = std::move(number);
  impl_->exit_call(c, ExitReason::kCallerRequest, callback);
  return Status::ok();
}

Status RoutingCore::end_before_queue(CallSpec spec, Duration in_engine, FinalState state,
                                     HangupCause cause, std::string entry) {
  if (!spec.id.valid()) return {ErrorCode::kInvalidArgument, "call id is missing"};
  if (impl_->find_call(spec.id) != nullptr)
    return {ErrorCode::kAlreadyExists,
            "call " + std::to_string(spec.id.value) + " is in a queue or with an agent"};
  const TenantId tenant = spec.tenant;
  if (!tenant.valid() || tenant.value >= impl_->tenants.size() ||
      !impl_->tenants[tenant.value].exists)
    return Impl::not_found("tenant", tenant.value);
  switch (state) {
    case FinalState::kHungUp:
    case FinalState::kVoicemail:
    case FinalState::kTransferred:
    case FinalState::kAbandoned:
    case FinalState::kCancelled: break;
    default:
      return {ErrorCode::kInvalidArgument,
              std::string("a call that never entered a queue cannot end ") + to_string(state)};
  }
  if (in_engine < Duration::zero()) return {ErrorCode::kInvalidArgument, "in_engine is negative"};
  const TimePoint t = impl_->now();
  CallEndedBeforeQueue ended;
  ended.call = spec.id;
  ended.tenant = tenant;
  ended.caller_number = std::move(spec.caller_number);
  ended.dialed_number = std::move(spec.dialed_number);
  ended.vip_level = spec.vip_level;
  ended.state = state;
  ended.cause = cause;
  ended.entry = std::move(entry);
  ended.attributes = std::move(spec.attributes);
  ended.arrived = t - in_engine;
  ended.at = t;
  impl_->emit(std::move(ended));
  return Status::ok();
}

Status RoutingCore::Impl::add_inbound_call(CallSpec spec, QueueId queue, CallRt*& added) {
  QueueRt* q = find_queue(queue);
  if (q == nullptr) return not_found("queue", queue.value);
  if (!spec.id.valid()) return {ErrorCode::kInvalidArgument, "call id is missing"};
  if (calls.count(spec.id))
    return {ErrorCode::kAlreadyExists, "call " + std::to_string(spec.id.value) + " already exists"};
  if (Status st =
          check_entry("call", spec.tenant, *q, spec.priority, spec.vip_level, spec.extra_skills);
      !st)
    return st;
  auto owned = std::make_unique<CallRt>();
  CallRt& c = *owned;
  c.spec = std::move(spec);
  c.kind = CallKind::kInbound;
  c.arrived = now();
  calls.emplace(c.spec.id, std::move(owned));
  added = &c;
  return Status::ok();
}

namespace {
Status no_call(CallId id) {
  return {ErrorCode::kNotFound, "call " + std::to_string(id.value) + " does not exist"};
}
}  // namespace

Status RoutingCore::offer_ringing(CallId call, AgentId agent) {
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  if (c->phase != CallPhase::kOffering ||
      std::find(c->offered.begin(), c->offered.end(), agent) == c->offered.end())
    return {ErrorCode::kInvalidState, "call " + std::to_string(call.value) +
                                          " is not being offered to agent " +
                                          std::to_string(agent.value)};
  AgentRt& a = impl_->agents[agent.value];
  if (a.state == AgentState::kReserved) impl_->set_state(a, AgentState::kRinging, Cause::kCall);
  return Status::ok();
}

Status RoutingCore::offer_answered(CallId call, AgentId agent) {
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  if (c->phase != CallPhase::kOffering ||
      std::find(c->offered.begin(), c->offered.end(), agent) == c->offered.end())
    return {ErrorCode::kInvalidState, "call " + std::to_string(call.value) +
                                          " is not being offered to agent " +
                                          std::to_string(agent.value)};
  const TimePoint t = impl_->now();
  QueueRt& q = impl_->queues[c->queue];
  for (AgentId other : std::vector<AgentId>(c->offered))
    if (other != agent) impl_->end_offer(*c, other, OfferEndReason::kAnsweredElsewhere, false);
  const Duration waited = t - c->enqueued;
  ++q.counters.answered;
  if (waited <= q.cfg.sl_threshold) ++q.counters.answered_in_threshold;
  q.counters.total_answer_wait += waited;
  impl_->leave_queue_accounting(*c);
  c->phase = CallPhase::kConnected;
  c->offered.clear();
  c->agent = agent;
  c->answered_at = t;
  c->talk_since = t;
  AgentRt& a = impl_->agents[agent.value];
  impl_->set_state(a, AgentState::kTalking, Cause::kCall);
  impl_->emit(CallConnected{call, c->spec.tenant, q.cfg.id, agent, waited, t});
  return Status::ok();
}

Status RoutingCore::offer_failed(CallId call, AgentId agent, OfferEndReason reason) {
  if (reason != OfferEndReason::kNoAnswer && reason != OfferEndReason::kBusy &&
      reason != OfferEndReason::kDeclined && reason != OfferEndReason::kFailed)
    return {ErrorCode::kInvalidArgument,
            "offer failure reason must be no-answer, busy, declined or failed"};
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  if (c->phase != CallPhase::kOffering ||
      std::find(c->offered.begin(), c->offered.end(), agent) == c->offered.end())
    return {ErrorCode::kInvalidState, "call " + std::to_string(call.value) +
                                          " is not being offered to agent " +
                                          std::to_string(agent.value)};
  impl_->end_offer(*c, agent, reason, /*requeue=*/true);
  return Status::ok();
}

Status RoutingCore::hang_up(CallId call, HangupCause cause) {
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  const TimePoint t = impl_->now();
  switch (c->phase) {
    case CallPhase::kOffering:
      for (AgentId a : std::vector<AgentId>(c->offered))
        impl_->end_offer(*c, a, OfferEndReason::kCallerGone, false);
      [[fallthrough]];
    case CallPhase::kWaiting: {
      QueueRt& q = impl_->queues[c->queue];
      const Duration waited = t - c->enqueued;
      ++q.counters.abandoned;
      if (waited <= q.cfg.sl_threshold) ++q.counters.abandoned_in_threshold;
      impl_->leave_queue_accounting(*c);
      impl_->finish(*c, FinalState::kAbandoned, waited, cause);
      return Status::ok();
    }
    case CallPhase::kDialing:
      if (c->consult_for.valid())
        impl_->end_consult(*c, cause);
      else
        impl_->end_dial(*c, cause);
      return Status::ok();
    case CallPhase::kConnected: {
      if (c->consult_for.valid()) {  // a consultation call: its originator stays on theirs
        impl_->end_consult(*c, cause);
        return Status::ok();
      }
      // The caller hung up during a consultation: the consultation ends with the call.
      if (CallRt* k = impl_->find_call(c->consult)) impl_->end_consult(*k, HangupCause::kSystem);
      AgentRt& a = impl_->agents[c->agent.value];
      if (c->kind == CallKind::kInbound) {
        QueueRt& q = impl_->queues[c->queue];
        const bool manual = q.cfg.manual_wrap_up;
        const Duration wrap = q.cfg.wrap_up;
        const Duration waited = c->answered_at - c->enqueued;
        impl_->remember_agent(*c);
        impl_->finish(*c, FinalState::kCompleted, waited, cause);  // `c` is gone from here on
        ++q.counters.handled;
        ++a.counters.handled;
        a.last_queue = static_cast<std::uint32_t>(&q - impl_->queues.data());
        impl_->after_call(a, wrap, manual);
      } else {
        const AgentId callee = c->callee;
        impl_->finish(*c, FinalState::kCompleted, Duration::zero(), cause);
        ++a.counters.outbound;
        a.last_queue = UINT32_MAX;
        impl_->after_call(a, a.cfg.outbound_wrap_up, false);
        if (AgentRt* b = impl_->find_agent(callee)) {
          b->last_queue = UINT32_MAX;
          impl_->after_call(*b, Duration::zero(), false);
        }
      }
      return Status::ok();
    }
  }
  return Status::ok();
}

Status RoutingCore::leave_queue(CallId call, ExitDestination destination) {
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  if (!c->in_queue)
    return {ErrorCode::kInvalidState, "call " + std::to_string(call.value) + " is not in a queue"};
  if (destination.kind == ExitDestination::Kind::kQueue) {
    QueueRt* target = impl_->find_queue(destination.queue);
    if (target == nullptr) return Impl::not_found("queue", destination.queue.value);
    if (target->cfg.tenant != c->spec.tenant)
      return {ErrorCode::kPermissionDenied,
              "queue '" + target->cfg.name + "' belongs to another tenant"};
    if (destination.queue.value == c->queue)
      return {ErrorCode::kInvalidArgument, "the call is already in that queue"};
  }
  for (AgentId a : std::vector<AgentId>(c->offered))
    impl_->end_offer(*c, a, OfferEndReason::kWithdrawn, false);
  impl_->exit_call(*c, ExitReason::kCallerRequest, destination);
  return Status::ok();
}

Status RoutingCore::hold(CallId call) {
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  if (c->phase != CallPhase::kConnected || c->held)
    return {ErrorCode::kInvalidState,
            "call " + std::to_string(call.value) + " is not connected and talking"};
  if (c->consult_for.valid())
    return {ErrorCode::kInvalidState, "call " + std::to_string(call.value) +
                                          " is a consultation call: hold applies to call " +
                                          std::to_string(c->consult_for.value)};
  c->held = true;
  c->hold_started = impl_->now();
  impl_->set_state(impl_->agents[c->agent.value], AgentState::kHeld, Cause::kAgent);
  return Status::ok();
}

Status RoutingCore::retrieve(CallId call) {
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  if (c->phase != CallPhase::kConnected || !c->held)
    return {ErrorCode::kInvalidState, "call " + std::to_string(call.value) + " is not on hold"};
  c->held = false;
  c->hold_total += impl_->now() - c->hold_started;
  impl_->set_state(impl_->agents[c->agent.value], AgentState::kTalking, Cause::kAgent);
  return Status::ok();
}

namespace {
Status consult_in_progress(const CallRt& c) {
  return {ErrorCode::kInvalidState,
          "call " + std::to_string(c.spec.id.value) + " has consultation call " +
              std::to_string(c.consult.value) +
              " in progress: complete the attended transfer or end the consultation first"};
}
}  // namespace

Status RoutingCore::transfer_to_queue(CallId call, QueueId queue, AgentId preferred, Cause cause) {
  Impl& im = *impl_;
  CallRt* c = im.find_call(call);
  if (c == nullptr) return no_call(call);
  if (Status s = im.check_transferable(*c, "transferred"); !s) return s;
  if (c->consult.valid()) return consult_in_progress(*c);
  QueueRt* q = im.find_queue(queue);
  if (q == nullptr) return Impl::not_found("queue", queue.value);
  const std::string qs = "queue '" + q->cfg.name + "'";
  if (q->cfg.tenant != c->spec.tenant)
    return {ErrorCode::kPermissionDenied, qs + " belongs to another tenant"};
  if (q->closed)
    return {ErrorCode::kInvalidState,
            qs + " was removed from the configuration and takes no new calls"};
  if (!q->cfg.join_when_empty && q->logged_in_members == 0)
    return {ErrorCode::kInvalidState,
            qs + " takes no calls while none of its members is logged in (join_when_empty off)"};
  if (q->cfg.max_length > 0 && q->waiting_count + q->offering_count >= q->cfg.max_length)
    return {ErrorCode::kLimitReached,
            qs + " is full (" + std::to_string(q->waiting_count + q->offering_count) +
                " calls, max_length " + std::to_string(q->cfg.max_length) + ")"};
  if (preferred.valid()) {
    AgentRt* p = im.find_agent(preferred);
    if (p == nullptr) return Impl::not_found("agent", preferred.value);
    if (p->cfg.tenant != c->spec.tenant)
      return {ErrorCode::kPermissionDenied,
              "agent '" + p->cfg.name + "' belongs to another tenant"};
    if (p->state == AgentState::kLoggedOut || p->retiring)
      return {ErrorCode::kInvalidState,
              "agent '" + p->cfg.name + "' is " +
                  (p->retiring ? std::string("removed from the configuration")
                               : std::string(to_string(p->state))) +
                  ": a transfer can prefer only a logged-in agent"};
  }
  const TimePoint t = im.now();
  const std::uint32_t from_qi = c->queue;
  QueueRt& from_q = im.queues[from_qi];
  const AgentId from = c->agent;
  AgentRt& a = im.agents[from.value];
  const Impl::Part part = im.close_part(*c, t);
  ++from_q.counters.handled;  // answered in that queue, and done with there
  im.remember_agent(*c);
  c->phase = CallPhase::kWaiting;  // connected to nobody, in no queue until enqueue_into
  c->agent = AgentId{};
  im.emit(CallTransferred{call, c->spec.tenant, from_q.cfg.id, queue, from, preferred,
                          CallTransferred::Kind::kQueue, t, part.talk, part.hold});
  im.release_transferring_agent(a, from_qi, cause);
  (void)im.enqueue_into(*c, queue.value, false, /*transfer=*/true, preferred);
  return Status::ok();
}

Status RoutingCore::transfer_external(CallId call, Cause cause) {
  Impl& im = *impl_;
  CallRt* c = im.find_call(call);
  if (c == nullptr) return no_call(call);
  if (Status s = im.check_transferable(*c, "transferred"); !s) return s;
  if (c->consult.valid()) return consult_in_progress(*c);
  const TimePoint t = im.now();
  const std::uint32_t qi = c->queue;
  QueueRt& q = im.queues[qi];
  AgentRt& a = im.agents[c->agent.value];
  const Impl::Part part = im.close_part(*c, t);
  im.emit(CallTransferred{call, c->spec.tenant, q.cfg.id, QueueId{}, c->agent, AgentId{},
                          CallTransferred::Kind::kExternal, t, part.talk, part.hold});
  im.remember_agent(*c);
  ++q.counters.handled;
  c->phase = CallPhase::kWaiting;  // connected to nobody here any more: nothing left to account
  im.finish(*c, FinalState::kTransferred, c->answered_at - c->enqueued,
            HangupCause::kTransfer);  // `c` is gone
  im.release_transferring_agent(a, qi, cause);
  return Status::ok();
}

Status RoutingCore::complete_attended_transfer(CallId call, CallId consult) {
  Impl& im = *impl_;
  CallRt* c = im.find_call(call);
  if (c == nullptr) return no_call(call);
  CallRt* k = im.find_call(consult);
  if (k == nullptr) return no_call(consult);
  if (Status s = im.check_transferable(*c, "transferred"); !s) return s;
  const std::string ks = "call " + std::to_string(consult.value);
  if (k->kind != CallKind::kOutbound && k->kind != CallKind::kInternal)
    return {ErrorCode::kInvalidArgument,
            ks + " is an inbound call: the consultation must be a call the agent placed"};
  if (k->spec.tenant != c->spec.tenant)
    return {ErrorCode::kPermissionDenied, "calls " + std::to_string(call.value) + " and " +
                                              std::to_string(consult.value) +
                                              " belong to different tenants"};
  AgentRt& a = im.agents[c->agent.value];
  if (k->consult_for != call || k->agent != c->agent)
    return {ErrorCode::kInvalidArgument, ks + " is not a consultation call placed by agent '" +
                                             a.cfg.name + "' during call " +
                                             std::to_string(call.value)};
  if (k->phase != CallPhase::kConnected)
    return {ErrorCode::kInvalidState, "consultation " + ks + " is " + phase_text(k->phase) +
                                          ": only an answered consultation can take the call"};
  AgentRt* b = k->kind == CallKind::kInternal ? im.find_agent(k->callee) : nullptr;
  if (k->kind == CallKind::kInternal && b == nullptr)
    return {ErrorCode::kInvalidState, ks + ": the consulted agent no longer exists"};

  const TimePoint t = im.now();
  const std::uint32_t qi = c->queue;
  QueueRt& q = im.queues[qi];
  const AgentId from = c->agent;
  const AgentId to = b != nullptr ? k->callee : AgentId{};
  const Impl::Part part = im.close_part(*c, t);
  im.emit(CallTransferred{call, c->spec.tenant, q.cfg.id, QueueId{}, from, to,
                          CallTransferred::Kind::kAttended, t, part.talk, part.hold});
  c->consult = CallId{};
  if (b != nullptr) {
    // The consulted agent keeps talking, now to the caller: their handling starts here.
    c->agent = to;
    b->call = call;
    b->call_kind = CallKind::kInbound;
    k->callee = AgentId{};
    im.finish(*k, FinalState::kCompleted, Duration::zero(), HangupCause::kTransfer);  // `k` gone
    ++a.counters.outbound;
  } else {
    im.finish(*k, FinalState::kCompleted, Duration::zero(), HangupCause::kTransfer);  // `k` gone
    ++a.counters.outbound;
    im.remember_agent(*c);
    ++q.counters.handled;
    c->phase = CallPhase::kWaiting;  // connected to nobody here any more
    im.finish(*c, FinalState::kTransferred, c->answered_at - c->enqueued,
              HangupCause::kTransfer);  // `c` is gone
  }
  im.release_transferring_agent(a, qi, Cause::kAgent);
  return Status::ok();
}

Status RoutingCore::set_call_priority(CallId call, int priority) {
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  if (c->kind != CallKind::kInbound)
    return {ErrorCode::kInvalidState, "only queued calls have a priority"};
  if (priority < -1000000 || priority > 1000000)
    return {ErrorCode::kInvalidArgument, "priority out of range (expected -1000000..1000000)"};
  const bool waiting = c->in_queue && c->phase == CallPhase::kWaiting;
  if (waiting) impl_->erase_waiting(*c);
  c->spec.priority = priority;
  if (c->in_queue) c->key.rank = impl_->rank_of(impl_->queues[c->queue], c->spec, c->enqueued);
  if (waiting) impl_->insert_waiting(*c);
  return Status::ok();
}

Status RoutingCore::start_outbound(AgentId agent, CallId call, CallKind kind, AgentId callee) {
  AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return Impl::not_found("agent", agent.value);
  if (kind != CallKind::kOutbound && kind != CallKind::kInternal)
    return {ErrorCode::kInvalidArgument, "call kind must be outbound or internal"};
  if (!call.valid()) return {ErrorCode::kInvalidArgument, "call id is missing"};
  if (impl_->calls.count(call))
    return {ErrorCode::kAlreadyExists, "call " + std::to_string(call.value) + " already exists"};
  // On a connected inbound call the agent places a consultation call.
  CallRt* consulting = nullptr;
  if ((a->state == AgentState::kTalking || a->state == AgentState::kHeld) &&
      a->call_kind == CallKind::kInbound) {
    consulting = impl_->find_call(a->call);
    if (consulting != nullptr && consulting->consult.valid())
      return {ErrorCode::kInvalidState,
              "agent '" + a->cfg.name + "' already has consultation call " +
                  std::to_string(consulting->consult.value) + " in progress (one at a time)"};
  }
  if (consulting == nullptr && a->state != AgentState::kReady && a->state != AgentState::kNotReady)
    return Impl::bad_state(*a, "place a call",
                           "Ready or NotReady, or Talking or Held on an inbound call to consult");
  AgentRt* b = nullptr;
  if (kind == CallKind::kInternal) {
    b = impl_->find_agent(callee);
    if (b == nullptr) return Impl::not_found("agent", callee.value);
    if (b->cfg.tenant != a->cfg.tenant)
      return {ErrorCode::kPermissionDenied,
              "agent '" + b->cfg.name + "' belongs to another tenant"};
    if (b == a) return {ErrorCode::kInvalidArgument, "an agent cannot call themself"};
    if (b->state != AgentState::kReady && b->state != AgentState::kNotReady)
      return {ErrorCode::kInvalidState, "agent '" + b->cfg.name + "' is " + to_string(b->state) +
                                            " and cannot take an internal call"};
  }
  auto owned = std::make_unique<CallRt>();
  CallRt& c = *owned;
  c.spec.id = call;
  c.spec.tenant = a->cfg.tenant;
  c.kind = kind;
  c.phase = CallPhase::kDialing;
  c.arrived = impl_->now();
  c.agent = agent;
  c.callee = b != nullptr ? callee : AgentId{};
  if (consulting != nullptr) {
    c.consult_for = consulting->spec.id;
    consulting->consult = call;
  }
  impl_->calls.emplace(call, std::move(owned));
  for (AgentRt* x : {a, b}) {
    if (x == nullptr || (x == a && consulting != nullptr)) continue;
    x->state_before_dial = x->state;
    x->reason_before_dial = x->reason;
    x->return_reason.reset();
    if (x->state == AgentState::kNotReady) x->return_reason = x->reason;
    x->call = call;
    x->call_kind = kind;
  }
  if (consulting == nullptr) impl_->set_state(*a, AgentState::kDialing, Cause::kAgent);
  if (b != nullptr) impl_->set_state(*b, AgentState::kRinging, Cause::kCall);
  return Status::ok();
}

Status RoutingCore::outbound_answered(CallId call) {
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  if (c->phase != CallPhase::kDialing)
    return {ErrorCode::kInvalidState,
            "call " + std::to_string(call.value) + " is not being dialled"};
  c->phase = CallPhase::kConnected;
  c->answered_at = impl_->now();
  c->talk_since = c->answered_at;
  if (!c->consult_for.valid())  // a consulting agent's state follows the call they consult for
    impl_->set_state(impl_->agents[c->agent.value], AgentState::kTalking, Cause::kCall);
  if (AgentRt* b = impl_->find_agent(c->callee))
    impl_->set_state(*b, AgentState::kTalking, Cause::kCall);
  return Status::ok();
}

Status RoutingCore::outbound_failed(CallId call) {
  CallRt* c = impl_->find_call(call);
  if (c == nullptr) return no_call(call);
  if (c->phase != CallPhase::kDialing)
    return {ErrorCode::kInvalidState,
            "call " + std::to_string(call.value) + " is not being dialled"};
  if (c->consult_for.valid())
    impl_->end_consult(*c, HangupCause::kDialFailed);
  else
    impl_->end_dial(*c, HangupCause::kDialFailed);
  return Status::ok();
}

TimePoint RoutingCore::next_deadline() const {
  return impl_->timers.empty() ? kNever : impl_->timers.top().at;
}

std::size_t RoutingCore::run_due_timers() {
  std::size_t fired = 0;
  const TimePoint t = impl_->now();
  while (!impl_->timers.empty() && impl_->timers.top().at <= t) {
    const Timer timer = impl_->timers.top();
    impl_->timers.pop();
    impl_->fire(timer);
    ++fired;
  }
  return fired;
}

CoreSnapshot RoutingCore::snapshot() const {
  return impl_->snapshot();
}

std::optional<AgentView> RoutingCore::agent(AgentId agent) const {
  const AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return std::nullopt;
  return AgentView{a->state, a->reason,     a->call_kind, a->call,
                   a->since, a->waitlisted, a->task_load};
}

std::optional<CallView> RoutingCore::call(CallId call) const {
  const CallRt* c = impl_->find_call(call);
  if (c == nullptr) return std::nullopt;
  CallView v;
  v.phase = c->phase;
  v.queue = c->queue < impl_->queues.size() ? impl_->queues[c->queue].cfg.id : QueueId{};
  v.agent = c->agent;
  v.offered_to = c->offered;
  v.escalation_step = c->step;
  v.enqueued = c->enqueued;
  if (impl_->sticky_active(*c, impl_->now())) v.preferred = c->preferred;
  v.consult = c->consult;
  v.consult_for = c->consult_for;
  if (c->in_queue && c->phase == CallPhase::kWaiting) {
    // Position: calls of the queue served before this one (at this moment's priorities).
    const QueueRt& q = impl_->queues[c->queue];
    const TimePoint t = impl_->now();
    const double mine = impl_->effective_priority(q, *c, t);
    int ahead = 0;
    for (const auto& step : q.waiting)
      for (const WaitKey& k : step)
        if (k.ptr != c && k.ptr->key < c->key) ++ahead;
    (void)mine;
    v.position = ahead + 1;
  }
  return v;
}

std::optional<QueueSnapshot> RoutingCore::queue(QueueId queue) const {
  if (!queue.valid() || queue.value >= impl_->queues.size() || !impl_->queues[queue.value].exists)
    return std::nullopt;
  const TimePoint t = impl_->now();
  QueueSnapshot s = impl_->queue_snapshot(impl_->queues[queue.value], t);
  if (s.offering == 0) return s;  // only calls being rung are outside the waiting sets
  for (const auto& [id, c] : impl_->calls)
    if (c->in_queue && c->queue == queue.value && c->phase == CallPhase::kOffering)
      s.longest_wait = std::max(s.longest_wait, t - c->enqueued);
  return s;
}

TimePoint RoutingCore::now() const {
  return impl_->now();
}

const CallSpec* RoutingCore::call_spec(CallId call) const {
  const CallRt* c = impl_->find_call(call);
  return c == nullptr ? nullptr : &c->spec;
}

std::string_view RoutingCore::agent_name(AgentId agent) const {
  const AgentRt* a = impl_->find_agent(agent);
  return a == nullptr ? std::string_view() : std::string_view(a->cfg.name);
}

std::string_view RoutingCore::queue_name(QueueId queue) const {
  if (!queue.valid() || queue.value >= impl_->queues.size()) return {};
  return impl_->queues[queue.value].cfg.name;
}

std::vector<QueueId> RoutingCore::queues_of(AgentId agent) const {
  std::vector<QueueId> out;
  const AgentRt* a = impl_->find_agent(agent);
  if (a == nullptr) return out;
  out.reserve(a->memberships.size());
  for (const auto& m : a->memberships) out.push_back(impl_->queues[m.queue].cfg.id);
  return out;
}

int RoutingCore::overflow_tier(QueueId queue) const {
  if (!queue.valid() || queue.value >= impl_->queues.size()) return 0;
  return impl_->queues[queue.value].overflow_tier;
}

std::size_t RoutingCore::calls_in_system() const {
  return impl_->calls.size();
}

std::string_view RoutingCore::reason_name(ReasonId id) const {
  if (!id.valid() || id.value >= impl_->reason_names.size()) return {};
  return impl_->reason_names[id.value];
}

Status RoutingCore::explain_route(const RouteQuery& query, RouteExplanation& out) const {
  return impl_->explain_route(query, out);
}

std::optional<ReasonId> RoutingCore::find_reason(std::string_view name) const {
  auto it = impl_->reason_ids.find(std::string(name));
  if (it == impl_->reason_ids.end()) return std::nullopt;
  return it->second;
}

void RoutingCore::reset_statistics() {
  for (auto& q : impl_->queues) q.counters = QueueCounters{};
  const TimePoint t = impl_->now();
  for (auto& a : impl_->agents) {
    a.counters = AgentCounters{};
    a.accounted_since = t;  // time in the current state counts from now
  }
}

Status RoutingCore::check_invariants() const {
  return impl_->check_invariants();
}

}  // namespace acd::core
