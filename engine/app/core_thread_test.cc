#include "engine/app/core_thread.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "engine/app/event_recorder_test_util.h"

namespace acd::app {
namespace {

using namespace std::chrono_literals;
using core::AgentId;
using core::AgentState;
using core::RoutingCore;
using core::Status;

// One tenant, `agents` agents without a team, and one queue they all serve.
core::CoreConfig make_config(int agents, core::Duration wrap_up = 0s) {
  core::CoreConfig config;
  const core::TenantId tenant(0);
  config.tenants.push_back({tenant, "acme"});
  core::QueueConfig queue;
  queue.id = core::QueueId(0);
  queue.tenant = tenant;
  queue.name = "sales";
  queue.wrap_up = wrap_up;
  config.queues.push_back(queue);
  for (int i = 0; i < agents; ++i) {
    core::AgentConfig agent;
    agent.id = AgentId(static_cast<std::uint32_t>(i));
    agent.tenant = tenant;
    agent.name = "agent" + std::to_string(i);
    agent.extension = std::to_string(1000 + i);
    config.agents.push_back(agent);
    config.members.push_back({queue.id, agent.id});
  }
  return config;
}

Status apply(CoreThread& thread, const core::CoreConfig& config) {
  return thread.submit_and_wait([&config](RoutingCore& core) { return core.apply_config(config); })
      .get();
}

std::optional<AgentState> state_of(CoreThread& thread, AgentId agent) {
  std::optional<AgentState> state;
  const Status status = thread
                            .submit_and_wait([&](RoutingCore& core) {
                              if (auto view = core.agent(agent)) state = view->state;
                              return Status::ok();
                            })
                            .get();
  REQUIRE(status.is_ok());
  return state;
}

TEST_CASE("core thread: many producers, exact final state", "[core_thread]") {
  constexpr int kThreads = 8;
  constexpr int kAgentsPerThread = 8;
  constexpr int kToggles = 301;  // odd: every agent ends NotReady
  CoreThread thread(CoreThread::Options{});
  thread.start();
  REQUIRE(apply(thread, make_config(kThreads * kAgentsPerThread)).is_ok());

  // Counted on the core thread only.
  int executed = 0;
  int failed = 0;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int a = 0; a < kAgentsPerThread; ++a) {
        const AgentId agent(static_cast<std::uint32_t>(t * kAgentsPerThread + a));
        REQUIRE(thread.submit([&, agent](RoutingCore& core) {
          ++executed;
          if (!core.login(agent, /*ready=*/true).is_ok()) ++failed;
        }));
      }
      // Commands of one producer run in its order: Ready -> NotReady -> Ready ...
      for (int i = 0; i < kToggles; ++i) {
        for (int a = 0; a < kAgentsPerThread; ++a) {
          const AgentId agent(static_cast<std::uint32_t>(t * kAgentsPerThread + a));
          thread.submit([&, agent, i](RoutingCore& core) {
            ++executed;
            const Status s =
                i % 2 == 0 ? core.set_not_ready(agent, "lunch") : core.set_ready(agent);
            if (!s.is_ok()) ++failed;
          });
        }
      }
    });
  }
  for (auto& p : producers) p.join();

  int seen_executed = -1;
  int seen_failed = -1;
  REQUIRE(thread
              .submit_and_wait([&](RoutingCore& core) {
                seen_executed = executed;
                seen_failed = failed;
                return core.check_invariants();
              })
              .get()
              .is_ok());
  CHECK(seen_executed == kThreads * kAgentsPerThread * (1 + kToggles));
  CHECK(seen_failed == 0);
  for (int i = 0; i < kThreads * kAgentsPerThread; ++i) {
    CHECK(state_of(thread, AgentId(static_cast<std::uint32_t>(i))) == AgentState::kNotReady);
  }
  thread.stop();
}

TEST_CASE("core thread: snapshots are published and their sequence increases", "[core_thread]") {
  CoreThread thread(CoreThread::Options{20ms});
  const auto initial = thread.latest_snapshot();
  REQUIRE(initial != nullptr);
  thread.start();
  REQUIRE(apply(thread, make_config(2)).is_ok());
  REQUIRE(thread.submit_and_wait([](RoutingCore& core) { return core.login(AgentId(0), true); })
              .get()
              .is_ok());

  // Wait (generously) for a snapshot that shows the change.
  std::shared_ptr<const core::CoreSnapshot> latest;
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    latest = thread.latest_snapshot();
    const bool shows_login = std::any_of(
        latest->agents.begin(), latest->agents.end(),
        [](const auto& a) { return a.id == AgentId(0) && a.state == AgentState::kReady; });
    if (shows_login || std::chrono::steady_clock::now() > give_up) break;
    std::this_thread::sleep_for(5ms);
  }
  CHECK(latest->sequence > initial->sequence);
  CHECK(latest->queues.size() == 1);
  REQUIRE(latest->agents.size() == 2);

  const auto before = latest->sequence;
  REQUIRE(thread.submit_and_wait([](RoutingCore& core) { return core.login(AgentId(1), true); })
              .get()
              .is_ok());
  thread.stop();  // publishes a last snapshot
  CHECK(thread.latest_snapshot()->sequence > before);
}

TEST_CASE("core thread: the deadline timer runs the core's timers", "[core_thread]") {
  CoreThread thread(CoreThread::Options{});
  testing::EventRecorder events;
  thread.add_listener(&events);
  thread.start();
  REQUIRE(apply(thread, make_config(1, 50ms)).is_ok());

  const AgentId agent(0);
  const core::CallId call(1);
  REQUIRE(thread.submit_and_wait([&](RoutingCore& core) { return core.login(agent, true); })
              .get()
              .is_ok());
  REQUIRE(thread
              .submit_and_wait([&](RoutingCore& core) {
                core::CallSpec spec;
                spec.id = call;
                spec.tenant = core::TenantId(0);
                return core.enqueue(std::move(spec), core::QueueId(0));
              })
              .get()
              .is_ok());
  REQUIRE(events.wait_until([](const auto& all) {
    return std::any_of(all.begin(), all.end(),
                       [](const auto& e) { return std::holds_alternative<core::CallOffered>(e); });
  }));
  REQUIRE(thread.submit_and_wait([&](RoutingCore& core) { return core.offer_ringing(call, agent); })
              .get()
              .is_ok());
  REQUIRE(
      thread.submit_and_wait([&](RoutingCore& core) { return core.offer_answered(call, agent); })
          .get()
          .is_ok());
  REQUIRE(
      thread.submit_and_wait([&](RoutingCore& core) { return core.hang_up(call); }).get().is_ok());

  // Nobody touches the core now: only the armed deadline can end the 50 ms wrap-up.
  const bool wrap_up_ended = events.wait_until([](const auto& all) {
    return std::any_of(all.begin(), all.end(), [](const auto& e) {
      const auto* change = std::get_if<core::AgentStateChanged>(&e);
      return change != nullptr && change->from == AgentState::kWrapUp &&
             change->to == AgentState::kReady && change->cause == core::Cause::kTimer;
    });
  });
  CHECK(wrap_up_ended);
  CHECK(state_of(thread, agent) == AgentState::kReady);
  CHECK(events.count<core::CallFinished>() == 1);
  thread.stop();
}

TEST_CASE("core thread: stop runs what was submitted, then refuses", "[core_thread]") {
  CoreThread thread(CoreThread::Options{});
  thread.start();
  int executed = 0;
  for (int i = 0; i < 1000; ++i) thread.submit([&](RoutingCore&) { ++executed; });
  thread.stop();
  CHECK(executed == 1000);  // the core thread has been joined: safe to read
  CHECK_FALSE(thread.submit([](RoutingCore&) {}));
  const Status refused = thread.submit_and_wait([](RoutingCore&) { return Status::ok(); }).get();
  CHECK(refused.code() == core::ErrorCode::kInvalidState);
  thread.stop();  // idempotent
}

TEST_CASE("core thread: commands submitted before start run after it", "[core_thread]") {
  CoreThread thread(CoreThread::Options{});
  auto applied = thread.submit_and_wait(
      [config = make_config(1)](RoutingCore& core) { return core.apply_config(config); });
  thread.start();
  CHECK(applied.get().is_ok());
  CHECK(state_of(thread, AgentId(0)) == AgentState::kLoggedOut);
}

}  // namespace
}  // namespace acd::app
