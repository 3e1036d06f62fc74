// ConfigAdminWorker: the thread that answers AdminService's requests (engine/api/admin_hook.h)
// with run_admin_request (config_admin.h), so that neither gRPC's threads, nor the core
// thread, nor the main thread's event loop ever waits for the database. Each request
// opens its own connections (config_db.h's functions do); requests run one at a time, in
// order, so two API changes never race each other (and `acdd config apply` from a shell is
// serialised with them by the database's configuration lock).
//
// post() appends the request to a bounded queue under a mutex and wakes the worker
// (condition variable); the answer comes through the request's callback, on the worker
// thread. Beyond `max_pending` waiting requests post() refuses.
//
// Thread-safety: post() from any thread, also from a callback; stop() from one controlling
// thread (the destructor calls it), never from a callback (it waits for the worker).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/api/admin_hook.h"
#include "engine/app/config_admin.h"

namespace acd::app {

class ConfigAdminWorker {
 public:
  // Starts the worker thread.
  explicit ConfigAdminWorker(ConfigAdminOptions options, std::size_t max_pending = 32);
  ~ConfigAdminWorker();  // stop()
  ConfigAdminWorker(const ConfigAdminWorker&) = delete;
  ConfigAdminWorker& operator=(const ConfigAdminWorker&) = delete;

  // Queues `request`. Never blocks on the database. Returns false, and never calls `done`,
  // when max_pending requests are already waiting or the worker is stopping; otherwise
  // `done` is called exactly once, on the worker thread.
  bool post(api::AdminRequest request, std::function<void(api::AdminResult)> done);

  // The API's hook: post() on this worker (which must outlive the API server).
  api::AdminHook hook();

  // Refuses new requests, answers those still queued with kUnavailable ("shutting down";
  // the one in progress finishes), and joins the worker. Idempotent.
  void stop();

 private:
  struct Job {
    api::AdminRequest request;
    std::function<void(api::AdminResult)> done;
  };
  void run();

  const ConfigAdminOptions options_;
  const std::size_t max_pending_;

  std::mutex mutex_;
  std::condition_variable wake_;  // the worker waits on it for jobs or stop
  std::deque<Job> queue_;         // under mutex_
  bool stopping_ = false;         // under mutex_

  std::thread worker_;
};

}  // namespace acd::app
