// The SipService on sofia-sip's transaction layer (nta). See sip_service.h for the call
// flow. This is the only file that includes sofia-sip: every nta object, message and
// header lives here and on the SIP thread, and nothing of sofia's leaves it.
//
// Threads: the SIP thread runs sofia's su_root loop. Other threads reach it through
// post(): a lock-free queue of closures and an eventfd registered with the loop (one
// wake-up per batch, as CoreThread does). Core commands leave through hooks_.submit;
// their results come back through post().
//
// Out-of-dialog requests arrive at the agent's message callback before any transaction
// exists, so a flooding or unknown source is dropped without state; accepted requests
// become server transactions (nta_incoming_create). In-dialog requests go to the leg
// callback of their dialog; ACK and CANCEL of a caller's INVITE to the transaction's own
// callback.
#include <concurrentqueue/concurrentqueue.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cinttypes>
#include <climits>
#include <ctime>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <variant>

#include "engine/core/routing_core.h"
#include "engine/sip/digest_auth.h"
#include "engine/sip/location.h"
#include "engine/sip/media_ports.h"
#include "engine/sip/rate_limiter.h"
#include "engine/sip/sdp.h"
#include "engine/sip/session_timer.h"
#include "engine/sip/sip_service.h"

// sofia-sip is C; its headers are not warning-clean C++.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>
#pragma GCC diagnostic pop

// sofia-sip's per-module loggers (exported, not declared in its public headers).
extern "C" su_log_t nta_log[];
extern "C" su_log_t tport_log[];

namespace acd::sip {

const char* to_string(Transport transport) {
  switch (transport) {
    case Transport::kUdp: return "udp";
    case Transport::kTcp: return "tcp";
    case Transport::kTls: return "tls";
  }
  return "?";
}

namespace {

constexpr const char* kAllow =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, REFER, NOTIFY";
constexpr const char* kSupported = "timer, 100rel";
// The SIP sockets' receive buffer: the kernel's default (about 80 datagrams) overflows
// within milliseconds at a few hundred calls per second (bench/sip_bench.sh).
constexpr unsigned kUdpReceiveBuffer = 4u << 20;
// A message that stops arriving halfway over TCP or TLS (slow-loris) is given up after this
// long without a byte, and its connection closed (sofia-sip: none by default).
constexpr unsigned kIncompleteMessageTimeoutMs = 32000;

using Clock = std::chrono::steady_clock;

std::string str(const char* text) {
  return text == nullptr ? std::string() : std::string(text);
}

long long seconds_of(core::Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// "udp:127.0.0.1:5070" of where a message came from.
struct Source {
  IpAddress ip;
  std::string text;  // for logs
  bool valid = false;
};

Source source_of(msg_t* msg) {
  Source source;
  su_addrinfo_t* info = msg_addrinfo(msg);
  if (info == nullptr || info->ai_addr == nullptr) return source;
  char host[64] = {0};
  const auto* su = reinterpret_cast<const su_sockaddr_t*>(info->ai_addr);
  if (su->su_family == AF_INET) {
    su_inet_ntop(AF_INET, &su->su_sin.sin_addr, host, sizeof host);
  } else if (su->su_family == AF_INET6) {
    su_inet_ntop(AF_INET6, &su->su_sin6.sin6_addr, host, sizeof host);
  } else {
    return source;
  }
  auto ip = IpAddress::parse(host);
  if (!ip) return source;
  source.ip = *ip;
  source.valid = true;
  const char* proto = info->ai_protocol == IPPROTO_TCP ? "tcp" : "udp";
  source.text = std::string(proto) + ":" + host + ":" + std::to_string(ntohs(su->su_port));
  return source;
}

std::string body_of(const sip_t* sip) {
  if (sip->sip_payload == nullptr || sip->sip_payload->pl_data == nullptr) return {};
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

bool has_sdp(const sip_t* sip) {
  return sip->sip_payload != nullptr && sip->sip_payload->pl_len > 0;
}

bool is_sdp_type(const sip_t* sip) {
  return sip->sip_content_type == nullptr || sip->sip_content_type->c_type == nullptr ||
         su_casematch(sip->sip_content_type->c_type, "application/sdp");
}

bool has_feature(const msg_list_t* list, const char* feature) {
  return list != nullptr && sip_has_feature(list, feature);
}

// The status of a response to our request; without one (a local timeout), sofia's.
int response_status(nta_outgoing_t* orq, const sip_t* sip) {
  return sip != nullptr && sip->sip_status != nullptr ? sip->sip_status->st_status
                                                      : nta_outgoing_status(orq);
}

// The trunk a tenant's calls to outside numbers leave by; null when it has none.
const SipTrunk* outbound_trunk_of(const SipTenant& tenant) {
  for (const auto& t : tenant.trunks)
    if (t.name == tenant.outbound_trunk && !t.outbound_uri.empty()) return &t;
  return nullptr;
}

SessionTimerRequest session_request_of(const sip_t* sip) {
  SessionTimerRequest request;
  if (const sip_session_expires_t* x = sip->sip_session_expires) {
    request.session_expires = std::chrono::seconds(std::min<unsigned long>(x->x_delta, 86400));
    if (x->x_refresher != nullptr) {
      if (su_casematch(x->x_refresher, "uac")) request.refresher = "uac";
      if (su_casematch(x->x_refresher, "uas")) request.refresher = "uas";
    }
  }
  if (sip->sip_min_se != nullptr)
    request.min_se =
        std::chrono::seconds(std::min<unsigned long>(sip->sip_min_se->min_delta, 86400));
  request.supports_timer =
      has_feature(sip->sip_supported, "timer") || has_feature(sip->sip_require, "timer");
  return request;
}

// The session timer a 2xx to one of our requests sets up.
SessionTimer session_timer_of_response(const sip_t* sip) {
  const sip_session_expires_t* x = sip->sip_session_expires;
  if (x == nullptr) return {};
  const char* refresher = x->x_refresher;
  return from_response(std::chrono::seconds(std::min<unsigned long>(x->x_delta, 86400)),
                       refresher != nullptr && su_casematch(refresher, "uas") ? "uas" : "uac");
}

}  // namespace

class SofiaSipService final : public SipService {
 public:
  SofiaSipService(SipOptions options, std::shared_ptr<const SipDirectory> directory, SipHooks hooks,
                  media::MediaEngine* media);
  ~SofiaSipService() override;

  std::optional<std::string> start() override;
  void stop() override;
  void stop_accepting() override { accepting_.store(false); }
  void set_directory(std::shared_ptr<const SipDirectory> directory) override;
  void on_core_event(const core::CoreEvent& event) override;
  void control_call(core::CallControl request, std::function<void(core::Status)> done) override;
  void on_dtmf(media::StreamId stream, char key) override;
  void on_prompts_done(media::StreamId stream, std::uint64_t token, bool completed) override;
  [[nodiscard]] std::vector<BoundTransport> bound() const override;
  [[nodiscard]] SipStats stats() const override;

 private:
  struct Call;

  // A dialog of a call: the caller's (we are its UAS) or an agent phone's (we are UAC).
  struct Leg {
    SofiaSipService* service = nullptr;
    Call* call = nullptr;
    bool is_caller = false;
    nta_leg_t* leg = nullptr;
    RtpEndpoint rtp;
    std::string local_contact;
    std::optional<Negotiated> media;
    std::uint64_t sdp_version = 1;
    std::uint64_t sdp_session = 0;  // o= session id of the SDP we send on this dialog
    bool held = false;              // the phone put the other side on hold
    bool gone = false;              // the peer hung up, or we did
    // RFC 4028 (session_timer.h). session_due: its entry in session_due_, when the engine
    // refreshes (or, after a 491, retries) or gives the session up; session_expiry: when
    // the session ends without a refresh.
    SessionTimer session;
    Clock::time_point session_due = Clock::time_point::max();
    Clock::time_point session_expiry = Clock::time_point::max();
    bool peer_allows_update = false;    // refresh with UPDATE (no SDP) rather than re-INVITE
    nta_outgoing_t* refresh = nullptr;  // our refresh in progress
    bool refresh_is_invite = false;
    int glare_retries = 0;  // 491s in a row
    // The media plane's stream of this leg (0: not open) and what it was last told to
    // play: "moh:<class>", "bridge:<stream>" or "silence" (apply_media).
    media::StreamId stream = 0;
    std::string hearing;
  };

  struct AgentLeg : Leg {
    enum class State : std::uint8_t { kCalling, kRinging, kAnswered, kCancelled, kFailed };
    core::AgentId agent;
    std::string agent_name;
    nta_outgoing_t* invite = nullptr;
    State state = State::kCalling;
    bool ringing_reported = false;
    std::uint32_t last_rseq = 0;  // the last reliable provisional response PRACKed
    // A supervisor's phone rung into the call (control_call): kMonitor, kWhisper or kBarge
    // while it listens in, kIntercept until it takes the call over; empty for the legs of
    // agents and outside parties. requested_by: the supervisor, for the log.
    std::optional<core::CallAction> listen;
    std::string requested_by;
    // The agent's own phone, rung first for a call the desktop placed (kDial).
    bool own_phone = false;
  };

  struct Call {
    SofiaSipService* service = nullptr;
    core::CallId id;
    core::TenantId tenant;
    std::string tenant_name;
    std::string caller_number;
    std::string dialed;
    std::string source;
    Leg caller;
    nta_incoming_t* caller_invite = nullptr;  // until its 2xx is acknowledged
    bool caller_answered = false;
    bool caller_confirmed = false;
    bool answer_on_connect = false;
    bool caller_100rel = false;  // the caller supports reliable provisional responses
    bool caller_ringing = false;
    core::CallKind kind = core::CallKind::kInbound;
    core::AgentId originator;    // outbound and internal calls: the agent who placed it
    std::string caller_id;       // outbound calls: the trunk's caller id
    std::string caller_call_id;  // the Call-ID of the first leg's dialog (Replaces)
    core::QueueId queue;         // the queue it was answered from
    // Transferred to an outside number: the core is done with the call; the caller and
    // the outside leg stay bridged here until either hangs up.
    bool external = false;
    // A consultation call being joined to the call it consulted for: its CallFinished
    // leaves the far leg up, to be moved over (finish_attended_transfer).
    bool merging = false;
    bool finished = false;  // the core has ended the call
    bool hangup_submitted = false;
    bool enqueued = false;          // the core has been given the call (inbound calls)
    bool recording = false;         // asked the media plane to record it (from its first bridge)
    bool recording_paused = false;  // by the agent's desktop (control_call)
    bool desk_hold = false;         // held by the agent's desktop (control_call), not the phone
    // Consultations the agent's desktop placed (control_call). On the consultation call:
    // the call it is for (the agent's phone talks through that call's agent leg; this
    // call's own caller leg has no dialog). On that call: the consultation, and whether
    // the three are in conference.
    core::CallId consult_for;
    core::CallId desk_consult;
    bool conference = false;
    // A call the desktop placed (kDial): where it goes once the agent's own phone answers.
    struct DeskDial {
      std::string target;  // the SIP URI
      core::AgentId callee;
      std::string shown;
    };
    std::optional<DeskDial> desk_dial;
    // An IVR menu the caller is in (before the core knows the call): the directory it
    // came from (kept alive, the menu points into it), retries used, the prompt playing
    // (its token), the key timeout's entry in ivr_due_, and the keys chosen so far
    // ("ivr.<menu>" = key), which travel with the call into the queue.
    std::shared_ptr<const SipDirectory> menu_directory;
    const SipMenu* menu = nullptr;
    int menu_attempts = 0;
    std::uint64_t menu_prompt = 0;
    Clock::time_point menu_due = Clock::time_point::max();
    std::vector<std::pair<std::string, std::string>> ivr_choices;
    std::vector<core::SkillRequirement> extra_skills;  // a flow's call.set_skill
    int priority = 0;                                  // of the DID: for the queue a menu leads to
    int vip_level = 0;
    // A call flow deciding for the caller (sip_call_flow.h), before the core knows the
    // call: its session (destroyed with the call, which frees what runs it), what the
    // session waits for, the prompt playing (its token), the digits being collected (the
    // timeout after the prompt is menu_due) and the lookup pending (its token). The
    // directory the flow came from is menu_directory.
    enum class FlowWait : std::uint8_t { kNothing, kPlay, kCollect, kLookup };
    std::unique_ptr<SipCallFlow> flow;
    std::string flow_name;
    FlowWait flow_wait = FlowWait::kNothing;
    std::uint64_t flow_prompt = 0;
    SipFlowCollect flow_collect;
    std::string flow_digits;
    std::uint64_t flow_lookup = 0;
    // Voicemail: the mailbox, the greeting's token, and whether the message is being
    // recorded (until '#', hang-up or the maximum length: menu_due).
    std::string mailbox;
    std::uint64_t voicemail_prompt = 0;
    bool voicemail_recording = false;
    std::uint64_t announcement = 0;  // the token of the position announcement playing
    // The core finished the call through a queue exit that the caller still hears out:
    // a voicemail, or a closing prompt (closing_prompt: its token) before the hang-up.
    bool after_queue = false;
    std::uint64_t closing_prompt = 0;
    const char* closing_reason = nullptr;
    bool breakout_requested = false;
    // A call that never reaches a queue (a menu or a flow ends it) is told to the core once
    // as it ends, for its record (tell_ended_before_queue): where it was ("menu main",
    // "flow welcome"; empty: neither) and when it arrived.
    std::string entry;
    Clock::time_point arrived = Clock::now();
    bool ended_told = false;
    std::vector<std::unique_ptr<AgentLeg>> agents;
    AgentLeg* connected = nullptr;
  };

  // ---- thread plumbing ----
  void post(std::function<void()> work);
  static int on_wakeup(su_root_magic_t* magic, su_wait_t* wait, su_wakeup_arg_t* arg);
  void drain();
  void run(std::promise<std::optional<std::string>>& started);
  std::optional<std::string> open_transports();
  void close_transports();
  void log(SipLogLevel level, std::string_view event, std::initializer_list<SipLogField> fields) {
    if (hooks_.log) hooks_.log(level, event, fields);
  }
  core::TimePoint now() const { return clock_.now(); }
  void submit(std::function<void(core::RoutingCore&)> command);

  // ---- sofia callbacks (static trampolines) ----
  static int on_message(nta_agent_magic_t* magic, nta_agent_t* agent, msg_t* msg, sip_t* sip);
  static int on_leg_request(nta_leg_magic_t* magic, nta_leg_t* leg, nta_incoming_t* irq,
                            const sip_t* sip);
  static int on_bye_after_ack_event(nta_incoming_magic_t* magic, nta_incoming_t* irq,
                                    const sip_t* sip);
  static int on_bye_after_ack_request(nta_leg_magic_t* magic, nta_leg_t* leg, nta_incoming_t* irq,
                                      const sip_t* sip);
  static int on_caller_invite_event(nta_incoming_magic_t* magic, nta_incoming_t* irq,
                                    const sip_t* sip);
  static int on_agent_invite_response(nta_outgoing_magic_t* magic, nta_outgoing_t* orq,
                                      const sip_t* sip);
  static int on_final_response_destroy(nta_outgoing_magic_t* magic, nta_outgoing_t* orq,
                                       const sip_t* sip);
  static int on_prack(nta_reliable_magic_t* magic, nta_reliable_t* rel, nta_incoming_t* prack,
                      const sip_t* sip);
  static void on_housekeeping(su_root_magic_t* magic, su_timer_t* timer, su_timer_arg_t* arg);
  static int on_refresh_response(nta_outgoing_magic_t* magic, nta_outgoing_t* orq,
                                 const sip_t* sip);

  // ---- out-of-dialog requests ----
  void handle_out_of_dialog(msg_t* msg, sip_t* sip);
  void handle_invite(nta_incoming_t* irq, const sip_t* sip, const Source& source);
  void handle_register(nta_incoming_t* irq, const sip_t* sip, const Source& source);
  void reply_options(nta_incoming_t* irq);

  // ---- dialogs ----
  int handle_in_dialog(Leg& leg, nta_incoming_t* irq, const sip_t* sip);
  int handle_reinvite(Leg& leg, nta_incoming_t* irq, const sip_t* sip, bool is_update);
  int handle_refer(Leg& leg, nta_incoming_t* irq, const sip_t* sip);
  // Where a blind transfer goes: an agent (back to the call's queue, that agent first), a
  // queue, or an outside number (exactly one is set).
  struct TransferTarget {
    const SipAgent* agent = nullptr;
    core::QueueId queue;
    std::string number;
  };
  // Tells whoever asked for a transfer how it went (the REFER's NOTIFY, the API's answer);
  // called once, before the transferring leg is hung up. `from`: that leg, if still up.
  using TransferReport = std::function<void(Leg* from, const core::Status& status)>;
  void blind_transfer(Call& call, const SipTenant& tenant, TransferTarget target,
                      const std::string& by, core::Cause cause, TransferReport report);
  void finish_blind_transfer(Call& call, const core::Status& status, const TransferReport& report);
  // Desktop and console requests (control_call), on the SIP thread.
  void run_call_control(const core::CallControl& request,
                        const std::function<void(core::Status)>& done);
  Call* find_agent_call(core::TenantId tenant, core::AgentId agent);
  std::variant<TransferTarget, core::Status> transfer_target_of(const SipTenant& tenant,
                                                                const core::CallControl& request);
  void ring_supervisor(Call& call, const SipTenant& tenant, const core::CallControl& request,
                       const std::function<void(core::Status)>& done);
  void start_listening(Call& call, AgentLeg& listener);
  void intercept(Call& call);
  Call& new_desk_call(const SipTenant& tenant, core::CallKind kind, core::AgentId originator);
  void start_consult(Call& call, const SipTenant& tenant, const core::CallControl& request,
                     const std::function<void(core::Status)>& done);
  void consult_action(Call& call, const SipTenant& tenant, const core::CallControl& request,
                      const std::function<void(core::Status)>& done);
  void consult_ended(core::CallId id);
  void apply_consult_media(Call& consult);
  void start_dial(const SipTenant& tenant, const core::CallControl& request,
                  const std::function<void(core::Status)>& done);
  void own_phone_answered(Call& call);
  // Where a consultation or a desktop's call goes: the far leg's URI, callee and name.
  std::variant<Call::DeskDial, core::Status> dial_target(const SipTenant& tenant,
                                                         const core::CallControl& request,
                                                         std::string* caller_id);
  void drop_listeners(Call& call, const char* reason, const AgentLeg* keep = nullptr);
  void finish_attended_transfer(core::CallId id, core::CallId consult_id,
                                const core::Status& status, const TransferReport& report);
  // The REFER's NOTIFY with the outcome of its transfer.
  TransferReport refer_report();
  void notify_refer(Leg& leg, int status, const char* phrase);
  void handle_caller_invite_event(Call& call, const sip_t* sip);
  void handle_agent_response(AgentLeg& leg, nta_outgoing_t* orq, const sip_t* sip);
  void answer_caller(Call& call);
  // auto_answer: asks the phone to answer at once (Call-Info answer-after=0), for the
  // agent's own phone of a desktop's call and a supervisor's phone.
  std::string place_leg(Call& call, const std::string& target, core::AgentId agent,
                        const std::string& name, bool auto_answer = false);
  void ring_caller(Call& call);
  void reject_caller(Call& call, int status, const char* phrase = nullptr);
  void refuse(nta_incoming_t* irq, const sip_t* sip, const Source& source, int status,
              const char* phrase, std::string_view why);
  Call* accept_invite(nta_incoming_t* irq, const sip_t* sip, const Source& source,
                      const SipTenant& tenant, core::CallKind kind);
  void handle_phone_invite(nta_incoming_t* irq, const sip_t* sip, const Source& source,
                           const SipTenant& tenant, const SipAgent& agent);
  static std::string outbound_target(const std::string& outbound_uri, const std::string& number);
  void send_ack(Leg& leg, nta_outgoing_t* invite);
  void send_bye(Leg& leg, const char* reason);
  void send_bye_request(nta_leg_t* dialog, const char* reason);
  // The caller's dialog of a call that ends before the caller has ACKed the engine's 200:
  // RFC 3261 15 forbids a BYE until that ACK (or the INVITE transaction's timeout), so the
  // dialog and the transaction outlive the call in byes_after_ack_.
  struct ByeAfterAck {
    SofiaSipService* service = nullptr;
    std::uint64_t call = 0;
    nta_leg_t* leg = nullptr;
    nta_incoming_t* invite = nullptr;
    std::string reason;
  };
  void bye_after_ack(Leg& caller, nta_incoming_t* invite, const char* reason);
  void finish_bye_after_ack(ByeAfterAck& pending, bool send, const char* why);
  void hang_up_from_sip(Call& call, core::HangupCause cause);
  void end_call(Call& call, const char* reason);
  void end_leg(AgentLeg& leg, const char* reason);
  void destroy_call(core::CallId id);

  // ---- core events ----
  void on_offered(const core::CallOffered& offered);
  void on_offer_ended(const core::OfferEnded& ended);
  void on_connected(const core::CallConnected& connected);
  void on_finished(const core::CallFinished& finished);
  void on_queued(const core::CallQueued& queued);
  void on_exited(const core::CallExited& exited);

  // ---- media (the media plane owns the RTP sockets of every open stream) ----
  void open_stream(Leg& leg);
  void update_stream(Leg& leg);
  void close_stream(Leg& leg);
  // Tells the media plane what each leg of the call hears now: the caller and the
  // connected far end bridged; music on hold for a caller waiting, or held; silence else.
  void apply_media(Call& call);
  void hear(Leg& leg, const std::string& what);
  std::string moh_class_of(const Call& call) const;
  const SipQueue* queue_of(const Call& call) const;

  // ---- IVR menus (the caller is answered; the core does not know the call yet) ----
  void start_menu(Call& call, const std::string& name);
  void play_menu(Call& call, bool after_invalid);
  void on_menu_key(Call& call, char key);
  void menu_retry(Call& call, const char* why);
  void run_menu_action(Call& call, const SipMenuAction& action);
  void set_menu_due(Call& call, Clock::time_point due);
  void enqueue(Call& call, core::QueueId queue);
  void start_voicemail(Call& call, const std::string& mailbox,
                       const std::vector<media::Clip>& greeting);
  void end_voicemail(Call& call, const char* why);
  void tell_ended_before_queue(Call& call, core::FinalState state, core::HangupCause cause);
  void announce_position(Call& call);
  bool try_breakout(Call& call, char key);
  void say_and_hang_up(Call& call, std::vector<media::Clip> clips, const char* reason);

  // ---- call flows (the caller is answered; the core does not know the call yet) ----
  void start_flow(Call& call, const SipTenant& tenant, const std::string& name);
  // Carries out `step` and the ones the session returns at once, until one waits (for
  // the media plane, DTMF or a lookup) or the session is done.
  void run_flow(Call& call, SipFlowStep step);
  // Starts one waiting step; the answer when there is nothing to wait for.
  std::optional<SipFlowAnswer> begin_flow_step(Call& call, const SipFlowStep& step);
  void on_flow_key(Call& call, char key);
  void end_flow_collect(Call& call, const char* why);
  void end_flow_lookup(Call& call);
  void request_callback(Call& c, core::QueueId queue, std::string number);
  void transfer_from_flow(Call& call, const std::string& number);
  static core::CallSpec call_spec_of(const Call& c);
  void refused_by_core(core::CallId id, const core::Status& status, const char* event,
                       const char* text);
  void finish_flow(Call& call, const SipFlowDone& done);
  const media::PromptSet* flow_prompts(const Call& call) const;

  // ---- helpers ----
  const SipTenant* tenant_by_id(core::TenantId id) const;
  const SipAgent* agent_by_id(const SipTenant& tenant, core::AgentId id) const;
  std::string contact_for(Transport transport) const;
  std::string our_host() const;
  std::optional<std::string> agent_target(const SipTenant& tenant, const SipAgent& agent);
  bool check_digest(nta_incoming_t* irq, const sip_t* sip, const std::string& realm,
                    const SipCredentials& credentials, bool proxy);
  void set_agent_registered(const SipTenant& tenant, const SipAgent& agent, bool registered);
  void arm_housekeeping();
  void housekeeping();

  // ---- session timers (RFC 4028) ----
  SessionTimerLimits session_limits() const;
  void start_session(Leg& leg, const SessionTimer& timer);
  void stop_session(Leg& leg) { schedule_session(leg, Clock::time_point::max()); }
  void schedule_session(Leg& leg, Clock::time_point due);
  void send_refresh(Leg& leg);
  void handle_refresh_response(Leg& leg, nta_outgoing_t* orq, const sip_t* sip);
  void session_expired(Leg& leg, const char* why);
  Call* find_call(core::CallId id) {
    auto it = calls_.find(id.value);
    return it == calls_.end() ? nullptr : it->second.get();
  }

  SipOptions options_;
  SipHooks hooks_;
  media::MediaEngine* media_;
  core::SteadyWallClock clock_;

  // Cross-thread.
  moodycamel::ConcurrentQueue<std::function<void()>> inbox_;
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> accepting_{true};
  int wake_fd_ = -1;
  std::thread thread_;
  mutable std::mutex bound_mutex_;
  std::vector<BoundTransport> bound_;
  std::shared_ptr<const SipDirectory> pending_directory_;
  struct AtomicStats {
    std::atomic<std::uint64_t> calls{0}, requests{0}, rejected_overload{0}, rejected_source{0},
        dropped_flood{0}, bans{0}, registrations{0};
  } stats_;

  // SIP-thread state.
  su_root_t* root_ = nullptr;
  nta_agent_t* agent_ = nullptr;
  su_timer_t* housekeeping_timer_ = nullptr;
  su_wait_t wake_wait_{};
  int wake_index_ = -1;
  std::shared_ptr<const SipDirectory> directory_;
  DigestAuthenticator authenticator_;
  SourceRateLimiter limiter_;
  LocationService location_;
  std::unique_ptr<MediaPorts> media_ports_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Call>> calls_;
  std::unordered_map<ByeAfterAck*, std::unique_ptr<ByeAfterAck>> byes_after_ack_;
  std::set<std::pair<Clock::time_point, Leg*>> session_due_;  // Leg::session_due, soonest first
  std::minstd_rand random_{std::random_device{}()};           // 491 retry delays
  std::map<std::string, bool> registered_;                    // "tenant/agent" -> has a binding
  std::uint64_t sdp_session_ = 0;
  media::StreamId next_stream_ = 1;
  std::unordered_map<media::StreamId, Leg*> stream_legs_;
  std::set<std::pair<Clock::time_point, std::uint64_t>> ivr_due_;  // Call::menu_due, call id
  std::uint64_t next_prompt_token_ = 1;
  bool stopping_ = false;  // stop() asked the loop to end
};

// ---------------------------------------------------------------------------------------
// Construction, thread, plumbing

namespace {

std::string random_secret() {
  std::random_device device;
  std::string secret(32, '\0');
  for (auto& c : secret) c = static_cast<char>(device());
  return secret;
}

}  // namespace

SofiaSipService::SofiaSipService(SipOptions options, std::shared_ptr<const SipDirectory> directory,
                                 SipHooks hooks, media::MediaEngine* media)
    : options_(std::move(options)),
      hooks_(std::move(hooks)),
      media_(media),
      directory_(std::move(directory)),
      authenticator_(random_secret(), std::chrono::minutes(5)),
      limiter_(SourceRateLimiter::Options{options_.rate_limit_per_second, options_.rate_limit_burst,
                                          options_.ban_time, 100000}) {
  sdp_session_ = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count());
}

SofiaSipService::~SofiaSipService() {
  stop();
}

std::unique_ptr<SipService> SipService::create(SipOptions options,
                                               std::shared_ptr<const SipDirectory> directory,
                                               SipHooks hooks, media::MediaEngine* media) {
  return std::make_unique<SofiaSipService>(std::move(options), std::move(directory),
                                           std::move(hooks), media);
}

void SofiaSipService::post(std::function<void()> work) {
  if (!running_.load(std::memory_order_acquire)) return;
  inbox_.enqueue(std::move(work));
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
  }
}

int SofiaSipService::on_wakeup(su_root_magic_t* magic, su_wait_t*, su_wakeup_arg_t*) {
  auto* self = reinterpret_cast<SofiaSipService*>(magic);
  std::uint64_t count = 0;
  [[maybe_unused]] const auto got = ::read(self->wake_fd_, &count, sizeof count);
  self->wake_pending_.store(false, std::memory_order_release);
  self->drain();
  return 0;
}

void SofiaSipService::drain() {
  std::function<void()> work;
  while (inbox_.try_dequeue(work)) work();
}

void SofiaSipService::submit(std::function<void(core::RoutingCore&)> command) {
  if (hooks_.submit) hooks_.submit(std::move(command));
}

std::optional<std::string> SofiaSipService::start() {
  if (options_.listen.empty()) return "no SIP listen address";
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return "cannot create an eventfd";
  // sofia's loop belongs to the thread that creates it: the SIP thread sets everything up
  // and reports back.
  std::promise<std::optional<std::string>> started;
  auto result = started.get_future();
  running_.store(true, std::memory_order_release);
  thread_ = std::thread([this, &started] { run(started); });
  auto error = result.get();
  if (error) {
    running_.store(false, std::memory_order_release);
    thread_.join();
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
  return error;
}

std::optional<std::string> SofiaSipService::open_transports() {
  su_log_set_level(nullptr, 0);
  su_log_set_level(tport_log, 0);
  su_log_set_level(nta_log, 0);
  root_ = su_root_create(reinterpret_cast<su_root_magic_t*>(this));
  if (root_ == nullptr) return "cannot create the SIP event loop";

  auto url_of = [&](const ListenAddress& l) {
    const bool v6 = l.address.find(':') != std::string::npos;
    std::string host = v6 ? "[" + l.address + "]" : l.address;
    std::string port = l.port == 0 ? "*" : std::to_string(l.port);
    if (l.transport == Transport::kTls) return "sips:" + host + ":" + port + ";transport=tls";
    return "sip:" + host + ":" + port + ";transport=" + to_string(l.transport);
  };
  const char* certificates =
      options_.tls_certificate_dir.empty() ? nullptr : options_.tls_certificate_dir.c_str();
  const std::string first = url_of(options_.listen.front());
  // A TCP or TLS connection that carries nothing for longer than a phone's registration
  // can last (it re-registers over it before then) is closed; the same for a message
  // that stops arriving halfway (kIncompleteMessageTimeoutMs).
  const auto idle_ms = static_cast<unsigned>(std::min<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.max_register_expires +
                                                            std::chrono::minutes(2))
          .count(),
      INT_MAX - 1));
  agent_ = nta_agent_create(
      root_, URL_STRING_MAKE(first.c_str()), &SofiaSipService::on_message,
      reinterpret_cast<nta_agent_magic_t*>(this), NTATAG_UA(1), NTATAG_SERVER_RPORT(1),
      NTATAG_MAXSIZE(65536), NTATAG_REL100(1),
      NTATAG_MAX_PROCEEDING(static_cast<unsigned>(options_.max_calls) * 2 + 64),
      TPTAG_STUN_SERVER(0),               // sofia's own, on by default: raw lines on stderr
      TPTAG_UDP_RMEM(kUdpReceiveBuffer),  // bursts outlast a brief stall (capped by rmem_max)
      TPTAG_TIMEOUT(kIncompleteMessageTimeoutMs), TPTAG_IDLE(idle_ms),
      TAG_IF(certificates != nullptr, TPTAG_CERTIFICATE(certificates)), TAG_END());
  if (agent_ == nullptr) return "cannot listen on " + first + " (address in use or not local?)";
  for (std::size_t i = 1; i < options_.listen.size(); ++i) {
    const std::string url = url_of(options_.listen[i]);
    if (nta_agent_add_tport(agent_, URL_STRING_MAKE(url.c_str()),
                            TAG_IF(certificates != nullptr, TPTAG_CERTIFICATE(certificates)),
                            TPTAG_UDP_RMEM(kUdpReceiveBuffer),
                            TPTAG_TIMEOUT(kIncompleteMessageTimeoutMs), TPTAG_IDLE(idle_ms),
                            TAG_END()) < 0)
      return "cannot listen on " + url + " (address in use, not local, or no certificate?)";
  }
  {
    std::lock_guard lock(bound_mutex_);
    bound_.clear();
    for (tport_t* tp = tport_primaries(nta_agent_tports(agent_)); tp != nullptr;
         tp = tport_next(tp)) {
      const tp_name_t* name = tport_name(tp);
      BoundTransport b;
      const std::string proto = str(name->tpn_proto);
      b.transport = proto == "tcp"   ? Transport::kTcp
                    : proto == "tls" ? Transport::kTls
                                     : Transport::kUdp;
      b.address = str(name->tpn_host);
      if (!b.address.empty() && b.address.front() == '[')
        b.address = b.address.substr(1, b.address.size() - 2);
      b.port = static_cast<std::uint16_t>(std::atoi(name->tpn_port));
      bound_.push_back(b);
    }
  }
  std::string media_address = options_.media_address.empty() ? our_host() : options_.media_address;
  if (!media_address.empty() && media_address.front() == '[')
    media_address = media_address.substr(1, media_address.size() - 2);
  media_ports_ =
      std::make_unique<MediaPorts>(media_address, options_.rtp_port_min, options_.rtp_port_max);

  su_wait_create(&wake_wait_, wake_fd_, SU_WAIT_IN);
  wake_index_ = su_root_register(root_, &wake_wait_, &SofiaSipService::on_wakeup, nullptr, 0);
  if (wake_index_ < 0) return "cannot watch the SIP thread's wake-up descriptor";
  housekeeping_timer_ = su_timer_create(su_root_task(root_), 1000);
  return std::nullopt;
}

void SofiaSipService::close_transports() {
  if (housekeeping_timer_ != nullptr) su_timer_destroy(housekeeping_timer_);
  housekeeping_timer_ = nullptr;
  if (root_ != nullptr && wake_index_ >= 0) su_root_deregister(root_, wake_index_);
  wake_index_ = -1;
  if (agent_ != nullptr) nta_agent_destroy(agent_);
  agent_ = nullptr;
  if (root_ != nullptr) su_root_destroy(root_);
  root_ = nullptr;
}

void SofiaSipService::run(std::promise<std::optional<std::string>>& started) {
  su_init();
  if (auto error = open_transports()) {
    close_transports();
    su_deinit();
    started.set_value(std::move(error));
    return;
  }
  for (const auto& b : bound()) {
    log(SipLogLevel::kInfo, "sip.listening",
        {{"transport", to_string(b.transport)},
         {"address", b.address},
         {"port", std::to_string(b.port)}});
  }
  started.set_value(std::nullopt);
  arm_housekeeping();
  drain();  // work posted before the loop watched the eventfd
  // A stop() that came that early was drained just now: su_root_break before su_root_run
  // does not stop the loop (su_root_run starts it afresh), so it must not start.
  if (!stopping_) su_root_run(root_);
  drain();  // requests posted while stopping (control_call answers each one)
  // Shutdown: end every call, then give the last messages a moment to leave.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, call] : calls_) ids.push_back(id);
  for (auto id : ids) {
    if (Call* call = find_call(core::CallId{id})) {
      end_call(*call, "SIP;cause=503;text=\"shutting down\"");
      destroy_call(call->id);
    }
  }
  std::vector<ByeAfterAck*> pending;
  for (const auto& [key, bye] : byes_after_ack_) pending.push_back(key);
  for (ByeAfterAck* bye : pending) finish_bye_after_ack(*bye, true, "shutdown");
  su_root_step(root_, 100);
  close_transports();
  su_deinit();
}

void SofiaSipService::stop() {
  if (!thread_.joinable()) return;
  post([this] {
    stopping_ = true;
    su_root_break(root_);
  });
  running_.store(false, std::memory_order_release);
  thread_.join();
  ::close(wake_fd_);
  wake_fd_ = -1;
}

void SofiaSipService::set_directory(std::shared_ptr<const SipDirectory> directory) {
  post([this, directory = std::move(directory)] { directory_ = directory; });
}

std::vector<BoundTransport> SofiaSipService::bound() const {
  std::lock_guard lock(bound_mutex_);
  return bound_;
}

SipStats SofiaSipService::stats() const {
  SipStats s;
  s.calls = stats_.calls.load();
  s.requests = stats_.requests.load();
  s.rejected_overload = stats_.rejected_overload.load();
  s.rejected_source = stats_.rejected_source.load();
  s.dropped_flood = stats_.dropped_flood.load();
  s.bans = stats_.bans.load();
  s.registrations = stats_.registrations.load();
  return s;
}

void SofiaSipService::on_core_event(const core::CoreEvent& event) {
  std::visit(
      [this](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, core::CallOffered>) {
          post([this, e] { on_offered(e); });
        } else if constexpr (std::is_same_v<E, core::OfferEnded>) {
          post([this, e] { on_offer_ended(e); });
        } else if constexpr (std::is_same_v<E, core::CallConnected>) {
          post([this, e] { on_connected(e); });
        } else if constexpr (std::is_same_v<E, core::CallFinished>) {
          post([this, e] { on_finished(e); });
        } else if constexpr (std::is_same_v<E, core::CallQueued>) {
          if (media_ != nullptr) post([this, e] { on_queued(e); });
        } else if constexpr (std::is_same_v<E, core::CallExited>) {
          if (media_ != nullptr) post([this, e] { on_exited(e); });
        }
      },
      event);
}

// ---------------------------------------------------------------------------------------
// Helpers

std::string SofiaSipService::our_host() const {
  std::string host = options_.public_address;
  if (host.empty()) host = options_.listen.front().address;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return host;
}

std::string SofiaSipService::contact_for(Transport transport) const {
  // One copy of the bound transports (each bound() takes the mutex and copies the list).
  const std::vector<BoundTransport> transports = bound();
  std::uint16_t port = 0;
  for (const auto& b : transports)
    if (b.transport == transport) {
      port = b.port;
      break;
    }
  if (port == 0 && !transports.empty()) {
    port = transports.front().port;
    transport = transports.front().transport;
  }
  std::string uri = (transport == Transport::kTls ? "<sips:acd@" : "<sip:acd@") + our_host() + ":" +
                    std::to_string(port);
  if (transport == Transport::kTcp) uri += ";transport=tcp";
  if (transport == Transport::kTls) uri += ";transport=tls";
  return uri + ">";
}

const SipTenant* SofiaSipService::tenant_by_id(core::TenantId id) const {
  for (const auto& t : directory_->tenants)
    if (t.id == id) return &t;
  return nullptr;
}

const SipAgent* SofiaSipService::agent_by_id(const SipTenant& tenant, core::AgentId id) const {
  for (const auto& a : tenant.agents)
    if (a.id == id) return &a;
  return nullptr;
}

std::optional<std::string> SofiaSipService::agent_target(const SipTenant& tenant,
                                                         const SipAgent& agent) {
  auto bindings = location_.lookup(tenant.name + "/" + agent.name, now());
  if (!bindings.empty()) return bindings.front().contact;
  if (!agent.static_contact.empty()) return agent.static_contact;
  return std::nullopt;
}

bool SofiaSipService::check_digest(nta_incoming_t* irq, const sip_t* sip, const std::string& realm,
                                   const SipCredentials& credentials, bool proxy) {
  // The header as text, from its parsed parameters (each Authorization header of the
  // request in turn; sip_header_as_string would cut long values short).
  const msg_auth_t* au = proxy ? sip->sip_proxy_authorization : sip->sip_authorization;
  bool stale = false;
  for (; au != nullptr; au = au->au_next) {
    std::string text = str(au->au_scheme);
    for (int i = 0; au->au_params != nullptr && au->au_params[i] != nullptr; ++i)
      text += (i == 0 ? " " : ", ") + str(au->au_params[i]);
    auto response = parse_digest_response(text);
    if (!response || response->username != credentials.username || response->realm != realm)
      continue;
    const auto verdict =
        authenticator_.verify(*response, sip->sip_request->rq_method_name, credentials.ha1, now());
    if (verdict == DigestAuthenticator::Verdict::kOk) return true;
    stale = stale || verdict == DigestAuthenticator::Verdict::kStale;
  }
  const std::string challenge = authenticator_.challenge(realm, now(), stale);
  if (proxy) {
    nta_incoming_treply(irq, SIP_407_PROXY_AUTH_REQUIRED,
                        SIPTAG_PROXY_AUTHENTICATE_STR(challenge.c_str()),
                        SIPTAG_SERVER_STR(options_.user_agent.c_str()), TAG_END());
  } else {
    nta_incoming_treply(irq, SIP_401_UNAUTHORIZED, SIPTAG_WWW_AUTHENTICATE_STR(challenge.c_str()),
                        SIPTAG_SERVER_STR(options_.user_agent.c_str()), TAG_END());
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Out-of-dialog requests

int SofiaSipService::on_message(nta_agent_magic_t* magic, nta_agent_t*, msg_t* msg, sip_t* sip) {
  reinterpret_cast<SofiaSipService*>(magic)->handle_out_of_dialog(msg, sip);
  return 0;
}

void SofiaSipService::handle_out_of_dialog(msg_t* msg, sip_t* sip) {
  ++stats_.requests;
  if (sip == nullptr || sip->sip_request == nullptr) {  // a stray response
    nta_msg_discard(agent_, msg);
    return;
  }
  const Source source = source_of(msg);
  if (source.valid) {
    switch (limiter_.admit(source.ip, now())) {
      case SourceRateLimiter::Decision::kAllow: break;
      case SourceRateLimiter::Decision::kNewlyBanned:
        ++stats_.bans;
        log(SipLogLevel::kWarn, "sip.source_banned",
            {{"source", source.ip.to_string()},
             {"ban_s", std::to_string(seconds_of(options_.ban_time))}});
        [[fallthrough]];
      case SourceRateLimiter::Decision::kBanned:
        ++stats_.dropped_flood;
        nta_msg_discard(agent_, msg);
        return;
    }
  }
  const sip_method_t method = sip->sip_request->rq_method;
  if (method == sip_method_ack) {  // an ACK for nothing we know
    nta_msg_discard(agent_, msg);
    return;
  }
  nta_incoming_t* irq = nta_incoming_create(agent_, nullptr, msg, sip, TAG_END());
  if (irq == nullptr) return;
  switch (method) {
    case sip_method_invite: handle_invite(irq, sip, source); break;
    case sip_method_register: handle_register(irq, sip, source); break;
    case sip_method_options: reply_options(irq); break;
    case sip_method_bye:
    case sip_method_cancel:
    case sip_method_update:
    case sip_method_prack:
    case sip_method_info:
      nta_incoming_treply(irq, SIP_481_NO_TRANSACTION, TAG_END());
      nta_incoming_destroy(irq);
      break;
    case sip_method_subscribe:
      nta_incoming_treply(irq, SIP_489_BAD_EVENT, SIPTAG_ALLOW_STR(kAllow), TAG_END());
      nta_incoming_destroy(irq);
      break;
    default:
      nta_incoming_treply(irq, SIP_405_METHOD_NOT_ALLOWED, SIPTAG_ALLOW_STR(kAllow), TAG_END());
      nta_incoming_destroy(irq);
      break;
  }
}

void SofiaSipService::reply_options(nta_incoming_t* irq) {
  nta_incoming_treply(irq, SIP_200_OK, SIPTAG_ALLOW_STR(kAllow), SIPTAG_SUPPORTED_STR(kSupported),
                      SIPTAG_ACCEPT_STR("application/sdp"),
                      SIPTAG_SERVER_STR(options_.user_agent.c_str()), TAG_END());
  nta_incoming_destroy(irq);
}

void SofiaSipService::refuse(nta_incoming_t* irq, const sip_t* sip, const Source& source,
                             int status, const char* phrase, std::string_view why) {
  log(SipLogLevel::kInfo, "sip.invite_refused",
      {{"status", std::to_string(status)},
       {"reason", std::string(why)},
       {"source", source.text},
       {"call_id", str(sip->sip_call_id->i_id)}});
  nta_incoming_treply(irq, status, phrase, SIPTAG_SERVER_STR(options_.user_agent.c_str()),
                      TAG_END());
  nta_incoming_destroy(irq);
}

void SofiaSipService::handle_invite(nta_incoming_t* irq, const sip_t* sip, const Source& source) {
  if (sip->sip_to->a_tag != nullptr) {  // a re-INVITE for a dialog we do not have
    refuse(irq, sip, source, SIP_481_NO_TRANSACTION, "unknown dialog");
    return;
  }
  if (sip->sip_contact == nullptr) {
    refuse(irq, sip, source, 400, "Missing Contact Header", "no Contact");
    return;
  }
  if (sip->sip_max_forwards != nullptr && sip->sip_max_forwards->mf_count == 0) {
    refuse(irq, sip, source, SIP_483_TOO_MANY_HOPS, "Max-Forwards 0 (a loop?)");
    return;
  }
  // An agent's phone placing a call: From is the agent's SIP user in the tenant's realm.
  const url_t* from = sip->sip_from->a_url;
  for (const auto& t : directory_->tenants) {
    if (t.realm != str(from->url_host)) continue;
    for (const auto& a : t.agents) {
      if (a.credentials && a.credentials->username == str(from->url_user)) {
        handle_phone_invite(irq, sip, source, t, a);
        return;
      }
    }
  }
  // Which trunk: the first (tenant order, then trunk order) whose sources hold the caller.
  const SipTenant* tenant = nullptr;
  const SipTrunk* trunk = nullptr;
  for (const auto& t : directory_->tenants) {
    for (const auto& tr : t.trunks) {
      if (source.valid && tr.sources.contains(source.ip)) {
        tenant = &t;
        trunk = &tr;
        break;
      }
    }
    if (trunk != nullptr) break;
  }
  if (trunk == nullptr) {
    ++stats_.rejected_source;
    if (options_.unknown_source == SipOptions::UnknownSource::kDrop) {
      log(SipLogLevel::kInfo, "sip.invite_dropped",
          {{"reason", "unknown source"}, {"source", source.text}});
      nta_incoming_destroy(irq);  // no response is sent; the transaction just ends
      return;
    }
    refuse(irq, sip, source, SIP_403_FORBIDDEN, "unknown source");
    return;
  }
  if (trunk->auth && !check_digest(irq, sip, tenant->realm, *trunk->auth, /*proxy=*/true)) {
    nta_incoming_destroy(irq);
    return;
  }
  const std::string number = str(sip->sip_request->rq_url->url_user);
  const SipDid* did = nullptr;
  for (const auto& d : trunk->dids)
    if (d.number == number) did = &d;
  if (did == nullptr) {
    refuse(irq, sip, source, SIP_404_NOT_FOUND, "unknown number");
    return;
  }
  const bool to_menu = !did->menu.empty();
  const bool to_flow = !did->flow.empty();
  if ((to_menu || to_flow) && media_ == nullptr) {
    refuse(irq, sip, source, SIP_480_TEMPORARILY_UNAVAILABLE,
           to_menu ? "IVR menus need the media plane" : "call flows need the media plane");
    return;
  }
  if (!to_menu && !to_flow && !did->queue.valid()) {
    refuse(irq, sip, source, SIP_480_TEMPORARILY_UNAVAILABLE, "number leads nowhere");
    return;
  }
  Call* created = accept_invite(irq, sip, source, *tenant, core::CallKind::kInbound);
  if (created == nullptr) return;
  Call& c = *created;
  log(SipLogLevel::kInfo, "sip.call_arrived",
      {{"call", std::to_string(c.id.value)},
       {"tenant", tenant->name},
       {"trunk", trunk->name},
       {"caller", c.caller_number},
       {"dialled", number},
       {"source", source.text},
       {"codec", c.caller.media ? c.caller.media->codec.name : std::string("late-offer")}});
  c.priority = did->priority;
  c.vip_level = did->vip_level;
  if (to_menu) {
    // A menu talks to the caller: answered at once, whatever the DID's answer mode.
    answer_caller(c);
    c.menu_directory = directory_;
    start_menu(c, did->menu);
    return;
  }
  if (to_flow) {
    // A flow talks to the caller too: answered at once.
    answer_caller(c);
    c.menu_directory = directory_;
    start_flow(c, *tenant, did->flow);
    return;
  }
  c.answer_on_connect = did->answer_on_connect;
  if (c.answer_on_connect) {
    ring_caller(c);
  } else {
    answer_caller(c);
  }
  enqueue(c, did->queue);
}

// Voicemail: greeting, beep, then the caller's message is recorded (mono, the caller
// only) until '#', hang-up or the maximum length.
void SofiaSipService::start_voicemail(Call& call, const std::string& mailbox,
                                      const std::vector<media::Clip>& greeting) {
  call.menu = nullptr;
  call.mailbox = mailbox;
  set_menu_due(call, Clock::time_point::max());
  static const media::Clip beep = media::make_tone(1000, 250);
  std::vector<media::Clip> clips = greeting;
  clips.push_back(beep);
  call.voicemail_prompt = next_prompt_token_++;
  call.caller.hearing = "voicemail";
  log(SipLogLevel::kInfo, "sip.voicemail",
      {{"call", std::to_string(call.id.value)}, {"mailbox", mailbox}});
  media_->play_prompts(call.caller.stream, std::move(clips), call.voicemail_prompt);
}

void SofiaSipService::end_voicemail(Call& call, const char* why) {
  if (!call.voicemail_recording) return;
  call.voicemail_recording = false;
  set_menu_due(call, Clock::time_point::max());
  log(SipLogLevel::kInfo, "sip.voicemail_end",
      {{"call", std::to_string(call.id.value)}, {"mailbox", call.mailbox}, {"why", why}});
  media_->stop_recording(call.caller.stream);
  tell_ended_before_queue(call, core::FinalState::kVoicemail, core::HangupCause::kIvr);
  send_bye(call.caller, "SIP;cause=200;text=\"message recorded\"");
  destroy_call(call.id);
}

// A call that a menu or a flow ended before any queue: the core records it (its state,
// who or what ended it, how long it was in the engine). Once; not for calls the core has.
void SofiaSipService::tell_ended_before_queue(Call& call, core::FinalState state,
                                              core::HangupCause cause) {
  // (entry is set on inbound calls only; a flow's transfer outside makes the call kOutbound.)
  if (call.ended_told || call.enqueued || call.entry.empty()) return;
  call.ended_told = true;
  const auto in_engine = std::chrono::duration_cast<core::Duration>(Clock::now() - call.arrived);
  submit([this, spec = call_spec_of(call), in_engine, state, cause,
          entry = call.entry](core::RoutingCore& core) mutable {
    const core::CallId id = spec.id;
    const core::Status status =
        core.end_before_queue(std::move(spec), in_engine, state, cause, std::move(entry));
    if (!status) {
      post([this, id, message = status.message()] {
        log(SipLogLevel::kWarn, "sip.record_refused",
            {{"call", std::to_string(id.value)}, {"error", message}});
      });
    }
  });
}

// A waiting caller's place and estimated wait, asked of the core and then said; the
// music resumes when the announcement ends, and the next one is due `announce_every`
// later.
void SofiaSipService::announce_position(Call& call) {
  const core::CallId id = call.id;
  submit([this, id](core::RoutingCore& core) {
    const auto view = core.call(id);
    if (!view || view->phase != core::CallPhase::kWaiting) return;
    const auto queue = core.queue(view->queue);
    const auto wait = queue ? queue->estimated_wait : core::Duration::zero();
    const int position = view->position;
    post([this, id, position, wait] {
      Call* c = find_call(id);
      if (c == nullptr || c->connected != nullptr || c->caller.stream == 0) return;
      set_menu_due(*c, Clock::now() + options_.announce_every);
      const SipTenant* tenant = tenant_by_id(c->tenant);
      if (tenant == nullptr || !tenant->prompts) return;
      const media::PromptSet& set = *tenant->prompts;
      std::vector<media::Clip> clips;
      if (auto clip = set.find("position")) clips.push_back(clip);
      for (auto& clip : media::say_number(set, position)) clips.push_back(std::move(clip));
      const auto minutes = static_cast<int>(
          (std::chrono::duration_cast<std::chrono::seconds>(wait).count() + 59) / 60);
      if (minutes > 0) {
        if (auto clip = set.find("estimated-wait")) clips.push_back(clip);
        for (auto& clip : media::say_number(set, minutes)) clips.push_back(std::move(clip));
        if (auto clip = set.find("minutes")) clips.push_back(clip);
      }
      if (const SipQueue* q = queue_of(*c); q != nullptr && q->breakout_prompt)
        clips.push_back(q->breakout_prompt);
      if (clips.empty()) return;
      log(SipLogLevel::kInfo, "sip.announcement",
          {{"call", std::to_string(id.value)},
           {"position", std::to_string(position)},
           {"estimated_wait_min", std::to_string(minutes)}});
      c->announcement = next_prompt_token_++;
      c->caller.hearing = "announcement";
      media_->play_prompts(c->caller.stream, std::move(clips), c->announcement);
    });
  });
}

// A key a caller waiting in a queue pressed: one of the queue's breakout keys asks the
// core to let the call leave (CallExited follows, then on_exited acts on it).
bool SofiaSipService::try_breakout(Call& call, char key) {
  if (!call.enqueued || call.finished || call.connected != nullptr || call.breakout_requested)
    return false;
  const SipQueue* queue = queue_of(call);
  if (queue == nullptr) return false;
  for (const auto& [option, destination] : queue->breakout) {
    if (option != key) continue;
    call.breakout_requested = true;
    log(SipLogLevel::kInfo, "sip.breakout",
        {{"call", std::to_string(call.id.value)},
         {"queue", queue->name},
         {"key", std::string(1, key)},
         {"to", core::to_string(destination.kind)}});
    const core::CallId id = call.id;
    submit([this, id, destination](core::RoutingCore& core) {
      const core::Status status = core.leave_queue(id, destination);
      if (status) return;
      // Not waiting any more (an agent is being rung, or it just answered): the key is
      // ignored and a later one may try again.
      post([this, id, message = status.message()] {
        log(SipLogLevel::kInfo, "sip.breakout_refused",
            {{"call", std::to_string(id.value)}, {"error", message}});
        if (Call* c = find_call(id)) c->breakout_requested = false;
      });
    });
    return true;
  }
  return false;
}

// A queue exit the core took (maximum wait, a full or empty queue, a breakout key). The
// caller is still on the line: voicemail records a message; a callback request and a
// hang-up say their closing prompt first (the tenant's "callback", or the hang-up's
// message when it names a prompt, else "goodbye"). A move to another queue needs nothing
// here (CallQueued follows). Without media for it, on_finished hangs up as before.
void SofiaSipService::on_exited(const core::CallExited& exited) {
  Call* call = find_call(exited.call);
  if (call == nullptr || call->caller.gone || call->caller.stream == 0) return;
  const core::ExitDestination& to = exited.destination;
  log(SipLogLevel::kInfo, "sip.queue_exit",
      {{"call", std::to_string(call->id.value)},
       {"reason", core::to_string(exited.reason)},
       {"to", core::to_string(to.kind)},
       {"target", to.target}});
  set_menu_due(*call, Clock::time_point::max());  // no more announcements
  const SipTenant* tenant = tenant_by_id(call->tenant);
  const media::PromptSet* prompts =
      tenant != nullptr && tenant->prompts ? tenant->prompts.get() : nullptr;
  auto prompt = [&](const std::string& name) -> media::Clip {
    return prompts != nullptr && !name.empty() ? prompts->find(name) : nullptr;
  };
  switch (to.kind) {
    case core::ExitDestination::Kind::kQueue: return;
    case core::ExitDestination::Kind::kVoicemail: {
      if (options_.voicemail_directory.empty()) return;
      answer_caller(*call);
      call->after_queue = true;
      std::vector<media::Clip> greeting;
      if (auto clip = prompt("voicemail")) greeting.push_back(std::move(clip));
      start_voicemail(*call, to.target.empty() ? "default" : to.target, greeting);
      return;
    }
    case core::ExitDestination::Kind::kCallback: {
      std::vector<media::Clip> clips;
      if (auto clip = prompt("callback")) clips.push_back(std::move(clip));
      say_and_hang_up(*call, std::move(clips), "SIP;cause=200;text=\"callback requested\"");
      return;
    }
    case core::ExitDestination::Kind::kHangup: {
      std::vector<media::Clip> clips;
      media::Clip clip = prompt(to.target);
      if (!clip) clip = prompt("goodbye");
      if (clip) clips.push_back(std::move(clip));
      say_and_hang_up(*call, std::move(clips), "SIP;cause=200;text=\"queue exit\"");
      return;
    }
  }
}

// Plays `clips` to the caller, then hangs up (on_prompts_done); nothing to say: on_finished
// hangs up at once.
void SofiaSipService::say_and_hang_up(Call& call, std::vector<media::Clip> clips,
                                      const char* reason) {
  if (clips.empty()) return;
  answer_caller(call);
  call.after_queue = true;
  call.closing_prompt = next_prompt_token_++;
  call.closing_reason = reason;
  call.caller.hearing = "closing";
  media_->play_prompts(call.caller.stream, std::move(clips), call.closing_prompt);
}

// What the core knows of a new inbound call: its numbers, priority, VIP level and what
// the caller chose in menus and flows.
core::CallSpec SofiaSipService::call_spec_of(const Call& c) {
  core::CallSpec spec;
  spec.id = c.id;
  spec.tenant = c.tenant;
  spec.caller_number = c.caller_number;
  spec.dialed_number = c.dialed;
  spec.priority = c.priority;
  spec.vip_level = c.vip_level;
  spec.attributes = c.ivr_choices;
  spec.extra_skills = c.extra_skills;
  return spec;
}

// Hands the call to the core, in `queue`, with what the caller chose in menus.
void SofiaSipService::enqueue(Call& c, core::QueueId queue) {
  core::CallSpec spec = call_spec_of(c);
  const core::CallId id = c.id;
  c.enqueued = true;
  if (options_.announce_every > core::Duration::zero() && media_ != nullptr)
    set_menu_due(c, Clock::now() + options_.announce_every);
  c.queue = queue;  // its music on hold, until a CallQueued names another queue
  apply_media(c);
  submit([this, spec = std::move(spec), queue, id](core::RoutingCore& core) mutable {
    const core::Status status = core.enqueue(std::move(spec), queue);
    if (!status) refused_by_core(id, status, "sip.enqueue_failed", "routing failed");
  });
}

// From the core's thread: the core refused a new call; the caller hears 500 and the call
// ends here, the log saying why.
void SofiaSipService::refused_by_core(core::CallId id, const core::Status& status,
                                      const char* event, const char* text) {
  post([this, id, event, text, message = status.message()] {
    log(SipLogLevel::kError, event, {{"call", std::to_string(id.value)}, {"error", message}});
    if (Call* failed = find_call(id)) {
      // The core never held it: an answered caller's record says the engine ended it
      // (destroy_call tells the core so).
      failed->enqueued = false;
      if (failed->entry.empty()) failed->entry = "refused";
      const std::string reason = std::string("SIP;cause=500;text=\"") + text + "\"";
      end_call(*failed, reason.c_str());
      destroy_call(id);
    }
  });
}

// A callback the caller asked for before being queued (a flow's call.callback): the core
// records the call as entering `queue` and leaving it at once for a callback on `number`;
// on_exited then says the tenant's "callback" prompt and hangs up, as for a breakout key.
void SofiaSipService::request_callback(Call& c, core::QueueId queue, std::string number) {
  core::CallSpec spec = call_spec_of(c);
  const core::CallId id = c.id;
  c.enqueued = true;
  c.queue = queue;
  log(SipLogLevel::kInfo, "sip.callback_requested",
      {{"call", std::to_string(id.value)}, {"number", number}});
  submit([this, spec = std::move(spec), queue, number = std::move(number),
          id](core::RoutingCore& core) mutable {
    const core::Status status = core.request_callback(std::move(spec), queue, std::move(number));
    if (!status) refused_by_core(id, status, "sip.callback_failed", "callback request failed");
  });
}

// A flow's call.transfer: the caller is bridged to `number` over the tenant's outbound
// trunk, as an agent's blind transfer to an outside number is, under the same toll-fraud
// guard (transfer.allow_external); the caller hears music while it rings. The core never
// knew the call: the SIP side ends it when either party hangs up. Refused (not allowed,
// no outbound trunk, not a dialable number): logged, and the engine hangs up.
void SofiaSipService::transfer_from_flow(Call& call, const std::string& number) {
  const SipTenant* tenant = tenant_by_id(call.tenant);
  const SipTrunk* trunk = tenant != nullptr ? outbound_trunk_of(*tenant) : nullptr;
  const std::string uri =
      trunk != nullptr ? outbound_target(trunk->outbound_uri, number) : std::string();
  const std::string by = "flow " + call.flow_name;
  if (tenant == nullptr || !tenant->allow_external_transfer || uri.empty()) {
    const char* why = tenant == nullptr || !tenant->allow_external_transfer
                          ? "transfers to outside numbers are not allowed"
                      : trunk == nullptr ? "the tenant has no outbound trunk"
                                         : "not a dialable number";
    log(SipLogLevel::kWarn, "sip.transfer_refused",
        {{"call", std::to_string(call.id.value)}, {"by", by}, {"target", number}, {"reason", why}});
    SipMenuAction hang_up;
    hang_up.kind = SipMenuAction::Kind::kHangup;
    hang_up.target = "transfer refused";
    run_menu_action(call, hang_up);
    return;
  }
  log(SipLogLevel::kInfo, "sip.transfer",
      {{"call", std::to_string(call.id.value)},
       {"kind", "external"},
       {"by", by},
       {"target", number}});
  call.caller_id = trunk->caller_id;
  call.external = true;  // the outside leg's answer bridges it; a BYE from either side ends it
  call.finished = true;  // the core has its record (below): nothing more to tell it
  call.kind = core::CallKind::kOutbound;  // the trunk's caller id on the new leg
  apply_media(call);
  if (std::string why = place_leg(call, uri, core::AgentId{}, number); !why.empty()) {
    log(SipLogLevel::kWarn, "sip.transfer_failed",
        {{"call", std::to_string(call.id.value)}, {"status", why}});
    end_call(call, "SIP;cause=480;text=\"transfer target unavailable\"");
    destroy_call(call.id);  // recorded as ended by the engine
    return;
  }
  tell_ended_before_queue(call, core::FinalState::kTransferred, core::HangupCause::kTransfer);
}

// ---------------------------------------------------------------------------------------
// IVR menus

void SofiaSipService::start_menu(Call& call, const std::string& name) {
  call.entry = "menu " + name;  // (also when it is missing: the call's record says where)
  const SipMenu* menu = nullptr;
  if (call.menu_directory) {
    for (const auto& t : call.menu_directory->tenants)
      if (t.id == call.tenant)
        for (const auto& m : t.menus)
          if (m.name == name) menu = &m;
  }
  if (menu == nullptr) {
    log(SipLogLevel::kError, "sip.menu_missing",
        {{"call", std::to_string(call.id.value)}, {"menu", name}});
    run_menu_action(call, SipMenuAction{});  // hang up
    return;
  }
  call.menu = menu;
  call.menu_attempts = 0;
  log(SipLogLevel::kInfo, "sip.menu", {{"call", std::to_string(call.id.value)}, {"menu", name}});
  play_menu(call, false);
}

void SofiaSipService::play_menu(Call& call, bool after_invalid) {
  if (call.menu == nullptr || call.caller.stream == 0) return;
  std::vector<media::Clip> clips;
  if (after_invalid) clips = call.menu->invalid;
  clips.insert(clips.end(), call.menu->prompt.begin(), call.menu->prompt.end());
  call.menu_prompt = next_prompt_token_++;
  set_menu_due(call, Clock::time_point::max());  // the timeout starts when the prompt ends
  call.caller.hearing = "prompt";
  media_->play_prompts(call.caller.stream, std::move(clips), call.menu_prompt);
  media_->detect_inband_dtmf(call.caller.stream, true);
}

void SofiaSipService::set_menu_due(Call& call, Clock::time_point due) {
  if (call.menu_due != Clock::time_point::max()) ivr_due_.erase({call.menu_due, call.id.value});
  call.menu_due = due;
  if (due != Clock::time_point::max()) ivr_due_.insert({due, call.id.value});
  arm_housekeeping();
}

void SofiaSipService::on_menu_key(Call& call, char key) {
  for (const auto& [input, action] : call.menu->options) {
    if (input != key) continue;
    log(SipLogLevel::kInfo, "sip.menu_choice",
        {{"call", std::to_string(call.id.value)},
         {"menu", call.menu->name},
         {"key", std::string(1, key)},
         {"action", std::to_string(static_cast<int>(action.kind))}});
    call.ivr_choices.emplace_back("ivr." + call.menu->name, std::string(1, key));
    const SipMenuAction chosen = action;  // start_menu may move call.menu on
    run_menu_action(call, chosen);
    return;
  }
  menu_retry(call, "invalid key");
}

void SofiaSipService::menu_retry(Call& call, const char* why) {
  ++call.menu_attempts;
  log(SipLogLevel::kInfo, "sip.menu_retry",
      {{"call", std::to_string(call.id.value)},
       {"menu", call.menu->name},
       {"why", why},
       {"attempt", std::to_string(call.menu_attempts)}});
  if (call.menu_attempts > call.menu->retries) {
    const SipMenuAction failure = call.menu->on_failure;
    run_menu_action(call, failure);
    return;
  }
  play_menu(call, true);
}

void SofiaSipService::run_menu_action(Call& call, const SipMenuAction& action) {
  set_menu_due(call, Clock::time_point::max());
  switch (action.kind) {
    case SipMenuAction::Kind::kMenu: start_menu(call, action.target); return;
    case SipMenuAction::Kind::kQueue:
      call.menu = nullptr;
      call.caller.hearing.clear();
      enqueue(call, action.queue);
      return;
    case SipMenuAction::Kind::kVoicemail:
      if (!options_.voicemail_directory.empty()) {
        start_voicemail(call, action.target.empty() ? "default" : action.target,
                        call.menu != nullptr ? call.menu->voicemail : std::vector<media::Clip>{});
        return;
      }
      [[fallthrough]];
    case SipMenuAction::Kind::kHangup:
    case SipMenuAction::Kind::kCallback:
    case SipMenuAction::Kind::kOperator: {
      // Voicemail, callback and operator destinations come with their own features;
      // until then such a choice ends the call, and the log says so.
      const bool hangup = action.kind == SipMenuAction::Kind::kHangup;
      log(hangup ? SipLogLevel::kInfo : SipLogLevel::kWarn, "sip.menu_hangup",
          {{"call", std::to_string(call.id.value)},
           {"menu", call.menu != nullptr ? call.menu->name : std::string()},
           {"reason", hangup ? action.target : std::string("destination not available")}});
      tell_ended_before_queue(call, core::FinalState::kHungUp, core::HangupCause::kIvr);
      call.menu = nullptr;
      send_bye(call.caller, "SIP;cause=200;text=\"menu ended\"");
      destroy_call(call.id);
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Call flows

void SofiaSipService::start_flow(Call& call, const SipTenant& tenant, const std::string& name) {
  call.entry = "flow " + name;  // (also when it is missing: the call's record says where)
  const SipFlow* flow = nullptr;
  for (const auto& f : tenant.flows)
    if (f.name == name) flow = &f;
  if (flow != nullptr && flow->make_session)
    call.flow =
        flow->make_session(SipFlowCall{call.id, tenant.name, call.caller_number, call.dialed});
  if (call.flow == nullptr) {
    log(SipLogLevel::kError, "sip.flow_missing",
        {{"call", std::to_string(call.id.value)}, {"flow", name}});
    run_menu_action(call, SipMenuAction{});  // hang up
    return;
  }
  call.flow_name = name;
  log(SipLogLevel::kInfo, "sip.flow", {{"call", std::to_string(call.id.value)}, {"flow", name}});
  run_flow(call, call.flow->start());
}

// Keys a caller may type ahead of a flow's collect step.
constexpr std::size_t kMaxFlowTypeAhead = 32;

void SofiaSipService::run_flow(Call& call, SipFlowStep step) {
  for (;;) {
    if (const auto* done = std::get_if<SipFlowDone>(&step)) {
      finish_flow(call, *done);
      return;
    }
    std::optional<SipFlowAnswer> answer = begin_flow_step(call, step);
    if (!answer) return;  // on_prompts_done, DTMF, the timeout or the lookup resumes it
    step = call.flow->resume(*answer);
  }
}

const media::PromptSet* SofiaSipService::flow_prompts(const Call& call) const {
  if (!call.menu_directory) return nullptr;
  for (const auto& t : call.menu_directory->tenants)
    if (t.id == call.tenant) return t.prompts.get();
  return nullptr;
}

std::optional<SipFlowAnswer> SofiaSipService::begin_flow_step(Call& call, const SipFlowStep& step) {
  const std::string id = std::to_string(call.id.value);
  const media::PromptSet* prompts = flow_prompts(call);
  auto clips_of = [&](const std::vector<std::string>& names) {
    std::vector<media::Clip> clips;
    for (const auto& name : names) {
      media::Clip clip = prompts != nullptr ? prompts->find(name) : nullptr;
      if (clip) {
        clips.push_back(std::move(clip));
      } else {
        log(SipLogLevel::kWarn, "sip.flow_prompt_missing",
            {{"call", id}, {"flow", call.flow_name}, {"prompt", name}});
      }
    }
    return clips;
  };
  auto play = [&](std::vector<media::Clip> clips) {
    call.flow_prompt = next_prompt_token_++;
    call.caller.hearing = "prompt";
    media_->play_prompts(call.caller.stream, std::move(clips), call.flow_prompt);
  };
  if (const auto* p = std::get_if<SipFlowPlay>(&step)) {
    auto clips = clips_of(p->prompts);
    if (clips.empty() || call.caller.stream == 0) return SipFlowPlayed{false};
    call.flow_wait = Call::FlowWait::kPlay;
    play(std::move(clips));
    return std::nullopt;
  }
  if (const auto* c = std::get_if<SipFlowCollect>(&step)) {
    // Keys pressed ahead (while a prompt played) count first.
    std::string digits;
    std::size_t used = 0;
    for (; used < call.flow_digits.size(); ++used) {
      if (static_cast<int>(digits.size()) >= c->max_digits) break;
      if (call.flow_digits[used] == '#') {
        ++used;
        digits += '#';
        break;
      }
      digits += call.flow_digits[used];
    }
    if (static_cast<int>(digits.size()) >= c->max_digits || digits.find('#') != std::string::npos) {
      call.flow_digits.erase(0, used);
      if (!digits.empty() && digits.back() == '#') digits.pop_back();
      return SipFlowCollected{std::move(digits)};
    }
    call.flow_wait = Call::FlowWait::kCollect;
    call.flow_collect = *c;
    std::vector<media::Clip> clips;
    if (c->prompt) clips = clips_of({*c->prompt});
    if (call.caller.stream != 0) media_->detect_inband_dtmf(call.caller.stream, true);
    if (clips.empty() || call.caller.stream == 0) {
      call.flow_prompt = 0;
      set_menu_due(call, Clock::now() + c->timeout);
    } else {
      set_menu_due(call, Clock::time_point::max());  // the timeout starts when it ends
      play(std::move(clips));
    }
    return std::nullopt;
  }
  const auto& lookup = std::get<SipFlowLookup>(step);
  if (!hooks_.lookup_customer) return SipFlowLookedUp{std::nullopt};
  call.flow_wait = Call::FlowWait::kLookup;
  set_menu_due(call, Clock::now() + options_.flow_lookup_timeout);  // end_flow_lookup
  const std::uint64_t token = ++call.flow_lookup;
  const core::CallId call_id = call.id;
  hooks_.lookup_customer(
      call.tenant_name, lookup.number,
      [this, call_id, token](std::optional<std::map<std::string, std::string>> customer) {
        post([this, call_id, token, customer = std::move(customer)] {
          Call* c = find_call(call_id);
          if (c == nullptr || c->flow == nullptr || c->flow_wait != Call::FlowWait::kLookup ||
              c->flow_lookup != token)
            return;  // the caller hung up meanwhile, or the lookup took too long
          set_menu_due(*c, Clock::time_point::max());
          c->flow_wait = Call::FlowWait::kNothing;
          run_flow(*c, c->flow->resume(SipFlowLookedUp{customer}));
        });
      });
  return std::nullopt;
}

void SofiaSipService::on_flow_key(Call& call, char key) {
  // RFC 4733 also carries A-D, which no script can be given (FlowRun refuses them).
  if (!((key >= '0' && key <= '9') || key == '*' || key == '#')) return;
  if (call.flow_wait != Call::FlowWait::kCollect) {
    // Typed ahead (while a prompt plays, say): kept for the next collect, within reason.
    if (call.flow_digits.size() < kMaxFlowTypeAhead) call.flow_digits += key;
    return;
  }
  if (key == '#') {
    end_flow_collect(call, "#");
    return;
  }
  call.flow_digits += key;
  if (static_cast<int>(call.flow_digits.size()) >= call.flow_collect.max_digits)
    end_flow_collect(call, "max digits");
}

void SofiaSipService::end_flow_collect(Call& call, const char* why) {
  set_menu_due(call, Clock::time_point::max());
  call.flow_wait = Call::FlowWait::kNothing;
  call.flow_prompt = 0;  // a prompt still playing no longer resumes anything
  std::string digits = std::move(call.flow_digits);
  call.flow_digits.clear();
  log(SipLogLevel::kInfo, "sip.flow_digits",
      {{"call", std::to_string(call.id.value)},
       {"flow", call.flow_name},
       {"digits", digits},
       {"why", why}});
  run_flow(call, call.flow->resume(SipFlowCollected{std::move(digits)}));
}

// A flow's customer lookup took longer than flow_lookup_timeout: the script hears "not
// found" and goes on; the answer, should it come, finds another token and is dropped.
void SofiaSipService::end_flow_lookup(Call& call) {
  call.flow_wait = Call::FlowWait::kNothing;
  ++call.flow_lookup;
  log(SipLogLevel::kWarn, "sip.flow_lookup_timeout",
      {{"call", std::to_string(call.id.value)},
       {"flow", call.flow_name},
       {"after_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       options_.flow_lookup_timeout)
                                       .count())}});
  run_flow(call, call.flow->resume(SipFlowLookedUp{std::nullopt}));
}

void SofiaSipService::finish_flow(Call& call, const SipFlowDone& done) {
  call.flow.reset();  // the session has decided: what ran it is freed now
  call.flow_wait = Call::FlowWait::kNothing;
  call.flow_prompt = 0;
  for (const auto& attribute : done.attributes) call.ivr_choices.push_back(attribute);
  if (done.priority) call.priority = *done.priority;
  call.extra_skills = done.skills;
  SipMenuAction action;
  action.target = done.target;
  switch (done.kind) {
    case SipFlowDone::Kind::kQueue:
      action.kind = SipMenuAction::Kind::kQueue;
      action.queue = done.queue;
      break;
    case SipFlowDone::Kind::kVoicemail: action.kind = SipMenuAction::Kind::kVoicemail; break;
    case SipFlowDone::Kind::kCallback: action.kind = SipMenuAction::Kind::kCallback; break;
    case SipFlowDone::Kind::kHangup: action.kind = SipMenuAction::Kind::kHangup; break;
    case SipFlowDone::Kind::kTransfer: action.kind = SipMenuAction::Kind::kOperator; break;
  }
  if ((action.kind == SipMenuAction::Kind::kQueue ||
       action.kind == SipMenuAction::Kind::kCallback) &&
      !done.queue.valid()) {
    action.kind = SipMenuAction::Kind::kHangup;
    action.target = "no such queue";
  }
  log(SipLogLevel::kInfo, "sip.flow_done",
      {{"call", std::to_string(call.id.value)},
       {"flow", call.flow_name},
       {"priority", std::to_string(call.priority)},
       {"attributes", std::to_string(done.attributes.size())}});
  if (action.kind == SipMenuAction::Kind::kCallback) {
    request_callback(call, done.queue, done.target);
    return;
  }
  if (done.kind == SipFlowDone::Kind::kTransfer) {
    transfer_from_flow(call, done.target);
    return;
  }
  run_menu_action(call, action);
}

// Checks capacity, the body and the session timer of a new INVITE, negotiates its SDP,
// binds an RTP pair and makes the call with its first leg (the dialog with the INVITE's
// sender); nullptr when the INVITE has been refused.
SofiaSipService::Call* SofiaSipService::accept_invite(nta_incoming_t* irq, const sip_t* sip,
                                                      const Source& source, const SipTenant& tenant,
                                                      core::CallKind kind) {
  const std::string retry = std::to_string(seconds_of(options_.retry_after));
  if (!accepting_.load() || static_cast<int>(calls_.size()) >= options_.max_calls) {
    ++stats_.rejected_overload;
    log(SipLogLevel::kWarn, "sip.overload",
        {{"calls", std::to_string(calls_.size())}, {"source", source.text}});
    nta_incoming_treply(irq, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR(retry.c_str()),
                        SIPTAG_SERVER_STR(options_.user_agent.c_str()), TAG_END());
    nta_incoming_destroy(irq);
    return nullptr;
  }
  if (has_sdp(sip) && !is_sdp_type(sip)) {
    nta_incoming_treply(irq, SIP_415_UNSUPPORTED_MEDIA, SIPTAG_ACCEPT_STR("application/sdp"),
                        TAG_END());
    nta_incoming_destroy(irq);
    return nullptr;
  }
  // Session timer (RFC 4028): too short an interval is refused with 422.
  const UasSessionDecision session = negotiate_as_uas(session_request_of(sip), session_limits());
  if (session.outcome == UasSessionDecision::Outcome::kTooSmall) {
    const std::string min_se = std::to_string(seconds_of(options_.min_session_expires));
    nta_incoming_treply(irq, SIP_422_SESSION_TIMER_TOO_SMALL, SIPTAG_MIN_SE_STR(min_se.c_str()),
                        TAG_END());
    nta_incoming_destroy(irq);
    return nullptr;
  }
  std::optional<Negotiated> negotiated;
  if (has_sdp(sip)) {
    std::string error;
    auto offer = parse_sdp(body_of(sip), &error);
    if (!offer) {
      refuse(irq, sip, source, 400, "Bad Session Description", "bad SDP: " + error);
      return nullptr;
    }
    negotiated = negotiate(*offer);
    if (!negotiated) {
      log(SipLogLevel::kInfo, "sip.invite_refused",
          {{"status", "488"}, {"reason", "no common codec"}, {"source", source.text}});
      nta_incoming_treply(irq, SIP_488_NOT_ACCEPTABLE,
                          SIPTAG_WARNING_STR("305 acd \"no common audio codec (PCMU, PCMA)\""),
                          TAG_END());
      nta_incoming_destroy(irq);
      return nullptr;
    }
  }
  auto rtp = media_ports_->allocate();
  if (!rtp) {
    ++stats_.rejected_overload;
    log(SipLogLevel::kWarn, "sip.overload", {{"reason", "no RTP port free"}});
    nta_incoming_treply(irq, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR(retry.c_str()),
                        TAG_END());
    nta_incoming_destroy(irq);
    return nullptr;
  }

  auto call = std::make_unique<Call>();
  call->service = this;
  call->id = hooks_.next_call_id();
  call->kind = kind;
  call->tenant = tenant.id;
  call->tenant_name = tenant.name;
  call->caller_number = str(sip->sip_from->a_url->url_user);
  call->dialed = str(sip->sip_request->rq_url->url_user);
  call->source = source.text;
  call->caller.service = this;
  call->caller.call = call.get();
  call->caller.is_caller = true;
  call->caller.rtp = std::move(*rtp);
  call->caller.media = negotiated;
  call->caller_100rel =
      has_feature(sip->sip_supported, "100rel") || has_feature(sip->sip_require, "100rel");
  call->caller.session = session.timer;  // started when the call is answered
  call->caller.peer_allows_update = sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
  call->caller.sdp_session = sdp_session_ + call->id.value;
  call->caller_invite = irq;
  call->caller_call_id = str(sip->sip_call_id->i_id);

  tport_t* tp = nta_incoming_transport(agent_, irq, nullptr);
  Transport transport = Transport::kUdp;
  if (tp != nullptr) {
    const std::string proto = str(tport_name(tp)->tpn_proto);
    transport = proto == "tcp"   ? Transport::kTcp
                : proto == "tls" ? Transport::kTls
                                 : Transport::kUdp;
    tport_unref(tp);
  }
  call->caller.local_contact = contact_for(transport);

  nta_leg_t* leg = nta_leg_tcreate(
      agent_, &SofiaSipService::on_leg_request, reinterpret_cast<nta_leg_magic_t*>(&call->caller),
      SIPTAG_CALL_ID(sip->sip_call_id), SIPTAG_FROM(sip->sip_to), SIPTAG_TO(sip->sip_from),
      NTATAG_REMOTE_CSEQ(sip->sip_cseq->cs_seq), TAG_END());
  if (leg == nullptr) {
    refuse(irq, sip, source, SIP_500_INTERNAL_SERVER_ERROR, "cannot create dialog");
    return nullptr;
  }
  nta_leg_tag(leg, nullptr);
  nta_incoming_tag(irq, nta_leg_get_tag(leg));
  nta_leg_server_route(leg, sip->sip_record_route, sip->sip_contact);
  call->caller.leg = leg;
  nta_incoming_bind(irq, &SofiaSipService::on_caller_invite_event,
                    reinterpret_cast<nta_incoming_magic_t*>(call.get()));
  Call& c = *call;
  calls_.emplace(c.id.value, std::move(call));
  stats_.calls.store(calls_.size());
  return &c;
}

// An agent's phone places a call: to another agent's extension (an internal call) or to
// an outside number through the tenant's outbound trunk. While the agent talks on an
// inbound call, this is a consultation call (the core links the two). The phone is
// answered when the far end answers.
void SofiaSipService::handle_phone_invite(nta_incoming_t* irq, const sip_t* sip,
                                          const Source& source, const SipTenant& tenant,
                                          const SipAgent& agent) {
  if (!check_digest(irq, sip, tenant.realm, *agent.credentials, /*proxy=*/true)) {
    nta_incoming_destroy(irq);
    return;
  }
  const std::string dialled = str(sip->sip_request->rq_url->url_user);
  const SipAgent* callee = nullptr;
  for (const auto& a : tenant.agents)
    if (a.extension == dialled) callee = &a;
  std::string target;
  std::string caller_id;
  if (callee != nullptr) {
    auto contact = agent_target(tenant, *callee);
    if (!contact) {
      refuse(irq, sip, source, SIP_480_TEMPORARILY_UNAVAILABLE, "the agent has no phone");
      return;
    }
    target = *contact;
  } else {
    const SipTrunk* trunk = outbound_trunk_of(tenant);
    if (trunk == nullptr) {
      refuse(irq, sip, source, SIP_403_FORBIDDEN, "no outbound trunk for the tenant");
      return;
    }
    target = outbound_target(trunk->outbound_uri, dialled);
    if (target.empty()) {
      refuse(irq, sip, source, SIP_484_ADDRESS_INCOMPLETE, "not a dialable number");
      return;
    }
    caller_id = trunk->caller_id;
  }
  const core::CallKind kind =
      callee != nullptr ? core::CallKind::kInternal : core::CallKind::kOutbound;
  Call* created = accept_invite(irq, sip, source, tenant, kind);
  if (created == nullptr) return;
  Call& c = *created;
  c.originator = agent.id;
  c.caller_id = caller_id;
  c.caller_number = callee != nullptr ? agent.extension : caller_id;
  c.answer_on_connect = true;
  log(SipLogLevel::kInfo, "sip.call_placed",
      {{"call", std::to_string(c.id.value)},
       {"tenant", tenant.name},
       {"agent", agent.name},
       {"kind", kind == core::CallKind::kInternal ? "internal" : "outbound"},
       {"dialled", dialled},
       {"target", target}});
  const core::CallId id = c.id;
  const core::AgentId originator = agent.id;
  const core::AgentId callee_id = callee != nullptr ? callee->id : core::AgentId{};
  const std::string callee_name = callee != nullptr ? callee->name : dialled;
  submit([this, id, originator, kind, callee_id, target, callee_name](core::RoutingCore& core) {
    const core::Status status = core.start_outbound(originator, id, kind, callee_id);
    post([this, id, ok = status.is_ok(), message = status.message(), target, callee_id,
          callee_name] {
      Call* call = find_call(id);
      if (call == nullptr) return;
      std::string why = ok ? place_leg(*call, target, callee_id, callee_name) : message;
      if (why.empty()) return;
      log(SipLogLevel::kInfo, "sip.call_refused",
          {{"call", std::to_string(id.value)}, {"reason", why}});
      reject_caller(*call, ok ? 500 : 486);
      if (ok) {
        submit([id](core::RoutingCore& routing) { (void)routing.outbound_failed(id); });
        return;  // CallFinished cleans up
      }
      destroy_call(id);
    });
  });
}

// "sip:<number>@<host:port of the trunk's outbound URI>;<its parameters>", or "" when the
// number has characters a SIP user part may not carry.
std::string SofiaSipService::outbound_target(const std::string& outbound_uri,
                                             const std::string& number) {
  if (number.empty() ||
      number.find_first_not_of(
          "+0123456789*#.-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
          std::string::npos)
    return {};
  const auto colon = outbound_uri.find(':');
  std::string rest = outbound_uri.substr(colon + 1);
  if (const auto at = rest.find('@'); at != std::string::npos) rest = rest.substr(at + 1);
  return outbound_uri.substr(0, colon + 1) + number + "@" + rest;
}

// The caller hears ringing until an agent answers (DID answer: on-connect); the 180 is
// reliable (RFC 3262) when the caller supports 100rel.
void SofiaSipService::ring_caller(Call& call) {
  // Never after the 200 (the INVITE transaction lives until the caller's ACK): a caller
  // answered by a flow that then transfers outside hears music, not a late 180.
  if (call.caller_invite == nullptr || call.caller_ringing || call.caller_answered) return;
  call.caller_ringing = true;
  if (call.caller_100rel) {
    nta_reliable_treply(call.caller_invite, &SofiaSipService::on_prack, nullptr, SIP_180_RINGING,
                        SIPTAG_CONTACT_STR(call.caller.local_contact.c_str()),
                        SIPTAG_REQUIRE_STR("100rel"), TAG_END());
  } else {
    nta_incoming_treply(call.caller_invite, SIP_180_RINGING,
                        SIPTAG_CONTACT_STR(call.caller.local_contact.c_str()), TAG_END());
  }
}

int SofiaSipService::on_prack(nta_reliable_magic_t*, nta_reliable_t*, nta_incoming_t*,
                              const sip_t*) {
  return 200;
}

void SofiaSipService::answer_caller(Call& call) {
  if (call.caller_answered || call.caller_invite == nullptr) return;
  LocalMedia local{media_ports_->address(), call.caller.rtp.port(), call.caller.sdp_session,
                   call.caller.sdp_version};
  const std::string sdp = call.caller.media ? write_answer(*call.caller.media, local)
                                            : write_offer(local, MediaDirection::kSendRecv);
  const SessionTimer& timer = call.caller.session;
  std::string session_expires;
  if (timer.active())
    session_expires = std::to_string(timer.interval.count()) +
                      (timer.engine_refreshes ? ";refresher=uas" : ";refresher=uac");
  nta_incoming_treply(
      call.caller_invite, SIP_200_OK, SIPTAG_CONTACT_STR(call.caller.local_contact.c_str()),
      SIPTAG_ALLOW_STR(kAllow), SIPTAG_SUPPORTED_STR(kSupported),
      SIPTAG_SERVER_STR(options_.user_agent.c_str()),
      TAG_IF(timer.active(), SIPTAG_SESSION_EXPIRES_STR(session_expires.c_str())),
      TAG_IF(timer.active() && !timer.engine_refreshes, SIPTAG_REQUIRE_STR("timer")),
      SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
  call.caller_answered = true;
  if (timer.active()) start_session(call.caller, timer);
  open_stream(call.caller);
  apply_media(call);
}

// ACK, CANCEL or a timeout of a caller's INVITE transaction.
int SofiaSipService::on_caller_invite_event(nta_incoming_magic_t* magic, nta_incoming_t*,
                                            const sip_t* sip) {
  auto* call = reinterpret_cast<Call*>(magic);
  call->service->handle_caller_invite_event(*call, sip);
  return 0;
}

void SofiaSipService::handle_caller_invite_event(Call& call, const sip_t* sip) {
  if (sip != nullptr && sip->sip_request != nullptr &&
      sip->sip_request->rq_method == sip_method_ack) {
    call.caller_confirmed = true;
    if (!call.caller.media && has_sdp(sip)) {  // late offer: the answer comes in the ACK
      std::string error;
      if (auto answer = parse_sdp(body_of(sip), &error)) call.caller.media = accept_answer(*answer);
      open_stream(call.caller);
      apply_media(call);
    }
    nta_incoming_destroy(call.caller_invite);
    call.caller_invite = nullptr;
    return;
  }
  if (sip != nullptr && sip->sip_request != nullptr &&
      sip->sip_request->rq_method == sip_method_cancel) {
    // nta answers 200 to the CANCEL and 487 to the INVITE.
    log(SipLogLevel::kInfo, "sip.caller_cancelled", {{"call", std::to_string(call.id.value)}});
    call.caller.gone = true;
    nta_incoming_destroy(call.caller_invite);  // nta still answers 487 to the INVITE
    call.caller_invite = nullptr;
    hang_up_from_sip(call, core::HangupCause::kCallerCancel);
    return;
  }
  // No ACK for our 200 (or the transaction failed): the caller is unreachable.
  log(SipLogLevel::kWarn, "sip.caller_no_ack", {{"call", std::to_string(call.id.value)}});
  if (call.caller_invite != nullptr) {
    nta_incoming_destroy(call.caller_invite);
    call.caller_invite = nullptr;
  }
  send_bye(call.caller, "SIP;cause=408;text=\"no ACK\"");
  hang_up_from_sip(call, core::HangupCause::kCallerNoAck);
}

// The caller or an agent ended the call over SIP: tell the core (once). The core answers
// with CallFinished, which ends the other legs.
void SofiaSipService::hang_up_from_sip(Call& call, core::HangupCause cause) {
  if (call.hangup_submitted) return;
  call.hangup_submitted = true;
  log(SipLogLevel::kInfo, "sip.hangup",
      {{"call", std::to_string(call.id.value)}, {"cause", core::to_string(cause)}});
  const core::CallId id = call.id;
  if (call.finished || (call.kind == core::CallKind::kInbound && !call.enqueued)) {
    // The core has finished, or never had the call: a menu's or flow's caller hung up
    // (during a voicemail recording: the message is kept), or the engine gave the caller
    // up (no ACK, a session or media timeout).
    const bool caller_left =
        cause == core::HangupCause::kCallerBye || cause == core::HangupCause::kCallerCancel;
    tell_ended_before_queue(call,
                            call.voicemail_recording ? core::FinalState::kVoicemail
                            : caller_left            ? core::FinalState::kAbandoned
                                                     : core::FinalState::kCancelled,
                            cause);
    destroy_call(id);
    return;
  }
  submit([this, id, cause](core::RoutingCore& core) {
    const core::Status status = core.hang_up(id, cause);
    if (!status) {  // the core no longer has the call: nothing will follow, clean up here
      post([this, id] {
        if (Call* c = find_call(id)) {
          end_call(*c, nullptr);
          destroy_call(id);
        }
      });
    }
  });
}

// ---------------------------------------------------------------------------------------
// In-dialog requests

int SofiaSipService::on_leg_request(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq,
                                    const sip_t* sip) {
  auto* leg = reinterpret_cast<Leg*>(magic);
  return leg->service->handle_in_dialog(*leg, irq, sip);
}

int SofiaSipService::handle_in_dialog(Leg& leg, nta_incoming_t* irq, const sip_t* sip) {
  ++stats_.requests;
  Call& call = *leg.call;
  switch (sip->sip_request->rq_method) {
    case sip_method_ack: return 200;  // 2xx ACKs of re-INVITEs: nothing to do
    case sip_method_bye: {
      nta_incoming_treply(irq, SIP_200_OK, TAG_END());
      leg.gone = true;
      close_stream(leg);
      if (auto* listener = leg.is_caller ? nullptr : static_cast<AgentLeg*>(&leg);
          listener != nullptr && listener->listen) {  // a supervisor stops listening
        listener->state = AgentLeg::State::kFailed;
        log(SipLogLevel::kInfo, "sip.listen_ended",
            {{"call", std::to_string(call.id.value)}, {"phone", listener->agent_name}});
        return 200;
      }
      if (call.external && call.finished) {
        log(SipLogLevel::kInfo, "sip.hangup",
            {{"call", std::to_string(call.id.value)},
             {"cause", leg.is_caller ? "caller-bye" : "outside-bye"}});
        end_call(call, "SIP;cause=200;text=\"call completed\"");
        destroy_call(call.id);
        return 200;
      }
      if (leg.is_caller) {
        hang_up_from_sip(call, core::HangupCause::kCallerBye);
      } else {
        auto& agent_leg = static_cast<AgentLeg&>(leg);
        if (agent_leg.state == AgentLeg::State::kAnswered)
          hang_up_from_sip(call, core::HangupCause::kAgentBye);
      }
      return 200;
    }
    case sip_method_invite: return handle_reinvite(leg, irq, sip, false);
    case sip_method_update: return handle_reinvite(leg, irq, sip, true);
    case sip_method_options:
    case sip_method_info:
      nta_incoming_treply(irq, SIP_200_OK, SIPTAG_ALLOW_STR(kAllow), TAG_END());
      return 200;
    case sip_method_refer: return handle_refer(leg, irq, sip);
    default:
      nta_incoming_treply(irq, SIP_405_METHOD_NOT_ALLOWED, SIPTAG_ALLOW_STR(kAllow), TAG_END());
      return 405;
  }
}

// A re-INVITE or UPDATE: a new offer (hold, resume, codec change) or a session refresh.
int SofiaSipService::handle_reinvite(Leg& leg, nta_incoming_t* irq, const sip_t* sip,
                                     bool is_update) {
  Call& call = *leg.call;
  // Glare (RFC 3261 14.2, RFC 3311 5.2): our own re-INVITE on this dialog is waiting for
  // its answer, and this request is an INVITE or an UPDATE with an offer.
  if (leg.refresh != nullptr && leg.refresh_is_invite && (!is_update || has_sdp(sip))) {
    nta_incoming_treply(irq, SIP_491_REQUEST_PENDING, TAG_END());
    log(SipLogLevel::kInfo, "sip.glare",
        {{"call", std::to_string(call.id.value)}, {"answered", "491"}});
    return 491;
  }
  if (has_sdp(sip) && !is_sdp_type(sip)) {
    nta_incoming_treply(irq, SIP_415_UNSUPPORTED_MEDIA, SIPTAG_ACCEPT_STR("application/sdp"),
                        TAG_END());
    return 415;
  }
  // The session timer of this request; applied with the 200 below.
  const UasSessionDecision session = negotiate_as_uas(session_request_of(sip), session_limits());
  if (session.outcome == UasSessionDecision::Outcome::kTooSmall) {
    const std::string min_se = std::to_string(seconds_of(options_.min_session_expires));
    nta_incoming_treply(irq, SIP_422_SESSION_TIMER_TOO_SMALL, SIPTAG_MIN_SE_STR(min_se.c_str()),
                        TAG_END());
    return 422;
  }
  std::optional<Negotiated> negotiated = leg.media;
  MediaDirection offered = MediaDirection::kSendRecv;
  if (has_sdp(sip)) {
    std::string error;
    auto offer = parse_sdp(body_of(sip), &error);
    if (!offer) {
      nta_incoming_treply(irq, 400, "Bad Session Description", TAG_END());
      return 400;
    }
    negotiated = negotiate(*offer);
    if (!negotiated) {
      nta_incoming_treply(irq, SIP_488_NOT_ACCEPTABLE,
                          SIPTAG_WARNING_STR("305 acd \"no common audio codec (PCMU, PCMA)\""),
                          TAG_END());
      return 488;
    }
    offered = offer->direction;
    leg.media = negotiated;
    ++leg.sdp_version;
    update_stream(leg);
  }
  // Session refresh: the timer starts again from this request.
  std::string session_expires;
  if (session.outcome == UasSessionDecision::Outcome::kUse) {
    session_expires =
        std::to_string(session.timer.interval.count()) + ";refresher=" + session.refresher_param();
    start_session(leg, session.timer);
  } else {
    stop_session(leg);
  }
  if (sip->sip_allow != nullptr)
    leg.peer_allows_update = sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
  // Hold and resume from the agent's phone put the caller on hold (the core counts it).
  if (!leg.is_caller && has_sdp(sip)) {
    const bool hold = offered == MediaDirection::kSendOnly || offered == MediaDirection::kInactive;
    auto& agent_leg = static_cast<AgentLeg&>(leg);
    // Answered is enough: the core gets offer_answered before this, from this thread.
    if (agent_leg.state == AgentLeg::State::kAnswered && hold != leg.held) {
      leg.held = hold;
      const core::CallId id = call.id;
      log(SipLogLevel::kInfo, hold ? "sip.hold" : "sip.resume",
          {{"call", std::to_string(id.value)}, {"agent", agent_leg.agent_name}});
      submit([id, hold](core::RoutingCore& core) {
        (void)(hold ? core.hold(id) : core.retrieve(id));
      });
    }
  }
  apply_media(call);
  LocalMedia local{media_ports_->address(), leg.rtp.port(), leg.sdp_session, leg.sdp_version};
  std::string sdp;
  if (negotiated) {
    sdp = write_answer(*negotiated, local);
  } else {
    sdp = write_offer(local, MediaDirection::kSendRecv);
  }
  const bool with_body = !is_update || has_sdp(sip);
  nta_incoming_treply(
      irq, SIP_200_OK, SIPTAG_CONTACT_STR(leg.local_contact.c_str()), SIPTAG_ALLOW_STR(kAllow),
      SIPTAG_SUPPORTED_STR(kSupported),
      TAG_IF(!session_expires.empty(), SIPTAG_SESSION_EXPIRES_STR(session_expires.c_str())),
      TAG_IF(!session_expires.empty() && session.require_timer(), SIPTAG_REQUIRE_STR("timer")),
      TAG_IF(with_body, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
      TAG_IF(with_body, SIPTAG_PAYLOAD_STR(sdp.c_str())), TAG_END());
  return 200;
}

// ---------------------------------------------------------------------------------------
// Transfers: REFER from the agent's phone on the dialog of a connected inbound call.
//   Refer-To with Replaces (attended): the consultation call the phone placed is joined
//     to the caller (complete_attended_transfer);
//   an agent's extension: back to the call's queue, preferring that agent;
//   a queue's name: to that queue;
//   anything else: an outside number, if the tenant allows it (toll-fraud guard).
// The REFER gets 202 and a NOTIFY with the outcome (message/sipfrag); the transferring
// phone's legs are hung up by the engine.

int SofiaSipService::handle_refer(Leg& leg, nta_incoming_t* irq, const sip_t* sip) {
  Call& call = *leg.call;
  auto* agent_leg = leg.is_caller ? nullptr : static_cast<AgentLeg*>(&leg);
  if (agent_leg == nullptr || call.kind != core::CallKind::kInbound || call.external ||
      agent_leg->state != AgentLeg::State::kAnswered) {
    nta_incoming_treply(irq, SIP_403_FORBIDDEN, TAG_END());
    return 403;
  }
  if (sip->sip_refer_to == nullptr || sip->sip_refer_to->r_url->url_user == nullptr) {
    nta_incoming_treply(irq, 400, "Missing Refer-To", TAG_END());
    return 400;
  }
  const SipTenant* tenant = tenant_by_id(call.tenant);
  if (tenant == nullptr) {
    nta_incoming_treply(irq, SIP_403_FORBIDDEN, TAG_END());
    return 403;
  }
  const url_t* to = sip->sip_refer_to->r_url;
  const std::string user = str(to->url_user);
  const core::CallId id = call.id;
  const core::AgentId by = agent_leg->agent;
  // Attended: Replaces names the phone's dialog of its consultation call.
  std::string replaces;
  if (to->url_headers != nullptr) {
    const std::string headers = str(to->url_headers);
    std::vector<char> buffer(headers.size() + 1, '\0');
    url_unescape(buffer.data(), headers.c_str());
    const std::string unescaped(buffer.data());
    const auto at = unescaped.find("Replaces=");
    if (at != std::string::npos) {
      replaces = unescaped.substr(at + 9);
      replaces = replaces.substr(0, replaces.find_first_of(";&"));
    }
  }
  nta_incoming_treply(irq, SIP_202_ACCEPTED, TAG_END());
  if (!replaces.empty()) {
    Call* consult = nullptr;
    for (auto& [cid, c] : calls_)
      if (c->caller_call_id == replaces && c->originator == by) consult = c.get();
    if (consult == nullptr || consult->connected == nullptr) {
      notify_refer(leg, 481, "Call Leg/Transaction Does Not Exist");
      return 202;
    }
    const core::CallId consult_id = consult->id;
    consult->merging = true;
    // To an outside party the core ends the caller's call (transferred): keep its legs.
    if (consult->kind == core::CallKind::kOutbound) call.external = true;
    log(SipLogLevel::kInfo, "sip.transfer",
        {{"call", std::to_string(id.value)},
         {"kind", "attended"},
         {"by", agent_leg->agent_name},
         {"consult", std::to_string(consult_id.value)}});
    submit([this, id, consult_id, report = refer_report()](core::RoutingCore& core) {
      const core::Status status = core.complete_attended_transfer(id, consult_id);
      post([this, id, consult_id, status, report] {
        finish_attended_transfer(id, consult_id, status, report);
      });
    });
    return 202;
  }
  TransferTarget target;
  for (const auto& a : tenant->agents)
    if (a.extension == user || a.name == user) target.agent = &a;
  for (const auto& q : tenant->queues)
    if (q.name == user) target.queue = q.id;
  if (target.agent == nullptr && !target.queue.valid()) target.number = user;
  blind_transfer(call, *tenant, std::move(target), agent_leg->agent_name, core::Cause::kAgent,
                 refer_report());
  return 202;
}

// A blind transfer of the connected inbound `call` (from the phone's REFER or the agent's
// desktop): the core takes it (transfer_to_queue, transfer_external), then the
// transferring agent's leg is hung up; to an outside number the engine places the new leg
// and keeps the caller bridged to it. `report` hears the verdict once, on every path.
void SofiaSipService::blind_transfer(Call& call, const SipTenant& tenant, TransferTarget target,
                                     const std::string& by, core::Cause cause,
                                     TransferReport report) {
  const core::CallId id = call.id;
  if (!target.number.empty()) {
    const SipTrunk* trunk = outbound_trunk_of(tenant);
    const std::string uri =
        trunk == nullptr ? std::string() : outbound_target(trunk->outbound_uri, target.number);
    if (!tenant.allow_external_transfer || uri.empty()) {
      const core::Status refusal =
          !tenant.allow_external_transfer
              ? core::Status(
                    core::ErrorCode::kPermissionDenied,
                    "transfers to outside numbers are not allowed in tenant " + tenant.name)
          : trunk == nullptr ? core::Status(core::ErrorCode::kInvalidState,
                                            "tenant " + tenant.name + " has no outbound trunk")
                             : core::Status(core::ErrorCode::kInvalidArgument,
                                            "\"" + target.number + "\" is not a dialable number");
      log(SipLogLevel::kWarn, "sip.transfer_refused",
          {{"call", std::to_string(id.value)},
           {"by", by},
           {"target", target.number},
           {"reason", refusal.message()}});
      report(call.connected, refusal);
      return;
    }
    log(SipLogLevel::kInfo, "sip.transfer",
        {{"call", std::to_string(id.value)},
         {"kind", "external"},
         {"by", by},
         {"target", target.number}});
    call.caller_id = trunk->caller_id;
    call.external = true;  // the CallFinished that follows leaves the legs up
    submit([this, id, uri, number = target.number, cause, report](core::RoutingCore& core) {
      const core::Status status = core.transfer_external(id, cause);
      post([this, id, uri, number, status, report] {
        Call* c = find_call(id);
        if (c == nullptr) {
          report(nullptr, status);
          return;
        }
        if (!status) c->external = false;
        finish_blind_transfer(*c, status, report);
        if (!status) return;
        c->finished = true;
        c->connected = nullptr;
        c->kind = core::CallKind::kOutbound;  // the trunk's caller id on the new leg
        if (std::string why = place_leg(*c, uri, core::AgentId{}, number); !why.empty()) {
          end_call(*c, "SIP;cause=480;text=\"transfer target unavailable\"");
          destroy_call(id);
        }
      });
    });
    return;
  }
  const core::QueueId queue = target.queue.valid() ? target.queue : call.queue;
  const core::AgentId preferred = target.agent != nullptr ? target.agent->id : core::AgentId{};
  std::string shown;
  if (target.agent != nullptr) {
    shown = target.agent->name;
  } else {
    for (const auto& q : tenant.queues)
      if (q.id == queue) shown = q.name;
  }
  log(SipLogLevel::kInfo, "sip.transfer",
      {{"call", std::to_string(id.value)},
       {"kind", target.agent != nullptr ? "agent" : "queue"},
       {"by", by},
       {"target", shown}});
  submit([this, id, queue, preferred, cause, report](core::RoutingCore& core) {
    const core::Status status = core.transfer_to_queue(id, queue, preferred, cause);
    post([this, id, status, report] {
      if (Call* c = find_call(id)) {
        finish_blind_transfer(*c, status, report);
      } else {
        report(nullptr, status);
      }
    });
  });
}

// After the core's verdict on a blind transfer: tell whoever asked and hang up the
// transferring agent's leg (and any supervisor listening in); the caller stays, waiting
// for the next agent.
void SofiaSipService::finish_blind_transfer(Call& call, const core::Status& status,
                                            const TransferReport& report) {
  AgentLeg* from = call.connected;
  if (!status) {
    log(SipLogLevel::kWarn, "sip.transfer_refused",
        {{"call", std::to_string(call.id.value)}, {"reason", status.message()}});
    report(from, status);
    return;
  }
  report(from, status);
  drop_listeners(call, "SIP;cause=200;text=\"transferred\"");
  call.desk_hold = false;
  if (from == nullptr) return;
  from->state = AgentLeg::State::kFailed;
  send_bye(*from, "SIP;cause=200;text=\"transferred\"");
  call.connected = nullptr;
  apply_media(call);
}

// After the core joined the caller to the consultation call's far end: that leg moves
// into the caller's call; the transferring agent's leg (and, for a consultation the phone
// placed, the phone's consultation dialog) is hung up. `report` hears the verdict once.
void SofiaSipService::finish_attended_transfer(core::CallId id, core::CallId consult_id,
                                               const core::Status& status,
                                               const TransferReport& report) {
  Call* call = find_call(id);
  Call* consult = find_call(consult_id);
  if (consult != nullptr) consult->merging = false;
  const bool joined = status && call != nullptr && call->connected != nullptr &&
                      consult != nullptr && consult->connected != nullptr;
  if (!joined) {
    if (call != nullptr) call->external = false;
    if (consult != nullptr && consult->finished) {
      end_call(*consult, "SIP;cause=200;text=\"call completed\"");
      destroy_call(consult_id);
    }
    const core::Status refusal =
        status ? core::Status(core::ErrorCode::kInvalidState,
                              call == nullptr || call->connected == nullptr
                                  ? "the call ended during the transfer"
                                  : "the consultation call ended during the transfer")
               : status;
    log(SipLogLevel::kWarn, "sip.transfer_refused",
        {{"call", std::to_string(id.value)}, {"reason", refusal.message()}});
    report(call != nullptr ? call->connected : nullptr, refusal);
    return;
  }
  AgentLeg* from = call->connected;
  report(from, status);
  from->state = AgentLeg::State::kFailed;
  send_bye(*from, "SIP;cause=200;text=\"transferred\"");
  // Move the consultation's far leg (the new agent's phone, or an outside party).
  AgentLeg* far = consult->connected;
  for (auto it = consult->agents.begin(); it != consult->agents.end(); ++it) {
    if (it->get() != far) continue;
    std::unique_ptr<AgentLeg> moved = std::move(*it);
    consult->agents.erase(it);
    moved->call = call;
    call->connected = moved.get();
    call->agents.push_back(std::move(moved));
    break;
  }
  consult->connected = nullptr;
  consult->consult_for = core::CallId{};
  send_bye(consult->caller, "SIP;cause=200;text=\"transferred\"");
  call->desk_consult = core::CallId{};
  call->conference = false;
  call->desk_hold = false;
  drop_listeners(*call, "SIP;cause=200;text=\"transferred\"");
  log(SipLogLevel::kInfo, "sip.transferred",
      {{"call", std::to_string(id.value)}, {"to", call->connected->agent_name}});
  apply_media(*call);
  if (consult->finished) destroy_call(consult_id);
}

SofiaSipService::TransferReport SofiaSipService::refer_report() {
  return [this](Leg* from, const core::Status& status) {
    if (from != nullptr) notify_refer(*from, status ? 200 : 403, status ? "OK" : "Forbidden");
  };
}

void SofiaSipService::notify_refer(Leg& leg, int status, const char* phrase) {
  if (leg.leg == nullptr || leg.gone) return;
  const std::string fragment = "SIP/2.0 " + std::to_string(status) + " " + phrase + "\r\n";
  nta_outgoing_t* notify =
      nta_outgoing_tcreate(leg.leg, &SofiaSipService::on_final_response_destroy, nullptr, nullptr,
                           SIP_METHOD_NOTIFY, nullptr, SIPTAG_EVENT_STR("refer"),
                           SIPTAG_SUBSCRIPTION_STATE_STR("terminated;reason=noresource"),
                           SIPTAG_CONTACT_STR(leg.local_contact.c_str()),
                           SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"),
                           SIPTAG_PAYLOAD_STR(fragment.c_str()), TAG_END());
  (void)notify;
}

// ---------------------------------------------------------------------------------------
// Call control from the API: an agent's desktop or a supervisor's console asks for what
// the agent's phone could ask (hold, transfer, hang up), or rings a supervisor's phone
// into the call.

void SofiaSipService::control_call(core::CallControl request,
                                   std::function<void(core::Status)> done) {
  if (!running_.load(std::memory_order_acquire)) {
    done(core::Status(core::ErrorCode::kInvalidState, "the SIP service is not running"));
    return;
  }
  post([this, request = std::move(request), done = std::move(done)] {
    run_call_control(request, done);
  });
}

// The call `agent` talks on: one answered from a queue (inbound, still the core's), else
// one the agent placed whose far end answered (or that the desktop placed, still ringing).
SofiaSipService::Call* SofiaSipService::find_agent_call(core::TenantId tenant,
                                                        core::AgentId agent) {
  Call* placed = nullptr;
  for (auto& [id, owned] : calls_) {
    Call& call = *owned;
    if (call.tenant != tenant || call.finished || call.external || call.hangup_submitted) continue;
    const bool talking =
        call.connected != nullptr && call.connected->state == AgentLeg::State::kAnswered;
    if (call.kind == core::CallKind::kInbound) {
      if (talking && call.connected->agent == agent) return &call;
    } else if (call.originator == agent && (talking || call.desk_dial)) {
      placed = &call;  // a desktop's call counts while it rings too (it can be hung up)
    }
  }
  return placed;
}

std::variant<SofiaSipService::TransferTarget, core::Status> SofiaSipService::transfer_target_of(
    const SipTenant& tenant, const core::CallControl& request) {
  TransferTarget target;
  switch (request.transfer_to) {
    case core::TransferTo::kAgent:
      for (const auto& a : tenant.agents)
        if (a.name == request.target || a.extension == request.target) target.agent = &a;
      if (target.agent == nullptr)
        return core::Status(core::ErrorCode::kNotFound,
                            "no agent \"" + request.target + "\" in tenant " + tenant.name);
      break;
    case core::TransferTo::kQueue:
      for (const auto& q : tenant.queues)
        if (q.name == request.target) target.queue = q.id;
      if (!target.queue.valid())
        return core::Status(core::ErrorCode::kNotFound,
                            "no queue \"" + request.target + "\" in tenant " + tenant.name);
      break;
    case core::TransferTo::kNumber: target.number = request.target; break;
  }
  return target;
}

void SofiaSipService::run_call_control(const core::CallControl& request,
                                       const std::function<void(core::Status)>& done) {
  using core::CallAction;
  using core::ErrorCode;
  using core::Status;
  const SipTenant* tenant = tenant_by_id(request.tenant);
  const SipAgent* agent = tenant == nullptr ? nullptr : agent_by_id(*tenant, request.agent);
  const std::string agent_name =
      agent != nullptr ? agent->name : std::to_string(request.agent.value);
  if (request.action == CallAction::kDial) {
    if (tenant == nullptr) {
      done(Status(ErrorCode::kInvalidState, "the agent's tenant has no SIP configuration"));
      return;
    }
    start_dial(*tenant, request, done);
    return;
  }
  Call* found = tenant == nullptr ? nullptr : find_agent_call(request.tenant, request.agent);
  if (found == nullptr) {
    done(Status(ErrorCode::kInvalidState, "agent " + agent_name + " is on no connected call"));
    return;
  }
  Call& call = *found;
  const core::CallId id = call.id;
  const bool inbound = call.kind == core::CallKind::kInbound;
  log(SipLogLevel::kInfo, "sip.call_control",
      {{"call", std::to_string(id.value)},
       {"action", core::to_string(request.action)},
       {"agent", agent_name},
       {"by", request.requested_by},
       {"target", request.target}});
  switch (request.action) {
    case CallAction::kHold:
    case CallAction::kRetrieve: {
      const bool hold = request.action == CallAction::kHold;
      if (!inbound) {
        done(Status(ErrorCode::kInvalidState,
                    "call " + std::to_string(id.value) +
                        " was placed by the agent: hold and retrieve it on the phone"));
        return;
      }
      if (call.desk_consult.valid()) {
        done(Status(ErrorCode::kInvalidState,
                    "a consultation is in progress: complete, conference or cancel it"));
        return;
      }
      if (!hold && call.connected->held) {
        done(Status(ErrorCode::kInvalidState,
                    "the phone holds call " + std::to_string(id.value) + ": resume it there"));
        return;
      }
      if (hold == (call.desk_hold || call.connected->held)) {
        done(Status(ErrorCode::kInvalidState,
                    "call " + std::to_string(id.value) +
                        (hold ? " is on hold already" : " is not on hold")));
        return;
      }
      submit([this, id, hold, done](core::RoutingCore& core) {
        const Status status = hold ? core.hold(id) : core.retrieve(id);
        post([this, id, hold, status, done] {
          if (Call* c = find_call(id); c != nullptr && status) {
            c->desk_hold = hold;
            apply_media(*c);
          }
          done(status);
        });
      });
      return;
    }
    case CallAction::kHangUp:
      hang_up_from_sip(call, request.by_supervisor ? core::HangupCause::kSupervisorRelease
                                                   : core::HangupCause::kAgentRelease);
      done(Status::ok());
      return;
    case CallAction::kPauseRecording:
    case CallAction::kResumeRecording: {
      const bool pause = request.action == CallAction::kPauseRecording;
      if (!call.recording || call.caller.stream == 0 || media_ == nullptr) {
        done(Status(ErrorCode::kInvalidState,
                    "call " + std::to_string(id.value) + " is not being recorded"));
        return;
      }
      if (call.recording_paused == pause) {
        done(Status(ErrorCode::kInvalidState,
                    std::string("the recording of call ") + std::to_string(id.value) +
                        (pause ? " is paused already" : " is not paused")));
        return;
      }
      call.recording_paused = pause;
      media_->pause_recording(call.caller.stream, pause);
      log(SipLogLevel::kInfo, pause ? "sip.recording_paused" : "sip.recording_resumed",
          {{"call", std::to_string(id.value)}, {"by", request.requested_by}});
      done(Status::ok());
      return;
    }
    case CallAction::kTransfer: {
      if (!inbound) {
        done(Status(ErrorCode::kInvalidState,
                    "call " + std::to_string(id.value) +
                        " was placed by the agent: only calls from a queue are transferred"));
        return;
      }
      auto target = transfer_target_of(*tenant, request);
      if (auto* refusal = std::get_if<Status>(&target)) {
        done(*refusal);
        return;
      }
      blind_transfer(call, *tenant, std::move(std::get<TransferTarget>(target)),
                     request.requested_by,
                     request.by_supervisor ? core::Cause::kSupervisor : core::Cause::kAgent,
                     [done](Leg*, const Status& status) { done(status); });
      return;
    }
    case CallAction::kMonitor:
    case CallAction::kWhisper:
    case CallAction::kBarge:
    case CallAction::kIntercept: ring_supervisor(call, *tenant, request, done); return;
    case CallAction::kConsult: start_consult(call, *tenant, request, done); return;
    case CallAction::kCompleteTransfer:
    case CallAction::kConference:
    case CallAction::kCancelConsult: consult_action(call, *tenant, request, done); return;
    case CallAction::kDial: break;  // handled above
  }
  done(Status(ErrorCode::kInvalidArgument, "unknown call action"));
}

namespace {

media::ListenMode listen_mode_of(core::CallAction action) {
  switch (action) {
    case core::CallAction::kWhisper: return media::ListenMode::kWhisper;
    case core::CallAction::kBarge: return media::ListenMode::kBarge;
    default: return media::ListenMode::kMonitor;
  }
}

}  // namespace

// Monitor, whisper, barge, intercept: the supervisor's phone (an agent's extension of the
// tenant, registered) is rung as another leg of the call and joins the call's audio when
// it answers. Asked again while it listens, the mode changes.
void SofiaSipService::ring_supervisor(Call& call, const SipTenant& tenant,
                                      const core::CallControl& request,
                                      const std::function<void(core::Status)>& done) {
  using core::ErrorCode;
  using core::Status;
  if (media_ == nullptr) {
    done(Status(ErrorCode::kInvalidState, "the engine relays no media: nobody can listen in"));
    return;
  }
  if (request.action == core::CallAction::kIntercept && call.kind != core::CallKind::kInbound) {
    done(Status(ErrorCode::kInvalidState, "only a call answered from a queue can be intercepted"));
    return;
  }
  const SipAgent* phone = nullptr;
  for (const auto& a : tenant.agents)
    if (a.extension == request.target || a.name == request.target) phone = &a;
  if (phone == nullptr) {
    done(Status(ErrorCode::kNotFound, "no phone \"" + request.target + "\" in tenant " +
                                          tenant.name +
                                          ": expected the extension or name of an agent"));
    return;
  }
  if (phone->id == request.agent ||
      (call.kind != core::CallKind::kInbound && phone->id == call.originator)) {
    done(Status(ErrorCode::kInvalidArgument, "the agent's own phone cannot listen in"));
    return;
  }
  for (auto& leg : call.agents) {
    if (!leg->listen || leg->agent_name != phone->name ||
        leg->state == AgentLeg::State::kCancelled || leg->state == AgentLeg::State::kFailed)
      continue;
    if (*leg->listen == core::CallAction::kIntercept) {
      done(Status(ErrorCode::kInvalidState, "phone " + phone->name + " is taking the call over"));
      return;
    }
    leg->listen = request.action;
    leg->requested_by = request.requested_by;
    log(SipLogLevel::kInfo, "sip.listen_mode",
        {{"call", std::to_string(call.id.value)},
         {"phone", phone->name},
         {"mode", core::to_string(request.action)},
         {"by", request.requested_by}});
    if (leg->state == AgentLeg::State::kAnswered) {
      if (request.action == core::CallAction::kIntercept) {
        intercept(call);
      } else {
        start_listening(call, *leg);
      }
    }
    done(Status::ok());
    return;
  }
  auto contact = agent_target(tenant, *phone);
  if (!contact) {
    done(Status(ErrorCode::kInvalidState, "phone " + phone->name + " is not registered"));
    return;
  }
  if (std::string why = place_leg(call, *contact, core::AgentId{}, phone->name, true);
      !why.empty()) {
    done(Status(ErrorCode::kLimitReached, why));
    return;
  }
  AgentLeg& leg = *call.agents.back();
  leg.listen = request.action;
  leg.requested_by = request.requested_by;
  done(Status::ok());
}

// A listening supervisor's phone joins the audio of the caller and the agent (for a call
// the agent placed: its far end and the agent's phone). Held or not yet bridged, it hears
// silence until the two are bridged again (apply_media calls this again then).
void SofiaSipService::start_listening(Call& call, AgentLeg& listener) {
  if (media_ == nullptr || listener.stream == 0 || !listener.listen ||
      *listener.listen == core::CallAction::kIntercept)
    return;
  const bool inbound = call.kind == core::CallKind::kInbound;
  Leg* agent_side = inbound ? static_cast<Leg*>(call.connected) : &call.caller;
  Leg* caller_side = inbound ? &call.caller : static_cast<Leg*>(call.connected);
  const bool bridged = agent_side != nullptr && caller_side != nullptr && agent_side->stream != 0 &&
                       caller_side->stream != 0 && !call.desk_hold &&
                       (call.connected == nullptr || !call.connected->held);
  if (!bridged) {
    hear(listener, "silence");
    return;
  }
  const media::ListenMode mode = listen_mode_of(*listener.listen);
  listener.hearing = std::string("listen:") + media::to_string(mode);
  media_->listen_in(listener.stream, caller_side->stream, agent_side->stream, mode);
}

// The intercepting supervisor's phone answered: the core lets the call go (as a transfer
// by a supervisor: the agent is released into wrap-up) and the caller is bridged to the
// supervisor from now on, here, until either hangs up.
void SofiaSipService::intercept(Call& call) {
  const core::CallId id = call.id;
  call.external = true;  // the CallFinished that follows leaves the legs up
  submit([this, id](core::RoutingCore& core) {
    const core::Status status = core.transfer_external(id, core::Cause::kSupervisor);
    post([this, id, status] {
      Call* c = find_call(id);
      if (c == nullptr) return;
      AgentLeg* supervisor = nullptr;
      for (auto& leg : c->agents)
        if (leg->listen == core::CallAction::kIntercept &&
            leg->state == AgentLeg::State::kAnswered && !leg->gone)
          supervisor = leg.get();
      if (!status) {
        c->external = false;
        log(SipLogLevel::kWarn, "sip.intercept_refused",
            {{"call", std::to_string(id.value)}, {"reason", status.message()}});
        if (supervisor != nullptr) {
          supervisor->state = AgentLeg::State::kFailed;
          send_bye(*supervisor, "SIP;cause=480;text=\"intercept refused\"");
        }
        return;
      }
      c->finished = true;
      if (AgentLeg* agent = c->connected; agent != nullptr) {
        agent->state = AgentLeg::State::kFailed;
        send_bye(*agent, "SIP;cause=200;text=\"intercepted\"");
      }
      c->connected = nullptr;
      drop_listeners(*c, "SIP;cause=200;text=\"intercepted\"", supervisor);
      if (supervisor == nullptr) {  // the supervisor hung up meanwhile: nobody takes it
        end_call(*c, "SIP;cause=480;text=\"intercept abandoned\"");
        destroy_call(id);
        return;
      }
      supervisor->listen.reset();
      c->connected = supervisor;
      c->desk_hold = false;
      log(SipLogLevel::kInfo, "sip.intercepted",
          {{"call", std::to_string(id.value)},
           {"phone", supervisor->agent_name},
           {"by", supervisor->requested_by}});
      apply_media(*c);
    });
  });
}

// Hangs up (or cancels) the supervisors' phones listening in, but `keep`.
void SofiaSipService::drop_listeners(Call& call, const char* reason, const AgentLeg* keep) {
  for (auto& leg : call.agents)
    if (leg->listen && leg.get() != keep) end_leg(*leg, reason);
}

// ---------------------------------------------------------------------------------------
// Consultations placed from the agent's desktop. The caller is held (music) and the
// engine rings the consulted party as the far leg of a new call the core links to the
// caller's (start_outbound while on a call); that call has no dialog of its own with the
// agent's phone: the phone, still in the caller's call, is bridged to the consulted party
// in the media plane. Then: complete the transfer (the caller goes to the consulted
// party), confer (all three mixed), or cancel (the consulted party is hung up); when the
// consultation ends any other way the caller is taken off hold.

SofiaSipService::Call& SofiaSipService::new_desk_call(const SipTenant& tenant, core::CallKind kind,
                                                      core::AgentId originator) {
  auto call = std::make_unique<Call>();
  call->service = this;
  call->id = hooks_.next_call_id();
  call->kind = kind;
  call->tenant = tenant.id;
  call->tenant_name = tenant.name;
  call->source = "api";
  call->originator = originator;
  call->caller.service = this;
  call->caller.call = call.get();
  call->caller.is_caller = true;
  Call& c = *call;
  calls_.emplace(c.id.value, std::move(call));
  stats_.calls.store(calls_.size());
  return c;
}

void SofiaSipService::start_consult(Call& call, const SipTenant& tenant,
                                    const core::CallControl& request,
                                    const std::function<void(core::Status)>& done) {
  using core::ErrorCode;
  using core::Status;
  if (call.kind != core::CallKind::kInbound) {
    done(Status(ErrorCode::kInvalidState,
                "call " + std::to_string(call.id.value) +
                    " was placed by the agent: consult from a call answered from a queue"));
    return;
  }
  if (call.desk_consult.valid()) {
    done(Status(ErrorCode::kInvalidState, "a consultation is in progress already (call " +
                                              std::to_string(call.desk_consult.value) + ")"));
    return;
  }
  const SipAgent* agent = agent_by_id(tenant, request.agent);
  std::string caller_id;
  auto resolved = dial_target(tenant, request, &caller_id);
  if (auto* refusal = std::get_if<Status>(&resolved)) {
    done(*refusal);
    return;
  }
  const Call::DeskDial far = std::get<Call::DeskDial>(std::move(resolved));
  const core::CallKind kind =
      far.callee.valid() ? core::CallKind::kInternal : core::CallKind::kOutbound;
  Call& consult = new_desk_call(tenant, kind, request.agent);
  consult.caller_number = agent != nullptr ? agent->extension : std::string();
  if (kind == core::CallKind::kOutbound) consult.caller_number = caller_id;
  consult.caller_id = caller_id;
  consult.dialed = request.target;
  consult.consult_for = call.id;
  call.desk_consult = consult.id;
  const core::CallId id = call.id;
  const core::CallId consult_id = consult.id;
  const bool was_held = call.desk_hold || (call.connected != nullptr && call.connected->held);
  log(SipLogLevel::kInfo, "sip.consult",
      {{"call", std::to_string(id.value)},
       {"consult", std::to_string(consult_id.value)},
       {"agent", agent != nullptr ? agent->name : std::string()},
       {"target", far.shown}});
  const core::AgentId originator = request.agent;
  const core::AgentId callee_id = far.callee;
  submit([this, id, consult_id, was_held, originator, kind, callee_id, target = far.target,
          shown = far.shown, done](core::RoutingCore& core) {
    // The caller hears music while the agent consults (as a phone holds it first).
    core::Status status = was_held ? core::Status::ok() : core.hold(id);
    if (status) {
      status = core.start_outbound(originator, consult_id, kind, callee_id);
      if (!status && !was_held) (void)core.retrieve(id);
    }
    post([this, id, consult_id, was_held, callee_id, target, shown, status, done] {
      Call* c = find_call(id);
      if (!status) {
        if (c != nullptr) c->desk_consult = core::CallId{};
        if (Call* k = find_call(consult_id)) {
          k->consult_for = core::CallId{};
          destroy_call(consult_id);
        }
        done(status);
        return;
      }
      if (c != nullptr && !was_held) {
        c->desk_hold = true;
        apply_media(*c);
      }
      Call* k = find_call(consult_id);
      std::string why = k == nullptr ? std::string("the consultation call is gone")
                                     : place_leg(*k, target, callee_id, shown);
      if (!why.empty()) {
        log(SipLogLevel::kWarn, "sip.consult_failed",
            {{"call", std::to_string(id.value)}, {"reason", why}});
        submit([consult_id](core::RoutingCore& routing) {
          (void)routing.outbound_failed(consult_id);
        });
        done(core::Status(core::ErrorCode::kLimitReached, why));
        return;
      }
      done(core::Status::ok());
    });
  });
}

// The far end of a consultation or a desktop's call: another agent's registered phone
// (an internal call) or an outside number through the tenant's outbound trunk (whose
// caller id goes to `caller_id`).
std::variant<SofiaSipService::Call::DeskDial, core::Status> SofiaSipService::dial_target(
    const SipTenant& tenant, const core::CallControl& request, std::string* caller_id) {
  using core::ErrorCode;
  using core::Status;
  Call::DeskDial far;
  far.shown = request.target;
  if (request.transfer_to == core::TransferTo::kAgent) {
    const SipAgent* callee = nullptr;
    for (const auto& a : tenant.agents)
      if (a.name == request.target || a.extension == request.target) callee = &a;
    if (callee == nullptr)
      return Status(ErrorCode::kNotFound,
                    "no agent \"" + request.target + "\" in tenant " + tenant.name);
    if (callee->id == request.agent)
      return Status(ErrorCode::kInvalidArgument, "an agent cannot call themselves");
    auto contact = agent_target(tenant, *callee);
    if (!contact)
      return Status(ErrorCode::kInvalidState, "agent " + callee->name + " has no registered phone");
    far.target = *contact;
    far.callee = callee->id;
    far.shown = callee->name;
    return far;
  }
  const SipTrunk* trunk = outbound_trunk_of(tenant);
  if (trunk == nullptr)
    return Status(ErrorCode::kInvalidState, "tenant " + tenant.name + " has no outbound trunk");
  far.target = outbound_target(trunk->outbound_uri, request.target);
  if (far.target.empty())
    return Status(ErrorCode::kInvalidArgument,
                  "\"" + request.target + "\" is not a dialable number");
  *caller_id = trunk->caller_id;
  return far;
}

// Click-to-dial: the agent's own phone is rung first (asked to answer at once); when it
// answers, the far end is rung (own_phone_answered) and the two are bridged when it
// answers. The core sees an agent placing a call (start_outbound), as from the phone.
void SofiaSipService::start_dial(const SipTenant& tenant, const core::CallControl& request,
                                 const std::function<void(core::Status)>& done) {
  using core::ErrorCode;
  using core::Status;
  const SipAgent* agent = agent_by_id(tenant, request.agent);
  if (agent == nullptr) {
    done(Status(ErrorCode::kInvalidState, "the agent has no SIP configuration"));
    return;
  }
  if (find_agent_call(request.tenant, request.agent) != nullptr) {
    done(Status(ErrorCode::kInvalidState,
                "agent " + agent->name + " is on a call: consult from it instead"));
    return;
  }
  auto own_contact = agent_target(tenant, *agent);
  if (!own_contact) {
    done(Status(ErrorCode::kInvalidState, "agent " + agent->name + " has no registered phone"));
    return;
  }
  std::string caller_id;
  auto resolved = dial_target(tenant, request, &caller_id);
  if (auto* refusal = std::get_if<Status>(&resolved)) {
    done(*refusal);
    return;
  }
  Call::DeskDial far = std::get<Call::DeskDial>(std::move(resolved));
  const core::CallKind kind =
      far.callee.valid() ? core::CallKind::kInternal : core::CallKind::kOutbound;
  Call& call = new_desk_call(tenant, kind, request.agent);
  call.caller_number = kind == core::CallKind::kOutbound ? caller_id : agent->extension;
  call.caller_id = caller_id;
  call.dialed = request.target;
  call.desk_dial = far;
  const core::CallId id = call.id;
  log(SipLogLevel::kInfo, "sip.call_placed",
      {{"call", std::to_string(id.value)},
       {"tenant", tenant.name},
       {"agent", agent->name},
       {"kind", kind == core::CallKind::kInternal ? "internal" : "outbound"},
       {"dialled", request.target},
       {"target", far.target},
       {"from", "desktop"}});
  const core::AgentId originator = request.agent;
  submit([this, id, originator, kind, callee = far.callee, own = *own_contact, name = agent->name,
          done](core::RoutingCore& core) {
    const Status status = core.start_outbound(originator, id, kind, callee);
    post([this, id, originator, own, name, status, done] {
      Call* c = find_call(id);
      if (!status) {
        if (c != nullptr) destroy_call(id);
        done(status);
        return;
      }
      const std::string why = c == nullptr ? std::string("the call is gone")
                                           : place_leg(*c, own, originator, name, true);
      if (!why.empty()) {
        submit([id](core::RoutingCore& routing) { (void)routing.outbound_failed(id); });
        done(Status(ErrorCode::kLimitReached, why));
        return;
      }
      c->agents.back()->own_phone = true;
      done(Status::ok());
    });
  });
}

// The agent's own phone answered a desktop's call: now the far end is rung.
void SofiaSipService::own_phone_answered(Call& call) {
  if (!call.desk_dial) return;
  const Call::DeskDial far = *call.desk_dial;
  log(SipLogLevel::kInfo, "sip.own_phone_answered",
      {{"call", std::to_string(call.id.value)}, {"target", far.shown}});
  if (std::string why = place_leg(call, far.target, far.callee, far.shown); !why.empty()) {
    log(SipLogLevel::kWarn, "sip.call_failed",
        {{"call", std::to_string(call.id.value)}, {"reason", why}});
    const core::CallId id = call.id;
    submit([id](core::RoutingCore& core) { (void)core.outbound_failed(id); });
  }
}

void SofiaSipService::consult_action(Call& call, const SipTenant& tenant,
                                     const core::CallControl& request,
                                     const std::function<void(core::Status)>& done) {
  using core::ErrorCode;
  using core::Status;
  Call* consult = call.desk_consult.valid() ? find_call(call.desk_consult) : nullptr;
  if (consult == nullptr) {
    done(Status(ErrorCode::kInvalidState,
                "no consultation is in progress on call " + std::to_string(call.id.value)));
    return;
  }
  const core::CallId id = call.id;
  const core::CallId consult_id = consult->id;
  if (request.action == core::CallAction::kCancelConsult) {
    log(SipLogLevel::kInfo, "sip.consult_cancelled",
        {{"call", std::to_string(id.value)}, {"consult", std::to_string(consult_id.value)}});
    hang_up_from_sip(*consult, core::HangupCause::kAgentRelease);
    done(Status::ok());
    return;
  }
  AgentLeg* far = consult->connected;
  if (far == nullptr || far->state != AgentLeg::State::kAnswered || far->stream == 0 ||
      call.connected == nullptr || call.connected->stream == 0 || call.caller.stream == 0) {
    done(Status(ErrorCode::kInvalidState, "the consulted party has not answered yet"));
    return;
  }
  if (request.action == core::CallAction::kCompleteTransfer) {
    const bool outside = consult->kind == core::CallKind::kOutbound;
    if (outside && !tenant.allow_external_transfer) {
      done(Status(ErrorCode::kPermissionDenied,
                  "transfers to outside numbers are not allowed in tenant " + tenant.name));
      return;
    }
    consult->merging = true;
    if (outside) call.external = true;  // the core ends the caller's call: keep its legs
    log(SipLogLevel::kInfo, "sip.transfer",
        {{"call", std::to_string(id.value)},
         {"kind", "attended"},
         {"by", request.requested_by},
         {"consult", std::to_string(consult_id.value)}});
    submit([this, id, consult_id, done](core::RoutingCore& core) {
      const Status status = core.complete_attended_transfer(id, consult_id);
      post([this, id, consult_id, status, done] {
        finish_attended_transfer(id, consult_id, status,
                                 [done](Leg*, const Status& result) { done(result); });
      });
    });
    return;
  }
  // kConference.
  if (call.conference) {
    done(Status(ErrorCode::kInvalidState,
                "call " + std::to_string(id.value) + " is in conference already"));
    return;
  }
  const bool desk_held = call.desk_hold;
  submit([this, id, consult_id, desk_held, done](core::RoutingCore& core) {
    const Status status = desk_held ? core.retrieve(id) : Status::ok();
    post([this, id, consult_id, status, done] {
      Call* c = find_call(id);
      Call* k = find_call(consult_id);
      if (!status || c == nullptr || k == nullptr || k->connected == nullptr ||
          c->connected == nullptr) {
        done(status ? Status(ErrorCode::kInvalidState, "the consultation ended meanwhile")
                    : status);
        return;
      }
      c->desk_hold = false;
      c->conference = true;
      for (Leg* leg : {static_cast<Leg*>(&c->caller), static_cast<Leg*>(c->connected),
                       static_cast<Leg*>(k->connected)})
        leg->hearing = "conference";
      media_->conference({c->caller.stream, c->connected->stream, k->connected->stream});
      log(SipLogLevel::kInfo, "sip.conference",
          {{"call", std::to_string(id.value)},
           {"consult", std::to_string(consult_id.value)},
           {"with", k->connected->agent_name}});
      done(Status::ok());
    });
  });
}

// A desktop's consultation for call `id` ended (hung up, not answered, cancelled): the
// agent's phone has the caller back, off hold.
void SofiaSipService::consult_ended(core::CallId id) {
  if (!running_.load(std::memory_order_acquire)) return;
  Call* call = find_call(id);
  if (call == nullptr || !call->desk_consult.valid()) return;
  call->desk_consult = core::CallId{};
  call->conference = false;
  call->caller.hearing.clear();
  if (call->connected != nullptr) call->connected->hearing.clear();
  log(SipLogLevel::kInfo, "sip.consult_ended", {{"call", std::to_string(id.value)}});
  if (!call->desk_hold) {
    apply_media(*call);
    return;
  }
  submit([this, id](core::RoutingCore& core) {
    const core::Status status = core.retrieve(id);
    post([this, id, status] {
      Call* c = find_call(id);
      if (c == nullptr) return;
      if (status) c->desk_hold = false;
      apply_media(*c);
    });
  });
}

// The media of a consultation the desktop placed: the agent's phone (the caller's call's
// agent leg) and the consulted party hear each other, unless all three confer.
void SofiaSipService::apply_consult_media(Call& consult) {
  Call* call = find_call(consult.consult_for);
  AgentLeg* far = consult.connected;
  if (far == nullptr || far->stream == 0 || far->gone) return;
  AgentLeg* agent = call != nullptr ? call->connected : nullptr;
  if (agent == nullptr || agent->stream == 0 || agent->gone) {
    hear(*far, "silence");
    return;
  }
  if (call->conference) return;
  const std::string hears = "bridge:" + std::to_string(far->stream);
  if (agent->hearing == hears) return;
  agent->hearing = hears;
  far->hearing = "bridge:" + std::to_string(agent->stream);
  media_->bridge(agent->stream, far->stream);
}

// ---------------------------------------------------------------------------------------
// Agent legs

void SofiaSipService::on_offered(const core::CallOffered& offered) {
  Call* call = find_call(offered.call);
  if (call == nullptr) return;  // not a SIP call (demo traffic)
  const SipTenant* tenant = tenant_by_id(offered.tenant);
  const SipAgent* agent = tenant == nullptr ? nullptr : agent_by_id(*tenant, offered.agent);
  const std::string agent_name =
      agent == nullptr ? std::to_string(offered.agent.value) : agent->name;
  std::optional<std::string> target;
  std::string why;
  if (agent == nullptr) {
    why = "agent has no SIP configuration";
  } else if (target = agent_target(*tenant, *agent); !target) {
    why = "no registered phone";
  } else {
    why = place_leg(*call, *target, offered.agent, agent_name);
  }
  if (why.empty()) return;
  log(SipLogLevel::kWarn, "sip.offer_failed",
      {{"call", std::to_string(offered.call.value)}, {"agent", agent_name}, {"reason", why}});
  const core::CallId id = offered.call;
  const core::AgentId agent_id = offered.agent;
  submit([id, agent_id](core::RoutingCore& core) {
    (void)core.offer_failed(id, agent_id, core::OfferEndReason::kFailed);
  });
}

// INVITEs `target` (an agent's phone, or an outside number through a trunk) as a new leg
// of `call`; the error, or "" once the INVITE is on its way.
std::string SofiaSipService::place_leg(Call& call, const std::string& target, core::AgentId agent,
                                       const std::string& name, bool auto_answer) {
  auto rtp = media_ports_->allocate();
  if (!rtp) return "no RTP port free";
  auto leg = std::make_unique<AgentLeg>();
  leg->service = this;
  leg->call = &call;
  leg->agent = agent;
  leg->agent_name = name;
  leg->rtp = std::move(*rtp);
  std::string lower = target;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  const bool tcp = lower.find("transport=tcp") != std::string::npos;
  const bool tls = lower.rfind("sips:", 0) == 0 || lower.find("transport=tls") != std::string::npos;
  leg->local_contact = contact_for(tls ? Transport::kTls : tcp ? Transport::kTcp : Transport::kUdp);

  const std::string host = our_host();
  const std::string& shown = call.kind == core::CallKind::kOutbound && !call.caller_id.empty()
                                 ? call.caller_id
                                 : call.caller_number;
  const std::string from =
      (shown.empty() ? std::string("<sip:anonymous@") + host : "<sip:" + shown + "@" + host) + ">";
  const std::string to = "<" + target + ">";
  nta_leg_t* l =
      nta_leg_tcreate(agent_, &SofiaSipService::on_leg_request,
                      reinterpret_cast<nta_leg_magic_t*>(static_cast<Leg*>(leg.get())),
                      SIPTAG_FROM_STR(from.c_str()), SIPTAG_TO_STR(to.c_str()), TAG_END());
  if (l == nullptr) return "cannot create dialog";
  nta_leg_tag(l, nullptr);
  leg->leg = l;
  leg->sdp_session = sdp_session_ + call.id.value + call.agents.size() + 1;
  LocalMedia local{media_ports_->address(), leg->rtp.port(), leg->sdp_session, leg->sdp_version};
  const std::string sdp = write_offer(local, MediaDirection::kSendRecv);
  const std::string auto_answer_info = "<sip:" + host + ">;answer-after=0";
  leg->invite = nta_outgoing_tcreate(
      l, &SofiaSipService::on_agent_invite_response,
      reinterpret_cast<nta_outgoing_magic_t*>(leg.get()), nullptr, SIP_METHOD_INVITE,
      URL_STRING_MAKE(target.c_str()), SIPTAG_CONTACT_STR(leg->local_contact.c_str()),
      SIPTAG_ALLOW_STR(kAllow), SIPTAG_SUPPORTED_STR(kSupported),
      SIPTAG_USER_AGENT_STR(options_.user_agent.c_str()),
      TAG_IF(auto_answer, SIPTAG_CALL_INFO_STR(auto_answer_info.c_str())),
      SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
  if (leg->invite == nullptr) {
    nta_leg_destroy(l);
    leg->leg = nullptr;
    return "cannot send INVITE to " + target;
  }
  log(SipLogLevel::kInfo, "sip.agent_invite",
      {{"call", std::to_string(call.id.value)}, {"agent", name}, {"target", target}});
  call.agents.push_back(std::move(leg));
  return {};
}

int SofiaSipService::on_agent_invite_response(nta_outgoing_magic_t* magic, nta_outgoing_t* orq,
                                              const sip_t* sip) {
  auto* leg = reinterpret_cast<AgentLeg*>(magic);
  leg->service->handle_agent_response(*leg, orq, sip);
  return 0;
}

void SofiaSipService::handle_agent_response(AgentLeg& leg, nta_outgoing_t* orq, const sip_t* sip) {
  Call& call = *leg.call;
  const int status = response_status(orq, sip);
  const core::CallId id = call.id;
  const core::AgentId agent = leg.agent;
  if (status < 200) {
    if (status == 100 || sip == nullptr) return;
    if (sip->sip_to != nullptr && sip->sip_to->a_tag != nullptr &&
        nta_leg_get_rtag(leg.leg) == nullptr)
      nta_leg_rtag(leg.leg, sip->sip_to->a_tag);
    if (sip->sip_rseq != nullptr && has_feature(sip->sip_require, "100rel")) {
      nta_leg_client_reroute(leg.leg, sip->sip_record_route, sip->sip_contact, 1);
      // PRACK each new reliable response once (RFC 3262 7.2; nta_outgoing_prack refuses a
      // response nta has already counted, so the PRACK is built here on the early dialog).
      const std::uint32_t rseq = sip->sip_rseq->rs_response;
      if (rseq > leg.last_rseq && sip->sip_cseq != nullptr) {
        leg.last_rseq = rseq;
        const std::string rack =
            std::to_string(rseq) + " " + std::to_string(sip->sip_cseq->cs_seq) + " INVITE";
        nta_outgoing_t* prack =
            nta_outgoing_tcreate(leg.leg, &SofiaSipService::on_final_response_destroy, nullptr,
                                 nullptr, SIP_METHOD_PRACK, nullptr, SIPTAG_RACK_STR(rack.c_str()),
                                 SIPTAG_USER_AGENT_STR(options_.user_agent.c_str()), TAG_END());
        if (prack == nullptr)
          log(SipLogLevel::kWarn, "sip.prack_failed",
              {{"call", std::to_string(call.id.value)}, {"agent", leg.agent_name}});
      }
    }
    if (leg.listen || leg.own_phone) {  // a supervisor's or the dialling agent's phone
      if (leg.state == AgentLeg::State::kCalling) leg.state = AgentLeg::State::kRinging;
      return;
    }
    if (!leg.ringing_reported && leg.state == AgentLeg::State::kCalling) {
      leg.ringing_reported = true;
      leg.state = AgentLeg::State::kRinging;
      if (call.kind == core::CallKind::kInbound) {
        submit([id, agent](core::RoutingCore& core) { (void)core.offer_ringing(id, agent); });
      } else {
        ring_caller(call);  // the agent who dialled hears the far end ringing
      }
    }
    return;
  }
  if (status < 300) {
    // Answered (or a retransmitted 200: ACK it again).
    if (sip != nullptr && sip->sip_to != nullptr && sip->sip_to->a_tag != nullptr &&
        nta_leg_get_rtag(leg.leg) == nullptr)
      nta_leg_rtag(leg.leg, sip->sip_to->a_tag);
    if (sip != nullptr) nta_leg_client_reroute(leg.leg, sip->sip_record_route, sip->sip_contact, 1);
    send_ack(leg, leg.invite);
    if (leg.state == AgentLeg::State::kAnswered) return;
    // (A call transferred outside is finished for the core but its new leg is wanted.)
    if (leg.state == AgentLeg::State::kCancelled || leg.state == AgentLeg::State::kFailed ||
        (call.finished && !call.external) || call.caller.gone) {
      // Answered after we gave up on it: hang it up again.
      leg.state = AgentLeg::State::kFailed;
      send_bye(leg, "SIP;cause=487;text=\"offer withdrawn\"");
      return;
    }
    if (sip != nullptr && has_sdp(sip)) {
      std::string error;
      auto answer = parse_sdp(body_of(sip), &error);
      if (answer) leg.media = accept_answer(*answer);
    }
    if (!leg.media) {
      leg.state = AgentLeg::State::kFailed;
      send_bye(leg, "SIP;cause=488;text=\"no common codec\"");
      if (leg.listen) {
        log(SipLogLevel::kWarn, "sip.listen_failed",
            {{"call", std::to_string(id.value)}, {"phone", leg.agent_name}, {"status", "488"}});
      } else if (leg.own_phone) {
        submit([id](core::RoutingCore& core) { (void)core.outbound_failed(id); });
      } else if (call.kind == core::CallKind::kInbound) {
        submit([id, agent](core::RoutingCore& core) {
          (void)core.offer_failed(id, agent, core::OfferEndReason::kFailed);
        });
      } else {
        reject_caller(call, SIP_488_NOT_ACCEPTABLE);
        submit([id](core::RoutingCore& core) { (void)core.outbound_failed(id); });
      }
      return;
    }
    leg.state = AgentLeg::State::kAnswered;
    if (sip != nullptr) {
      leg.peer_allows_update = sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
      start_session(leg, session_timer_of_response(sip));
    }
    open_stream(leg);
    if (leg.own_phone) {  // the dialling agent picked up: now the far end
      own_phone_answered(call);
      return;
    }
    if (leg.listen) {  // a supervisor's phone: listens in, or takes the call over
      log(SipLogLevel::kInfo, "sip.listening",
          {{"call", std::to_string(id.value)},
           {"phone", leg.agent_name},
           {"mode", core::to_string(*leg.listen)},
           {"by", leg.requested_by}});
      if (*leg.listen == core::CallAction::kIntercept) {
        intercept(call);
      } else {
        start_listening(call, leg);
      }
      return;
    }
    if (call.external) {  // the outside party of a transfer answered: bridged
      call.connected = &leg;
      apply_media(call);
      log(SipLogLevel::kInfo, "sip.transfer_answered",
          {{"call", std::to_string(id.value)}, {"target", leg.agent_name}});
      return;
    }
    if (call.kind != core::CallKind::kInbound) {
      // An outbound or internal call: the far end answered; so does the dialling phone.
      call.connected = &leg;
      apply_media(call);
      log(SipLogLevel::kInfo, "sip.call_answered",
          {{"call", std::to_string(id.value)}, {"by", leg.agent_name}});
      submit([id](core::RoutingCore& core) { (void)core.outbound_answered(id); });
      answer_caller(call);
      return;
    }
    log(SipLogLevel::kInfo, "sip.agent_answered",
        {{"call", std::to_string(id.value)},
         {"agent", leg.agent_name},
         {"codec", leg.media->codec.name}});
    submit([this, id, agent](core::RoutingCore& core) {
      const core::Status s = core.offer_answered(id, agent);
      if (!s) {
        post([this, id, agent, message = s.message()] {
          Call* c = find_call(id);
          if (c == nullptr) return;
          for (auto& l : c->agents)
            if (l->agent == agent && l->state == AgentLeg::State::kAnswered) {
              log(SipLogLevel::kInfo, "sip.answer_refused",
                  {{"call", std::to_string(id.value)},
                   {"agent", l->agent_name},
                   {"error", message}});
              l->state = AgentLeg::State::kFailed;
              send_bye(*l, "SIP;cause=487;text=\"offer withdrawn\"");
            }
        });
      }
    });
    return;
  }
  // A failure: busy, declined, unreachable, or the 487 after our CANCEL.
  const bool was_live =
      leg.state == AgentLeg::State::kCalling || leg.state == AgentLeg::State::kRinging;
  leg.state = AgentLeg::State::kFailed;
  if (orq == leg.invite) {
    nta_outgoing_destroy(leg.invite);
    leg.invite = nullptr;
  }
  if (leg.leg != nullptr) {
    nta_leg_destroy(leg.leg);
    leg.leg = nullptr;
  }
  if (leg.own_phone) {  // the agent did not pick up: the desktop's call fails
    if (was_live) {
      log(SipLogLevel::kInfo, "sip.call_failed",
          {{"call", std::to_string(id.value)},
           {"reason", "the agent's own phone did not answer"},
           {"status", std::to_string(status)}});
      submit([id](core::RoutingCore& core) { (void)core.outbound_failed(id); });
    }
    return;
  }
  if (leg.listen) {  // a supervisor's phone did not answer: the call goes on without it
    if (was_live)
      log(SipLogLevel::kInfo, "sip.listen_failed",
          {{"call", std::to_string(id.value)},
           {"phone", leg.agent_name},
           {"status", std::to_string(status)}});
    return;
  }
  if (!was_live) return;
  if (call.external) {  // the outside party of a transfer did not answer: end the call
    log(SipLogLevel::kInfo, "sip.transfer_failed",
        {{"call", std::to_string(id.value)}, {"status", std::to_string(status)}});
    end_call(call, "SIP;cause=480;text=\"transfer target unavailable\"");
    destroy_call(id);
    return;
  }
  if (call.kind != core::CallKind::kInbound) {
    log(SipLogLevel::kInfo, "sip.call_failed",
        {{"call", std::to_string(id.value)}, {"status", std::to_string(status)}});
    reject_caller(
        call, status,
        sip != nullptr && sip->sip_status != nullptr ? sip->sip_status->st_phrase : nullptr);
    submit([id](core::RoutingCore& core) { (void)core.outbound_failed(id); });
    return;
  }
  core::OfferEndReason reason = core::OfferEndReason::kFailed;
  if (status == 486 || status == 600) reason = core::OfferEndReason::kBusy;
  if (status == 603) reason = core::OfferEndReason::kDeclined;
  log(SipLogLevel::kInfo, "sip.agent_rejected",
      {{"call", std::to_string(id.value)},
       {"agent", leg.agent_name},
       {"status", std::to_string(status)},
       {"reason", core::to_string(reason)}});
  submit(
      [id, agent, reason](core::RoutingCore& core) { (void)core.offer_failed(id, agent, reason); });
}

// A final failure to a caller not yet answered (its own INVITE transaction ends; the
// call's other legs end with the core's CallFinished).
void SofiaSipService::reject_caller(Call& call, int status, const char* phrase) {
  if (call.caller_invite == nullptr || call.caller_answered) return;
  if (status < 300 || status > 699) status = 480;
  nta_incoming_treply(call.caller_invite, status, phrase, TAG_END());
  nta_incoming_destroy(call.caller_invite);
  call.caller_invite = nullptr;
  call.caller.gone = true;
}

int SofiaSipService::on_final_response_destroy(nta_outgoing_magic_t*, nta_outgoing_t* orq,
                                               const sip_t* sip) {
  const int status = response_status(orq, sip);
  if (status >= 200) nta_outgoing_destroy(orq);
  return 0;
}

// The ACK of a 2xx to our INVITE or re-INVITE on the leg's dialog.
void SofiaSipService::send_ack(Leg& leg, nta_outgoing_t* invite) {
  if (leg.leg == nullptr || invite == nullptr) return;
  msg_t* msg = nta_msg_create(agent_, 0);
  if (msg == nullptr) return;
  sip_t* sip = sip_object(msg);
  sip_cseq_t* cseq = sip_cseq_create(msg_home(msg), nta_outgoing_cseq(invite), SIP_METHOD_ACK);
  if (cseq == nullptr || sip_header_insert(msg, sip, reinterpret_cast<sip_header_t*>(cseq)) < 0 ||
      nta_msg_request_complete(msg, leg.leg, SIP_METHOD_ACK, nullptr) < 0) {
    msg_destroy(msg);
    return;
  }
  nta_outgoing_t* ack = nta_outgoing_mcreate(agent_, nullptr, nullptr, nullptr, msg,
                                             NTATAG_ACK_BRANCH(nta_outgoing_branch(invite)),
                                             NTATAG_STATELESS(1), TAG_END());
  if (ack != nullptr) nta_outgoing_destroy(ack);
}

void SofiaSipService::send_bye(Leg& leg, const char* reason) {
  if (leg.leg == nullptr || leg.gone) return;
  if (leg.is_caller && leg.call != nullptr && leg.call->caller_invite != nullptr &&
      leg.call->caller_answered && !leg.call->caller_confirmed) {
    nta_incoming_t* invite = leg.call->caller_invite;
    leg.call->caller_invite = nullptr;
    bye_after_ack(leg, invite, reason);
    return;
  }
  leg.gone = true;
  close_stream(leg);
  send_bye_request(leg.leg, reason);
}

// The BYE itself, on `dialog`; nta frees the transaction when its final response comes.
void SofiaSipService::send_bye_request(nta_leg_t* dialog, const char* reason) {
  nta_outgoing_t* bye = nta_outgoing_tcreate(
      dialog, &SofiaSipService::on_final_response_destroy, nullptr, nullptr, SIP_METHOD_BYE,
      nullptr, TAG_IF(reason != nullptr, SIPTAG_REASON_STR(reason)),
      SIPTAG_USER_AGENT_STR(options_.user_agent.c_str()), TAG_END());
  (void)bye;
}

void SofiaSipService::bye_after_ack(Leg& caller, nta_incoming_t* invite, const char* reason) {
  auto pending = std::make_unique<ByeAfterAck>();
  pending->service = this;
  pending->call = caller.call->id.value;
  pending->leg = caller.leg;
  pending->invite = invite;
  if (reason != nullptr) pending->reason = reason;
  auto* magic = pending.get();
  nta_incoming_bind(invite, &SofiaSipService::on_bye_after_ack_event,
                    reinterpret_cast<nta_incoming_magic_t*>(magic));
  nta_leg_bind(caller.leg, &SofiaSipService::on_bye_after_ack_request,
               reinterpret_cast<nta_leg_magic_t*>(magic));
  caller.leg = nullptr;  // the call no longer owns the dialog
  caller.gone = true;
  close_stream(caller);
  byes_after_ack_.emplace(magic, std::move(pending));
  log(SipLogLevel::kInfo, "sip.bye_awaits_ack", {{"call", std::to_string(magic->call)}});
}

// The ACK (or the INVITE transaction's end without one): the deferred BYE goes now.
int SofiaSipService::on_bye_after_ack_event(nta_incoming_magic_t* magic, nta_incoming_t*,
                                            const sip_t* sip) {
  auto* pending = reinterpret_cast<ByeAfterAck*>(magic);
  const bool acked = sip != nullptr && sip->sip_request != nullptr &&
                     sip->sip_request->rq_method == sip_method_ack;
  pending->service->finish_bye_after_ack(*pending, true, acked ? "ack" : "no-ack");
  return 0;
}

// A request on the dialog meanwhile: the caller's own BYE ends it (no BYE of ours is due);
// anything else is refused, the call being over.
int SofiaSipService::on_bye_after_ack_request(nta_leg_magic_t* magic, nta_leg_t*,
                                              nta_incoming_t* irq, const sip_t* sip) {
  auto* pending = reinterpret_cast<ByeAfterAck*>(magic);
  ++pending->service->stats_.requests;
  switch (sip->sip_request->rq_method) {
    case sip_method_ack: return 200;
    case sip_method_bye:
      nta_incoming_treply(irq, SIP_200_OK, TAG_END());
      pending->service->finish_bye_after_ack(*pending, false, "caller-bye");
      return 200;
    default: return 481;
  }
}

void SofiaSipService::finish_bye_after_ack(ByeAfterAck& pending, bool send, const char* why) {
  if (send)
    send_bye_request(pending.leg, pending.reason.empty() ? nullptr : pending.reason.c_str());
  log(SipLogLevel::kInfo, "sip.bye_after_ack",
      {{"call", std::to_string(pending.call)}, {"after", why}, {"sent", send ? "true" : "false"}});
  nta_incoming_bind(pending.invite, nullptr, nullptr);
  nta_incoming_destroy(pending.invite);
  nta_leg_destroy(pending.leg);
  byes_after_ack_.erase(&pending);  // frees `pending`
}

void SofiaSipService::on_offer_ended(const core::OfferEnded& ended) {
  Call* call = find_call(ended.call);
  if (call == nullptr) return;
  for (auto& leg : call->agents) {
    if (leg->agent != ended.agent) continue;
    switch (leg->state) {
      case AgentLeg::State::kCalling:
      case AgentLeg::State::kRinging:
        leg->state = AgentLeg::State::kCancelled;
        if (leg->invite != nullptr) nta_outgoing_cancel(leg->invite);
        log(SipLogLevel::kInfo, "sip.agent_cancelled",
            {{"call", std::to_string(call->id.value)},
             {"agent", leg->agent_name},
             {"reason", core::to_string(ended.reason)}});
        break;
      case AgentLeg::State::kAnswered:
        // The core took the offer back after the phone answered (a race): hang up.
        leg->state = AgentLeg::State::kFailed;
        send_bye(*leg, "SIP;cause=487;text=\"offer withdrawn\"");
        break;
      default: break;
    }
  }
}

void SofiaSipService::on_connected(const core::CallConnected& connected) {
  Call* call = find_call(connected.call);
  if (call == nullptr) return;
  call->queue = connected.queue;
  call->desk_hold = false;
  for (auto& leg : call->agents)
    if (leg->agent == connected.agent && leg->state == AgentLeg::State::kAnswered)
      call->connected = leg.get();
  answer_caller(*call);
  apply_media(*call);
  log(SipLogLevel::kInfo, "sip.bridged",
      {{"call", std::to_string(call->id.value)},
       {"agent", call->connected != nullptr ? call->connected->agent_name : std::string()},
       {"caller_port", std::to_string(call->caller.rtp.port())},
       {"agent_port",
        call->connected != nullptr ? std::to_string(call->connected->rtp.port()) : std::string()}});
}

void SofiaSipService::on_queued(const core::CallQueued& queued) {
  Call* call = find_call(queued.call);
  if (call == nullptr) return;
  call->queue = queued.queue;
  apply_media(*call);
}

// ---------------------------------------------------------------------------------------
// Media: each leg's negotiated stream goes to the media plane with its sockets.

namespace {

// Today's date in UTC, "YYYY-MM-DD" (recordings are filed by day).
std::string utc_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
  return text;
}

media::StreamMedia stream_media_of(const Negotiated& n) {
  media::StreamMedia m;
  m.remote_address = n.remote_address;
  m.remote_port = n.remote_port;
  m.codec = n.codec.name == "PCMA" ? media::Codec::kPcma : media::Codec::kPcmu;
  m.payload_type = static_cast<std::uint8_t>(n.codec.payload_type);
  m.telephone_event_payload_type = n.telephone_event ? n.telephone_event->payload_type : -1;
  m.send = n.remote_port != 0 && (n.local_direction == MediaDirection::kSendRecv ||
                                  n.local_direction == MediaDirection::kSendOnly);
  m.receive = n.local_direction == MediaDirection::kSendRecv ||
              n.local_direction == MediaDirection::kRecvOnly;
  return m;
}

}  // namespace

void SofiaSipService::open_stream(Leg& leg) {
  if (media_ == nullptr || leg.stream != 0 || !leg.media || leg.gone || !leg.rtp.valid()) return;
  const auto [rtp_fd, rtcp_fd] = leg.rtp.release_sockets();
  leg.stream = next_stream_++;
  stream_legs_[leg.stream] = &leg;
  media_->open_stream(leg.stream, media::StreamSockets{rtp_fd, rtcp_fd},
                      stream_media_of(*leg.media));
}

void SofiaSipService::update_stream(Leg& leg) {
  if (media_ == nullptr || leg.stream == 0 || !leg.media) return;
  media_->update_stream(leg.stream, stream_media_of(*leg.media));
}

void SofiaSipService::close_stream(Leg& leg) {
  if (media_ == nullptr || leg.stream == 0) return;
  media_->close_stream(leg.stream);
  stream_legs_.erase(leg.stream);
  leg.stream = 0;
  leg.hearing.clear();
}

const SipQueue* SofiaSipService::queue_of(const Call& call) const {
  if (const SipTenant* tenant = tenant_by_id(call.tenant)) {
    for (const auto& q : tenant->queues)
      if (q.id == call.queue) return &q;
  }
  return nullptr;
}

std::string SofiaSipService::moh_class_of(const Call& call) const {
  const SipQueue* queue = queue_of(call);
  return queue != nullptr ? queue->music_on_hold : std::string();
}

void SofiaSipService::hear(Leg& leg, const std::string& what) {
  if (leg.stream == 0 || leg.hearing == what) return;
  leg.hearing = what;
  if (what == "silence") {
    media_->silence(leg.stream);
  } else if (what.rfind("moh:", 0) == 0) {
    media_->play_moh(leg.stream, what.substr(4));
  }
}

void SofiaSipService::apply_media(Call& call) {
  // A menu or a call-flow script speaks for itself (a re-INVITE must not start the music).
  if (media_ == nullptr || call.menu != nullptr || call.flow != nullptr) return;
  if (call.consult_for.valid()) {
    apply_consult_media(call);
    return;
  }
  if (call.desk_dial) {  // a desktop's call: the agent's own phone and the far end
    AgentLeg* own = nullptr;
    for (auto& leg : call.agents)
      if (leg->own_phone && leg->state == AgentLeg::State::kAnswered && !leg->gone) own = leg.get();
    AgentLeg* far = call.connected;
    if (own == nullptr || own->stream == 0) return;
    if (far == nullptr || far->stream == 0 || far->gone) {
      hear(*own, "silence");
      return;
    }
    const std::string hears = "bridge:" + std::to_string(far->stream);
    if (own->hearing == hears) return;
    own->hearing = hears;
    far->hearing = "bridge:" + std::to_string(own->stream);
    media_->bridge(own->stream, far->stream);
    return;
  }
  if (call.desk_consult.valid()) {  // the agent's phone talks to the consulted party
    if (!call.conference && call.caller.stream != 0 && !call.caller.gone)
      hear(call.caller, "moh:" + moh_class_of(call));
    return;
  }
  Leg& caller = call.caller;
  AgentLeg* far = call.connected;
  if (far != nullptr && (far->stream == 0 || far->gone)) far = nullptr;
  const bool caller_up = caller.stream != 0 && !caller.gone;
  if (far != nullptr && caller_up && !far->held && !call.desk_hold) {
    const std::string caller_hears = "bridge:" + std::to_string(far->stream);
    if (caller.hearing != caller_hears) {
      caller.hearing = caller_hears;
      far->hearing = "bridge:" + std::to_string(caller.stream);
      media_->bridge(caller.stream, far->stream);
      // Supervisors listening in rejoin (the bridge took the two out of their mix).
      for (auto& leg : call.agents)
        if (leg->listen && leg->state == AgentLeg::State::kAnswered) start_listening(call, *leg);
    }
    if (!call.recording && call.kind == core::CallKind::kInbound &&
        !options_.recording_directory.empty()) {
      call.recording = true;
      const std::string path = options_.recording_directory + "/" + call.tenant_name + "/" +
                               utc_date() + "/" + std::to_string(call.id.value) + ".wav";
      log(SipLogLevel::kInfo, "sip.recording",
          {{"call", std::to_string(call.id.value)}, {"path", path}});
      media_->start_recording(caller.stream, path, options_.recording_mode, call.id.value);
    }
    return;
  }
  if (far != nullptr) hear(*far, "silence");  // on hold, or its caller is gone
  for (auto& leg : call.agents)
    if (leg->listen && leg->state == AgentLeg::State::kAnswered) hear(*leg, "silence");
  if (!caller_up) return;
  // Waiting for an agent (inbound calls, a transfer to an outside number being set up)
  // or held: music. A call the agent placed hears the far end's ringing from its phone.
  const bool waits = call.kind == core::CallKind::kInbound || call.external;
  hear(caller, waits || far != nullptr ? "moh:" + moh_class_of(call) : "silence");
}

void SofiaSipService::on_dtmf(media::StreamId stream, char key) {
  post([this, stream, key] {
    auto it = stream_legs_.find(stream);
    if (it == stream_legs_.end()) return;
    Leg& leg = *it->second;
    log(SipLogLevel::kInfo, "sip.dtmf",
        {{"call", std::to_string(leg.call->id.value)},
         {"leg", leg.is_caller ? "caller" : "agent"},
         {"key", std::string(1, key)}});
    if (!leg.is_caller) return;
    if (leg.call->flow != nullptr) {
      on_flow_key(*leg.call, key);
    } else if (leg.call->menu != nullptr) {
      on_menu_key(*leg.call, key);
    } else if (leg.call->voicemail_recording) {
      if (key == '#') end_voicemail(*leg.call, "caller pressed #");
    } else {
      try_breakout(*leg.call, key);
    }
  });
}

void SofiaSipService::on_prompts_done(media::StreamId stream, std::uint64_t token, bool completed) {
  post([this, stream, token, completed] {
    auto it = stream_legs_.find(stream);
    if (it == stream_legs_.end()) return;
    Call& call = *it->second->call;
    // A flow's prompt has ended: a play step is answered; a collect step's timeout starts.
    if (call.flow != nullptr && call.flow_prompt != 0 && token == call.flow_prompt) {
      call.flow_prompt = 0;
      if (call.flow_wait == Call::FlowWait::kPlay) {
        call.flow_wait = Call::FlowWait::kNothing;
        run_flow(call, call.flow->resume(SipFlowPlayed{completed}));
      } else if (call.flow_wait == Call::FlowWait::kCollect) {
        set_menu_due(call, Clock::now() + call.flow_collect.timeout);
      }
      return;
    }
    // The menu's prompt has been said: the caller has its timeout to press a key.
    if (completed && call.menu != nullptr && token == call.menu_prompt)
      set_menu_due(call, Clock::now() + call.menu->timeout);
    // A queue exit's closing words have been said: goodbye.
    if (token == call.closing_prompt && call.closing_prompt != 0) {
      send_bye(call.caller, call.closing_reason);
      destroy_call(call.id);
      return;
    }
    // After an announcement: the music again.
    if (token == call.announcement && call.announcement != 0) {
      call.announcement = 0;
      if (call.caller.hearing == "announcement") {
        call.caller.hearing.clear();
        apply_media(call);
      }
    }
    // After the beep: the message.
    if (completed && !call.mailbox.empty() && token == call.voicemail_prompt &&
        !call.voicemail_recording && call.caller.stream != 0) {
      call.voicemail_recording = true;
      const std::string path = options_.voicemail_directory + "/" + call.tenant_name + "/" +
                               call.mailbox + "/" + std::to_string(call.id.value) + ".wav";
      media_->start_recording(call.caller.stream, path, media::RecordingMode::kMixed,
                              call.id.value | kVoicemailToken);
      set_menu_due(call, Clock::now() + options_.voicemail_max_length);
    }
  });
}

void SofiaSipService::on_finished(const core::CallFinished& finished) {
  Call* call = find_call(finished.call);
  if (call == nullptr) return;
  call->finished = true;
  if (call->external) return;  // the caller and the outside party stay bridged here
  if (call->after_queue) {     // voicemail or closing words: the media side ends the call
    log(SipLogLevel::kInfo, "sip.call_ended",
        {{"call", std::to_string(call->id.value)},
         {"state", core::to_string(finished.state)},
         {"then", call->mailbox.empty() ? "closing prompt" : "voicemail"}});
    return;
  }
  if (call->merging) return;  // finish_attended_transfer moves its far leg
  const char* reason = nullptr;
  switch (finished.state) {
    case core::FinalState::kCompleted: reason = "SIP;cause=200;text=\"call completed\""; break;
    case core::FinalState::kAbandoned: reason = "SIP;cause=487;text=\"caller abandoned\""; break;
    case core::FinalState::kVoicemail: reason = "SIP;cause=480;text=\"voicemail\""; break;
    case core::FinalState::kCallback: reason = "SIP;cause=480;text=\"callback requested\""; break;
    case core::FinalState::kHungUp: reason = "SIP;cause=480;text=\"queue exit\""; break;
    default: reason = "SIP;cause=503;text=\"ended by the system\""; break;
  }
  log(SipLogLevel::kInfo, "sip.call_ended",
      {{"call", std::to_string(call->id.value)}, {"state", core::to_string(finished.state)}});
  end_call(*call, reason);
  destroy_call(finished.call);
}

// Ends every leg still up: BYE to answered dialogs, CANCEL to ringing phones, a final
// response to a caller not yet answered.
void SofiaSipService::end_call(Call& call, const char* reason) {
  if (call.caller_invite != nullptr) {
    if (!call.caller_answered) {
      nta_incoming_treply(call.caller_invite, SIP_480_TEMPORARILY_UNAVAILABLE,
                          TAG_IF(reason != nullptr, SIPTAG_REASON_STR(reason)), TAG_END());
      call.caller.gone = true;
    }
  }
  if (call.caller_answered) send_bye(call.caller, reason);
  for (auto& leg : call.agents) end_leg(*leg, reason);
}

// CANCELs a leg still ringing, BYEs an answered one.
void SofiaSipService::end_leg(AgentLeg& leg, const char* reason) {
  switch (leg.state) {
    case AgentLeg::State::kCalling:
    case AgentLeg::State::kRinging:
      leg.state = AgentLeg::State::kCancelled;
      if (leg.invite != nullptr) nta_outgoing_cancel(leg.invite);
      break;
    case AgentLeg::State::kAnswered:
      send_bye(leg, reason);
      leg.state = AgentLeg::State::kFailed;
      break;
    default: break;
  }
}

void SofiaSipService::destroy_call(core::CallId id) {
  auto it = calls_.find(id.value);
  if (it == calls_.end()) return;
  Call& call = *it->second;
  // A menu's or flow's call ended otherwise (shutdown, a failure): the engine ended it.
  if (call.caller_answered)
    tell_ended_before_queue(call, core::FinalState::kCancelled, core::HangupCause::kSystem);
  if (call.caller_invite != nullptr) {
    nta_incoming_bind(call.caller_invite, nullptr, nullptr);
    nta_incoming_destroy(call.caller_invite);
    call.caller_invite = nullptr;
  }
  // Pending refreshes must not call back into the freed legs.
  auto forget_session = [this](Leg& leg) {
    stop_session(leg);
    if (leg.refresh != nullptr) {
      nta_outgoing_bind(leg.refresh, nullptr, nullptr);
      nta_outgoing_destroy(leg.refresh);
      leg.refresh = nullptr;
    }
  };
  forget_session(call.caller);
  if (call.menu_due != Clock::time_point::max()) ivr_due_.erase({call.menu_due, call.id.value});
  close_stream(call.caller);
  if (call.caller.leg != nullptr) nta_leg_destroy(call.caller.leg);
  for (auto& leg : call.agents) {
    forget_session(*leg);
    close_stream(*leg);
    // A cancelled INVITE may still get its 487 or a late 200: sofia must not call back
    // into the freed leg; the CANCEL itself is already on its way.
    if (leg->invite != nullptr) {
      nta_outgoing_bind(leg->invite, nullptr, nullptr);
      nta_outgoing_destroy(leg->invite);
    }
    if (leg->leg != nullptr) nta_leg_destroy(leg->leg);
  }
  const core::CallId consult_for = call.consult_for;
  calls_.erase(it);
  stats_.calls.store(calls_.size());
  if (consult_for.valid()) consult_ended(consult_for);
}

// ---------------------------------------------------------------------------------------
// Registration

void SofiaSipService::handle_register(nta_incoming_t* irq, const sip_t* sip, const Source& source) {
  auto reply = [&](int status, const char* phrase) {
    nta_incoming_treply(irq, status, phrase, SIPTAG_SERVER_STR(options_.user_agent.c_str()),
                        TAG_END());
    nta_incoming_destroy(irq);
  };
  const url_t* aor = sip->sip_to->a_url;
  const std::string user = str(aor->url_user);
  const std::string host = str(aor->url_host);
  // The tenant: the one whose realm is the AOR's host; else the only one with the user.
  const SipTenant* tenant = nullptr;
  const SipAgent* agent = nullptr;
  int matches = 0;
  for (const auto& t : directory_->tenants) {
    for (const auto& a : t.agents) {
      if (!a.credentials || a.credentials->username != user) continue;
      if (t.realm == host) {
        tenant = &t;
        agent = &a;
        matches = 1;
        break;
      }
      tenant = &t;
      agent = &a;
      ++matches;
    }
    if (matches == 1 && tenant != nullptr && tenant->realm == host) break;
  }
  if (agent == nullptr || matches != 1) {
    log(SipLogLevel::kInfo, "sip.register_refused",
        {{"user", user},
         {"domain", host},
         {"source", source.text},
         {"reason",
          matches > 1 ? "ambiguous user; register with the tenant's realm" : "unknown user"}});
    reply(SIP_404_NOT_FOUND);
    return;
  }
  if (!check_digest(irq, sip, tenant->realm, *agent->credentials, /*proxy=*/false)) {
    nta_incoming_destroy(irq);
    return;
  }
  const std::string key = tenant->name + "/" + agent->name;
  const auto clamp = [&](long long seconds) {
    return std::min<core::Duration>(std::chrono::seconds(seconds), options_.max_register_expires);
  };
  core::Duration header_expires = options_.default_register_expires;
  if (sip->sip_expires != nullptr) header_expires = clamp(sip->sip_expires->ex_delta);
  // Expiry checks first (423 leaves every binding as it was).
  for (const sip_contact_t* m = sip->sip_contact; m != nullptr; m = m->m_next) {
    if (m->m_url->url_type == url_any) continue;
    core::Duration e =
        m->m_expires != nullptr ? clamp(std::strtoll(m->m_expires, nullptr, 10)) : header_expires;
    if (e.count() > 0 && e < options_.min_register_expires) {
      const std::string min = std::to_string(seconds_of(options_.min_register_expires));
      nta_incoming_treply(irq, SIP_423_INTERVAL_TOO_BRIEF, SIPTAG_MIN_EXPIRES_STR(min.c_str()),
                          TAG_END());
      nta_incoming_destroy(irq);
      return;
    }
  }
  const std::string call_id = str(sip->sip_call_id->i_id);
  const std::uint32_t cseq = sip->sip_cseq->cs_seq;
  const std::string user_agent =
      sip->sip_user_agent != nullptr ? str(sip->sip_user_agent->g_string) : std::string();
  for (const sip_contact_t* m = sip->sip_contact; m != nullptr; m = m->m_next) {
    if (m->m_url->url_type == url_any) {  // "Contact: *" with Expires: 0
      if (sip->sip_expires == nullptr || sip->sip_expires->ex_delta != 0) {
        reply(400, "Wildcard Contact Needs Expires 0");
        return;
      }
      location_.remove_all(key);
      continue;
    }
    core::Duration e =
        m->m_expires != nullptr ? clamp(std::strtoll(m->m_expires, nullptr, 10)) : header_expires;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const std::string contact = str(url_as_string(home, m->m_url));
    su_home_deinit(home);
    Binding binding;
    binding.contact = contact;
    binding.received = source.text;
    binding.call_id = call_id;
    binding.cseq = cseq;
    binding.user_agent = user_agent;
    if (location_.update(key, binding, e, now()) == LocationService::Update::kStaleCseq) {
      reply(SIP_500_INTERNAL_SERVER_ERROR);
      return;
    }
  }
  ++stats_.registrations;
  const auto bindings = location_.lookup(key, now());
  std::string contacts;
  for (const auto& b : bindings) {
    if (!contacts.empty()) contacts += ", ";
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(b.expires - now()).count();
    contacts += "<" + b.contact + ">;expires=" + std::to_string(std::max<long long>(left, 0));
  }
  nta_incoming_treply(irq, SIP_200_OK,
                      TAG_IF(!contacts.empty(), SIPTAG_CONTACT_STR(contacts.c_str())),
                      SIPTAG_SERVER_STR(options_.user_agent.c_str()), TAG_END());
  nta_incoming_destroy(irq);
  log(SipLogLevel::kInfo, "sip.registered",
      {{"tenant", tenant->name},
       {"agent", agent->name},
       {"bindings", std::to_string(bindings.size())},
       {"source", source.text}});
  set_agent_registered(*tenant, *agent, !bindings.empty());
  arm_housekeeping();
}

// Phone registration drives the agent's login when the configuration says so.
void SofiaSipService::set_agent_registered(const SipTenant& tenant, const SipAgent& agent,
                                           bool registered) {
  const std::string key = tenant.name + "/" + agent.name;
  bool& was = registered_[key];
  if (was == registered) return;
  was = registered;
  if (options_.login_on_register == LoginOnRegister::kNone) return;
  const core::AgentId id = agent.id;
  if (registered) {
    const bool ready = options_.login_on_register == LoginOnRegister::kReady;
    submit(
        [id, ready](core::RoutingCore& core) { (void)core.login(id, ready, core::Cause::kAgent); });
  } else {
    submit([id](core::RoutingCore& core) { (void)core.logout(id, core::Cause::kSystem); });
  }
}

// ---------------------------------------------------------------------------------------
// Timers: registration expiry and session timers, on one sofia timer at the next deadline.

void SofiaSipService::on_housekeeping(su_root_magic_t* magic, su_timer_t*, su_timer_arg_t*) {
  reinterpret_cast<SofiaSipService*>(magic)->housekeeping();
}

void SofiaSipService::arm_housekeeping() {
  if (housekeeping_timer_ == nullptr) return;
  auto next = Clock::time_point::max();
  const core::TimePoint expiry = location_.next_expiry();
  if (expiry != core::kNever) next = Clock::now() + (expiry - now());
  if (!session_due_.empty()) next = std::min(next, session_due_.begin()->first);
  if (!ivr_due_.empty()) next = std::min(next, ivr_due_.begin()->first);
  su_timer_reset(housekeeping_timer_);
  if (next == Clock::time_point::max()) return;
  const auto ms = std::max<long long>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count() + 1);
  su_timer_set_interval(housekeeping_timer_, &SofiaSipService::on_housekeeping, nullptr,
                        static_cast<su_duration_t>(std::min<long long>(ms, 3600000)));
}

void SofiaSipService::housekeeping() {
  for (const std::string& key : location_.expire(now())) {
    const auto slash = key.find('/');
    const std::string tenant_name = key.substr(0, slash);
    const std::string agent_name = key.substr(slash + 1);
    for (const auto& t : directory_->tenants) {
      if (t.name != tenant_name) continue;
      for (const auto& a : t.agents)
        if (a.name == agent_name) {
          log(SipLogLevel::kInfo, "sip.registration_expired",
              {{"tenant", t.name}, {"agent", a.name}});
          set_agent_registered(t, a, false);
        }
    }
  }
  // Session timers due: refresh, or give the session up. Each step may end calls (and
  // take their entries out), so the soonest entry is looked up again every time.
  const auto now_steady = Clock::now();
  while (!session_due_.empty() && session_due_.begin()->first <= now_steady) {
    Leg& leg = *session_due_.begin()->second;
    stop_session(leg);
    if (leg.gone || leg.leg == nullptr) continue;
    if (leg.session.engine_refreshes && now_steady < leg.session_expiry) {
      send_refresh(leg);
    } else {
      session_expired(leg, "session timer expired");
    }
  }
  // Menus whose callers pressed nothing in time.
  while (!ivr_due_.empty() && ivr_due_.begin()->first <= now_steady) {
    const std::uint64_t id = ivr_due_.begin()->second;
    ivr_due_.erase(ivr_due_.begin());
    Call* call = find_call(core::CallId(id));
    if (call == nullptr) continue;
    call->menu_due = Clock::time_point::max();
    if (call->flow != nullptr) {
      if (call->flow_wait == Call::FlowWait::kCollect) {
        end_flow_collect(*call, "timeout");
      } else if (call->flow_wait == Call::FlowWait::kLookup) {
        end_flow_lookup(*call);
      }
    } else if (call->menu != nullptr) {
      menu_retry(*call, "timeout");
    } else if (call->voicemail_recording) {
      end_voicemail(*call, "maximum length");
    } else if (call->enqueued && call->connected == nullptr && !call->finished) {
      announce_position(*call);
    }
  }
  arm_housekeeping();
}

// ---------------------------------------------------------------------------------------
// Session timers (RFC 4028)

SessionTimerLimits SofiaSipService::session_limits() const {
  SessionTimerLimits limits;
  limits.max_interval = std::chrono::duration_cast<std::chrono::seconds>(options_.session_expires);
  limits.min_interval =
      std::chrono::duration_cast<std::chrono::seconds>(options_.min_session_expires);
  return limits;
}

// A (re)negotiated timer starts counting now.
void SofiaSipService::start_session(Leg& leg, const SessionTimer& timer) {
  leg.session = timer;
  if (!timer.active()) {
    stop_session(leg);
    return;
  }
  const auto now_steady = Clock::now();
  leg.session_expiry = now_steady + timer.interval;
  schedule_session(leg, now_steady + timer.next_action());
}

void SofiaSipService::schedule_session(Leg& leg, Clock::time_point due) {
  if (leg.session_due != Clock::time_point::max()) session_due_.erase({leg.session_due, &leg});
  leg.session_due = due;
  if (due == Clock::time_point::max()) return;
  session_due_.insert({due, &leg});
  if (session_due_.begin()->first == due) arm_housekeeping();
}

// Our refresh: UPDATE without a body when the peer allows it, else a re-INVITE offering
// the session as it is (same SDP version). We stay the refresher (refresher=uac).
void SofiaSipService::send_refresh(Leg& leg) {
  if (leg.refresh != nullptr || leg.leg == nullptr || leg.gone) return;
  const std::string session_expires =
      std::to_string(leg.session.interval.count()) + ";refresher=uac";
  const std::string min_se = std::to_string(seconds_of(options_.min_session_expires));
  leg.refresh_is_invite = !leg.peer_allows_update;
  std::string sdp;
  if (leg.refresh_is_invite) {
    LocalMedia local{media_ports_->address(), leg.rtp.port(), leg.sdp_session, leg.sdp_version};
    sdp =
        leg.media ? write_answer(*leg.media, local) : write_offer(local, MediaDirection::kSendRecv);
  }
  leg.refresh = nta_outgoing_tcreate(
      leg.leg, &SofiaSipService::on_refresh_response, reinterpret_cast<nta_outgoing_magic_t*>(&leg),
      nullptr, leg.refresh_is_invite ? sip_method_invite : sip_method_update,
      leg.refresh_is_invite ? "INVITE" : "UPDATE", nullptr,
      SIPTAG_CONTACT_STR(leg.local_contact.c_str()), SIPTAG_ALLOW_STR(kAllow),
      SIPTAG_SUPPORTED_STR(kSupported), SIPTAG_SESSION_EXPIRES_STR(session_expires.c_str()),
      SIPTAG_MIN_SE_STR(min_se.c_str()), SIPTAG_USER_AGENT_STR(options_.user_agent.c_str()),
      TAG_IF(leg.refresh_is_invite, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
      TAG_IF(leg.refresh_is_invite, SIPTAG_PAYLOAD_STR(sdp.c_str())), TAG_END());
  // Whatever becomes of it, the session ends at its expiry unless a refresh succeeds.
  schedule_session(leg, leg.session_expiry);
  if (leg.refresh == nullptr) {
    log(SipLogLevel::kWarn, "sip.refresh_failed",
        {{"call", std::to_string(leg.call->id.value)}, {"error", "cannot send the request"}});
    return;
  }
  log(SipLogLevel::kDebug, "sip.session_refresh",
      {{"call", std::to_string(leg.call->id.value)},
       {"method", leg.refresh_is_invite ? "INVITE" : "UPDATE"}});
}

int SofiaSipService::on_refresh_response(nta_outgoing_magic_t* magic, nta_outgoing_t* orq,
                                         const sip_t* sip) {
  auto* leg = reinterpret_cast<Leg*>(magic);
  leg->service->handle_refresh_response(*leg, orq, sip);
  return 0;
}

void SofiaSipService::handle_refresh_response(Leg& leg, nta_outgoing_t* orq, const sip_t* sip) {
  const int status = response_status(orq, sip);
  if (status < 200) return;
  const bool was_invite = leg.refresh_is_invite;
  if (status < 300 && was_invite) send_ack(leg, orq);
  nta_outgoing_destroy(orq);
  if (orq != leg.refresh) return;  // not ours any more
  leg.refresh = nullptr;
  if (leg.gone) return;
  const std::string call_id = std::to_string(leg.call->id.value);
  if (status < 300) {
    leg.glare_retries = 0;
    if (was_invite && sip != nullptr && has_sdp(sip)) {
      std::string error;
      if (auto answer = parse_sdp(body_of(sip), &error))
        if (auto accepted = accept_answer(*answer)) leg.media = accepted;
    }
    const SessionTimer timer = sip != nullptr ? session_timer_of_response(sip) : SessionTimer{};
    start_session(leg, timer);
    log(SipLogLevel::kDebug, "sip.session_refreshed",
        {{"call", call_id}, {"interval_s", std::to_string(timer.interval.count())}});
    return;
  }
  constexpr int kMaxGlareRetries = 5;
  switch (status) {
    case 491:
      // Both sides sent a request at once: try again after a random pause.
      if (++leg.glare_retries <= kMaxGlareRetries) {
        const double r = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
        const core::Duration delay = glare_retry_delay(!leg.is_caller, r);
        log(SipLogLevel::kInfo, "sip.glare",
            {{"call", call_id},
             {"got", "491"},
             {"retry_ms",
              std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay).count())}});
        schedule_session(leg, std::min(Clock::now() + delay, leg.session_expiry));
        return;
      }
      break;
    case 422:
      // The peer wants a longer interval: ask again with its Min-SE.
      if (sip != nullptr && sip->sip_min_se != nullptr &&
          std::chrono::seconds(sip->sip_min_se->min_delta) > leg.session.interval &&
          sip->sip_min_se->min_delta <= 86400) {
        leg.session.interval = std::chrono::seconds(sip->sip_min_se->min_delta);
        send_refresh(leg);
        return;
      }
      break;
    case 405:
    case 501:
      if (!was_invite) {  // UPDATE not supported after all: re-INVITE
        leg.peer_allows_update = false;
        send_refresh(leg);
        return;
      }
      break;
    case 408:
    case 481:
      // No answer, or the peer has no such dialog: the session is gone (RFC 4028 10).
      session_expired(
          leg, status == 408 ? "session refresh timed out" : "session refresh: no such dialog");
      return;
    default: break;
  }
  // Anything else: the session lasts until it expires.
  log(SipLogLevel::kWarn, "sip.refresh_failed",
      {{"call", call_id}, {"status", std::to_string(status)}});
}

// The session of a leg is over (not refreshed in time, or its refresh failed): BYE, and
// the call ends as when that side hangs up.
void SofiaSipService::session_expired(Leg& leg, const char* why) {
  Call& call = *leg.call;
  const std::string reason = std::string("SIP;cause=408;text=\"") + why + "\"";
  log(SipLogLevel::kWarn, "sip.session_expired",
      {{"call", std::to_string(call.id.value)},
       {"leg", leg.is_caller ? std::string("caller") : static_cast<AgentLeg&>(leg).agent_name},
       {"why", why}});
  send_bye(leg, reason.c_str());
  if (call.external && call.finished) {
    end_call(call, reason.c_str());
    destroy_call(call.id);
    return;
  }
  if (leg.is_caller) {
    hang_up_from_sip(call, core::HangupCause::kSessionExpired);
  } else if (static_cast<AgentLeg&>(leg).state == AgentLeg::State::kAnswered) {
    hang_up_from_sip(call, core::HangupCause::kSessionExpired);
  }
}

}  // namespace acd::sip
