// CoreListener: receives the routing core's events on the core thread (see CoreThread).
//
// Called synchronously, in order, while the core is in the middle of the command or timer
// that caused the event. A listener must be cheap and must not block (it holds up all
// routing); it may read the core through its const accessors (e.g. reason_name) but must
// not issue commands from on_core_event: submit them to the CoreThread instead, and they
// run after the current one. Thread-safety: called only on the core thread.
#pragma once

#include "engine/core/events.h"

namespace acd::core {
class RoutingCore;
}

namespace acd::app {

class CoreListener {
 public:
  virtual ~CoreListener() = default;
  virtual void on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) = 0;
};

}  // namespace acd::app
