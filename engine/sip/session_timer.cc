#include "engine/sip/session_timer.h"

#include <algorithm>
#include <cmath>

namespace acd::sip {

core::Duration SessionTimer::next_action() const {
  const core::Duration whole = interval;
  if (engine_refreshes) return whole / 2;
  return whole - std::min<core::Duration>(std::chrono::seconds(32), whole / 3);
}

UasSessionDecision negotiate_as_uas(const SessionTimerRequest& request,
                                    const SessionTimerLimits& limits) {
  UasSessionDecision decision;
  if (!request.session_expires) {
    if (!request.supports_timer) return decision;  // kNoTimer
    decision.outcome = UasSessionDecision::Outcome::kUse;
    decision.timer.interval = std::max(limits.max_interval, limits.min_interval);
    if (request.min_se)
      decision.timer.interval = std::max(decision.timer.interval, *request.min_se);
    decision.timer.engine_refreshes = false;
    return decision;
  }
  if (*request.session_expires < limits.min_interval) {
    decision.outcome = UasSessionDecision::Outcome::kTooSmall;
    return decision;
  }
  std::chrono::seconds interval = std::min(*request.session_expires, limits.max_interval);
  interval = std::max(interval, limits.min_interval);
  if (request.min_se) interval = std::max(interval, *request.min_se);
  // Never longer than asked: the peer's Min-SE above its own Session-Expires is its
  // contradiction, and the interval it asked for is the safe reading.
  interval = std::min(interval, *request.session_expires);
  decision.outcome = UasSessionDecision::Outcome::kUse;
  decision.timer.interval = interval;
  if (request.refresher == "uac") {
    // A peer that names itself refresher but does not support timers cannot refresh.
    decision.timer.engine_refreshes = !request.supports_timer;
  } else if (request.refresher == "uas") {
    decision.timer.engine_refreshes = true;
  } else {
    decision.timer.engine_refreshes = !request.supports_timer;
  }
  return decision;
}

SessionTimer from_response(std::optional<std::chrono::seconds> session_expires,
                           std::string_view refresher) {
  SessionTimer timer;
  if (!session_expires || session_expires->count() <= 0) return timer;
  timer.interval = *session_expires;
  timer.engine_refreshes = refresher != "uas";
  return timer;
}

core::Duration glare_retry_delay(bool owns_call_id, double random) {
  random = std::clamp(random, 0.0, 0.999999);
  // 10 ms steps: owner 2100..3990 ms, other 0..1990 ms.
  const auto steps = static_cast<long long>(std::floor(random * (owns_call_id ? 190 : 200)));
  const auto ms = (owns_call_id ? 2100 : 0) + steps * 10;
  return std::chrono::milliseconds(ms);
}

}  // namespace acd::sip
