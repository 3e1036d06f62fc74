// Time in the routing core.
//
// The core never reads a system clock: it asks an injected Clock. Time points are
// nanoseconds on the engine's timeline (the daemon anchors it to the Unix epoch at start
// and advances it monotonically; simulations start wherever they like). A test can run
// hours of traffic in milliseconds with ManualClock. Thread-safety: a Clock is used only
// from the thread that owns the core.
#pragma once

#include <chrono>
#include <cstdint>

namespace acd::core {

struct EngineClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<EngineClock>;
  static constexpr bool is_steady = true;
};

using Duration = EngineClock::duration;
using TimePoint = EngineClock::time_point;

constexpr TimePoint kNever = TimePoint::max();

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint now() const = 0;
};

// A clock that moves only when told to. Used by tests, the simulator and benchmarks.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : now_(start) {}
  [[nodiscard]] TimePoint now() const override { return now_; }
  void set(TimePoint t) { now_ = t; }
  void advance(Duration d) { now_ += d; }

 private:
  TimePoint now_;
};

// Monotonic clock anchored to wall time at construction: readings are Unix-epoch
// nanoseconds that never go backwards, even if the system clock is stepped.
class SteadyWallClock final : public Clock {
 public:
  SteadyWallClock();
  [[nodiscard]] TimePoint now() const override;

 private:
  std::chrono::steady_clock::time_point steady_origin_;
  TimePoint wall_origin_;
};

inline double to_seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace acd::core
