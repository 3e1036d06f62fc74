// SipService: the engine's SIP side, a back-to-back user agent on sofia-sip's transaction
// layer (nta). It terminates trunks (callers), registers and rings agents' phones, and
// turns SIP into the routing core's commands and the core's events into SIP:
//
//   trunk INVITE -> trunk/DID lookup, SDP answer, 200 OK -> core.enqueue()
//   CallOffered  -> INVITE to the agent's phone; 180 -> offer_ringing; 200 -> ACK,
//                   offer_answered; 486/603/failure -> offer_failed
//   OfferEnded   -> CANCEL (or BYE) the agent's INVITE
//   BYE on either leg -> core.hang_up(); CallFinished -> BYE the other leg
//   re-INVITE sendonly/inactive from the agent's phone -> core.hold(); sendrecv -> retrieve
//   REGISTER (digest) -> location binding; per config the agent logs in/out
//   control_call() from the API -> the same as the phone's hold, REFER, BYE; or a
//                   supervisor's phone rung and mixed in (monitor, whisper, barge), or
//                   taking the call over (intercept)
//
// Everything sofia-sip stays inside engine/sip (sofia_sip_service.cc): the service runs
// its own thread with sofia's event loop, owns every dialog and transaction, and talks
// to the rest of the daemon only in plain values: commands submitted to the core thread
// (SubmitToCore), core events handed in with on_core_event() from the core thread, log
// lines through the SipLogger. Thread-safety: every public member may be called from any
// thread; start() and stop() from one controlling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/call_control.h"
#include "engine/core/events.h"
#include "engine/core/status.h"
#include "engine/core/time.h"
#include "engine/media/media_engine.h"
#include "engine/sip/sip_directory.h"

namespace acd::core {
class RoutingCore;
}

namespace acd::sip {

enum class Transport : std::uint8_t { kUdp, kTcp, kTls };
const char* to_string(Transport transport);  // "udp", "tcp", "tls"

struct ListenAddress {
  Transport transport = Transport::kUdp;
  std::string address = "127.0.0.1";
  std::uint16_t port = 5060;  // 0: any free port
};

enum class LoginOnRegister : std::uint8_t { kNone, kNotReady, kReady };

// Where the SIP stack listens, how it guards itself, registration and session-timer
// limits (the daemon's file: the `sip:` section, config/acdd.yaml). Every address is a
// literal IP address in canonical form (IPv6 without brackets).
struct SipOptions {
  // At least one; TLS needs tls_certificate_dir.
  std::vector<ListenAddress> listen;
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
  // RFC 4028 session timers: the longest interval granted (a longer one asked for is cut
  // to it) and Min-SE (>= 90s); session_expires >= min_session_expires.
  core::Duration session_expires = std::chrono::minutes(30);
  core::Duration min_session_expires = std::chrono::seconds(90);
  // What registering a phone does to its agent; unregistering (or expiry) logs out.
  LoginOnRegister login_on_register = LoginOnRegister::kReady;
  // The Server and User-Agent header value.
  std::string user_agent = "acd";
  // Call recording: every inbound call is recorded from its first bridge to its end, to
  // <recording_directory>/<tenant>/<YYYY-MM-DD>/<call id>.wav (UTC date). Empty: none.
  std::string recording_directory;
  media::RecordingMode recording_mode = media::RecordingMode::kStereo;
  // Voicemail (an IVR menu's voicemail action): after the prompt set's "voicemail"
  // prompt and a beep the caller's message is recorded, until '#', hang-up or
  // voicemail_max_length, to <voicemail_directory>/<tenant>/<mailbox>/<call id>.wav.
  // Empty directory: no voicemail (the action hangs up, and says so in the log).
  std::string voicemail_directory;
  core::Duration voicemail_max_length = std::chrono::minutes(2);
  // Every this long a waiting caller hears its place in the queue and the estimated
  // wait (the tenant's prompt set: "position", the number, "estimated-wait", minutes,
  // "minutes"), then the music again. 0: no announcements.
  core::Duration announce_every{0};
  // How long a call flow's call.lookup may take: past it the script is answered "not
  // found" (nil) and goes on, and the log says so; a later answer is dropped. The lookup's
  // statement timeout bounds a slow query; this bounds everything else (a database that
  // does not answer a connection, a stopped server). > 0.
  core::Duration flow_lookup_timeout = std::chrono::seconds(3);
};

// The media plane's recording token of a voicemail message: its call id with this bit.
inline constexpr std::uint64_t kVoicemailToken = std::uint64_t{1} << 63;

enum class SipLogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };

struct SipLogField {
  std::string_view key;
  std::string value;
};

// Writes one structured log line; called on the SIP thread.
using SipLogger = std::function<void(SipLogLevel, std::string_view event,
                                     std::initializer_list<SipLogField> fields)>;

struct SipHooks {
  // Runs a command on the routing core's thread; false when the core no longer takes
  // commands (shutting down).
  std::function<bool(std::function<void(core::RoutingCore&)>)> submit;
  // A call id unique across runs (shared with every other source of calls).
  std::function<core::CallId()> next_call_id;
  SipLogger log;
  // call.lookup of call flows: the customer record of a number. Empty: every lookup
  // answers "not found".
  SipCustomerLookup lookup_customer;
};

struct BoundTransport {
  Transport transport;
  std::string address;
  std::uint16_t port = 0;
};

struct SipStats {
  std::uint64_t calls = 0;  // caller legs now
  std::uint64_t requests = 0;
  std::uint64_t rejected_overload = 0;
  std::uint64_t rejected_source = 0;
  std::uint64_t dropped_flood = 0;
  std::uint64_t bans = 0;
  std::uint64_t registrations = 0;
};

class SipService {
 public:
  // `media`: the media plane the calls' RTP sockets are handed to (it must outlive the
  // service); null: no media (the sockets are held, nothing is played or relayed).
  static std::unique_ptr<SipService> create(SipOptions options,
                                            std::shared_ptr<const SipDirectory> directory,
                                            SipHooks hooks, media::MediaEngine* media = nullptr);
  virtual ~SipService() = default;

  // Binds every listen address and starts the SIP thread; an error text on failure (a
  // port in use, a missing certificate), and then nothing runs.
  virtual std::optional<std::string> start() = 0;
  // Ends every call (CANCEL or BYE on each leg), refuses new ones and joins the thread.
  virtual void stop() = 0;
  // New INVITEs get 503 from now on; calls in progress go on.
  virtual void stop_accepting() = 0;

  virtual void set_directory(std::shared_ptr<const SipDirectory> directory) = 0;
  // Called on the core thread for every core event (cheap: copies and posts).
  virtual void on_core_event(const core::CoreEvent& event) = 0;
  // A request of an agent's desktop or a supervisor's console on the call that agent
  // `request.agent` is connected to (core/call_control.h), acted on as if the agent's
  // phone had asked. `done` is called exactly once, on the SIP thread: OK once the request
  // took effect (a transfer: the core took it; monitor, whisper, barge and intercept: the
  // supervisor's phone is being rung, or the mode of the listening phone changed), or the
  // reason it did not: kInvalidState (no such call, already held, not recorded, ...),
  // kNotFound (an unknown transfer target or phone), kPermissionDenied (the tenant allows
  // no transfers outside), kLimitReached (no RTP port free).
  virtual void control_call(core::CallControl request, std::function<void(core::Status)> done) = 0;
  // A DTMF key the media plane heard on a stream of this service (any thread).
  virtual void on_dtmf(media::StreamId stream, char key) = 0;
  // The media plane finished (completed) or abandoned the prompts it was given (any thread).
  virtual void on_prompts_done(media::StreamId stream, std::uint64_t token, bool completed) = 0;

  [[nodiscard]] virtual std::vector<BoundTransport> bound() const = 0;
  [[nodiscard]] virtual SipStats stats() const = 0;
};

}  // namespace acd::sip
