#include "engine/store/config_store.h"

#include <pqxx/pqxx>
#include <utility>

namespace acd::store {
namespace {

// Each table's rows, with references as names. $1 is the tenants' names (text[]).
struct TableQuery {
  const char* table;
  const char* sql;
};

constexpr TableQuery kQueries[] = {
    {"tenants",
     "SELECT t.name AS tenant, t.sip_realm, t.default_language, t.time_zone, "
     "to_json(t.not_ready_reasons)::text AS not_ready_reasons, "
     "t.allow_external_transfer::text AS allow_external_transfer, ot.name AS outbound_trunk "
     "FROM tenants t LEFT JOIN trunks ot ON ot.id = t.outbound_trunk_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id"},
    {"skills",
     "SELECT t.name AS tenant, x.name FROM skills x JOIN tenants t ON t.id = x.tenant_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"teams",
     "SELECT t.name AS tenant, x.name, x.max_on_break::text AS max_on_break, "
     "x.max_break_seconds::text AS max_break_seconds, "
     "to_json(x.break_reasons)::text AS break_reasons, x.break_over_limit "
     "FROM teams x JOIN tenants t ON t.id = x.tenant_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"agents",
     "SELECT t.name AS tenant, x.name, x.extension, tm.name AS team, x.work_mode, "
     "x.outbound_wrap_up_ms::text AS outbound_wrap_up_ms, x.sip_username, x.sip_ha1, "
     "x.sip_contact, x.capacity::text AS capacity, "                      // 0011
     "x.languages::text AS languages, x.attributes::text AS attributes "  // 0013
     "FROM agents x JOIN tenants t ON t.id = x.tenant_id LEFT JOIN teams tm ON tm.id = x.team_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"agent_skills",
     "SELECT t.name AS tenant, a.name AS agent, s.name AS skill, "
     "x.proficiency::text AS proficiency "
     "FROM agent_skills x JOIN tenants t ON t.id = x.tenant_id "
     "JOIN agents a ON a.id = x.agent_id JOIN skills s ON s.id = x.skill_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, a.id, s.id"},
    {"queues",
     "SELECT t.name AS tenant, x.name, x.strategy, x.sl_threshold_ms::text AS sl_threshold_ms, "
     "x.ring_timeout_ms::text AS ring_timeout_ms, x.wrap_up_ms::text AS wrap_up_ms, "
     "x.manual_wrap_up::text AS manual_wrap_up, "
     "x.default_handle_time_ms::text AS default_handle_time_ms, "
     "x.max_wait_ms::text AS max_wait_ms, x.max_length::text AS max_length, "
     "x.join_when_empty::text AS join_when_empty, x.leave_when_empty::text AS leave_when_empty, "
     "x.aging_per_minute::text AS aging_per_minute, x.vip_boost::text AS vip_boost, "
     "x.rona_policy, x.rona_retry_ms::text AS rona_retry_ms, "
     "x.ring_all_limit::text AS ring_all_limit, x.sticky_window_ms::text AS sticky_window_ms, "
     "x.sticky_wait_ms::text AS sticky_wait_ms, x.exits::text AS exits, "
     "x.escalation::text AS escalation, x.overflow::text AS overflow, "
     "x.music_on_hold, "            // 0008
     "x.routing::text AS routing "  // 0013
     "FROM queues x JOIN tenants t ON t.id = x.tenant_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"queue_skills",
     "SELECT t.name AS tenant, q.name AS queue, s.name AS skill, x.min_level::text AS min_level, "
     "x.optional::text AS optional "
     "FROM queue_skills x JOIN tenants t ON t.id = x.tenant_id "
     "JOIN queues q ON q.id = x.queue_id JOIN skills s ON s.id = x.skill_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, q.id, x.position, s.id"},
    {"queue_members",
     "SELECT t.name AS tenant, q.name AS queue, a.name AS agent, x.tier::text AS tier, "
     "x.penalty::text AS penalty, x.priority::text AS priority, x.weight::text AS weight "
     "FROM queue_members x JOIN tenants t ON t.id = x.tenant_id "
     "JOIN queues q ON q.id = x.queue_id JOIN agents a ON a.id = x.agent_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, q.id, x.position, a.id"},
    {"users",
     "SELECT t.name AS tenant, x.name, x.display_name, to_json(x.roles)::text AS roles, "
     "a.name AS agent FROM users x JOIN tenants t ON t.id = x.tenant_id "
     "LEFT JOIN agents a ON a.id = x.agent_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"api_tokens",
     "SELECT t.name AS tenant, u.name AS \"user\", x.name, x.sha256, "
     "to_char(x.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS expires_at "
     "FROM api_tokens x JOIN tenants t ON t.id = x.tenant_id JOIN users u ON u.id = x.user_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, u.id, x.id"},
    {"prompt_sets",
     "SELECT t.name AS tenant, x.name, x.language, x.path "
     "FROM prompt_sets x JOIN tenants t ON t.id = x.tenant_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"calendars",
     "SELECT t.name AS tenant, x.name, x.time_zone, x.weekly::text AS weekly "
     "FROM calendars x JOIN tenants t ON t.id = x.tenant_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"calendar_holidays",
     "SELECT t.name AS tenant, c.name AS calendar, x.day::text AS day, x.name, "
     "to_json(x.hours)::text AS hours "
     "FROM calendar_holidays x JOIN tenants t ON t.id = x.tenant_id "
     "JOIN calendars c ON c.id = x.calendar_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, c.id, x.day"},
    {"ivr_menus",
     "SELECT t.name AS tenant, x.name, x.prompt, p.name AS prompt_set, "
     "x.timeout_ms::text AS timeout_ms, x.retries::text AS retries "
     "FROM ivr_menus x JOIN tenants t ON t.id = x.tenant_id "
     "LEFT JOIN prompt_sets p ON p.id = x.prompt_set_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"ivr_options",
     "SELECT t.name AS tenant, m.name AS menu, x.input, x.action, q.name AS queue, "
     "tm.name AS target_menu, x.target "
     "FROM ivr_options x JOIN tenants t ON t.id = x.tenant_id JOIN ivr_menus m ON m.id = x.menu_id "
     "LEFT JOIN queues q ON q.id = x.queue_id LEFT JOIN ivr_menus tm ON tm.id = x.target_menu_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, m.id, x.id"},
    {"flows",  // 0014
     "SELECT t.name AS tenant, x.name, x.source, x.file, "
     "x.instruction_limit::text AS instruction_limit, x.memory_limit::text AS memory_limit, "
     "x.fallback, q.name AS fallback_queue, x.fallback_target "
     "FROM flows x JOIN tenants t ON t.id = x.tenant_id "
     "LEFT JOIN queues q ON q.id = x.fallback_queue_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"trunks",
     "SELECT t.name AS tenant, x.name, to_json(x.allowed_sources)::text AS allowed_sources, "
     "x.auth_username, x.auth_ha1, x.caller_id, x.outbound_uri "
     "FROM trunks x JOIN tenants t ON t.id = x.tenant_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, x.id"},
    {"dids",
     "SELECT t.name AS tenant, tr.name AS trunk, x.number, x.kind, q.name AS queue, "
     "m.name AS menu, f.name AS flow, "  // 0014
     "x.priority::text AS priority, x.vip_level::text AS vip_level, x.answer "
     "FROM dids x JOIN tenants t ON t.id = x.tenant_id JOIN trunks tr ON tr.id = x.trunk_id "
     "LEFT JOIN queues q ON q.id = x.queue_id LEFT JOIN ivr_menus m ON m.id = x.menu_id "
     "LEFT JOIN flows f ON f.id = x.flow_id "
     "WHERE t.name = ANY($1::text[]) ORDER BY t.id, tr.id, x.id"},
};

}  // namespace

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

const std::vector<ConfigRow>& ConfigTables::rows(std::string_view table) const {
  static const std::vector<ConfigRow> kNone;
  auto it = tables.find(table);
  return it == tables.end() ? kNone : it->second;
}

struct ConfigSession::Impl {
  explicit Impl(const std::string& dsn) : connection(dsn), tx(connection) {}

  // The id of tenant `name`, from the cache or the database.
  std::optional<std::int64_t> tenant_id(const std::string& name) {
    if (auto it = tenant_ids.find(name); it != tenant_ids.end()) return it->second;
    auto r = tx.exec("SELECT id FROM tenants WHERE name = " + tx.quote(name));
    if (r.empty()) return std::nullopt;
    const auto id = r[0][0].as<std::int64_t>();
    tenant_ids.emplace(name, id);
    return id;
  }

  // The SQL expression for `value` in tenant `tenant`.
  std::string expression(const ConfigValue& value, std::optional<std::int64_t> tenant) {
    if (!value.text) return "NULL";
    if (value.ref_table.empty()) return tx.quote(*value.text);
    return "(SELECT id FROM " + tx.quote_name(value.ref_table) +
           " WHERE tenant_id = " + std::to_string(tenant.value_or(-1)) +
           " AND name = " + tx.quote(*value.text) + ")";
  }

  void write_one(const ConfigChange& change) {
    const bool is_tenant = change.table == "tenants";
    std::optional<std::int64_t> tenant;
    if (!is_tenant || change.op != ConfigChange::Op::kInsert) {
      tenant = tenant_id(change.tenant);
      if (!tenant) throw std::runtime_error("unknown tenant \"" + change.tenant + "\"");
    }
    const std::string table = tx.quote_name(change.table);
    std::string where;
    if (is_tenant) {
      where = "id = " + std::to_string(*tenant);
    } else {
      where = "tenant_id = " + std::to_string(*tenant);
      for (const auto& k : change.key) {
        where += " AND " + tx.quote_name(k.column) + " = " + expression(k, tenant);
      }
    }
    pqxx::result r;
    switch (change.op) {
      case ConfigChange::Op::kInsert: {
        std::string columns, values;
        auto add = [&](const ConfigValue& v) {
          columns += (columns.empty() ? "" : ", ") + tx.quote_name(v.column);
          values += (values.empty() ? "" : ", ") + expression(v, tenant);
        };
        if (!is_tenant) add({"tenant_id", std::to_string(*tenant), ""});
        for (const auto& k : change.key) add(k);
        for (const auto& v : change.values) add(v);
        r = tx.exec("INSERT INTO " + table + " (" + columns + ") VALUES (" + values + ")" +
                    (is_tenant ? " RETURNING id" : ""));
        if (is_tenant) tenant_ids[change.tenant] = r[0][0].as<std::int64_t>();
        return;
      }
      case ConfigChange::Op::kUpdate: {
        if (change.values.empty()) return;
        std::string set;
        for (const auto& v : change.values) {
          set +=
              (set.empty() ? "" : ", ") + tx.quote_name(v.column) + " = " + expression(v, tenant);
        }
        r = tx.exec("UPDATE " + table + " SET " + set + " WHERE " + where);
        break;
      }
      case ConfigChange::Op::kDelete:
        r = tx.exec("DELETE FROM " + table + " WHERE " + where);
        if (is_tenant) tenant_ids.erase(change.tenant);
        break;
    }
    if (r.affected_rows() != 1) {
      throw std::runtime_error("expected to change one row of " + change.table + " where " + where +
                               ", changed " + std::to_string(r.affected_rows()));
    }
  }

  pqxx::connection connection;
  pqxx::work tx;
  std::map<std::string, std::int64_t, std::less<>> tenant_ids;
  bool failed = false;
};

ConfigSession::ConfigSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigSession::~ConfigSession() = default;  // pqxx::work rolls back when not committed

Result<std::unique_ptr<ConfigSession>> ConfigSession::open(const std::string& dsn) {
  using R = Result<std::unique_ptr<ConfigSession>>;
  try {
    auto impl = std::make_unique<Impl>(dsn);
    impl->tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kConfigLockKey) + ")");
    return R::success(std::unique_ptr<ConfigSession>(new ConfigSession(std::move(impl))));
  } catch (const std::exception& e) {
    return R::failure(std::string("cannot open the configuration database: ") + e.what());
  }
}

Result<std::vector<std::string>> ConfigSession::tenant_names() {
  using R = Result<std::vector<std::string>>;
  try {
    std::vector<std::string> names;
    for (const auto& row : impl_->tx.exec("SELECT name FROM tenants ORDER BY id"))
      names.push_back(row[0].as<std::string>());
    return R::success(std::move(names));
  } catch (const std::exception& e) {
    impl_->failed = true;
    return R::failure(std::string("cannot read the tenants: ") + e.what());
  }
}

Result<std::vector<std::string>> ConfigSession::tenant_names_of(
    const std::vector<std::int64_t>& ids) {
  using R = Result<std::vector<std::string>>;
  try {
    std::string list = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) list += (i ? "," : "") + std::to_string(ids[i]);
    list += "}";
    std::vector<std::string> names;
    for (const auto& row : impl_->tx.exec("SELECT name FROM tenants WHERE id = ANY(" +
                                          impl_->tx.quote(list) + "::bigint[]) ORDER BY id"))
      names.push_back(row[0].as<std::string>());
    return R::success(std::move(names));
  } catch (const std::exception& e) {
    impl_->failed = true;
    return R::failure(std::string("cannot read the tenants: ") + e.what());
  }
}

Result<ConfigTables> ConfigSession::read(const std::vector<std::string>& tenants) {
  using R = Result<ConfigTables>;
  try {
    ConfigTables out;
    const std::string names = text_array(tenants);
    for (const auto& query : kQueries) {
      auto result = impl_->tx.exec_params(query.sql, names);
      auto& rows = out.tables[query.table];
      rows.reserve(result.size());
      for (const auto& r : result) {
        ConfigRow row;
        for (pqxx::row::size_type i = 0; i < r.size(); ++i) {
          row.emplace(result.column_name(i),
                      r[i].is_null() ? std::nullopt : std::optional<std::string>(r[i].c_str()));
        }
        rows.push_back(std::move(row));
      }
    }
    return R::success(std::move(out));
  } catch (const std::exception& e) {
    impl_->failed = true;
    return R::failure(std::string("cannot read the configuration: ") + e.what());
  }
}

Status ConfigSession::write(const std::vector<ConfigChange>& changes) {
  if (impl_->failed) return Status::failure("the configuration session failed earlier");
  const ConfigChange* current = nullptr;
  try {
    for (const auto& change : changes) {
      current = &change;
      impl_->write_one(change);
    }
    return ok_status();
  } catch (const std::exception& e) {
    impl_->failed = true;
    std::string what = "cannot write the configuration";
    if (current) what += " (" + current->table + " of tenant \"" + current->tenant + "\")";
    return Status::failure(what + ": " + e.what());
  }
}

Status ConfigSession::commit() {
  if (impl_->failed) return Status::failure("the configuration session failed earlier");
  try {
    impl_->tx.commit();
    return ok_status();
  } catch (const std::exception& e) {
    impl_->failed = true;
    return Status::failure(std::string("cannot commit the configuration: ") + e.what());
  }
}

Result<bool> has_configuration(const std::string& dsn) {
  try {
    pqxx::connection c(dsn);
    pqxx::nontransaction tx(c);
    // An unmigrated database has no tenants table: no configuration either.
    if (tx.exec("SELECT to_regclass('tenants') IS NULL")[0][0].as<bool>())
      return Result<bool>::success(false);
    return Result<bool>::success(tx.exec("SELECT EXISTS (SELECT 1 FROM tenants)")[0][0].as<bool>());
  } catch (const std::exception& e) {
    return Result<bool>::failure(std::string("cannot read the tenants: ") + e.what());
  }
}

}  // namespace acd::store
