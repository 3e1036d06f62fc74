// AgentService through a real gRPC channel on loopback, against a routing core running on
// its own thread (app::CoreThread), as in the daemon.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "acd/v1/agent_service.grpc.pb.h"
#include "engine/api/api_server.h"
#include "engine/app/core_thread.h"
#include "engine/common/digest.h"

namespace acd::api {
namespace {

namespace v1 = acd::v1;
using namespace std::chrono_literals;

core::CoreConfig two_tenants() {
  core::CoreConfig config;
  config.tenants.push_back({core::TenantId(0), "acme"});
  config.tenants.push_back({core::TenantId(1), "globex"});
  auto agent = [&](std::uint32_t id, std::uint32_t tenant, const char* name) {
    core::AgentConfig a;
    a.id = core::AgentId(id);
    a.tenant = core::TenantId(tenant);
    a.name = name;
    a.extension = std::to_string(1000 + id);
    config.agents.push_back(a);
  };
  agent(0, 0, "ann");
  agent(1, 0, "bob");
  agent(2, 1, "carl");
  return config;
}

// Users: ann and bob work as themselves (agent role), boss supervises, reader only reads,
// carl is an agent of the other tenant, ghost has the agent role but no agent.
std::shared_ptr<const ApiDirectory> directory() {
  auto d = std::make_shared<ApiDirectory>();
  d->tenants.push_back({core::TenantId(0), "acme", {"lunch", "training"}});
  d->tenants.push_back({core::TenantId(1), "globex", {}});
  auto user = [&](std::uint32_t tenant, const char* tenant_name, const char* name, Roles roles,
                  core::AgentId agent, const char* agent_name) {
    d->users.push_back({core::TenantId(tenant), tenant_name, name, roles, agent, agent_name});
    d->tokens.emplace(sha256_hex(std::string(name) + "-token"),
                      ApiDirectory::Token{d->users.size() - 1, "main", std::nullopt});
  };
  user(0, "acme", "ann", Roles{Role::kAgent}, core::AgentId(0), "ann");
  user(0, "acme", "bob", Roles{Role::kAgent, Role::kReadOnly}, core::AgentId(1), "bob");
  user(0, "acme", "boss", Roles{Role::kSupervisor}, core::AgentId(), "");
  user(0, "acme", "reader", Roles{Role::kReadOnly}, core::AgentId(), "");
  user(1, "globex", "carl", Roles{Role::kAgent}, core::AgentId(2), "carl");
  user(0, "acme", "ghost", Roles{Role::kAgent}, core::AgentId(), "");
  d->tokens.emplace(sha256_hex("old-token"),
                    ApiDirectory::Token{0, "expired", std::chrono::system_clock::now() - 1h});
  return d;
}

struct Fixture {
  app::CoreThread core{app::CoreThread::Options{}};
  std::mutex log_mutex;
  std::vector<std::string> denied;  // the audit lines' reasons
  ApiServer server;
  std::unique_ptr<v1::AgentService::Stub> stub;

  Fixture() : server(ApiOptions{}, hooks(), directory()) {
    core.start();
    REQUIRE(core.submit_and_wait([](core::RoutingCore& c) { return c.apply_config(two_tenants()); })
                .get());
    REQUIRE_FALSE(server.start().has_value());
    stub = v1::AgentService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials()));
  }
  ~Fixture() {
    server.stop();
    core.stop();
  }

  ApiHooks hooks() {
    ApiHooks h;
    h.submit = [this](std::function<void(core::RoutingCore&)> command) {
      return core.submit(std::move(command));
    };
    h.log = [this](ApiLogLevel, std::string_view event, std::initializer_list<ApiLogField> fields) {
      if (event != "api.denied") return;
      std::lock_guard lock(log_mutex);
      for (const auto& [key, value] : fields)
        if (key == "reason") denied.push_back(value);
    };
    return h;
  }

  // One call as `token`'s user ("" sends no token).
  template <typename Request>
  grpc::Status call(grpc::Status (v1::AgentService::Stub::*rpc)(grpc::ClientContext*,
                                                                const Request&, v1::AgentStatus*),
                    const std::string& token, const Request& request, v1::AgentStatus& out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 30s);
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    return (stub.get()->*rpc)(&context, request, &out);
  }
};

v1::LoginRequest login(bool ready) {
  v1::LoginRequest r;
  r.set_ready(ready);
  return r;
}

v1::SetNotReadyRequest not_ready(const std::string& reason) {
  v1::SetNotReadyRequest r;
  r.set_reason(reason);
  return r;
}

TEST_CASE("an agent logs in, readies, takes a break and logs out over gRPC", "[api][agent]") {
  Fixture f;
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login(false), status).ok());
  CHECK(status.agent() == "ann");
  CHECK(status.state() == v1::AGENT_STATE_NOT_READY);
  CHECK(status.reason() == "login");
  CHECK(status.since().seconds() > 0);
  REQUIRE(
      f.call(&v1::AgentService::Stub::SetReady, "ann-token", v1::SetReadyRequest{}, status).ok());
  CHECK(status.state() == v1::AGENT_STATE_READY);
  CHECK(status.reason().empty());
  REQUIRE(
      f.call(&v1::AgentService::Stub::SetNotReady, "ann-token", not_ready("lunch"), status).ok());
  CHECK(status.state() == v1::AGENT_STATE_NOT_READY);
  CHECK(status.reason() == "lunch");
  v1::SetWorkModeRequest manual;
  manual.set_mode(v1::WORK_MODE_MANUAL);
  REQUIRE(f.call(&v1::AgentService::Stub::SetWorkMode, "ann-token", manual, status).ok());
  REQUIRE(
      f.call(&v1::AgentService::Stub::GetStatus, "ann-token", v1::GetStatusRequest{}, status).ok());
  CHECK(status.reason() == "lunch");
  REQUIRE(f.call(&v1::AgentService::Stub::Logout, "ann-token", v1::LogoutRequest{}, status).ok());
  CHECK(status.state() == v1::AGENT_STATE_LOGGED_OUT);
}

TEST_CASE("each agent acts on its own session only", "[api][agent]") {
  Fixture f;
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "bob-token", login(true), status).ok());
  CHECK(status.agent() == "bob");
  CHECK(status.state() == v1::AGENT_STATE_READY);
  REQUIRE(
      f.call(&v1::AgentService::Stub::GetStatus, "ann-token", v1::GetStatusRequest{}, status).ok());
  CHECK(status.agent() == "ann");
  CHECK(status.state() == v1::AGENT_STATE_LOGGED_OUT);
  // The other tenant's agent: its own session, its tenant's (empty: free) reason codes.
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "carl-token", login(false), status).ok());
  REQUIRE(
      f.call(&v1::AgentService::Stub::SetNotReady, "carl-token", not_ready("nap"), status).ok());
  CHECK(status.agent() == "carl");
  CHECK(status.reason() == "nap");
}

TEST_CASE("bad requests are INVALID_ARGUMENT naming the field", "[api][agent]") {
  Fixture f;
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login(false), status).ok());
  auto s = f.call(&v1::AgentService::Stub::SetNotReady, "ann-token", not_ready(""), status);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "reason: required: a not-ready reason code");
  s = f.call(&v1::AgentService::Stub::SetNotReady, "ann-token", not_ready("nap"), status);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "reason: unknown reason code \"nap\" of tenant acme");
  s = f.call(&v1::AgentService::Stub::SetNotReady, "ann-token", not_ready(std::string(80, 'x')),
             status);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  s = f.call(&v1::AgentService::Stub::SetWorkMode, "ann-token", v1::SetWorkModeRequest{}, status);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "mode: required: WORK_MODE_AUTO_READY or WORK_MODE_MANUAL");
  v1::SetWorkModeRequest unknown;
  unknown.set_mode(static_cast<v1::WorkMode>(77));
  s = f.call(&v1::AgentService::Stub::SetWorkMode, "ann-token", unknown, status);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("a command the agent's state forbids is FAILED_PRECONDITION", "[api][agent]") {
  Fixture f;
  v1::AgentStatus status;
  auto s = f.call(&v1::AgentService::Stub::SetReady, "ann-token", v1::SetReadyRequest{}, status);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_FALSE(s.error_message().empty());
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login(true), status).ok());
  s = f.call(&v1::AgentService::Stub::Login, "ann-token", login(true), status);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  s = f.call(&v1::AgentService::Stub::EndWrapUp, "ann-token", v1::EndWrapUpRequest{}, status);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("who may call AgentService: agents with an agent, nobody else", "[api][agent][auth]") {
  Fixture f;
  v1::AgentStatus status;
  struct Case {
    std::string token;
    grpc::StatusCode expected;
    std::string reason;  // of the audit line
  };
  const std::vector<Case> cases{
      {"", grpc::StatusCode::UNAUTHENTICATED, "no bearer token"},
      {"wrong-token", grpc::StatusCode::UNAUTHENTICATED, "unknown token"},
      {"old-token", grpc::StatusCode::UNAUTHENTICATED, "the token has expired"},
      {"boss-token", grpc::StatusCode::PERMISSION_DENIED, "role not allowed"},
      {"reader-token", grpc::StatusCode::PERMISSION_DENIED, "role not allowed"},
      {"ghost-token", grpc::StatusCode::PERMISSION_DENIED, "the user works as no agent"},
  };
  for (const auto& c : cases) {
    INFO("token '" << c.token << "'");
    const auto s = f.call(&v1::AgentService::Stub::Login, c.token, login(true), status);
    CHECK(s.error_code() == c.expected);
    std::lock_guard lock(f.log_mutex);
    REQUIRE_FALSE(f.denied.empty());
    CHECK(f.denied.back() == c.reason);
  }
  // Nobody was logged in by the refused calls.
  REQUIRE(
      f.call(&v1::AgentService::Stub::GetStatus, "ann-token", v1::GetStatusRequest{}, status).ok());
  CHECK(status.state() == v1::AGENT_STATE_LOGGED_OUT);
}

TEST_CASE("the server answers gRPC health checks", "[api]") {
  Fixture f;
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(f.server.port()),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 30s);
  // grpc.health.v1.HealthCheckRequest{service: ""} is the empty message; the answer
  // HealthCheckResponse{status: SERVING} is field 1, varint 1.
  const grpc::Slice empty(std::string{});
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  std::mutex m;
  std::condition_variable done_cv;
  bool done = false;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status s) {
                      std::lock_guard lock(m);
                      status = std::move(s);
                      done = true;
                      done_cv.notify_all();
                    });
  std::unique_lock lock(m);
  REQUIRE(done_cv.wait_for(lock, 30s, [&] { return done; }));
  REQUIRE(status.ok());
  std::vector<grpc::Slice> slices;
  REQUIRE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices)
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  CHECK(bytes == std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace acd::api
