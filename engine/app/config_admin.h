// The configuration of one tenant in the database, as AdminService asks for it
// (engine/api/admin_hook.h): export, diff and apply of a `tenants:` document, and entity by
// entity (list, get, put, delete), and reload. Everything goes the way of `acdd config
// apply` (config_db.h): the YAML is validated by the configuration loader, the database is
// written in one transaction under the configuration lock, and the running engine hears of
// it through the change notifications (engine/store/config_watcher.h).
//
// Scope: a request acts on request.tenant only. A document must be `tenants:` with that
// one tenant (another tenant's name is kForbidden, located); apply never prunes other
// tenants, so they are never read or written.
//
// Entities: an entity's YAML is the mapping it has under the tenant in a file. Put and
// delete rebuild the tenant's document from the database with that one entity replaced,
// added or removed, validate the whole tenant (so references between entities are
// checked) and apply it only if the database still holds what the document was built
// from (otherwise they start again, at most three times, then kConflict). Errors in the
// request's entity are located in the request's own YAML ("line 3, column 12:
// skills.billing: ..."); errors it causes elsewhere name the entity they are in ("queue
// sales: members[0].agent: unknown agent ...").
//
// Thread-safety: run_admin_request is a free function; each call opens its own database
// connections (config_db.h). It blocks: call it from a worker (config_admin_worker.h),
// never from gRPC's threads, the core thread or the main thread's event loop.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/api/admin_hook.h"

namespace acd::app {

struct ConfigAdminOptions {
  std::string dsn;  // a libpq connection string
  // The daemon file's music-on-hold classes: what a queue's music_on_hold may name (as
  // `acdd config apply` checks it).
  std::vector<std::string> music_on_hold_classes;
  // The directories a prompt set written through the API may be at or under (the daemon
  // file's prompt-set directories): the engine reads and plays what is there, so a
  // tenant's admin must not point it at the host's other files. Empty: no prompt set
  // path can be written through the API.
  std::vector<std::string> prompt_roots;
  // Asks the daemon to reload its configuration from the database (Reload); called on the
  // requester's thread. Empty: Reload only checks the database's configuration.
  std::function<void()> request_reload;
};

// Runs `request` to its end. Never throws: a failure is the result's code and error.
api::AdminResult run_admin_request(const ConfigAdminOptions& options,
                                   const api::AdminRequest& request);

}  // namespace acd::app
