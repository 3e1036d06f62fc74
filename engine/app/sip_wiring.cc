#include "engine/app/sip_wiring.h"

#include <vector>

#include "engine/app/logging.h"

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

std::shared_ptr<const sip::SipDirectory> make_sip_directory(const DaemonConfig& config) {
  auto directory = std::make_shared<sip::SipDirectory>();
  for (const auto& settings : config.tenants) {
    sip::SipTenant tenant;
    tenant.id = settings.id;
    tenant.name = settings.name;
    tenant.realm = settings.realm();
    tenant.allow_external_transfer = settings.allow_external_transfer;
    tenant.outbound_trunk = settings.outbound_trunk;
    for (const auto& queue : config.domain.queues)
      if (queue.tenant == settings.id) tenant.queues.push_back({queue.id, queue.name});
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
        } else {
          for (const auto& q : tenant.queues)
            if (q.name == did.entry.target) d.queue = q.id;
        }
        t.dids.push_back(std::move(d));
      }
      tenant.trunks.push_back(std::move(t));
    }
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
            std::initializer_list<sip::SipLogField> fields) {
    LogLevel l = LogLevel::kInfo;
    switch (level) {
      case sip::SipLogLevel::kDebug: l = LogLevel::kDebug; break;
      case sip::SipLogLevel::kInfo: l = LogLevel::kInfo; break;
      case sip::SipLogLevel::kWarn: l = LogLevel::kWarn; break;
      case sip::SipLogLevel::kError: l = LogLevel::kError; break;
    }
    if (!log_enabled(l)) return;
    // LogField views its value: the cut copies live here until the line is written.
    std::vector<std::string> capped;
    capped.reserve(fields.size());
    std::vector<LogField> out;
    out.reserve(fields.size());
    for (const auto& f : fields) {
      if (f.value.size() <= kMaxSipLogValue) {
        out.emplace_back(f.key, f.value);
      } else {
        capped.push_back(cap_log_value(f.value));
        out.emplace_back(f.key, capped.back());
      }
    }
    log_event(l, event, out);
  };
}

}  // namespace acd::app
