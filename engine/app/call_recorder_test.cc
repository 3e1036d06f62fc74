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
  core::QueueId sales;
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
  REQUIRE(f.core->hang_up(core::CallId(42)).ok());

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
  SECTION("abandon while queued") {
    REQUIRE(f.core->login(f.alice, false).ok());
    REQUIRE(f.core->enqueue(f.spec(5), f.sales).ok());
    f.advance(12s);
    REQUIRE(f.core->hang_up(core::CallId(5)).ok());
    const auto calls = f.all<store::CallRecord>();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].final_state == "abandoned");
    CHECK(calls[0].wait_ms == 12'000);
    CHECK_FALSE(calls[0].answered_at);
    const auto events = f.all<store::QueueEventRecord>();
    REQUIRE(events.size() == 2);
    CHECK(events[1].kind == "abandon");
    CHECK(events[1].wait_ms == 12'000);
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
  }
}

}  // namespace
}  // namespace acd::app
