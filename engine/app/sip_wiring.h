// The daemon's side of the SIP service (engine/sip): its options and directory built from
// the configuration, its log lines written through the daemon's logger, and a
// CoreListener that hands the routing core's events to it. Thread-safety: the builders
// are pure functions; SipEventForwarder runs on the core thread.
#pragma once

#include <memory>

#include "engine/app/config.h"
#include "engine/app/core_listener.h"
#include "engine/app/flow_wiring.h"
#include "engine/app/logging.h"
#include "engine/sip/sip_service.h"

namespace acd::app {

sip::SipOptions make_sip_options(const SipConfig& config);
// What the SIP layer needs of the tenants: realms, agents' phones, trunks, queues, call
// flows (whose scripts read queue figures through `flow_sources`).
std::shared_ptr<const sip::SipDirectory> make_sip_directory(
    const DaemonConfig& config, const FlowHostSources& flow_sources = {});
// Writes the SIP service's log lines as the daemon's structured log events, each value cut
// to kMaxSipLogValue bytes (cap_log_value): much of it comes from the wire.
sip::SipLogger make_sip_logger();

inline constexpr std::size_t kMaxSipLogValue = 200;
// `value`, or its first kMaxSipLogValue bytes (not splitting a UTF-8 sequence) followed by
// "...(N bytes)".
std::string cap_log_value(std::string_view value);

// Writes a layer's log line as a daemon event, every value cut by cap_log_value. Level: an
// enum with kDebug, kInfo, kWarn and kError; Field: {key, value} (sip::SipLogField,
// api::ApiLogField).
template <typename Level, typename Field>
void log_capped(Level level, std::string_view event, std::initializer_list<Field> fields) {
  const LogLevel l = level == Level::kDebug   ? LogLevel::kDebug
                     : level == Level::kWarn  ? LogLevel::kWarn
                     : level == Level::kError ? LogLevel::kError
                                              : LogLevel::kInfo;
  if (!log_enabled(l)) return;
  // LogField views its value: the cut copies live here until the line is written.
  std::vector<std::string> capped;
  capped.reserve(fields.size());
  std::vector<LogField> out;
  out.reserve(fields.size());
  for (const Field& f : fields) {
    if (f.value.size() <= kMaxSipLogValue) {
      out.emplace_back(f.key, f.value);
    } else {
      capped.push_back(cap_log_value(f.value));
      out.emplace_back(f.key, capped.back());
    }
  }
  log_event(l, event, out);
}

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
