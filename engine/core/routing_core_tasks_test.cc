// Specification tests of non-voice tasks in the routing core (engine/core/task.h): capacity
// per channel, the exclusion of calls and tasks, the order of candidates, offers that time
// out or are declined, transfers, cancellation, logout, escalation, priority, refusals,
// snapshots and reload. The harness (routing_core_test_harness.h) checks the core's
// invariants, including the task invariants, after every step.
#include <catch2/catch.hpp>
#include <optional>

#include "engine/core/routing_core.h"
#include "engine/core/routing_core_test_harness.h"

namespace {

TaskId T(std::uint64_t v) {
  return TaskId(v);
}

std::size_t ch(Channel c) {
  return static_cast<std::size_t>(c);
}

TaskSpec task(std::uint64_t id, Channel channel = Channel::kChat, int priority = 0) {
  TaskSpec s;
  s.id = T(id);
  s.channel = channel;
  s.priority = priority;
  s.subject = "subject " + std::to_string(id);
  s.customer = "customer" + std::to_string(id) + "@example.org";
  return s;
}

void create(Harness& h, std::uint64_t id, Channel channel = Channel::kChat, std::uint32_t queue = 0,
            int priority = 0) {
  const Status s = h.core.create_task(task(id, channel, priority), Q(queue));
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  h.check();
}

// The agent the task was last offered to.
std::optional<std::uint32_t> holder(const Harness& h, std::uint64_t id) {
  std::optional<std::uint32_t> out;
  for (const auto& e : h.all<TaskOffered>())
    if (e.task == T(id)) out = e.agent.value;
  return out;
}

TaskPhase phase(const Harness& h, std::uint64_t id) {
  auto v = h.core.task(T(id));
  REQUIRE(v.has_value());
  return v->phase;
}

void ok(Harness& h, const Status& s) {
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  h.check();
}

int load(const Harness& h, std::uint32_t agent, Channel c) {
  return h.view(agent).tasks[ch(c)];
}

std::optional<TaskFinished> task_finished(const Harness& h, std::uint64_t id) {
  for (const auto& e : h.all<TaskFinished>())
    if (e.task == T(id)) return e;
  return std::nullopt;
}

}  // namespace

TEST_CASE("a task is offered to a Ready member and counts against their capacity on its channel",
          "[core][task]") {
  Harness h;
  h.setup(1);
  h.cb.a(0).capacity[ch(Channel::kChat)] = 2;
  h.apply();
  h.login(0);

  create(h, 1);
  create(h, 2);
  create(h, 3);
  REQUIRE(holder(h, 1) == 0u);
  REQUIRE(holder(h, 2) == 0u);
  REQUIRE_FALSE(holder(h, 3).has_value());
  REQUIRE(phase(h, 3) == TaskPhase::kWaiting);
  REQUIRE(h.core.task(T(3))->position == 1);
  REQUIRE(load(h, 0, Channel::kChat) == 2);
  REQUIRE(h.state(0) == AgentState::kReady);  // the voice state is unchanged
  const auto offer = h.last<TaskOffered>();
  REQUIRE(offer->timeout == h.cb.q(0).ring_timeout);

  h.advance(4s);
  ok(h, h.core.accept_task(T(1), A(0)));
  const auto accepted = h.last<TaskAccepted>();
  REQUIRE(accepted->task == T(1));
  REQUIRE(accepted->waited == 4s);
  REQUIRE(phase(h, 1) == TaskPhase::kAccepted);
  ok(h, h.core.accept_task(T(2), A(0)));  // (an offer left open would time out)

  h.advance(60s);
  ok(h, h.core.complete_task(T(1), A(0)));
  const auto done = task_finished(h, 1);
  REQUIRE(done.has_value());
  REQUIRE(done->state == TaskFinalState::kCompleted);
  REQUIRE(done->agent == A(0));
  REQUIRE(done->handled == 60s);
  REQUIRE(done->waited == 4s);
  // Room again: the waiting task is offered at once.
  REQUIRE(holder(h, 3) == 0u);
  REQUIRE(load(h, 0, Channel::kChat) == 2);
  REQUIRE(h.queue(0).counters.tasks_completed == 1);
  REQUIRE(h.agent_snap(0).counters.tasks_completed == 1);
}

TEST_CASE("channels are independent, and a capacity of 0 takes no task of that channel",
          "[core][task]") {
  Harness h;
  h.setup(1);
  h.cb.a(0).capacity = {1, 1, 0, 1, 1};
  h.apply();
  h.login(0);
  create(h, 1, Channel::kChat);
  create(h, 2, Channel::kEmail);
  create(h, 3, Channel::kSms);
  create(h, 4, Channel::kChat);
  REQUIRE(holder(h, 1) == 0u);
  REQUIRE(holder(h, 2) == 0u);
  REQUIRE_FALSE(holder(h, 3).has_value());
  REQUIRE_FALSE(holder(h, 4).has_value());
  REQUIRE(h.view(0).tasks == ChannelLoad{1, 1, 0, 0, 0});
}

TEST_CASE("an agent holding tasks is offered no call; calls come first when the last task ends",
          "[core][task]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  create(h, 1);
  REQUIRE(h.queue(0).members_ready == 0);
  REQUIRE(h.queue(0).members_busy == 1);
  h.enqueue(100);
  REQUIRE_FALSE(h.offered_to(100).has_value());  // the call waits
  create(h, 2, Channel::kEmail);
  REQUIRE(holder(h, 2) == 0u);  // another channel with room still comes

  ok(h, h.core.accept_task(T(1), A(0)));
  ok(h, h.core.accept_task(T(2), A(0)));
  create(h, 3);  // a second chat waits: capacity 1
  ok(h, h.core.complete_task(T(1), A(0)));
  REQUIRE(holder(h, 3) == 0u);  // still holding the e-mail: more tasks, no call
  REQUIRE_FALSE(h.offered_to(100).has_value());
  ok(h, h.core.accept_task(T(3), A(0)));
  ok(h, h.core.complete_task(T(3), A(0)));
  ok(h, h.core.complete_task(T(2), A(0)));
  // Nothing in hand: the waiting call is offered before anything else.
  REQUIRE(h.offered_to(100) == 0u);
  REQUIRE(h.state(0) == AgentState::kReserved);

  // On a call: no task.
  create(h, 4);
  REQUIRE_FALSE(holder(h, 4).has_value());
  h.answer(100, 0);
  h.advance(30s);
  h.hang_up(100);  // no wrap-up in queue 0: Ready at once
  REQUIRE(holder(h, 4) == 0u);
}

TEST_CASE("tasks go to the least busy eligible agent first, then by the queue's strategy",
          "[core][task]") {
  Harness h;
  h.setup(3);
  for (std::uint32_t a = 0; a < 3; ++a) h.cb.a(a).capacity[ch(Channel::kChat)] = 3;
  h.cb.m(0, 2).tier = 2;  // a backup: never chosen while tier 1 has room
  h.apply();
  h.login(1);
  h.advance(1s);
  h.login(0);
  h.login(2);
  h.advance(1s);
  for (std::uint64_t id = 1; id <= 6; ++id) {
    create(h, id);
    h.advance(1s);
  }
  // Longest idle first (agent 1 became Ready first), then the least busy; among equals,
  // the one whose last task came longest ago.
  REQUIRE(holder(h, 1) == 1u);
  REQUIRE(holder(h, 2) == 0u);
  REQUIRE(holder(h, 3) == 1u);
  REQUIRE(holder(h, 4) == 0u);
  REQUIRE(holder(h, 5) == 1u);
  REQUIRE(holder(h, 6) == 0u);
  REQUIRE(load(h, 2, Channel::kChat) == 0);
  create(h, 7);  // tier 1 is full: the task waits (no escalation configured)
  REQUIRE_FALSE(holder(h, 7).has_value());
  REQUIRE(h.queue(0).tasks_waiting == 1);
  REQUIRE(h.queue(0).tasks_offered == 6);
}

TEST_CASE("an escalation step lets a waiting task reach more agents", "[core][task]") {
  Harness h;
  h.setup(1);
  h.cb.skill(0, "billing");
  h.cb.q(0).required_skills = {SkillRequirement{S(0), 5}};
  h.cb.q(0).escalation = {EscalationStep{30s, 2}};
  h.cb.a(0).skills = {AgentSkill{S(0), 3}};
  h.apply();
  h.login(0);
  create(h, 1);
  REQUIRE_FALSE(holder(h, 1).has_value());
  h.advance(29s);
  REQUIRE_FALSE(holder(h, 1).has_value());
  h.advance(1s);
  REQUIRE(holder(h, 1) == 0u);
}

TEST_CASE("a task's extra skills and its tenant restrict who may take it", "[core][task]") {
  Harness h;
  h.setup(2);
  h.cb.skill(0, "french");
  h.cb.a(1).skills = {AgentSkill{S(0), 4}};
  h.cb.tenant(1, "other");
  h.cb.queue(1, 1);
  h.apply();
  h.login(0);
  h.login(1);
  TaskSpec s = task(1);
  s.extra_skills = {SkillRequirement{S(0), 3}};
  ok(h, h.core.create_task(s, Q(0)));
  REQUIRE(holder(h, 1) == 1u);

  TaskSpec foreign = task(2);
  foreign.tenant = TenantId(1);
  expect_refused(h, ErrorCode::kPermissionDenied,
                 [&] { return h.core.create_task(foreign, Q(0)); });
}

TEST_CASE("higher priority and VIP tasks are offered first", "[core][task]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  create(h, 1);
  create(h, 2, Channel::kChat, 0, 0);
  create(h, 3, Channel::kChat, 0, 5);
  TaskSpec vip = task(4);
  vip.vip_level = 1;
  ok(h, h.core.create_task(vip, Q(0)));
  REQUIRE(h.core.task(T(4))->position == 1);
  REQUIRE(h.core.task(T(3))->position == 2);
  REQUIRE(h.core.task(T(2))->position == 3);
  ok(h, h.core.accept_task(T(1), A(0)));
  ok(h, h.core.complete_task(T(1), A(0)));
  REQUIRE(holder(h, 4) == 0u);
}

TEST_CASE("an offer not accepted in time goes to another agent; the RONA policy applies",
          "[core][task]") {
  Harness h;
  h.setup(2);
  h.cb.q(0).ring_timeout = 20s;
  h.cb.q(0).rona_retry = 60s;

  SECTION("not-ready: the silent agent goes NotReady(no-answer) and keeps their other tasks") {
    h.apply();
    h.login(0);
    h.advance(1s);
    h.login(1);
    create(h, 1, Channel::kEmail);
    ok(h, h.core.accept_task(T(1), A(0)));
    create(h, 2);  // agent 1 now has fewer tasks in hand
    REQUIRE(holder(h, 2) == 1u);
    ok(h, h.core.accept_task(T(2), A(1)));
    create(h, 3);
    REQUIRE(holder(h, 3) == 0u);
    h.advance(20s);
    const auto ended = h.last<TaskOfferEnded>();
    REQUIRE(ended->task == T(3));
    REQUIRE(ended->reason == OfferEndReason::kNoAnswer);
    REQUIRE(h.state(0) == AgentState::kNotReady);
    REQUIRE(h.reason(0) == "no-answer");
    REQUIRE(phase(h, 1) == TaskPhase::kAccepted);  // kept
    REQUIRE(h.agent_snap(0).counters.rona == 1);
    REQUIRE(phase(h, 3) == TaskPhase::kWaiting);  // agent 1 has no chat room left
    ok(h, h.core.complete_task(T(2), A(1)));
    REQUIRE(holder(h, 3) == 1u);
    // The NotReady agent may still finish their e-mail.
    ok(h, h.core.complete_task(T(1), A(0)));
  }

  SECTION("ready: the agent stays Ready but the task avoids them for rona_retry") {
    h.cb.q(0).rona_policy = RonaPolicy::kReady;
    h.apply();
    h.login(0);
    create(h, 1);
    REQUIRE(holder(h, 1) == 0u);
    h.advance(20s);
    REQUIRE(h.state(0) == AgentState::kReady);
    REQUIRE(phase(h, 1) == TaskPhase::kWaiting);
    h.advance(59s);
    REQUIRE(phase(h, 1) == TaskPhase::kWaiting);
    h.advance(1s);
    REQUIRE(phase(h, 1) == TaskPhase::kOffered);
    REQUIRE(h.count<TaskOffered>() == 2);
  }
}

TEST_CASE("a declined task goes to another agent and avoids the decliner for a while",
          "[core][task]") {
  Harness h;
  h.setup(2);
  h.cb.q(0).rona_retry = 30s;
  h.apply();
  h.login(0);
  h.advance(1s);
  h.login(1);
  create(h, 1);
  REQUIRE(holder(h, 1) == 0u);
  ok(h, h.core.decline_task(T(1), A(0)));
  REQUIRE(h.last<TaskOfferEnded>()->reason == OfferEndReason::kDeclined);
  REQUIRE(holder(h, 1) == 1u);
  REQUIRE(h.state(0) == AgentState::kReady);
  REQUIRE(load(h, 0, Channel::kChat) == 0);
  ok(h, h.core.decline_task(T(1), A(1)));
  REQUIRE(phase(h, 1) == TaskPhase::kWaiting);  // both avoided
  h.advance(30s);
  REQUIRE(phase(h, 1) == TaskPhase::kOffered);
}

TEST_CASE("an accepted task is transferred to a queue, preferring an agent for a while",
          "[core][task]") {
  Harness h;
  h.setup(2);
  h.cb.queue(1);
  h.cb.member(1, 1);
  h.cb.agent(2);  // a member of no queue
  h.cb.q(1).sticky_wait = 20s;
  h.apply();
  h.login(0);
  h.login(1);
  h.login(2);
  create(h, 1);
  REQUIRE(holder(h, 1) == 0u);
  h.advance(2s);
  ok(h, h.core.accept_task(T(1), A(0)));
  h.advance(30s);

  SECTION("to the preferred agent, who may take it without being a member") {
    ok(h, h.core.transfer_task(T(1), A(0), Q(1), A(2)));
    const auto moved = h.last<TaskTransferred>();
    REQUIRE(moved->from_queue == Q(0));
    REQUIRE(moved->to_queue == Q(1));
    REQUIRE(moved->to_agent == A(2));
    REQUIRE(moved->handled == 30s);
    REQUIRE(moved->cause == Cause::kAgent);
    REQUIRE(holder(h, 1) == 2u);
    REQUIRE(load(h, 0, Channel::kChat) == 0);
    ok(h, h.core.accept_task(T(1), A(2)));
    h.advance(10s);
    ok(h, h.core.complete_task(T(1), A(2)));
    const auto done = task_finished(h, 1);
    REQUIRE(done->handled == 40s);
    REQUIRE(done->queue == Q(1));
    REQUIRE(done->agent == A(2));
  }

  SECTION("while the preferred agent has no room, the task waits for them, then anyone") {
    create(h, 2, Channel::kChat, 1);
    REQUIRE(holder(h, 2) == 1u);  // agent 1: queue 1's member
    create(h, 3);                 // agent 0's chat capacity is full; waits in queue 0
    ok(h, h.core.transfer_task(T(1), A(0), Q(1), A(1)));
    // Agent 0 has room again: the waiting task 3 comes to them, task 1 waits for agent 1.
    REQUIRE(holder(h, 3) == 0u);
    REQUIRE(phase(h, 1) == TaskPhase::kWaiting);
    REQUIRE(h.core.task(T(1))->preferred == A(1));
    ok(h, h.core.decline_task(T(2), A(1)));
    REQUIRE(holder(h, 1) == 1u);  // room: the transferred task reaches them first
  }

  SECTION("back to a queue where only the transferring agent could take it: it waits") {
    ok(h, h.core.logout(A(1)));
    ok(h, h.core.transfer_task(T(1), A(0), QueueId{}, AgentId{}));
    REQUIRE(phase(h, 1) == TaskPhase::kWaiting);
    h.advance(h.cb.q(0).rona_retry);
    REQUIRE(holder(h, 1) == 0u);
  }

  SECTION("refusals") {
    expect_refused(h, ErrorCode::kInvalidState,
                   [&] { return h.core.transfer_task(T(1), A(1), Q(1), AgentId{}); });
    expect_refused(h, ErrorCode::kNotFound,
                   [&] { return h.core.transfer_task(T(1), A(0), Q(9), AgentId{}); });
    expect_refused(h, ErrorCode::kInvalidArgument,
                   [&] { return h.core.transfer_task(T(1), A(0), Q(1), A(0)); });
    ok(h, h.core.logout(A(2)));
    expect_refused(h, ErrorCode::kInvalidState,
                   [&] { return h.core.transfer_task(T(1), A(0), Q(1), A(2)); });
  }
}

TEST_CASE("a cancelled task ends wherever it is", "[core][task]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  create(h, 1);
  create(h, 2);
  h.advance(5s);
  ok(h, h.core.cancel_task(T(2)));  // waiting
  REQUIRE(task_finished(h, 2)->state == TaskFinalState::kAbandoned);
  REQUIRE(task_finished(h, 2)->waited == 5s);
  REQUIRE_FALSE(task_finished(h, 2)->agent.valid());

  create(h, 3);
  ok(h, h.core.cancel_task(T(1)));  // offered: the offer ends, the agent takes the next
  REQUIRE(h.all<TaskOfferEnded>().front().reason == OfferEndReason::kCallerGone);
  REQUIRE(task_finished(h, 1)->state == TaskFinalState::kAbandoned);
  REQUIRE(holder(h, 3) == 0u);

  ok(h, h.core.accept_task(T(3), A(0)));
  h.advance(7s);
  ok(h, h.core.cancel_task(T(3)));  // accepted
  REQUIRE(task_finished(h, 3)->state == TaskFinalState::kCancelled);
  REQUIRE(task_finished(h, 3)->agent == A(0));
  REQUIRE(task_finished(h, 3)->handled == 7s);
  REQUIRE(h.queue(0).counters.tasks_abandoned == 2);
  REQUIRE(h.core.tasks_in_system() == 0);
  expect_refused(h, ErrorCode::kNotFound, [&] { return h.core.cancel_task(T(3)); });
}

TEST_CASE("logging out with tasks: refused with accepted work; forced, the tasks go back",
          "[core][task]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0);
  create(h, 1);
  create(h, 2, Channel::kEmail);
  ok(h, h.core.accept_task(T(1), A(0)));
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.logout(A(0)); });

  h.login(1);
  h.advance(10s);
  ok(h, h.core.logout(A(0), Cause::kSupervisor));
  REQUIRE(h.state(0) == AgentState::kLoggedOut);
  const auto back = h.last<TaskTransferred>();
  REQUIRE(back->task == T(1));
  REQUIRE(back->cause == Cause::kSupervisor);
  REQUIRE(back->handled == 10s);
  REQUIRE(h.last<TaskOfferEnded>()->reason == OfferEndReason::kWithdrawn);
  REQUIRE(holder(h, 1) == 1u);
  REQUIRE(holder(h, 2) == 1u);

  // Offered tasks only: the agent may log out; the offers are withdrawn.
  ok(h, h.core.logout(A(1), Cause::kSupervisor));
  REQUIRE(phase(h, 1) == TaskPhase::kWaiting);
  h.login(0);
  REQUIRE(holder(h, 1) == 0u);
  REQUIRE(holder(h, 2) == 0u);
  ok(h, h.core.logout(A(0)));
  REQUIRE(phase(h, 1) == TaskPhase::kWaiting);
  REQUIRE(phase(h, 2) == TaskPhase::kWaiting);
}

TEST_CASE("a NotReady agent keeps their tasks and is offered no new one", "[core][task]") {
  Harness h;
  h.setup(1);
  h.cb.a(0).capacity[ch(Channel::kChat)] = 3;
  h.apply();
  h.login(0);
  create(h, 1);
  ok(h, h.core.accept_task(T(1), A(0)));
  h.not_ready(0, "lunch");
  create(h, 2);
  REQUIRE_FALSE(holder(h, 2).has_value());
  ok(h, h.core.complete_task(T(1), A(0)));
  REQUIRE_FALSE(holder(h, 2).has_value());
  h.ready(0);
  REQUIRE(holder(h, 2) == 0u);
}

TEST_CASE("task requests that do not fit are refused and change nothing", "[core][task]") {
  Harness h;
  h.setup(1);
  h.cb.queue(1).join_when_empty = false;
  h.cb.queue(2).max_length = 1;
  h.cb.member(2, 0);
  h.apply();
  expect_refused(h, ErrorCode::kNotFound, [&] { return h.core.create_task(task(1), Q(7)); });
  TaskSpec anonymous = task(1);
  anonymous.id = TaskId{};
  expect_refused(h, ErrorCode::kInvalidArgument,
                 [&] { return h.core.create_task(anonymous, Q(0)); });
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.create_task(task(1), Q(1)); });
  TaskSpec loud = task(1);
  loud.vip_level = 101;
  expect_refused(h, ErrorCode::kInvalidArgument, [&] { return h.core.create_task(loud, Q(0)); });
  create(h, 1, Channel::kChat, 2);
  expect_refused(h, ErrorCode::kLimitReached, [&] { return h.core.create_task(task(2), Q(2)); });
  expect_refused(h, ErrorCode::kAlreadyExists, [&] { return h.core.create_task(task(1), Q(0)); });
  expect_refused(h, ErrorCode::kNotFound, [&] { return h.core.accept_task(T(9), A(0)); });
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.accept_task(T(1), A(0)); });
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.complete_task(T(1), A(0)); });
  h.login(0);
  REQUIRE(holder(h, 1) == 0u);
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.complete_task(T(1), A(0)); });
  expect_refused(h, ErrorCode::kInvalidState,
                 [&] { return h.core.transfer_task(T(1), A(0), QueueId{}, AgentId{}); });

  AgentConfig& a = h.cb.a(0);
  a.capacity[ch(Channel::kSms)] = kMaxChannelCapacity + 1;
  const Status bad = h.core.apply_config(h.cb.c);
  REQUIRE(bad.code() == ErrorCode::kInvalidArgument);
  REQUIRE(bad.message().find("capacity for sms") != std::string::npos);
}

TEST_CASE("a reload that raises an agent's capacity offers waiting tasks", "[core][task]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  create(h, 1);
  create(h, 2);
  REQUIRE_FALSE(holder(h, 2).has_value());
  h.cb.a(0).capacity[ch(Channel::kChat)] = 2;
  h.apply();
  REQUIRE(holder(h, 2) == 0u);
  const auto views = h.core.tasks(TenantId(0));
  REQUIRE(views.size() == 2);
  REQUIRE(views[0].id == T(1));
  REQUIRE(views[1].agent == A(0));
  REQUIRE(h.core.tasks(TenantId(1)).empty());
  REQUIRE(h.core.snapshot().tasks_in_system == 2);
  REQUIRE(h.agent_snap(0).tasks[ch(Channel::kChat)] == 2);
}
