// The parser of the routing-rules language: text to an untyped syntax tree. Names are not
// resolved here; the compiler (compiler.h) resolves them against a Schema and checks types.
//
// Grammar, lowest precedence first (keywords case-insensitive):
//   expression     := or
//   or             := and { OR and }
//   and            := not { AND not }
//   not            := NOT not | comparison
//   comparison     := additive [ ('=' | '!=' | '<' | '<=' | '>' | '>=') additive
//                              | [NOT] IN additive | CONTAINS additive | HAS additive
//                              | [NOT] BETWEEN additive AND additive ]      (no chaining)
//   additive       := multiplicative { ('+' | '-') multiplicative }
//   multiplicative := unary { ('*' | '/' | '%') unary }
//   unary          := '-' unary | primary
//   primary        := number | duration | time | string | TRUE | FALSE | '(' expression ')'
//                   | '[' [ string { ',' string } ] ']' | name '(' [ expression { ',' expression }
//                   ] ')' | name { '.' name }
//   order          := [ ORDER BY ] expression [ ASC | DESC ] { ',' expression [ ASC | DESC ] }
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/rules/result.h"

namespace acd::rules {

enum class CompareOp : std::uint8_t {
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual
};
enum class ArithmeticOp : std::uint8_t { kAdd, kSubtract, kMultiply, kDivide, kRemainder };

const char* to_string(CompareOp op);     // "=", "!=", ...
const char* to_string(ArithmeticOp op);  // "+", "-", ...

enum class SyntaxKind : std::uint8_t {
  kNumber,      // number
  kString,      // text
  kBoolean,     // boolean
  kDuration,    // number (milliseconds)
  kTimeOfDay,   // number (minutes since midnight)
  kSet,         // set_elements
  kPath,        // segments, segment_positions
  kCall,        // text (function name as written), children (arguments)
  kNegate,      // children[0]
  kNot,         // children[0]
  kAnd,         // children[0], children[1]
  kOr,          // children[0], children[1]
  kCompare,     // compare, children[0], children[1]
  kArithmetic,  // arithmetic, children[0], children[1]
  kIn,          // negated, children[0] (element), children[1] (set)
  kContains,    // children[0] (string or set), children[1] (string)
  kHas,         // children[0] (set), children[1] (string)
  kBetween,     // negated, children[0] (value), children[1] (low), children[2] (high)
};

struct SyntaxNode {
  SyntaxKind kind = SyntaxKind::kNumber;
  Position position;     // the defining token: operator, literal, function name, first segment
  Position start;        // the node's first token
  std::string spelling;  // literals and operators as written (for hints in error messages)
  std::string text;      // string value or function name
  double number = 0;
  bool boolean = false;
  bool negated = false;
  CompareOp compare = CompareOp::kEqual;
  ArithmeticOp arithmetic = ArithmeticOp::kAdd;
  std::vector<std::string> segments;
  std::vector<Position> segment_positions;
  std::vector<std::string> set_elements;
  std::vector<std::unique_ptr<SyntaxNode>> children;
};

using SyntaxTree = std::unique_ptr<SyntaxNode>;

struct OrderTerm {
  SyntaxTree expression;
  bool descending = false;
};

// Expressions nested deeper than this (parentheses, operators, unary minus) are rejected,
// so that neither the parser nor the evaluators can exhaust the stack.
inline constexpr int kMaxNesting = 64;

Result<SyntaxTree> parse_expression(std::string_view source);
Result<std::vector<OrderTerm>> parse_order(std::string_view source);

}  // namespace acd::rules
