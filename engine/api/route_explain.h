// SupervisorService.ExplainRoute's conversions: the request checked and made into the
// routing core's RouteQuery (engine/core/route_explanation.h), and the core's
// RouteExplanation as the answer.
// Thread-safety: pure functions of their arguments.
#pragma once

#include <grpcpp/grpcpp.h>

#include <variant>

#include "acd/v1/supervisor_service.pb.h"
#include "engine/api/api_directory.h"
#include "engine/core/route_explanation.h"

namespace acd::api {

// The dry run `request` asks for in a queue of `tenant`: INVALID_ARGUMENT naming the field
// for a bad field, NOT_FOUND for a queue that is not the tenant's (another tenant's is as
// unknown as none).
std::variant<core::RouteQuery, grpc::Status> route_query(
    const acd::v1::ExplainRouteRequest& request, const ApiTenant& tenant);

acd::v1::QueueStrategy to_proto(core::Strategy strategy);

void fill_route_explanation(const core::RouteExplanation& explanation,
                            acd::v1::ExplainRouteResponse& out);

}  // namespace acd::api
