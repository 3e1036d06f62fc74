// The configuration in PostgreSQL (migrations/0003_config.sql): comparing, applying,
// exporting and loading it. The YAML model (config.h) is the one format: `acdd config
// apply FILE` makes the database equal to the file's tenants, `acdd config export`
// writes the database as a file that apply accepts, and the daemon loads its domain
// configuration from the database by generating that file and validating it with
// load_config_text, so both sources pass the same checks.
//
// Comparison is entity by entity, keyed by names ("agent acme/alice"), with stored
// precision (durations in milliseconds). apply() writes only what differs, in one
// transaction under the configuration lock (engine/store/config_store.h): rows that did
// not change keep their ids and are not written (so they send no change notification),
// a changed entity is updated in place. Secrets are compared and stored as hashes only.
// Thread-safety: free functions; each call uses its own connection. They block: call
// them from the main thread or a store worker, never from the core thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/app/config.h"
#include "engine/app/name_registry.h"
#include "engine/app/result.h"

namespace acd::app {

// Lines such as "+ agent acme/zoe", "- queue acme/old",
// "~ queue acme/sales: strategy longest-idle -> ring-all; ring_timeout 15s -> 12s",
// ordered by tenant name, entity kind, entity name. Empty when equal. `current` is the
// database's side, `wanted` the file's; with `prune`, tenants of `current` that `wanted`
// lacks are listed for removal (otherwise they are ignored).
std::vector<std::string> diff_configs(const DaemonConfig& current, const DaemonConfig& wanted,
                                      bool prune);

struct ApplyOptions {
  bool prune = false;  // also delete the database's tenants the file does not name
  // When set, apply only if the difference is still exactly this (what the user saw);
  // otherwise fail without writing.
  std::optional<std::vector<std::string>> expected_diff;
};

struct ApplyReport {
  std::vector<std::string> diff;  // what was (or, on failure, would have been) changed
  std::size_t rows_written = 0;   // INSERT/UPDATE/DELETE statements run; 0 when equal
};

using DiffResult = Result<std::vector<std::string>, std::string>;
using ApplyResult = Result<ApplyReport, std::string>;
using TextResult = Result<std::string, std::string>;

// The difference between the database and `file` (the tenants `file` names; with prune,
// also the database's other tenants).
DiffResult diff_config(const std::string& dsn, const DaemonConfig& file, bool prune);
// Makes the database equal to `file` for the tenants it names, all or nothing.
ApplyResult apply_config(const std::string& dsn, const DaemonConfig& file,
                         const ApplyOptions& options = {});
// The database's configuration as YAML text (a `tenants:` document): every tenant, or
// only `tenant`. Secrets appear as hashes. An unknown tenant is an error.
TextResult export_config(const std::string& dsn, const std::optional<std::string>& tenant = {});

// Which tenants to load; both empty: all.
struct TenantSelection {
  std::vector<std::string> names;
  std::vector<std::int64_t> ids;  // tenants.id, as change notifications carry them
  [[nodiscard]] bool all() const { return names.empty() && ids.empty(); }
};

// The configuration's domain part (tenants, core config, entities) from the database,
// validated like a file ("database" names it in errors). Ids come from `registry` (kept
// by name, as for file reloads); on failure the registry is unchanged. The other sections
// (log, core, shutdown, database, sip, media, demo) keep their defaults. Queues'
// music_on_hold names the daemon file's classes: by default it is checked as a name
// only; pass the file's classes (LoadOptions::music_on_hold_classes) to check them too.
ConfigResult load_config_from_database(
    const std::string& dsn, NameRegistry& registry, const TenantSelection& tenants = {},
    const LoadOptions& options = LoadOptions::music_on_hold_unchecked());

// True when the database holds at least one tenant (so the daemon need not seed it from
// its file).
Result<bool, std::string> has_configuration(const std::string& dsn);

}  // namespace acd::app
