// EmbeddedCluster: a private PostgreSQL cluster for running without a configured DSN.
// start() creates the cluster under `dir` on first use (initdb with Debian's binaries from
// the newest /usr/lib/postgresql/<version>/bin), starts it with pg_ctl -w, listening on a
// unix socket in `dir` only (no TCP), and creates the database `acd` when missing. The
// cluster's superuser is "acd"; local connections are trusted, and `dir` is mode 0700, so
// only its owner (and root) can reach the socket. stop() (or the destructor) stops the
// server with pg_ctl -m fast, unless it was already running before start() (then it
// belongs to someone else, e.g. a running acdd, and is left alone).
// PostgreSQL refuses to run as root: when the process's euid is 0, initdb and pg_ctl run
// as `run_as` (default "postgres", created by Debian's package) through
// `runuser -u USER --`, and `dir` is chown'ed to that user. Every path leading to `dir`
// must then be searchable by that user.
// Layout: dir/data (PGDATA), dir/.s.PGSQL.5432 (socket), dir/postgresql.log, dir/initdb.log.
// Thread-safety: one owner; start/stop are not concurrent.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "engine/store/result.h"

namespace acd::store {

struct EmbeddedClusterOptions {
  std::filesystem::path dir = "var/pg";  // relative: to the current directory
  std::string run_as = "postgres";       // used only when running as root
  std::filesystem::path bin_dir;         // empty: the newest /usr/lib/postgresql/*/bin
  std::string database = "acd";
};

// The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl.
Result<std::filesystem::path> find_postgres_bin_dir();

class EmbeddedCluster {
 public:
  // Creates (if needed) and starts the cluster; the result is running and has `database`.
  static Result<std::unique_ptr<EmbeddedCluster>> start(EmbeddedClusterOptions options);

  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  // A libpq connection string: "host=<dir> dbname=acd user=acd".
  [[nodiscard]] const std::string& dsn() const { return dsn_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  // False when the server was already running at start() (and stop() leaves it running).
  [[nodiscard]] bool owns_server() const { return owns_server_; }

  // Stops the server if this object started it; idempotent.
  Status stop();

 private:
  EmbeddedCluster() = default;

  std::filesystem::path dir_;
  std::filesystem::path bin_dir_;
  std::string run_as_;  // empty: run the binaries as ourselves
  std::string dsn_;
  bool owns_server_ = false;
  bool stopped_ = false;
};

}  // namespace acd::store
