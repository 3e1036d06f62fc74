// Errors as values. Commands to the core return a Status; the message says what was
// wrong and what was expected. The success path never allocates.
#pragma once

#include <string>
#include <utility>

namespace acd::core {

enum class ErrorCode {
  kOk = 0,
  kNotFound,         // an id that names nothing (or names another tenant's entity)
  kInvalidArgument,  // a malformed request
  kInvalidState,     // a request the current state forbids (e.g. Ready while Talking)
  kLimitReached,     // a policy limit (break policy, queue length, reason table)
  kAlreadyExists,    // a duplicate id
  kPermissionDenied  // crosses tenants
};

const char* to_string(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  [[nodiscard]] bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  [[nodiscard]] ErrorCode code() const { return code_; }
  [[nodiscard]] const std::string& message() const { return message_; }
  [[nodiscard]] std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

}  // namespace acd::core
