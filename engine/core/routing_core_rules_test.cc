// Specification tests of rule-based queue targets (QueueConfig::routing, docs/RULES.md) in
// the routing core: targets over skills, languages, teams, attributes, VIP level, tiers and
// live figures; steps that widen the target as the wait grows; ORDER BY; tasks; refusals
// and reloads. The harness (routing_core_test_harness.h) checks the core's invariants after
// every step, including that no waiting call could go to a Ready agent its target admits.
#include <catch2/catch.hpp>
#include <optional>

#include "engine/core/route_explanation.h"
#include "engine/core/routing_core.h"
#include "engine/core/routing_core_test_harness.h"

namespace {

// Tenant 0: skills billing (0) and sales (1); agents 0..n-1, members of queue 0 ("queue0").
void rules_setup(Harness& h, int agents, std::vector<RoutingStep> steps, std::string order_by = "",
                 Strategy strategy = Strategy::kLongestIdle) {
  h.cb.skill(0, "billing");
  h.cb.skill(1, "sales");
  h.setup(agents, strategy);
  h.cb.q(0).routing.steps = std::move(steps);
  h.cb.q(0).routing.order_by = std::move(order_by);
}

void set_skill(Harness& h, std::uint32_t agent, std::uint32_t skill, int level) {
  h.cb.a(agent).skills.push_back(AgentSkill{S(skill), level});
}

CallSpec call_with(std::uint64_t id, std::vector<std::pair<std::string, std::string>> attributes,
                   int vip = 0) {
  CallSpec s = Harness::spec(id, "+15550100");
  s.attributes = std::move(attributes);
  s.vip_level = vip;
  return s;
}

}  // namespace

TEST_CASE("a target admits only the agents whose proficiency is in range", "[core][rules]") {
  Harness h;
  rules_setup(h, 3, {{0s, "agent.skill.billing >= 3 AND agent.skill.billing <= 7"}});
  set_skill(h, 0, 0, 9);  // too senior for this queue
  set_skill(h, 1, 0, 2);  // too junior
  set_skill(h, 2, 0, 5);
  h.apply();
  h.login(0);
  h.login(1);
  h.enqueue(1);
  CHECK_FALSE(h.offered_to(1).has_value());  // Ready agents, none admitted
  h.login(2);                                // agent-first: the call finds agent 2
  CHECK(h.offered_to(1) == 2u);
}

TEST_CASE("steps widen the target when the call has waited their 'after'", "[core][rules]") {
  Harness h;
  rules_setup(h, 2, {{0s, "agent.skill.billing >= 8"}, {30s, "agent.skill.billing >= 3"}});
  set_skill(h, 0, 0, 9);
  set_skill(h, 1, 0, 4);
  h.apply();
  h.login(1);
  h.enqueue(1);
  h.advance(29s);
  CHECK_FALSE(h.offered_to(1).has_value());
  CHECK(h.call(1).escalation_step == 0);
  h.advance(1s);
  CHECK(h.call(1).escalation_step == 1);
  CHECK(h.offered_to(1) == 1u);
  const auto escalated = h.last<CallEscalated>();
  REQUIRE(escalated.has_value());
  CHECK(escalated->step == 1);

  // Steps are not cumulative: a later target may name other agents than the first.
  Harness g;
  rules_setup(g, 2, {{0s, "agent.skill.billing >= 8"}, {10s, "agent.skill.billing < 8"}});
  set_skill(g, 0, 0, 9);
  set_skill(g, 1, 0, 4);
  g.apply();
  g.enqueue(1);
  g.advance(10s);
  g.login(0);  // the senior agent no longer matches at step 2
  CHECK_FALSE(g.offered_to(1).has_value());
  g.login(1);
  CHECK(g.offered_to(1) == 1u);
}

TEST_CASE("ORDER BY ranks the admitted agents before the strategy", "[core][rules]") {
  Harness h;
  rules_setup(h, 4, {{0s, "agent.skill.billing >= 1"}}, "agent.skill.billing DESC");
  set_skill(h, 0, 0, 3);
  set_skill(h, 1, 0, 8);
  set_skill(h, 2, 0, 8);
  set_skill(h, 3, 0, 5);
  h.apply();
  for (std::uint32_t a : {0u, 1u, 2u, 3u}) {
    h.login(a);
    h.advance(1s);  // agent 1 has been idle longer than agent 2
  }
  h.enqueue(1);
  CHECK(h.offered_to(1) == 1u);  // the highest proficiency, longest idle among equals
  h.enqueue(2);
  CHECK(h.offered_to(2) == 2u);
  h.enqueue(3);
  CHECK(h.offered_to(3) == 3u);

  // Without ORDER BY the strategy alone decides: longest idle first.
  Harness g;
  rules_setup(g, 2, {{0s, "agent.skill.billing >= 1"}});
  set_skill(g, 0, 0, 3);
  set_skill(g, 1, 0, 8);
  g.apply();
  g.login(0);
  g.advance(1s);
  g.login(1);
  g.enqueue(1);
  CHECK(g.offered_to(1) == 0u);
}

TEST_CASE("language routing: the agent's languages must have the caller's", "[core][rules]") {
  Harness h;
  rules_setup(h, 2, {{0s, "agent.languages HAS task.language"}, {45s, "true"}});
  h.cb.a(0).languages = {"en"};
  h.cb.a(1).languages = {"en", "es"};
  h.apply();
  h.login(0);
  h.enqueue_spec(call_with(1, {{"language", "es"}}));
  CHECK_FALSE(h.offered_to(1).has_value());  // agent 0 speaks no Spanish
  h.enqueue_spec(call_with(2, {{"language", "en"}}));
  CHECK(h.offered_to(2) == 0u);
  h.login(1);
  CHECK(h.offered_to(1) == 1u);
  // After 45 s anyone takes a caller whose language nobody speaks.
  h.enqueue_spec(call_with(3, {{"language", "fr"}}));
  h.serve(2, 0, 1s);
  h.serve(1, 1, 1s);
  CHECK_FALSE(h.offered_to(3).has_value());
  h.advance(45s);
  CHECK(h.offered_to(3).has_value());
}

TEST_CASE("VIP first: VIP callers go to the gold team, others to anyone else", "[core][rules]") {
  Harness h;
  h.cb.team(0, "gold");
  h.cb.team(1, "silver");
  rules_setup(h, 2,
              {{0s,
                "(task.vip >= 1 AND agent.team = 'gold') OR "
                "(task.vip = 0 AND agent.team != 'gold' AND task.attr.segment != 'blocked')"}});
  h.cb.a(0).team = TeamId(0);
  h.cb.a(1).team = TeamId(1);
  h.apply();
  h.login(0);
  h.login(1);
  h.enqueue_spec(call_with(1, {}, /*vip=*/2));
  CHECK(h.offered_to(1) == 0u);
  h.enqueue_spec(call_with(2, {{"segment", "retail"}}));
  CHECK(h.offered_to(2) == 1u);
  h.enqueue_spec(call_with(3, {{"segment", "blocked"}}));
  CHECK_FALSE(h.offered_to(3).has_value());
}

TEST_CASE("IVR choices and custom attributes of agents in targets", "[core][rules]") {
  Harness h;
  rules_setup(h, 2, {{0s, "agent.attr.site = task.ivr.main"}});
  h.cb.a(0).attributes = {{"site", "paris"}};
  h.cb.a(1).attributes = {{"site", "lyon"}};
  h.apply();
  h.login(0);
  h.login(1);
  h.enqueue_spec(call_with(1, {{"ivr.main", "lyon"}}));
  CHECK(h.offered_to(1) == 1u);
}

TEST_CASE("backup tier after a sustained wait, through agent.tier and a step", "[core][rules]") {
  Harness h;
  rules_setup(h, 2, {{0s, "agent.tier = 1"}, {60s, "agent.tier <= 2"}});
  h.cb.m(0, 1).tier = 2;
  h.apply();
  h.login(1);  // only the backup agent is Ready
  h.enqueue(1);
  h.advance(59s);
  CHECK_FALSE(h.offered_to(1).has_value());
  h.advance(1s);
  CHECK(h.offered_to(1) == 1u);
}

TEST_CASE("live figures: rules reading the queue are evaluated again as it changes",
          "[core][rules]") {
  Harness h;
  // The backup tier helps while three or more callers wait, or one has waited 20 s.
  rules_setup(h, 2,
              {{0s,
                "agent.tier = 1 OR queue.queue0.waiting >= 3 OR "
                "queue.queue0.longest_wait >= 20s"}});
  h.cb.m(0, 1).tier = 2;
  h.apply();
  h.login(1);
  h.enqueue(1);
  h.enqueue(2);
  CHECK_FALSE(h.offered_to(1).has_value());
  h.enqueue(3);  // three waiting: the oldest caller goes first
  CHECK(h.offered_to(1) == 1u);
  CHECK_FALSE(h.offered_to(2).has_value());
  h.serve(1, 1, 1s);
  // Two wait now: not admitted until the longest wait reaches 20 s (within a second).
  CHECK_FALSE(h.offered_to(2).has_value());
  h.advance_to(19s);
  CHECK_FALSE(h.offered_to(2).has_value());
  h.advance(2s);
  CHECK(h.offered_to(2) == 1u);
}

TEST_CASE("time of day: a target open from 09:00 admits agents at 09:00", "[core][rules]") {
  Harness h;
  rules_setup(h, 1, {{0s, "now.time BETWEEN 09:00 AND 17:00 AND now.weekday = 'thu'"}});
  h.apply();  // the clock starts at 1970-01-01 00:00, a Thursday
  h.login(0);
  h.advance_to(8h + 59min);
  h.enqueue(1);
  h.advance(59s);
  CHECK_FALSE(h.offered_to(1).has_value());
  h.advance(2s);
  CHECK(h.offered_to(1) == 0u);
}

TEST_CASE("tasks follow the queue's targets and ORDER BY", "[core][rules]") {
  Harness h;
  rules_setup(h, 3, {{0s, "task.channel = 'chat' AND agent.languages HAS task.language"}},
              "agent.skill.sales DESC");
  h.cb.a(0).languages = {"de"};
  h.cb.a(1).languages = {"fr"};
  h.cb.a(2).languages = {"fr"};
  set_skill(h, 1, 1, 3);
  set_skill(h, 2, 1, 6);
  h.apply();
  h.login(0);
  h.login(1);
  h.login(2);
  TaskSpec chat;
  chat.id = TaskId(1);
  chat.channel = Channel::kChat;
  chat.subject = "bonjour";
  chat.attributes = {{"language", "fr"}};
  REQUIRE(h.core.create_task(chat, Q(0)).is_ok());
  h.check();
  const auto offered = h.last<TaskOffered>();
  REQUIRE(offered.has_value());
  CHECK(offered->agent == A(2));  // French, best in sales

  TaskSpec mail = chat;
  mail.id = TaskId(2);
  mail.channel = Channel::kEmail;
  REQUIRE(h.core.create_task(mail, Q(0)).is_ok());
  h.check();
  CHECK(h.core.task(TaskId(2))->phase == TaskPhase::kWaiting);  // the target is for chats
}

TEST_CASE("invalid rules are refused and the running ones stay", "[core][rules]") {
  Harness h;
  rules_setup(h, 2, {{0s, "agent.skill.billing >= 5"}});
  set_skill(h, 0, 0, 6);
  set_skill(h, 1, 0, 2);
  h.apply();

  auto refused = [&](const CoreConfig& config, std::string_view expected) {
    const Status s = h.core.apply_config(config);
    INFO(s.to_string());
    CHECK(s.code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(s.to_string(), Catch::Contains(std::string(expected)));
  };
  CoreConfig bad = h.cb.c;
  bad.queues[0].routing.steps[0].target = "agent.skill.biling >= 5";
  refused(bad, "routing step 1: 1:13: unknown skill 'biling' (did you mean 'billing'?)");
  bad = h.cb.c;
  bad.queues[0].routing.steps[0].target = "agent.skill.billing";
  refused(bad, "routing step 1");
  bad = h.cb.c;
  bad.queues[0].routing.order_by = "agent.name";
  refused(bad, "routing order_by");
  bad = h.cb.c;
  bad.queues[0].routing.steps.push_back({0s, "true"});
  refused(bad, "routing step 2: steps must begin later");
  bad = h.cb.c;
  bad.queues[0].routing.steps[0].after = 5s;
  refused(bad, "the first step applies from the start");
  bad = h.cb.c;
  bad.queues[0].escalation.push_back(EscalationStep{10s, 1, false, 0});
  refused(bad, "no escalation steps");
  bad = h.cb.c;
  bad.queues[0].overflow.enabled = true;
  refused(bad, "no overflow rule");

  // The old rules still route.
  h.login(1);
  h.login(0);
  h.enqueue(1);
  CHECK(h.offered_to(1) == 0u);
}

TEST_CASE("a reload changes the rules of calls already waiting", "[core][rules]") {
  Harness h;
  rules_setup(h, 1, {{0s, "agent.skill.billing >= 5"}});
  set_skill(h, 0, 0, 3);
  h.apply();
  h.login(0);
  h.enqueue(1);
  CHECK_FALSE(h.offered_to(1).has_value());
  h.cb.q(0).routing.steps[0].target = "agent.skill.billing >= 3";
  h.apply();
  CHECK(h.offered_to(1) == 0u);

  // Back to skills: a queue without routing steps routes as before.
  h.serve(1, 0);
  h.cb.q(0).routing = QueueRouting{};
  h.apply();
  h.enqueue(2);
  CHECK(h.offered_to(2) == 0u);
}

TEST_CASE("strategies pick within the best ORDER BY group", "[core][rules]") {
  SECTION("ring all rings every admitted agent in rank order") {
    Harness h;
    rules_setup(h, 3, {{0s, "agent.skill.billing >= 2"}}, "agent.skill.billing DESC",
                Strategy::kRingAll);
    set_skill(h, 0, 0, 2);
    set_skill(h, 1, 0, 1);
    set_skill(h, 2, 0, 7);
    h.apply();
    for (std::uint32_t a : {0u, 1u, 2u}) h.login(a);
    h.enqueue(1);
    CHECK(h.offers_of(1) == std::vector<std::uint32_t>{2, 0});
  }
  SECTION("round robin goes on from the last member offered") {
    Harness h;
    rules_setup(h, 3, {{0s, "true"}}, "", Strategy::kRoundRobin);
    h.apply();
    for (std::uint32_t a : {0u, 1u, 2u}) h.login(a);
    h.enqueue(1);
    CHECK(h.offered_to(1) == 0u);
    h.enqueue(2);
    CHECK(h.offered_to(2) == 1u);
    h.answer(2, 1);
    h.serve(1, 0);
    h.enqueue(3);
    CHECK(h.offered_to(3) == 2u);
  }
  SECTION("random picks only among the best group") {
    Harness h(11);
    rules_setup(h, 4, {{0s, "true"}}, "agent.skill.billing DESC", Strategy::kRandom);
    set_skill(h, 2, 0, 9);
    set_skill(h, 3, 0, 9);
    h.apply();
    for (std::uint32_t a : {0u, 1u, 2u, 3u}) h.login(a);
    h.enqueue(1);
    const auto first = h.offered_to(1);
    REQUIRE(first.has_value());
    CHECK((*first == 2u || *first == 3u));
  }
}

TEST_CASE("explain_route: steps, who each admits and why not, and who would be offered",
          "[core][rules][explain]") {
  Harness h;
  h.cb.team(0, "gold");
  rules_setup(h, 4,
              {{0s, "agent.skill.billing >= 5 AND agent.languages HAS task.language"},
               {30s, "agent.skill.billing >= 2"}},
              "agent.skill.billing DESC, agent.idle DESC");
  set_skill(h, 0, 0, 8);
  set_skill(h, 1, 0, 6);
  set_skill(h, 2, 0, 3);
  set_skill(h, 3, 0, 9);
  for (std::uint32_t a : {0u, 1u, 2u, 3u}) h.cb.a(a).languages = {"es"};
  h.cb.a(1).languages = {"en"};
  h.apply();
  h.login(0);
  h.login(1);
  h.login(2);  // agent 3 stays logged out

  RouteQuery query;
  query.queue = Q(0);
  query.call = call_with(0, {{"language", "es"}});
  RouteExplanation out;
  REQUIRE(h.core.explain_route(query, out).is_ok());
  CHECK(out.by_rules);
  CHECK(out.queue_name == "queue0");
  REQUIRE(out.steps.size() == 2);
  CHECK(out.steps[0].current);
  CHECK(out.steps[1].rule == "agent.skill.billing >= 2");
  REQUIRE(out.members.size() == 4);
  CHECK(out.members[0].admitted == std::vector<bool>{true, true});
  CHECK(out.members[0].rank == 1);
  CHECK(out.members[0].order_keys.size() == 2);
  CHECK(out.members[0].order_keys[0] == 8);
  CHECK(out.members[1].refused_by[0] == "agent.languages HAS task.language is false");
  CHECK(out.members[1].not_now == "not admitted at step 1");
  CHECK(out.members[2].refused_by[0] == "agent.skill.billing >= 5 is false");
  CHECK(out.members[2].admitted[1]);
  CHECK(out.members[3].not_now == "is LoggedOut");
  CHECK(out.chosen == std::vector<AgentId>{A(0)});

  // After 30 s of waiting the second step admits agents 1 and 2, ranked by billing.
  query.waited = 30s;
  REQUIRE(h.core.explain_route(query, out).is_ok());
  CHECK(out.current_step == 1);
  CHECK(out.members[0].rank == 1);
  CHECK(out.members[1].rank == 2);
  CHECK(out.members[2].rank == 3);

  // The dry run changed nothing: a real call goes where it said.
  h.enqueue_spec(call_with(1, {{"language", "es"}}));
  CHECK(h.offered_to(1) == 0u);

  // Skill routing explains skill gaps and tiers.
  Harness g;
  g.cb.skill(0, "billing");
  g.setup(2);
  g.cb.q(0).required_skills = {SkillRequirement{S(0), 5, false}};
  g.cb.a(0).skills = {AgentSkill{S(0), 3}};
  g.cb.m(0, 1).tier = 2;
  g.cb.a(1).skills = {AgentSkill{S(0), 7}};
  g.apply();
  query.call = Harness::spec(0);
  query.waited = 0s;
  REQUIRE(g.core.explain_route(query, out).is_ok());
  CHECK_FALSE(out.by_rules);
  CHECK(out.members[0].refused_by[0] == "skill billing at 3, needs 5");
  CHECK(out.members[1].refused_by[0] == "tier 2 (tiers 1..1 take calls at this step)");
  CHECK(out.chosen.empty());

  query.queue = Q(9);
  CHECK(g.core.explain_route(query, out).code() == ErrorCode::kNotFound);
}

TEST_CASE("rules in random traffic keep every invariant; every call and task ends once",
          "[core][rules][random]") {
  Harness h(5);
  h.cb.skill(0, "billing");
  h.cb.team(0, "gold");
  for (std::uint32_t q = 0; q < 3; ++q) h.cb.queue(q).wrap_up = std::chrono::seconds(3 * q);
  // Queue 0: languages then anyone, best billing first; queue 1: live figures and time;
  // queue 2: VIP to the gold team, ring-all.
  h.cb.q(0).routing = {{{0s, "agent.languages HAS task.language"},
                        {20s, "agent.skill.billing >= 1 OR task.attr.segment = 'retail'"},
                        {60s, "true"}},
                       "agent.skill.billing DESC, agent.idle DESC"};
  h.cb.q(1).routing = {{{0s,
                         "agent.tier = 1 OR queue.queue1.waiting >= 2 OR task.waited > 15s OR "
                         "queue.queue0.longest_wait > 30s"}},
                       ""};
  h.cb.q(2).routing = {{{0s, "(task.vip >= 1) = (agent.team = 'gold')"}, {40s, "true"}}, ""};
  h.cb.q(2).strategy = Strategy::kRingAll;
  const std::vector<std::string> languages = {"en", "es", "fr"};
  for (std::uint32_t a = 0; a < 7; ++a) {
    auto& ac = h.cb.agent(a);
    ac.languages = {languages[a % 3]};
    if (a % 2 == 0) ac.languages.push_back(languages[(a + 1) % 3]);
    if (a % 3 == 0) ac.skills.push_back(AgentSkill{S(0), 1 + static_cast<int>(a)});
    if (a < 3) ac.team = TeamId(0);
    ac.capacity = {2, 1, 1, 1, 1};
  }
  for (std::uint32_t a = 0; a < 6; ++a) {
    h.cb.member(a % 3, a, 1 + static_cast<int>(a % 2));
    h.cb.member((a + 1) % 3, a, 2);
  }
  h.apply();
  const std::uint64_t seed = GENERATE(3, 41, 777);
  INFO("seed " << seed);
  Xoshiro256 pick(seed);
  std::uint64_t next_call = 1;
  std::uint64_t next_task = 1;
  std::set<std::uint64_t> created_calls;
  std::set<std::uint64_t> created_tasks;
  for (int step = 0; step < 3000; ++step) {
    const auto r = pick.below(100);
    const AgentId a(static_cast<std::uint32_t>(pick.below(7)));
    const QueueId queue(static_cast<std::uint32_t>(pick.below(3)));
    std::vector<CallId> live, offering, connected;
    for (std::uint64_t c = 1; c < next_call; ++c)
      if (h.exists(c)) {
        live.push_back(C(c));
        if (h.call(c).phase == CallPhase::kOffering) offering.push_back(C(c));
        if (h.call(c).phase == CallPhase::kConnected) connected.push_back(C(c));
      }
    const CallId some = live.empty() ? C(0) : live[pick.below(live.size())];
    const CallId ringing = offering.empty() ? some : offering[pick.below(offering.size())];
    std::vector<TaskId> held;  // offered or accepted
    for (std::uint64_t k = 1; k < next_task; ++k)
      if (auto v = h.core.task(TaskId(k)); v && v->agent.valid()) held.push_back(TaskId(k));
    const TaskId task = held.empty() ? TaskId(next_task) : held[pick.below(held.size())];
    Status st;
    if (r < 12) {
      CallSpec s = Harness::spec(next_call++, "+1" + std::to_string(pick.below(5)));
      s.vip_level = pick.below(4) == 0 ? 1 : 0;
      s.attributes = {{"language", languages[pick.below(3)]}};
      if (pick.below(3) == 0) s.attributes.emplace_back("segment", "retail");
      if (h.core.enqueue(s, queue).is_ok()) created_calls.insert(s.id.value);
    } else if (r < 18) {
      TaskSpec k;
      k.id = TaskId(next_task++);
      k.channel = pick.below(2) == 0 ? Channel::kChat : Channel::kEmail;
      k.attributes = {{"language", languages[pick.below(3)]}};
      if (h.core.create_task(k, queue).is_ok()) created_tasks.insert(k.id.value);
    } else if (r < 28) {
      st = h.core.login(a, pick.below(2) == 0);
    } else if (r < 30) {
      st = h.core.logout(a, Cause::kSupervisor);
    } else if (r < 42) {
      st = h.core.set_ready(a);
    } else if (r < 45) {
      st = h.core.set_not_ready(a, "break");
    } else if (r < 48) {
      st = h.core.end_wrap_up(a);
    } else if (r < 60) {
      const auto v = h.core.call(ringing);
      if (v && !v->offered_to.empty()) {
        st = h.core.offer_ringing(ringing, v->offered_to[0]);
        st = h.core.offer_answered(ringing, v->offered_to[0]);
      }
    } else if (r < 68) {
      // Mostly a call in progress (waiting callers hang up less often).
      st = h.core.hang_up(
          connected.empty() || pick.below(4) == 0 ? some : connected[pick.below(connected.size())]);
    } else if (r < 74) {
      const auto v = h.core.task(task);
      if (v && v->agent.valid()) st = h.core.accept_task(task, v->agent);
    } else if (r < 80) {
      const auto v = h.core.task(task);
      if (v && v->agent.valid()) st = h.core.complete_task(task, v->agent);
    } else if (r < 82) {
      st = h.core.cancel_task(task);
    } else if (r < 84) {
      // A reload that tightens or relaxes queue 0's first step.
      h.cb.q(0).routing.steps[0].target = pick.below(2) == 0
                                              ? "agent.languages HAS task.language"
                                              : "agent.languages HAS task.language OR true";
      h.apply();
    } else {
      h.advance(std::chrono::seconds(1 + pick.below(15)));
      continue;
    }
    (void)st;
    h.check();
  }
  // Drain: every call hangs up, every task is cancelled; live rules stop re-evaluating.
  for (std::uint64_t c = 1; c < next_call; ++c)
    if (h.exists(c)) h.hang_up(c);
  for (std::uint64_t k = 1; k < next_task; ++k)
    if (h.core.task(TaskId(k))) REQUIRE(h.core.cancel_task(TaskId(k)).is_ok());
  h.advance(10min);
  CHECK(h.core.calls_in_system() == 0);
  CHECK(h.core.tasks_in_system() == 0);
  CHECK(h.core.next_deadline() == kNever);
  std::set<std::uint64_t> finished;
  for (const auto& f : h.all<CallFinished>()) CHECK(finished.insert(f.call.value).second);
  CHECK(finished == created_calls);
  std::set<std::uint64_t> tasks_finished;
  for (const auto& f : h.all<TaskFinished>()) CHECK(tasks_finished.insert(f.task.value).second);
  CHECK(tasks_finished == created_tasks);
  INFO(h.all<CallOffered>().size()
       << " offers, " << h.all<CallConnected>().size() << " answered, "
       << h.all<TaskOffered>().size() << " task offers, " << h.all<TaskAccepted>().size()
       << " accepted; " << created_calls.size() << " calls, " << created_tasks.size() << " tasks");
  CHECK(h.all<CallEscalated>().size() > 10);
  CHECK(h.all<CallOffered>().size() > 150);
  CHECK(h.all<CallConnected>().size() > 100);
  CHECK(h.all<TaskOffered>().size() > 50);
}

// The decision only evaluates the candidates it needs (precomputed static terms and keys,
// the flat ready index, the best block first); explain_route evaluates every member in
// full. On random populations, rules and ORDER BY lists (static, agent.idle and
// task-dependent keys, in every position) the call must go exactly where the dry run said.
TEST_CASE("a rules decision offers exactly whom a full evaluation ranks first",
          "[core][rules][explain]") {
  const std::vector<std::string> targets = {
      "agent.skill.billing >= 3",
      "agent.skill.billing >= 2 AND agent.languages HAS task.language",
      "(agent.languages HAS task.language OR task.vip >= 1) AND agent.tier <= 2",
      "agent.skill.sales BETWEEN 2 AND 8 AND agent.attr.site = 'lyon'",
      "agent.penalty < 3 OR agent.skill.billing >= 9",
      "agent.tasks = 0 AND agent.skill.sales >= 1",
      "true"};
  const std::vector<std::string> orders = {
      "",
      "agent.skill.billing DESC",
      "agent.skill.billing DESC, agent.idle DESC",
      "agent.idle",
      "agent.tier, agent.skill.sales DESC, agent.idle DESC",
      "agent.languages HAS task.language DESC, agent.skill.billing DESC",
      "agent.idle DESC, agent.skill.sales",
      "agent.attr.site = 'lyon' DESC, agent.penalty, agent.tasks"};
  const std::vector<Strategy> strategies = {Strategy::kLongestIdle,   Strategy::kFewestCalls,
                                            Strategy::kTopDown,       Strategy::kBestProficiency,
                                            Strategy::kLeastTalkTime, Strategy::kRingAll};
  const std::vector<std::string> languages = {"en", "es", "fr"};
  int offers = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    Xoshiro256 r(seed);
    const std::string& target = targets[r.below(targets.size())];
    const std::string& order = orders[r.below(orders.size())];
    const Strategy strategy = strategies[r.below(strategies.size())];
    INFO("seed " << seed << ": " << target << " ORDER BY " << order);
    Harness h;
    const int agents = 8 + static_cast<int>(r.below(20));
    rules_setup(h, agents, {{0s, target}}, order, strategy);
    h.cb.q(0).ring_all_limit = 3;
    for (int a = 0; a < agents; ++a) {
      const auto i = static_cast<std::uint32_t>(a);
      set_skill(h, i, 0, 1 + static_cast<int>(r.below(10)));
      if (r.below(2) == 0) set_skill(h, i, 1, 1 + static_cast<int>(r.below(10)));
      h.cb.a(i).languages = {languages[r.below(languages.size())]};
      h.cb.a(i).attributes = {{"site", r.below(2) == 0 ? "lyon" : "oslo"}};
      h.cb.m(0, i).tier = 1 + static_cast<int>(r.below(3));
      h.cb.m(0, i).penalty = static_cast<int>(r.below(4));
    }
    h.apply();
    for (int a = 0; a < agents; ++a) {
      h.login(static_cast<std::uint32_t>(a), r.below(5) != 0);
      h.advance(std::chrono::milliseconds(1 + r.below(3000)));
    }
    for (std::uint64_t call = 1; call <= 6; ++call) {
      const CallSpec spec = call_with(call, {{"language", languages[r.below(languages.size())]}},
                                      static_cast<int>(r.below(2)));
      RouteQuery query;
      query.queue = Q(0);
      query.call = spec;
      RouteExplanation expected;
      REQUIRE(h.core.explain_route(query, expected).is_ok());
      h.enqueue_spec(spec);
      std::vector<AgentId> offered;
      for (std::uint32_t a : h.offers_of(call)) offered.push_back(A(a));
      CHECK(offered == expected.chosen);
      offers += static_cast<int>(offered.size());
      // Half the calls are answered and served, so idle times and call counts move.
      if (!offered.empty() && r.below(2) == 0 && strategy != Strategy::kRingAll) {
        h.answer(call, offered.front().value);
        h.advance(std::chrono::milliseconds(500 + r.below(5000)));
        h.hang_up(call);
      }
      h.advance(std::chrono::milliseconds(r.below(2000)));
    }
  }
  CHECK(offers > 100);  // the comparison ran on real decisions
}

// Cookbook, last-agent routing: a returning caller is offered to the agent who served them
// last (sticky_window / sticky_wait) when the step's target admits that agent, before the
// ORDER BY's choice; another agent the target refuses never gets the call.
TEST_CASE("last-agent routing in a rules-routed queue", "[core][rules][sticky]") {
  Harness h;
  rules_setup(h, 3, {{0s, "agent.skill.billing >= 5"}}, "agent.skill.billing DESC");
  h.cb.q(0).sticky_window = 24h;
  h.cb.q(0).sticky_wait = 30s;
  set_skill(h, 0, 0, 9);  // ranked first by the ORDER BY
  set_skill(h, 1, 0, 6);
  set_skill(h, 2, 0, 2);  // refused by the target
  h.apply();
  h.login(1);
  h.enqueue_spec(call_with(1, {}));  // caller +15550100, served by agent 1
  REQUIRE(h.offered_to(1) == 1u);
  h.serve(1, 1);
  h.login(0);
  h.login(2);
  h.advance(5s);
  h.enqueue_spec(call_with(2, {}));  // the same caller again: agent 1, not the best-ranked 0
  CHECK(h.offered_to(2) == 1u);
  h.serve(2, 1);
  h.advance(5s);
  // While the last agent is busy the caller waits for them, up to sticky_wait, then the
  // ORDER BY decides.
  h.enqueue_spec(call_with(3, {}));
  REQUIRE(h.offered_to(3) == 1u);
  h.answer(3, 1);
  h.enqueue_spec(call_with(4, {}));
  CHECK_FALSE(h.offered_to(4).has_value());
  h.advance(30s);
  CHECK(h.offered_to(4) == 0u);
}

// set_agent_skills changes what the rules read: the precomputed terms and ORDER BY keys of
// the agent's memberships follow at once.
TEST_CASE("new skills at run time reach the rules' precomputed terms and keys", "[core][rules]") {
  Harness h;
  rules_setup(h, 2, {{0s, "agent.skill.billing >= 5"}}, "agent.skill.billing DESC");
  set_skill(h, 0, 0, 3);  // refused by the target
  set_skill(h, 1, 0, 6);
  h.apply();
  h.login(0);
  h.login(1);
  REQUIRE(h.core.set_agent_skills(A(1), {{S(0), 2}}).is_ok());  // now refused too
  h.enqueue(1);
  CHECK_FALSE(h.offered_to(1).has_value());
  REQUIRE(h.core.set_agent_skills(A(0), {{S(0), 9}}).is_ok());  // admitted: takes the call
  CHECK(h.offered_to(1) == 0u);
  h.serve(1, 0);
  REQUIRE(h.core.set_agent_skills(A(1), {{S(0), 10}}).is_ok());
  h.advance(5s);
  h.enqueue(2);  // both admitted; the ORDER BY now ranks agent 1 first
  CHECK(h.offered_to(2) == 1u);
}
