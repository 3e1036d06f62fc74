#include "engine/app/sip_wiring.h"

#include <algorithm>
#include <map>
#include <vector>

#include "engine/app/flow_wiring.h"
#include "engine/app/logging.h"
#include "engine/media/prompts.h"

namespace acd::app {
namespace {

std::optional<sip::SipCredentials> to_sip(const std::optional<DigestCredentials>& credentials) {
  if (!credentials) return std::nullopt;
  return sip::SipCredentials{credentials->username, credentials->ha1};
}

}  // namespace

sip::SipOptions make_sip_options(const SipConfig& config) {
  sip::SipOptions options = config;  // the file's options, without `enabled`
  options.public_address = config.effective_public_address();
  options.media_address = config.effective_media_address();
  return options;
}

namespace {

sip::SipMenuAction to_sip(const IvrAction& action, const sip::SipTenant& tenant) {
  sip::SipMenuAction out;
  out.target = action.target;
  switch (action.kind) {
    case IvrAction::Kind::kQueue:
      out.kind = sip::SipMenuAction::Kind::kQueue;
      for (const auto& q : tenant.queues)
        if (q.name == action.target) out.queue = q.id;
      break;
    case IvrAction::Kind::kMenu: out.kind = sip::SipMenuAction::Kind::kMenu; break;
    case IvrAction::Kind::kVoicemail: out.kind = sip::SipMenuAction::Kind::kVoicemail; break;
    case IvrAction::Kind::kCallback: out.kind = sip::SipMenuAction::Kind::kCallback; break;
    case IvrAction::Kind::kHangup: out.kind = sip::SipMenuAction::Kind::kHangup; break;
    case IvrAction::Kind::kOperator: out.kind = sip::SipMenuAction::Kind::kOperator; break;
  }
  return out;
}

// The tenant's prompt sets, loaded (files that cannot be read are logged and left out).
std::vector<std::shared_ptr<const media::PromptSet>> load_prompt_sets(
    const TenantSettings& settings) {
  std::vector<std::shared_ptr<const media::PromptSet>> sets;
  for (const auto& config : settings.prompt_sets) {
    std::string error;
    std::vector<std::string> skipped;
    const std::string language =
        config.language.empty() ? settings.default_language : config.language;
    auto set = media::load_prompt_set(config.name, language, config.path, &error, &skipped);
    for (const auto& why : skipped)
      log_event(LogLevel::kWarn, "media.prompt_skipped",
                {{"tenant", settings.name}, {"prompt_set", config.name}, {"error", why}});
    if (!set) {
      log_event(LogLevel::kError, "media.prompt_set_failed",
                {{"tenant", settings.name}, {"prompt_set", config.name}, {"error", error}});
      continue;
    }
    sets.push_back(std::make_shared<const media::PromptSet>(std::move(*set)));
  }
  return sets;
}

}  // namespace

std::shared_ptr<const sip::SipDirectory> make_sip_directory(const DaemonConfig& config,
                                                            const FlowHostSources& flow_sources) {
  auto directory = std::make_shared<sip::SipDirectory>();
  for (const auto& settings : config.tenants) {
    sip::SipTenant tenant;
    tenant.id = settings.id;
    tenant.name = settings.name;
    tenant.realm = settings.realm();
    tenant.allow_external_transfer = settings.allow_external_transfer;
    tenant.outbound_trunk = settings.outbound_trunk;
    for (const auto& queue : config.domain.queues)
      if (queue.tenant == settings.id)
        tenant.queues.push_back({queue.id, queue.name, queue.music_on_hold, queue.breakout, {}});
    for (const auto& agent : config.domain.agents) {
      if (agent.tenant != settings.id) continue;
      sip::SipAgent a;
      a.id = agent.id;
      a.name = agent.name;
      a.extension = agent.extension;
      for (const auto& phone : settings.agent_sip) {
        if (phone.agent != agent.name) continue;
        a.credentials = to_sip(phone.credentials);
        a.static_contact = phone.contact;
      }
      tenant.agents.push_back(std::move(a));
    }
    for (const auto& trunk : settings.trunks) {
      sip::SipTrunk t;
      t.name = trunk.name;
      std::string error;
      // The loader has validated every CIDR; an invalid one leaves the trunk closed.
      if (auto sources = sip::CidrSet::parse(trunk.allowed_sources, &error)) t.sources = *sources;
      t.auth = to_sip(trunk.auth);
      t.caller_id = trunk.caller_id;
      t.outbound_uri = trunk.outbound_uri;
      for (const auto& did : trunk.dids) {
        sip::SipDid d;
        d.number = did.number;
        d.priority = did.priority;
        d.vip_level = did.vip_level;
        d.answer_on_connect = did.answer_on_connect;
        if (did.entry.kind == EntryPoint::Kind::kMenu) {
          d.menu = did.entry.target;
        } else if (did.entry.kind == EntryPoint::Kind::kFlow) {
          d.flow = did.entry.target;
        } else {
          for (const auto& q : tenant.queues)
            if (q.name == did.entry.target) d.queue = q.id;
        }
        t.dids.push_back(std::move(d));
      }
      tenant.trunks.push_back(std::move(t));
    }
    const auto sets = load_prompt_sets(settings);
    for (const auto& s : sets)
      if (!tenant.prompts && s->language == settings.default_language) tenant.prompts = s;
    for (auto& q : tenant.queues) {
      const auto& source = *std::find_if(config.domain.queues.begin(), config.domain.queues.end(),
                                         [&](const core::QueueConfig& c) { return c.id == q.id; });
      if (source.breakout_prompt.empty()) continue;
      if (tenant.prompts) q.breakout_prompt = tenant.prompts->find(source.breakout_prompt);
      if (!q.breakout_prompt)
        log_event(
            LogLevel::kWarn, "media.prompt_missing",
            {{"tenant", settings.name}, {"queue", q.name}, {"prompt", source.breakout_prompt}});
    }
    for (const auto& menu : settings.ivr_menus) {
      // The menu's set, else the first set in the tenant's language, else the first.
      std::shared_ptr<const media::PromptSet> set;
      for (const auto& s : sets)
        if (menu.prompt_set.empty() ? s->language == settings.default_language
                                    : s->name == menu.prompt_set) {
          set = s;
          break;
        }
      if (!set && menu.prompt_set.empty() && !sets.empty()) set = sets.front();
      sip::SipMenu m;
      m.name = menu.name;
      m.timeout = menu.timeout;
      m.retries = menu.retries;
      if (set) {
        if (auto clip = set->find(menu.prompt)) m.prompt.push_back(clip);
        if (auto clip = set->find("invalid")) m.invalid.push_back(clip);
        if (auto clip = set->find("voicemail")) m.voicemail.push_back(clip);
      }
      if (m.prompt.empty())
        log_event(LogLevel::kWarn, "media.prompt_missing",
                  {{"tenant", settings.name}, {"menu", menu.name}, {"prompt", menu.prompt}});
      for (const auto& option : menu.options)
        m.options.emplace_back(option.input.empty() ? '\0' : option.input[0],
                               to_sip(option.action, tenant));
      m.on_failure = to_sip(menu.on_failure, tenant);
      tenant.menus.push_back(std::move(m));
    }
    std::map<std::string, core::QueueId, std::less<>> queues_by_name;
    for (const auto& q : tenant.queues) queues_by_name.emplace(q.name, q.id);
    std::vector<core::BusinessCalendar> calendars;
    for (const auto& t : config.domain.tenants)
      if (t.id == settings.id) calendars = t.calendars;
    const auto host = make_flow_host(settings.id, std::move(calendars), flow_sources);
    std::map<std::string, core::SkillId, std::less<>> skills_by_name;
    for (const auto& skill : config.domain.skills)
      if (skill.tenant == settings.id) skills_by_name.emplace(skill.name, skill.id);
    for (const auto& flow : settings.flows)
      tenant.flows.push_back(make_sip_flow(flow, queues_by_name, host, skills_by_name));
    directory->tenants.push_back(std::move(tenant));
  }
  return directory;
}

std::string cap_log_value(std::string_view value) {
  if (value.size() <= kMaxSipLogValue) return std::string(value);
  std::size_t cut = kMaxSipLogValue;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return std::string(value.substr(0, cut)) + "...(" + std::to_string(value.size()) + " bytes)";
}

sip::SipLogger make_sip_logger() {
  return [](sip::SipLogLevel level, std::string_view event,
            std::initializer_list<sip::SipLogField> fields) { log_capped(level, event, fields); };
}

}  // namespace acd::app
