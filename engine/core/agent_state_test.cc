#include "engine/core/agent_state.h"

#include <catch2/catch.hpp>

using namespace acd::core;

TEST_CASE("agent state names are distinct", "[agent_state]") {
  for (int i = 0; i < kAgentStateCount; ++i)
    for (int j = i + 1; j < kAgentStateCount; ++j)
      CHECK(std::string(to_string(static_cast<AgentState>(i))) !=
            to_string(static_cast<AgentState>(j)));
}

TEST_CASE("transition table: a logged-out agent can only log in", "[agent_state]") {
  for (int i = 0; i < kAgentStateCount; ++i) {
    const auto to = static_cast<AgentState>(i);
    CHECK(transition_exists(AgentState::kLoggedOut, to) ==
          (to == AgentState::kNotReady || to == AgentState::kReady));
  }
}

TEST_CASE("transition table: talking never goes straight back to reserved", "[agent_state]") {
  CHECK_FALSE(transition_exists(AgentState::kTalking, AgentState::kReserved));
  CHECK_FALSE(transition_exists(AgentState::kWrapUp, AgentState::kTalking));
  CHECK(transition_exists(AgentState::kTalking, AgentState::kHeld));
  CHECK(transition_exists(AgentState::kHeld, AgentState::kTalking));
  CHECK(transition_exists(AgentState::kReserved, AgentState::kRinging));
}
