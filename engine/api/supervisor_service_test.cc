// SupervisorService through a real gRPC channel: watches (a snapshot, then changes as they
// happen), the supervisor's commands, who may call what, and tenant isolation.
#include <catch2/catch.hpp>

#include "engine/api/api_test_fixture.h"

namespace acd::api {
namespace {

using namespace acd::api::testing;

core::CallSpec acme_call(std::uint64_t id) {
  core::CallSpec spec;
  spec.id = core::CallId(id);
  spec.tenant = core::TenantId(0);
  spec.caller_number = "+15550100";
  return spec;
}

const v1::QueueStatus* find_queue(const v1::QueueUpdate& update, const std::string& name) {
  for (const auto& q : update.queues())
    if (q.queue() == name) return &q;
  return nullptr;
}

TEST_CASE("a queue watch: the snapshot, then each change", "[api][supervisor][stream]") {
  Fixture f;
  Reading<v1::QueueUpdate> watch("boss-token");
  watch.reader = f.supervisor->WatchQueues(&watch.context, v1::WatchQueuesRequest{});
  v1::QueueUpdate first = watch.next();
  CHECK(first.snapshot());
  REQUIRE(first.queues_size() == 1);  // acme's only: globex's sales is not shown
  CHECK(first.queues(0).queue() == "support");
  CHECK(first.queues(0).waiting() == 0);
  CHECK(first.queues(0).agents_logged_in() == 0);

  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(false), status).ok());
  auto logged_in = watch.until([](const v1::QueueUpdate& u) {
    const auto* q = find_queue(u, "support");
    return q != nullptr && q->agents_logged_in() == 1;
  });
  CHECK_FALSE(logged_in.snapshot());
  CHECK(find_queue(logged_in, "support")->agents_ready() == 0);

  // A caller waits (nobody is ready), then is answered when ann readies.
  REQUIRE(
      f.on_core([](core::RoutingCore& c) { return c.enqueue(acme_call(9), core::QueueId(0)); }));
  auto waiting = watch.until([](const v1::QueueUpdate& u) {
    const auto* q = find_queue(u, "support");
    return q != nullptr && q->waiting() == 1;
  });
  CHECK(find_queue(waiting, "support")->entered() == 1);
  // Changes of globex are never sent to acme's watch.
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "carl-token", login_request(true), status).ok());
  REQUIRE(
      f.call(&v1::AgentService::Stub::SetReady, "ann-token", v1::SetReadyRequest{}, status).ok());
  auto offering = watch.until([](const v1::QueueUpdate& u) {
    const auto* q = find_queue(u, "support");
    return q != nullptr && q->offering() == 1;
  });
  CHECK(find_queue(offering, "support")->waiting() == 0);
  REQUIRE(f.on_core([](core::RoutingCore& c) {
    if (auto s = c.offer_ringing(core::CallId(9), core::AgentId(0)); !s) return s;
    return c.offer_answered(core::CallId(9), core::AgentId(0));
  }));
  auto answered = watch.until([](const v1::QueueUpdate& u) {
    const auto* q = find_queue(u, "support");
    return q != nullptr && q->answered() == 1;
  });
  CHECK(find_queue(answered, "support")->agents_busy() == 1);
  CHECK(answered.queues_size() == 1);
}

TEST_CASE("an agent watch sees each change with its cause; supervisors force states",
          "[api][supervisor][stream]") {
  Fixture f;
  Reading<v1::AgentUpdate> watch("reader-token");
  v1::WatchAgentsRequest request;
  request.add_agents("bob");
  request.add_agents("ann");
  watch.reader = f.supervisor->WatchAgents(&watch.context, request);
  v1::AgentUpdate first = watch.next();
  CHECK(first.snapshot());
  REQUIRE(first.agents_size() == 2);
  CHECK(first.agents(0).agent() == "bob");  // in the order asked for
  CHECK(first.agents(1).agent() == "ann");

  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(false), status).ok());
  auto login = watch.next();
  REQUIRE(login.agents_size() == 1);
  CHECK(login.agents(0).agent() == "ann");
  CHECK(login.agents(0).state() == v1::AGENT_STATE_NOT_READY);
  CHECK(login.agents(0).reason() == "login");
  CHECK(login.agents(0).cause() == v1::CHANGE_CAUSE_AGENT);

  v1::ForceReadyRequest ready;
  ready.set_agent("ann");
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ForceReady, "boss-token", ready, status).ok());
  CHECK(status.state() == v1::AGENT_STATE_READY);
  auto forced = watch.next();
  CHECK(forced.agents(0).state() == v1::AGENT_STATE_READY);
  CHECK(forced.agents(0).cause() == v1::CHANGE_CAUSE_SUPERVISOR);

  v1::ForceNotReadyRequest not_ready;
  not_ready.set_agent("ann");
  not_ready.set_reason("training");
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ForceNotReady, "admin-token", not_ready, status)
              .ok());
  auto training = watch.next();
  CHECK(training.agents(0).state() == v1::AGENT_STATE_NOT_READY);
  CHECK(training.agents(0).reason() == "training");
  CHECK(training.agents(0).cause() == v1::CHANGE_CAUSE_SUPERVISOR);

  v1::ForceLogoutRequest logout;
  logout.set_agent("ann");
  REQUIRE(
      f.supervise(&v1::SupervisorService::Stub::ForceLogout, "boss-token", logout, status).ok());
  auto out = watch.next();
  CHECK(out.agents(0).state() == v1::AGENT_STATE_LOGGED_OUT);
  CHECK(out.agents(0).cause() == v1::CHANGE_CAUSE_SUPERVISOR);
  // carl's login (another tenant) and bob's... bob's is watched, carl's is not.
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "carl-token", login_request(true), status).ok());
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "bob-token", login_request(true), status).ok());
  CHECK(watch.next().agents(0).agent() == "bob");

  std::lock_guard lock(f.log_mutex);
  CHECK(f.privileged == std::vector<std::string>{"SupervisorService.ForceReady",
                                                 "SupervisorService.ForceNotReady",
                                                 "SupervisorService.ForceLogout"});
}

TEST_CASE("list calls answer one snapshot; call priority and skills change live",
          "[api][supervisor]") {
  Fixture f;
  v1::AgentUpdate agents;
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ListAgents, "boss-token",
                      v1::WatchAgentsRequest{}, agents)
              .ok());
  REQUIRE(agents.agents_size() == 2);  // sorted by name, acme's only
  CHECK(agents.agents(0).agent() == "ann");
  CHECK(agents.agents(1).agent() == "bob");

  REQUIRE(
      f.on_core([](core::RoutingCore& c) { return c.enqueue(acme_call(1), core::QueueId(0)); }));
  REQUIRE(
      f.on_core([](core::RoutingCore& c) { return c.enqueue(acme_call(2), core::QueueId(0)); }));
  v1::QueueUpdate queues;
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ListQueues, "reader-token",
                      v1::WatchQueuesRequest{}, queues)
              .ok());
  REQUIRE(queues.queues_size() == 1);
  CHECK(queues.queues(0).waiting() == 2);

  v1::SetCallPriorityRequest priority;
  priority.set_call_id(2);
  priority.set_priority(50);
  v1::SetCallPriorityResponse moved;
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::SetCallPriority, "boss-token", priority, moved)
              .ok());
  CHECK(moved.position() == 1);  // call 2 jumped ahead of call 1
  // The same call id as seen from globex does not exist.
  auto s =
      f.supervise(&v1::SupervisorService::Stub::SetCallPriority, "gboss-token", priority, moved);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);

  v1::SetAgentSkillsRequest skills;
  skills.set_agent("bob");
  auto* billing = skills.add_skills();
  billing->set_skill("billing");
  billing->set_level(7);
  v1::AgentStatus status;
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::SetAgentSkills, "admin-token", skills, status)
              .ok());
  CHECK(status.agent() == "bob");
}

TEST_CASE("bad supervisor requests are INVALID_ARGUMENT naming the field", "[api][supervisor]") {
  Fixture f;
  v1::AgentStatus status;
  auto force_ready = [&](const std::string& agent) {
    v1::ForceReadyRequest r;
    r.set_agent(agent);
    return f.supervise(&v1::SupervisorService::Stub::ForceReady, "boss-token", r, status);
  };
  struct Expect {
    grpc::Status status;
    std::string field;
  };
  std::vector<Expect> cases;
  cases.push_back({force_ready(""), "agent: required"});
  cases.push_back({force_ready("nobody"), "agent: unknown agent \"nobody\" of tenant acme"});
  // Another tenant's agent is unknown here.
  cases.push_back({force_ready("carl"), "agent: unknown agent \"carl\""});
  v1::ForceNotReadyRequest nr;
  nr.set_agent("ann");
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::ForceNotReady, "boss-token", nr, status),
       "reason: required"});
  nr.set_reason("nap");
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::ForceNotReady, "boss-token", nr, status),
       "reason: unknown reason code \"nap\""});
  v1::SetAgentSkillsRequest skills;
  skills.set_agent("ann");
  auto* one = skills.add_skills();
  one->set_skill("billing");
  one->set_level(3);
  auto* two = skills.add_skills();
  two->set_skill("spanish");  // globex's
  two->set_level(3);
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::SetAgentSkills, "boss-token", skills, status),
       "skills[1].skill: unknown skill \"spanish\""});
  two->set_skill("french");
  two->set_level(11);
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::SetAgentSkills, "boss-token", skills, status),
       "skills[1].level: proficiency 11 out of range"});
  two->set_skill("billing");
  two->set_level(2);
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::SetAgentSkills, "boss-token", skills, status),
       "skills[1].skill: skill \"billing\" listed twice"});
  two->set_skill("");
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::SetAgentSkills, "boss-token", skills, status),
       "skills[1].skill: required"});
  v1::SetCallPriorityRequest priority;
  v1::SetCallPriorityResponse moved;
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::SetCallPriority, "boss-token", priority, moved),
       "call_id: required"});
  priority.set_call_id(1);
  priority.set_priority(2000000);
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::SetCallPriority, "boss-token", priority, moved),
       "priority: out of range"});
  v1::QueueUpdate queues;
  v1::WatchQueuesRequest watch_queues;
  watch_queues.add_queues("support");
  watch_queues.add_queues("sales");  // globex's
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::ListQueues, "boss-token", watch_queues, queues),
       "queues[1]: unknown queue \"sales\" of tenant acme"});
  watch_queues.set_queues(1, "support");
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::ListQueues, "boss-token", watch_queues, queues),
       "queues[1]: queue \"support\" listed twice"});
  v1::AgentUpdate agents;
  v1::WatchAgentsRequest watch_agents;
  watch_agents.add_agents("carl");
  cases.push_back(
      {f.supervise(&v1::SupervisorService::Stub::ListAgents, "boss-token", watch_agents, agents),
       "agents[0]: unknown agent \"carl\""});
  v1::ExplainRouteResponse explained;
  auto explain = [&](const std::function<void(v1::ExplainRouteRequest&)>& change) {
    v1::ExplainRouteRequest r;
    r.set_queue("support");
    change(r);
    return f.supervise(&v1::SupervisorService::Stub::ExplainRoute, "reader-token", r, explained);
  };
  cases.push_back(
      {explain([](v1::ExplainRouteRequest& r) { r.clear_queue(); }), "queue: required"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) { r.set_priority(1000001); }),
                   "priority: 1000001 out of range"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) { r.set_vip_level(-1); }),
                   "vip_level: -1 out of range"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) { r.set_vip_level(11); }),
                   "vip_level: 11 out of range"});
  cases.push_back(
      {explain([](v1::ExplainRouteRequest& r) { r.set_caller_number(std::string(257, '1')); }),
       "caller_number: 257 bytes; at most 256"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) { r.mutable_waited()->set_seconds(-5); }),
                   "waited: must be 0 or more"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) {
                     r.mutable_waited()->set_seconds(1);
                     r.mutable_waited()->set_nanos(-1);
                   }),
                   "waited: not a valid duration"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) {
                     (*r.mutable_attributes())[std::string(65, 'k')] = "v";
                   }),
                   "attributes: key \"" + std::string(64, 'k') + "\" of 65 bytes"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) { (*r.mutable_attributes())[""] = "v"; }),
                   "attributes: key \"\" of 0 bytes; expected 1 to 64"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) {
                     (*r.mutable_attributes())["segment"] = std::string(1025, 'v');
                   }),
                   "attributes: the value of \"segment\" has 1025 bytes; at most 1024"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) {
                     for (int i = 0; i < 64; ++i)
                       (*r.mutable_attributes())["k" + std::to_string(i)];
                     r.set_language("es");  // one more entry
                   }),
                   "attributes: 65 entries; at most 64"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) {
                     r.set_language("es");
                     (*r.mutable_attributes())["language"] = "fr";
                   }),
                   "attributes: \"language\" is also given as language"});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) {
                     (*r.mutable_ivr_choices())[std::string(61, 'm')] = "1";
                   }),
                   "ivr_choices: key \""});
  cases.push_back(
      {explain([](v1::ExplainRouteRequest& r) { (*r.mutable_ivr_choices())["main"] = ""; }),
       "ivr_choices: no key pressed in menu \"main\""});
  cases.push_back({explain([](v1::ExplainRouteRequest& r) {
                     (*r.mutable_ivr_choices())["main"] = "1";
                     (*r.mutable_attributes())["ivr.main"] = "2";
                   }),
                   "attributes: \"ivr.main\" is also given in ivr_choices"});
  cases.push_back(
      {explain([](v1::ExplainRouteRequest& r) { r.set_channel(static_cast<v1::Channel>(42)); }),
       "channel: unknown channel 42"});
  for (const auto& c : cases) {
    INFO(c.status.error_message());
    CHECK(c.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(c.status.error_message().rfind(c.field, 0) == 0);
  }
  // The refused watch is refused the same way.
  Reading<v1::QueueUpdate> watch("boss-token");
  watch.reader = f.supervisor->WatchQueues(&watch.context, watch_queues);
  const grpc::Status s = watch.end();
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "queues[1]: queue \"support\" listed twice");
}

// acme as two_tenants() has it, plus: skills billing and french held by ann (billing 8,
// speaks es), bob (billing 6, en) and a third agent, cy (billing 3, es); queue support
// routes by rules, queue billing (id 2) by skills (billing 5, cy in tier 2, top-down).
void apply_routing_config(Fixture& f) {
  core::CoreConfig config = two_tenants();
  config.agents[0].skills = {{core::SkillId(0), 8}};
  config.agents[0].languages = {"es"};
  config.agents[1].skills = {{core::SkillId(0), 6}};
  config.agents[1].languages = {"en"};
  core::AgentConfig cy = config.agents[0];
  cy.id = core::AgentId(3);
  cy.name = "cy";
  cy.extension = "1003";
  cy.skills = {{core::SkillId(0), 3}};
  config.agents.push_back(cy);
  core::QueueConfig& support = config.queues[0];
  support.routing.steps = {{0s,
                            "agent.skill.billing >= 5 AND agent.languages HAS task.language AND "
                            "task.attr.segment != 'blocked'"},
                           {30s, "agent.skill.billing >= 2 AND task.ivr.main != '9'"}};
  support.routing.order_by = "agent.skill.billing DESC";
  config.members.push_back({core::QueueId(0), core::AgentId(3)});
  core::QueueConfig billing;
  billing.id = core::QueueId(2);
  billing.tenant = core::TenantId(0);
  billing.name = "billing";
  billing.strategy = core::Strategy::kTopDown;
  billing.required_skills = {{core::SkillId(0), 5, false}};
  config.queues.push_back(billing);
  config.members.push_back({core::QueueId(2), core::AgentId(0)});
  config.members.push_back({core::QueueId(2), core::AgentId(1)});
  config.members.push_back({core::QueueId(2), core::AgentId(3), 2});
  REQUIRE(f.on_core([config](core::RoutingCore& c) { return c.apply_config(config); }));
  auto d = std::make_shared<ApiDirectory>(*directory());
  d->tenants[0].agents.emplace("cy", core::AgentId(3));
  d->tenants[0].queues.emplace("billing", core::QueueId(2));
  f.server.set_directory(d);
  // ann and bob Ready, cy logged in NotReady.
  REQUIRE(f.on_core([](core::RoutingCore& c) {
    for (std::uint32_t a : {0U, 1U, 3U})
      if (auto s = c.login(core::AgentId(a), a != 3); !s) return s;
    return core::Status::ok();
  }));
}

std::vector<bool> admitted_of(const v1::RouteMember& m) {
  return {m.admitted().begin(), m.admitted().end()};
}

TEST_CASE("ExplainRoute: the steps, who each admits and why not, and who would be offered",
          "[api][supervisor][route]") {
  Fixture f;
  apply_routing_config(f);
  v1::ExplainRouteRequest r;
  r.set_queue("support");
  r.set_caller_number("+15550100");
  r.set_language("es");
  v1::ExplainRouteResponse e;
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ExplainRoute, "reader-token", r, e).ok());
  CHECK(e.queue() == "support");
  CHECK(e.strategy() == v1::QUEUE_STRATEGY_LONGEST_IDLE);
  CHECK(e.by_rules());
  CHECK(e.order_by() == "agent.skill.billing DESC");
  REQUIRE(e.steps_size() == 2);
  CHECK(e.steps(0).current());
  CHECK(e.steps(0).after().seconds() == 0);
  CHECK(e.steps(1).rule() == "agent.skill.billing >= 2 AND task.ivr.main != '9'");
  CHECK(e.steps(1).after().seconds() == 30);
  CHECK_FALSE(e.steps(1).current());
  CHECK(e.current_step() == 1);
  REQUIRE(e.members_size() == 3);  // the queue's list order
  const v1::RouteMember& ann = e.members(0);
  CHECK(ann.agent() == "ann");
  CHECK(ann.state() == v1::AGENT_STATE_READY);
  CHECK(ann.tier() == 1);
  CHECK(ann.free());
  CHECK(admitted_of(ann) == std::vector<bool>{true, true});
  CHECK(ann.refused_by(0).empty());
  CHECK(ann.order_keys_size() == 1);
  CHECK(ann.order_keys(0) == 8);
  CHECK(ann.rank() == 1);
  CHECK(ann.not_now().empty());
  const v1::RouteMember& bob = e.members(1);
  CHECK(bob.agent() == "bob");
  CHECK(admitted_of(bob) == std::vector<bool>{false, true});
  CHECK(bob.refused_by(0) == "agent.languages HAS task.language is false");
  CHECK(bob.rank() == 0);
  CHECK(bob.not_now() == "not admitted at step 1");
  const v1::RouteMember& cy = e.members(2);
  CHECK(cy.agent() == "cy");
  CHECK(cy.state() == v1::AGENT_STATE_NOT_READY);
  CHECK_FALSE(cy.free());
  CHECK(cy.refused_by(0) == "agent.skill.billing >= 5 is false");
  CHECK(cy.not_now() == "is NotReady");
  CHECK(cy.order_keys(0) == 3);
  CHECK(std::vector<std::string>(e.chosen().begin(), e.chosen().end()) ==
        std::vector<std::string>{"ann"});
  CHECK(e.random_group() == 0);

  // Attributes reach the targets: a blocked segment is refused at step 1 by that term.
  (*r.mutable_attributes())["segment"] = "blocked";
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ExplainRoute, "boss-token", r, e).ok());
  CHECK(e.members(0).refused_by(0) == "task.attr.segment != 'blocked' is false");
  CHECK(e.chosen().empty());

  // After 45 s the second step admits bob too, ranked after ann by billing; IVR choices
  // reach the target as task.ivr.<menu>.
  r.clear_attributes();
  r.mutable_waited()->set_seconds(45);
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ExplainRoute, "admin-token", r, e).ok());
  CHECK(e.current_step() == 2);
  CHECK(e.steps(1).current());
  CHECK(e.members(0).rank() == 1);
  CHECK(e.members(1).rank() == 2);
  CHECK(e.members(2).rank() == 0);
  CHECK(e.members(2).not_now() == "is NotReady");
  CHECK(e.chosen_size() == 1);
  (*r.mutable_ivr_choices())["main"] = "9";
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ExplainRoute, "boss-token", r, e).ok());
  CHECK(e.members(0).refused_by(1) == "task.ivr.main != '9' is false");
  CHECK(e.members(0).not_now() == "not admitted at step 2");
  CHECK(e.chosen().empty());

  // A skills queue: its rule in words, skill gaps and tiers; a chat instead of a call.
  v1::ExplainRouteRequest b;
  b.set_queue("billing");
  b.set_channel(v1::CHANNEL_CHAT);
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ExplainRoute, "bob-token", b, e).ok());
  CHECK(e.queue() == "billing");
  CHECK(e.strategy() == v1::QUEUE_STRATEGY_TOP_DOWN);
  CHECK_FALSE(e.by_rules());
  CHECK(e.order_by().empty());
  REQUIRE(e.steps_size() == 1);
  CHECK(e.steps(0).rule() == "required skills, tiers 1..1");
  REQUIRE(e.members_size() == 3);
  CHECK(e.members(0).rank() == 1);
  CHECK(e.members(1).rank() == 2);
  CHECK(e.members(2).agent() == "cy");
  CHECK(e.members(2).tier() == 2);
  CHECK(e.members(2).refused_by(0) ==
        "skill billing at 3, needs 5; tier 2 (tiers 1..1 take calls at this step)");
  CHECK(e.members(2).order_keys().empty());
  CHECK(std::vector<std::string>(e.chosen().begin(), e.chosen().end()) ==
        std::vector<std::string>{"ann"});

  // The dry run changed nothing: nobody was offered anything, and nothing waits.
  v1::QueueUpdate queues;
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ListQueues, "boss-token",
                      v1::WatchQueuesRequest{}, queues)
              .ok());
  for (const auto& q : queues.queues()) {
    INFO(q.queue());
    CHECK(q.waiting() == 0);
    CHECK(q.entered() == 0);
    CHECK(q.agents_ready() == 2);
  }
}

// Each role against each SupervisorService RPC: watchers (supervisor, admin, read-only)
// may watch, list and explain routing; only supervisors and admins may command.
TEST_CASE("who may call SupervisorService", "[api][supervisor][auth]") {
  Fixture f;
  using Rpc = std::function<grpc::Status(const std::string& token)>;
  auto unary = [&f](auto rpc, auto request, auto response) -> Rpc {
    return [&f, rpc, request, response](const std::string& token) mutable {
      return f.supervise(rpc, token, request, response);
    };
  };
  v1::ForceReadyRequest ready;
  ready.set_agent("ann");
  v1::ForceNotReadyRequest not_ready;
  not_ready.set_agent("ann");
  not_ready.set_reason("lunch");
  v1::ForceLogoutRequest logout;
  logout.set_agent("ann");
  v1::SetAgentSkillsRequest skills;
  skills.set_agent("ann");
  v1::SetCallPriorityRequest priority;
  priority.set_call_id(1);
  v1::ExplainRouteRequest explain;
  explain.set_queue("support");
  const std::vector<std::pair<std::string, Rpc>> watches{
      {"ExplainRoute",
       unary(&v1::SupervisorService::Stub::ExplainRoute, explain, v1::ExplainRouteResponse{})},
      {"ListQueues", unary(&v1::SupervisorService::Stub::ListQueues, v1::WatchQueuesRequest{},
                           v1::QueueUpdate{})},
      {"ListAgents", unary(&v1::SupervisorService::Stub::ListAgents, v1::WatchAgentsRequest{},
                           v1::AgentUpdate{})},
      {"WatchQueues",
       [&f](const std::string& token) {
         Reading<v1::QueueUpdate> w(token);
         w.reader = f.supervisor->WatchQueues(&w.context, v1::WatchQueuesRequest{});
         v1::QueueUpdate first;
         if (w.reader->Read(&first)) {
           w.context.TryCancel();
           return grpc::Status::OK;
         }
         return w.reader->Finish();
       }},
      {"WatchAgents",
       [&f](const std::string& token) {
         Reading<v1::AgentUpdate> w(token);
         w.reader = f.supervisor->WatchAgents(&w.context, v1::WatchAgentsRequest{});
         v1::AgentUpdate first;
         if (w.reader->Read(&first)) {
           w.context.TryCancel();
           return grpc::Status::OK;
         }
         return w.reader->Finish();
       }},
  };
  const std::vector<std::pair<std::string, Rpc>> commands{
      {"ForceReady", unary(&v1::SupervisorService::Stub::ForceReady, ready, v1::AgentStatus{})},
      {"ForceNotReady",
       unary(&v1::SupervisorService::Stub::ForceNotReady, not_ready, v1::AgentStatus{})},
      {"ForceLogout", unary(&v1::SupervisorService::Stub::ForceLogout, logout, v1::AgentStatus{})},
      {"SetAgentSkills",
       unary(&v1::SupervisorService::Stub::SetAgentSkills, skills, v1::AgentStatus{})},
      {"SetCallPriority", unary(&v1::SupervisorService::Stub::SetCallPriority, priority,
                                v1::SetCallPriorityResponse{})},
  };
  auto refused = [](const grpc::Status& s) {
    return s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
           s.error_code() == grpc::StatusCode::UNAUTHENTICATED;
  };
  for (const auto& [name, rpc] : watches) {
    for (const std::string token : {"boss-token", "admin-token", "reader-token", "bob-token"}) {
      INFO(name << " as " << token);
      CHECK_FALSE(refused(rpc(token)));
    }
    for (const std::string token : {"ann-token", "ghost-token", "carl-token", "", "old-token"}) {
      INFO(name << " as " << token);
      CHECK(refused(rpc(token)));
    }
  }
  for (const auto& [name, rpc] : commands) {
    for (const std::string token : {"boss-token", "admin-token"}) {
      INFO(name << " as " << token);
      CHECK_FALSE(refused(rpc(token)));
    }
    for (const std::string token :
         {"reader-token", "bob-token", "ann-token", "ghost-token", "carl-token", ""}) {
      INFO(name << " as " << token);
      const grpc::Status s = rpc(token);
      CHECK(refused(s));
    }
  }
  // gboss supervises globex: acme's agent is unknown to them, not forbidden.
  v1::AgentStatus status;
  const auto s =
      f.supervise(&v1::SupervisorService::Stub::ForceReady, "gboss-token", ready, status);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  // ... and acme's queue is not found, as a queue that does not exist.
  v1::ExplainRouteResponse explained;
  const auto other =
      f.supervise(&v1::SupervisorService::Stub::ExplainRoute, "gboss-token", explain, explained);
  CHECK(other.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(other.error_message() == "queue: no queue \"support\" in tenant globex");
  explain.set_queue("nowhere");
  const auto none =
      f.supervise(&v1::SupervisorService::Stub::ExplainRoute, "boss-token", explain, explained);
  CHECK(none.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(none.error_message() == "queue: no queue \"nowhere\" in tenant acme");
}

}  // namespace
}  // namespace acd::api

namespace acd::api {
namespace {

// A burst of changes much faster than the writes: changes waiting behind a write in flight
// are merged into one message, in order, and none is lost.
TEST_CASE("a watch behind a burst gets the changes merged, in order, none lost",
          "[api][supervisor][stream]") {
  Fixture f;
  Reading<v1::AgentUpdate> watch("boss-token");
  v1::WatchAgentsRequest request;
  request.add_agents("ann");
  watch.reader = f.supervisor->WatchAgents(&watch.context, request);
  REQUIRE(watch.next().snapshot());
  constexpr int kChanges = 20000;
  REQUIRE(f.on_core([](core::RoutingCore& c) {
    if (auto s = c.login(core::AgentId(0)); !s) return s;
    for (int i = 0; i < kChanges; ++i) {
      auto s =
          i % 2 == 0 ? c.set_ready(core::AgentId(0)) : c.set_not_ready(core::AgentId(0), "lunch");
      if (!s) return s;
    }
    return core::Status::ok();
  }));
  std::vector<v1::AgentState> states;
  int messages = 0;
  while (states.size() < kChanges + 1) {
    const v1::AgentUpdate update = watch.next();
    CHECK_FALSE(update.snapshot());
    ++messages;
    for (const auto& a : update.agents()) states.push_back(a.state());
  }
  REQUIRE(states.size() == kChanges + 1);
  CHECK(states[0] == v1::AGENT_STATE_NOT_READY);  // the login
  for (int i = 0; i < kChanges; ++i) {
    INFO("change " << i);
    REQUIRE(states[static_cast<std::size_t>(i) + 1] ==
            (i % 2 == 0 ? v1::AGENT_STATE_READY : v1::AGENT_STATE_NOT_READY));
  }
  INFO(messages << " messages for " << states.size() << " changes");
  CHECK(messages < static_cast<int>(states.size()));
}

// Events that cannot be merged (an agent's desktop stream): a client too far behind is
// ended with RESOURCE_EXHAUSTED instead of growing the engine's memory.
TEST_CASE("a stream too far behind is ended with RESOURCE_EXHAUSTED", "[api][agent][stream]") {
  ApiOptions options;
  options.max_stream_backlog = 8;
  Fixture f(options);
  Reading<v1::AgentEvent> events("ann-token");
  events.reader = f.stub->StreamEvents(&events.context, v1::StreamEventsRequest{});
  REQUIRE(events.next().has_status());
  REQUIRE(f.on_core([](core::RoutingCore& c) {
    if (auto s = c.login(core::AgentId(0)); !s) return s;
    for (int i = 0; i < 20000; ++i) {
      auto s =
          i % 2 == 0 ? c.set_ready(core::AgentId(0)) : c.set_not_ready(core::AgentId(0), "lunch");
      if (!s) return s;
    }
    return core::Status::ok();
  }));
  const grpc::Status s = events.end();
  CHECK(s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(s.error_message().find("too slowly") != std::string::npos);
  // The agent opens the stream again and starts from the state now.
  Reading<v1::AgentEvent> again("ann-token");
  again.reader = f.stub->StreamEvents(&again.context, v1::StreamEventsRequest{});
  const auto first = again.next();
  REQUIRE(first.has_status());
  CHECK(first.status().state() == v1::AGENT_STATE_NOT_READY);
}

}  // namespace
}  // namespace acd::api
