#include "engine/rules/lexer.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

namespace acd::rules {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

constexpr std::array<std::pair<std::string_view, TokenKind>, 13> kKeywords = {{
    {"and", TokenKind::kAnd},
    {"or", TokenKind::kOr},
    {"not", TokenKind::kNot},
    {"in", TokenKind::kIn},
    {"contains", TokenKind::kContains},
    {"has", TokenKind::kHas},
    {"between", TokenKind::kBetween},
    {"true", TokenKind::kTrue},
    {"false", TokenKind::kFalse},
    {"order", TokenKind::kOrder},
    {"by", TokenKind::kBy},
    {"asc", TokenKind::kAsc},
    {"desc", TokenKind::kDesc},
}};

// Duration units, largest first; a literal's units must appear in this order, each once.
struct DurationUnit {
  std::string_view suffix;
  double milliseconds;
};
constexpr std::array<DurationUnit, 4> kDurationUnits = {{
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  // Appends the tokens to `tokens`, ending with kEnd, or stops at the first lexical error
  // and returns it (the tokens before it stay in `tokens`).
  std::optional<CompileError> run(std::vector<Token>& tokens) {
    while (true) {
      skip_whitespace();
      Token token;
      token.position = position_;
      if (at_end()) {
        tokens.push_back(std::move(token));
        return std::nullopt;
      }
      const std::size_t start = offset_;
      const char c = source_[offset_];
      if (is_digit(c)) {
        if (auto error = lex_number(token)) return error;
      } else if (c == '\'' || c == '"') {
        if (auto error = lex_string(token)) return error;
      } else if (is_name_start(c)) {
        while (!at_end() && is_name_char(peek())) advance();
        token.kind = TokenKind::kIdentifier;
        const std::string_view word = source_.substr(start, offset_ - start);
        for (const auto& [spelling, kind] : kKeywords) {
          if (equals_ignoring_case(word, spelling)) token.kind = kind;
        }
      } else if (auto error = lex_punctuation(token)) {
        return error;
      }
      token.text = source_.substr(start, offset_ - start);
      tokens.push_back(std::move(token));
    }
  }

 private:
  [[nodiscard]] bool at_end() const { return offset_ >= source_.size(); }
  [[nodiscard]] char peek(std::size_t ahead = 0) const {
    return offset_ + ahead < source_.size() ? source_[offset_ + ahead] : '\0';
  }
  void advance() {
    if (source_[offset_] == '\n') {
      ++position_.line;
      position_.column = 1;
    } else {
      ++position_.column;
    }
    ++offset_;
  }
  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\r' || peek() == '\n')) {
      advance();
    }
  }
  std::size_t read_digits() {
    std::size_t count = 0;
    while (!at_end() && is_digit(peek())) {
      advance();
      ++count;
    }
    return count;
  }
  CompileError error_at(Position position, std::string message) const {
    return CompileError{position, std::move(message)};
  }

  // Numbers (3, 2.5), times of day (09:00) and durations (30s, 1m30s, 1500ms).
  std::optional<CompileError> lex_number(Token& token) {
    const std::size_t start = offset_;
    const std::size_t integer_digits = read_digits();
    if (peek() == ':' && is_digit(peek(1))) {
      advance();  // ':'
      const std::size_t minute_digits = read_digits();
      while (!at_end() && is_name_char(peek())) advance();
      const std::string_view text = source_.substr(start, offset_ - start);
      const int hours =
          integer_digits <= 2 ? std::stoi(std::string(text.substr(0, integer_digits))) : 99;
      const int minutes = minute_digits == 2 && text.size() == integer_digits + 3
                              ? std::stoi(std::string(text.substr(integer_digits + 1)))
                              : 99;
      if (hours > 23 || minutes > 59) {
        return error_at(token.position, "invalid time of day '" + std::string(text) +
                                            "': expected HH:MM from 00:00 to 23:59");
      }
      token.kind = TokenKind::kTimeOfDay;
      token.number = hours * 60 + minutes;
      return std::nullopt;
    }
    bool fractional = false;
    if (peek() == '.' && is_digit(peek(1))) {
      advance();
      read_digits();
      fractional = true;
    }
    if (!is_name_start(peek())) {
      const std::string_view text = source_.substr(start, offset_ - start);
      token.kind = TokenKind::kNumber;
      const auto parsed = std::from_chars(text.data(), text.data() + text.size(), token.number);
      if (parsed.ec != std::errc()) {
        return error_at(token.position, "number '" + std::string(text) + "' is out of range");
      }
      return std::nullopt;
    }
    return lex_duration(token, start, fractional);
  }

  // Called with the first component's digits consumed and a letter next.
  std::optional<CompileError> lex_duration(Token& token, std::size_t start, bool fractional) {
    const auto whole_text = [&] {
      std::size_t end = offset_;
      while (end < source_.size() && is_name_char(source_[end])) ++end;
      return std::string(source_.substr(start, end - start));
    };
    if (fractional) {
      return error_at(token.position, "invalid duration '" + whole_text() +
                                          "': write whole units, e.g. 2s500ms instead of 2.5s");
    }
    double total = 0;
    std::size_t next_unit = 0;  // units before this index were used or are too large
    std::size_t component_start = start;
    while (true) {
      const std::string_view digits = source_.substr(component_start, offset_ - component_start);
      std::size_t unit = next_unit;
      while (unit < kDurationUnits.size()) {
        const std::string_view suffix = kDurationUnits[unit].suffix;
        // "m" must not match the start of "ms".
        const bool matches =
            source_.substr(offset_, suffix.size()) == suffix && !is_name_start(peek(suffix.size()));
        if (matches) break;
        ++unit;
      }
      if (unit == kDurationUnits.size()) {
        const std::string text = whole_text();
        const bool known_unit_out_of_order = [&] {
          for (const DurationUnit& candidate : kDurationUnits) {
            if (source_.substr(offset_, candidate.suffix.size()) == candidate.suffix &&
                !is_name_start(peek(candidate.suffix.size()))) {
              return true;
            }
          }
          return false;
        }();
        if (known_unit_out_of_order) {
          return error_at(token.position,
                          "invalid duration '" + text +
                              "': units must go from largest to smallest (h, m, s, ms), each once");
        }
        if (component_start == start) {
          return error_at(token.position, "invalid number '" + text +
                                              "': a duration takes a unit h, m, s or ms, e.g. 30s");
        }
        return error_at(token.position,
                        "invalid duration '" + text + "': expected a unit h, m, s or ms");
      }
      double value = 0;
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
      total += value * kDurationUnits[unit].milliseconds;
      for (std::size_t i = 0; i < kDurationUnits[unit].suffix.size(); ++i) advance();
      next_unit = unit + 1;
      if (!is_digit(peek())) break;
      component_start = offset_;
      read_digits();
      if (peek() == '.') {
        return error_at(token.position, "invalid duration '" + whole_text() +
                                            "': write whole units, e.g. 2s500ms instead of 2.5s");
      }
    }
    if (is_name_char(peek())) {
      return error_at(token.position,
                      "invalid duration '" + whole_text() + "': expected a unit h, m, s or ms");
    }
    token.kind = TokenKind::kDuration;
    token.number = total;
    return std::nullopt;
  }

  std::optional<CompileError> lex_string(Token& token) {
    const char quote = peek();
    advance();
    token.kind = TokenKind::kString;
    while (true) {
      if (at_end()) {
        return error_at(token.position, std::string("unterminated string: expected a closing ") +
                                            quote + " before end of input");
      }
      const char c = peek();
      if (c == quote) {
        advance();
        return std::nullopt;
      }
      if (c == '\\') {
        const Position escape_position = position_;
        advance();
        const char escaped = peek();
        switch (escaped) {
          case '\\':
          case '\'':
          case '"': token.string_value += escaped; break;
          case 'n': token.string_value += '\n'; break;
          case 't': token.string_value += '\t'; break;
          default:
            return error_at(escape_position,
                            std::string("unknown escape '\\") +
                                (at_end() ? std::string() : std::string(1, escaped)) +
                                "' in string: expected \\\\, \\', \\\", \\n or \\t");
        }
        advance();
        continue;
      }
      token.string_value += c;
      advance();
    }
  }

  std::optional<CompileError> lex_punctuation(Token& token) {
    const char c = peek();
    const char next = peek(1);
    const auto take = [&](TokenKind kind, int length) {
      token.kind = kind;
      for (int i = 0; i < length; ++i) advance();
      return std::nullopt;
    };
    switch (c) {
      case '=':
        if (next == '=') return error_at(token.position, "unexpected '==': write '=' to compare");
        return take(TokenKind::kEqual, 1);
      case '!':
        if (next == '=') return take(TokenKind::kNotEqual, 2);
        return error_at(token.position, "unexpected '!': write NOT, or '!=' to compare");
      case '<':
        if (next == '=') return take(TokenKind::kLessEqual, 2);
        if (next == '>') return error_at(token.position, "unexpected '<>': write '!='");
        return take(TokenKind::kLess, 1);
      case '>':
        if (next == '=') return take(TokenKind::kGreaterEqual, 2);
        return take(TokenKind::kGreater, 1);
      case '+': return take(TokenKind::kPlus, 1);
      case '-': return take(TokenKind::kMinus, 1);
      case '*': return take(TokenKind::kStar, 1);
      case '/': return take(TokenKind::kSlash, 1);
      case '%': return take(TokenKind::kPercent, 1);
      case '(': return take(TokenKind::kLeftParen, 1);
      case ')': return take(TokenKind::kRightParen, 1);
      case '[': return take(TokenKind::kLeftBracket, 1);
      case ']': return take(TokenKind::kRightBracket, 1);
      case ',': return take(TokenKind::kComma, 1);
      case '.': return take(TokenKind::kDot, 1);
      default: break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      return error_at(token.position, std::string("unexpected character '") + c + "'");
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", byte);
    return error_at(token.position, std::string("unexpected byte ") + hex +
                                        " (names and operators are ASCII; quote other text)");
  }

  std::string_view source_;
  std::size_t offset_ = 0;
  Position position_;
};

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source) {
  std::vector<Token> tokens;
  if (auto error = Lexer(source).run(tokens)) return *std::move(error);
  return tokens;
}

std::vector<Token> tokenize_prefix(std::string_view source) {
  std::vector<Token> tokens;
  (void)Lexer(source).run(tokens);  // the error only ends the scan
  return tokens;
}

std::string describe(const Token& token) {
  if (token.kind == TokenKind::kEnd) return "end of input";
  return "'" + std::string(token.text) + "'";
}

bool is_keyword(TokenKind kind) {
  return kind >= TokenKind::kAnd && kind <= TokenKind::kDesc;
}

}  // namespace acd::rules
