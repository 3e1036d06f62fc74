#include "engine/store/embedded_cluster.h"

#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <system_error>
#include <vector>

extern char** environ;

namespace acd::store {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSuperuser = "acd";

// The last lines of a log file, for error messages.
std::string tail_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  constexpr std::size_t kMax = 1500;
  if (s.size() > kMax) s = "..." + s.substr(s.size() - kMax);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string with_log(std::string message, const fs::path& log) {
  const std::string tail = tail_of(log);
  message += " (see " + log.string() + ")";
  if (!tail.empty()) message += ":\n" + tail;
  return message;
}

// Runs argv[0] (an absolute path) with stdin from /dev/null and stdout/stderr appended to
// `log`; returns the exit status, or -1 when it could not run or died of a signal.
int run(const std::vector<std::string>& argv, const fs::path& log, std::string& error) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error = "cannot run " + argv[0] + ": " + std::strerror(rc);
    return -1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      error = "waiting for " + argv[0] + ": " + std::strerror(errno);
      return -1;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  error = argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
  return -1;
}

std::string conf_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'') out += '\'';
    out += ch;
  }
  return out + "'";
}

// libpq's quoting for a connection-string value.
std::string dsn_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "'";
}

Status chown_tree(const fs::path& root, uid_t uid, gid_t gid) {
  if (::lchown(root.c_str(), uid, gid) != 0)
    return Status::failure("cannot chown " + root.string() + ": " + std::strerror(errno));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (::lchown(it->path().c_str(), uid, gid) != 0)
      return Status::failure("cannot chown " + it->path().string() + ": " + std::strerror(errno));
  }
  if (ec) return Status::failure("cannot walk " + root.string() + ": " + ec.message());
  return ok_status();
}

}  // namespace

Result<fs::path> find_postgres_bin_dir() {
  const fs::path root = "/usr/lib/postgresql";
  std::error_code ec;
  int best = -1;
  fs::path best_dir;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      continue;
    const fs::path bin = it->path() / "bin";
    if (!fs::exists(bin / "initdb") || !fs::exists(bin / "pg_ctl")) continue;
    const int version = std::stoi(name.substr(0, 6));
    if (version > best) {
      best = version;
      best_dir = bin;
    }
  }
  if (best < 0) {
    return Result<fs::path>::failure(
        "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/<version>/bin; "
        "install the Debian package \"postgresql\" (scripts/install-deps) or configure "
        "database.dsn");
  }
  return Result<fs::path>::success(best_dir);
}

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::start(EmbeddedClusterOptions options) {
  using R = Result<std::unique_ptr<EmbeddedCluster>>;
  std::unique_ptr<EmbeddedCluster> cluster(new EmbeddedCluster());
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(fs::absolute(options.dir, ec), ec);
  if (ec) return R::failure("bad cluster directory " + options.dir.string() + ": " + ec.message());
  cluster->dir_ = dir;
  const std::string socket = (dir / ".s.PGSQL.5432").string();
  if (socket.size() >= 107) {
    return R::failure("the cluster directory " + dir.string() +
                      " is too long for a unix socket path; choose a shorter database.data_dir");
  }
  fs::create_directories(dir, ec);
  if (ec) return R::failure("cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);

  if (options.bin_dir.empty()) {
    auto bin = find_postgres_bin_dir();
    if (!bin) return R::failure(bin.error().message);
    cluster->bin_dir_ = bin.value();
  } else {
    cluster->bin_dir_ = options.bin_dir;
  }

  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam(options.run_as.c_str());
    if (pw == nullptr) {
      return R::failure("running as root, and PostgreSQL refuses to run as root; the user \"" +
                        options.run_as + "\" to run it as does not exist");
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    cluster->run_as_ = options.run_as;
  }

  const auto command = [&](std::vector<std::string> argv) {
    argv[0] = (cluster->bin_dir_ / argv[0]).string();
    if (!cluster->run_as_.empty()) {
      const char* runuser = fs::exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser";
      argv.insert(argv.begin(), {runuser, "-u", cluster->run_as_, "--"});
    }
    return argv;
  };
  const fs::path data = dir / "data";
  const fs::path initdb_log = dir / "initdb.log";
  const fs::path server_log = dir / "postgresql.log";  // the server's own (written as run_as)
  const fs::path ctl_log = dir / "pg_ctl.log";         // what pg_ctl itself prints
  std::string error;

  if (!fs::exists(data / "PG_VERSION")) {
    fs::remove_all(data, ec);  // a half-made cluster from an interrupted initdb
    if (!cluster->run_as_.empty()) {
      if (auto s = chown_tree(dir, uid, gid); !s) return R::failure(s.error().message);
    }
    const int rc = run(command({"initdb", "-D", data.string(), "-U", kSuperuser, "--auth=trust",
                                "-E", "UTF8", "--locale=C"}),
                       initdb_log, error);
    if (rc != 0) {
      return R::failure(
          with_log("initdb of the embedded PostgreSQL cluster in " + data.string() + " failed" +
                       (error.empty() ? " with exit code " + std::to_string(rc) : ": " + error),
                   initdb_log));
    }
    std::ofstream conf(data / "postgresql.conf", std::ios::app);
    conf << "\n# Added by acd: unix socket only, in the cluster's directory.\n"
            "include_if_exists = 'acd.conf'\n";
    if (!conf) return R::failure("cannot write " + (data / "postgresql.conf").string());
  }
  {
    // Rewritten at every start so a moved directory keeps working.
    std::ofstream conf(data / "acd.conf", std::ios::trunc);
    conf << "# Written by acd at every start; edits are lost.\n"
            "listen_addresses = ''\n"
            "unix_socket_directories = "
         << conf_quote(dir.string()) << "\n";
    if (!conf) return R::failure("cannot write " + (data / "acd.conf").string());
  }
  if (!cluster->run_as_.empty()) {
    if (auto s = chown_tree(dir, uid, gid); !s) return R::failure(s.error().message);
  }

  // 0: running, 3: not running.
  const int status = run(command({"pg_ctl", "status", "-D", data.string()}), ctl_log, error);
  if (status != 0) {
    const int rc = run(command({"pg_ctl", "start", "-w", "-t", "60", "-D", data.string(), "-l",
                                server_log.string()}),
                       ctl_log, error);
    if (rc != 0) {
      return R::failure(
          with_log("starting the embedded PostgreSQL cluster in " + data.string() + " failed" +
                       (error.empty() ? " with exit code " + std::to_string(rc) : ": " + error),
                   server_log));
    }
    cluster->owns_server_ = true;
  }

  const std::string host = "host=" + dsn_quote(dir.string()) + " user=" + kSuperuser;
  cluster->dsn_ = host + " dbname=" + dsn_quote(options.database);
  try {
    pqxx::connection c(host + " dbname=postgres");
    pqxx::nontransaction tx(c);
    const auto found =
        tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", options.database);
    if (found.empty()) tx.exec("CREATE DATABASE " + tx.quote_name(options.database));
  } catch (const std::exception& e) {
    std::string message = e.what();
    while (!message.empty() && message.back() == '\n') message.pop_back();
    // `cluster` stops the server it started as it goes.
    return R::failure("creating the database \"" + options.database +
                      "\" in the embedded cluster failed: " + message);
  }
  return R::success(std::move(cluster));
}

EmbeddedCluster::~EmbeddedCluster() {
  (void)stop();
}

Status EmbeddedCluster::stop() {
  if (stopped_ || !owns_server_) {
    stopped_ = true;
    return ok_status();
  }
  stopped_ = true;
  std::vector<std::string> argv{(bin_dir_ / "pg_ctl").string(), "stop", "-w", "-m", "fast", "-D",
                                (dir_ / "data").string()};
  if (!run_as_.empty()) {
    const char* runuser = fs::exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser";
    argv.insert(argv.begin(), {runuser, "-u", run_as_, "--"});
  }
  std::string error;
  const fs::path log = dir_ / "pg_ctl.log";
  const int rc = run(argv, log, error);
  if (rc != 0) {
    return Status::failure(with_log(
        "stopping the embedded PostgreSQL cluster in " + (dir_ / "data").string() + " failed" +
            (error.empty() ? " with exit code " + std::to_string(rc) : ": " + error),
        log));
  }
  return ok_status();
}

}  // namespace acd::store
