// ReportService over a real gRPC channel, with a fake report hook (the database side is
// engine/store/report_queries_test.cc): who may ask, what each bad field is answered, the
// query the hook gets, the answer's shape, page tokens, and a daemon without a database.
#include "engine/api/report_service.h"

#include <catch2/catch.hpp>

#include "engine/api/api_test_fixture.h"

namespace acd::api::testing {
namespace {

// 2024-03-05T10:00:00Z
constexpr std::int64_t kTen = 1709632800;

google::protobuf::Timestamp stamp(std::int64_t seconds, std::int32_t nanos = 0) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

std::int64_t seconds_of(ReportClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

template <class Request>
Request ranged(std::int64_t from = kTen, std::int64_t to = kTen + 86400) {
  Request r;
  *r.mutable_start_time() = stamp(from);
  *r.mutable_end_time() = stamp(to);
  return r;
}

v1::SearchCallsRequest search() {
  return ranged<v1::SearchCallsRequest>();
}
v1::QueueReportRequest queue_report() {
  auto r = ranged<v1::QueueReportRequest>();
  r.set_interval(v1::REPORT_INTERVAL_HOUR);
  return r;
}
v1::AgentReportRequest agent_report() {
  auto r = ranged<v1::AgentReportRequest>();
  r.set_interval(v1::REPORT_INTERVAL_DAY);
  return r;
}
v1::AgentStateTimeRequest state_time() {
  auto r = ranged<v1::AgentStateTimeRequest>();
  r.set_interval(v1::REPORT_INTERVAL_QUARTER_HOUR);
  return r;
}
v1::AgentMonthlyVolumeRequest monthly() {
  return ranged<v1::AgentMonthlyVolumeRequest>();
}

grpc::Status ask(Fixture& f, const std::string& token, const v1::SearchCallsRequest& r,
                 v1::SearchCallsResponse& out) {
  return Fixture::invoke(*f.reporting, &v1::ReportService::Stub::SearchCalls, token, r, out);
}
grpc::Status ask(Fixture& f, const std::string& token, const v1::QueueReportRequest& r,
                 v1::QueueReportResponse& out) {
  return Fixture::invoke(*f.reporting, &v1::ReportService::Stub::QueueReport, token, r, out);
}
grpc::Status ask(Fixture& f, const std::string& token, const v1::AgentReportRequest& r,
                 v1::AgentReportResponse& out) {
  return Fixture::invoke(*f.reporting, &v1::ReportService::Stub::AgentReport, token, r, out);
}
grpc::Status ask(Fixture& f, const std::string& token, const v1::AgentStateTimeRequest& r,
                 v1::AgentStateTimeResponse& out) {
  return Fixture::invoke(*f.reporting, &v1::ReportService::Stub::AgentStateTime, token, r, out);
}
grpc::Status ask(Fixture& f, const std::string& token, const v1::AgentMonthlyVolumeRequest& r,
                 v1::AgentMonthlyVolumeResponse& out) {
  return Fixture::invoke(*f.reporting, &v1::ReportService::Stub::AgentMonthlyVolume, token, r, out);
}

// Every RPC once, as `token`: their status codes.
std::vector<grpc::StatusCode> every_rpc(Fixture& f, const std::string& token) {
  std::vector<grpc::StatusCode> codes;
  v1::SearchCallsResponse calls;
  codes.push_back(ask(f, token, search(), calls).error_code());
  v1::QueueReportResponse queues;
  codes.push_back(ask(f, token, queue_report(), queues).error_code());
  v1::AgentReportResponse agents;
  codes.push_back(ask(f, token, agent_report(), agents).error_code());
  v1::AgentStateTimeResponse states;
  codes.push_back(ask(f, token, state_time(), states).error_code());
  v1::AgentMonthlyVolumeResponse months;
  codes.push_back(ask(f, token, monthly(), months).error_code());
  return codes;
}

// The status of `request` as the supervisor; the reactor must not have reached the hook
// when it is refused.
template <class Request>
grpc::Status as_boss(Fixture& f, const Request& request) {
  if constexpr (std::is_same_v<Request, v1::SearchCallsRequest>) {
    v1::SearchCallsResponse out;
    return ask(f, "boss-token", request, out);
  } else if constexpr (std::is_same_v<Request, v1::QueueReportRequest>) {
    v1::QueueReportResponse out;
    return ask(f, "boss-token", request, out);
  } else if constexpr (std::is_same_v<Request, v1::AgentReportRequest>) {
    v1::AgentReportResponse out;
    return ask(f, "boss-token", request, out);
  } else if constexpr (std::is_same_v<Request, v1::AgentStateTimeRequest>) {
    v1::AgentStateTimeResponse out;
    return ask(f, "boss-token", request, out);
  } else {
    v1::AgentMonthlyVolumeResponse out;
    return ask(f, "boss-token", request, out);
  }
}

// Checks that `request` is INVALID_ARGUMENT with a message beginning with `prefix`, and
// that no query reached the hook.
template <class Request>
void refused(Fixture& f, const Request& request, const std::string& prefix) {
  const std::size_t before = f.reports.count();
  const grpc::Status status = as_boss(f, request);
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind(prefix, 0) == 0);
  CHECK(f.reports.count() == before);
}

}  // namespace

TEST_CASE("reports are for supervisors, admins and readers of the tenant", "[api]") {
  Fixture f;
  using Code = grpc::StatusCode;
  const std::vector<Code> ok(5, Code::OK);
  CHECK(every_rpc(f, "boss-token") == ok);
  CHECK(every_rpc(f, "admin-token") == ok);
  CHECK(every_rpc(f, "reader-token") == ok);
  CHECK(every_rpc(f, "bob-token") == ok);  // an agent who also reads
  CHECK(every_rpc(f, "gboss-token") == ok);
  CHECK(every_rpc(f, "ann-token") == std::vector<Code>(5, Code::PERMISSION_DENIED));
  CHECK(every_rpc(f, "ghost-token") == std::vector<Code>(5, Code::PERMISSION_DENIED));
  CHECK(every_rpc(f, "") == std::vector<Code>(5, Code::UNAUTHENTICATED));
  CHECK(every_rpc(f, "old-token") == std::vector<Code>(5, Code::UNAUTHENTICATED));
  CHECK(every_rpc(f, "nobody-token") == std::vector<Code>(5, Code::UNAUTHENTICATED));
  {
    std::lock_guard lock(f.log_mutex);
    CHECK(std::count(f.denied.begin(), f.denied.end(), "role not allowed") == 10);
  }
  // Each allowed call reached the hook with the caller's own tenant.
  std::lock_guard lock(f.reports.mutex);
  REQUIRE(f.reports.queries.size() == 25);
  for (std::size_t i = 0; i < 25; ++i)
    CHECK(f.reports.queries[i].tenant == (i < 20 ? "acme" : "globex"));
}

TEST_CASE("a call search reaches the hook as asked", "[api]") {
  Fixture f;
  auto request = search();
  *request.mutable_start_time() = stamp(kTen, 123456789);
  request.set_caller_number("+1 (555) 123-4567");
  request.set_agent("ann");
  request.set_queue("support");
  request.set_final_state(v1::CALL_FINAL_STATE_HUNG_UP);
  v1::SearchCallsResponse out;
  REQUIRE(ask(f, "boss-token", request, out).ok());
  std::lock_guard lock(f.reports.mutex);
  REQUIRE(f.reports.queries.size() == 1);
  const ReportQuery& query = f.reports.queries[0];
  CHECK(query.tenant == "acme");
  CHECK(query.abandoned);
  const auto& q = std::get<CallSearchQuery>(query.what);
  CHECK(std::chrono::duration_cast<std::chrono::microseconds>(q.from.time_since_epoch()).count() ==
        kTen * 1000000 + 123456);  // microseconds, as the store keeps them
  CHECK(seconds_of(q.to) == kTen + 86400);
  CHECK(q.caller_number == "+1 (555) 123-4567");
  CHECK(q.agent == "ann");
  CHECK(q.queue == "support");
  CHECK(q.final_state == "hung-up");
  CHECK(q.page_size == 50);  // the default
  CHECK_FALSE(q.after);
}

TEST_CASE("the reports reach the hook as asked", "[api]") {
  Fixture f;
  auto queues = queue_report();
  queues.set_time_zone("Europe/Berlin");
  queues.mutable_sl_threshold()->set_seconds(10);
  queues.add_queues("support");
  v1::QueueReportResponse q;
  REQUIRE(ask(f, "reader-token", queues, q).ok());
  auto agents = agent_report();
  agents.add_agents("bob");
  agents.add_agents("ann");
  v1::AgentReportResponse a;
  REQUIRE(ask(f, "reader-token", agents, a).ok());
  v1::AgentStateTimeResponse s;
  REQUIRE(ask(f, "reader-token", state_time(), s).ok());
  auto months = monthly();
  months.set_time_zone("America/Argentina/Buenos_Aires");
  v1::AgentMonthlyVolumeResponse m;
  REQUIRE(ask(f, "reader-token", months, m).ok());

  std::lock_guard lock(f.reports.mutex);
  REQUIRE(f.reports.queries.size() == 4);
  const auto& queue = std::get<RangeReportQuery>(f.reports.queries[0].what);
  CHECK(queue.report == ReportName::kQueueIntervals);
  CHECK(seconds_of(queue.from) == kTen);
  CHECK(seconds_of(queue.to) == kTen + 86400);
  CHECK(queue.interval == "hour");
  CHECK(queue.time_zone == "Europe/Berlin");
  CHECK(queue.sl_threshold_ms == 10000);
  CHECK(queue.names == std::vector<std::string>{"support"});
  const auto& agent = std::get<RangeReportQuery>(f.reports.queries[1].what);
  CHECK(agent.report == ReportName::kAgentIntervals);
  CHECK(agent.interval == "day");
  CHECK(agent.time_zone == "UTC");  // empty: UTC
  CHECK(agent.names == std::vector<std::string>{"bob", "ann"});
  CHECK_FALSE(agent.sl_threshold_ms);
  const auto& state = std::get<RangeReportQuery>(f.reports.queries[2].what);
  CHECK(state.report == ReportName::kAgentStateTime);
  CHECK(state.interval == "15 min");
  CHECK(state.names.empty());
  const auto& month = std::get<RangeReportQuery>(f.reports.queries[3].what);
  CHECK(month.report == ReportName::kAgentMonthlyVolume);
  CHECK(month.interval.empty());
  CHECK(month.time_zone == "America/Argentina/Buenos_Aires");
}

TEST_CASE("each bad field is INVALID_ARGUMENT naming it", "[api]") {
  Fixture f;
  SECTION("the range") {
    auto r = search();
    r.clear_start_time();
    refused(f, r, "start_time: required");
    r = search();
    r.clear_end_time();
    refused(f, r, "end_time: required");
    refused(f, ranged<v1::SearchCallsRequest>(kTen, kTen - 1), "end_time: before start_time");
    refused(f, ranged<v1::QueueReportRequest>(kTen, kTen + 367 * 86400),
            "end_time: more than 366 days after start_time");
    r = search();
    *r.mutable_start_time() = stamp(kTen, 1000000000);
    refused(f, r, "start_time: nanos out of range");
    *r.mutable_start_time() = stamp(-5000000000);  // 1811
    refused(f, r, "start_time: out of range");
    r = search();
    *r.mutable_end_time() = stamp(8000000000);  // 2223
    refused(f, r, "end_time: out of range");
    refused(f, ranged<v1::AgentMonthlyVolumeRequest>(kTen, kTen - 60), "end_time: before");
    // 366 days exactly, and an empty range, are fine.
    CHECK(as_boss(f, ranged<v1::SearchCallsRequest>(kTen, kTen + 366 * 86400)).ok());
    CHECK(as_boss(f, ranged<v1::SearchCallsRequest>(kTen, kTen)).ok());
  }
  SECTION("search filters") {
    auto r = search();
    r.set_caller_number("anonymous");
    refused(f, r, "caller_number: has no digit");
    r.set_caller_number(std::string(65, '1'));
    refused(f, r, "caller_number: longer than 64");
    r = search();
    r.set_agent("zed");
    refused(f, r, "agent: unknown agent \"zed\" of tenant acme");
    r.set_agent("carl");  // globex's: as unknown as no agent at all
    refused(f, r, "agent: unknown agent \"carl\" of tenant acme");
    r = search();
    r.set_queue("sales");  // globex's
    refused(f, r, "queue: unknown queue \"sales\" of tenant acme");
    r = search();
    r.set_final_state(static_cast<v1::CallFinalState>(42));
    refused(f, r, "final_state: unknown value 42");
    r = search();
    r.set_page_size(-1);
    refused(f, r, "page_size: -1 out of range");
    r.set_page_size(1001);
    refused(f, r, "page_size: 1001 out of range");
    r.set_page_size(1000);
    CHECK(as_boss(f, r).ok());
  }
  SECTION("report fields") {
    auto q = queue_report();
    q.set_interval(v1::REPORT_INTERVAL_UNSPECIFIED);
    refused(f, q, "interval: required");
    q.set_interval(static_cast<v1::ReportInterval>(9));
    refused(f, q, "interval: unknown value 9");
    q = queue_report();
    q.set_time_zone("UTC'; DROP TABLE calls; --");
    refused(f, q, "time_zone: \"UTC'; DROP TABLE calls; --\" is not a time zone name");
    q.set_time_zone(std::string(65, 'A'));
    refused(f, q, "time_zone: longer than 64");
    q = queue_report();
    q.mutable_sl_threshold()->set_seconds(-1);
    refused(f, q, "sl_threshold: out of range");
    q = queue_report();
    q.add_queues("support");
    q.add_queues("sales");
    refused(f, q, "queues[1]: unknown queue \"sales\" of tenant acme");
    q = queue_report();
    q.add_queues("support");
    q.add_queues("support");
    refused(f, q, "queues[1]: queue \"support\" listed twice");
    auto a = agent_report();
    a.add_agents("carl");
    refused(f, a, "agents[0]: unknown agent \"carl\" of tenant acme");
    auto s = state_time();
    s.set_interval(v1::REPORT_INTERVAL_UNSPECIFIED);
    refused(f, s, "interval: required");
    auto m = monthly();
    m.add_agents("ann");
    m.add_agents("nobody");
    refused(f, m, "agents[1]: unknown agent \"nobody\"");
    m = monthly();
    m.set_time_zone("Europe/Berlin ");
    refused(f, m, "time_zone: ");
  }
}

TEST_CASE("a search answers its page and a token for the next one", "[api]") {
  Fixture f;
  const ReportClock::time_point last_arrival =
      ReportClock::time_point(std::chrono::seconds(kTen + 300)) + std::chrono::microseconds(7);
  f.reports.answer = [&](const ReportQuery& query) {
    ReportAnswer a;
    v1::SearchCallsResponse page;
    const auto& q = std::get<CallSearchQuery>(query.what);
    auto* call = page.add_calls();
    call->set_call_id(q.after ? 17 : 42);
    call->set_final_state(v1::CALL_FINAL_STATE_COMPLETED);
    a.response = page;
    if (!q.after) a.next = CallSearchKey{last_arrival, 42};
    return a;
  };
  auto request = search();
  request.set_agent("ann");
  request.set_page_size(1);
  v1::SearchCallsResponse first;
  REQUIRE(ask(f, "boss-token", request, first).ok());
  REQUIRE(first.calls_size() == 1);
  CHECK(first.calls(0).call_id() == 42);
  const std::string token = first.next_page_token();
  REQUIRE_FALSE(token.empty());
  CHECK(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
      std::string::npos);

  // The same search with the token continues after the page's last call; the last page has
  // no token. The page size may change between pages.
  request.set_page_token(token);
  request.set_page_size(100);
  v1::SearchCallsResponse second;
  REQUIRE(ask(f, "boss-token", request, second).ok());
  CHECK(second.calls(0).call_id() == 17);
  CHECK(second.next_page_token().empty());
  {
    std::lock_guard lock(f.reports.mutex);
    const auto& q = std::get<CallSearchQuery>(f.reports.queries.back().what);
    REQUIRE(q.after);
    CHECK(q.after->arrived_at == last_arrival);
    CHECK(q.after->call_id == 42);
    CHECK(q.page_size == 100);
  }

  // Anything else is refused before it reaches the hook.
  auto other = request;
  other.set_agent("bob");
  refused(f, other, "page_token: made for another search");
  other = request;
  other.clear_agent();
  refused(f, other, "page_token: made for another search");
  other = request;
  *other.mutable_end_time() = stamp(kTen + 86401);
  refused(f, other, "page_token: made for another search");
  other = request;
  other.set_final_state(v1::CALL_FINAL_STATE_ABANDONED);
  refused(f, other, "page_token: made for another search");
  // gboss has the same filters' search of another tenant: not its token.
  {
    auto theirs = request;
    theirs.clear_agent();
    v1::SearchCallsResponse out;
    f.reports.answer = [&](const ReportQuery&) {
      ReportAnswer a;
      a.response = v1::SearchCallsResponse{};
      a.next = CallSearchKey{last_arrival, 42};
      return a;
    };
    theirs.clear_page_token();
    REQUIRE(ask(f, "boss-token", theirs, out).ok());
    theirs.set_page_token(out.next_page_token());
    v1::SearchCallsResponse refused_out;
    const grpc::Status status = ask(f, "gboss-token", theirs, refused_out);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind("page_token: made for another search", 0) == 0);
  }
  // A changed character, a cut token, garbage.
  other = request;
  std::string tampered = token;
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  other.set_page_token(tampered);
  refused(f, other, "page_token: ");
  other.set_page_token(token.substr(0, token.size() - 4));
  refused(f, other, "page_token: not a page token");
  other.set_page_token("' OR 1=1 --");
  refused(f, other, "page_token: not a page token");
  other.set_page_token(std::string(4096, 'A'));
  refused(f, other, "page_token: not a page token");
}

TEST_CASE("a report answers the hook's rows, or its error", "[api]") {
  Fixture f;
  f.reports.answer = [](const ReportQuery&) {
    ReportAnswer a;
    v1::QueueReportResponse report;
    auto* row = report.add_rows();
    row->set_queue("support");
    row->set_offered(7);
    row->set_sl_answered(0.6667);
    row->mutable_asa()->set_seconds(16);
    a.response = report;
    return a;
  };
  v1::QueueReportResponse out;
  REQUIRE(ask(f, "boss-token", queue_report(), out).ok());
  REQUIRE(out.rows_size() == 1);
  CHECK(out.rows(0).queue() == "support");
  CHECK(out.rows(0).offered() == 7);
  CHECK(out.rows(0).has_sl_answered());
  CHECK_FALSE(out.rows(0).has_abandon_rate());  // absent: no denominator
  CHECK(out.rows(0).asa().seconds() == 16);

  SECTION("the hook's error is the call's") {
    f.reports.answer = [](const ReportQuery&) {
      ReportAnswer a;
      a.status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "time_zone: time zone \"Mars/Base\" not recognized");
      return a;
    };
    auto r = queue_report();
    r.set_time_zone("Mars/Base");
    const grpc::Status status = as_boss(f, r);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "time_zone: time zone \"Mars/Base\" not recognized");
  }
  SECTION("an answer of another kind is an internal error, not a crash") {
    f.reports.answer = [](const ReportQuery&) {
      ReportAnswer a;
      a.response = v1::AgentReportResponse{};
      return a;
    };
    CHECK(as_boss(f, queue_report()).error_code() == grpc::StatusCode::INTERNAL);
  }
  SECTION("a busy hook is UNAVAILABLE") {
    f.reports.busy = true;
    const grpc::Status status = as_boss(f, agent_report());
    CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
    CHECK(status.error_message().find("try again") != std::string::npos);
  }
}

TEST_CASE("without a database the reports are UNAVAILABLE", "[api]") {
  Fixture f;
  ApiHooks hooks = f.hooks();
  hooks.run_report = nullptr;
  ApiServer bare(ApiOptions{}, std::move(hooks), directory());
  REQUIRE_FALSE(bare.start().has_value());
  auto stub = v1::ReportService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(bare.port()), grpc::InsecureChannelCredentials()));
  v1::SearchCallsResponse out;
  grpc::Status status =
      Fixture::invoke(*stub, &v1::ReportService::Stub::SearchCalls, "boss-token", search(), out);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(status.error_message().find("database") != std::string::npos);
  // Roles are still checked first.
  status =
      Fixture::invoke(*stub, &v1::ReportService::Stub::SearchCalls, "ann-token", search(), out);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  bare.stop();
}

TEST_CASE("final states read both ways", "[api]") {
  for (int value = v1::CallFinalState_MIN + 1; value <= v1::CallFinalState_MAX; ++value) {
    const auto state = static_cast<v1::CallFinalState>(value);
    INFO(value);
    CHECK_FALSE(final_state_text(state).empty());
    CHECK(final_state_of(final_state_text(state)) == state);
  }
  CHECK(final_state_of("hung-up") == v1::CALL_FINAL_STATE_HUNG_UP);
  CHECK(final_state_of("exploded") == v1::CALL_FINAL_STATE_UNSPECIFIED);
  CHECK(final_state_of("") == v1::CALL_FINAL_STATE_UNSPECIFIED);
  CHECK(final_state_text(v1::CALL_FINAL_STATE_UNSPECIFIED).empty());
}

}  // namespace acd::api::testing
