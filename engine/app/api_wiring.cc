#include "engine/app/api_wiring.h"

#include <cstdio>
#include <ctime>
#include <vector>

#include "engine/app/logging.h"
#include "engine/app/sip_wiring.h"

namespace acd::app {
namespace {

api::Role to_api(UserRole role) {
  switch (role) {
    case UserRole::kAdmin: return api::Role::kAdmin;
    case UserRole::kSupervisor: return api::Role::kSupervisor;
    case UserRole::kAgent: return api::Role::kAgent;
    case UserRole::kReadOnly: return api::Role::kReadOnly;
  }
  return api::Role::kReadOnly;
}

// "YYYY-MM-DDTHH:MM:SSZ" (the loader's normal form) as a wall-clock time; nullopt: never
// (empty) or unreadable (the loader has checked it, so only empty in practice).
std::optional<api::ApiDirectory::WallTime> expiry_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::tm tm{};
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return api::ApiDirectory::WallTime{};  // unreadable: treated as long expired
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::shared_ptr<const api::ApiDirectory> make_api_directory(const DaemonConfig& config) {
  auto directory = std::make_shared<api::ApiDirectory>();
  for (const auto& tenant : config.tenants) {
    directory->tenants.push_back({tenant.id, tenant.name, tenant.not_ready_reasons});
    for (const auto& user : tenant.users) {
      api::ApiUser u;
      u.tenant = tenant.id;
      u.tenant_name = tenant.name;
      u.name = user.name;
      for (UserRole role : user.roles) u.roles.add(to_api(role));
      if (!user.agent.empty()) {
        for (const auto& agent : config.domain.agents) {
          if (agent.tenant == tenant.id && agent.name == user.agent) {
            u.agent = agent.id;
            u.agent_name = agent.name;
          }
        }
      }
      const std::size_t index = directory->users.size();
      directory->users.push_back(std::move(u));
      for (const auto& token : user.tokens)
        directory->tokens.emplace(
            token.sha256, api::ApiDirectory::Token{index, token.name, expiry_of(token.expires_at)});
    }
  }
  return directory;
}

decltype(api::ApiHooks::log) make_api_logger() {
  // Values come from clients too (the peer address): cut as the SIP side's are.
  return [](api::ApiLogLevel level, std::string_view event,
            std::initializer_list<api::ApiLogField> fields) { log_capped(level, event, fields); };
}

}  // namespace acd::app
