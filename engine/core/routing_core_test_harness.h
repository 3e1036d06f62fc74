// The test harness of the routing core's specification tests (routing_core_test.cc,
// routing_core_tasks_test.cc): a configuration builder, a recording observer, and Harness,
// which drives a RoutingCore with a ManualClock and a seeded Xoshiro256 and checks the
// core's invariants and the event stream after every step (see routing_core_test.cc).
// Test-only: each test file includes it once.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "engine/core/routing_core.h"

using namespace acd::core;
using namespace std::chrono_literals;

namespace {

AgentId A(std::uint32_t v) {
  return AgentId(v);
}
QueueId Q(std::uint32_t v) {
  return QueueId(v);
}
CallId C(std::uint64_t v) {
  return CallId(v);
}
SkillId S(std::uint32_t v) {
  return SkillId(v);
}

// ------------------------------------------------------------------ recording observer
struct Recorder final : CoreObserver {
  std::vector<CoreEvent> events;
  void on_event(const CoreEvent& e) override { events.push_back(e); }
};

// ------------------------------------------------------------------ configuration builder
// Tenant 0 exists from the start. Entities get the ids the test chooses; the returned
// references are for immediate tweaking (a later add may move the vector).
struct ConfigBuilder {
  CoreConfig c;

  ConfigBuilder() { tenant(0, "acme"); }

  void tenant(std::uint32_t id, std::string name) {
    c.tenants.push_back(TenantConfig{TenantId(id), std::move(name)});
  }
  SkillConfig& skill(std::uint32_t id, std::string name, std::uint32_t tenant_id = 0) {
    c.skills.push_back(SkillConfig{SkillId(id), TenantId(tenant_id), std::move(name)});
    return c.skills.back();
  }
  TeamConfig& team(std::uint32_t id, std::string name, std::uint32_t tenant_id = 0) {
    TeamConfig t;
    t.id = TeamId(id);
    t.tenant = TenantId(tenant_id);
    t.name = std::move(name);
    c.teams.push_back(t);
    return c.teams.back();
  }
  AgentConfig& agent(std::uint32_t id, std::uint32_t tenant_id = 0) {
    AgentConfig a;
    a.id = AgentId(id);
    a.tenant = TenantId(tenant_id);
    a.name = "agent" + std::to_string(id);
    a.extension = std::to_string(1000 + id);
    c.agents.push_back(a);
    return c.agents.back();
  }
  QueueConfig& queue(std::uint32_t id, std::uint32_t tenant_id = 0) {
    QueueConfig q;
    q.id = QueueId(id);
    q.tenant = TenantId(tenant_id);
    q.name = "queue" + std::to_string(id);
    c.queues.push_back(q);
    return c.queues.back();
  }
  QueueMember& member(std::uint32_t queue_id, std::uint32_t agent_id, int tier = 1,
                      int penalty = 0) {
    QueueMember m;
    m.queue = QueueId(queue_id);
    m.agent = AgentId(agent_id);
    m.tier = tier;
    m.penalty = penalty;
    c.members.push_back(m);
    return c.members.back();
  }

  QueueConfig& q(std::uint32_t id) {
    auto it = std::find_if(c.queues.begin(), c.queues.end(),
                           [&](const QueueConfig& x) { return x.id == QueueId(id); });
    REQUIRE(it != c.queues.end());
    return *it;
  }
  AgentConfig& a(std::uint32_t id) {
    auto it = std::find_if(c.agents.begin(), c.agents.end(),
                           [&](const AgentConfig& x) { return x.id == AgentId(id); });
    REQUIRE(it != c.agents.end());
    return *it;
  }
  QueueMember& m(std::uint32_t queue_id, std::uint32_t agent_id) {
    auto it = std::find_if(c.members.begin(), c.members.end(), [&](const QueueMember& x) {
      return x.queue == QueueId(queue_id) && x.agent == AgentId(agent_id);
    });
    REQUIRE(it != c.members.end());
    return *it;
  }
  void remove_agent(std::uint32_t id) {
    std::erase_if(c.agents, [&](const AgentConfig& x) { return x.id == AgentId(id); });
    std::erase_if(c.members, [&](const QueueMember& x) { return x.agent == AgentId(id); });
  }
  void remove_queue(std::uint32_t id) {
    std::erase_if(c.queues, [&](const QueueConfig& x) { return x.id == QueueId(id); });
    std::erase_if(c.members, [&](const QueueMember& x) { return x.queue == QueueId(id); });
  }
};

using AgentRow = std::tuple<std::uint32_t, AgentState, ReasonId, CallId, CallKind>;

// ------------------------------------------------------------------ the test harness
struct Harness {
  explicit Harness(std::uint64_t seed = 7) : rng(seed), core(clock, rng, &rec) {}

  ManualClock clock;
  Xoshiro256 rng;
  Recorder rec;
  RoutingCore core;
  ConfigBuilder cb;

  // Queue 0 of tenant 0 with agents 0..n-1 as tier-1 members in id order.
  void setup(int agents, Strategy strategy = Strategy::kLongestIdle) {
    cb.queue(0).strategy = strategy;
    for (int i = 0; i < agents; ++i) {
      cb.agent(static_cast<std::uint32_t>(i));
      cb.member(0, static_cast<std::uint32_t>(i));
    }
  }
  void apply() {
    const Status s = core.apply_config(cb.c);
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    check();
  }

  TimePoint now() const { return clock.now(); }
  Duration elapsed() const { return clock.now() - TimePoint{}; }

  // Moves time forward by d, firing every timer at its own deadline (as the host does:
  // sleep until next_deadline(), then run_due_timers()).
  void advance(Duration d) {
    const TimePoint end = clock.now() + d;
    while (core.next_deadline() <= end) {
      clock.set(std::max(clock.now(), core.next_deadline()));
      core.run_due_timers();
    }
    clock.set(end);
    check();
  }
  void advance_to(Duration since_start) { advance(TimePoint{} + since_start - clock.now()); }

  void check() {
    const Status s = core.check_invariants();
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    for (; checked_ < rec.events.size(); ++checked_) {
      const CoreEvent& ev = rec.events[checked_];
      if (const auto* e = std::get_if<AgentStateChanged>(&ev)) {
        AgentState& cur = chain_[e->agent.value];
        INFO("agent " << e->agent.value << ": " << to_string(e->from) << " -> " << to_string(e->to)
                      << " (tracked " << to_string(cur) << ")");
        REQUIRE(e->from == cur);
        REQUIRE(transition_exists(e->from, e->to));
        REQUIRE((e->to == AgentState::kNotReady) == e->reason.valid());
        cur = e->to;
      } else if (const auto* f = std::get_if<CallFinished>(&ev)) {
        INFO("call " << f->call.value << " finished twice");
        REQUIRE(finished_.insert(f->call.value).second);
      } else if (const auto* q = std::get_if<CallQueued>(&ev)) {
        seen_.insert(q->call.value);
      } else if (const auto* tf = std::get_if<TaskFinished>(&ev)) {
        INFO("task " << tf->task.value << " finished twice");
        REQUIRE(tasks_finished_.insert(tf->task.value).second);
      } else if (const auto* tq = std::get_if<TaskQueued>(&ev)) {
        tasks_seen_.insert(tq->task.value);
      }
    }
    for (const auto& a : core.snapshot().agents) {
      auto it = chain_.find(a.id.value);
      const AgentState tracked = it == chain_.end() ? AgentState::kLoggedOut : it->second;
      INFO("agent " << a.id.value << " is " << to_string(a.state) << ", events say "
                    << to_string(tracked));
      REQUIRE(tracked == a.state);
    }
    for (std::uint64_t id : finished_) REQUIRE_FALSE(core.call(C(id)).has_value());
    for (std::uint64_t id : seen_)
      if (!finished_.count(id)) REQUIRE(core.call(C(id)).has_value());
    for (std::uint64_t id : tasks_finished_) REQUIRE_FALSE(core.task(TaskId(id)).has_value());
    for (std::uint64_t id : tasks_seen_)
      if (!tasks_finished_.count(id)) REQUIRE(core.task(TaskId(id)).has_value());
  }

  // ---- agents
  AgentView view(std::uint32_t a) const {
    auto v = core.agent(A(a));
    REQUIRE(v.has_value());
    return *v;
  }
  AgentState state(std::uint32_t a) const { return view(a).state; }
  std::string reason(std::uint32_t a) const {
    return std::string(core.reason_name(view(a).reason));
  }
  ReasonId rid(std::string_view name) const {
    auto r = core.find_reason(name);
    REQUIRE(r.has_value());
    return *r;
  }
  void login(std::uint32_t a, bool ready = true) {
    const Status s = core.login(A(a), ready);
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    check();
  }
  void ready(std::uint32_t a) {
    const Status s = core.set_ready(A(a));
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    check();
  }
  void not_ready(std::uint32_t a, std::string_view r) {
    const Status s = core.set_not_ready(A(a), r);
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    check();
  }
  AgentSnapshot agent_snap(std::uint32_t a) const {
    for (const auto& s : core.snapshot().agents)
      if (s.id == A(a)) return s;
    FAIL("agent " << a << " not in snapshot");
    return {};
  }
  std::vector<AgentRow> agent_rows() const {
    std::vector<AgentRow> rows;
    for (const auto& s : core.snapshot().agents)
      rows.emplace_back(s.id.value, s.state, s.reason, s.call, s.call_kind);
    return rows;
  }

  // ---- calls
  static CallSpec spec(std::uint64_t id, std::string caller = "", int priority = 0) {
    CallSpec s;
    s.id = C(id);
    s.tenant = TenantId(0);
    s.caller_number = std::move(caller);
    s.dialed_number = "800";
    s.priority = priority;
    return s;
  }
  void enqueue(std::uint64_t id, std::uint32_t queue = 0, int priority = 0,
               std::string caller = "") {
    CallSpec s = spec(id, std::move(caller), priority);
    s.tenant = TenantId{};  // the queue's tenant
    enqueue_spec(std::move(s), queue);
  }
  void enqueue_spec(CallSpec s, std::uint32_t queue = 0) {
    const Status st = core.enqueue(std::move(s), Q(queue));
    INFO(st.to_string());
    REQUIRE(st.is_ok());
    check();
  }
  CallView call(std::uint64_t id) const {
    auto v = core.call(C(id));
    REQUIRE(v.has_value());
    return *v;
  }
  bool exists(std::uint64_t id) const { return core.call(C(id)).has_value(); }
  QueueSnapshot queue(std::uint32_t q) const {
    auto s = core.queue(Q(q));
    REQUIRE(s.has_value());
    return *s;
  }

  // The agent the call was last offered to (single-agent strategies).
  std::optional<std::uint32_t> offered_to(std::uint64_t call_id) const {
    std::optional<std::uint32_t> out;
    for (const auto& e : all<CallOffered>())
      if (e.call == C(call_id)) out = e.agent.value;
    return out;
  }
  std::vector<std::uint32_t> offers_of(std::uint64_t call_id, std::size_t from = 0) const {
    std::vector<std::uint32_t> out;
    for (const auto& e : all<CallOffered>(from))
      if (e.call == C(call_id)) out.push_back(e.agent.value);
    return out;
  }
  std::optional<CallFinished> finished(std::uint64_t call_id) const {
    for (const auto& e : all<CallFinished>())
      if (e.call == C(call_id)) return e;
    return std::nullopt;
  }
  std::optional<CallExited> exited(std::uint64_t call_id) const {
    std::optional<CallExited> out;
    for (const auto& e : all<CallExited>())
      if (e.call == C(call_id)) out = e;
    return out;
  }

  void ring(std::uint64_t call_id, std::uint32_t a) {
    const Status s = core.offer_ringing(C(call_id), A(a));
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    check();
  }
  void answer(std::uint64_t call_id, std::uint32_t a) {
    ring(call_id, a);
    const Status s = core.offer_answered(C(call_id), A(a));
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    check();
  }
  void hang_up(std::uint64_t call_id, HangupCause cause = HangupCause::kUnspecified) {
    const Status s = core.hang_up(C(call_id), cause);
    INFO(s.to_string());
    REQUIRE(s.is_ok());
    check();
  }
  // Answers the call (already offered to `a`), talks for `talk`, hangs up.
  void serve(std::uint64_t call_id, std::uint32_t a, Duration talk = 30s) {
    REQUIRE(offered_to(call_id) == a);
    answer(call_id, a);
    advance(talk);
    hang_up(call_id);
  }

  // ---- events
  std::size_t mark() const { return rec.events.size(); }
  template <class E>
  std::vector<E> all(std::size_t from = 0) const {
    std::vector<E> out;
    for (std::size_t i = from; i < rec.events.size(); ++i)
      if (const E* e = std::get_if<E>(&rec.events[i])) out.push_back(*e);
    return out;
  }
  template <class E>
  std::size_t count(std::size_t from = 0) const {
    return all<E>(from).size();
  }
  template <class E>
  std::optional<E> last() const {
    for (auto it = rec.events.rbegin(); it != rec.events.rend(); ++it)
      if (const E* e = std::get_if<E>(&*it)) return *e;
    return std::nullopt;
  }
  std::optional<AgentStateChanged> last_change(std::uint32_t a) const {
    for (auto it = rec.events.rbegin(); it != rec.events.rend(); ++it)
      if (const auto* e = std::get_if<AgentStateChanged>(&*it); e && e->agent == A(a)) return *e;
    return std::nullopt;
  }

 private:
  std::size_t checked_ = 0;
  std::map<std::uint32_t, AgentState> chain_;
  std::set<std::uint64_t> finished_;
  std::set<std::uint64_t> seen_;
  std::set<std::uint64_t> tasks_finished_;
  std::set<std::uint64_t> tasks_seen_;
};

// Runs a request that must be refused with `code`: no event, no state change.
template <class F>
void expect_refused(Harness& h, ErrorCode code, F&& request) {
  const auto rows = h.agent_rows();
  const auto events = h.rec.events.size();
  const auto calls = h.core.calls_in_system();
  const Status s = request();
  INFO("request returned " << s.to_string());
  REQUIRE(s.code() == code);
  REQUIRE_FALSE(s.message().empty());
  REQUIRE(h.rec.events.size() == events);
  REQUIRE(h.agent_rows() == rows);
  REQUIRE(h.core.calls_in_system() == calls);
  h.check();
}

}  // namespace
