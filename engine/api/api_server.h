// ApiServer: the engine's gRPC server (callback API, on gRPC's own threads): the acd.v1
// services, gRPC health checking and server reflection, on one listening address.
// Thread-safety: start()/stop() from one controlling thread; set_directory() from any.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/api/api_context.h"
#include "engine/api/stream_hub.h"

namespace acd::api {

// TLS for the API: PEM texts (the daemon reads the files).
struct ApiTlsOptions {
  std::string certificate_chain;  // the server's certificate, then any intermediates
  std::string private_key;        // its private key, unencrypted
  // The CA certificate(s) that sign client certificates; empty: clients are not asked
  // for one. Set: a client's certificate is requested and, when sent, verified.
  std::string client_ca;
  // true (needs client_ca): a client without a valid certificate fails the handshake.
  bool require_client_certificate = false;
};

// What is wrong with TLS options, found before gRPC sees them.
struct ApiTlsProblem {
  enum class Part : std::uint8_t { kCertificate, kPrivateKey, kClientCa };
  Part part;
  std::string what;  // "no PEM certificate in it; expected -----BEGIN CERTIFICATE-----"
};

// Parses the PEM texts: a certificate chain, a private key that belongs to its first
// certificate, and (when set) at least one CA certificate. nullopt: usable.
std::optional<ApiTlsProblem> check_tls(const ApiTlsOptions& tls);

struct ApiOptions {
  // host:port; port 0: the kernel picks one (port() tells which).
  std::string listen = "127.0.0.1:0";
  // nullopt: plain TCP.
  std::optional<ApiTlsOptions> tls;
  // Messages a server stream may have queued before it is ended as too slow.
  std::size_t max_stream_backlog = 1024;
  // The audit log's budget for api.denied lines (anybody can cause them): lines a second
  // on average and the burst (ApiContext::log_denied).
  double denied_log_per_second = 20;
  double denied_log_burst = 100;
};

class ApiServer {
 public:
  ApiServer(ApiOptions options, ApiHooks hooks, std::shared_ptr<const ApiDirectory> directory);
  ~ApiServer();  // stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving; an error text when the address cannot be bound or the TLS
  // options are not usable (check_tls).
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
