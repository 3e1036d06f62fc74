#include "engine/app/name_registry.h"

namespace acd::app {
namespace {
constexpr std::uint32_t kNoTenant = core::TenantId::kInvalid;
}  // namespace

std::uint32_t NameRegistry::Kind::assign(std::uint32_t tenant, std::string_view name) {
  auto key = std::make_pair(tenant, std::string(name));
  auto it = ids.find(key);
  if (it != ids.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(names.size());
  names.emplace_back(name);
  ids.emplace(std::move(key), id);
  return id;
}

std::optional<std::uint32_t> NameRegistry::Kind::find(std::uint32_t tenant,
                                                      std::string_view name) const {
  auto it = ids.find(std::make_pair(tenant, std::string(name)));
  if (it == ids.end()) return std::nullopt;
  return it->second;
}

core::TenantId NameRegistry::tenant(std::string_view name) {
  return core::TenantId(tenants_.assign(kNoTenant, name));
}
core::SkillId NameRegistry::skill(core::TenantId t, std::string_view name) {
  return core::SkillId(skills_.assign(t.value, name));
}
core::TeamId NameRegistry::team(core::TenantId t, std::string_view name) {
  return core::TeamId(teams_.assign(t.value, name));
}
core::AgentId NameRegistry::agent(core::TenantId t, std::string_view name) {
  return core::AgentId(agents_.assign(t.value, name));
}
core::QueueId NameRegistry::queue(core::TenantId t, std::string_view name) {
  return core::QueueId(queues_.assign(t.value, name));
}

std::optional<core::TenantId> NameRegistry::find_tenant(std::string_view name) const {
  auto id = tenants_.find(kNoTenant, name);
  if (!id) return std::nullopt;
  return core::TenantId(*id);
}
std::optional<core::AgentId> NameRegistry::find_agent(core::TenantId t,
                                                      std::string_view name) const {
  auto id = agents_.find(t.value, name);
  if (!id) return std::nullopt;
  return core::AgentId(*id);
}
std::optional<core::QueueId> NameRegistry::find_queue(core::TenantId t,
                                                      std::string_view name) const {
  auto id = queues_.find(t.value, name);
  if (!id) return std::nullopt;
  return core::QueueId(*id);
}

std::shared_ptr<const NameTable> NameRegistry::table() const {
  auto table = std::make_shared<NameTable>();
  table->tenants_ = tenants_.names;
  table->skills_ = skills_.names;
  table->teams_ = teams_.names;
  table->agents_ = agents_.names;
  table->queues_ = queues_.names;
  return table;
}

}  // namespace acd::app
