// NameTable: id -> name for every entity the process has ever configured, so logs can
// say `agent=alice queue=sales` instead of ids. Produced by NameRegistry after each
// successful load; immutable once built and shared by pointer. Thread-safety: immutable,
// any thread may read it.
#pragma once

#include <string>
#include <vector>

#include "engine/core/ids.h"

namespace acd::app {

class NameTable {
 public:
  // The name, or "#<id>" for an id the table does not know (or "-" for an invalid id).
  [[nodiscard]] std::string tenant(core::TenantId id) const { return lookup(tenants_, id.value); }
  [[nodiscard]] std::string skill(core::SkillId id) const { return lookup(skills_, id.value); }
  [[nodiscard]] std::string team(core::TeamId id) const { return lookup(teams_, id.value); }
  [[nodiscard]] std::string agent(core::AgentId id) const { return lookup(agents_, id.value); }
  [[nodiscard]] std::string queue(core::QueueId id) const { return lookup(queues_, id.value); }

 private:
  friend class NameRegistry;

  static std::string lookup(const std::vector<std::string>& names, std::uint32_t id) {
    if (id == core::AgentId::kInvalid) return "-";
    if (id < names.size()) return names[id];
    return "#" + std::to_string(id);
  }

  std::vector<std::string> tenants_;
  std::vector<std::string> skills_;
  std::vector<std::string> teams_;
  std::vector<std::string> agents_;
  std::vector<std::string> queues_;
};

}  // namespace acd::app
