// AgentService (proto/acd/v1/agent_service.proto) on gRPC's callback API: each call is
// authenticated (agent role, a user bound to an agent), then runs as one command on the
// routing core's thread, which answers the call with the agent's state after it.
// Thread-safety: gRPC calls it from its own threads; the object outlives the server.
#pragma once

#include "acd/v1/agent_service.grpc.pb.h"
#include "engine/api/api_context.h"
#include "engine/api/stream_hub.h"

namespace acd::api {

class AgentServiceImpl final : public acd::v1::AgentService::CallbackService {
 public:
  AgentServiceImpl(const ApiContext& context, StreamHub& hub) : context_(context), hub_(hub) {}

  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* context,
                                  const acd::v1::LoginRequest* request,
                                  acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* Logout(grpc::CallbackServerContext* context,
                                   const acd::v1::LogoutRequest* request,
                                   acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* SetReady(grpc::CallbackServerContext* context,
                                     const acd::v1::SetReadyRequest* request,
                                     acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* SetNotReady(grpc::CallbackServerContext* context,
                                        const acd::v1::SetNotReadyRequest* request,
                                        acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* EndWrapUp(grpc::CallbackServerContext* context,
                                      const acd::v1::EndWrapUpRequest* request,
                                      acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* SetWorkMode(grpc::CallbackServerContext* context,
                                        const acd::v1::SetWorkModeRequest* request,
                                        acd::v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const acd::v1::GetStatusRequest* request,
                                      acd::v1::AgentStatus* response) override;
  grpc::ServerWriteReactor<acd::v1::AgentEvent>* StreamEvents(
      grpc::CallbackServerContext* context, const acd::v1::StreamEventsRequest* request) override;
  grpc::ServerUnaryReactor* SendMessage(grpc::CallbackServerContext* context,
                                        const acd::v1::AgentMessageRequest* request,
                                        acd::v1::SendMessageResponse* response) override;
  grpc::ServerUnaryReactor* Hold(grpc::CallbackServerContext* context,
                                 const acd::v1::HoldRequest* request,
                                 acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* Retrieve(grpc::CallbackServerContext* context,
                                     const acd::v1::RetrieveRequest* request,
                                     acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* Transfer(grpc::CallbackServerContext* context,
                                     const acd::v1::TransferRequest* request,
                                     acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* HangUp(grpc::CallbackServerContext* context,
                                   const acd::v1::HangUpRequest* request,
                                   acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* SetRecordingPaused(grpc::CallbackServerContext* context,
                                               const acd::v1::SetRecordingPausedRequest* request,
                                               acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* Consult(grpc::CallbackServerContext* context,
                                    const acd::v1::ConsultRequest* request,
                                    acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* CompleteTransfer(grpc::CallbackServerContext* context,
                                             const acd::v1::CompleteTransferRequest* request,
                                             acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* Conference(grpc::CallbackServerContext* context,
                                       const acd::v1::ConferenceRequest* request,
                                       acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* CancelConsult(grpc::CallbackServerContext* context,
                                          const acd::v1::CancelConsultRequest* request,
                                          acd::v1::CallControlResponse* response) override;
  grpc::ServerUnaryReactor* Dial(grpc::CallbackServerContext* context,
                                 const acd::v1::DialRequest* request,
                                 acd::v1::CallControlResponse* response) override;

 private:
  // Authentication, the agent role and a user bound to an agent (refusals audited).
  std::variant<Caller, grpc::Status> authorize_agent(const grpc::CallbackServerContext& context,
                                                     std::string_view rpc) const;
  // The command for the caller's agent, run on the core thread; `check` runs first, on
  // the gRPC thread (it reads only the request and the caller): nullopt lets the command
  // run, a status refuses the call.
  using Command = std::function<core::Status(core::RoutingCore&, core::AgentId)>;
  using Check = std::function<std::optional<grpc::Status>(const Caller&)>;
  grpc::ServerUnaryReactor* run(grpc::CallbackServerContext* context, std::string_view rpc,
                                acd::v1::AgentStatus* response, Command command, Check check = {});
  // Call control on the caller's agent's call: `prepare` (on the gRPC thread) fills in the
  // request's target and may refuse; `target_field` names the field of that target.
  using Prepare = std::function<std::optional<grpc::Status>(const Caller&, core::CallControl&)>;
  grpc::ServerUnaryReactor* control(grpc::CallbackServerContext* context, std::string_view rpc,
                                    core::CallAction action, Prepare prepare = {},
                                    std::string target_field = {});

  const ApiContext& context_;
  StreamHub& hub_;
};

}  // namespace acd::api
