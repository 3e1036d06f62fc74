// Schema migrations. A migration is a file migrations/NNNN_name.sql (NNNN its version, a
// positive integer, unique); migrate() applies the ones the database lacks, in version
// order, each in its own transaction together with its row in
//   schema_migrations(version int primary key, name text, applied_at timestamptz).
// Everything happens under a PostgreSQL session advisory lock (kMigrationLockKey), so
// several processes migrating the same database at once are safe: the first applies, the
// others wait and then find nothing to do. A database whose newest applied version is
// newer than the newest migration known here is refused (this binary is too old for it).
// The migrations of engine/store/migrations are compiled into the binary
// (builtin_migrations()), so an installed acdd needs no source tree.
// Thread-safety: free functions; each migrate() call uses its own connection.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store/result.h"

namespace acd::store {

// The key of the advisory lock held while migrating ("acd-migr" in ASCII).
inline constexpr std::int64_t kMigrationLockKey = 0x6163642d6d696772;

struct Migration {
  int version = 0;
  std::string name;  // from the file name: 0001_initial.sql is "initial"
  std::string sql;
};

// Parses "NNNN_name.sql" (digits, '_', then letters, digits or '_'); fails otherwise.
Result<Migration> parse_migration_file_name(std::string_view file_name);

// Checks a set of migrations (versions > 0, unique) and sorts it by version.
Result<std::vector<Migration>> validate_migrations(std::vector<Migration> migrations);

// Reads every *.sql file of `dir` (other files are ignored; a *.sql file with a malformed
// name is an error), validated and sorted.
Result<std::vector<Migration>> load_migrations(const std::filesystem::path& dir);

// The migrations compiled into this binary from engine/store/migrations, sorted.
const std::vector<Migration>& builtin_migrations();

struct MigrateReport {
  std::vector<int> applied;  // versions applied by this call, in order
  int version = 0;           // the database's schema version afterwards (0: none)
};

// Connects to `dsn` (a libpq connection string) and applies what is missing.
Result<MigrateReport> migrate(const std::string& dsn, const std::vector<Migration>& migrations);

// The versions recorded in schema_migrations, ascending (empty when the table is missing).
Result<std::vector<int>> applied_versions(const std::string& dsn);

}  // namespace acd::store
