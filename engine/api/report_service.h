// ReportService (proto/acd/v1/report_service.proto) on gRPC's callback API: the caller's
// tenant's call records and reports from the database. Each RPC authorizes (supervisor,
// admin, read-only), checks every field (INVALID_ARGUMENT naming it), turns the request
// into a ReportQuery of the caller's tenant and hands it to ApiHooks::run_report, which
// answers on the database worker's thread; the reactor is finished from there. Without
// the hook (no database) every RPC is UNAVAILABLE.
//
// A search's page token is opaque to clients: the position of the page's last call
// (arrival, call id) with a check over the search's tenant, range and filters, so a token
// continues only the search it came from (another is INVALID_ARGUMENT "page_token: ...").
// It is not a secret: it only ever names a position in the caller's own tenant's calls.
//
// Thread-safety: gRPC calls it from its own threads; the object outlives the server.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "acd/v1/report_service.grpc.pb.h"
#include "engine/api/api_context.h"

namespace acd::api {

class ReportServiceImpl final : public acd::v1::ReportService::CallbackService {
 public:
  explicit ReportServiceImpl(const ApiContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* SearchCalls(grpc::CallbackServerContext* context,
                                        const acd::v1::SearchCallsRequest* request,
                                        acd::v1::SearchCallsResponse* response) override;
  grpc::ServerUnaryReactor* QueueReport(grpc::CallbackServerContext* context,
                                        const acd::v1::QueueReportRequest* request,
                                        acd::v1::QueueReportResponse* response) override;
  grpc::ServerUnaryReactor* AgentReport(grpc::CallbackServerContext* context,
                                        const acd::v1::AgentReportRequest* request,
                                        acd::v1::AgentReportResponse* response) override;
  grpc::ServerUnaryReactor* AgentStateTime(grpc::CallbackServerContext* context,
                                           const acd::v1::AgentStateTimeRequest* request,
                                           acd::v1::AgentStateTimeResponse* response) override;
  grpc::ServerUnaryReactor* AgentMonthlyVolume(
      grpc::CallbackServerContext* context, const acd::v1::AgentMonthlyVolumeRequest* request,
      acd::v1::AgentMonthlyVolumeResponse* response) override;

 private:
  const ApiContext& context_;
};

// calls.final_state's text of a CallFinalState ("completed", "hung-up", ...); "" for
// CALL_FINAL_STATE_UNSPECIFIED and unknown values.
std::string_view final_state_text(acd::v1::CallFinalState state);
// The CallFinalState of calls.final_state's text; UNSPECIFIED for text this version does
// not know.
acd::v1::CallFinalState final_state_of(std::string_view text);

// The longest range a request may ask for.
inline constexpr std::chrono::hours kMaxReportRange{366 * 24};

}  // namespace acd::api
