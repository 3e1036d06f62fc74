#include "engine/app/metrics_server.h"

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/app/logging.h"
#include "engine/app/metrics.h"

namespace acd::app {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// RFC 9110 token characters (methods, header names).
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// The request after its head was checked: either an error status or method and path.
struct Request {
  int status = 0;           // 0: well-formed; else the status to answer with
  std::string_view reason;  // the outcome name for an error
  std::string_view method;
  std::string_view path;  // without the query
};

Request bad(int status, std::string_view reason) {
  Request r;
  r.status = status;
  r.reason = reason;
  return r;
}

// Checks a request head (request line and header lines, each ending with LF or CRLF, the
// empty line that ends the head excluded).
Request parse_head(std::string_view head) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const auto lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    head.remove_prefix(lf == std::string_view::npos ? head.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
  }
  if (lines.empty()) return bad(400, "bad-request");

  // request-line = method SP request-target SP HTTP-version
  const std::string_view line = lines.front();
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return bad(400, "bad-request");
  Request r;
  r.method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(r.method) || target.empty() ||
      std::any_of(target.begin(), target.end(), is_control))
    return bad(400, "bad-request");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    const bool looks_like_http = version.size() == 8 && version.substr(0, 5) == "HTTP/" &&
                                 std::isdigit(static_cast<unsigned char>(version[5])) &&
                                 version[6] == '.' &&
                                 std::isdigit(static_cast<unsigned char>(version[7]));
    return looks_like_http ? bad(505, "version-not-supported") : bad(400, "bad-request");
  }
  // absolute-form (http://host/path) is taken as its path.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
      const auto slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  if (target.front() != '/') return bad(400, "bad-request");
  r.path = target.substr(0, target.find('?'));

  int hosts = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view field = lines[i];
    const auto colon = field.find(':');
    // No obsolete line folding, no whitespace before the colon.
    if (colon == std::string_view::npos || !is_token(field.substr(0, colon)))
      return bad(400, "bad-request");
    const std::string_view value = field.substr(colon + 1);
    if (std::any_of(value.begin(), value.end(), [](char c) { return is_control(c) && c != '\t'; }))
      return bad(400, "bad-request");
    if (iequals(field.substr(0, colon), "host")) ++hosts;
  }
  // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host; HTTP/1.0 at most one.
  if (hosts > 1 || (hosts == 0 && version == "HTTP/1.1")) return bad(400, "bad-request");
  return r;
}

// Where the request head in `data` begins and ends: {begin, end} with end just after the
// head's last header line (the empty line that ends the head follows); end is npos while
// the head is incomplete. Empty lines before the request line are skipped (RFC 9112 2.2).
std::pair<std::size_t, std::size_t> find_head(std::string_view data) {
  constexpr auto kNone = std::string_view::npos;
  const auto begin = data.find_first_not_of("\r\n");
  if (begin == kNone) return {0, kNone};
  for (auto lf = data.find('\n', begin); lf != kNone; lf = data.find('\n', lf + 1)) {
    const std::string_view rest = data.substr(lf + 1);
    if (rest.starts_with("\n") || rest.starts_with("\r\n")) return {begin, lf + 1};
  }
  return {begin, kNone};
}

const char* status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 505: return "HTTP Version Not Supported";
  }
  return "Error";
}

// host:port, the host in brackets for IPv6, into an endpoint (a host name is resolved).
std::optional<tcp::endpoint> parse_endpoint(const std::string& listen, asio::io_context& io,
                                            std::string& error) {
  const auto colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? std::string() : listen.substr(0, colon);
  const std::string port_text =
      colon == std::string::npos ? std::string() : listen.substr(colon + 1);
  std::uint16_t port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || port_text.empty() || ec != std::errc() ||
      end != port_text.data() + port_text.size()) {
    error = "expected host:port, got \"" + listen + "\"";
    return std::nullopt;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code address_error;
  const auto address = asio::ip::make_address(host, address_error);
  if (!address_error) return tcp::endpoint(address, port);
  tcp::resolver resolver(io);
  boost::system::error_code resolve_error;
  const auto results =
      resolver.resolve(host, port_text, tcp::resolver::numeric_service, resolve_error);
  if (resolve_error || results.empty()) {
    error = "cannot resolve " + host + ": " + resolve_error.message();
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

}  // namespace

// Everything but start()/stop()/port() runs on the server's thread.
struct MetricsServer::Impl {
  class Connection;

  Impl(MetricsServerOptions o, Provider p) : options(std::move(o)), metrics(std::move(p)) {}

  void accept();
  void on_accepted(tcp::socket socket);
  void release(Connection* connection, std::string_view outcome);
  void shutdown();

  MetricsServerOptions options;
  Provider metrics;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
  std::thread thread;
  int port = 0;
  bool stopping = false;
};

// One client connection: read the request head, answer, close. Its handlers keep it alive
// (shared_from_this); the server's map holds it until it closes.
class MetricsServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl& server, tcp::socket socket, std::string peer)
      : server_(server),
        socket_(std::move(socket)),
        timer_(server.io),
        peer_(std::move(peer)),
        head_(server.options.max_head_bytes) {}

  void start() {
    arm(server_.options.read_timeout);
    read_head();
  }

  // The server stops: close at once.
  void abort() { close("stopped"); }

 private:
  enum class Phase : std::uint8_t { kReading, kWriting, kLingering, kClosed };

  void read_head() {
    socket_.async_read_some(asio::buffer(head_.data() + used_, head_.size() - used_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (phase_ != Phase::kReading) return;  // timed out meanwhile, or closed
    if (ec) {
      close(ec == asio::error::eof ? "closed" : "error");
      return;
    }
    used_ += n;
    const auto [begin, end] = find_head(std::string_view(head_.data(), used_));
    if (end != std::string_view::npos) {
      handle(std::string_view(head_.data() + begin, end - begin));
    } else if (used_ == head_.size()) {
      respond(431, "head-too-large", "request head too large\n");
    } else {
      read_head();
    }
  }

  void handle(std::string_view head) {
    const Request request = parse_head(head);
    if (request.status != 0) {
      respond(request.status, request.reason, std::string(status_text(request.status)) + "\n");
      return;
    }
    head_only_ = request.method == "HEAD";
    const bool metrics = request.path == "/metrics";
    const bool health = request.path == "/healthz";
    if (!metrics && !health) {
      respond(404, "not-found", "not found; try /metrics\n");
      return;
    }
    if (request.method != "GET" && !head_only_) {
      respond(405, "method-not-allowed", "method not allowed\n", "Allow: GET, HEAD\r\n");
      return;
    }
    if (health) {
      respond(200, "served", "ok\n");
      return;
    }
    std::string body;
    try {
      body = server_.metrics();
    } catch (const std::exception& e) {
      log_event(LogLevel::kError, "metrics.failed", {{"error", e.what()}});
      respond(500, "failed", "cannot render the metrics\n");
      return;
    } catch (...) {
      log_event(LogLevel::kError, "metrics.failed", {{"error", "unknown exception"}});
      respond(500, "failed", "cannot render the metrics\n");
      return;
    }
    respond(200, "served", std::move(body), {}, kMetricsContentType);
  }

  void respond(int status, std::string_view outcome, std::string body,
               std::string_view extra_headers = {},
               std::string_view content_type = "text/plain; charset=utf-8") {
    if (status >= 400 && log_enabled(LogLevel::kDebug))
      log_event(LogLevel::kDebug, "metrics.refused",
                {{"peer", peer_}, {"status", status}, {"reason", outcome}});
    phase_ = Phase::kWriting;
    outcome_ = outcome;
    response_head_ = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) + "\r\n";
    response_head_ += "Content-Type: ";
    response_head_ += content_type;
    response_head_ += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    response_head_ += extra_headers;
    response_head_ += "Connection: close\r\n\r\n";
    if (!head_only_) response_body_ = std::move(body);
    arm(server_.options.read_timeout);
    const std::array<asio::const_buffer, 2> buffers = {asio::buffer(response_head_),
                                                       asio::buffer(response_body_)};
    asio::async_write(socket_, buffers,
                      [self = shared_from_this()](const boost::system::error_code& ec,
                                                  std::size_t) { self->on_written(ec); });
  }

  void on_written(const boost::system::error_code& ec) {
    if (phase_ != Phase::kWriting) return;
    if (ec) {
      close("error");
      return;
    }
    // Half-close, then read (and discard) what the client still sends until it closes:
    // closing with unread data would reset the connection and could lose the response.
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    phase_ = Phase::kLingering;
    arm(std::min(server_.options.read_timeout, std::chrono::milliseconds(2000)));
    linger();
  }

  void linger() {
    socket_.async_read_some(
        asio::buffer(discard_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (self->phase_ != Phase::kLingering) return;
          if (ec) {
            self->close(self->outcome_);
          } else {
            self->linger();
          }
        });
  }

  void arm(std::chrono::milliseconds timeout) {
    const std::uint64_t generation = ++timer_generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
      if (ec || generation != self->timer_generation_) return;
      self->on_timeout();
    });
  }

  void on_timeout() {
    switch (phase_) {
      case Phase::kReading:
        if (used_ == 0) {
          if (log_enabled(LogLevel::kDebug))
            log_event(LogLevel::kDebug, "metrics.refused",
                      {{"peer", peer_}, {"reason", "timeout"}});
          close("timeout");
        } else {
          // The read in progress is given up (its handler sees the phase has changed).
          boost::system::error_code ignored;
          socket_.cancel(ignored);
          respond(408, "timeout", "request timeout\n");
        }
        return;
      case Phase::kWriting: close("timeout"); return;  // the client does not read
      case Phase::kLingering: close(outcome_); return;
      case Phase::kClosed: return;
    }
  }

  void close(std::string_view outcome) {
    if (phase_ == Phase::kClosed) return;
    const auto keep = shared_from_this();  // release() drops the server's reference
    phase_ = Phase::kClosed;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    server_.release(this, outcome);
  }

  Impl& server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;
  std::string peer_;
  Phase phase_ = Phase::kReading;
  std::vector<char> head_;  // the request head as received
  std::size_t used_ = 0;
  bool head_only_ = false;  // HEAD: no body in the response
  std::string response_head_;
  std::string response_body_;
  std::string_view outcome_;  // a literal
  std::array<char, 1024> discard_{};
};

void MetricsServer::Impl::accept() {
  acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopping) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of descriptors or similar: try again shortly rather than spin.
      log_event(LogLevel::kWarn, "metrics.accept_failed", {{"error", ec.message()}});
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](const boost::system::error_code& wait_error) {
        if (!wait_error && !stopping) accept();
      });
      return;
    }
    on_accepted(std::move(socket));
    accept();
  });
}

void MetricsServer::Impl::on_accepted(tcp::socket socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  std::string peer =
      ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
  if (connections.size() >= options.max_connections) {
    if (log_enabled(LogLevel::kDebug))
      log_event(LogLevel::kDebug, "metrics.refused",
                {{"peer", peer},
                 {"reason", "too many connections"},
                 {"max_connections", options.max_connections}});
    socket.close(ec);
    if (options.on_closed) options.on_closed("refused");
    return;
  }
  auto connection = std::make_shared<Connection>(*this, std::move(socket), std::move(peer));
  connections.emplace(connection.get(), connection);
  connection->start();
}

void MetricsServer::Impl::release(Connection* connection, std::string_view outcome) {
  connections.erase(connection);
  if (options.on_closed) options.on_closed(outcome);
}

void MetricsServer::Impl::shutdown() {
  stopping = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  auto open = std::move(connections);
  connections.clear();
  for (auto& [raw, connection] : open) connection->abort();
}

MetricsServer::MetricsServer(MetricsServerOptions options, Provider metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(metrics))) {}

MetricsServer::~MetricsServer() {
  stop();
}

std::optional<std::string> MetricsServer::start() {
  if (impl_->thread.joinable()) return std::nullopt;
  Impl& s = *impl_;
  std::string error;
  const auto endpoint = parse_endpoint(s.options.listen, s.io, error);
  if (!endpoint) return "cannot listen on " + s.options.listen + ": " + error;
  boost::system::error_code ec;
  s.acceptor.open(endpoint->protocol(), ec);
  if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(*endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    return "cannot listen on " + s.options.listen + ": " + ec.message();
  }
  s.port = s.acceptor.local_endpoint(ec).port();
  s.stopping = false;
  s.io.restart();
  s.accept();
  s.thread = std::thread([&s] { s.io.run(); });
  log_event(LogLevel::kInfo, "metrics.listening",
            {{"address", s.options.listen}, {"port", s.port}});
  return std::nullopt;
}

void MetricsServer::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [impl = impl_.get()] { impl->shutdown(); });
  impl_->thread.join();
  impl_->port = 0;
}

int MetricsServer::port() const {
  return impl_->port;
}

}  // namespace acd::app
