#include "engine/api/supervisor_service.h"

#include <algorithm>
#include <exception>
#include <unordered_set>

#include "engine/api/answer_on_core.h"
#include "engine/api/call_control.h"
#include "engine/api/convert.h"
#include "engine/api/route_explain.h"

namespace acd::api {

namespace v1 = acd::v1;

namespace {

const Roles kWatchers{Role::kSupervisor, Role::kAdmin, Role::kReadOnly};
const Roles kSupervisors{Role::kSupervisor, Role::kAdmin};
constexpr int kMaxNames = 10000;

// The requested names resolved to ids in the request's order, or (none asked for) every
// one of the tenant's, sorted by name. An unknown or repeated name is INVALID_ARGUMENT
// naming the field and its index.
template <class Id>
std::variant<std::vector<Id>, grpc::Status> resolve(
    const google::protobuf::RepeatedPtrField<std::string>& names,
    const std::unordered_map<std::string, Id>& known, std::string_view field, std::string_view what,
    const ApiTenant& tenant) {
  std::vector<Id> ids;
  if (names.empty()) {
    std::vector<std::pair<std::string_view, Id>> all(known.begin(), known.end());
    std::sort(all.begin(), all.end());
    for (const auto& entry : all) ids.push_back(entry.second);
    return ids;
  }
  if (names.size() > kMaxNames)
    return invalid_field(field, "at most " + std::to_string(kMaxNames) + " names");
  std::unordered_set<std::string_view> seen;
  for (int i = 0; i < names.size(); ++i) {
    const std::string at = std::string(field) + "[" + std::to_string(i) + "]";
    auto it = known.find(names[i]);
    if (it == known.end())
      return invalid_field(
          at, "unknown " + std::string(what) + " \"" + names[i] + "\" of tenant " + tenant.name);
    if (!seen.insert(names[i]).second)
      return invalid_field(at, std::string(what) + " \"" + names[i] + "\" listed twice");
    ids.push_back(it->second);
  }
  return ids;
}

// The caller's tenant in the directory of the request.
const ApiTenant* tenant_of(const Caller& caller) {
  return caller.directory->tenant(caller.user->tenant);
}

// The tenant of a request's caller checked (one of `roles`), or the refusal.
std::variant<const ApiTenant*, grpc::Status> authorized_tenant(
    const ApiContext& api, const grpc::CallbackServerContext& context, std::string_view rpc,
    Roles roles) {
  auto authorized = api.authorize(context, rpc, roles);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return *refusal;
  const ApiTenant* tenant = tenant_of(std::get<Caller>(authorized));
  if (tenant == nullptr)
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "the caller's tenant is gone");
  return tenant;
}

// A request's caller checked (one of `roles`) and the ids of the names it asks for in the
// caller's tenant (every one of the tenant's when it names none).
template <class Id>
struct Resolved {
  core::TenantId tenant;
  std::vector<Id> ids;
};

template <class Id>
std::variant<Resolved<Id>, grpc::Status> resolve_request(
    const ApiContext& api, const grpc::CallbackServerContext& context, std::string_view rpc,
    Roles roles, const google::protobuf::RepeatedPtrField<std::string>& names,
    std::unordered_map<std::string, Id> ApiTenant::*known, std::string_view field,
    std::string_view what) {
  auto authorized = authorized_tenant(api, context, rpc, roles);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return *refusal;
  const ApiTenant* tenant = std::get<const ApiTenant*>(authorized);
  auto ids = resolve(names, tenant->*known, field, what, *tenant);
  if (auto* refusal = std::get_if<grpc::Status>(&ids)) return *refusal;
  return Resolved<Id>{tenant->id, std::move(std::get<0>(ids))};
}

}  // namespace

grpc::ServerWriteReactor<v1::QueueUpdate>* SupervisorServiceImpl::WatchQueues(
    grpc::CallbackServerContext* context, const v1::WatchQueuesRequest* request) {
  auto resolved = resolve_request(context_, *context, "SupervisorService.WatchQueues", kWatchers,
                                  request->queues(), &ApiTenant::queues, "queues", "queue");
  if (auto* refusal = std::get_if<grpc::Status>(&resolved))
    return refused_stream<v1::QueueUpdate>(*refusal);
  auto& [tenant, ids] = std::get<0>(resolved);
  return hub_.watch_queues(tenant, std::move(ids), request->queues().empty());
}

grpc::ServerWriteReactor<v1::AgentUpdate>* SupervisorServiceImpl::WatchAgents(
    grpc::CallbackServerContext* context, const v1::WatchAgentsRequest* request) {
  auto resolved = resolve_request(context_, *context, "SupervisorService.WatchAgents", kWatchers,
                                  request->agents(), &ApiTenant::agents, "agents", "agent");
  if (auto* refusal = std::get_if<grpc::Status>(&resolved))
    return refused_stream<v1::AgentUpdate>(*refusal);
  auto& [tenant, ids] = std::get<0>(resolved);
  return hub_.watch_agents(tenant, std::move(ids), request->agents().empty());
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::ListQueues(grpc::CallbackServerContext* context,
                                                            const v1::WatchQueuesRequest* request,
                                                            v1::QueueUpdate* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto resolved = resolve_request(context_, *context, "SupervisorService.ListQueues", kWatchers,
                                  request->queues(), &ApiTenant::queues, "queues", "queue");
  if (auto* refusal = std::get_if<grpc::Status>(&resolved)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  answer_on_core(context_, reactor,
                 [response, ids = std::move(std::get<0>(resolved).ids)](core::RoutingCore& core) {
                   response->set_snapshot(true);
                   const core::TimePoint now = core.now();
                   for (core::QueueId q : ids)
                     if (auto figures = core.queue(q))
                       fill_queue_status(*figures, now, *response->add_queues());
                   return grpc::Status::OK;
                 });
  return reactor;
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::ListAgents(grpc::CallbackServerContext* context,
                                                            const v1::WatchAgentsRequest* request,
                                                            v1::AgentUpdate* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto resolved = resolve_request(context_, *context, "SupervisorService.ListAgents", kWatchers,
                                  request->agents(), &ApiTenant::agents, "agents", "agent");
  if (auto* refusal = std::get_if<grpc::Status>(&resolved)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  answer_on_core(context_, reactor,
                 [response, ids = std::move(std::get<0>(resolved).ids)](core::RoutingCore& core) {
                   response->set_snapshot(true);
                   for (core::AgentId a : ids)
                     fill_agent_status(core, a, std::string(core.agent_name(a)),
                                       *response->add_agents());
                   return grpc::Status::OK;
                 });
  return reactor;
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::ExplainRoute(
    grpc::CallbackServerContext* context, const v1::ExplainRouteRequest* request,
    v1::ExplainRouteResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto tenant = authorized_tenant(context_, *context, "SupervisorService.ExplainRoute", kWatchers);
  auto query = std::holds_alternative<grpc::Status>(tenant)
                   ? std::get<grpc::Status>(tenant)
                   : route_query(*request, *std::get<const ApiTenant*>(tenant));
  if (auto* refusal = std::get_if<grpc::Status>(&query)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  answer_on_core(
      context_, reactor,
      [response, query = std::move(std::get<core::RouteQuery>(query))](core::RoutingCore& core) {
        core::RouteExplanation explanation;
        if (const core::Status status = core.explain_route(query, explanation); !status)
          return to_grpc(status);
        fill_route_explanation(explanation, *response);
        return grpc::Status::OK;
      });
  return reactor;
}

std::variant<SupervisorServiceImpl::AgentTarget, grpc::Status> SupervisorServiceImpl::resolve_agent(
    const grpc::CallbackServerContext& context, std::string_view rpc,
    const std::string& agent_name) const {
  auto authorized = context_.authorize(context, rpc, kSupervisors);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return *refusal;
  AgentTarget target{std::move(std::get<Caller>(authorized)), nullptr, core::AgentId{}};
  target.tenant = tenant_of(target.caller);
  if (target.tenant == nullptr)
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "the caller's tenant is gone");
  if (agent_name.empty()) return invalid_field("agent", "required: an agent name");
  const auto agent = target.tenant->agent(agent_name);
  // Another tenant's agent of the same name is as unknown as no agent at all.
  if (!agent)
    return invalid_field("agent",
                         "unknown agent \"" + agent_name + "\" of tenant " + target.tenant->name);
  target.agent = *agent;
  return target;
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::on_agent(grpc::CallbackServerContext* context,
                                                          std::string_view rpc,
                                                          const std::string& agent_name,
                                                          v1::AgentStatus* response,
                                                          AgentCommand command, Check check) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto resolved = resolve_agent(*context, rpc, agent_name);
  if (auto* refusal = std::get_if<grpc::Status>(&resolved)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  const auto& [caller, tenant, agent] = std::get<AgentTarget>(resolved);
  if (check) {
    if (auto refusal = check(caller, *tenant)) {
      reactor->Finish(*refusal);
      return reactor;
    }
  }
  context_.log(ApiLogLevel::kInfo, "api.privileged",
               {{"rpc", std::string(rpc)},
                {"tenant", tenant->name},
                {"user", caller.user->name},
                {"agent", agent_name}});
  answer_on_core(
      context_, reactor,
      [response, id = agent, agent_name, command = std::move(command)](core::RoutingCore& core) {
        if (const core::Status status = command(core, id); !status) return to_grpc(status);
        fill_agent_status(core, id, agent_name, *response);
        return grpc::Status::OK;
      });
  return reactor;
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::ForceReady(grpc::CallbackServerContext* context,
                                                            const v1::ForceReadyRequest* request,
                                                            v1::AgentStatus* response) {
  return on_agent(context, "SupervisorService.ForceReady", request->agent(), response,
                  [](core::RoutingCore& core, core::AgentId agent) {
                    return core.set_ready(agent, core::Cause::kSupervisor);
                  });
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::ForceNotReady(
    grpc::CallbackServerContext* context, const v1::ForceNotReadyRequest* request,
    v1::AgentStatus* response) {
  std::string reason = request->reason();
  auto check = [reason](const Caller&, const ApiTenant& tenant) -> std::optional<grpc::Status> {
    if (reason.empty()) return invalid_field("reason", "required: a not-ready reason code");
    if (!tenant.not_ready_reasons.empty() &&
        std::find(tenant.not_ready_reasons.begin(), tenant.not_ready_reasons.end(), reason) ==
            tenant.not_ready_reasons.end())
      return invalid_field("reason",
                           "unknown reason code \"" + reason + "\" of tenant " + tenant.name);
    return std::nullopt;
  };
  return on_agent(
      context, "SupervisorService.ForceNotReady", request->agent(), response,
      [reason](core::RoutingCore& core, core::AgentId agent) {
        return core.set_not_ready(agent, reason, core::Cause::kSupervisor);
      },
      check);
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::ForceLogout(grpc::CallbackServerContext* context,
                                                             const v1::ForceLogoutRequest* request,
                                                             v1::AgentStatus* response) {
  return on_agent(context, "SupervisorService.ForceLogout", request->agent(), response,
                  [](core::RoutingCore& core, core::AgentId agent) {
                    return core.logout(agent, core::Cause::kSupervisor);
                  });
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::SetAgentSkills(
    grpc::CallbackServerContext* context, const v1::SetAgentSkillsRequest* request,
    v1::AgentStatus* response) {
  auto skills = std::make_shared<std::vector<core::AgentSkill>>();
  auto check = [request, skills](const Caller&,
                                 const ApiTenant& tenant) -> std::optional<grpc::Status> {
    std::unordered_set<std::string_view> seen;
    for (int i = 0; i < request->skills_size(); ++i) {
      const v1::SkillLevel& entry = request->skills(i);
      const std::string at = "skills[" + std::to_string(i) + "]";
      if (entry.skill().empty()) return invalid_field(at + ".skill", "required: a skill name");
      const auto id = tenant.skill(entry.skill());
      if (!id)
        return invalid_field(at + ".skill",
                             "unknown skill \"" + entry.skill() + "\" of tenant " + tenant.name);
      if (!seen.insert(entry.skill()).second)
        return invalid_field(at + ".skill", "skill \"" + entry.skill() + "\" listed twice");
      if (entry.level() < core::kMinProficiency || entry.level() > core::kMaxProficiency)
        return invalid_field(at + ".level", "proficiency " + std::to_string(entry.level()) +
                                                " out of range (expected 1..10)");
      skills->push_back({*id, entry.level()});
    }
    return std::nullopt;
  };
  return on_agent(
      context, "SupervisorService.SetAgentSkills", request->agent(), response,
      [skills](core::RoutingCore& core, core::AgentId agent) {
        return core.set_agent_skills(agent, *skills);
      },
      check);
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::SetCallPriority(
    grpc::CallbackServerContext* context, const v1::SetCallPriorityRequest* request,
    v1::SetCallPriorityResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto authorized = context_.authorize(*context, "SupervisorService.SetCallPriority", kSupervisors);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  const Caller& caller = std::get<Caller>(authorized);
  if (request->call_id() <= 0) {
    reactor->Finish(invalid_field("call_id", "required: a call id"));
    return reactor;
  }
  const int priority = request->priority();
  if (priority < -1000000 || priority > 1000000) {
    reactor->Finish(invalid_field("priority", "out of range (expected -1000000..1000000)"));
    return reactor;
  }
  const core::CallId call(static_cast<std::uint64_t>(request->call_id()));
  context_.log(ApiLogLevel::kInfo, "api.privileged",
               {{"rpc", "SupervisorService.SetCallPriority"},
                {"tenant", caller.user->tenant_name},
                {"user", caller.user->name},
                {"call", std::to_string(call.value)},
                {"priority", std::to_string(priority)}});
  answer_on_core(context_, reactor,
                 [response, call, priority, tenant = caller.user->tenant](core::RoutingCore& core) {
                   // Another tenant's call is as unknown as no call at all.
                   const core::CallSpec* spec = core.call_spec(call);
                   if (spec == nullptr || spec->tenant != tenant)
                     return grpc::Status(grpc::StatusCode::NOT_FOUND,
                                         "call_id: no call " + std::to_string(call.value));
                   if (const core::Status status = core.set_call_priority(call, priority); !status)
                     return to_grpc(status);
                   response->set_call_id(static_cast<std::int64_t>(call.value));
                   response->set_priority(priority);
                   if (auto view = core.call(call)) response->set_position(view->position);
                   return grpc::Status::OK;
                 });
  return reactor;
}

}  // namespace acd::api

namespace acd::api {

grpc::ServerUnaryReactor* SupervisorServiceImpl::SendMessage(
    grpc::CallbackServerContext* context, const v1::SupervisorMessageRequest* request,
    v1::SendMessageResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto authorized = context_.authorize(*context, "SupervisorService.SendMessage", kSupervisors);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  const Caller& caller = std::get<Caller>(authorized);
  auto recipient = message_recipient(caller, request->to_agent(), request->to_all_agents(),
                                     "to_all_agents", request->text());
  if (auto* refusal = std::get_if<grpc::Status>(&recipient)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  const std::optional<core::AgentId> to = std::get<std::optional<core::AgentId>>(recipient);
  v1::ChatMessage message = chat_message(caller.user->name, "", request->text());
  message.set_to_agent(request->to_agent());
  message.set_to_all_agents(request->to_all_agents());
  hub_.send_message(caller.user->tenant, to.value_or(core::AgentId()), std::move(message),
                    [reactor, response](int delivered) {
                      response->set_delivered(delivered);
                      reactor->Finish(grpc::Status::OK);
                    });
  return reactor;
}

grpc::ServerWriteReactor<v1::ChatMessage>* SupervisorServiceImpl::WatchMessages(
    grpc::CallbackServerContext* context, const v1::WatchMessagesRequest*) {
  auto authorized = context_.authorize(*context, "SupervisorService.WatchMessages", kSupervisors);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized))
    return refused_stream<v1::ChatMessage>(*refusal);
  return hub_.watch_messages(std::get<Caller>(authorized).user->tenant);
}

}  // namespace acd::api

namespace acd::api {

grpc::ServerUnaryReactor* SupervisorServiceImpl::on_agent_call(grpc::CallbackServerContext* context,
                                                               std::string_view rpc,
                                                               const std::string& agent_name,
                                                               core::CallAction action,
                                                               const std::string* phone) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto resolved = resolve_agent(*context, rpc, agent_name);
  if (auto* refusal = std::get_if<grpc::Status>(&resolved)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  const auto& [caller, tenant, agent] = std::get<AgentTarget>(resolved);
  core::CallControl request;
  request.action = action;
  request.tenant = tenant->id;
  request.agent = agent;
  request.by_supervisor = true;
  request.requested_by = caller.user->name;
  if (phone != nullptr) {
    request.target = phone->empty() ? caller.user->agent_name : *phone;
    if (request.target.empty()) {
      reactor->Finish(invalid_field("phone",
                                    "required: the extension or name of the agent phone to ring "
                                    "(user " +
                                        caller.user->name + " works as no agent)"));
      return reactor;
    }
  }
  context_.log(ApiLogLevel::kInfo, "api.privileged",
               {{"rpc", std::string(rpc)},
                {"tenant", tenant->name},
                {"user", caller.user->name},
                {"agent", agent_name},
                {"phone", request.target}});
  send_call_control(context_, reactor, std::move(request), phone != nullptr ? "phone" : "");
  return reactor;
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::ListenIn(grpc::CallbackServerContext* context,
                                                          const v1::ListenInRequest* request,
                                                          v1::CallControlResponse*) {
  core::CallAction action = core::CallAction::kMonitor;
  switch (request->mode()) {
    case v1::LISTEN_MODE_MONITOR: action = core::CallAction::kMonitor; break;
    case v1::LISTEN_MODE_WHISPER: action = core::CallAction::kWhisper; break;
    case v1::LISTEN_MODE_BARGE: action = core::CallAction::kBarge; break;
    default: {
      grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
      auto authorized = context_.authorize(*context, "SupervisorService.ListenIn", kSupervisors);
      reactor->Finish(std::holds_alternative<grpc::Status>(authorized)
                          ? std::get<grpc::Status>(authorized)
                          : invalid_field("mode",
                                          "required: LISTEN_MODE_MONITOR, LISTEN_MODE_WHISPER or "
                                          "LISTEN_MODE_BARGE"));
      return reactor;
    }
  }
  return on_agent_call(context, "SupervisorService.ListenIn", request->agent(), action,
                       &request->phone());
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::Intercept(grpc::CallbackServerContext* context,
                                                           const v1::InterceptRequest* request,
                                                           v1::CallControlResponse*) {
  return on_agent_call(context, "SupervisorService.Intercept", request->agent(),
                       core::CallAction::kIntercept, &request->phone());
}

grpc::ServerUnaryReactor* SupervisorServiceImpl::ForceRelease(
    grpc::CallbackServerContext* context, const v1::ForceReleaseRequest* request,
    v1::CallControlResponse*) {
  return on_agent_call(context, "SupervisorService.ForceRelease", request->agent(),
                       core::CallAction::kHangUp, nullptr);
}

}  // namespace acd::api
