#include "engine/app/core_event_logger.h"

#include <string>
#include <vector>

#include "engine/app/logging.h"
#include "engine/core/overloaded.h"
#include "engine/core/routing_core.h"

namespace acd::app {
using core::Overloaded;

void CoreEventLogger::on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) {
  if (!log_enabled(level_) && !log_enabled(LogLevel::kWarn)) return;
  const NameTable& n = *names_;
  std::visit(
      Overloaded{
          [&](const core::AgentStateChanged& e) {
            const std::string tenant = n.tenant(e.tenant), agent = n.agent(e.agent);
            std::vector<LogField> f{{"tenant", tenant},
                                    {"agent", agent},
                                    {"from", core::to_string(e.from)},
                                    {"to", core::to_string(e.to)}};
            if (e.reason.valid()) f.emplace_back("reason", core.reason_name(e.reason));
            f.emplace_back("cause", core::to_string(e.cause));
            if (e.call.valid()) f.emplace_back("call", e.call.value);
            log_event(level_, "agent.state", f);
          },
          [&](const core::CallQueued& e) {
            log_event(level_, "call.queued",
                      {{"tenant", n.tenant(e.tenant)},
                       {"call", e.call.value},
                       {"queue", n.queue(e.queue)}});
          },
          [&](const core::CallOffered& e) {
            log_event(level_, "call.offered",
                      {{"tenant", n.tenant(e.tenant)},
                       {"call", e.call.value},
                       {"queue", n.queue(e.queue)},
                       {"agent", n.agent(e.agent)},
                       {"ring_timeout_ms", to_ms(e.ring_timeout)}});
          },
          [&](const core::OfferEnded& e) {
            log_event(level_, "call.offer_ended",
                      {{"tenant", n.tenant(e.tenant)},
                       {"call", e.call.value},
                       {"agent", n.agent(e.agent)},
                       {"reason", core::to_string(e.reason)}});
          },
          [&](const core::CallConnected& e) {
            log_event(level_, "call.connected",
                      {{"tenant", n.tenant(e.tenant)},
                       {"call", e.call.value},
                       {"queue", n.queue(e.queue)},
                       {"agent", n.agent(e.agent)},
                       {"waited_ms", to_ms(e.waited)}});
          },
          [&](const core::CallEscalated& e) {
            log_event(level_, "call.escalated",
                      {{"tenant", n.tenant(e.tenant)},
                       {"call", e.call.value},
                       {"queue", n.queue(e.queue)},
                       {"step", e.step}});
          },
          [&](const core::CallExited& e) {
            const std::string destination =
                e.destination.kind == core::ExitDestination::Kind::kQueue
                    ? n.queue(e.destination.queue)
                    : e.destination.target;
            log_event(level_, "call.exited",
                      {{"tenant", n.tenant(e.tenant)},
                       {"call", e.call.value},
                       {"queue", n.queue(e.queue)},
                       {"reason", core::to_string(e.reason)},
                       {"exit", core::to_string(e.destination.kind)},
                       {"target", destination}});
          },
          [&](const core::CallFinished& e) {
            const std::string tenant = n.tenant(e.tenant), queue = n.queue(e.queue),
                              agent = n.agent(e.agent);
            std::vector<LogField> f{{"tenant", tenant},
                                    {"call", e.call.value},
                                    {"queue", queue},
                                    {"state", core::to_string(e.state)},
                                    {"end_reason", core::to_string(e.cause)}};
            if (e.agent.valid()) f.emplace_back("agent", agent);
            f.emplace_back("waited_ms", to_ms(e.waited));
            f.emplace_back("talk_ms", to_ms(e.talk));
            f.emplace_back("hold_ms", to_ms(e.hold));
            log_event(level_, "call.finished", f);
          },
          [&](const core::CallEndedBeforeQueue& e) {
            log_event(level_, "call.ended_before_queue",
                      {{"tenant", n.tenant(e.tenant)},
                       {"call", e.call.value},
                       {"entry", e.entry},
                       {"state", core::to_string(e.state)},
                       {"end_reason", core::to_string(e.cause)},
                       {"in_engine_ms", to_ms(e.at - e.arrived)}});
          },
          [&](const core::CallTransferred& e) {
            const std::string tenant = n.tenant(e.tenant), from_queue = n.queue(e.from_queue),
                              from_agent = n.agent(e.from_agent), to_queue = n.queue(e.to_queue),
                              to_agent = n.agent(e.to_agent);
            std::vector<LogField> f{{"tenant", tenant},
                                    {"call", e.call.value},
                                    {"kind", core::to_string(e.kind)},
                                    {"queue", from_queue},
                                    {"agent", from_agent}};
            if (e.to_queue.valid()) f.emplace_back("to_queue", to_queue);
            if (e.to_agent.valid()) f.emplace_back("to_agent", to_agent);
            f.emplace_back("talk_ms", to_ms(e.talk));
            f.emplace_back("hold_ms", to_ms(e.hold));
            log_event(level_, "call.transferred", f);
          },
          [&](const core::OverflowLevelChanged& e) {
            log_event(level_, "queue.overflow",
                      {{"tenant", n.tenant(e.tenant)},
                       {"queue", n.queue(e.queue)},
                       {"from_tier", e.from_tier},
                       {"to_tier", e.to_tier}});
          },
          [&](const core::SupervisorAlert& e) {
            log_event(LogLevel::kWarn, "supervisor.alert",
                      {{"kind", core::to_string(e.kind)},
                       {"tenant", n.tenant(e.tenant)},
                       {"team", n.team(e.team)},
                       {"agent", n.agent(e.agent)},
                       {"reason", core.reason_name(e.reason)},
                       {"overrun_ms", to_ms(e.overrun)}});
          },
          [&](const core::BreakWaitlisted& e) {
            log_event(level_, "agent.break_waitlisted",
                      {{"tenant", n.tenant(e.tenant)},
                       {"agent", n.agent(e.agent)},
                       {"team", n.team(e.team)},
                       {"reason", core.reason_name(e.reason)},
                       {"position", e.position}});
          },
          [&](const core::TaskQueued& e) {
            const std::string tenant = n.tenant(e.tenant), queue = n.queue(e.queue),
                              preferred = n.agent(e.preferred);
            std::vector<LogField> f{{"tenant", tenant},
                                    {"task", e.task.value},
                                    {"channel", core::to_string(e.channel)},
                                    {"queue", queue}};
            if (e.preferred.valid()) f.emplace_back("preferred", preferred);
            log_event(level_, "task.queued", f);
          },
          [&](const core::TaskOffered& e) {
            log_event(level_, "task.offered",
                      {{"tenant", n.tenant(e.tenant)},
                       {"task", e.task.value},
                       {"channel", core::to_string(e.channel)},
                       {"queue", n.queue(e.queue)},
                       {"agent", n.agent(e.agent)},
                       {"timeout_ms", to_ms(e.timeout)}});
          },
          [&](const core::TaskOfferEnded& e) {
            log_event(level_, "task.offer_ended",
                      {{"tenant", n.tenant(e.tenant)},
                       {"task", e.task.value},
                       {"agent", n.agent(e.agent)},
                       {"reason", core::to_string(e.reason)}});
          },
          [&](const core::TaskAccepted& e) {
            log_event(level_, "task.accepted",
                      {{"tenant", n.tenant(e.tenant)},
                       {"task", e.task.value},
                       {"queue", n.queue(e.queue)},
                       {"agent", n.agent(e.agent)},
                       {"waited_ms", to_ms(e.waited)}});
          },
          [&](const core::TaskTransferred& e) {
            const std::string tenant = n.tenant(e.tenant), queue = n.queue(e.from_queue),
                              agent = n.agent(e.from_agent), to_queue = n.queue(e.to_queue),
                              to_agent = n.agent(e.to_agent);
            std::vector<LogField> f{{"tenant", tenant},     {"task", e.task.value},
                                    {"queue", queue},       {"agent", agent},
                                    {"to_queue", to_queue}, {"cause", core::to_string(e.cause)}};
            if (e.to_agent.valid()) f.emplace_back("to_agent", to_agent);
            f.emplace_back("handled_ms", to_ms(e.handled));
            log_event(level_, "task.transferred", f);
          },
          [&](const core::TaskFinished& e) {
            const std::string tenant = n.tenant(e.tenant), queue = n.queue(e.queue),
                              agent = n.agent(e.agent);
            std::vector<LogField> f{{"tenant", tenant},
                                    {"task", e.task.value},
                                    {"channel", core::to_string(e.channel)},
                                    {"queue", queue},
                                    {"state", core::to_string(e.state)}};
            if (e.agent.valid()) f.emplace_back("agent", agent);
            f.emplace_back("waited_ms", to_ms(e.waited));
            f.emplace_back("handled_ms", to_ms(e.handled));
            log_event(level_, "task.finished", f);
          },
      },
      event);
}

}  // namespace acd::app
