// ApiContext: what every gRPC service of the engine shares: the host's hooks (the routing
// core's command queue, the log) and the current ApiDirectory; and the steps every call
// starts with: authentication, the role check (deny by default), the audit line of a
// refusal.
// Thread-safety: all members may be used from any thread (gRPC's callback threads).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "acd/v1/agent_service.pb.h"
#include "engine/api/admin_hook.h"
#include "engine/api/api_directory.h"
#include "engine/api/log_budget.h"
#include "engine/api/report_query.h"
#include "engine/core/call_control.h"
#include "engine/core/routing_core.h"
#include "engine/core/status.h"

namespace acd::api {

enum class ApiLogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };
// One field of a log line (the same shape as the SIP layer's, so the daemon writes both
// the same way).
struct ApiLogField {
  std::string_view key;
  std::string value;
};

struct ApiHooks {
  // Runs `command` on the routing core's thread, in submission order; false when the core
  // takes no more commands (shutdown).
  std::function<bool(std::function<void(core::RoutingCore&)>)> submit;
  // Looks up a caller for the screen pop (the customer record of the tenant named
  // `tenant` and the number's previous calls), off the event loop; `done` gets the result
  // on any thread. False when the lookup was not started (`done` is then never called).
  // Empty: no lookups.
  std::function<bool(const std::string& tenant, std::string caller_number,
                     std::function<void(acd::v1::ScreenPop)> done)>
      lookup_caller;
  // Work on the configuration of a tenant in the database (AdminService): run off the
  // caller's thread, answered on another (admin_hook.h). Empty: AdminService answers
  // UNAVAILABLE.
  AdminHook admin;
  // Runs a ReportService query (report_query.h) of the tenant named `query.tenant` against
  // the history, off the event loop; `done` gets the answer on any thread. False when the
  // query was not started (too many waiting, or shutting down; `done` is then never
  // called). Empty: no database, and ReportService answers UNAVAILABLE.
  std::function<bool(ReportQuery query, std::function<void(ReportAnswer)> done)> run_report;
  // Acts on the call an agent talks on (call control: core/call_control.h), on the SIP
  // side; `done` gets the verdict on any thread, exactly once. False when the request was
  // not taken (shutting down; `done` is then never called). Empty: the engine handles no
  // calls over SIP, and call control answers UNAVAILABLE.
  std::function<bool(core::CallControl request, std::function<void(core::Status)> done)>
      control_call;
  // One structured log line (logfmt-style fields).
  std::function<void(ApiLogLevel, std::string_view event, std::initializer_list<ApiLogField>)> log;
};

// The caller of one request: its user, and the directory that user lives in (kept alive
// for the request even if a reload swaps the directory).
struct Caller {
  std::shared_ptr<const ApiDirectory> directory;
  const ApiUser* user = nullptr;
  std::string token_name;
};

class ApiContext {
 public:
  ApiContext(ApiHooks hooks, std::shared_ptr<const ApiDirectory> directory,
             LogBudget denied_budget = LogBudget(20, 100))
      : hooks_(std::move(hooks)),
        directory_(std::move(directory)),
        denied_budget_(std::move(denied_budget)) {}

  void set_directory(std::shared_ptr<const ApiDirectory> directory) {
    directory_.store(std::move(directory));
  }

  // Authenticates the request and checks that its user has one of `allowed`; a refusal is
  // logged for audit (api.denied) and comes back as UNAUTHENTICATED or PERMISSION_DENIED.
  std::variant<Caller, grpc::Status> authorize(const grpc::CallbackServerContext& context,
                                               std::string_view rpc, Roles allowed) const;

  // Queues `command` on the core thread; false when the engine is shutting down.
  bool submit(std::function<void(core::RoutingCore&)> command) const {
    return hooks_.submit(std::move(command));
  }
  [[nodiscard]] const ApiHooks& hooks() const { return hooks_; }
  [[nodiscard]] std::shared_ptr<const ApiDirectory> directory() const { return directory_.load(); }
  void log(ApiLogLevel level, std::string_view event,
           std::initializer_list<ApiLogField> fields) const {
    if (hooks_.log) hooks_.log(level, event, fields);
  }
  // An api.denied audit line, within its budget (ApiOptions: 20 a second, bursts of 100):
  // beyond it lines are dropped, and the next one written is preceded by
  // api.denied_dropped with their number.
  void log_denied(std::initializer_list<ApiLogField> fields) const;

 private:
  ApiHooks hooks_;
  std::atomic<std::shared_ptr<const ApiDirectory>> directory_;
  mutable LogBudget denied_budget_;
};

// The gRPC status of a core refusal (the core's message kept).
grpc::Status to_grpc(const core::Status& status);
// INVALID_ARGUMENT naming the request field: "<field>: <what is wrong>".
grpc::Status invalid_field(std::string_view field, std::string_view problem);

// The recipient of a chat message from `caller`: exactly one of `to_agent` (an agent of
// the caller's tenant: its id) and the group flag named `group_field` (nullopt); and its
// text (check_message_text). Refusals name the field.
std::variant<std::optional<core::AgentId>, grpc::Status> message_recipient(
    const Caller& caller, const std::string& to_agent, bool to_group, std::string_view group_field,
    const std::string& text);

}  // namespace acd::api
