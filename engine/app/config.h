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
struct SipListen {
  enum class Transport : std::uint8_t { kUdp, kTcp, kTls };
  Transport transport = Transport::kUdp;
  std::string address = "127.0.0.1";  // a literal IPv4 or IPv6 address (canonical, no brackets)
  std::uint16_t port = 5060;          // 0: any free port (tests); the file's default for tls: 5061
};
const char* to_string(SipListen::Transport transport);  // "udp", "tcp", "tls"

// The SIP layer (engine/sip): where it listens, how it guards itself, registration and
// session-timer limits. Read at start only. Every address is a literal IP address in
// canonical form (IPv6 without brackets).
struct SipConfig {
  // false: no SIP stack at all (the default; the example config enables it).
  bool enabled = false;
  // At least one when enabled; TLS needs tls_certificate_dir.
  std::vector<SipListen> listen;
  // The address written in Contact, Via and SDP; empty: the first listen address (which
  // is then not a wildcard, the loader checks).
  std::string public_address;
  // Directory with agent.pem (key and certificate) and optionally cafile.pem (sofia-sip's
  // layout); empty: no TLS.
  std::string tls_certificate_dir;
  // The address of the engine's RTP sockets, also written in SDP; empty: the public address.
  std::string media_address;
  // RTP ports: an even rtp_port_min, rtp_port_min < rtp_port_max.
  std::uint16_t rtp_port_min = 20000;
  std::uint16_t rtp_port_max = 29999;
  // A request from an address no trunk allows and that is not an agent's phone:
  // kReject answers 403, kDrop does not answer.
  enum class UnknownSource : std::uint8_t { kReject, kDrop };
  UnknownSource unknown_source = UnknownSource::kReject;
  // The flood guard: requests per source address per second (> 0), the bucket size
  // (>= 1), and how long a source that exceeds it is banned (> 0).
  double rate_limit_per_second = 50;
  double rate_limit_burst = 100;
  core::Duration ban_time = std::chrono::minutes(5);
  // Concurrent calls (caller legs) beyond which new INVITEs get 503 with Retry-After
  // retry_after (whole seconds).
  int max_calls = 1000;
  core::Duration retry_after = std::chrono::seconds(30);
  // REGISTER: the Expires the registrar accepts (a shorter one gets 423 with Min-Expires,
  // a longer one is cut to the maximum) and the one given when the phone names none.
  // min <= default <= max, all > 0.
  core::Duration min_register_expires = std::chrono::seconds(60);
  core::Duration max_register_expires = std::chrono::hours(1);
  core::Duration default_register_expires = std::chrono::minutes(10);
  // RFC 4028 session timers: the interval offered (a longer one asked for is cut to it)
  // and Min-SE (>= 90s); session_expires >= min_session_expires.
  core::Duration session_expires = std::chrono::minutes(30);
  core::Duration min_session_expires = std::chrono::seconds(90);
  // What registering a phone does to its agent; unregistering (or expiry) logs out.
  enum class AgentLogin : std::uint8_t { kNone, kNotReady, kReady };
  AgentLogin login_on_register = AgentLogin::kReady;
  // The Server and User-Agent header value.
  std::string user_agent = "acd";

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
const char* to_string(SipConfig::UnknownSource action);  // "reject", "drop"
const char* to_string(SipConfig::AgentLogin login);      // "none", "not-ready", "ready"

struct DemoQueue {
  core::TenantId tenant;
  core::QueueId queue;
  std::string name;  // "tenant/queue"
  double weight = 1.0;
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
  DemoConfig demo;
  std::vector<TenantSettings> tenants;
  core::CoreConfig domain;                 // what RoutingCore::apply_config takes
  std::shared_ptr<const NameTable> names;  // every name the registry knows, by id
  // Accepted but worth fixing, e.g. a secret written in plaintext (the loader hashed it).
  std::vector<ConfigError> warnings;
};

using ConfigResult = Result<DaemonConfig, std::vector<ConfigError>>;

// Reads and validates `path`. Errors name `path` as given. On success the registry has
// learned the file's new names; on failure it is unchanged.
ConfigResult load_config_file(const std::string& path, NameRegistry& registry);
// The same for text already in memory; `file_label` names it in messages.
ConfigResult load_config_text(std::string_view text, const std::string& file_label,
                              NameRegistry& registry);

// The routing core's configuration (a copy of config.domain).
core::CoreConfig to_core_config(const DaemonConfig& config);

}  // namespace acd::app
