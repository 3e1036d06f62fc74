// AgentService through a real gRPC channel on loopback, against a routing core running on
// its own thread (app::CoreThread), as in the daemon.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "engine/api/api_test_fixture.h"

namespace acd::api {
namespace {

using namespace acd::api::testing;

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
