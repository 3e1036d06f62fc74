#include "engine/app/flow_wiring.h"

#include <chrono>
#include <utility>
#include <variant>
#include <vector>

#include "engine/app/logging.h"
#include "engine/flows/flow.h"

namespace acd::app {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// What a flow's sessions share: the compiled script and the flow's settings.
struct FlowSettings {
  std::string name;
  std::shared_ptr<const flows::FlowScript> script;
  std::uint64_t instruction_limit = 0;
  std::size_t memory_limit = 0;
  IvrAction fallback;
  std::map<std::string, core::QueueId, std::less<>> queues;
  std::map<std::string, core::SkillId, std::less<>> skills;  // call.set_skill's names
  std::shared_ptr<const flows::FlowHostInfo> host;           // null: no queue figures, no calendars
};

// call.queue_status and call.open / call.holiday for one tenant: the routing core's last
// published snapshot (no waiting on the core thread) and the tenant's calendars on the
// wall clock.
class TenantFlowHost final : public flows::FlowHostInfo {
 public:
  TenantFlowHost(core::TenantId tenant, std::vector<core::BusinessCalendar> calendars,
                 FlowHostSources sources)
      : tenant_(tenant), calendars_(std::move(calendars)), sources_(std::move(sources)) {}

  std::optional<flows::FlowQueueStatus> queue_status(std::string_view queue) const override {
    if (!sources_.snapshot) return std::nullopt;
    const std::shared_ptr<const core::CoreSnapshot> snapshot = sources_.snapshot();
    if (!snapshot) return std::nullopt;
    for (const core::QueueSnapshot& q : snapshot->queues) {
      if (q.tenant != tenant_ || q.name != queue) continue;
      auto seconds = [](core::Duration d) {
        return std::chrono::duration_cast<std::chrono::seconds>(d).count();
      };
      return flows::FlowQueueStatus{q.waiting, q.members_ready, q.members_logged_in,
                                    seconds(q.estimated_wait), seconds(q.longest_wait)};
    }
    return std::nullopt;
  }

  std::optional<flows::FlowCalendarState> calendar(std::string_view name) const override {
    for (const core::BusinessCalendar& calendar : calendars_) {
      if (calendar.name() != name) continue;
      const core::BusinessCalendar::State state = calendar.state_at(clock_.now());
      return flows::FlowCalendarState{state.open, state.holiday};
    }
    return std::nullopt;
  }

 private:
  core::TenantId tenant_;
  std::vector<core::BusinessCalendar> calendars_;
  FlowHostSources sources_;
  core::SteadyWallClock clock_;
};

flows::FlowDecision to_decision(const IvrAction& fallback) {
  switch (fallback.kind) {
    case IvrAction::Kind::kQueue: return flows::QueueDecision{fallback.target};
    case IvrAction::Kind::kVoicemail: return flows::VoicemailDecision{fallback.target};
    default: return flows::HangupDecision{};  // the loader allows queue, voicemail, hangup
  }
}

// One call's run of the script, driven by the SIP service.
class FlowSession final : public sip::SipCallFlow {
 public:
  FlowSession(std::shared_ptr<const FlowSettings> settings, const sip::SipFlowCall& call)
      : settings_(std::move(settings)),
        call_(call),
        run_(*settings_->script, flows::FlowCall{call.caller, call.dialled, {}},
             flows::FlowConfig{settings_->instruction_limit, settings_->memory_limit,
                               to_decision(settings_->fallback), call.id.value, settings_->host}) {}

  ~FlowSession() override {
    if (run_.finished()) return;
    // The caller hung up mid-flow: the run ends here (its state freed with run_).
    const flows::FlowOutcome outcome = run_.cancel();
    log_lines();
    log_event(LogLevel::kInfo, "flow.cancelled",
              {{"call", call_.id.value},
               {"tenant", call_.tenant},
               {"flow", settings_->name},
               {"why", outcome.error}});
  }
  FlowSession(const FlowSession&) = delete;
  FlowSession& operator=(const FlowSession&) = delete;

  sip::SipFlowStep start() override { return to_step(run_.start()); }

  sip::SipFlowStep resume(const sip::SipFlowAnswer& answer) override {
    const flows::FlowResult result =
        std::visit(Overloaded{
                       [](const sip::SipFlowPlayed& a) -> flows::FlowResult {
                         return flows::PlayResult{a.completed};
                       },
                       [](const sip::SipFlowCollected& a) -> flows::FlowResult {
                         return flows::CollectResult{a.digits};
                       },
                       [](const sip::SipFlowLookedUp& a) -> flows::FlowResult {
                         return flows::LookupResult{a.customer};
                       },
                   },
                   answer);
    return to_step(run_.resume(result));
  }

 private:
  // The script's call.log lines written since the last step.
  void log_lines() {
    const auto& lines = run_.log();
    for (; logged_ < lines.size(); ++logged_) {
      log_event(LogLevel::kInfo, "flow.log",
                {{"call", call_.id.value},
                 {"tenant", call_.tenant},
                 {"flow", settings_->name},
                 {"line", lines[logged_]}});
    }
  }

  sip::SipFlowStep to_step(flows::FlowStep step) {
    log_lines();
    if (auto* request = std::get_if<flows::FlowRequest>(&step)) {
      return std::visit(
          Overloaded{
              [](flows::PlayRequest& r) -> sip::SipFlowStep {
                return sip::SipFlowPlay{{std::move(r.prompt)}};
              },
              [](flows::CollectRequest& r) -> sip::SipFlowStep {
                return sip::SipFlowCollect{std::move(r.prompt), r.max_digits, r.timeout};
              },
              [](flows::LookupRequest& r) -> sip::SipFlowStep {
                return sip::SipFlowLookup{std::move(r.number)};
              },
          },
          *request);
    }
    return to_done(std::get<flows::FlowOutcome>(std::move(step)));
  }

  sip::SipFlowDone to_done(const flows::FlowOutcome& outcome) {
    if (outcome.fallback) log_fallback(outcome.error);
    sip::SipFlowDone done;
    done.attributes.assign(run_.attributes().begin(), run_.attributes().end());
    done.priority = run_.priority();
    std::string skills;  // "name>=level,...", for people reading the log
    for (const auto& [name, level] : run_.skills()) {
      auto skill = settings_->skills.find(name);
      if (skill == settings_->skills.end()) {
        // The agent could never be chosen by a skill the tenant does not have.
        return fallback_because("call.set_skill: unknown skill \"" + name + "\"", done);
      }
      done.skills.push_back(core::SkillRequirement{skill->second, level});
      skills += (skills.empty() ? "" : ",") + name + ">=" + std::to_string(level);
    }
    std::string decision;
    std::string callback_queue;  // a callback: the queue that calls back
    std::visit(
        Overloaded{
            [&](const flows::QueueDecision& d) {
              done.kind = sip::SipFlowDone::Kind::kQueue;
              done.target = d.queue;
              decision = "queue";
            },
            [&](const flows::VoicemailDecision& d) {
              done.kind = sip::SipFlowDone::Kind::kVoicemail;
              done.target = d.box;
              decision = "voicemail";
            },
            [&](const flows::TransferDecision& d) {
              done.kind = sip::SipFlowDone::Kind::kTransfer;
              done.target = d.number;
              decision = "transfer";
            },
            [&](const flows::HangupDecision&) {
              done.kind = sip::SipFlowDone::Kind::kHangup;
              // The fallback's message when it is the fallback's hang-up.
              if (outcome.fallback) done.target = settings_->fallback.target;
              decision = "hangup";
            },
            [&](const flows::CallbackDecision& d) {
              done.kind = sip::SipFlowDone::Kind::kCallback;
              done.target = d.number;
              decision = "callback";
              // No queue named: the one the flow falls back to, when it is one.
              callback_queue = d.queue;
              if (callback_queue.empty() && settings_->fallback.kind == IvrAction::Kind::kQueue)
                callback_queue = settings_->fallback.target;
            },
        },
        outcome.decision);
    if (done.kind == sip::SipFlowDone::Kind::kQueue) {
      auto queue = settings_->queues.find(done.target);
      if (queue == settings_->queues.end() && !outcome.fallback) {
        // Not a queue of this tenant: the script did not decide anything that can be done.
        return fallback_because("call.queue: unknown queue \"" + done.target + "\"", done);
      }
      if (queue != settings_->queues.end()) done.queue = queue->second;
    }
    if (done.kind == sip::SipFlowDone::Kind::kCallback) {
      auto queue = settings_->queues.find(callback_queue);
      if (queue == settings_->queues.end()) {
        // Nobody to call back: the request would be lost.
        return fallback_because(
            callback_queue.empty()
                ? std::string("call.callback: no queue named, and the flow's fallback is not a "
                              "queue")
                : "call.callback: unknown queue \"" + callback_queue + "\"",
            done);
      }
      done.queue = queue->second;
    }
    std::string attributes;  // "key=value,key=value", for people reading the log
    for (const auto& [key, value] : done.attributes)
      attributes += (attributes.empty() ? "" : ",") + key + "=" + value;
    log_event(LogLevel::kInfo, "flow.decided",
              {{"call", call_.id.value},
               {"tenant", call_.tenant},
               {"flow", settings_->name},
               {"decision", decision},
               {"target", done.target},
               {"fallback", outcome.fallback},
               {"priority", done.priority ? std::to_string(*done.priority) : std::string()},
               {"attributes", attributes},
               {"skills", skills},
               {"callback_queue", callback_queue}});
    return done;
  }

  void log_fallback(const std::string& error) const {
    log_event(LogLevel::kWarn, "flow.fallback",
              {{"call", call_.id.value},
               {"tenant", call_.tenant},
               {"flow", settings_->name},
               {"error", error}});
  }

  // The script decided something that cannot be carried out: the flow's fallback, with
  // the attributes and priority the script set.
  sip::SipFlowDone fallback_because(const std::string& error, sip::SipFlowDone& decided) const {
    log_fallback(error);
    sip::SipFlowDone fallback = fallback_done();
    fallback.attributes = std::move(decided.attributes);
    fallback.priority = decided.priority;
    return fallback;
  }

  sip::SipFlowDone fallback_done() const {
    sip::SipFlowDone done;
    const IvrAction& fallback = settings_->fallback;
    done.target = fallback.target;
    switch (fallback.kind) {
      case IvrAction::Kind::kQueue: {
        done.kind = sip::SipFlowDone::Kind::kQueue;
        auto queue = settings_->queues.find(fallback.target);
        if (queue != settings_->queues.end()) done.queue = queue->second;
        break;
      }
      case IvrAction::Kind::kVoicemail: done.kind = sip::SipFlowDone::Kind::kVoicemail; break;
      default: done.kind = sip::SipFlowDone::Kind::kHangup; break;
    }
    return done;
  }

  std::shared_ptr<const FlowSettings> settings_;  // holds the script run_ runs
  sip::SipFlowCall call_;
  flows::FlowRun run_;
  std::size_t logged_ = 0;
};

}  // namespace

std::map<std::string, std::string> customer_fields(const store::CustomerRecord& customer) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : customer.fields) out[key] = value;
  // The record's columns win over fields of the same name.
  const std::pair<const char*, const std::string*> columns[] = {{"name", &customer.name},
                                                                {"account", &customer.account},
                                                                {"tier", &customer.tier},
                                                                {"notes", &customer.notes}};
  for (const auto& [key, value] : columns)
    if (!value->empty()) out[key] = *value;
  return out;
}

sip::SipCustomerLookup make_flow_customer_lookup(store::CustomerLookup& customers) {
  return [&customers](const std::string& tenant, const std::string& number,
                      std::function<void(std::optional<std::map<std::string, std::string>>)> done) {
    // lookup() calls `done` exactly once, or returns false and never calls it.
    auto shared = std::make_shared<decltype(done)>(std::move(done));
    const bool queued =
        customers.lookup(tenant, number, [shared](store::CallerLookupResult result) {
          if (!result.ok || !result.customer) {
            (*shared)(std::nullopt);
          } else {
            (*shared)(customer_fields(*result.customer));
          }
        });
    if (!queued) (*shared)(std::nullopt);
  };
}

std::shared_ptr<const flows::FlowHostInfo> make_flow_host(
    core::TenantId tenant, std::vector<core::BusinessCalendar> calendars, FlowHostSources sources) {
  return std::make_shared<TenantFlowHost>(tenant, std::move(calendars), std::move(sources));
}

sip::SipFlow make_sip_flow(const CallFlowConfig& flow,
                           std::map<std::string, core::QueueId, std::less<>> queues,
                           std::shared_ptr<const flows::FlowHostInfo> host,
                           std::map<std::string, core::SkillId, std::less<>> skills) {
  auto settings = std::make_shared<FlowSettings>();
  settings->host = std::move(host);
  settings->name = flow.name;
  settings->script = flow.script;
  settings->instruction_limit = flow.instruction_limit;
  settings->memory_limit = flow.memory_limit;
  settings->fallback = flow.fallback;
  settings->queues = std::move(queues);
  settings->skills = std::move(skills);
  std::shared_ptr<const FlowSettings> shared = std::move(settings);
  sip::SipFlow out;
  out.name = flow.name;
  if (!shared->script) return out;  // no session: the SIP side hangs up and logs it
  out.make_session = [shared](const sip::SipFlowCall& call) -> std::unique_ptr<sip::SipCallFlow> {
    return std::make_unique<FlowSession>(shared, call);
  };
  return out;
}

}  // namespace acd::app
