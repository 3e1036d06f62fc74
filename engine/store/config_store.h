// The configuration tables of migrations/0003_config.sql (with the columns 0005_sip.sql
// adds), as rows of text: what `acdd config` (engine/app/config_db.h) reads and writes.
// This layer knows the tables, their columns and how references between rows are resolved
// (by name within the row's tenant); it knows nothing of the YAML model, which engine/app
// maps to and from rows.
//
// A ConfigSession is one connection with one open transaction. Opening it takes the
// transaction-scoped advisory lock kConfigLockKey, so two sessions (two `acdd config
// apply` at once) never interleave; everything written becomes visible at commit() only,
// all or nothing. Errors are values (Result), never exceptions.
// Thread-safety: a session belongs to one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store/result.h"

namespace acd::store {

// "acd-conf" in ASCII.
inline constexpr std::int64_t kConfigLockKey = 0x6163642d636f6e66;

// One row: column -> text (PostgreSQL's output; arrays as JSON; nullopt: NULL).
using ConfigRow = std::map<std::string, std::optional<std::string>, std::less<>>;

// Rows of the configuration tables, each with a column "tenant" (the tenant's name) and
// references replaced by the referenced row's name (see config_store.cc for each table's
// columns). Rows are ordered by tenant, then by parent and position or id.
struct ConfigTables {
  std::map<std::string, std::vector<ConfigRow>, std::less<>> tables;
  [[nodiscard]] const std::vector<ConfigRow>& rows(std::string_view table) const;
};

// A column value to write: text in PostgreSQL's input syntax for the column (nullopt:
// NULL), or, with ref_table set, the name of a row of ref_table in the same tenant whose
// id is written.
struct ConfigValue {
  std::string column;
  std::optional<std::string> text;
  std::string ref_table;
  bool operator==(const ConfigValue&) const = default;
};

struct ConfigChange {
  enum class Op : std::uint8_t { kInsert, kUpdate, kDelete };
  Op op = Op::kInsert;
  std::string table;
  std::string tenant;               // the tenant's name (for table "tenants": the row itself)
  std::vector<ConfigValue> key;     // identifies the row within the tenant, e.g. name = 'alice'
  std::vector<ConfigValue> values;  // insert and update: the other columns
};

class ConfigSession {
 public:
  // Connects, begins the transaction and takes the configuration lock (waits for it).
  static Result<std::unique_ptr<ConfigSession>> open(const std::string& dsn);
  ~ConfigSession();  // rolls back what was not committed
  ConfigSession(const ConfigSession&) = delete;
  ConfigSession& operator=(const ConfigSession&) = delete;

  // Every tenant's name, by id.
  Result<std::vector<std::string>> tenant_names();
  // The names of the tenants with these ids (unknown ids are skipped).
  Result<std::vector<std::string>> tenant_names_of(const std::vector<std::int64_t>& ids);
  // The rows of the named tenants (every table).
  Result<ConfigTables> read(const std::vector<std::string>& tenants);
  // Applies the changes in order. On failure the session is unusable (roll back).
  Status write(const std::vector<ConfigChange>& changes);
  Status commit();

 private:
  struct Impl;
  explicit ConfigSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True when the database holds at least one tenant.
Result<bool> has_configuration(const std::string& dsn);

// {"a","b"}: a PostgreSQL text[] (or cidr[]) literal with every element quoted.
std::string text_array(const std::vector<std::string>& items);

}  // namespace acd::store
