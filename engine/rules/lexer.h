// Tokens of the routing-rules language. Keywords are case-insensitive; names (path segments,
// skill, queue and calendar names) are case-sensitive. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/rules/result.h"

namespace acd::rules {

enum class TokenKind {
  kEnd,
  kNumber,     // 3, 2.5
  kDuration,   // 30s, 1500ms, 1m30s (value in milliseconds)
  kTimeOfDay,  // 09:00 (value in minutes since midnight)
  kString,     // 'text' or "text"
  kIdentifier,
  // Keywords.
  kAnd,
  kOr,
  kNot,
  kIn,
  kContains,
  kHas,
  kBetween,
  kTrue,
  kFalse,
  kOrder,
  kBy,
  kAsc,
  kDesc,
  // Punctuation.
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kLeftParen,
  kRightParen,
  kLeftBracket,
  kRightBracket,
  kComma,
  kDot,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  Position position;
  std::string_view text;     // as written in the source (empty for kEnd)
  std::string string_value;  // kString: the text with escapes resolved
  double number = 0;         // kNumber value, kDuration milliseconds, kTimeOfDay minutes
};

// Splits `source` into tokens ending with one kEnd token (positioned just after the last
// character). The tokens' `text` views point into `source`.
Result<std::vector<Token>> tokenize(std::string_view source);

// The tokens before the first lexical error, for tools that scan text which may not compile
// (see declare_keys): all of them with the closing kEnd token when `source` lexes, otherwise
// those before the offending one and no kEnd token.
std::vector<Token> tokenize_prefix(std::string_view source);

// How a token is named in error messages: "end of input" or the text in quotes, e.g. "'AND'".
std::string describe(const Token& token);

// True for the keyword kinds (kAnd ... kDesc); they may still be used as path segments
// after a dot, e.g. task.attr.order.
bool is_keyword(TokenKind kind);

}  // namespace acd::rules
