// Daemon: the acdd process around the routing core. It owns the core thread, the event
// logger and (when configured) the demo traffic, applies the configuration, and handles
// signals on the main thread with asio::signal_set:
//   SIGINT / SIGTERM  graceful drain: stop demo arrivals (no new calls), wait until no
//                     call is left in the system or shutdown.drain_timeout passes, logging
//                     progress, then stop the core thread; a second signal stops at once.
//   SIGHUP            re-read and validate the configuration file; if invalid, log every
//                     error and keep the running configuration; if valid, apply it on the
//                     core thread and log event=config.reloaded.
// Before serving, run() opens the database (database.*: the configured DSN, or the
// embedded cluster it starts) and applies pending migrations; if that fails it logs
// event=database.failed and returns 3. The embedded cluster is stopped on the way out.
// Thread-safety: construct and run() on the main thread; everything else happens inside
// run(), on the main thread or (through CoreThread) on the core thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/app/config.h"
#include "engine/app/core_event_logger.h"
#include "engine/app/core_thread.h"
#include "engine/app/database.h"
#include "engine/app/demo_traffic.h"
#include "engine/app/name_registry.h"

namespace acd::app {

// The version acdd reports.
const char* version();

struct DaemonOptions {
  std::string config_path;
  std::optional<LogLevel> log_level;  // --log-level: overrides log.level, also after reloads
};

class Daemon {
 public:
  // `config` was loaded from options.config_path with `registry`, which the daemon keeps
  // for the process lifetime so reloads keep ids stable.
  Daemon(DaemonOptions options, DaemonConfig config, NameRegistry registry);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until shutdown; returns the process exit code.
  int run();

 private:
  class DrainWatcher;

  void configure_logs(const DaemonConfig& config) const;
  bool open_store();
  void close_store();
  void wait_for_signal();
  void wait_for_hangup();
  void reload();
  void begin_shutdown(int signal_number);
  void on_calls_in_system(int calls);
  void finish(const char* why);

  DaemonOptions options_;
  std::shared_ptr<const DaemonConfig> config_;
  NameRegistry registry_;

  boost::asio::io_context io_;  // the main thread's: signals and the drain timer
  boost::asio::signal_set stop_signals_;
  boost::asio::signal_set hangup_signal_;
  boost::asio::steady_timer drain_timer_;

  std::unique_ptr<store::EmbeddedCluster> cluster_;  // the embedded database, if started

  CoreThread thread_;
  CoreEventLogger event_logger_;
  std::unique_ptr<DrainWatcher> drain_watcher_;
  std::unique_ptr<DemoTraffic> demo_;
  std::vector<std::unique_ptr<DemoTraffic>> retired_demos_;  // disabled by a reload

  bool draining_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
};

}  // namespace acd::app
