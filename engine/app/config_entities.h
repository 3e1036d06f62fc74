// The configuration entities beyond what the routing core keeps: users and API tokens,
// agents' SIP credentials, trunks and dialled numbers, IVR menus, prompt sets and
// business-hours calendars (see the `tenants:` section of config/acdd.yaml). The loader
// (config.h) validates them and carries them per tenant in TenantSettings; the SIP,
// media and gRPC layers read them. Every reference is by name within the tenant.
// Secrets appear only hashed: API tokens as SHA-256 (hex), SIP passwords as the digest
// HA1 = md5("username:realm:password") (hex); a plaintext given in the file is hashed by
// the loader, which warns about it. Thread-safety: plain values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/time.h"
#include "engine/flows/flow.h"

namespace acd::app {

enum class UserRole : std::uint8_t { kAdmin, kSupervisor, kAgent, kReadOnly };
const char* to_string(UserRole role);  // "admin", "supervisor", "agent", "read-only"

struct ApiToken {
  std::string name;
  std::string sha256;      // 64 lower-case hex digits
  std::string expires_at;  // "YYYY-MM-DDTHH:MM:SSZ" (UTC); empty: never
  bool operator==(const ApiToken&) const = default;
};

struct UserConfig {
  std::string name;
  std::string display_name;
  std::vector<UserRole> roles;  // at least one, no duplicates, in file order
  std::string agent;            // the agent the user works as; empty: none
  std::vector<ApiToken> tokens;
};

// HTTP digest credentials as SIP uses them: the user name and HA1 (32 lower-case hex).
struct DigestCredentials {
  std::string username;
  std::string ha1;
  bool operator==(const DigestCredentials&) const = default;
};

// How an agent's phone is reached: it registers with `credentials` (in the tenant's
// realm), or it is always at the static `contact`, or both (a registration wins while it
// lasts). At least one of the two is set.
struct AgentSip {
  std::string agent;
  std::optional<DigestCredentials> credentials;  // nullopt: the phone does not register
  std::string contact;                           // a sip:/sips: URI; empty: none
};

// What an IVR key (or a menu's failure) does.
struct IvrAction {
  enum class Kind : std::uint8_t { kQueue, kMenu, kVoicemail, kCallback, kHangup, kOperator };
  Kind kind = Kind::kHangup;
  // kQueue, kMenu: the name; kVoicemail: mailbox; kCallback: note; kHangup: message;
  // kOperator: extension or number (empty: the tenant's operator).
  std::string target;
  bool operator==(const IvrAction&) const = default;
};
const char* to_string(IvrAction::Kind kind);  // "queue", "menu", ...

struct IvrOption {
  std::string input;  // one key: 0-9, * or #
  IvrAction action;
};

struct IvrMenuConfig {
  std::string name;
  std::string prompt;                                // the prompt played (a name in the prompt set)
  std::string prompt_set;                            // empty: the tenant's default for its language
  core::Duration timeout = std::chrono::seconds(5);  // wait for a key after the prompt
  int retries = 2;                                   // repeats after a timeout or an invalid key
  std::vector<IvrOption> options;                    // in file order
  IvrAction on_failure;                              // after the retries; default: hang up
};

struct PromptSetConfig {
  std::string name;
  std::string language;  // e.g. "en", "de-CH"
  std::string path;      // directory of the prompt files
};

// Opening hours of one day: "HH:MM-HH:MM" ranges, ascending, not overlapping.
using DayHours = std::vector<std::string>;

struct Holiday {
  std::string date;  // "YYYY-MM-DD"
  std::string name;
  std::optional<DayHours> hours;  // nullopt: closed all day
};

struct CalendarConfig {
  std::string name;
  std::string time_zone;           // IANA name; the tenant's when not given
  std::array<DayHours, 7> weekly;  // mon..sun; empty: closed
  std::vector<Holiday> holidays;   // in file order, dates unique
};
// "mon", "tue", ... "sun" for 0..6.
const char* weekday_name(std::size_t day);

// A call-flow script (docs/FLOWS.md): a Lua 5.4 script that decides what happens to a
// call reaching an entry point. Compiled by the loader; a script that does not compile
// refuses the whole configuration (the running one stays).
struct CallFlowConfig {
  std::string name;
  std::string file;    // as written in the YAML file (relative to it); empty: `source` inline
  std::string source;  // the script's text (read from `file` when one is given)
  std::uint64_t instruction_limit = 1'000'000;  // per call, over all its resumes
  std::size_t memory_limit = 2 * 1024 * 1024;   // bytes per call
  // What the call does when the script fails, hits a limit or ends without deciding:
  // a queue, voicemail or hang-up (IvrAction kinds kQueue, kVoicemail, kHangup).
  IvrAction fallback;
  // The compiled script, shared by every call that runs it; never null once loaded.
  std::shared_ptr<const flows::FlowScript> script;
};

// Where a dialled number goes: a queue, an IVR menu or a call-flow script.
struct EntryPoint {
  enum class Kind : std::uint8_t { kQueue, kMenu, kFlow };
  Kind kind = Kind::kQueue;
  std::string target;  // the queue's, menu's or flow's name
};

struct DidConfig {
  std::string number;
  EntryPoint entry;
  int priority = 0;   // the priority calls on this number get in the queue, -1000..1000
  int vip_level = 0;  // the callers' VIP level, 0..10 (0: not a VIP)
  // When the caller's INVITE is answered: at once (they wait in the queue on a connected
  // call) or only when an agent answers (they hear ringing; a CANCEL is an abandon).
  bool answer_on_connect = false;
};

struct TrunkConfig {
  std::string name;
  std::vector<std::string> allowed_sources;  // CIDRs, canonical ("10.0.0.0/8", "2001:db8::/32")
  std::optional<DigestCredentials> auth;     // digest authentication, in the tenant's realm
  std::string caller_id;                     // for outbound calls; empty: none
  // Where outbound calls over this trunk are sent: a sip:/sips: URI as written; empty: the
  // trunk takes no outbound calls.
  std::string outbound_uri;
  std::vector<DidConfig> dids;
};

}  // namespace acd::app

// Validation and canonical forms of the entities' values, shared by the loader and the
// database layer. Each returns the canonical text, or nothing when `text` is invalid.
namespace acd::app {

// "10.0.0.0/8"; an address alone is a host ("10.0.0.1" -> "10.0.0.1/32"); bits set
// beyond the prefix are invalid (as PostgreSQL's cidr).
std::optional<std::string> canonical_cidr(std::string_view text);
// "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" with "Z", "+HH:MM" or "-HH:MM" (none: UTC) ->
// "YYYY-MM-DDTHH:MM:SSZ" in UTC.
std::optional<std::string> canonical_timestamp(std::string_view text);
// A calendar date "YYYY-MM-DD" that exists.
bool is_valid_date(std::string_view text);
// "HH:MM-HH:MM", from earlier than to, to at most 24:00.
bool is_valid_hours_range(std::string_view text);
// A language tag: 2-3 lower-case letters, then "-" subtags ("en", "de-CH").
bool is_valid_language(std::string_view text);
// A language an agent speaks, as routing rules compare it (agent.languages HAS
// task.language): 1-35 letters, digits or '-' ("en", "pt-BR", "yue").
bool is_valid_agent_language(std::string_view text);
// The name of an agent attribute (agent.attr.<name> in routing rules): 1-64 letters,
// digits or '_', not starting with a digit.
bool is_valid_attribute_name(std::string_view text);
// An IANA time zone name such as "Europe/Berlin" or "UTC": its syntax, and, where the
// system has /usr/share/zoneinfo, that the zone exists there.
bool is_valid_time_zone(std::string_view text);
// A dialled number or caller id: an optional '+', then 1-32 digits, letters or * # . _ -.
bool is_valid_number(std::string_view text);
// A SIP user name: 1-64 unreserved characters (letters, digits, . _ ~ ! $ & ' ( ) * + , ; = % -).
bool is_valid_sip_username(std::string_view text);
// A SIP URI as the configuration writes one: "sip:" or "sips:" (any case), an optional
// user part (a SIP user name) and '@', a host (a DNS name, an IPv4 address or an IPv6
// address in brackets), an optional port 1-65535 and optional ";name[=value]" parameters
// (a transport parameter must be udp, tcp or tls). No password, no headers ("?").
// Examples: "sip:carrier.example.com:5060;transport=udp", "sip:1001@127.0.0.1:5070",
// "sips:[2001:db8::1]".
bool is_valid_sip_uri(std::string_view text);
// A literal IPv4 or IPv6 address (no brackets, no port) -> its canonical text
// ("2001:DB8::0001" -> "2001:db8::1"); nothing when `text` is anything else.
std::optional<std::string> canonical_ip_address(std::string_view text);
// True for the unspecified addresses 0.0.0.0 and :: (canonical text).
bool is_wildcard_address(std::string_view canonical);

}  // namespace acd::app
