// The daemon's configuration: what acdd reads from its YAML file (see config/acdd.yaml,
// whose comments document every key). Loading validates everything (unknown keys,
// ranges, references, tenant isolation), resolves names to the core's ids through the
// process's NameRegistry, and reports every problem with file:line:column and key path.
// The domain part is held as the acd::core::CoreConfig that RoutingCore::apply_config
// takes; nothing else of the core is used here.
// Thread-safety: loading is a pure function of its inputs plus the registry it is given
// (see NameRegistry); a loaded DaemonConfig is a plain value.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/app/config_entities.h"
#include "engine/app/config_error.h"
#include "engine/app/name_registry.h"
#include "engine/app/name_table.h"
#include "engine/app/result.h"
#include "engine/core/model.h"
#include "engine/media/audio.h"
#include "engine/media/recorder.h"
#include "engine/sip/sip_service.h"

namespace acd::app {

enum class LogLevel : std::uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };
enum class LogFormat : std::uint8_t { kText, kJson };

const char* to_string(LogLevel level);
const char* to_string(LogFormat format);
// "trace", "debug", "info", "warn", "error", "critical", "off".
std::optional<LogLevel> parse_log_level(std::string_view text);

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
};

struct CoreSettings {
  core::Duration snapshot_interval = std::chrono::milliseconds(500);
  std::uint64_t random_seed = 0;  // 0: seeded from the clock at start
  int realtime_priority = 0;      // 1-99: the core thread runs SCHED_FIFO; 0: normal
};

struct ShutdownConfig {
  core::Duration drain_timeout = std::chrono::seconds(30);
};

// Where the daemon keeps its data (engine/store). With no DSN the daemon runs a private
// PostgreSQL cluster under data_dir (see engine/store/embedded_cluster.h).
struct DatabaseConfig {
  std::string dsn;                  // libpq connection string; empty: the embedded cluster
  std::string data_dir = "var/pg";  // the embedded cluster's directory (relative: to the cwd)
  bool migrate_on_start = true;     // apply pending migrations before serving
  // The record spool (engine/store/spool.h): every record is written here first.
  std::string spool_dir = "var/spool";
  // At shutdown, how long to keep shipping spooled records to the database; the rest is
  // shipped by the next run.
  core::Duration stop_ship_timeout = std::chrono::seconds(10);
};

// One address the SIP stack listens on.
// The SIP layer's options as the daemon's file gives them (sip::SipOptions, documented in
// engine/sip/sip_service.h), and whether to run it at all. Read at start only.
struct SipConfig : sip::SipOptions {
  // false: no SIP stack at all (the default; the example config enables it).
  bool enabled = false;

  // public_address, or the first listen address; "" when there is none.
  [[nodiscard]] std::string effective_public_address() const {
    if (!public_address.empty()) return public_address;
    return listen.empty() ? std::string() : listen.front().address;
  }
  // media_address, or the effective public address.
  [[nodiscard]] std::string effective_media_address() const {
    return media_address.empty() ? effective_public_address() : media_address;
  }
};
// The file's spellings.
const char* to_string(sip::SipOptions::UnknownSource action);  // "reject", "drop"
const char* to_string(sip::LoginOnRegister login);             // "none", "not-ready", "ready"

// A music-on-hold class (sip.media.music_on_hold): the audio of `path`, a file or the
// audio files of a directory in name order (media::audio_files). The loader only checks
// that the path exists; the daemon decodes the audio at start.
struct MohClassConfig {
  std::string name;
  std::string path;  // as written; a relative path is taken from the working directory
  media::MohMode mode = media::MohMode::kShared;
};

// The media plane (engine/media) beyond the RTP address and ports, which are in
// SipConfig: the file's sip.media section. Read at start only.
struct MediaConfig {
  // In file order; names are unique. A queue without music_on_hold plays the first.
  std::vector<MohClassConfig> music_on_hold;
  // How long a latched RTP source must be silent before another source may take its
  // place (symmetric RTP latching). > 0.
  core::Duration latch_relearn_after = std::chrono::seconds(5);
  // The interval of RTCP reports. >= 1s.
  core::Duration rtcp_interval = std::chrono::seconds(5);
  int realtime_priority = 0;  // 1-99: the media thread runs SCHED_FIFO; 0: normal
  // Call recording (sip.media.recording): every answered inbound call is recorded to
  // <directory>/<tenant>/<YYYY-MM-DD>/<call id>.wav. Empty directory: no recording.
  std::string recording_directory;
  media::RecordingMode recording_mode = media::RecordingMode::kStereo;
  // Voicemail (sip.media.voicemail): messages go to <directory>/<tenant>/<mailbox>/;
  // empty: no voicemail. A message is cut at max_length (> 0).
  std::string voicemail_directory;
  core::Duration voicemail_max_length = std::chrono::minutes(2);
  // sip.media.announce_position_every: a waiting caller hears its place in the queue and
  // the estimated wait this often (the tenant's default-language prompt set). 0: never.
  core::Duration announce_every{0};
};

struct DemoQueue {
  core::TenantId tenant;
  core::QueueId queue;
  std::string name;  // "tenant/queue"
  double weight = 1.0;
};

// api.tls: the API's server certificate and, optionally, client certificates. The paths
// are checked when the file is loaded; the daemon reads the files when the API starts.
struct ApiTlsConfig {
  std::string certificate;  // PEM file: the server's certificate, then any intermediates
  std::string private_key;  // PEM file: its unencrypted private key
  // PEM file of the CA(s) whose client certificates are requested and verified; empty:
  // clients are not asked for a certificate.
  std::string client_ca;
  // true: a client without a certificate signed by client_ca is refused at the handshake
  // (needs client_ca). Bearer tokens are required either way.
  bool require_client_certificate = false;
};

// The gRPC API (engine/api): agent desktops, supervisor consoles, admin tools.
struct ApiConfig {
  // host:port to listen on ("127.0.0.1:50051", "[::1]:50051"); port 0: the kernel picks
  // one; empty: no API (the default).
  std::string listen;
  // nullopt: plain TCP (tokens travel in the clear: loopback only).
  std::optional<ApiTlsConfig> tls;
};

// The Prometheus metrics endpoint (engine/app/metrics_server.h): GET /metrics, /healthz.
struct MetricsConfig {
  // host:port to listen on ("127.0.0.1:9464"); port 0: the kernel picks one; empty: no
  // endpoint (the default).
  std::string listen;
};

// Simulated traffic, to watch the engine without real callers.
struct DemoConfig {
  bool enabled = false;
  std::uint64_t seed = 0;  // 0: seeded from the clock at start
  double calls_per_minute = 20.0;
  std::vector<DemoQueue> queues;  // empty in the file: every queue, weight 1
  core::Duration answer_delay = std::chrono::seconds(3);
  double no_answer_probability = 0.05;
  core::Duration mean_talk_time = std::chrono::seconds(60);
  core::Duration mean_patience = std::chrono::seconds(120);
  double vip_probability = 0.0;
  double break_probability = 0.05;
  core::Duration mean_break = std::chrono::seconds(60);
  core::Duration ready_delay = std::chrono::seconds(5);
  core::Duration manual_wrap_up_time = std::chrono::seconds(10);
  core::Duration report_interval = std::chrono::seconds(10);
};

// What the file says about a tenant beyond what the core keeps.
struct TenantSettings {
  core::TenantId id;
  std::string name;
  // The not-ready reasons agents may choose; break policies may only name these. Empty:
  // any reason. System reasons ("no-answer", "manual-ready") are always allowed.
  std::vector<std::string> not_ready_reasons;

  // The entities the routing core does not use (SIP, media and API layers do); see
  // config_entities.h. Lists are in file order.
  std::string sip_realm;  // as written; empty: the tenant's name (see realm())
  std::string default_language = "en";
  std::string time_zone = "UTC";
  std::vector<AgentSip> agent_sip;  // the agents that have a SIP phone, in file order
  std::vector<UserConfig> users;
  std::vector<PromptSetConfig> prompt_sets;
  std::vector<CalendarConfig> calendars;
  std::vector<IvrMenuConfig> ivr_menus;
  std::vector<CallFlowConfig> flows;
  std::vector<TrunkConfig> trunks;
  // Agents may transfer callers to numbers outside the tenant (default false: a
  // toll-fraud guard).
  bool allow_external_transfer = false;
  // The trunk (of this tenant, with an outbound URI) agents' outbound calls use; empty:
  // none.
  std::string outbound_trunk;

  // The SIP digest realm of the tenant's phones and trunks.
  [[nodiscard]] const std::string& realm() const { return sip_realm.empty() ? name : sip_realm; }
};

struct DaemonConfig {
  std::string path;  // the file it was loaded from, as given
  LogConfig log;
  CoreSettings core;
  ShutdownConfig shutdown;
  DatabaseConfig database;
  SipConfig sip;
  MediaConfig media;
  ApiConfig api;
  MetricsConfig metrics;
  DemoConfig demo;
  std::vector<TenantSettings> tenants;
  core::CoreConfig domain;                 // what RoutingCore::apply_config takes
  std::shared_ptr<const NameTable> names;  // every name the registry knows, by id
  // Accepted but worth fixing, e.g. a secret written in plaintext (the loader hashed it).
  std::vector<ConfigError> warnings;
};

using ConfigResult = Result<DaemonConfig, std::vector<ConfigError>>;

// What a document's references outside its tenants are checked against.
struct LoadOptions {
  // The music-on-hold classes a queue's music_on_hold may name. nullopt: the document's
  // own sip.media.music_on_hold (the daemon's file). A document of tenants only, such as
  // `acdd config apply FILE`'s, is checked against the daemon file's classes given here.
  std::optional<std::vector<std::string>> music_on_hold_classes;
  // false: a queue's music_on_hold is checked as a name only, not against any class (the
  // database's configuration: its classes are the daemon file's, not at hand there).
  bool check_music_on_hold = true;
  // false: a flow's `file:` is refused, so that a document sent through the API cannot
  // make the daemon read (and echo back in errors or exports) files of its host; such
  // documents give scripts as `source:`.
  bool allow_flow_files = true;

  // check_music_on_hold false.
  static LoadOptions music_on_hold_unchecked() {
    LoadOptions options;
    options.check_music_on_hold = false;
    return options;
  }
};

// The names of config.media.music_on_hold, in file order (for LoadOptions).
std::vector<std::string> music_on_hold_names(const DaemonConfig& config);

// Reads and validates `path`. Errors name `path` as given. On success the registry has
// learned the file's new names; on failure it is unchanged.
ConfigResult load_config_file(const std::string& path, NameRegistry& registry,
                              const LoadOptions& options = {});
// The same for text already in memory; `file_label` names it in messages.
ConfigResult load_config_text(std::string_view text, const std::string& file_label,
                              NameRegistry& registry, const LoadOptions& options = {});

// The routing core's configuration (a copy of config.domain).
core::CoreConfig to_core_config(const DaemonConfig& config);

}  // namespace acd::app
