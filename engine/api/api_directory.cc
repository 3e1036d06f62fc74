#include "engine/api/api_directory.h"

#include "engine/common/digest.h"

namespace acd::api {

const char* to_string(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kSupervisor: return "supervisor";
    case Role::kAgent: return "agent";
    case Role::kReadOnly: return "read-only";
  }
  return "?";
}

std::string Roles::to_string() const {
  std::string out;
  for (Role r : {Role::kAdmin, Role::kSupervisor, Role::kAgent, Role::kReadOnly}) {
    if (!has(r)) continue;
    if (!out.empty()) out += ',';
    out += api::to_string(r);
  }
  return out;
}

namespace {
template <typename Id>
std::optional<Id> find_name(const std::unordered_map<std::string, Id>& names,
                            std::string_view name) {
  auto it = names.find(std::string(name));
  if (it == names.end()) return std::nullopt;
  return it->second;
}
}  // namespace

std::optional<core::AgentId> ApiTenant::agent(std::string_view wanted) const {
  return find_name(agents, wanted);
}
std::optional<core::QueueId> ApiTenant::queue(std::string_view wanted) const {
  return find_name(queues, wanted);
}
std::optional<core::SkillId> ApiTenant::skill(std::string_view wanted) const {
  return find_name(skills, wanted);
}

const ApiTenant* ApiDirectory::tenant(core::TenantId id) const {
  for (const auto& t : tenants)
    if (t.id == id) return &t;
  return nullptr;
}

const char* to_string(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::kMissing: return "no bearer token";
    case AuthFailure::kMalformed: return "the authorization metadata is not \"Bearer <token>\"";
    case AuthFailure::kUnknown: return "unknown token";
    case AuthFailure::kExpired: return "the token has expired";
  }
  return "?";
}

std::variant<Principal, AuthFailure> authenticate(const ApiDirectory& directory,
                                                  std::optional<std::string_view> authorization,
                                                  ApiDirectory::WallTime now) {
  if (!authorization) return AuthFailure::kMissing;
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view value = *authorization;
  // The scheme is case-insensitive (RFC 7235 2.1); the token is everything after it.
  if (value.size() <= kScheme.size()) return AuthFailure::kMalformed;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = value[i];
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    const char want = kScheme[i] >= 'A' && kScheme[i] <= 'Z'
                          ? static_cast<char>(kScheme[i] - 'A' + 'a')
                          : kScheme[i];
    if (lower != want) return AuthFailure::kMalformed;
  }
  const std::string_view token = value.substr(kScheme.size());
  if (token.find_first_of(" \t\r\n") != std::string_view::npos) return AuthFailure::kMalformed;
  const auto it = directory.tokens.find(sha256_hex(token));
  if (it == directory.tokens.end()) return AuthFailure::kUnknown;
  if (it->second.expires && now >= *it->second.expires) return AuthFailure::kExpired;
  return Principal{&directory.users[it->second.user], it->second.name};
}

}  // namespace acd::api
