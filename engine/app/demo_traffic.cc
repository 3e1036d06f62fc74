#include "engine/app/demo_traffic.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <cmath>
#include <random>
#include <string>

#include "engine/app/call_ids.h"
#include "engine/app/logging.h"
#include "engine/core/overloaded.h"
#include "engine/core/routing_core.h"

namespace acd::app {
namespace {

using core::Overloaded;

constexpr std::string_view kBreakReason = "break";

std::uint64_t demo_seed(std::uint64_t seed) {
  if (seed != 0) return seed;
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::chrono::steady_clock::duration steady(core::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

void refused(std::string_view action, const core::Status& status, std::uint64_t call = 0) {
  if (status.is_ok()) return;
  // Refusals are expected in a simulation (an answer racing a ring timeout, a break
  // refused by the team's policy): debug level.
  log_event(LogLevel::kDebug, "demo.refused",
            {{"action", action}, {"call", call}, {"error", status.to_string()}});
}

}  // namespace

DemoTraffic::DemoTraffic(CoreThread& thread, const DaemonConfig& config)
    : thread_(thread), rng_(demo_seed(config.demo.seed)), timers_(thread.io_context()) {
  take_settings(config);
}

void DemoTraffic::take_settings(const DaemonConfig& config) {
  settings_ = config.demo;
  names_ = config.names;
  queues_ = config.demo.queues;
  total_weight_ = 0;
  for (const auto& q : queues_) total_weight_ += q.weight;
  manual_wrap_up_queues_.clear();
  for (const auto& q : config.domain.queues) {
    if (q.manual_wrap_up) manual_wrap_up_queues_.insert(q.id.value);
  }
  agents_.clear();
  agent_order_.clear();
  for (const auto& a : config.domain.agents) {
    agents_.insert(a.id.value);
    agent_order_.push_back(a.id);
  }
  tenants_.clear();
  for (const auto& t : config.domain.tenants) tenants_.emplace_back(t.id, t.name);
}

void DemoTraffic::start() {
  thread_.add_listener(this);
  thread_.submit([this](core::RoutingCore& core) { start_on_core(core); });
}

void DemoTraffic::stop_arrivals() {
  thread_.submit([this](core::RoutingCore&) {
    if (!arrivals_on_) return;
    arrivals_on_ = false;
    timers_.cancel(arrival_timer_);
    arrival_timer_ = TimerSet::kNone;
    log_event(LogLevel::kInfo, "demo.arrivals_stopped", {{"calls_in_progress", calls_.size()}});
  });
}

std::future<core::Status> DemoTraffic::stop() {
  thread_.submit([this](core::RoutingCore&) {
    running_ = false;
    arrivals_on_ = false;
    timers_.cancel_all();
  });
  return thread_.remove_listener(this);
}

void DemoTraffic::start_on_core(core::RoutingCore& core) {
  running_ = true;
  arrivals_on_ = true;
  int logged_in = 0;
  for (core::AgentId agent : agent_order_) {
    const core::Status status = core.login(agent, /*ready=*/true);
    if (status.is_ok()) ++logged_in;
  }
  log_event(LogLevel::kInfo, "demo.started",
            {{"calls_per_minute", settings_.calls_per_minute},
             {"queues", queues_.size()},
             {"agents_logged_in", logged_in},
             {"mean_talk_ms", to_ms(settings_.mean_talk_time)},
             {"mean_patience_ms", to_ms(settings_.mean_patience)}});
  schedule_arrival();
  schedule_report();
}

void DemoTraffic::update_config(const DaemonConfig& config, core::RoutingCore& core) {
  std::unordered_set<std::uint32_t> previous = agents_;
  take_settings(config);
  // Calls in progress in a removed queue finish normally; new callers go to the new list.
  if (!running_) return;
  for (core::AgentId agent : agent_order_) {
    if (previous.count(agent.value) == 0) refused("login", core.login(agent, /*ready=*/true));
  }
  if (arrivals_on_) {
    timers_.cancel(arrival_timer_);
    schedule_arrival();
  }
}

core::Duration DemoTraffic::exponential(core::Duration mean) {
  const double u = rng_.uniform01();
  return std::chrono::duration_cast<core::Duration>(std::chrono::duration<double, std::nano>(
      -std::log1p(-u) * static_cast<double>(mean.count())));
}

core::Duration DemoTraffic::jittered(core::Duration base) {
  const double factor = 0.5 + rng_.uniform01();
  return std::chrono::duration_cast<core::Duration>(
      std::chrono::duration<double, std::nano>(factor * static_cast<double>(base.count())));
}

bool DemoTraffic::chance(double probability) {
  return rng_.uniform01() < probability;
}

void DemoTraffic::schedule_arrival() {
  arrival_timer_ = TimerSet::kNone;
  if (!arrivals_on_ || queues_.empty() || total_weight_ <= 0 || settings_.calls_per_minute <= 0) {
    return;
  }
  const auto mean = std::chrono::duration_cast<core::Duration>(
      std::chrono::duration<double>(60.0 / settings_.calls_per_minute));
  arrival_timer_ = timers_.schedule(steady(exponential(mean)), [this] {
    arrive();
    schedule_arrival();
  });
}

void DemoTraffic::arrive() {
  // Pick a queue by weight.
  double pick = rng_.uniform01() * total_weight_;
  const DemoQueue* queue = &queues_.back();
  for (const auto& q : queues_) {
    if (pick < q.weight) {
      queue = &q;
      break;
    }
    pick -= q.weight;
  }
  const core::CallId id(next_call_id());
  core::CallSpec spec;
  spec.id = id;
  spec.tenant = queue->tenant;
  spec.caller_number = fmt::format("+1555{:07}", rng_.below(10'000'000));
  spec.dialed_number = queue->name;
  spec.vip_level = chance(settings_.vip_probability) ? 1 : 0;

  DemoCall call{queue->tenant, queue->queue};
  call.patience = timers_.schedule(steady(exponential(settings_.mean_patience)), [this, id] {
    thread_.submit([this, id](core::RoutingCore& core) {
      auto it = calls_.find(id.value);
      if (!running_ || it == calls_.end() || it->second.connected) return;
      it->second.patience = TimerSet::kNone;
      refused("abandon", core.hang_up(id, core::HangupCause::kCallerCancel), id.value);
    });
  });
  calls_.emplace(id.value, call);
  calls_created_.fetch_add(1, std::memory_order_relaxed);

  thread_.submit(
      [this, spec = std::move(spec), q = queue->queue, id](core::RoutingCore& core) mutable {
        if (!running_) return;
        const core::Status status = core.enqueue(std::move(spec), q);
        if (!status.is_ok()) {
          log_event(LogLevel::kWarn, "demo.enqueue_refused",
                    {{"call", id.value}, {"error", status.to_string()}});
          forget_call(id);
        }
      });
}

void DemoTraffic::forget_call(core::CallId call) {
  auto it = calls_.find(call.value);
  if (it != calls_.end()) {
    timers_.cancel(it->second.patience);
    timers_.cancel(it->second.talk);
    calls_.erase(it);
  }
  auto offer = answers_.lower_bound({call.value, 0});
  while (offer != answers_.end() && offer->first.first == call.value) {
    timers_.cancel(offer->second);
    offer = answers_.erase(offer);
  }
}

void DemoTraffic::schedule_agent_action(core::AgentId agent, core::Duration delay,
                                        std::function<void(core::RoutingCore&)> action) {
  auto& token = agent_actions_[agent.value];
  timers_.cancel(token);
  token = timers_.schedule(steady(delay), [this, agent, action = std::move(action)]() mutable {
    agent_actions_.erase(agent.value);
    thread_.submit([this, action = std::move(action)](core::RoutingCore& core) {
      if (running_) action(core);
    });
  });
}

void DemoTraffic::on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) {
  if (!running_) return;
  std::visit(Overloaded{
                 [&](const core::CallOffered& e) {
                   if (calls_.count(e.call.value) == 0) return;  // not a demo call
                   const core::CallId call = e.call;
                   const core::AgentId agent = e.agent;
                   // The "phone" starts ringing at once.
                   thread_.submit([this, call, agent](core::RoutingCore& c) {
                     if (running_) refused("ringing", c.offer_ringing(call, agent), call.value);
                   });
                   if (chance(settings_.no_answer_probability)) return;  // let it ring out (RONA)
                   answers_[{call.value, agent.value}] = timers_.schedule(
                       steady(jittered(settings_.answer_delay)), [this, call, agent] {
                         answers_.erase({call.value, agent.value});
                         thread_.submit([this, call, agent](core::RoutingCore& c) {
                           if (running_)
                             refused("answer", c.offer_answered(call, agent), call.value);
                         });
                       });
                 },
                 [&](const core::OfferEnded& e) {
                   auto it = answers_.find({e.call.value, e.agent.value});
                   if (it == answers_.end()) return;
                   timers_.cancel(it->second);
                   answers_.erase(it);
                 },
                 [&](const core::CallConnected& e) {
                   auto it = calls_.find(e.call.value);
                   if (it == calls_.end()) return;
                   it->second.connected = true;
                   timers_.cancel(it->second.patience);
                   it->second.patience = TimerSet::kNone;
                   agent_last_queue_[e.agent.value] = e.queue;
                   const core::CallId call = e.call;
                   it->second.talk = timers_.schedule(
                       steady(exponential(settings_.mean_talk_time)), [this, call] {
                         auto found = calls_.find(call.value);
                         if (found != calls_.end()) found->second.talk = TimerSet::kNone;
                         thread_.submit([this, call](core::RoutingCore& c) {
                           if (running_)
                             refused("hang_up", c.hang_up(call, core::HangupCause::kCallerBye),
                                     call.value);
                         });
                       });
                 },
                 [&](const core::CallFinished& e) {
                   if (calls_.count(e.call.value) == 0) return;
                   forget_call(e.call);
                   calls_finished_.fetch_add(1, std::memory_order_relaxed);
                 },
                 [&](const core::AgentStateChanged& e) { on_agent_state(e, core); },
                 [](const auto&) {},
             },
             event);
}

void DemoTraffic::on_agent_state(const core::AgentStateChanged& e, const core::RoutingCore& core) {
  if (agents_.count(e.agent.value) == 0) return;
  const core::AgentId agent = e.agent;
  using S = core::AgentState;
  switch (e.to) {
    case S::kReady: {
      const bool after_call = e.from == S::kWrapUp || e.from == S::kTalking || e.from == S::kHeld;
      if (!after_call || !chance(settings_.break_probability)) return;
      // Ask for a break right after a call; the team's break policy may refuse or
      // wait-list it, and the router may already have offered the agent a new call.
      thread_.submit([this, agent](core::RoutingCore& c) {
        if (!running_) return;
        auto view = c.agent(agent);
        if (!view || view->state != S::kReady) return;
        refused("break", c.set_not_ready(agent, kBreakReason));
      });
      return;
    }
    case S::kNotReady: {
      const bool on_break = e.reason.valid() && core.reason_name(e.reason) == kBreakReason;
      // After a break, a ring-no-answer or a manual wrap-up, the agent readies themself.
      const core::Duration delay =
          on_break ? exponential(settings_.mean_break) : jittered(settings_.ready_delay);
      schedule_agent_action(agent, delay, [agent](core::RoutingCore& c) {
        auto view = c.agent(agent);
        if (view && view->state == S::kNotReady) refused("ready", c.set_ready(agent));
      });
      return;
    }
    case S::kWrapUp: {
      auto it = agent_last_queue_.find(agent.value);
      if (it == agent_last_queue_.end() || manual_wrap_up_queues_.count(it->second.value) == 0)
        return;
      schedule_agent_action(agent, jittered(settings_.manual_wrap_up_time),
                            [agent](core::RoutingCore& c) {
                              auto view = c.agent(agent);
                              if (view && view->state == S::kWrapUp)
                                refused("end_wrap_up", c.end_wrap_up(agent));
                            });
      return;
    }
    case S::kLoggedOut: {
      // E.g. a RONA policy of logout: the agent logs back in a little later.
      schedule_agent_action(
          agent, jittered(settings_.ready_delay), [this, agent](core::RoutingCore& c) {
            auto view = c.agent(agent);
            if (agents_.count(agent.value) != 0 && view && view->state == S::kLoggedOut) {
              refused("login", c.login(agent, /*ready=*/true));
            }
          });
      return;
    }
    default: return;
  }
}

void DemoTraffic::schedule_report() {
  timers_.schedule(steady(settings_.report_interval), [this] {
    report();
    schedule_report();
  });
}

void DemoTraffic::report() {
  const auto snapshot = thread_.latest_snapshot();
  const NameTable& names = *names_;
  for (const auto& q : snapshot->queues) {
    const std::string tenant = names.tenant(q.tenant);
    log_event(LogLevel::kInfo, "demo.report",
              {{"tenant", tenant},
               {"queue", q.name},
               {"waiting", q.waiting},
               {"offering", q.offering},
               {"longest_wait_ms", to_ms(q.longest_wait)},
               {"estimated_wait_ms", to_ms(q.estimated_wait)},
               {"entered", q.counters.entered},
               {"answered", q.counters.answered},
               {"abandoned", q.counters.abandoned},
               {"exited", q.counters.exited},
               {"sl", q.sl_answered()},
               {"asa_ms", to_ms(q.asa())},
               {"aht_ms", to_ms(q.aht())},
               {"abandon_rate", q.abandon_rate()},
               {"overflow_tier", q.overflow_tier},
               {"agents_logged_in", q.members_logged_in},
               {"agents_ready", q.members_ready},
               {"agents_busy", q.members_busy}});
  }
  // Agents by state, per tenant.
  for (const auto& [tenant_id, tenant_name] : tenants_) {
    std::array<int, core::kAgentStateCount> by_state{};
    for (const auto& a : snapshot->agents) {
      if (a.tenant == tenant_id) ++by_state[static_cast<std::size_t>(a.state)];
    }
    std::vector<LogField> fields{{"tenant", tenant_name}};
    for (std::size_t s = 0; s < by_state.size(); ++s) {
      fields.emplace_back(core::to_string(static_cast<core::AgentState>(s)), by_state[s]);
    }
    log_event(LogLevel::kInfo, "demo.agents", fields);
  }
  log_event(LogLevel::kInfo, "demo.summary",
            {{"calls_in_system", snapshot->calls_in_system},
             {"calls_created", calls_created()},
             {"calls_finished", calls_finished()},
             {"snapshot", snapshot->sequence}});
}

}  // namespace acd::app
