// Helpers for the flow tests: compile a script or fail the test, run it to its first step.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <variant>

#include "engine/flows/flow.h"

namespace acd::flows::testing {

inline FlowScript compiled(const std::string& source) {
  auto result = FlowScript::compile("flow.lua", source);
  if (auto* error = std::get_if<FlowCompileError>(&result)) FAIL(error->message);
  return std::get<FlowScript>(std::move(result));
}

inline FlowConfig small_config() {
  FlowConfig config;
  config.instruction_limit = 100'000;
  config.memory_limit = 1024 * 1024;
  config.fallback = QueueDecision{"fallback"};
  return config;
}

// Runs `source` from its start and returns the outcome it must reach without requests.
inline FlowOutcome run_to_end(const std::string& source, FlowConfig config = small_config()) {
  FlowRun run(compiled(source), FlowCall{"+15551230000", "800", {}}, config);
  FlowStep step = run.start();
  REQUIRE(std::holds_alternative<FlowOutcome>(step));
  REQUIRE(run.memory_used() == 0);  // the state was freed when the run ended
  return std::get<FlowOutcome>(step);
}

// The error a script ends with; it must have ended in the fallback.
inline std::string failure_of(const std::string& source, FlowConfig config = small_config()) {
  FlowOutcome outcome = run_to_end(source, config);
  REQUIRE(outcome.fallback);
  REQUIRE(outcome.decision == FlowDecision{QueueDecision{"fallback"}});
  return outcome.error;
}

}  // namespace acd::flows::testing
