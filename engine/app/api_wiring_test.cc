#include "engine/app/api_wiring.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/api/api_server.h"
#include "engine/app/config.h"
#include "engine/common/digest.h"

namespace acd::app {
namespace {

DaemonConfig load(std::string_view text) {
  NameRegistry registry;
  auto result = load_config_text(text, "test.yaml", registry);
  if (!result.ok()) FAIL(result.error().front().to_string());
  return std::move(result.value());
}

TEST_CASE("the API directory has every user, role, token and agent of the config",
          "[api][config]") {
  const DaemonConfig config = load(R"(api: {listen: "127.0.0.1:0"}
tenants:
  - name: acme
    not_ready_reasons: [lunch]
    agents: [{name: ann, extension: "10"}]
    users:
      - {name: ann, roles: [agent], agent: ann,
         tokens: [{name: desk, token: "ann-desk-token-0123456789"}]}
      - {name: boss, roles: [supervisor, read-only],
         tokens: [{name: old, token: "boss-old-token-0123456789", expires_at: "2020-01-01"}]}
  - name: globex
    users: [{name: admin, roles: [admin]}]
)");
  CHECK(config.api.listen == "127.0.0.1:0");
  const auto d = make_api_directory(config);
  REQUIRE(d->tenants.size() == 2);
  CHECK(d->tenants[0].not_ready_reasons == std::vector<std::string>{"lunch"});
  REQUIRE(d->users.size() == 3);
  CHECK(d->users[0].agent_name == "ann");
  CHECK(d->users[0].agent.valid());
  CHECK(d->users[1].roles.to_string() == "supervisor,read-only");
  CHECK_FALSE(d->users[1].agent.valid());
  CHECK(d->users[2].tenant_name == "globex");
  const auto now = std::chrono::system_clock::now();
  const auto ann = api::authenticate(*d, "Bearer ann-desk-token-0123456789", now);
  REQUIRE(std::holds_alternative<api::Principal>(ann));
  CHECK(std::get<api::Principal>(ann).user->name == "ann");
  CHECK(std::get<api::AuthFailure>(api::authenticate(*d, "Bearer boss-old-token-0123456789",
                                                     now)) == api::AuthFailure::kExpired);
}

TEST_CASE("api.listen must be host:port", "[api][config]") {
  for (const char* bad : {"50051", "localhost", ":50051", "127.0.0.1:", "127.0.0.1:99999",
                          "::1:50051", "[::1:50051", "127.0.0.1:5x"}) {
    INFO(bad);
    NameRegistry registry;
    auto result = load_config_text(std::string("api: {listen: \"") + bad + "\"}\ntenants: []\n",
                                   "test.yaml", registry);
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().front().to_string(),
               Catch::Contains("api.listen: expected host:port"));
  }
  for (const char* good : {"127.0.0.1:0", "[::1]:50051", "localhost:50051"}) {
    INFO(good);
    NameRegistry registry;
    CHECK(load_config_text(std::string("api: {listen: \"") + good + "\"}\ntenants: []\n",
                           "test.yaml", registry)
              .ok());
  }
}

// api.tls: the files are checked when the configuration loads (read when the API starts).
struct TlsFiles {
  TlsFiles() {
    char pattern[] = "/tmp/acd-api-tls-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir = pattern;
    for (const char* name : {"cert.pem", "key.pem", "ca.pem"})
      std::ofstream(dir / name) << "-----BEGIN CERTIFICATE-----\n";
  }
  ~TlsFiles() { std::filesystem::remove_all(dir); }
  [[nodiscard]] std::string file(const char* name) const { return (dir / name).string(); }
  std::filesystem::path dir;
};

ConfigResult load_api(const std::string& tls) {
  NameRegistry registry;
  return load_config_text("api:\n  listen: \"127.0.0.1:0\"\n  tls: " + tls + "\ntenants: []\n",
                          "test.yaml", registry);
}

TEST_CASE("api.tls names a certificate, its key and optionally a client CA", "[api][config]") {
  TlsFiles files;
  auto plain = load_api("{certificate: " + files.file("cert.pem") +
                        ", private_key: " + files.file("key.pem") + "}");
  REQUIRE(plain.ok());
  REQUIRE(plain.value().api.tls.has_value());
  CHECK(plain.value().api.tls->certificate == files.file("cert.pem"));
  CHECK(plain.value().api.tls->private_key == files.file("key.pem"));
  CHECK(plain.value().api.tls->client_ca.empty());
  CHECK_FALSE(plain.value().api.tls->require_client_certificate);

  auto mutual = load_api(
      "{certificate: " + files.file("cert.pem") + ", private_key: " + files.file("key.pem") +
      ", client_ca: " + files.file("ca.pem") + ", require_client_certificate: true}");
  REQUIRE(mutual.ok());
  CHECK(mutual.value().api.tls->client_ca == files.file("ca.pem"));
  CHECK(mutual.value().api.tls->require_client_certificate);

  NameRegistry registry;
  auto none =
      load_config_text("api: {listen: \"127.0.0.1:0\"}\ntenants: []\n", "test.yaml", registry);
  REQUIRE(none.ok());
  CHECK_FALSE(none.value().api.tls.has_value());
}

TEST_CASE("api.tls errors name the file, the line and what was expected", "[api][config]") {
  TlsFiles files;
  SECTION("a certificate file that does not exist") {
    auto result = load_api("{certificate: " + files.file("missing.pem") +
                           ", private_key: " + files.file("key.pem") + "}");
    REQUIRE_FALSE(result.ok());
    const std::string error = result.error().front().to_string();
    CHECK_THAT(error, Catch::StartsWith("test.yaml:3:"));
    CHECK_THAT(error, Catch::Contains("api.tls.certificate: cannot read \"" +
                                      files.file("missing.pem") + "\": No such file"));
    CHECK_THAT(error, Catch::Contains("expected a PEM file with the server's certificate"));
  }
  SECTION("a directory instead of a file") {
    auto result = load_api("{certificate: " + files.file("cert.pem") +
                           ", private_key: " + files.dir.string() + "}");
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().front().to_string(),
               Catch::Contains("api.tls.private_key: \"" + files.dir.string() +
                               "\" is not a regular file; expected a PEM file"));
  }
  SECTION("no private key") {
    auto result = load_api("{certificate: " + files.file("cert.pem") + "}");
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().front().to_string(), Catch::Contains("private_key"));
  }
  SECTION("require_client_certificate without client_ca") {
    auto result = load_api("{certificate: " + files.file("cert.pem") + ", private_key: " +
                           files.file("key.pem") + ", require_client_certificate: true}");
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().front().to_string(),
               Catch::Contains("api.tls.require_client_certificate: require_client_certificate: "
                               "true needs api.tls.client_ca"));
  }
  SECTION("an unknown key") {
    auto result = load_api("{certificate: " + files.file("cert.pem") + ", private_key: " +
                           files.file("key.pem") + ", ca: " + files.file("ca.pem") + "}");
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().front().to_string(), Catch::Contains("api.tls.ca"));
  }
}

// A self-signed P-256 certificate (CN=acd-test, valid until 2126), its key, another key,
// and the first key encrypted (passphrase "secret").
constexpr const char* kTestKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguN2d7otul5bltv+7
I+CQfxI3Kx4JbJyUC/ZuoRnZ9NGhRANCAARDJ4pU40fdTiuTaD9z/KJQ5fvnTw3a
OA6ryACbeZ7tTnrYMU4X6KPsn0iRYMI742wFRGiMd5A9o9mObuUtu5CL
-----END PRIVATE KEY-----
)";
constexpr const char* kTestCertificate = R"(-----BEGIN CERTIFICATE-----
MIIBfDCCASOgAwIBAgIUTDbp6I8Y/eNgPUIg1iXtUxtB8nUwCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIYWNkLXRlc3QwIBcNMjYxMTI0MDYzNDA5WhgPMjEyNjEwMzEw
NjM0MDlaMBMxETAPBgNVBAMMCGFjZC10ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEQyeKVONH3U4rk2g/c/yiUOX7508N2jgOq8gAm3me7U562DFOF+ij7J9I
kWDCO+NsBURojHeQPaPZjm7lLbuQi6NTMFEwHQYDVR0OBBYEFN/mdjoYaiidZhbD
Vd9vmyAYKGQoMB8GA1UdIwQYMBaAFN/mdjoYaiidZhbDVd9vmyAYKGQoMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgNIKXyW21xmjd5lewWrcbVJAB
Dpf0OxBneaQ5LA+oaAUCIDMU/ldPTtTbXQ/QC6S1G5vBd/ZEre28zogYHNth0/RO
-----END CERTIFICATE-----
)";
constexpr const char* kOtherKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggU1MLCiDAdD9l8Wg
nQdlHdtejpwnTQf53YiqdIR/7CGhRANCAARknX86/HtRCoxIKDngTZ4Uzir/Pehr
92RBaZ7Sn3fHYTPgKDa2FJUE9s/YwykXf5XWv3NoPtkJjN9Jy2l66OIE
-----END PRIVATE KEY-----
)";
constexpr const char* kEncryptedKey = R"(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjzBlWY66O4tAICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEB2WsxvB8LTg1IPWb6UAPZ0EgZCN
0S3g/DmdRFnTwPs9hHJICBYOSKfPwdlNXP9u5zmDOVtYKbGGubAA2zfmSeHWrRMf
JqD/wZYgCdS26VYZCGZoI+jOfhQvFaY6ufdPiHIH4IYxWq/Ogw//R2HuMFHjtyDo
lWn3TpztncJYl6UgU+RRfdNUl53yEhJQ2wKsMcDpyxkhrCzAWnaUQM7fKQQbfzE=
-----END ENCRYPTED PRIVATE KEY-----
)";

TEST_CASE("check_tls parses the PEM texts the daemon read", "[api][config]") {
  using Part = api::ApiTlsProblem::Part;
  api::ApiTlsOptions tls;
  tls.certificate_chain = kTestCertificate;
  tls.private_key = kTestKey;
  CHECK_FALSE(api::check_tls(tls).has_value());
  tls.client_ca = kTestCertificate;
  tls.require_client_certificate = true;
  CHECK_FALSE(api::check_tls(tls).has_value());

  auto problem = [&](auto change) {
    api::ApiTlsOptions bad = tls;
    change(bad);
    auto p = api::check_tls(bad);
    REQUIRE(p.has_value());
    return *p;
  };
  auto p = problem([](auto& t) { t.certificate_chain = "not a certificate"; });
  CHECK(p.part == Part::kCertificate);
  CHECK_THAT(p.what, Catch::Contains("no PEM certificate"));
  p = problem([](auto& t) { t.certificate_chain = kTestKey; });
  CHECK(p.part == Part::kCertificate);
  p = problem([](auto& t) { t.private_key = kTestCertificate; });
  CHECK(p.part == Part::kPrivateKey);
  CHECK_THAT(p.what, Catch::Contains("no PEM private key"));
  p = problem([](auto& t) { t.private_key = kOtherKey; });
  CHECK(p.part == Part::kPrivateKey);
  CHECK_THAT(p.what, Catch::Contains("does not belong to the certificate"));
  p = problem([](auto& t) { t.private_key = kEncryptedKey; });
  CHECK(p.part == Part::kPrivateKey);
  CHECK_THAT(p.what, Catch::Contains("encrypted"));
  p = problem([](auto& t) { t.client_ca = "-----BEGIN CERTIFICATE-----\ngarbage\n"; });
  CHECK(p.part == Part::kClientCa);
  p = problem([](auto& t) { t.client_ca.clear(); });
  CHECK(p.part == Part::kClientCa);
}

TEST_CASE("report answers come from the store's results", "[api][reports]") {
  namespace v1 = acd::v1;
  using std::chrono::seconds;
  const store::ReportTime at =
      store::ReportTime(seconds(1709632800)) + std::chrono::microseconds(5);

  store::CallSearchResult found;
  store::CallRecordRow row;
  row.call_id = 42;
  row.direction = "outbound";
  row.caller = "1001";
  row.agent = "ann";
  row.final_state = "hung-up";
  row.arrived_at = at;
  row.answered_at = at + seconds(3);
  row.ended_at = at + seconds(60);
  row.talk_ms = 57250;
  found.calls.push_back(row);
  found.more = true;
  api::ReportAnswer answer = to_report_answer(found);
  REQUIRE(answer.status.ok());
  const auto& page = std::get<v1::SearchCallsResponse>(answer.response);
  REQUIRE(page.calls_size() == 1);
  const v1::CallRecord& call = page.calls(0);
  CHECK(call.call_id() == 42);
  CHECK(call.direction() == v1::CALL_DIRECTION_OUTBOUND);
  CHECK(call.final_state() == v1::CALL_FINAL_STATE_HUNG_UP);
  CHECK(call.arrived_at().seconds() == 1709632800);
  CHECK(call.arrived_at().nanos() == 5000);
  CHECK_FALSE(call.has_queued_at());
  CHECK(call.answered_at().seconds() == 1709632803);
  CHECK(call.talk().seconds() == 57);
  CHECK(call.talk().nanos() == 250000000);
  CHECK_FALSE(call.has_sl_threshold());
  REQUIRE(answer.next);
  CHECK(answer.next->call_id == 42);
  CHECK(answer.next->arrived_at == at);
  found.more = false;
  CHECK_FALSE(to_report_answer(found).next);

  // Failures as statuses.
  auto code = [](store::QueryFailure failure, bool too_many = false) {
    store::ReportResult r;
    r.status = {failure, "report queries: what happened"};
    r.too_many_rows = too_many;
    return to_report_answer(store::ReportKind::kQueueIntervals, r).status.error_code();
  };
  CHECK(code(store::QueryFailure::kUnavailable) == grpc::StatusCode::UNAVAILABLE);
  CHECK(code(store::QueryFailure::kTimeout) == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(code(store::QueryFailure::kRejected) == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(code(store::QueryFailure::kFailed) == grpc::StatusCode::INTERNAL);
  CHECK(code(store::QueryFailure::kFailed, true) == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(code(store::QueryFailure::kShuttingDown) == grpc::StatusCode::UNAVAILABLE);
  CHECK(code(store::QueryFailure::kCancelled) == grpc::StatusCode::CANCELLED);

  // Rows, absent figures absent.
  store::ReportResult queues;
  store::QueueIntervalRow q;
  q.queue = "sales";
  q.interval_start = at;
  q.interval_local = "2024-03-05T11:00:00";
  q.offered = 2;
  q.abandoned = 2;
  q.abandon_rate = 1.0;
  q.longest_wait_ms = 1500;
  queues.rows = std::vector<store::QueueIntervalRow>{q};
  answer = to_report_answer(store::ReportKind::kQueueIntervals, queues);
  REQUIRE(answer.status.ok());
  const auto& report = std::get<v1::QueueReportResponse>(answer.response);
  REQUIRE(report.rows_size() == 1);
  CHECK(report.rows(0).interval_local() == "2024-03-05T11:00:00");
  CHECK(report.rows(0).offered() == 2);
  CHECK_FALSE(report.rows(0).has_sl_answered());
  CHECK(report.rows(0).has_abandon_rate());
  CHECK_FALSE(report.rows(0).has_asa());
  CHECK(report.rows(0).longest_wait().nanos() == 500000000);

  store::ReportResult states;
  store::AgentStateTimeRow wrap;
  wrap.agent = "ann";
  wrap.state = "wrap-up";
  wrap.duration_ms = 30000;
  store::AgentStateTimeRow later = wrap;
  later.state = "meditating";  // a state of a newer engine
  states.rows = std::vector<store::AgentStateTimeRow>{wrap, later};
  answer = to_report_answer(store::ReportKind::kAgentStateTime, states);
  const auto& time = std::get<v1::AgentStateTimeResponse>(answer.response);
  REQUIRE(time.rows_size() == 2);
  CHECK(time.rows(0).state() == v1::AGENT_STATE_WRAP_UP);
  CHECK(time.rows(1).state() == v1::AGENT_STATE_UNSPECIFIED);
  CHECK(time.rows(1).state_name() == "meditating");

  // No rows: the empty response of the kind asked for.
  answer = to_report_answer(store::ReportKind::kAgentIntervals, store::ReportResult{});
  CHECK(std::holds_alternative<v1::AgentReportResponse>(answer.response));
  answer = to_report_answer(store::ReportKind::kAgentMonthlyVolume, store::ReportResult{});
  CHECK(std::holds_alternative<v1::AgentMonthlyVolumeResponse>(answer.response));
}

}  // namespace
}  // namespace acd::app
