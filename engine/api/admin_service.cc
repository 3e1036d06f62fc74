#include "engine/api/admin_service.h"

#include <exception>
#include <utility>

namespace acd::api {

namespace v1 = acd::v1;

namespace {

const Roles kAdmins{Role::kAdmin};
// The most characters of the change lines an audit line carries.
constexpr std::size_t kMaxAuditText = 2000;

grpc::Status to_status(const AdminResult& result) {
  using Code = AdminResult::Code;
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (result.code) {
    case Code::kOk: return grpc::Status::OK;
    case Code::kInvalid: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case Code::kForbidden: code = grpc::StatusCode::PERMISSION_DENIED; break;
    case Code::kNotFound: code = grpc::StatusCode::NOT_FOUND; break;
    case Code::kReferenced: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    case Code::kConflict: code = grpc::StatusCode::ABORTED; break;
    case Code::kUnavailable: code = grpc::StatusCode::UNAVAILABLE; break;
    case Code::kFailed: code = grpc::StatusCode::INTERNAL; break;
  }
  return grpc::Status(code, result.error);
}

void fill_changes(AdminResult& result, v1::ConfigChanges& out) {
  for (auto& line : result.changes) out.add_changes(std::move(line));
  out.set_applied(result.applied);
  out.set_rows_written(result.rows_written);
  for (auto& w : result.warnings) out.add_warnings(std::move(w));
}

// The change lines for an audit line, cut at kMaxAuditText.
std::string audit_text(const std::vector<std::string>& changes) {
  std::string out;
  for (const auto& line : changes) {
    if (!out.empty()) out += " | ";
    out += line;
    if (out.size() > kMaxAuditText) {
      out.resize(kMaxAuditText);
      out += "...";
      break;
    }
  }
  return out;
}

std::optional<grpc::Status> required_kind(v1::EntityKind kind, bool tenant_allowed) {
  const auto parsed = from_proto(kind);
  if (!parsed)
    return invalid_field("kind", kind == v1::ENTITY_KIND_UNSPECIFIED
                                     ? "required: the kind of entity (ENTITY_KIND_AGENT, ...)"
                                     : "unknown kind " + std::to_string(static_cast<int>(kind)));
  if (!tenant_allowed && *parsed == ConfigKind::kTenant)
    return invalid_field("kind",
                         "ENTITY_KIND_TENANT cannot be deleted; expected the kind of one of "
                         "the tenant's entities");
  return std::nullopt;
}

std::optional<grpc::Status> required_yaml(const std::string& yaml, std::string_view what) {
  if (yaml.find_first_not_of(" \t\r\n") == std::string::npos)
    return invalid_field("yaml", "required: " + std::string(what));
  return std::nullopt;
}

}  // namespace

std::optional<ConfigKind> from_proto(v1::EntityKind kind) {
  switch (kind) {
    case v1::ENTITY_KIND_TENANT: return ConfigKind::kTenant;
    case v1::ENTITY_KIND_SKILL: return ConfigKind::kSkill;
    case v1::ENTITY_KIND_TEAM: return ConfigKind::kTeam;
    case v1::ENTITY_KIND_AGENT: return ConfigKind::kAgent;
    case v1::ENTITY_KIND_QUEUE: return ConfigKind::kQueue;
    case v1::ENTITY_KIND_USER: return ConfigKind::kUser;
    case v1::ENTITY_KIND_TRUNK: return ConfigKind::kTrunk;
    case v1::ENTITY_KIND_IVR_MENU: return ConfigKind::kIvrMenu;
    case v1::ENTITY_KIND_PROMPT_SET: return ConfigKind::kPromptSet;
    case v1::ENTITY_KIND_CALENDAR: return ConfigKind::kCalendar;
    case v1::ENTITY_KIND_FLOW: return ConfigKind::kFlow;
    default: return std::nullopt;
  }
}

v1::EntityKind to_proto(ConfigKind kind) {
  switch (kind) {
    case ConfigKind::kTenant: return v1::ENTITY_KIND_TENANT;
    case ConfigKind::kSkill: return v1::ENTITY_KIND_SKILL;
    case ConfigKind::kTeam: return v1::ENTITY_KIND_TEAM;
    case ConfigKind::kAgent: return v1::ENTITY_KIND_AGENT;
    case ConfigKind::kQueue: return v1::ENTITY_KIND_QUEUE;
    case ConfigKind::kUser: return v1::ENTITY_KIND_USER;
    case ConfigKind::kTrunk: return v1::ENTITY_KIND_TRUNK;
    case ConfigKind::kIvrMenu: return v1::ENTITY_KIND_IVR_MENU;
    case ConfigKind::kPromptSet: return v1::ENTITY_KIND_PROMPT_SET;
    case ConfigKind::kCalendar: return v1::ENTITY_KIND_CALENDAR;
    case ConfigKind::kFlow: return v1::ENTITY_KIND_FLOW;
  }
  return v1::ENTITY_KIND_UNSPECIFIED;
}

grpc::ServerUnaryReactor* AdminServiceImpl::run(grpc::CallbackServerContext* context,
                                                std::string_view rpc, AdminRequest request,
                                                Check check, Fill fill, std::string entity) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto authorized = context_.authorize(*context, rpc, kAdmins);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) {
    reactor->Finish(*refusal);
    return reactor;
  }
  const Caller& caller = std::get<Caller>(authorized);
  if (check) {
    if (auto refusal = check()) {
      reactor->Finish(*refusal);
      return reactor;
    }
  }
  const AdminHook& hook = context_.hooks().admin;
  if (!hook) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "this engine has no configuration administration"));
    return reactor;
  }
  request.tenant = caller.user->tenant_name;
  const bool writes =
      (request.op == AdminRequest::Op::kApply || request.op == AdminRequest::Op::kPut ||
       request.op == AdminRequest::Op::kDelete) &&
      !request.dry_run;
  const bool reload = request.op == AdminRequest::Op::kReload;
  // The user's names are copied: the directory may be swapped before the answer comes.
  auto done = [reactor, fill = std::move(fill), context = &context_, rpc = std::string(rpc),
               tenant = request.tenant, user = caller.user->name, entity = std::move(entity),
               writes, reload](AdminResult result) {
    grpc::Status status;
    try {
      if (!result.ok()) {
        status = to_status(result);
        if (result.code == AdminResult::Code::kForbidden)
          context->log_denied(
              {{"rpc", rpc}, {"tenant", tenant}, {"user", user}, {"reason", result.error}});
      } else {
        if (writes && result.applied && entity.empty()) {
          context->log(ApiLogLevel::kInfo, "api.privileged",
                       {{"rpc", rpc},
                        {"tenant", tenant},
                        {"user", user},
                        {"changes", std::to_string(result.changes.size())},
                        {"rows", std::to_string(result.rows_written)},
                        {"changed", audit_text(result.changes)}});
        } else if (writes && result.applied) {
          // A put names its entity in its YAML: the worker says which it was.
          std::string what = entity;
          if (!result.entities.empty()) what += " " + result.entities.front().name;
          context->log(ApiLogLevel::kInfo, "api.privileged",
                       {{"rpc", rpc},
                        {"tenant", tenant},
                        {"user", user},
                        {"entity", what},
                        {"changes", std::to_string(result.changes.size())},
                        {"rows", std::to_string(result.rows_written)},
                        {"changed", audit_text(result.changes)}});
        }
        if (reload)
          context->log(ApiLogLevel::kInfo, "api.privileged",
                       {{"rpc", rpc}, {"tenant", tenant}, {"user", user}});
        fill(result);
      }
    } catch (const std::exception& e) {
      status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
    }
    reactor->Finish(status);
  };
  if (!hook(std::move(request), std::move(done)))
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "the configuration worker is busy or shutting down; try again"));
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::ExportConfig(grpc::CallbackServerContext* context,
                                                         const v1::ExportConfigRequest*,
                                                         v1::ExportConfigResponse* response) {
  AdminRequest request;
  request.op = AdminRequest::Op::kExport;
  return run(context, "AdminService.ExportConfig", std::move(request), {},
             [response](AdminResult& result) { response->set_yaml(std::move(result.yaml)); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::DiffConfig(grpc::CallbackServerContext* context,
                                                       const v1::DiffConfigRequest* request,
                                                       v1::ConfigChanges* response) {
  AdminRequest r;
  r.op = AdminRequest::Op::kDiff;
  r.yaml = request->yaml();
  return run(
      context, "AdminService.DiffConfig", std::move(r),
      [request] { return required_yaml(request->yaml(), "a tenants: document"); },
      [response](AdminResult& result) { fill_changes(result, *response); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ApplyConfig(grpc::CallbackServerContext* context,
                                                        const v1::ApplyConfigRequest* request,
                                                        v1::ConfigChanges* response) {
  AdminRequest r;
  r.op = AdminRequest::Op::kApply;
  r.yaml = request->yaml();
  r.dry_run = request->dry_run();
  return run(
      context, "AdminService.ApplyConfig", std::move(r),
      [request] { return required_yaml(request->yaml(), "a tenants: document"); },
      [response](AdminResult& result) { fill_changes(result, *response); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListEntities(grpc::CallbackServerContext* context,
                                                         const v1::ListEntitiesRequest* request,
                                                         v1::ListEntitiesResponse* response) {
  AdminRequest r;
  r.op = AdminRequest::Op::kList;
  r.kind = from_proto(request->kind()).value_or(ConfigKind::kTenant);
  const v1::EntityKind kind = request->kind();
  return run(
      context, "AdminService.ListEntities", std::move(r),
      [kind] { return required_kind(kind, true); },
      [response, kind](AdminResult& result) {
        for (auto& e : result.entities) {
          auto* out = response->add_entities();
          out->set_kind(kind);
          out->set_name(std::move(e.name));
          out->set_yaml(std::move(e.yaml));
        }
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetEntity(grpc::CallbackServerContext* context,
                                                      const v1::GetEntityRequest* request,
                                                      v1::ConfigEntity* response) {
  AdminRequest r;
  r.op = AdminRequest::Op::kGet;
  r.kind = from_proto(request->kind()).value_or(ConfigKind::kTenant);
  r.name = request->name();
  const v1::EntityKind kind = request->kind();
  return run(
      context, "AdminService.GetEntity", std::move(r),
      [request, kind]() -> std::optional<grpc::Status> {
        if (auto refusal = required_kind(kind, true)) return refusal;
        if (kind != v1::ENTITY_KIND_TENANT && request->name().empty())
          return invalid_field("name", "required: the entity's name");
        return std::nullopt;
      },
      [response, kind](AdminResult& result) {
        response->set_kind(kind);
        if (!result.entities.empty()) response->set_name(std::move(result.entities.front().name));
        response->set_yaml(std::move(result.yaml));
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::PutEntity(grpc::CallbackServerContext* context,
                                                      const v1::PutEntityRequest* request,
                                                      v1::ConfigChanges* response) {
  AdminRequest r;
  r.op = AdminRequest::Op::kPut;
  r.kind = from_proto(request->kind()).value_or(ConfigKind::kTenant);
  r.yaml = request->yaml();
  r.dry_run = request->dry_run();
  const v1::EntityKind kind = request->kind();
  return run(
      context, "AdminService.PutEntity", std::move(r),
      [request, kind]() -> std::optional<grpc::Status> {
        if (auto refusal = required_kind(kind, true)) return refusal;
        return required_yaml(request->yaml(), "the entity as a mapping with its name");
      },
      [response](AdminResult& result) { fill_changes(result, *response); },
      std::string(to_string(from_proto(kind).value_or(ConfigKind::kTenant))));
}

grpc::ServerUnaryReactor* AdminServiceImpl::DeleteEntity(grpc::CallbackServerContext* context,
                                                         const v1::DeleteEntityRequest* request,
                                                         v1::ConfigChanges* response) {
  AdminRequest r;
  r.op = AdminRequest::Op::kDelete;
  r.kind = from_proto(request->kind()).value_or(ConfigKind::kTenant);
  r.name = request->name();
  r.dry_run = request->dry_run();
  const v1::EntityKind kind = request->kind();
  return run(
      context, "AdminService.DeleteEntity", std::move(r),
      [request, kind]() -> std::optional<grpc::Status> {
        if (auto refusal = required_kind(kind, false)) return refusal;
        if (request->name().empty()) return invalid_field("name", "required: the entity's name");
        return std::nullopt;
      },
      [response](AdminResult& result) { fill_changes(result, *response); },
      std::string(to_string(from_proto(kind).value_or(ConfigKind::kTenant))) + " " +
          request->name());
}

grpc::ServerUnaryReactor* AdminServiceImpl::Reload(grpc::CallbackServerContext* context,
                                                   const v1::ReloadRequest*,
                                                   v1::ReloadResponse* response) {
  AdminRequest request;
  request.op = AdminRequest::Op::kReload;
  return run(context, "AdminService.Reload", std::move(request), {},
             [response](AdminResult& result) {
               response->set_message(std::move(result.message));
               response->set_agents(static_cast<std::uint32_t>(result.agents));
               response->set_queues(static_cast<std::uint32_t>(result.queues));
               response->set_skills(static_cast<std::uint32_t>(result.skills));
               response->set_users(static_cast<std::uint32_t>(result.users));
             });
}

}  // namespace acd::api
