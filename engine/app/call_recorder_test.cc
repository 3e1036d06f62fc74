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
  SECTION("a callback asked for before queueing, on another number") {
    REQUIRE(f.core->login(f.alice, true).ok());
    REQUIRE(f.core->request_callback(f.spec(7), f.sales, "+15559999").ok());
    const auto callbacks = f.all<store::CallbackRecord>();
    REQUIRE(callbacks.size() == 1);
    CHECK(callbacks[0].number == "+15559999");
    CHECK(callbacks[0].queue == "sales");
    const auto events = f.all<store::QueueEventRecord>();
    REQUIRE(events.size() == 3);
    CHECK(events[0].kind == "enter");
    CHECK(events[1].kind == "exit");
    CHECK(events[1].reason == "caller-request");
    CHECK_THAT(events[1].detail_json, Catch::Contains("\"number\":\"+15559999\""));
    const auto calls = f.all<store::CallRecord>();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].final_state == "callback");
    CHECK(calls[0].direction == "inbound");
    CHECK(calls[0].first_queue == "sales");
    CHECK(calls[0].offers == 0);
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

TEST_CASE("a call a menu or a flow ended before any queue has its call record and nothing else",
          "[recorder]") {
  Fixture f;
  struct Case {
    core::FinalState state;
    core::HangupCause cause;
    const char* final_state;
    const char* end_reason;
  };
  for (const Case& c :
       {Case{core::FinalState::kHungUp, core::HangupCause::kIvr, "hung-up", "ivr"},
        Case{core::FinalState::kTransferred, core::HangupCause::kTransfer, "transferred",
             "transfer"},
        Case{core::FinalState::kAbandoned, core::HangupCause::kCallerBye, "abandoned",
             "caller-bye"},
        Case{core::FinalState::kVoicemail, core::HangupCause::kIvr, "voicemail", "ivr"}}) {
    f.records.clear();
    const core::TimePoint now = f.clock.now();
    REQUIRE(f.core->end_before_queue(f.spec(9), 25s, c.state, c.cause, "flow welcome").ok());
    REQUIRE(f.records.size() == 1);
    const auto calls = f.all<store::CallRecord>();
    REQUIRE(calls.size() == 1);
    const store::CallRecord& r = calls[0];
    CHECK(r.call_id == 9);
    CHECK(r.run_id == 7);
    CHECK(r.tenant == "acme");
    CHECK(r.direction == "inbound");
    CHECK(r.caller == "+15550001");
    CHECK(r.dialled == "8000");
    CHECK(r.first_queue.empty());
    CHECK(r.last_queue.empty());
    CHECK(r.agent.empty());
    CHECK(r.final_state == c.final_state);
    CHECK(r.end_reason == c.end_reason);
    CHECK(r.arrived_at == micros(now - 25s));
    CHECK(r.ended_at == micros(now));
    CHECK_FALSE(r.queued_at);
    CHECK_FALSE(r.answered_at);
    CHECK(r.wait_ms == 0);
    CHECK(r.total_wait_ms == 0);
    CHECK(r.queues == 0);
    CHECK(r.offers == 0);
    CHECK(r.vip_level == 1);
    CHECK_FALSE(r.sl_threshold_ms);
  }
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

// ---- Tasks: hand-made events, as the core emits them (engine/core/events.h) ----

// Task events of one task, timed from the fixture's clock at construction; each is fed to
// the recorder at once.
struct TaskFeed {
  explicit TaskFeed(Fixture& fixture, std::uint64_t task, core::Channel task_channel)
      : f(fixture), id(task), channel(task_channel), t0(fixture.clock.now()) {}

  void feed(const core::CoreEvent& e) { f.recorder->on_core_event(e, *f.core); }
  void queued(core::Duration at, core::QueueId queue, std::string subject, std::string customer,
              int vip_level, core::Duration sl_threshold) {
    core::TaskQueued e;
    e.task = id;
    e.tenant = f.tenant();
    e.queue = queue;
    e.channel = channel;
    e.at = t0 + at;
    e.subject = std::move(subject);
    e.customer = std::move(customer);
    e.vip_level = vip_level;
    e.sl_threshold = sl_threshold;
    feed(e);
  }
  void offered(core::Duration at, core::QueueId queue, core::AgentId agent) {
    core::TaskOffered e;
    e.task = id;
    e.tenant = f.tenant();
    e.queue = queue;
    e.agent = agent;
    e.channel = channel;
    e.timeout = 10s;
    e.at = t0 + at;
    feed(e);
  }
  void offer_ended(core::Duration at, core::AgentId agent, core::OfferEndReason reason) {
    core::TaskOfferEnded e;
    e.task = id;
    e.tenant = f.tenant();
    e.agent = agent;
    e.reason = reason;
    e.at = t0 + at;
    feed(e);
  }
  void accepted(core::Duration at, core::QueueId queue, core::AgentId agent,
                core::Duration waited) {
    core::TaskAccepted e;
    e.task = id;
    e.tenant = f.tenant();
    e.queue = queue;
    e.agent = agent;
    e.channel = channel;
    e.waited = waited;
    e.at = t0 + at;
    feed(e);
  }
  void transferred(core::Duration at, core::QueueId from, core::QueueId to, core::AgentId agent,
                   core::Cause cause, core::Duration handled) {
    core::TaskTransferred e;
    e.task = id;
    e.tenant = f.tenant();
    e.from_queue = from;
    e.to_queue = to;
    e.from_agent = agent;
    e.cause = cause;
    e.handled = handled;
    e.at = t0 + at;
    feed(e);
  }
  void finished(core::Duration at, core::QueueId queue, core::AgentId agent,
                core::TaskFinalState state, core::Duration waited, core::Duration handled) {
    core::TaskFinished e;
    e.task = id;
    e.tenant = f.tenant();
    e.queue = queue;
    e.agent = agent;
    e.channel = channel;
    e.state = state;
    e.created = t0;
    e.waited = waited;
    e.handled = handled;
    e.at = t0 + at;
    feed(e);
  }
  [[nodiscard]] store::EpochMicros us(core::Duration at) const {
    return std::chrono::duration_cast<std::chrono::microseconds>((t0 + at).time_since_epoch())
        .count();
  }

  Fixture& f;
  core::TaskId id;
  core::Channel channel;
  core::TimePoint t0;
};

TEST_CASE("a completed task gives one task record and nothing else", "[recorder][tasks]") {
  Fixture f;
  TaskFeed t(f, 42, core::Channel::kEmail);
  t.queued(0s, f.sales, "Invoice 5521 is wrong", "jane@example.com", 2, 20s);
  t.offered(2s, f.sales, f.alice);
  t.accepted(5s, f.sales, f.alice, 5s);
  CHECK(f.recorder->tasks_tracked() == 1);
  CHECK(f.records.empty());  // nothing until the task finishes
  t.finished(65s, f.sales, f.alice, core::TaskFinalState::kCompleted, 5s, 60s);

  REQUIRE(f.records.size() == 1);  // no queue events, legs or call records for a task
  const auto tasks = f.all<store::TaskRecord>();
  REQUIRE(tasks.size() == 1);
  const auto& r = tasks[0];
  CHECK(r.task_id == 42);
  CHECK(r.run_id == 7);
  CHECK(r.tenant == "acme");
  CHECK(r.channel == "email");
  CHECK(r.subject == "Invoice 5521 is wrong");
  CHECK(r.customer == "jane@example.com");
  CHECK(r.first_queue == "sales");
  CHECK(r.last_queue == "sales");
  CHECK(r.agent == "alice");
  CHECK(r.final_state == "completed");
  CHECK(r.created_at == t.us(0s));
  CHECK(r.queued_at == t.us(0s));
  CHECK(r.accepted_at == t.us(5s));
  CHECK(r.finished_at == t.us(65s));
  CHECK(r.wait_ms == 5'000);
  CHECK(r.handle_ms == 60'000);
  CHECK(r.sl_threshold_ms == 20'000);
  CHECK(r.offers == 1);
  CHECK(r.transfers == 0);
  CHECK(r.requeues == 0);
  CHECK(r.queues == 1);
  CHECK(r.vip_level == 2);
  CHECK(f.recorder->tasks_tracked() == 0);
  CHECK(f.recorder->calls_tracked() == 0);
}

TEST_CASE("a task abandoned before anybody accepted it names no agent", "[recorder][tasks]") {
  Fixture f;
  TaskFeed t(f, 5, core::Channel::kSms);
  t.queued(0s, f.sales, "", "+15550009", 0, 20s);
  t.offered(1s, f.sales, f.alice);
  t.offer_ended(9s, f.alice, core::OfferEndReason::kCallerGone);
  t.finished(9s, f.sales, core::AgentId(), core::TaskFinalState::kAbandoned, 9s, 0s);

  const auto tasks = f.all<store::TaskRecord>();
  REQUIRE(tasks.size() == 1);
  const auto& r = tasks[0];
  CHECK(r.channel == "sms");
  CHECK(r.final_state == "abandoned");
  CHECK(r.agent.empty());  // alice was offered it, never had it
  CHECK(r.subject.empty());
  CHECK(r.customer == "+15550009");
  CHECK_FALSE(r.accepted_at);
  CHECK(r.finished_at == t.us(9s));
  CHECK(r.wait_ms == 9'000);
  CHECK(r.handle_ms == 0);
  CHECK(r.offers == 1);
  CHECK(r.queues == 1);
  CHECK(r.vip_level == 0);
  CHECK(f.recorder->tasks_tracked() == 0);
}

TEST_CASE("a task cancelled while an agent worked on it is 'cancelled', with that agent",
          "[recorder][tasks]") {
  Fixture f;
  TaskFeed t(f, 6, core::Channel::kChat);
  t.queued(0s, f.support, "hi", "chat:kim", 0, 30s);
  t.offered(0s, f.support, f.bob);
  t.accepted(2s, f.support, f.bob, 2s);
  t.finished(32s, f.support, f.bob, core::TaskFinalState::kCancelled, 2s, 30s);
  const auto tasks = f.all<store::TaskRecord>();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].final_state == "cancelled");
  CHECK(tasks[0].agent == "bob");
  CHECK(tasks[0].channel == "chat");
  CHECK(tasks[0].handle_ms == 30'000);
  CHECK(tasks[0].sl_threshold_ms == 30'000);
}

TEST_CASE("a task transferred once, then completed: both agents' handling, the last queue",
          "[recorder][tasks]") {
  Fixture f;
  TaskFeed t(f, 77, core::Channel::kWebForm);
  t.queued(0s, f.sales, "Cancel my contract", "form:8812", 1, 20s);
  t.offered(1s, f.sales, f.alice);
  t.accepted(3s, f.sales, f.alice, 3s);
  SECTION("transferred by the agent") {
    t.transferred(33s, f.sales, f.support, f.alice, core::Cause::kAgent, 30s);
    // Every queueing carries subject and customer: the record keeps the first ones.
    t.queued(33s, f.support, "Fwd: Cancel my contract", "form:other", 3, 30s);
    t.offered(40s, f.support, f.bob);
    t.accepted(43s, f.support, f.bob, 10s);
    t.finished(63s, f.support, f.bob, core::TaskFinalState::kCompleted, 10s, 50s);

    const auto tasks = f.all<store::TaskRecord>();
    REQUIRE(tasks.size() == 1);
    const auto& r = tasks[0];
    CHECK(r.channel == "web-form");
    CHECK(r.subject == "Cancel my contract");
    CHECK(r.customer == "form:8812");
    CHECK(r.vip_level == 1);
    CHECK(r.first_queue == "sales");
    CHECK(r.last_queue == "support");
    CHECK(r.agent == "bob");
    CHECK(r.final_state == "completed");
    CHECK(r.created_at == t.us(0s));
    CHECK(r.queued_at == t.us(33s));     // entered support
    CHECK(r.accepted_at == t.us(3s));    // the first acceptance, by alice
    CHECK(r.wait_ms == 10'000);          // in support
    CHECK(r.handle_ms == 50'000);        // 30 s with alice, 20 s with bob
    CHECK(r.sl_threshold_ms == 30'000);  // support's
    CHECK(r.offers == 2);
    CHECK(r.transfers == 1);
    CHECK(r.requeues == 0);
    CHECK(r.queues == 2);
  }
  SECTION("back in the queue when a supervisor logged the agent out, then abandoned") {
    t.transferred(33s, f.sales, f.sales, f.alice, core::Cause::kSupervisor, 30s);
    t.queued(33s, f.sales, "Cancel my contract", "form:8812", 1, 20s);
    t.finished(40s, f.sales, core::AgentId(), core::TaskFinalState::kAbandoned, 7s, 30s);

    const auto tasks = f.all<store::TaskRecord>();
    REQUIRE(tasks.size() == 1);
    const auto& r = tasks[0];
    CHECK(r.final_state == "abandoned");
    CHECK(r.agent == "alice");  // the last agent who had it
    CHECK(r.accepted_at == t.us(3s));
    CHECK(r.wait_ms == 7'000);
    CHECK(r.handle_ms == 30'000);
    CHECK(r.transfers == 0);
    CHECK(r.requeues == 1);
    CHECK(r.queues == 2);
    CHECK(r.offers == 1);
  }
  CHECK(f.recorder->tasks_tracked() == 0);
}

TEST_CASE("a task whose first offer timed out counts both offers", "[recorder][tasks]") {
  Fixture f;
  TaskFeed t(f, 8, core::Channel::kCallback);
  t.queued(0s, f.sales, "Call me about my bill", "+15550123", 0, 20s);
  t.offered(1s, f.sales, f.alice);
  t.offer_ended(11s, f.alice, core::OfferEndReason::kNoAnswer);
  t.offered(11s, f.sales, f.bob);
  t.accepted(14s, f.sales, f.bob, 14s);
  t.finished(74s, f.sales, f.bob, core::TaskFinalState::kCompleted, 14s, 60s);

  const auto tasks = f.all<store::TaskRecord>();
  REQUIRE(tasks.size() == 1);
  const auto& r = tasks[0];
  CHECK(r.channel == "callback");
  CHECK(r.offers == 2);
  CHECK(r.agent == "bob");
  CHECK(r.accepted_at == t.us(14s));
  CHECK(r.wait_ms == 14'000);
  CHECK(r.handle_ms == 60'000);
  CHECK(r.transfers == 0);
  CHECK(r.queues == 1);
}

TEST_CASE("tasks and calls with the same id are tracked apart", "[recorder][tasks]") {
  Fixture f;
  REQUIRE(f.core->login(f.alice, false).ok());
  REQUIRE(f.core->enqueue(f.spec(9), f.sales).ok());
  TaskFeed t(f, 9, core::Channel::kChat);
  t.queued(0s, f.support, "hello", "chat:ann", 0, 30s);
  t.finished(4s, f.support, core::AgentId(), core::TaskFinalState::kAbandoned, 4s, 0s);
  CHECK(f.recorder->calls_tracked() == 1);  // call 9 still waits
  CHECK(f.all<store::TaskRecord>().size() == 1);
  CHECK(f.all<store::CallRecord>().empty());
  f.advance(5s);
  REQUIRE(f.core->hang_up(core::CallId(9), core::HangupCause::kCallerCancel).ok());
  const auto calls = f.all<store::CallRecord>();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].first_queue == "sales");
  CHECK(calls[0].caller == "+15550001");
  CHECK(f.recorder->calls_tracked() == 0);
  CHECK(f.recorder->tasks_tracked() == 0);
}

}  // namespace
}  // namespace acd::app
