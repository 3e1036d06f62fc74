// RecordDatabase: writes batches of records to PostgreSQL (migrations/0002_history.sql,
// 0009_recordings.sql, 0012_tasks.sql) idempotently, and closes out runs that died (see
// the runs table).
//
// A batch is one transaction. Each table's rows are first streamed with COPY straight into
// the table, inside a savepoint; if one of them is already there (a replay after a crash
// or an outage), that table's part is rolled back to the savepoint and streamed into a
// temporary staging table instead, then moved with INSERT ... ON CONFLICT DO NOTHING, so
// a record written before is skipped and counted as a duplicate. Any other failure rolls
// the whole batch back; the caller keeps it and retries.
// Thread-safety: one thread at a time (one connection).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/store/records.h"
#include "engine/store/result.h"

namespace acd::store {

struct WriteCounts {
  std::uint64_t inserted = 0;    // rows new to the database
  std::uint64_t duplicates = 0;  // rows already there (a replay)
};

struct CloseOutCounts {
  std::uint64_t runs = 0;
  std::uint64_t calls = 0;   // calls rows made with final_state 'interrupted'
  std::uint64_t agents = 0;  // agents given a final logged-out transition
};

class RecordDatabase {
 public:
  // Connects to `dsn` and prepares the staging tables.
  static Result<std::unique_ptr<RecordDatabase>> connect(const std::string& dsn);
  ~RecordDatabase();
  RecordDatabase(const RecordDatabase&) = delete;
  RecordDatabase& operator=(const RecordDatabase&) = delete;

  Result<WriteCounts> write(const std::vector<Record>& records);

  // Closes out every run before `current_run` that is neither closed out nor the current
  // one: see the runs table. Idempotent.
  Result<CloseOutCounts> close_out_runs_before(std::int64_t current_run);

 private:
  struct Connection;  // the libpqxx connection, kept out of this header
  explicit RecordDatabase(std::unique_ptr<Connection> connection);

  std::unique_ptr<Connection> connection_;
};

// "2026-11-23 12:00:00.123456+00": a timestamptz literal for microseconds since the epoch.
std::string timestamp_text(EpochMicros micros);

}  // namespace acd::store
