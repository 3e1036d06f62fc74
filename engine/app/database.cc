#include "engine/app/database.h"

#include <string>
#include <utility>

namespace acd::app {

store::Result<Database> open_database(const DatabaseConfig& config, bool migrate) {
  Database db;
  if (config.dsn.empty()) {
    store::EmbeddedClusterOptions options;
    options.dir = config.data_dir;
    auto started = store::EmbeddedCluster::start(options);
    if (!started) {
      return store::Result<Database>::failure("cannot start the embedded PostgreSQL cluster: " +
                                              started.error().message);
    }
    db.cluster = std::move(started).value();
    db.dsn = db.cluster->dsn();
  } else {
    db.dsn = config.dsn;
  }
  if (migrate) {
    auto report = store::migrate(db.dsn, store::builtin_migrations());
    if (!report) return store::Result<Database>::failure(report.error().message);
    db.report = std::move(report).value();
    db.migrated = true;
  }
  return store::Result<Database>::success(std::move(db));
}

std::string migration_label(int version) {
  for (const auto& m : store::builtin_migrations()) {
    if (m.version == version) {
      std::string digits = std::to_string(version);
      if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
      return digits + "_" + m.name;
    }
  }
  return std::to_string(version);
}

}  // namespace acd::app
