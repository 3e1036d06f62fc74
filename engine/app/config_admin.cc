#include "engine/app/config_admin.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <exception>
#include <filesystem>
#include <optional>
#include <string_view>
#include <utility>

#include "engine/app/config.h"
#include "engine/app/config_db.h"
#include "engine/app/name_registry.h"

namespace acd::app {
namespace {

using api::AdminRequest;
using api::AdminResult;
using api::ConfigKind;
using Code = AdminResult::Code;

constexpr int kAttempts = 3;  // put and delete start again when the database changed

constexpr ConfigKind kListKinds[] = {
    ConfigKind::kSkill,     ConfigKind::kTeam,     ConfigKind::kAgent,   ConfigKind::kQueue,
    ConfigKind::kPromptSet, ConfigKind::kCalendar, ConfigKind::kIvrMenu, ConfigKind::kFlow,
    ConfigKind::kTrunk,     ConfigKind::kUser};

// The key of a kind's list under a tenant; "" for the tenant itself.
const char* list_key(ConfigKind kind) {
  switch (kind) {
    case ConfigKind::kTenant: return "";
    case ConfigKind::kSkill: return "skills";
    case ConfigKind::kTeam: return "teams";
    case ConfigKind::kAgent: return "agents";
    case ConfigKind::kQueue: return "queues";
    case ConfigKind::kUser: return "users";
    case ConfigKind::kTrunk: return "trunks";
    case ConfigKind::kIvrMenu: return "ivr_menus";
    case ConfigKind::kPromptSet: return "prompt_sets";
    case ConfigKind::kCalendar: return "calendars";
    case ConfigKind::kFlow: return "flows";
  }
  return "";
}

std::optional<ConfigKind> kind_of_list(std::string_view key) {
  for (ConfigKind kind : kListKinds) {
    if (key == list_key(kind)) return kind;
  }
  return std::nullopt;
}

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// "line 3, column 12: skills.billing: what was wrong"; the parts that are unknown are left
// out.
std::string located(int line, int column, std::string_view path, std::string_view message) {
  std::string out;
  if (line > 0) {
    out = "line " + std::to_string(line);
    if (column > 0) out += ", column " + std::to_string(column);
    out += ": ";
  }
  if (!path.empty()) out += std::string(path) + ": ";
  return out + std::string(message);
}

std::string located(const ConfigError& e) {
  return located(e.line, e.column, e.path, e.message);
}

std::string located(const YAML::Mark& mark, std::string_view path, std::string_view message) {
  return mark.is_null() ? located(0, 0, path, message)
                        : located(mark.line + 1, mark.column + 1, path, message);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

std::vector<std::string> located_all(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  out.reserve(errors.size());
  for (const auto& e : errors) out.push_back(located(e));
  return out;
}

// A failure reported by config_db: the database could not be reached, changed under the
// request, or refused.
AdminResult database_failure(const std::string& error) {
  if (error.find("cannot open the configuration database") != std::string::npos)
    return AdminResult::failure(Code::kUnavailable, error);
  if (error.find("the database changed since") != std::string::npos)
    return AdminResult::failure(Code::kConflict, error);
  return AdminResult::failure(Code::kFailed, error);
}

// How the request's YAML is checked: like `acdd config apply FILE`, against the daemon
// file's music-on-hold classes.
LoadOptions request_options(const ConfigAdminOptions& options) {
  LoadOptions load;
  load.music_on_hold_classes = options.music_on_hold_classes;
  load.allow_flow_files = false;  // the daemon's host files are not the API's to read
  return load;
}

// ---------------------------------------------------------------------------------------
// Whole documents.

// Refuses a document that is not `tenants:` with `tenant` alone. nullopt: go on (the
// loader reports everything else, syntax errors included).
std::optional<AdminResult> check_scope(const std::string& yaml, const std::string& tenant) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
  if (!root.IsMap()) return std::nullopt;
  std::vector<std::string> errors;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (key != "tenants")
      errors.push_back(located(it->first.Mark(), key,
                               "not accepted here; expected a document of tenants: only (the "
                               "daemon's own settings are in its file)"));
  }
  if (!errors.empty()) return AdminResult::failure(Code::kInvalid, joined(errors));
  const YAML::Node list = root["tenants"];
  if (!list || !list.IsSequence()) return std::nullopt;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    if (!item.IsMap()) continue;
    const YAML::Node name = item["name"];
    if (name && name.IsScalar() && name.Scalar() != tenant)
      return AdminResult::failure(
          Code::kForbidden,
          located(name.Mark(), "tenants[" + std::to_string(i) + "].name",
                  "tenant " + in_quotes(name.Scalar()) + " is not yours; expected " +
                      in_quotes(tenant) + ", the tenant of your user"));
  }
  if (list.size() != 1)
    return AdminResult::failure(
        Code::kInvalid, located(list.Mark(), "tenants",
                                "expected exactly one tenant, " + in_quotes(tenant) + "; got " +
                                    std::to_string(list.size())));
  return std::nullopt;
}

// The refusal of prompt sets (of `tenant` in `config`; only the one named `only` when
// given) whose directory is not at or under one of the options' prompt roots, naming the
// field: the engine reads what is there and plays it to callers.
std::optional<AdminResult> prompt_path_refusal(const ConfigAdminOptions& options,
                                               const DaemonConfig& config,
                                               const std::string& tenant, const std::string* only) {
  namespace fs = std::filesystem;
  for (const auto& t : config.tenants) {
    if (t.name != tenant) continue;
    for (std::size_t i = 0; i < t.prompt_sets.size(); ++i) {
      const PromptSetConfig& set = t.prompt_sets[i];
      if (only != nullptr && set.name != *only) continue;
      const fs::path wanted = fs::path(set.path).lexically_normal();
      bool inside = false;
      for (const auto& root : options.prompt_roots) {
        const fs::path relative = wanted.lexically_relative(fs::path(root).lexically_normal());
        inside = inside || (wanted.is_absolute() && !relative.empty() && *relative.begin() != "..");
      }
      if (inside) continue;
      std::string roots;
      for (const auto& root : options.prompt_roots) roots += (roots.empty() ? "" : ", ") + root;
      const std::string field =
          only != nullptr ? "path" : "prompt_sets[" + std::to_string(i) + "].path";
      return AdminResult::failure(
          Code::kForbidden,
          field + ": \"" + set.path +
              "\" is not a directory prompt sets may use when written through the API; "
              "expected one at or under " +
              (roots.empty()
                   ? std::string("a prompt-set directory of the daemon's file (it has none)")
                   : roots));
    }
  }
  return std::nullopt;
}

AdminResult diff_or_apply(const ConfigAdminOptions& options, const AdminRequest& request,
                          bool write) {
  if (auto refused = check_scope(request.yaml, request.tenant)) return *refused;
  NameRegistry registry;
  auto loaded = load_config_text(request.yaml, "request", registry, request_options(options));
  if (!loaded.ok())
    return AdminResult::failure(Code::kInvalid, joined(located_all(loaded.error())));
  if (auto refused = prompt_path_refusal(options, loaded.value(), request.tenant, nullptr))
    return *refused;
  AdminResult result;
  result.warnings = located_all(loaded->warnings);
  if (!write) {
    auto diff = diff_config(options.dsn, loaded.value(), /*prune=*/false);
    if (!diff) return database_failure(diff.error());
    result.changes = std::move(diff).value();
    return result;
  }
  auto applied = apply_config(options.dsn, loaded.value());
  if (!applied) return database_failure(applied.error());
  result.changes = std::move(applied->diff);
  result.rows_written = applied->rows_written;
  result.applied = result.rows_written > 0;
  return result;
}

// ---------------------------------------------------------------------------------------
// The tenant's document, entity by entity.

// `text`'s lines, each indented by `by` spaces (empty lines stay empty), each ending in a
// newline.
std::string indented(std::string_view text, int by) {
  const std::string pad(static_cast<std::size_t>(by), ' ');
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (!line.empty()) out += pad;
    out += line;
    out += '\n';
    start = end + 1;
  }
  return out;
}

int line_count(std::string_view text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// `node` as YAML text, its top level in block style.
std::string emitted(const YAML::Node& node) {
  YAML::Node copy = YAML::Clone(node);
  if (copy.IsMap() || copy.IsSequence()) copy.SetStyle(YAML::EmitterStyle::Block);
  YAML::Emitter out;
  out << copy;
  return std::string(out.c_str()) + "\n";
}

std::string quoted_scalar(const std::string& text) {
  YAML::Emitter out;
  out << YAML::DoubleQuoted << text;
  return out.c_str();
}

// An entity's name: a skill is its name; the others have a `name` key.
std::string entity_name(const YAML::Node& item) {
  if (item.IsScalar()) return item.Scalar();
  if (item.IsMap()) {
    const YAML::Node name = item["name"];
    if (name && name.IsScalar()) return name.Scalar();
  }
  return "";
}

// The tenant's settings: its mapping without the entity lists.
YAML::Node settings_of(const YAML::Node& tenant) {
  YAML::Node settings = YAML::Clone(tenant);
  for (ConfigKind kind : kListKinds) settings.remove(list_key(kind));
  return settings;
}

// An entity as the API shows it: a skill as `name: billing`.
std::string entity_yaml(ConfigKind kind, const YAML::Node& item) {
  if (kind == ConfigKind::kSkill) return "name: " + quoted_scalar(entity_name(item)) + "\n";
  return emitted(item);
}

// The tenant as the database holds it.
struct TenantDocument {
  std::string text;   // export_config's YAML
  YAML::Node tenant;  // its tenants[0]
};

Result<TenantDocument, AdminResult> read_tenant(const ConfigAdminOptions& options,
                                                const std::string& tenant) {
  using R = Result<TenantDocument, AdminResult>;
  auto text = export_config(options.dsn, tenant);
  if (!text) {
    if (text.error().starts_with("no tenant"))
      return R::failure(AdminResult::failure(
          Code::kNotFound, "tenant " + in_quotes(tenant) + " is not in the database"));
    return R::failure(database_failure(text.error()));
  }
  TenantDocument doc;
  doc.text = std::move(text).value();
  try {
    const YAML::Node root = YAML::Load(doc.text);
    doc.tenant = root["tenants"][0];
  } catch (const YAML::Exception& e) {
    return R::failure(AdminResult::failure(
        Code::kFailed,
        std::string("the database's configuration export is malformed: ") + e.what()));
  }
  if (!doc.tenant.IsMap())
    return R::failure(AdminResult::failure(
        Code::kFailed, "the database's configuration export has no tenant " + in_quotes(tenant)));
  return R::success(std::move(doc));
}

// The tenant's document rebuilt with one entity changed, and where the request's entity
// (the fragment) is in it.
struct Splice {
  std::string text;
  int first_line = 0;  // the fragment's lines in `text` (1-based); 0: no fragment
  int last_line = 0;
  int column_offset = 0;  // its indentation in `text`
  std::string prefix;     // its key path ("tenants[0].agents[3]"); "" for the tenant's settings
  std::optional<YAML::Mark> name_mark;  // a skill: where its name is in the request
};

// The tenant with the entity `removed` (a name; "" for none) of `kind` left out and, when
// given, `fragment` (YAML text of one list item) added as the last of its kind. The list
// of `kind` comes last, so the fragment's lines are the document's last.
Splice rebuild(const YAML::Node& tenant, ConfigKind kind, const std::string& removed,
               const std::optional<std::string>& fragment) {
  const std::string key = list_key(kind);
  YAML::Node rest = YAML::Clone(tenant);
  rest.remove(key);
  Splice s;
  s.text = "tenants:\n  -\n" + indented(emitted(rest), 4);
  std::vector<YAML::Node> kept;
  if (const YAML::Node items = tenant[key]; items && items.IsSequence()) {
    for (const auto& item : items) {
      if (entity_name(item) != removed) kept.push_back(item);
    }
  }
  if (kept.empty() && !fragment) return s;
  s.text += "    " + key + ":\n";
  for (const auto& item : kept) s.text += "      -\n" + indented(emitted(item), 8);
  if (fragment) {
    s.text += "      -\n";
    s.first_line = line_count(s.text) + 1;
    s.text += indented(*fragment, 8);
    s.last_line = line_count(s.text);
    s.column_offset = 8;
    s.prefix = "tenants[0]." + key + "[" + std::to_string(kept.size()) + "]";
  }
  return s;
}

// The tenant with its settings replaced by `fragment` (a block mapping without entity
// lists), named `tenant` when the fragment does not say.
Splice rebuild_settings(const YAML::Node& tenant, const std::string& name,
                        const std::string& fragment, bool fragment_names_it) {
  Splice s;
  s.text = "tenants:\n  -\n";
  s.first_line = line_count(s.text) + 1;
  s.text += indented(fragment, 4);
  s.last_line = line_count(s.text);
  s.column_offset = 4;
  if (!fragment_names_it) s.text += "    name: " + quoted_scalar(name) + "\n";
  for (ConfigKind kind : kListKinds) {
    const char* key = list_key(kind);
    const YAML::Node items = tenant[key];
    if (!items || !items.IsSequence() || items.size() == 0) continue;
    s.text += "    " + std::string(key) + ":\n" + indented(emitted(items), 6);
  }
  return s;
}

// An error outside the request's entity, named by the entity it is in: "queue sales:
// members[0].agent: unknown agent ...".
std::string outside_error(const ConfigError& e, const std::string& document,
                          const std::string& tenant) {
  const std::string_view path = e.path;
  constexpr std::string_view kTenant = "tenants[0]";
  if (!path.starts_with(kTenant)) return located(0, 0, e.path, e.message);
  std::string_view rest = path.substr(kTenant.size());
  if (rest.starts_with(".")) rest.remove_prefix(1);
  const std::size_t open = rest.find('[');
  const std::size_t close = rest.find(']');
  const std::size_t dot = rest.find('.');
  if (open != std::string_view::npos && close != std::string_view::npos && open < close &&
      (dot == std::string_view::npos || open < dot)) {
    const std::string_view key = rest.substr(0, open);
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(rest.data() + open + 1, rest.data() + close, index);
    const auto kind = kind_of_list(key);
    if (ec == std::errc() && end == rest.data() + close && kind) {
      std::string name;
      try {
        const YAML::Node root = YAML::Load(document);
        const YAML::Node items = root["tenants"][0][std::string(key)];
        if (items && items.IsSequence() && index < items.size()) name = entity_name(items[index]);
      } catch (const YAML::Exception&) {
      }
      std::string_view inner = rest.substr(close + 1);
      if (inner.starts_with(".")) inner.remove_prefix(1);
      if (!name.empty())
        return std::string(api::to_string(*kind)) + " " + name + ": " +
               located(0, 0, inner, e.message);
    }
  }
  return "tenant " + tenant + ": " + located(0, 0, rest, e.message);
}

// `message` with the line numbers it mentions ("first defined at line 27") made the
// request's own where they are in its entity, and "elsewhere in the tenant" where not.
std::string rebased(const std::string& message, const Splice& s) {
  constexpr std::string_view kLine = "line ";
  std::string out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t at = message.find(kLine, from);
    std::size_t digits = at == std::string::npos ? at : at + kLine.size();
    int number = 0;
    const char* end = nullptr;
    if (at != std::string::npos) {
      const auto parsed =
          std::from_chars(message.data() + digits, message.data() + message.size(), number);
      if (parsed.ec == std::errc()) end = parsed.ptr;
    }
    if (end == nullptr) {
      if (at == std::string::npos) break;
      out.append(message, from, digits - from);
      from = digits;
      continue;
    }
    const std::size_t after = static_cast<std::size_t>(end - message.data());
    if (s.first_line > 0 && number >= s.first_line && number <= s.last_line) {
      out.append(message, from, at - from);
      out += "line " + std::to_string(number - s.first_line + 1);
    } else {
      const bool with_at = at >= 3 && message.compare(at - 3, 3, "at ") == 0;
      out.append(message, from, (with_at ? at - 3 : at) - from);
      out += "elsewhere in the tenant";
    }
    from = after;
  }
  out.append(message, from, std::string::npos);
  return out;
}

struct SortedErrors {
  std::vector<std::string> inside;   // in the request's entity, located in its YAML
  std::vector<std::string> outside;  // elsewhere in the tenant, named by their entity
};

SortedErrors sort_errors(const std::vector<ConfigError>& errors, const Splice& s,
                         const std::string& tenant) {
  SortedErrors out;
  for (const ConfigError& original : errors) {
    ConfigError e = original;
    e.message = rebased(e.message, s);
    const bool by_line = s.first_line > 0 && e.line >= s.first_line && e.line <= s.last_line;
    const bool by_path = !s.prefix.empty() && e.path.starts_with(s.prefix) &&
                         (e.path.size() == s.prefix.size() || e.path[s.prefix.size()] == '.' ||
                          e.path[s.prefix.size()] == '[');
    const bool whole_file = e.line == 0 && e.path.empty();
    if (!by_line && !by_path && !whole_file) {
      out.outside.push_back(outside_error(e, s.text, tenant));
      continue;
    }
    std::string path = e.path;
    const std::string prefix = s.prefix.empty() ? "tenants[0]" : s.prefix;
    if (path.starts_with(prefix)) {
      path.erase(0, prefix.size());
      if (path.starts_with(".")) path.erase(0, 1);
    }
    int line = by_line ? e.line - s.first_line + 1 : 0;
    int column = by_line && e.column > s.column_offset ? e.column - s.column_offset : 0;
    if (s.name_mark) {  // a skill: its name is all there is
      line = s.name_mark->line + 1;
      column = s.name_mark->column + 1;
      if (path.empty()) path = "name";
    }
    out.inside.push_back(located(line, column, path, e.message));
  }
  return out;
}

// The request's entity alone: syntax, one mapping, no document markers. For a skill, the
// fragment becomes its quoted name.
struct Fragment {
  std::string text;  // what goes into the tenant's document
  std::string name;  // "" when it has none (the loader says so)
  bool has_name = false;
  std::optional<YAML::Mark> name_mark;  // where the request names it
};

Result<Fragment, AdminResult> parse_fragment(const AdminRequest& request) {
  using R = Result<Fragment, AdminResult>;
  auto invalid = [](std::string error) {
    return R::failure(AdminResult::failure(Code::kInvalid, std::move(error)));
  };
  // Markers and directives would end the tenant's document it is put into.
  int number = 0;
  std::size_t start = 0;
  const std::string& text = request.yaml;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    ++number;
    if (line.starts_with("---") || line.starts_with("...") || line.starts_with("%"))
      return invalid(located(number, 1, "",
                             "document markers and directives are not accepted; expected one "
                             "entity as a mapping"));
    start = end + 1;
  }
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return invalid(located(e.mark, "", "YAML syntax error: " + e.msg));
  } catch (const YAML::Exception& e) {
    return invalid(located(0, 0, "", e.what()));
  }
  const char* kind = api::to_string(request.kind);
  Fragment f;
  if (request.kind == ConfigKind::kSkill && node.IsScalar()) {
    f.name = node.Scalar();
    f.has_name = true;
    f.name_mark = node.Mark();
    f.text = quoted_scalar(f.name) + "\n";
    return R::success(std::move(f));
  }
  if (!node.IsMap())
    return invalid(
        located(node.Mark(), "",
                std::string("expected the ") + kind + " as a mapping with its name (name: ...)"));
  if (const YAML::Node name = node["name"]) {
    f.has_name = true;
    f.name_mark = name.Mark();
    if (name.IsScalar()) f.name = name.Scalar();
  }
  if (request.kind == ConfigKind::kSkill) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
      if (key != "name")
        return invalid(
            located(it->first.Mark(), key, "a skill has only a name; expected name: ..."));
    }
    if (!f.has_name || f.name.empty())
      return invalid(located(node.Mark(), "name", "required: the skill's name"));
    f.text = quoted_scalar(f.name) + "\n";
    return R::success(std::move(f));
  }
  if (request.kind == ConfigKind::kTenant) {
    if (node.Style() == YAML::EmitterStyle::Flow)
      return invalid(located(node.Mark(), "",
                             "expected the tenant's settings as a block mapping (one key: value "
                             "per line)"));
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
      if (kind_of_list(key))
        return invalid(located(it->first.Mark(), key,
                               "not one of the tenant's settings; expected the " + key +
                                   " one by one (PutEntity) or in a whole document "
                                   "(ApplyConfig)"));
    }
  }
  f.text = text;
  return R::success(std::move(f));
}

// Validates `splice`; errors come back sorted into the entity's and the others'.
Result<DaemonConfig, SortedErrors> validate(const ConfigAdminOptions& options, const Splice& splice,
                                            const std::string& tenant,
                                            std::vector<std::string>& warnings) {
  using R = Result<DaemonConfig, SortedErrors>;
  NameRegistry registry;
  auto loaded = load_config_text(splice.text, "request", registry, request_options(options));
  if (!loaded.ok()) return R::failure(sort_errors(loaded.error(), splice, tenant));
  SortedErrors sorted = sort_errors(loaded->warnings, splice, tenant);
  warnings = std::move(sorted.inside);
  for (auto& w : sorted.outside) warnings.push_back(std::move(w));
  return R::success(std::move(loaded).value());
}

// The refusal of a change to a user after which no user of `tenant` in `config` could
// administer it over the API any more (nobody with the admin role holds a token that has
// not expired): only the daemon's file or `acdd config apply` on the host could undo it.
// (A request through the API comes from an admin of the tenant, who holds such a token.)
std::optional<AdminResult> admin_lockout(const DaemonConfig& config, const std::string& tenant) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char now_text[32];
  std::strftime(now_text, sizeof now_text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  for (const auto& t : config.tenants) {
    if (t.name != tenant) continue;
    for (const auto& user : t.users) {
      if (std::find(user.roles.begin(), user.roles.end(), UserRole::kAdmin) == user.roles.end())
        continue;
      for (const auto& token : user.tokens)
        if (token.expires_at.empty() || token.expires_at > now_text) return std::nullopt;
    }
  }
  return AdminResult::failure(
      Code::kReferenced,
      "this change would leave tenant " + tenant +
          " with no admin user holding a valid token, and nobody could administer it over "
          "the API; give another user the admin role and a token first");
}

// Writes `wanted` if the database still holds `doc` (the difference between them is what
// the database would see). nullopt: it changed meanwhile; start again.
std::optional<AdminResult> write_if_unchanged(const ConfigAdminOptions& options,
                                              const TenantDocument& doc, const DaemonConfig& wanted,
                                              bool dry_run, AdminResult result) {
  NameRegistry registry;
  auto current =
      load_config_text(doc.text, "database", registry, LoadOptions::music_on_hold_unchecked());
  if (!current.ok()) {
    std::string error = "the database's configuration does not validate:";
    for (const auto& e : current.error()) error += "\n  " + e.to_string();
    return AdminResult::failure(Code::kFailed, error);
  }
  result.changes = diff_configs(current.value(), wanted, /*prune=*/false);
  if (dry_run || result.changes.empty()) return result;
  ApplyOptions apply;
  apply.expected_diff = result.changes;
  auto applied = apply_config(options.dsn, wanted, apply);
  if (!applied) {
    AdminResult failed = database_failure(applied.error());
    if (failed.code == Code::kConflict) return std::nullopt;
    return failed;
  }
  result.rows_written = applied->rows_written;
  result.applied = result.rows_written > 0;
  return result;
}

AdminResult list_entities(const ConfigAdminOptions& options, const AdminRequest& request) {
  auto doc = read_tenant(options, request.tenant);
  if (!doc) return std::move(doc).error();
  AdminResult result;
  if (request.kind == ConfigKind::kTenant) {
    result.entities.push_back({request.tenant, emitted(settings_of(doc->tenant))});
    return result;
  }
  if (const YAML::Node items = doc->tenant[list_key(request.kind)]; items && items.IsSequence()) {
    for (const auto& item : items)
      result.entities.push_back({entity_name(item), entity_yaml(request.kind, item)});
  }
  return result;
}

AdminResult get_entity(const ConfigAdminOptions& options, const AdminRequest& request) {
  const char* kind = api::to_string(request.kind);
  if (request.kind == ConfigKind::kTenant && !request.name.empty() &&
      request.name != request.tenant)
    return AdminResult::failure(Code::kNotFound, "no tenant " + in_quotes(request.name));
  auto listed = list_entities(options, request);
  if (!listed.ok()) return listed;
  for (auto& entity : listed.entities) {
    if (request.kind != ConfigKind::kTenant && entity.name != request.name) continue;
    AdminResult result;
    result.yaml = entity.yaml;
    result.entities.push_back(std::move(entity));
    return result;
  }
  return AdminResult::failure(
      Code::kNotFound,
      std::string("no ") + kind + " " + in_quotes(request.name) + " in tenant " + request.tenant);
}

AdminResult put_entity(const ConfigAdminOptions& options, const AdminRequest& request) {
  auto fragment = parse_fragment(request);
  if (!fragment) return std::move(fragment).error();
  const Fragment& f = fragment.value();
  if (request.kind == ConfigKind::kTenant && f.has_name && f.name != request.tenant)
    return AdminResult::failure(
        Code::kForbidden, located(f.name_mark.value_or(YAML::Mark::null_mark()), "name",
                                  "tenant " + in_quotes(f.name) + " is not yours; expected " +
                                      in_quotes(request.tenant) + ", the tenant of your user"));
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto doc = read_tenant(options, request.tenant);
    if (!doc) return std::move(doc).error();
    Splice splice =
        request.kind == ConfigKind::kTenant
            ? rebuild_settings(doc->tenant, request.tenant, f.text, f.has_name)
            : rebuild(doc->tenant, request.kind, f.has_name ? f.name : std::string(), f.text);
    if (request.kind == ConfigKind::kSkill) splice.name_mark = f.name_mark;
    AdminResult result;
    result.entities.push_back({request.kind == ConfigKind::kTenant ? request.tenant : f.name, {}});
    auto wanted = validate(options, splice, request.tenant, result.warnings);
    if (!wanted) {
      SortedErrors errors = std::move(wanted).error();
      if (errors.inside.empty())
        return AdminResult::failure(Code::kReferenced,
                                    std::string("this ") + api::to_string(request.kind) +
                                        " would break other entities of tenant " + request.tenant +
                                        ":\n" + joined(errors.outside));
      for (auto& e : errors.outside) errors.inside.push_back(std::move(e));
      return AdminResult::failure(Code::kInvalid, joined(errors.inside));
    }
    if (request.kind == ConfigKind::kUser)
      if (auto refused = admin_lockout(wanted.value(), request.tenant)) return *refused;
    if (request.kind == ConfigKind::kPromptSet)
      if (auto refused = prompt_path_refusal(options, wanted.value(), request.tenant, &f.name))
        return *refused;
    if (auto done =
            write_if_unchanged(options, doc.value(), wanted.value(), request.dry_run, result))
      return *done;
  }
  return AdminResult::failure(Code::kConflict,
                              "the tenant's configuration kept changing; nothing was written, "
                              "try again");
}

AdminResult delete_entity(const ConfigAdminOptions& options, const AdminRequest& request) {
  const char* kind = api::to_string(request.kind);
  if (request.kind == ConfigKind::kTenant)
    return AdminResult::failure(Code::kInvalid,
                                "kind: a tenant cannot be deleted through the API; expected the "
                                "kind of one of its entities");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto doc = read_tenant(options, request.tenant);
    if (!doc) return std::move(doc).error();
    bool found = false;
    if (const YAML::Node items = doc->tenant[list_key(request.kind)]; items && items.IsSequence()) {
      for (const auto& item : items) found = found || entity_name(item) == request.name;
    }
    if (!found)
      return AdminResult::failure(Code::kNotFound, std::string("no ") + kind + " " +
                                                       in_quotes(request.name) + " in tenant " +
                                                       request.tenant);
    const Splice splice = rebuild(doc->tenant, request.kind, request.name, std::nullopt);
    AdminResult result;
    auto wanted = validate(options, splice, request.tenant, result.warnings);
    if (!wanted) {
      SortedErrors errors = std::move(wanted).error();
      for (auto& e : errors.inside) errors.outside.push_back(std::move(e));
      return AdminResult::failure(
          Code::kReferenced,
          std::string(kind) + " " + request.name + " is still in use:\n" + joined(errors.outside));
    }
    if (request.kind == ConfigKind::kUser)
      if (auto refused = admin_lockout(wanted.value(), request.tenant)) return *refused;
    if (auto done =
            write_if_unchanged(options, doc.value(), wanted.value(), request.dry_run, result))
      return *done;
  }
  return AdminResult::failure(Code::kConflict,
                              "the tenant's configuration kept changing; nothing was written, "
                              "try again");
}

AdminResult reload(const ConfigAdminOptions& options, const AdminRequest& request) {
  NameRegistry registry;
  TenantSelection selection;
  selection.names = {request.tenant};
  auto loaded = load_config_from_database(options.dsn, registry, selection);
  if (!loaded.ok()) {
    const auto& errors = loaded.error();
    if (errors.size() == 1 && errors.front().message.find("cannot open the configuration "
                                                          "database") != std::string::npos)
      return AdminResult::failure(Code::kUnavailable, errors.front().message);
    std::string error = "tenant " + request.tenant +
                        "'s configuration in the database does not validate; the engine "
                        "keeps the configuration it runs:";
    for (const auto& e : errors) error += "\n" + e.to_string();
    return AdminResult::failure(Code::kReferenced, error);
  }
  AdminResult result;
  result.agents = loaded->domain.agents.size();
  result.queues = loaded->domain.queues.size();
  result.skills = loaded->domain.skills.size();
  for (const auto& t : loaded->tenants) result.users += t.users.size();
  const std::string counts =
      "tenant " + request.tenant + " in the database: " + std::to_string(result.agents) +
      " agents, " + std::to_string(result.queues) + " queues, " + std::to_string(result.skills) +
      " skills, " + std::to_string(result.users) + " users";
  if (options.request_reload) {
    options.request_reload();
    result.message = "reload requested; " + counts +
                     "; the engine loads the database's configuration now (event=config.reloaded "
                     "in its log)";
  } else {
    result.message = "checked; " + counts + " (this engine does not reload on request)";
  }
  return result;
}

}  // namespace

AdminResult run_admin_request(const ConfigAdminOptions& options, const AdminRequest& request) {
  try {
    switch (request.op) {
      case AdminRequest::Op::kExport: {
        auto doc = read_tenant(options, request.tenant);
        if (!doc) return std::move(doc).error();
        AdminResult result;
        result.yaml = std::move(doc->text);
        return result;
      }
      case AdminRequest::Op::kDiff: return diff_or_apply(options, request, /*write=*/false);
      case AdminRequest::Op::kApply: return diff_or_apply(options, request, !request.dry_run);
      case AdminRequest::Op::kList: return list_entities(options, request);
      case AdminRequest::Op::kGet: return get_entity(options, request);
      case AdminRequest::Op::kPut: return put_entity(options, request);
      case AdminRequest::Op::kDelete: return delete_entity(options, request);
      case AdminRequest::Op::kReload: return reload(options, request);
    }
    return AdminResult::failure(Code::kFailed, "unknown request");
  } catch (const std::exception& e) {
    return AdminResult::failure(Code::kFailed, e.what());
  }
}

}  // namespace acd::app
