// QueryWorker: one thread with its own PostgreSQL connection that runs the queries other
// threads hand it, so that no event loop waits for the database. The screen pop's
// CustomerLookup and the API's ReportQueries are each one QueryWorker with their own
// prepared statements; only their .cc files include this header (it brings in libpqxx).
//
// post() appends a job to a bounded queue under a mutex and wakes the worker (condition
// variable); beyond `max_pending` waiting jobs it refuses. The worker connects on the first
// job that needs the database: the connection gets `statement_timeout` and the owner's
// prepared statements (`prepare`). A job's `query` runs with the connection, reads what it
// needs and may throw; errors become a QueryStatus, never an exception out of the worker:
//   - no connection could be made (or `prepare` failed): kUnavailable, "<name>: connect: ..."
//   - the connection broke: kUnavailable; it is dropped and the next job connects anew
//     (there is no retry timer)
//   - the statement timeout cancelled it: kTimeout (the connection stays)
//   - the database refused a value (SQLSTATE class 22): kRejected (the connection stays)
//   - anything else: kFailed
// Failures other than kRejected (a requester's mistake, not an outage) are logged once per
// run of the same error, so that an outage is not a line per job, and so is the first
// success after them.
//
// Thread-safety: post() from any thread, also from a callback; stop() from one controlling
// thread (the destructor calls it), never from a callback (it waits for the worker). Jobs
// run one at a time on the worker thread, in post order, and so do their callbacks: a slow
// callback delays the jobs behind it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "engine/store/query_status.h"

namespace acd::store {

struct QueryWorkerOptions {
  // Begins every error and log line: "customer lookup", "report queries".
  std::string name;
  std::string dsn;                 // a libpq connection string
  std::size_t max_pending = 1024;  // most jobs waiting for the worker
  std::chrono::milliseconds statement_timeout{2000};
  // Prepares the owner's statements on each new connection; may throw (the connection is
  // then given up like one that could not be made). May be empty.
  std::function<void(pqxx::connection&)> prepare;
  // Added to the log line of a broken connection or a failed connect: what goes without
  // while the database is away ("; screen pops go without customer data").
  std::string outage_note;
  // What a job is called in the stop line: "<name> stopping: 3 queued <jobs> are answered
  // 'shutting down'".
  std::string jobs = "queries";
  // Where outages, recoveries and query failures are reported. Called on the worker
  // thread, and on stop()'s caller. May be empty.
  std::function<void(bool is_error, const std::string& message)> log;
};

class QueryWorker {
 public:
  struct Job {
    // Runs on the worker thread with the worker's connection (made first when there is
    // none); reads its rows into its owner's state and throws on failure. Empty: the job
    // needs no database, and `done` gets ok without a connection being made.
    std::function<void(pqxx::connection&)> query;
    // Called exactly once, on the worker thread: ok after `query` returned, else why not.
    std::function<void(QueryStatus)> done;
    // Asked just before the query would run; true when its requester has gone, and the
    // query is skipped (kCancelled). May be empty.
    std::function<bool()> cancelled;
  };

  // Starts the worker; it connects with the first job that needs the database.
  explicit QueryWorker(QueryWorkerOptions options);
  ~QueryWorker();  // stop()
  QueryWorker(const QueryWorker&) = delete;
  QueryWorker& operator=(const QueryWorker&) = delete;

  // Queues `job`. Never blocks on the database. Returns false, and never calls its `done`,
  // when max_pending jobs are already waiting or the worker is stopping.
  bool post(Job job);

  // Refuses new jobs, answers those still queued with kShuttingDown ("shutting down"; the
  // one in progress finishes normally), closes the connection and joins the worker.
  // Idempotent.
  void stop();

  [[nodiscard]] const QueryWorkerOptions& options() const { return options_; }

 private:
  void run();
  QueryStatus execute(Job& job);
  void deliver(Job& job, QueryStatus status);
  void log(bool is_error, const std::string& message) const;

  const QueryWorkerOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;  // the worker waits on it for jobs or stop
  std::deque<Job> queue_;         // under mutex_
  bool stopping_ = false;         // under mutex_

  // The worker's alone.
  std::unique_ptr<pqxx::connection> connection_;  // null until connected, and after it broke
  std::string failing_;                           // the error last logged; '' while it works

  std::thread worker_;
};

// libpqxx's messages end in a newline; results and log lines do not.
std::string trimmed_error(std::string message);

}  // namespace acd::store
