// TaskService (proto/acd/v1/task_service.proto) on gRPC's callback API: non-voice tasks
// (chats, e-mails, SMS, web forms, callback requests) created by supervisors and admins,
// offered by the routing core to agents, and accepted, declined, completed or transferred
// by the agent (or by a supervisor on the agent's behalf). Each request is authenticated,
// its role checked (deny by default; refusals and privileged calls audited), its fields
// checked, and then runs as one command on the routing core's thread.
//
// Task ids are allocated here, counting from 1: unique within one run of the daemon (the
// records key tasks by run id and task id).
//
// Thread-safety: gRPC calls it from its own threads; the object outlives the server.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "acd/v1/task_service.grpc.pb.h"
#include "engine/api/api_context.h"

namespace acd::api {

class TaskServiceImpl final : public acd::v1::TaskService::CallbackService {
 public:
  explicit TaskServiceImpl(const ApiContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* CreateTask(grpc::CallbackServerContext* context,
                                       const acd::v1::CreateTaskRequest* request,
                                       acd::v1::Task* response) override;
  grpc::ServerUnaryReactor* GetTask(grpc::CallbackServerContext* context,
                                    const acd::v1::GetTaskRequest* request,
                                    acd::v1::Task* response) override;
  grpc::ServerUnaryReactor* ListTasks(grpc::CallbackServerContext* context,
                                      const acd::v1::ListTasksRequest* request,
                                      acd::v1::ListTasksResponse* response) override;
  grpc::ServerUnaryReactor* AcceptTask(grpc::CallbackServerContext* context,
                                       const acd::v1::AcceptTaskRequest* request,
                                       acd::v1::Task* response) override;
  grpc::ServerUnaryReactor* DeclineTask(grpc::CallbackServerContext* context,
                                        const acd::v1::DeclineTaskRequest* request,
                                        acd::v1::Task* response) override;
  grpc::ServerUnaryReactor* CompleteTask(grpc::CallbackServerContext* context,
                                         const acd::v1::CompleteTaskRequest* request,
                                         acd::v1::Task* response) override;
  grpc::ServerUnaryReactor* TransferTask(grpc::CallbackServerContext* context,
                                         const acd::v1::TransferTaskRequest* request,
                                         acd::v1::Task* response) override;
  grpc::ServerUnaryReactor* CancelTask(grpc::CallbackServerContext* context,
                                       const acd::v1::CancelTaskRequest* request,
                                       acd::v1::Task* response) override;

  // The next id CreateTask will give (for tests and diagnostics).
  [[nodiscard]] std::uint64_t next_task_id() const { return next_task_id_.load(); }

 private:
  // Who a task is seen by: the whole tenant (supervisor, admin, read-only), or only the
  // tasks offered to or accepted by one agent (a user with only the agent role).
  struct Viewer {
    Caller caller;
    core::TenantId tenant;
    std::optional<core::AgentId> only_agent;
  };
  std::variant<Viewer, grpc::Status> authorize_viewer(const grpc::CallbackServerContext& context,
                                                      std::string_view rpc) const;

  // The agent an agent's command acts for: the caller's own agent (`agent` empty or naming
  // it), or, for a supervisor or admin, the agent `agent` names (on_behalf).
  struct Actor {
    Caller caller;
    const ApiTenant* tenant = nullptr;
    core::AgentId agent;
    std::string agent_name;
    bool on_behalf = false;
  };
  std::variant<Actor, grpc::Status> authorize_actor(const grpc::CallbackServerContext& context,
                                                    std::string_view rpc,
                                                    const std::string& agent) const;

  // What an agent's command answers with: the task after it (still in the core), or the
  // task as it was before it, ended as completed.
  enum class After : std::uint8_t { kTaskNow, kCompleted };
  using TaskCommand = std::function<core::Status(core::RoutingCore&, core::TaskId, core::AgentId)>;
  // The prologue and the core step of AcceptTask, DeclineTask, CompleteTask and
  // TransferTask: `check` runs after the actor is known (request fields; nullopt: fine).
  using Check = std::function<std::optional<grpc::Status>(const Actor&)>;
  grpc::ServerUnaryReactor* on_task(grpc::CallbackServerContext* context, std::string_view rpc,
                                    std::int64_t task_id, const std::string& agent,
                                    acd::v1::Task* response, After after, TaskCommand command,
                                    Check check = {});

  const ApiContext& context_;
  std::atomic<std::uint64_t> next_task_id_{1};
};

}  // namespace acd::api
