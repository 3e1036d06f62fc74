// The daemon's database: connects to database.dsn, or (when it is empty) starts the
// embedded PostgreSQL cluster under database.data_dir, and applies the built-in schema
// migrations (engine/store). Used by `acdd migrate` and at daemon start; never by --check.
// Thread-safety: main thread only.
#pragma once

#include <memory>
#include <string>

#include "engine/app/config.h"
#include "engine/store/embedded_cluster.h"
#include "engine/store/migrator.h"
#include "engine/store/result.h"

namespace acd::app {

struct Database {
  std::unique_ptr<store::EmbeddedCluster> cluster;  // null with a configured DSN
  std::string dsn;
  bool migrated = false;
  store::MigrateReport report;  // when migrated
};

// Starts the embedded cluster when needed, then migrates when `migrate`. On failure a
// cluster this call started is stopped again.
store::Result<Database> open_database(const DatabaseConfig& config, bool migrate);

// "0001_initial" for a built-in migration's version; the number alone for others.
std::string migration_label(int version);

}  // namespace acd::app
