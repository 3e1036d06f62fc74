#include "engine/app/call_recorder.h"

#include <algorithm>
#include <cstdio>

#include "engine/app/logging.h"
#include "engine/core/overloaded.h"
#include "engine/core/routing_core.h"

namespace acd::app {
namespace {

store::EpochMicros micros(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::int64_t millis(core::Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string destination_json(const core::ExitDestination& d, const NameTable& names) {
  std::string json = "{\"destination\":" + json_string(core::to_string(d.kind));
  if (d.queue.valid()) json += ",\"to_queue\":" + json_string(names.queue(d.queue));
  if (!d.target.empty()) json += ",\"target\":" + json_string(d.target);
  if (!d.number.empty()) json += ",\"number\":" + json_string(d.number);
  return json + "}";
}

}  // namespace

const char* record_state_name(core::AgentState state) {
  switch (state) {
    case core::AgentState::kLoggedOut: return "logged-out";
    case core::AgentState::kNotReady: return "not-ready";
    case core::AgentState::kReady: return "ready";
    case core::AgentState::kReserved: return "reserved";
    case core::AgentState::kRinging: return "ringing";
    case core::AgentState::kDialing: return "dialing";
    case core::AgentState::kTalking: return "talking";
    case core::AgentState::kHeld: return "held";
    case core::AgentState::kWrapUp: return "wrap-up";
  }
  return "?";
}

CallRecorder::CallRecorder(std::int64_t run_id, std::shared_ptr<const NameTable> names, Sink sink)
    : run_id_(run_id), names_(std::move(names)), sink_(std::move(sink)) {}

CallRecorder::Call& CallRecorder::call(core::CallId id, core::TenantId tenant) {
  auto [it, inserted] = calls_.try_emplace(id.value);
  if (inserted) it->second.tenant = names_->tenant(tenant);
  return it->second;
}

CallRecorder::Task& CallRecorder::task(core::TaskId id, core::TenantId tenant) {
  auto [it, inserted] = tasks_.try_emplace(id.value);
  if (inserted) it->second.tenant = names_->tenant(tenant);
  return it->second;
}

// The task's one record. The waits, handle time, creation and last queue are the core's
// (TaskFinished); the rest is what the task's earlier events said. The agent is the last
// one who accepted it, also when it was transferred away and then ended unaccepted.
void CallRecorder::task_finished(const core::TaskFinished& e) {
  const NameTable& n = *names_;
  Task& t = task(e.task, e.tenant);
  store::TaskRecord r;
  r.task_id = static_cast<std::int64_t>(e.task.value);
  r.run_id = run_id_;
  r.tenant = t.tenant;
  r.channel = core::to_string(e.channel);
  r.subject = t.subject;
  r.customer = t.customer;
  r.last_queue = e.queue.valid() ? n.queue(e.queue) : t.last_queue;
  r.first_queue = t.first_queue.empty() ? r.last_queue : t.first_queue;
  r.agent = e.agent.valid() ? n.agent(e.agent) : t.agent;
  r.final_state = core::to_string(e.state);
  r.created_at = micros(e.created);
  r.queued_at = t.queued_at;
  r.accepted_at = t.accepted_at;
  r.finished_at = micros(e.at);
  r.wait_ms = std::max<std::int64_t>(0, millis(e.waited));
  r.handle_ms = std::max<std::int64_t>(0, millis(e.handled));
  if (t.queues > 0) r.sl_threshold_ms = t.sl_threshold_ms;
  r.offers = t.offers;
  r.transfers = t.transfers;
  r.requeues = t.requeues;
  r.queues = t.queues;
  r.vip_level = t.vip_level;
  tasks_.erase(e.task.value);
  sink_(std::move(r));
}

void CallRecorder::queue_event(core::CallId id, Call& c, std::string queue, core::TimePoint at,
                               const char* kind, std::string agent,
                               std::optional<std::int64_t> wait_ms, std::string reason,
                               std::string detail_json) {
  store::QueueEventRecord r;
  r.call_id = static_cast<std::int64_t>(id.value);
  r.seq = ++c.seq;
  r.run_id = run_id_;
  r.tenant = c.tenant;
  r.queue = std::move(queue);
  r.at = micros(at);
  r.kind = kind;
  r.agent = std::move(agent);
  r.wait_ms = wait_ms;
  r.reason = std::move(reason);
  r.detail_json = std::move(detail_json);
  sink_(std::move(r));
}

void CallRecorder::end_leg(core::CallId id, Call& c, std::uint32_t agent, store::EpochMicros at,
                           std::string result) {
  auto it = c.open_legs.find(agent);
  if (it == c.open_legs.end()) return;
  Leg& leg = it->second;
  store::CallLegRecord r;
  r.call_id = static_cast<std::int64_t>(id.value);
  r.leg = leg.number;
  r.run_id = run_id_;
  r.tenant = c.tenant;
  r.queue = std::move(leg.queue);
  r.agent = std::move(leg.agent);
  r.offered_at = leg.offered_at;
  r.answered_at = leg.answered_at;
  r.ended_at = at;
  r.result = std::move(result);
  c.open_legs.erase(it);
  sink_(std::move(r));
}

// A `transfer` queue event in the queue the call was answered in: reason the kind (queue,
// external, attended), the transferring agent, wait_ms their call's wait in that queue,
// detail.to the target (queue or agent, when there is one), to_queue and to_agent, the
// agent's part of the call (talk_ms, hold_ms) and the queue's sl_threshold_ms. Reports
// count a transfer to a queue as an answered call of the queue it left (migration 0006).
// The agent's leg ends here (answered); the target of an attended transfer gets a leg,
// answered at once.
void CallRecorder::transferred(const core::CallTransferred& e) {
  const NameTable& n = *names_;
  Call& c = call(e.call, e.tenant);
  const store::EpochMicros at = micros(e.at);
  const std::string from_queue = e.from_queue.valid() ? n.queue(e.from_queue) : c.last_queue;
  std::string detail = "{";
  if (e.to_queue.valid()) {
    const std::string to = json_string(n.queue(e.to_queue));
    detail += "\"to\":" + to + ",\"to_queue\":" + to + ",";
  }
  if (e.to_agent.valid()) {
    const std::string to = json_string(n.agent(e.to_agent));
    if (!e.to_queue.valid()) detail += "\"to\":" + to + ",";
    detail += "\"to_agent\":" + to + ",";
  }
  detail += "\"talk_ms\":" + std::to_string(millis(e.talk)) +
            ",\"hold_ms\":" + std::to_string(millis(e.hold));
  if (c.queues > 0) detail += ",\"sl_threshold_ms\":" + std::to_string(c.sl_threshold_ms);
  detail += "}";
  queue_event(e.call, c, from_queue, e.at, "transfer", n.agent(e.from_agent), c.last_wait_ms,
              core::to_string(e.kind), std::move(detail));
  end_leg(e.call, c, e.from_agent.value, at, "answered");
  if (e.kind == core::CallTransferred::Kind::kQueue) {
    // The caller waits again: the wait so far ended when the agent answered.
    if (c.answered_at)
      c.earlier_wait_us += *c.answered_at - c.wait_since.value_or(c.first_queued_at);
    c.wait_since = at;
  }
  if (e.kind == core::CallTransferred::Kind::kAttended && e.to_agent.valid()) {
    Leg leg;
    leg.number = ++c.legs_made;
    ++c.transfer_legs;
    leg.queue = from_queue;
    leg.agent = n.agent(e.to_agent);
    leg.offered_at = at;
    leg.answered_at = at;
    c.open_legs[e.to_agent.value] = std::move(leg);
  }
}

void CallRecorder::on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) {
  const NameTable& n = *names_;
  std::visit(
      core::Overloaded{
          [&](const core::AgentStateChanged& e) {
            store::AgentStateRecord r;
            r.run_id = run_id_;
            r.seq = ++agent_seq_;
            r.tenant = n.tenant(e.tenant);
            r.agent = n.agent(e.agent);
            r.at = micros(e.at);
            r.from_state = record_state_name(e.from);
            r.to_state = record_state_name(e.to);
            if (e.reason.valid()) r.reason = std::string(core.reason_name(e.reason));
            r.cause = core::to_string(e.cause);
            if (e.call.valid()) r.call_id = static_cast<std::int64_t>(e.call.value);
            sink_(std::move(r));
          },
          [&](const core::CallQueued& e) {
            Call& c = call(e.call, e.tenant);
            const std::string queue = n.queue(e.queue);
            if (c.queues == 0) {
              c.first_queue = queue;
              c.first_queued_at = micros(e.at);
              c.caller = e.caller_number;
              c.dialled = e.dialed_number;
              c.vip_level = e.vip_level;
            }
            ++c.queues;
            c.last_queue = queue;
            c.queued_at = micros(e.at);
            c.answered_at.reset();  // (a transferred call is answered anew in this queue)
            c.sl_threshold_ms = millis(e.sl_threshold);
            queue_event(e.call, c, queue, e.at, "enter");
          },
          [&](const core::CallOffered& e) {
            Call& c = call(e.call, e.tenant);
            Leg leg;
            leg.number = ++c.legs_made;
            leg.queue = n.queue(e.queue);
            leg.agent = n.agent(e.agent);
            leg.offered_at = micros(e.at);
            queue_event(e.call, c, leg.queue, e.at, "offer", leg.agent);
            c.open_legs[e.agent.value] = std::move(leg);
          },
          [&](const core::OfferEnded& e) {
            Call& c = call(e.call, e.tenant);
            const bool rona = e.reason == core::OfferEndReason::kNoAnswer;
            queue_event(e.call, c, c.last_queue, e.at, rona ? "ring-no-answer" : "offer-ended",
                        n.agent(e.agent), std::nullopt, core::to_string(e.reason));
            end_leg(e.call, c, e.agent.value, micros(e.at), core::to_string(e.reason));
          },
          [&](const core::CallConnected& e) {
            Call& c = call(e.call, e.tenant);
            c.answered_at = micros(e.at);
            c.last_wait_ms = millis(e.waited);
            if (auto it = c.open_legs.find(e.agent.value); it != c.open_legs.end()) {
              it->second.answered_at = micros(e.at);
            }
            queue_event(e.call, c, n.queue(e.queue), e.at, "connect", n.agent(e.agent),
                        millis(e.waited));
          },
          [&](const core::CallEscalated& e) {
            Call& c = call(e.call, e.tenant);
            queue_event(e.call, c, n.queue(e.queue), e.at, "escalate", {}, std::nullopt, {},
                        "{\"step\":" + std::to_string(e.step) + "}");
          },
          [&](const core::CallExited& e) {
            Call& c = call(e.call, e.tenant);
            c.exit_reason = core::to_string(e.reason);
            if (e.destination.kind == core::ExitDestination::Kind::kCallback)
              c.callback_number = e.destination.number;
            const bool to_queue = e.destination.kind == core::ExitDestination::Kind::kQueue;
            const char* kind = to_queue                                 ? "overflow"
                               : e.reason == core::ExitReason::kMaxWait ? "timeout"
                                                                        : "exit";
            std::string detail = destination_json(e.destination, n);
            queue_event(e.call, c, n.queue(e.queue), e.at, kind, {}, std::nullopt,
                        core::to_string(e.reason), std::move(detail));
          },
          [&](const core::CallFinished& e) {
            Call& c = call(e.call, e.tenant);
            const std::string last_queue = e.queue.valid() ? n.queue(e.queue) : c.last_queue;
            const store::EpochMicros ended = micros(e.at);
            const char* kind = e.state == core::FinalState::kCompleted   ? "complete"
                               : e.state == core::FinalState::kAbandoned ? "abandon"
                                                                         : "end";
            const std::string detail = "{\"talk_ms\":" + std::to_string(millis(e.talk)) +
                                       ",\"hold_ms\":" + std::to_string(millis(e.hold)) + "}";
            // reason: an abandon's is why the caller left (migration 0007), an end's the
            // final state; a complete has none.
            const char* reason = e.state == core::FinalState::kCompleted ? ""
                                 : e.state == core::FinalState::kAbandoned
                                     ? core::to_string(e.cause)
                                     : core::to_string(e.state);
            queue_event(e.call, c, last_queue, e.at, kind,
                        e.agent.valid() ? n.agent(e.agent) : std::string(), millis(e.waited),
                        reason, detail);
            // Legs still open: the answered one ends with the call; others did not get it.
            std::vector<std::uint32_t> open;
            for (const auto& [agent, leg] : c.open_legs) open.push_back(agent);
            std::sort(open.begin(), open.end());
            for (const std::uint32_t agent : open) {
              const bool answered = c.open_legs[agent].answered_at.has_value();
              end_leg(e.call, c, agent, ended, answered ? "answered" : "caller-gone");
            }
            store::CallRecord r;
            r.call_id = static_cast<std::int64_t>(e.call.value);
            r.run_id = run_id_;
            r.tenant = c.tenant;
            r.caller = c.caller;
            r.dialled = c.dialled;
            r.first_queue = c.first_queue.empty() ? last_queue : c.first_queue;
            r.last_queue = last_queue;
            if (e.agent.valid()) r.agent = n.agent(e.agent);
            r.final_state = core::to_string(e.state);
            r.exit_reason = c.exit_reason;
            r.arrived_at = micros(e.arrived);
            r.queued_at = c.queued_at;
            r.answered_at = c.answered_at;
            r.ended_at = ended;
            r.wait_ms = millis(e.waited);
            const store::EpochMicros wait_end = c.answered_at.value_or(ended);
            r.total_wait_ms = std::max<std::int64_t>(
                0, (c.earlier_wait_us + wait_end - c.wait_since.value_or(r.arrived_at)) / 1000);
            r.talk_ms = millis(e.talk);
            r.hold_ms = millis(e.hold);
            if (c.queues > 0) r.sl_threshold_ms = c.sl_threshold_ms;
            r.offers = c.legs_made - c.transfer_legs;
            r.queues = c.queues;
            r.vip_level = c.vip_level;
            r.end_reason = core::to_string(e.cause);
            if (c.queues == 0) r.direction = "outbound";
            if (e.state == core::FinalState::kCallback) {
              sink_(store::CallbackRecord{r.call_id, r.tenant, last_queue,
                                          c.callback_number.empty() ? c.caller : c.callback_number,
                                          ended});
            }
            sink_(std::move(r));
            calls_.erase(e.call.value);
          },
          [&](const core::CallEndedBeforeQueue& e) {
            // A call that a menu or a flow ended: no queue, no agent, no wait.
            store::CallRecord r;
            r.call_id = static_cast<std::int64_t>(e.call.value);
            r.run_id = run_id_;
            r.tenant = n.tenant(e.tenant);
            r.caller = e.caller_number;
            r.dialled = e.dialed_number;
            r.final_state = core::to_string(e.state);
            r.arrived_at = micros(e.arrived);
            r.ended_at = micros(e.at);
            r.vip_level = e.vip_level;
            r.end_reason = core::to_string(e.cause);
            sink_(std::move(r));
          },
          [&](const core::OverflowLevelChanged& e) {
            sink_(store::OverflowRecord{run_id_, ++overflow_seq_, n.tenant(e.tenant),
                                        n.queue(e.queue), micros(e.at), e.from_tier, e.to_tier});
          },
          [&](const core::CallTransferred& e) { transferred(e); },
          [&](const core::SupervisorAlert&) {},
          [&](const core::BreakWaitlisted&) {},
          // Tasks: one TaskRecord each, when it finishes.
          [&](const core::TaskQueued& e) {
            Task& t = task(e.task, e.tenant);
            const std::string queue = n.queue(e.queue);
            // Every queueing carries subject and customer; the record keeps the first's.
            if (t.queues == 0) {
              t.first_queue = queue;
              t.subject = e.subject;
              t.customer = e.customer;
              t.vip_level = e.vip_level;
            }
            ++t.queues;
            t.last_queue = queue;
            t.queued_at = micros(e.at);
            t.sl_threshold_ms = millis(e.sl_threshold);
          },
          [&](const core::TaskOffered& e) { ++task(e.task, e.tenant).offers; },
          // An offer that ended unaccepted was counted when made; the task waits on (a
          // TaskOffered to the next agent follows) or ends (TaskFinished).
          [&](const core::TaskOfferEnded&) {},
          [&](const core::TaskAccepted& e) {
            Task& t = task(e.task, e.tenant);
            if (!t.accepted_at) t.accepted_at = micros(e.at);
            t.agent = n.agent(e.agent);
          },
          [&](const core::TaskTransferred& e) {
            Task& t = task(e.task, e.tenant);
            // The agent's own transfer, or their logout (forced or by the system) returning
            // the task to a queue. A TaskQueued for the new queue follows.
            if (e.cause == core::Cause::kAgent) {
              ++t.transfers;
            } else {
              ++t.requeues;
            }
          },
          [&](const core::TaskFinished& e) { task_finished(e); },
      },
      event);
}

}  // namespace acd::app
