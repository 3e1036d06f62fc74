#include "engine/app/config_cli.h"

#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "engine/app/config.h"
#include "engine/app/config_db.h"
#include "engine/app/database.h"
#include "engine/app/name_registry.h"

namespace acd::app {
namespace {

constexpr int kExitDeclined = 1;
constexpr int kExitInvalidConfig = 2;
constexpr int kExitDatabase = 3;
constexpr int kExitUsage = 64;

struct Args {
  std::string command;  // diff, apply, export
  std::string file;
  std::string config;
  std::optional<std::string> tenant;
  std::string output;
  bool yes = false;
  bool prune = false;
};

void print_errors(const std::string& file, const std::vector<ConfigError>& errors,
                  std::ostream& err) {
  for (const auto& e : errors) err << e.to_string() << "\n";
  err << file << ": " << errors.size() << (errors.size() == 1 ? " error" : " errors") << "\n";
}

// Stops the embedded cluster (if any) when the command ends.
struct OpenedDatabase {
  Database db;
  ~OpenedDatabase() {
    if (db.cluster) (void)db.cluster->stop();
  }
};

}  // namespace

const char* config_command_usage() {
  return "       acdd config diff FILE --config DAEMONFILE [--prune]\n"
         "       acdd config apply FILE --config DAEMONFILE [--yes] [--prune]\n"
         "       acdd config export --config DAEMONFILE [--tenant NAME] [--output FILE]\n";
}

int run_config_command(int argc, const char* const* argv, std::istream& in, std::ostream& out,
                       std::ostream& err, bool interactive) {
  Args args;
  auto usage_error = [&](const std::string& message) {
    err << "acdd config: " << message << "\nusage:\n" << config_command_usage();
    return kExitUsage;
  };
  if (argc < 1) return usage_error("expected diff, apply or export");
  args.command = argv[0];
  if (args.command != "diff" && args.command != "apply" && args.command != "export")
    return usage_error("unknown command \"" + args.command + "\"; expected diff, apply or export");
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> std::optional<std::string> {
      if (arg.starts_with(std::string(name) + "=")) return std::string(arg.substr(name.size() + 1));
      if (arg == name && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (arg == "--yes" && args.command == "apply") {
      args.yes = true;
    } else if (arg == "--prune" && args.command != "export") {
      args.prune = true;
    } else if (arg.starts_with("--config")) {
      auto v = value("--config");
      if (!v || v->empty()) return usage_error("--config needs a file");
      args.config = *v;
    } else if (arg.starts_with("--tenant") && args.command == "export") {
      auto v = value("--tenant");
      if (!v || v->empty()) return usage_error("--tenant needs a name");
      args.tenant = *v;
    } else if (arg.starts_with("--output") && args.command == "export") {
      auto v = value("--output");
      if (!v || v->empty()) return usage_error("--output needs a file");
      args.output = *v;
    } else if (!arg.starts_with("-") && args.file.empty() && args.command != "export") {
      args.file = arg;
    } else {
      return usage_error("unexpected argument \"" + std::string(arg) + "\"");
    }
  }
  if (args.config.empty()) return usage_error("--config DAEMONFILE is required");
  if (args.command != "export" && args.file.empty())
    return usage_error("the configuration FILE to compare is required");

  try {
    NameRegistry daemon_registry;
    auto daemon = load_config_file(args.config, daemon_registry);
    if (!daemon.ok()) {
      print_errors(args.config, daemon.error(), err);
      return kExitInvalidConfig;
    }
    std::optional<DaemonConfig> file;
    if (args.command != "export") {
      NameRegistry registry;
      // Queues may name the music-on-hold classes of the daemon's file, which plays them
      // (FILE may hold only tenants).
      LoadOptions options;
      options.music_on_hold_classes = music_on_hold_names(daemon.value());
      auto loaded = load_config_file(args.file, registry, options);
      if (!loaded.ok()) {
        print_errors(args.file, loaded.error(), err);
        err << "acdd config " << args.command << ": " << args.file
            << " is invalid; the database was not touched\n";
        return kExitInvalidConfig;
      }
      for (const auto& w : loaded->warnings) err << "warning: " << w.to_string() << "\n";
      file = std::move(loaded).value();
    }

    OpenedDatabase opened;
    {
      auto db = open_database(daemon->database, /*migrate=*/true);
      if (!db) {
        err << "acdd config: " << db.error().message << "\n";
        return kExitDatabase;
      }
      opened.db = std::move(db).value();
    }
    const std::string& dsn = opened.db.dsn;

    if (args.command == "export") {
      auto text = export_config(dsn, args.tenant);
      if (!text) {
        err << "acdd config export: " << text.error() << "\n";
        return kExitDatabase;
      }
      if (args.output.empty()) {
        out << text.value();
      } else {
        std::ofstream file_out(args.output, std::ios::binary | std::ios::trunc);
        file_out << text.value();
        file_out.close();
        if (!file_out) {
          err << "acdd config export: cannot write " << args.output << "\n";
          return kExitUsage;
        }
      }
      return 0;
    }

    auto diff = diff_config(dsn, *file, args.prune);
    if (!diff) {
      err << "acdd config " << args.command << ": " << diff.error() << "\n";
      return kExitDatabase;
    }
    for (const auto& line : diff.value()) out << line << "\n";
    if (diff->empty()) {
      out << "no differences: the database matches " << args.file << "\n";
      return 0;
    }
    if (args.command == "diff") return 0;

    if (!args.yes) {
      if (!interactive) {
        err << "acdd config apply: not applied: confirm with --yes (standard input is not a "
               "terminal to ask on)\n";
        return kExitDeclined;
      }
      out << "Apply these " << diff->size() << " changes? [y/N] " << std::flush;
      std::string answer;
      std::getline(in, answer);
      if (answer != "y" && answer != "Y" && answer != "yes") {
        out << "not applied\n";
        return kExitDeclined;
      }
    }
    ApplyOptions options;
    options.prune = args.prune;
    options.expected_diff = diff.value();
    auto applied = apply_config(dsn, *file, options);
    if (!applied) {
      err << "acdd config apply: " << applied.error() << "\n";
      return kExitDatabase;
    }
    out << "applied: " << applied->diff.size() << " changes, " << applied->rows_written
        << " rows written\n";
    return 0;
  } catch (const std::exception& e) {
    err << "acdd config: fatal: " << e.what() << "\n";
    return kExitDatabase;
  }
}

}  // namespace acd::app
