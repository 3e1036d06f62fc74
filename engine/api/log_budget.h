// LogBudget: a token bucket for log lines an outsider can cause at will (the API's
// api.denied audit lines: anybody who reaches the port can send requests without a valid
// token). Within the budget every line is written; beyond it lines are dropped and
// counted, and the next line written first says how many were dropped, so the audit
// trail stays complete in number while the log cannot be flooded.
// Thread-safety: take() may be called from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace acd::api {

class LogBudget {
 public:
  using Clock = std::chrono::steady_clock;

  // `per_second` lines on average, bursts of up to `burst`.
  LogBudget(double per_second, double burst)
      : per_second_(per_second), burst_(burst), tokens_(burst) {}
  // A fresh budget of the same rate and burst (for handing one over before use).
  LogBudget(LogBudget&& other) noexcept : LogBudget(other.per_second_, other.burst_) {}
  LogBudget& operator=(LogBudget&&) = delete;

  // Whether a line may be written now: nullopt when it is to be dropped (counted), else
  // how many were dropped since the last line written (0 usually).
  std::optional<std::uint64_t> take(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (last_ != Clock::time_point{}) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed) * per_second_);
    }
    last_ = now;
    if (tokens_ < 1.0) {
      ++dropped_;
      return std::nullopt;
    }
    tokens_ -= 1.0;
    const std::uint64_t dropped = dropped_;
    dropped_ = 0;
    return dropped;
  }

 private:
  std::mutex mutex_;
  double per_second_;
  double burst_;
  double tokens_;
  Clock::time_point last_{};
  std::uint64_t dropped_ = 0;
};

}  // namespace acd::api
