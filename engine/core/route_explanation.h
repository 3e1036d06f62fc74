// A dry run of routing (RoutingCore::explain_route, `acdctl route explain`): what the
// router would do with a call or task of given attributes entering a queue now, step by
// step, which members each step admits and why not, and who would be offered it, in
// order. Nothing in the core changes. Plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/core/routing_core.h"

namespace acd::core {

struct RouteQuery {
  QueueId queue;
  // What the call comes with: caller, dialled number, priority, VIP level, extra skills and
  // attributes (language, IVR choices "ivr.<menu>", custom ones). Its id is not used.
  CallSpec call;
  std::optional<Channel> channel;  // set: a task of this channel instead of a call
  Duration waited{0};              // as if it had already waited this long in the queue
};

struct RouteExplanation {
  struct Step {
    Duration after{0};
    std::string rule;      // the target as written, or the skill rule in words
    bool current = false;  // the step a call that has waited `waited` is at
  };
  struct Member {
    AgentId agent;
    std::string name;
    int tier = 1;
    int penalty = 0;
    AgentState state = AgentState::kLoggedOut;
    bool free = false;  // could be offered it now (Ready; a call: no task in hand; a task: room)
    std::vector<bool> admitted;           // by step
    std::vector<std::string> refused_by;  // by step: why not ("agent.skill.billing >= 3 is
                                          // false", "lacks skill billing"); empty if admitted
    std::vector<double> order_keys;       // the ORDER BY values, as evaluated
    int rank = 0;         // 1-based place among those it would be offered to now; 0: none
    std::string not_now;  // why the agent is not a candidate now; empty when ranked
  };
  std::string queue_name;
  Strategy strategy = Strategy::kLongestIdle;
  bool by_rules = false;  // routing steps (QueueConfig::routing) rather than skills
  std::string order_by;
  int current_step = 0;
  std::vector<Step> steps;
  std::vector<Member> members;  // the queue's list order
  // Who would be offered it now, best first: one agent, or several for ring-all. Random
  // strategies draw among the first `random_group` candidates (equally good by ORDER BY,
  // tier and penalty); `chosen` then lists that group.
  std::vector<AgentId> chosen;
  int random_group = 0;
};

}  // namespace acd::core
