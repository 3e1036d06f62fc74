// AgentService.StreamEvents: an agent's desktop stream through a real gRPC channel, fed by
// the routing core's events (offers with their screen pop, state changes, calls).
#include <catch2/catch.hpp>

#include "engine/api/api_test_fixture.h"

namespace acd::api {
namespace {

using namespace acd::api::testing;

core::CallSpec caller(std::uint64_t id, const char* number) {
  core::CallSpec spec;
  spec.id = core::CallId(id);
  spec.tenant = core::TenantId(0);
  spec.caller_number = number;
  spec.dialed_number = "4000";
  spec.vip_level = 2;
  spec.attributes = {{"menu.main", "2"}, {"language", "fr"}};
  return spec;
}

v1::ScreenPop jane() {
  v1::ScreenPop pop;
  pop.set_looked_up(true);
  pop.mutable_customer()->set_name("Jane Roe");
  pop.mutable_customer()->set_account("AC-1001");
  (*pop.mutable_customer()->mutable_fields())["plan"] = "gold";
  auto* previous = pop.add_previous_contacts();
  previous->set_queue("support");
  previous->set_agent("bob");
  previous->set_outcome("completed");
  return pop;
}

void open_events(Fixture& f, Reading<v1::AgentEvent>& events) {
  events.reader = f.stub->StreamEvents(&events.context, v1::StreamEventsRequest{});
}

TEST_CASE("an agent's stream: status, offer with screen pop, connection, end, wrap-up",
          "[api][agent][stream]") {
  Fixture f;
  f.lookups.answer_at_once = true;
  f.lookups.result = jane();
  Reading<v1::AgentEvent> events("ann-token");
  open_events(f, events);
  // The first message is the state now.
  v1::AgentEvent first = events.next();
  REQUIRE(first.has_status());
  CHECK(first.status().agent() == "ann");
  CHECK(first.status().state() == v1::AGENT_STATE_LOGGED_OUT);

  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(true), status).ok());
  auto ready = events.until([](const v1::AgentEvent& e) {
    return e.has_status() && e.status().state() == v1::AGENT_STATE_READY;
  });
  CHECK(ready.status().cause() == v1::CHANGE_CAUSE_AGENT);

  REQUIRE(f.on_core(
      [](core::RoutingCore& c) { return c.enqueue(caller(77, "+15550100"), core::QueueId(0)); }));
  auto offered = events.until([](const v1::AgentEvent& e) { return e.has_offer(); });
  const v1::Offer& offer = offered.offer();
  CHECK(offer.call_id() == 77);
  CHECK(offer.queue() == "support");
  CHECK(offer.caller_number() == "+15550100");
  CHECK(offer.dialed_number() == "4000");
  CHECK(offer.vip_level() == 2);
  CHECK(offer.attributes().at("menu.main") == "2");
  CHECK(offer.attributes().at("language") == "fr");
  CHECK(offer.ring_timeout().seconds() == 15);
  REQUIRE(offer.screen_pop().looked_up());
  CHECK(offer.screen_pop().call_id() == 77);
  CHECK(offer.screen_pop().customer().name() == "Jane Roe");
  CHECK(offer.screen_pop().customer().fields().at("plan") == "gold");
  REQUIRE(offer.screen_pop().previous_contacts_size() == 1);
  CHECK(offer.screen_pop().previous_contacts(0).agent() == "bob");

  REQUIRE(f.on_core([](core::RoutingCore& c) {
    if (auto s = c.offer_ringing(core::CallId(77), core::AgentId(0)); !s) return s;
    return c.offer_answered(core::CallId(77), core::AgentId(0));
  }));
  // The state change and the connection, in the order the core emits them.
  v1::AgentEvent connected, talking;
  while (!connected.has_connected() || !talking.has_status()) {
    v1::AgentEvent e = events.next();
    if (e.has_connected()) connected = e;
    if (e.has_status() && e.status().state() == v1::AGENT_STATE_TALKING) talking = e;
  }
  CHECK(connected.connected().call_id() == 77);
  CHECK(connected.connected().queue() == "support");
  CHECK(talking.status().call_id() == 77);

  REQUIRE(f.on_core([](core::RoutingCore& c) {
    return c.hang_up(core::CallId(77), core::HangupCause::kCallerBye);
  }));
  v1::AgentEvent ended, after;
  while (!ended.has_call_ended() || !after.has_status()) {
    v1::AgentEvent e = events.next();
    if (e.has_call_ended()) ended = e;
    if (e.has_status()) after = e;
  }
  CHECK(ended.call_ended().call_id() == 77);
  CHECK(ended.call_ended().outcome() == "completed");
  CHECK(ended.call_ended().end_reason() == "caller-bye");
  // No wrap-up in this queue: back to Ready, caused by the call.
  CHECK(after.status().state() == v1::AGENT_STATE_READY);
  CHECK(after.status().cause() == v1::CHANGE_CAUSE_CALL);
}

TEST_CASE("a screen pop slower than routing follows its offer", "[api][agent][stream]") {
  Fixture f;
  f.lookups.result = jane();
  Reading<v1::AgentEvent> events("ann-token");
  open_events(f, events);
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(true), status).ok());
  REQUIRE(f.on_core(
      [](core::RoutingCore& c) { return c.enqueue(caller(5, "+15550199"), core::QueueId(0)); }));
  auto offered = events.until([](const v1::AgentEvent& e) { return e.has_offer(); });
  CHECK_FALSE(offered.offer().screen_pop().looked_up());
  CHECK(offered.offer().screen_pop().call_id() == 5);
  {
    std::lock_guard lock(f.lookups.mutex);
    REQUIRE(f.lookups.pending.size() == 1);
    CHECK(f.lookups.pending[0].first == "+15550199");
    CHECK(f.lookups.tenants == std::vector<std::string>{"acme"});
  }
  f.lookups.answer_all();
  auto pop = events.until([](const v1::AgentEvent& e) { return e.has_screen_pop(); });
  CHECK(pop.screen_pop().call_id() == 5);
  CHECK(pop.screen_pop().looked_up());
  CHECK(pop.screen_pop().customer().account() == "AC-1001");
}

TEST_CASE("an agent's stream carries only that agent's events", "[api][agent][stream]") {
  Fixture f;
  Reading<v1::AgentEvent> ann("ann-token");
  open_events(f, ann);
  Reading<v1::AgentEvent> carl("carl-token");
  carl.reader = f.stub->StreamEvents(&carl.context, v1::StreamEventsRequest{});
  REQUIRE(ann.next().status().agent() == "ann");
  REQUIRE(carl.next().status().agent() == "carl");
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "bob-token", login_request(true), status).ok());
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "carl-token", login_request(false), status).ok());
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(false), status).ok());
  // bob's login came first; ann's first change is her own login.
  auto a = ann.next();
  REQUIRE(a.has_status());
  CHECK(a.status().agent() == "ann");
  CHECK(a.status().state() == v1::AGENT_STATE_NOT_READY);
  auto c = carl.next();
  CHECK(c.status().agent() == "carl");
  CHECK(c.status().state() == v1::AGENT_STATE_NOT_READY);
}

TEST_CASE("streams are refused like the unary calls and end when the server stops",
          "[api][agent][stream][auth]") {
  Fixture f;
  for (const std::string token : {"", "boss-token", "ghost-token", "old-token"}) {
    INFO("token '" << token << "'");
    Reading<v1::AgentEvent> events(token);
    open_events(f, events);
    const grpc::Status s = events.end();
    CHECK((s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
           s.error_code() == grpc::StatusCode::PERMISSION_DENIED));
  }
  Reading<v1::AgentEvent> events("ann-token");
  open_events(f, events);
  REQUIRE(events.next().has_status());
  f.server.stop();
  const grpc::Status s = events.end();
  CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(f.server.stream_stats().agent_streams == 0);
}

}  // namespace
}  // namespace acd::api

namespace acd::api {
namespace {

TEST_CASE("messages between agents and supervisors reach their open streams",
          "[api][agent][stream][message]") {
  Fixture f;
  Reading<v1::AgentEvent> bob("bob-token");
  bob.reader = f.stub->StreamEvents(&bob.context, v1::StreamEventsRequest{});
  Reading<v1::AgentEvent> carl("carl-token");
  carl.reader = f.stub->StreamEvents(&carl.context, v1::StreamEventsRequest{});
  Reading<v1::ChatMessage> boss("boss-token");
  boss.reader = f.supervisor->WatchMessages(&boss.context, v1::WatchMessagesRequest{});
  REQUIRE(bob.next().has_status());
  REQUIRE(carl.next().has_status());
  // The watches are registered in order with the messages: wait until all three are.
  auto delivered_to = [&](const std::string& token, const v1::AgentMessageRequest& r) {
    v1::SendMessageResponse response;
    REQUIRE(
        Fixture::invoke(*f.stub, &v1::AgentService::Stub::SendMessage, token, r, response).ok());
    return response.delivered();
  };
  v1::AgentMessageRequest to_bob;
  to_bob.set_to_agent("bob");
  to_bob.set_text("can you take my 2 o'clock?");
  CHECK(delivered_to("ann-token", to_bob) == 1);
  auto got = bob.until([](const v1::AgentEvent& e) { return e.has_message(); });
  CHECK(got.message().from_user() == "ann");
  CHECK(got.message().from_agent() == "ann");
  CHECK(got.message().to_agent() == "bob");
  CHECK(got.message().text() == "can you take my 2 o'clock?");
  CHECK(got.message().sent_at().seconds() > 0);

  v1::AgentMessageRequest help;
  help.set_to_supervisors(true);
  help.set_text("angry caller on 17");
  // boss's watch may still be on its way to the fan-out thread: send until it is there.
  int reached = 0;
  for (int attempt = 0; attempt < 100 && reached == 0; ++attempt) {
    reached = delivered_to("ann-token", help);
    if (reached == 0) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(reached == 1);
  v1::ChatMessage m;
  REQUIRE(boss.reader->Read(&m));
  CHECK(m.from_user() == "ann");
  CHECK(m.to_supervisors());

  v1::SupervisorMessageRequest all;
  all.set_to_all_agents(true);
  all.set_text("team meeting at 3");
  v1::SendMessageResponse response;
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::SendMessage, "boss-token", all, response).ok());
  CHECK(response.delivered() == 1);  // bob's desktop; carl is globex's
  auto broadcast = bob.until([](const v1::AgentEvent& e) { return e.has_message(); });
  CHECK(broadcast.message().from_user() == "boss");
  CHECK(broadcast.message().to_all_agents());
  // Nobody's desktop is open for ann: delivered to nobody, and the sender is told.
  v1::SupervisorMessageRequest to_ann;
  to_ann.set_to_agent("ann");
  to_ann.set_text("hello");
  REQUIRE(
      f.supervise(&v1::SupervisorService::Stub::SendMessage, "boss-token", to_ann, response).ok());
  CHECK(response.delivered() == 0);
  // carl (another tenant) got nothing: his next event is his own login.
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "carl-token", login_request(false), status).ok());
  CHECK(carl.next().has_status());
}

TEST_CASE("bad messages are INVALID_ARGUMENT naming the field; only supervisors watch them",
          "[api][message][auth]") {
  Fixture f;
  v1::SendMessageResponse response;
  auto agent_send = [&](const std::string& to, bool supervisors, const std::string& text) {
    v1::AgentMessageRequest r;
    r.set_to_agent(to);
    r.set_to_supervisors(supervisors);
    r.set_text(text);
    return Fixture::invoke(*f.stub, &v1::AgentService::Stub::SendMessage, "ann-token", r, response);
  };
  const std::vector<std::pair<grpc::Status, std::string>> cases{
      {agent_send("", false, "hi"), "to_agent: give an agent name or to_supervisors"},
      {agent_send("bob", true, "hi"), "to_agent: give an agent name or to_supervisors"},
      {agent_send("carl", false, "hi"), "to_agent: unknown agent \"carl\" of tenant acme"},
      {agent_send("bob", false, ""), "text: required"},
      {agent_send("bob", false, std::string(1025, 'x')), "text: 1025 bytes; at most 1024"},
  };
  for (const auto& [s, prefix] : cases) {
    INFO(s.error_message());
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message().rfind(prefix, 0) == 0);
  }
  for (const std::string token : {"reader-token", "ann-token", ""}) {
    INFO(token);
    Reading<v1::ChatMessage> watch(token);
    watch.reader = f.supervisor->WatchMessages(&watch.context, v1::WatchMessagesRequest{});
    const auto s = watch.end();
    CHECK((s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
           s.error_code() == grpc::StatusCode::UNAUTHENTICATED));
    v1::SupervisorMessageRequest r;
    r.set_to_all_agents(true);
    r.set_text("hi");
    const auto sent = f.supervise(&v1::SupervisorService::Stub::SendMessage, token, r, response);
    CHECK((sent.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
           sent.error_code() == grpc::StatusCode::UNAUTHENTICATED));
  }
  // A supervisor is no agent: AgentService.SendMessage is not theirs.
  v1::AgentMessageRequest r;
  r.set_to_supervisors(true);
  r.set_text("hi");
  CHECK(Fixture::invoke(*f.stub, &v1::AgentService::Stub::SendMessage, "boss-token", r, response)
            .error_code() == grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace acd::api
