// RFC 4028 session timers, the decisions without the SIP stack: what interval and which
// refresher a dialog gets, and when the engine refreshes or gives the session up.
//
// Both kinds of dialog of a call use it: the caller's (the engine answered its INVITE:
// negotiate_as_uas) and an agent phone's or an outside party's (the engine sent the
// INVITE: from_response). A refresh (re-INVITE or UPDATE) the peer sends is negotiated
// like an initial request; one the engine sends offers itself as refresher and the
// answer decides again (from_response).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/time.h"

namespace acd::sip {

// What a request says about session timers.
struct SessionTimerRequest {
  std::optional<std::chrono::seconds> session_expires;  // Session-Expires delta
  std::string refresher;                                // "uac", "uas" or "" (absent)
  std::optional<std::chrono::seconds> min_se;           // Min-SE
  bool supports_timer = false;                          // "timer" in Supported or Require
};

// The engine's limits: the longest interval it grants and the shortest it accepts (its
// Min-SE, at least 90 s by RFC 4028).
struct SessionTimerLimits {
  std::chrono::seconds max_interval{1800};
  std::chrono::seconds min_interval{90};
};

// A dialog's session timer. interval zero: none.
struct SessionTimer {
  std::chrono::seconds interval{0};
  bool engine_refreshes = false;  // else the peer refreshes and the engine watches
  [[nodiscard]] bool active() const { return interval.count() > 0; }
  // When the engine acts, counted from the last refresh: the refresher refreshes at half
  // the interval; the watcher ends the session at interval - min(32 s, interval / 3)
  // (RFC 4028 section 10), before the peer's own deadline.
  [[nodiscard]] core::Duration next_action() const;
};

// The engine is the UAS of a request (an initial INVITE, a re-INVITE or an UPDATE).
struct UasSessionDecision {
  enum class Outcome : std::uint8_t {
    kNoTimer,   // answer without Session-Expires
    kTooSmall,  // answer 422 with Min-SE: limits.min_interval
    kUse,       // answer with Session-Expires: timer.interval;refresher=...
  };
  Outcome outcome = Outcome::kNoTimer;
  SessionTimer timer;
  // The refresher parameter of the answer ("uac": the peer refreshes) and whether the
  // answer must carry Require: timer (it must when the peer refreshes).
  [[nodiscard]] const char* refresher_param() const {
    return timer.engine_refreshes ? "uas" : "uac";
  }
  [[nodiscard]] bool require_timer() const { return !timer.engine_refreshes; }
};

// RFC 4028 section 9. A Session-Expires below the engine's minimum is refused (422). The
// interval granted is the one asked for, cut to limits.max_interval but never below the
// request's Min-SE or the engine's minimum. The refresher is the one the request names;
// with none named, the peer refreshes if it supports timers, else the engine does. A
// request without Session-Expires from a peer that supports timers gets the engine's
// maximum interval with the peer as refresher; from one that does not, no timer.
UasSessionDecision negotiate_as_uas(const SessionTimerRequest& request,
                                    const SessionTimerLimits& limits);

// The engine is the UAC: a 2xx to its INVITE, re-INVITE or UPDATE. No Session-Expires: no
// timer (RFC 4028 section 7.2). refresher=uas: the peer refreshes; "uac" or none: the
// engine does.
SessionTimer from_response(std::optional<std::chrono::seconds> session_expires,
                           std::string_view refresher);

// How long the engine waits before sending its refresh again after a 491 (request glare,
// RFC 3261 section 14.1): 2.1 to 4 s when it owns the dialog's Call-ID (it sent the
// INVITE that made the dialog), else 0 to 2 s, in 10 ms steps. `random` is a value in
// [0, 1), drawn by the caller (injected randomness).
core::Duration glare_retry_delay(bool owns_call_id, double random);

}  // namespace acd::sip
