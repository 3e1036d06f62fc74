#include "engine/api/api_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "engine/api/admin_service.h"
#include "engine/api/agent_service.h"
#include "engine/api/report_service.h"
#include "engine/api/stream_hub.h"
#include "engine/api/supervisor_service.h"
#include "engine/api/task_service.h"

namespace acd::api {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The PEM certificates of `text`, in order (none when it holds no certificate).
std::vector<X509Ptr> read_certificates(const std::string& text) {
  std::vector<X509Ptr> out;
  BioPtr bio = memory_bio(text);
  while (bio) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    out.push_back(std::move(cert));
  }
  ERR_clear_error();  // the end of the text reads as an error
  return out;
}

// Never asks for a passphrase (OpenSSL's default would prompt on the terminal).
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
  return -1;
}

}  // namespace

std::optional<ApiTlsProblem> check_tls(const ApiTlsOptions& tls) {
  using Part = ApiTlsProblem::Part;
  const auto chain = read_certificates(tls.certificate_chain);
  if (chain.empty())
    return ApiTlsProblem{Part::kCertificate,
                         "no PEM certificate in it; expected the server's certificate "
                         "(-----BEGIN CERTIFICATE-----), then any intermediates"};
  BioPtr bio = memory_bio(tls.private_key);
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  ERR_clear_error();
  if (!key) {
    if (tls.private_key.find("ENCRYPTED") != std::string::npos)
      return ApiTlsProblem{Part::kPrivateKey,
                           "the private key is encrypted; expected an unencrypted PEM key "
                           "(e.g. openssl pkey -in KEY -out KEY.plain), readable by acdd only"};
    return ApiTlsProblem{Part::kPrivateKey,
                         "no PEM private key in it; expected -----BEGIN PRIVATE KEY----- (or "
                         "RSA PRIVATE KEY, EC PRIVATE KEY)"};
  }
  const int matches = X509_check_private_key(chain.front().get(), key.get());
  ERR_clear_error();
  if (matches != 1)
    return ApiTlsProblem{Part::kPrivateKey,
                         "the private key does not belong to the certificate (the first one of "
                         "api.tls.certificate); expected the key the certificate was issued for"};
  if (!tls.client_ca.empty() && read_certificates(tls.client_ca).empty())
    return ApiTlsProblem{Part::kClientCa,
                         "no PEM certificate in it; expected the CA certificate(s) that sign "
                         "client certificates (-----BEGIN CERTIFICATE-----)"};
  if (tls.require_client_certificate && tls.client_ca.empty())
    return ApiTlsProblem{Part::kClientCa,
                         "require_client_certificate needs the CA that signs client "
                         "certificates; expected client_ca"};
  return std::nullopt;
}

namespace {

std::shared_ptr<grpc::ServerCredentials> server_credentials(const ApiOptions& options) {
  if (!options.tls) return grpc::InsecureServerCredentials();
  const ApiTlsOptions& tls = *options.tls;
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca.empty()            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
      : tls.require_client_certificate ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                       : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca;
  ssl.pem_key_cert_pairs.push_back({tls.private_key, tls.certificate_chain});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

struct ApiServer::Impl {
  Impl(ApiOptions o, ApiHooks hooks, std::shared_ptr<const ApiDirectory> directory)
      : options(std::move(o)),
        context(std::move(hooks), std::move(directory),
                LogBudget(options.denied_log_per_second, options.denied_log_burst)),
        hub(context, StreamHubOptions{options.max_stream_backlog}),
        agents(context, hub),
        supervisors(context, hub),
        admin(context),
        tasks(context) {}
  ApiOptions options;
  ApiContext context;
  StreamHub hub;
  AgentServiceImpl agents;
  SupervisorServiceImpl supervisors;
  ReportServiceImpl reports{context};
  AdminServiceImpl admin;
  TaskServiceImpl tasks;
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
  if (impl_->options.tls) {
    if (auto problem = check_tls(*impl_->options.tls)) return problem->what;
  }
  builder.AddListeningPort(impl_->options.listen, server_credentials(impl_->options), &impl_->port);
  builder.RegisterService(&impl_->agents);
  builder.RegisterService(&impl_->supervisors);
  builder.RegisterService(&impl_->reports);
  builder.RegisterService(&impl_->admin);
  builder.RegisterService(&impl_->tasks);
  impl_->hub.start();
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0) {
    impl_->server.reset();
    impl_->hub.stop();
    return "cannot listen on " + impl_->options.listen;
  }
  impl_->server->GetHealthCheckService()->SetServingStatus(true);
  const bool tls = impl_->options.tls.has_value();
  const char* client_certificates = !tls || impl_->options.tls->client_ca.empty()    ? "none"
                                    : impl_->options.tls->require_client_certificate ? "required"
                                                                                     : "requested";
  impl_->context.log(ApiLogLevel::kInfo, "api.listening",
                     {{"address", impl_->options.listen},
                      {"port", std::to_string(impl_->port)},
                      {"tls", tls ? "true" : "false"},
                      {"client_certificates", client_certificates}});
  // Without TLS tokens travel in the clear: say so unless on loopback.
  const std::string& at = impl_->options.listen;
  if (!tls && at.rfind("127.", 0) != 0 && at.rfind("[::1]:", 0) != 0 &&
      at.rfind("localhost:", 0) != 0)
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
