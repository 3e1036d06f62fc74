// MetricsServer: a minimal HTTP/1.1 server for Prometheus scrapes, on a thread of its own
// running its own Asio io_context (a scrape never runs on the core thread).
//   GET /metrics   200, the provider's text (Content-Type kMetricsContentType)
//   GET /healthz   200 "ok"
// HEAD is answered like GET without the body. Other paths get 404, other methods 405,
// malformed requests 400, a request head over max_head_bytes 431, an HTTP version
// other than 1.x 505, a head not received within read_timeout 408 (or just a close when
// nothing arrived). Every response closes its connection (Connection: close); request
// bodies are not read. At most max_connections are open at once: a connection beyond that
// is closed as soon as it is accepted. Refusals are logged at debug level
// (event=metrics.refused); start() logs event=metrics.listening with the bound port.
// Thread-safety: start(), stop() and port() from one controlling thread. The provider runs
// on the server's thread, one request at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace acd::app {

struct MetricsServerOptions {
  // host:port ("127.0.0.1:9464", "[::1]:9464", "localhost:9464"); port 0: the kernel
  // picks one (port() tells which).
  std::string listen = "127.0.0.1:0";
  // The time a client has to send its request head, and again to take the response.
  std::chrono::milliseconds read_timeout{5000};
  std::size_t max_connections = 64;
  std::size_t max_head_bytes = 8192;
  // Called on the server's thread when a connection ends, with how: "served" (2xx),
  // "not-found", "method-not-allowed", "bad-request", "head-too-large",
  // "version-not-supported", "timeout", "refused" (over max_connections), "closed" (the
  // peer left before a whole request head), "failed" (the provider threw: 500), "error"
  // (a socket error), "stopped". For tests; may be empty.
  std::function<void(std::string_view outcome)> on_closed;
};

class MetricsServer {
 public:
  using Provider = std::function<std::string()>;

  MetricsServer(MetricsServerOptions options, Provider metrics);
  ~MetricsServer();  // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds, listens and starts the thread; an error text when the address cannot be used.
  std::optional<std::string> start();
  // Closes the listener and every connection and joins the thread. Idempotent.
  void stop();
  // The bound port (after a successful start()), else 0.
  [[nodiscard]] int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace acd::app
