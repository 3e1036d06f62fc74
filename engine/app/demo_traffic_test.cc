#include "engine/app/demo_traffic.h"

#include <catch2/catch.hpp>
#include <set>

#include "engine/app/event_recorder_test_util.h"

namespace acd::app {
namespace {

using namespace std::chrono_literals;

// Fast traffic: ten callers a second, answered in ~20 ms, talking ~50 ms.
constexpr std::string_view kDemoConfig = R"(
demo:
  enabled: true
  seed: 42
  calls_per_minute: 600
  answer_delay: 20ms
  no_answer_probability: 0.1
  mean_talk_time: 50ms
  mean_patience: 2s
  vip_probability: 0.2
  break_probability: 0.2
  mean_break: 100ms
  ready_delay: 50ms
  manual_wrap_up_time: 30ms
  report_interval: 200ms
tenants:
  - name: acme
    not_ready_reasons: [break]
    teams:
      - name: t
        break_policy: {reasons: [break], max_concurrent: 1, over_limit: waitlist}
    agents:
      - {name: a1, extension: "1", team: t}
      - {name: a2, extension: "2", team: t, work_mode: manual}
      - {name: a3, extension: "3", team: t}
    queues:
      - name: sales
        ring_timeout: 200ms
        wrap_up: 20ms
        members: [{agent: a1}, {agent: a2}, {agent: a3}]
      - name: support
        strategy: ring-all
        ring_timeout: 200ms
        manual_wrap_up: true
        members: [{agent: a1}, {agent: a2}]
)";

TEST_CASE("demo traffic: calls flow through the core and finish", "[demo]") {
  NameRegistry registry;
  auto loaded = load_config_text(kDemoConfig, "demo.yaml", registry);
  if (!loaded.ok()) {
    for (const auto& e : loaded.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(loaded.ok());
  const DaemonConfig config = std::move(loaded).value();

  CoreThread thread(CoreThread::Options{50ms, 7});
  testing::EventRecorder events;
  thread.add_listener(&events);
  thread.start();
  REQUIRE(thread
              .submit_and_wait(
                  [&](core::RoutingCore& core) { return core.apply_config(config.domain); })
              .get()
              .is_ok());

  DemoTraffic demo(thread, config);
  demo.start();
  const bool enough = events.wait_until(
      [](const auto& all) {
        return std::count_if(all.begin(), all.end(), [](const auto& e) {
                 const auto* f = std::get_if<core::CallFinished>(&e);
                 return f != nullptr && f->state == core::FinalState::kCompleted;
               }) >= 20;
      },
      60s);
  CHECK(enough);

  demo.stop_arrivals();
  REQUIRE(demo.stop().wait_for(30s) == std::future_status::ready);
  const core::Status invariants =
      thread.submit_and_wait([](core::RoutingCore& core) { return core.check_invariants(); }).get();
  INFO(invariants.to_string());
  CHECK(invariants.is_ok());
  thread.stop();

  CHECK(demo.calls_created() >= demo.calls_finished());
  CHECK(demo.calls_finished() >= 20);
  // Agents were logged in by the demo, and both queues got callers.
  CHECK(events.count<core::CallConnected>() >= 20);
  std::set<std::uint32_t> queues;
  for (const auto& e : events.events()) {
    if (const auto* q = std::get_if<core::CallQueued>(&e)) queues.insert(q->queue.value);
  }
  CHECK(queues.size() == 2);
}

}  // namespace
}  // namespace acd::app
