#include "engine/app/config.h"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "engine/app/duration.h"
#include "engine/app/spelling.h"
#include "engine/app/time_zones.h"
#include "engine/app/yaml_reader.h"
#include "engine/common/digest.h"
#include "engine/core/queue_rules.h"
#include "engine/core/task.h"

namespace acd::app {
namespace {

using core::Duration;

constexpr EnumName<LogLevel> kLogLevels[] = {
    {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo},
    {"warn", LogLevel::kWarn},   {"error", LogLevel::kError}, {"critical", LogLevel::kCritical},
    {"off", LogLevel::kOff}};

constexpr EnumName<LogFormat> kLogFormats[] = {{"text", LogFormat::kText},
                                               {"json", LogFormat::kJson}};

constexpr EnumName<core::Strategy> kStrategies[] = {
    {"longest-idle", core::Strategy::kLongestIdle},
    {"least-talk-time", core::Strategy::kLeastTalkTime},
    {"fewest-calls", core::Strategy::kFewestCalls},
    {"round-robin", core::Strategy::kRoundRobin},
    {"top-down", core::Strategy::kTopDown},
    {"ring-all", core::Strategy::kRingAll},
    {"random", core::Strategy::kRandom},
    {"weighted-random", core::Strategy::kWeightedRandom},
    {"best-proficiency", core::Strategy::kBestProficiency}};

constexpr EnumName<core::WorkMode> kWorkModes[] = {{"auto-ready", core::WorkMode::kAutoReady},
                                                   {"manual", core::WorkMode::kManual}};

constexpr EnumName<core::BreakPolicy::OverLimit> kOverLimit[] = {
    {"refuse", core::BreakPolicy::OverLimit::kRefuse},
    {"waitlist", core::BreakPolicy::OverLimit::kWaitlist}};

constexpr EnumName<core::RonaPolicy> kRonaPolicies[] = {{"not-ready", core::RonaPolicy::kNotReady},
                                                        {"ready", core::RonaPolicy::kReady},
                                                        {"logout", core::RonaPolicy::kLogout}};

constexpr EnumName<sip::Transport> kSipTransports[] = {
    {"udp", sip::Transport::kUdp}, {"tcp", sip::Transport::kTcp}, {"tls", sip::Transport::kTls}};

constexpr EnumName<sip::SipOptions::UnknownSource> kUnknownSources[] = {
    {"reject", sip::SipOptions::UnknownSource::kReject},
    {"drop", sip::SipOptions::UnknownSource::kDrop}};

constexpr EnumName<sip::LoginOnRegister> kAgentLogins[] = {
    {"none", sip::LoginOnRegister::kNone},
    {"not-ready", sip::LoginOnRegister::kNotReady},
    {"ready", sip::LoginOnRegister::kReady}};

constexpr EnumName<media::RecordingMode> kRecordingModes[] = {
    {"stereo", media::RecordingMode::kStereo}, {"mixed", media::RecordingMode::kMixed}};
constexpr EnumName<media::MohMode> kMohModes[] = {{"shared", media::MohMode::kShared},
                                                  {"from-start", media::MohMode::kFromStart}};

// Reasons the core uses on its own; agents' configured reason lists need not name them.
constexpr std::string_view kSystemReasons[] = {"no-answer", "manual-ready"};

constexpr int kMaxSmallInt = 1'000'000;

// An agent's languages and attributes (what routing rules read, docs/RULES.md).
constexpr std::size_t kMaxAgentLanguages = 32;
constexpr std::size_t kMaxAgentAttributes = 64;
constexpr std::size_t kMaxAttributeValue = 256;

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// A name declared in the file, with where it was declared.
struct Declared {
  std::uint32_t id = 0;
  YAML::Mark mark;
};

// An entity given as a map (team, agent, queue) found in the first pass.
struct EntityDraft {
  std::string name;
  std::uint32_t id = 0;
  MapReader reader;
};

// A queue's `routing` as read, with where its parts are written: its rules are compiled
// once every queue of the tenant is known (Loader::check_routing).
struct RoutingDraft {
  std::size_t queue = 0;  // index in the domain's queues
  std::string path;       // "tenants[0].queues[1].routing"
  YAML::Mark key_mark;    // the `routing` key
  struct Step {
    YAML::Mark after_mark;   // the step's `after`, or the step when it has none
    YAML::Mark target_mark;  // the step's `target`
  };
  std::vector<Step> steps;
  YAML::Mark order_by_mark;
};

struct TenantDraft {
  std::string name;
  core::TenantId id;
  MapReader reader;
  std::map<std::string, Declared, std::less<>> skills;
  std::map<std::string, Declared, std::less<>> teams;
  std::map<std::string, Declared, std::less<>> agents;
  std::map<std::string, Declared, std::less<>> queues;
  std::vector<EntityDraft> team_drafts;
  std::vector<EntityDraft> agent_drafts;
  std::vector<EntityDraft> queue_drafts;
  std::vector<std::string> not_ready_reasons;
  // Entities the core does not know (config_entities.h); their ids are 0.
  std::map<std::string, Declared, std::less<>> users;
  std::map<std::string, Declared, std::less<>> prompt_sets;
  std::map<std::string, Declared, std::less<>> calendars;
  std::map<std::string, Declared, std::less<>> menus;
  std::map<std::string, Declared, std::less<>> flows;
  std::map<std::string, Declared, std::less<>> trunks;
  std::vector<EntityDraft> user_drafts;
  std::vector<EntityDraft> prompt_set_drafts;
  std::vector<EntityDraft> calendar_drafts;
  std::vector<EntityDraft> menu_drafts;
  std::vector<EntityDraft> flow_drafts;
  std::vector<EntityDraft> trunk_drafts;
};

enum class Kind : std::uint8_t {
  kSkill,
  kTeam,
  kAgent,
  kQueue,
  kUser,
  kPromptSet,
  kCalendar,
  kMenu,
  kFlow,
  kTrunk
};

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kSkill: return "skill";
    case Kind::kTeam: return "team";
    case Kind::kAgent: return "agent";
    case Kind::kQueue: return "queue";
    case Kind::kUser: return "user";
    case Kind::kPromptSet: return "prompt set";
    case Kind::kCalendar: return "calendar";
    case Kind::kMenu: return "IVR menu";
    case Kind::kFlow: return "flow";
    case Kind::kTrunk: return "trunk";
  }
  return "?";
}

using NameMap = std::map<std::string, Declared, std::less<>>;

NameMap& names_of(TenantDraft& t, Kind k) {
  switch (k) {
    case Kind::kSkill: return t.skills;
    case Kind::kTeam: return t.teams;
    case Kind::kAgent: return t.agents;
    case Kind::kQueue: return t.queues;
    case Kind::kUser: return t.users;
    case Kind::kPromptSet: return t.prompt_sets;
    case Kind::kCalendar: return t.calendars;
    case Kind::kMenu: return t.menus;
    case Kind::kFlow: return t.flows;
    case Kind::kTrunk: return t.trunks;
  }
  return t.skills;
}

std::vector<EntityDraft>& drafts_of(TenantDraft& t, Kind k) {
  switch (k) {
    case Kind::kTeam: return t.team_drafts;
    case Kind::kAgent: return t.agent_drafts;
    case Kind::kUser: return t.user_drafts;
    case Kind::kPromptSet: return t.prompt_set_drafts;
    case Kind::kCalendar: return t.calendar_drafts;
    case Kind::kMenu: return t.menu_drafts;
    case Kind::kFlow: return t.flow_drafts;
    case Kind::kTrunk: return t.trunk_drafts;
    case Kind::kQueue:
    case Kind::kSkill: break;
  }
  return t.queue_drafts;
}

const NameMap& names_of(const TenantDraft& t, Kind k) {
  return names_of(const_cast<TenantDraft&>(t), k);
}

// One load of one file: pass 1 declares every name (assigning ids in file order), pass 2
// reads everything else and resolves references. Thread-safety: used by one thread, once.
class Loader {
 public:
  Loader(std::string file, NameRegistry registry, LoadOptions options)
      : errors_(file),
        warnings_(file),
        registry_(std::move(registry)),
        options_(std::move(options)) {}

  ConfigResult load(std::string_view text);
  NameRegistry& registry() { return registry_; }
  ErrorList& errors() { return errors_; }

 private:
  void read_root(const YAML::Node& root);
  void read_log(const YAML::Node& node, const std::string& path);
  void read_core(const YAML::Node& node, const std::string& path);
  void read_shutdown(const YAML::Node& node, const std::string& path);
  void read_api(const YAML::Node& node, const std::string& path);
  void read_api_tls(const YAML::Node& node, const std::string& path);
  // The path of a file the daemon reads at start (api.tls): it must name a readable
  // regular file; `expected` says what it should hold.
  bool read_file_path(const MapReader& map, std::string_view key, std::string& out,
                      std::string_view expected);
  void read_metrics(const YAML::Node& node, const std::string& path);
  // A host:port value (api.listen, metrics.listen) into `out`; errors show example_port.
  void read_host_port(const MapReader& map, std::string_view key, std::string& out,
                      std::string_view example_port);
  void read_database(const YAML::Node& node, const std::string& path);
  void read_sip(const YAML::Node& node, const std::string& path);
  void read_sip_listen(const YAML::Node& node, const std::string& path);
  void read_sip_media(const YAML::Node& node, const std::string& path);
  void read_music_on_hold(const YAML::Node& node, const std::string& path);
  // A literal IP address in canonical form; `noun` names it in messages.
  std::optional<std::string> read_ip_address(const YAML::Node& node, const std::string& path,
                                             std::string_view noun);
  void read_demo(const YAML::Node& node, const std::string& path);

  // Pass 1: names and ids.
  void declare_tenants(const YAML::Node& list, const std::string& path);
  void declare_entities(TenantDraft& tenant, const YAML::Node& list, const std::string& path,
                        Kind kind, std::initializer_list<std::string_view> keys);
  // Pass 2: everything else.
  void read_tenant(TenantDraft& tenant);
  void read_team(const TenantDraft& tenant, const EntityDraft& draft);
  void read_agent(const TenantDraft& tenant, const EntityDraft& draft);
  // An agent's `capacity`: channel name -> tasks held at once (0..kMaxChannelCapacity);
  // channels not named keep their default.
  void read_capacity(const YAML::Node& node, const std::string& path,
                     core::ChannelCapacity& capacity);
  // Calls each(key, value) for every key of `node`, a map, that is a scalar; the others are
  // errors ("expected <article_noun> name as the key").
  template <class Each>
  void for_each_key(const YAML::Node& node, const std::string& path, std::string_view article_noun,
                    Each each) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: `it->` yields a temporary proxy
      if (key.IsScalar()) {
        each(key, it->second);
      } else {
        errors_.add(
            key.Mark(), path,
            "expected " + std::string(article_noun) + " name as the key, got " + describe(key));
      }
    }
  }
  // Records `name`, a `noun` given at `mark`, in `seen`; false, with an error, when it was
  // given before.
  bool first_given(std::map<std::string, int, std::less<>>& seen, const std::string& name,
                   const YAML::Mark& mark, const std::string& path, std::string_view noun);
  // False, with an error, when `node` (a list or a map) holds more than `limit` items.
  bool within_limit(const YAML::Node& node, const std::string& path, std::size_t limit,
                    std::string_view nouns);
  // An agent's `languages` (what rules read as agent.languages) and `attributes`
  // (agent.attr.<key>).
  void read_languages(const YAML::Node& node, const std::string& path,
                      std::vector<std::string>& languages);
  void read_attributes(const YAML::Node& node, const std::string& path,
                       std::vector<std::pair<std::string, std::string>>& attributes);
  void read_queue(const TenantDraft& tenant, const EntityDraft& draft,
                  std::vector<RoutingDraft>& routing);
  bool check_dtmf_key(const YAML::Node& key, const std::string& path);
  void read_breakout(const TenantDraft& tenant, const EntityDraft& queue, const YAML::Node& node,
                     const std::string& path, core::QueueConfig& config);
  std::optional<core::ExitDestination> read_exit(const TenantDraft& tenant,
                                                 const EntityDraft& queue, const YAML::Node& node,
                                                 const std::string& path);
  void read_escalation(const YAML::Node& node, const std::string& path, core::QueueConfig& queue);
  void read_overflow(const YAML::Node& node, const std::string& path, core::OverflowRule& rule);
  // A queue's `routing` (its steps and order), read into `queue.routing`; its rules are
  // checked by check_routing. Nothing when it is malformed (the errors are recorded).
  std::optional<RoutingDraft> read_routing(const MapReader& queue_map, core::QueueConfig& queue);
  // Compiles the tenant's queues' routing rules against the tenant's names, reporting
  // each problem where it is written.
  void check_routing(const TenantDraft& tenant, const std::vector<RoutingDraft>& drafts);
  void read_members(const TenantDraft& tenant, const YAML::Node& node, const std::string& path,
                    core::QueueConfig& queue);
  // A queue's music_on_hold: "" or a class of sip.media.music_on_hold (see LoadOptions).
  std::optional<std::string> read_moh_reference(const YAML::Node& node, const std::string& path);
  // The entities beyond the core (config_entities.h).
  void read_tenant_extras(const TenantDraft& tenant, TenantSettings& settings);
  void read_agent_sip(const TenantDraft& tenant, const EntityDraft& draft, const YAML::Node& node,
                      TenantSettings& settings);
  std::optional<std::string> read_secret_ha1(const MapReader& map, const std::string& username,
                                             const std::string& realm);
  void read_user(const TenantDraft& tenant, const EntityDraft& draft, TenantSettings& settings);
  void read_prompt_set(const EntityDraft& draft, TenantSettings& settings);
  void read_calendar(const EntityDraft& draft, TenantSettings& settings);
  std::optional<DayHours> read_hours(const YAML::Node& node, const std::string& path);
  void read_menu(const TenantDraft& tenant, const EntityDraft& draft, TenantSettings& settings);
  std::optional<IvrAction> read_ivr_action(const TenantDraft& tenant, const YAML::Node& node,
                                           const std::string& path);
  // A call-flow script: its text (inline or from a file beside the configuration file),
  // compiled here so that a script that does not compile refuses the configuration.
  void read_flow(const TenantDraft& tenant, const EntityDraft& draft, TenantSettings& settings);
  // A flow's fallback: {queue: name}, {voicemail: box} or {hangup: message}.
  std::optional<IvrAction> read_flow_fallback(const TenantDraft& tenant, const YAML::Node& node,
                                              const std::string& path);
  void read_trunk(const TenantDraft& tenant, const EntityDraft& draft, TenantSettings& settings);
  // The tenant's outbound_trunk, once its trunks are read.
  void read_outbound_trunk(const TenantDraft& tenant, TenantSettings& settings);
  std::optional<std::string> read_sip_uri(const YAML::Node& node, const std::string& path);
  // A string value that must satisfy `valid`; records "invalid <noun> ...; expected <what>".
  std::optional<std::string> read_checked(const YAML::Node& node, const std::string& path,
                                          bool (*valid)(std::string_view), std::string_view noun,
                                          std::string_view expected);

  // Resolves a reference to an entity of `tenant`. Errors say when the name belongs to
  // another tenant, and suggest a close spelling.
  std::optional<std::uint32_t> resolve(const TenantDraft& tenant, Kind kind, const YAML::Node& node,
                                       const std::string& path);
  void require_positive(const MapReader& map, std::string_view key, Duration value);

  ErrorList errors_;
  ErrorList warnings_;
  std::map<std::string, int, std::less<>> token_hashes_;  // sha256 -> line, across tenants
  NameRegistry registry_;
  LoadOptions options_;
  TimeZoneFiles zones_;  // each zone read once per load
  // The valid names of sip.media.music_on_hold, also of classes whose path is wrong (a
  // queue naming one is not an error of its own).
  std::vector<std::string> moh_names_;
  DaemonConfig config_;
  std::vector<TenantDraft> tenants_;
  std::optional<YAML::Node> demo_node_;
  std::string demo_path_;
};

ConfigResult Loader::load(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    errors_.add(e.mark, "", "YAML syntax error: " + e.msg);
    return ConfigResult::failure(errors_.take());
  }
  try {
    read_root(root);
  } catch (const YAML::Exception& e) {
    // The readers do not throw; this is a safety net for yaml-cpp surprises.
    errors_.add(e.mark, "", "cannot read the file: " + e.msg);
  }
  if (!errors_.empty()) return ConfigResult::failure(errors_.take());
  config_.names = registry_.table();
  config_.warnings = warnings_.take();
  return ConfigResult::success(std::move(config_));
}

void Loader::read_root(const YAML::Node& root) {
  MapReader map(
      root, "", errors_,
      {"log", "core", "shutdown", "database", "sip", "api", "metrics", "demo", "tenants"});
  if (!map.ok()) return;
  if (auto n = map.get("log")) read_log(*n, "log");
  if (auto n = map.get("core")) read_core(*n, "core");
  if (auto n = map.get("shutdown")) read_shutdown(*n, "shutdown");
  if (auto n = map.get("database")) read_database(*n, "database");
  if (auto n = map.get("sip")) read_sip(*n, "sip");
  if (auto n = map.get("api")) read_api(*n, "api");
  if (auto n = map.get("metrics")) read_metrics(*n, "metrics");
  if (auto n = map.require("tenants")) {
    declare_tenants(*n, "tenants");
    for (auto& tenant : tenants_) read_tenant(tenant);
  }
  if (auto n = map.get("demo")) read_demo(*n, "demo");
}

void Loader::read_log(const YAML::Node& node, const std::string& path) {
  MapReader map(node, path, errors_, {"level", "format"});
  map.read_enum("level", config_.log.level, kLogLevels, "log level");
  map.read_enum("format", config_.log.format, kLogFormats, "log format");
}

void Loader::read_core(const YAML::Node& node, const std::string& path) {
  MapReader map(node, path, errors_, {"snapshot_interval", "random_seed", "realtime_priority"});
  if (map.read("snapshot_interval", config_.core.snapshot_interval)) {
    require_positive(map, "snapshot_interval", config_.core.snapshot_interval);
  }
  if (auto n = map.get("random_seed")) {
    if (auto v = read_int(*n, map.path_of("random_seed"), errors_, 0,
                          std::numeric_limits<std::int64_t>::max())) {
      config_.core.random_seed = static_cast<std::uint64_t>(*v);
    }
  }
  map.read("realtime_priority", config_.core.realtime_priority, 0, 99);
}

void Loader::read_api(const YAML::Node& node, const std::string& path) {
  MapReader map(node, path, errors_, {"listen", "tls"});
  if (!map.ok()) return;
  read_host_port(map, "listen", config_.api.listen, "50051");
  if (auto n = map.get("tls")) {
    read_api_tls(*n, map.path_of("tls"));
    if (config_.api.listen.empty())
      warnings_.add(n->Mark(), map.path_of("tls"),
                    "api.tls has no effect without api.listen (no API is started)");
  }
}

void Loader::read_api_tls(const YAML::Node& node, const std::string& path) {
  MapReader map(node, path, errors_,
                {"certificate", "private_key", "client_ca", "require_client_certificate"});
  if (!map.ok()) return;
  ApiTlsConfig tls;
  bool ok = true;
  if (map.require("certificate")) {
    ok = read_file_path(map, "certificate", tls.certificate,
                        "a PEM file with the server's certificate (then any intermediates)") &&
         ok;
  } else {
    ok = false;
  }
  if (map.require("private_key")) {
    ok = read_file_path(map, "private_key", tls.private_key,
                        "a PEM file with the certificate's unencrypted private key") &&
         ok;
  } else {
    ok = false;
  }
  if (map.get("client_ca")) {
    ok = read_file_path(map, "client_ca", tls.client_ca,
                        "a PEM file with the CA certificate(s) that sign client certificates") &&
         ok;
  }
  if (map.read("require_client_certificate", tls.require_client_certificate)) {
    if (tls.require_client_certificate && !map.get("client_ca")) {
      errors_.add(map.get("require_client_certificate")->Mark(),
                  map.path_of("require_client_certificate"),
                  "require_client_certificate: true needs api.tls.client_ca; expected the PEM "
                  "file of the CA that signs the client certificates");
      ok = false;
    }
  } else if (map.get("require_client_certificate")) {
    ok = false;
  }
  if (ok) config_.api.tls = std::move(tls);
}

bool Loader::read_file_path(const MapReader& map, std::string_view key, std::string& out,
                            std::string_view expected) {
  auto node = map.get(key);
  if (!node) return false;
  auto text = read_string(*node, map.path_of(key), errors_);
  if (!text) return false;
  std::string problem;
  struct stat info {};
  if (text->empty()) {
    problem = "expected " + std::string(expected) + ", got an empty string";
  } else if (::stat(text->c_str(), &info) != 0 || ::access(text->c_str(), R_OK) != 0) {
    problem = "cannot read " + quoted(*text) + ": " + std::strerror(errno) + "; expected " +
              std::string(expected);
    if (text->front() != '/') {
      problem += " (a relative path is taken from the working directory";
      if (char* cwd = ::getcwd(nullptr, 0)) {
        problem += std::string(", ") + cwd;
        std::free(cwd);
      }
      problem += ")";
    }
  } else if (!S_ISREG(info.st_mode)) {
    problem = quoted(*text) + " is not a regular file; expected " + std::string(expected);
  }
  if (!problem.empty()) {
    errors_.add(node->Mark(), map.path_of(key), std::move(problem));
    return false;
  }
  out = *text;
  return true;
}

void Loader::read_metrics(const YAML::Node& node, const std::string& path) {
  MapReader map(node, path, errors_, {"listen"});
  if (!map.ok()) return;
  read_host_port(map, "listen", config_.metrics.listen, "9464");
  const std::string& listen = config_.metrics.listen;
  if (!listen.empty() && listen == config_.api.listen && !listen.ends_with(":0"))
    errors_.add(map.get("listen")->Mark(), map.path_of("listen"),
                "expected an address other than api.listen's, got " + quoted(listen));
}

void Loader::read_host_port(const MapReader& map, std::string_view key, std::string& out,
                            std::string_view example_port) {
  if (!map.read(key, out) || out.empty()) return;
  // host:port, an IPv6 host in brackets.
  const std::string& listen = out;
  const auto colon = listen.rfind(':');
  const std::string host = colon == std::string::npos ? std::string() : listen.substr(0, colon);
  const std::string port = colon == std::string::npos ? std::string() : listen.substr(colon + 1);
  const bool host_ok = !host.empty() && (host.front() != '[' || host.back() == ']') &&
                       (host.front() == '[' || host.find(':') == std::string::npos);
  const bool port_ok = !port.empty() && port.size() <= 5 &&
                       port.find_first_not_of("0123456789") == std::string::npos &&
                       std::stoi(port) <= 65535;
  if (!host_ok || !port_ok)
    errors_.add(map.get(key)->Mark(), map.path_of(key),
                "expected host:port such as \"127.0.0.1:" + std::string(example_port) +
                    "\" or \"[::1]:" + std::string(example_port) +
                    "\" (port 0: any free port), got " + quoted(listen));
}

void Loader::read_shutdown(const YAML::Node& node, const std::string& path) {
  MapReader map(node, path, errors_, {"drain_timeout"});
  map.read("drain_timeout", config_.shutdown.drain_timeout);
}

void Loader::read_database(const YAML::Node& node, const std::string& path) {
  MapReader map(node, path, errors_,
                {"dsn", "data_dir", "migrate_on_start", "spool_dir", "stop_ship_timeout"});
  if (!map.ok()) return;
  map.read("dsn", config_.database.dsn);
  if (map.read("data_dir", config_.database.data_dir) && config_.database.data_dir.empty()) {
    errors_.add(map.get("data_dir")->Mark(), map.path_of("data_dir"),
                "must not be empty; a directory for the embedded PostgreSQL cluster");
  }
  map.read("migrate_on_start", config_.database.migrate_on_start);
  if (map.read("spool_dir", config_.database.spool_dir) && config_.database.spool_dir.empty()) {
    errors_.add(map.get("spool_dir")->Mark(), map.path_of("spool_dir"),
                "must not be empty; a directory for the record spool");
  }
  map.read("stop_ship_timeout", config_.database.stop_ship_timeout);
}

std::optional<std::string> Loader::read_ip_address(const YAML::Node& node, const std::string& path,
                                                   std::string_view noun) {
  auto text = read_string(node, path, errors_);
  if (!text) return std::nullopt;
  auto address = canonical_ip_address(*text);
  if (!address) {
    errors_.add(node.Mark(), path,
                "invalid " + std::string(noun) + " " + quoted(*text) +
                    "; expected a literal IPv4 or IPv6 address such as \"192.0.2.10\" or "
                    "\"2001:db8::10\" (no host name, no brackets, no port)");
  }
  return address;
}

void Loader::read_sip_listen(const YAML::Node& node, const std::string& path) {
  if (!expect_list(node, path, errors_)) return;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = index_path(path, i);
    MapReader map(node[i], item_path, errors_, {"transport", "address", "port"});
    if (!map.ok()) continue;
    sip::ListenAddress listen;
    bool ok = true;
    if (map.get("transport"))
      ok = map.read_enum("transport", listen.transport, kSipTransports, "transport");
    if (auto n = map.get("address")) {
      auto address = read_ip_address(*n, map.path_of("address"), "listen address");
      if (address) listen.address = *address;
      ok = ok && address.has_value();
    }
    if (listen.transport == sip::Transport::kTls) listen.port = 5061;
    int port = listen.port;
    if (map.read("port", port, 0, 65535)) {
      listen.port = static_cast<std::uint16_t>(port);
    } else if (map.get("port")) {
      ok = false;
    }
    if (!ok) continue;
    bool duplicate = false;
    for (const auto& other : config_.sip.listen) {
      duplicate = duplicate || (listen.port != 0 && other.transport == listen.transport &&
                                other.address == listen.address && other.port == listen.port);
    }
    if (duplicate) {
      errors_.add(map.mark(), item_path,
                  std::string("duplicate listen address ") + to_string(listen.transport) + " " +
                      listen.address + " port " + std::to_string(listen.port));
      continue;
    }
    config_.sip.listen.push_back(std::move(listen));
  }
}

void Loader::read_sip_media(const YAML::Node& node, const std::string& path) {
  MapReader m(
      node, path, errors_,
      {"address", "rtp_port_min", "rtp_port_max", "music_on_hold", "latch_relearn_after",
       "rtcp_interval", "realtime_priority", "recording", "voicemail", "announce_position_every"});
  if (!m.ok()) return;
  SipConfig& sip = config_.sip;
  if (auto n = m.get("address")) {
    if (auto text = read_string(*n, m.path_of("address"), errors_); text && !text->empty()) {
      if (auto address = read_ip_address(*n, m.path_of("address"), "media address")) {
        if (is_wildcard_address(*address)) {
          errors_.add(n->Mark(), m.path_of("address"),
                      "the media address may not be the wildcard " + quoted(*address) +
                          "; it is written in SDP: expected the address callers send RTP to");
        } else {
          sip.media_address = *address;
        }
      }
    }
  }
  int low = sip.rtp_port_min, high = sip.rtp_port_max;
  const bool low_ok = m.read("rtp_port_min", low, 1024, 65534) || !m.get("rtp_port_min");
  const bool high_ok = m.read("rtp_port_max", high, 1025, 65535) || !m.get("rtp_port_max");
  if (low_ok && high_ok) {
    if (low % 2 != 0) {
      errors_.add(m.get("rtp_port_min")->Mark(), m.path_of("rtp_port_min"),
                  "rtp_port_min (" + std::to_string(low) +
                      ") must be even: RTP takes the even port of each pair, RTCP the odd one");
    } else if (low >= high) {
      auto where = m.get("rtp_port_max") ? m.get("rtp_port_max")->Mark() : m.mark();
      errors_.add(where, m.path_of("rtp_port_max"),
                  "rtp_port_max (" + std::to_string(high) +
                      ") must be greater than rtp_port_min (" + std::to_string(low) + ")");
    } else {
      sip.rtp_port_min = static_cast<std::uint16_t>(low);
      sip.rtp_port_max = static_cast<std::uint16_t>(high);
    }
  }
  if (auto n = m.get("music_on_hold")) read_music_on_hold(*n, m.path_of("music_on_hold"));
  MediaConfig& media = config_.media;
  if (auto n = m.get("recording")) {
    MapReader r(*n, m.path_of("recording"), errors_, {"directory", "mode"});
    if (r.ok()) {
      r.read("directory", media.recording_directory);
      if (r.get("mode"))
        r.read_enum("mode", media.recording_mode, kRecordingModes, "recording mode");
    }
  }
  m.read("announce_position_every", media.announce_every);
  if (auto n = m.get("voicemail")) {
    MapReader v(*n, m.path_of("voicemail"), errors_, {"directory", "max_length"});
    if (v.ok()) {
      v.read("directory", media.voicemail_directory);
      if (v.read("max_length", media.voicemail_max_length))
        require_positive(v, "max_length", media.voicemail_max_length);
    }
  }
  if (m.read("latch_relearn_after", media.latch_relearn_after))
    require_positive(m, "latch_relearn_after", media.latch_relearn_after);
  if (m.read("rtcp_interval", media.rtcp_interval) &&
      media.rtcp_interval < std::chrono::seconds(1)) {
    errors_.add(m.get("rtcp_interval")->Mark(), m.path_of("rtcp_interval"), "must be at least 1s");
  }
  m.read("realtime_priority", media.realtime_priority, 0, 99);
}

void Loader::read_music_on_hold(const YAML::Node& node, const std::string& path) {
  if (!expect_list(node, path, errors_)) return;
  std::map<std::string, int, std::less<>> seen;  // name -> line
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = index_path(path, i);
    MapReader item(node[i], item_path, errors_, {"name", "path", "mode"});
    if (!item.ok()) continue;
    MohClassConfig moh;
    bool ok = item.read_name("name", moh.name, true);
    if (ok) {
      const YAML::Mark mark = item.get("name")->Mark();
      auto [it, inserted] = seen.emplace(moh.name, mark.line + 1);
      if (inserted) {
        moh_names_.push_back(moh.name);
      } else {
        errors_.add(mark, item.path_of("name"),
                    "duplicate music-on-hold class " + quoted(moh.name) +
                        " (first defined at line " + std::to_string(it->second) + ")");
        ok = false;
      }
    }
    if (auto n = item.require("path")) {
      if (auto text = read_string(*n, item.path_of("path"), errors_)) {
        // <filesystem> is not included here: its std::quoted would be found (by argument
        // dependent lookup) instead of this file's quoted().
        struct stat info {};
        std::string problem;
        if (text->empty()) {
          problem = "expected an audio file or a directory of audio files, got an empty string";
        } else if (::stat(text->c_str(), &info) != 0) {
          problem = "cannot access " + quoted(*text) + ": " + std::strerror(errno) +
                    "; expected an audio file or a directory of audio files";
          if (text->front() != '/') {
            problem += " (a relative path is taken from the working directory";
            if (char* cwd = ::getcwd(nullptr, 0)) {
              problem += std::string(", ") + cwd;
              std::free(cwd);
            }
            problem += ")";
          }
        } else if (!S_ISREG(info.st_mode) && !S_ISDIR(info.st_mode)) {
          problem = quoted(*text) +
                    " is neither a file nor a directory; expected an audio file or a directory "
                    "of audio files";
        }
        if (problem.empty()) {
          moh.path = *text;
        } else {
          errors_.add(n->Mark(), item.path_of("path"), std::move(problem));
          ok = false;
        }
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (item.get("mode") && !item.read_enum("mode", moh.mode, kMohModes, "music-on-hold mode"))
      ok = false;
    if (ok) config_.media.music_on_hold.push_back(std::move(moh));
  }
}

void Loader::read_sip(const YAML::Node& node, const std::string& path) {
  MapReader map(node, path, errors_,
                {"enabled", "listen", "public_address", "tls_certificate_dir", "media",
                 "unknown_source", "rate_limit", "max_calls", "retry_after", "registration",
                 "session_timer", "user_agent", "flow_lookup_timeout"});
  if (!map.ok()) return;
  SipConfig& sip = config_.sip;
  map.read("enabled", sip.enabled);
  const std::size_t errors_before = errors_.size();
  auto listen = map.get("listen");
  if (listen) read_sip_listen(*listen, map.path_of("listen"));
  if (auto n = map.get("public_address")) {
    if (auto text = read_string(*n, map.path_of("public_address"), errors_);
        text && !text->empty()) {
      if (auto address = read_ip_address(*n, map.path_of("public_address"), "public address")) {
        if (is_wildcard_address(*address)) {
          errors_.add(n->Mark(), map.path_of("public_address"),
                      "the public address may not be the wildcard " + quoted(*address) +
                          "; expected the address phones and trunks reach the engine at");
        } else {
          sip.public_address = *address;
        }
      }
    }
  }
  map.read("tls_certificate_dir", sip.tls_certificate_dir);
  if (auto media = map.get("media")) read_sip_media(*media, map.path_of("media"));
  map.read_enum("unknown_source", sip.unknown_source, kUnknownSources, "unknown-source action");
  if (auto limit = map.get("rate_limit")) {
    MapReader r(*limit, map.path_of("rate_limit"), errors_,
                {"requests_per_second", "burst", "ban_time"});
    if (r.read("requests_per_second", sip.rate_limit_per_second, 0.0, 1e6) &&
        sip.rate_limit_per_second <= 0) {
      errors_.add(r.get("requests_per_second")->Mark(), r.path_of("requests_per_second"),
                  "must be greater than zero");
    }
    r.read("burst", sip.rate_limit_burst, 1.0, 1e6);
    if (r.read("ban_time", sip.ban_time)) require_positive(r, "ban_time", sip.ban_time);
  }
  map.read("max_calls", sip.max_calls, 1, kMaxSmallInt);
  map.read("retry_after", sip.retry_after);
  if (map.read("flow_lookup_timeout", sip.flow_lookup_timeout))
    require_positive(map, "flow_lookup_timeout", sip.flow_lookup_timeout);
  if (auto reg = map.get("registration")) {
    MapReader r(*reg, map.path_of("registration"), errors_,
                {"min_expires", "max_expires", "default_expires", "login"});
    bool ok = true;
    for (auto [key, field] : {std::pair{"min_expires", &sip.min_register_expires},
                              std::pair{"max_expires", &sip.max_register_expires},
                              std::pair{"default_expires", &sip.default_register_expires}}) {
      if (r.read(key, *field)) {
        if (*field < std::chrono::seconds(1)) {
          errors_.add(r.get(key)->Mark(), r.path_of(key),
                      "must be at least 1s (Expires is in whole seconds)");
          ok = false;
        }
      } else if (r.get(key)) {
        ok = false;
      }
    }
    if (ok && !(sip.min_register_expires <= sip.default_register_expires &&
                sip.default_register_expires <= sip.max_register_expires)) {
      errors_.add(r.mark(), r.path(),
                  "expected min_expires <= default_expires <= max_expires, got " +
                      format_duration(sip.min_register_expires) + ", " +
                      format_duration(sip.default_register_expires) + " and " +
                      format_duration(sip.max_register_expires));
    }
    r.read_enum("login", sip.login_on_register, kAgentLogins, "login action");
  }
  if (auto timer = map.get("session_timer")) {
    MapReader t(*timer, map.path_of("session_timer"), errors_,
                {"session_expires", "min_session_expires"});
    const bool se_ok = t.read("session_expires", sip.session_expires) || !t.get("session_expires");
    bool min_ok = true;
    if (t.read("min_session_expires", sip.min_session_expires)) {
      if (sip.min_session_expires < std::chrono::seconds(90)) {
        errors_.add(t.get("min_session_expires")->Mark(), t.path_of("min_session_expires"),
                    "must be at least 90s (RFC 4028's smallest Min-SE)");
        min_ok = false;
      }
    } else if (t.get("min_session_expires")) {
      min_ok = false;
    }
    if (se_ok && min_ok && sip.session_expires < sip.min_session_expires) {
      auto where = t.get("session_expires") ? t.get("session_expires")->Mark() : t.mark();
      errors_.add(where, t.path_of("session_expires"),
                  "session_expires (" + format_duration(sip.session_expires) +
                      ") must not be shorter than min_session_expires (" +
                      format_duration(sip.min_session_expires) + ")");
    }
  }
  if (auto n = map.get("user_agent")) {
    if (auto text = read_string(*n, map.path_of("user_agent"), errors_)) {
      bool valid =
          !text->empty() && text->size() <= 128 && text->front() != ' ' && text->back() != ' ';
      for (char c : *text) valid = valid && c >= 0x20 && c <= 0x7e;
      if (valid) {
        sip.user_agent = *text;
      } else {
        errors_.add(n->Mark(), map.path_of("user_agent"),
                    "invalid user agent " + quoted(*text) +
                        "; expected 1 to 128 printable ASCII characters, e.g. \"acd/1.0\"");
      }
    }
  }

  // Checks across keys, when the keys themselves were valid.
  if (!sip.enabled || errors_.size() != errors_before) return;
  if (sip.listen.empty()) {
    errors_.add(listen ? listen->Mark() : map.mark(), map.path_of("listen"),
                "at least one listen address is needed when sip.enabled is true, e.g. "
                "{transport: udp, address: 127.0.0.1, port: 5060}");
    return;
  }
  for (std::size_t i = 0; i < sip.listen.size(); ++i) {
    if (sip.listen[i].transport == sip::Transport::kTls && sip.tls_certificate_dir.empty()) {
      errors_.add((*listen)[i].Mark(), index_path(map.path_of("listen"), i),
                  "a tls listen address needs sip.tls_certificate_dir (a directory with "
                  "agent.pem)");
      break;
    }
  }
  if (sip.public_address.empty() && is_wildcard_address(sip.listen.front().address)) {
    errors_.add((*listen)[0].Mark(), index_path(map.path_of("listen"), 0),
                "the first listen address " + quoted(sip.listen.front().address) +
                    " is a wildcard; set sip.public_address to the address phones and trunks "
                    "reach the engine at");
  }
}

void Loader::read_demo(const YAML::Node& node, const std::string& path) {
  MapReader map(
      node, path, errors_,
      {"enabled", "seed", "calls_per_minute", "queues", "answer_delay", "no_answer_probability",
       "mean_talk_time", "mean_patience", "vip_probability", "break_probability", "mean_break",
       "ready_delay", "manual_wrap_up_time", "report_interval"});
  if (!map.ok()) return;
  DemoConfig& demo = config_.demo;
  map.read("enabled", demo.enabled);
  if (auto n = map.get("seed")) {
    if (auto v = read_int(*n, map.path_of("seed"), errors_, 0,
                          std::numeric_limits<std::int64_t>::max())) {
      demo.seed = static_cast<std::uint64_t>(*v);
    }
  }
  map.read("calls_per_minute", demo.calls_per_minute, 0.0, 100000.0);
  map.read("answer_delay", demo.answer_delay);
  map.read("no_answer_probability", demo.no_answer_probability, 0.0, 1.0);
  if (map.read("mean_talk_time", demo.mean_talk_time)) {
    require_positive(map, "mean_talk_time", demo.mean_talk_time);
  }
  if (map.read("mean_patience", demo.mean_patience)) {
    require_positive(map, "mean_patience", demo.mean_patience);
  }
  map.read("vip_probability", demo.vip_probability, 0.0, 1.0);
  map.read("break_probability", demo.break_probability, 0.0, 1.0);
  if (map.read("mean_break", demo.mean_break)) {
    require_positive(map, "mean_break", demo.mean_break);
  }
  map.read("ready_delay", demo.ready_delay);
  map.read("manual_wrap_up_time", demo.manual_wrap_up_time);
  if (map.read("report_interval", demo.report_interval)) {
    require_positive(map, "report_interval", demo.report_interval);
  }

  if (auto list = map.get("queues")) {
    const std::string list_path = map.path_of("queues");
    if (expect_list(*list, list_path, errors_)) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const YAML::Node item = (*list)[i];
        const std::string item_path = index_path(list_path, i);
        YAML::Node name_node = item;
        std::string name_path = item_path;
        DemoQueue entry;
        if (item.IsMap()) {
          MapReader entry_map(item, item_path, errors_, {"queue", "weight"});
          auto q = entry_map.require("queue");
          if (!q) continue;
          name_node = *q;
          name_path = entry_map.path_of("queue");
          entry_map.read("weight", entry.weight, 0.0, 1e6);
        }
        auto text = read_string(name_node, name_path, errors_);
        if (!text) continue;
        const auto slash = text->find('/');
        if (slash == std::string::npos) {
          errors_.add(name_node.Mark(), name_path,
                      "expected \"tenant/queue\", got " + quoted(*text));
          continue;
        }
        const std::string tenant_name = text->substr(0, slash);
        const std::string queue_name = text->substr(slash + 1);
        const TenantDraft* tenant = nullptr;
        for (const auto& t : tenants_) {
          if (t.name == tenant_name) tenant = &t;
        }
        if (tenant == nullptr) {
          errors_.add(name_node.Mark(), name_path, "unknown tenant " + quoted(tenant_name));
          continue;
        }
        auto it = tenant->queues.find(queue_name);
        if (it == tenant->queues.end()) {
          errors_.add(name_node.Mark(), name_path,
                      "unknown queue " + quoted(queue_name) + " in tenant " + quoted(tenant_name));
          continue;
        }
        entry.tenant = tenant->id;
        entry.queue = core::QueueId(it->second.id);
        entry.name = *text;
        demo.queues.push_back(std::move(entry));
      }
    }
  }
  if (demo.queues.empty()) {
    for (const auto& t : tenants_) {
      for (const auto& q : t.queue_drafts) {
        demo.queues.push_back({t.id, core::QueueId(q.id), t.name + "/" + q.name, 1.0});
      }
    }
  }
}

void Loader::declare_tenants(const YAML::Node& list, const std::string& path) {
  if (!expect_list(list, path, errors_)) return;
  std::map<std::string, YAML::Mark, std::less<>> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node node = list[i];
    const std::string tenant_path = index_path(path, i);
    TenantDraft tenant{
        "",
        {},
        MapReader(node, tenant_path, errors_,
                  {"name", "sip_realm", "default_language", "time_zone", "skills",
                   "not_ready_reasons", "transfer", "outbound_trunk", "teams", "agents", "queues",
                   "users", "prompt_sets", "calendars", "ivr_menus", "flows", "trunks"}),
        {},
        {},
        {},
        {},
        {},
        {},
        {},
        {}};
    if (!tenant.reader.ok()) continue;
    std::string name;
    if (tenant.reader.read_name("name", name, true)) {
      auto [it, inserted] = seen.emplace(name, tenant.reader.get("name")->Mark());
      if (!inserted) {
        errors_.add(tenant.reader.get("name")->Mark(), tenant.reader.path_of("name"),
                    "duplicate tenant " + quoted(name) + " (first defined at line " +
                        std::to_string(it->second.line + 1) + ")");
      }
      tenant.name = name;
    } else {
      tenant.name = tenant_path;  // not a valid name, so it cannot collide with a real one
    }
    tenant.id = registry_.tenant(tenant.name);

    if (auto skills = tenant.reader.get("skills")) {
      const std::string skills_path = tenant.reader.path_of("skills");
      if (expect_list(*skills, skills_path, errors_)) {
        for (std::size_t s = 0; s < skills->size(); ++s) {
          const YAML::Node skill_node = (*skills)[s];
          const std::string skill_path = index_path(skills_path, s);
          auto skill = read_name(skill_node, skill_path, errors_);
          if (!skill) continue;
          auto found = tenant.skills.find(*skill);
          if (found != tenant.skills.end()) {
            errors_.add(skill_node.Mark(), skill_path,
                        "duplicate skill " + quoted(*skill) + " (first defined at line " +
                            std::to_string(found->second.mark.line + 1) + ")");
            continue;
          }
          tenant.skills.emplace(
              *skill, Declared{registry_.skill(tenant.id, *skill).value, skill_node.Mark()});
        }
      }
    }
    if (auto n = tenant.reader.get("teams")) {
      declare_entities(tenant, *n, tenant.reader.path_of("teams"), Kind::kTeam,
                       {"name", "break_policy"});
    }
    if (auto n = tenant.reader.get("agents")) {
      declare_entities(tenant, *n, tenant.reader.path_of("agents"), Kind::kAgent,
                       {"name", "extension", "team", "work_mode", "skills", "outbound_wrap_up",
                        "capacity", "languages", "attributes", "sip"});
    }
    if (auto n = tenant.reader.get("queues")) {
      declare_entities(tenant, *n, tenant.reader.path_of("queues"), Kind::kQueue,
                       {"name",          "strategy",       "required_skills", "sl_threshold",
                        "ring_timeout",  "wrap_up",        "manual_wrap_up",  "default_handle_time",
                        "max_wait",      "max_length",     "join_when_empty", "leave_when_empty",
                        "on_timeout",    "on_full",        "on_empty",        "aging_per_minute",
                        "vip_boost",     "escalation",     "overflow",        "rona_policy",
                        "rona_retry",    "ring_all_limit", "sticky_window",   "sticky_wait",
                        "music_on_hold", "breakout",       "members",         "routing"});
    }
    if (auto n = tenant.reader.get("users")) {
      declare_entities(tenant, *n, tenant.reader.path_of("users"), Kind::kUser,
                       {"name", "display_name", "roles", "agent", "tokens"});
    }
    if (auto n = tenant.reader.get("prompt_sets")) {
      declare_entities(tenant, *n, tenant.reader.path_of("prompt_sets"), Kind::kPromptSet,
                       {"name", "language", "path"});
    }
    if (auto n = tenant.reader.get("calendars")) {
      declare_entities(tenant, *n, tenant.reader.path_of("calendars"), Kind::kCalendar,
                       {"name", "time_zone", "weekly", "holidays"});
    }
    if (auto n = tenant.reader.get("ivr_menus")) {
      declare_entities(
          tenant, *n, tenant.reader.path_of("ivr_menus"), Kind::kMenu,
          {"name", "prompt", "prompt_set", "timeout", "retries", "options", "on_failure"});
    }
    if (auto n = tenant.reader.get("flows")) {
      declare_entities(tenant, *n, tenant.reader.path_of("flows"), Kind::kFlow,
                       {"name", "file", "source", "instruction_limit", "memory_limit", "fallback"});
    }
    if (auto n = tenant.reader.get("trunks")) {
      declare_entities(tenant, *n, tenant.reader.path_of("trunks"), Kind::kTrunk,
                       {"name", "allowed_sources", "auth", "caller_id", "outbound", "dids"});
    }
    tenants_.push_back(std::move(tenant));
  }
}

void Loader::declare_entities(TenantDraft& tenant, const YAML::Node& list, const std::string& path,
                              Kind kind, std::initializer_list<std::string_view> keys) {
  if (!expect_list(list, path, errors_)) return;
  NameMap& names = names_of(tenant, kind);
  std::vector<EntityDraft>& drafts = drafts_of(tenant, kind);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node node = list[i];
    const std::string entity_path = index_path(path, i);
    EntityDraft draft{"", 0, MapReader(node, entity_path, errors_, keys)};
    if (!draft.reader.ok()) continue;
    if (!draft.reader.read_name("name", draft.name, true)) continue;
    const YAML::Mark mark = draft.reader.get("name")->Mark();
    auto found = names.find(draft.name);
    if (found != names.end()) {
      errors_.add(mark, draft.reader.path_of("name"),
                  std::string("duplicate ") + kind_name(kind) + " " + quoted(draft.name) +
                      " in tenant " + quoted(tenant.name) + " (first defined at line " +
                      std::to_string(found->second.mark.line + 1) + ")");
      continue;
    }
    switch (kind) {
      case Kind::kTeam: draft.id = registry_.team(tenant.id, draft.name).value; break;
      case Kind::kAgent: draft.id = registry_.agent(tenant.id, draft.name).value; break;
      case Kind::kQueue: draft.id = registry_.queue(tenant.id, draft.name).value; break;
      default: break;  // not known to the core
    }
    names.emplace(draft.name, Declared{draft.id, mark});
    drafts.push_back(std::move(draft));
  }
}

std::optional<std::uint32_t> Loader::resolve(const TenantDraft& tenant, Kind kind,
                                             const YAML::Node& node, const std::string& path) {
  auto name = read_name(node, path, errors_);
  if (!name) return std::nullopt;
  const auto& own = names_of(tenant, kind);
  if (auto it = own.find(*name); it != own.end()) return it->second.id;
  for (const auto& other : tenants_) {
    if (&other == &tenant) continue;
    const auto& theirs = names_of(other, kind);
    if (theirs.find(*name) != theirs.end()) {
      errors_.add(node.Mark(), path,
                  std::string(kind_name(kind)) + " " + quoted(*name) + " belongs to tenant " +
                      quoted(other.name) + ", not to tenant " + quoted(tenant.name) +
                      "; a tenant may reference only its own " + kind_name(kind) + "s");
      return std::nullopt;
    }
  }
  std::string message = std::string("unknown ") + kind_name(kind) + " " + quoted(*name) +
                        " in tenant " + quoted(tenant.name);
  std::vector<std::string> candidates;
  for (const auto& [candidate, declared] : own) candidates.push_back(candidate);
  if (auto guess = closest_match(*name, candidates))
    message += " (did you mean " + quoted(*guess) + "?)";
  errors_.add(node.Mark(), path, std::move(message));
  return std::nullopt;
}

void Loader::require_positive(const MapReader& map, std::string_view key, Duration value) {
  if (value > Duration::zero()) return;
  errors_.add(map.get(key)->Mark(), map.path_of(key), "must be greater than zero");
}

void Loader::read_tenant(TenantDraft& tenant) {
  config_.domain.tenants.push_back({tenant.id, tenant.name});
  // Skills in file (id) order.
  std::vector<std::pair<std::uint32_t, std::string>> skills;
  for (const auto& [name, declared] : tenant.skills) skills.emplace_back(declared.id, name);
  std::sort(skills.begin(), skills.end());
  for (const auto& [id, name] : skills) {
    config_.domain.skills.push_back({core::SkillId(id), tenant.id, name});
  }

  if (auto list = tenant.reader.get("not_ready_reasons")) {
    const std::string list_path = tenant.reader.path_of("not_ready_reasons");
    if (expect_list(*list, list_path, errors_)) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const YAML::Node item = (*list)[i];
        auto reason = read_name(item, index_path(list_path, i), errors_);
        if (!reason) continue;
        if (std::find(tenant.not_ready_reasons.begin(), tenant.not_ready_reasons.end(), *reason) !=
            tenant.not_ready_reasons.end()) {
          errors_.add(item.Mark(), index_path(list_path, i),
                      "duplicate not-ready reason " + quoted(*reason));
          continue;
        }
        tenant.not_ready_reasons.push_back(*reason);
      }
    }
  }
  config_.tenants.push_back({tenant.id, tenant.name, tenant.not_ready_reasons});
  // The reference stays valid: nothing else adds tenants while this one is read.
  TenantSettings& settings = config_.tenants.back();
  read_tenant_extras(tenant, settings);

  for (const auto& team : tenant.team_drafts) read_team(tenant, team);
  for (const auto& agent : tenant.agent_drafts) read_agent(tenant, agent);
  std::vector<RoutingDraft> routing;
  for (const auto& queue : tenant.queue_drafts) read_queue(tenant, queue, routing);
  // Calendars first: routing rules may name them (open('<calendar>'), holiday(...)).
  for (const auto& calendar : tenant.calendar_drafts) read_calendar(calendar, settings);
  check_routing(tenant, routing);
  for (const auto& set : tenant.prompt_set_drafts) read_prompt_set(set, settings);
  for (const auto& menu : tenant.menu_drafts) read_menu(tenant, menu, settings);
  for (const auto& flow : tenant.flow_drafts) read_flow(tenant, flow, settings);
  for (const auto& trunk : tenant.trunk_drafts) read_trunk(tenant, trunk, settings);
  for (const auto& user : tenant.user_drafts) read_user(tenant, user, settings);
  read_outbound_trunk(tenant, settings);
}

void Loader::read_team(const TenantDraft& tenant, const EntityDraft& draft) {
  core::TeamConfig team{core::TeamId(draft.id), tenant.id, draft.name, {}};
  if (auto policy_node = draft.reader.get("break_policy")) {
    MapReader policy(*policy_node, draft.reader.path_of("break_policy"), errors_,
                     {"reasons", "max_concurrent", "max_minutes", "over_limit"});
    if (auto reasons = policy.get("reasons")) {
      const std::string reasons_path = policy.path_of("reasons");
      if (expect_list(*reasons, reasons_path, errors_)) {
        for (std::size_t i = 0; i < reasons->size(); ++i) {
          const YAML::Node item = (*reasons)[i];
          const std::string item_path = index_path(reasons_path, i);
          auto reason = read_name(item, item_path, errors_);
          if (!reason) continue;
          const auto& allowed = tenant.not_ready_reasons;
          if (!allowed.empty() &&
              std::find(allowed.begin(), allowed.end(), *reason) == allowed.end()) {
            std::string message = "not-ready reason " + quoted(*reason) + " is not in tenant " +
                                  quoted(tenant.name) + "'s not_ready_reasons";
            if (auto guess = closest_match(*reason, allowed))
              message += " (did you mean " + quoted(*guess) + "?)";
            errors_.add(item.Mark(), item_path, std::move(message));
            continue;
          }
          team.break_policy.reasons.push_back(*reason);
        }
      }
    }
    policy.read("max_concurrent", team.break_policy.max_concurrent, 0, kMaxSmallInt);
    double minutes = 0;
    if (policy.read("max_minutes", minutes, 0.0, 24.0 * 60.0)) {
      team.break_policy.max_duration = std::chrono::duration_cast<Duration>(
          std::chrono::duration<double, std::ratio<60>>(minutes));
    }
    policy.read_enum("over_limit", team.break_policy.over_limit, kOverLimit, "over-limit action");
  }
  config_.domain.teams.push_back(std::move(team));
}

void Loader::read_agent(const TenantDraft& tenant, const EntityDraft& draft) {
  const MapReader& map = draft.reader;
  core::AgentConfig agent;
  agent.id = core::AgentId(draft.id);
  agent.tenant = tenant.id;
  agent.name = draft.name;
  if (auto ext = map.require("extension")) {
    const std::string ext_path = map.path_of("extension");
    if (auto text = read_string(*ext, ext_path, errors_)) {
      bool valid = !text->empty() && text->size() <= 32;
      for (char c : *text) {
        valid =
            valid && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '*' || c == '#' || c == '+' || c == '.' || c == '_' || c == '-');
      }
      if (!valid) {
        errors_.add(ext->Mark(), ext_path,
                    "invalid extension " + quoted(*text) +
                        "; expected 1 to 32 digits, letters or * # + . _ -");
      } else {
        for (const auto& other : config_.domain.agents) {
          if (other.tenant == tenant.id && other.extension == *text) {
            errors_.add(ext->Mark(), ext_path,
                        "extension " + quoted(*text) + " is already used by agent " +
                            quoted(other.name) + " in tenant " + quoted(tenant.name));
            valid = false;
            break;
          }
        }
        if (valid) agent.extension = *text;
      }
    }
  }
  if (auto team = map.get("team")) {
    if (auto id = resolve(tenant, Kind::kTeam, *team, map.path_of("team"))) {
      agent.team = core::TeamId(*id);
    }
  }
  map.read_enum("work_mode", agent.work_mode, kWorkModes, "work mode");
  map.read("outbound_wrap_up", agent.outbound_wrap_up);
  if (auto capacity = map.get("capacity"))
    read_capacity(*capacity, map.path_of("capacity"), agent.capacity);
  if (auto languages = map.get("languages"))
    read_languages(*languages, map.path_of("languages"), agent.languages);
  if (auto attributes = map.get("attributes"))
    read_attributes(*attributes, map.path_of("attributes"), agent.attributes);
  if (auto skills = map.get("skills")) {
    const std::string skills_path = map.path_of("skills");
    if (!skills->IsMap()) {
      errors_.add(skills->Mark(), skills_path,
                  std::string("expected a map of skill: level (1-10), got ") + describe(*skills));
    } else {
      for (auto it = skills->begin(); it != skills->end(); ++it) {
        const YAML::Node key = it->first;
        const std::string skill_path =
            key.IsScalar() ? key_path(skills_path, key.Scalar()) : skills_path;
        auto skill = resolve(tenant, Kind::kSkill, key, skill_path);
        if (!skill) continue;
        auto level =
            read_int(it->second, skill_path, errors_, core::kMinProficiency, core::kMaxProficiency);
        if (!level) continue;
        bool duplicate = false;
        for (const auto& s : agent.skills) duplicate = duplicate || s.skill.value == *skill;
        if (duplicate) {
          errors_.add(key.Mark(), skill_path, "duplicate skill " + quoted(key.Scalar()));
          continue;
        }
        agent.skills.push_back({core::SkillId(*skill), static_cast<int>(*level)});
      }
    }
  }
  if (auto sip = map.get("sip")) read_agent_sip(tenant, draft, *sip, config_.tenants.back());
  config_.domain.agents.push_back(std::move(agent));
}

void Loader::read_capacity(const YAML::Node& node, const std::string& path,
                           core::ChannelCapacity& capacity) {
  std::vector<std::string> channels;
  for (std::size_t i = 0; i < core::kChannelCount; ++i)
    channels.emplace_back(core::to_string(static_cast<core::Channel>(i)));
  const std::string range = std::to_string(core::kMaxChannelCapacity);
  if (!node.IsMap()) {
    errors_.add(node.Mark(), path,
                "expected a map of channel: tasks at once (0-" + range +
                    ") such as {chat: 3, email: 2}, got " + describe(node));
    return;
  }
  std::map<std::string, int, std::less<>> given;
  for_each_key(node, path, "a channel", [&](const YAML::Node& key, const YAML::Node& value) {
    const std::string channel_path = key_path(path, key.Scalar());
    const auto channel = core::parse_channel(key.Scalar());
    if (!channel) {
      std::string message = "unknown channel " + quoted(key.Scalar());
      if (auto guess = closest_match(key.Scalar(), channels))
        message += " (did you mean " + quoted(*guess) + "?)";
      std::string known;
      for (const auto& c : channels) known += (known.empty() ? "" : ", ") + c;
      errors_.add(key.Mark(), channel_path, message + "; expected one of " + known);
      return;
    }
    if (!first_given(given, key.Scalar(), key.Mark(), channel_path, "channel")) return;
    auto tasks = read_int(value, channel_path, errors_, 0, core::kMaxChannelCapacity);
    if (tasks) capacity[static_cast<std::size_t>(*channel)] = static_cast<int>(*tasks);
  });
}

bool Loader::first_given(std::map<std::string, int, std::less<>>& seen, const std::string& name,
                         const YAML::Mark& mark, const std::string& path, std::string_view noun) {
  auto [it, inserted] = seen.emplace(name, mark.line + 1);
  if (!inserted)
    errors_.add(mark, path,
                "duplicate " + std::string(noun) + " " + quoted(name) + " (first given at line " +
                    std::to_string(it->second) + ")");
  return inserted;
}

bool Loader::within_limit(const YAML::Node& node, const std::string& path, std::size_t limit,
                          std::string_view nouns) {
  if (node.size() <= limit) return true;
  errors_.add(node.Mark(), path,
              "expected at most " + std::to_string(limit) + " " + std::string(nouns) + ", got " +
                  std::to_string(node.size()));
  return false;
}

void Loader::read_languages(const YAML::Node& node, const std::string& path,
                            std::vector<std::string>& languages) {
  if (!expect_list(node, path, errors_)) return;
  if (!within_limit(node, path, kMaxAgentLanguages, "languages")) return;
  std::map<std::string, int, std::less<>> seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string item_path = index_path(path, i);
    auto language = read_checked(item, item_path, is_valid_agent_language, "language",
                                 "1 to 35 letters, digits or '-', such as \"en\" or \"pt-BR\"");
    if (language && first_given(seen, *language, item.Mark(), item_path, "language"))
      languages.push_back(*language);
  }
}

void Loader::read_attributes(const YAML::Node& node, const std::string& path,
                             std::vector<std::pair<std::string, std::string>>& attributes) {
  if (!node.IsMap()) {
    errors_.add(node.Mark(), path,
                "expected a map of name: value such as {site: paris, level: senior}, got " +
                    describe(node));
    return;
  }
  if (!within_limit(node, path, kMaxAgentAttributes, "attributes")) return;
  std::map<std::string, int, std::less<>> seen;
  for_each_key(node, path, "an attribute", [&](const YAML::Node& key, const YAML::Node& value) {
    const std::string attribute_path = key_path(path, key.Scalar());
    if (!is_valid_attribute_name(key.Scalar())) {
      errors_.add(key.Mark(), attribute_path,
                  "invalid attribute name " + quoted(key.Scalar()) +
                      "; expected 1 to 64 letters, digits or '_', not starting with a digit "
                      "(rules read it as agent.attr.<name>)");
      return;
    }
    if (!first_given(seen, key.Scalar(), key.Mark(), attribute_path, "attribute")) return;
    auto text = read_string(value, attribute_path, errors_);
    if (!text) return;
    // Characters, as the database counts them: UTF-8 bytes other than continuation bytes.
    const auto characters = static_cast<std::size_t>(
        std::count_if(text->begin(), text->end(), [](char c) { return (c & 0xC0) != 0x80; }));
    if (characters > kMaxAttributeValue) {
      errors_.add(value.Mark(), attribute_path,
                  "a value of " + std::to_string(characters) +
                      " characters is too long; expected at most " +
                      std::to_string(kMaxAttributeValue));
      return;
    }
    attributes.emplace_back(key.Scalar(), *text);
  });
}

std::optional<core::ExitDestination> Loader::read_exit(const TenantDraft& tenant,
                                                       const EntityDraft& queue,
                                                       const YAML::Node& node,
                                                       const std::string& path) {
  MapReader map(node, path, errors_, {"hangup", "queue", "voicemail", "callback"});
  if (!map.ok()) return std::nullopt;
  int count = 0;
  for (auto key : {"hangup", "queue", "voicemail", "callback"}) count += map.get(key) ? 1 : 0;
  if (count != 1) {
    if (count > 1 || node.size() == 0) {
      errors_.add(map.mark(), path,
                  "an exit has exactly one destination: {hangup: message}, {queue: name}, "
                  "{voicemail: box} or {callback: note}");
    }
    return std::nullopt;
  }
  core::ExitDestination dest;
  // A text value; an empty value (`hangup:`) means no message.
  auto text_of = [&](const YAML::Node& value,
                     const std::string& value_path) -> std::optional<std::string> {
    if (value.IsNull()) return std::string();
    return read_string(value, value_path, errors_);
  };
  if (auto v = map.get("hangup")) {
    dest.kind = core::ExitDestination::Kind::kHangup;
    auto text = text_of(*v, map.path_of("hangup"));
    if (!text) return std::nullopt;
    dest.target = *text;
  } else if (auto q = map.get("queue")) {
    dest.kind = core::ExitDestination::Kind::kQueue;
    auto id = resolve(tenant, Kind::kQueue, *q, map.path_of("queue"));
    if (!id) return std::nullopt;
    if (*id == queue.id) {
      errors_.add(q->Mark(), map.path_of("queue"),
                  "queue " + quoted(queue.name) + " cannot exit to itself");
      return std::nullopt;
    }
    dest.queue = core::QueueId(*id);
  } else if (auto box = map.get("voicemail")) {
    dest.kind = core::ExitDestination::Kind::kVoicemail;
    // A mailbox names a directory of messages: a plain name (no '/', no leading '.').
    auto text = read_name(*box, map.path_of("voicemail"), errors_);
    if (!text) return std::nullopt;
    dest.target = *text;
  } else if (auto note = map.get("callback")) {
    dest.kind = core::ExitDestination::Kind::kCallback;
    auto text = text_of(*note, map.path_of("callback"));
    if (!text) return std::nullopt;
    dest.target = *text;
  }
  return dest;
}

void Loader::read_escalation(const YAML::Node& node, const std::string& path,
                             core::QueueConfig& queue) {
  if (!expect_list(node, path, errors_)) return;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string step_path = index_path(path, i);
    MapReader map(node[i], step_path, errors_,
                  {"after", "relax_min_level", "drop_optional_skills", "max_tier"});
    if (!map.ok()) continue;
    core::EscalationStep step;
    if (!map.require("after") || !map.read("after", step.after)) continue;
    if (!queue.escalation.empty() && step.after < queue.escalation.back().after) {
      errors_.add(map.get("after")->Mark(), map.path_of("after"),
                  "escalation steps must be in order of `after`; this step comes before the "
                  "previous one");
    }
    map.read("relax_min_level", step.relax_min_level, 0, core::kMaxProficiency - 1);
    map.read("drop_optional_skills", step.drop_optional_skills);
    map.read("max_tier", step.max_tier, 0, core::kMaxTier);
    queue.escalation.push_back(step);
  }
}

void Loader::read_overflow(const YAML::Node& node, const std::string& path,
                           core::OverflowRule& rule) {
  MapReader map(node, path, errors_,
                {"enabled", "min_calls", "min_wait", "sustain", "max_tier", "clear_below_calls",
                 "clear_after"});
  if (!map.ok()) return;
  map.read("enabled", rule.enabled);
  const bool min_ok =
      map.read("min_calls", rule.min_calls, 1, kMaxSmallInt) || !map.get("min_calls");
  map.read("min_wait", rule.min_wait);
  map.read("sustain", rule.sustain);
  map.read("max_tier", rule.max_tier, 1, core::kMaxTier);
  const bool clear_ok = map.read("clear_below_calls", rule.clear_below_calls, 0, kMaxSmallInt) ||
                        !map.get("clear_below_calls");
  map.read("clear_after", rule.clear_after);
  if (min_ok && clear_ok && rule.clear_below_calls > rule.min_calls) {
    auto where = map.get("clear_below_calls") ? map.get("clear_below_calls")->Mark() : map.mark();
    errors_.add(where, map.path_of("clear_below_calls"),
                "clear_below_calls (" + std::to_string(rule.clear_below_calls) +
                    ") must not exceed min_calls (" + std::to_string(rule.min_calls) + ")");
  }
}

std::optional<RoutingDraft> Loader::read_routing(const MapReader& queue_map,
                                                 core::QueueConfig& queue) {
  const YAML::Node node = *queue_map.get("routing");
  RoutingDraft draft;
  draft.path = queue_map.path_of("routing");
  draft.key_mark = queue_map.key_mark("routing");
  const std::size_t errors_before = errors_.size();
  MapReader map(node, draft.path, errors_, {"steps", "order_by"});
  if (!map.ok()) return std::nullopt;
  core::QueueRouting routing;
  if (auto steps = map.require("steps")) {
    const std::string steps_path = map.path_of("steps");
    if (expect_list(*steps, steps_path, errors_) && steps->size() == 0) {
      errors_.add(steps->Mark(), steps_path,
                  "expected at least one step, such as {target: \"agent.skill.billing >= 5\"}; "
                  "leave routing out to route by skills and escalation");
    }
    for (std::size_t i = 0; steps->IsSequence() && i < steps->size(); ++i) {
      const std::string step_path = index_path(steps_path, i);
      MapReader step((*steps)[i], step_path, errors_, {"after", "target"});
      if (!step.ok()) continue;
      core::RoutingStep parsed;  // the first step applies from the start: `after` 0
      if (i == 0 ? step.get("after").has_value() : step.require("after").has_value())
        step.read("after", parsed.after);
      if (auto target = step.require("target")) {
        if (step.read("target", parsed.target) && parsed.target.empty())
          errors_.add(target->Mark(), step.path_of("target"),
                      "expected a routing condition such as \"agent.skill.billing >= 5\", got an "
                      "empty string");
      }
      routing.steps.push_back(std::move(parsed));
      draft.steps.push_back({step.get("after") ? step.get("after")->Mark() : step.mark(),
                             step.get("target") ? step.get("target")->Mark() : step.mark()});
    }
  }
  map.read("order_by", routing.order_by);
  draft.order_by_mark = map.get("order_by") ? map.get("order_by")->Mark() : map.mark();
  if (errors_.size() != errors_before) return std::nullopt;
  // The rules relax by their steps' targets: escalation and overflow would relax them again.
  if (!queue.escalation.empty()) {
    errors_.add(draft.key_mark, draft.path,
                "a queue with routing steps relaxes them through its targets; remove escalation");
  }
  if (queue.overflow.enabled) {
    errors_.add(draft.key_mark, draft.path,
                "a queue with routing steps names backup tiers with agent.tier; remove overflow");
  }
  queue.routing = std::move(routing);
  return draft;
}

void Loader::check_routing(const TenantDraft& tenant, const std::vector<RoutingDraft>& drafts) {
  if (drafts.empty()) return;
  const rules::Schema schema = core::tenant_rules_schema(config_.domain, tenant.id);
  for (const RoutingDraft& draft : drafts) {
    // compile_queue_routing stops at the first problem; each problem found is reported and
    // its part replaced by a neutral one, so that every problem of the queue is reported (at
    // most two per step, its `after` and its target, and one in order_by).
    core::QueueRouting routing = config_.domain.queues[draft.queue].routing;
    for (std::size_t attempt = 0; attempt <= 2 * routing.steps.size(); ++attempt) {
      auto compiled = core::compile_queue_routing(routing, schema);
      const auto* error = std::get_if<core::RoutingRuleError>(&compiled);
      if (error == nullptr) break;
      if (error->step == core::RoutingRuleError::kOrderBy) {
        errors_.add(draft.order_by_mark, key_path(draft.path, "order_by"),
                    "routing order_by: " + (error->compile_error ? error->compile_error->to_string()
                                                                 : error->problem));
        routing.order_by.clear();
        continue;
      }
      const auto step = static_cast<std::size_t>(error->step);
      if (step >= draft.steps.size()) {  // a problem of the whole (none is expected here)
        errors_.add(draft.key_mark, draft.path, "routing: " + error->problem);
        break;
      }
      const std::string step_path = index_path(key_path(draft.path, "steps"), step);
      const std::string where = "routing step " + std::to_string(step + 1);
      if (error->compile_error) {
        errors_.add(draft.steps[step].target_mark, key_path(step_path, "target"),
                    where + " target: " + error->compile_error->to_string());
        routing.steps[step].target = "true";
      } else {
        errors_.add(draft.steps[step].after_mark, key_path(step_path, "after"),
                    where + ": " + error->problem);
        routing.steps[step].after =
            step == 0 ? Duration::zero() : routing.steps[step - 1].after + Duration(1);
      }
    }
  }
}

void Loader::read_members(const TenantDraft& tenant, const YAML::Node& node,
                          const std::string& path, core::QueueConfig& queue) {
  if (!expect_list(node, path, errors_)) return;
  std::map<std::uint32_t, int> seen;  // agent id -> line
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string member_path = index_path(path, i);
    MapReader map(node[i], member_path, errors_,
                  {"agent", "tier", "penalty", "queue_priority", "weight"});
    if (!map.ok()) continue;
    core::QueueMember member;
    member.queue = queue.id;
    auto agent_node = map.require("agent");
    std::optional<std::uint32_t> agent;
    if (agent_node) agent = resolve(tenant, Kind::kAgent, *agent_node, map.path_of("agent"));
    map.read("tier", member.tier, 1, core::kMaxTier);
    map.read("penalty", member.penalty, 0, kMaxSmallInt);
    map.read("queue_priority", member.queue_priority, -kMaxSmallInt, kMaxSmallInt);
    map.read("weight", member.weight, 1, kMaxSmallInt);
    if (!agent) continue;
    auto [it, inserted] = seen.emplace(*agent, agent_node->Mark().line + 1);
    if (!inserted) {
      errors_.add(agent_node->Mark(), map.path_of("agent"),
                  "agent " + quoted(agent_node->Scalar()) + " is already a member of queue " +
                      quoted(queue.name) + " (line " + std::to_string(it->second) + ")");
      continue;
    }
    member.agent = core::AgentId(*agent);
    config_.domain.members.push_back(member);
  }
}

void Loader::read_queue(const TenantDraft& tenant, const EntityDraft& draft,
                        std::vector<RoutingDraft>& routing) {
  const MapReader& map = draft.reader;
  core::QueueConfig queue;
  queue.id = core::QueueId(draft.id);
  queue.tenant = tenant.id;
  queue.name = draft.name;
  map.read_enum("strategy", queue.strategy, kStrategies, "strategy");

  if (auto list = map.get("required_skills")) {
    const std::string list_path = map.path_of("required_skills");
    if (expect_list(*list, list_path, errors_)) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string item_path = index_path(list_path, i);
        MapReader item((*list)[i], item_path, errors_, {"skill", "min_level", "optional"});
        if (!item.ok()) continue;
        core::SkillRequirement req;
        auto skill_node = item.require("skill");
        std::optional<std::uint32_t> skill;
        if (skill_node) skill = resolve(tenant, Kind::kSkill, *skill_node, item.path_of("skill"));
        item.read("min_level", req.min_level, core::kMinProficiency, core::kMaxProficiency);
        item.read("optional", req.optional);
        if (!skill) continue;
        bool duplicate = false;
        for (const auto& r : queue.required_skills)
          duplicate = duplicate || r.skill.value == *skill;
        if (duplicate) {
          errors_.add(skill_node->Mark(), item.path_of("skill"),
                      "skill " + quoted(skill_node->Scalar()) + " is required twice");
          continue;
        }
        req.skill = core::SkillId(*skill);
        queue.required_skills.push_back(req);
      }
    }
  }

  if (map.read("sl_threshold", queue.sl_threshold))
    require_positive(map, "sl_threshold", queue.sl_threshold);
  if (map.read("ring_timeout", queue.ring_timeout))
    require_positive(map, "ring_timeout", queue.ring_timeout);
  map.read("wrap_up", queue.wrap_up);
  map.read("manual_wrap_up", queue.manual_wrap_up);
  if (map.read("default_handle_time", queue.default_handle_time)) {
    require_positive(map, "default_handle_time", queue.default_handle_time);
  }
  map.read("max_wait", queue.max_wait);
  map.read("max_length", queue.max_length, 0, kMaxSmallInt);
  map.read("join_when_empty", queue.join_when_empty);
  map.read("leave_when_empty", queue.leave_when_empty);
  for (auto [key, field] :
       {std::pair{"on_timeout", &queue.on_timeout}, std::pair{"on_full", &queue.on_full},
        std::pair{"on_empty", &queue.on_empty}}) {
    if (auto node = map.get(key)) {
      if (auto dest = read_exit(tenant, draft, *node, map.path_of(key))) *field = *dest;
    }
  }
  map.read("aging_per_minute", queue.aging_per_minute, 0.0, 1e6);
  map.read("vip_boost", queue.vip_boost, 0, kMaxSmallInt);
  if (auto node = map.get("escalation")) read_escalation(*node, map.path_of("escalation"), queue);
  if (auto node = map.get("overflow"))
    read_overflow(*node, map.path_of("overflow"), queue.overflow);
  map.read_enum("rona_policy", queue.rona_policy, kRonaPolicies, "RONA policy");
  map.read("rona_retry", queue.rona_retry);
  map.read("ring_all_limit", queue.ring_all_limit, 1, 1000);
  map.read("sticky_window", queue.sticky_window);
  map.read("sticky_wait", queue.sticky_wait);
  if (auto node = map.get("music_on_hold")) {
    if (auto moh = read_moh_reference(*node, map.path_of("music_on_hold")))
      queue.music_on_hold = *moh;
  }
  if (auto node = map.get("breakout"))
    read_breakout(tenant, draft, *node, map.path_of("breakout"), queue);
  if (auto node = map.get("members")) read_members(tenant, *node, map.path_of("members"), queue);
  if (map.get("routing")) {
    if (auto routing_draft = read_routing(map, queue)) {
      routing_draft->queue = config_.domain.queues.size();
      routing.push_back(std::move(*routing_draft));
    }
  }
  config_.domain.queues.push_back(std::move(queue));
}

std::optional<std::string> Loader::read_moh_reference(const YAML::Node& node,
                                                      const std::string& path) {
  auto text = read_string(node, path, errors_);
  if (!text || text->empty()) return text;
  if (!read_name(node, path, errors_)) return std::nullopt;
  if (!options_.check_music_on_hold) return text;
  const bool own = !options_.music_on_hold_classes.has_value();
  const std::vector<std::string>& known = own ? moh_names_ : *options_.music_on_hold_classes;
  if (std::find(known.begin(), known.end(), *text) != known.end()) return text;
  const std::string where =
      own ? "sip.media.music_on_hold" : "the daemon file's sip.media.music_on_hold";
  std::string message = "unknown music-on-hold class " + quoted(*text);
  if (known.empty()) {
    message +=
        "; " + where + " defines no classes (leave music_on_hold out, or define the class there)";
  } else {
    if (auto guess = closest_match(*text, known))
      message += " (did you mean " + quoted(*guess) + "?)";
    std::string names;
    for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
    message += "; expected one of the classes of " + where + ": " + names;
  }
  errors_.add(node.Mark(), path, std::move(message));
  return std::nullopt;
}

std::optional<std::string> Loader::read_checked(const YAML::Node& node, const std::string& path,
                                                bool (*valid)(std::string_view),
                                                std::string_view noun, std::string_view expected) {
  auto text = read_string(node, path, errors_);
  if (!text) return std::nullopt;
  if (!valid(*text)) {
    errors_.add(node.Mark(), path,
                "invalid " + std::string(noun) + " " + quoted(*text) + "; expected " +
                    std::string(expected));
    return std::nullopt;
  }
  return text;
}

void Loader::read_tenant_extras(const TenantDraft& tenant, TenantSettings& settings) {
  const MapReader& map = tenant.reader;
  if (auto n = map.get("sip_realm")) {
    if (auto realm = read_string(*n, map.path_of("sip_realm"), errors_)) {
      bool valid = !realm->empty() && realm->size() <= 255;
      for (char c : *realm) {
        valid = valid && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                          (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_' || c == ':');
      }
      if (valid) {
        settings.sip_realm = *realm;
      } else {
        errors_.add(n->Mark(), map.path_of("sip_realm"),
                    "invalid SIP realm " + quoted(*realm) +
                        "; expected 1 to 255 letters, digits, '.', '-', '_' or ':' (a domain)");
      }
    }
  }
  if (auto n = map.get("default_language")) {
    if (auto v = read_checked(*n, map.path_of("default_language"), is_valid_language, "language",
                              "a language tag such as \"en\" or \"de-CH\"")) {
      settings.default_language = *v;
    }
  }
  if (auto n = map.get("time_zone")) {
    if (auto v = read_checked(*n, map.path_of("time_zone"), is_valid_time_zone, "time zone",
                              "an IANA time zone such as \"Europe/Berlin\" or \"UTC\"")) {
      settings.time_zone = *v;
      // What routing rules' now.* read (config_.domain.tenants.back() is this tenant).
      auto zone = zones_.load(*v);
      if (zone)
        config_.domain.tenants.back().time_zone = std::move(zone.value());
      else
        errors_.add(n->Mark(), map.path_of("time_zone"), zone.error());
    }
  }
  if (auto n = map.get("transfer")) {
    MapReader transfer(*n, map.path_of("transfer"), errors_, {"allow_external"});
    transfer.read("allow_external", settings.allow_external_transfer);
  }
}

void Loader::read_outbound_trunk(const TenantDraft& tenant, TenantSettings& settings) {
  auto n = tenant.reader.get("outbound_trunk");
  if (!n) return;
  const std::string path = tenant.reader.path_of("outbound_trunk");
  if (!resolve(tenant, Kind::kTrunk, *n, path)) return;
  // A trunk whose `outbound` is invalid has its own error.
  auto written = [&](const std::string& trunk) {
    for (const auto& draft : tenant.trunk_drafts) {
      if (draft.name != trunk) continue;
      auto uri = draft.reader.get("outbound");
      return uri && !(uri->IsScalar() && uri->Scalar().empty());
    }
    return false;
  };
  for (const auto& trunk : settings.trunks) {
    if (trunk.name != n->Scalar()) continue;
    if (trunk.outbound_uri.empty() && !written(trunk.name)) {
      errors_.add(n->Mark(), path,
                  "trunk " + quoted(trunk.name) +
                      " takes no outbound calls; give it an `outbound` URI or name another trunk");
      return;
    }
  }
  // A trunk that failed to load has its own error; the reference itself is fine.
  settings.outbound_trunk = n->Scalar();
}

std::optional<std::string> Loader::read_sip_uri(const YAML::Node& node, const std::string& path) {
  return read_checked(node, path, is_valid_sip_uri, "SIP URI",
                      "\"sip:\" or \"sips:\", an optional user and '@', a host name, IPv4 "
                      "address or [IPv6 address], an optional :port (1-65535) and optional "
                      ";parameters (transport=udp, tcp or tls), e.g. "
                      "\"sip:carrier.example.com:5060;transport=udp\"");
}

std::optional<std::string> Loader::read_secret_ha1(const MapReader& map,
                                                   const std::string& username,
                                                   const std::string& realm) {
  auto password = map.get("password");
  auto ha1 = map.get("ha1");
  if ((password ? 1 : 0) + (ha1 ? 1 : 0) != 1) {
    errors_.add(map.mark(), map.path(),
                "give exactly one of `password` (hashed to HA1 on load) or `ha1` (32 hex "
                "digits, md5 of \"username:realm:password\")");
    return std::nullopt;
  }
  if (ha1) {
    auto text = read_string(*ha1, map.path_of("ha1"), errors_);
    if (!text) return std::nullopt;
    std::string lower = *text;
    for (char& c : lower) c = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    if (!is_lower_hex(lower, 32)) {
      errors_.add(ha1->Mark(), map.path_of("ha1"),
                  "invalid HA1; expected 32 hex digits (md5 of \"username:realm:password\")");
      return std::nullopt;
    }
    return lower;
  }
  auto text = read_string(*password, map.path_of("password"), errors_);
  if (!text) return std::nullopt;
  if (text->empty()) {
    errors_.add(password->Mark(), map.path_of("password"), "expected a password, got nothing");
    return std::nullopt;
  }
  warnings_.add(password->Mark(), map.path_of("password"),
                "password given in plaintext; only its HA1 (realm " + quoted(realm) +
                    ") is kept. Write `ha1: " + sip_ha1(username, realm, *text) + "` instead");
  return sip_ha1(username, realm, *text);
}

void Loader::read_agent_sip(const TenantDraft& tenant, const EntityDraft& draft,
                            const YAML::Node& node, TenantSettings& settings) {
  MapReader map(node, draft.reader.path_of("sip"), errors_,
                {"username", "password", "ha1", "contact"});
  if (!map.ok()) return;
  AgentSip sip;
  sip.agent = draft.name;
  bool ok = true;
  if (auto n = map.get("contact")) {
    auto contact = read_sip_uri(*n, map.path_of("contact"));
    if (contact) sip.contact = *contact;
    ok = contact.has_value();
  }
  const bool has_secret = map.get("password") || map.get("ha1");
  if (map.get("username") || has_secret || !map.get("contact")) {
    // Credentials: the phone registers (a contact alone needs none).
    if (!has_secret && !map.get("username")) {
      errors_.add(map.mark(), map.path(),
                  "give credentials the phone registers with (`password` or `ha1`, and "
                  "optionally `username`), a static `contact`, or both");
      return;
    }
    std::string username = draft.name;
    if (auto n = map.get("username")) {
      auto v = read_checked(*n, map.path_of("username"), is_valid_sip_username, "SIP user name",
                            "1 to 64 letters, digits or . _ ~ ! $ & ' ( ) * + , ; = % -");
      if (!v) return;
      username = *v;
    }
    auto ha1 = read_secret_ha1(map, username, settings.realm());
    if (!ha1) return;
    for (const auto& other : settings.agent_sip) {
      if (other.credentials && other.credentials->username == username) {
        errors_.add(map.get("username") ? map.get("username")->Mark() : map.mark(),
                    map.path_of("username"),
                    "SIP user name " + quoted(username) + " is already used by agent " +
                        quoted(other.agent) + " in tenant " + quoted(tenant.name));
        return;
      }
    }
    sip.credentials = DigestCredentials{username, *ha1};
  }
  if (ok) settings.agent_sip.push_back(std::move(sip));
}

void Loader::read_user(const TenantDraft& tenant, const EntityDraft& draft,
                       TenantSettings& settings) {
  const MapReader& map = draft.reader;
  UserConfig user;
  user.name = draft.name;
  map.read("display_name", user.display_name);
  static constexpr EnumName<UserRole> kRoles[] = {{"admin", UserRole::kAdmin},
                                                  {"supervisor", UserRole::kSupervisor},
                                                  {"agent", UserRole::kAgent},
                                                  {"read-only", UserRole::kReadOnly}};
  if (auto roles = map.require("roles")) {
    const std::string roles_path = map.path_of("roles");
    if (expect_list(*roles, roles_path, errors_)) {
      if (roles->size() == 0) {
        errors_.add(roles->Mark(), roles_path,
                    "a user needs at least one role: admin, supervisor, agent or read-only");
      }
      for (std::size_t i = 0; i < roles->size(); ++i) {
        const YAML::Node item = (*roles)[i];
        auto role =
            acd::app::read_enum<UserRole>(item, index_path(roles_path, i), errors_, kRoles, "role");
        if (!role) continue;
        if (std::find(user.roles.begin(), user.roles.end(), *role) != user.roles.end()) {
          errors_.add(item.Mark(), index_path(roles_path, i),
                      std::string("duplicate role ") + quoted(to_string(*role)));
          continue;
        }
        user.roles.push_back(*role);
      }
    }
  }
  if (auto agent = map.get("agent")) {
    if (resolve(tenant, Kind::kAgent, *agent, map.path_of("agent"))) user.agent = agent->Scalar();
  }
  if (auto tokens = map.get("tokens")) {
    const std::string tokens_path = map.path_of("tokens");
    if (expect_list(*tokens, tokens_path, errors_)) {
      for (std::size_t i = 0; i < tokens->size(); ++i) {
        MapReader item((*tokens)[i], index_path(tokens_path, i), errors_,
                       {"name", "sha256", "token", "expires_at"});
        if (!item.ok()) continue;
        ApiToken token;
        if (!item.read_name("name", token.name, true)) continue;
        bool duplicate = false;
        for (const auto& t : user.tokens) duplicate = duplicate || t.name == token.name;
        if (duplicate) {
          errors_.add(item.get("name")->Mark(), item.path_of("name"),
                      "duplicate token " + quoted(token.name) + " of user " + quoted(user.name));
          continue;
        }
        auto sha = item.get("sha256");
        auto plain = item.get("token");
        if ((sha ? 1 : 0) + (plain ? 1 : 0) != 1) {
          errors_.add(item.mark(), item.path(),
                      "give exactly one of `sha256` (64 hex digits, the token's SHA-256) or "
                      "`token` (plaintext, hashed on load)");
          continue;
        }
        YAML::Mark mark;
        if (sha) {
          auto text = read_string(*sha, item.path_of("sha256"), errors_);
          if (!text) continue;
          std::string lower = *text;
          for (char& c : lower) c = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
          if (!is_lower_hex(lower, 64)) {
            errors_.add(sha->Mark(), item.path_of("sha256"),
                        "invalid SHA-256; expected 64 hex digits");
            continue;
          }
          token.sha256 = lower;
          mark = sha->Mark();
        } else {
          auto text = read_string(*plain, item.path_of("token"), errors_);
          if (!text) continue;
          if (text->size() < 16) {
            errors_.add(plain->Mark(), item.path_of("token"),
                        "a token needs at least 16 characters");
            continue;
          }
          token.sha256 = sha256_hex(*text);
          mark = plain->Mark();
          warnings_.add(mark, item.path_of("token"),
                        "token given in plaintext; only its SHA-256 is kept. Write `sha256: " +
                            token.sha256 + "` instead");
        }
        auto [it, inserted] = token_hashes_.emplace(token.sha256, mark.line + 1);
        if (!inserted) {
          errors_.add(mark, item.path_of(sha ? "sha256" : "token"),
                      "the same token is already given at line " + std::to_string(it->second));
          continue;
        }
        if (auto expires = item.get("expires_at")) {
          auto text = read_string(*expires, item.path_of("expires_at"), errors_);
          if (!text) continue;
          auto canonical = canonical_timestamp(*text);
          if (!canonical) {
            errors_.add(expires->Mark(), item.path_of("expires_at"),
                        "invalid time " + quoted(*text) +
                            "; expected \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM:SSZ\" (or an offset "
                            "such as +01:00 instead of Z)");
            continue;
          }
          token.expires_at = *canonical;
        }
        user.tokens.push_back(std::move(token));
      }
    }
  }
  settings.users.push_back(std::move(user));
}

void Loader::read_prompt_set(const EntityDraft& draft, TenantSettings& settings) {
  const MapReader& map = draft.reader;
  PromptSetConfig set{draft.name, settings.default_language, ""};
  if (auto n = map.get("language")) {
    if (auto v = read_checked(*n, map.path_of("language"), is_valid_language, "language",
                              "a language tag such as \"en\" or \"de-CH\"")) {
      set.language = *v;
    }
  }
  if (auto n = map.require("path")) {
    if (auto v = read_string(*n, map.path_of("path"), errors_)) {
      if (v->empty()) {
        errors_.add(n->Mark(), map.path_of("path"), "expected a directory, got an empty string");
      }
      set.path = *v;
    }
  }
  settings.prompt_sets.push_back(std::move(set));
}

std::optional<DayHours> Loader::read_hours(const YAML::Node& node, const std::string& path) {
  if (!expect_list(node, path, errors_)) return std::nullopt;
  DayHours hours;
  bool ok = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    auto range =
        read_checked(item, index_path(path, i), is_valid_hours_range, "opening hours",
                     "\"HH:MM-HH:MM\" with the start before the end, e.g. \"08:00-12:30\"");
    if (!range) {
      ok = false;
      continue;
    }
    if (!hours.empty() && range->substr(0, 5) < hours.back().substr(6)) {
      errors_.add(item.Mark(), index_path(path, i),
                  "opening hours " + quoted(*range) + " overlap or precede " +
                      quoted(hours.back()) + "; list a day's ranges in order, without overlap");
      ok = false;
      continue;
    }
    hours.push_back(*range);
  }
  if (!ok) return std::nullopt;
  return hours;
}

void Loader::read_calendar(const EntityDraft& draft, TenantSettings& settings) {
  const MapReader& map = draft.reader;
  CalendarConfig calendar;
  calendar.name = draft.name;
  calendar.time_zone = settings.time_zone;
  if (auto n = map.get("time_zone")) {
    if (auto v = read_checked(*n, map.path_of("time_zone"), is_valid_time_zone, "time zone",
                              "an IANA time zone such as \"Europe/Berlin\" or \"UTC\"")) {
      calendar.time_zone = *v;
    }
  }
  if (auto weekly = map.get("weekly")) {
    MapReader days(*weekly, map.path_of("weekly"), errors_,
                   {"mon", "tue", "wed", "thu", "fri", "sat", "sun"});
    for (std::size_t d = 0; d < 7; ++d) {
      if (auto n = days.get(weekday_name(d))) {
        if (auto hours = read_hours(*n, days.path_of(weekday_name(d))))
          calendar.weekly[d] = std::move(*hours);
      }
    }
  }
  if (auto holidays = map.get("holidays")) {
    const std::string list_path = map.path_of("holidays");
    if (expect_list(*holidays, list_path, errors_)) {
      for (std::size_t i = 0; i < holidays->size(); ++i) {
        MapReader item((*holidays)[i], index_path(list_path, i), errors_,
                       {"date", "name", "hours"});
        if (!item.ok()) continue;
        Holiday holiday;
        auto date_node = item.require("date");
        if (!date_node) continue;
        auto date = read_checked(*date_node, item.path_of("date"), is_valid_date, "date",
                                 "a date \"YYYY-MM-DD\"");
        if (!date) continue;
        bool duplicate = false;
        for (const auto& h : calendar.holidays) duplicate = duplicate || h.date == *date;
        if (duplicate) {
          errors_.add(
              date_node->Mark(), item.path_of("date"),
              "duplicate holiday " + quoted(*date) + " in calendar " + quoted(calendar.name));
          continue;
        }
        holiday.date = *date;
        item.read("name", holiday.name);
        if (auto hours = item.get("hours")) {
          auto parsed = read_hours(*hours, item.path_of("hours"));
          if (!parsed) continue;
          holiday.hours = std::move(*parsed);
        }
        calendar.holidays.push_back(std::move(holiday));
      }
    }
  }
  // The core's view, for open() and holiday() in routing rules. A zone that does not load
  // is reported where it is written (the tenant's, when the calendar does not name one).
  auto zone = zones_.load(calendar.time_zone);
  if (zone) {
    config_.domain.tenants.back().calendars.push_back(
        to_business_calendar(calendar, std::move(zone.value())));
  } else if (auto n = map.get("time_zone")) {
    errors_.add(n->Mark(), map.path_of("time_zone"), zone.error());
  }
  settings.calendars.push_back(std::move(calendar));
}

std::optional<IvrAction> Loader::read_ivr_action(const TenantDraft& tenant, const YAML::Node& node,
                                                 const std::string& path) {
  MapReader map(node, path, errors_,
                {"queue", "menu", "voicemail", "callback", "hangup", "operator"});
  if (!map.exactly_one_of({"queue", "menu", "voicemail", "callback", "hangup", "operator"},
                          "an action has exactly one of {queue: name}, {menu: name}, "
                          "{voicemail: box}, {callback: note}, {hangup: message} or "
                          "{operator: extension}"))
    return std::nullopt;
  IvrAction action;
  if (auto q = map.get("queue")) {
    action.kind = IvrAction::Kind::kQueue;
    if (!resolve(tenant, Kind::kQueue, *q, map.path_of("queue"))) return std::nullopt;
    action.target = q->Scalar();
    return action;
  }
  if (auto m = map.get("menu")) {
    action.kind = IvrAction::Kind::kMenu;
    if (!resolve(tenant, Kind::kMenu, *m, map.path_of("menu"))) return std::nullopt;
    action.target = m->Scalar();
    return action;
  }
  for (auto [key, kind] : {std::pair{"voicemail", IvrAction::Kind::kVoicemail},
                           std::pair{"callback", IvrAction::Kind::kCallback},
                           std::pair{"hangup", IvrAction::Kind::kHangup},
                           std::pair{"operator", IvrAction::Kind::kOperator}}) {
    auto v = map.get(key);
    if (!v) continue;
    action.kind = kind;
    if (v->IsNull()) return action;  // `hangup:` with no message
    // A mailbox names a directory of messages: a plain name (no '/', no leading '.').
    auto text = kind == IvrAction::Kind::kVoicemail ? read_name(*v, map.path_of(key), errors_)
                                                    : read_string(*v, map.path_of(key), errors_);
    if (!text) return std::nullopt;
    if (kind == IvrAction::Kind::kOperator && !text->empty() && !is_valid_number(*text)) {
      errors_.add(v->Mark(), map.path_of(key),
                  "invalid extension " + quoted(*text) +
                      "; expected digits, letters or * # + . _ - (empty: the tenant's operator)");
      return std::nullopt;
    }
    action.target = *text;
  }
  return action;
}

bool Loader::check_dtmf_key(const YAML::Node& key, const std::string& path) {
  const bool valid =
      key.IsScalar() && key.Scalar().size() == 1 &&
      std::string_view("0123456789*#").find(key.Scalar()[0]) != std::string_view::npos;
  if (!valid)
    errors_.add(key.Mark(), path,
                "invalid key " + describe(key) + "; expected one of 0-9, \"*\" or \"#\"");
  return valid;
}

// breakout: {prompt: name, keys: {"1": {voicemail: box}, "2": {callback: note}, ...}}
void Loader::read_breakout(const TenantDraft& tenant, const EntityDraft& queue,
                           const YAML::Node& node, const std::string& path,
                           core::QueueConfig& config) {
  MapReader map(node, path, errors_, {"prompt", "keys"});
  if (!map.ok()) return;
  if (auto n = map.get("prompt")) {
    if (auto name = read_name(*n, map.path_of("prompt"), errors_)) config.breakout_prompt = *name;
  }
  auto keys = map.require("keys");
  if (!keys) return;
  const std::string keys_path = map.path_of("keys");
  if (!keys->IsMap() || keys->size() == 0) {
    errors_.add(keys->Mark(), keys_path,
                "expected a map of key: exit (keys 0-9, \"*\", \"#\"; exits as in on_timeout), "
                "got " +
                    describe(*keys));
    return;
  }
  for (auto it = keys->begin(); it != keys->end(); ++it) {
    const YAML::Node key = it->first;
    const std::string key_at = key.IsScalar() ? key_path(keys_path, key.Scalar()) : keys_path;
    if (!check_dtmf_key(key, key_at)) continue;
    const char digit = key.Scalar()[0];
    bool duplicate = false;
    for (const auto& [taken, unused] : config.breakout) duplicate = duplicate || taken == digit;
    if (duplicate) {
      errors_.add(key.Mark(), key_at, "duplicate key " + quoted(key.Scalar()));
      continue;
    }
    if (auto dest = read_exit(tenant, queue, it->second, key_at))
      config.breakout.emplace_back(digit, std::move(*dest));
  }
  // One order however written (the database keeps the keys sorted, too).
  std::sort(config.breakout.begin(), config.breakout.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
}

void Loader::read_menu(const TenantDraft& tenant, const EntityDraft& draft,
                       TenantSettings& settings) {
  const MapReader& map = draft.reader;
  IvrMenuConfig menu;
  menu.name = draft.name;
  if (auto n = map.require("prompt")) {
    if (auto v = read_string(*n, map.path_of("prompt"), errors_)) {
      if (v->empty()) errors_.add(n->Mark(), map.path_of("prompt"), "expected a prompt name");
      menu.prompt = *v;
    }
  }
  if (auto n = map.get("prompt_set")) {
    if (resolve(tenant, Kind::kPromptSet, *n, map.path_of("prompt_set")))
      menu.prompt_set = n->Scalar();
  }
  if (map.read("timeout", menu.timeout)) require_positive(map, "timeout", menu.timeout);
  map.read("retries", menu.retries, 0, 10);
  if (auto options = map.get("options")) {
    const std::string options_path = map.path_of("options");
    if (!options->IsMap()) {
      errors_.add(
          options->Mark(), options_path,
          "expected a map of key: action (keys 0-9, \"*\", \"#\"), got " + describe(*options));
    } else {
      for (auto it = options->begin(); it != options->end(); ++it) {
        const YAML::Node key = it->first;
        const std::string option_path =
            key.IsScalar() ? key_path(options_path, key.Scalar()) : options_path;
        if (!check_dtmf_key(key, option_path)) continue;
        bool duplicate = false;
        for (const auto& o : menu.options) duplicate = duplicate || o.input == key.Scalar();
        if (duplicate) {
          errors_.add(key.Mark(), option_path, "duplicate key " + quoted(key.Scalar()));
          continue;
        }
        if (auto action = read_ivr_action(tenant, it->second, option_path)) {
          menu.options.push_back({key.Scalar(), std::move(*action)});
        }
      }
    }
  }
  if (auto n = map.get("on_failure")) {
    if (auto action = read_ivr_action(tenant, *n, map.path_of("on_failure")))
      menu.on_failure = std::move(*action);
  }
  settings.ivr_menus.push_back(std::move(menu));
}

std::optional<IvrAction> Loader::read_flow_fallback(const TenantDraft& tenant,
                                                    const YAML::Node& node,
                                                    const std::string& path) {
  // Where a call goes when its script cannot decide: somewhere that needs no script.
  MapReader map(node, path, errors_, {"queue", "voicemail", "hangup"});
  if (!map.exactly_one_of({"queue", "voicemail", "hangup"},
                          "a fallback has exactly one of {queue: name}, {voicemail: box} or "
                          "{hangup: message}"))
    return std::nullopt;
  return read_ivr_action(tenant, node, path);
}

void Loader::read_flow(const TenantDraft& tenant, const EntityDraft& draft,
                       TenantSettings& settings) {
  const MapReader& map = draft.reader;
  CallFlowConfig flow;
  flow.name = draft.name;
  if (auto n = map.get("instruction_limit")) {
    if (auto v = read_int(*n, map.path_of("instruction_limit"), errors_, 1000, 100'000'000))
      flow.instruction_limit = static_cast<std::uint64_t>(*v);
  }
  if (auto n = map.get("memory_limit")) {
    if (auto v = read_int(*n, map.path_of("memory_limit"), errors_, 65536, 64 * 1024 * 1024))
      flow.memory_limit = static_cast<std::size_t>(*v);
  }
  if (auto n = map.require("fallback")) {
    if (auto action = read_flow_fallback(tenant, *n, map.path_of("fallback")))
      flow.fallback = std::move(*action);
  }
  auto file = map.get("file");
  auto source = map.get("source");
  if ((file ? 1 : 0) + (source ? 1 : 0) != 1) {
    errors_.add(map.mark(), map.path(),
                "a flow has exactly one of {file: path of a .lua file, relative to this file} "
                "or {source: the script's text}");
    return;
  }
  const YAML::Node& text_node = file ? *file : *source;
  const std::string text_path = map.path_of(file ? "file" : "source");
  auto text = read_string(text_node, text_path, errors_);
  if (!text) return;
  std::string chunk_name = flow.name + ".lua";
  if (file) {
    if (text->empty()) {
      errors_.add(text_node.Mark(), text_path, "expected the path of a .lua file");
      return;
    }
    if (!options_.allow_flow_files) {
      errors_.add(text_node.Mark(), text_path,
                  "a script file is not read for a document sent through the API; give the "
                  "script's text as source:");
      return;
    }
    flow.file = *text;
    // Relative to the directory of the configuration file (plain string work: <filesystem>
    // would bring std::quoted into this file's many unqualified quoted() calls).
    std::string where = *text;
    if (where.front() != '/') {
      const std::string& config_file = errors_.file();
      const auto slash = config_file.rfind('/');
      if (slash != std::string::npos) where = config_file.substr(0, slash + 1) + where;
    }
    errno = 0;
    std::ifstream in(where, std::ios::binary);
    std::ostringstream read;
    if (in) read << in.rdbuf();
    if (!in || in.bad()) {
      const int err = errno;
      errors_.add(text_node.Mark(), text_path,
                  "cannot read flow script " + quoted(where) + ": " +
                      (err != 0 ? std::strerror(err) : "read error"));
      return;
    }
    flow.source = read.str();
    chunk_name = where.substr(where.rfind('/') + 1);
  } else {
    flow.source = *text;
  }
  if (flow.source.find_first_not_of(" \t\r\n") == std::string::npos) {
    // A script that does nothing would send every call to the fallback.
    errors_.add(text_node.Mark(), text_path,
                "flow " + quoted(flow.name) + " has an empty script; expected Lua text");
    return;
  }
  auto compiled = flows::FlowScript::compile(chunk_name, flow.source);
  if (auto* error = std::get_if<flows::FlowCompileError>(&compiled)) {
    errors_.add(text_node.Mark(), text_path,
                "flow " + quoted(flow.name) + " does not compile: " + error->message);
    return;
  }
  flow.script =
      std::make_shared<const flows::FlowScript>(std::get<flows::FlowScript>(std::move(compiled)));
  settings.flows.push_back(std::move(flow));
}

void Loader::read_trunk(const TenantDraft& tenant, const EntityDraft& draft,
                        TenantSettings& settings) {
  const MapReader& map = draft.reader;
  TrunkConfig trunk;
  trunk.name = draft.name;
  if (auto sources = map.get("allowed_sources")) {
    const std::string list_path = map.path_of("allowed_sources");
    if (expect_list(*sources, list_path, errors_)) {
      for (std::size_t i = 0; i < sources->size(); ++i) {
        const YAML::Node item = (*sources)[i];
        auto text = read_string(item, index_path(list_path, i), errors_);
        if (!text) continue;
        auto cidr = canonical_cidr(*text);
        if (!cidr) {
          errors_.add(item.Mark(), index_path(list_path, i),
                      "invalid network " + quoted(*text) +
                          "; expected an address or CIDR such as \"203.0.113.0/24\" or "
                          "\"2001:db8::/32\", without bits set beyond the prefix");
          continue;
        }
        if (std::find(trunk.allowed_sources.begin(), trunk.allowed_sources.end(), *cidr) !=
            trunk.allowed_sources.end()) {
          errors_.add(item.Mark(), index_path(list_path, i), "duplicate network " + quoted(*cidr));
          continue;
        }
        trunk.allowed_sources.push_back(*cidr);
      }
    }
  }
  if (auto auth = map.get("auth")) {
    MapReader a(*auth, map.path_of("auth"), errors_, {"username", "password", "ha1"});
    if (a.ok()) {
      if (auto n = a.require("username")) {
        if (auto username =
                read_checked(*n, a.path_of("username"), is_valid_sip_username, "SIP user name",
                             "1 to 64 letters, digits or . _ ~ ! $ & ' ( ) * + , ; = % -")) {
          if (auto ha1 = read_secret_ha1(a, *username, settings.realm()))
            trunk.auth = DigestCredentials{*username, *ha1};
        }
      }
    }
  }
  if (auto n = map.get("caller_id")) {
    if (auto v = read_string(*n, map.path_of("caller_id"), errors_)) {
      if (!v->empty() && !is_valid_number(*v)) {
        errors_.add(n->Mark(), map.path_of("caller_id"),
                    "invalid caller id " + quoted(*v) +
                        "; expected an optional '+' and 1 to 32 digits, letters or * # . _ -");
      } else {
        trunk.caller_id = *v;
      }
    }
  }
  if (auto n = map.get("outbound")) {
    if (auto text = read_string(*n, map.path_of("outbound"), errors_); text && !text->empty()) {
      if (auto uri = read_sip_uri(*n, map.path_of("outbound"))) trunk.outbound_uri = *uri;
    }
  }
  if (auto dids = map.get("dids")) {
    const std::string list_path = map.path_of("dids");
    if (expect_list(*dids, list_path, errors_)) {
      for (std::size_t i = 0; i < dids->size(); ++i) {
        MapReader item((*dids)[i], index_path(list_path, i), errors_,
                       {"number", "queue", "ivr_menu", "flow", "priority", "vip_level", "answer"});
        if (!item.ok()) continue;
        DidConfig did;
        const bool priority_ok =
            item.read("priority", did.priority, -1000, 1000) || !item.get("priority");
        const bool vip_ok = item.read("vip_level", did.vip_level, 0, 10) || !item.get("vip_level");
        if (!priority_ok || !vip_ok) continue;
        if (auto answer = item.get("answer")) {
          auto mode = read_string(*answer, item.path_of("answer"), errors_);
          if (!mode) continue;
          if (*mode == "on-connect") {
            did.answer_on_connect = true;
          } else if (*mode != "immediate") {
            errors_.add(answer->Mark(), item.path_of("answer"),
                        "expected immediate or on-connect, got '" + *mode + "'");
            continue;
          }
        }
        auto number_node = item.require("number");
        std::optional<std::string> number;
        if (number_node) {
          number = read_checked(*number_node, item.path_of("number"), is_valid_number, "number",
                                "an optional '+' and 1 to 32 digits, letters or * # . _ -");
        }
        auto queue = item.get("queue");
        auto menu = item.get("ivr_menu");
        auto flow = item.get("flow");
        if ((queue ? 1 : 0) + (menu ? 1 : 0) + (flow ? 1 : 0) != 1) {
          errors_.add(item.mark(), item.path(),
                      "a number goes to exactly one entry point: {queue: name}, "
                      "{ivr_menu: name} or {flow: name}");
          continue;
        }
        if (queue) {
          if (!resolve(tenant, Kind::kQueue, *queue, item.path_of("queue"))) continue;
          did.entry = {EntryPoint::Kind::kQueue, queue->Scalar()};
        } else if (flow) {
          if (!resolve(tenant, Kind::kFlow, *flow, item.path_of("flow"))) continue;
          did.entry = {EntryPoint::Kind::kFlow, flow->Scalar()};
        } else {
          if (!resolve(tenant, Kind::kMenu, *menu, item.path_of("ivr_menu"))) continue;
          did.entry = {EntryPoint::Kind::kMenu, menu->Scalar()};
        }
        if (!number) continue;
        std::string owner;
        for (const auto& t : settings.trunks) {
          for (const auto& d : t.dids) {
            if (d.number == *number) owner = t.name;
          }
        }
        for (const auto& d : trunk.dids) {
          if (d.number == *number) owner = trunk.name;
        }
        if (!owner.empty()) {
          errors_.add(number_node->Mark(), item.path_of("number"),
                      "number " + quoted(*number) + " is already routed by trunk " + quoted(owner) +
                          " in tenant " + quoted(tenant.name));
          continue;
        }
        did.number = *number;
        trunk.dids.push_back(std::move(did));
      }
    }
  }
  settings.trunks.push_back(std::move(trunk));
}

}  // namespace

const char* to_string(sip::SipOptions::UnknownSource action) {
  for (const auto& n : kUnknownSources) {
    if (n.value == action) return n.name;
  }
  return "?";
}

const char* to_string(sip::LoginOnRegister login) {
  for (const auto& n : kAgentLogins) {
    if (n.value == login) return n.name;
  }
  return "?";
}

const char* to_string(LogLevel level) {
  for (const auto& n : kLogLevels) {
    if (n.value == level) return n.name;
  }
  return "?";
}

const char* to_string(LogFormat format) {
  for (const auto& n : kLogFormats) {
    if (n.value == format) return n.name;
  }
  return "?";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (const auto& n : kLogLevels) {
    if (text == n.name) return n.value;
  }
  return std::nullopt;
}

std::vector<std::string> music_on_hold_names(const DaemonConfig& config) {
  std::vector<std::string> names;
  for (const auto& c : config.media.music_on_hold) names.push_back(c.name);
  return names;
}

ConfigResult load_config_text(std::string_view text, const std::string& file_label,
                              NameRegistry& registry, const LoadOptions& options) {
  Loader loader(file_label, registry, options);
  ConfigResult result = loader.load(text);
  if (result.ok()) {
    result->path = file_label;
    registry = std::move(loader.registry());
  }
  return result;
}

ConfigResult load_config_file(const std::string& path, NameRegistry& registry,
                              const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    ErrorList errors(path);
    errors.add_file_error(std::string("cannot open: ") + std::strerror(err));
    return ConfigResult::failure(errors.take());
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    ErrorList errors(path);
    errors.add_file_error("cannot read the file");
    return ConfigResult::failure(errors.take());
  }
  return load_config_text(text.str(), path, registry, options);
}

core::CoreConfig to_core_config(const DaemonConfig& config) {
  return config.domain;
}

}  // namespace acd::app
