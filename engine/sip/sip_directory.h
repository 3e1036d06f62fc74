// SipDirectory: what the SIP layer needs to know of the configuration, as plain values:
// per tenant its digest realm, its agents (extension, phone credentials, static contact),
// its trunks (allowed sources, authentication, dialled numbers and where they go) and its
// queues by name. The daemon builds one from its configuration (engine/app) and hands
// the SIP service a new one on every reload; the service swaps it in on its own thread,
// so a directory is immutable once built. Thread-safety: a plain value, shared as
// std::shared_ptr<const SipDirectory>.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/model.h"
#include "engine/core/time.h"
#include "engine/media/media_engine.h"
#include "engine/media/prompts.h"
#include "engine/sip/address.h"
#include "engine/sip/sip_call_flow.h"

namespace acd::sip {

// HTTP digest credentials: the user name and HA1 = md5("username:realm:password") as 32
// lower-case hex digits.
struct SipCredentials {
  std::string username;
  std::string ha1;
};

struct SipAgent {
  core::AgentId id;
  std::string name;
  std::string extension;
  std::optional<SipCredentials> credentials;  // the phone registers with these
  std::string static_contact;                 // a phone reached without registering
};

// Where a dialled number goes: a queue, an IVR menu or a call flow (both answered at
// once; without a media plane a call to either is refused with 480).
struct SipDid {
  std::string number;
  core::QueueId queue;  // valid: the queue the caller joins
  std::string menu;     // not empty: an IVR menu
  std::string flow;     // not empty: a call flow (SipTenant::flows)
  int priority = 0;
  int vip_level = 0;
  bool answer_on_connect = false;  // ring the caller until an agent answers
};

struct SipTrunk {
  std::string name;
  CidrSet sources;  // where its calls may come from
  std::optional<SipCredentials> auth;
  std::string caller_id;
  std::string outbound_uri;
  std::vector<SipDid> dids;
};

// What a menu key, or a menu that failed (no valid key after its retries), does.
struct SipMenuAction {
  enum class Kind : std::uint8_t { kQueue, kMenu, kVoicemail, kCallback, kHangup, kOperator };
  Kind kind = Kind::kHangup;
  core::QueueId queue;  // kQueue
  std::string target;   // kMenu: the menu's name; kHangup: the message; others as configured
};

// A DTMF menu: its prompt is played (keys may be pressed while it plays), then the caller
// has `timeout` to press a key; a timeout or a key that is no option plays the menu again
// (after the set's "invalid" prompt, if any), at most `retries` times, then `on_failure`.
struct SipMenu {
  std::string name;
  std::vector<media::Clip> prompt;     // empty: the prompt file is missing (keys still work)
  std::vector<media::Clip> invalid;    // said before a repeat; may be empty
  std::vector<media::Clip> voicemail;  // the greeting before the beep; may be empty
  core::Duration timeout = std::chrono::seconds(5);
  int retries = 2;
  std::vector<std::pair<char, SipMenuAction>> options;
  SipMenuAction on_failure;
};

struct SipQueue {
  core::QueueId id;
  std::string name;
  std::string music_on_hold;  // the class its waiting callers hear; empty: the first class
  // Keys a waiting caller may press to leave (core::QueueConfig::breakout), and the prompt
  // offering them, said after each position announcement (null: none or missing).
  std::vector<std::pair<char, core::ExitDestination>> breakout;
  media::Clip breakout_prompt;
};

struct SipTenant {
  core::TenantId id;
  std::string name;
  std::string realm;
  bool allow_external_transfer = false;
  std::string outbound_trunk;
  std::vector<SipAgent> agents;
  std::vector<SipTrunk> trunks;
  std::vector<SipQueue> queues;
  std::vector<SipMenu> menus;
  std::vector<SipFlow> flows;
  // The prompt set in the tenant's default language (announcements); may be null.
  std::shared_ptr<const media::PromptSet> prompts;
};

struct SipDirectory {
  std::vector<SipTenant> tenants;
};

}  // namespace acd::sip
