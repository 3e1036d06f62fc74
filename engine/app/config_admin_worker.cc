#include "engine/app/config_admin_worker.h"

#include <utility>

namespace acd::app {

ConfigAdminWorker::ConfigAdminWorker(ConfigAdminOptions options, std::size_t max_pending)
    : options_(std::move(options)), max_pending_(max_pending) {
  worker_ = std::thread([this] { run(); });
}

ConfigAdminWorker::~ConfigAdminWorker() {
  stop();
}

bool ConfigAdminWorker::post(api::AdminRequest request,
                             std::function<void(api::AdminResult)> done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_pending_) return false;
    queue_.push_back({std::move(request), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

api::AdminHook ConfigAdminWorker::hook() {
  return [this](api::AdminRequest request, std::function<void(api::AdminResult)> done) {
    return post(std::move(request), std::move(done));
  };
}

void ConfigAdminWorker::stop() {
  std::deque<Job> left;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
    left.swap(queue_);
  }
  wake_.notify_one();
  for (auto& job : left) {
    if (job.done)
      job.done(api::AdminResult::failure(api::AdminResult::Code::kUnavailable,
                                         "shutting down: the request was not run"));
  }
  if (worker_.joinable()) worker_.join();
}

void ConfigAdminWorker::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    api::AdminResult result = run_admin_request(options_, job.request);
    if (job.done) job.done(std::move(result));
  }
}

}  // namespace acd::app
