#include "engine/api/api_context.h"

#include <chrono>

#include "engine/api/convert.h"

namespace acd::api {

std::variant<Caller, grpc::Status> ApiContext::authorize(const grpc::CallbackServerContext& context,
                                                         std::string_view rpc,
                                                         Roles allowed) const {
  std::shared_ptr<const ApiDirectory> directory = directory_.load();
  std::optional<std::string_view> authorization;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end())
    authorization = std::string_view(it->second.data(), it->second.size());
  const auto result = authenticate(*directory, authorization, std::chrono::system_clock::now());
  if (const auto* failure = std::get_if<AuthFailure>(&result)) {
    log_denied(
        {{"rpc", std::string(rpc)}, {"peer", context.peer()}, {"reason", to_string(*failure)}});
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, to_string(*failure));
  }
  const Principal& principal = std::get<Principal>(result);
  const ApiUser& user = *principal.user;
  if (!user.roles.intersects(allowed)) {
    log_denied({{"rpc", std::string(rpc)},
                {"tenant", user.tenant_name},
                {"user", user.name},
                {"roles", user.roles.to_string()},
                {"reason", "role not allowed"}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        std::string(rpc) + " needs the role " + allowed.to_string() + "; user " +
                            user.name + " has " + user.roles.to_string());
  }
  return Caller{std::move(directory), &user, principal.token_name};
}

void ApiContext::log_denied(std::initializer_list<ApiLogField> fields) const {
  const auto budget = denied_budget_.take(LogBudget::Clock::now());
  if (!budget) return;
  if (*budget > 0)
    log(ApiLogLevel::kWarn, "api.denied_dropped",
        {{"count", std::to_string(*budget)},
         {"why", "more refusals than the audit log's budget (api.denied lines a second)"}});
  log(ApiLogLevel::kWarn, "api.denied", fields);
}

grpc::Status to_grpc(const core::Status& status) {
  using grpc::StatusCode;
  StatusCode code = StatusCode::UNKNOWN;
  switch (status.code()) {
    case core::ErrorCode::kOk: return grpc::Status::OK;
    case core::ErrorCode::kNotFound: code = StatusCode::NOT_FOUND; break;
    case core::ErrorCode::kInvalidArgument: code = StatusCode::INVALID_ARGUMENT; break;
    case core::ErrorCode::kInvalidState: code = StatusCode::FAILED_PRECONDITION; break;
    case core::ErrorCode::kLimitReached: code = StatusCode::RESOURCE_EXHAUSTED; break;
    case core::ErrorCode::kAlreadyExists: code = StatusCode::ALREADY_EXISTS; break;
    case core::ErrorCode::kPermissionDenied: code = StatusCode::PERMISSION_DENIED; break;
  }
  return grpc::Status(code, status.message());
}

std::variant<std::optional<core::AgentId>, grpc::Status> message_recipient(
    const Caller& caller, const std::string& to_agent, bool to_group, std::string_view group_field,
    const std::string& text) {
  if (to_agent.empty() == !to_group)
    return invalid_field("to_agent",
                         "give an agent name or " + std::string(group_field) + " (one of them)");
  std::optional<core::AgentId> to;
  if (!to_agent.empty()) {
    const ApiTenant* tenant = caller.directory->tenant(caller.user->tenant);
    to = tenant == nullptr ? std::nullopt : tenant->agent(to_agent);
    if (!to)
      return invalid_field(
          "to_agent", "unknown agent \"" + to_agent + "\" of tenant " + caller.user->tenant_name);
  }
  if (auto refusal = check_message_text(text)) return *refusal;
  return to;
}

grpc::Status invalid_field(std::string_view field, std::string_view problem) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      std::string(field) + ": " + std::string(problem));
}

}  // namespace acd::api
