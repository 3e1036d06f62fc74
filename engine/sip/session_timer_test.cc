#include "engine/sip/session_timer.h"

#include <catch2/catch.hpp>

namespace acd::sip {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Outcome = UasSessionDecision::Outcome;

const SessionTimerLimits kLimits{seconds(1800), seconds(90)};

SessionTimerRequest request(std::optional<seconds> se, std::string refresher, bool supports,
                            std::optional<seconds> min_se = std::nullopt) {
  SessionTimerRequest r;
  r.session_expires = se;
  r.refresher = std::move(refresher);
  r.supports_timer = supports;
  r.min_se = min_se;
  return r;
}

TEST_CASE("no Session-Expires: the peer refreshes if it supports timers, else no timer") {
  auto d = negotiate_as_uas(request(std::nullopt, "", true), kLimits);
  CHECK(d.outcome == Outcome::kUse);
  CHECK(d.timer.interval == seconds(1800));
  CHECK_FALSE(d.timer.engine_refreshes);
  CHECK(std::string(d.refresher_param()) == "uac");
  CHECK(d.require_timer());

  d = negotiate_as_uas(request(std::nullopt, "", false), kLimits);
  CHECK(d.outcome == Outcome::kNoTimer);
  CHECK_FALSE(d.timer.active());
}

TEST_CASE("a Session-Expires below the engine's minimum gets 422") {
  CHECK(negotiate_as_uas(request(seconds(89), "", true), kLimits).outcome == Outcome::kTooSmall);
  CHECK(negotiate_as_uas(request(seconds(90), "", true), kLimits).outcome == Outcome::kUse);
}

TEST_CASE("the interval is cut to the engine's maximum but not below the peer's Min-SE") {
  auto d = negotiate_as_uas(request(seconds(7200), "", true), kLimits);
  CHECK(d.timer.interval == seconds(1800));
  d = negotiate_as_uas(request(seconds(7200), "", true, seconds(3600)), kLimits);
  CHECK(d.timer.interval == seconds(3600));
  d = negotiate_as_uas(request(seconds(600), "", true), kLimits);
  CHECK(d.timer.interval == seconds(600));
}

TEST_CASE("the refresher the request names is kept") {
  auto d = negotiate_as_uas(request(seconds(600), "uas", true), kLimits);
  CHECK(d.timer.engine_refreshes);
  CHECK(std::string(d.refresher_param()) == "uas");
  CHECK_FALSE(d.require_timer());

  d = negotiate_as_uas(request(seconds(600), "uac", true), kLimits);
  CHECK_FALSE(d.timer.engine_refreshes);
  CHECK(d.require_timer());
}

TEST_CASE("a peer without timer support never becomes the refresher") {
  // A proxy on the way may insert Session-Expires for a phone that knows nothing of it.
  auto d = negotiate_as_uas(request(seconds(600), "", false), kLimits);
  CHECK(d.outcome == Outcome::kUse);
  CHECK(d.timer.engine_refreshes);
  CHECK_FALSE(d.require_timer());
  d = negotiate_as_uas(request(seconds(600), "uac", false), kLimits);
  CHECK(d.timer.engine_refreshes);
}

TEST_CASE("a 2xx decides the timer of a dialog the engine started") {
  CHECK_FALSE(from_response(std::nullopt, "").active());
  auto t = from_response(seconds(900), "uac");
  CHECK(t.interval == seconds(900));
  CHECK(t.engine_refreshes);
  CHECK(from_response(seconds(900), "").engine_refreshes);
  CHECK_FALSE(from_response(seconds(900), "uas").engine_refreshes);
}

TEST_CASE("the refresher acts at half the interval, the watcher before the peer's deadline") {
  SessionTimer refresher{seconds(1800), true};
  CHECK(refresher.next_action() == seconds(900));
  SessionTimer watcher{seconds(1800), false};
  CHECK(watcher.next_action() == seconds(1768));
  SessionTimer short_watcher{seconds(90), false};
  CHECK(short_watcher.next_action() == seconds(60));
}

TEST_CASE("491 retry delays follow RFC 3261 section 14.1") {
  CHECK(glare_retry_delay(true, 0.0) == milliseconds(2100));
  CHECK(glare_retry_delay(true, 0.99999) == milliseconds(3990));
  CHECK(glare_retry_delay(false, 0.0) == milliseconds(0));
  CHECK(glare_retry_delay(false, 0.99999) == milliseconds(1990));
  CHECK(glare_retry_delay(false, 0.5) == milliseconds(1000));
  CHECK(glare_retry_delay(true, 7.0) <= milliseconds(4000));  // out of range is clamped
}

}  // namespace
}  // namespace acd::sip
