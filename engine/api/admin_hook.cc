#include "engine/api/admin_hook.h"

namespace acd::api {

const char* to_string(ConfigKind kind) {
  switch (kind) {
    case ConfigKind::kTenant: return "tenant";
    case ConfigKind::kSkill: return "skill";
    case ConfigKind::kTeam: return "team";
    case ConfigKind::kAgent: return "agent";
    case ConfigKind::kQueue: return "queue";
    case ConfigKind::kUser: return "user";
    case ConfigKind::kTrunk: return "trunk";
    case ConfigKind::kIvrMenu: return "ivr_menu";
    case ConfigKind::kPromptSet: return "prompt_set";
    case ConfigKind::kCalendar: return "calendar";
    case ConfigKind::kFlow: return "flow";
  }
  return "?";
}

}  // namespace acd::api
