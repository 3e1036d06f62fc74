#include "engine/app/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/app/metrics.h"

namespace acd::app {
namespace {

using namespace std::chrono_literals;

// Generous: a test waits this long for an event that should come at once.
constexpr auto kPatience = 30s;

// A blocking loopback TCP client. Reads give up after kPatience.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval timeout{};
    timeout.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kPatience).count();
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      REQUIRE(n > 0);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Everything until the server closes (or resets) the connection.
  std::string read_all() {
    std::string out;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        out.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      // EAGAIN: kPatience passed without the server closing.
      timed_out_ = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      return out;
    }
  }
  [[nodiscard]] bool timed_out() const { return timed_out_; }

 private:
  int fd_ = -1;
  bool timed_out_ = false;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  [[nodiscard]] std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

Response parse_response(const std::string& text) {
  Response r;
  const auto head_end = text.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  REQUIRE(text.starts_with("HTTP/1.1 "));
  r.status = std::stoi(text.substr(9, 3));
  std::size_t pos = text.find("\r\n") + 2;
  while (pos < head_end) {
    const auto end = text.find("\r\n", pos);
    const std::string line = text.substr(pos, end - pos);
    const auto colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    pos = end + 2;
  }
  r.body = text.substr(head_end + 4);
  return r;
}

// The outcomes the server reports, to wait on.
class Outcomes {
 public:
  std::function<void(std::string_view)> observer() {
    return [this](std::string_view outcome) {
      std::lock_guard lock(mutex_);
      ++counts_[std::string(outcome)];
      changed_.notify_all();
    };
  }
  // Waits until `outcome` was reported `count` times in all.
  bool wait(const std::string& outcome, int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kPatience, [&] { return counts_[outcome] >= count; });
  }
  int count(const std::string& outcome) {
    std::lock_guard lock(mutex_);
    return counts_[outcome];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, int> counts_;
};

const std::string kBody = "# TYPE acd_queue_waiting gauge\nacd_queue_waiting 0\n";

struct Fixture {
  explicit Fixture(MetricsServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    options.on_closed = outcomes.observer();
    server = std::make_unique<MetricsServer>(std::move(options), [this] {
      if (std::this_thread::get_id() == test_thread) called_on_test_thread = true;
      ++scrapes;
      return kBody;
    });
    const auto error = server->start();
    INFO(error.value_or(""));
    REQUIRE(!error);
    REQUIRE(server->port() > 0);
  }

  Response exchange(const std::string& request) {
    Client client(server->port());
    client.send(request);
    const std::string text = client.read_all();
    INFO(text);
    REQUIRE(!client.timed_out());
    return parse_response(text);
  }

  Outcomes outcomes;
  std::atomic<int> scrapes{0};
  const std::thread::id test_thread = std::this_thread::get_id();
  std::atomic<bool> called_on_test_thread{false};
  std::unique_ptr<MetricsServer> server;
};

TEST_CASE("metrics server: GET /metrics and /healthz", "[metrics]") {
  Fixture f;
  const Response r = f.exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.header("content-length") == std::to_string(kBody.size()));
  CHECK(r.header("connection") == "close");
  CHECK(r.body == kBody);
  CHECK(f.scrapes == 1);
  CHECK(!f.called_on_test_thread);  // the server's own thread

  // HTTP/1.0 needs no Host; a query is ignored; bare LF line ends are taken.
  CHECK(f.exchange("GET /metrics?x=1 HTTP/1.0\r\n\r\n").body == kBody);
  CHECK(f.exchange("GET /metrics HTTP/1.1\nHost: a\n\n").status == 200);

  const Response head = f.exchange("HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == std::to_string(kBody.size()));
  CHECK(head.body.empty());

  const Response health = f.exchange("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK(f.outcomes.wait("served", 5));
}

TEST_CASE("metrics server: refusals", "[metrics]") {
  Fixture f;
  CHECK(f.exchange("GET /other HTTP/1.1\r\nHost: a\r\n\r\n").status == 404);
  CHECK(f.exchange("GET / HTTP/1.1\r\nHost: a\r\n\r\n").status == 404);
  const Response head_missing = f.exchange("HEAD /other HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(head_missing.status == 404);
  CHECK(head_missing.body.empty());

  const Response post =
      f.exchange("POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(post.status == 405);
  CHECK(post.header("allow") == "GET, HEAD");

  CHECK(f.exchange("hello\r\n\r\n").status == 400);
  CHECK(f.exchange("GET /metrics HTTP/1.1\r\n\r\n").status == 400);  // no Host
  CHECK(f.exchange("GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status == 400);
  CHECK(f.exchange("GET /metrics HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n").status == 400);
  CHECK(f.exchange("GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n").status == 400);
  CHECK(f.exchange("GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n").status == 400);
  CHECK(f.exchange("GET metrics HTTP/1.1\r\nHost: a\r\n\r\n").status == 400);
  CHECK(f.exchange(std::string("GET /metrics HTTP/1.1\r\nHost: a\0b\r\n\r\n", 36)).status == 400);
  CHECK(f.exchange("GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n").status == 505);
  CHECK(f.exchange("\x16\x03\x01garbage\r\n\r\n").status == 400);
  CHECK(f.scrapes == 0);

  // A head over 8 KiB: 431, even though the client sends on (its data is discarded).
  std::string big =
      "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n";
  CHECK(f.exchange(big).status == 431);
  // One byte short of the limit is fine.
  std::string request = "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Fill: ";
  request += std::string(8192 - request.size() - 4, 'b') + "\r\n\r\n";
  REQUIRE(request.size() == 8192);
  CHECK(f.exchange(request).status == 200);
  CHECK(f.outcomes.wait("head-too-large", 1));
}

TEST_CASE("metrics server: a provider that throws gives 500", "[metrics]") {
  Outcomes outcomes;
  MetricsServerOptions options;
  options.on_closed = outcomes.observer();
  MetricsServer server(options, []() -> std::string { throw std::runtime_error("boom"); });
  REQUIRE(!server.start());
  {
    Client client(server.port());
    client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(parse_response(client.read_all()).status == 500);
  }
  CHECK(outcomes.wait("failed", 1));
}

TEST_CASE("metrics server: at most max_connections at once", "[metrics]") {
  MetricsServerOptions options;
  options.read_timeout = 60s;  // the idle connections stay until the test ends
  Fixture f(options);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 64; ++i) idle.push_back(std::make_unique<Client>(f.server->port()));
  // The 65th is accepted after the first 64 (the accept queue is in order) and closed.
  {
    Client extra(f.server->port());
    CHECK(extra.read_all().empty());
    CHECK(!extra.timed_out());
    CHECK(f.outcomes.wait("refused", 1));
  }
  // The first 64 are still served.
  idle.front()->send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(parse_response(idle.front()->read_all()).body == kBody);
  idle.erase(idle.begin());
  // Once the server has let it go, there is room for one more.
  REQUIRE(f.outcomes.wait("served", 1));
  CHECK(f.exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200);
  CHECK(f.outcomes.count("refused") == 1);
  // Stopping closes the idle connections.
  f.server->stop();
  CHECK(f.outcomes.wait("stopped", 63));
  for (auto& client : idle) CHECK(client->read_all().empty());
}

TEST_CASE("metrics server: slow clients are timed out", "[metrics]") {
  MetricsServerOptions options;
  options.read_timeout = 200ms;
  Fixture f(options);
  SECTION("half a request: 408") {
    Client client(f.server->port());
    client.send("GET /met");
    const std::string text = client.read_all();
    CHECK(!client.timed_out());
    CHECK(parse_response(text).status == 408);
    CHECK(f.outcomes.wait("timeout", 1));
  }
  SECTION("nothing sent: closed") {
    Client client(f.server->port());
    CHECK(client.read_all().empty());
    CHECK(!client.timed_out());
    CHECK(f.outcomes.wait("timeout", 1));
  }
}

TEST_CASE("metrics server: an address in use is an error", "[metrics]") {
  Fixture f;
  MetricsServerOptions options;
  options.listen = "127.0.0.1:" + std::to_string(f.server->port());
  MetricsServer second(options, [] { return std::string(); });
  const auto error = second.start();
  REQUIRE(error);
  CHECK(error->find("cannot listen on 127.0.0.1:") == 0);
  CHECK(second.port() == 0);

  options.listen = "nonsense";
  MetricsServer third(options, [] { return std::string(); });
  CHECK(third.start());
}

}  // namespace
}  // namespace acd::app
