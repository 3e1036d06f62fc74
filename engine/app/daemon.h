// Daemon: the acdd process around the routing core. It owns the core thread, the event
// logger and (when configured) the demo traffic, applies the configuration, and handles
// signals on the main thread with asio::signal_set:
//   SIGINT / SIGTERM  graceful drain: stop demo arrivals (no new calls), wait until no
//                     call is left in the system or shutdown.drain_timeout passes, logging
//                     progress, then stop the core thread; a second signal stops at once.
//   SIGHUP            re-read and validate the configuration file (its daemon settings:
//                     log, demo, ...); if invalid, log every error and keep the running
//                     configuration; if valid, resync the domain from the database and
//                     apply both on the core thread (event=config.reloaded).
// Before serving, run() opens the database (database.*: the configured DSN, or the
// embedded cluster it starts) and applies pending migrations; if that fails it logs
// event=database.failed and returns 3. The embedded cluster is stopped on the way out.
//
// The domain configuration (tenants, agents, queues, ...) comes from the database. At the
// first start, when the database holds no tenant, the file's tenants are applied to it
// (event=config.seeded). Afterwards the file's tenants are not used: `acdd config apply`
// changes the database, and a ConfigWatcher (LISTEN acd_config) tells the daemon, which
// reloads the domain from the database and applies it live (waiting calls are
// re-evaluated by the core). While the database is unreachable the running
// configuration stays in force; after a reconnect the watcher asks for a full resync.
//
// Records: a CallRecorder (the first core listener) turns core events into history
// records and hands them to the RecordStore, which spools them and ships them to
// PostgreSQL (engine/store/record_store.h).
// Thread-safety: construct and run() on the main thread; everything else happens inside
// run(), on the main thread or (through CoreThread) on the core thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/api_server.h"
#include "engine/app/api_wiring.h"
#include "engine/app/call_recorder.h"
#include "engine/app/config.h"
#include "engine/app/config_admin_worker.h"
#include "engine/app/core_event_logger.h"
#include "engine/app/core_thread.h"
#include "engine/app/database.h"
#include "engine/app/demo_traffic.h"
#include "engine/app/flow_wiring.h"
#include "engine/app/metrics.h"
#include "engine/app/metrics_server.h"
#include "engine/app/name_registry.h"
#include "engine/app/sip_wiring.h"
#include "engine/media/asio_media_engine.h"
#include "engine/store/config_watcher.h"
#include "engine/store/record_store.h"

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
  void stop_records();
  void close_store();
  bool start_sip();
  void stop_sip();
  bool start_api();  // the gRPC API, when api.listen is set
  void stop_api();
  bool start_metrics();  // the Prometheus endpoint, when metrics.listen is set
  void stop_metrics();
  bool start_media();  // loads the music-on-hold classes and starts the media thread
  void stop_media();
  void wait_for_signal();
  void wait_for_hangup();
  void reload();
  // Call-flow scripts read queue figures from the core thread's published snapshot.
  [[nodiscard]] FlowHostSources flow_host_sources();
  // The file's daemon settings with the database's domain configuration; nullopt (after
  // logging why) when the database's configuration cannot be read or is invalid.
  std::optional<DaemonConfig> with_database_domain(const DaemonConfig& file, bool seed);
  // Applies `config` on the core thread and makes it current; false if the core refused.
  bool apply_running(std::shared_ptr<const DaemonConfig> config, const char* why);
  void resync_from_database();
  void begin_shutdown(int signal_number);
  void on_calls_in_system(int calls);
  void finish(const char* why);

  DaemonOptions options_;
  std::shared_ptr<const DaemonConfig> config_;  // what runs
  DaemonConfig file_config_;                    // the file as last loaded
  std::string dsn_;                             // the database in use
  std::unique_ptr<store::ConfigWatcher> watcher_;
  std::atomic<bool> resync_queued_{false};  // a resync is posted to io_
  NameRegistry registry_;

  boost::asio::io_context io_;  // the main thread's: signals and the drain timer
  boost::asio::signal_set stop_signals_;
  boost::asio::signal_set hangup_signal_;
  boost::asio::steady_timer drain_timer_;

  std::unique_ptr<store::EmbeddedCluster> cluster_;  // the embedded database, if started
  std::unique_ptr<store::RecordStore> records_;      // the store worker (spool + shipping)
  std::unique_ptr<CallRecorder> recorder_;           // core events -> records_

  CoreThread thread_;
  CoreEventLogger event_logger_;
  std::unique_ptr<DrainWatcher> drain_watcher_;
  std::unique_ptr<DemoTraffic> demo_;
  std::unique_ptr<media::AsioMediaEngine> media_;               // the RTP plane, with SIP
  std::atomic<sip::SipService*> media_events_target_{nullptr};  // the media thread's events go here
  std::unique_ptr<sip::SipService> sip_;                        // the SIP side, when sip.enabled
  std::unique_ptr<SipEventForwarder> sip_forwarder_;            // core events -> sip_
  // call.lookup of call flows: its own worker, stopped after the SIP side (whose calls
  // it answers), while the API's (customers_) stops before.
  std::unique_ptr<store::CustomerLookup> flow_customers_;
  std::unique_ptr<store::CustomerLookup> customers_;  // the API's screen pops
  // The API's call searches and reports.
  std::unique_ptr<store::ReportQueries> reports_;
  std::unique_ptr<ConfigAdminWorker> admin_;  // the API's configuration administration
  std::unique_ptr<ApiEventFeed> api_feed_;    // the core's events to the API's streams
  std::unique_ptr<api::ApiServer> api_;       // the gRPC API, when api.listen
  bool sip_stopped_ = false;                  // stop_sip() has run
  std::vector<std::unique_ptr<DemoTraffic>> retired_demos_;  // disabled by a reload

  // The Prometheus endpoint, when metrics.listen; the tenant names its scrapes use (set at
  // start and on every reload, read on the endpoint's thread).
  std::unique_ptr<MetricsServer> metrics_;
  SharedNameTable metrics_names_;

  bool draining_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
};

}  // namespace acd::app
