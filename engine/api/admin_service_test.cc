// AdminService through a real gRPC channel, with a fake admin hook in place of the daemon's
// worker: who may call what (admin only), that every request is confined to the caller's
// tenant, INVALID_ARGUMENT naming the request's field, the hook's outcomes as gRPC codes,
// and the audit lines.
#include "engine/api/admin_service.h"

#include <catch2/catch.hpp>
#include <map>
#include <thread>

#include "acd/v1/admin_service.grpc.pb.h"
#include "engine/api/api_test_fixture.h"

namespace acd::api {
namespace {

using namespace acd::api::testing;
using Code = AdminResult::Code;

// testing::directory() plus globex's administrator, gadmin.
std::shared_ptr<const ApiDirectory> admin_directory() {
  auto d = std::make_shared<ApiDirectory>(*directory());
  d->users.push_back(
      {core::TenantId(1), "globex", "gadmin", Roles{Role::kAdmin}, core::AgentId(), ""});
  d->tokens.emplace(sha256_hex("gadmin-token"),
                    ApiDirectory::Token{d->users.size() - 1, "main", std::nullopt});
  return d;
}

// The daemon's worker as the test wants it: records each request and answers it with
// `answer`'s result, on a thread of its own.
struct FakeAdmin {
  std::mutex mutex;
  std::vector<AdminRequest> requests;
  std::function<AdminResult(const AdminRequest&)> answer = [](const AdminRequest&) {
    return AdminResult{};
  };
  bool take = true;  // false: the hook refuses (busy or stopping)
  std::vector<std::thread> threads;

  bool run(AdminRequest request, std::function<void(AdminResult)> done) {
    std::lock_guard lock(mutex);
    if (!take) return false;
    AdminResult result = answer(request);
    requests.push_back(std::move(request));
    threads.emplace_back([done = std::move(done), result = std::move(result)] { done(result); });
    return true;
  }
  std::vector<AdminRequest> taken() {
    std::lock_guard lock(mutex);
    return requests;
  }
  void join() {
    std::vector<std::thread> running;
    {
      std::lock_guard lock(mutex);
      running.swap(threads);
    }
    for (auto& t : running) t.join();
  }
};

struct LogLine {
  std::string event;
  std::map<std::string, std::string> fields;
};

struct AdminFixture {
  FakeAdmin admin;
  std::mutex log_mutex;
  std::vector<LogLine> lines;
  ApiServer server;
  std::unique_ptr<v1::AdminService::Stub> stub;

  explicit AdminFixture(bool with_hook = true)
      : server(ApiOptions{}, hooks(with_hook), admin_directory()) {
    REQUIRE_FALSE(server.start().has_value());
    stub = v1::AdminService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server.port()), grpc::InsecureChannelCredentials()));
  }
  ~AdminFixture() {
    admin.join();
    server.stop();
    admin.join();
  }

  ApiHooks hooks(bool with_hook) {
    ApiHooks h;
    h.submit = [](std::function<void(core::RoutingCore&)>) { return false; };
    if (with_hook) {
      h.admin = [this](AdminRequest request, std::function<void(AdminResult)> done) {
        return admin.run(std::move(request), std::move(done));
      };
    }
    h.log = [this](ApiLogLevel, std::string_view event, std::initializer_list<ApiLogField> fields) {
      LogLine line{std::string(event), {}};
      for (const auto& [key, value] : fields) line.fields[std::string(key)] = value;
      std::lock_guard lock(log_mutex);
      lines.push_back(std::move(line));
    };
    return h;
  }

  std::vector<LogLine> logged(const std::string& event) {
    std::lock_guard lock(log_mutex);
    std::vector<LogLine> out;
    for (const auto& l : lines)
      if (l.event == event) out.push_back(l);
    return out;
  }

  template <typename Request, typename Response>
  grpc::Status call(grpc::Status (v1::AdminService::Stub::*rpc)(grpc::ClientContext*,
                                                                const Request&, Response*),
                    const std::string& token, const Request& request, Response& out) {
    return Fixture::invoke(*stub, rpc, token, request, out);
  }
};

v1::ApplyConfigRequest apply_request(const std::string& yaml, bool dry_run = false) {
  v1::ApplyConfigRequest r;
  r.set_yaml(yaml);
  r.set_dry_run(dry_run);
  return r;
}

const char* const kAcme = "tenants:\n  - name: acme\n";

// One call of each RPC with valid fields, as `token`'s user.
std::vector<std::pair<std::string, grpc::Status>> every_rpc(AdminFixture& f,
                                                            const std::string& token) {
  std::vector<std::pair<std::string, grpc::Status>> out;
  using S = v1::AdminService::Stub;
  {
    v1::ExportConfigResponse r;
    out.emplace_back("ExportConfig", f.call(&S::ExportConfig, token, v1::ExportConfigRequest{}, r));
  }
  {
    v1::DiffConfigRequest q;
    q.set_yaml(kAcme);
    v1::ConfigChanges r;
    out.emplace_back("DiffConfig", f.call(&S::DiffConfig, token, q, r));
  }
  {
    v1::ConfigChanges r;
    out.emplace_back("ApplyConfig", f.call(&S::ApplyConfig, token, apply_request(kAcme), r));
  }
  {
    v1::ListEntitiesRequest q;
    q.set_kind(v1::ENTITY_KIND_AGENT);
    v1::ListEntitiesResponse r;
    out.emplace_back("ListEntities", f.call(&S::ListEntities, token, q, r));
  }
  {
    v1::GetEntityRequest q;
    q.set_kind(v1::ENTITY_KIND_QUEUE);
    q.set_name("support");
    v1::ConfigEntity r;
    out.emplace_back("GetEntity", f.call(&S::GetEntity, token, q, r));
  }
  {
    v1::PutEntityRequest q;
    q.set_kind(v1::ENTITY_KIND_SKILL);
    q.set_yaml("name: german\n");
    v1::ConfigChanges r;
    out.emplace_back("PutEntity", f.call(&S::PutEntity, token, q, r));
  }
  {
    v1::DeleteEntityRequest q;
    q.set_kind(v1::ENTITY_KIND_AGENT);
    q.set_name("bob");
    v1::ConfigChanges r;
    out.emplace_back("DeleteEntity", f.call(&S::DeleteEntity, token, q, r));
  }
  {
    v1::ReloadResponse r;
    out.emplace_back("Reload", f.call(&S::Reload, token, v1::ReloadRequest{}, r));
  }
  return out;
}

TEST_CASE("every admin RPC is for the admin role only", "[api][admin]") {
  AdminFixture f;
  for (const char* user : {"ann", "bob", "boss", "reader", "ghost", "carl", "gboss"}) {
    for (const auto& [rpc, status] : every_rpc(f, std::string(user) + "-token")) {
      INFO(user << " " << rpc);
      CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
      CHECK_THAT(status.error_message(),
                 Catch::Contains("AdminService." + rpc) && Catch::Contains("needs the role admin"));
    }
  }
  for (const auto& [rpc, status] : every_rpc(f, "")) {
    INFO(rpc);
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  for (const auto& [rpc, status] : every_rpc(f, "old-token")) {
    INFO(rpc);
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  // Nothing refused reached the database's side; each refusal was logged.
  CHECK(f.admin.taken().empty());
  CHECK(f.logged("api.denied").size() == 8 * 9);

  for (const auto& [rpc, status] : every_rpc(f, "admin-token")) {
    INFO(rpc << ": " << status.error_message());
    CHECK(status.ok());
  }
  CHECK(f.admin.taken().size() == 8);
}

TEST_CASE("admin requests are confined to the caller's tenant", "[api][admin]") {
  AdminFixture f;
  every_rpc(f, "admin-token");
  every_rpc(f, "gadmin-token");
  const auto requests = f.admin.taken();
  REQUIRE(requests.size() == 16);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    INFO(i);
    CHECK(requests[i].tenant == (i < 8 ? "acme" : "globex"));
  }
  // The request's fields reach the hook as given.
  using Op = AdminRequest::Op;
  CHECK(requests[0].op == Op::kExport);
  CHECK(requests[1].op == Op::kDiff);
  CHECK(requests[1].yaml == kAcme);
  CHECK(requests[2].op == Op::kApply);
  CHECK_FALSE(requests[2].dry_run);
  CHECK(requests[3].op == Op::kList);
  CHECK(requests[3].kind == ConfigKind::kAgent);
  CHECK(requests[4].op == Op::kGet);
  CHECK(requests[4].kind == ConfigKind::kQueue);
  CHECK(requests[4].name == "support");
  CHECK(requests[5].op == Op::kPut);
  CHECK(requests[5].kind == ConfigKind::kSkill);
  CHECK(requests[6].op == Op::kDelete);
  CHECK(requests[6].name == "bob");
  CHECK(requests[7].op == Op::kReload);

  // A document naming another tenant: the worker's refusal is PERMISSION_DENIED, audited.
  f.admin.answer = [](const AdminRequest& r) {
    return AdminResult::failure(Code::kForbidden,
                                "line 2, column 11: tenants[0].name: tenant \"globex\" is not "
                                "yours; expected \"" +
                                    r.tenant + "\", the tenant of your user");
  };
  v1::ConfigChanges changes;
  const auto status = f.call(&v1::AdminService::Stub::ApplyConfig, "admin-token",
                             apply_request("tenants:\n  - name: globex\n"), changes);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_THAT(status.error_message(), Catch::StartsWith("line 2, column 11: tenants[0].name:") &&
                                         Catch::Contains("expected \"acme\""));
  f.admin.join();
  const auto denied = f.logged("api.denied");
  REQUIRE(denied.size() == 1);
  CHECK(denied[0].fields.at("rpc") == "AdminService.ApplyConfig");
  CHECK(denied[0].fields.at("tenant") == "acme");
  CHECK(denied[0].fields.at("user") == "admin");
}

TEST_CASE("admin requests with a bad field are INVALID_ARGUMENT naming it", "[api][admin]") {
  AdminFixture f;
  using S = v1::AdminService::Stub;
  auto expect = [](const grpc::Status& status, const std::string& start) {
    INFO(status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::StartsWith(start));
  };
  {
    v1::DiffConfigRequest q;
    q.set_yaml(" \n");
    v1::ConfigChanges r;
    expect(f.call(&S::DiffConfig, "admin-token", q, r), "yaml: required");
  }
  {
    v1::ConfigChanges r;
    expect(f.call(&S::ApplyConfig, "admin-token", apply_request(""), r), "yaml: required");
  }
  {
    v1::ListEntitiesResponse r;
    expect(f.call(&S::ListEntities, "admin-token", v1::ListEntitiesRequest{}, r), "kind: required");
  }
  {
    v1::ListEntitiesRequest q;
    q.set_kind(static_cast<v1::EntityKind>(42));
    v1::ListEntitiesResponse r;
    expect(f.call(&S::ListEntities, "admin-token", q, r), "kind: unknown kind 42");
  }
  {
    v1::GetEntityRequest q;
    q.set_kind(v1::ENTITY_KIND_AGENT);
    v1::ConfigEntity r;
    expect(f.call(&S::GetEntity, "admin-token", q, r), "name: required");
  }
  {
    v1::PutEntityRequest q;
    q.set_kind(v1::ENTITY_KIND_AGENT);
    v1::ConfigChanges r;
    expect(f.call(&S::PutEntity, "admin-token", q, r), "yaml: required");
  }
  {
    v1::PutEntityRequest q;
    q.set_yaml("name: zoe\n");
    v1::ConfigChanges r;
    expect(f.call(&S::PutEntity, "admin-token", q, r), "kind: required");
  }
  {
    v1::DeleteEntityRequest q;
    q.set_kind(v1::ENTITY_KIND_TENANT);
    q.set_name("acme");
    v1::ConfigChanges r;
    expect(f.call(&S::DeleteEntity, "admin-token", q, r), "kind: ENTITY_KIND_TENANT cannot");
  }
  {
    v1::DeleteEntityRequest q;
    q.set_kind(v1::ENTITY_KIND_USER);
    v1::ConfigChanges r;
    expect(f.call(&S::DeleteEntity, "admin-token", q, r), "name: required");
  }
  CHECK(f.admin.taken().empty());

  // The worker's located errors come back as they are.
  const std::string located =
      "line 4, column 15: tenants[0].agents[0].extension: expected a string, got a map\n"
      "line 9, column 7: tenants[0].queues[0].strategy: unknown strategy \"sideways\"";
  f.admin.answer = [&](const AdminRequest&) {
    return AdminResult::failure(Code::kInvalid, located);
  };
  v1::ConfigChanges r;
  const auto status = f.call(&S::ApplyConfig, "admin-token", apply_request(kAcme), r);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == located);
}

TEST_CASE("the worker's outcomes as gRPC codes", "[api][admin]") {
  AdminFixture f;
  const std::pair<Code, grpc::StatusCode> cases[] = {
      {Code::kNotFound, grpc::StatusCode::NOT_FOUND},
      {Code::kReferenced, grpc::StatusCode::FAILED_PRECONDITION},
      {Code::kConflict, grpc::StatusCode::ABORTED},
      {Code::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {Code::kFailed, grpc::StatusCode::INTERNAL}};
  for (const auto& [code, expected] : cases) {
    f.admin.answer = [code = code](const AdminRequest&) {
      return AdminResult::failure(code, "what went wrong");
    };
    v1::DeleteEntityRequest q;
    q.set_kind(v1::ENTITY_KIND_AGENT);
    q.set_name("ann");
    v1::ConfigChanges r;
    const auto status = f.call(&v1::AdminService::Stub::DeleteEntity, "admin-token", q, r);
    CHECK(status.error_code() == expected);
    CHECK(status.error_message() == "what went wrong");
  }
  // A worker that takes no more requests.
  f.admin.take = false;
  v1::ExportConfigResponse exported;
  const auto busy = f.call(&v1::AdminService::Stub::ExportConfig, "admin-token",
                           v1::ExportConfigRequest{}, exported);
  CHECK(busy.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(f.logged("api.privileged").empty());
}

TEST_CASE("an engine without the admin hook answers UNAVAILABLE", "[api][admin]") {
  AdminFixture f(/*with_hook=*/false);
  v1::ExportConfigResponse r;
  const auto status =
      f.call(&v1::AdminService::Stub::ExportConfig, "admin-token", v1::ExportConfigRequest{}, r);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("answers carry the worker's result; changes written are audited", "[api][admin]") {
  AdminFixture f;
  using S = v1::AdminService::Stub;
  f.admin.answer = [](const AdminRequest& r) {
    AdminResult result;
    switch (r.op) {
      case AdminRequest::Op::kExport: result.yaml = "tenants:\n  - name: acme\n"; break;
      case AdminRequest::Op::kList:
        result.entities = {{"ann", "name: ann\n"}, {"bob", "name: bob\n"}};
        break;
      case AdminRequest::Op::kGet:
        result.entities = {{"support", "name: support\n"}};
        result.yaml = "name: support\n";
        break;
      case AdminRequest::Op::kReload:
        result.message = "reload requested";
        result.agents = 2;
        result.queues = 1;
        break;
      default:
        if (r.op == AdminRequest::Op::kPut) result.entities = {{"support", ""}};
        result.changes = {"~ queue acme/support: ring_timeout 15s -> 12s"};
        result.warnings = {"line 3, column 9: tokens[0].token: a plaintext token; hashed"};
        result.applied = !r.dry_run;
        result.rows_written = r.dry_run ? 0 : 1;
        break;
    }
    return result;
  };
  v1::ExportConfigResponse exported;
  REQUIRE(f.call(&S::ExportConfig, "admin-token", v1::ExportConfigRequest{}, exported).ok());
  CHECK(exported.yaml() == "tenants:\n  - name: acme\n");

  v1::ListEntitiesRequest list;
  list.set_kind(v1::ENTITY_KIND_AGENT);
  v1::ListEntitiesResponse listed;
  REQUIRE(f.call(&S::ListEntities, "admin-token", list, listed).ok());
  REQUIRE(listed.entities_size() == 2);
  CHECK(listed.entities(1).name() == "bob");
  CHECK(listed.entities(1).kind() == v1::ENTITY_KIND_AGENT);
  CHECK(listed.entities(1).yaml() == "name: bob\n");

  v1::GetEntityRequest get;
  get.set_kind(v1::ENTITY_KIND_QUEUE);
  get.set_name("support");
  v1::ConfigEntity entity;
  REQUIRE(f.call(&S::GetEntity, "admin-token", get, entity).ok());
  CHECK(entity.name() == "support");
  CHECK(entity.kind() == v1::ENTITY_KIND_QUEUE);
  CHECK(entity.yaml() == "name: support\n");

  // A dry run writes nothing and is not audited.
  v1::ConfigChanges changes;
  REQUIRE(f.call(&S::ApplyConfig, "admin-token", apply_request(kAcme, true), changes).ok());
  CHECK_FALSE(changes.applied());
  REQUIRE(changes.changes_size() == 1);
  REQUIRE(changes.warnings_size() == 1);
  f.admin.join();
  CHECK(f.logged("api.privileged").empty());

  REQUIRE(f.call(&S::ApplyConfig, "admin-token", apply_request(kAcme), changes).ok());
  CHECK(changes.applied());
  CHECK(changes.rows_written() == 1);
  v1::PutEntityRequest put;
  put.set_kind(v1::ENTITY_KIND_QUEUE);
  put.set_yaml("name: support\nring_timeout: 12s\n");
  REQUIRE(f.call(&S::PutEntity, "admin-token", put, changes).ok());
  v1::ReloadResponse reloaded;
  REQUIRE(f.call(&S::Reload, "admin-token", v1::ReloadRequest{}, reloaded).ok());
  CHECK(reloaded.message() == "reload requested");
  CHECK(reloaded.agents() == 2);
  CHECK(reloaded.queues() == 1);
  f.admin.join();
  const auto audit = f.logged("api.privileged");
  REQUIRE(audit.size() == 3);
  CHECK(audit[0].fields.at("rpc") == "AdminService.ApplyConfig");
  CHECK(audit[0].fields.at("tenant") == "acme");
  CHECK(audit[0].fields.at("user") == "admin");
  CHECK(audit[0].fields.at("changed") == "~ queue acme/support: ring_timeout 15s -> 12s");
  CHECK(audit[1].fields.at("rpc") == "AdminService.PutEntity");
  CHECK(audit[0].fields.count("entity") == 0);
  CHECK(audit[1].fields.at("entity") == "queue support");
  CHECK(audit[2].fields.at("rpc") == "AdminService.Reload");
}

TEST_CASE("entity kinds convert both ways", "[api][admin]") {
  for (int k = 1; k <= 11; ++k) {
    const auto kind = from_proto(static_cast<v1::EntityKind>(k));
    REQUIRE(kind);
    CHECK(to_proto(*kind) == static_cast<v1::EntityKind>(k));
  }
  CHECK_FALSE(from_proto(v1::ENTITY_KIND_UNSPECIFIED));
  CHECK_FALSE(from_proto(static_cast<v1::EntityKind>(12)));
  CHECK(std::string(to_string(ConfigKind::kIvrMenu)) == "ivr_menu");
  CHECK(std::string(to_string(ConfigKind::kFlow)) == "flow");
}

}  // namespace
}  // namespace acd::api
