// Types, source positions and compile errors shared by the rules lexer, parser and compiler.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace acd::rules {

// The static type of an expression. Every expression has exactly one; nothing converts
// implicitly (a duration is never a number, a time of day is never a duration).
enum class Type : std::uint8_t {
  kNumber,     // double
  kString,     // text
  kBoolean,    // true / false
  kStringSet,  // a set of strings: agent.languages, ['en', 'fr']
  kDuration,   // milliseconds
  kTimeOfDay,  // minutes since midnight in the tenant's time zone
};

// "number", "string", "boolean", "set", "duration", "time of day".
const char* type_name(Type type);

// 1-based line and column (columns count bytes) of a token in the source text.
struct Position {
  int line = 1;
  int column = 1;
};

struct CompileError {
  Position position;
  std::string message;

  // "line:column: message", e.g. "1:17: expected an operand after 'AND', got end of input".
  [[nodiscard]] std::string to_string() const;
};

// Either a value or the compile error that prevented it.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}             // NOLINT: implicit by design
  Result(CompileError error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  [[nodiscard]] bool is_ok() const { return state_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  [[nodiscard]] T& value() { return std::get<0>(state_); }
  [[nodiscard]] const T& value() const { return std::get<0>(state_); }
  [[nodiscard]] const CompileError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, CompileError> state_;
};

}  // namespace acd::rules
