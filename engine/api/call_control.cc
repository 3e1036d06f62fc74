#include "engine/api/call_control.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace acd::api {

void send_call_control(const ApiContext& context, grpc::ServerUnaryReactor* reactor,
                       core::CallControl request, std::string target_field) {
  const auto& hook = context.hooks().control_call;
  if (!hook) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "this engine handles no calls over SIP (sip.enabled is off)"));
    return;
  }
  auto done = [reactor, field = std::move(target_field)](const core::Status& status) {
    if (status.code() == core::ErrorCode::kNotFound && !field.empty()) {
      reactor->Finish(invalid_field(field, status.message()));
      return;
    }
    reactor->Finish(to_grpc(status));
  };
  if (!hook(std::move(request), std::move(done)))
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down"));
}

bool is_dialable_number(std::string_view number) {
  if (!number.empty() && number.front() == '+') number.remove_prefix(1);
  return !number.empty() && number.size() <= 32 &&
         std::all_of(number.begin(), number.end(),
                     [](unsigned char ch) { return std::isdigit(ch) != 0; });
}

}  // namespace acd::api
