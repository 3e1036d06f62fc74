// Prometheus metrics: the daemon's figures in the text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): per queue (calls
// waiting and being offered, waits, members, cumulative counters, service level, ASA,
// AHT, abandon rate), per agent (state, counters, time per state), and the SIP stack,
// the media plane and the record store when they run. Every name starts with `acd_`
// (except process_start_time_seconds, the name every Prometheus client library uses) and
// carries its unit (_seconds, _ratio, _total for counters). deploy/OPERATIONS.md lists
// them. metrics_server.h serves the text over HTTP.
// Thread-safety: render_metrics() is a pure function of its inputs; SharedNameTable may be
// used from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/app/name_table.h"
#include "engine/core/ids.h"
#include "engine/core/snapshot.h"
#include "engine/media/media_engine.h"
#include "engine/sip/sip_service.h"
#include "engine/store/record_store.h"

namespace acd::app {

struct MetricsInputs {
  // The routing core's figures; null: no queue or agent series.
  std::shared_ptr<const core::CoreSnapshot> core;
  // The `tenant` label of an id (the snapshot knows ids only); empty: "#<id>".
  std::function<std::string(core::TenantId)> tenant_name;
  // Each absent when that part does not run (no SIP stack, no media plane, no store).
  std::optional<sip::SipStats> sip;
  std::optional<media::MediaStats> media;
  std::optional<store::RecordStoreStats> records;
  std::string version;                    // acd_build_info{version=...}
  double process_start_time_seconds = 0;  // since the Unix epoch; 0: not exported
};

// The exposition text: # HELP and # TYPE before each family, samples of a family
// together, label values escaped (\\, \", \n), ending with a newline.
std::string render_metrics(const MetricsInputs& inputs);

// When this process started, in seconds since the Unix epoch (from /proc; the time of the
// first call where /proc cannot be read).
double process_start_time_seconds();

// The Content-Type of render_metrics()'s text.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// A NameTable that one thread replaces (on a configuration reload) while another reads it
// (the metrics server's thread). A mutex held only to copy the pointer.
class SharedNameTable {
 public:
  void set(std::shared_ptr<const NameTable> names) {
    std::lock_guard lock(mutex_);
    names_ = std::move(names);
  }
  [[nodiscard]] std::shared_ptr<const NameTable> get() const {
    std::lock_guard lock(mutex_);
    return names_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const NameTable> names_;
};

}  // namespace acd::app
