#include "engine/app/api_wiring.h"

#include <cstdio>
#include <ctime>
#include <vector>

#include "engine/api/report_service.h"
#include "engine/app/logging.h"
#include "engine/app/sip_wiring.h"

namespace acd::app {
namespace {

api::Role to_api(UserRole role) {
  switch (role) {
    case UserRole::kAdmin: return api::Role::kAdmin;
    case UserRole::kSupervisor: return api::Role::kSupervisor;
    case UserRole::kAgent: return api::Role::kAgent;
    case UserRole::kReadOnly: return api::Role::kReadOnly;
  }
  return api::Role::kReadOnly;
}

// "YYYY-MM-DDTHH:MM:SSZ" (the loader's normal form) as a wall-clock time; nullopt: never
// (empty) or unreadable (the loader has checked it, so only empty in practice).
std::optional<api::ApiDirectory::WallTime> expiry_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::tm tm{};
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return api::ApiDirectory::WallTime{};  // unreadable: treated as long expired
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::shared_ptr<const api::ApiDirectory> make_api_directory(const DaemonConfig& config) {
  auto directory = std::make_shared<api::ApiDirectory>();
  for (const auto& tenant : config.tenants) {
    api::ApiTenant t{tenant.id, tenant.name, tenant.not_ready_reasons, {}, {}, {}};
    for (const auto& agent : config.domain.agents)
      if (agent.tenant == tenant.id) t.agents.emplace(agent.name, agent.id);
    for (const auto& queue : config.domain.queues)
      if (queue.tenant == tenant.id) t.queues.emplace(queue.name, queue.id);
    for (const auto& skill : config.domain.skills)
      if (skill.tenant == tenant.id) t.skills.emplace(skill.name, skill.id);
    directory->tenants.push_back(std::move(t));
    for (const auto& user : tenant.users) {
      api::ApiUser u;
      u.tenant = tenant.id;
      u.tenant_name = tenant.name;
      u.name = user.name;
      for (UserRole role : user.roles) u.roles.add(to_api(role));
      if (!user.agent.empty()) {
        for (const auto& agent : config.domain.agents) {
          if (agent.tenant == tenant.id && agent.name == user.agent) {
            u.agent = agent.id;
            u.agent_name = agent.name;
          }
        }
      }
      const std::size_t index = directory->users.size();
      directory->users.push_back(std::move(u));
      for (const auto& token : user.tokens)
        directory->tokens.emplace(
            token.sha256, api::ApiDirectory::Token{index, token.name, expiry_of(token.expires_at)});
    }
  }
  return directory;
}

acd::v1::ScreenPop to_screen_pop(const store::CallerLookupResult& result) {
  acd::v1::ScreenPop pop;
  pop.set_looked_up(true);
  if (!result.ok) {
    pop.set_error(result.error);
    return pop;
  }
  if (result.customer) {
    auto& customer = *pop.mutable_customer();
    customer.set_name(result.customer->name);
    customer.set_account(result.customer->account);
    customer.set_tier(result.customer->tier);
    customer.set_notes(result.customer->notes);
    auto& fields = *customer.mutable_fields();
    for (const auto& [key, value] : result.customer->fields) fields[key] = value;
  }
  for (const auto& contact : result.previous_contacts) {
    auto& out = *pop.add_previous_contacts();
    const auto since_epoch = contact.arrived_at.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    out.mutable_arrived()->set_seconds(seconds.count());
    out.mutable_arrived()->set_nanos(static_cast<std::int32_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count()));
    out.set_queue(contact.queue);
    out.set_agent(contact.agent);
    out.set_outcome(contact.final_state);
    out.mutable_talk()->set_seconds(contact.talk_ms / 1000);
    out.mutable_talk()->set_nanos(static_cast<std::int32_t>((contact.talk_ms % 1000) * 1000000));
    out.set_end_reason(contact.end_reason);
  }
  return pop;
}

decltype(api::ApiHooks::lookup_caller) make_caller_lookup(store::CustomerLookup& customers) {
  return [&customers](const std::string& tenant, std::string number,
                      std::function<void(acd::v1::ScreenPop)> done) {
    return customers.lookup(tenant, std::move(number),
                            [done = std::move(done)](store::CallerLookupResult result) {
                              done(to_screen_pop(result));
                            });
  };
}

decltype(api::ApiHooks::log) make_api_logger() {
  // Values come from clients too (the peer address): cut as the SIP side's are.
  return [](api::ApiLogLevel level, std::string_view event,
            std::initializer_list<api::ApiLogField> fields) { log_capped(level, event, fields); };
}

// ---- The report service ----

namespace {

namespace v1 = acd::v1;

void set_time(store::ReportTime t, google::protobuf::Timestamp& out) {
  const auto since_epoch = t.time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  if (seconds > since_epoch) seconds -= std::chrono::seconds(1);  // nanos are never negative
  out.set_seconds(seconds.count());
  out.set_nanos(static_cast<std::int32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count()));
}

void set_ms(std::int64_t ms, google::protobuf::Duration& out) {
  out.set_seconds(ms / 1000);
  out.set_nanos(static_cast<std::int32_t>((ms % 1000) * 1000000));
}

v1::CallDirection direction_of(const std::string& text) {
  if (text == "inbound") return v1::CALL_DIRECTION_INBOUND;
  if (text == "outbound") return v1::CALL_DIRECTION_OUTBOUND;
  if (text == "internal") return v1::CALL_DIRECTION_INTERNAL;
  return v1::CALL_DIRECTION_UNSPECIFIED;
}

// agent_state_events' state names (engine/app/call_recorder.cc writes them).
v1::AgentState agent_state_of(const std::string& text) {
  if (text == "logged-out") return v1::AGENT_STATE_LOGGED_OUT;
  if (text == "not-ready") return v1::AGENT_STATE_NOT_READY;
  if (text == "ready") return v1::AGENT_STATE_READY;
  if (text == "reserved") return v1::AGENT_STATE_RESERVED;
  if (text == "ringing") return v1::AGENT_STATE_RINGING;
  if (text == "dialing") return v1::AGENT_STATE_DIALING;
  if (text == "talking") return v1::AGENT_STATE_TALKING;
  if (text == "held") return v1::AGENT_STATE_HELD;
  if (text == "wrap-up") return v1::AGENT_STATE_WRAP_UP;
  return v1::AGENT_STATE_UNSPECIFIED;
}

grpc::Status status_of(const store::QueryStatus& status, bool too_many_rows) {
  using Code = grpc::StatusCode;
  switch (status.failure) {
    case store::QueryFailure::kNone: return grpc::Status::OK;
    case store::QueryFailure::kUnavailable:
      return grpc::Status(Code::UNAVAILABLE, "the database is unreachable: " + status.error);
    case store::QueryFailure::kTimeout:
      return grpc::Status(Code::DEADLINE_EXCEEDED,
                          "the query ran longer than the daemon allows; ask for a shorter range "
                          "(" +
                              status.error + ")");
    case store::QueryFailure::kRejected: return grpc::Status(Code::INVALID_ARGUMENT, status.error);
    case store::QueryFailure::kCancelled: return grpc::Status(Code::CANCELLED, status.error);
    case store::QueryFailure::kShuttingDown:
      return grpc::Status(Code::UNAVAILABLE, "the daemon is shutting down");
    case store::QueryFailure::kFailed: break;
  }
  return grpc::Status(too_many_rows ? Code::RESOURCE_EXHAUSTED : Code::INTERNAL, status.error);
}

v1::CallRecord to_call_record(const store::CallRecordRow& c) {
  v1::CallRecord out;
  out.set_call_id(c.call_id);
  out.set_direction(direction_of(c.direction));
  out.set_caller_number(c.caller);
  out.set_dialed_number(c.dialled);
  out.set_first_queue(c.first_queue);
  out.set_last_queue(c.last_queue);
  out.set_agent(c.agent);
  out.set_final_state(api::final_state_of(c.final_state));
  out.set_exit_reason(c.exit_reason);
  out.set_end_reason(c.end_reason);
  set_time(c.arrived_at, *out.mutable_arrived_at());
  if (c.queued_at) set_time(*c.queued_at, *out.mutable_queued_at());
  if (c.answered_at) set_time(*c.answered_at, *out.mutable_answered_at());
  set_time(c.ended_at, *out.mutable_ended_at());
  set_ms(c.wait_ms, *out.mutable_wait());
  set_ms(c.total_wait_ms, *out.mutable_total_wait());
  set_ms(c.talk_ms, *out.mutable_talk());
  set_ms(c.hold_ms, *out.mutable_hold());
  if (c.sl_threshold_ms) set_ms(*c.sl_threshold_ms, *out.mutable_sl_threshold());
  out.set_offers(c.offers);
  out.set_queues(c.queues);
  out.set_vip_level(c.vip_level);
  return out;
}

v1::QueueReportResponse to_proto(const std::vector<store::QueueIntervalRow>& rows) {
  v1::QueueReportResponse out;
  for (const auto& r : rows) {
    auto& row = *out.add_rows();
    row.set_queue(r.queue);
    set_time(r.interval_start, *row.mutable_interval_start());
    row.set_interval_local(r.interval_local);
    row.set_offered(r.offered);
    row.set_answered(r.answered);
    row.set_abandoned(r.abandoned);
    row.set_ended_otherwise(r.ended_otherwise);
    row.set_answered_in_threshold(r.answered_in_threshold);
    row.set_abandoned_in_threshold(r.abandoned_in_threshold);
    if (r.sl_answered) row.set_sl_answered(*r.sl_answered);
    if (r.sl_with_abandons) row.set_sl_with_abandons(*r.sl_with_abandons);
    if (r.sl_abandons_after_threshold)
      row.set_sl_abandons_after_threshold(*r.sl_abandons_after_threshold);
    if (r.abandon_rate) row.set_abandon_rate(*r.abandon_rate);
    if (r.asa_ms) set_ms(*r.asa_ms, *row.mutable_asa());
    if (r.aht_ms) set_ms(*r.aht_ms, *row.mutable_aht());
    if (r.avg_talk_ms) set_ms(*r.avg_talk_ms, *row.mutable_avg_talk());
    if (r.avg_hold_ms) set_ms(*r.avg_hold_ms, *row.mutable_avg_hold());
    if (r.avg_wrap_up_ms) set_ms(*r.avg_wrap_up_ms, *row.mutable_avg_wrap_up());
    if (r.longest_wait_ms) set_ms(*r.longest_wait_ms, *row.mutable_longest_wait());
    row.set_overflowed_out(r.overflowed_out);
    row.set_timed_out(r.timed_out);
    row.set_exited(r.exited);
    row.set_interrupted(r.interrupted);
  }
  return out;
}

v1::AgentReportResponse to_proto(const std::vector<store::AgentIntervalRow>& rows) {
  v1::AgentReportResponse out;
  for (const auto& r : rows) {
    auto& row = *out.add_rows();
    row.set_agent(r.agent);
    set_time(r.interval_start, *row.mutable_interval_start());
    row.set_interval_local(r.interval_local);
    row.set_offers(r.offers);
    row.set_answered(r.answered);
    row.set_rona(r.rona);
    set_ms(r.logged_in_ms, *row.mutable_logged_in_time());
    set_ms(r.ready_ms, *row.mutable_ready_time());
    set_ms(r.not_ready_ms, *row.mutable_not_ready_time());
    auto& reasons = *row.mutable_not_ready_by_reason();
    for (const auto& [reason, ms] : r.not_ready_by_reason) set_ms(ms, reasons[reason]);
    set_ms(r.ringing_ms, *row.mutable_ringing_time());
    set_ms(r.dialing_ms, *row.mutable_dialing_time());
    set_ms(r.talk_ms, *row.mutable_talk_time());
    set_ms(r.hold_ms, *row.mutable_hold_time());
    set_ms(r.wrap_up_ms, *row.mutable_wrap_up_time());
  }
  return out;
}

v1::AgentStateTimeResponse to_proto(const std::vector<store::AgentStateTimeRow>& rows) {
  v1::AgentStateTimeResponse out;
  for (const auto& r : rows) {
    auto& row = *out.add_rows();
    row.set_agent(r.agent);
    set_time(r.interval_start, *row.mutable_interval_start());
    row.set_interval_local(r.interval_local);
    row.set_state(agent_state_of(r.state));
    row.set_state_name(r.state);
    row.set_reason(r.reason);
    set_ms(r.duration_ms, *row.mutable_duration());
  }
  return out;
}

v1::AgentMonthlyVolumeResponse to_proto(const std::vector<store::AgentMonthRow>& rows) {
  v1::AgentMonthlyVolumeResponse out;
  for (const auto& r : rows) {
    auto& row = *out.add_rows();
    row.set_agent(r.agent);
    set_time(r.month_start, *row.mutable_month_start());
    row.set_month(r.month);
    row.set_offers(r.offers);
    row.set_answered(r.answered);
    row.set_rona(r.rona);
    row.set_outbound(r.outbound);
    set_ms(r.talk_ms, *row.mutable_talk_time());
    set_ms(r.hold_ms, *row.mutable_hold_time());
    set_ms(r.wrap_up_ms, *row.mutable_wrap_up_time());
    if (r.aht_ms) set_ms(*r.aht_ms, *row.mutable_aht());
  }
  return out;
}

store::ReportKind to_store(api::ReportName name) {
  switch (name) {
    case api::ReportName::kQueueIntervals: return store::ReportKind::kQueueIntervals;
    case api::ReportName::kAgentIntervals: return store::ReportKind::kAgentIntervals;
    case api::ReportName::kAgentStateTime: return store::ReportKind::kAgentStateTime;
    case api::ReportName::kAgentMonthlyVolume: return store::ReportKind::kAgentMonthlyVolume;
  }
  return store::ReportKind::kQueueIntervals;
}

}  // namespace

api::ReportAnswer to_report_answer(store::CallSearchResult result) {
  api::ReportAnswer answer;
  answer.status = status_of(result.status, false);
  if (!answer.status.ok()) return answer;
  v1::SearchCallsResponse response;
  for (const auto& call : result.calls) *response.add_calls() = to_call_record(call);
  if (result.more && !result.calls.empty())
    answer.next = api::CallSearchKey{result.calls.back().arrived_at, result.calls.back().call_id};
  answer.response = std::move(response);
  return answer;
}

api::ReportAnswer to_report_answer(store::ReportKind kind, store::ReportResult result) {
  api::ReportAnswer answer;
  answer.status = status_of(result.status, result.too_many_rows);
  if (!answer.status.ok()) return answer;
  // The response of the kind asked for (rows of another kind would be a bug: none then).
  auto rows_of = [&result](auto none) {
    using Rows = decltype(none);
    const auto* rows = std::get_if<Rows>(&result.rows);
    return to_proto(rows != nullptr ? *rows : none);
  };
  switch (kind) {
    case store::ReportKind::kQueueIntervals:
      answer.response = rows_of(std::vector<store::QueueIntervalRow>{});
      break;
    case store::ReportKind::kAgentIntervals:
      answer.response = rows_of(std::vector<store::AgentIntervalRow>{});
      break;
    case store::ReportKind::kAgentStateTime:
      answer.response = rows_of(std::vector<store::AgentStateTimeRow>{});
      break;
    case store::ReportKind::kAgentMonthlyVolume:
      answer.response = rows_of(std::vector<store::AgentMonthRow>{});
      break;
  }
  return answer;
}

decltype(api::ApiHooks::run_report) make_report_runner(store::ReportQueries& reports) {
  return [&reports](api::ReportQuery query, std::function<void(api::ReportAnswer)> done) {
    if (auto* search = std::get_if<api::CallSearchQuery>(&query.what)) {
      store::CallSearch s;
      s.tenant = std::move(query.tenant);
      s.from = search->from;
      s.to = search->to;
      s.caller_number = std::move(search->caller_number);
      s.agent = std::move(search->agent);
      s.queue = std::move(search->queue);
      s.final_state = std::move(search->final_state);
      s.limit = search->page_size;
      if (search->after)
        s.after = store::CallKey{search->after->arrived_at, search->after->call_id};
      s.cancelled = std::move(query.abandoned);
      return reports.search(std::move(s), [done = std::move(done)](store::CallSearchResult r) {
        done(to_report_answer(std::move(r)));
      });
    }
    auto& range = std::get<api::RangeReportQuery>(query.what);
    store::ReportRequest r;
    r.kind = to_store(range.report);
    r.tenant = std::move(query.tenant);
    r.from = range.from;
    r.to = range.to;
    r.interval = std::move(range.interval);
    r.time_zone = std::move(range.time_zone);
    r.sl_threshold_ms = range.sl_threshold_ms;
    r.names = std::move(range.names);
    r.cancelled = std::move(query.abandoned);
    const store::ReportKind kind = r.kind;
    return reports.report(std::move(r), [kind, done = std::move(done)](store::ReportResult result) {
      done(to_report_answer(kind, std::move(result)));
    });
  };
}

}  // namespace acd::app
