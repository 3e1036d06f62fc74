#include "engine/app/daemon.h"

#include <unistd.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/app/api_wiring.h"
#include "engine/app/call_ids.h"
#include "engine/app/config_db.h"
#include "engine/app/flow_wiring.h"
#include "engine/app/logging.h"
#include "engine/core/routing_core.h"

#ifndef ACD_VERSION
#define ACD_VERSION "0.0.0-dev"
#endif

namespace acd::app {
namespace {

const char* signal_name(int signal_number) {
  switch (signal_number) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
  }
  return "signal";
}

// api.tls as one line for the log: "off", or its files.
std::string tls_text(const std::optional<ApiTlsConfig>& tls) {
  if (!tls) return "off";
  std::string text = "certificate=" + tls->certificate + " private_key=" + tls->private_key;
  if (!tls->client_ca.empty()) text += " client_ca=" + tls->client_ca;
  if (tls->require_client_certificate) text += " require_client_certificate";
  return text;
}

// The settings a running daemon read once, at start (the API's and the metrics
// endpoint's sockets and TLS): a reload that changes them says so, and they take effect
// at the next start.
void warn_restart_only_changes(const DaemonConfig& running, const DaemonConfig& loaded) {
  auto changed = [](const char* setting, const std::string& now, const std::string& wanted) {
    if (now == wanted) return;
    log_event(LogLevel::kWarn, "config.restart_needed",
              {{"setting", setting},
               {"running", now},
               {"configured", wanted},
               {"action", "the running value stays; restart acdd to apply it"}});
  };
  changed("api.listen", running.api.listen, loaded.api.listen);
  changed("api.tls", tls_text(running.api.tls), tls_text(loaded.api.tls));
  changed("metrics.listen", running.metrics.listen, loaded.metrics.listen);
}

// The call_recordings row of a recording the media engine finished (on the recorder's
// thread).
store::RecordingRecord recording_record(const media::RecordingResult& result, std::int64_t run_id) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  const bool voicemail = (result.token & sip::kVoicemailToken) != 0;
  store::RecordingRecord record;
  record.call_id = static_cast<std::int64_t>(result.token & ~sip::kVoicemailToken);
  record.run_id = run_id;
  record.kind = voicemail ? "voicemail" : "call";
  record.path = result.path;
  // A voicemail message is recorded mixed: one channel.
  record.mode = voicemail ? "mono" : media::to_string(result.mode);
  // The SIP side files a message as <voicemail directory>/<tenant>/<mailbox>/<call>.wav.
  if (voicemail) record.mailbox = std::filesystem::path(result.path).parent_path().filename();
  record.duration_ms = static_cast<std::int64_t>(result.duration_ms());
  record.started_at = duration_cast<microseconds>(result.started_at.time_since_epoch()).count();
  record.ended_at = store::now_micros();
  record.ok = result.ok;
  record.error = result.error;
  return record;
}

std::vector<LogField> config_counts(const DaemonConfig& config) {
  return {{"tenants", config.domain.tenants.size()}, {"skills", config.domain.skills.size()},
          {"teams", config.domain.teams.size()},     {"agents", config.domain.agents.size()},
          {"queues", config.domain.queues.size()},   {"members", config.domain.members.size()}};
}

}  // namespace

const char* version() {
  return ACD_VERSION;
}

// While the daemon drains, counts the calls left after every call that ends and reports
// the count to the main thread. Thread-safety: a CoreListener (core thread); start() from
// any thread.
class Daemon::DrainWatcher final : public CoreListener {
 public:
  DrainWatcher(CoreThread& thread, Daemon& daemon) : thread_(thread), daemon_(daemon) {}

  void start() {
    active_.store(true);
    check();
  }

  void on_core_event(const core::CoreEvent& event, const core::RoutingCore&) override {
    if (active_.load(std::memory_order_relaxed) &&
        std::holds_alternative<core::CallFinished>(event)) {
      check();  // the count is read by a command, after the event's command has finished
    }
  }

 private:
  void check() {
    thread_.submit([this](core::RoutingCore& core) {
      const int calls = static_cast<int>(core.calls_in_system());
      boost::asio::post(daemon_.io_, [d = &daemon_, calls] { d->on_calls_in_system(calls); });
    });
  }

  CoreThread& thread_;
  Daemon& daemon_;
  std::atomic<bool> active_{false};
};

Daemon::Daemon(DaemonOptions options, DaemonConfig config, NameRegistry registry)
    : options_(std::move(options)),
      config_(std::make_shared<const DaemonConfig>(std::move(config))),
      registry_(std::move(registry)),
      stop_signals_(io_, SIGINT, SIGTERM),
      hangup_signal_(io_, SIGHUP),
      drain_timer_(io_),
      thread_(CoreThread::Options{config_->core.snapshot_interval, config_->core.random_seed, 256,
                                  config_->core.realtime_priority}),
      event_logger_(config_->names),
      drain_watcher_(std::make_unique<DrainWatcher>(thread_, *this)) {
  file_config_ = *config_;
}

Daemon::~Daemon() {
  if (watcher_) watcher_->stop();
  stop_metrics();
  stop_api();
  stop_sip();
  thread_.stop();
  stop_records();
  close_store();
}

bool Daemon::open_store() {
  const DatabaseConfig& config = config_->database;
  log_event(LogLevel::kInfo, "database.opening",
            {{"embedded", config.dsn.empty()},
             {"data_dir", config.dsn.empty() ? config.data_dir : std::string()},
             {"migrate", config.migrate_on_start}});
  auto opened = open_database(config, config.migrate_on_start);
  if (!opened) {
    log_event(LogLevel::kCritical, "database.failed",
              {{"error", opened.error().message},
               {"action", "exiting; fix database.* in the configuration or the server"}});
    return false;
  }
  Database db = std::move(opened).value();
  cluster_ = std::move(db.cluster);
  dsn_ = db.dsn;
  if (db.migrated) {
    std::string applied;
    for (int v : db.report.applied) applied += (applied.empty() ? "" : ",") + migration_label(v);
    log_event(LogLevel::kInfo, "database.migrated",
              {{"schema_version", db.report.version},
               {"applied", applied.empty() ? std::string("none") : applied}});
  }
  log_event(LogLevel::kInfo, "database.ready",
            {{"embedded", cluster_ != nullptr},
             {"socket_dir", cluster_ ? cluster_->dir().string() : std::string()}});

  store::RecordStoreOptions records;
  records.dsn = db.dsn;
  records.spool_dir = config.spool_dir;
  records.run_id = store::make_run_id();
  records.log = [](bool is_error, const std::string& message) {
    log_event(is_error ? LogLevel::kError : LogLevel::kInfo, "records", {{"message", message}});
  };
  auto opened_records = store::RecordStore::open(std::move(records));
  if (!opened_records) {
    log_event(LogLevel::kCritical, "records.failed",
              {{"error", opened_records.error().message},
               {"action", "exiting; database.spool_dir must be a writable directory"}});
    close_store();
    return false;
  }
  records_ = std::move(opened_records).value();
  recorder_ = std::make_unique<CallRecorder>(
      records_->run_id(), config_->names,
      [store = records_.get()](store::Record&& record) { store->submit(std::move(record)); });
  log_event(LogLevel::kInfo, "records.ready",
            {{"spool_dir", config.spool_dir}, {"run_id", records_->run_id()}});
  return true;
}

void Daemon::stop_records() {
  if (!records_) return;
  records_->stop(
      std::chrono::duration_cast<std::chrono::milliseconds>(config_->database.stop_ship_timeout));
  const auto stats = records_->stats();
  log_event(stats.backlog == 0 ? LogLevel::kInfo : LogLevel::kWarn, "records.stopped",
            {{"run_id", records_->run_id()},
             {"records", stats.spooled},
             {"inserted", stats.inserted},
             {"duplicates", stats.duplicates},
             {"left_in_spool", stats.backlog},
             {"database_failures", stats.db_failures}});
  records_.reset();
}

void Daemon::close_store() {
  if (!cluster_) return;
  auto stopped = cluster_->stop();
  if (stopped.ok()) {
    log_event(LogLevel::kInfo, "database.stopped", {{"dir", cluster_->dir().string()}});
  } else {
    log_event(LogLevel::kError, "database.stop_failed", {{"error", stopped.error().message}});
  }
  cluster_.reset();
}

bool Daemon::start_media() {
  const MediaConfig& config = config_->media;
  std::vector<media::MohClass> classes;
  for (const auto& c : config.music_on_hold) {
    std::string error;
    auto moh = media::load_moh_class(c.name, c.mode, {c.path}, &error);
    if (!moh) {
      log_event(LogLevel::kCritical, "media.failed",
                {{"error", "music-on-hold class '" + c.name + "': " + error},
                 {"action", "exiting; fix sip.media.music_on_hold in the configuration"}});
      return false;
    }
    log_event(LogLevel::kInfo, "media.moh_loaded",
              {{"class", c.name},
               {"mode", media::to_string(c.mode)},
               {"seconds", moh->audio->frames() / 50}});
    classes.push_back(std::move(*moh));
  }
  media::AsioMediaOptions options;
  options.relearn_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.latch_relearn_after);
  options.rtcp_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.rtcp_interval);
  options.realtime_priority = config.realtime_priority;
  options.warn = [](const std::string& message) {
    log_event(LogLevel::kWarn, "media.warning", {{"message", message}});
  };
  media::MediaEvents events;
  events.on_dtmf = [this](media::StreamId stream, char key) {
    if (sip::SipService* sip = media_events_target_.load(std::memory_order_acquire))
      sip->on_dtmf(stream, key);
  };
  // On the recorder's thread. The record store outlives the recorder: stop_media()
  // destroys the media engine, whose recorder finishes and reports the files still open,
  // before stop_records() runs.
  events.on_recording_done = [records = records_.get()](const media::RecordingResult& r) {
    const bool voicemail = (r.token & sip::kVoicemailToken) != 0;
    log_event(r.ok ? LogLevel::kInfo : LogLevel::kError,
              voicemail ? "voicemail.recorded" : "call.recorded",
              {{"call", r.token & ~sip::kVoicemailToken},
               {"path", r.path},
               {"duration_ms", r.duration_ms()},
               {"ok", r.ok},
               {"error", r.error}});
    if (records != nullptr) records->submit(recording_record(r, records->run_id()));
  };
  events.on_prompts_done = [this](media::StreamId stream, std::uint64_t token, bool completed) {
    if (sip::SipService* sip = media_events_target_.load(std::memory_order_acquire))
      sip->on_prompts_done(stream, token, completed);
  };
  media_ = std::make_unique<media::AsioMediaEngine>(std::move(options), std::move(events));
  media_->set_moh_classes(std::move(classes));
  media_->start();
  log_event(LogLevel::kInfo, "media.started", {{"io", media_->io_backend()}});
  return true;
}

void Daemon::stop_media() {
  if (!media_) return;
  media_events_target_.store(nullptr, std::memory_order_release);
  media_->stop();
  const auto stats = media_->stats();
  std::uint64_t dropped = 0;
  for (auto d : stats.dropped) dropped += d;
  log_event(LogLevel::kInfo, "media.stopped",
            {{"packets_received", stats.packets_received},
             {"packets_sent", stats.packets_sent},
             {"packets_relayed", stats.packets_relayed},
             {"dropped", dropped},
             {"send_failures", stats.send_failures},
             {"late_ticks", stats.late_ticks}});
  // Joins the recorder's thread: the recordings the streams' close left to finish are
  // reported (and their records submitted) now, while the record store takes them. The
  // SIP side, stopped before, never calls the engine again.
  media_.reset();
}

bool Daemon::start_sip() {
  if (!config_->sip.enabled) return true;
  if (!start_media()) return false;
  sip::SipHooks hooks;
  hooks.submit = [this](std::function<void(core::RoutingCore&)> command) {
    return thread_.submit(
        [command = std::move(command)](core::RoutingCore& core) { command(core); });
  };
  hooks.next_call_id = [] { return core::CallId(next_call_id()); };
  hooks.log = make_sip_logger();
  // call.lookup of call flows: the customers table, like the desktops' screen pops.
  store::CustomerLookupOptions lookup;
  lookup.dsn = dsn_;
  lookup.previous_contacts = 0;  // a script sees the customer's record only
  lookup.log = [](bool is_error, const std::string& message) {
    log_event(is_error ? LogLevel::kWarn : LogLevel::kInfo, "sip.flow_customer_lookup",
              {{"message", message}});
  };
  flow_customers_ = std::make_unique<store::CustomerLookup>(std::move(lookup));
  hooks.lookup_customer = make_flow_customer_lookup(*flow_customers_);
  sip::SipOptions options = make_sip_options(config_->sip);
  options.recording_directory = config_->media.recording_directory;
  options.recording_mode = config_->media.recording_mode;
  options.voicemail_directory = config_->media.voicemail_directory;
  options.voicemail_max_length = config_->media.voicemail_max_length;
  options.announce_every = config_->media.announce_every;
  sip_ =
      sip::SipService::create(std::move(options), make_sip_directory(*config_, flow_host_sources()),
                              std::move(hooks), media_.get());
  media_events_target_.store(sip_.get(), std::memory_order_release);
  sip_forwarder_ = std::make_unique<SipEventForwarder>(*sip_);
  thread_.add_listener(sip_forwarder_.get());
  if (auto error = sip_->start()) {
    log_event(LogLevel::kCritical, "sip.failed",
              {{"error", *error}, {"action", "exiting; fix sip.* in the configuration"}});
    thread_.remove_listener(sip_forwarder_.get()).wait();
    media_events_target_.store(nullptr, std::memory_order_release);
    sip_.reset();
    flow_customers_.reset();
    stop_media();
    return false;
  }
  return true;
}

// The API answers from the core's thread: it starts once the core has its configuration.
bool Daemon::start_api() {
  if (config_->api.listen.empty()) return true;
  api::ApiOptions options;
  options.listen = config_->api.listen;
  if (const auto& tls = config_->api.tls) {
    // The PEM files are read now, once (the loader checked their paths); a change to them
    // takes a restart.
    api::ApiTlsOptions pem;
    pem.require_client_certificate = tls->require_client_certificate;
    const std::pair<const std::string*, std::string*> files[] = {
        {&tls->certificate, &pem.certificate_chain},
        {&tls->private_key, &pem.private_key},
        {&tls->client_ca, &pem.client_ca}};
    auto failed = [](const std::string& file, const std::string& error) {
      log_event(LogLevel::kCritical, "api.failed",
                {{"file", file},
                 {"error", error},
                 {"action", "exiting; fix api.tls in the configuration"}});
      return false;
    };
    constexpr std::streamsize kMaxPem = 1 << 20;
    for (const auto& [path, text] : files) {
      if (path->empty()) continue;
      std::ifstream in(*path, std::ios::binary);
      if (!in) return failed(*path, std::string("cannot open it: ") + std::strerror(errno));
      text->resize(kMaxPem + 1);
      in.read(text->data(), kMaxPem + 1);
      if (in.bad()) return failed(*path, std::string("cannot read it: ") + std::strerror(errno));
      if (in.gcount() > kMaxPem) return failed(*path, "larger than 1 MiB; expected a PEM file");
      text->resize(static_cast<std::size_t>(in.gcount()));
    }
    if (auto problem = api::check_tls(pem)) {
      using Part = api::ApiTlsProblem::Part;
      return failed(problem->part == Part::kCertificate  ? tls->certificate
                    : problem->part == Part::kPrivateKey ? tls->private_key
                                                         : tls->client_ca,
                    problem->what);
    }
    options.tls = std::move(pem);
  }
  api::ApiHooks hooks;
  hooks.submit = [this](std::function<void(core::RoutingCore&)> command) {
    return thread_.submit(std::move(command));
  };
  hooks.log = make_api_logger();
  // Call control (desktop hold and transfer, a supervisor's monitor and intercept): the
  // SIP side acts on it; it outlives the API (stop_api runs before stop_sip).
  if (sip_) {
    hooks.control_call = [sip = sip_.get()](core::CallControl request,
                                            std::function<void(core::Status)> done) {
      sip->control_call(std::move(request), std::move(done));
      return true;
    };
  }
  // Screen pops: the customer record and previous calls of a caller's number, looked up
  // on the lookup's own thread and connection.
  store::CustomerLookupOptions lookup;
  lookup.dsn = dsn_;
  lookup.log = [](bool is_error, const std::string& message) {
    log_event(is_error ? LogLevel::kWarn : LogLevel::kInfo, "api.customer_lookup",
              {{"message", message}});
  };
  customers_ = std::make_unique<store::CustomerLookup>(std::move(lookup));
  hooks.lookup_caller = make_caller_lookup(*customers_);
  // ReportService: call searches and the reports of the history, on the queries' own
  // thread and connection.
  store::ReportQueriesOptions report_queries;
  report_queries.dsn = dsn_;
  report_queries.log = [](bool is_error, const std::string& message) {
    log_event(is_error ? LogLevel::kWarn : LogLevel::kInfo, "api.report_queries",
              {{"message", message}});
  };
  reports_ = std::make_unique<store::ReportQueries>(std::move(report_queries));
  hooks.run_report = make_report_runner(*reports_);
  // AdminService: the configuration in the database, read and written on the worker's own
  // thread the way `acdd config apply` does it; the engine applies a change when the
  // ConfigWatcher hears of it, and Reload asks for the same resync now.
  ConfigAdminOptions admin;
  admin.dsn = dsn_;
  admin.music_on_hold_classes = music_on_hold_names(file_config_);
  for (const auto& tenant : file_config_.tenants)
    for (const auto& set : tenant.prompt_sets) admin.prompt_roots.push_back(set.path);
  admin.request_reload = [this] {
    if (!resync_queued_.exchange(true)) boost::asio::post(io_, [this] { resync_from_database(); });
  };
  admin_ = std::make_unique<ConfigAdminWorker>(std::move(admin));
  hooks.admin = admin_->hook();
  api_ = std::make_unique<api::ApiServer>(std::move(options), std::move(hooks),
                                          make_api_directory(*config_));
  if (auto error = api_->start()) {
    log_event(
        LogLevel::kCritical, "api.failed",
        {{"error", *error},
         {"action", config_->api.tls ? "exiting; fix api.listen or api.tls in the configuration"
                                     : "exiting; fix api.listen in the configuration"}});
    api_.reset();
    return false;
  }
  api_feed_ = std::make_unique<ApiEventFeed>(*api_);
  thread_.add_listener(api_feed_.get());
  return true;
}

// Stops taking API calls; the calls in progress finish (their commands run on the core
// thread, which still runs).
void Daemon::stop_api() {
  if (!api_) return;
  thread_.remove_listener(api_feed_.get()).wait();
  api_feed_.reset();
  api_->stop();
  // The lookups' callbacks post to the API's stream hub: they end before it is destroyed.
  customers_.reset();
  api_.reset();
  reports_.reset();  // after the API: no call waits for a report any more
  admin_.reset();
}

// The Prometheus endpoint, on its own thread. A scrape reads the core's last published
// snapshot (no waiting on the core thread) and the SIP, media and store counters (atomics,
// readable from any thread); those objects outlive the server, which stops first.
bool Daemon::start_metrics() {
  if (config_->metrics.listen.empty()) return true;
  metrics_names_.set(config_->names);
  MetricsServerOptions options;
  options.listen = config_->metrics.listen;
  const double started = process_start_time_seconds();
  metrics_ = std::make_unique<MetricsServer>(
      std::move(options),
      [this, started, sip = sip_.get(), media = media_.get(), records = records_.get()] {
        MetricsInputs in;
        in.core = thread_.latest_snapshot();
        in.tenant_name = [names = metrics_names_.get()](core::TenantId id) {
          return names ? names->tenant(id) : "#" + std::to_string(id.value);
        };
        if (sip != nullptr) in.sip = sip->stats();
        if (media != nullptr) in.media = media->stats();
        if (records != nullptr) in.records = records->stats();
        in.version = version();
        in.process_start_time_seconds = started;
        return render_metrics(in);
      });
  if (auto error = metrics_->start()) {
    log_event(LogLevel::kCritical, "metrics.failed",
              {{"error", *error}, {"action", "exiting; fix metrics.listen in the configuration"}});
    metrics_.reset();
    return false;
  }
  return true;
}

void Daemon::stop_metrics() {
  if (!metrics_) return;
  metrics_->stop();
  metrics_.reset();
}

// Ends the calls the SIP side still holds (BYE/CANCEL) and stops its thread; the core
// thread still runs, so commands the SIP side submitted on the way out are taken.
void Daemon::stop_sip() {
  if (!sip_ || sip_stopped_) return;
  sip_stopped_ = true;
  sip_->stop();
  // No call asks any more; what is still queued is answered into the stopped service.
  flow_customers_.reset();
  stop_media();
  const auto stats = sip_->stats();
  log_event(LogLevel::kInfo, "sip.stopped",
            {{"requests", stats.requests},
             {"registrations", stats.registrations},
             {"rejected_overload", stats.rejected_overload},
             {"rejected_source", stats.rejected_source},
             {"dropped_flood", stats.dropped_flood},
             {"bans", stats.bans}});
}

void Daemon::configure_logs(const DaemonConfig& config) const {
  configure_logging(options_.log_level.value_or(config.log.level), config.log.format);
}

int Daemon::run() {
  configure_logs(*config_);
  if (!open_store()) return 3;
  auto merged = with_database_domain(file_config_, /*seed=*/true);
  if (!merged) {
    stop_records();
    close_store();
    return 2;
  }
  config_ = std::make_shared<const DaemonConfig>(std::move(*merged));
  event_logger_.set_names(config_->names);
  recorder_->set_names(config_->names);
  // The recorder first: a record is spooled no later than anything else sees the event.
  thread_.add_listener(recorder_.get());
  thread_.add_listener(&event_logger_);
  thread_.add_listener(drain_watcher_.get());
  thread_.start();

  const auto config = config_;
  const core::Status applied = thread_
                                   .submit_and_wait([config](core::RoutingCore& core) {
                                     return core.apply_config(config->domain);
                                   })
                                   .get();
  if (!applied.is_ok()) {
    // The loader validates everything the core checks; reaching this is a bug in one of them.
    log_event(LogLevel::kCritical, "config.rejected",
              {{"config", config_->path}, {"error", applied.to_string()}});
    thread_.stop();
    stop_records();
    close_store();
    return 2;
  }

  if (!start_sip()) {
    thread_.stop();
    stop_records();
    close_store();
    return 3;
  }
  if (!start_api()) {
    stop_sip();
    thread_.stop();
    stop_records();
    close_store();
    return 3;
  }
  if (!start_metrics()) {
    stop_api();
    stop_sip();
    thread_.stop();
    stop_records();
    close_store();
    return 3;
  }

  std::vector<LogField> started{{"version", version()},
                                {"pid", static_cast<std::int64_t>(::getpid())},
                                {"config", config_->path}};
  for (const auto& f : config_counts(*config_)) started.push_back(f);
  started.emplace_back("demo", config_->demo.enabled);
  started.emplace_back("sip", config_->sip.enabled);
  log_event(LogLevel::kInfo, "started", started);

  if (config_->demo.enabled) {
    demo_ = std::make_unique<DemoTraffic>(thread_, *config_);
    demo_->start();
  }

  store::ConfigWatcherOptions watch;
  watch.dsn = dsn_;
  watch.on_change = [this](const store::ConfigChangeNotice& change) {
    log_event(LogLevel::kDebug, "config.changed",
              {{"tenants", change.tenants.size()}, {"full_resync", change.full_resync}});
    // Coalesced: one resync queued at a time; it reads the database after the change.
    if (!resync_queued_.exchange(true)) {
      boost::asio::post(io_, [this] { resync_from_database(); });
    }
  };
  watch.log = [](bool is_error, const std::string& message) {
    log_event(is_error ? LogLevel::kError : LogLevel::kInfo, "config.watch",
              {{"message", message}});
  };
  watcher_ = std::make_unique<store::ConfigWatcher>(std::move(watch));
  if (auto watching = watcher_->start(); !watching) {
    log_event(
        LogLevel::kError, "config.watch_failed",
        {{"error", watching.error().message}, {"action", "database changes apply only on SIGHUP"}});
  }

  wait_for_signal();
  wait_for_hangup();
  io_.run();
  return exit_code_;
}

void Daemon::wait_for_signal() {
  stop_signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    if (draining_) {
      log_event(LogLevel::kWarn, "shutdown.forced", {{"signal", signal_name(signal_number)}});
      finish("second-signal");
      return;
    }
    begin_shutdown(signal_number);
    wait_for_signal();
  });
}

void Daemon::wait_for_hangup() {
  hangup_signal_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (draining_) {
      log_event(LogLevel::kWarn, "config.reload_ignored", {{"why", "shutting down"}});
    } else {
      reload();
    }
    wait_for_hangup();
  });
}

FlowHostSources Daemon::flow_host_sources() {
  return FlowHostSources{[this] { return thread_.latest_snapshot(); }};
}

void Daemon::reload() {
  log_event(LogLevel::kInfo, "config.reloading", {{"config", options_.config_path}});
  auto loaded = load_config_file(options_.config_path, registry_);
  if (!loaded.ok()) {
    for (const auto& error : loaded.error()) {
      log_event(LogLevel::kError, "config.invalid", {{"error", error.to_string()}});
    }
    log_event(LogLevel::kError, "config.reload_failed",
              {{"config", options_.config_path},
               {"errors", loaded.error().size()},
               {"action", "keeping the running configuration"}});
    return;
  }
  file_config_ = std::move(loaded).value();
  warn_restart_only_changes(*config_, file_config_);
  auto merged = with_database_domain(file_config_, /*seed=*/false);
  if (!merged) return;
  apply_running(std::make_shared<const DaemonConfig>(std::move(*merged)), "sighup");
}

void Daemon::resync_from_database() {
  resync_queued_.store(false);
  if (draining_ || finished_) return;
  auto merged = with_database_domain(file_config_, /*seed=*/false);
  if (!merged) return;
  apply_running(std::make_shared<const DaemonConfig>(std::move(*merged)), "database");
}

std::optional<DaemonConfig> Daemon::with_database_domain(const DaemonConfig& file, bool seed) {
  if (seed && !file.tenants.empty()) {
    auto has = has_configuration(dsn_);
    if (!has) {
      log_event(LogLevel::kError, "config.database_failed", {{"error", has.error()}});
      return std::nullopt;
    }
    if (!has.value()) {
      auto applied = apply_config(dsn_, file);
      if (!applied) {
        log_event(LogLevel::kError, "config.seed_failed",
                  {{"error", applied.error()}, {"config", file.path}});
        return std::nullopt;
      }
      log_event(
          LogLevel::kInfo, "config.seeded",
          {{"from", file.path}, {"tenants", file.tenants.size()}, {"rows", applied->rows_written}});
    }
  }
  auto loaded = load_config_from_database(dsn_, registry_);
  if (!loaded.ok()) {
    for (const auto& error : loaded.error()) {
      log_event(LogLevel::kError, "config.invalid", {{"error", error.to_string()}});
    }
    log_event(LogLevel::kError, "config.database_invalid",
              {{"errors", loaded.error().size()}, {"action", "keeping the running configuration"}});
    return std::nullopt;
  }
  DaemonConfig merged = file;
  merged.tenants = std::move(loaded->tenants);
  merged.domain = std::move(loaded->domain);
  merged.names = loaded->names;
  // Demo traffic: the file's queues that the database has; all of them if none.
  std::vector<DemoQueue> demo_queues;
  for (const auto& q : file.demo.queues) {
    for (const auto& known : merged.domain.queues) {
      if (known.id == q.queue) demo_queues.push_back(q);
    }
  }
  merged.demo.queues = demo_queues.empty() ? loaded->demo.queues : std::move(demo_queues);
  if (!file.tenants.empty()) {
    const auto differences = diff_configs(merged, file, /*prune=*/false);
    if (!differences.empty()) {
      log_event(LogLevel::kWarn, "config.file_differs",
                {{"config", file.path},
                 {"differences", differences.size()},
                 {"first", differences.front()},
                 {"hint", "the database is the source of tenants; see acdd config diff/apply"}});
    }
  }
  return merged;
}

bool Daemon::apply_running(std::shared_ptr<const DaemonConfig> config, const char* why) {
  DemoTraffic* demo = demo_.get();
  const core::Status applied = thread_
                                   .submit_and_wait([this, config, demo](core::RoutingCore& core) {
                                     core::Status status = core.apply_config(config->domain);
                                     if (!status.is_ok()) return status;
                                     event_logger_.set_names(config->names);
                                     recorder_->set_names(config->names);
                                     if (demo != nullptr && config->demo.enabled)
                                       demo->update_config(*config, core);
                                     return status;
                                   })
                                   .get();
  if (!applied.is_ok()) {
    log_event(LogLevel::kError, "config.reload_failed",
              {{"source", why},
               {"error", applied.to_string()},
               {"action", "keeping the running configuration"}});
    return false;
  }
  config_ = std::move(config);
  configure_logs(*config_);
  if (sip_) sip_->set_directory(make_sip_directory(*config_, flow_host_sources()));
  if (api_) api_->set_directory(make_api_directory(*config_));
  metrics_names_.set(config_->names);
  if (config_->demo.enabled && !demo_) {
    demo_ = std::make_unique<DemoTraffic>(thread_, *config_);
    demo_->start();
  } else if (!config_->demo.enabled && demo_) {
    demo_->stop().wait();
    // The demo's timers may still have completions queued on the core thread; they find
    // nothing to do, but they refer to the object, so it lives until the thread stops.
    retired_demos_.push_back(std::move(demo_));
  }
  std::vector<LogField> fields{{"source", why}, {"config", config_->path}};
  for (const auto& f : config_counts(*config_)) fields.push_back(f);
  fields.emplace_back("demo", config_->demo.enabled);
  log_event(LogLevel::kInfo, "config.reloaded", fields);
  return true;
}

void Daemon::begin_shutdown(int signal_number) {
  draining_ = true;
  const auto snapshot = thread_.latest_snapshot();
  log_event(LogLevel::kInfo, "shutdown.begin",
            {{"signal", signal_name(signal_number)},
             {"calls_in_system", snapshot->calls_in_system},
             {"drain_timeout_ms", to_ms(config_->shutdown.drain_timeout)}});
  // No new calls: new INVITEs get 503, the demo stops generating callers.
  if (sip_) sip_->stop_accepting();
  if (demo_) demo_->stop_arrivals();
  drain_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      config_->shutdown.drain_timeout));
  drain_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const auto latest = thread_.latest_snapshot();
    log_event(LogLevel::kWarn, "shutdown.drain_timeout",
              {{"calls_in_system", latest->calls_in_system},
               {"drain_timeout_ms", to_ms(config_->shutdown.drain_timeout)}});
    finish("drain-timeout");
  });
  drain_watcher_->start();
}

void Daemon::on_calls_in_system(int calls) {
  if (!draining_ || finished_) return;
  log_event(LogLevel::kInfo, "shutdown.draining", {{"calls_in_system", calls}});
  if (calls == 0) finish("drained");
}

void Daemon::finish(const char* why) {
  if (finished_) return;
  finished_ = true;
  drain_timer_.cancel();
  if (watcher_) watcher_->stop();
  boost::system::error_code ignored;
  stop_signals_.cancel(ignored);
  hangup_signal_.cancel(ignored);
  if (demo_) demo_->stop();
  stop_metrics();
  stop_api();
  stop_sip();
  thread_.stop();
  const auto snapshot = thread_.latest_snapshot();
  stop_records();
  close_store();
  log_event(LogLevel::kInfo, "stopped",
            {{"reason", why}, {"calls_in_system", snapshot->calls_in_system}});
  exit_code_ = 0;
  io_.stop();
}

}  // namespace acd::app
