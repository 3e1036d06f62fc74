#include "engine/app/call_recorder.h"

#include <catch2/catch.hpp>

#include "engine/app/config.h"
#include "engine/core/random.h"
#include "engine/core/routing_core.h"

namespace acd::app {
namespace {

using namespace std::chrono_literals;

constexpr const char* kConfig = R"(
tenants:
  - name: acme
    skills: [english]
    agents:
      - {name: alice, extension: "1001", skills: {english: 5}}
      - {name: bob, extension: "1002", skills: {english: 5}}
    queues:
      - name: sales
        strategy: top-down
        sl_threshold: 20s
        ring_timeout: 10s
        rona_policy: not-ready
        max_wait: 5m
        on_timeout: {callback: "late"}
        members:
          - {agent: alice, tier: 1}
          - {agent: bob, tier: 1}
      - name: support
        sl_threshold: 30s
        members:
          - {agent: bob}
)";

// A RoutingCore on a manual clock whose events go to a CallRecorder.
struct Fixture : core::CoreObserver {
  Fixture() {
    auto loaded = load_config_text(kConfig, "test.yaml", registry);
    if (!loaded.ok()) {
      for (const auto& e : loaded.error()) UNSCOPED_INFO(e.to_string());
    }
    REQUIRE(loaded.ok());
    config = std::move(loaded).value();
    recorder = std::make_unique<CallRecorder>(
        7, config.names, [this](store::Record&& r) { records.push_back(std::move(r)); });
    core = std::make_unique<core::RoutingCore>(clock, random, this);
    REQUIRE(core->apply_config(to_core_config(config)).ok());
    alice = *registry.find_agent(tenant(), "alice");
    bob = *registry.find_agent(tenant(), "bob");
    sales = *registry.find_queue(tenant(), "sales");
    support = *registry.find_queue(tenant(), "support");
  }
  void on_event(const core::CoreEvent& event) override { recorder->on_core_event(event, *core); }
  core::TenantId tenant() const { return *registry.find_tenant("acme"); }
  void advance(core::Duration d) {
    clock.advance(d);
    core->run_due_timers();
  }
  template <class T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const auto& r : records) {
      if (const auto* t = std::get_if<T>(&r)) out.push_back(*t);
    }
    return out;
  }
  core::CallSpec spec(std::uint64_t id) const {
    core::CallSpec s;
    s.id = core::CallId(id);
    s.tenant = tenant();
    s.caller_number = "+15550001";
    s.dialed_number = "8000";
    s.vip_level = 1;
    return s;
  }

  NameRegistry registry;
  DaemonConfig config;
  core::ManualClock clock{core::TimePoint(std::chrono::seconds(1'800'000'000))};
  core::Xoshiro256 random{1};
  std::unique_ptr<CallRecorder> recorder;
  std::unique_ptr<core::RoutingCore> core;
  std::vector<store::Record> records;
  core::AgentId alice, bob;
  core::QueueId sales, support;
};

TEST_CASE("an answered call gives its queue events, legs and one call record", "[recorder]") {
  Fixture f;
  REQUIRE(f.core->login(f.alice, true).ok());
  REQUIRE(f.core->login(f.bob, true).ok());
  REQUIRE(f.core->enqueue(f.spec(42), f.sales).ok());
  f.advance(1s);
  // Top-down: alice first. She does not answer: ring-no-answer, then bob.
  f.advance(10s);
  f.advance(1s);
  REQUIRE(f.core->offer_answered(core::CallId(42), f.bob).ok());
  f.advance(30s);
  REQUIRE(f.core->hang_up(core::CallId(42), core::HangupCause::kAgentBye).ok());

  const auto events = f.all<store::QueueEventRecord>();
  std::vector<std::string> kinds;
  for (const auto& e : events) kinds.push_back(e.kind);
  CHECK(kinds == std::vector<std::string>{"enter", "offer", "ring-no-answer", "offer", "connect",
                                          "complete"});
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].seq == static_cast<int>(i + 1));
    CHECK(events[i].call_id == 42);
    CHECK(events[i].run_id == 7);
    CHECK(events[i].tenant == "acme");
    CHECK(events[i].queue == "sales");
  }
  CHECK(events[1].agent == "alice");
  CHECK(events[3].agent == "bob");
  CHECK(events[2].reason == "no-answer");

  const auto legs = f.all<store::CallLegRecord>();
  REQUIRE(legs.size() == 2);
  CHECK(legs[0].leg == 1);
  CHECK(legs[0].agent == "alice");
  CHECK(legs[0].result == "no-answer");
  CHECK_FALSE(legs[0].answered_at);
  CHECK(legs[1].leg == 2);
  CHECK(legs[1].agent == "bob");
  CHECK(legs[1].result == "answered");
  CHECK(legs[1].answered_at);

  const auto calls = f.all<store::CallRecord>();
  REQUIRE(calls.size() == 1);
  const auto& c = calls[0];
  CHECK(c.call_id == 42);
  CHECK(c.final_state == "completed");
  CHECK(c.end_reason == "agent-bye");
  CHECK(events[5].reason.empty());  // a complete event has no reason
  CHECK(c.agent == "bob");
  CHECK(c.caller == "+15550001");
  CHECK(c.dialled == "8000");
  CHECK(c.vip_level == 1);
  CHECK(c.first_queue == "sales");
  CHECK(c.last_queue == "sales");
  CHECK(c.sl_threshold_ms == 20'000);
  CHECK(c.offers == 2);
  CHECK(c.queues == 1);
  CHECK(c.talk_ms == 30'000);
  CHECK(c.wait_ms == c.total_wait_ms);
  CHECK(c.wait_ms >= 11'000);
  CHECK(c.answered_at);
  CHECK(c.ended_at - *c.answered_at == 30'000'000);
  CHECK(f.recorder->calls_tracked() == 0);

  // Agent transitions numbered 1.. within the run, with causes and reasons.
  const auto states = f.all<store::AgentStateRecord>();
  REQUIRE(!states.empty());
  for (std::size_t i = 0; i < states.size(); ++i) CHECK(states[i].seq == static_cast<int>(i + 1));
  bool alice_rona = false;
  for (const auto& s : states) {
    if (s.agent == "alice" && s.to_state == "not-ready" && s.reason == "no-answer") {
      alice_rona = true;
    }
  }
  CHECK(alice_rona);
}

TEST_CASE("an abandon and a callback exit are recorded with their reasons", "[recorder]") {
  Fixture f;
  SECTION("abandon while queued: the caller's CANCEL") {
    REQUIRE(f.core->login(f.alice, false).ok());
    REQUIRE(f.core->enqueue(f.spec(5), f.sales).ok());
    f.advance(12s);
    REQUIRE(f.core->hang_up(core::CallId(5), core::HangupCause::kCallerCancel).ok());
    const auto calls = f.all<store::CallRecord>();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].final_state == "abandoned");
    CHECK(calls[0].end_reason == "caller-cancel");
    CHECK(calls[0].wait_ms == 12'000);
    CHECK_FALSE(calls[0].answered_at);
    const auto events = f.all<store::QueueEventRecord>();
    REQUIRE(events.size() == 2);
    CHECK(events[1].kind == "abandon");
    CHECK(events[1].reason == "caller-cancel");
    CHECK(events[1].wait_ms == 12'000);
  }
  SECTION("abandon while an agent is rung: the caller's BYE") {
    REQUIRE(f.core->login(f.alice, true).ok());
    REQUIRE(f.core->enqueue(f.spec(5), f.sales).ok());
    f.advance(3s);
    REQUIRE(f.core->hang_up(core::CallId(5), core::HangupCause::kCallerBye).ok());
    const auto calls = f.all<store::CallRecord>();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].final_state == "abandoned");
    CHECK(calls[0].end_reason == "caller-bye");
    const auto events = f.all<store::QueueEventRecord>();
    REQUIRE(events.size() == 4);
    CHECK(events[2].kind == "offer-ended");
    CHECK(events[2].reason == "caller-gone");
    CHECK(events[3].kind == "abandon");
    CHECK(events[3].reason == "caller-bye");
  }
  SECTION("timeout to a callback") {
    REQUIRE(f.core->login(f.alice, false).ok());
    REQUIRE(f.core->enqueue(f.spec(6), f.sales).ok());
    f.advance(5min);
    const auto events = f.all<store::QueueEventRecord>();
    REQUIRE(events.size() == 3);
    CHECK(events[1].kind == "timeout");
    CHECK(events[1].reason == "max-wait");
    CHECK_THAT(events[1].detail_json, Catch::Contains("\"destination\":\"callback\""));
    CHECK(events[2].kind == "end");
    CHECK(events[2].reason == "callback");
    const auto callbacks = f.all<store::CallbackRecord>();
    REQUIRE(callbacks.size() == 1);
    CHECK(callbacks[0].number == "+15550001");
    CHECK(callbacks[0].queue == "sales");
    const auto calls = f.all<store::CallRecord>();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].final_state == "callback");
    CHECK(calls[0].exit_reason == "max-wait");
    CHECK(calls[0].end_reason == "queue-exit");
  }
}

store::EpochMicros micros(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// Alice answers call 42 in sales 2 s after it arrives and talks 30 s, holds it 5 s.
void alice_answers_42(Fixture& f) {
  REQUIRE(f.core->login(f.alice, true).ok());
  REQUIRE(f.core->login(f.bob, false).ok());
  REQUIRE(f.core->enqueue(f.spec(42), f.sales).ok());
  f.advance(2s);
  REQUIRE(f.core->offer_answered(core::CallId(42), f.alice).ok());
  f.advance(30s);
  REQUIRE(f.core->hold(core::CallId(42)).ok());
  f.advance(5s);
}

std::vector<std::string> kinds_of(const std::vector<store::QueueEventRecord>& events) {
  std::vector<std::string> kinds;
  for (const auto& e : events) kinds.push_back(e.kind);
  return kinds;
}

TEST_CASE("a transfer to a queue: a transfer event, then the call counts in the new queue",
          "[recorder][transfer]") {
  Fixture f;
  alice_answers_42(f);
  const store::EpochMicros transfer_at = micros(f.clock.now());
  REQUIRE(f.core->transfer_to_queue(core::CallId(42), f.support).ok());
  f.advance(10s);
  REQUIRE(f.core->set_ready(f.bob).ok());  // offered the call in support
  f.advance(3s);
  REQUIRE(f.core->offer_answered(core::CallId(42), f.bob).ok());
  f.advance(20s);
  REQUIRE(f.core->hang_up(core::CallId(42)).ok());

  const auto events = f.all<store::QueueEventRecord>();
  CHECK(kinds_of(events) == std::vector<std::string>{"enter", "offer", "connect", "transfer",
                                                     "enter", "offer", "connect", "complete"});
  REQUIRE(events.size() == 8);
  const auto& t = events[3];
  CHECK(t.seq == 4);
  CHECK(t.queue == "sales");
  CHECK(t.agent == "alice");
  CHECK(t.reason == "queue");
  CHECK(t.wait_ms == 2'000);
  CHECK(t.at == transfer_at);
  CHECK(t.detail_json ==
        "{\"to\":\"support\",\"to_queue\":\"support\",\"talk_ms\":30000,\"hold_ms\":5000,"
        "\"sl_threshold_ms\":20000}");
  CHECK(events[4].queue == "support");
  CHECK(events[6].agent == "bob");
  CHECK(events[6].wait_ms == 13'000);
  CHECK(events[7].queue == "support");

  const auto legs = f.all<store::CallLegRecord>();
  REQUIRE(legs.size() == 2);
  CHECK(legs[0].agent == "alice");
  CHECK(legs[0].queue == "sales");
  CHECK(legs[0].result == "answered");
  CHECK(legs[0].ended_at == transfer_at);
  CHECK(legs[1].leg == 2);
  CHECK(legs[1].agent == "bob");
  CHECK(legs[1].queue == "support");
  CHECK(legs[1].result == "answered");

  const auto calls = f.all<store::CallRecord>();
  REQUIRE(calls.size() == 1);
  const auto& c = calls[0];
  CHECK(c.final_state == "completed");
  CHECK(c.agent == "bob");
  CHECK(c.first_queue == "sales");
  CHECK(c.last_queue == "support");
  CHECK(c.queues == 2);
  CHECK(c.offers == 2);
  CHECK(c.queued_at == transfer_at);
  CHECK(c.answered_at == transfer_at + 13'000'000);
  CHECK(c.wait_ms == 13'000);        // in support
  CHECK(c.total_wait_ms == 15'000);  // 2 s in sales, 13 s in support
  CHECK(c.talk_ms == 50'000);        // 30 s with alice, 20 s with bob
  CHECK(c.hold_ms == 5'000);
  CHECK(c.sl_threshold_ms == 30'000);  // support's
  CHECK(c.vip_level == 1);
  CHECK(f.recorder->calls_tracked() == 0);
}

TEST_CASE("a transfer to a queue the caller abandons: answered before, abandoned after",
          "[recorder][transfer]") {
  Fixture f;
  alice_answers_42(f);
  REQUIRE(f.core->transfer_to_queue(core::CallId(42), f.support).ok());
  f.advance(7s);
  REQUIRE(f.core->hang_up(core::CallId(42)).ok());
  const auto calls = f.all<store::CallRecord>();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].final_state == "abandoned");
  CHECK(calls[0].end_reason == "unspecified");  // hang_up without a cause
  CHECK(calls[0].agent.empty());
  CHECK_FALSE(calls[0].answered_at);  // not in support
  CHECK(calls[0].wait_ms == 7'000);
  CHECK(calls[0].total_wait_ms == 9'000);
  CHECK(calls[0].talk_ms == 30'000);
}

TEST_CASE("a transfer to an outside party ends the call as transferred", "[recorder][transfer]") {
  Fixture f;
  alice_answers_42(f);
  REQUIRE(f.core->transfer_external(core::CallId(42)).ok());
  const auto events = f.all<store::QueueEventRecord>();
  CHECK(kinds_of(events) ==
        std::vector<std::string>{"enter", "offer", "connect", "transfer", "end"});
  REQUIRE(events.size() == 5);
  CHECK(events[3].reason == "external");
  CHECK(events[3].detail_json == "{\"talk_ms\":30000,\"hold_ms\":5000,\"sl_threshold_ms\":20000}");
  CHECK(events[4].reason == "transferred");
  CHECK(events[4].agent == "alice");
  const auto legs = f.all<store::CallLegRecord>();
  REQUIRE(legs.size() == 1);
  CHECK(legs[0].result == "answered");
  const auto calls = f.all<store::CallRecord>();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].final_state == "transferred");
  CHECK(calls[0].end_reason == "transfer");
  CHECK(calls[0].agent == "alice");
  CHECK(calls[0].talk_ms == 30'000);
  CHECK(calls[0].hold_ms == 5'000);
  CHECK(calls[0].wait_ms == 2'000);
  CHECK(calls[0].total_wait_ms == 2'000);
  CHECK(f.recorder->calls_tracked() == 0);
}

TEST_CASE("an attended transfer: the colleague gets a leg and the call", "[recorder][transfer]") {
  Fixture f;
  alice_answers_42(f);
  REQUIRE(
      f.core->start_outbound(f.alice, core::CallId(900), core::CallKind::kInternal, f.bob).ok());
  f.advance(2s);
  REQUIRE(f.core->outbound_answered(core::CallId(900)).ok());
  f.advance(10s);
  const store::EpochMicros transfer_at = micros(f.clock.now());
  REQUIRE(f.core->complete_attended_transfer(core::CallId(42), core::CallId(900)).ok());
  f.advance(20s);
  REQUIRE(f.core->hang_up(core::CallId(42)).ok());

  const auto events = f.all<store::QueueEventRecord>();
  std::vector<store::QueueEventRecord> of_42;
  for (const auto& e : events) {
    if (e.call_id == 42) of_42.push_back(e);
  }
  CHECK(kinds_of(of_42) ==
        std::vector<std::string>{"enter", "offer", "connect", "transfer", "complete"});
  REQUIRE(of_42.size() == 5);
  CHECK(of_42[3].reason == "attended");
  CHECK(of_42[3].agent == "alice");
  CHECK(of_42[3].detail_json ==
        "{\"to\":\"bob\",\"to_agent\":\"bob\",\"talk_ms\":30000,\"hold_ms\":17000,"
        "\"sl_threshold_ms\":20000}");
  CHECK(of_42[4].agent == "bob");

  std::vector<store::CallLegRecord> legs;
  for (const auto& l : f.all<store::CallLegRecord>()) {
    if (l.call_id == 42) legs.push_back(l);
  }
  REQUIRE(legs.size() == 2);
  CHECK(legs[0].agent == "alice");
  CHECK(legs[0].ended_at == transfer_at);
  CHECK(legs[0].result == "answered");
  CHECK(legs[1].leg == 2);
  CHECK(legs[1].agent == "bob");
  CHECK(legs[1].queue == "sales");
  CHECK(legs[1].offered_at == transfer_at);
  CHECK(legs[1].answered_at == transfer_at);
  CHECK(legs[1].ended_at == transfer_at + 20'000'000);
  CHECK(legs[1].result == "answered");

  const auto calls = f.all<store::CallRecord>();
  REQUIRE(calls.size() == 2);
  const auto& consult = calls[0];
  CHECK(consult.call_id == 900);
  CHECK(consult.final_state == "completed");
  CHECK(consult.end_reason == "transfer");
  CHECK(consult.direction == "outbound");
  CHECK(consult.agent == "alice");
  CHECK(consult.talk_ms == 10'000);
  const auto& c = calls[1];
  CHECK(c.call_id == 42);
  CHECK(c.final_state == "completed");
  CHECK(c.agent == "bob");
  CHECK(c.offers == 1);  // bob was not rung for it
  CHECK(c.queues == 1);
  CHECK(c.talk_ms == 50'000);
  CHECK(c.hold_ms == 17'000);
  CHECK(c.wait_ms == 2'000);
  CHECK(c.total_wait_ms == 2'000);
  CHECK(f.recorder->calls_tracked() == 0);
}

}  // namespace
}  // namespace acd::app
