#include "engine/api/agent_service.h"

#include <algorithm>
#include <exception>

#include "engine/api/call_control.h"
#include "engine/api/convert.h"

namespace acd::api {

namespace v1 = acd::v1;

std::variant<Caller, grpc::Status> AgentServiceImpl::authorize_agent(
    const grpc::CallbackServerContext& context, std::string_view rpc) const {
  auto authorized = context_.authorize(context, rpc, Roles{Role::kAgent});
  if (std::holds_alternative<grpc::Status>(authorized)) return authorized;
  const Caller& caller = std::get<Caller>(authorized);
  if (!caller.user->agent.valid()) {
    context_.log_denied({{"rpc", std::string(rpc)},
                         {"tenant", caller.user->tenant_name},
                         {"user", caller.user->name},
                         {"reason", "the user works as no agent"}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "user " + caller.user->name + " works as no agent");
  }
  return authorized;
}

grpc::ServerUnaryReactor* AgentServiceImpl::run(grpc::CallbackServerContext* context,
                                                std::string_view rpc, v1::AgentStatus* response,
                                                Command command, Check check) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto authorized = authorize_agent(*context, rpc);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  Caller caller = std::move(std::get<Caller>(authorized));
  if (check) {
    if (auto refusal = check(caller)) {
      reactor->Finish(*refusal);
      return reactor;
    }
  }
  const bool queued = context_.submit([reactor, response, caller = std::move(caller),
                                       command = std::move(command)](core::RoutingCore& core) {
    // The call is finished on every path: a command that throws (a bug) must not leave
    // the client waiting and the server unable to shut down.
    try {
      const core::AgentId agent = caller.user->agent;
      if (const core::Status status = command(core, agent); !status) {
        reactor->Finish(to_grpc(status));
        return;
      }
      fill_agent_status(core, agent, caller.user->agent_name, *response);
    } catch (const std::exception& e) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, e.what()));
      return;
    }
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued)
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down"));
  return reactor;
}

grpc::ServerUnaryReactor* AgentServiceImpl::Login(grpc::CallbackServerContext* context,
                                                  const v1::LoginRequest* request,
                                                  v1::AgentStatus* response) {
  const bool ready = request->ready();
  return run(
      context, "AgentService.Login", response,
      [ready](core::RoutingCore& core, core::AgentId agent) { return core.login(agent, ready); });
}

grpc::ServerUnaryReactor* AgentServiceImpl::Logout(grpc::CallbackServerContext* context,
                                                   const v1::LogoutRequest*,
                                                   v1::AgentStatus* response) {
  return run(context, "AgentService.Logout", response,
             [](core::RoutingCore& core, core::AgentId agent) { return core.logout(agent); });
}

grpc::ServerUnaryReactor* AgentServiceImpl::SetReady(grpc::CallbackServerContext* context,
                                                     const v1::SetReadyRequest*,
                                                     v1::AgentStatus* response) {
  return run(context, "AgentService.SetReady", response,
             [](core::RoutingCore& core, core::AgentId agent) { return core.set_ready(agent); });
}

grpc::ServerUnaryReactor* AgentServiceImpl::SetNotReady(grpc::CallbackServerContext* context,
                                                        const v1::SetNotReadyRequest* request,
                                                        v1::AgentStatus* response) {
  std::string reason = request->reason();
  auto check = [reason](const Caller& caller) -> std::optional<grpc::Status> {
    if (reason.empty()) return invalid_field("reason", "required: a not-ready reason code");
    const ApiTenant* tenant = caller.directory->tenant(caller.user->tenant);
    if (tenant != nullptr && !tenant->not_ready_reasons.empty() &&
        std::find(tenant->not_ready_reasons.begin(), tenant->not_ready_reasons.end(), reason) ==
            tenant->not_ready_reasons.end())
      return invalid_field("reason",
                           "unknown reason code \"" + reason + "\" of tenant " + tenant->name);
    return std::nullopt;
  };
  return run(
      context, "AgentService.SetNotReady", response,
      [reason](core::RoutingCore& core, core::AgentId agent) {
        return core.set_not_ready(agent, reason);
      },
      check);
}

grpc::ServerUnaryReactor* AgentServiceImpl::EndWrapUp(grpc::CallbackServerContext* context,
                                                      const v1::EndWrapUpRequest*,
                                                      v1::AgentStatus* response) {
  return run(context, "AgentService.EndWrapUp", response,
             [](core::RoutingCore& core, core::AgentId agent) { return core.end_wrap_up(agent); });
}

grpc::ServerUnaryReactor* AgentServiceImpl::SetWorkMode(grpc::CallbackServerContext* context,
                                                        const v1::SetWorkModeRequest* request,
                                                        v1::AgentStatus* response) {
  const v1::WorkMode mode = request->mode();
  auto check = [mode](const Caller&) -> std::optional<grpc::Status> {
    if (mode != v1::WORK_MODE_AUTO_READY && mode != v1::WORK_MODE_MANUAL)
      return invalid_field("mode", "required: WORK_MODE_AUTO_READY or WORK_MODE_MANUAL");
    return std::nullopt;
  };
  return run(
      context, "AgentService.SetWorkMode", response,
      [mode](core::RoutingCore& core, core::AgentId agent) {
        return core.set_work_mode(agent, mode == v1::WORK_MODE_MANUAL ? core::WorkMode::kManual
                                                                      : core::WorkMode::kAutoReady);
      },
      check);
}

grpc::ServerUnaryReactor* AgentServiceImpl::GetStatus(grpc::CallbackServerContext* context,
                                                      const v1::GetStatusRequest*,
                                                      v1::AgentStatus* response) {
  return run(context, "AgentService.GetStatus", response,
             [](core::RoutingCore&, core::AgentId) { return core::Status::ok(); });
}

}  // namespace acd::api

namespace acd::api {

grpc::ServerWriteReactor<acd::v1::AgentEvent>* AgentServiceImpl::StreamEvents(
    grpc::CallbackServerContext* context, const acd::v1::StreamEventsRequest*) {
  auto authorized = authorize_agent(*context, "AgentService.StreamEvents");
  if (auto* refusal = std::get_if<grpc::Status>(&authorized))
    return refused_stream<acd::v1::AgentEvent>(*refusal);
  const Caller& caller = std::get<Caller>(authorized);
  return hub_.watch_agent(caller.user->tenant, caller.user->agent);
}

}  // namespace acd::api

namespace acd::api {

grpc::ServerUnaryReactor* AgentServiceImpl::SendMessage(grpc::CallbackServerContext* context,
                                                        const acd::v1::AgentMessageRequest* request,
                                                        acd::v1::SendMessageResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto authorized = authorize_agent(*context, "AgentService.SendMessage");
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  const Caller& caller = std::get<Caller>(authorized);
  auto recipient = message_recipient(caller, request->to_agent(), request->to_supervisors(),
                                     "to_supervisors", request->text());
  if (auto* refusal = std::get_if<grpc::Status>(&recipient)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  const std::optional<core::AgentId> to = std::get<std::optional<core::AgentId>>(recipient);
  acd::v1::ChatMessage message =
      chat_message(caller.user->name, caller.user->agent_name, request->text());
  message.set_to_agent(request->to_agent());
  message.set_to_supervisors(request->to_supervisors());
  hub_.send_message(caller.user->tenant, to.value_or(core::AgentId()), std::move(message),
                    [reactor, response](int delivered) {
                      response->set_delivered(delivered);
                      reactor->Finish(grpc::Status::OK);
                    });
  return reactor;
}

}  // namespace acd::api

namespace acd::api {

grpc::ServerUnaryReactor* AgentServiceImpl::control(grpc::CallbackServerContext* context,
                                                    std::string_view rpc, core::CallAction action,
                                                    Prepare prepare, std::string target_field) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto authorized = authorize_agent(*context, rpc);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  const Caller& caller = std::get<Caller>(authorized);
  core::CallControl request;
  request.action = action;
  request.tenant = caller.user->tenant;
  request.agent = caller.user->agent;
  request.requested_by = caller.user->name;
  if (prepare) {
    if (auto refusal = prepare(caller, request)) {
      reactor->Finish(*refusal);
      return reactor;
    }
  }
  send_call_control(context_, reactor, std::move(request), std::move(target_field));
  return reactor;
}

grpc::ServerUnaryReactor* AgentServiceImpl::Hold(grpc::CallbackServerContext* context,
                                                 const acd::v1::HoldRequest*,
                                                 acd::v1::CallControlResponse*) {
  return control(context, "AgentService.Hold", core::CallAction::kHold);
}

grpc::ServerUnaryReactor* AgentServiceImpl::Retrieve(grpc::CallbackServerContext* context,
                                                     const acd::v1::RetrieveRequest*,
                                                     acd::v1::CallControlResponse*) {
  return control(context, "AgentService.Retrieve", core::CallAction::kRetrieve);
}

grpc::ServerUnaryReactor* AgentServiceImpl::HangUp(grpc::CallbackServerContext* context,
                                                   const acd::v1::HangUpRequest*,
                                                   acd::v1::CallControlResponse*) {
  return control(context, "AgentService.HangUp", core::CallAction::kHangUp);
}

grpc::ServerUnaryReactor* AgentServiceImpl::SetRecordingPaused(
    grpc::CallbackServerContext* context, const acd::v1::SetRecordingPausedRequest* request,
    acd::v1::CallControlResponse*) {
  return control(
      context, "AgentService.SetRecordingPaused",
      request->paused() ? core::CallAction::kPauseRecording : core::CallAction::kResumeRecording);
}

namespace {

// The party a transfer or consultation goes to, from the request's oneof: the field that
// named it ("" when none did) and its value.
struct NamedTarget {
  std::string field;
  core::TransferTo kind = core::TransferTo::kAgent;
  std::string value;
};

// Puts `target` into `out`: refused (naming the field) when no field was set, a name is
// empty, a queue is not the caller's tenant's, or a number cannot be dialled.
std::optional<grpc::Status> set_target(const Caller& caller, const NamedTarget& target,
                                       core::CallControl& out, std::string_view expected) {
  if (target.field.empty()) return invalid_field("target", expected);
  out.transfer_to = target.kind;
  out.target = target.value;
  switch (target.kind) {
    case core::TransferTo::kNumber:
      if (!is_dialable_number(target.value))
        return invalid_field("number", "expected 1 to 32 digits, optionally after a +, got \"" +
                                           target.value + "\"");
      break;
    case core::TransferTo::kQueue: {
      const ApiTenant* tenant = caller.directory->tenant(caller.user->tenant);
      if (tenant == nullptr || !tenant->queue(target.value))
        return invalid_field("queue", "unknown queue \"" + target.value + "\" of tenant " +
                                          caller.user->tenant_name);
      break;
    }
    case core::TransferTo::kAgent:
      if (target.value.empty()) return invalid_field("agent", "required: not empty");
      break;
  }
  return std::nullopt;
}

}  // namespace

grpc::ServerUnaryReactor* AgentServiceImpl::Transfer(grpc::CallbackServerContext* context,
                                                     const acd::v1::TransferRequest* request,
                                                     acd::v1::CallControlResponse*) {
  using v1::TransferRequest;
  NamedTarget target;
  switch (request->target_case()) {
    case TransferRequest::kAgent:
      target = {"agent", core::TransferTo::kAgent, request->agent()};
      break;
    case TransferRequest::kQueue:
      target = {"queue", core::TransferTo::kQueue, request->queue()};
      break;
    case TransferRequest::kNumber:
      target = {"number", core::TransferTo::kNumber, request->number()};
      break;
    default: break;
  }
  auto prepare = [target](const Caller& caller, core::CallControl& out) {
    return set_target(caller, target, out, "required: an agent, a queue or a number");
  };
  return control(context, "AgentService.Transfer", core::CallAction::kTransfer, prepare,
                 target.field);
}

namespace {

// The agent-or-number target of a ConsultRequest or DialRequest.
template <class Request>
NamedTarget agent_or_number(const Request& request) {
  switch (request.target_case()) {
    case Request::kAgent: return {"agent", core::TransferTo::kAgent, request.agent()};
    case Request::kNumber: return {"number", core::TransferTo::kNumber, request.number()};
    default: return {};
  }
}

}  // namespace

grpc::ServerUnaryReactor* AgentServiceImpl::Consult(grpc::CallbackServerContext* context,
                                                    const acd::v1::ConsultRequest* request,
                                                    acd::v1::CallControlResponse*) {
  const NamedTarget target = agent_or_number(*request);
  auto prepare = [target](const Caller& caller, core::CallControl& out) {
    return set_target(caller, target, out, "required: an agent or a number");
  };
  return control(context, "AgentService.Consult", core::CallAction::kConsult, prepare,
                 target.field);
}

grpc::ServerUnaryReactor* AgentServiceImpl::Dial(grpc::CallbackServerContext* context,
                                                 const acd::v1::DialRequest* request,
                                                 acd::v1::CallControlResponse*) {
  const NamedTarget target = agent_or_number(*request);
  auto prepare = [target](const Caller& caller, core::CallControl& out) {
    return set_target(caller, target, out, "required: an agent or a number");
  };
  return control(context, "AgentService.Dial", core::CallAction::kDial, prepare, target.field);
}

}  // namespace acd::api

namespace acd::api {

grpc::ServerUnaryReactor* AgentServiceImpl::CompleteTransfer(
    grpc::CallbackServerContext* context, const acd::v1::CompleteTransferRequest*,
    acd::v1::CallControlResponse*) {
  return control(context, "AgentService.CompleteTransfer", core::CallAction::kCompleteTransfer);
}

grpc::ServerUnaryReactor* AgentServiceImpl::Conference(grpc::CallbackServerContext* context,
                                                       const acd::v1::ConferenceRequest*,
                                                       acd::v1::CallControlResponse*) {
  return control(context, "AgentService.Conference", core::CallAction::kConference);
}

grpc::ServerUnaryReactor* AgentServiceImpl::CancelConsult(grpc::CallbackServerContext* context,
                                                          const acd::v1::CancelConsultRequest*,
                                                          acd::v1::CallControlResponse*) {
  return control(context, "AgentService.CancelConsult", core::CallAction::kCancelConsult);
}

}  // namespace acd::api
