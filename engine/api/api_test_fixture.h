// The API tests' world: a routing core on its own thread (app::CoreThread, as in the
// daemon) with two tenants, an ApiServer on a loopback port fed by the core's events, the
// users of both tenants with their tokens ("<user>-token"), and stubs of the services.
#pragma once

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "acd/v1/agent_service.grpc.pb.h"
#include "acd/v1/report_service.grpc.pb.h"
#include "acd/v1/supervisor_service.grpc.pb.h"
#include "acd/v1/task_service.grpc.pb.h"
#include "engine/api/api_server.h"
#include "engine/app/core_thread.h"
#include "engine/common/digest.h"

namespace acd::api::testing {

namespace v1 = acd::v1;
using namespace std::chrono_literals;

// acme: agents ann and bob, queue support (both members), skills billing and french;
// globex: agent carl, queue sales. Each agent takes two chats and one task of each other
// channel at a time.
inline core::CoreConfig two_tenants() {
  core::CoreConfig config;
  config.tenants.push_back({core::TenantId(0), "acme"});
  config.tenants.push_back({core::TenantId(1), "globex"});
  config.skills.push_back({core::SkillId(0), core::TenantId(0), "billing"});
  config.skills.push_back({core::SkillId(1), core::TenantId(0), "french"});
  config.skills.push_back({core::SkillId(2), core::TenantId(1), "spanish"});
  auto agent = [&](std::uint32_t id, std::uint32_t tenant, const char* name) {
    core::AgentConfig a;
    a.id = core::AgentId(id);
    a.tenant = core::TenantId(tenant);
    a.name = name;
    a.extension = std::to_string(1000 + id);
    a.capacity = {2, 1, 1, 1, 1};  // indexed by core::Channel: chat, email, sms, ...
    config.agents.push_back(a);
  };
  agent(0, 0, "ann");
  agent(1, 0, "bob");
  agent(2, 1, "carl");
  auto queue = [&](std::uint32_t id, std::uint32_t tenant, const char* name) {
    core::QueueConfig q;
    q.id = core::QueueId(id);
    q.tenant = core::TenantId(tenant);
    q.name = name;
    config.queues.push_back(q);
  };
  queue(0, 0, "support");
  queue(1, 1, "sales");
  config.members.push_back({core::QueueId(0), core::AgentId(0)});
  config.members.push_back({core::QueueId(0), core::AgentId(1)});
  config.members.push_back({core::QueueId(1), core::AgentId(2)});
  return config;
}

// Users: ann and bob work as themselves (agent role; bob also reads), boss supervises
// acme, admin administers it, reader only reads, ghost has the agent role but no agent;
// carl is an agent of globex, gboss its supervisor. "old-token" is ann's, expired.
inline std::shared_ptr<const ApiDirectory> directory() {
  auto d = std::make_shared<ApiDirectory>();
  ApiTenant acme{core::TenantId(0), "acme", {"lunch", "training"}, {}, {}, {}};
  acme.agents = {{"ann", core::AgentId(0)}, {"bob", core::AgentId(1)}};
  acme.queues = {{"support", core::QueueId(0)}};
  acme.skills = {{"billing", core::SkillId(0)}, {"french", core::SkillId(1)}};
  ApiTenant globex{core::TenantId(1), "globex", {}, {}, {}, {}};
  globex.agents = {{"carl", core::AgentId(2)}};
  globex.queues = {{"sales", core::QueueId(1)}};
  globex.skills = {{"spanish", core::SkillId(2)}};
  d->tenants = {acme, globex};
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
  user(0, "acme", "admin", Roles{Role::kAdmin}, core::AgentId(), "");
  user(1, "globex", "gboss", Roles{Role::kSupervisor}, core::AgentId(), "");
  d->tokens.emplace(sha256_hex("old-token"),
                    ApiDirectory::Token{0, "expired", std::chrono::system_clock::now() - 1h});
  return d;
}

inline v1::LoginRequest login_request(bool ready) {
  v1::LoginRequest r;
  r.set_ready(ready);
  return r;
}

// Forwards the core's events to the server, as the daemon's listener does.
class ServerFeed final : public app::CoreListener {
 public:
  explicit ServerFeed(ApiServer& server) : server_(server) {}
  void on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) override {
    server_.on_core_event(event, core);
  }

 private:
  ApiServer& server_;
};

// A caller lookup the test answers: lookups are recorded; answer() completes one.
struct FakeLookup {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::function<void(v1::ScreenPop)>>> pending;
  bool answer_at_once = false;  // answer from inside the lookup call
  v1::ScreenPop result;

  std::vector<std::string> tenants;  // of each lookup

  bool lookup(const std::string& tenant, std::string number,
              std::function<void(v1::ScreenPop)> done) {
    std::lock_guard lock(mutex);
    tenants.push_back(tenant);
    if (answer_at_once) {
      done(result);
      return true;
    }
    pending.emplace_back(std::move(number), std::move(done));
    return true;
  }
  void answer_all() {
    std::lock_guard lock(mutex);
    for (auto& [number, done] : pending) done(result);
    pending.clear();
  }
};

// A report hook the test answers: queries are recorded, and answered at once (on the
// calling gRPC thread) with `answer`'s result, or an empty response of the query's kind.
struct FakeReports {
  std::mutex mutex;
  std::vector<ReportQuery> queries;
  std::function<ReportAnswer(const ReportQuery&)> answer;
  bool busy = false;  // the hook starts nothing (a full queue)

  static ReportAnswer empty_answer(const ReportQuery& query) {
    ReportAnswer a;
    if (std::holds_alternative<CallSearchQuery>(query.what)) {
      a.response = v1::SearchCallsResponse{};
      return a;
    }
    switch (std::get<RangeReportQuery>(query.what).report) {
      case ReportName::kQueueIntervals: a.response = v1::QueueReportResponse{}; break;
      case ReportName::kAgentIntervals: a.response = v1::AgentReportResponse{}; break;
      case ReportName::kAgentStateTime: a.response = v1::AgentStateTimeResponse{}; break;
      case ReportName::kAgentMonthlyVolume: a.response = v1::AgentMonthlyVolumeResponse{}; break;
    }
    return a;
  }
  bool run(ReportQuery query, std::function<void(ReportAnswer)> done) {
    ReportAnswer a;
    {
      std::lock_guard lock(mutex);
      if (busy) return false;
      a = answer ? answer(query) : empty_answer(query);
      queries.push_back(std::move(query));
    }
    done(std::move(a));
    return true;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return queries.size();
  }
};

// A call-control hook the test answers: requests are recorded and answered at once with
// `verdict`; with `refuse_all` the hook takes nothing (shutting down).
struct FakeCallControl {
  std::mutex mutex;
  std::vector<core::CallControl> requests;
  core::Status verdict;
  bool refuse_all = false;

  bool control(core::CallControl request, std::function<void(core::Status)> done) {
    core::Status answer;
    {
      std::lock_guard lock(mutex);
      if (refuse_all) return false;
      requests.push_back(std::move(request));
      answer = verdict;
    }
    done(answer);
    return true;
  }
  core::CallControl last() {
    std::lock_guard lock(mutex);
    REQUIRE_FALSE(requests.empty());
    return requests.back();
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return requests.size();
  }
};

struct Fixture {
  app::CoreThread core{app::CoreThread::Options{}};
  std::mutex log_mutex;
  std::vector<std::string> denied;      // the audit lines' reasons
  std::vector<std::string> privileged;  // the privileged calls' rpc names
  std::uint64_t denied_dropped = 0;     // refusals the audit budget dropped (reported)
  FakeLookup lookups;
  FakeReports reports;
  FakeCallControl calls;
  ApiServer server;
  ServerFeed feed{server};
  std::unique_ptr<v1::AgentService::Stub> stub;
  std::unique_ptr<v1::SupervisorService::Stub> supervisor;
  std::unique_ptr<v1::ReportService::Stub> reporting;
  std::unique_ptr<v1::TaskService::Stub> tasks;

  explicit Fixture(ApiOptions options = {}) : server(std::move(options), hooks(), directory()) {
    core.add_listener(&feed);
    core.start();
    REQUIRE(core.submit_and_wait([](core::RoutingCore& c) { return c.apply_config(two_tenants()); })
                .get());
    REQUIRE_FALSE(server.start().has_value());
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()),
                                       grpc::InsecureChannelCredentials());
    stub = v1::AgentService::NewStub(channel);
    supervisor = v1::SupervisorService::NewStub(channel);
    reporting = v1::ReportService::NewStub(channel);
    tasks = v1::TaskService::NewStub(channel);
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
    h.lookup_caller = [this](const std::string& tenant, std::string number,
                             std::function<void(v1::ScreenPop)> done) {
      return lookups.lookup(tenant, std::move(number), std::move(done));
    };
    h.log = [this](ApiLogLevel, std::string_view event, std::initializer_list<ApiLogField> fields) {
      std::lock_guard lock(log_mutex);
      for (const auto& [key, value] : fields) {
        if (event == "api.denied_dropped" && key == "count") denied_dropped += std::stoull(value);
        if (event == "api.denied" && key == "reason") denied.push_back(value);
        if (event == "api.privileged" && key == "rpc") privileged.push_back(value);
      }
    };
    h.run_report = [this](ReportQuery query, std::function<void(ReportAnswer)> done) {
      return reports.run(std::move(query), std::move(done));
    };
    h.control_call = [this](core::CallControl request, std::function<void(core::Status)> done) {
      return calls.control(std::move(request), std::move(done));
    };
    return h;
  }

  // Runs `command` on the core thread and waits for it.
  core::Status on_core(std::function<core::Status(core::RoutingCore&)> command) {
    return core
        .submit_and_wait(
            [command = std::move(command)](core::RoutingCore& c) { return command(c); })
        .get();
  }

  // One unary call as `token`'s user ("" sends no token).
  template <typename Stub, typename Request, typename Response>
  static grpc::Status invoke(Stub& stub,
                             grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                       Response*),
                             const std::string& token, const Request& request, Response& out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 30s);
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    return (stub.*rpc)(&context, request, &out);
  }
  template <typename Request>
  grpc::Status call(grpc::Status (v1::AgentService::Stub::*rpc)(grpc::ClientContext*,
                                                                const Request&, v1::AgentStatus*),
                    const std::string& token, const Request& request, v1::AgentStatus& out) {
    return invoke(*stub, rpc, token, request, out);
  }
  template <typename Request, typename Response>
  grpc::Status supervise(grpc::Status (v1::SupervisorService::Stub::*rpc)(grpc::ClientContext*,
                                                                          const Request&,
                                                                          Response*),
                         const std::string& token, const Request& request, Response& out) {
    return invoke(*supervisor, rpc, token, request, out);
  }
  template <typename Request, typename Response>
  grpc::Status task(grpc::Status (v1::TaskService::Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                               Response*),
                    const std::string& token, const Request& request, Response& out) {
    return invoke(*tasks, rpc, token, request, out);
  }
};

// A server stream read by the test: Read() blocks until the next message (or the end),
// with a generous deadline on the whole stream.
template <class Message>
struct Reading {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<Message>> reader;

  explicit Reading(const std::string& token) {
    context.set_deadline(std::chrono::system_clock::now() + 60s);
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  }
  // The next message; fails the test when the stream ends first.
  Message next() {
    Message m;
    REQUIRE(reader->Read(&m));
    return m;
  }
  // Reads until `wanted` matches a message (skipping others); fails at the end of the stream.
  Message until(const std::function<bool(const Message&)>& wanted) {
    for (;;) {
      Message m = next();
      if (wanted(m)) return m;
    }
  }
  // Reads to the end; the stream's status.
  grpc::Status end() {
    Message m;
    while (reader->Read(&m)) {
    }
    return reader->Finish();
  }
};

}  // namespace acd::api::testing
