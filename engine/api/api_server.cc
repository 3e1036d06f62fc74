#include "engine/api/api_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "engine/api/agent_service.h"
#include "engine/api/stream_hub.h"
#include "engine/api/supervisor_service.h"

namespace acd::api {

struct ApiServer::Impl {
  Impl(ApiOptions o, ApiHooks hooks, std::shared_ptr<const ApiDirectory> directory)
      : options(std::move(o)),
        context(std::move(hooks), std::move(directory)),
        hub(context, StreamHubOptions{options.max_stream_backlog}),
        agents(context, hub),
        supervisors(context, hub) {}
  ApiOptions options;
  ApiContext context;
  StreamHub hub;
  AgentServiceImpl agents;
  SupervisorServiceImpl supervisors;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

ApiServer::ApiServer(ApiOptions options, ApiHooks hooks,
                     std::shared_ptr<const ApiDirectory> directory)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(hooks), std::move(directory))) {}

ApiServer::~ApiServer() {
  stop();
}

std::optional<std::string> ApiServer::start() {
  if (impl_->server) return std::nullopt;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // Without SO_REUSEPORT a second daemon on the same address fails to start instead of
  // silently sharing the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(impl_->options.listen, grpc::InsecureServerCredentials(), &impl_->port);
  builder.RegisterService(&impl_->agents);
  builder.RegisterService(&impl_->supervisors);
  impl_->hub.start();
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0) {
    impl_->server.reset();
    impl_->hub.stop();
    return "cannot listen on " + impl_->options.listen;
  }
  impl_->server->GetHealthCheckService()->SetServingStatus(true);
  impl_->context.log(ApiLogLevel::kInfo, "api.listening",
                     {{"address", impl_->options.listen}, {"port", std::to_string(impl_->port)}});
  // Tokens travel in the clear until TLS is configured: say so unless on loopback.
  const std::string& at = impl_->options.listen;
  if (at.rfind("127.", 0) != 0 && at.rfind("[::1]:", 0) != 0 && at.rfind("localhost:", 0) != 0)
    impl_->context.log(
        ApiLogLevel::kWarn, "api.insecure",
        {{"address", at}, {"why", "plain TCP off loopback: bearer tokens can be read on the way"}});
  return std::nullopt;
}

void ApiServer::stop() {
  if (!impl_->server) return;
  impl_->server->GetHealthCheckService()->SetServingStatus(false);
  // Streams never end by themselves: end them, then let the unary calls finish.
  impl_->hub.close_all();
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
  impl_->server.reset();
  impl_->hub.stop();
}

void ApiServer::on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) {
  impl_->hub.on_core_event(event, core);
}

StreamHubStats ApiServer::stream_stats() const {
  return impl_->hub.stats();
}

int ApiServer::port() const {
  return impl_->port;
}

void ApiServer::set_directory(std::shared_ptr<const ApiDirectory> directory) {
  impl_->context.set_directory(std::move(directory));
}

}  // namespace acd::api
