// The adapter between call-flow scripts (engine/flows) and the SIP side's flow sessions
// (engine/sip/sip_call_flow.h): requests become steps, answers become results, outcomes
// become decisions with the script's attributes and priority.
#include "engine/app/flow_wiring.h"

#include <array>
#include <catch2/catch.hpp>
#include <variant>

#include "engine/app/config.h"
#include "engine/app/sip_wiring.h"

namespace acd::app {
namespace {

CallFlowConfig flow_of(const std::string& source,
                       IvrAction fallback = {IvrAction::Kind::kQueue, "sales"}) {
  CallFlowConfig flow;
  flow.name = "main";
  flow.source = source;
  flow.fallback = std::move(fallback);
  auto compiled = flows::FlowScript::compile("main.lua", source);
  REQUIRE(std::holds_alternative<flows::FlowScript>(compiled));
  flow.script = std::make_shared<const flows::FlowScript>(std::get<flows::FlowScript>(compiled));
  return flow;
}

const std::map<std::string, core::QueueId, std::less<>> kQueues = {{"sales", core::QueueId(7)},
                                                                   {"support", core::QueueId(8)}};

std::unique_ptr<sip::SipCallFlow> session_of(const CallFlowConfig& flow) {
  sip::SipFlow sip_flow = make_sip_flow(flow, kQueues);
  CHECK(sip_flow.name == "main");
  REQUIRE(sip_flow.make_session);
  auto session = sip_flow.make_session(sip::SipFlowCall{core::CallId(42), "t", "+4144", "100"});
  REQUIRE(session != nullptr);
  return session;
}

TEST_CASE("flow wiring: a script's requests become steps and its decision a queue",
          "[flows][sip]") {
  auto session = session_of(flow_of(R"(
    call.log("caller " .. call.caller())
    call.play("welcome")
    local digit = call.collect("menu", 2, 7)
    local customer = call.lookup(call.caller())
    call.set("choice", digit)
    call.set("tier", customer and customer.tier or "none")
    call.set_priority(5)
    call.queue(digit == "2" and "support" or "sales")
  )"));
  sip::SipFlowStep step = session->start();
  REQUIRE(std::holds_alternative<sip::SipFlowPlay>(step));
  CHECK(std::get<sip::SipFlowPlay>(step).prompts == std::vector<std::string>{"welcome"});
  step = session->resume(sip::SipFlowPlayed{true});
  REQUIRE(std::holds_alternative<sip::SipFlowCollect>(step));
  const auto& collect = std::get<sip::SipFlowCollect>(step);
  CHECK(collect.prompt == std::optional<std::string>("menu"));
  CHECK(collect.max_digits == 2);
  CHECK(collect.timeout == std::chrono::seconds(7));
  step = session->resume(sip::SipFlowCollected{"2"});
  REQUIRE(std::holds_alternative<sip::SipFlowLookup>(step));
  CHECK(std::get<sip::SipFlowLookup>(step).number == "+4144");
  step =
      session->resume(sip::SipFlowLookedUp{std::map<std::string, std::string>{{"tier", "gold"}}});
  REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
  const auto& done = std::get<sip::SipFlowDone>(step);
  CHECK(done.kind == sip::SipFlowDone::Kind::kQueue);
  CHECK(done.queue == core::QueueId(8));
  CHECK(done.target == "support");
  CHECK(done.priority == std::optional<int>(5));
  CHECK(done.attributes ==
        std::vector<std::pair<std::string, std::string>>{{"choice", "2"}, {"tier", "gold"}});
}

TEST_CASE("flow wiring: scripts read the core's published queue figures and the calendars",
          "[flows][sip]") {
  // Tenant 1's "support" queue: 6 waiting, 7 minutes' estimated wait; tenant 2's queue of
  // the same name must not be seen.
  auto snapshot = std::make_shared<core::CoreSnapshot>();
  core::QueueSnapshot support;
  support.tenant = core::TenantId(1);
  support.name = "support";
  support.waiting = 6;
  support.members_ready = 0;
  support.members_logged_in = 4;
  support.estimated_wait = std::chrono::minutes(7);
  support.longest_wait = std::chrono::seconds(125);
  snapshot->queues.push_back(support);
  support.tenant = core::TenantId(2);
  support.estimated_wait = std::chrono::seconds(10);
  snapshot->queues.push_back(support);
  FlowHostSources sources{[snapshot] { return snapshot; }};
  // Open around the clock, every day; and one never open.
  std::array<std::vector<core::MinuteRange>, 7> all_day;
  for (auto& day : all_day) day = {core::MinuteRange{0, 24 * 60}};
  const core::BusinessCalendar always("always", nullptr, all_day, {});
  const core::BusinessCalendar never("never", nullptr, {}, {});
  const auto host = make_flow_host(core::TenantId(1), {always, never}, sources);

  sip::SipFlow flow = make_sip_flow(flow_of(R"(
    assert(call.open('always') and not call.open('never') and not call.holiday('always'))
    local s = call.queue_status('support')
    assert(s.waiting == 6 and s.ready == 0 and s.logged_in == 4 and s.longest_wait == 125)
    assert(call.queue_status('billing') == nil)
    if s.estimated_wait > 300 then call.callback(call.caller()) else call.queue('support') end
  )"),
                                    kQueues, host);
  auto session = flow.make_session(sip::SipFlowCall{core::CallId(42), "t", "+4144", "100"});
  const sip::SipFlowStep step = session->start();
  REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
  CHECK(std::get<sip::SipFlowDone>(step).kind == sip::SipFlowDone::Kind::kCallback);
  CHECK(std::get<sip::SipFlowDone>(step).target == "+4144");
  CHECK(std::get<sip::SipFlowDone>(step).queue == core::QueueId(7));  // the fallback's
}

TEST_CASE("flow wiring: skills a script asks for reach the call, by id", "[flows][sip]") {
  const std::map<std::string, core::SkillId, std::less<>> skills = {{"french", core::SkillId(3)},
                                                                    {"billing", core::SkillId(4)}};
  auto done_of = [&](const std::string& source) {
    sip::SipFlow flow = make_sip_flow(flow_of(source), kQueues, nullptr, skills);
    auto session = flow.make_session(sip::SipFlowCall{core::CallId(5), "t", "+4144", "100"});
    const sip::SipFlowStep step = session->start();
    REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
    return std::get<sip::SipFlowDone>(step);
  };
  sip::SipFlowDone done =
      done_of("call.set_skill('french', 4) call.set_skill('billing', 2) call.queue('support')");
  CHECK(done.kind == sip::SipFlowDone::Kind::kQueue);
  CHECK(done.queue == core::QueueId(8));
  REQUIRE(done.skills.size() == 2);
  CHECK(done.skills[0].skill == core::SkillId(4));  // by name: billing, then french
  CHECK(done.skills[0].min_level == 2);
  CHECK(done.skills[1].skill == core::SkillId(3));
  CHECK(done.skills[1].min_level == 4);
  CHECK_FALSE(done.skills[1].optional);
  // A skill the tenant does not have: no agent could ever take the call that way.
  done = done_of("call.set('a', 'b') call.set_skill('frensh', 4) call.queue('support')");
  CHECK(done.kind == sip::SipFlowDone::Kind::kQueue);
  CHECK(done.queue == core::QueueId(7));  // the fallback
  CHECK(done.skills.empty());
  CHECK(done.attributes == std::vector<std::pair<std::string, std::string>>{{"a", "b"}});
}

TEST_CASE("flow wiring: a callback names the queue that calls back", "[flows][sip]") {
  auto done_of = [](const CallFlowConfig& flow) {
    auto session = session_of(flow);
    const sip::SipFlowStep step = session->start();
    REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
    return std::get<sip::SipFlowDone>(step);
  };
  // Named by the script.
  sip::SipFlowDone done = done_of(flow_of("call.set('a', 'b') call.callback('+4144', 'support')"));
  CHECK(done.kind == sip::SipFlowDone::Kind::kCallback);
  CHECK(done.target == "+4144");
  CHECK(done.queue == core::QueueId(8));
  CHECK(done.attributes == std::vector<std::pair<std::string, std::string>>{{"a", "b"}});
  // Not named: the flow's fallback queue.
  done = done_of(flow_of("call.callback('+4144')"));
  CHECK(done.kind == sip::SipFlowDone::Kind::kCallback);
  CHECK(done.queue == core::QueueId(7));
  // An unknown queue, or none when the fallback is not a queue: the request cannot be
  // kept, so the flow's fallback is taken.
  done = done_of(flow_of("call.callback('+4144', 'nowhere')"));
  CHECK(done.kind == sip::SipFlowDone::Kind::kQueue);
  CHECK(done.queue == core::QueueId(7));
  done = done_of(flow_of("call.callback('+4144')", {IvrAction::Kind::kVoicemail, "box"}));
  CHECK(done.kind == sip::SipFlowDone::Kind::kVoicemail);
  CHECK(done.target == "box");
}

TEST_CASE("flow wiring: the other decisions", "[flows][sip]") {
  using Kind = sip::SipFlowDone::Kind;
  const std::pair<const char*, std::pair<Kind, std::string>> cases[] = {
      {"call.voicemail('box')", {Kind::kVoicemail, "box"}},
      {"call.transfer('+41441234')", {Kind::kTransfer, "+41441234"}},
      {"call.callback('+41441234')", {Kind::kCallback, "+41441234"}},
      {"call.hangup()", {Kind::kHangup, ""}},
  };
  for (const auto& [source, expected] : cases) {
    INFO(source);
    auto session = session_of(flow_of(source));
    sip::SipFlowStep step = session->start();
    REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
    CHECK(std::get<sip::SipFlowDone>(step).kind == expected.first);
    CHECK(std::get<sip::SipFlowDone>(step).target == expected.second);
    CHECK_FALSE(std::get<sip::SipFlowDone>(step).priority.has_value());
  }
}

TEST_CASE("flow wiring: errors and unknown queues end in the fallback, with what was set",
          "[flows][sip]") {
  {
    auto session = session_of(flow_of("call.set('a', 'b')\nlocal x = nil\nx.y = 1\n"));
    sip::SipFlowStep step = session->start();
    REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
    const auto& done = std::get<sip::SipFlowDone>(step);
    CHECK(done.kind == sip::SipFlowDone::Kind::kQueue);
    CHECK(done.queue == core::QueueId(7));
    CHECK(done.attributes == std::vector<std::pair<std::string, std::string>>{{"a", "b"}});
  }
  {
    auto session = session_of(flow_of("call.queue('nowhere')"));
    sip::SipFlowStep step = session->start();
    REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
    CHECK(std::get<sip::SipFlowDone>(step).queue == core::QueueId(7));
  }
  {
    auto session = session_of(flow_of("while true do end", {IvrAction::Kind::kHangup, "bye"}));
    sip::SipFlowStep step = session->start();
    REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
    CHECK(std::get<sip::SipFlowDone>(step).kind == sip::SipFlowDone::Kind::kHangup);
    CHECK(std::get<sip::SipFlowDone>(step).target == "bye");
  }
  {
    auto session = session_of(flow_of("call.play('x')", {IvrAction::Kind::kVoicemail, "box"}));
    sip::SipFlowStep step = session->start();
    REQUIRE(std::holds_alternative<sip::SipFlowPlay>(step));
    // A collect answer to a play request is a host error: the fallback.
    step = session->resume(sip::SipFlowCollected{"1"});
    REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
    CHECK(std::get<sip::SipFlowDone>(step).kind == sip::SipFlowDone::Kind::kVoicemail);
    CHECK(std::get<sip::SipFlowDone>(step).target == "box");
  }
}

TEST_CASE("flow wiring: a session destroyed mid-flow (the caller hung up) frees its run",
          "[flows][sip]") {
  auto session = session_of(flow_of("call.collect(nil, 1, 5)\ncall.queue('sales')"));
  REQUIRE(std::holds_alternative<sip::SipFlowCollect>(session->start()));
  session.reset();  // ASan reports anything the run would leak
  SUCCEED();
}

TEST_CASE("flow wiring: the SIP directory carries a tenant's flows and flow numbers",
          "[flows][sip]") {
  NameRegistry registry;
  auto loaded = load_config_text(R"yaml(tenants:
  - name: t
    queues: [{name: sales}]
    flows:
      - {name: main, source: "call.queue('sales')", fallback: {
  queue:
    sales}
}
    trunks:
      - name: tr
        dids: [{number: "100", flow: main}]
)yaml",
                                 "test.yaml", registry);
  REQUIRE(loaded.ok());
  const auto directory = make_sip_directory(loaded.value());
  REQUIRE(directory->tenants.size() == 1);
  const sip::SipTenant& tenant = directory->tenants[0];
  REQUIRE(tenant.flows.size() == 1);
  CHECK(tenant.flows[0].name == "main");
  REQUIRE(tenant.trunks.at(0).dids.size() == 1);
  CHECK(tenant.trunks[0].dids[0].flow == "main");
  CHECK_FALSE(tenant.trunks[0].dids[0].queue.valid());
  auto session = tenant.flows[0].make_session(sip::SipFlowCall{core::CallId(1), "t", "1", "100"});
  const sip::SipFlowStep step = session->start();
  REQUIRE(std::holds_alternative<sip::SipFlowDone>(step));
  CHECK(std::get<sip::SipFlowDone>(step).queue == tenant.queues.at(0).id);
}

TEST_CASE("flow wiring: a customer record becomes call.lookup's table", "[flows]") {
  store::CustomerRecord customer;
  customer.name = "Ann";
  customer.tier = "gold";
  customer.fields = {{"segment", "retail"}, {"name", "shadowed"}};
  CHECK(customer_fields(customer) == std::map<std::string, std::string>{
                                         {"name", "Ann"}, {"segment", "retail"}, {"tier", "gold"}});
}

}  // namespace
}  // namespace acd::app
