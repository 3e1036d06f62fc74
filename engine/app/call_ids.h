// Call ids that stay unique across runs of the daemon, because the history in PostgreSQL
// is keyed by them (engine/store/records.h): the first call of a run gets
// (Unix seconds at start << 24) + 1 and later calls count up from there. A run would have
// to start 16.7 million calls per second of the previous run's lifetime to reach the
// next run's range. Thread-safety: a pure function.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace acd::app {

inline std::uint64_t first_call_id_of_run() {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  return (static_cast<std::uint64_t>(seconds) << 24) + 1;
}

// The next call id of this process: every source of calls (SIP, demo traffic) takes its
// ids here, so they never collide. Thread-safety: any thread.
inline std::uint64_t next_call_id() {
  static std::atomic<std::uint64_t> next{first_call_id_of_run()};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace acd::app
