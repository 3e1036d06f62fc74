// Call control through a real gRPC channel: what AgentService and SupervisorService send
// the host's call-control hook (a fake here; the SIP side in the daemon, tested black-box
// in tests/api), who may ask, bad fields named, and the hook's verdicts as gRPC codes.
#include "engine/api/call_control.h"

#include <catch2/catch.hpp>

#include "engine/api/api_test_fixture.h"

namespace acd::api {
namespace {

using namespace acd::api::testing;

v1::CallControlResponse ignored;

grpc::Status agent_rpc(Fixture& f, const std::string& token, core::CallAction action) {
  switch (action) {
    case core::CallAction::kHold:
      return Fixture::invoke(*f.stub, &v1::AgentService::Stub::Hold, token, v1::HoldRequest{},
                             ignored);
    case core::CallAction::kRetrieve:
      return Fixture::invoke(*f.stub, &v1::AgentService::Stub::Retrieve, token,
                             v1::RetrieveRequest{}, ignored);
    case core::CallAction::kHangUp:
      return Fixture::invoke(*f.stub, &v1::AgentService::Stub::HangUp, token, v1::HangUpRequest{},
                             ignored);
    case core::CallAction::kPauseRecording:
    case core::CallAction::kResumeRecording: {
      v1::SetRecordingPausedRequest r;
      r.set_paused(action == core::CallAction::kPauseRecording);
      return Fixture::invoke(*f.stub, &v1::AgentService::Stub::SetRecordingPaused, token, r,
                             ignored);
    }
    default: {
      v1::TransferRequest r;
      r.set_queue("support");
      return Fixture::invoke(*f.stub, &v1::AgentService::Stub::Transfer, token, r, ignored);
    }
  }
}

grpc::Status transfer(Fixture& f, const v1::TransferRequest& r,
                      const std::string& token = "ann-token") {
  return Fixture::invoke(*f.stub, &v1::AgentService::Stub::Transfer, token, r, ignored);
}

grpc::Status listen_in(Fixture& f, const std::string& token, const std::string& agent,
                       v1::ListenMode mode, const std::string& phone) {
  v1::ListenInRequest r;
  r.set_agent(agent);
  r.set_mode(mode);
  r.set_phone(phone);
  return f.supervise(&v1::SupervisorService::Stub::ListenIn, token, r, ignored);
}

TEST_CASE("an agent's call-control requests reach the hook for the agent's own call",
          "[api][call]") {
  Fixture f;
  for (core::CallAction action :
       {core::CallAction::kHold, core::CallAction::kRetrieve, core::CallAction::kHangUp,
        core::CallAction::kPauseRecording, core::CallAction::kResumeRecording}) {
    INFO(core::to_string(action));
    REQUIRE(agent_rpc(f, "ann-token", action).ok());
    const core::CallControl sent = f.calls.last();
    CHECK(sent.action == action);
    CHECK(sent.tenant == core::TenantId(0));
    CHECK(sent.agent == core::AgentId(0));
    CHECK(sent.requested_by == "ann");
    CHECK_FALSE(sent.by_supervisor);
  }
  // bob acts on bob's call, never ann's.
  REQUIRE(agent_rpc(f, "bob-token", core::CallAction::kHold).ok());
  CHECK(f.calls.last().agent == core::AgentId(1));
}

TEST_CASE("a transfer names exactly one target; each is checked", "[api][call]") {
  Fixture f;
  v1::TransferRequest r;
  r.set_agent("1001");
  REQUIRE(transfer(f, r).ok());
  CHECK(f.calls.last().action == core::CallAction::kTransfer);
  CHECK(f.calls.last().transfer_to == core::TransferTo::kAgent);
  CHECK(f.calls.last().target == "1001");
  r.set_queue("support");
  REQUIRE(transfer(f, r).ok());
  CHECK(f.calls.last().transfer_to == core::TransferTo::kQueue);
  CHECK(f.calls.last().target == "support");
  r.set_number("+4930123456");
  REQUIRE(transfer(f, r).ok());
  CHECK(f.calls.last().transfer_to == core::TransferTo::kNumber);
  CHECK(f.calls.last().target == "+4930123456");
  const std::size_t sent = f.calls.count();

  auto refused = [&](const v1::TransferRequest& bad, const std::string& field) {
    const grpc::Status s = transfer(f, bad);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(), Catch::StartsWith(field + ": "));
  };
  refused(v1::TransferRequest{}, "target");
  v1::TransferRequest bad;
  bad.set_agent("");
  refused(bad, "agent");
  bad.set_queue("nowhere");
  refused(bad, "queue");
  bad.set_queue("sales");  // globex's queue: as unknown as one that does not exist
  refused(bad, "queue");
  for (const char* number :
       {"", "+", "12a4", "+49 30 1", "sip:1@example.com", "123456789012345678901234567890123"}) {
    INFO(number);
    bad.set_number(number);
    refused(bad, "number");
  }
  CHECK(f.calls.count() == sent);  // nothing bad reached the hook
}

TEST_CASE("the hook's verdicts become gRPC codes; unknown targets name their field",
          "[api][call]") {
  Fixture f;
  f.calls.verdict =
      core::Status(core::ErrorCode::kInvalidState, "agent ann is on no connected call");
  grpc::Status s = agent_rpc(f, "ann-token", core::CallAction::kHold);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() == "agent ann is on no connected call");

  f.calls.verdict = core::Status(core::ErrorCode::kNotFound, "no agent \"zed\" in tenant acme");
  v1::TransferRequest r;
  r.set_agent("zed");
  s = transfer(f, r);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "agent: no agent \"zed\" in tenant acme");
  s = listen_in(f, "boss-token", "ann", v1::LISTEN_MODE_MONITOR, "9999");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::StartsWith("phone: "));

  f.calls.verdict = core::Status(core::ErrorCode::kPermissionDenied,
                                 "transfers to outside numbers are not allowed in tenant acme");
  r.set_number("5551234");
  s = transfer(f, r);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);

  f.calls.verdict = core::Status();
  f.calls.refuse_all = true;
  s = agent_rpc(f, "ann-token", core::CallAction::kHangUp);
  CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("only agents with an agent control their call", "[api][call][auth]") {
  Fixture f;
  for (const char* token : {"boss-token", "reader-token", "admin-token", "ghost-token", "old-token",
                            "nobody-token", ""}) {
    INFO(token);
    for (core::CallAction action :
         {core::CallAction::kHold, core::CallAction::kRetrieve, core::CallAction::kHangUp,
          core::CallAction::kPauseRecording, core::CallAction::kTransfer}) {
      const grpc::Status s = agent_rpc(f, token, action);
      CHECK((s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
             s.error_code() == grpc::StatusCode::UNAUTHENTICATED));
    }
  }
  CHECK(f.calls.count() == 0);
}

TEST_CASE("supervisors listen in, intercept and release an agent's call", "[api][call]") {
  Fixture f;
  REQUIRE(listen_in(f, "boss-token", "ann", v1::LISTEN_MODE_WHISPER, "1001").ok());
  core::CallControl sent = f.calls.last();
  CHECK(sent.action == core::CallAction::kWhisper);
  CHECK(sent.agent == core::AgentId(0));
  CHECK(sent.target == "1001");
  CHECK(sent.by_supervisor);
  CHECK(sent.requested_by == "boss");
  REQUIRE(listen_in(f, "admin-token", "bob", v1::LISTEN_MODE_BARGE, "ann").ok());
  CHECK(f.calls.last().action == core::CallAction::kBarge);
  CHECK(f.calls.last().agent == core::AgentId(1));
  REQUIRE(listen_in(f, "boss-token", "bob", v1::LISTEN_MODE_MONITOR, "ann").ok());
  CHECK(f.calls.last().action == core::CallAction::kMonitor);

  v1::InterceptRequest intercept;
  intercept.set_agent("ann");
  intercept.set_phone("1002");
  REQUIRE(
      f.supervise(&v1::SupervisorService::Stub::Intercept, "boss-token", intercept, ignored).ok());
  CHECK(f.calls.last().action == core::CallAction::kIntercept);
  CHECK(f.calls.last().target == "1002");

  v1::ForceReleaseRequest release;
  release.set_agent("bob");
  REQUIRE(
      f.supervise(&v1::SupervisorService::Stub::ForceRelease, "boss-token", release, ignored).ok());
  sent = f.calls.last();
  CHECK(sent.action == core::CallAction::kHangUp);
  CHECK(sent.agent == core::AgentId(1));
  CHECK(sent.by_supervisor);
  {
    std::lock_guard lock(f.log_mutex);
    CHECK(std::count(f.privileged.begin(), f.privileged.end(), "SupervisorService.ListenIn") == 3);
    CHECK(std::count(f.privileged.begin(), f.privileged.end(), "SupervisorService.Intercept") == 1);
    CHECK(std::count(f.privileged.begin(), f.privileged.end(), "SupervisorService.ForceRelease") ==
          1);
  }
}

TEST_CASE("bad supervisor call-control requests name the field; others are refused",
          "[api][call][auth]") {
  Fixture f;
  auto bad = [&](const grpc::Status& s, const std::string& field) {
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(), Catch::StartsWith(field + ": "));
  };
  bad(listen_in(f, "boss-token", "", v1::LISTEN_MODE_MONITOR, "1001"), "agent");
  bad(listen_in(f, "boss-token", "zed", v1::LISTEN_MODE_MONITOR, "1001"), "agent");
  bad(listen_in(f, "boss-token", "carl", v1::LISTEN_MODE_MONITOR, "1001"), "agent");  // globex
  bad(listen_in(f, "gboss-token", "ann", v1::LISTEN_MODE_MONITOR, "1001"), "agent");  // acme
  bad(listen_in(f, "boss-token", "ann", v1::LISTEN_MODE_UNSPECIFIED, "1001"), "mode");
  bad(listen_in(f, "boss-token", "ann", static_cast<v1::ListenMode>(42), "1001"), "mode");
  // boss works as no agent: the phone to ring must be named.
  bad(listen_in(f, "boss-token", "ann", v1::LISTEN_MODE_MONITOR, ""), "phone");
  v1::InterceptRequest intercept;
  intercept.set_agent("ann");
  bad(f.supervise(&v1::SupervisorService::Stub::Intercept, "boss-token", intercept, ignored),
      "phone");
  v1::ForceReleaseRequest release;
  bad(f.supervise(&v1::SupervisorService::Stub::ForceRelease, "boss-token", release, ignored),
      "agent");
  CHECK(f.calls.count() == 0);

  for (const char* token : {"ann-token", "bob-token", "reader-token", "ghost-token", ""}) {
    INFO(token);
    const grpc::Status s = listen_in(f, token, "ann", v1::LISTEN_MODE_MONITOR, "1001");
    CHECK((s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
           s.error_code() == grpc::StatusCode::UNAUTHENTICATED));
    release.set_agent("ann");
    const grpc::Status r =
        f.supervise(&v1::SupervisorService::Stub::ForceRelease, token, release, ignored);
    CHECK((r.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
           r.error_code() == grpc::StatusCode::UNAUTHENTICATED));
  }
  CHECK(f.calls.count() == 0);
}

TEST_CASE("consultations: a target to ring, then complete, confer or cancel", "[api][call]") {
  Fixture f;
  auto consult = [&](const v1::ConsultRequest& r, const std::string& token = "ann-token") {
    return Fixture::invoke(*f.stub, &v1::AgentService::Stub::Consult, token, r, ignored);
  };
  v1::ConsultRequest r;
  r.set_agent("bob");
  REQUIRE(consult(r).ok());
  core::CallControl sent = f.calls.last();
  CHECK(sent.action == core::CallAction::kConsult);
  CHECK(sent.transfer_to == core::TransferTo::kAgent);
  CHECK(sent.target == "bob");
  CHECK(sent.agent == core::AgentId(0));
  r.set_number("+15550199");
  REQUIRE(consult(r).ok());
  CHECK(f.calls.last().transfer_to == core::TransferTo::kNumber);
  CHECK(f.calls.last().target == "+15550199");
  REQUIRE(Fixture::invoke(*f.stub, &v1::AgentService::Stub::CompleteTransfer, "ann-token",
                          v1::CompleteTransferRequest{}, ignored)
              .ok());
  CHECK(f.calls.last().action == core::CallAction::kCompleteTransfer);
  REQUIRE(Fixture::invoke(*f.stub, &v1::AgentService::Stub::Conference, "ann-token",
                          v1::ConferenceRequest{}, ignored)
              .ok());
  CHECK(f.calls.last().action == core::CallAction::kConference);
  REQUIRE(Fixture::invoke(*f.stub, &v1::AgentService::Stub::CancelConsult, "ann-token",
                          v1::CancelConsultRequest{}, ignored)
              .ok());
  CHECK(f.calls.last().action == core::CallAction::kCancelConsult);
  const std::size_t sent_count = f.calls.count();

  auto refused = [&](const v1::ConsultRequest& bad, const std::string& field) {
    const grpc::Status s = consult(bad);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(), Catch::StartsWith(field + ": "));
  };
  refused(v1::ConsultRequest{}, "target");
  v1::ConsultRequest bad;
  bad.set_agent("");
  refused(bad, "agent");
  bad.set_number("0800-CALL-NOW");
  refused(bad, "number");
  CHECK(f.calls.count() == sent_count);
  // An unknown agent is the SIP side's verdict, named by its field.
  f.calls.verdict = core::Status(core::ErrorCode::kNotFound, "no agent \"zed\" in tenant acme");
  bad.set_agent("zed");
  refused(bad, "agent");
  // Only agents consult.
  for (const char* token : {"boss-token", "reader-token", "ghost-token"}) {
    INFO(token);
    CHECK(consult(r, token).error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
}

TEST_CASE("click-to-dial names an agent or a number", "[api][call]") {
  Fixture f;
  auto dial = [&](const v1::DialRequest& r, const std::string& token = "bob-token") {
    return Fixture::invoke(*f.stub, &v1::AgentService::Stub::Dial, token, r, ignored);
  };
  v1::DialRequest r;
  r.set_number("+15550123");
  REQUIRE(dial(r).ok());
  const core::CallControl sent = f.calls.last();
  CHECK(sent.action == core::CallAction::kDial);
  CHECK(sent.agent == core::AgentId(1));
  CHECK(sent.transfer_to == core::TransferTo::kNumber);
  CHECK(sent.target == "+15550123");
  r.set_agent("ann");
  REQUIRE(dial(r).ok());
  CHECK(f.calls.last().transfer_to == core::TransferTo::kAgent);
  const grpc::Status none = dial(v1::DialRequest{});
  CHECK(none.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(none.error_message(), Catch::StartsWith("target: "));
  r.set_number("call me");
  const grpc::Status bad = dial(r);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(bad.error_message(), Catch::StartsWith("number: "));
  CHECK(dial(r, "boss-token").error_code() == grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("dialable numbers", "[api][call]") {
  CHECK(is_dialable_number("5551234"));
  CHECK(is_dialable_number("+4930123456"));
  CHECK(is_dialable_number(std::string(32, '9')));
  CHECK_FALSE(is_dialable_number(std::string(33, '9')));
  CHECK_FALSE(is_dialable_number("++49"));
  CHECK_FALSE(is_dialable_number("49-30"));
  CHECK_FALSE(is_dialable_number(""));
}

}  // namespace
}  // namespace acd::api
