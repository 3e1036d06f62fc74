#include "engine/store/record_store.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "engine/store/record_codec.h"

namespace acd::store {

EpochMicros now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t make_run_id() {
  return now_micros();
}

namespace {

// Lowers the calling thread's priority (Linux treats a thread id as a process for this).
void nice_this_thread(int nice) {
  if (nice <= 0) return;
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  (void)::setpriority(PRIO_PROCESS, tid, nice);
}

}  // namespace

RecordStore::RecordStore(RecordStoreOptions options, std::unique_ptr<SpoolWriter> writer)
    // Room for 8192 records up front (about 3 MiB): the hand-off does not allocate in
    // steady state.
    : options_(std::move(options)), writer_(std::move(writer)), queue_(1u << 13) {}

Result<std::unique_ptr<RecordStore>> RecordStore::open(RecordStoreOptions options) {
  using R = Result<std::unique_ptr<RecordStore>>;
  if (options.run_id <= 0) return R::failure("record store: run_id must be positive");
  if (options.batch_records == 0) options.batch_records = 1;
  auto writer = SpoolWriter::open({options.spool_dir, options.segment_bytes});
  if (!writer) return R::failure("record spool: " + writer.error().message);
  auto checkpoint = load_checkpoint(options.spool_dir);
  if (!checkpoint) return R::failure("record spool: " + checkpoint.error().message);
  std::unique_ptr<RecordStore> store(
      new RecordStore(std::move(options), std::move(writer).value()));
  store->written_end_ = store->writer_->end();
  store->shipped_to_ = checkpoint.value();
  store->submit(RunStartedRecord{store->options_.run_id, now_micros()});
  store->appender_ = std::thread([s = store.get()] {
    nice_this_thread(s->options_.thread_nice);
    s->append_loop();
  });
  store->shipper_ = std::thread([s = store.get()] {
    nice_this_thread(s->options_.thread_nice);
    s->ship_loop();
  });
  return R::success(std::move(store));
}

RecordStore::~RecordStore() {
  stop(std::chrono::milliseconds(0));
}

void RecordStore::log(bool is_error, const std::string& message) const {
  if (options_.log) options_.log(is_error, message);
}

void RecordStore::submit(Record record) {
  queue_.enqueue(std::move(record));
  submitted_.fetch_add(1, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_release);
  wake_.notify_one();
}

void RecordStore::submit(std::vector<Record> records) {
  if (records.empty()) return;
  const auto n = records.size();
  queue_.enqueue_bulk(std::make_move_iterator(records.begin()), n);
  submitted_.fetch_add(n, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_release);
  wake_.notify_one();
}

void RecordStore::append_loop() {
  constexpr std::size_t kChunk = 4096;
  constexpr std::size_t kMaxBatch = 65536;
  std::vector<Record> chunk(kChunk);
  std::vector<Record> batch;
  std::string frames;
  std::string payload;
  auto retry = options_.retry_min;
  int failures_while_stopping = 0;
  for (;;) {
    if (batch.empty()) {
      // Read the wake-up counter before looking, so a submit after the look wakes us.
      const std::uint64_t seen = wake_.load(std::memory_order_acquire);
      while (batch.size() < kMaxBatch) {
        const std::size_t n = queue_.try_dequeue_bulk(chunk.begin(), kChunk);
        if (n == 0) break;
        std::move(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n),
                  std::back_inserter(batch));
      }
      if (batch.empty()) {
        if (stopping_.load(std::memory_order_acquire) && queue_.size_approx() == 0) break;
        wake_.wait(seen, std::memory_order_acquire);
        continue;
      }
    }
    frames.clear();
    for (const Record& record : batch) {
      payload.clear();
      encode_record(record, payload);
      append_frame(payload, frames);
    }
    if (auto written = writer_->write(frames); !written) {
      // Keep the batch and try again: a full disk may be freed by the operator.
      spool_failures_.fetch_add(1, std::memory_order_relaxed);
      log(true, "record spool write failed (" + std::to_string(batch.size()) +
                    " records kept in memory, retrying): " + written.error().message);
      if (stopping_.load() && ++failures_while_stopping >= 3) {
        // Shutting down and the disk still refuses: say exactly what is lost.
        log(true, std::to_string(batch.size() + queue_.size_approx()) +
                      " records could not be spooled before exit and are lost");
        break;
      }
      std::unique_lock lock(retry_mutex_);
      retry_cv_.wait_for(lock, retry);
      retry = std::min(retry * 2, options_.retry_max);
      continue;
    }
    retry = options_.retry_min;
    if (auto synced = writer_->sync(); !synced) {
      spool_failures_.fetch_add(1, std::memory_order_relaxed);
      log(true, "record spool fdatasync failed: " + synced.error().message);
    }
    synced_batches_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(ship_mutex_);
      written_end_ = writer_->end();
      spooled_count_ += batch.size();
    }
    ship_cv_.notify_one();
    batch.clear();
  }
  {
    std::lock_guard lock(ship_mutex_);
    appender_done_ = true;
  }
  ship_cv_.notify_one();
}

void RecordStore::ship_loop() {
  SpoolReader reader(options_.spool_dir);
  std::unique_ptr<RecordDatabase> db;
  auto retry = options_.retry_min;
  bool outage_logged = false;
  for (;;) {
    {
      std::unique_lock lock(ship_mutex_);
      ship_cv_.wait(lock,
                    [&] { return stop_shipping_ || shipped_to_ < written_end_ || appender_done_; });
      if (stop_shipping_) break;
      if (appender_done_ && !(shipped_to_ < written_end_)) break;
    }
    if (!db) {
      auto connected = RecordDatabase::connect(options_.dsn);
      if (connected) {
        db = std::move(connected).value();
        database_up_.store(true);
        retry = options_.retry_min;
        if (outage_logged) log(false, "records database reachable again; shipping the spool");
        outage_logged = false;
      } else {
        db_failures_.fetch_add(1, std::memory_order_relaxed);
        database_up_.store(false);
        if (!outage_logged) {
          log(true, connected.error().message +
                        "; records are kept in the spool until the database is back");
          outage_logged = true;
        }
      }
    }
    if (db && ship_once(db, reader)) continue;
    if (db) continue;  // a read problem was logged; carry on
    database_up_.store(false);
    std::unique_lock lock(ship_mutex_);
    ship_cv_.wait_for(lock, retry, [&] { return stop_shipping_; });
    retry = std::min(retry * 2, options_.retry_max);
  }
}

// Ships one batch; false (with `db` reset) when the database failed.
bool RecordStore::ship_once(std::unique_ptr<RecordDatabase>& db, SpoolReader& reader) {
  SpoolPosition from;
  SpoolPosition limit;
  {
    std::lock_guard lock(ship_mutex_);
    from = shipped_to_;
    limit = written_end_;
  }
  auto batch = reader.read(from, limit, options_.batch_records);
  if (!batch) {
    log(true, "record spool read failed: " + batch.error().message);
    db.reset();
    return false;
  }
  for (const std::string& problem : batch->problems) log(true, "record spool: " + problem);
  const SpoolPosition own_start{writer_->first_segment_of_run(), 0};
  std::vector<Record> records;
  records.reserve(batch->payloads.size());
  bool ships_run_start = false;
  for (std::size_t i = 0; i < batch->payloads.size(); ++i) {
    auto record = decode_record(batch->payloads[i], batch->formats[i]);
    if (!record) {
      log(true, "record spool: undecodable record skipped: " + record.error().message);
      continue;
    }
    if (const auto* started = std::get_if<RunStartedRecord>(&record.value());
        started && started->run_id == options_.run_id) {
      ships_run_start = true;
    }
    records.push_back(std::move(record).value());
  }
  // Records of this run in the batch: those at or after the run's first segment.
  const bool batch_is_own = from >= own_start;
  std::uint64_t own = 0;
  if (batch_is_own) {
    own = batch->payloads.size();
  } else if (batch->next > own_start) {
    // The batch crosses from earlier runs into this one: count from the RunStarted record.
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto* started = std::get_if<RunStartedRecord>(&records[i]);
      if (started && started->run_id == options_.run_id) {
        own = records.size() - i;
        break;
      }
    }
  }
  if (!records.empty()) {
    auto written = db->write(records);
    if (!written) {
      db_failures_.fetch_add(1, std::memory_order_relaxed);
      database_up_.store(false);
      log(true, written.error().message + "; records are kept in the spool and retried");
      db.reset();
      return false;
    }
    inserted_.fetch_add(written->inserted, std::memory_order_relaxed);
    duplicates_.fetch_add(written->duplicates, std::memory_order_relaxed);
  }
  if (auto saved = save_checkpoint(options_.spool_dir, batch->next); !saved) {
    log(true, "record spool checkpoint: " + saved.error().message);
  }
  if (batch->next.segment > from.segment) {
    if (auto deleted = delete_segments_before(options_.spool_dir, batch->next); !deleted) {
      log(true, "record spool: " + deleted.error().message);
    }
  }
  {
    std::lock_guard lock(ship_mutex_);
    shipped_to_ = batch->next;
    shipped_count_ += batch->payloads.size();
    shipped_own_ += own;
  }
  progress_cv_.notify_all();
  if (ships_run_start) {
    auto closed = db->close_out_runs_before(options_.run_id);
    if (!closed) {
      log(true, closed.error().message);
    } else if (closed->runs > 0) {
      log(false, "closed out " + std::to_string(closed->runs) +
                     " earlier run(s): " + std::to_string(closed->calls) +
                     " unfinished call(s) recorded as "
                     "interrupted, " +
                     std::to_string(closed->agents) + " agent(s) logged out");
    }
  }
  return true;
}

void RecordStore::stop(std::chrono::milliseconds ship_deadline) {
  if (stopped_) return;
  stopped_ = true;
  submit(RunStoppedRecord{options_.run_id, now_micros()});
  stopping_.store(true, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_release);
  wake_.notify_one();
  retry_cv_.notify_all();
  if (appender_.joinable()) appender_.join();
  {
    std::unique_lock lock(ship_mutex_);
    progress_cv_.wait_for(lock, ship_deadline, [&] { return !(shipped_to_ < written_end_); });
    stop_shipping_ = true;
  }
  ship_cv_.notify_all();
  if (shipper_.joinable()) shipper_.join();
}

RecordStoreStats RecordStore::stats() const {
  RecordStoreStats s;
  s.submitted = submitted_.load(std::memory_order_acquire);
  {
    std::lock_guard lock(ship_mutex_);
    s.spooled = spooled_count_;
    s.shipped = shipped_count_;
    s.backlog = spooled_count_ > shipped_own_ ? spooled_count_ - shipped_own_ : 0;
  }
  s.synced_batches = synced_batches_.load();
  s.inserted = inserted_.load();
  s.duplicates = duplicates_.load();
  s.db_failures = db_failures_.load();
  s.spool_failures = spool_failures_.load();
  s.database_up = database_up_.load();
  return s;
}

bool RecordStore::wait_shipped(std::chrono::milliseconds timeout) {
  const std::uint64_t target = submitted_.load(std::memory_order_acquire);
  std::unique_lock lock(ship_mutex_);
  return progress_cv_.wait_for(lock, timeout, [&] { return shipped_own_ >= target; });
}

}  // namespace acd::store
