// CoreThread: the one thread that owns the RoutingCore (the state owner of the daemon).
//
// Other threads hand it commands through a lock-free multi-producer queue
// (moodycamel::ConcurrentQueue). The thread runs an asio::io_context; a producer enqueues
// and then, only if no wake-up is already pending (an atomic flag), posts one drain to the
// io_context, so an idle core thread sleeps in the io_context and nothing is polled.
// Commands from one producer thread run in the order that thread submitted them; commands
// of different threads interleave in no particular order.
//
// The core's next timer deadline is armed on one asio::steady_timer (the core's
// TimePoint comes from a SteadyWallClock, i.e. from steady_clock, so steady time maps to
// it exactly); after each drain or timer run the deadline is re-armed. Events the core
// emits go to the registered CoreListeners, on this thread (see core_listener.h: they
// must be cheap). After state changes the thread publishes an immutable CoreSnapshot,
// coalesced to at most one per snapshot_interval by a timer, and refreshed once per
// interval while calls are in the system (their waiting times age). Readers on any
// thread get it with latest_snapshot(): a shared pointer to an immutable value, no copy
// and no waiting on the core.
//
// Thread-safety: submit(), submit_and_wait(), latest_snapshot(), add_listener(),
// remove_listener() and on_core_thread() may be called from any thread; start() and stop()
// from one controlling thread (not from the core thread). io_context() is for drivers
// that live on the core thread (their handlers run on it).
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/app/core_listener.h"
#include "engine/app/unique_function.h"
#include "engine/core/random.h"
#include "engine/core/routing_core.h"
#include "engine/core/snapshot.h"
#include "engine/core/status.h"
#include "engine/core/time.h"

namespace acd::app {

class CoreThread {
 public:
  using Command = UniqueFunction<void(core::RoutingCore&)>;
  using Query = UniqueFunction<core::Status(core::RoutingCore&)>;

  struct Options {
    core::Duration snapshot_interval = std::chrono::milliseconds(500);
    std::uint64_t random_seed = 0;  // 0: from the clock
    std::size_t batch_limit = 256;  // commands per drain before timers get a turn
    // 1-99: the thread runs under SCHED_FIFO at this priority, so that nothing of lower
    // priority (the store's threads, PostgreSQL, other processes) preempts routing; it
    // needs CAP_SYS_NICE (root, or the systemd unit's AmbientCapabilities). 0: normal.
    int realtime_priority = 0;
  };

  explicit CoreThread(Options options);
  ~CoreThread();  // stops the thread if it runs
  CoreThread(const CoreThread&) = delete;
  CoreThread& operator=(const CoreThread&) = delete;

  void start();
  // Refuses new commands, runs every command already submitted, publishes a last
  // snapshot and joins the thread. Idempotent.
  void stop();

  // Queues a command; false (and the command is dropped) once stop() has begun.
  bool submit(Command command);
  // Queues a query and returns its Status through a future. Never wait on the future
  // from the core thread itself (it would wait for itself).
  std::future<core::Status> submit_and_wait(Query query);

  // The last published snapshot; never null (one is published at construction).
  [[nodiscard]] std::shared_ptr<const core::CoreSnapshot> latest_snapshot() const;

  // Take effect in order with the caller's other commands. A listener must stay alive
  // until the future returned by remove_listener is ready (or the thread has stopped).
  void add_listener(CoreListener* listener);
  std::future<core::Status> remove_listener(CoreListener* listener);

  boost::asio::io_context& io_context() { return io_; }
  [[nodiscard]] bool on_core_thread() const;

 private:
  class Observer final : public core::CoreObserver {
   public:
    explicit Observer(CoreThread& owner) : owner_(owner) {}
    void on_event(const core::CoreEvent& event) override;

   private:
    CoreThread& owner_;
  };

  void drain();
  std::size_t run_commands(std::size_t limit);
  void after_change();
  void arm_deadline();
  void on_deadline(std::uint64_t generation, const boost::system::error_code& ec);
  void request_snapshot();
  void publish_snapshot();
  void dispatch(const core::CoreEvent& event);

  Options options_;
  core::SteadyWallClock clock_;
  core::Xoshiro256 random_;
  std::vector<CoreListener*> listeners_;  // core thread only
  Observer observer_;
  std::unique_ptr<core::RoutingCore> core_;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer deadline_timer_;
  boost::asio::steady_timer snapshot_timer_;

  moodycamel::ConcurrentQueue<Command> queue_;
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> accepting_{true};
  std::atomic<std::thread::id> thread_id_{};
  std::thread thread_;

  // Core-thread state.
  core::TimePoint armed_deadline_ = core::kNever;
  std::uint64_t deadline_generation_ = 0;
  bool snapshot_timer_armed_ = false;
  bool snapshot_dirty_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point last_publish_{};
  std::uint64_t sequence_ = 0;

  // The published snapshot. A mutex held only to copy the pointer, rather than
  // std::atomic<std::shared_ptr>: libstdc++ 12's implementation releases its internal lock
  // with relaxed ordering on load, which ThreadSanitizer rightly reports as a race.
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const core::CoreSnapshot> snapshot_;
};

}  // namespace acd::app
