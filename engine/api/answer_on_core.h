// answer_on_core: a unary RPC answered by a command on the routing core's thread.
// Thread-safety: call from a gRPC thread; `body` runs on the core thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <exception>
#include <utility>

#include "engine/api/api_context.h"

namespace acd::api {

// Finishes `reactor` with what `body` returns, run on the core thread; a body that throws
// (a bug) ends the call with INTERNAL instead of leaving it open, and a core that takes no
// more commands (shutdown) with UNAVAILABLE.
template <class Body>
void answer_on_core(const ApiContext& context, grpc::ServerUnaryReactor* reactor, Body body) {
  const bool queued = context.submit([reactor, body = std::move(body)](core::RoutingCore& core) {
    grpc::Status status;
    try {
      status = body(core);
    } catch (const std::exception& e) {
      status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
    }
    reactor->Finish(status);
  });
  if (!queued)
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down"));
}

}  // namespace acd::api
