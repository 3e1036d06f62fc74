// What routing rules may name, as the caller (the router, from the tenant's configuration)
// declares it. The compiler turns each name into its index in these lists ("slot"), and the
// caller fills EvalContext arrays in the same order. Thread-safety: a plain value.
#pragma once

#include <string>
#include <vector>

namespace acd::rules {

struct Schema {
  std::vector<std::string> skills;            // agent.skill.<skill>
  std::vector<std::string> queues;            // queue.<queue>.<figure>
  std::vector<std::string> calendars;         // open('<calendar>'), holiday('<calendar>')
  std::vector<std::string> task_attributes;   // task.attr.<key>
  std::vector<std::string> ivr_keys;          // task.ivr.<key>
  std::vector<std::string> agent_attributes;  // agent.attr.<key>
};

}  // namespace acd::rules
