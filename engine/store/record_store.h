// RecordStore: the store worker. It takes records from the engine's threads, makes them
// durable in the local spool (spool.h) and ships them, in spool order and in batches, to
// PostgreSQL (record_db.h). submit() never blocks: it is a lock-free enqueue
// (moodycamel::ConcurrentQueue; records of one thread stay in order) and a futex wake-up
// of the appender when it sleeps.
//
// Two threads:
//   * the appender waits for submitted records, encodes them, writes them to the spool
//     with one write(2) and one fdatasync per wake-up (group commit: under load a wake-up
//     carries many records), and tells the shipper how far the spool is written;
//   * the shipper reads the spool from the checkpoint (so it first replays whatever an
//     earlier run left unshipped), writes batches to PostgreSQL, and advances the
//     checkpoint after each commit. When the database is unreachable it retries with a
//     backoff (100 ms doubling to 5 s) while the appender goes on spooling: routing never
//     waits for the database. When it has shipped this run's RunStarted record (the first
//     record of the run), everything earlier runs spooled is in the database, and it
//     closes out those runs (record_db.h).
// A record is acknowledged to nobody: durability is the spool's; the database copy
// follows as soon as it can.
// Thread-safety: submit(), stats() and wait_shipped() from any thread; start()/stop() from
// one controlling thread.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/record_db.h"
#include "engine/store/records.h"
#include "engine/store/result.h"
#include "engine/store/spool.h"

namespace acd::store {

struct RecordStoreOptions {
  std::string dsn;
  std::filesystem::path spool_dir;
  std::int64_t run_id = 0;  // this run of the daemon (see make_run_id)
  std::uint64_t segment_bytes = 64u << 20;
  std::size_t batch_records = 10000;  // most records per database transaction
  // The appender and shipper run at this nice value (Linux: per thread), so under CPU
  // pressure the event loop wins the CPU and records wait a little instead.
  int thread_nice = 10;
  std::chrono::milliseconds retry_min{100};
  std::chrono::milliseconds retry_max{5000};
  // Where the store reports what happens (connects, outages, torn spool tails,
  // close-outs). Called on the store's threads. May be empty.
  std::function<void(bool is_error, const std::string& message)> log;
};

struct RecordStoreStats {
  std::uint64_t submitted = 0;  // records handed to submit()
  std::uint64_t spooled = 0;    // records written to the spool
  std::uint64_t synced_batches = 0;
  std::uint64_t shipped = 0;      // records committed to the database (this run's reading)
  std::uint64_t inserted = 0;     // rows new to the database
  std::uint64_t duplicates = 0;   // rows the database already had (replays)
  std::uint64_t db_failures = 0;  // failed connects and batches
  std::uint64_t spool_failures = 0;
  std::uint64_t backlog = 0;  // spooled but not yet shipped (records of this run)
  bool database_up = false;
};

// A run id: microseconds since the Unix epoch at start, unique per run of a daemon.
std::int64_t make_run_id();
EpochMicros now_micros();

class RecordStore {
 public:
  // Opens the spool (a new segment) and spools the RunStarted record; threads start at once.
  static Result<std::unique_ptr<RecordStore>> open(RecordStoreOptions options);
  ~RecordStore();  // stop() with no shipping deadline beyond what is quick
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  void submit(std::vector<Record> records);
  void submit(Record record);

  // Spools a RunStopped record and everything submitted before, then lets the shipper go on
  // for at most `ship_deadline` to bring the database up to date, and joins the threads.
  // What is not shipped by then stays in the spool for the next run. Idempotent.
  void stop(std::chrono::milliseconds ship_deadline);

  [[nodiscard]] RecordStoreStats stats() const;
  // Waits until every record submitted before the call is in the database, or `timeout`.
  bool wait_shipped(std::chrono::milliseconds timeout);
  [[nodiscard]] std::int64_t run_id() const { return options_.run_id; }

 private:
  explicit RecordStore(RecordStoreOptions options, std::unique_ptr<SpoolWriter> writer);
  void append_loop();
  void ship_loop();
  void log(bool is_error, const std::string& message) const;
  bool ship_once(std::unique_ptr<RecordDatabase>& db, SpoolReader& reader);

  RecordStoreOptions options_;
  std::unique_ptr<SpoolWriter> writer_;  // appender thread

  // Submitted records awaiting the appender.
  moodycamel::ConcurrentQueue<Record> queue_;
  std::atomic<std::uint64_t> submitted_{0};
  std::atomic<std::uint64_t> wake_{0};  // bumped by submit() and stop(); the appender waits on it
  std::atomic<bool> stopping_{false};
  std::mutex retry_mutex_;  // the appender's backoff after a failed spool write
  std::condition_variable retry_cv_;

  // The spool's written end and the shipper's progress.
  mutable std::mutex ship_mutex_;
  std::condition_variable ship_cv_;      // the shipper waits on it for data or stop
  std::condition_variable progress_cv_;  // wait_shipped() waits on it
  SpoolPosition written_end_;            // under ship_mutex_
  SpoolPosition shipped_to_;             // under ship_mutex_
  std::uint64_t spooled_count_ = 0;      // under ship_mutex_: records of this run written
  std::uint64_t shipped_count_ = 0;      // under ship_mutex_: records shipped (any run)
  std::uint64_t shipped_own_ = 0;        // under ship_mutex_: records of this run shipped
  bool appender_done_ = false;           // under ship_mutex_
  bool stop_shipping_ = false;           // under ship_mutex_
  std::chrono::steady_clock::time_point ship_deadline_{};  // under ship_mutex_

  std::atomic<std::uint64_t> synced_batches_{0};
  std::atomic<std::uint64_t> inserted_{0};
  std::atomic<std::uint64_t> duplicates_{0};
  std::atomic<std::uint64_t> db_failures_{0};
  std::atomic<std::uint64_t> spool_failures_{0};
  std::atomic<bool> database_up_{false};

  std::thread appender_;
  std::thread shipper_;
  bool stopped_ = false;
};

}  // namespace acd::store
