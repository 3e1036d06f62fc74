// Specification tests of the routing core (RoutingCore): the agent state machine, routing
// strategies, priority and aging, escalation, the sustained overflow rule, ring-no-answer,
// queue exits, sticky routing, the team break policy, statistics, multi-tenant isolation
// and configuration reload.
//
// Every test drives the core with a ManualClock (time moves only through Harness::advance,
// which steps from timer deadline to timer deadline exactly like the daemon's core thread)
// and a seeded Xoshiro256, records every CoreEvent, and after each step that matters calls
// Harness::check(), which asserts the core's own invariants plus three properties of the
// event stream: AgentStateChanged events form an unbroken chain per agent that matches the
// agent's current state, no call gets two CallFinished events, and a finished call is gone.
//
// Tests marked "Regression" reproduce core bugs found while writing this suite.
#include "engine/core/routing_core.h"

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

#include "engine/core/routing_core_test_harness.h"

namespace {

// Puts agent 0 of a setup() harness into `target` with call 900 (inbound unless Dialing).
// Queue 0 must have wrap-up configured for kWrapUp.
void drive_to(Harness& h, AgentState target) {
  if (target == AgentState::kLoggedOut) return;
  if (target == AgentState::kNotReady) return h.login(0, false);
  h.login(0, true);
  if (target == AgentState::kReady) return;
  if (target == AgentState::kDialing) {
    REQUIRE(h.core.start_outbound(A(0), C(900), CallKind::kOutbound).is_ok());
    h.check();
    return;
  }
  h.enqueue(900);
  REQUIRE(h.offered_to(900) == 0u);
  if (target == AgentState::kReserved) return;
  h.ring(900, 0);
  if (target == AgentState::kRinging) return;
  REQUIRE(h.core.offer_answered(C(900), A(0)).is_ok());
  h.check();
  if (target == AgentState::kTalking) return;
  if (target == AgentState::kHeld) {
    REQUIRE(h.core.hold(C(900)).is_ok());
    h.check();
    return;
  }
  h.advance(10s);
  h.hang_up(900);
  REQUIRE(h.state(0) == AgentState::kWrapUp);
}

const std::vector<AgentState> kOnCallStates = {AgentState::kReserved, AgentState::kRinging,
                                               AgentState::kDialing, AgentState::kTalking,
                                               AgentState::kHeld};

}  // namespace

// =====================================================================================
// Agent state machine
// =====================================================================================

TEST_CASE("login puts a logged-out agent in NotReady(login), or in Ready when asked",
          "[core][agent]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.clock.advance(5s);
  REQUIRE(h.state(0) == AgentState::kLoggedOut);

  SECTION("not ready") {
    h.login(0, false);
    REQUIRE(h.state(0) == AgentState::kNotReady);
    REQUIRE(h.reason(0) == "login");
    const auto e = h.last_change(0);
    REQUIRE(e);
    CHECK(e->from == AgentState::kLoggedOut);
    CHECK(e->to == AgentState::kNotReady);
    CHECK(h.core.reason_name(e->reason) == "login");
    CHECK(e->cause == Cause::kAgent);
    CHECK(e->at == h.now());
    CHECK(e->tenant == TenantId(0));
    CHECK_FALSE(e->call.valid());
    CHECK(h.view(0).since == h.now());
  }
  SECTION("ready") {
    h.login(0, true);
    REQUIRE(h.state(0) == AgentState::kReady);
    const auto e = h.last_change(0);
    REQUIRE(e);
    CHECK(e->from == AgentState::kLoggedOut);
    CHECK(e->to == AgentState::kReady);
    CHECK_FALSE(e->reason.valid());
    CHECK(h.agent_snap(0).idle_since == h.now());
  }
  SECTION("by a supervisor, the cause says so") {
    REQUIRE(h.core.login(A(0), true, Cause::kSupervisor).is_ok());
    CHECK(h.last_change(0)->cause == Cause::kSupervisor);
  }
}

TEST_CASE("login is refused from every logged-in state", "[core][agent]") {
  for (AgentState s :
       {AgentState::kNotReady, AgentState::kReady, AgentState::kReserved, AgentState::kRinging,
        AgentState::kDialing, AgentState::kTalking, AgentState::kHeld, AgentState::kWrapUp}) {
    DYNAMIC_SECTION("from " << to_string(s)) {
      Harness h;
      h.setup(1);
      h.cb.q(0).wrap_up = 60s;
      h.apply();
      drive_to(h, s);
      REQUIRE(h.state(0) == s);
      expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.login(A(0), true); });
    }
  }
}

TEST_CASE("an agent logs out from Ready, NotReady or WrapUp", "[core][agent]") {
  for (AgentState s : {AgentState::kReady, AgentState::kNotReady, AgentState::kWrapUp}) {
    DYNAMIC_SECTION("from " << to_string(s)) {
      Harness h;
      h.setup(1);
      h.cb.q(0).wrap_up = 60s;
      h.apply();
      drive_to(h, s);
      REQUIRE(h.core.logout(A(0)).is_ok());
      h.check();
      REQUIRE(h.state(0) == AgentState::kLoggedOut);
      const auto e = h.last_change(0);
      CHECK(e->from == s);
      CHECK(e->to == AgentState::kLoggedOut);
      CHECK(e->cause == Cause::kAgent);
      CHECK_FALSE(h.view(0).call.valid());
      // A wrap-up timer left behind does nothing.
      h.advance(5min);
      CHECK(h.state(0) == AgentState::kLoggedOut);
    }
  }
}

TEST_CASE("logout is refused when already logged out", "[core][agent]") {
  Harness h;
  h.setup(1);
  h.apply();
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.logout(A(0)); });
}

TEST_CASE("an agent's own logout is refused while on a call", "[core][agent]") {
  for (AgentState s : kOnCallStates) {
    DYNAMIC_SECTION("while " << to_string(s)) {
      Harness h;
      h.setup(1);
      h.apply();
      drive_to(h, s);
      expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.logout(A(0)); });
      REQUIRE(h.state(0) == s);
    }
  }
}

TEST_CASE("a supervisor's logout of an agent on a call happens when the call ends",
          "[core][agent]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).wrap_up = 30s;  // skipped: the agent leaves instead of wrapping up
  h.apply();
  SECTION("talking") {
    drive_to(h, AgentState::kTalking);
    const auto before = h.mark();
    REQUIRE(h.core.logout(A(0), Cause::kSupervisor).is_ok());
    h.check();
    CHECK(h.state(0) == AgentState::kTalking);
    CHECK(h.count<AgentStateChanged>(before) == 0);
    h.advance(20s);
    h.hang_up(900);
    CHECK(h.state(0) == AgentState::kLoggedOut);
    const auto e = h.last_change(0);
    CHECK(e->from == AgentState::kTalking);
    CHECK(e->cause == Cause::kSupervisor);
    CHECK(h.finished(900)->state == FinalState::kCompleted);
  }
  SECTION("held") {
    drive_to(h, AgentState::kHeld);
    REQUIRE(h.core.logout(A(0), Cause::kSupervisor).is_ok());
    CHECK(h.state(0) == AgentState::kHeld);
    h.hang_up(900);
    CHECK(h.state(0) == AgentState::kLoggedOut);
  }
  SECTION("dialing an outbound call that is answered") {
    drive_to(h, AgentState::kDialing);
    REQUIRE(h.core.logout(A(0), Cause::kSupervisor).is_ok());
    CHECK(h.state(0) == AgentState::kDialing);
    REQUIRE(h.core.outbound_answered(C(900)).is_ok());
    h.hang_up(900);
    CHECK(h.state(0) == AgentState::kLoggedOut);
  }
}

// Regression: a supervisor's logout of an agent who is Dialing is pending; when the outbound
// call fails the agent goes Dialing -> LoggedOut (once a missing edge of the state machine).
TEST_CASE("a supervisor's logout of a dialing agent happens when the outbound call fails",
          "[core][agent][outbound]") {
  Harness h;
  h.setup(1);
  h.apply();
  drive_to(h, AgentState::kDialing);
  SECTION("a supervisor's logout") {
    REQUIRE(h.core.logout(A(0), Cause::kSupervisor).is_ok());
    CHECK(h.state(0) == AgentState::kDialing);
    REQUIRE(h.core.outbound_failed(C(900)).is_ok());
    h.check();  // the event chain check requires transition_exists(from, to)
    CHECK(h.state(0) == AgentState::kLoggedOut);
  }
  SECTION("the agent is removed from the configuration") {
    h.cb.remove_agent(0);
    h.apply();
    REQUIRE(h.core.outbound_failed(C(900)).is_ok());
    h.check();
    CHECK_FALSE(h.core.agent(A(0)).has_value());
  }
}

TEST_CASE(
    "a supervisor's logout of an agent being offered a call withdraws the offer and "
    "offers the call to the next agent",
    "[core][agent][rona]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0);
  h.advance(1s);
  h.login(1);
  h.enqueue(1);
  REQUIRE(h.offered_to(1) == 0u);
  SECTION("reserved") {}
  SECTION("ringing") {
    h.ring(1, 0);
  }
  const auto before = h.mark();
  REQUIRE(h.core.logout(A(0), Cause::kSupervisor).is_ok());
  h.check();
  const auto ended = h.all<OfferEnded>(before);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].agent == A(0));
  CHECK(ended[0].reason == OfferEndReason::kWithdrawn);
  CHECK(h.state(0) == AgentState::kLoggedOut);
  CHECK(h.last_change(0)->cause == Cause::kSupervisor);
  CHECK(h.offers_of(1, before) == std::vector<std::uint32_t>{1});
  CHECK(h.state(1) == AgentState::kReserved);
}

TEST_CASE("set_ready is allowed from NotReady and WrapUp only", "[core][agent]") {
  SECTION("from NotReady") {
    Harness h;
    h.setup(1);
    h.apply();
    h.login(0, false);
    h.ready(0);
    CHECK(h.state(0) == AgentState::kReady);
    CHECK(h.last_change(0)->from == AgentState::kNotReady);
  }
  SECTION("from WrapUp") {
    Harness h;
    h.setup(1);
    h.cb.q(0).wrap_up = 60s;
    h.apply();
    drive_to(h, AgentState::kWrapUp);
    h.ready(0);
    CHECK(h.state(0) == AgentState::kReady);
    CHECK_FALSE(h.view(0).call.valid());
    CHECK(h.last_change(0)->from == AgentState::kWrapUp);
  }
  for (AgentState s :
       {AgentState::kLoggedOut, AgentState::kReady, AgentState::kReserved, AgentState::kRinging,
        AgentState::kDialing, AgentState::kTalking, AgentState::kHeld}) {
    DYNAMIC_SECTION("refused from " << to_string(s)) {
      Harness h;
      h.setup(1);
      h.apply();
      drive_to(h, s);
      expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.set_ready(A(0)); });
    }
  }
}

TEST_CASE("set_not_ready from Ready, NotReady or WrapUp records the reason", "[core][agent]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).wrap_up = 60s;
  h.apply();
  SECTION("from Ready") {
    drive_to(h, AgentState::kReady);
    h.not_ready(0, "lunch");
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK(h.reason(0) == "lunch");
    CHECK(h.last_change(0)->reason == h.rid("lunch"));
  }
  SECTION("from NotReady with another reason: NotReady -> NotReady") {
    drive_to(h, AgentState::kNotReady);
    h.not_ready(0, "training");
    const auto e = h.last_change(0);
    CHECK(e->from == AgentState::kNotReady);
    CHECK(e->to == AgentState::kNotReady);
    CHECK(h.reason(0) == "training");
  }
  SECTION("with the same reason again: accepted, nothing happens") {
    drive_to(h, AgentState::kNotReady);
    const auto before = h.mark();
    REQUIRE(h.core.set_not_ready(A(0), "login").is_ok());
    CHECK(h.mark() == before);
  }
  SECTION("from WrapUp: the wrap-up ends and its timer is forgotten") {
    drive_to(h, AgentState::kWrapUp);
    h.not_ready(0, "coaching");
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK_FALSE(h.view(0).call.valid());
    h.advance(2min);
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK(h.reason(0) == "coaching");
  }
}

TEST_CASE("set_not_ready is refused when logged out, with an empty reason, and on a call",
          "[core][agent]") {
  SECTION("logged out") {
    Harness h;
    h.setup(1);
    h.apply();
    expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.set_not_ready(A(0), "x"); });
  }
  SECTION("empty or overlong reason") {
    Harness h;
    h.setup(1);
    h.apply();
    h.login(0);
    expect_refused(h, ErrorCode::kInvalidArgument, [&] { return h.core.set_not_ready(A(0), ""); });
    expect_refused(h, ErrorCode::kInvalidArgument,
                   [&] { return h.core.set_not_ready(A(0), std::string(65, 'x')); });
  }
  for (AgentState s : kOnCallStates) {
    DYNAMIC_SECTION("the agent's own request while " << to_string(s)) {
      Harness h;
      h.setup(1);
      h.apply();
      drive_to(h, s);
      expect_refused(h, ErrorCode::kInvalidState,
                     [&] { return h.core.set_not_ready(A(0), "break"); });
    }
  }
}

TEST_CASE("a supervisor's not-ready of an agent on a call takes effect when the call ends",
          "[core][agent]") {
  Harness h;
  h.setup(1);
  SECTION("no wrap-up") {
    h.apply();
    drive_to(h, AgentState::kTalking);
    const auto before = h.mark();
    REQUIRE(h.core.set_not_ready(A(0), "meeting", Cause::kSupervisor).is_ok());
    CHECK(h.mark() == before);
    CHECK(h.state(0) == AgentState::kTalking);
    h.hang_up(900);
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK(h.reason(0) == "meeting");
    CHECK(h.last_change(0)->cause == Cause::kSupervisor);
  }
  SECTION("after the wrap-up") {
    h.cb.q(0).wrap_up = 20s;
    h.apply();
    drive_to(h, AgentState::kTalking);
    REQUIRE(h.core.set_not_ready(A(0), "meeting", Cause::kSupervisor).is_ok());
    h.hang_up(900);
    CHECK(h.state(0) == AgentState::kWrapUp);
    h.advance(20s);
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK(h.reason(0) == "meeting");
  }
  SECTION("an offer that is not answered") {
    h.apply();
    drive_to(h, AgentState::kRinging);
    REQUIRE(h.core.set_not_ready(A(0), "meeting", Cause::kSupervisor).is_ok());
    h.advance(15s);  // ring timeout
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK(h.reason(0) == "meeting");
  }
}

TEST_CASE("end_wrap_up is allowed in WrapUp only", "[core][agent][wrapup]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).wrap_up = 60s;
  h.apply();
  SECTION("in WrapUp") {
    drive_to(h, AgentState::kWrapUp);
    REQUIRE(h.core.end_wrap_up(A(0)).is_ok());
    h.check();
    CHECK(h.state(0) == AgentState::kReady);
    CHECK(h.last_change(0)->cause == Cause::kAgent);
  }
  for (AgentState s :
       {AgentState::kLoggedOut, AgentState::kNotReady, AgentState::kReady, AgentState::kTalking}) {
    DYNAMIC_SECTION("refused in " << to_string(s)) {
      drive_to(h, s);
      expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.end_wrap_up(A(0)); });
    }
  }
}

TEST_CASE("timed wrap-up ends by its timer; the work mode decides Ready or NotReady",
          "[core][agent][wrapup]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).wrap_up = 45s;
  SECTION("auto-ready") {
    h.apply();
    drive_to(h, AgentState::kWrapUp);
    const auto entered = h.now();
    CHECK(h.last_change(0)->cause == Cause::kCall);
    h.advance(44s);
    CHECK(h.state(0) == AgentState::kWrapUp);
    h.advance(1s);
    CHECK(h.state(0) == AgentState::kReady);
    const auto e = h.last_change(0);
    CHECK(e->from == AgentState::kWrapUp);
    CHECK(e->cause == Cause::kTimer);
    CHECK(e->at == entered + 45s);
  }
  SECTION("manual: NotReady(manual-ready), then the agent readies themself") {
    h.cb.a(0).work_mode = WorkMode::kManual;
    h.apply();
    drive_to(h, AgentState::kWrapUp);
    h.advance(45s);
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK(h.reason(0) == "manual-ready");
    h.ready(0);
    CHECK(h.state(0) == AgentState::kReady);
  }
  SECTION("set_work_mode switches an agent to manual") {
    h.apply();
    REQUIRE(h.core.set_work_mode(A(0), WorkMode::kManual).is_ok());
    drive_to(h, AgentState::kWrapUp);
    h.advance(45s);
    CHECK(h.reason(0) == "manual-ready");
  }
  SECTION("no wrap-up configured: manual mode goes straight to NotReady(manual-ready)") {
    h.cb.q(0).wrap_up = 0s;
    h.cb.a(0).work_mode = WorkMode::kManual;
    h.apply();
    drive_to(h, AgentState::kTalking);
    h.hang_up(900);
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK(h.reason(0) == "manual-ready");
  }
}

TEST_CASE("a wrap-up timer from an earlier call does not end a later wrap-up",
          "[core][agent][wrapup]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).wrap_up = 30s;
  h.apply();
  drive_to(h, AgentState::kWrapUp);  // wrap-up until now + 30 s
  h.advance(5s);
  REQUIRE(h.core.end_wrap_up(A(0)).is_ok());
  h.enqueue(2);
  h.serve(2, 0, 10s);  // second wrap-up from now until now + 30 s
  REQUIRE(h.state(0) == AgentState::kWrapUp);
  h.advance(20s);  // the first timer's deadline has passed
  CHECK(h.state(0) == AgentState::kWrapUp);
  h.advance(10s);
  CHECK(h.state(0) == AgentState::kReady);
}

TEST_CASE("manual wrap-up lasts until the agent ends it", "[core][agent][wrapup]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).manual_wrap_up = true;
  h.apply();
  drive_to(h, AgentState::kWrapUp);
  h.advance(1h);
  CHECK(h.state(0) == AgentState::kWrapUp);
  SECTION("end_wrap_up") {
    REQUIRE(h.core.end_wrap_up(A(0)).is_ok());
  }
  SECTION("set_ready") {
    REQUIRE(h.core.set_ready(A(0)).is_ok());
  }
  h.check();
  CHECK(h.state(0) == AgentState::kReady);
}

TEST_CASE("hold and retrieve move Talking <-> Held", "[core][agent]") {
  Harness h;
  h.setup(1);
  h.apply();
  drive_to(h, AgentState::kTalking);
  REQUIRE(h.core.hold(C(900)).is_ok());
  h.check();
  CHECK(h.state(0) == AgentState::kHeld);
  CHECK(h.last_change(0)->cause == Cause::kAgent);
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.hold(C(900)); });
  REQUIRE(h.core.retrieve(C(900)).is_ok());
  h.check();
  CHECK(h.state(0) == AgentState::kTalking);
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.retrieve(C(900)); });
  SECTION("hang-up while held ends the call") {
    REQUIRE(h.core.hold(C(900)).is_ok());
    h.hang_up(900);
    CHECK(h.state(0) == AgentState::kReady);
    CHECK(h.last_change(0)->from == AgentState::kHeld);
  }
}

TEST_CASE("hold is refused for a call that is not connected", "[core][agent]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.enqueue(1);  // waits: nobody logged in
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.hold(C(1)); });
  h.login(0);
  REQUIRE(h.state(0) == AgentState::kReserved);
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.hold(C(1)); });
}

// ------------------------------------------------------------------ outbound and internal

TEST_CASE("an outbound call: Dialing, Talking, outbound wrap-up, back to Ready",
          "[core][agent][outbound]") {
  Harness h;
  h.setup(1);
  h.cb.a(0).outbound_wrap_up = 20s;
  h.apply();
  h.login(0);
  REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
  h.check();
  CHECK(h.state(0) == AgentState::kDialing);
  CHECK(h.view(0).call == C(50));
  CHECK(h.view(0).call_kind == CallKind::kOutbound);
  CHECK(h.call(50).phase == CallPhase::kDialing);
  h.enqueue(1);  // an inbound call waits while the agent dials
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  h.advance(5s);
  REQUIRE(h.core.outbound_answered(C(50)).is_ok());
  h.check();
  CHECK(h.state(0) == AgentState::kTalking);
  CHECK(h.call(50).phase == CallPhase::kConnected);
  h.advance(60s);
  h.hang_up(50);
  CHECK(h.finished(50)->state == FinalState::kCompleted);
  CHECK(h.finished(50)->talk == 60s);
  CHECK(h.state(0) == AgentState::kWrapUp);
  h.advance(20s);
  CHECK(h.state(0) == AgentState::kReserved);  // went Ready and took the waiting call
  CHECK(h.offered_to(1) == 0u);
  CHECK(h.agent_snap(0).counters.outbound == 1);
  CHECK(h.agent_snap(0).counters.handled == 0);
}

TEST_CASE("an outbound call without outbound wrap-up returns a Ready agent straight to Ready",
          "[core][agent][outbound]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
  REQUIRE(h.core.outbound_answered(C(50)).is_ok());
  h.hang_up(50);
  CHECK(h.state(0) == AgentState::kReady);
}

TEST_CASE("a failed outbound call returns the agent to their previous state",
          "[core][agent][outbound]") {
  Harness h;
  h.setup(1);
  h.apply();
  SECTION("Ready, keeping the idle time") {
    h.login(0);
    const auto idle = h.agent_snap(0).idle_since;
    h.advance(10s);
    REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
    h.advance(10s);
    REQUIRE(h.core.outbound_failed(C(50)).is_ok());
    h.check();
    CHECK(h.state(0) == AgentState::kReady);
    CHECK(h.agent_snap(0).idle_since == idle);
  }
  SECTION("NotReady with the same reason") {
    h.login(0, false);
    h.not_ready(0, "callbacks");
    REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
    REQUIRE(h.core.outbound_failed(C(50)).is_ok());
    h.check();
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK(h.reason(0) == "callbacks");
  }
  SECTION("hang_up while dialing is a failure too") {
    h.login(0);
    REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
    h.hang_up(50);
    CHECK(h.state(0) == AgentState::kReady);
  }
  CHECK(h.finished(50)->state == FinalState::kUnanswered);
  CHECK_FALSE(h.exists(50));
}

// Regression (fixed core bug): when an outbound call placed from NotReady ends (answered, then hung
// up) with no outbound wrap-up, the core makes the agent Ready (finish_wrap_up -> make_ready)
// instead of returning them "straight back" to NotReady(reason) as outbound_failed does.
// An agent doing call-backs in NotReady("callbacks") starts receiving inbound calls.
TEST_CASE("an outbound call placed from NotReady leaves the agent NotReady when it ends",
          "[core][agent][outbound]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0, false);
  h.not_ready(0, "callbacks");
  REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
  REQUIRE(h.core.outbound_answered(C(50)).is_ok());
  h.advance(30s);
  h.hang_up(50);
  CHECK(h.state(0) == AgentState::kNotReady);
  CHECK(h.reason(0) == "callbacks");
}

TEST_CASE("start_outbound is refused outside Ready/NotReady and for bad requests",
          "[core][agent][outbound]") {
  // (Talking or Held on an inbound call, the agent places a consultation call: see the
  // transfer tests.)
  for (AgentState s : {AgentState::kLoggedOut, AgentState::kReserved, AgentState::kRinging,
                       AgentState::kWrapUp, AgentState::kDialing}) {
    DYNAMIC_SECTION("from " << to_string(s)) {
      Harness h;
      h.setup(1);
      h.cb.q(0).wrap_up = 60s;
      h.apply();
      drive_to(h, s);
      expect_refused(h, ErrorCode::kInvalidState,
                     [&] { return h.core.start_outbound(A(0), C(51), CallKind::kOutbound); });
    }
  }
  SECTION("bad requests") {
    Harness h;
    h.setup(2);
    h.apply();
    h.login(0);
    h.login(1, false);
    h.enqueue(8);
    REQUIRE(h.offered_to(8) == 0u);
    expect_refused(h, ErrorCode::kAlreadyExists,
                   [&] { return h.core.start_outbound(A(1), C(8), CallKind::kOutbound); });
    expect_refused(h, ErrorCode::kInvalidArgument,
                   [&] { return h.core.start_outbound(A(1), C(51), CallKind::kInbound); });
    expect_refused(h, ErrorCode::kInvalidArgument,
                   [&] { return h.core.start_outbound(A(1), CallId{}, CallKind::kOutbound); });
    expect_refused(h, ErrorCode::kNotFound,
                   [&] { return h.core.start_outbound(A(77), C(51), CallKind::kOutbound); });
    expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.outbound_answered(C(8)); });
    expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.outbound_failed(C(8)); });
  }
}

TEST_CASE("an internal call rings the callee; on answer both talk; on hang-up both are free",
          "[core][agent][internal]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0);
  h.login(1);
  REQUIRE(h.core.start_outbound(A(0), C(60), CallKind::kInternal, A(1)).is_ok());
  h.check();
  CHECK(h.state(0) == AgentState::kDialing);
  CHECK(h.state(1) == AgentState::kRinging);
  CHECK(h.view(1).call == C(60));
  CHECK(h.view(1).call_kind == CallKind::kInternal);
  CHECK(h.last_change(1)->cause == Cause::kCall);
  h.enqueue(1);  // neither agent is free
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  SECTION("answered") {
    REQUIRE(h.core.outbound_answered(C(60)).is_ok());
    h.check();
    CHECK(h.state(0) == AgentState::kTalking);
    CHECK(h.state(1) == AgentState::kTalking);
    h.advance(40s);
    h.hang_up(60);
    CHECK(h.finished(60)->state == FinalState::kCompleted);
    // Both are Ready again; one of them took the waiting call.
    CHECK(h.call(1).phase == CallPhase::kOffering);
  }
  SECTION("not answered") {
    REQUIRE(h.core.outbound_failed(C(60)).is_ok());
    h.check();
    CHECK(h.finished(60)->state == FinalState::kUnanswered);
    CHECK(h.call(1).phase == CallPhase::kOffering);
  }
}

TEST_CASE("an internal call is refused when the callee cannot take it", "[core][agent][internal]") {
  Harness h;
  h.setup(3);
  h.cb.q(0).wrap_up = 60s;
  h.apply();
  h.login(2);
  SECTION("callee logged out") {
    expect_refused(h, ErrorCode::kInvalidState,
                   [&] { return h.core.start_outbound(A(2), C(60), CallKind::kInternal, A(0)); });
  }
  for (AgentState s : {AgentState::kReserved, AgentState::kRinging, AgentState::kTalking,
                       AgentState::kHeld, AgentState::kDialing, AgentState::kWrapUp}) {
    DYNAMIC_SECTION("callee " << to_string(s)) {
      // drive_to uses agent 0 and only agent 0 may take call 900: agent 2 goes NotReady.
      h.not_ready(2, "x");
      drive_to(h, s);
      expect_refused(h, ErrorCode::kInvalidState,
                     [&] { return h.core.start_outbound(A(2), C(60), CallKind::kInternal, A(0)); });
    }
  }
  SECTION("calling oneself or nobody") {
    expect_refused(h, ErrorCode::kInvalidArgument,
                   [&] { return h.core.start_outbound(A(2), C(60), CallKind::kInternal, A(2)); });
    expect_refused(h, ErrorCode::kNotFound,
                   [&] { return h.core.start_outbound(A(2), C(60), CallKind::kInternal, A(99)); });
  }
}

// Regression (fixed core bug): the callee of an internal call always goes to after_call(..., 0) ->
// finish_wrap_up -> make_ready when the call ends. An agent on NotReady("lunch") who picks
// up a colleague's internal call comes back Ready and is given inbound calls; they should
// return to their previous NotReady reason (as outbound_failed already does).
TEST_CASE("the NotReady callee of an internal call returns to NotReady when it ends",
          "[core][agent][internal]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0);
  h.login(1, false);
  h.not_ready(1, "lunch");
  REQUIRE(h.core.start_outbound(A(0), C(60), CallKind::kInternal, A(1)).is_ok());
  REQUIRE(h.core.outbound_answered(C(60)).is_ok());
  h.advance(30s);
  h.hang_up(60);
  CHECK(h.state(1) == AgentState::kNotReady);
  CHECK(h.reason(1) == "lunch");
}

TEST_CASE("every request refused by the state machine leaves the reason table unchanged",
          "[core][agent]") {
  // Regression (fixed core bug): set_not_ready interns the reason name before checking the agent's
  // state, so a refused request (logged out, on a call) still adds the name to the reason table
  // (visible in snapshot().reasons and find_reason). Refused requests must change nothing;
  // also any desktop can fill the 1024-entry table with refused requests.
  Harness h;
  h.setup(1);
  h.apply();
  const auto reasons_before = h.core.snapshot().reasons.size();
  REQUIRE(h.core.set_not_ready(A(0), "never-accepted").code() == ErrorCode::kInvalidState);
  CHECK_FALSE(h.core.find_reason("never-accepted").has_value());
  CHECK(h.core.snapshot().reasons.size() == reasons_before);
}

TEST_CASE("AgentStateChanged carries the call and the time of every transition of a call",
          "[core][agent]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).wrap_up = 10s;
  h.apply();
  h.login(0);
  const auto before = h.mark();
  h.advance(3s);
  h.enqueue(5);
  h.advance(2s);
  h.ring(5, 0);
  h.advance(2s);
  REQUIRE(h.core.offer_answered(C(5), A(0)).is_ok());
  h.advance(20s);
  h.hang_up(5);
  h.advance(10s);
  const auto changes = h.all<AgentStateChanged>(before);
  REQUIRE(changes.size() == 5);
  const std::vector<std::pair<AgentState, Cause>> expected = {
      {AgentState::kReserved, Cause::kRouter},
      {AgentState::kRinging, Cause::kCall},
      {AgentState::kTalking, Cause::kCall},
      {AgentState::kWrapUp, Cause::kCall},
      {AgentState::kReady, Cause::kTimer}};
  const std::vector<Duration> at = {3s, 5s, 7s, 27s, 37s};
  for (std::size_t i = 0; i < changes.size(); ++i) {
    INFO("transition " << i);
    CHECK(changes[i].to == expected[i].first);
    CHECK(changes[i].cause == expected[i].second);
    CHECK(changes[i].at - TimePoint{} == at[i]);
    if (i < 4) CHECK(changes[i].call == C(5));
  }
}

// =====================================================================================
// Routing: immediate matching and the call's life with an agent
// =====================================================================================

TEST_CASE("a call entering with a Ready eligible agent is offered at once", "[core][routing]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).ring_timeout = 25s;
  h.apply();
  h.login(0);
  h.advance(4s);
  const auto before = h.mark();
  h.enqueue(1);
  const auto queued = h.all<CallQueued>(before);
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].queue == Q(0));
  const auto offers = h.all<CallOffered>(before);
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].call == C(1));
  CHECK(offers[0].agent == A(0));
  CHECK(offers[0].queue == Q(0));
  CHECK(offers[0].ring_timeout == 25s);
  CHECK(offers[0].at == h.now());
  CHECK(h.state(0) == AgentState::kReserved);
  CHECK(h.view(0).call == C(1));
  CHECK(h.view(0).call_kind == CallKind::kInbound);
  const auto v = h.call(1);
  CHECK(v.phase == CallPhase::kOffering);
  CHECK(v.offered_to == std::vector<AgentId>{A(0)});
  CHECK(v.position == 0);
  CHECK(h.core.next_deadline() == h.now() + 25s);
}

TEST_CASE("an agent becoming Ready takes the best waiting call at once", "[core][routing]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0, false);
  h.enqueue(1);
  h.advance(1s);
  h.enqueue(2);
  CHECK(h.call(1).position == 1);
  CHECK(h.call(2).position == 2);
  CHECK(h.queue(0).waiting == 2);
  h.ready(0);
  CHECK(h.offered_to(1) == 0u);
  CHECK(h.call(2).position == 1);
  SECTION("also on login") {
    Harness g;
    g.setup(1);
    g.apply();
    g.enqueue(1);
    g.login(0, true);
    CHECK(g.offered_to(1) == 0u);
  }
}

TEST_CASE("ringing, answer and hang-up: Ringing, Talking with CallConnected, CallFinished",
          "[core][routing]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0, false);
  h.enqueue(1);
  h.advance(12s);
  h.ready(0);
  h.advance(1s);
  h.ring(1, 0);
  CHECK(h.state(0) == AgentState::kRinging);
  h.advance(3s);
  REQUIRE(h.core.offer_answered(C(1), A(0)).is_ok());
  h.check();
  CHECK(h.state(0) == AgentState::kTalking);
  const auto connected = h.last<CallConnected>();
  REQUIRE(connected);
  CHECK(connected->agent == A(0));
  CHECK(connected->waited == 16s);
  CHECK(h.call(1).phase == CallPhase::kConnected);
  CHECK(h.call(1).agent == A(0));
  CHECK(h.queue(0).waiting == 0);
  h.advance(100s);
  h.hang_up(1);
  const auto fin = h.finished(1);
  REQUIRE(fin);
  CHECK(fin->state == FinalState::kCompleted);
  CHECK(fin->agent == A(0));
  CHECK(fin->waited == 16s);
  CHECK(fin->talk == 100s);
  CHECK(fin->queue == Q(0));
  CHECK(fin->arrived == TimePoint{});
  CHECK(h.state(0) == AgentState::kReady);
  CHECK(h.core.calls_in_system() == 0);
}

TEST_CASE("an agent may answer without a ringing step", "[core][routing]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  h.enqueue(1);
  REQUIRE(h.core.offer_answered(C(1), A(0)).is_ok());
  h.check();
  CHECK(h.state(0) == AgentState::kTalking);
}

TEST_CASE("offer progress for an agent who is not being offered the call is refused",
          "[core][routing]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0);
  h.login(1, false);
  h.enqueue(1);
  REQUIRE(h.offered_to(1) == 0u);
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.offer_ringing(C(1), A(1)); });
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.offer_answered(C(1), A(1)); });
  expect_refused(h, ErrorCode::kInvalidState,
                 [&] { return h.core.offer_failed(C(1), A(1), OfferEndReason::kBusy); });
  expect_refused(h, ErrorCode::kInvalidArgument,
                 [&] { return h.core.offer_failed(C(1), A(0), OfferEndReason::kCallerGone); });
  h.answer(1, 0);
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.offer_answered(C(1), A(0)); });
}

// =====================================================================================
// Strategies
// =====================================================================================

TEST_CASE("longest-idle offers the agent who became Ready earliest", "[core][strategy]") {
  Harness h;
  h.setup(3, Strategy::kLongestIdle);
  h.apply();
  for (std::uint32_t a : {0u, 1u, 2u}) h.login(a, false);
  h.ready(2);
  h.advance(10s);
  h.ready(0);
  h.advance(10s);
  h.ready(1);
  h.enqueue(1);
  CHECK(h.offered_to(1) == 2u);
  h.enqueue(2);
  CHECK(h.offered_to(2) == 0u);
  h.answer(1, 2);
  h.advance(10s);
  h.hang_up(1);  // agent 2 Ready again, idle since now
  h.enqueue(3);
  CHECK(h.offered_to(3) == 1u);
}

TEST_CASE("least-talk-time offers the agent with the least total talk time", "[core][strategy]") {
  Harness h;
  h.setup(2, Strategy::kLeastTalkTime);
  h.apply();
  h.login(0);
  h.login(1, false);
  h.enqueue(1);
  h.serve(1, 0, 100s);  // agent 0: 100 s of talk, Ready since t=100
  h.ready(1);
  h.enqueue(2);
  CHECK(h.offered_to(2) == 1u);  // 0 s of talk
  h.serve(2, 1, 30s);            // agent 1: 30 s, Ready since t=130
  h.enqueue(3);
  CHECK(h.offered_to(3) == 1u);  // longest idle would be agent 0
  CHECK(h.agent_snap(0).counters.talk == 100s);
  CHECK(h.agent_snap(1).counters.talk == 30s);
}

TEST_CASE("fewest-calls offers the agent who handled the fewest calls", "[core][strategy]") {
  Harness h;
  h.setup(2, Strategy::kFewestCalls);
  h.apply();
  h.login(0);
  h.login(1, false);
  h.enqueue(1);
  h.serve(1, 0, 10s);
  h.enqueue(2);
  h.serve(2, 0, 10s);  // agent 0: 2 calls, Ready since t=20
  h.ready(1);
  h.enqueue(3);
  CHECK(h.offered_to(3) == 1u);
  h.serve(3, 1, 100s);  // agent 1: 1 call, 100 s, Ready since t=120
  h.enqueue(4);
  CHECK(h.offered_to(4) == 1u);  // least talk and longest idle would pick agent 0
}

TEST_CASE("round-robin offers the member after the last one offered, wrapping around",
          "[core][strategy]") {
  Harness h;
  h.setup(3, Strategy::kRoundRobin);
  h.apply();
  for (std::uint32_t a : {2u, 1u, 0u}) h.login(a);  // login order must not matter
  std::vector<std::uint32_t> picks;
  for (std::uint64_t c = 1; c <= 5; ++c) {
    h.enqueue(c);
    picks.push_back(*h.offered_to(c));
    h.serve(c, picks.back(), 5s);
  }
  CHECK(picks == std::vector<std::uint32_t>{0, 1, 2, 0, 1});
  SECTION("a busy member is skipped") {
    // Last offered: agent 1. Agent 2 is busy, so agent 0 is next.
    h.not_ready(2, "x");
    h.enqueue(10);
    CHECK(h.offered_to(10) == 0u);
    h.serve(10, 0, 5s);
    h.ready(2);
    h.enqueue(11);
    CHECK(h.offered_to(11) == 1u);
  }
}

TEST_CASE("top-down always offers the first free member in list order", "[core][strategy]") {
  Harness h;
  h.setup(3, Strategy::kTopDown);
  h.apply();
  for (std::uint32_t a : {2u, 1u, 0u}) h.login(a);
  for (std::uint64_t c = 1; c <= 3; ++c) {
    h.enqueue(c);
    CHECK(h.offered_to(c) == 0u);
    h.serve(c, 0, 5s);
  }
  h.enqueue(4);
  h.enqueue(5);
  h.enqueue(6);
  CHECK(h.offered_to(4) == 0u);
  CHECK(h.offered_to(5) == 1u);
  CHECK(h.offered_to(6) == 2u);
}

TEST_CASE(
    "ring-all offers every eligible agent of the best tier and penalty at once; the "
    "first to answer wins",
    "[core][strategy][ringall]") {
  Harness h;
  h.cb.queue(0).strategy = Strategy::kRingAll;
  for (std::uint32_t a = 0; a < 5; ++a) h.cb.agent(a);
  h.cb.member(0, 0);
  h.cb.member(0, 1);
  h.cb.member(0, 2);
  h.cb.member(0, 3, 1, /*penalty=*/1);
  h.cb.member(0, 4, /*tier=*/2);
  h.apply();
  for (std::uint32_t a = 0; a < 5; ++a) {
    h.login(a);
    h.advance(1s);
  }
  const auto idle0 = h.agent_snap(0).idle_since;
  const auto before = h.mark();
  h.enqueue(1);
  auto offered = h.offers_of(1, before);
  std::sort(offered.begin(), offered.end());
  REQUIRE(offered == std::vector<std::uint32_t>{0, 1, 2});
  for (std::uint32_t a : {0u, 1u, 2u}) CHECK(h.state(a) == AgentState::kReserved);
  CHECK(h.state(3) == AgentState::kReady);
  CHECK(h.state(4) == AgentState::kReady);
  CHECK(h.call(1).offered_to.size() == 3);

  SECTION("first answer wins") {
    for (std::uint32_t a : {0u, 1u, 2u}) h.ring(1, a);
    const auto answer_mark = h.mark();
    REQUIRE(h.core.offer_answered(C(1), A(1)).is_ok());
    h.check();
    const auto ended = h.all<OfferEnded>(answer_mark);
    REQUIRE(ended.size() == 2);
    for (const auto& e : ended) {
      CHECK(e.reason == OfferEndReason::kAnsweredElsewhere);
      CHECK((e.agent == A(0) || e.agent == A(2)));
    }
    CHECK(h.state(1) == AgentState::kTalking);
    CHECK(h.state(0) == AgentState::kReady);
    CHECK(h.state(2) == AgentState::kReady);
    CHECK(h.agent_snap(0).idle_since == idle0);  // keeps its place
    CHECK(h.count<CallConnected>() == 1);
    expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.offer_answered(C(1), A(0)); });
  }
  SECTION("nobody answers: everyone rung is RONA'd and the next penalty is rung") {
    const auto ring_mark = h.mark();
    h.advance(15s);
    CHECK(h.count<OfferEnded>(ring_mark) == 3);
    for (std::uint32_t a : {0u, 1u, 2u}) {
      CHECK(h.state(a) == AgentState::kNotReady);
      CHECK(h.reason(a) == "no-answer");
    }
    CHECK(h.offers_of(1, ring_mark) == std::vector<std::uint32_t>{3});
  }
  SECTION("one agent declines: the others keep ringing") {
    REQUIRE(h.core.offer_failed(C(1), A(0), OfferEndReason::kDeclined).is_ok());
    h.check();
    CHECK(h.call(1).phase == CallPhase::kOffering);
    CHECK(h.call(1).offered_to.size() == 2);
  }
  SECTION("the caller hangs up: every ringing phone stops") {
    const auto hang_mark = h.mark();
    h.hang_up(1);
    const auto ended = h.all<OfferEnded>(hang_mark);
    CHECK(ended.size() == 3);
    for (const auto& e : ended) CHECK(e.reason == OfferEndReason::kCallerGone);
    for (std::uint32_t a : {0u, 1u, 2u}) CHECK(h.state(a) == AgentState::kReady);
  }
}

TEST_CASE("ring-all rings at most ring_all_limit agents, the longest idle first",
          "[core][strategy][ringall]") {
  Harness h;
  h.setup(4, Strategy::kRingAll);
  h.cb.q(0).ring_all_limit = 2;
  h.apply();
  for (std::uint32_t a : {3u, 1u, 0u, 2u}) {
    h.login(a);
    h.advance(1s);
  }
  h.enqueue(1);
  auto offered = h.offers_of(1);
  std::sort(offered.begin(), offered.end());
  CHECK(offered == std::vector<std::uint32_t>{1, 3});
  h.enqueue(2);
  offered = h.offers_of(2);
  std::sort(offered.begin(), offered.end());
  CHECK(offered == std::vector<std::uint32_t>{0, 2});
}

TEST_CASE("random picks uniformly among eligible agents", "[core][strategy][random]") {
  Harness h(12345);
  h.setup(3, Strategy::kRandom);
  h.cb.agent(3);
  h.cb.member(0, 3, 1, /*penalty=*/1);  // never picked while penalty-0 agents are free
  h.apply();
  for (std::uint32_t a = 0; a < 4; ++a) h.login(a);
  std::vector<int> picks(4, 0);
  constexpr int kCalls = 600;
  for (int i = 0; i < kCalls; ++i) {
    const auto id = static_cast<std::uint64_t>(1000 + i);
    h.enqueue(id);
    const auto a = h.offered_to(id);
    REQUIRE(a);
    ++picks[*a];
    h.hang_up(id);  // abandon while ringing: the agent is Ready again
  }
  CHECK(picks[3] == 0);
  for (int a = 0; a < 3; ++a) {
    INFO("agent " << a << " picked " << picks[static_cast<std::size_t>(a)] << " times");
    CHECK(picks[static_cast<std::size_t>(a)] > 150);
    CHECK(picks[static_cast<std::size_t>(a)] < 250);
  }
}

TEST_CASE("weighted-random picks in proportion to member weights", "[core][strategy][random]") {
  Harness h(2024);
  h.setup(2, Strategy::kWeightedRandom);
  h.cb.m(0, 0).weight = 1;
  h.cb.m(0, 1).weight = 3;
  h.apply();
  h.login(0);
  h.login(1);
  int heavy = 0;
  constexpr int kCalls = 800;
  for (int i = 0; i < kCalls; ++i) {
    const auto id = static_cast<std::uint64_t>(1000 + i);
    h.enqueue(id);
    if (h.offered_to(id) == 1u) ++heavy;
    h.hang_up(id);
  }
  INFO("weight-3 agent picked " << heavy << " of " << kCalls);
  CHECK(heavy > kCalls * 65 / 100);
  CHECK(heavy < kCalls * 85 / 100);
}

TEST_CASE("best-proficiency offers the highest summed proficiency, ties by longest idle",
          "[core][strategy]") {
  Harness h;
  h.cb.skill(0, "billing");
  h.cb.skill(1, "spanish");
  h.cb.skill(2, "unrelated");
  auto& q = h.cb.queue(0);
  q.strategy = Strategy::kBestProficiency;
  q.required_skills = {{S(0), 1, false}, {S(1), 1, false}};
  const std::vector<std::vector<AgentSkill>> skills = {
      {{S(0), 5}, {S(1), 5}, {S(2), 10}},  // 10 (the unrelated skill does not count)
      {{S(0), 9}, {S(1), 6}},              // 15
      {{S(0), 6}, {S(1), 6}},              // 12
      {{S(0), 7}, {S(1), 8}},              // 15
  };
  for (std::uint32_t a = 0; a < 4; ++a) {
    h.cb.agent(a).skills = skills[a];
    h.cb.member(0, a);
  }
  h.apply();
  for (std::uint32_t a : {0u, 2u, 3u, 1u}) {
    h.login(a);
    h.advance(1s);
  }
  h.enqueue(1);
  CHECK(h.offered_to(1) == 3u);  // 15, idle longer than agent 1
  h.enqueue(2);
  CHECK(h.offered_to(2) == 1u);
  h.enqueue(3);
  CHECK(h.offered_to(3) == 2u);
  h.enqueue(4);
  CHECK(h.offered_to(4) == 0u);
}

TEST_CASE(
    "tiers: a lower tier is strictly preferred and higher tiers are not eligible "
    "unless brought in",
    "[core][strategy][tier]") {
  Harness h;
  h.cb.queue(0);
  h.cb.agent(0);
  h.cb.agent(1);
  h.cb.member(0, 0, /*tier=*/2);
  h.cb.member(0, 1, /*tier=*/1);
  h.apply();
  h.login(0);
  h.login(1, false);
  h.enqueue(1);
  CHECK(h.call(1).phase == CallPhase::kWaiting);  // the tier-2 agent is Ready but not eligible
  h.advance(10min);
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  h.ready(1);
  CHECK(h.offered_to(1) == 1u);
  SECTION("tier 1 wins even against a longer-idle tier-2 agent") {
    h.serve(1, 1, 5s);
    h.enqueue(2);
    CHECK(h.offered_to(2) == 1u);
  }
}

TEST_CASE("penalty: within a tier, the lowest penalty is offered first", "[core][strategy][tier]") {
  Harness h;
  h.cb.queue(0);
  h.cb.agent(0);
  h.cb.agent(1);
  h.cb.member(0, 0, 1, /*penalty=*/5);
  h.cb.member(0, 1, 1, /*penalty=*/0);
  h.apply();
  h.login(0);  // idle longest
  h.advance(30s);
  h.login(1);
  h.enqueue(1);
  CHECK(h.offered_to(1) == 1u);
  h.enqueue(2);
  CHECK(h.offered_to(2) == 0u);  // higher penalty is still eligible when nobody better is free
}

TEST_CASE("queue_priority: an agent in several queues serves their preferred queue first",
          "[core][strategy][tier]") {
  Harness h;
  h.cb.queue(0);
  h.cb.queue(1);
  h.cb.agent(0);
  h.cb.member(0, 0).queue_priority = 1;
  h.cb.member(1, 0).queue_priority = 0;
  h.apply();
  h.login(0, false);
  h.enqueue(1, 0, /*priority=*/10);
  h.advance(10s);
  h.enqueue(2, 1, /*priority=*/0);
  h.ready(0);
  CHECK(h.offered_to(2) == 0u);  // queue 1 first despite the older, higher-priority call
  h.serve(2, 0);
  CHECK(h.offered_to(1) == 0u);
}

TEST_CASE("between queues of equal queue_priority the higher effective priority wins",
          "[core][strategy][tier]") {
  Harness h;
  h.cb.queue(0);
  h.cb.queue(1);
  h.cb.agent(0);
  h.cb.member(0, 0);
  h.cb.member(1, 0);
  h.apply();
  h.login(0, false);
  h.enqueue(1, 0, 1);
  h.advance(5s);
  h.enqueue(2, 1, 7);
  h.advance(5s);
  h.enqueue(3, 0, 7);
  h.ready(0);
  CHECK(h.offered_to(2) == 0u);  // priority 7, earlier than call 3
  h.serve(2, 0);
  CHECK(h.offered_to(3) == 0u);
  h.serve(3, 0);
  CHECK(h.offered_to(1) == 0u);
}

// =====================================================================================
// Priority and aging
// =====================================================================================

TEST_CASE("the highest priority is served first, ties by earliest enqueue", "[core][priority]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0, false);
  h.enqueue(1, 0, 0);
  h.advance(1s);
  h.enqueue(2, 0, 5);
  h.advance(1s);
  h.enqueue(3, 0, 5);
  h.advance(1s);
  h.enqueue(4, 0, 0);
  h.advance(1s);
  h.enqueue(5, 0, -3);
  CHECK(h.call(2).position == 1);
  CHECK(h.call(3).position == 2);
  CHECK(h.call(1).position == 3);
  CHECK(h.call(4).position == 4);
  CHECK(h.call(5).position == 5);
  h.ready(0);
  std::vector<std::uint64_t> order;
  for (int i = 0; i < 5; ++i) {
    const auto offered = h.last<CallOffered>();
    REQUIRE(offered);
    order.push_back(offered->call.value);
    h.serve(offered->call.value, 0, 5s);
  }
  CHECK(order == std::vector<std::uint64_t>{2, 3, 1, 4, 5});
}

TEST_CASE("each VIP level adds the queue's vip_boost", "[core][priority]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).vip_boost = 100;
  h.apply();
  h.login(0, false);
  h.enqueue(1, 0, 150);
  CallSpec vip = Harness::spec(2, "", 0);
  vip.vip_level = 2;  // 200
  h.enqueue_spec(vip);
  CallSpec vip1 = Harness::spec(3, "", 60);
  vip1.vip_level = 1;  // 160
  h.enqueue_spec(vip1);
  h.ready(0);
  CHECK(h.offered_to(2) == 0u);
  h.serve(2, 0);
  CHECK(h.offered_to(3) == 0u);
  h.serve(3, 0);
  CHECK(h.offered_to(1) == 0u);
  SECTION("VIP level out of range is refused") {
    CallSpec bad = Harness::spec(9);
    bad.vip_level = 101;
    expect_refused(h, ErrorCode::kInvalidArgument, [&] { return h.core.enqueue(bad, Q(0)); });
  }
}

TEST_CASE("aging lets an old low-priority call overtake a newer higher-priority one",
          "[core][priority][aging]") {
  // Call 1 (priority 0) waits 6 minutes before call 2 (priority 5) arrives. With 1 point
  // per minute, call 1 is worth 6 + t and call 2 is worth 5 + t: call 1 goes first. Without
  // aging, call 2 goes first.
  Harness h;
  h.setup(1);
  double aging = 0;
  std::uint64_t first = 0;
  SECTION("aging 1 point per minute") {
    aging = 1.0;
    first = 1;
  }
  SECTION("no aging") {
    aging = 0.0;
    first = 2;
  }
  h.cb.q(0).aging_per_minute = aging;
  h.apply();
  h.login(0, false);
  h.enqueue(1, 0, 0);
  h.advance(6min);
  h.enqueue(2, 0, 5);
  h.advance(30s);
  CHECK(h.call(first).position == 1);
  h.ready(0);
  CHECK(h.last<CallOffered>()->call == C(first));
}

TEST_CASE("aging ranks calls by waiting time: a call catches up at the configured rate",
          "[core][priority][aging]") {
  // Call 1 (priority 0) at t=0; call 2 (priority 3) at t=2 min; aging 1/min.
  // Effective at t: call 1 = t, call 2 = 3 + (t - 2) = t + 1: call 2 stays ahead.
  Harness h;
  h.setup(1);
  h.cb.q(0).aging_per_minute = 1.0;
  h.apply();
  h.login(0, false);
  h.enqueue(1, 0, 0);
  h.advance(2min);
  h.enqueue(2, 0, 3);
  h.advance(30min);
  CHECK(h.call(2).position == 1);
  h.ready(0);
  CHECK(h.last<CallOffered>()->call == C(2));
}

TEST_CASE("aging compares calls across queues by their effective priority now",
          "[core][priority][aging]") {
  // Queue 0 ages 2 points per minute, queue 1 does not. Call 1 (q0, priority 0) at t=0,
  // call 2 (q1, priority 10) at t=0. At t=4 min: call 1 = 8 < 10. At t=6 min: 12 > 10.
  for (int minutes : {4, 6}) {
    DYNAMIC_SECTION("agent ready after " << minutes << " minutes") {
      Harness h;
      h.cb.queue(0).aging_per_minute = 2.0;
      h.cb.queue(1);
      h.cb.agent(0);
      h.cb.member(0, 0);
      h.cb.member(1, 0);
      h.apply();
      h.login(0, false);
      h.enqueue(1, 0, 0);
      h.enqueue(2, 1, 10);
      h.advance(std::chrono::minutes(minutes));
      h.ready(0);
      CHECK(h.last<CallOffered>()->call == C(minutes == 4 ? 2 : 1));
    }
  }
}

TEST_CASE("set_call_priority re-orders a waiting call", "[core][priority]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0, false);
  h.enqueue(1);
  h.advance(1s);
  h.enqueue(2);
  CHECK(h.call(2).position == 2);
  REQUIRE(h.core.set_call_priority(C(2), 10).is_ok());
  h.check();
  CHECK(h.call(2).position == 1);
  CHECK(h.call(1).position == 2);
  SECTION("served in the new order") {
    h.ready(0);
    CHECK(h.offered_to(2) == 0u);
  }
  SECTION("lowered again") {
    REQUIRE(h.core.set_call_priority(C(2), -1).is_ok());
    CHECK(h.call(2).position == 2);
  }
  SECTION("refusals") {
    expect_refused(h, ErrorCode::kInvalidArgument,
                   [&] { return h.core.set_call_priority(C(2), 2000000); });
    expect_refused(h, ErrorCode::kNotFound, [&] { return h.core.set_call_priority(C(99), 1); });
    REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
    expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.set_call_priority(C(50), 1); });
  }
}

// =====================================================================================
// Skills and escalation
// =====================================================================================

TEST_CASE("an agent lacking a required skill is never eligible, whatever the escalation",
          "[core][skills][escalation]") {
  Harness h;
  h.cb.skill(0, "billing");
  h.cb.skill(1, "french");
  auto& q = h.cb.queue(0);
  q.required_skills = {{S(0), 1, false}};
  q.escalation = {{30s, 10, true, 9}};  // relax everything there is to relax
  h.cb.agent(0).skills = {{S(1), 10}};
  h.cb.member(0, 0);
  h.apply();
  h.login(0);
  h.enqueue(1);
  h.advance(1h);
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  CHECK(h.call(1).escalation_step == 1);
  CHECK(h.state(0) == AgentState::kReady);
}

TEST_CASE("escalation relaxes the minimum level step by step, cumulatively",
          "[core][skills][escalation]") {
  Harness h;
  h.cb.skill(0, "billing");
  auto& q = h.cb.queue(0);
  q.required_skills = {{S(0), 5, false}};
  q.escalation = {{30s, 1, false, 0}, {60s, 1, false, 0}, {90s, 5, false, 0}};
  h.cb.agent(0).skills = {{S(0), 3}};  // 2 below the minimum
  h.cb.agent(1).skills = {{S(0), 1}};  // 4 below
  h.cb.agent(2).skills = {{S(0), 5}};
  for (std::uint32_t a = 0; a < 3; ++a) h.cb.member(0, a);
  h.apply();
  h.login(0);
  h.login(1);
  h.login(2, false);
  h.enqueue(1);
  h.advance(29s);
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  h.advance(1s);
  auto escalated = h.all<CallEscalated>();
  REQUIRE(escalated.size() == 1);
  CHECK(escalated[0].step == 1);
  CHECK(escalated[0].call == C(1));
  CHECK(escalated[0].queue == Q(0));
  CHECK(escalated[0].at - TimePoint{} == 30s);
  CHECK(h.call(1).phase == CallPhase::kWaiting);  // relaxed by 1 only
  h.advance(30s);
  CHECK(h.all<CallEscalated>().back().step == 2);
  CHECK(h.offered_to(1) == 0u);  // relaxed by 2: agent 0 (level 3) qualifies
  CHECK(h.all<CallOffered>().back().at - TimePoint{} == 60s);
  SECTION("a fully qualified agent is still preferred before escalation") {
    h.enqueue(2);
    h.ready(2);
    CHECK(h.offered_to(2) == 2u);
  }
  SECTION("the level-1 agent qualifies after the third step (floor at 1)") {
    h.answer(1, 0);
    h.enqueue(2);  // new call: step 0 again
    h.advance(89s);
    CHECK(h.call(2).phase == CallPhase::kWaiting);
    h.advance(1s);
    CHECK(h.offered_to(2) == 1u);
    CHECK(h.call(2).escalation_step == 3);
  }
}

TEST_CASE("an escalation step may drop optional skills", "[core][skills][escalation]") {
  Harness h;
  h.cb.skill(0, "billing");
  h.cb.skill(1, "spanish");
  auto& q = h.cb.queue(0);
  q.required_skills = {{S(0), 1, false}, {S(1), 3, true}};
  q.escalation = {{20s, 0, true, 0}};
  h.cb.agent(0).skills = {{S(0), 4}};             // lacks the optional skill
  h.cb.agent(1).skills = {{S(0), 4}, {S(1), 2}};  // below the optional minimum
  h.cb.agent(2).skills = {{S(0), 4}, {S(1), 5}};
  for (std::uint32_t a = 0; a < 3; ++a) h.cb.member(0, a);
  h.apply();
  h.login(0);
  h.login(1);
  h.login(2, false);
  h.enqueue(1);
  CHECK(h.call(1).phase == CallPhase::kWaiting);  // optional skills apply until dropped
  SECTION("dropped after 20 s") {
    h.advance(20s);
    CHECK(h.offered_to(1) == 0u);  // longest idle among 0 and 1
  }
  SECTION("a fully skilled agent takes it before") {
    h.advance(10s);
    h.ready(2);
    CHECK(h.offered_to(1) == 2u);
  }
}

TEST_CASE("an escalation step may bring in backup tiers", "[core][tier][escalation]") {
  Harness h;
  auto& q = h.cb.queue(0);
  q.escalation = {{45s, 0, false, 2}, {90s, 0, false, 3}};
  for (std::uint32_t a = 0; a < 3; ++a) h.cb.agent(a);
  h.cb.member(0, 0, 1);
  h.cb.member(0, 1, 2);
  h.cb.member(0, 2, 3);
  h.apply();
  h.login(0, false);
  h.login(2);
  h.login(1);
  h.enqueue(1);
  h.enqueue(2);
  h.advance(44s);
  CHECK(h.count<CallOffered>() == 0);
  h.advance(1s);
  CHECK(h.offered_to(1) == 1u);  // tier 2 now; tier 3 not yet
  CHECK(h.call(2).phase == CallPhase::kWaiting);
  h.answer(1, 1);
  h.advance(45s);
  CHECK(h.offered_to(2) == 2u);
}

TEST_CASE("a call's extra skills apply to that call only", "[core][skills]") {
  Harness h;
  h.cb.skill(0, "billing");
  h.cb.skill(1, "german");
  auto& q = h.cb.queue(0);
  q.required_skills = {{S(0), 1, false}};
  q.escalation = {{40s, 0, true, 0}};
  h.cb.agent(0).skills = {{S(0), 5}, {S(1), 2}};
  h.cb.agent(1).skills = {{S(0), 5}, {S(1), 4}};
  h.cb.member(0, 0);
  h.cb.member(0, 1);
  h.apply();
  h.login(0);  // longest idle
  h.advance(1s);
  h.login(1);
  SECTION("required extra skill") {
    CallSpec s = Harness::spec(1);
    s.extra_skills = {{S(1), 3, false}};
    h.enqueue_spec(s);
    CHECK(h.offered_to(1) == 1u);
    h.enqueue(2);  // plain call: longest idle
    CHECK(h.offered_to(2) == 0u);
  }
  SECTION("nobody has it: the call waits while others are served") {
    CallSpec s = Harness::spec(1);
    s.extra_skills = {{S(1), 5, false}};
    h.enqueue_spec(s);
    CHECK(h.call(1).phase == CallPhase::kWaiting);
    h.enqueue(2);
    CHECK(h.offered_to(2) == 0u);
  }
  SECTION("optional extra skill is dropped by escalation") {
    h.not_ready(1, "x");
    CallSpec s = Harness::spec(1);
    s.extra_skills = {{S(1), 3, true}};
    h.enqueue_spec(s);
    CHECK(h.call(1).phase == CallPhase::kWaiting);
    h.advance(40s);
    CHECK(h.offered_to(1) == 0u);
  }
  SECTION("an unknown skill or a bad level is refused") {
    CallSpec s = Harness::spec(1);
    s.extra_skills = {{S(9), 3, false}};
    expect_refused(h, ErrorCode::kNotFound, [&] { return h.core.enqueue(s, Q(0)); });
    s.extra_skills = {{S(1), 11, false}};
    expect_refused(h, ErrorCode::kInvalidArgument, [&] { return h.core.enqueue(s, Q(0)); });
  }
}

TEST_CASE("an escalated call keeps its step when it returns to the queue after RONA",
          "[core][escalation][rona]") {
  Harness h;
  h.cb.skill(0, "billing");
  auto& q = h.cb.queue(0);
  q.required_skills = {{S(0), 5, false}};
  q.escalation = {{30s, 2, false, 0}};
  h.cb.agent(0).skills = {{S(0), 3}};
  h.cb.agent(1).skills = {{S(0), 3}};
  h.cb.member(0, 0);
  h.cb.member(0, 1);
  h.apply();
  h.login(0);
  h.login(1, false);
  h.enqueue(1);
  h.advance(30s);
  REQUIRE(h.offered_to(1) == 0u);
  h.advance(15s);  // RONA
  CHECK(h.call(1).escalation_step == 1);
  h.ready(1);
  CHECK(h.offered_to(1) == 1u);
}

// =====================================================================================
// The sustained overflow rule
// =====================================================================================

namespace {

// Queue 0 with the domain's rule (5 calls >= 10 s for 5 min; max tier 4; clear below 2
// calls for 2 min) and agents 0..3 as members of tiers 1..4, logged in NotReady.
void overflow_setup(Harness& h) {
  auto& q = h.cb.queue(0);
  q.overflow.enabled = true;
  q.overflow.min_calls = 5;
  q.overflow.min_wait = 10s;
  q.overflow.sustain = 5min;
  q.overflow.max_tier = 4;
  q.overflow.clear_below_calls = 2;
  q.overflow.clear_after = 2min;
  for (std::uint32_t a = 0; a < 4; ++a) {
    h.cb.agent(a);
    h.cb.member(0, a, static_cast<int>(a) + 1);
  }
  h.apply();
  for (std::uint32_t a = 0; a < 4; ++a) h.login(a, false);
}

std::vector<std::pair<int, int>> level_changes(const Harness& h, std::size_t from = 0) {
  std::vector<std::pair<int, int>> out;
  for (const auto& e : h.all<OverflowLevelChanged>(from)) out.emplace_back(e.from_tier, e.to_tier);
  return out;
}

}  // namespace

TEST_CASE(
    "overflow: 5 calls waiting 10 s or more for 5 minutes bring tier 2, then 3, then 4, "
    "and the tiers leave one by one after the condition clears",
    "[core][overflow]") {
  Harness h;
  overflow_setup(h);
  for (std::uint64_t c = 1; c <= 5; ++c) h.enqueue(c);
  CHECK(h.core.overflow_tier(Q(0)) == 1);
  h.advance_to(5min + 9s);
  CHECK(h.core.overflow_tier(Q(0)) == 1);
  h.advance_to(5min + 10s);
  CHECK(h.core.overflow_tier(Q(0)) == 2);
  CHECK(h.queue(0).overflow_tier == 2);
  auto changes = h.all<OverflowLevelChanged>();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].queue == Q(0));
  CHECK(changes[0].from_tier == 1);
  CHECK(changes[0].to_tier == 2);
  CHECK(changes[0].at - TimePoint{} == 5min + 10s);
  h.advance_to(10min + 9s);
  CHECK(h.core.overflow_tier(Q(0)) == 2);
  h.advance_to(10min + 10s);
  CHECK(h.core.overflow_tier(Q(0)) == 3);
  h.advance_to(15min + 10s);
  CHECK(h.core.overflow_tier(Q(0)) == 4);
  h.advance_to(40min);
  CHECK(h.core.overflow_tier(Q(0)) == 4);  // max_tier
  CHECK(level_changes(h) == std::vector<std::pair<int, int>>{{1, 2}, {2, 3}, {3, 4}});

  // The condition clears: one call left (< 2).
  for (std::uint64_t c = 1; c <= 4; ++c) h.hang_up(c);
  const auto cleared = h.mark();
  h.advance(2min - 1s);
  CHECK(h.core.overflow_tier(Q(0)) == 4);
  h.advance(1s);
  CHECK(h.core.overflow_tier(Q(0)) == 3);
  h.advance(2min);
  CHECK(h.core.overflow_tier(Q(0)) == 2);
  h.advance(2min);
  CHECK(h.core.overflow_tier(Q(0)) == 1);
  h.advance(1h);
  CHECK(level_changes(h, cleared) == std::vector<std::pair<int, int>>{{4, 3}, {3, 2}, {2, 1}});
}

TEST_CASE("overflow: a spike shorter than the sustain time changes nothing", "[core][overflow]") {
  Harness h;
  overflow_setup(h);
  for (std::uint64_t c = 1; c <= 6; ++c) h.enqueue(c);
  h.advance_to(4min + 59s);
  SECTION("calls abandon") {
    for (std::uint64_t c = 1; c <= 4; ++c) h.hang_up(c);
  }
  SECTION("calls are answered") {
    h.ready(0);
    h.answer(1, 0);
    h.ready(1);  // tier 2 is not eligible yet: agent 1 gets nothing
    CHECK(h.state(1) == AgentState::kReady);
    h.hang_up(2);  // 4 calls left over the threshold: below min_calls
  }
  h.advance(1h);
  CHECK(h.count<OverflowLevelChanged>() == 0);
  CHECK(h.core.overflow_tier(Q(0)) == 1);
}

TEST_CASE("overflow: the condition must hold continuously; an interruption restarts the clock",
          "[core][overflow]") {
  Harness h;
  overflow_setup(h);
  for (std::uint64_t c = 1; c <= 5; ++c) h.enqueue(c);  // condition from t=10 s
  h.advance_to(3min);
  h.hang_up(1);  // 4 calls: condition broken
  h.advance_to(3min + 30s);
  h.enqueue(6);  // over the threshold at 3:40: condition again
  h.advance_to(5min + 10s);
  CHECK(h.core.overflow_tier(Q(0)) == 1);
  h.advance_to(8min + 39s);
  CHECK(h.core.overflow_tier(Q(0)) == 1);
  h.advance_to(8min + 40s);
  CHECK(h.core.overflow_tier(Q(0)) == 2);
}

TEST_CASE("overflow hysteresis: between clear_below_calls and min_calls the tier holds",
          "[core][overflow]") {
  Harness h;
  overflow_setup(h);
  for (std::uint64_t c = 1; c <= 5; ++c) h.enqueue(c);
  h.advance_to(15min + 10s);
  REQUIRE(h.core.overflow_tier(Q(0)) == 4);
  h.hang_up(1);
  h.hang_up(2);  // 3 calls: not enough to rise, too many to clear
  const auto held = h.mark();
  h.advance(1h);
  CHECK(h.core.overflow_tier(Q(0)) == 4);
  CHECK(h.count<OverflowLevelChanged>(held) == 0);
  h.hang_up(3);  // 2 calls: still not below 2
  h.advance(1h);
  CHECK(h.core.overflow_tier(Q(0)) == 4);
  h.hang_up(4);  // 1 call: clears
  h.advance(2min);
  CHECK(h.core.overflow_tier(Q(0)) == 3);
  SECTION("clearing stops when calls build up again, and the tiers come back") {
    for (std::uint64_t c = 10; c <= 13; ++c) h.enqueue(c);  // 5 calls, over threshold in 10 s
    h.advance(10s);
    h.advance(1h);
    CHECK(h.core.overflow_tier(Q(0)) == 4);  // back up after another sustain, not down
    CHECK(level_changes(h, held) == std::vector<std::pair<int, int>>{{4, 3}, {3, 4}});
  }
}

TEST_CASE("overflow: tier-N members become eligible only when the overflow tier reaches N",
          "[core][overflow][tier]") {
  Harness h;
  overflow_setup(h);
  h.ready(1);  // tier 2
  h.ready(2);  // tier 3
  for (std::uint64_t c = 1; c <= 6; ++c) h.enqueue(c);
  h.advance_to(5min + 9s);
  CHECK(h.count<CallOffered>() == 0);
  h.advance_to(5min + 10s);
  CHECK(h.offered_to(1) == 1u);  // tier 2 joined: the first call goes to the tier-2 agent
  CHECK(h.count<CallOffered>() == 1);
  h.answer(1, 1);  // 5 calls still over the threshold
  h.advance_to(10min + 10s);
  CHECK(h.core.overflow_tier(Q(0)) == 3);
  CHECK(h.offered_to(2) == 2u);
}

TEST_CASE("overflow is off unless enabled", "[core][overflow]") {
  Harness h;
  h.setup(1);
  h.apply();
  for (std::uint64_t c = 1; c <= 10; ++c) h.enqueue(c);
  h.advance(2h);
  CHECK(h.count<OverflowLevelChanged>() == 0);
  CHECK(h.core.overflow_tier(Q(0)) == 1);
}

// Regression (fixed core bug): apply_config resets every queue's overflow trend to neutral and
// re-evaluates it, which restarts the sustain (and clear_after) countdown even when nothing
// relevant changed. The daemon reloads configuration whenever an administrator edits anything;
// reloads more often than `sustain` would keep the backup tiers out forever although the condition
// has held continuously.
TEST_CASE("overflow: a configuration reload does not restart the sustain countdown",
          "[core][overflow][config]") {
  Harness h;
  overflow_setup(h);
  for (std::uint64_t c = 1; c <= 5; ++c) h.enqueue(c);
  h.advance_to(3min);
  h.cb.a(0).name = "renamed";  // an unrelated edit
  h.apply();
  h.advance_to(5min + 10s);
  CHECK(h.core.overflow_tier(Q(0)) == 2);
}

// =====================================================================================
// Ring-no-answer
// =====================================================================================

TEST_CASE("ring-no-answer returns the call to its place and offers it to the next agent",
          "[core][rona]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0);
  h.login(1, false);
  h.enqueue(1);
  REQUIRE(h.offered_to(1) == 0u);
  h.ring(1, 0);
  h.advance(5s);
  h.enqueue(2);  // arrives after call 1
  h.advance(9s);
  CHECK(h.state(0) == AgentState::kRinging);
  const auto before = h.mark();
  h.advance(1s);  // 15 s ring timeout
  const auto ended = h.all<OfferEnded>(before);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].agent == A(0));
  CHECK(ended[0].call == C(1));
  CHECK(ended[0].reason == OfferEndReason::kNoAnswer);
  CHECK(ended[0].at - TimePoint{} == 15s);
  CHECK(h.state(0) == AgentState::kNotReady);
  CHECK(h.reason(0) == "no-answer");
  CHECK(h.last_change(0)->cause == Cause::kTimer);
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  CHECK(h.call(1).position == 1);  // ahead of call 2
  CHECK(h.call(2).position == 2);
  CHECK(h.agent_snap(0).counters.rona == 1);
  CHECK(h.agent_snap(0).counters.offered == 1);
  h.ready(1);
  CHECK(h.offered_to(1) == 1u);  // the returned call, not the newer one
  SECTION("the waited time still counts from the first entry") {
    h.answer(1, 1);
    CHECK(h.last<CallConnected>()->waited == 15s);
  }
}

TEST_CASE("ring-no-answer offers the call at once when another agent is Ready", "[core][rona]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0);
  h.advance(1s);
  h.login(1);
  h.enqueue(1);
  REQUIRE(h.offered_to(1) == 0u);
  h.advance(15s);
  CHECK(h.offered_to(1) == 1u);
  CHECK(h.all<CallOffered>().back().at - TimePoint{} == 16s);
  CHECK(h.state(1) == AgentState::kReserved);
}

TEST_CASE("ring-no-answer policies: NotReady, Ready or LoggedOut", "[core][rona]") {
  Harness h;
  h.setup(2);
  SECTION("Ready: the same agent is not offered the call again for rona_retry") {
    h.cb.q(0).rona_policy = RonaPolicy::kReady;
    h.cb.q(0).rona_retry = 30s;
    h.apply();
    h.login(0);
    h.enqueue(1);
    h.advance(15s);
    CHECK(h.state(0) == AgentState::kReady);
    CHECK(h.call(1).phase == CallPhase::kWaiting);  // invariants hold: agent 0 is excluded
    h.advance(29s);
    CHECK(h.count<CallOffered>() == 1);
    SECTION("other calls may go to that agent") {
      h.enqueue(2);
      CHECK(h.offered_to(2) == 0u);
    }
    SECTION("after rona_retry the call is offered to them again") {
      h.advance(1s);
      CHECK(h.count<CallOffered>() == 2);
      CHECK(h.all<CallOffered>().back().at - TimePoint{} == 45s);
      CHECK(h.offered_to(1) == 0u);
    }
    SECTION("another agent may take it meanwhile") {
      h.login(1);
      CHECK(h.offered_to(1) == 1u);
    }
  }
  SECTION("NotReady(no-answer)") {
    h.apply();
    h.login(0);
    h.enqueue(1);
    h.advance(15s);
    CHECK(h.state(0) == AgentState::kNotReady);
    CHECK(h.reason(0) == "no-answer");
    h.ready(0);  // readying again within rona_retry: still excluded for this call
    CHECK(h.call(1).phase == CallPhase::kWaiting);
    h.advance(30s);
    CHECK(h.offered_to(1) == 0u);
  }
  SECTION("LoggedOut") {
    h.cb.q(0).rona_policy = RonaPolicy::kLogout;
    h.apply();
    h.login(0);
    h.advance(1s);
    h.login(1);
    h.enqueue(1);
    h.advance(15s);
    CHECK(h.state(0) == AgentState::kLoggedOut);
    CHECK(h.last_change(0)->cause == Cause::kSystem);
    CHECK(h.offered_to(1) == 1u);
  }
}

TEST_CASE("an offer that fails: busy, declined, unreachable", "[core][rona]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0);
  h.advance(1s);
  h.login(1);
  h.enqueue(1);
  REQUIRE(h.offered_to(1) == 0u);
  h.ring(1, 0);
  const auto before = h.mark();
  SECTION("busy -> NotReady(busy)") {
    REQUIRE(h.core.offer_failed(C(1), A(0), OfferEndReason::kBusy).is_ok());
    h.check();
    CHECK(h.reason(0) == "busy");
    CHECK(h.all<OfferEnded>(before).at(0).reason == OfferEndReason::kBusy);
  }
  SECTION("declined -> like no answer") {
    REQUIRE(h.core.offer_failed(C(1), A(0), OfferEndReason::kDeclined).is_ok());
    h.check();
    CHECK(h.reason(0) == "no-answer");
    CHECK(h.all<OfferEnded>(before).at(0).reason == OfferEndReason::kDeclined);
  }
  SECTION("failed -> NotReady(unreachable)") {
    REQUIRE(h.core.offer_failed(C(1), A(0), OfferEndReason::kFailed).is_ok());
    h.check();
    CHECK(h.reason(0) == "unreachable");
  }
  SECTION("no-answer reported by the phone") {
    REQUIRE(h.core.offer_failed(C(1), A(0), OfferEndReason::kNoAnswer).is_ok());
    h.check();
    CHECK(h.reason(0) == "no-answer");
    CHECK(h.agent_snap(0).counters.rona == 1);
  }
  CHECK(h.state(0) == AgentState::kNotReady);
  CHECK(h.offered_to(1) == 1u);
  // The old ring timer of the first offer does not end the second one early.
  h.advance(14s);
  CHECK(h.state(1) == AgentState::kReserved);
  h.advance(1s);
  CHECK(h.state(1) == AgentState::kNotReady);
}

// Regression (fixed core bug): when the sticky-preferred agent fails to answer (RONA), the call
// keeps its preference for that agent (now excluded, NotReady) and is not offered to anybody else
// until sticky_wait runs out. After a failed offer the preference should be dropped so the call
// goes to the next eligible agent at once, as ring-no-answer promises.
TEST_CASE("ring-no-answer by the sticky agent offers the call to the next agent at once",
          "[core][rona][sticky]") {
  Harness h;
  h.setup(2);
  h.cb.q(0).sticky_window = 1h;
  h.cb.q(0).sticky_wait = 60s;
  h.apply();
  h.login(0);
  h.enqueue(1, 0, 0, "+15550001");
  h.serve(1, 0);
  h.login(1);
  h.advance(5s);
  h.enqueue(2, 0, 0, "+15550001");  // prefers agent 0, who is Ready
  REQUIRE(h.offered_to(2) == 0u);
  h.advance(15s);  // RONA
  REQUIRE(h.state(0) == AgentState::kNotReady);
  CHECK(h.offered_to(2) == 1u);
}

// =====================================================================================
// Queue exits
// =====================================================================================

TEST_CASE("max_wait: the call leaves for the timeout destination", "[core][exits]") {
  Harness h;
  h.setup(1);
  auto& q = h.cb.q(0);
  q.max_wait = 60s;
  q.on_timeout = {ExitDestination::Kind::kVoicemail, QueueId{}, "mailbox-7"};
  h.apply();
  h.login(0, false);
  h.enqueue(1);
  h.advance(59s);
  CHECK(h.exists(1));
  const auto before = h.mark();
  h.advance(1s);
  const auto ex = h.exited(1);
  REQUIRE(ex);
  CHECK(ex->reason == ExitReason::kMaxWait);
  CHECK(ex->destination.kind == ExitDestination::Kind::kVoicemail);
  CHECK(ex->destination.target == "mailbox-7");
  CHECK(ex->queue == Q(0));
  CHECK(ex->at - TimePoint{} == 60s);
  const auto fin = h.finished(1);
  REQUIRE(fin);
  CHECK(fin->state == FinalState::kVoicemail);
  CHECK(fin->cause == HangupCause::kQueueExit);
  CHECK(fin->waited == 60s);
  // CallExited comes before CallFinished.
  const auto& evs = h.rec.events;
  CHECK(std::holds_alternative<CallExited>(evs[before]));
  CHECK(std::holds_alternative<CallFinished>(evs[before + 1]));
  CHECK(h.queue(0).counters.exited == 1);
  CHECK(h.queue(0).waiting == 0);
}

TEST_CASE("max_wait while ringing: the call leaves only if the offer is not answered",
          "[core][exits]") {
  Harness h;
  h.setup(1);
  auto& q = h.cb.q(0);
  q.max_wait = 20s;
  q.ring_timeout = 30s;
  q.on_timeout = {ExitDestination::Kind::kCallback, QueueId{}, "call back"};
  h.apply();
  h.login(0);
  h.enqueue(1);
  h.ring(1, 0);
  h.advance(20s);
  CHECK(h.state(0) == AgentState::kRinging);
  CHECK(h.count<CallExited>() == 0);
  SECTION("answered") {
    h.advance(5s);
    REQUIRE(h.core.offer_answered(C(1), A(0)).is_ok());
    h.check();
    h.advance(1min);
    CHECK(h.call(1).phase == CallPhase::kConnected);
    h.hang_up(1);
    CHECK(h.finished(1)->state == FinalState::kCompleted);
  }
  SECTION("not answered") {
    h.advance(10s);
    CHECK(h.exited(1)->reason == ExitReason::kMaxWait);
    CHECK(h.finished(1)->state == FinalState::kCallback);
    CHECK(h.state(0) == AgentState::kNotReady);
  }
}

TEST_CASE("max_length: a caller joining a full queue leaves for on_full and is never queued",
          "[core][exits]") {
  Harness h;
  h.setup(1);
  auto& q = h.cb.q(0);
  q.max_length = 2;
  q.on_full = {ExitDestination::Kind::kHangup, QueueId{}, "all-agents-busy.wav"};
  h.apply();
  h.login(0);
  h.enqueue(1);  // offering: counts towards the length
  h.enqueue(2);
  const auto before = h.mark();
  h.enqueue(3);
  CHECK(h.count<CallQueued>(before) == 0);
  const auto ex = h.exited(3);
  REQUIRE(ex);
  CHECK(ex->reason == ExitReason::kQueueFull);
  CHECK(ex->destination.target == "all-agents-busy.wav");
  CHECK(h.finished(3)->state == FinalState::kHungUp);
  CHECK(h.finished(3)->waited == 0s);
  CHECK_FALSE(h.exists(3));
  CHECK(h.queue(0).counters.entered == 2);
  h.serve(1, 0);  // one place frees
  h.enqueue(4);
  CHECK(h.exists(4));
}

TEST_CASE(
    "request_callback: a caller asks for a callback before being queued, and no agent is "
    "offered the call",
    "[core][exits]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);  // Ready: an enqueue would offer the call to them at once
  const auto before = h.mark();
  REQUIRE(h.core.request_callback(Harness::spec(1, "+4930111"), Q(0), "+4930222").is_ok());
  h.check();
  CHECK(h.count<CallQueued>(before) == 1);
  CHECK(h.count<CallOffered>(before) == 0);
  const auto exited = h.exited(1);
  REQUIRE(exited);
  CHECK(exited->reason == ExitReason::kCallerRequest);
  CHECK(exited->destination.kind == ExitDestination::Kind::kCallback);
  CHECK(exited->destination.number == "+4930222");
  CHECK(h.finished(1)->state == FinalState::kCallback);
  CHECK(h.finished(1)->waited == 0s);
  CHECK_FALSE(h.exists(1));
  CHECK(h.state(0) == AgentState::kReady);
  CHECK(h.queue(0).counters.entered == 1);
  CHECK(h.queue(0).counters.exited == 1);
  CHECK(h.queue(0).waiting == 0);
  // The checks of enqueue(): a duplicate id, an unknown queue, another tenant's queue.
  h.enqueue(2);
  CHECK(h.core.request_callback(Harness::spec(2), Q(0), "").code() == ErrorCode::kAlreadyExists);
  CHECK(h.core.request_callback(Harness::spec(3), Q(9), "").code() == ErrorCode::kNotFound);
  CallSpec other = Harness::spec(4);
  other.tenant = TenantId(5);
  CHECK_FALSE(h.core.request_callback(other, Q(0), "").is_ok());
  CHECK(h.core.request_callback(Harness::spec(6), Q(0), std::string(65, '1')).code() ==
        ErrorCode::kInvalidArgument);
  CHECK_FALSE(h.exists(3));
  CHECK_FALSE(h.exists(6));
  h.check();
}

TEST_CASE(
    "end_before_queue: a call a menu or a flow ended is told once, with its arrival, and "
    "nothing else changes",
    "[core][exits]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  h.advance(1h);
  const auto before = h.mark();
  CallSpec spec = Harness::spec(1, "+4930111");
  spec.vip_level = 2;
  spec.attributes = {{"ivr.main", "9"}};
  REQUIRE(h.core.end_before_queue(spec, 42s, FinalState::kHungUp, HangupCause::kIvr, "menu main")
              .is_ok());
  h.check();
  REQUIRE(h.count<CallEndedBeforeQueue>(before) == 1);
  const auto ended = h.last<CallEndedBeforeQueue>();
  CHECK(ended->call == C(1));
  CHECK(ended->tenant == TenantId(0));
  CHECK(ended->caller_number == "+4930111");
  CHECK(ended->dialed_number == "800");
  CHECK(ended->vip_level == 2);
  CHECK(ended->state == FinalState::kHungUp);
  CHECK(ended->cause == HangupCause::kIvr);
  CHECK(ended->entry == "menu main");
  CHECK(ended->attributes == std::vector<std::pair<std::string, std::string>>{{"ivr.main", "9"}});
  CHECK(ended->at == h.now());
  CHECK(ended->arrived == h.now() - 42s);
  // The core holds nothing for it: no queue counted it, the agent is still Ready, and no
  // other event came.
  CHECK(h.mark() == before + 1);
  CHECK_FALSE(h.exists(1));
  CHECK(h.queue(0).counters.entered == 0);
  CHECK(h.state(0) == AgentState::kReady);
  // Every state a call can end in before a queue; the others are refused.
  for (auto state : {FinalState::kVoicemail, FinalState::kTransferred, FinalState::kAbandoned,
                     FinalState::kCancelled})
    CHECK(h.core.end_before_queue(Harness::spec(2), 0s, state, HangupCause::kCallerBye, "flow f")
              .is_ok());
  for (auto state : {FinalState::kCompleted, FinalState::kCallback, FinalState::kUnanswered})
    CHECK(
        h.core.end_before_queue(Harness::spec(3), 0s, state, HangupCause::kIvr, "flow f").code() ==
        ErrorCode::kInvalidArgument);
  // A call the core holds, an unknown tenant, no id, a negative time in the engine.
  h.enqueue(4);
  CHECK(h.core.end_before_queue(Harness::spec(4), 0s, FinalState::kHungUp, HangupCause::kIvr, "")
            .code() == ErrorCode::kAlreadyExists);
  CHECK(h.exists(4));
  CallSpec other = Harness::spec(5);
  other.tenant = TenantId(7);
  CHECK(h.core.end_before_queue(other, 0s, FinalState::kHungUp, HangupCause::kIvr, "").code() ==
        ErrorCode::kNotFound);
  CallSpec no_id = Harness::spec(8);
  no_id.id = CallId{};
  CHECK(h.core.end_before_queue(no_id, 0s, FinalState::kHungUp, HangupCause::kIvr, "").code() ==
        ErrorCode::kInvalidArgument);
  CHECK(h.core.end_before_queue(Harness::spec(6), -1s, FinalState::kHungUp, HangupCause::kIvr, "")
            .code() == ErrorCode::kInvalidArgument);
  h.check();
}

TEST_CASE("join_when_empty=false: callers are refused while no member is logged in",
          "[core][exits]") {
  Harness h;
  h.setup(2);
  auto& q = h.cb.q(0);
  q.join_when_empty = false;
  q.on_empty = {ExitDestination::Kind::kCallback, QueueId{}, ""};
  h.apply();
  h.enqueue(1);
  CHECK(h.exited(1)->reason == ExitReason::kNoAgents);
  CHECK(h.finished(1)->state == FinalState::kCallback);
  CHECK(h.count<CallQueued>() == 0);
  h.login(1, false);  // a NotReady member counts as logged in
  h.enqueue(2);
  CHECK(h.call(2).phase == CallPhase::kWaiting);
}

TEST_CASE("leave_when_empty: waiting callers leave when the last member logs out",
          "[core][exits]") {
  Harness h;
  h.setup(2);
  auto& q = h.cb.q(0);
  q.leave_when_empty = true;
  q.on_empty = {ExitDestination::Kind::kVoicemail, QueueId{}, "general"};
  h.apply();
  h.login(0, false);
  h.login(1, false);
  h.enqueue(1);
  h.enqueue(2);
  REQUIRE(h.core.logout(A(0)).is_ok());
  h.check();
  CHECK(h.count<CallExited>() == 0);
  REQUIRE(h.core.logout(A(1)).is_ok());
  h.check();
  const auto exits = h.all<CallExited>();
  REQUIRE(exits.size() == 2);
  for (const auto& e : exits) CHECK(e.reason == ExitReason::kNoAgents);
  CHECK(h.finished(1)->state == FinalState::kVoicemail);
  CHECK(h.finished(2)->state == FinalState::kVoicemail);
}

// Regression (fixed core bug): leave_when_empty is checked in on_member_logged_out only against
// calls that are *waiting*. When the last member is logged out while being offered a call (RONA
// with rona_policy kLogout, or a supervisor's forced logout of a Reserved/Ringing agent), the call
// is in the offering phase at that moment; it then returns to the queue and waits forever in
// a queue with nobody logged in, instead of leaving with kNoAgents.
TEST_CASE("leave_when_empty also applies to the call being offered to the last member",
          "[core][exits][rona]") {
  Harness h;
  h.setup(1);
  auto& q = h.cb.q(0);
  q.leave_when_empty = true;
  q.rona_policy = RonaPolicy::kLogout;
  q.on_empty = {ExitDestination::Kind::kVoicemail, QueueId{}, "general"};
  h.apply();
  h.login(0);
  h.enqueue(1);
  REQUIRE(h.offered_to(1) == 0u);
  SECTION("ring-no-answer logs the agent out") {
    h.advance(15s);
  }
  SECTION("a supervisor logs the agent out") {
    REQUIRE(h.core.logout(A(0), Cause::kSupervisor).is_ok());
    h.check();
  }
  REQUIRE(h.state(0) == AgentState::kLoggedOut);
  REQUIRE(h.exited(1).has_value());
  CHECK(h.exited(1)->reason == ExitReason::kNoAgents);
  CHECK_FALSE(h.exists(1));
}

TEST_CASE("a caller who hangs up while waiting abandons", "[core][exits][abandon]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.enqueue(1);
  h.advance(42s);
  h.hang_up(1);
  const auto fin = h.finished(1);
  REQUIRE(fin);
  CHECK(fin->state == FinalState::kAbandoned);
  CHECK(fin->waited == 42s);
  CHECK_FALSE(fin->agent.valid());
  CHECK(h.queue(0).counters.abandoned == 1);
  CHECK(h.queue(0).waiting == 0);
}

TEST_CASE("a caller who hangs up while an agent is rung abandons; the agent is Ready again",
          "[core][exits][abandon]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  const auto idle = h.agent_snap(0).idle_since;
  h.advance(3s);
  h.enqueue(1);
  h.ring(1, 0);
  h.advance(4s);
  const auto before = h.mark();
  h.hang_up(1);
  const auto ended = h.all<OfferEnded>(before);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].reason == OfferEndReason::kCallerGone);
  CHECK(h.finished(1)->state == FinalState::kAbandoned);
  CHECK(h.finished(1)->waited == 4s);
  CHECK(h.state(0) == AgentState::kReady);
  CHECK(h.agent_snap(0).idle_since == idle);
  CHECK(h.queue(0).offering == 0);
  // The old ring timer does nothing.
  h.advance(1min);
  CHECK(h.state(0) == AgentState::kReady);
}

TEST_CASE("a caller's CANCEL while queued is an abandon that carries the cause",
          "[core][exits][abandon][cause]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0, false);
  h.enqueue(1);
  h.advance(15s);
  h.hang_up(1, HangupCause::kCallerCancel);
  const auto fin = h.finished(1);
  REQUIRE(fin);
  CHECK(fin->state == FinalState::kAbandoned);
  CHECK(fin->cause == HangupCause::kCallerCancel);
  CHECK(std::string(to_string(fin->cause)) == "caller-cancel");
  CHECK(fin->waited == 15s);
  CHECK(h.queue(0).counters.abandoned == 1);
}

TEST_CASE("a caller's BYE while an agent is rung is an abandon that carries the cause",
          "[core][exits][abandon][cause]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  h.enqueue(1);
  h.ring(1, 0);
  h.advance(3s);
  h.hang_up(1, HangupCause::kCallerBye);
  const auto fin = h.finished(1);
  REQUIRE(fin);
  CHECK(fin->state == FinalState::kAbandoned);
  CHECK(fin->cause == HangupCause::kCallerBye);
  CHECK(h.state(0) == AgentState::kReady);
}

TEST_CASE("a completed call carries who hung up; without a cause it is unspecified",
          "[core][cause]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  h.enqueue(1);
  h.answer(1, 0);
  h.advance(40s);
  SECTION("the agent") {
    h.hang_up(1, HangupCause::kAgentBye);
    CHECK(h.finished(1)->cause == HangupCause::kAgentBye);
    CHECK(std::string(to_string(h.finished(1)->cause)) == "agent-bye");
  }
  SECTION("the caller") {
    h.hang_up(1, HangupCause::kCallerBye);
    CHECK(h.finished(1)->cause == HangupCause::kCallerBye);
  }
  SECTION("a session timer") {
    h.hang_up(1, HangupCause::kSessionExpired);
    CHECK(h.finished(1)->cause == HangupCause::kSessionExpired);
  }
  SECTION("nobody said (the default argument)") {
    h.hang_up(1);
    CHECK(h.finished(1)->cause == HangupCause::kUnspecified);
  }
  CHECK(h.finished(1)->state == FinalState::kCompleted);
  CHECK(h.finished(1)->agent == A(0));
  CHECK(h.finished(1)->talk == 40s);
}

TEST_CASE("calls the core ends itself carry its own cause", "[core][cause]") {
  Harness h;
  h.setup(2);
  h.cb.q(0).max_wait = 60s;
  h.cb.q(0).on_timeout = {ExitDestination::Kind::kCallback, QueueId{}, "late"};
  h.apply();
  SECTION("an exit: queue-exit") {
    h.login(0, false);
    h.enqueue(1);
    h.advance(60s);
    REQUIRE(h.finished(1));
    CHECK(h.finished(1)->state == FinalState::kCallback);
    CHECK(h.finished(1)->cause == HangupCause::kQueueExit);
  }
  SECTION("a placed call that fails: dial-failed") {
    h.login(0);
    REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
    REQUIRE(h.core.outbound_failed(C(50)).is_ok());
    h.check();
    CHECK(h.finished(50)->state == FinalState::kUnanswered);
    CHECK(h.finished(50)->cause == HangupCause::kDialFailed);
  }
  SECTION("a placed call the agent gives up while it rings: the agent's cause") {
    h.login(0);
    REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
    h.hang_up(50, HangupCause::kCallerCancel);
    CHECK(h.finished(50)->state == FinalState::kUnanswered);
    CHECK(h.finished(50)->cause == HangupCause::kCallerCancel);
    CHECK(h.state(0) == AgentState::kReady);
  }
  SECTION("a consultation ended by the caller's hang-up: system") {
    h.login(0);
    h.login(1, false);
    h.enqueue(1);
    h.answer(1, 0);
    REQUIRE(h.core.start_outbound(A(0), C(60), CallKind::kInternal, A(1)).is_ok());
    REQUIRE(h.core.outbound_answered(C(60)).is_ok());
    h.hang_up(1, HangupCause::kCallerBye);
    CHECK(h.finished(60)->cause == HangupCause::kSystem);
    CHECK(h.finished(1)->cause == HangupCause::kCallerBye);
  }
}

TEST_CASE("hang-up causes have stable, distinct names", "[core][cause]") {
  const std::vector<std::pair<HangupCause, std::string>> names{
      {HangupCause::kUnspecified, "unspecified"},
      {HangupCause::kCallerCancel, "caller-cancel"},
      {HangupCause::kCallerBye, "caller-bye"},
      {HangupCause::kAgentBye, "agent-bye"},
      {HangupCause::kCallerNoAck, "caller-no-ack"},
      {HangupCause::kSessionExpired, "session-expired"},
      {HangupCause::kMediaTimeout, "media-timeout"},
      {HangupCause::kQueueExit, "queue-exit"},
      {HangupCause::kTransfer, "transfer"},
      {HangupCause::kDialFailed, "dial-failed"},
      {HangupCause::kSystem, "system"},
      {HangupCause::kAgentRelease, "agent-release"},
      {HangupCause::kSupervisorRelease, "supervisor-release"},
      {HangupCause::kIvr, "ivr"}};
  std::set<std::string> seen;
  for (const auto& [cause, name] : names) {
    CHECK(std::string(to_string(cause)) == name);
    CHECK(seen.insert(name).second);
  }
  // Every enumerator is listed above: the one after the last has no name.
  CHECK(std::string(to_string(static_cast<HangupCause>(names.size()))) == "?");
}

TEST_CASE("leave_queue: the caller's breakout option", "[core][exits]") {
  Harness h;
  h.cb.queue(0);
  h.cb.queue(1);
  h.cb.agent(0);
  h.cb.agent(1);
  h.cb.member(0, 0);
  h.cb.member(1, 1);
  h.apply();
  h.enqueue(1);
  SECTION("to voicemail") {
    REQUIRE(
        h.core.leave_queue(C(1), {ExitDestination::Kind::kVoicemail, QueueId{}, "sales"}).is_ok());
    h.check();
    CHECK(h.exited(1)->reason == ExitReason::kCallerRequest);
    CHECK(h.finished(1)->state == FinalState::kVoicemail);
  }
  SECTION("to a callback request") {
    REQUIRE(
        h.core.leave_queue(C(1), {ExitDestination::Kind::kCallback, QueueId{}, "+1555"}).is_ok());
    h.check();
    CHECK(h.finished(1)->state == FinalState::kCallback);
  }
  SECTION("while an agent is rung: the offer is withdrawn") {
    h.login(0);
    h.ring(1, 0);
    const auto before = h.mark();
    REQUIRE(h.core.leave_queue(C(1), {ExitDestination::Kind::kVoicemail, QueueId{}, ""}).is_ok());
    h.check();
    CHECK(h.all<OfferEnded>(before).at(0).reason == OfferEndReason::kWithdrawn);
    CHECK(h.state(0) == AgentState::kReady);
    CHECK(h.finished(1)->state == FinalState::kVoicemail);
  }
  SECTION("to another queue: the call continues there") {
    h.login(1);
    const auto before = h.mark();
    REQUIRE(h.core.leave_queue(C(1), {ExitDestination::Kind::kQueue, Q(1), ""}).is_ok());
    h.check();
    CHECK(h.exited(1)->queue == Q(0));
    const auto queued = h.all<CallQueued>(before);
    REQUIRE(queued.size() == 1);
    CHECK(queued[0].queue == Q(1));
    CHECK(h.offered_to(1) == 1u);
    CHECK_FALSE(h.finished(1));
    h.serve(1, 1);
    CHECK(h.finished(1)->queue == Q(1));
    CHECK(h.count<CallFinished>() == 1);
  }
  SECTION("refusals") {
    expect_refused(h, ErrorCode::kInvalidArgument, [&] {
      return h.core.leave_queue(C(1), {ExitDestination::Kind::kQueue, Q(0), ""});
    });
    expect_refused(h, ErrorCode::kNotFound, [&] {
      return h.core.leave_queue(C(1), {ExitDestination::Kind::kQueue, Q(7), ""});
    });
    expect_refused(h, ErrorCode::kNotFound, [&] {
      return h.core.leave_queue(C(8), {ExitDestination::Kind::kVoicemail, QueueId{}, ""});
    });
    h.login(0);
    h.answer(1, 0);
    expect_refused(h, ErrorCode::kInvalidState, [&] {
      return h.core.leave_queue(C(1), {ExitDestination::Kind::kVoicemail, QueueId{}, ""});
    });
  }
}

TEST_CASE(
    "an exit to another queue: CallExited, then CallQueued there, one CallFinished at the end",
    "[core][exits]") {
  Harness h;
  auto& q0 = h.cb.queue(0);
  q0.max_wait = 30s;
  q0.on_timeout = {ExitDestination::Kind::kQueue, Q(1), ""};
  auto& q1 = h.cb.queue(1);
  q1.max_wait = 30s;
  q1.on_timeout = {ExitDestination::Kind::kQueue, Q(2), ""};
  auto& q2 = h.cb.queue(2);
  q2.max_wait = 60s;
  q2.on_timeout = {ExitDestination::Kind::kHangup, QueueId{}, "closed.wav"};
  h.cb.agent(0);
  h.cb.member(2, 0);
  h.apply();
  h.enqueue(1);
  h.advance(30s);
  CHECK(h.call(1).queue == Q(1));
  CHECK(h.call(1).enqueued - TimePoint{} == 30s);
  h.advance(30s);
  CHECK(h.call(1).queue == Q(2));
  const auto queued = h.all<CallQueued>();
  REQUIRE(queued.size() == 3);
  CHECK(queued[1].queue == Q(1));
  CHECK(queued[2].queue == Q(2));
  SECTION("served in the last queue") {
    h.login(0);
    h.answer(1, 0);
    CHECK(h.last<CallConnected>()->waited == 0s);  // waited in this queue
    h.hang_up(1);
    CHECK(h.finished(1)->state == FinalState::kCompleted);
    CHECK(h.finished(1)->arrived == TimePoint{});
  }
  SECTION("timing out of the last one") {
    h.advance(60s);
    CHECK(h.finished(1)->state == FinalState::kHungUp);
    CHECK(h.count<CallExited>() == 3);
  }
  CHECK(h.count<CallFinished>() == 1);
}

TEST_CASE("exits that chain queue to queue in a loop end after a bounded number of hops",
          "[core][exits]") {
  Harness h;
  auto& q0 = h.cb.queue(0);
  q0.max_length = 1;
  q0.on_full = {ExitDestination::Kind::kQueue, Q(1), ""};
  auto& q1 = h.cb.queue(1);
  q1.max_length = 1;
  q1.on_full = {ExitDestination::Kind::kQueue, Q(0), ""};
  h.apply();
  h.enqueue(1, 0);
  h.enqueue(2, 1);
  h.enqueue(3, 0);  // both full: bounces, then gives up
  CHECK(h.finished(3)->state == FinalState::kHungUp);
  CHECK(h.count<CallExited>() > 1);
  CHECK(h.count<CallExited>() < 20);
}

// =====================================================================================
// Sticky (last-agent) routing
// =====================================================================================

namespace {

// Agent 0 served caller +15550001 (call 1, ended at t=30 s); agent 0 is now talking on call
// 2 and agent 1 is Ready.
void sticky_setup(Harness& h, Duration window = 10min, Duration wait = 30s) {
  h.setup(2);
  h.cb.q(0).sticky_window = window;
  h.cb.q(0).sticky_wait = wait;
  h.apply();
  h.login(0);
  h.login(1, false);
  h.enqueue(1, 0, 0, "+15550001");
  h.serve(1, 0, 30s);
  h.enqueue(2, 0, 0, "+15559999");
  h.answer(2, 0);
  h.ready(1);
}

}  // namespace

TEST_CASE("sticky routing: a returning caller waits for their last agent while that agent is busy",
          "[core][sticky]") {
  Harness h;
  sticky_setup(h);
  h.advance(10s);
  h.enqueue(3, 0, 0, "+15550001");
  CHECK(h.call(3).phase == CallPhase::kWaiting);  // agent 1 is Ready but not offered
  CHECK(h.state(1) == AgentState::kReady);
  SECTION("the agent becomes Ready within sticky_wait and gets the call") {
    h.advance(20s);
    h.hang_up(2);
    CHECK(h.offered_to(3) == 0u);
  }
  SECTION("after sticky_wait anyone may take it") {
    h.advance(29s);
    CHECK(h.call(3).phase == CallPhase::kWaiting);
    h.advance(1s);
    CHECK(h.offered_to(3) == 1u);
  }
  SECTION("other callers are not held up") {
    h.enqueue(4, 0, 0, "+15557777");
    CHECK(h.offered_to(4) == 1u);
  }
  SECTION("the preferred agent logs out: the call is released at once") {
    REQUIRE(h.core.logout(A(0), Cause::kSupervisor).is_ok());
    h.hang_up(2);
    CHECK(h.state(0) == AgentState::kLoggedOut);
    CHECK(h.offered_to(3) == 1u);
  }
}

TEST_CASE("sticky routing: the last agent gets the call even if another agent is idle longer",
          "[core][sticky]") {
  Harness h;
  sticky_setup(h);
  h.hang_up(2);  // agent 0 Ready now, agent 1 has been Ready longer
  h.advance(5s);
  h.enqueue(3, 0, 0, "+15550001");
  CHECK(h.offered_to(3) == 0u);
}

TEST_CASE("sticky routing: outside the window there is no preference", "[core][sticky]") {
  Harness h;
  sticky_setup(h);
  h.advance(10min + 1s);  // since call 1 ended
  h.enqueue(3, 0, 0, "+15550001");
  CHECK(h.offered_to(3) == 1u);
}

TEST_CASE("sticky routing is off with a zero window", "[core][sticky]") {
  Harness h;
  sticky_setup(h, 0s);
  h.enqueue(3, 0, 0, "+15550001");
  CHECK(h.offered_to(3) == 1u);
}

TEST_CASE("sticky routing remembers the last agent per caller", "[core][sticky]") {
  Harness h;
  sticky_setup(h);
  h.hang_up(2);  // caller +15559999 was served by agent 0 too
  h.not_ready(0, "x");
  h.enqueue(3, 0, 0, "+15550001");  // agent 0 not busy but NotReady: waits for sticky_wait
  h.enqueue(4, 0, 0, "+15550002");  // never called: anyone
  CHECK(h.offered_to(4) == 1u);
  h.serve(4, 1, 10s);  // agent 1 is Ready again; call 3 still waits for agent 0
  CHECK(h.call(3).phase == CallPhase::kWaiting);
  h.enqueue(5, 0, 0, "+15550002");  // served by agent 1 just now
  CHECK(h.offered_to(5) == 1u);
  h.answer(5, 1);
  h.advance(20s);  // call 3's sticky_wait is over; nobody Ready: it waits for anyone
  h.hang_up(5);
  CHECK(h.offered_to(3) == 1u);
}

// =====================================================================================
// Break policy
// =====================================================================================

namespace {

// Team 0 ("Support") with agents 0..2, team 1 ("Sales") with agent 3; both teams limit
// "break" and "lunch" to `max` agents at once. All agents Ready, members of queue 0.
void break_setup(Harness& h, BreakPolicy::OverLimit over, int max = 1, Duration max_duration = 0s) {
  h.cb.queue(0);
  for (std::uint32_t t : {0u, 1u}) {
    auto& team = h.cb.team(t, t == 0 ? "Support" : "Sales");
    team.break_policy.reasons = {"break", "lunch"};
    team.break_policy.max_concurrent = max;
    team.break_policy.max_duration = max_duration;
    team.break_policy.over_limit = over;
  }
  for (std::uint32_t a = 0; a < 4; ++a) {
    h.cb.agent(a).team = TeamId(a < 3 ? 0 : 1);
    h.cb.member(0, a);
  }
  h.apply();
  for (std::uint32_t a = 0; a < 4; ++a) h.login(a);
}

}  // namespace

TEST_CASE("break policy: an over-limit break request is refused with the team's name",
          "[core][break]") {
  Harness h;
  break_setup(h, BreakPolicy::OverLimit::kRefuse);
  h.not_ready(0, "break");
  Status refused;
  expect_refused(h, ErrorCode::kLimitReached, [&] {
    refused = h.core.set_not_ready(A(1), "lunch");
    return refused;
  });
  CHECK_THAT(refused.message(), Catch::Contains("Support"));
  CHECK(h.state(1) == AgentState::kReady);
  SECTION("other reasons are not limited") {
    h.not_ready(1, "meeting");
    h.not_ready(2, "training");
  }
  SECTION("another team has its own limit") {
    h.not_ready(3, "break");
  }
  SECTION("switching between break reasons keeps the one slot") {
    h.not_ready(0, "lunch");
  }
  SECTION("a freed slot can be taken") {
    h.ready(0);
    h.not_ready(1, "lunch");
    CHECK(h.reason(1) == "lunch");
  }
  SECTION("a break ending by logout frees the slot") {
    REQUIRE(h.core.logout(A(0)).is_ok());
    h.not_ready(1, "break");
  }
}

TEST_CASE(
    "break policy: over-limit requests are wait-listed and granted in order when a slot "
    "frees",
    "[core][break]") {
  Harness h;
  break_setup(h, BreakPolicy::OverLimit::kWaitlist);
  h.not_ready(0, "break");
  auto before = h.mark();
  REQUIRE(h.core.set_not_ready(A(1), "lunch").is_ok());
  h.check();
  REQUIRE(h.core.set_not_ready(A(2), "break").is_ok());
  h.check();
  const auto wl = h.all<BreakWaitlisted>(before);
  REQUIRE(wl.size() == 2);
  CHECK(wl[0].agent == A(1));
  CHECK(wl[0].position == 1);
  CHECK(wl[0].team == TeamId(0));
  CHECK(wl[0].reason == h.rid("lunch"));
  CHECK(wl[1].agent == A(2));
  CHECK(wl[1].position == 2);
  CHECK(h.count<AgentStateChanged>(before) == 0);
  CHECK(h.state(1) == AgentState::kReady);
  CHECK(h.view(1).break_waitlisted);
  CHECK(h.view(2).break_waitlisted);

  SECTION("the first wait-listed agent goes on break automatically") {
    h.advance(1min);
    h.ready(0);
    CHECK(h.state(1) == AgentState::kNotReady);
    CHECK(h.reason(1) == "lunch");
    CHECK(h.last_change(1)->cause == Cause::kTimer);
    CHECK_FALSE(h.view(1).break_waitlisted);
    CHECK(h.state(2) == AgentState::kReady);
    h.ready(1);
    CHECK(h.reason(2) == "break");
  }
  SECTION("an agent on a call is skipped; they go on break when the call ends") {
    h.enqueue(1);
    REQUIRE(h.offered_to(1) == 1u);  // longest idle among the Ready agents
    h.answer(1, 1);
    h.ready(0);
    CHECK(h.state(2) == AgentState::kNotReady);  // agent 1 is on a call: agent 2 first
    CHECK(h.reason(2) == "break");
    CHECK(h.view(1).break_waitlisted);
    h.ready(2);
    CHECK(h.state(1) == AgentState::kTalking);
    h.hang_up(1);
    CHECK(h.state(1) == AgentState::kNotReady);
    CHECK(h.reason(1) == "lunch");
  }
  SECTION("cancelling a request") {
    REQUIRE(h.core.cancel_break_request(A(1)).is_ok());
    CHECK_FALSE(h.view(1).break_waitlisted);
    expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.cancel_break_request(A(1)); });
    h.ready(0);
    CHECK(h.state(1) == AgentState::kReady);
    CHECK(h.reason(2) == "break");
  }
  SECTION("a wait-listed agent who logs out leaves the list") {
    REQUIRE(h.core.logout(A(1)).is_ok());
    h.ready(0);
    CHECK(h.state(1) == AgentState::kLoggedOut);
    CHECK(h.reason(2) == "break");
  }
}

TEST_CASE("break policy: a break longer than max_duration raises a supervisor alert",
          "[core][break]") {
  Harness h;
  break_setup(h, BreakPolicy::OverLimit::kRefuse, 2, 15min);
  h.advance(1min);
  h.not_ready(0, "break");
  SECTION("overrun") {
    h.advance(15min - 1s);
    CHECK(h.count<SupervisorAlert>() == 0);
    h.advance(1s);
    const auto alerts = h.all<SupervisorAlert>();
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].kind == AlertKind::kBreakOverrun);
    CHECK(alerts[0].agent == A(0));
    CHECK(alerts[0].team == TeamId(0));
    CHECK(alerts[0].reason == h.rid("break"));
    CHECK(alerts[0].at - TimePoint{} == 16min);
    CHECK(alerts[0].overrun == 0s);
    CHECK(h.state(0) == AgentState::kNotReady);  // an alert, not an action
  }
  SECTION("back in time: no alert") {
    h.advance(14min);
    h.ready(0);
    h.advance(1h);
    CHECK(h.count<SupervisorAlert>() == 0);
  }
  SECTION("a non-break reason is not timed") {
    h.not_ready(1, "meeting");
    h.ready(0);
    h.advance(1h);
    CHECK(h.count<SupervisorAlert>() == 0);
  }
}

// =====================================================================================
// Statistics
// =====================================================================================

TEST_CASE("queue statistics are exact: counters, service level variants, ASA, AHT, abandon rate",
          "[core][stats]") {
  Harness h;
  h.setup(1);
  auto& q = h.cb.q(0);
  q.sl_threshold = 20s;
  q.wrap_up = 10s;
  q.default_handle_time = 120s;
  q.ring_timeout = 60s;
  h.apply();
  h.login(0, false);
  {
    const auto s = h.queue(0);
    CHECK(s.sl_answered() == 1.0);  // nothing counted yet
    CHECK(s.asa() == 0s);
    CHECK(s.aht() == 0s);
    CHECK(s.abandon_rate() == 0.0);
  }
  h.enqueue(1);  // t=0
  h.advance_to(5s);
  h.enqueue(2);
  h.advance_to(15s);
  h.ready(0);
  REQUIRE(h.offered_to(1) == 0u);
  h.ring(1, 0);
  h.advance_to(18s);
  REQUIRE(h.core.offer_answered(C(1), A(0)).is_ok());  // waited 18 s: in threshold
  h.advance_to(28s);
  REQUIRE(h.core.hold(C(1)).is_ok());
  h.advance_to(30s);
  h.hang_up(2);  // waited 25 s: a late abandon
  h.advance_to(38s);
  REQUIRE(h.core.retrieve(C(1)).is_ok());
  h.advance_to(40s);
  h.enqueue(3);
  h.advance_to(45s);
  {
    const auto s = h.queue(0);
    CHECK(s.waiting == 1);
    CHECK(s.offering == 0);
    CHECK(s.longest_wait == 5s);
    CHECK(s.members_logged_in == 1);
    CHECK(s.members_ready == 0);
    CHECK(s.members_busy == 1);
    CHECK(s.estimated_wait == 240s);  // default handle time x (1 waiting + 1) / 1 serving
  }
  h.advance_to(50s);
  h.hang_up(3);  // waited 10 s: a short abandon
  h.advance_to(78s);
  h.hang_up(1);  // talk 50 s, hold 10 s
  CHECK(h.finished(1)->talk == 50s);
  CHECK(h.finished(1)->hold == 10s);
  CHECK(h.state(0) == AgentState::kWrapUp);
  h.advance_to(100s);  // wrap-up ended at 88 s
  h.enqueue(4);
  REQUIRE(h.offered_to(4) == 0u);
  h.advance_to(130s);
  h.answer(4, 0);  // waited 30 s
  h.advance_to(160s);
  h.hang_up(4);
  h.advance_to(170s);

  const auto s = h.queue(0);
  CHECK(s.counters.entered == 4);
  CHECK(s.counters.answered == 2);
  CHECK(s.counters.answered_in_threshold == 1);
  CHECK(s.counters.abandoned == 2);
  CHECK(s.counters.abandoned_in_threshold == 1);
  CHECK(s.counters.handled == 2);
  CHECK(s.counters.exited == 0);
  CHECK(s.counters.total_answer_wait == 48s);
  CHECK(s.counters.total_talk == 80s);
  CHECK(s.counters.total_hold == 10s);
  CHECK(s.counters.total_wrap_up == 20s);
  CHECK(s.sl_answered() == Approx(0.5));
  CHECK(s.sl_with_short_abandons() == Approx(0.5));
  CHECK(s.sl_penalize_late_abandons() == Approx(1.0 / 3.0));
  CHECK(s.asa() == 24s);
  CHECK(s.aht() == 55s);
  CHECK(s.abandon_rate() == Approx(0.5));
  CHECK(s.waiting == 0);
  CHECK(s.estimated_wait == 0s);  // an agent is Ready and nobody waits

  const auto a = h.agent_snap(0);
  CHECK(a.counters.handled == 2);
  CHECK(a.counters.offered == 2);
  CHECK(a.counters.talk == 80s);
  CHECK(a.counters.hold == 10s);
  CHECK(a.counters.wrap_up == 20s);
  CHECK(a.counters.ready == 12s);  // 88 s .. 100 s
  CHECK(a.idle_since - TimePoint{} == 170s);
  REQUIRE(a.counters.not_ready_by_reason.size() == 1);
  CHECK(a.counters.not_ready_by_reason[0].first == h.rid("login"));
  CHECK(a.counters.not_ready_by_reason[0].second == 15s);

  SECTION("the estimate uses the measured AHT once calls were handled") {
    h.not_ready(0, "x");
    h.enqueue(5);
    CHECK(h.queue(0).estimated_wait == 110s);  // 55 s x (1 + 1) / max(1, 0 serving)
  }
  SECTION("reset_statistics starts the counters again") {
    h.core.reset_statistics();
    const auto r = h.queue(0);
    CHECK(r.counters.entered == 0);
    CHECK(r.counters.answered == 0);
    CHECK(r.counters.total_talk == 0s);
    CHECK(r.sl_answered() == 1.0);
    const auto ra = h.agent_snap(0);
    CHECK(ra.counters.handled == 0);
    CHECK(ra.counters.talk == 0s);
    CHECK(ra.counters.not_ready_by_reason.empty());
    CHECK(ra.state == AgentState::kReady);
  }
}

TEST_CASE("agent statistics: time per not-ready reason, including the current state",
          "[core][stats]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0, false);  // login: 10 s
  h.advance(10s);
  h.not_ready(0, "lunch");  // lunch: 30 min
  h.advance(30min);
  h.ready(0);  // ready: 5 s
  h.advance(5s);
  h.not_ready(0, "lunch");  // lunch again: 60 s so far
  h.advance(60s);
  const auto a = h.agent_snap(0);
  CHECK(a.counters.ready == 5s);
  Duration lunch{0}, login{0};
  for (const auto& [r, d] : a.counters.not_ready_by_reason) {
    if (r == h.rid("lunch")) lunch = d;
    if (r == h.rid("login")) login = d;
  }
  CHECK(login == 10s);
  CHECK(lunch == 31min);
  CHECK(a.state_since == h.now() - 60s);
  const auto snap = h.core.snapshot();
  CHECK(snap.reason_name(a.reason) == "lunch");
  CHECK(snap.at == h.now());
}

// Regression (fixed core bug): reset_statistics() sets every agent's `since` to now so that the
// counters start afresh, but `since` is also the agent's time-in-state (AgentView::since,
// AgentSnapshot::state_since, AgentStateChanged timing on wallboards). Resetting statistics
// (e.g. at midnight or at the start of a shift report) makes every agent appear to have just
// entered their current state. The counters need their own accounting start.
TEST_CASE("reset_statistics does not change how long agents have been in their state",
          "[core][stats]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0, false);
  h.not_ready(0, "lunch");
  const auto since = h.view(0).since;
  h.advance(20min);
  h.core.reset_statistics();
  CHECK(h.view(0).since == since);
  CHECK(h.agent_snap(0).state_since == since);
}

TEST_CASE("snapshot lists queues, agents and calls in the system", "[core][stats]") {
  Harness h;
  h.setup(2);
  h.cb.queue(1);
  h.apply();
  h.login(0);
  h.enqueue(1);
  h.enqueue(2, 1);
  const auto snap = h.core.snapshot();
  CHECK(snap.queues.size() == 2);
  CHECK(snap.agents.size() == 2);
  CHECK(snap.calls_in_system == 2);
  CHECK(h.core.calls_in_system() == 2);
  CHECK(snap.queues[0].offering == 1);
  CHECK(snap.queues[1].waiting == 1);
}

// Regression (fixed core bug): an agent on a counted break who places a call (start_outbound from
// NotReady("break")) leaves the break for Dialing, which frees the team's slot and grants it
// to the first wait-listed agent; when the call fails, outbound_failed puts the first agent
// straight back into NotReady("break") without consulting the policy, so the team has more
// agents on break than max_concurrent. (Either the slot must stay reserved while the agent
// dials from a break, or the return must go through the policy.)
TEST_CASE("break policy: the limit holds when an agent on break places a call that fails",
          "[core][break][outbound]") {
  Harness h;
  break_setup(h, BreakPolicy::OverLimit::kWaitlist);
  h.not_ready(0, "break");
  REQUIRE(h.core.set_not_ready(A(1), "break").is_ok());  // wait-listed
  REQUIRE(h.core.start_outbound(A(0), C(50), CallKind::kOutbound).is_ok());
  h.check();
  REQUIRE(h.core.outbound_failed(C(50)).is_ok());
  h.check();
  int on_break = 0;
  for (std::uint32_t a = 0; a < 3; ++a)
    if (h.state(a) == AgentState::kNotReady && h.reason(a) == "break") ++on_break;
  CHECK(on_break <= 1);
}

// =====================================================================================
// Multi-tenant isolation
// =====================================================================================

namespace {

// Tenant 0 ("acme") and tenant 1 ("globex") each have a skill named "billing", a team, a
// queue requiring their billing skill and one agent: agent 0 / queue 0 / team 0 / skill 0
// belong to tenant 0; agent 1 / queue 1 / team 1 / skill 1 to tenant 1.
void tenant_setup(Harness& h) {
  h.cb.tenant(1, "globex");
  h.cb.skill(0, "billing", 0);
  h.cb.skill(1, "billing", 1);
  h.cb.team(0, "Team", 0);
  h.cb.team(1, "Team", 1);
  h.cb.queue(0, 0).required_skills = {{S(0), 1, false}};
  h.cb.queue(1, 1).required_skills = {{S(1), 1, false}};
  auto& a0 = h.cb.agent(0, 0);
  a0.skills = {{S(0), 5}};
  a0.team = TeamId(0);
  auto& a1 = h.cb.agent(1, 1);
  a1.skills = {{S(1), 5}};
  a1.team = TeamId(1);
  h.cb.member(0, 0);
  h.cb.member(1, 1);
  h.apply();
}

}  // namespace

TEST_CASE("tenants: agents never receive another tenant's calls, even with the same skill names",
          "[core][tenant]") {
  Harness h;
  tenant_setup(h);
  h.login(0);
  h.enqueue(1, 1);  // tenant 1's queue
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  CHECK(h.state(0) == AgentState::kReady);
  h.login(1);
  CHECK(h.offered_to(1) == 1u);
  h.enqueue(2, 0);
  CHECK(h.offered_to(2) == 0u);
  CHECK(h.all<CallQueued>().at(0).tenant == TenantId(1));
  CHECK(h.last_change(1)->tenant == TenantId(1));
}

TEST_CASE("tenants: apply_config rejects anything that crosses tenants and changes nothing",
          "[core][tenant][config]") {
  Harness h;
  tenant_setup(h);
  h.login(0, false);
  h.login(1);
  h.enqueue(5, 0);  // waits: agent 0 is NotReady; agent 1 (tenant 1) must never get it
  ConfigBuilder bad = h.cb;
  bad.queue(7, 0);  // would appear if the config were accepted
  SECTION("a member whose agent belongs to another tenant") {
    bad.member(0, 1);
  }
  SECTION("an agent in another tenant's team") {
    bad.a(0).team = TeamId(1);
  }
  SECTION("an agent with another tenant's skill") {
    bad.a(0).skills.push_back({S(1), 3});
  }
  SECTION("a queue requiring another tenant's skill") {
    bad.q(0).required_skills = {{S(1), 1, false}};
  }
  SECTION("an exit to another tenant's queue") {
    bad.q(0).on_timeout = {ExitDestination::Kind::kQueue, Q(1), ""};
  }
  SECTION("an agent moving to another tenant") {
    bad.a(0).tenant = TenantId(1);
  }
  SECTION("a queue moving to another tenant") {
    bad.q(0).tenant = TenantId(1);
  }
  Status st;
  expect_refused(h, ErrorCode::kInvalidArgument, [&] {
    st = h.core.apply_config(bad.c);
    return st;
  });
  CHECK(h.call(5).phase == CallPhase::kWaiting);
  CHECK_FALSE(h.core.queue(Q(7)).has_value());
  CHECK(h.core.enqueue(Harness::spec(6), Q(7)).code() == ErrorCode::kNotFound);
  h.check();
}

TEST_CASE("tenants: requests that cross tenants are refused", "[core][tenant]") {
  Harness h;
  tenant_setup(h);
  h.login(0);
  h.login(1);
  SECTION("a call of tenant 1 joining tenant 0's queue") {
    CallSpec s = Harness::spec(1);
    s.tenant = TenantId(1);
    expect_refused(h, ErrorCode::kPermissionDenied, [&] { return h.core.enqueue(s, Q(0)); });
    CHECK(h.count<CallQueued>() == 0);
  }
  SECTION("an internal call to another tenant's agent") {
    expect_refused(h, ErrorCode::kPermissionDenied,
                   [&] { return h.core.start_outbound(A(0), C(60), CallKind::kInternal, A(1)); });
  }
  SECTION("another tenant's skill given to an agent") {
    expect_refused(h, ErrorCode::kPermissionDenied, [&] {
      return h.core.set_agent_skills(A(0), {{S(1), 5}});
    });
  }
  SECTION("another tenant's skill required by a call") {
    CallSpec s = Harness::spec(1);
    s.extra_skills = {{S(1), 1, false}};
    expect_refused(h, ErrorCode::kPermissionDenied, [&] { return h.core.enqueue(s, Q(0)); });
  }
  SECTION("a breakout to another tenant's queue") {
    h.not_ready(0, "x");
    h.enqueue(1, 0);
    expect_refused(h, ErrorCode::kPermissionDenied, [&] {
      return h.core.leave_queue(C(1), {ExitDestination::Kind::kQueue, Q(1), ""});
    });
  }
}

TEST_CASE("tenants: break policies and sticky memory are per tenant", "[core][tenant][sticky]") {
  Harness h;
  h.cb.tenant(1, "globex");
  for (std::uint32_t t : {0u, 1u}) {
    auto& team = h.cb.team(t, "Team", t);
    team.break_policy.reasons = {"break"};
    team.break_policy.max_concurrent = 1;
    auto& q = h.cb.queue(t, t);
    q.sticky_window = 1h;
    q.sticky_wait = 1min;
    h.cb.agent(t, t).team = TeamId(t);
    h.cb.agent(t + 2, t).team = TeamId(t);
    h.cb.member(t, t);
    h.cb.member(t, t + 2);
  }
  h.apply();
  for (std::uint32_t a = 0; a < 4; ++a) h.login(a);
  h.not_ready(0, "break");
  h.not_ready(1, "break");  // tenant 1's team has its own slot
  h.ready(0);
  h.ready(1);
  // Agent 2 (tenant 0) serves caller +1555 in queue 0.
  h.not_ready(0, "x");
  h.enqueue(1, 0, 0, "+1555");
  h.serve(1, 2);
  h.ready(0);
  // The same number calling tenant 1 has no preference there.
  h.not_ready(1, "x");
  h.enqueue(2, 1, 0, "+1555");
  CHECK(h.offered_to(2) == 3u);
}

// =====================================================================================
// Configuration reload
// =====================================================================================

TEST_CASE("config reload: a changed skill requirement re-evaluates waiting calls",
          "[core][config][skills]") {
  Harness h;
  h.cb.skill(0, "billing");
  h.cb.skill(1, "tech");
  h.cb.queue(0).required_skills = {{S(0), 1, false}};
  h.cb.agent(0).skills = {{S(1), 5}};
  h.cb.member(0, 0);
  h.apply();
  h.login(0);
  h.enqueue(1);
  h.advance(1min);
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  SECTION("the queue now requires a skill the agent has") {
    h.cb.q(0).required_skills = {{S(1), 3, false}};
    h.apply();
    CHECK(h.offered_to(1) == 0u);
  }
  SECTION("the agent gains the skill by configuration") {
    h.cb.a(0).skills.push_back({S(0), 2});
    h.apply();
    CHECK(h.offered_to(1) == 0u);
  }
  SECTION("the agent gains the skill by set_agent_skills") {
    REQUIRE(h.core.set_agent_skills(A(0), {{S(0), 2}, {S(1), 5}}).is_ok());
    h.check();
    CHECK(h.offered_to(1) == 0u);
  }
  SECTION("set_agent_skills refuses bad skill lists") {
    expect_refused(h, ErrorCode::kNotFound, [&] {
      return h.core.set_agent_skills(A(0), {{S(9), 2}});
    });
    expect_refused(h, ErrorCode::kInvalidArgument, [&] {
      return h.core.set_agent_skills(A(0), {{S(0), 11}});
    });
    expect_refused(h, ErrorCode::kInvalidArgument, [&] {
      return h.core.set_agent_skills(A(0), {{S(0), 2}, {S(0), 3}});
    });
    CHECK(h.call(1).phase == CallPhase::kWaiting);
  }
  SECTION("losing a skill while NotReady: not offered when Ready again") {
    h.cb.q(0).required_skills = {{S(1), 3, false}};
    h.apply();
    h.answer(1, 0);
    h.hang_up(1);
    h.not_ready(0, "x");
    REQUIRE(h.core.set_agent_skills(A(0), {{S(0), 5}}).is_ok());
    h.enqueue(2);
    h.ready(0);
    CHECK(h.call(2).phase == CallPhase::kWaiting);
  }
}

TEST_CASE("config reload: tiers and penalties of members take effect at once",
          "[core][config][tier]") {
  Harness h;
  h.cb.queue(0);
  h.cb.agent(0);
  h.cb.member(0, 0, 2);
  h.apply();
  h.login(0);
  h.enqueue(1);
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  h.cb.m(0, 0).tier = 1;
  h.apply();
  CHECK(h.offered_to(1) == 0u);
}

TEST_CASE("config reload: a removed agent is logged out when idle, or when their call ends",
          "[core][config]") {
  Harness h;
  h.setup(3);
  h.cb.q(0).wrap_up = 30s;
  h.apply();
  h.login(1);
  h.enqueue(1);
  h.answer(1, 1);  // agent 1 talking
  h.login(0);
  h.login(2, false);
  h.cb.remove_agent(0);
  h.cb.remove_agent(1);
  const auto before = h.mark();
  h.apply();
  CHECK_FALSE(h.core.agent(A(0)).has_value());
  const auto changes = h.all<AgentStateChanged>(before);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].agent == A(0));
  CHECK(changes[0].to == AgentState::kLoggedOut);
  CHECK(changes[0].cause == Cause::kSystem);
  CHECK(h.state(1) == AgentState::kTalking);
  CHECK(h.core.login(A(0)).code() == ErrorCode::kNotFound);
  // The removed agent takes no new calls.
  h.enqueue(2);
  CHECK(h.call(2).phase == CallPhase::kWaiting);
  h.advance(1min);
  h.hang_up(1);
  CHECK(h.last_change(1)->to == AgentState::kLoggedOut);  // no wrap-up
  CHECK(h.last_change(1)->cause == Cause::kSystem);
  CHECK_FALSE(h.core.agent(A(1)).has_value());
  CHECK(h.finished(1)->state == FinalState::kCompleted);
  h.ready(2);
  CHECK(h.offered_to(2) == 2u);
}

TEST_CASE("config reload: a removed agent who is being offered a call may still answer it",
          "[core][config]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0);
  h.login(1, false);
  h.enqueue(1);
  REQUIRE(h.offered_to(1) == 0u);
  h.cb.remove_agent(0);
  h.apply();
  SECTION("answered") {
    h.answer(1, 0);
    h.hang_up(1);
    CHECK_FALSE(h.core.agent(A(0)).has_value());
  }
  SECTION("not answered: the call goes to the next agent") {
    h.ready(1);
    h.advance(15s);
    CHECK_FALSE(h.core.agent(A(0)).has_value());
    CHECK(h.offered_to(1) == 1u);
  }
}

TEST_CASE("config reload: a removed queue takes no new callers but serves its waiting calls",
          "[core][config][exits]") {
  Harness h;
  h.cb.queue(0);
  h.cb.queue(1);
  h.cb.agent(0);
  h.cb.member(0, 0);
  h.cb.member(1, 0);
  h.apply();
  h.login(0, false);
  h.enqueue(1, 0);
  h.enqueue(2, 0);
  h.cb.remove_queue(0);
  h.apply();
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  h.enqueue(3, 0);
  CHECK(h.exited(3)->reason == ExitReason::kQueueClosed);
  CHECK(h.finished(3)->state == FinalState::kHungUp);
  // Nor a callback request naming it.
  CHECK(h.core.request_callback(Harness::spec(6), Q(0), "").code() == ErrorCode::kInvalidState);
  CHECK_FALSE(h.exists(6));
  h.ready(0);
  h.serve(1, 0);
  REQUIRE(h.core.queue(Q(0)).has_value());
  h.serve(2, 0);
  CHECK_FALSE(h.core.queue(Q(0)).has_value());
  CHECK(h.core.enqueue(Harness::spec(4), Q(0)).code() == ErrorCode::kNotFound);
  h.enqueue(5, 1);  // the agent still serves the other queue
  CHECK(h.offered_to(5) == 0u);
}

TEST_CASE("config reload: new queues and agents appear, existing state is kept", "[core][config]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0, false);
  h.not_ready(0, "lunch");
  h.enqueue(1);
  h.advance(10s);
  h.cb.queue(1);
  h.cb.agent(1);
  h.cb.member(1, 1);
  h.cb.member(0, 1);
  h.apply();
  CHECK(h.state(0) == AgentState::kNotReady);
  CHECK(h.reason(0) == "lunch");
  CHECK(h.state(1) == AgentState::kLoggedOut);
  h.login(1);
  CHECK(h.offered_to(1) == 1u);
  h.answer(1, 1);
  CHECK(h.last<CallConnected>()->waited == 10s);  // the wait survived the reload
  h.enqueue(2, 1);
  CHECK(h.call(2).queue == Q(1));
}

TEST_CASE("config reload: escalation and max_wait keep counting from the call's entry",
          "[core][config][escalation]") {
  Harness h;
  h.setup(1);
  auto& q = h.cb.q(0);
  q.max_wait = 2min;
  h.apply();
  h.enqueue(1);
  h.advance(90s);
  h.apply();  // same configuration
  h.advance(29s);
  CHECK(h.exists(1));
  h.advance(1s);
  CHECK(h.exited(1)->reason == ExitReason::kMaxWait);
  SECTION("a newly added escalation step applies to the calls already waiting") {
    h.enqueue(2);
    h.advance(50s);
    h.cb.q(0).escalation = {{30s, 0, false, 2}, {60s, 0, false, 3}};
    h.apply();
    CHECK(h.call(2).escalation_step == 1);
    h.advance(10s);
    CHECK(h.call(2).escalation_step == 2);
  }
}

// Regression (fixed core bug): apply_config bumps every queued call's `gen` and re-schedules its
// queue timers (max wait, escalation, overflow threshold, sticky expiry) but not the
// kExclusionExpire timers of agents excluded after a ring-no-answer. The old timers are then
// ignored (gen mismatch), so when the exclusion runs out nothing re-routes the call: it waits while
// an eligible agent is Ready (check_invariants reports exactly that) until some unrelated event.
TEST_CASE(
    "config reload: a call excluded from an agent after RONA is offered to them when the "
    "exclusion ends",
    "[core][config][rona]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).rona_policy = RonaPolicy::kReady;
  h.cb.q(0).rona_retry = 30s;
  h.apply();
  h.login(0);
  h.enqueue(1);
  h.advance(15s);  // RONA: agent 0 Ready, excluded from call 1 until t=45 s
  REQUIRE(h.state(0) == AgentState::kReady);
  h.advance(5s);
  h.apply();  // same configuration
  h.clock.advance(25s);
  h.core.run_due_timers();
  CHECK(h.core.check_invariants().is_ok());
  CHECK(h.count<CallOffered>() == 2);  // re-offered to agent 0 at t=45 s
}

// =====================================================================================
// Configuration validation, unknown ids and duplicates
// =====================================================================================

TEST_CASE("apply_config refuses a malformed configuration and changes nothing", "[core][config]") {
  Harness h;
  h.setup(2);
  h.apply();
  h.login(0, false);
  h.enqueue(1);
  ConfigBuilder bad = h.cb;
  ErrorCode code = ErrorCode::kInvalidArgument;
  SECTION("duplicate agent id") {
    bad.agent(1);
    code = ErrorCode::kAlreadyExists;
  }
  SECTION("unknown tenant") {
    bad.agent(5, 9);
  }
  SECTION("empty name") {
    bad.a(1).name.clear();
  }
  SECTION("proficiency out of range") {
    bad.skill(0, "s");
    bad.a(1).skills = {{S(0), 11}};
  }
  SECTION("unknown skill") {
    bad.a(1).skills = {{S(4), 3}};
  }
  SECTION("ring timeout zero") {
    bad.q(0).ring_timeout = 0s;
  }
  SECTION("tier out of range") {
    bad.m(0, 1).tier = 0;
  }
  SECTION("weight zero") {
    bad.m(0, 1).weight = 0;
  }
  SECTION("member listed twice") {
    bad.member(0, 1);
  }
  SECTION("member of an unknown queue") {
    bad.member(5, 1);
  }
  SECTION("escalation steps not increasing") {
    bad.q(0).escalation = {{60s, 1, false, 0}, {30s, 1, false, 0}};
  }
  SECTION("overflow without hysteresis room") {
    bad.q(0).overflow.enabled = true;
    bad.q(0).overflow.clear_below_calls = 9;
  }
  SECTION("exit to itself") {
    bad.q(0).on_full = {ExitDestination::Kind::kQueue, Q(0), ""};
  }
  SECTION("exit to an unknown queue") {
    bad.q(0).on_empty = {ExitDestination::Kind::kQueue, Q(3), ""};
  }
  SECTION("negative aging") {
    bad.q(0).aging_per_minute = -1;
  }
  SECTION("ring-all limit zero") {
    bad.q(0).ring_all_limit = 0;
  }
  SECTION("unknown team") {
    bad.a(1).team = TeamId(4);
  }
  expect_refused(h, code, [&] { return h.core.apply_config(bad.c); });
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  h.login(1);
  CHECK(h.offered_to(1) == 1u);
}

TEST_CASE("unknown agents, calls and queues are reported as not found", "[core][errors]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  const AgentId ghost(42);
  const CallId nocall(4242);
  auto nf = [&](auto request) { expect_refused(h, ErrorCode::kNotFound, request); };
  nf([&] { return h.core.login(ghost); });
  nf([&] { return h.core.logout(ghost); });
  nf([&] { return h.core.set_ready(ghost); });
  nf([&] { return h.core.set_not_ready(ghost, "x"); });
  nf([&] { return h.core.end_wrap_up(ghost); });
  nf([&] { return h.core.set_work_mode(ghost, WorkMode::kManual); });
  nf([&] { return h.core.cancel_break_request(ghost); });
  nf([&] { return h.core.set_agent_skills(ghost, {}); });
  nf([&] { return h.core.start_outbound(ghost, C(1), CallKind::kOutbound); });
  nf([&] { return h.core.start_outbound(A(0), C(1), CallKind::kInternal, ghost); });
  nf([&] { return h.core.enqueue(Harness::spec(1), Q(9)); });
  nf([&] { return h.core.offer_ringing(nocall, A(0)); });
  nf([&] { return h.core.offer_answered(nocall, A(0)); });
  nf([&] { return h.core.offer_failed(nocall, A(0), OfferEndReason::kBusy); });
  nf([&] { return h.core.hang_up(nocall); });
  nf([&] { return h.core.leave_queue(nocall, {}); });
  nf([&] { return h.core.hold(nocall); });
  nf([&] { return h.core.retrieve(nocall); });
  nf([&] { return h.core.set_call_priority(nocall, 1); });
  nf([&] { return h.core.outbound_answered(nocall); });
  nf([&] { return h.core.outbound_failed(nocall); });
  CHECK_FALSE(h.core.agent(ghost).has_value());
  CHECK_FALSE(h.core.call(nocall).has_value());
  CHECK_FALSE(h.core.queue(Q(9)).has_value());
  CHECK_FALSE(h.core.find_reason("no-such-reason").has_value());
  CHECK(h.core.reason_name(ReasonId{}).empty());
}

TEST_CASE("a duplicate call id is refused", "[core][errors]") {
  Harness h;
  h.setup(1);
  h.apply();
  h.login(0);
  h.enqueue(1);
  SECTION("while it is offered") {}
  SECTION("while it is connected") {
    h.answer(1, 0);
  }
  SECTION("while another is waiting") {
    h.enqueue(2);
    expect_refused(h, ErrorCode::kAlreadyExists,
                   [&] { return h.core.enqueue(Harness::spec(2), Q(0)); });
  }
  expect_refused(h, ErrorCode::kAlreadyExists,
                 [&] { return h.core.enqueue(Harness::spec(1), Q(0)); });
  SECTION("a finished call's id may be used again") {}
  CallSpec noid = Harness::spec(1);
  noid.id = CallId{};
  expect_refused(h, ErrorCode::kInvalidArgument, [&] { return h.core.enqueue(noid, Q(0)); });
}

TEST_CASE("timers: next_deadline names the earliest timer; nothing fires early", "[core][timers]") {
  Harness h;
  h.setup(1);
  h.cb.q(0).max_wait = 90s;
  h.apply();
  CHECK(h.core.next_deadline() == kNever);
  CHECK(h.core.run_due_timers() == 0);
  h.login(0);
  h.enqueue(1);
  CHECK(h.core.next_deadline() == h.now() + 15s);  // ring timeout before max wait
  h.clock.advance(14s);
  CHECK(h.core.run_due_timers() == 0);
  CHECK(h.state(0) == AgentState::kReserved);
  h.clock.advance(1s);
  CHECK(h.core.run_due_timers() >= 1);
  h.check();
  CHECK(h.state(0) == AgentState::kNotReady);
}

TEST_CASE("every call ends with exactly one CallFinished, whatever happens to it",
          "[core][exits][soak]") {
  // A small deterministic soak: random commands against three queues with every feature on;
  // Harness::check() (run after every step) asserts the invariants, the per-agent event chain
  // and the single CallFinished per call.
  Harness h(99);
  h.cb.skill(0, "s");
  for (std::uint32_t qi = 0; qi < 3; ++qi) {
    auto& q = h.cb.queue(qi);
    q.strategy = static_cast<Strategy>(qi * 3 % 9);
    q.max_wait = 3min;
    q.on_timeout = {qi < 2 ? ExitDestination::Kind::kQueue : ExitDestination::Kind::kVoicemail,
                    Q(qi + 1), ""};
    q.max_length = 6;
    q.wrap_up = 5s;
    q.aging_per_minute = 0.5;
    q.escalation = {{20s, 1, true, 2}};
    q.overflow.enabled = true;
    q.overflow.min_calls = 3;
    q.overflow.clear_below_calls = 1;
    q.overflow.sustain = 1min;
    q.overflow.clear_after = 30s;
    q.sticky_window = 5min;
    q.sticky_wait = 10s;
    q.rona_policy = static_cast<RonaPolicy>(qi);
    q.required_skills = {{S(0), 3, true}};
  }
  auto& team = h.cb.team(0, "T");
  team.break_policy = {{"break"}, 1, 2min, BreakPolicy::OverLimit::kWaitlist};
  for (std::uint32_t a = 0; a < 6; ++a) {
    auto& ac = h.cb.agent(a);
    ac.team = TeamId(0);
    ac.skills = {{S(0), 1 + static_cast<int>(a)}};
    h.cb.member(a % 3, a, 1 + static_cast<int>(a % 2));
    h.cb.member((a + 1) % 3, a, 2);
  }
  h.apply();
  Xoshiro256 pick(5);
  std::uint64_t next_call = 1;
  std::set<std::uint64_t> created;
  for (int step = 0; step < 3000; ++step) {
    const auto r = pick.below(100);
    const AgentId a(static_cast<std::uint32_t>(pick.below(6)));
    std::vector<CallId> live;
    for (std::uint64_t c = 1; c < next_call; ++c)
      if (h.exists(c)) live.push_back(C(c));
    const CallId some = live.empty() ? C(0) : live[pick.below(live.size())];
    Status ignored;
    if (r < 20) {
      CallSpec s = Harness::spec(next_call++, "+1" + std::to_string(pick.below(5)),
                                 static_cast<int>(pick.below(3)));
      if (h.core.enqueue(s, Q(static_cast<std::uint32_t>(pick.below(3)))).is_ok())
        created.insert(s.id.value);
    } else if (r < 30)
      ignored = h.core.login(a, pick.below(2) == 0);
    else if (r < 35) {
      // Not while Dialing: a supervisor's logout of a dialing agent hits the Dialing ->
      // LoggedOut core bug (see "[core-bug-abort]") and would abort the run.
      if (!h.core.agent(a) || h.core.agent(a)->state != AgentState::kDialing)
        ignored = h.core.logout(a, pick.below(3) == 0 ? Cause::kSupervisor : Cause::kAgent);
    } else if (r < 45)
      ignored = h.core.set_ready(a);
    else if (r < 50)
      ignored = h.core.set_not_ready(a, pick.below(2) ? "break" : "misc");
    else if (r < 55)
      ignored = h.core.end_wrap_up(a);
    else if (r < 62)
      ignored = h.core.offer_ringing(some, a);
    else if (r < 72)
      ignored = h.core.offer_answered(some, a);
    else if (r < 80)
      ignored = h.core.hang_up(some);
    else if (r < 82)
      ignored = h.core.hold(some);
    else if (r < 84)
      ignored = h.core.retrieve(some);
    else if (r < 85)
      ignored = h.core.leave_queue(some, {ExitDestination::Kind::kCallback, QueueId{}, ""});
    else if (r < 87)
      ignored = h.core.offer_failed(some, a, OfferEndReason::kBusy);
    else if (r < 88)
      ignored = h.core.set_call_priority(some, 5);
    else if (r < 89 && h.core.agent(a) && h.core.agent(a)->state == AgentState::kReady) {
      if (h.core.start_outbound(a, C(next_call), CallKind::kOutbound).is_ok())
        created.insert(next_call);
      ++next_call;
    } else if (r < 90)
      ignored = h.core.outbound_answered(some);
    else if (r < 91)
      ignored = h.core.outbound_failed(some);
    else if (r < 92)
      ignored = h.core.set_not_ready(a, "sup", Cause::kSupervisor);
    else if (r < 93) {
      const AgentId callee(static_cast<std::uint32_t>(pick.below(6)));
      if (h.core.start_outbound(a, C(next_call), CallKind::kInternal, callee).is_ok())
        created.insert(next_call);
      ++next_call;
    } else if (r < 94) {
      ignored = h.core.apply_config(h.cb.c);  // a reload that changes nothing
    } else {
      h.advance(std::chrono::seconds(1 + pick.below(20)));
      continue;
    }
    h.check();
  }
  // Drain: everybody hangs up.
  for (std::uint64_t c = 1; c < next_call; ++c)
    if (h.exists(c)) {
      if (h.call(c).phase == CallPhase::kDialing) REQUIRE(h.core.outbound_answered(C(c)).is_ok());
      h.hang_up(c);
    }
  CHECK(h.core.calls_in_system() == 0);
  h.advance(10min);
  std::set<std::uint64_t> finished;
  for (const auto& f : h.all<CallFinished>()) CHECK(finished.insert(f.call.value).second);
  CHECK(finished == created);
}

// ------------------------------------------------------------------ transfers

namespace {

// Queue 0: agents 0 and 1, wrap-up 20 s. Queue 1: agents 2 and 3, wrap-up 10 s,
// sticky_wait 45 s. Agent 4 is in no queue. Nobody is logged in.
template <class Tweak>
void transfer_setup(Harness& h, Tweak&& tweak) {
  h.cb.queue(0).wrap_up = 20s;
  h.cb.queue(1).wrap_up = 10s;
  h.cb.q(1).sticky_wait = 45s;
  for (std::uint32_t a = 0; a < 5; ++a) h.cb.agent(a);
  h.cb.member(0, 0);
  h.cb.member(0, 1);
  h.cb.member(1, 2);
  h.cb.member(1, 3);
  tweak(h.cb);
  h.apply();
}
void transfer_setup(Harness& h) {
  transfer_setup(h, [](ConfigBuilder&) {});
}

// Agent 0 (logged in here) answers call 1 (caller "+1555", priority 3, VIP 2) 4 s after
// it entered queue 0 at t = 0, then talks for `talk`.
void connect_call_1(Harness& h, Duration talk = 30s) {
  h.login(0);
  CallSpec s = Harness::spec(1, "+1555", 3);
  s.vip_level = 2;
  h.enqueue_spec(s, 0);
  REQUIRE(h.offered_to(1) == 0u);
  h.advance(4s);
  h.answer(1, 0);
  h.advance(talk);
}

template <class E>
bool is(const CoreEvent& e) {
  return std::holds_alternative<E>(e);
}

void ok(Harness& h, const Status& s) {
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  h.check();
}

}  // namespace

TEST_CASE("transfer to a queue: the agent is released, the call waits there again as itself",
          "[core][transfer]") {
  Harness h;
  transfer_setup(h);
  connect_call_1(h, 30s);  // t = 34 s
  ok(h, h.core.hold(C(1)));
  h.advance(10s);  // t = 44 s
  const std::size_t m = h.mark();
  ok(h, h.core.transfer_to_queue(C(1), Q(1)));

  // CallTransferred first, then the agent's release, then the call joins queue 1.
  REQUIRE(h.rec.events.size() == m + 3);
  REQUIRE(is<CallTransferred>(h.rec.events[m]));
  REQUIRE(is<AgentStateChanged>(h.rec.events[m + 1]));
  REQUIRE(is<CallQueued>(h.rec.events[m + 2]));
  const auto tr = std::get<CallTransferred>(h.rec.events[m]);
  CHECK(tr.call == C(1));
  CHECK(tr.tenant == TenantId(0));
  CHECK(tr.from_queue == Q(0));
  CHECK(tr.to_queue == Q(1));
  CHECK(tr.from_agent == A(0));
  CHECK_FALSE(tr.to_agent.valid());
  CHECK(tr.kind == CallTransferred::Kind::kQueue);
  CHECK(std::string(to_string(tr.kind)) == "queue");
  CHECK(tr.at == h.now());
  CHECK(tr.talk == 30s);
  CHECK(tr.hold == 10s);
  const auto rel = std::get<AgentStateChanged>(h.rec.events[m + 1]);
  CHECK(rel.agent == A(0));
  CHECK(rel.from == AgentState::kHeld);
  CHECK(rel.to == AgentState::kWrapUp);
  CHECK(rel.cause == Cause::kAgent);
  CHECK(rel.call == C(1));
  const auto queued = std::get<CallQueued>(h.rec.events[m + 2]);
  CHECK(queued.queue == Q(1));
  CHECK(queued.caller_number == "+1555");
  CHECK(queued.vip_level == 2);
  CHECK(queued.at == h.now());

  CHECK(h.call(1).phase == CallPhase::kWaiting);
  CHECK(h.call(1).queue == Q(1));
  CHECK(h.call(1).enqueued == h.now());
  CHECK_FALSE(h.call(1).agent.valid());
  // Answered and handled in queue 0 (the agent's part of the call), offered anew in queue 1.
  const auto q0 = h.queue(0).counters;
  CHECK(q0.entered == 1);
  CHECK(q0.answered == 1);
  CHECK(q0.answered_in_threshold == 1);
  CHECK(q0.handled == 1);
  CHECK(q0.total_answer_wait == 4s);
  CHECK(q0.total_talk == 30s);
  CHECK(q0.total_hold == 10s);
  const auto q1 = h.queue(1).counters;
  CHECK(q1.entered == 1);
  CHECK(q1.answered == 0);
  CHECK(h.queue(1).waiting == 1);
  CHECK(h.agent_snap(0).counters.handled == 1);
  CHECK(h.agent_snap(0).counters.talk == 30s);
  CHECK(h.agent_snap(0).counters.hold == 10s);

  // Queue 0's wrap-up (20 s), then Ready; agent 0 is no member of queue 1.
  h.advance(20s);  // t = 64 s
  CHECK(h.state(0) == AgentState::kReady);
  CHECK(h.queue(0).counters.total_wrap_up == 20s);
  CHECK(h.call(1).phase == CallPhase::kWaiting);

  // Agent 2 takes it in queue 1; its wait there counts from the transfer.
  h.login(2);
  REQUIRE(h.offered_to(1) == 2u);
  h.advance(5s);  // t = 69 s
  const auto before_answer = h.mark();
  h.answer(1, 2);
  REQUIRE(h.count<CallConnected>(before_answer) == 1);
  CHECK(h.all<CallConnected>(before_answer)[0].waited == 25s);
  CHECK(h.all<CallConnected>(before_answer)[0].queue == Q(1));
  h.advance(50s);
  h.hang_up(1);
  const auto f = h.finished(1);
  REQUIRE(f.has_value());
  CHECK(f->state == FinalState::kCompleted);
  CHECK(f->queue == Q(1));
  CHECK(f->agent == A(2));
  CHECK(f->arrived == TimePoint{});  // the first arrival
  CHECK(f->waited == 25s);           // in the last queue
  CHECK(f->talk == 80s);             // both agents' parts
  CHECK(f->hold == 10s);
  const auto q1b = h.queue(1).counters;
  CHECK(q1b.answered == 1);
  CHECK(q1b.handled == 1);
  CHECK(q1b.total_answer_wait == 25s);
  CHECK(q1b.answered_in_threshold == 0);  // 25 s > the 20 s threshold
  CHECK(q1b.total_talk == 50s);
  CHECK(q1b.total_hold == 0s);
  CHECK(h.queue(0).counters.handled == 1);
  CHECK(h.queue(0).counters.total_talk == 30s);
  CHECK(h.state(2) == AgentState::kWrapUp);  // queue 1's wrap-up
  h.advance(10s);
  CHECK(h.state(2) == AgentState::kReady);
  CHECK(h.agent_snap(2).counters.handled == 1);
  CHECK(h.queue(1).counters.total_wrap_up == 10s);
}

TEST_CASE("transfer to a queue keeps the call's priority; its own queue is allowed",
          "[core][transfer]") {
  Harness h;
  transfer_setup(h);
  connect_call_1(h);  // priority 3, VIP 2
  h.enqueue(2, 0);    // waits: agent 1 is logged out
  h.enqueue(3, 1);    // waits: nobody in queue 1
  h.advance(10s);
  SECTION("back into its own queue, ahead of a caller who waited longer") {
    ok(h, h.core.transfer_to_queue(C(1), Q(0)));
    CHECK(h.queue(0).counters.entered == 3);
    CHECK(h.queue(0).counters.handled == 1);
    CHECK(h.call(1).queue == Q(0));
    CHECK(h.call(1).position == 1);
    CHECK(h.call(2).position == 2);
    h.login(1);
    CHECK(h.offered_to(1) == 1u);
    CHECK(h.call(2).phase == CallPhase::kWaiting);
  }
  SECTION("into another queue, ahead of a caller who waited longer") {
    ok(h, h.core.transfer_to_queue(C(1), Q(1)));
    h.login(2);
    CHECK(h.offered_to(1) == 2u);
    CHECK(h.call(3).phase == CallPhase::kWaiting);
  }
}

TEST_CASE("directed transfer: a Ready preferred agent gets the call at once", "[core][transfer]") {
  Harness h;
  transfer_setup(h);
  h.login(3);  // idle longest
  h.advance(10s);
  h.login(2);
  connect_call_1(h);
  const auto m = h.mark();
  ok(h, h.core.transfer_to_queue(C(1), Q(1), A(2)));
  REQUIRE(h.count<CallTransferred>(m) == 1);
  CHECK(h.all<CallTransferred>(m)[0].to_agent == A(2));
  CHECK(h.offers_of(1, m) == std::vector<std::uint32_t>{2});
  CHECK(h.all<CallOffered>(m)[0].queue == Q(1));
  h.answer(1, 2);
  h.advance(20s);
  h.hang_up(1);
  CHECK(h.finished(1)->agent == A(2));
  CHECK(h.agent_snap(2).counters.handled == 1);
  CHECK(h.agent_snap(3).counters.handled == 0);
}

TEST_CASE(
    "directed transfer into a live rules queue with nobody Ready: the preferred agent, "
    "not a member, gets the call at once",
    "[core][transfer][rules]") {
  Harness h;
  transfer_setup(h, [](ConfigBuilder& cb) {
    // Live: the target reads a queue figure, so entering calls re-route the whole queue.
    cb.q(1).routing.steps = {{0s, "queue.queue1.waiting >= 0"}};
  });
  h.login(4);  // Ready, a member of no queue; queue 1's members (2, 3) are logged out
  connect_call_1(h);
  const auto m = h.mark();
  ok(h, h.core.transfer_to_queue(C(1), Q(1), A(4)));
  CHECK(h.offers_of(1, m) == std::vector<std::uint32_t>{4});
  h.answer(1, 4);
  h.hang_up(1);
  CHECK(h.finished(1)->agent == A(4));
}

TEST_CASE("directed transfer: the call waits for a busy preferred agent, for sticky_wait at most",
          "[core][transfer]") {
  Harness h;
  transfer_setup(h);
  h.login(2);
  h.advance(1s);
  h.login(3);
  h.enqueue(5, 1);
  REQUIRE(h.offered_to(5) == 2u);
  h.answer(5, 2);  // agent 2 is busy
  connect_call_1(h);
  const auto m = h.mark();
  ok(h, h.core.transfer_to_queue(C(1), Q(1), A(2)));
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  CHECK(h.call(1).preferred == A(2));
  CHECK(h.state(3) == AgentState::kReady);  // eligible, but the call waits for agent 2
  h.advance(30s);
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  SECTION("the preferred agent becomes Ready within the window") {
    h.hang_up(5);  // agent 2: queue 1's wrap-up, 10 s
    CHECK(h.call(1).phase == CallPhase::kWaiting);
    h.advance(10s);
    CHECK(h.offers_of(1, m) == std::vector<std::uint32_t>{2});
  }
  SECTION("after queue 1's sticky_wait (45 s) anyone eligible takes it") {
    h.advance(14s);
    CHECK(h.call(1).phase == CallPhase::kWaiting);
    h.advance(1s);
    CHECK(h.offers_of(1, m) == std::vector<std::uint32_t>{3});
    CHECK_FALSE(h.call(1).preferred.valid());
    h.answer(1, 3);
    h.hang_up(5);
    h.advance(10s);
    CHECK(h.state(2) == AgentState::kReady);  // nothing waits for them any more
  }
}

TEST_CASE(
    "directed transfer: a preferred agent who is never Ready holds the call 30 s when "
    "sticky_wait is 0",
    "[core][transfer]") {
  Harness h;
  transfer_setup(h, [](ConfigBuilder& cb) { cb.q(1).sticky_wait = 0s; });
  h.login(4, false);  // NotReady, in no queue
  connect_call_1(h);
  SECTION("a member is Ready") {
    h.login(3);
    const auto m = h.mark();
    ok(h, h.core.transfer_to_queue(C(1), Q(1), A(4)));
    h.advance(29s);
    CHECK(h.call(1).phase == CallPhase::kWaiting);
    h.advance(1s);
    CHECK(h.offers_of(1, m) == std::vector<std::uint32_t>{3});
  }
  SECTION("nobody is Ready: after the window the preferred non-member no longer gets it") {
    const auto m = h.mark();
    ok(h, h.core.transfer_to_queue(C(1), Q(1), A(4)));
    h.advance(31s);
    h.ready(4);
    CHECK(h.state(4) == AgentState::kReady);
    CHECK(h.call(1).phase == CallPhase::kWaiting);
    h.login(2);
    CHECK(h.offers_of(1, m) == std::vector<std::uint32_t>{2});
  }
}

TEST_CASE("directed transfer to an agent outside the queue, without its skills",
          "[core][transfer]") {
  Harness h;
  transfer_setup(h, [](ConfigBuilder& cb) {
    cb.skill(0, "french");
    cb.q(1).required_skills = {SkillRequirement{S(0), 5}};
    cb.a(2).skills = {AgentSkill{S(0), 5}};
    cb.a(3).skills = {AgentSkill{S(0), 5}};
  });
  h.login(4, false);
  connect_call_1(h);
  const auto m = h.mark();
  ok(h, h.core.transfer_to_queue(C(1), Q(1), A(4)));
  CHECK(h.call(1).phase == CallPhase::kWaiting);
  h.advance(20s);
  h.ready(4);
  REQUIRE(h.offers_of(1, m) == std::vector<std::uint32_t>{4});
  CHECK(h.all<CallOffered>(m)[0].queue == Q(1));
  h.advance(3s);
  h.answer(1, 4);
  CHECK(h.last<CallConnected>()->queue == Q(1));
  CHECK(h.last<CallConnected>()->waited == 23s);
  h.advance(20s);
  h.hang_up(1);
  CHECK(h.state(4) == AgentState::kWrapUp);  // queue 1's wrap-up
  h.advance(10s);
  CHECK(h.state(4) == AgentState::kReady);
  CHECK(h.queue(1).counters.answered == 1);
  CHECK(h.queue(1).counters.handled == 1);
  CHECK(h.queue(1).counters.total_wrap_up == 10s);
  CHECK(h.agent_snap(4).counters.handled == 1);
}

TEST_CASE("directed transfer: the preference ends when the agent fails to answer or logs out",
          "[core][transfer]") {
  Harness h;
  transfer_setup(h);
  h.login(3);
  connect_call_1(h);
  const auto m = h.mark();
  SECTION("declined") {
    h.login(2);
    ok(h, h.core.transfer_to_queue(C(1), Q(1), A(2)));
    REQUIRE(h.offers_of(1, m) == std::vector<std::uint32_t>{2});
    ok(h, h.core.offer_failed(C(1), A(2), OfferEndReason::kDeclined));
    CHECK(h.offers_of(1, m) == (std::vector<std::uint32_t>{2, 3}));
  }
  SECTION("no answer") {
    h.login(2);
    ok(h, h.core.transfer_to_queue(C(1), Q(1), A(2)));
    h.advance(15s);  // ring timeout
    CHECK(h.offers_of(1, m) == (std::vector<std::uint32_t>{2, 3}));
  }
  SECTION("logged out") {
    h.login(2, false);
    ok(h, h.core.transfer_to_queue(C(1), Q(1), A(2)));
    CHECK(h.call(1).phase == CallPhase::kWaiting);
    ok(h, h.core.logout(A(2)));
    CHECK(h.offers_of(1, m) == std::vector<std::uint32_t>{3});
  }
}

TEST_CASE("a transferred call does not wait for the caller's last agent (sticky routing)",
          "[core][transfer][sticky]") {
  Harness h;
  transfer_setup(h, [](ConfigBuilder& cb) {
    cb.q(0).sticky_window = 1h;
    cb.q(1).sticky_window = 1h;
    cb.member(1, 0);  // agent 0 serves queue 1 too
  });
  h.login(2);
  connect_call_1(h);
  const auto m = h.mark();
  ok(h, h.core.transfer_to_queue(C(1), Q(1)));
  CHECK(h.offers_of(1, m) == std::vector<std::uint32_t>{2});
}

TEST_CASE("transfer to an outside party: the call ends as transferred", "[core][transfer]") {
  Harness h;
  transfer_setup(h);
  connect_call_1(h, 20s);  // t = 24 s
  ok(h, h.core.hold(C(1)));
  h.advance(5s);
  ok(h, h.core.retrieve(C(1)));
  h.advance(10s);  // t = 39 s
  const auto m = h.mark();
  Cause cause = Cause::kAgent;
  SECTION("by the agent") {
    ok(h, h.core.transfer_external(C(1)));
  }
  SECTION("by a supervisor") {
    cause = Cause::kSupervisor;
    ok(h, h.core.transfer_external(C(1), cause));
  }
  REQUIRE(h.rec.events.size() == m + 3);
  REQUIRE(is<CallTransferred>(h.rec.events[m]));
  REQUIRE(is<CallFinished>(h.rec.events[m + 1]));
  REQUIRE(is<AgentStateChanged>(h.rec.events[m + 2]));
  const auto tr = std::get<CallTransferred>(h.rec.events[m]);
  CHECK(tr.kind == CallTransferred::Kind::kExternal);
  CHECK(tr.from_queue == Q(0));
  CHECK_FALSE(tr.to_queue.valid());
  CHECK(tr.from_agent == A(0));
  CHECK_FALSE(tr.to_agent.valid());
  CHECK(tr.talk == 30s);
  CHECK(tr.hold == 5s);
  const auto f = std::get<CallFinished>(h.rec.events[m + 1]);
  CHECK(f.state == FinalState::kTransferred);
  CHECK(std::string(to_string(f.state)) == "transferred");
  CHECK(f.cause == HangupCause::kTransfer);
  CHECK(f.agent == A(0));
  CHECK(f.queue == Q(0));
  CHECK(f.waited == 4s);
  CHECK(f.talk == 30s);
  CHECK(f.hold == 5s);
  CHECK(f.arrived == TimePoint{});
  const auto rel = std::get<AgentStateChanged>(h.rec.events[m + 2]);
  CHECK(rel.to == AgentState::kWrapUp);
  CHECK(rel.cause == cause);
  CHECK_FALSE(h.exists(1));
  const auto q0 = h.queue(0).counters;
  CHECK(q0.answered == 1);
  CHECK(q0.handled == 1);
  CHECK(q0.total_talk == 30s);
  CHECK(q0.total_hold == 5s);
  CHECK(h.agent_snap(0).counters.handled == 1);
  h.advance(20s);
  CHECK(h.state(0) == AgentState::kReady);
  CHECK(h.queue(0).counters.total_wrap_up == 20s);
}

TEST_CASE("start_outbound while Talking or Held on an inbound call places a consultation call",
          "[core][transfer][consult]") {
  Harness h;
  transfer_setup(h);
  h.login(1, false);
  connect_call_1(h);
  const bool held = GENERATE(false, true);
  if (held) ok(h, h.core.hold(C(1)));
  const AgentState own = held ? AgentState::kHeld : AgentState::kTalking;
  const auto m = h.mark();
  ok(h, h.core.start_outbound(A(0), C(60), CallKind::kInternal, A(1)));
  // Only the consulted agent changes state; agent 0 stays on call 1.
  REQUIRE(h.count<AgentStateChanged>(m) == 1);
  CHECK(h.last_change(1)->to == AgentState::kRinging);
  CHECK(h.state(0) == own);
  CHECK(h.view(0).call == C(1));
  CHECK(h.view(0).call_kind == CallKind::kInbound);
  CHECK(h.call(1).consult == C(60));
  CHECK(h.call(60).consult_for == C(1));
  CHECK(h.call(60).phase == CallPhase::kDialing);
  // One consultation at a time; a consultation cannot be held or transferred.
  expect_refused(h, ErrorCode::kInvalidState,
                 [&] { return h.core.start_outbound(A(0), C(61), CallKind::kOutbound); });
  ok(h, h.core.outbound_answered(C(60)));
  CHECK(h.state(0) == own);
  CHECK(h.state(1) == AgentState::kTalking);
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.hold(C(60)); });
  expect_refused(h, ErrorCode::kInvalidState,
                 [&] { return h.core.transfer_to_queue(C(60), Q(1)); });
  expect_refused(h, ErrorCode::kInvalidState, [&] { return h.core.transfer_external(C(60)); });
  // The caller's call can still be held and retrieved.
  if (held) {
    ok(h, h.core.retrieve(C(1)));
    ok(h, h.core.hold(C(1)));
  } else {
    ok(h, h.core.hold(C(1)));
    ok(h, h.core.retrieve(C(1)));
  }
  h.advance(10s);
  SECTION("the consultation ends: the agent is still on the call, the consulted agent is free") {
    h.hang_up(60);
    CHECK(h.finished(60)->state == FinalState::kCompleted);
    CHECK(h.finished(60)->talk == 10s);
    CHECK(h.state(0) == own);
    CHECK(h.state(1) == AgentState::kNotReady);  // back where they were
    CHECK_FALSE(h.call(1).consult.valid());
    CHECK(h.agent_snap(0).counters.outbound == 1);
    ok(h, h.core.transfer_to_queue(C(1), Q(1)));  // no consultation in progress any more
  }
  SECTION("the caller hangs up during the consultation: it ends too") {
    const auto before = h.mark();
    h.hang_up(1);
    const auto finished = h.all<CallFinished>(before);
    REQUIRE(finished.size() == 2);
    CHECK(finished[0].call == C(60));
    CHECK(finished[0].state == FinalState::kCompleted);
    CHECK(finished[1].call == C(1));
    CHECK(finished[1].state == FinalState::kCompleted);
    CHECK(h.state(0) == AgentState::kWrapUp);
    CHECK(h.state(1) == AgentState::kNotReady);
    CHECK(h.core.calls_in_system() == 0);
  }
}

TEST_CASE("a consultation that is not answered leaves the agent on the caller's call",
          "[core][transfer][consult]") {
  Harness h;
  transfer_setup(h);
  h.login(1);
  connect_call_1(h);
  ok(h, h.core.hold(C(1)));
  ok(h, h.core.start_outbound(A(0), C(60), CallKind::kInternal, A(1)));
  SECTION("failed") {
    ok(h, h.core.outbound_failed(C(60)));
  }
  SECTION("hung up while ringing") {
    h.hang_up(60);
  }
  SECTION("the caller hangs up while it rings") {
    h.hang_up(1);
    CHECK(h.finished(1)->state == FinalState::kCompleted);
    CHECK(h.state(0) == AgentState::kWrapUp);
  }
  CHECK(h.finished(60)->state == FinalState::kUnanswered);
  CHECK(h.state(1) == AgentState::kReady);
  CHECK(h.agent_snap(0).counters.outbound == 0);
  if (h.exists(1)) {
    CHECK(h.state(0) == AgentState::kHeld);
    CHECK_FALSE(h.call(1).consult.valid());
    expect_refused(h, ErrorCode::kNotFound,
                   [&] { return h.core.complete_attended_transfer(C(1), C(60)); });
  }
}

TEST_CASE("attended transfer to a colleague: the call continues with them", "[core][transfer]") {
  Harness h;
  transfer_setup(h);
  h.login(1, false);
  h.not_ready(1, "lunch");
  connect_call_1(h, 30s);  // t = 34 s
  ok(h, h.core.hold(C(1)));
  ok(h, h.core.start_outbound(A(0), C(60), CallKind::kInternal, A(1)));
  h.advance(5s);
  ok(h, h.core.outbound_answered(C(60)));
  h.advance(20s);  // t = 59 s: the caller has been held 25 s
  const auto m = h.mark();
  ok(h, h.core.complete_attended_transfer(C(1), C(60)));
  REQUIRE(h.rec.events.size() == m + 3);
  REQUIRE(is<CallTransferred>(h.rec.events[m]));
  REQUIRE(is<CallFinished>(h.rec.events[m + 1]));
  REQUIRE(is<AgentStateChanged>(h.rec.events[m + 2]));
  const auto tr = std::get<CallTransferred>(h.rec.events[m]);
  CHECK(tr.kind == CallTransferred::Kind::kAttended);
  CHECK(tr.from_queue == Q(0));
  CHECK_FALSE(tr.to_queue.valid());
  CHECK(tr.from_agent == A(0));
  CHECK(tr.to_agent == A(1));
  CHECK(tr.talk == 30s);
  CHECK(tr.hold == 25s);
  const auto consult = std::get<CallFinished>(h.rec.events[m + 1]);
  CHECK(consult.call == C(60));
  CHECK(consult.state == FinalState::kCompleted);
  CHECK(consult.cause == HangupCause::kTransfer);
  CHECK(consult.talk == 20s);
  CHECK(consult.agent == A(0));
  const auto rel = std::get<AgentStateChanged>(h.rec.events[m + 2]);
  CHECK(rel.agent == A(0));
  CHECK(rel.from == AgentState::kHeld);
  CHECK(rel.to == AgentState::kWrapUp);
  CHECK(rel.call == C(1));

  CHECK(h.state(1) == AgentState::kTalking);
  CHECK(h.view(1).call == C(1));
  CHECK(h.view(1).call_kind == CallKind::kInbound);
  CHECK(h.call(1).phase == CallPhase::kConnected);
  CHECK(h.call(1).agent == A(1));
  CHECK(h.call(1).queue == Q(0));
  CHECK_FALSE(h.call(1).consult.valid());
  CHECK_FALSE(h.exists(60));
  CHECK(h.agent_snap(0).counters.handled == 1);
  CHECK(h.agent_snap(0).counters.outbound == 1);
  // Still one answered call of queue 0, not yet handled to its end.
  CHECK(h.queue(0).counters.answered == 1);
  CHECK(h.queue(0).counters.handled == 0);
  // The caller is with agent 1 now, no longer held; agent 1 can hold them.
  ok(h, h.core.hold(C(1)));
  h.advance(5s);
  ok(h, h.core.retrieve(C(1)));
  h.advance(35s);
  h.hang_up(1);
  const auto f = h.finished(1);
  REQUIRE(f.has_value());
  CHECK(f->state == FinalState::kCompleted);
  CHECK(f->agent == A(1));
  CHECK(f->waited == 4s);
  CHECK(f->talk == 65s);                     // 30 s with agent 0, 35 s with agent 1
  CHECK(f->hold == 30s);                     // 25 s by agent 0, 5 s by agent 1
  CHECK(h.state(1) == AgentState::kWrapUp);  // queue 0's wrap-up
  const auto q0 = h.queue(0).counters;
  CHECK(q0.answered == 1);
  CHECK(q0.handled == 1);
  CHECK(q0.total_talk == 65s);
  CHECK(q0.total_hold == 30s);
  CHECK(h.agent_snap(1).counters.handled == 1);
  h.advance(20s);
  CHECK(h.queue(0).counters.total_wrap_up == 40s);  // both agents' wrap-up
  CHECK(h.state(0) == AgentState::kReady);
  CHECK(h.state(1) == AgentState::kNotReady);  // back to lunch
  CHECK(h.reason(1) == "lunch");
}

TEST_CASE("attended transfer to an outside number: the call ends as transferred",
          "[core][transfer]") {
  Harness h;
  transfer_setup(h);
  connect_call_1(h, 30s);
  ok(h, h.core.hold(C(1)));
  ok(h, h.core.start_outbound(A(0), C(61), CallKind::kOutbound));
  CHECK(h.state(0) == AgentState::kHeld);
  h.advance(5s);
  ok(h, h.core.outbound_answered(C(61)));
  h.advance(15s);
  const auto m = h.mark();
  ok(h, h.core.complete_attended_transfer(C(1), C(61)));
  REQUIRE(h.rec.events.size() == m + 4);
  REQUIRE(is<CallTransferred>(h.rec.events[m]));
  REQUIRE(is<CallFinished>(h.rec.events[m + 1]));
  REQUIRE(is<CallFinished>(h.rec.events[m + 2]));
  REQUIRE(is<AgentStateChanged>(h.rec.events[m + 3]));
  const auto tr = std::get<CallTransferred>(h.rec.events[m]);
  CHECK(tr.kind == CallTransferred::Kind::kAttended);
  CHECK_FALSE(tr.to_agent.valid());
  CHECK(tr.talk == 30s);
  CHECK(tr.hold == 20s);
  const auto consult = std::get<CallFinished>(h.rec.events[m + 1]);
  CHECK(consult.call == C(61));
  CHECK(consult.state == FinalState::kCompleted);
  CHECK(consult.talk == 15s);
  CHECK(consult.cause == HangupCause::kTransfer);
  const auto f = std::get<CallFinished>(h.rec.events[m + 2]);
  CHECK(f.call == C(1));
  CHECK(f.state == FinalState::kTransferred);
  CHECK(f.cause == HangupCause::kTransfer);
  CHECK(f.agent == A(0));
  CHECK(f.talk == 30s);
  CHECK(f.hold == 20s);
  CHECK(std::get<AgentStateChanged>(h.rec.events[m + 3]).to == AgentState::kWrapUp);
  CHECK(h.core.calls_in_system() == 0);
  CHECK(h.queue(0).counters.handled == 1);
  CHECK(h.agent_snap(0).counters.handled == 1);
  CHECK(h.agent_snap(0).counters.outbound == 1);
}

TEST_CASE("a transfer by an agent with a forced logout pending logs them out", "[core][transfer]") {
  Harness h;
  transfer_setup(h);
  h.login(2);
  connect_call_1(h);
  ok(h, h.core.logout(A(0), Cause::kSupervisor));
  CHECK(h.state(0) == AgentState::kTalking);
  const auto m = h.mark();
  ok(h, h.core.transfer_to_queue(C(1), Q(1), A(0)));  // preferring the agent leaving
  CHECK(h.state(0) == AgentState::kLoggedOut);
  CHECK(h.offers_of(1, m) == std::vector<std::uint32_t>{2});
}

TEST_CASE("transfers are refused with a reason; nothing changes", "[core][transfer][errors]") {
  Harness h;
  transfer_setup(h, [](ConfigBuilder& cb) {
    cb.tenant(1, "other");
    cb.queue(7, 1);
    cb.agent(8, 1);
    cb.queue(2).max_length = 1;
    cb.queue(3).join_when_empty = false;
    cb.member(3, 1);
  });
  h.login(8);
  connect_call_1(h);
  h.enqueue(2, 2);  // queue 2 is full now
  h.enqueue(3, 1);  // waits in queue 1
  const auto refused = [&](ErrorCode code, auto request) { expect_refused(h, code, request); };
  SECTION("calls") {
    refused(ErrorCode::kNotFound, [&] { return h.core.transfer_to_queue(C(99), Q(1)); });
    refused(ErrorCode::kNotFound, [&] { return h.core.transfer_external(C(99)); });
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_to_queue(C(3), Q(0)); });
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_external(C(3)); });
    h.login(2);
    REQUIRE(h.call(3).phase == CallPhase::kOffering);
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_to_queue(C(3), Q(0)); });
    ok(h, h.core.start_outbound(A(8), C(70), CallKind::kOutbound));
    ok(h, h.core.outbound_answered(C(70)));
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_external(C(70)); });
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_to_queue(C(70), Q(7)); });
  }
  SECTION("queues") {
    refused(ErrorCode::kNotFound, [&] { return h.core.transfer_to_queue(C(1), Q(42)); });
    refused(ErrorCode::kPermissionDenied, [&] { return h.core.transfer_to_queue(C(1), Q(7)); });
    refused(ErrorCode::kLimitReached, [&] { return h.core.transfer_to_queue(C(1), Q(2)); });
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_to_queue(C(1), Q(3)); });
    // A queue removed from the configuration serves its calls but takes no new ones.
    h.cb.remove_queue(1);
    h.apply();
    REQUIRE(h.queue(1).waiting == 1);
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_to_queue(C(1), Q(1)); });
  }
  SECTION("preferred agents") {
    refused(ErrorCode::kNotFound, [&] { return h.core.transfer_to_queue(C(1), Q(1), A(42)); });
    refused(ErrorCode::kPermissionDenied,
            [&] { return h.core.transfer_to_queue(C(1), Q(1), A(8)); });
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_to_queue(C(1), Q(1), A(3)); });
  }
  SECTION("attended") {
    h.login(1);
    refused(ErrorCode::kNotFound, [&] { return h.core.complete_attended_transfer(C(1), C(99)); });
    refused(ErrorCode::kNotFound, [&] { return h.core.complete_attended_transfer(C(99), C(1)); });
    // An inbound call is no consultation.
    refused(ErrorCode::kInvalidArgument,
            [&] { return h.core.complete_attended_transfer(C(1), C(3)); });
    // Another tenant's call.
    ok(h, h.core.start_outbound(A(8), C(70), CallKind::kOutbound));
    ok(h, h.core.outbound_answered(C(70)));
    refused(ErrorCode::kPermissionDenied,
            [&] { return h.core.complete_attended_transfer(C(1), C(70)); });
    // A call agent 0 did not place.
    h.login(4);
    ok(h, h.core.start_outbound(A(4), C(71), CallKind::kOutbound));
    ok(h, h.core.outbound_answered(C(71)));
    refused(ErrorCode::kInvalidArgument,
            [&] { return h.core.complete_attended_transfer(C(1), C(71)); });
    // Agent 0's consultation, still ringing.
    ok(h, h.core.start_outbound(A(0), C(72), CallKind::kInternal, A(1)));
    refused(ErrorCode::kInvalidState,
            [&] { return h.core.complete_attended_transfer(C(1), C(72)); });
    // The caller's call cannot go elsewhere while the consultation is in progress.
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_to_queue(C(1), Q(1)); });
    refused(ErrorCode::kInvalidState, [&] { return h.core.transfer_external(C(1)); });
    // The consultation is no call to transfer into itself.
    ok(h, h.core.outbound_answered(C(72)));
    refused(ErrorCode::kInvalidState,
            [&] { return h.core.complete_attended_transfer(C(72), C(72)); });
    ok(h, h.core.complete_attended_transfer(C(1), C(72)));
    CHECK(h.call(1).agent == A(1));
  }
}

TEST_CASE("transfers in random traffic keep every invariant; every call ends once",
          "[core][transfer][random]") {
  Harness h(11);
  for (std::uint32_t q = 0; q < 3; ++q) {
    auto& qc = h.cb.queue(q);
    qc.wrap_up = std::chrono::seconds(5 * q);
    qc.sticky_wait = q == 2 ? 0s : 20s;
    qc.max_length = 6;
  }
  h.cb.q(1).join_when_empty = false;
  for (std::uint32_t a = 0; a < 7; ++a) h.cb.agent(a);
  for (std::uint32_t a = 0; a < 6; ++a) {  // agent 6 serves no queue
    h.cb.member(a % 3, a, 1 + static_cast<int>(a % 2));
    h.cb.member((a + 1) % 3, a, 2);
  }
  h.apply();
  const std::uint64_t seed = GENERATE(17, 23, 99, 1234, 4321);
  INFO("seed " << seed);
  Xoshiro256 pick(seed);
  std::uint64_t next_call = 1;
  std::set<std::uint64_t> created;
  int transfers = 0, attended = 0;
  for (int step = 0; step < 4000; ++step) {
    const auto r = pick.below(100);
    const AgentId a(static_cast<std::uint32_t>(pick.below(7)));
    std::vector<CallId> live, connected, offering;
    for (std::uint64_t c = 1; c < next_call; ++c)
      if (h.exists(c)) {
        live.push_back(C(c));
        const CallView v = h.call(c);
        if (v.phase == CallPhase::kOffering) offering.push_back(C(c));
        if (v.phase == CallPhase::kConnected && h.view(v.agent.value).call == C(c) &&
            h.view(v.agent.value).call_kind == CallKind::kInbound)
          connected.push_back(C(c));
      }
    const CallId some = live.empty() ? C(0) : live[pick.below(live.size())];
    // Transfers mostly pick a connected call (most attempts are then accepted).
    const CallId talking =
        connected.empty() || pick.below(4) == 0 ? some : connected[pick.below(connected.size())];
    const QueueId queue(static_cast<std::uint32_t>(pick.below(3)));
    Status st;
    if (r < 10) {
      CallSpec s = Harness::spec(next_call++, "+1" + std::to_string(pick.below(5)),
                                 static_cast<int>(pick.below(3)));
      if (h.core.enqueue(s, queue).is_ok()) created.insert(s.id.value);
    } else if (r < 20) {
      st = h.core.login(a, pick.below(2) == 0);
    } else if (r < 22) {
      st = h.core.logout(a, pick.below(3) == 0 ? Cause::kSupervisor : Cause::kAgent);
    } else if (r < 34) {
      st = h.core.set_ready(a);
    } else if (r < 36) {
      st = h.core.set_not_ready(a, pick.below(2) ? "break" : "misc");
    } else if (r < 39) {
      st = h.core.end_wrap_up(a);
    } else if (r < 43) {
      st = h.core.offer_ringing(some, a);
    } else if (r < 55) {
      // Mostly a call being offered, by the agent it is offered to.
      const CallId ringing =
          offering.empty() || pick.below(4) == 0 ? some : offering[pick.below(offering.size())];
      const auto v = h.core.call(ringing);
      st = h.core.offer_answered(
          ringing, v && !v->offered_to.empty() && pick.below(4) != 0 ? v->offered_to[0] : a);
    } else if (r < 62) {
      st = h.core.hang_up(some);
    } else if (r < 65) {
      st = h.core.hold(some);
    } else if (r < 67) {
      st = h.core.retrieve(some);
    } else if (r < 75) {
      const AgentId preferred =
          pick.below(2) ? AgentId(static_cast<std::uint32_t>(pick.below(7))) : AgentId{};
      st = h.core.transfer_to_queue(talking, queue, preferred);
      if (st) ++transfers;
    } else if (r < 77) {
      st = h.core.transfer_external(talking);
      if (st) ++transfers;
    } else if (r < 83) {
      // Mostly a consultation by the agent of a connected call.
      const auto v = h.core.call(talking);
      const AgentId from = v && v->agent.valid() && pick.below(4) != 0 ? v->agent : a;
      const bool internal = pick.below(3) != 0;
      const AgentId callee(static_cast<std::uint32_t>(pick.below(7)));
      if (h.core
              .start_outbound(from, C(next_call),
                              internal ? CallKind::kInternal : CallKind::kOutbound, callee)
              .is_ok())
        created.insert(next_call);
      ++next_call;
    } else if (r < 88) {
      const auto v = h.core.call(talking);
      st = h.core.outbound_answered(v && v->consult.valid() && pick.below(3) != 0 ? v->consult
                                                                                  : some);
    } else if (r < 89) {
      st = h.core.outbound_failed(some);
    } else if (r < 94) {
      const auto v = h.core.call(talking);
      const CallId consult = v && v->consult.valid() && pick.below(4) != 0 ? v->consult : some;
      st = h.core.complete_attended_transfer(talking, consult);
      if (st) ++attended;
    } else {
      h.advance(std::chrono::seconds(1 + pick.below(20)));
      continue;
    }
    (void)st;
    h.check();
  }
  INFO(transfers << " blind transfers, " << attended << " attended");
  CHECK(transfers > 20);
  CHECK(attended > 5);
  // Drain: everybody hangs up.
  for (std::uint64_t c = 1; c < next_call; ++c)
    if (h.exists(c)) {
      if (h.call(c).phase == CallPhase::kDialing) REQUIRE(h.core.outbound_answered(C(c)).is_ok());
      h.hang_up(c);
    }
  CHECK(h.core.calls_in_system() == 0);
  h.advance(10min);
  std::set<std::uint64_t> finished;
  for (const auto& f : h.all<CallFinished>()) CHECK(finished.insert(f.call.value).second);
  CHECK(finished == created);
  // Every queue: handled calls never outnumber answered ones.
  for (std::uint32_t q = 0; q < 3; ++q) {
    const auto c = h.queue(q).counters;
    CHECK(c.handled <= c.answered);
  }
}
