// EventRecorder (tests only): a CoreListener that keeps every event and lets a test
// thread wait, with a generous timeout, until some condition on them holds.
// Thread-safety: on_core_event on the core thread; the rest from any thread (a mutex).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "engine/app/core_listener.h"

namespace acd::app::testing {

class EventRecorder final : public CoreListener {
 public:
  void on_core_event(const core::CoreEvent& event, const core::RoutingCore&) override {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(event);
    }
    changed_.notify_all();
  }

  // True when `done(events)` became true before the timeout.
  bool wait_until(const std::function<bool(const std::vector<core::CoreEvent>&)>& done,
                  std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(events_); });
  }

  template <class E>
  std::size_t count() {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& e : events_) n += std::holds_alternative<E>(e) ? 1 : 0;
    return n;
  }

  std::vector<core::CoreEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<core::CoreEvent> events_;
};

}  // namespace acd::app::testing
