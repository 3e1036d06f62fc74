#include "engine/api/report_service.h"

#include <algorithm>
#include <array>
#include <exception>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "engine/common/digest.h"

namespace acd::api {

namespace v1 = acd::v1;

namespace {

const Roles kReaders{Role::kSupervisor, Role::kAdmin, Role::kReadOnly};
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
constexpr int kMaxNames = 1000;
constexpr std::size_t kMaxCallerNumber = 64;  // as the screen pop's lookup
constexpr std::size_t kMaxTimeZone = 64;
constexpr std::size_t kMaxPageToken = 128;
// What a system_clock time point holds (int64 nanoseconds), with room to spare: history is
// not older than 1900 nor newer than 2200.
constexpr std::int64_t kMinSeconds = -2208988800;  // 1900-01-01T00:00:00Z
constexpr std::int64_t kMaxSeconds = 7258118400;   // 2200-01-01T00:00:00Z

// ---- Fields ----

std::variant<ReportClock::time_point, grpc::Status> time_of(const google::protobuf::Timestamp& t,
                                                            std::string_view field) {
  if (t.nanos() < 0 || t.nanos() > 999999999)
    return invalid_field(field, "nanos out of range (expected 0..999999999)");
  if (t.seconds() < kMinSeconds || t.seconds() >= kMaxSeconds)
    return invalid_field(field, "out of range (expected 1900-01-01 to 2200-01-01)");
  // The store keeps microseconds.
  return ReportClock::time_point(std::chrono::duration_cast<ReportClock::duration>(
      std::chrono::seconds(t.seconds()) + std::chrono::microseconds(t.nanos() / 1000)));
}

// start_time and end_time of a request: both required, end not before start, at most
// kMaxReportRange apart.
template <class Request>
std::optional<grpc::Status> read_range(const Request& request, ReportClock::time_point& from,
                                       ReportClock::time_point& to) {
  if (!request.has_start_time())
    return invalid_field("start_time", "required: where the range begins (a Timestamp)");
  if (!request.has_end_time())
    return invalid_field("end_time", "required: where the range ends (a Timestamp, excluded)");
  auto start = time_of(request.start_time(), "start_time");
  if (auto* refusal = std::get_if<grpc::Status>(&start)) return *refusal;
  auto end = time_of(request.end_time(), "end_time");
  if (auto* refusal = std::get_if<grpc::Status>(&end)) return *refusal;
  from = std::get<0>(start);
  to = std::get<0>(end);
  if (to < from) return invalid_field("end_time", "before start_time");
  if (to - from > kMaxReportRange)
    return invalid_field("end_time", "more than 366 days after start_time");
  return std::nullopt;
}

std::variant<std::string, grpc::Status> interval_of(v1::ReportInterval interval) {
  switch (interval) {
    case v1::REPORT_INTERVAL_QUARTER_HOUR: return std::string("15 min");
    case v1::REPORT_INTERVAL_HOUR: return std::string("hour");
    case v1::REPORT_INTERVAL_DAY: return std::string("day");
    case v1::REPORT_INTERVAL_MONTH: return std::string("month");
    case v1::REPORT_INTERVAL_UNSPECIFIED:
      return invalid_field("interval",
                           "required: REPORT_INTERVAL_QUARTER_HOUR, _HOUR, _DAY or _MONTH");
    default: break;
  }
  return invalid_field("interval", "unknown value " + std::to_string(static_cast<int>(interval)));
}

// An IANA name's characters ("America/Argentina/Buenos_Aires", "Etc/GMT+5"); the database
// says whether it knows the zone.
std::variant<std::string, grpc::Status> time_zone_of(const std::string& zone) {
  if (zone.empty()) return std::string("UTC");
  if (zone.size() > kMaxTimeZone)
    return invalid_field("time_zone", "longer than " + std::to_string(kMaxTimeZone) +
                                          " characters (an IANA name such as Europe/Berlin)");
  const bool plain = std::all_of(zone.begin(), zone.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '+' || c == '-';
  });
  if (!plain)
    return invalid_field("time_zone", "\"" + zone +
                                          "\" is not a time zone name (an IANA name such as "
                                          "Europe/Berlin)");
  return zone;
}

// Names of the tenant's queues or agents, each known and listed once.
template <class Id>
std::optional<grpc::Status> check_names(
    const google::protobuf::RepeatedPtrField<std::string>& names,
    const std::unordered_map<std::string, Id>& known, std::string_view field, std::string_view what,
    const ApiTenant& tenant, std::vector<std::string>& out) {
  if (names.size() > kMaxNames)
    return invalid_field(field, "at most " + std::to_string(kMaxNames) + " names");
  std::unordered_set<std::string_view> seen;
  for (int i = 0; i < names.size(); ++i) {
    const std::string at = std::string(field) + "[" + std::to_string(i) + "]";
    if (known.find(names[i]) == known.end())
      return invalid_field(
          at, "unknown " + std::string(what) + " \"" + names[i] + "\" of tenant " + tenant.name);
    if (!seen.insert(names[i]).second)
      return invalid_field(at, std::string(what) + " \"" + names[i] + "\" listed twice");
    out.push_back(names[i]);
  }
  return std::nullopt;
}

// ---- Page tokens ----
//
// base64url (no padding) of: version 1, the page's last call (arrival in microseconds
// since the epoch and call id, 8 bytes each, big-endian), and the first 16 hex digits of
// the SHA-256 of the search (tenant, range, filters) and that position.

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(const std::string& bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Url[(buffer >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kBase64Url[(buffer << (6 - bits)) & 0x3F];
  return out;
}

std::optional<std::string> from_base64url(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const char* at = std::find(std::begin(kBase64Url), std::end(kBase64Url) - 1, c);
    if (at == std::end(kBase64Url) - 1) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(at - kBase64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

void put64(std::string& out, std::int64_t value) {
  const auto u = static_cast<std::uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((u >> shift) & 0xFF);
}

std::int64_t get64(std::string_view in) {
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<unsigned char>(in[i]);
  return static_cast<std::int64_t>(u);
}

std::int64_t micros_of(ReportClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// What a token is bound to: the tenant, range and filters of its search.
std::string search_identity(const std::string& tenant, const CallSearchQuery& q) {
  std::string id = tenant;
  for (const std::string* part : {&q.caller_number, &q.agent, &q.queue, &q.final_state}) {
    id += '\0';
    id += *part;
  }
  id += '\0';
  put64(id, micros_of(q.from));
  put64(id, micros_of(q.to));
  return id;
}

constexpr std::size_t kCheckDigits = 16;
constexpr std::size_t kTokenBytes = 1 + 8 + 8 + kCheckDigits;

std::string token_check(const std::string& identity, std::string_view position) {
  return sha256_hex(identity + std::string(position)).substr(0, kCheckDigits);
}

std::string encode_token(const std::string& identity, const CallSearchKey& key) {
  std::string position;
  put64(position, micros_of(key.arrived_at));
  put64(position, key.call_id);
  return base64url("\x01" + position + token_check(identity, position));
}

std::variant<CallSearchKey, grpc::Status> decode_token(const std::string& token,
                                                       const std::string& identity,
                                                       const CallSearchQuery& query) {
  const auto bytes = token.size() <= kMaxPageToken ? from_base64url(token) : std::nullopt;
  if (!bytes || bytes->size() != kTokenBytes || (*bytes)[0] != '\x01')
    return invalid_field("page_token",
                         "not a page token of SearchCalls (send next_page_token "
                         "as it came, or nothing for the first page)");
  const std::string_view position = std::string_view(*bytes).substr(1, 16);
  if (token_check(identity, position) != bytes->substr(17))
    return invalid_field("page_token",
                         "made for another search: a page token continues only the search "
                         "(range and filters) it came from");
  CallSearchKey key;
  key.arrived_at = ReportClock::time_point(std::chrono::duration_cast<ReportClock::duration>(
      std::chrono::microseconds(get64(position))));
  key.call_id = get64(position.substr(8));
  if (key.arrived_at < query.from || key.arrived_at > query.to)
    return invalid_field("page_token", "outside the search's range");
  return key;
}

// ---- Answering ----

const ApiTenant* tenant_of(const Caller& caller) {
  return caller.directory->tenant(caller.user->tenant);
}

// The checks every RPC starts with: the role, the caller's tenant, the hook. The tenant, or
// the reactor already finished with the refusal.
const ApiTenant* admit(const ApiContext& context, grpc::CallbackServerContext& server_context,
                       grpc::ServerUnaryReactor* reactor, std::string_view rpc,
                       std::optional<Caller>& caller) {
  auto authorized = context.authorize(server_context, rpc, kReaders);
  if (auto* refusal = std::get_if<grpc::Status>(&authorized)) {
    reactor->Finish(*refusal);
    return nullptr;
  }
  caller = std::move(std::get<Caller>(authorized));
  const ApiTenant* tenant = tenant_of(*caller);
  if (tenant == nullptr) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "the caller's tenant is gone"));
    return nullptr;
  }
  if (!context.hooks().run_report) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "reports need the database, and this daemon has none"));
    return nullptr;
  }
  return tenant;
}

// Hands `query` to the hook; `fill` moves the answer into the response (on the worker's
// thread), and the reactor is finished there. A fill that throws (a bug) ends the call
// with INTERNAL instead of leaving it open.
template <class Fill>
void run(const ApiContext& context, grpc::CallbackServerContext* server_context,
         grpc::ServerUnaryReactor* reactor, ReportQuery query, Fill fill) {
  query.abandoned = [server_context] { return server_context->IsCancelled(); };
  const bool started = context.hooks().run_report(
      std::move(query), [reactor, fill = std::move(fill)](ReportAnswer answer) {
        grpc::Status status = answer.status;
        if (status.ok()) {
          try {
            status = fill(answer);
          } catch (const std::exception& e) {
            status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
          }
        }
        reactor->Finish(status);
      });
  if (!started)
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "the report queries are busy or shutting down: try again"));
}

// Moves the answer's response of type Response into `out`.
template <class Response>
grpc::Status take(ReportAnswer& answer, Response& out) {
  auto* response = std::get_if<Response>(&answer.response);
  if (response == nullptr)
    return grpc::Status(grpc::StatusCode::INTERNAL, "the report hook answered another report");
  out = std::move(*response);
  return grpc::Status::OK;
}

// The fields every report has: the range, the interval (all but the monthly volume), the
// time zone, and the queues or agents it is limited to.
template <class Request>
std::optional<grpc::Status> read_report(const Request& request, const ApiTenant& tenant,
                                        RangeReportQuery& out) {
  if (auto refusal = read_range(request, out.from, out.to)) return refusal;
  if constexpr (requires { request.interval(); }) {
    auto interval = interval_of(request.interval());
    if (auto* refusal = std::get_if<grpc::Status>(&interval)) return *refusal;
    out.interval = std::get<0>(interval);
  }
  auto zone = time_zone_of(request.time_zone());
  if (auto* refusal = std::get_if<grpc::Status>(&zone)) return *refusal;
  out.time_zone = std::get<0>(zone);
  if constexpr (requires { request.queues(); }) {
    return check_names(request.queues(), tenant.queues, "queues", "queue", tenant, out.names);
  } else {
    return check_names(request.agents(), tenant.agents, "agents", "agent", tenant, out.names);
  }
}

}  // namespace

std::string_view final_state_text(v1::CallFinalState state) {
  switch (state) {
    case v1::CALL_FINAL_STATE_COMPLETED: return "completed";
    case v1::CALL_FINAL_STATE_ABANDONED: return "abandoned";
    case v1::CALL_FINAL_STATE_VOICEMAIL: return "voicemail";
    case v1::CALL_FINAL_STATE_CALLBACK: return "callback";
    case v1::CALL_FINAL_STATE_HUNG_UP: return "hung-up";
    case v1::CALL_FINAL_STATE_CANCELLED: return "cancelled";
    case v1::CALL_FINAL_STATE_UNANSWERED: return "unanswered";
    case v1::CALL_FINAL_STATE_INTERRUPTED: return "interrupted";
    case v1::CALL_FINAL_STATE_TRANSFERRED: return "transferred";
    default: return "";
  }
}

v1::CallFinalState final_state_of(std::string_view text) {
  for (int value = v1::CallFinalState_MIN; value <= v1::CallFinalState_MAX; ++value) {
    const auto state = static_cast<v1::CallFinalState>(value);
    if (v1::CallFinalState_IsValid(value) && !text.empty() && final_state_text(state) == text)
      return state;
  }
  return v1::CALL_FINAL_STATE_UNSPECIFIED;
}

grpc::ServerUnaryReactor* ReportServiceImpl::SearchCalls(grpc::CallbackServerContext* context,
                                                         const v1::SearchCallsRequest* request,
                                                         v1::SearchCallsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<Caller> caller;
  const ApiTenant* tenant = admit(context_, *context, reactor, "ReportService.SearchCalls", caller);
  if (tenant == nullptr) return reactor;
  auto refuse = [reactor](grpc::Status status) {
    reactor->Finish(std::move(status));
    return reactor;
  };

  CallSearchQuery search;
  if (auto refusal = read_range(*request, search.from, search.to)) return refuse(*refusal);
  const std::string& number = request->caller_number();
  if (!number.empty()) {
    if (number.size() > kMaxCallerNumber)
      return refuse(invalid_field(
          "caller_number", "longer than " + std::to_string(kMaxCallerNumber) + " characters"));
    if (number.find_first_of("0123456789") == std::string::npos)
      return refuse(invalid_field("caller_number",
                                  "has no digit (a phone number such as "
                                  "+15551234567)"));
    search.caller_number = number;
  }
  if (!request->agent().empty()) {
    if (!tenant->agent(request->agent()))
      return refuse(invalid_field(
          "agent", "unknown agent \"" + request->agent() + "\" of tenant " + tenant->name));
    search.agent = request->agent();
  }
  if (!request->queue().empty()) {
    if (!tenant->queue(request->queue()))
      return refuse(invalid_field(
          "queue", "unknown queue \"" + request->queue() + "\" of tenant " + tenant->name));
    search.queue = request->queue();
  }
  if (request->final_state() != v1::CALL_FINAL_STATE_UNSPECIFIED) {
    const std::string_view state = final_state_text(request->final_state());
    if (state.empty())
      return refuse(invalid_field("final_state", "unknown value " + std::to_string(static_cast<int>(
                                                                        request->final_state()))));
    search.final_state = std::string(state);
  }
  if (request->page_size() < 0 || request->page_size() > kMaxPageSize)
    return refuse(invalid_field("page_size", std::to_string(request->page_size()) +
                                                 " out of range (expected 1..1000, or 0 for 50)"));
  search.page_size = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
  const std::string identity = search_identity(tenant->name, search);
  if (!request->page_token().empty()) {
    auto key = decode_token(request->page_token(), identity, search);
    if (auto* refusal = std::get_if<grpc::Status>(&key)) return refuse(*refusal);
    search.after = std::get<CallSearchKey>(key);
  }

  run(context_, context, reactor, ReportQuery{tenant->name, std::move(search), {}},
      [response, identity](ReportAnswer& answer) {
        grpc::Status status = take(answer, *response);
        if (!status.ok()) return status;
        response->clear_next_page_token();
        if (answer.next) response->set_next_page_token(encode_token(identity, *answer.next));
        return grpc::Status::OK;
      });
  return reactor;
}

namespace {

// A range report (QueueReport, AgentReport, AgentStateTime, AgentMonthlyVolume): the
// caller admitted, the range and filters read (read_report), then `refine` for the
// report's own fields, then the query; the answer fills `response`.
template <class Request, class Response>
grpc::ServerUnaryReactor* range_report(
    const ApiContext& api, grpc::CallbackServerContext* context, std::string_view rpc,
    ReportName name, const Request& request, Response* response,
    const std::function<std::optional<grpc::Status>(RangeReportQuery&)>& refine = {}) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<Caller> caller;
  const ApiTenant* tenant = admit(api, *context, reactor, rpc, caller);
  if (tenant == nullptr) return reactor;
  RangeReportQuery report;
  report.report = name;
  auto refusal = read_report(request, *tenant, report);
  if (!refusal && refine) refusal = refine(report);
  if (refusal) {
    reactor->Finish(*refusal);
    return reactor;
  }
  run(api, context, reactor, ReportQuery{tenant->name, std::move(report), {}},
      [response](ReportAnswer& answer) { return take(answer, *response); });
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* ReportServiceImpl::QueueReport(grpc::CallbackServerContext* context,
                                                         const v1::QueueReportRequest* request,
                                                         v1::QueueReportResponse* response) {
  auto sl_threshold = [request](RangeReportQuery& report) -> std::optional<grpc::Status> {
    if (!request->has_sl_threshold()) return std::nullopt;
    const auto& d = request->sl_threshold();
    if (d.seconds() < 0 || d.nanos() < 0 || d.seconds() > 86400)
      return invalid_field("sl_threshold", "out of range (expected 0 to 24 hours)");
    report.sl_threshold_ms = d.seconds() * 1000 + d.nanos() / 1000000;
    return std::nullopt;
  };
  return range_report(context_, context, "ReportService.QueueReport", ReportName::kQueueIntervals,
                      *request, response, sl_threshold);
}

grpc::ServerUnaryReactor* ReportServiceImpl::AgentReport(grpc::CallbackServerContext* context,
                                                         const v1::AgentReportRequest* request,
                                                         v1::AgentReportResponse* response) {
  return range_report(context_, context, "ReportService.AgentReport", ReportName::kAgentIntervals,
                      *request, response);
}

grpc::ServerUnaryReactor* ReportServiceImpl::AgentStateTime(
    grpc::CallbackServerContext* context, const v1::AgentStateTimeRequest* request,
    v1::AgentStateTimeResponse* response) {
  return range_report(context_, context, "ReportService.AgentStateTime",
                      ReportName::kAgentStateTime, *request, response);
}

grpc::ServerUnaryReactor* ReportServiceImpl::AgentMonthlyVolume(
    grpc::CallbackServerContext* context, const v1::AgentMonthlyVolumeRequest* request,
    v1::AgentMonthlyVolumeResponse* response) {
  return range_report(context_, context, "ReportService.AgentMonthlyVolume",
                      ReportName::kAgentMonthlyVolume, *request, response);
}

}  // namespace acd::api
