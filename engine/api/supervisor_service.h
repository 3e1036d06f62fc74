// SupervisorService (proto/acd/v1/supervisor_service.proto) on gRPC's callback API: watches
// of the caller's tenant's queues and agents (StreamHub: a snapshot, then changes), the
// supervisor's commands on agents and calls, each one command on the routing core's
// thread with the cause "supervisor" and an audit line (api.privileged), and routing's
// dry run (ExplainRoute, a read on the core's thread).
// Thread-safety: gRPC calls it from its own threads; the object outlives the server.
#pragma once

#include "acd/v1/supervisor_service.grpc.pb.h"
#include "engine/api/api_context.h"
#include "engine/api/stream_hub.h"

namespace acd::api {

class SupervisorServiceImpl final : public acd::v1::SupervisorService::CallbackService {
 public:
  SupervisorServiceImpl(const ApiContext& context, StreamHub& hub) : context_(context), hub_(hub) {}

  grpc::ServerWriteReactor<acd::v1::QueueUpdate>* WatchQueues(
      grpc::CallbackServerContext* context, const acd::v1::WatchQueuesRequest* request) override;
  grpc::ServerWriteReactor<acd::v1::AgentUpdate>* WatchAgents(
      grpc::CallbackServerContext* context, const acd::v1::WatchAgentsRequest* request) override;
  grpc::ServerUnaryReactor* ListQueues(grpc::CallbackServerContext* context,
                                       const acd::v1::WatchQueuesRequest* request,
                                       acd::v1::QueueUpdate* response) override;
  grpc::ServerUnaryReactor* ListAgents(grpc::CallbackServerContext* context,
                                       const acd::v1::WatchAgentsRequest* request,
                                       acd::v1::AgentUpdate* response) override;
  grpc::ServerUnaryReactor* ForceReady(grpc::CallbackServerContext* context,
                                       const acd::v1::ForceReadyRequest* request,
                                       acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* ForceNotReady(grpc::CallbackServerContext* context,
                                          const acd::v1::ForceNotReadyRequest* request,
                                          acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* ForceLogout(grpc::CallbackServerContext* context,
                                        const acd::v1::ForceLogoutRequest* request,
                                        acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* SetAgentSkills(grpc::CallbackServerContext* context,
                                           const acd::v1::SetAgentSkillsRequest* request,
                                           acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* SetCallPriority(grpc::CallbackServerContext* context,
                                            const acd::v1::SetCallPriorityRequest* request,
                                            acd::v1::SetCallPriorityResponse* response) override;
  grpc::ServerUnaryReactor* SendMessage(grpc::CallbackServerContext* context,
                                        const acd::v1::SupervisorMessageRequest* request,
                                        acd::v1::SendMessageResponse* response) override;
  grpc::ServerWriteReactor<acd::v1::ChatMessage>* WatchMessages(
      grpc::CallbackServerContext* context, const acd::v1::WatchMessagesRequest* request) override;
  grpc::ServerUnaryReactor* ListenIn(grpc::CallbackServerContext* context,
                                     const acd::v1::ListenInRequest* request,
                                     acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* Intercept(grpc::CallbackServerContext* context,
                                      const acd::v1::InterceptRequest* request,
                                      acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* ForceRelease(grpc::CallbackServerContext* context,
                                         const acd::v1::ForceReleaseRequest* request,
                                         acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* ExplainRoute(grpc::CallbackServerContext* context,
                                         const acd::v1::ExplainRouteRequest* request,
                                         acd::v1::ExplainRouteResponse* response) override;

 private:
  // A command on one agent of the caller's tenant (named by the request's `agent` field):
  // supervisor or admin role, then `check` (request fields), then `command` on the core
  // thread; answers with the agent's state after it.
  // The prologue of every request on one agent: the supervisor or admin role, the
  // caller's tenant, and the agent named in the request's `agent` field (INVALID_ARGUMENT
  // when empty or not of that tenant).
  struct AgentTarget {
    Caller caller;
    const ApiTenant* tenant = nullptr;
    core::AgentId agent;
  };
  std::variant<AgentTarget, grpc::Status> resolve_agent(const grpc::CallbackServerContext& context,
                                                        std::string_view rpc,
                                                        const std::string& agent) const;
  using AgentCommand = std::function<core::Status(core::RoutingCore&, core::AgentId)>;
  using Check = std::function<std::optional<grpc::Status>(const Caller&, const ApiTenant&)>;
  grpc::ServerUnaryReactor* on_agent(grpc::CallbackServerContext* context, std::string_view rpc,
                                     const std::string& agent, acd::v1::AgentStatus* response,
                                     AgentCommand command, Check check = {});

  // Call control on the call an agent of the caller's tenant talks on (supervisor or admin
  // role; audited as api.privileged). `phone`: the supervisor's phone for ListenIn and
  // Intercept (empty: the phone of the agent the user works as); unused otherwise.
  grpc::ServerUnaryReactor* on_agent_call(grpc::CallbackServerContext* context,
                                          std::string_view rpc, const std::string& agent,
                                          core::CallAction action, const std::string* phone);

  const ApiContext& context_;
  StreamHub& hub_;
};

}  // namespace acd::api
