#include "engine/store/query_worker.h"

#include <exception>
#include <utility>

namespace acd::store {

std::string trimmed_error(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

namespace {

// What an exception of a query means for its requester.
QueryFailure classify(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return QueryFailure::kUnavailable;
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    // 57014, query_canceled: the statement timeout (or an operator's pg_cancel_backend).
    if (sql->sqlstate() == "57014") return QueryFailure::kTimeout;
    // Class 22, data exception: the database refused a value the requester gave.
    if (sql->sqlstate().rfind("22", 0) == 0) return QueryFailure::kRejected;
  }
  return QueryFailure::kFailed;
}

}  // namespace

QueryWorker::QueryWorker(QueryWorkerOptions options) : options_(std::move(options)) {
  worker_ = std::thread([this] { run(); });
}

QueryWorker::~QueryWorker() {
  stop();
}

void QueryWorker::log(bool is_error, const std::string& message) const {
  if (options_.log) options_.log(is_error, message);
}

bool QueryWorker::post(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_pending) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void QueryWorker::stop() {
  std::size_t pending = 0;
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      first = true;
      pending = queue_.size();
    }
  }
  if (first) {
    wake_.notify_one();
    if (pending > 0) {
      log(false, options_.name + " stopping: " + std::to_string(pending) + " queued " +
                     options_.jobs + " are answered 'shutting down'");
    }
  }
  if (worker_.joinable()) worker_.join();
}

void QueryWorker::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    QueryStatus status = execute(job);
    deliver(job, std::move(status));
    lock.lock();
  }
  std::deque<Job> left;
  left.swap(queue_);
  lock.unlock();
  for (Job& job : left) deliver(job, {QueryFailure::kShuttingDown, "shutting down"});
  connection_.reset();
}

QueryStatus QueryWorker::execute(Job& job) {
  if (!job.query) return {};
  if (job.cancelled && job.cancelled()) {
    return {QueryFailure::kCancelled, options_.name + ": cancelled: the requester has gone"};
  }
  bool connected = connection_ != nullptr;
  try {
    if (!connection_) {
      auto connection = std::make_unique<pqxx::connection>(options_.dsn);
      connection->set_variable("statement_timeout",
                               std::to_string(options_.statement_timeout.count()));
      if (options_.prepare) options_.prepare(*connection);
      connection_ = std::move(connection);
      connected = true;
    }
    job.query(*connection_);
    if (!failing_.empty()) {
      log(false, options_.name + ": working again");
      failing_.clear();
    }
    return {};
  } catch (const std::exception& e) {
    const bool broken = dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
                        connection_ == nullptr || !connection_->is_open();
    QueryStatus failed;
    failed.failure = broken ? QueryFailure::kUnavailable : classify(e);
    failed.error = options_.name + (connected ? ": " : ": connect: ") + trimmed_error(e.what());
    if (broken) connection_.reset();  // the next job connects anew
    // A refused value is the requester's mistake, not an outage: it is only answered.
    // Anything else is logged once per run of the same failure.
    if (failed.failure != QueryFailure::kRejected && failed.error != failing_) {
      failing_ = failed.error;
      log(true, failed.error + (broken ? options_.outage_note : ""));
    }
    return failed;
  }
}

void QueryWorker::deliver(Job& job, QueryStatus status) {
  if (!job.done) return;
  try {
    job.done(std::move(status));
  } catch (const std::exception& e) {
    log(true, options_.name + ": a result callback threw: " + e.what());
  } catch (...) {
    log(true, options_.name + ": a result callback threw");
  }
}

}  // namespace acd::store
