// The daemon's side of the SIP service (engine/sip): its options and directory built from
// the configuration, its log lines written through the daemon's logger, and a
// CoreListener that hands the routing core's events to it. Thread-safety: the builders
// are pure functions; SipEventForwarder runs on the core thread.
#pragma once

#include <memory>

#include "engine/app/config.h"
#include "engine/app/core_listener.h"
#include "engine/sip/sip_service.h"

namespace acd::app {

sip::SipOptions make_sip_options(const SipConfig& config);
// What the SIP layer needs of the tenants: realms, agents' phones, trunks, queues.
std::shared_ptr<const sip::SipDirectory> make_sip_directory(const DaemonConfig& config);
// Writes the SIP service's log lines as the daemon's structured log events, each value cut
// to kMaxSipLogValue bytes (cap_log_value): much of it comes from the wire.
sip::SipLogger make_sip_logger();

inline constexpr std::size_t kMaxSipLogValue = 200;
// `value`, or its first kMaxSipLogValue bytes (not splitting a UTF-8 sequence) followed by
// "...(N bytes)".
std::string cap_log_value(std::string_view value);

class SipEventForwarder final : public CoreListener {
 public:
  explicit SipEventForwarder(sip::SipService& service) : service_(service) {}
  void on_core_event(const core::CoreEvent& event, const core::RoutingCore&) override {
    service_.on_core_event(event);
  }

 private:
  sip::SipService& service_;
};

}  // namespace acd::app
