// What AdminService (admin_service.h) asks of its host: work on the configuration of one
// tenant in the database (export, diff, apply, entity by entity, reload), as plain values.
// The daemon answers on a worker thread with its own database connections
// (engine/app/config_admin_worker.h), never on gRPC's threads or the core's; the API
// only checks who asks and turns the outcome into a gRPC status.
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace acd::api {

// The kinds of a tenant's configuration entities (acd.v1.EntityKind).
enum class ConfigKind : std::uint8_t {
  kTenant,  // the tenant's own settings (get and put only)
  kSkill,
  kTeam,
  kAgent,
  kQueue,
  kUser,
  kTrunk,
  kIvrMenu,
  kPromptSet,
  kCalendar,
  kFlow
};
// "tenant", "skill", "team", "agent", "queue", "user", "trunk", "ivr_menu", "prompt_set",
// "calendar", "flow" (as config_db's change lines name them).
const char* to_string(ConfigKind kind);

struct AdminRequest {
  enum class Op : std::uint8_t { kExport, kDiff, kApply, kList, kGet, kPut, kDelete, kReload };
  Op op = Op::kExport;
  // The caller's tenant: nothing outside it is read or written.
  std::string tenant;
  ConfigKind kind = ConfigKind::kTenant;  // kList, kGet, kPut, kDelete
  std::string name;                       // kGet, kDelete
  // kDiff, kApply: a `tenants:` document; kPut: one entity (a mapping with its name).
  std::string yaml;
  bool dry_run = false;  // kApply, kPut, kDelete: check and report, write nothing
};

struct AdminResult {
  enum class Code : std::uint8_t {
    kOk,
    kInvalid,      // the request's YAML is invalid (INVALID_ARGUMENT)
    kForbidden,    // it names another tenant (PERMISSION_DENIED)
    kNotFound,     // no such entity (NOT_FOUND)
    kReferenced,   // the change would break other entities (FAILED_PRECONDITION)
    kConflict,     // the database kept changing under the request (ABORTED)
    kUnavailable,  // the database cannot be reached, or shutting down (UNAVAILABLE)
    kFailed        // anything else (INTERNAL)
  };
  Code code = Code::kOk;
  // When not kOk: what was wrong and what was expected; errors in the request's YAML are
  // located, one per line ("line 3, column 12: skills.billing: ...").
  std::string error;

  std::string yaml;  // kExport: the document; kGet: the entity
  struct Entity {
    std::string name;
    std::string yaml;
  };
  std::vector<Entity> entities;  // kList; kGet: the one entity; kPut: its name
  // kDiff, kApply, kPut, kDelete: config_db's change lines ("~ queue acme/sales: ...").
  std::vector<std::string> changes;
  bool applied = false;  // the changes were written
  std::size_t rows_written = 0;
  std::vector<std::string> warnings;  // located, like errors
  // kReload: what was done, and the tenant's counts in the database.
  std::string message;
  std::size_t agents = 0;
  std::size_t queues = 0;
  std::size_t skills = 0;
  std::size_t users = 0;

  static AdminResult failure(Code code, std::string error) {
    AdminResult r;
    r.code = code;
    r.error = std::move(error);
    return r;
  }
  [[nodiscard]] bool ok() const { return code == Code::kOk; }
};

// Runs `request` off the caller's thread; `done` gets the result exactly once, on another
// thread. Returns false, and never calls `done`, when the request was not taken (the
// worker is stopping or too many requests wait).
using AdminHook = std::function<bool(AdminRequest request, std::function<void(AdminResult)> done)>;

}  // namespace acd::api
