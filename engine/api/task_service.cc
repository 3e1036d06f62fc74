#include "engine/api/task_service.h"

#include <exception>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "engine/api/answer_on_core.h"
#include "engine/api/convert.h"

namespace acd::api {

namespace v1 = acd::v1;

namespace {

// Who may do what (deny by default).
const Roles kManagers{Role::kSupervisor, Role::kAdmin};
const Roles kTenantViewers{Role::kSupervisor, Role::kAdmin, Role::kReadOnly};
const Roles kViewers{Role::kSupervisor, Role::kAdmin, Role::kReadOnly, Role::kAgent};
const Roles kWorkers{Role::kAgent, Role::kSupervisor, Role::kAdmin};

// Limits of a new task's fields.
constexpr std::size_t kMaxSubject = 1024;
constexpr std::size_t kMaxCustomer = 256;
constexpr int kDefaultListLimit = 1000;
constexpr int kMaxListLimit = 10000;

grpc::ServerUnaryReactor* refuse(grpc::CallbackServerContext* context, grpc::Status status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

std::optional<grpc::Status> check_task_id(std::int64_t id) {
  if (id <= 0) return invalid_field("task_id", "required: a task id (1 or more)");
  return std::nullopt;
}

// The same answer for a task that does not exist, belongs to another tenant, or is not
// the caller's to see: nothing tells them apart.
grpc::Status no_task(core::TaskId task) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND,
                      "task_id: no task " + std::to_string(task.value));
}

// The task `id` of `tenant` in the core, or nullopt when there is none (or it is another
// tenant's).
std::optional<core::TaskView> task_of(const core::RoutingCore& core, core::TaskId id,
                                      core::TenantId tenant) {
  auto view = core.task(id);
  if (!view || view->tenant != tenant) return std::nullopt;
  return view;
}

std::optional<grpc::Status> check_new_task(const v1::CreateTaskRequest& r) {
  if (!from_proto(r.channel()))
    return invalid_field("channel",
                         "required: CHANNEL_CHAT, CHANNEL_EMAIL, CHANNEL_SMS, CHANNEL_WEB_FORM or "
                         "CHANNEL_CALLBACK");
  if (r.queue().empty()) return invalid_field("queue", "required: a queue name");
  if (auto refusal = check_size("subject", r.subject(), kMaxSubject)) return refusal;
  if (auto refusal = check_size("customer", r.customer(), kMaxCustomer)) return refusal;
  if (auto refusal = check_priority(r.priority())) return refusal;
  if (auto refusal = check_vip_level(r.vip_level())) return refusal;
  if (auto refusal = check_attributes("attributes", r.attributes())) return refusal;
  return std::nullopt;
}

// A queue name of the tenant: the id (nullopt with `empty_ok` and no name), or a refusal
// naming `field`.
std::variant<std::optional<core::QueueId>, grpc::Status> queue_named(const ApiTenant& tenant,
                                                                     const std::string& name,
                                                                     std::string_view field,
                                                                     bool empty_ok) {
  if (name.empty()) {
    if (empty_ok) return std::optional<core::QueueId>();
    return invalid_field(field, "required: a queue name");
  }
  auto id = tenant.queue(name);
  if (!id) return invalid_field(field, "unknown queue \"" + name + "\" of tenant " + tenant.name);
  return id;
}

}  // namespace

// ---- Who the caller is ----

std::variant<TaskServiceImpl::Viewer, grpc::Status> TaskServiceImpl::authorize_viewer(
    const grpc::CallbackServerContext& context, std::string_view rpc) const {
  auto authorized = context_.authorize(context, rpc, kViewers);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return *refusal;
  Viewer viewer{std::move(std::get<Caller>(authorized)), core::TenantId{}, std::nullopt};
  const ApiUser& user = *viewer.caller.user;
  viewer.tenant = user.tenant;
  if (user.roles.intersects(kTenantViewers)) return viewer;
  // Only the agent role: the tasks of the user's own agent.
  if (!user.agent.valid()) {
    context_.log_denied({{"rpc", std::string(rpc)},
                         {"tenant", user.tenant_name},
                         {"user", user.name},
                         {"reason", "the user works as no agent"}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "user " + user.name + " works as no agent");
  }
  viewer.only_agent = user.agent;
  return viewer;
}

std::variant<TaskServiceImpl::Actor, grpc::Status> TaskServiceImpl::authorize_actor(
    const grpc::CallbackServerContext& context, std::string_view rpc,
    const std::string& agent) const {
  auto authorized = context_.authorize(context, rpc, kWorkers);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return *refusal;
  Actor actor;
  actor.caller = std::move(std::get<Caller>(authorized));
  const ApiUser& user = *actor.caller.user;
  actor.tenant = actor.caller.directory->tenant(user.tenant);
  if (actor.tenant == nullptr)
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "the caller's tenant is gone");
  const bool works_as_agent = user.roles.has(Role::kAgent) && user.agent.valid();
  const bool manages = user.roles.intersects(kManagers);
  auto denied = [&](const std::string& reason, const std::string& message) {
    context_.log_denied({{"rpc", std::string(rpc)},
                         {"tenant", user.tenant_name},
                         {"user", user.name},
                         {"agent", agent},
                         {"reason", reason}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, message);
  };
  // The caller's own session.
  if (works_as_agent && (agent.empty() || agent == user.agent_name)) {
    actor.agent = user.agent;
    actor.agent_name = user.agent_name;
    return actor;
  }
  if (!manages) {
    if (agent.empty())
      return denied("the user works as no agent", "user " + user.name + " works as no agent");
    return denied("acts for another agent", std::string(rpc) + " for agent " + agent +
                                                " needs the role supervisor or admin; user " +
                                                user.name + " has " + user.roles.to_string());
  }
  if (agent.empty())
    return invalid_field("agent",
                         "required: the agent acting (user " + user.name + " works as no agent)");
  const auto id = actor.tenant->agent(agent);
  // Another tenant's agent of the same name is as unknown as no agent at all.
  if (!id)
    return invalid_field("agent",
                         "unknown agent \"" + agent + "\" of tenant " + actor.tenant->name);
  actor.agent = *id;
  actor.agent_name = agent;
  actor.on_behalf = true;
  return actor;
}

// ---- Supervisors: create and cancel ----

grpc::ServerUnaryReactor* TaskServiceImpl::CreateTask(grpc::CallbackServerContext* context,
                                                      const v1::CreateTaskRequest* request,
                                                      v1::Task* response) {
  constexpr std::string_view kRpc = "TaskService.CreateTask";
  auto authorized = context_.authorize(*context, kRpc, kManagers);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return refuse(context, *refusal);
  const Caller& caller = std::get<Caller>(authorized);
  const ApiTenant* tenant = caller.directory->tenant(caller.user->tenant);
  if (tenant == nullptr)
    return refuse(context,
                  grpc::Status(grpc::StatusCode::NOT_FOUND, "the caller's tenant is gone"));
  if (auto refusal = check_new_task(*request)) return refuse(context, *refusal);
  auto queue = queue_named(*tenant, request->queue(), "queue", false);
  if (auto* refusal = std::get_if<grpc::Status>(&queue)) return refuse(context, *refusal);
  const core::QueueId queue_id = *std::get<std::optional<core::QueueId>>(queue);

  core::TaskSpec spec;
  spec.id = core::TaskId(next_task_id_.fetch_add(1));
  spec.tenant = tenant->id;
  spec.channel = *from_proto(request->channel());
  spec.subject = request->subject();
  spec.customer = request->customer();
  spec.priority = request->priority();
  spec.vip_level = request->vip_level();
  // Sorted by key: the same request gives the same task whatever the map's order.
  std::map<std::string, std::string> sorted(request->attributes().begin(),
                                            request->attributes().end());
  spec.attributes.assign(sorted.begin(), sorted.end());
  context_.log(ApiLogLevel::kInfo, "api.privileged",
               {{"rpc", std::string(kRpc)},
                {"tenant", tenant->name},
                {"user", caller.user->name},
                {"task", std::to_string(spec.id.value)},
                {"channel", core::to_string(spec.channel)},
                {"queue", request->queue()}});
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  answer_on_core(
      context_, reactor, [response, spec = std::move(spec), queue_id](core::RoutingCore& core) {
        const core::TaskId id = spec.id;
        if (const core::Status status = core.create_task(spec, queue_id); !status)
          return to_grpc(status);
        const auto view = core.task(id);
        if (!view)
          return grpc::Status(
              grpc::StatusCode::INTERNAL,
              "task " + std::to_string(id.value) + " is not in the engine after its creation");
        fill_task(core, *view, core.task_spec(id), *response);
        return grpc::Status::OK;
      });
  return reactor;
}

grpc::ServerUnaryReactor* TaskServiceImpl::CancelTask(grpc::CallbackServerContext* context,
                                                      const v1::CancelTaskRequest* request,
                                                      v1::Task* response) {
  constexpr std::string_view kRpc = "TaskService.CancelTask";
  auto authorized = context_.authorize(*context, kRpc, kManagers);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return refuse(context, *refusal);
  const Caller& caller = std::get<Caller>(authorized);
  if (auto refusal = check_task_id(request->task_id())) return refuse(context, *refusal);
  const core::TaskId task(static_cast<std::uint64_t>(request->task_id()));
  context_.log(ApiLogLevel::kInfo, "api.privileged",
               {{"rpc", std::string(kRpc)},
                {"tenant", caller.user->tenant_name},
                {"user", caller.user->name},
                {"task", std::to_string(task.value)}});
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  answer_on_core(context_, reactor,
                 [response, task, tenant = caller.user->tenant](core::RoutingCore& core) {
                   const auto view = task_of(core, task, tenant);
                   if (!view) return no_task(task);
                   // The answer describes the task as it was, ended (its spec is gone after).
                   fill_task(core, *view, core.task_spec(task), *response);
                   if (const core::Status status = core.cancel_task(task); !status)
                     return to_grpc(status);
                   response->set_phase(v1::TASK_PHASE_ENDED);
                   response->set_final_state(view->phase == core::TaskPhase::kAccepted
                                                 ? v1::TASK_FINAL_STATE_CANCELLED
                                                 : v1::TASK_FINAL_STATE_ABANDONED);
                   response->set_position(0);
                   return grpc::Status::OK;
                 });
  return reactor;
}

// ---- Reads ----

grpc::ServerUnaryReactor* TaskServiceImpl::GetTask(grpc::CallbackServerContext* context,
                                                   const v1::GetTaskRequest* request,
                                                   v1::Task* response) {
  auto authorized = authorize_viewer(*context, "TaskService.GetTask");
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return refuse(context, *refusal);
  const Viewer& viewer = std::get<Viewer>(authorized);
  if (auto refusal = check_task_id(request->task_id())) return refuse(context, *refusal);
  const core::TaskId task(static_cast<std::uint64_t>(request->task_id()));
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  answer_on_core(
      context_, reactor,
      [response, task, tenant = viewer.tenant, only = viewer.only_agent](core::RoutingCore& core) {
        const auto view = task_of(core, task, tenant);
        if (!view || (only && view->agent != *only)) return no_task(task);
        fill_task(core, *view, core.task_spec(task), *response);
        return grpc::Status::OK;
      });
  return reactor;
}

grpc::ServerUnaryReactor* TaskServiceImpl::ListTasks(grpc::CallbackServerContext* context,
                                                     const v1::ListTasksRequest* request,
                                                     v1::ListTasksResponse* response) {
  auto authorized = authorize_viewer(*context, "TaskService.ListTasks");
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return refuse(context, *refusal);
  const Viewer& viewer = std::get<Viewer>(authorized);
  const ApiTenant* tenant = viewer.caller.directory->tenant(viewer.tenant);
  if (tenant == nullptr)
    return refuse(context,
                  grpc::Status(grpc::StatusCode::NOT_FOUND, "the caller's tenant is gone"));
  auto queue = queue_named(*tenant, request->queue(), "queue", true);
  if (auto* refusal = std::get_if<grpc::Status>(&queue)) return refuse(context, *refusal);
  const std::optional<core::QueueId> only_queue = std::get<std::optional<core::QueueId>>(queue);
  std::optional<core::TaskPhase> only_phase;
  switch (request->phase()) {
    case v1::TASK_PHASE_UNSPECIFIED: break;
    case v1::TASK_PHASE_WAITING: only_phase = core::TaskPhase::kWaiting; break;
    case v1::TASK_PHASE_OFFERED: only_phase = core::TaskPhase::kOffered; break;
    case v1::TASK_PHASE_ACCEPTED: only_phase = core::TaskPhase::kAccepted; break;
    default:
      return refuse(context,
                    invalid_field("phase",
                                  "expected TASK_PHASE_WAITING, TASK_PHASE_OFFERED, "
                                  "TASK_PHASE_ACCEPTED or none (ended tasks are not listed)"));
  }
  if (request->limit() < 0 || request->limit() > kMaxListLimit)
    return refuse(context, invalid_field("limit", std::to_string(request->limit()) +
                                                      " out of range (expected 0..10000)"));
  const int limit = request->limit() == 0 ? kDefaultListLimit : request->limit();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  answer_on_core(context_, reactor,
                 [response, tenant = viewer.tenant, only_agent = viewer.only_agent, only_queue,
                  only_phase, limit](core::RoutingCore& core) {
                   int matched = 0;
                   for (const core::TaskView& view : core.tasks(tenant)) {
                     if (only_agent && view.agent != *only_agent) continue;
                     if (only_queue && view.queue != *only_queue) continue;
                     if (only_phase && view.phase != *only_phase) continue;
                     if (++matched <= limit)
                       fill_task(core, view, core.task_spec(view.id), *response->add_tasks());
                   }
                   response->set_matched(matched);
                   return grpc::Status::OK;
                 });
  return reactor;
}

// ---- The agent's commands ----

grpc::ServerUnaryReactor* TaskServiceImpl::on_task(grpc::CallbackServerContext* context,
                                                   std::string_view rpc, std::int64_t task_id,
                                                   const std::string& agent, v1::Task* response,
                                                   After after, TaskCommand command, Check check) {
  auto authorized = authorize_actor(*context, rpc, agent);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) return refuse(context, *refusal);
  const Actor& actor = std::get<Actor>(authorized);
  if (auto refusal = check_task_id(task_id)) return refuse(context, *refusal);
  if (check) {
    if (auto refusal = check(actor)) return refuse(context, *refusal);
  }
  const core::TaskId task(static_cast<std::uint64_t>(task_id));
  if (actor.on_behalf)
    context_.log(ApiLogLevel::kInfo, "api.privileged",
                 {{"rpc", std::string(rpc)},
                  {"tenant", actor.tenant->name},
                  {"user", actor.caller.user->name},
                  {"agent", actor.agent_name},
                  {"task", std::to_string(task.value)}});
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  answer_on_core(context_, reactor,
                 [response, task, after, tenant = actor.tenant->id, agent = actor.agent,
                  command = std::move(command)](core::RoutingCore& core) {
                   const auto before = task_of(core, task, tenant);
                   if (!before) return no_task(task);
                   // A completed task leaves the core: the answer is taken before.
                   if (after == After::kCompleted)
                     fill_task(core, *before, core.task_spec(task), *response);
                   if (const core::Status status = command(core, task, agent); !status)
                     return to_grpc(status);
                   if (after == After::kCompleted) {
                     response->set_phase(v1::TASK_PHASE_ENDED);
                     response->set_final_state(v1::TASK_FINAL_STATE_COMPLETED);
                     return grpc::Status::OK;
                   }
                   const auto now = core.task(task);
                   if (!now)
                     return grpc::Status(
                         grpc::StatusCode::INTERNAL,
                         "task " + std::to_string(task.value) + " left the engine unexpectedly");
                   fill_task(core, *now, core.task_spec(task), *response);
                   return grpc::Status::OK;
                 });
  return reactor;
}

grpc::ServerUnaryReactor* TaskServiceImpl::AcceptTask(grpc::CallbackServerContext* context,
                                                      const v1::AcceptTaskRequest* request,
                                                      v1::Task* response) {
  return on_task(context, "TaskService.AcceptTask", request->task_id(), request->agent(), response,
                 After::kTaskNow,
                 [](core::RoutingCore& core, core::TaskId task, core::AgentId agent) {
                   return core.accept_task(task, agent);
                 });
}

grpc::ServerUnaryReactor* TaskServiceImpl::DeclineTask(grpc::CallbackServerContext* context,
                                                       const v1::DeclineTaskRequest* request,
                                                       v1::Task* response) {
  return on_task(context, "TaskService.DeclineTask", request->task_id(), request->agent(), response,
                 After::kTaskNow,
                 [](core::RoutingCore& core, core::TaskId task, core::AgentId agent) {
                   return core.decline_task(task, agent);
                 });
}

grpc::ServerUnaryReactor* TaskServiceImpl::CompleteTask(grpc::CallbackServerContext* context,
                                                        const v1::CompleteTaskRequest* request,
                                                        v1::Task* response) {
  return on_task(context, "TaskService.CompleteTask", request->task_id(), request->agent(),
                 response, After::kCompleted,
                 [](core::RoutingCore& core, core::TaskId task, core::AgentId agent) {
                   return core.complete_task(task, agent);
                 });
}

grpc::ServerUnaryReactor* TaskServiceImpl::TransferTask(grpc::CallbackServerContext* context,
                                                        const v1::TransferTaskRequest* request,
                                                        v1::Task* response) {
  // Resolved by `check` once the caller's tenant is known, used by the command after.
  struct Target {
    core::QueueId queue;  // invalid: the task's current queue
    core::AgentId preferred;
  };
  auto target = std::make_shared<Target>();
  auto check = [request, target](const Actor& actor) -> std::optional<grpc::Status> {
    auto queue = queue_named(*actor.tenant, request->queue(), "queue", true);
    if (auto* refusal = std::get_if<grpc::Status>(&queue)) return *refusal;
    target->queue = std::get<std::optional<core::QueueId>>(queue).value_or(core::QueueId{});
    if (!request->preferred_agent().empty()) {
      const auto preferred = actor.tenant->agent(request->preferred_agent());
      if (!preferred)
        return invalid_field("preferred_agent", "unknown agent \"" + request->preferred_agent() +
                                                    "\" of tenant " + actor.tenant->name);
      target->preferred = *preferred;
    }
    return std::nullopt;
  };
  return on_task(
      context, "TaskService.TransferTask", request->task_id(), request->agent(), response,
      After::kTaskNow,
      [target](core::RoutingCore& core, core::TaskId task, core::AgentId agent) {
        return core.transfer_task(task, agent, target->queue, target->preferred);
      },
      check);
}

}  // namespace acd::api
