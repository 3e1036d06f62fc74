// ApiServer: the engine's gRPC server (callback API, on gRPC's own threads): the acd.v1
// services, gRPC health checking and server reflection, on one listening address.
// Thread-safety: start()/stop() from one controlling thread; set_directory() from any.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/api/api_context.h"
#include "engine/api/stream_hub.h"

namespace acd::api {

struct ApiOptions {
  // host:port; port 0: the kernel picks one (port() tells which).
  std::string listen = "127.0.0.1:0";
  // Messages a server stream may have queued before it is ended as too slow.
  std::size_t max_stream_backlog = 1024;
};

class ApiServer {
 public:
  ApiServer(ApiOptions options, ApiHooks hooks, std::shared_ptr<const ApiDirectory> directory);
  ~ApiServer();  // stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving; an error text when the address cannot be bound.
  std::optional<std::string> start();
  // Stops taking calls, lets the ones in progress finish (their core commands run), joins.
  void stop();
  [[nodiscard]] int port() const;

  // The routing core's events, on the core thread (the daemon registers a CoreListener
  // that forwards here): they feed the event streams and watches.
  void on_core_event(const core::CoreEvent& event, const core::RoutingCore& core);
  [[nodiscard]] StreamHubStats stream_stats() const;

  // Users and tokens after a reload: new calls see them, calls in progress keep theirs.
  void set_directory(std::shared_ptr<const ApiDirectory> directory);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace acd::api
