#include "engine/api/route_explain.h"

#include <map>
#include <optional>
#include <string>

#include "engine/api/api_context.h"
#include "engine/api/convert.h"

namespace acd::api {

namespace v1 = acd::v1;

namespace {

constexpr std::size_t kMaxNumber = 256;  // caller and dialled numbers, as a task's customer
constexpr std::string_view kLanguage = "language";
constexpr std::string_view kIvrPrefix = "ivr.";
// Longer waits are certainly typos (and would overflow the core's clock arithmetic).
constexpr std::int64_t kMaxWaitedSeconds = std::int64_t{366} * 24 * 3600;

std::variant<core::Duration, grpc::Status> waited_of(const v1::ExplainRouteRequest& request) {
  if (!request.has_waited()) return core::Duration::zero();
  const auto& d = request.waited();
  if (d.nanos() <= -1'000'000'000 || d.nanos() >= 1'000'000'000 ||
      (d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0))
    return invalid_field("waited", "not a valid duration");
  if (d.seconds() < 0 || d.nanos() < 0) return invalid_field("waited", "must be 0 or more");
  if (d.seconds() > kMaxWaitedSeconds) return invalid_field("waited", "at most 366 days");
  return std::chrono::seconds(d.seconds()) + std::chrono::nanoseconds(d.nanos());
}

}  // namespace

std::variant<core::RouteQuery, grpc::Status> route_query(const v1::ExplainRouteRequest& request,
                                                         const ApiTenant& tenant) {
  if (request.queue().empty()) return invalid_field("queue", "required: a queue name");
  const auto queue = tenant.queue(request.queue());
  // Another tenant's queue of the same name is as unknown as no queue at all.
  if (!queue)
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "queue: no queue \"" + request.queue() + "\" in tenant " + tenant.name);
  if (auto refusal = check_size("caller_number", request.caller_number(), kMaxNumber))
    return *refusal;
  if (auto refusal = check_size("dialled_number", request.dialled_number(), kMaxNumber))
    return *refusal;
  if (auto refusal = check_priority(request.priority())) return *refusal;
  if (auto refusal = check_vip_level(request.vip_level())) return *refusal;
  if (auto refusal = check_size("language", request.language(), kMaxAttributeValue))
    return *refusal;
  const int language = request.language().empty() ? 0 : 1;
  if (auto refusal = check_attributes("attributes", request.attributes(),
                                      request.ivr_choices_size() + language))
    return *refusal;
  if (language == 1 && request.attributes().count(std::string(kLanguage)) != 0)
    return invalid_field("attributes", "\"language\" is also given as language");
  for (const auto& [menu, key] : request.ivr_choices()) {
    if (auto refusal =
            check_attribute("ivr_choices", menu, key, kMaxAttributeKey - kIvrPrefix.size()))
      return *refusal;
    if (key.empty()) return invalid_field("ivr_choices", "no key pressed in menu \"" + menu + "\"");
    if (request.attributes().count(std::string(kIvrPrefix) + menu) != 0)
      return invalid_field("attributes", "\"ivr." + menu + "\" is also given in ivr_choices");
  }
  std::optional<core::Channel> channel;
  if (request.channel() != v1::CHANNEL_UNSPECIFIED) {
    channel = from_proto(request.channel());
    if (!channel)
      return invalid_field("channel", "unknown channel " + std::to_string(request.channel()) +
                                          "; expected CHANNEL_UNSPECIFIED (a call), "
                                          "CHANNEL_CHAT, CHANNEL_EMAIL, CHANNEL_SMS, "
                                          "CHANNEL_WEB_FORM or CHANNEL_CALLBACK");
  }
  auto waited = waited_of(request);
  if (auto* refusal = std::get_if<grpc::Status>(&waited)) return *refusal;

  core::RouteQuery query;
  query.queue = *queue;
  query.channel = channel;
  query.waited = std::get<core::Duration>(waited);
  core::CallSpec& call = query.call;
  call.tenant = tenant.id;
  call.caller_number = request.caller_number();
  call.dialed_number = request.dialled_number();
  call.priority = request.priority();
  call.vip_level = request.vip_level();
  // Sorted, so that the same request reads the same everywhere (a map has no order).
  std::map<std::string, std::string> attributes(request.attributes().begin(),
                                                request.attributes().end());
  if (language == 1) attributes.emplace(kLanguage, request.language());
  for (const auto& [menu, key] : request.ivr_choices())
    attributes.emplace(std::string(kIvrPrefix) + menu, key);
  call.attributes.assign(attributes.begin(), attributes.end());
  return query;
}

v1::QueueStrategy to_proto(core::Strategy strategy) {
  switch (strategy) {
    case core::Strategy::kLongestIdle: return v1::QUEUE_STRATEGY_LONGEST_IDLE;
    case core::Strategy::kLeastTalkTime: return v1::QUEUE_STRATEGY_LEAST_TALK_TIME;
    case core::Strategy::kFewestCalls: return v1::QUEUE_STRATEGY_FEWEST_CALLS;
    case core::Strategy::kRoundRobin: return v1::QUEUE_STRATEGY_ROUND_ROBIN;
    case core::Strategy::kTopDown: return v1::QUEUE_STRATEGY_TOP_DOWN;
    case core::Strategy::kRingAll: return v1::QUEUE_STRATEGY_RING_ALL;
    case core::Strategy::kRandom: return v1::QUEUE_STRATEGY_RANDOM;
    case core::Strategy::kWeightedRandom: return v1::QUEUE_STRATEGY_WEIGHTED_RANDOM;
    case core::Strategy::kBestProficiency: return v1::QUEUE_STRATEGY_BEST_PROFICIENCY;
  }
  return v1::QUEUE_STRATEGY_UNSPECIFIED;
}

void fill_route_explanation(const core::RouteExplanation& e, v1::ExplainRouteResponse& out) {
  out.set_queue(e.queue_name);
  out.set_strategy(to_proto(e.strategy));
  out.set_by_rules(e.by_rules);
  out.set_order_by(e.order_by);
  for (const auto& step : e.steps) {
    auto& s = *out.add_steps();
    set_duration(step.after, *s.mutable_after());
    s.set_rule(step.rule);
    s.set_current(step.current);
  }
  out.set_current_step(e.current_step + 1);
  for (const auto& member : e.members) {
    auto& m = *out.add_members();
    m.set_agent(member.name);
    m.set_state(to_proto(member.state));
    m.set_tier(member.tier);
    m.set_penalty(member.penalty);
    m.set_free(member.free);
    for (bool admitted : member.admitted) m.add_admitted(admitted);
    for (const auto& why : member.refused_by) m.add_refused_by(why);
    for (double key : member.order_keys) m.add_order_keys(key);
    m.set_rank(member.rank);
    m.set_not_now(member.not_now);
  }
  for (core::AgentId agent : e.chosen)
    for (const auto& member : e.members)
      if (member.agent == agent) out.add_chosen(member.name);
  out.set_random_group(e.random_group);
}

}  // namespace acd::api
