#include "engine/app/config_db.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "engine/app/duration.h"
#include "engine/app/logging.h"
#include "engine/core/task.h"
#include "engine/store/config_store.h"

namespace acd::app {
namespace {

using store::ConfigChange;
using store::ConfigValue;

// ---------------------------------------------------------------------------------------
// Values as stored: durations in milliseconds, numbers in fixed notation.

std::int64_t ms_of(core::Duration d) {
  return (d.count() + 500'000) / 1'000'000;
}

std::string duration_text(core::Duration d) {
  return format_duration(std::chrono::milliseconds(ms_of(d)));
}

std::string number_text(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  return std::string(buf, ptr);
}

std::string bool_text(bool b) {
  return b ? "true" : "false";
}

std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_string(items[i]);
  return out + "]";
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

ConfigValue text_value(std::string column, std::string text) {
  return {std::move(column), std::move(text), ""};
}
ConfigValue optional_value(std::string column, const std::string& text) {
  return {std::move(column), text.empty() ? std::nullopt : std::optional<std::string>(text), ""};
}
ConfigValue ref_value(std::string column, std::string table, const std::string& name) {
  return {std::move(column), name.empty() ? std::nullopt : std::optional<std::string>(name),
          std::move(table)};
}

// An agent's capacity as stored (0011): a JSON object of the channels that differ from the
// default, in the core's channel order ({"chat":3,"sms":0}; {} for the default).
std::string capacity_json(const core::ChannelCapacity& capacity) {
  std::string out;
  for (std::size_t i = 0; i < core::kChannelCount; ++i) {
    if (capacity[i] == core::kDefaultCapacity[i]) continue;
    out += (out.empty() ? "" : ",") + json_string(core::to_string(static_cast<core::Channel>(i))) +
           ":" + std::to_string(capacity[i]);
  }
  return "{" + out + "}";
}

// The same as the diff shows it: "chat 3, sms 0", or "(1 of each channel)" for the default.
std::string capacity_text(const core::ChannelCapacity& capacity) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < core::kChannelCount; ++i) {
    if (capacity[i] == core::kDefaultCapacity[i]) continue;
    parts.push_back(std::string(core::to_string(static_cast<core::Channel>(i))) + " " +
                    std::to_string(capacity[i]));
  }
  return parts.empty() ? "(1 of each channel)" : join(parts);
}

// An agent's languages as stored (0013): a JSON array in the file's order (["en","es"]), and
// as the diff shows them ("en, es", "(none)").
std::string languages_json(const std::vector<std::string>& languages) {
  return json_array(languages);
}
std::string languages_text(const std::vector<std::string>& languages) {
  return languages.empty() ? "(none)" : join(languages);
}

// An agent's attributes by name: the order in which they are compared, stored and exported
// (jsonb keeps an object's keys in an order of its own, not the file's).
std::vector<std::pair<std::string, std::string>> sorted_attributes(
    std::vector<std::pair<std::string, std::string>> attributes) {
  std::sort(attributes.begin(), attributes.end());
  return attributes;
}

// As stored (0013): {"level":"senior","site":"paris"}; as the diff shows them:
// level "senior", site "paris", or "(none)".
std::string attributes_json(const std::vector<std::pair<std::string, std::string>>& attributes) {
  std::string out;
  for (const auto& [name, value] : sorted_attributes(attributes))
    out += (out.empty() ? "" : ",") + json_string(name) + ":" + json_string(value);
  return "{" + out + "}";
}
std::string attributes_text(const std::vector<std::pair<std::string, std::string>>& attributes) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : sorted_attributes(attributes))
    parts.push_back(name + " " + json_string(value));
  return parts.empty() ? "(none)" : join(parts);
}

// A queue's routing as stored (0013): {} when it has none, else
// {"steps":[{"after_ms":0,"target":"..."},...],"order_by":"..."} (order_by only when given);
// as the diff shows it: 0s "target", 30s "target", order_by "...", or "(none)".
std::string routing_json(const core::QueueRouting& routing) {
  if (!routing.enabled()) return "{}";
  std::vector<std::string> steps;
  for (const auto& step : routing.steps) {
    steps.push_back("{\"after_ms\":" + std::to_string(ms_of(step.after)) +
                    ",\"target\":" + json_string(step.target) + "}");
  }
  std::string out = "{\"steps\":[" + join(steps, ",") + "]";
  if (!routing.order_by.empty()) out += ",\"order_by\":" + json_string(routing.order_by);
  return out + "}";
}
std::string routing_text(const core::QueueRouting& routing) {
  if (!routing.enabled()) return "(none)";
  std::vector<std::string> parts;
  for (const auto& step : routing.steps)
    parts.push_back(duration_text(step.after) + " " + json_string(step.target));
  if (!routing.order_by.empty()) parts.push_back("order_by " + json_string(routing.order_by));
  return join(parts);
}

// ---------------------------------------------------------------------------------------
// The entity model: what is compared, shown and written.

struct Field {
  std::string label;
  std::string value;
  bool secret = false;  // shown as "changed", never printed
  bool hidden = false;  // compared and written, not shown (list positions)
  bool in_row = true;   // false: shown only (the order of child rows)
};

struct Row {
  std::string label;  // children: "member alice"
  std::vector<Field> fields;
  std::vector<ConfigValue> key;
  std::vector<ConfigValue> columns;
};

struct ChildList {
  std::string table;
  std::vector<Row> rows;
};

struct Entity {
  std::string tenant;
  int rank = 0;  // write order: referenced kinds first
  int seq = 0;   // position in the file: new rows are inserted in file order
  std::string kind;
  std::string name;
  std::string table;
  Row row;
  std::vector<ChildList> children;
  // Columns written after every entity and child row (an UPDATE of `row`'s row): references
  // to entities of a higher rank, such as the tenant's outbound trunk. Its fields are
  // compared; `row` carries them for showing (not in_row).
  Row late;
  [[nodiscard]] std::string label() const {
    return kind + " " + (kind == "tenant" ? name : tenant + "/" + name);
  }
};

using EntityKey = std::tuple<std::string, int, std::string>;  // tenant, rank, name

std::string exit_text(const core::ExitDestination& e, const NameTable& names) {
  switch (e.kind) {
    case core::ExitDestination::Kind::kHangup: return "hangup " + quoted(e.target);
    case core::ExitDestination::Kind::kQueue: return "queue " + names.queue(e.queue);
    case core::ExitDestination::Kind::kVoicemail: return "voicemail " + e.target;
    case core::ExitDestination::Kind::kCallback: return "callback " + quoted(e.target);
  }
  return "?";
}

std::string exit_json(const core::ExitDestination& e, const NameTable& names) {
  const std::string target =
      e.kind == core::ExitDestination::Kind::kQueue ? names.queue(e.queue) : e.target;
  return "{" + json_string(core::to_string(e.kind)) + ":" + json_string(target) + "}";
}

std::string action_text(const IvrAction& a) {
  return std::string(to_string(a.kind)) + " " + quoted(a.target);
}

// Everything of one tenant of `config` as entities.
void describe_tenant(const DaemonConfig& config, const TenantSettings& t,
                     std::vector<Entity>& out) {
  const NameTable& names = *config.names;
  const core::CoreConfig& d = config.domain;
  auto entity = [&](int rank, const char* kind, const char* table, const std::string& name) {
    Entity e;
    e.tenant = t.name;
    e.rank = rank;
    e.kind = kind;
    e.name = name;
    e.table = table;
    e.row.label = e.label();
    e.row.key = {text_value("name", name)};
    return e;
  };
  auto field = [](Entity& e, std::string label, std::string value, std::string column,
                  std::optional<ConfigValue> stored) {
    e.row.fields.push_back({std::move(label), std::move(value)});
    if (stored) {
      stored->column = std::move(column);
      e.row.columns.push_back(std::move(*stored));
    }
  };
  auto text = [](const std::string& s) { return std::optional<ConfigValue>(text_value("", s)); };

  {
    Entity e = entity(0, "tenant", "tenants", t.name);
    field(e, "sip_realm", t.sip_realm.empty() ? "(tenant name)" : t.sip_realm, "sip_realm",
          optional_value("", t.sip_realm));
    field(e, "default_language", t.default_language, "default_language", text(t.default_language));
    field(e, "time_zone", t.time_zone, "time_zone", text(t.time_zone));
    field(e, "not_ready_reasons", join(t.not_ready_reasons), "not_ready_reasons",
          text(store::text_array(t.not_ready_reasons)));
    field(e, "transfer.allow_external", bool_text(t.allow_external_transfer),
          "allow_external_transfer", text(bool_text(t.allow_external_transfer)));
    // The trunk may be new in this apply: written once the trunks are.
    const std::string trunk = t.outbound_trunk.empty() ? "(none)" : t.outbound_trunk;
    e.row.fields.push_back({"outbound_trunk", trunk, false, false, false});
    e.late.label = e.row.label;
    e.late.key = e.row.key;
    e.late.fields.push_back({"outbound_trunk", trunk});
    e.late.columns.push_back(ref_value("outbound_trunk_id", "trunks", t.outbound_trunk));
    out.push_back(std::move(e));
  }
  for (const auto& s : d.skills) {
    if (s.tenant == t.id) out.push_back(entity(1, "skill", "skills", s.name));
  }
  for (const auto& team : d.teams) {
    if (team.tenant != t.id) continue;
    Entity e = entity(2, "team", "teams", team.name);
    const auto& p = team.break_policy;
    field(e, "break_policy.reasons", join(p.reasons), "break_reasons",
          text(store::text_array(p.reasons)));
    field(e, "break_policy.max_concurrent", std::to_string(p.max_concurrent), "max_on_break",
          optional_value("", p.max_concurrent > 0 ? std::to_string(p.max_concurrent) : ""));
    char seconds[32] = "";
    if (ms_of(p.max_duration) > 0) {
      std::snprintf(seconds, sizeof seconds, "%lld.%03lld",
                    static_cast<long long>(ms_of(p.max_duration) / 1000),
                    static_cast<long long>(ms_of(p.max_duration) % 1000));
    }
    field(e, "break_policy.max_duration", duration_text(p.max_duration), "max_break_seconds",
          optional_value("", seconds));
    const char* over =
        p.over_limit == core::BreakPolicy::OverLimit::kWaitlist ? "waitlist" : "refuse";
    field(e, "break_policy.over_limit", over, "break_over_limit", text(over));
    out.push_back(std::move(e));
  }
  for (const auto& a : d.agents) {
    if (a.tenant != t.id) continue;
    Entity e = entity(3, "agent", "agents", a.name);
    field(e, "extension", a.extension, "extension", text(a.extension));
    const std::string team = a.team.valid() ? names.team(a.team) : "";
    e.row.fields.push_back({"team", team.empty() ? "(none)" : team});
    e.row.columns.push_back(ref_value("team_id", "teams", team));
    const char* mode = a.work_mode == core::WorkMode::kManual ? "manual" : "auto-ready";
    field(e, "work_mode", mode, "work_mode", text(mode));
    field(e, "outbound_wrap_up", duration_text(a.outbound_wrap_up), "outbound_wrap_up_ms",
          text(std::to_string(ms_of(a.outbound_wrap_up))));
    field(e, "capacity", capacity_text(a.capacity), "capacity", text(capacity_json(a.capacity)));
    field(e, "languages", languages_text(a.languages), "languages",
          text(languages_json(a.languages)));
    field(e, "attributes", attributes_text(a.attributes), "attributes",
          text(attributes_json(a.attributes)));
    const DigestCredentials* sip = nullptr;
    std::string contact;
    for (const auto& s : t.agent_sip) {
      if (s.agent != a.name) continue;
      if (s.credentials) sip = &*s.credentials;
      contact = s.contact;
    }
    field(e, "sip.username", sip ? sip->username : "(none)", "sip_username",
          optional_value("", sip ? sip->username : ""));
    e.row.fields.push_back({"sip.ha1", sip ? sip->ha1 : "", true});
    e.row.columns.push_back(optional_value("sip_ha1", sip ? sip->ha1 : ""));
    field(e, "sip.contact", contact.empty() ? "(none)" : contact, "sip_contact",
          optional_value("", contact));
    ChildList skills{"agent_skills", {}};
    std::vector<core::AgentSkill> sorted = a.skills;
    std::sort(sorted.begin(), sorted.end(), [&](const auto& x, const auto& y) {
      return names.skill(x.skill) < names.skill(y.skill);
    });
    for (const auto& s : sorted) {
      const std::string skill = names.skill(s.skill);
      const std::string level = std::to_string(s.level);
      skills.rows.push_back(
          {"skill " + skill,
           {{"level", level}},
           {ref_value("agent_id", "agents", a.name), ref_value("skill_id", "skills", skill)},
           {text_value("proficiency", level)}});
    }
    e.children.push_back(std::move(skills));
    out.push_back(std::move(e));
  }
  for (const auto& q : d.queues) {
    if (q.tenant != t.id) continue;
    Entity e = entity(4, "queue", "queues", q.name);
    auto duration = [&](const char* label, const char* column, core::Duration v) {
      field(e, label, duration_text(v), column, text(std::to_string(ms_of(v))));
    };
    field(e, "strategy", core::to_string(q.strategy), "strategy",
          text(core::to_string(q.strategy)));
    duration("sl_threshold", "sl_threshold_ms", q.sl_threshold);
    duration("ring_timeout", "ring_timeout_ms", q.ring_timeout);
    duration("wrap_up", "wrap_up_ms", q.wrap_up);
    field(e, "manual_wrap_up", bool_text(q.manual_wrap_up), "manual_wrap_up",
          text(bool_text(q.manual_wrap_up)));
    duration("default_handle_time", "default_handle_time_ms", q.default_handle_time);
    duration("max_wait", "max_wait_ms", q.max_wait);
    field(e, "max_length", std::to_string(q.max_length), "max_length",
          text(std::to_string(q.max_length)));
    field(e, "join_when_empty", bool_text(q.join_when_empty), "join_when_empty",
          text(bool_text(q.join_when_empty)));
    field(e, "leave_when_empty", bool_text(q.leave_when_empty), "leave_when_empty",
          text(bool_text(q.leave_when_empty)));
    e.row.fields.push_back({"on_timeout", exit_text(q.on_timeout, names)});
    e.row.fields.push_back({"on_full", exit_text(q.on_full, names)});
    e.row.fields.push_back({"on_empty", exit_text(q.on_empty, names)});
    // Breakout keys travel in the exits column too: {"prompt": name, "keys": {"1": exit}}.
    std::string breakout_text = q.breakout_prompt.empty() ? "" : "prompt " + q.breakout_prompt;
    std::string breakout_keys;
    for (const auto& [key, exit] : q.breakout) {
      breakout_text +=
          (breakout_text.empty() ? "" : ", ") + std::string(1, key) + ": " + exit_text(exit, names);
      breakout_keys += (breakout_keys.empty() ? "" : ",") + json_string(std::string(1, key)) + ":" +
                       exit_json(exit, names);
    }
    e.row.fields.push_back({"breakout", breakout_text.empty() ? "(none)" : breakout_text});
    e.row.columns.push_back(text_value(
        "exits", "{\"on_timeout\":" + exit_json(q.on_timeout, names) + ",\"on_full\":" +
                     exit_json(q.on_full, names) + ",\"on_empty\":" + exit_json(q.on_empty, names) +
                     ",\"breakout\":{\"prompt\":" + json_string(q.breakout_prompt) + ",\"keys\":{" +
                     breakout_keys + "}}}"));
    field(e, "aging_per_minute", number_text(q.aging_per_minute), "aging_per_minute",
          text(number_text(q.aging_per_minute)));
    field(e, "vip_boost", std::to_string(q.vip_boost), "vip_boost",
          text(std::to_string(q.vip_boost)));
    std::vector<std::string> steps, steps_json;
    for (const auto& s : q.escalation) {
      steps.push_back(duration_text(s.after) + " (relax_min_level " +
                      std::to_string(s.relax_min_level) + ", drop_optional_skills " +
                      bool_text(s.drop_optional_skills) + ", max_tier " +
                      std::to_string(s.max_tier) + ")");
      steps_json.push_back("{\"after_ms\":" + std::to_string(ms_of(s.after)) +
                           ",\"relax_min_level\":" + std::to_string(s.relax_min_level) +
                           ",\"drop_optional_skills\":" + bool_text(s.drop_optional_skills) +
                           ",\"max_tier\":" + std::to_string(s.max_tier) + "}");
    }
    field(e, "escalation", steps.empty() ? "(none)" : join(steps), "escalation",
          text("[" + join(steps_json, ",") + "]"));
    const auto& o = q.overflow;
    field(e, "overflow",
          "enabled " + bool_text(o.enabled) + ", min_calls " + std::to_string(o.min_calls) +
              ", min_wait " + duration_text(o.min_wait) + ", sustain " + duration_text(o.sustain) +
              ", max_tier " + std::to_string(o.max_tier) + ", clear_below_calls " +
              std::to_string(o.clear_below_calls) + ", clear_after " + duration_text(o.clear_after),
          "overflow",
          text("{\"enabled\":" + bool_text(o.enabled) +
               ",\"min_calls\":" + std::to_string(o.min_calls) +
               ",\"min_wait_ms\":" + std::to_string(ms_of(o.min_wait)) + ",\"sustain_ms\":" +
               std::to_string(ms_of(o.sustain)) + ",\"max_tier\":" + std::to_string(o.max_tier) +
               ",\"clear_below_calls\":" + std::to_string(o.clear_below_calls) +
               ",\"clear_after_ms\":" + std::to_string(ms_of(o.clear_after)) + "}"));
    field(e, "rona_policy", core::to_string(q.rona_policy), "rona_policy",
          text(core::to_string(q.rona_policy)));
    duration("rona_retry", "rona_retry_ms", q.rona_retry);
    field(e, "ring_all_limit", std::to_string(q.ring_all_limit), "ring_all_limit",
          text(std::to_string(q.ring_all_limit)));
    duration("sticky_window", "sticky_window_ms", q.sticky_window);
    duration("sticky_wait", "sticky_wait_ms", q.sticky_wait);
    field(e, "music_on_hold", q.music_on_hold.empty() ? "(first class)" : q.music_on_hold,
          "music_on_hold", text(q.music_on_hold));
    field(e, "routing", routing_text(q.routing), "routing", text(routing_json(q.routing)));

    ChildList required{"queue_skills", {}};
    std::vector<std::string> skill_order;
    for (std::size_t i = 0; i < q.required_skills.size(); ++i) {
      const auto& r = q.required_skills[i];
      const std::string skill = names.skill(r.skill);
      skill_order.push_back(skill);
      required.rows.push_back(
          {"required skill " + skill,
           {{"min_level", std::to_string(r.min_level)},
            {"optional", bool_text(r.optional)},
            {"position", std::to_string(i), false, true}},
           {ref_value("queue_id", "queues", q.name), ref_value("skill_id", "skills", skill)},
           {text_value("min_level", std::to_string(r.min_level)),
            text_value("optional", bool_text(r.optional)),
            text_value("position", std::to_string(i))}});
    }
    e.row.fields.push_back({"required_skills order", join(skill_order), false, false, false});
    ChildList members{"queue_members", {}};
    std::vector<std::string> member_order;
    int position = 0;
    for (const auto& m : d.members) {
      if (m.queue != q.id) continue;
      const std::string agent = names.agent(m.agent);
      member_order.push_back(agent);
      members.rows.push_back(
          {"member " + agent,
           {{"tier", std::to_string(m.tier)},
            {"penalty", std::to_string(m.penalty)},
            {"queue_priority", std::to_string(m.queue_priority)},
            {"weight", std::to_string(m.weight)},
            {"position", std::to_string(position), false, true}},
           {ref_value("queue_id", "queues", q.name), ref_value("agent_id", "agents", agent)},
           {text_value("tier", std::to_string(m.tier)),
            text_value("penalty", std::to_string(m.penalty)),
            text_value("priority", std::to_string(m.queue_priority)),
            text_value("weight", std::to_string(m.weight)),
            text_value("position", std::to_string(position))}});
      ++position;
    }
    e.row.fields.push_back({"members order", join(member_order), false, false, false});
    e.children.push_back(std::move(required));
    e.children.push_back(std::move(members));
    out.push_back(std::move(e));
  }
  for (const auto& p : t.prompt_sets) {
    Entity e = entity(5, "prompt_set", "prompt_sets", p.name);
    field(e, "language", p.language, "language", text(p.language));
    field(e, "path", p.path, "path", text(p.path));
    out.push_back(std::move(e));
  }
  for (const auto& c : t.calendars) {
    Entity e = entity(6, "calendar", "calendars", c.name);
    field(e, "time_zone", c.time_zone, "time_zone", text(c.time_zone));
    std::string weekly_json;
    for (std::size_t day = 0; day < 7; ++day) {
      e.row.fields.push_back({std::string("weekly.") + weekday_name(day),
                              c.weekly[day].empty() ? "closed" : join(c.weekly[day], ",")});
      if (c.weekly[day].empty()) continue;
      weekly_json += (weekly_json.empty() ? "" : ",") + json_string(weekday_name(day)) + ":" +
                     json_array(c.weekly[day]);
    }
    e.row.columns.push_back(text_value("weekly", "{" + weekly_json + "}"));
    ChildList holidays{"calendar_holidays", {}};
    for (const auto& h : c.holidays) {
      holidays.rows.push_back(
          {"holiday " + h.date,
           {{"name", h.name}, {"hours", h.hours ? join(*h.hours, ",") : "closed"}},
           {ref_value("calendar_id", "calendars", c.name), text_value("day", h.date)},
           {text_value("name", h.name),
            {"hours",
             h.hours ? std::optional<std::string>(store::text_array(*h.hours)) : std::nullopt,
             ""}}});
    }
    e.children.push_back(std::move(holidays));
    out.push_back(std::move(e));
  }
  for (const auto& m : t.ivr_menus) {
    Entity e = entity(7, "ivr_menu", "ivr_menus", m.name);
    field(e, "prompt", m.prompt, "prompt", text(m.prompt));
    e.row.fields.push_back({"prompt_set", m.prompt_set.empty() ? "(default)" : m.prompt_set});
    e.row.columns.push_back(ref_value("prompt_set_id", "prompt_sets", m.prompt_set));
    field(e, "timeout", duration_text(m.timeout), "timeout_ms",
          text(std::to_string(ms_of(m.timeout))));
    field(e, "retries", std::to_string(m.retries), "retries", text(std::to_string(m.retries)));
    ChildList options{"ivr_options", {}};
    auto option = [&](const std::string& input, const std::string& label, const IvrAction& a) {
      const bool queue = a.kind == IvrAction::Kind::kQueue;
      const bool menu = a.kind == IvrAction::Kind::kMenu;
      options.rows.push_back(
          {label,
           {{"action", action_text(a)}},
           {ref_value("menu_id", "ivr_menus", m.name), text_value("input", input)},
           {text_value("action", to_string(a.kind)),
            ref_value("queue_id", "queues", queue ? a.target : ""),
            ref_value("target_menu_id", "ivr_menus", menu ? a.target : ""),
            text_value("target", queue || menu ? "" : a.target)}});
    };
    std::vector<IvrOption> sorted = m.options;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& x, const auto& y) { return x.input < y.input; });
    for (const auto& o : sorted) option(o.input, "option " + o.input, o.action);
    option("failure", "on_failure", m.on_failure);
    e.children.push_back(std::move(options));
    out.push_back(std::move(e));
  }
  for (const auto& f : t.flows) {
    Entity e = entity(8, "flow", "flows", f.name);
    // The text is what runs, so it is compared (and shown as "changed", not printed); the
    // file it was read from is stored for people only: an exported document, which has
    // the text inline, re-applies unchanged.
    e.row.fields.push_back({"source", f.source, true});
    e.row.columns.push_back(text_value("source", f.source));
    e.row.columns.push_back(text_value("file", f.file));
    field(e, "instruction_limit", std::to_string(f.instruction_limit), "instruction_limit",
          text(std::to_string(f.instruction_limit)));
    field(e, "memory_limit", std::to_string(f.memory_limit), "memory_limit",
          text(std::to_string(f.memory_limit)));
    const bool queue = f.fallback.kind == IvrAction::Kind::kQueue;
    field(e, "fallback", action_text(f.fallback), "fallback", text(to_string(f.fallback.kind)));
    e.row.columns.push_back(
        ref_value("fallback_queue_id", "queues", queue ? f.fallback.target : ""));
    e.row.columns.push_back(text_value("fallback_target", queue ? "" : f.fallback.target));
    out.push_back(std::move(e));
  }
  for (const auto& tr : t.trunks) {
    Entity e = entity(9, "trunk", "trunks", tr.name);
    field(e, "allowed_sources", join(tr.allowed_sources), "allowed_sources",
          text(store::text_array(tr.allowed_sources)));
    field(e, "auth.username", tr.auth ? tr.auth->username : "(none)", "auth_username",
          optional_value("", tr.auth ? tr.auth->username : ""));
    e.row.fields.push_back({"auth.ha1", tr.auth ? tr.auth->ha1 : "", true});
    e.row.columns.push_back(optional_value("auth_ha1", tr.auth ? tr.auth->ha1 : ""));
    field(e, "caller_id", tr.caller_id, "caller_id", text(tr.caller_id));
    field(e, "outbound", tr.outbound_uri.empty() ? "(none)" : tr.outbound_uri, "outbound_uri",
          text(tr.outbound_uri));
    ChildList dids{"dids", {}};
    for (const auto& did : tr.dids) {
      const bool queue = did.entry.kind == EntryPoint::Kind::kQueue;
      const bool menu = did.entry.kind == EntryPoint::Kind::kMenu;
      const bool flow = did.entry.kind == EntryPoint::Kind::kFlow;
      const std::string priority = std::to_string(did.priority);
      const std::string vip_level = std::to_string(did.vip_level);
      const char* key = queue ? "queue" : menu ? "ivr_menu" : "flow";
      dids.rows.push_back(
          {"did " + did.number,
           {{"entry", std::string(key) + " " + did.entry.target},
            {"priority", priority},
            {"vip_level", vip_level},
            {"answer", did.answer_on_connect ? "on-connect" : "immediate"}},
           {ref_value("trunk_id", "trunks", tr.name), text_value("number", did.number)},
           {text_value("kind", queue  ? "queue"
                               : menu ? "menu"
                                      : "flow"),
            ref_value("queue_id", "queues", queue ? did.entry.target : ""),
            ref_value("menu_id", "ivr_menus", menu ? did.entry.target : ""),
            ref_value("flow_id", "flows", flow ? did.entry.target : ""),
            text_value("priority", priority), text_value("vip_level", vip_level),
            text_value("answer", did.answer_on_connect ? "on-connect" : "immediate")}});
    }
    e.children.push_back(std::move(dids));
    out.push_back(std::move(e));
  }
  for (const auto& u : t.users) {
    Entity e = entity(10, "user", "users", u.name);
    field(e, "display_name", u.display_name, "display_name", text(u.display_name));
    std::vector<std::string> roles;
    for (auto r : u.roles) roles.push_back(to_string(r));
    field(e, "roles", join(roles), "roles", text(store::text_array(roles)));
    e.row.fields.push_back({"agent", u.agent.empty() ? "(none)" : u.agent});
    e.row.columns.push_back(ref_value("agent_id", "agents", u.agent));
    ChildList tokens{"api_tokens", {}};
    for (const auto& tok : u.tokens) {
      tokens.rows.push_back(
          {"token " + tok.name,
           {{"sha256", tok.sha256, true},
            {"expires_at", tok.expires_at.empty() ? "never" : tok.expires_at}},
           {ref_value("user_id", "users", u.name), text_value("name", tok.name)},
           {text_value("sha256", tok.sha256), optional_value("expires_at", tok.expires_at)}});
    }
    e.children.push_back(std::move(tokens));
    out.push_back(std::move(e));
  }
}

std::map<EntityKey, Entity> describe(const DaemonConfig& config) {
  std::vector<Entity> list;
  for (const auto& t : config.tenants) describe_tenant(config, t, list);
  std::map<EntityKey, Entity> out;
  int seq = 0;
  for (auto& e : list) {
    e.seq = seq++;
    EntityKey key{e.tenant, e.rank, e.name};
    out.emplace(std::move(key), std::move(e));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Comparing.

bool rows_equal(const Row& a, const Row& b, bool in_row_only) {
  if (a.fields.size() != b.fields.size()) return false;
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    if (in_row_only && !a.fields[i].in_row) continue;
    if (a.fields[i].label != b.fields[i].label || a.fields[i].value != b.fields[i].value)
      return false;
  }
  return true;
}

// "label old -> new" for each shown field that differs.
std::vector<std::string> field_changes(const Row& from, const Row& to) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < from.fields.size() && i < to.fields.size(); ++i) {
    const Field& a = from.fields[i];
    const Field& b = to.fields[i];
    if (a.value == b.value || b.hidden) continue;
    if (b.secret) {
      out.push_back(b.label + " changed");
    } else {
      auto show = [](const std::string& v) { return v.empty() ? std::string("\"\"") : v; };
      out.push_back(b.label + " " + show(a.value) + " -> " + show(b.value));
    }
  }
  return out;
}

const Row* find_row(const ChildList& list, const std::string& label) {
  for (const auto& r : list.rows) {
    if (r.label == label) return &r;
  }
  return nullptr;
}

// The differences of one entity present on both sides, "" when equal.
std::string entity_changes(const Entity& from, const Entity& to) {
  std::vector<std::string> parts = field_changes(from.row, to.row);
  for (std::size_t c = 0; c < to.children.size(); ++c) {
    const ChildList& old_list = from.children[c];
    const ChildList& new_list = to.children[c];
    for (const auto& r : new_list.rows) {
      const Row* old_row = find_row(old_list, r.label);
      if (!old_row) {
        parts.push_back("+ " + r.label);
      } else {
        auto changes = field_changes(*old_row, r);
        if (!changes.empty()) parts.push_back(r.label + ": " + join(changes));
      }
    }
    for (const auto& r : old_list.rows) {
      if (!find_row(new_list, r.label)) parts.push_back("- " + r.label);
    }
  }
  return join(parts, "; ");
}

struct Plan {
  std::vector<std::string> diff;
  std::vector<ConfigChange> changes;
};

ConfigChange change(ConfigChange::Op op, const std::string& table, const std::string& tenant,
                    const Row& row) {
  ConfigChange c;
  c.op = op;
  c.table = table;
  c.tenant = tenant;
  c.key = row.key;
  if (op != ConfigChange::Op::kDelete) c.values = row.columns;
  return c;
}

// What makes `current` equal to `wanted`. `pruned` are tenants to delete as a whole.
Plan plan(const std::map<EntityKey, Entity>& current, const std::map<EntityKey, Entity>& wanted,
          const std::vector<std::string>& pruned) {
  Plan p;
  // The diff, sorted by tenant, kind, name.
  std::vector<std::pair<EntityKey, std::string>> lines;
  for (const auto& [key, e] : wanted) {
    auto it = current.find(key);
    if (it == current.end()) {
      lines.emplace_back(key, "+ " + e.label());
    } else if (auto changes = entity_changes(it->second, e); !changes.empty()) {
      lines.emplace_back(key, "~ " + e.label() + ": " + changes);
    }
  }
  for (const auto& [key, e] : current) {
    if (!wanted.count(key)) lines.emplace_back(key, "- " + e.label());
  }
  for (const auto& tenant : pruned)
    lines.emplace_back(EntityKey{tenant, 0, tenant}, "- tenant " + tenant);
  std::sort(lines.begin(), lines.end());
  for (auto& [key, line] : lines) p.diff.push_back(std::move(line));

  // Writes: entity rows in rank order (referenced kinds first), per tenant.
  std::vector<const Entity*> order;
  for (const auto& [key, e] : wanted) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const Entity* a, const Entity* b) {
    return std::tie(a->rank, a->seq) < std::tie(b->rank, b->seq);
  });
  for (const Entity* e : order) {
    auto it = current.find({e->tenant, e->rank, e->name});
    if (it == current.end()) {
      p.changes.push_back(change(ConfigChange::Op::kInsert, e->table, e->tenant, e->row));
    } else if (!rows_equal(it->second.row, e->row, true)) {
      p.changes.push_back(change(ConfigChange::Op::kUpdate, e->table, e->tenant, e->row));
    }
  }
  // Child rows, once every entity they may reference exists.
  for (const Entity* e : order) {
    auto it = current.find({e->tenant, e->rank, e->name});
    for (std::size_t c = 0; c < e->children.size(); ++c) {
      const ChildList& list = e->children[c];
      const ChildList* old_list = it == current.end() ? nullptr : &it->second.children[c];
      if (old_list) {
        for (const auto& r : old_list->rows) {
          if (!find_row(list, r.label))
            p.changes.push_back(change(ConfigChange::Op::kDelete, list.table, e->tenant, r));
        }
      }
      for (const auto& r : list.rows) {
        const Row* old_row = old_list ? find_row(*old_list, r.label) : nullptr;
        if (!old_row) {
          p.changes.push_back(change(ConfigChange::Op::kInsert, list.table, e->tenant, r));
        } else if (!rows_equal(*old_row, r, false)) {
          p.changes.push_back(change(ConfigChange::Op::kUpdate, list.table, e->tenant, r));
        }
      }
    }
  }
  // Late columns, once every entity they may reference exists (and before the entities
  // the file no longer has are deleted).
  for (const Entity* e : order) {
    if (e->late.columns.empty()) continue;
    auto it = current.find({e->tenant, e->rank, e->name});
    bool differs = false;
    if (it == current.end()) {
      for (const auto& c : e->late.columns) differs = differs || c.text.has_value();
    } else {
      differs = !rows_equal(it->second.late, e->late, false);
    }
    if (differs)
      p.changes.push_back(change(ConfigChange::Op::kUpdate, e->table, e->tenant, e->late));
  }
  // Entities the file no longer has, referencing kinds first (their child rows cascade).
  std::vector<const Entity*> gone;
  for (const auto& [key, e] : current) {
    if (!wanted.count(key)) gone.push_back(&e);
  }
  std::stable_sort(gone.begin(), gone.end(),
                   [](const Entity* a, const Entity* b) { return a->rank > b->rank; });
  for (const Entity* e : gone)
    p.changes.push_back(change(ConfigChange::Op::kDelete, e->table, e->tenant, e->row));
  for (const auto& tenant : pruned) {
    ConfigChange c;
    c.op = ConfigChange::Op::kDelete;
    c.table = "tenants";
    c.tenant = tenant;
    p.changes.push_back(std::move(c));
  }
  return p;
}

// ---------------------------------------------------------------------------------------
// Rows -> YAML.

const std::string& col(const store::ConfigRow& row, const char* column) {
  static const std::string kEmpty;
  auto it = row.find(column);
  if (it == row.end() || !it->second) return kEmpty;
  return *it->second;
}

bool is_null(const store::ConfigRow& row, const char* column) {
  auto it = row.find(column);
  return it == row.end() || !it->second;
}

std::string ms_text(const std::string& ms) {
  std::int64_t v = 0;
  std::from_chars(ms.data(), ms.data() + ms.size(), v);
  return format_duration(std::chrono::milliseconds(v));
}

std::vector<std::string> json_list(const std::string& json) {
  std::vector<std::string> out;
  if (json.empty()) return out;
  YAML::Node node = YAML::Load(json);
  for (const auto& item : node) out.push_back(item.as<std::string>());
  return out;
}

void emit_flow_list(YAML::Emitter& y, const std::vector<std::string>& items,
                    bool quoted_items = false) {
  y << YAML::Flow << YAML::BeginSeq;
  for (const auto& i : items) {
    if (quoted_items) y << YAML::DoubleQuoted;
    y << i;
  }
  y << YAML::EndSeq;
}

// Rows of `table` of one tenant, optionally only those whose `parent_column` is `parent`.
std::vector<const store::ConfigRow*> rows_of(const store::ConfigTables& tables, const char* table,
                                             const std::string& tenant,
                                             const char* parent_column = nullptr,
                                             const std::string& parent = {}) {
  std::vector<const store::ConfigRow*> out;
  for (const auto& r : tables.rows(table)) {
    if (col(r, "tenant") != tenant) continue;
    if (parent_column && col(r, parent_column) != parent) continue;
    out.push_back(&r);
  }
  return out;
}

// Writes a key only when it differs from the column's default.
// True when `text` written as a YAML literal block (`|`) reads back exactly: one final line
// break (the block's default chomping), no carriage return, no line that starts the block
// with a space or ends in one (an all-blank line would lose its spaces). Scripts are
// normally like that and read best so; others are written double-quoted.
bool literal_block_keeps(const std::string& text) {
  if (text.size() < 2 || text.back() != '\n' || text[text.size() - 2] == '\n') return false;
  if (text.front() == ' ' || text.front() == '\n') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' || (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
    if (c == ' ' && i + 1 < text.size() && text[i + 1] == '\n') return false;
  }
  return true;
}

void emit_unless(YAML::Emitter& y, const char* key, const std::string& value,
                 const char* default_value) {
  if (value == default_value) return;
  y << YAML::Key << key << YAML::Value << value;
}

// An agent's `capacity:` from its column (0011), only when it differs from the default, the
// channels in the core's order (the column's CHECK admits only known channels with integer
// values; a value of 1 written by hand is the default and left out).
void emit_capacity(YAML::Emitter& y, const std::string& json) {
  const YAML::Node stored = YAML::Load(json.empty() ? "{}" : json);
  std::vector<std::pair<std::string, YAML::Node>> differing;
  for (std::size_t i = 0; i < core::kChannelCount; ++i) {
    const char* channel = core::to_string(static_cast<core::Channel>(i));
    const YAML::Node tasks = stored[channel];
    if (tasks && !(tasks.IsScalar() && tasks.Scalar() == std::to_string(core::kDefaultCapacity[i])))
      differing.emplace_back(channel, tasks);
  }
  if (differing.empty()) return;
  y << YAML::Key << "capacity" << YAML::Value << YAML::Flow << YAML::BeginMap;
  for (const auto& [channel, tasks] : differing) y << YAML::Key << channel << YAML::Value << tasks;
  y << YAML::EndMap;
}

// An agent's `languages:` and `attributes:` from their columns (0013), when not empty; the
// attributes by name, as they are compared.
void emit_languages(YAML::Emitter& y, const std::string& json) {
  if (auto languages = json_list(json); !languages.empty()) {
    y << YAML::Key << "languages" << YAML::Value;
    emit_flow_list(y, languages);
  }
}

void emit_attributes(YAML::Emitter& y, const std::string& json) {
  const YAML::Node stored = YAML::Load(json.empty() ? "{}" : json);
  std::vector<std::pair<std::string, std::string>> attributes;
  for (auto it = stored.begin(); it != stored.end(); ++it)
    attributes.emplace_back(it->first.as<std::string>(), it->second.as<std::string>());
  if (attributes.empty()) return;
  y << YAML::Key << "attributes" << YAML::Value << YAML::Flow << YAML::BeginMap;
  for (const auto& [name, value] : sorted_attributes(std::move(attributes)))
    y << YAML::Key << name << YAML::Value << value;
  y << YAML::EndMap;
}

// A queue's `routing:` from its column (0013): nothing for {} (no routing steps).
void emit_routing(YAML::Emitter& y, const std::string& json) {
  const YAML::Node stored = YAML::Load(json.empty() ? "{}" : json);
  const YAML::Node steps = stored["steps"];
  if (!steps || !steps.IsSequence() || steps.size() == 0) return;
  y << YAML::Key << "routing" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "steps" << YAML::Value << YAML::BeginSeq;
  for (const auto& step : steps) {
    y << YAML::BeginMap;
    const std::string after = step["after_ms"] ? step["after_ms"].as<std::string>() : "0";
    if (after != "0") y << YAML::Key << "after" << YAML::Value << ms_text(after);
    y << YAML::Key << "target" << YAML::Value << step["target"].as<std::string>();
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
  if (const YAML::Node order_by = stored["order_by"])
    y << YAML::Key << "order_by" << YAML::Value << order_by.as<std::string>();
  y << YAML::EndMap;
}

void emit_action_json(YAML::Emitter& y, const YAML::Node& node) {
  y << YAML::Flow << YAML::BeginMap;
  for (auto it = node.begin(); it != node.end(); ++it) {
    y << YAML::Key << it->first.as<std::string>() << YAML::Value << it->second.as<std::string>();
  }
  y << YAML::EndMap;
}

std::string tables_to_yaml(const store::ConfigTables& tables) {
  YAML::Emitter y;
  y << YAML::BeginMap << YAML::Key << "tenants" << YAML::Value << YAML::BeginSeq;
  for (const auto& t : tables.rows("tenants")) {
    const std::string& tenant = col(t, "tenant");
    y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << tenant;
    if (!is_null(t, "sip_realm"))
      y << YAML::Key << "sip_realm" << YAML::Value << col(t, "sip_realm");
    emit_unless(y, "default_language", col(t, "default_language"), "en");
    emit_unless(y, "time_zone", col(t, "time_zone"), "UTC");
    std::vector<std::string> skills;
    for (const auto* s : rows_of(tables, "skills", tenant)) skills.push_back(col(*s, "name"));
    if (!skills.empty()) {
      y << YAML::Key << "skills" << YAML::Value;
      emit_flow_list(y, skills);
    }
    if (auto reasons = json_list(col(t, "not_ready_reasons")); !reasons.empty()) {
      y << YAML::Key << "not_ready_reasons" << YAML::Value;
      emit_flow_list(y, reasons);
    }
    if (col(t, "allow_external_transfer") == "true") {
      y << YAML::Key << "transfer" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
        << "allow_external" << YAML::Value << "true" << YAML::EndMap;
    }
    if (!is_null(t, "outbound_trunk"))
      y << YAML::Key << "outbound_trunk" << YAML::Value << col(t, "outbound_trunk");

    if (auto teams = rows_of(tables, "teams", tenant); !teams.empty()) {
      y << YAML::Key << "teams" << YAML::Value << YAML::BeginSeq;
      for (const auto* r : teams) {
        y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << col(*r, "name");
        auto reasons = json_list(col(*r, "break_reasons"));
        const bool policy = !reasons.empty() || !is_null(*r, "max_on_break") ||
                            !is_null(*r, "max_break_seconds") ||
                            col(*r, "break_over_limit") != "refuse";
        if (policy) {
          y << YAML::Key << "break_policy" << YAML::Value << YAML::BeginMap;
          if (!reasons.empty()) {
            y << YAML::Key << "reasons" << YAML::Value;
            emit_flow_list(y, reasons);
          }
          if (!is_null(*r, "max_on_break"))
            y << YAML::Key << "max_concurrent" << YAML::Value << col(*r, "max_on_break");
          if (!is_null(*r, "max_break_seconds")) {
            y << YAML::Key << "max_minutes" << YAML::Value
              << number_text(std::stod(col(*r, "max_break_seconds")) / 60.0);
          }
          y << YAML::Key << "over_limit" << YAML::Value << col(*r, "break_over_limit");
          y << YAML::EndMap;
        }
        y << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }

    if (auto agents = rows_of(tables, "agents", tenant); !agents.empty()) {
      y << YAML::Key << "agents" << YAML::Value << YAML::BeginSeq;
      for (const auto* r : agents) {
        const std::string& name = col(*r, "name");
        y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name;
        y << YAML::Key << "extension" << YAML::Value << YAML::DoubleQuoted << col(*r, "extension");
        if (!is_null(*r, "team")) y << YAML::Key << "team" << YAML::Value << col(*r, "team");
        emit_unless(y, "work_mode", col(*r, "work_mode"), "auto-ready");
        if (auto levels = rows_of(tables, "agent_skills", tenant, "agent", name); !levels.empty()) {
          y << YAML::Key << "skills" << YAML::Value << YAML::Flow << YAML::BeginMap;
          for (const auto* s : levels)
            y << YAML::Key << col(*s, "skill") << YAML::Value << col(*s, "proficiency");
          y << YAML::EndMap;
        }
        if (col(*r, "outbound_wrap_up_ms") != "0")
          y << YAML::Key << "outbound_wrap_up" << YAML::Value
            << ms_text(col(*r, "outbound_wrap_up_ms"));
        emit_capacity(y, col(*r, "capacity"));
        emit_languages(y, col(*r, "languages"));
        emit_attributes(y, col(*r, "attributes"));
        if (!is_null(*r, "sip_username") || !is_null(*r, "sip_contact")) {
          y << YAML::Key << "sip" << YAML::Value << YAML::Flow << YAML::BeginMap;
          if (!is_null(*r, "sip_username")) {
            y << YAML::Key << "username" << YAML::Value << col(*r, "sip_username") << YAML::Key
              << "ha1" << YAML::Value << col(*r, "sip_ha1");
          }
          if (!is_null(*r, "sip_contact"))
            y << YAML::Key << "contact" << YAML::Value << YAML::DoubleQuoted
              << col(*r, "sip_contact");
          y << YAML::EndMap;
        }
        y << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }

    if (auto queues = rows_of(tables, "queues", tenant); !queues.empty()) {
      y << YAML::Key << "queues" << YAML::Value << YAML::BeginSeq;
      for (const auto* r : queues) {
        const std::string& name = col(*r, "name");
        y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name;
        y << YAML::Key << "strategy" << YAML::Value << col(*r, "strategy");
        if (auto required = rows_of(tables, "queue_skills", tenant, "queue", name);
            !required.empty()) {
          y << YAML::Key << "required_skills" << YAML::Value << YAML::BeginSeq;
          for (const auto* s : required) {
            y << YAML::Flow << YAML::BeginMap << YAML::Key << "skill" << YAML::Value
              << col(*s, "skill") << YAML::Key << "min_level" << YAML::Value
              << col(*s, "min_level");
            if (col(*s, "optional") == "true")
              y << YAML::Key << "optional" << YAML::Value << "true";
            y << YAML::EndMap;
          }
          y << YAML::EndSeq;
        }
        auto duration = [&](const char* key, const char* column, const char* default_ms) {
          if (col(*r, column) != default_ms)
            y << YAML::Key << key << YAML::Value << ms_text(col(*r, column));
        };
        duration("sl_threshold", "sl_threshold_ms", "20000");
        duration("ring_timeout", "ring_timeout_ms", "15000");
        duration("wrap_up", "wrap_up_ms", "0");
        emit_unless(y, "manual_wrap_up", col(*r, "manual_wrap_up"), "false");
        duration("default_handle_time", "default_handle_time_ms", "180000");
        duration("max_wait", "max_wait_ms", "0");
        emit_unless(y, "max_length", col(*r, "max_length"), "0");
        emit_unless(y, "join_when_empty", col(*r, "join_when_empty"), "true");
        emit_unless(y, "leave_when_empty", col(*r, "leave_when_empty"), "false");
        const YAML::Node exits = YAML::Load(col(*r, "exits"));
        for (const char* key : {"on_timeout", "on_full", "on_empty"}) {
          const YAML::Node exit = exits[key];
          if (!exit || !exit.IsMap()) continue;
          if (exit["hangup"] && exit["hangup"].as<std::string>().empty()) continue;  // default
          y << YAML::Key << key << YAML::Value;
          emit_action_json(y, exit);
        }
        const YAML::Node breakout = exits["breakout"];
        if (breakout && breakout.IsMap() && breakout["keys"] && breakout["keys"].IsMap() &&
            breakout["keys"].size() > 0) {
          y << YAML::Key << "breakout" << YAML::Value << YAML::BeginMap;
          const std::string prompt = breakout["prompt"] ? breakout["prompt"].as<std::string>() : "";
          if (!prompt.empty()) y << YAML::Key << "prompt" << YAML::Value << prompt;
          y << YAML::Key << "keys" << YAML::Value << YAML::BeginMap;
          for (auto it = breakout["keys"].begin(); it != breakout["keys"].end(); ++it) {
            y << YAML::Key << YAML::DoubleQuoted << it->first.as<std::string>() << YAML::Value;
            emit_action_json(y, it->second);
          }
          y << YAML::EndMap << YAML::EndMap;
        }
        emit_unless(y, "aging_per_minute", col(*r, "aging_per_minute"), "0");
        emit_unless(y, "vip_boost", col(*r, "vip_boost"), "100");
        const YAML::Node steps = YAML::Load(col(*r, "escalation"));
        if (steps.IsSequence() && steps.size() > 0) {
          y << YAML::Key << "escalation" << YAML::Value << YAML::BeginSeq;
          for (const auto& s : steps) {
            y << YAML::Flow << YAML::BeginMap << YAML::Key << "after" << YAML::Value
              << ms_text(s["after_ms"].as<std::string>()) << YAML::Key << "relax_min_level"
              << YAML::Value << s["relax_min_level"].as<std::string>() << YAML::Key
              << "drop_optional_skills" << YAML::Value
              << s["drop_optional_skills"].as<std::string>() << YAML::Key << "max_tier"
              << YAML::Value << s["max_tier"].as<std::string>() << YAML::EndMap;
          }
          y << YAML::EndSeq;
        }
        const YAML::Node o = YAML::Load(col(*r, "overflow"));
        if (o.IsMap() && o["enabled"]) {
          y << YAML::Key << "overflow" << YAML::Value << YAML::Flow << YAML::BeginMap;
          y << YAML::Key << "enabled" << YAML::Value << o["enabled"].as<std::string>();
          y << YAML::Key << "min_calls" << YAML::Value << o["min_calls"].as<std::string>();
          y << YAML::Key << "min_wait" << YAML::Value
            << ms_text(o["min_wait_ms"].as<std::string>());
          y << YAML::Key << "sustain" << YAML::Value << ms_text(o["sustain_ms"].as<std::string>());
          y << YAML::Key << "max_tier" << YAML::Value << o["max_tier"].as<std::string>();
          y << YAML::Key << "clear_below_calls" << YAML::Value
            << o["clear_below_calls"].as<std::string>();
          y << YAML::Key << "clear_after" << YAML::Value
            << ms_text(o["clear_after_ms"].as<std::string>());
          y << YAML::EndMap;
        }
        emit_unless(y, "rona_policy", col(*r, "rona_policy"), "not-ready");
        duration("rona_retry", "rona_retry_ms", "30000");
        emit_unless(y, "ring_all_limit", col(*r, "ring_all_limit"), "32");
        duration("sticky_window", "sticky_window_ms", "0");
        duration("sticky_wait", "sticky_wait_ms", "30000");
        emit_unless(y, "music_on_hold", col(*r, "music_on_hold"), "");
        emit_routing(y, col(*r, "routing"));
        if (auto members = rows_of(tables, "queue_members", tenant, "queue", name);
            !members.empty()) {
          y << YAML::Key << "members" << YAML::Value << YAML::BeginSeq;
          for (const auto* m : members) {
            y << YAML::Flow << YAML::BeginMap << YAML::Key << "agent" << YAML::Value
              << col(*m, "agent");
            emit_unless(y, "tier", col(*m, "tier"), "1");
            emit_unless(y, "penalty", col(*m, "penalty"), "0");
            emit_unless(y, "queue_priority", col(*m, "priority"), "0");
            emit_unless(y, "weight", col(*m, "weight"), "1");
            y << YAML::EndMap;
          }
          y << YAML::EndSeq;
        }
        y << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }

    if (auto sets = rows_of(tables, "prompt_sets", tenant); !sets.empty()) {
      y << YAML::Key << "prompt_sets" << YAML::Value << YAML::BeginSeq;
      for (const auto* r : sets) {
        y << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << col(*r, "name")
          << YAML::Key << "language" << YAML::Value << col(*r, "language") << YAML::Key << "path"
          << YAML::Value << col(*r, "path") << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }

    if (auto calendars = rows_of(tables, "calendars", tenant); !calendars.empty()) {
      y << YAML::Key << "calendars" << YAML::Value << YAML::BeginSeq;
      for (const auto* r : calendars) {
        const std::string& name = col(*r, "name");
        y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name;
        y << YAML::Key << "time_zone" << YAML::Value << col(*r, "time_zone");
        const YAML::Node weekly = YAML::Load(col(*r, "weekly"));
        if (weekly.IsMap() && weekly.size() > 0) {
          y << YAML::Key << "weekly" << YAML::Value << YAML::BeginMap;
          for (std::size_t day = 0; day < 7; ++day) {
            const YAML::Node hours = weekly[weekday_name(day)];
            if (!hours) continue;
            y << YAML::Key << weekday_name(day) << YAML::Value;
            emit_flow_list(y, hours.as<std::vector<std::string>>(), true);
          }
          y << YAML::EndMap;
        }
        if (auto holidays = rows_of(tables, "calendar_holidays", tenant, "calendar", name);
            !holidays.empty()) {
          y << YAML::Key << "holidays" << YAML::Value << YAML::BeginSeq;
          for (const auto* h : holidays) {
            y << YAML::Flow << YAML::BeginMap << YAML::Key << "date" << YAML::Value
              << col(*h, "day") << YAML::Key << "name" << YAML::Value << col(*h, "name");
            if (!is_null(*h, "hours")) {
              y << YAML::Key << "hours" << YAML::Value;
              emit_flow_list(y, json_list(col(*h, "hours")), true);
            }
            y << YAML::EndMap;
          }
          y << YAML::EndSeq;
        }
        y << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }

    if (auto menus = rows_of(tables, "ivr_menus", tenant); !menus.empty()) {
      y << YAML::Key << "ivr_menus" << YAML::Value << YAML::BeginSeq;
      for (const auto* r : menus) {
        const std::string& name = col(*r, "name");
        y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name;
        y << YAML::Key << "prompt" << YAML::Value << col(*r, "prompt");
        if (!is_null(*r, "prompt_set"))
          y << YAML::Key << "prompt_set" << YAML::Value << col(*r, "prompt_set");
        y << YAML::Key << "timeout" << YAML::Value << ms_text(col(*r, "timeout_ms"));
        y << YAML::Key << "retries" << YAML::Value << col(*r, "retries");
        auto action = [&](const store::ConfigRow& o) {
          const std::string& kind = col(o, "action");
          const std::string target = kind == "queue"  ? col(o, "queue")
                                     : kind == "menu" ? col(o, "target_menu")
                                                      : col(o, "target");
          y << YAML::Flow << YAML::BeginMap << YAML::Key << kind << YAML::Value << target
            << YAML::EndMap;
        };
        const store::ConfigRow* failure = nullptr;
        std::vector<const store::ConfigRow*> keys;
        for (const auto* o : rows_of(tables, "ivr_options", tenant, "menu", name)) {
          if (col(*o, "input") == "failure") {
            failure = o;
          } else {
            keys.push_back(o);
          }
        }
        if (!keys.empty()) {
          y << YAML::Key << "options" << YAML::Value << YAML::BeginMap;
          for (const auto* o : keys) {
            y << YAML::Key << YAML::DoubleQuoted << col(*o, "input") << YAML::Value;
            action(*o);
          }
          y << YAML::EndMap;
        }
        if (failure && !(col(*failure, "action") == "hangup" && col(*failure, "target").empty())) {
          y << YAML::Key << "on_failure" << YAML::Value;
          action(*failure);
        }
        y << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }

    if (auto flows = rows_of(tables, "flows", tenant); !flows.empty()) {
      y << YAML::Key << "flows" << YAML::Value << YAML::BeginSeq;
      for (const auto* r : flows) {
        y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << col(*r, "name");
        const std::string& source = col(*r, "source");
        y << YAML::Key << "source" << YAML::Value;
        if (literal_block_keeps(source)) {
          y << YAML::Literal << source;
        } else {
          y << YAML::DoubleQuoted << source;
        }
        emit_unless(y, "instruction_limit", col(*r, "instruction_limit"), "1000000");
        emit_unless(y, "memory_limit", col(*r, "memory_limit"), "2097152");
        const std::string& fallback = col(*r, "fallback");
        y << YAML::Key << "fallback" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
          << fallback << YAML::Value
          << (fallback == "queue" ? col(*r, "fallback_queue") : col(*r, "fallback_target"))
          << YAML::EndMap;
        y << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }

    if (auto trunks = rows_of(tables, "trunks", tenant); !trunks.empty()) {
      y << YAML::Key << "trunks" << YAML::Value << YAML::BeginSeq;
      for (const auto* r : trunks) {
        const std::string& name = col(*r, "name");
        y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name;
        if (auto sources = json_list(col(*r, "allowed_sources")); !sources.empty()) {
          y << YAML::Key << "allowed_sources" << YAML::Value;
          emit_flow_list(y, sources);
        }
        if (!is_null(*r, "auth_username")) {
          y << YAML::Key << "auth" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
            << "username" << YAML::Value << col(*r, "auth_username") << YAML::Key << "ha1"
            << YAML::Value << col(*r, "auth_ha1") << YAML::EndMap;
        }
        if (!col(*r, "caller_id").empty())
          y << YAML::Key << "caller_id" << YAML::Value << YAML::DoubleQuoted
            << col(*r, "caller_id");
        if (!col(*r, "outbound_uri").empty())
          y << YAML::Key << "outbound" << YAML::Value << YAML::DoubleQuoted
            << col(*r, "outbound_uri");
        if (auto dids = rows_of(tables, "dids", tenant, "trunk", name); !dids.empty()) {
          y << YAML::Key << "dids" << YAML::Value << YAML::BeginSeq;
          for (const auto* d : dids) {
            const std::string& kind = col(*d, "kind");
            const char* key = kind == "queue" ? "queue" : kind == "menu" ? "ivr_menu" : "flow";
            const char* column = kind == "queue" ? "queue" : kind == "menu" ? "menu" : "flow";
            y << YAML::Flow << YAML::BeginMap << YAML::Key << "number" << YAML::Value
              << YAML::DoubleQuoted << col(*d, "number") << YAML::Key << key << YAML::Value
              << col(*d, column);
            emit_unless(y, "priority", col(*d, "priority"), "0");
            emit_unless(y, "vip_level", col(*d, "vip_level"), "0");
            emit_unless(y, "answer", col(*d, "answer"), "immediate");
            y << YAML::EndMap;
          }
          y << YAML::EndSeq;
        }
        y << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }

    if (auto users = rows_of(tables, "users", tenant); !users.empty()) {
      y << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
      for (const auto* r : users) {
        const std::string& name = col(*r, "name");
        y << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name;
        if (!col(*r, "display_name").empty())
          y << YAML::Key << "display_name" << YAML::Value << col(*r, "display_name");
        y << YAML::Key << "roles" << YAML::Value;
        emit_flow_list(y, json_list(col(*r, "roles")));
        if (!is_null(*r, "agent")) y << YAML::Key << "agent" << YAML::Value << col(*r, "agent");
        if (auto tokens = rows_of(tables, "api_tokens", tenant, "user", name); !tokens.empty()) {
          y << YAML::Key << "tokens" << YAML::Value << YAML::BeginSeq;
          for (const auto* tok : tokens) {
            y << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value
              << col(*tok, "name") << YAML::Key << "sha256" << YAML::Value << col(*tok, "sha256");
            if (!is_null(*tok, "expires_at"))
              y << YAML::Key << "expires_at" << YAML::Value << col(*tok, "expires_at");
            y << YAML::EndMap;
          }
          y << YAML::EndSeq;
        }
        y << YAML::EndMap;
      }
      y << YAML::EndSeq;
    }
    y << YAML::EndMap;
  }
  y << YAML::EndSeq << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

// The database's side, for the named tenants, as a validated DaemonConfig.
Result<DaemonConfig, std::string> load_tenants(store::ConfigSession& session,
                                               const std::vector<std::string>& tenants) {
  using R = Result<DaemonConfig, std::string>;
  auto tables = session.read(tenants);
  if (!tables) return R::failure(tables.error().message);
  std::string yaml;
  try {
    yaml = tables_to_yaml(tables.value());
  } catch (const std::exception& e) {
    return R::failure(std::string("the database's configuration is malformed: ") + e.what());
  }
  NameRegistry registry;
  // The database's side is compared, not run: its queues' music-on-hold classes are the
  // daemon file's business (the file's side was checked against them).
  auto loaded =
      load_config_text(yaml, "database", registry, LoadOptions::music_on_hold_unchecked());
  if (!loaded.ok()) {
    std::string message = "the database's configuration does not validate:";
    for (const auto& e : loaded.error()) message += "\n  " + e.to_string();
    return R::failure(message);
  }
  return R::success(std::move(loaded).value());
}

std::vector<std::string> tenant_names_of(const DaemonConfig& config) {
  std::vector<std::string> out;
  for (const auto& t : config.tenants) out.push_back(t.name);
  return out;
}

// Computes the plan against the database within `session`.
Result<Plan, std::string> plan_against(store::ConfigSession& session, const DaemonConfig& file,
                                       bool prune) {
  using R = Result<Plan, std::string>;
  auto all = session.tenant_names();
  if (!all) return R::failure(all.error().message);
  const std::vector<std::string> named = tenant_names_of(file);
  std::vector<std::string> present, pruned;
  for (const auto& name : all.value()) {
    if (std::find(named.begin(), named.end(), name) != named.end()) {
      present.push_back(name);
    } else if (prune) {
      pruned.push_back(name);
    }
  }
  auto current = load_tenants(session, present);
  if (!current) return R::failure(current.error());
  return R::success(plan(describe(current.value()), describe(file), pruned));
}

}  // namespace

std::vector<std::string> diff_configs(const DaemonConfig& current, const DaemonConfig& wanted,
                                      bool prune) {
  std::vector<std::string> pruned;
  auto cur = describe(current);
  if (prune) {
    for (const auto& t : current.tenants) {
      bool named = false;
      for (const auto& w : wanted.tenants) named = named || w.name == t.name;
      if (!named) pruned.push_back(t.name);
    }
  }
  // Entities of tenants the file does not name are not compared (pruned ones are deleted
  // as a whole).
  for (auto it = cur.begin(); it != cur.end();) {
    bool named = false;
    for (const auto& w : wanted.tenants) named = named || w.name == it->second.tenant;
    it = named ? std::next(it) : cur.erase(it);
  }
  return plan(cur, describe(wanted), pruned).diff;
}

DiffResult diff_config(const std::string& dsn, const DaemonConfig& file, bool prune) {
  auto session = store::ConfigSession::open(dsn);
  if (!session) return DiffResult::failure(session.error().message);
  auto planned = plan_against(*session.value(), file, prune);
  if (!planned) return DiffResult::failure(planned.error());
  return DiffResult::success(std::move(planned.value().diff));
}

ApplyResult apply_config(const std::string& dsn, const DaemonConfig& file,
                         const ApplyOptions& options) {
  auto session = store::ConfigSession::open(dsn);
  if (!session) return ApplyResult::failure(session.error().message);
  auto planned = plan_against(*session.value(), file, options.prune);
  if (!planned) return ApplyResult::failure(planned.error());
  Plan& p = planned.value();
  if (options.expected_diff && *options.expected_diff != p.diff) {
    return ApplyResult::failure(
        "the database changed since the difference was computed; nothing was written, run "
        "the command again");
  }
  ApplyReport report{std::move(p.diff), p.changes.size()};
  if (p.changes.empty()) return ApplyResult::success(std::move(report));
  if (auto written = session.value()->write(p.changes); !written)
    return ApplyResult::failure(written.error().message + "; nothing was written");
  if (auto committed = session.value()->commit(); !committed)
    return ApplyResult::failure(committed.error().message + "; nothing was written");
  return ApplyResult::success(std::move(report));
}

TextResult export_config(const std::string& dsn, const std::optional<std::string>& tenant) {
  auto session = store::ConfigSession::open(dsn);
  if (!session) return TextResult::failure(session.error().message);
  auto all = session.value()->tenant_names();
  if (!all) return TextResult::failure(all.error().message);
  std::vector<std::string> names = all.value();
  if (tenant) {
    if (std::find(names.begin(), names.end(), *tenant) == names.end())
      return TextResult::failure("no tenant \"" + *tenant + "\" in the database");
    names = {*tenant};
  }
  auto tables = session.value()->read(names);
  if (!tables) return TextResult::failure(tables.error().message);
  try {
    return TextResult::success(
        "# acd configuration exported from the database (acdd config export).\n" +
        tables_to_yaml(tables.value()));
  } catch (const std::exception& e) {
    return TextResult::failure(std::string("the database's configuration is malformed: ") +
                               e.what());
  }
}

ConfigResult load_config_from_database(const std::string& dsn, NameRegistry& registry,
                                       const TenantSelection& tenants, const LoadOptions& options) {
  auto failure = [](const std::string& message) {
    ErrorList errors("database");
    errors.add_file_error(message);
    return ConfigResult::failure(errors.take());
  };
  auto session = store::ConfigSession::open(dsn);
  if (!session) return failure(session.error().message);
  std::vector<std::string> names;
  if (tenants.all()) {
    auto all = session.value()->tenant_names();
    if (!all) return failure(all.error().message);
    names = std::move(all).value();
  } else {
    names = tenants.names;
    if (!tenants.ids.empty()) {
      auto by_id = session.value()->tenant_names_of(tenants.ids);
      if (!by_id) return failure(by_id.error().message);
      for (auto& n : by_id.value()) {
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
      }
    }
  }
  auto tables = session.value()->read(names);
  if (!tables) return failure(tables.error().message);
  std::string yaml;
  try {
    yaml = tables_to_yaml(tables.value());
  } catch (const std::exception& e) {
    return failure(std::string("the database's configuration is malformed: ") + e.what());
  }
  return load_config_text(yaml, "database", registry, options);
}

Result<bool, std::string> has_configuration(const std::string& dsn) {
  auto r = store::has_configuration(dsn);
  if (!r) return Result<bool, std::string>::failure(r.error().message);
  return Result<bool, std::string>::success(r.value());
}

}  // namespace acd::app
