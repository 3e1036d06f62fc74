#include "engine/core/time.h"

namespace acd::core {

SteadyWallClock::SteadyWallClock()
    : steady_origin_(std::chrono::steady_clock::now()),
      wall_origin_(TimePoint(std::chrono::duration_cast<Duration>(
          std::chrono::system_clock::now().time_since_epoch()))) {}

TimePoint SteadyWallClock::now() const {
  return wall_origin_ +
         std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - steady_origin_);
}

}  // namespace acd::core
