// NameRegistry: the names in the configuration file -> the dense ids the routing core
// wants. Tenants are keyed by name; skills, teams, agents and queues by (tenant, name),
// since names are unique only within a tenant while ids are global. An id, once given,
// stays with its name for the life of the process, so a reload that keeps "alice" keeps
// her id (and her live state in the core); new names get the next free id; ids of removed
// names are never reused. Ids are assigned in the order names are first seen (file order).
// Thread-safety: none; the daemon keeps one registry and uses it only on the thread that
// loads configuration files (loads work on a copy and commit it only when valid).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/app/name_table.h"
#include "engine/core/ids.h"

namespace acd::app {

class NameRegistry {
 public:
  // Find or assign.
  core::TenantId tenant(std::string_view name);
  core::SkillId skill(core::TenantId tenant, std::string_view name);
  core::TeamId team(core::TenantId tenant, std::string_view name);
  core::AgentId agent(core::TenantId tenant, std::string_view name);
  core::QueueId queue(core::TenantId tenant, std::string_view name);

  // Find only.
  [[nodiscard]] std::optional<core::TenantId> find_tenant(std::string_view name) const;
  [[nodiscard]] std::optional<core::AgentId> find_agent(core::TenantId tenant,
                                                        std::string_view name) const;
  [[nodiscard]] std::optional<core::QueueId> find_queue(core::TenantId tenant,
                                                        std::string_view name) const;

  // Every name registered so far, by id.
  [[nodiscard]] std::shared_ptr<const NameTable> table() const;

 private:
  struct Kind {
    std::map<std::pair<std::uint32_t, std::string>, std::uint32_t, std::less<>> ids;
    std::vector<std::string> names;  // by id

    std::uint32_t assign(std::uint32_t tenant, std::string_view name);
    [[nodiscard]] std::optional<std::uint32_t> find(std::uint32_t tenant,
                                                    std::string_view name) const;
  };

  Kind tenants_;
  Kind skills_;
  Kind teams_;
  Kind agents_;
  Kind queues_;
};

}  // namespace acd::app
