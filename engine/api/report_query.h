// ReportQuery and ReportAnswer: what the report service (report_service.h) asks the daemon
// for through ApiHooks::run_report, and what comes back. The service has checked the
// request (the caller's role, names of the caller's tenant, the range, the page token);
// the hook runs it against the database off the event loop (engine/store/report_queries.h
// in the daemon) and answers with the response message, or the status to fail with.
// Thread-safety: plain values.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "acd/v1/report_service.pb.h"

namespace acd::api {

using ReportClock = std::chrono::system_clock;

// A call's place in a search's order (newest first: arrival, then call id).
struct CallSearchKey {
  ReportClock::time_point arrived_at;
  std::int64_t call_id = 0;
};

// SearchCalls, checked.
struct CallSearchQuery {
  ReportClock::time_point from;  // [from, to) of the calls' arrival
  ReportClock::time_point to;
  std::string caller_number;           // as the client sent it (compared normalized); '' any
  std::string agent;                   // a name of the tenant; '' any
  std::string queue;                   // a name of the tenant; '' any
  std::string final_state;             // calls.final_state text ('completed', ...); '' any
  int page_size = 50;                  // 1..1000
  std::optional<CallSearchKey> after;  // from the page token; nullopt: the first page
};

enum class ReportName : std::uint8_t {
  kQueueIntervals,     // QueueReport
  kAgentIntervals,     // AgentReport
  kAgentStateTime,     // AgentStateTime
  kAgentMonthlyVolume  // AgentMonthlyVolume
};

// One of the reports, checked.
struct RangeReportQuery {
  ReportName report = ReportName::kQueueIntervals;
  ReportClock::time_point from;  // [from, to)
  ReportClock::time_point to;
  std::string interval;           // '15 min', 'hour', 'day', 'month'; '' for the volume
  std::string time_zone = "UTC";  // an IANA name, not yet known to be one
  std::optional<std::int64_t> sl_threshold_ms;  // QueueReport's sl_threshold
  std::vector<std::string> names;               // queues or agents of the tenant; '' all
};

struct ReportQuery {
  std::string tenant;  // the caller's tenant's name (history names tenants by name)
  std::variant<CallSearchQuery, RangeReportQuery> what;
  // True once the client has gone (cancelled, past its deadline, server shutting down):
  // a query not yet started is skipped. May be called from any thread, but only before
  // `done` is (the request it asks about ends with done); may be empty.
  std::function<bool()> abandoned;
};

struct ReportAnswer {
  // Not OK: the call fails with it and `response` is ignored.
  grpc::Status status;
  // The response of the query's kind.
  std::variant<std::monostate, acd::v1::SearchCallsResponse, acd::v1::QueueReportResponse,
               acd::v1::AgentReportResponse, acd::v1::AgentStateTimeResponse,
               acd::v1::AgentMonthlyVolumeResponse>
      response;
  // A search with calls beyond this page: the page's last call (the service makes the
  // next_page_token of it).
  std::optional<CallSearchKey> next;
};

}  // namespace acd::api
