#include "engine/api/agent_service.h"

#include <algorithm>
#include <exception>

#include "engine/api/convert.h"

namespace acd::api {

namespace v1 = acd::v1;

std::variant<Caller, grpc::Status> AgentServiceImpl::authorize_agent(
    const grpc::CallbackServerContext& context, std::string_view rpc) const {
  auto authorized = context_.authorize(context, rpc, Roles{Role::kAgent});
  if (std::holds_alternative<grpc::Status>(authorized)) return authorized;
  const Caller& caller = std::get<Caller>(authorized);
  if (!caller.user->agent.valid()) {
    context_.log(ApiLogLevel::kWarn, "api.denied",
                 {{"rpc", std::string(rpc)},
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
  const ApiTenant* tenant = caller.directory->tenant(caller.user->tenant);
  std::optional<core::AgentId> to;
  if (request->to_agent().empty() == !request->to_supervisors()) {
    reactor->Finish(
        invalid_field("to_agent", "give an agent name or to_supervisors (one of them)"));
    return reactor;
  }
  if (!request->to_agent().empty()) {
    to = tenant == nullptr ? std::nullopt : tenant->agent(request->to_agent());
    if (!to) {
      reactor->Finish(invalid_field("to_agent", "unknown agent \"" + request->to_agent() +
                                                    "\" of tenant " + caller.user->tenant_name));
      return reactor;
    }
  }
  if (auto refusal = check_message_text(request->text())) {
    reactor->Finish(*refusal);
    return reactor;
  }
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
