// AdminService (proto/acd/v1/admin_service.proto) on gRPC's callback API: the configuration
// of the caller's tenant in the database. Every RPC is allowed to the admin role only
// (ApiContext::authorize); the request's fields are checked here (INVALID_ARGUMENT naming
// the field), then it is handed, confined to the caller's tenant, to the host's admin hook
// (admin_hook.h: the daemon's worker thread, which reads, validates and writes the
// database), and the call is finished from the hook's answer. Nothing here waits: gRPC's
// thread returns at once, and the core thread is not involved (the engine applies a change
// when the database notifies it). Each change written, and each reload, is logged for
// audit (event=api.privileged with the RPC, tenant, user and the changes); a document
// naming another tenant is logged as refused (event=api.denied).
// Thread-safety: gRPC calls it from its own threads; the object outlives the server.
#pragma once

#include <optional>

#include "acd/v1/admin_service.grpc.pb.h"
#include "engine/api/admin_hook.h"
#include "engine/api/api_context.h"

namespace acd::api {

// acd.v1.EntityKind <-> ConfigKind; nullopt for ENTITY_KIND_UNSPECIFIED and unknown values.
std::optional<ConfigKind> from_proto(acd::v1::EntityKind kind);
acd::v1::EntityKind to_proto(ConfigKind kind);

class AdminServiceImpl final : public acd::v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(const ApiContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* ExportConfig(grpc::CallbackServerContext* context,
                                         const acd::v1::ExportConfigRequest* request,
                                         acd::v1::ExportConfigResponse* response) override;
  grpc::ServerUnaryReactor* DiffConfig(grpc::CallbackServerContext* context,
                                       const acd::v1::DiffConfigRequest* request,
                                       acd::v1::ConfigChanges* response) override;
  grpc::ServerUnaryReactor* ApplyConfig(grpc::CallbackServerContext* context,
                                        const acd::v1::ApplyConfigRequest* request,
                                        acd::v1::ConfigChanges* response) override;
  grpc::ServerUnaryReactor* ListEntities(grpc::CallbackServerContext* context,
                                         const acd::v1::ListEntitiesRequest* request,
                                         acd::v1::ListEntitiesResponse* response) override;
  grpc::ServerUnaryReactor* GetEntity(grpc::CallbackServerContext* context,
                                      const acd::v1::GetEntityRequest* request,
                                      acd::v1::ConfigEntity* response) override;
  grpc::ServerUnaryReactor* PutEntity(grpc::CallbackServerContext* context,
                                      const acd::v1::PutEntityRequest* request,
                                      acd::v1::ConfigChanges* response) override;
  grpc::ServerUnaryReactor* DeleteEntity(grpc::CallbackServerContext* context,
                                         const acd::v1::DeleteEntityRequest* request,
                                         acd::v1::ConfigChanges* response) override;
  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const acd::v1::ReloadRequest* request,
                                   acd::v1::ReloadResponse* response) override;

 private:
  // Fills a response from the hook's successful result (on the hook's thread).
  using Fill = std::function<void(AdminResult&)>;
  // Checks the field values of a request (after authorization); a refusal, or nothing.
  using Check = std::function<std::optional<grpc::Status>()>;
  // The admin role, then `check`, then `request` (its tenant set to the caller's) to the
  // hook; finishes with `fill`ed response or the hook's refusal. `entity` names what an
  // entity RPC is about in audit lines ("agent zoe"; empty for whole documents).
  grpc::ServerUnaryReactor* run(grpc::CallbackServerContext* context, std::string_view rpc,
                                AdminRequest request, Check check, Fill fill,
                                std::string entity = {});

  const ApiContext& context_;
};

}  // namespace acd::api
