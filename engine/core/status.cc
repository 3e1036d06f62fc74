#include "engine/core/status.h"

namespace acd::core {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kInvalidArgument: return "invalid-argument";
    case ErrorCode::kInvalidState: return "invalid-state";
    case ErrorCode::kLimitReached: return "limit-reached";
    case ErrorCode::kAlreadyExists: return "already-exists";
    case ErrorCode::kPermissionDenied: return "permission-denied";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(acd::core::to_string(code_)) + ": " + message_;
}

}  // namespace acd::core
