#include "engine/app/core_thread.h"

#include <pthread.h>
#include <sched.h>

#include <boost/asio/post.hpp>
#include <cstring>
#include <exception>
#include <limits>
#include <random>

#include "engine/app/logging.h"

namespace acd::app {
namespace {

std::uint64_t seed_or_random(std::uint64_t seed) {
  if (seed != 0) return seed;
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device() ^
         static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

void CoreThread::Observer::on_event(const core::CoreEvent& event) {
  owner_.dispatch(event);
}

CoreThread::CoreThread(Options options)
    : options_(options),
      random_(seed_or_random(options.random_seed)),
      observer_(*this),
      core_(std::make_unique<core::RoutingCore>(clock_, random_, &observer_)),
      work_(boost::asio::make_work_guard(io_)),
      deadline_timer_(io_),
      snapshot_timer_(io_) {
  // Nothing runs yet, so this thread may touch the core.
  publish_snapshot();
}

CoreThread::~CoreThread() {
  stop();
}

void CoreThread::start() {
  if (thread_.joinable() || stopped_) return;
  thread_ = std::thread([this] {
    thread_id_.store(std::this_thread::get_id());
    if (options_.realtime_priority > 0) {
      sched_param param{};
      param.sched_priority = options_.realtime_priority;
      const int rc = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param);
      if (rc == 0) {
        log_event(LogLevel::kInfo, "core_thread.realtime",
                  {{"policy", "SCHED_FIFO"}, {"priority", options_.realtime_priority}});
      } else {
        log_event(LogLevel::kWarn, "core_thread.realtime_failed",
                  {{"priority", options_.realtime_priority},
                   {"error", std::strerror(rc)},
                   {"action", "running with normal scheduling; grant CAP_SYS_NICE"}});
      }
    }
    for (;;) {
      try {
        io_.run();
        break;
      } catch (const std::exception& e) {
        // A handler threw. Keep the core thread alive: losing it would stop all routing.
        log_event(LogLevel::kCritical, "core_thread.handler_failed", {{"error", e.what()}});
      }
    }
  });
}

void CoreThread::stop() {
  if (!accepting_.exchange(false)) return;
  if (thread_.joinable()) {
    boost::asio::post(io_, [this] {
      run_commands(std::numeric_limits<std::size_t>::max());
      publish_snapshot();
      stopped_ = true;
      deadline_timer_.cancel();
      snapshot_timer_.cancel();
      work_.reset();
      io_.stop();
    });
    thread_.join();
  }
  stopped_ = true;
  // Commands that raced with stop() (enqueued after the final drain) still run, here: the
  // core thread has ended, so this thread owns the core now.
  run_commands(std::numeric_limits<std::size_t>::max());
}

bool CoreThread::submit(Command command) {
  if (!accepting_.load(std::memory_order_acquire)) return false;
  queue_.enqueue(std::move(command));
  // Only the producer that turns the flag on posts a drain; the drain turns it off
  // before it empties the queue, so a command is never left behind without a wake-up.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    boost::asio::post(io_, [this] { drain(); });
  }
  return true;
}

std::future<core::Status> CoreThread::submit_and_wait(Query query) {
  auto promise = std::make_shared<std::promise<core::Status>>();
  auto future = promise->get_future();
  const bool queued = submit([promise, q = std::move(query)](core::RoutingCore& core) mutable {
    try {
      promise->set_value(q(core));
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  if (!queued) {
    promise->set_value(core::Status(core::ErrorCode::kInvalidState, "the core thread has stopped"));
  }
  return future;
}

std::shared_ptr<const core::CoreSnapshot> CoreThread::latest_snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

void CoreThread::add_listener(CoreListener* listener) {
  submit([this, listener](core::RoutingCore&) { listeners_.push_back(listener); });
}

std::future<core::Status> CoreThread::remove_listener(CoreListener* listener) {
  return submit_and_wait([this, listener](core::RoutingCore&) {
    std::erase(listeners_, listener);
    return core::Status::ok();
  });
}

bool CoreThread::on_core_thread() const {
  return thread_id_.load() == std::this_thread::get_id();
}

void CoreThread::drain() {
  // acq_rel: synchronizes with every producer that found the flag already set, so their
  // commands are visible to the dequeues below.
  wake_pending_.exchange(false, std::memory_order_acq_rel);
  const std::size_t ran = run_commands(options_.batch_limit);
  if (ran == options_.batch_limit && queue_.size_approx() > 0 &&
      !wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    // More work: let timers and other handlers have a turn, then continue.
    boost::asio::post(io_, [this] { drain(); });
  }
  if (ran > 0) after_change();
}

std::size_t CoreThread::run_commands(std::size_t limit) {
  std::size_t ran = 0;
  Command command;
  while (ran < limit && queue_.try_dequeue(command)) {
    ++ran;
    try {
      command(*core_);
    } catch (const std::exception& e) {
      log_event(LogLevel::kError, "core_thread.command_failed", {{"error", e.what()}});
    }
    command = Command();  // release captures now
  }
  return ran;
}

void CoreThread::after_change() {
  if (stopped_) return;
  arm_deadline();
  request_snapshot();
}

void CoreThread::arm_deadline() {
  const core::TimePoint next = core_->next_deadline();
  if (next == armed_deadline_) return;
  armed_deadline_ = next;
  const std::uint64_t generation = ++deadline_generation_;
  if (next == core::kNever) {
    deadline_timer_.cancel();
    return;
  }
  core::Duration delay = next - clock_.now();
  if (delay < core::Duration::zero()) delay = core::Duration::zero();
  // The engine clock is steady_clock shifted to the Unix epoch: a delay in one is the
  // same delay in the other. Measuring the delay before setting the timer can only make
  // the timer fire late (by nanoseconds), never early.
  deadline_timer_.expires_after(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
  deadline_timer_.async_wait(
      [this, generation](const boost::system::error_code& ec) { on_deadline(generation, ec); });
}

void CoreThread::on_deadline(std::uint64_t generation, const boost::system::error_code& ec) {
  if (ec || generation != deadline_generation_ || stopped_) return;
  armed_deadline_ = core::kNever;
  core_->run_due_timers();
  after_change();
}

void CoreThread::request_snapshot() {
  snapshot_dirty_ = true;
  if (snapshot_timer_armed_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto due = last_publish_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       options_.snapshot_interval);
  if (now >= due) {
    publish_snapshot();
    return;
  }
  snapshot_timer_armed_ = true;
  snapshot_timer_.expires_at(due);
  snapshot_timer_.async_wait([this](const boost::system::error_code& ec) {
    snapshot_timer_armed_ = false;
    if (ec || stopped_) return;
    if (snapshot_dirty_) publish_snapshot();
  });
}

void CoreThread::publish_snapshot() {
  auto snapshot = std::make_shared<core::CoreSnapshot>(core_->snapshot());
  snapshot->sequence = ++sequence_;
  const int calls_in_system = snapshot->calls_in_system;
  std::shared_ptr<const core::CoreSnapshot> published = std::move(snapshot);
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_.swap(published);
  }  // the previous snapshot is released outside the lock
  snapshot_dirty_ = false;
  last_publish_ = std::chrono::steady_clock::now();
  // While calls are in the system, waiting times and state durations age without any
  // event: refresh once per interval so readers never see figures older than that.
  if (!stopped_ && calls_in_system > 0 && options_.snapshot_interval > core::Duration::zero()) {
    request_snapshot();
  }
}

void CoreThread::dispatch(const core::CoreEvent& event) {
  for (CoreListener* listener : listeners_) listener->on_core_event(event, *core_);
}

}  // namespace acd::app
