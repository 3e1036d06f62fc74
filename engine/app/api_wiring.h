// The gRPC API's view of the configuration: users, roles, tokens (as SHA-256), the agent
// each user works as, and the tenants' not-ready reasons.
#pragma once

#include <memory>

#include "engine/api/api_context.h"
#include "engine/api/api_directory.h"
#include "engine/app/config.h"

namespace acd::app {

std::shared_ptr<const api::ApiDirectory> make_api_directory(const DaemonConfig& config);
// ApiHooks::log writing to the daemon's log.
decltype(api::ApiHooks::log) make_api_logger();

}  // namespace acd::app
