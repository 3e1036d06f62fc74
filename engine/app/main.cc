// acdd: the ACD engine daemon.
//
//   acdd --config FILE [--check] [--log-level LEVEL]
//   acdd migrate --config FILE
//   acdd config diff|apply|export ...   (see engine/app/config_cli.h)
//
// Exit codes: 0 success (or a valid file with --check); 1 invalid file with --check;
// 2 invalid configuration at start-up; 3 the database could not be opened or migrated;
// 64 bad command line.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "engine/app/config.h"
#include "engine/app/config_cli.h"
#include "engine/app/daemon.h"
#include "engine/app/database.h"
#include "engine/app/name_registry.h"

namespace {

constexpr int kExitInvalidCheck = 1;
constexpr int kExitInvalidConfig = 2;
constexpr int kExitDatabase = 3;
constexpr int kExitUsage = 64;

void usage(std::ostream& out) {
  out << "usage: acdd --config FILE [--check] [--log-level LEVEL]\n"
         "       acdd migrate --config FILE\n"
      << acd::app::config_command_usage()
      << "  migrate            open the database (starting the embedded cluster if no\n"
         "                     database.dsn is set), apply pending migrations, print the\n"
         "                     schema version, stop\n"
         "  config diff FILE   compare FILE's tenants with the configuration in the database\n"
         "                     (DAEMONFILE's database.*); --prune: also list the database's\n"
         "                     tenants FILE does not name\n"
         "  config apply FILE  print the difference, then make the database equal to FILE's\n"
         "                     tenants in one transaction, after --yes or a \"y\" on a\n"
         "                     terminal; --prune also deletes the tenants FILE lacks.\n"
         "                     An invalid FILE exits 2 with every error, touching nothing\n"
         "  config export      print the database's configuration as YAML (--tenant NAME:\n"
         "                     one tenant; --output FILE: write it there)\n"
         "  --config FILE      the YAML configuration (see config/acdd.yaml)\n"
         "  --check            validate the configuration and exit (0 valid, 1 invalid);\n"
         "                     touches no database\n"
         "  --log-level LEVEL  trace, debug, info, warn, error, critical or off;\n"
         "                     overrides log.level in the file\n"
         "  --version          print the version and exit\n";
}

// `acdd migrate`: prints what it applied; the embedded cluster is stopped on return.
int run_migrate(const acd::app::DaemonConfig& config) {
  auto opened = acd::app::open_database(config.database, /*migrate=*/true);
  if (!opened) {
    std::cerr << "acdd migrate: " << opened.error().message << "\n";
    return kExitDatabase;
  }
  const auto& db = opened.value();
  if (db.cluster)
    std::cout << "database: embedded cluster in " << db.cluster->dir().string() << "\n";
  for (int version : db.report.applied) {
    std::cout << "applied " << acd::app::migration_label(version) << "\n";
  }
  if (db.report.applied.empty()) std::cout << "nothing to apply\n";
  std::cout << "schema version " << acd::app::migration_label(db.report.version) << "\n";
  if (db.cluster) {
    auto stopped = db.cluster->stop();
    if (!stopped) {
      std::cerr << "acdd migrate: " << stopped.error().message << "\n";
      return kExitDatabase;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "config") {
    return acd::app::run_config_command(argc - 2, argv + 2, std::cin, std::cout, std::cerr,
                                        ::isatty(STDIN_FILENO) == 1);
  }
  acd::app::DaemonOptions options;
  bool check = false;
  bool migrate = false;
  int first = 1;
  if (argc > 1 && std::string_view(argv[1]) == "migrate") {
    migrate = true;
    first = 2;
  }
  for (int i = first; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> std::optional<std::string> {
      if (arg.starts_with(std::string(name) + "=")) return std::string(arg.substr(name.size() + 1));
      if (arg == name && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (arg == "--check" && !migrate) {
      check = true;
    } else if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    } else if (arg == "--version") {
      std::cout << "acdd " << acd::app::version() << "\n";
      return 0;
    } else if (arg.starts_with("--config")) {
      auto v = value("--config");
      if (!v || v->empty()) {
        std::cerr << "acdd: --config needs a file\n";
        return kExitUsage;
      }
      options.config_path = *v;
    } else if (arg.starts_with("--log-level")) {
      auto v = value("--log-level");
      auto level = v ? acd::app::parse_log_level(*v) : std::nullopt;
      if (!level) {
        std::cerr << "acdd: --log-level expects trace, debug, info, warn, error, critical or off\n";
        return kExitUsage;
      }
      options.log_level = level;
    } else {
      std::cerr << "acdd: unknown argument \"" << arg << "\"\n";
      usage(std::cerr);
      return kExitUsage;
    }
  }
  if (options.config_path.empty()) {
    std::cerr << "acdd: --config is required\n";
    usage(std::cerr);
    return kExitUsage;
  }

  try {
    acd::app::NameRegistry registry;
    auto loaded = acd::app::load_config_file(options.config_path, registry);
    if (!loaded.ok()) {
      for (const auto& error : loaded.error()) std::cerr << error.to_string() << "\n";
      std::cerr << options.config_path << ": " << loaded.error().size()
                << (loaded.error().size() == 1 ? " error" : " errors") << "\n";
      return check ? kExitInvalidCheck : kExitInvalidConfig;
    }
    if (migrate) return run_migrate(loaded.value());
    if (check) {
      const auto& domain = loaded->domain;
      std::cout << options.config_path << ": OK (" << domain.tenants.size() << " tenants, "
                << domain.agents.size() << " agents, " << domain.queues.size() << " queues, "
                << domain.members.size() << " memberships)\n";
      return 0;
    }
    acd::app::Daemon daemon(std::move(options), std::move(loaded).value(), std::move(registry));
    return daemon.run();
  } catch (const std::exception& e) {
    std::cerr << "acdd: fatal: " << e.what() << "\n";
    return 1;
  }
}
