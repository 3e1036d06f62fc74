#include "engine/app/api_wiring.h"

#include <cstdio>
#include <ctime>
#include <vector>

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

}  // namespace acd::app
