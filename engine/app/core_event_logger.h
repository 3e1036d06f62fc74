// CoreEventLogger: a CoreListener that logs every CoreEvent as one structured line, with
// tenant, agent, queue and team names resolved through the NameTable of the loaded
// configuration, e.g.
//   event=agent.state tenant=acme agent=alice from=Ready to=Reserved cause=router call=17
// Thread-safety: a CoreListener; set_names() and on_core_event() run on the core thread
// only (the constructor may run anywhere before the logger is registered).
#pragma once

#include <memory>

#include "engine/app/config.h"
#include "engine/app/core_listener.h"
#include "engine/app/name_table.h"

namespace acd::app {

class CoreEventLogger final : public CoreListener {
 public:
  explicit CoreEventLogger(std::shared_ptr<const NameTable> names, LogLevel level = LogLevel::kInfo)
      : names_(std::move(names)), level_(level) {}

  // After a reload: the new table (the registry's tables only grow, so names of entities
  // that were removed but still finish their work stay known).
  void set_names(std::shared_ptr<const NameTable> names) { names_ = std::move(names); }

  void on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) override;

 private:
  std::shared_ptr<const NameTable> names_;
  LogLevel level_;
};

}  // namespace acd::app
