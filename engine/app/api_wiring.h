// The gRPC API's view of the configuration: users, roles, tokens (as SHA-256), the agent
// each user works as, the tenants' not-ready reasons and names; and the adapters that
// connect the API to the daemon (log, core events).
#pragma once

#include <memory>

#include "engine/api/api_context.h"
#include "engine/api/api_directory.h"
#include "engine/api/api_server.h"
#include "engine/app/config.h"
#include "engine/app/core_listener.h"
#include "engine/store/customer_lookup.h"
#include "engine/store/report_queries.h"

namespace acd::app {

std::shared_ptr<const api::ApiDirectory> make_api_directory(const DaemonConfig& config);
// ApiHooks::log writing to the daemon's log.
decltype(api::ApiHooks::log) make_api_logger();

// The screen pop of a store lookup's result.
acd::v1::ScreenPop to_screen_pop(const store::CallerLookupResult& result);
// ApiHooks::lookup_caller through `customers` (which must outlive the hook's use).
decltype(api::ApiHooks::lookup_caller) make_caller_lookup(store::CustomerLookup& customers);

// The report service's answer (engine/api/report_query.h) of a store result: the rows as
// messages, the failure as a gRPC status (an unreachable database UNAVAILABLE, a statement
// timeout DEADLINE_EXCEEDED, a refused value INVALID_ARGUMENT, too many rows
// RESOURCE_EXHAUSTED).
api::ReportAnswer to_report_answer(store::CallSearchResult result);
api::ReportAnswer to_report_answer(store::ReportKind kind, store::ReportResult result);
// ApiHooks::run_report through `reports` (which must outlive the hook's use).
decltype(api::ApiHooks::run_report) make_report_runner(store::ReportQueries& reports);

// Feeds the routing core's events to the API's streams (registered on the CoreThread
// while the server runs).
class ApiEventFeed final : public CoreListener {
 public:
  explicit ApiEventFeed(api::ApiServer& server) : server_(server) {}
  void on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) override {
    server_.on_core_event(event, core);
  }

 private:
  api::ApiServer& server_;
};

}  // namespace acd::app
