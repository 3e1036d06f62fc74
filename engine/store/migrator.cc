#include "engine/store/migrator.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <fstream>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <system_error>

namespace acd::store {
namespace {

std::string version_label(int version) {
  std::string digits = std::to_string(version);
  if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
  return digits;
}

std::string describe(const Migration& m) {
  return version_label(m.version) + "_" + m.name;
}

// Holds the migration advisory lock for its lifetime. pg_advisory_lock waits for it.
class AdvisoryLock {
 public:
  explicit AdvisoryLock(pqxx::connection& c) : c_(c) {
    pqxx::nontransaction tx(c_);
    tx.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")");
  }
  ~AdvisoryLock() {
    try {
      pqxx::nontransaction tx(c_);
      tx.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
    } catch (const std::exception&) {
      // The lock is a session lock: closing the connection releases it anyway.
    }
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  pqxx::connection& c_;
};

std::vector<int> read_versions(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  const pqxx::result exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  std::vector<int> versions;
  if (!exists[0][0].as<bool>()) return versions;
  for (const auto& row : tx.exec("SELECT version FROM schema_migrations ORDER BY version")) {
    versions.push_back(row[0].as<int>());
  }
  return versions;
}

}  // namespace

Result<Migration> parse_migration_file_name(std::string_view file_name) {
  auto bad = [&] {
    return Result<Migration>::failure("malformed migration file name \"" + std::string(file_name) +
                                      "\"; expected NNNN_name.sql (digits, '_', then letters, "
                                      "digits or '_')");
  };
  constexpr std::string_view kSuffix = ".sql";
  if (!file_name.ends_with(kSuffix)) return bad();
  const std::string_view stem = file_name.substr(0, file_name.size() - kSuffix.size());
  const auto underscore = stem.find('_');
  if (underscore == std::string_view::npos || underscore == 0 || underscore > 9) return bad();
  const std::string_view digits = stem.substr(0, underscore);
  const std::string_view name = stem.substr(underscore + 1);
  if (name.empty()) return bad();
  if (!std::all_of(digits.begin(), digits.end(),
                   [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; }))
    return bad();
  if (!std::all_of(name.begin(), name.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_';
      }))
    return bad();
  Migration m;
  m.version = std::stoi(std::string(digits));
  m.name = std::string(name);
  if (m.version <= 0) return bad();
  return Result<Migration>::success(std::move(m));
}

Result<std::vector<Migration>> validate_migrations(std::vector<Migration> migrations) {
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version <= 0) {
      return Result<std::vector<Migration>>::failure(
          "migration \"" + migrations[i].name + "\" has version " +
          std::to_string(migrations[i].version) + "; versions must be > 0");
    }
    if (i > 0 && migrations[i].version == migrations[i - 1].version) {
      return Result<std::vector<Migration>>::failure(
          "two migrations have version " + version_label(migrations[i].version) + ": " +
          describe(migrations[i - 1]) + " and " + describe(migrations[i]));
    }
  }
  return Result<std::vector<Migration>>::success(std::move(migrations));
}

Result<std::vector<Migration>> load_migrations(const std::filesystem::path& dir) {
  std::vector<Migration> migrations;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return Result<std::vector<Migration>>::failure("cannot read migrations directory " +
                                                   dir.string() + ": " + ec.message());
  }
  for (const auto& entry : it) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    auto parsed = parse_migration_file_name(entry.path().filename().string());
    if (!parsed) {
      return Result<std::vector<Migration>>::failure(entry.path().string() + ": " +
                                                     parsed.error().message);
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      return Result<std::vector<Migration>>::failure("cannot read " + entry.path().string());
    }
    parsed->sql = text.str();
    migrations.push_back(std::move(parsed).value());
  }
  return validate_migrations(std::move(migrations));
}

Result<MigrateReport> migrate(const std::string& dsn, const std::vector<Migration>& migrations) {
  auto checked = validate_migrations(migrations);
  if (!checked) return Result<MigrateReport>::failure(checked.error().message);
  const std::vector<Migration>& known = checked.value();
  const int newest_known = known.empty() ? 0 : known.back().version;

  MigrateReport report;
  const Migration* current = nullptr;
  try {
    pqxx::connection c(dsn);
    AdvisoryLock lock(c);
    {
      pqxx::nontransaction tx(c);
      tx.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version int PRIMARY KEY,"
          " name text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now())");
    }
    const std::vector<int> applied = read_versions(c);
    const int newest_applied = applied.empty() ? 0 : applied.back();
    if (newest_applied > newest_known) {
      return Result<MigrateReport>::failure(
          "the database schema is at version " + version_label(newest_applied) +
          ", newer than the newest migration this acdd knows (" + version_label(newest_known) +
          "); refusing to run against it (upgrade acdd)");
    }
    const std::set<int> done(applied.begin(), applied.end());
    report.version = newest_applied;
    for (const Migration& m : known) {
      if (done.contains(m.version)) continue;
      current = &m;
      pqxx::work tx(c);
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                     m.name);
      tx.commit();
      report.applied.push_back(m.version);
      report.version = std::max(report.version, m.version);
      current = nullptr;
    }
  } catch (const std::exception& e) {
    std::string message = e.what();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    if (current != nullptr) {
      return Result<MigrateReport>::failure("migration " + describe(*current) +
                                            " failed (rolled back): " + message);
    }
    return Result<MigrateReport>::failure("migrating the database failed: " + message);
  }
  return Result<MigrateReport>::success(std::move(report));
}

Result<std::vector<int>> applied_versions(const std::string& dsn) {
  try {
    pqxx::connection c(dsn);
    return Result<std::vector<int>>::success(read_versions(c));
  } catch (const std::exception& e) {
    return Result<std::vector<int>>::failure(std::string("reading schema_migrations failed: ") +
                                             e.what());
  }
}

}  // namespace acd::store
