// Strongly typed identifiers for the routing core.
//
// Every entity (tenant, agent, team, skill, queue) has a dense 32-bit id assigned by the
// configuration layer; calls have a 64-bit id assigned by whoever creates them (the SIP
// adapter, a test, the demo driver). Distinct types stop an AgentId being passed where a
// QueueId is expected. Thread-safety: plain values.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

namespace acd::core {

template <class Tag, class Rep = std::uint32_t>
struct Id {
  static constexpr Rep kInvalid = std::numeric_limits<Rep>::max();
  Rep value = kInvalid;

  constexpr Id() = default;
  constexpr explicit Id(Rep v) : value(v) {}
  [[nodiscard]] constexpr bool valid() const { return value != kInvalid; }
  constexpr auto operator<=>(const Id&) const = default;
};

using TenantId = Id<struct TenantTag>;
using AgentId = Id<struct AgentTag>;
using TeamId = Id<struct TeamTag>;
using SkillId = Id<struct SkillTag>;
using QueueId = Id<struct QueueTag>;
using CallId = Id<struct CallTag, std::uint64_t>;
using TaskId = Id<struct TaskTag, std::uint64_t>;

// Interned not-ready reason code ("break", "lunch", "no-answer", ...).
using ReasonId = Id<struct ReasonTag, std::uint16_t>;

}  // namespace acd::core

template <class Tag, class Rep>
struct std::hash<acd::core::Id<Tag, Rep>> {
  std::size_t operator()(const acd::core::Id<Tag, Rep>& id) const noexcept {
    return std::hash<Rep>{}(id.value);
  }
};
