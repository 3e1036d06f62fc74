#include "engine/rules/parser.h"

#include <utility>

#include "engine/rules/lexer.h"

namespace acd::rules {
namespace {

// Thrown inside the parser only and turned into a Result at its boundary: it keeps the
// recursive descent free of error plumbing.
struct ParseFailure {
  CompileError error;
};

std::unique_ptr<SyntaxNode> make_node(SyntaxKind kind, const Token& token) {
  auto node = std::make_unique<SyntaxNode>();
  node->kind = kind;
  node->position = token.position;
  node->start = token.position;
  node->spelling = std::string(token.text);
  return node;
}

std::unique_ptr<SyntaxNode> make_binary(SyntaxKind kind, const Token& op, SyntaxTree left,
                                        SyntaxTree right) {
  auto node = make_node(kind, op);
  node->start = left->start;
  node->children.push_back(std::move(left));
  node->children.push_back(std::move(right));
  return node;
}

bool is_comparison(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEqual:
    case TokenKind::kNotEqual:
    case TokenKind::kLess:
    case TokenKind::kLessEqual:
    case TokenKind::kGreater:
    case TokenKind::kGreaterEqual:
    case TokenKind::kIn:
    case TokenKind::kContains:
    case TokenKind::kHas:
    case TokenKind::kBetween: return true;
    default: return false;
  }
}

CompareOp compare_op(TokenKind kind) {
  switch (kind) {
    case TokenKind::kNotEqual: return CompareOp::kNotEqual;
    case TokenKind::kLess: return CompareOp::kLess;
    case TokenKind::kLessEqual: return CompareOp::kLessEqual;
    case TokenKind::kGreater: return CompareOp::kGreater;
    case TokenKind::kGreaterEqual: return CompareOp::kGreaterEqual;
    default: return CompareOp::kEqual;
  }
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  SyntaxTree parse_whole_expression() {
    SyntaxTree tree = parse_or();
    expect_end();
    return tree;
  }

  std::vector<OrderTerm> parse_whole_order() {
    if (peek().kind == TokenKind::kOrder) {
      take();
      if (peek().kind != TokenKind::kBy) fail_expected("'BY' after 'ORDER'");
      take();
    }
    std::vector<OrderTerm> terms;
    while (true) {
      OrderTerm term;
      term.expression = parse_or();
      if (peek().kind == TokenKind::kAsc || peek().kind == TokenKind::kDesc) {
        term.descending = take().kind == TokenKind::kDesc;
      }
      terms.push_back(std::move(term));
      if (peek().kind != TokenKind::kComma) break;
      take();
    }
    if (peek().kind != TokenKind::kEnd) {
      fail_expected("ASC, DESC, ',' or end of input");
    }
    return terms;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(index_ + ahead, tokens_.size() - 1)];
  }
  const Token& take() {
    const Token& token = peek();
    if (index_ < tokens_.size() - 1) ++index_;
    return token;
  }
  [[noreturn]] void fail(Position position, std::string message) const {
    throw ParseFailure{CompileError{position, std::move(message)}};
  }
  [[noreturn]] void fail_expected(const std::string& what) const {
    fail(peek().position, "expected " + what + ", got " + describe(peek()));
  }

  // Every recursive production passes through here, bounding the depth of the tree.
  class NestingGuard {
   public:
    explicit NestingGuard(Parser& parser) : parser_(parser) {
      if (++parser_.depth_ > kMaxNesting) {
        parser_.fail(parser_.peek().position, "expression nested too deeply (more than " +
                                                  std::to_string(kMaxNesting) + " levels)");
      }
    }
    ~NestingGuard() { --parser_.depth_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    Parser& parser_;
  };

  void expect_end() {
    if (peek().kind == TokenKind::kEnd) return;
    if (peek().kind == TokenKind::kRightParen) {
      fail(peek().position, "unexpected ')': no '(' is open");
    }
    fail_expected("an operator or end of input");
  }

  SyntaxTree parse_or() {
    SyntaxTree left = parse_and();
    while (peek().kind == TokenKind::kOr) {
      const Token& op = take();
      left = make_binary(SyntaxKind::kOr, op, std::move(left), parse_and());
    }
    return left;
  }

  SyntaxTree parse_and() {
    SyntaxTree left = parse_not();
    while (peek().kind == TokenKind::kAnd) {
      const Token& op = take();
      left = make_binary(SyntaxKind::kAnd, op, std::move(left), parse_not());
    }
    return left;
  }

  SyntaxTree parse_not() {
    NestingGuard guard(*this);
    if (peek().kind != TokenKind::kNot) return parse_comparison();
    const Token& op = take();
    auto node = make_node(SyntaxKind::kNot, op);
    node->children.push_back(parse_not());
    return node;
  }

  SyntaxTree parse_comparison() {
    SyntaxTree left = parse_additive();
    const Token& op = peek();
    SyntaxTree result;
    if (op.kind == TokenKind::kNot) {
      take();
      const Token& after_not = peek();
      if (after_not.kind == TokenKind::kIn) {
        take();
        result = make_binary(SyntaxKind::kIn, op, std::move(left), parse_additive());
      } else if (after_not.kind == TokenKind::kBetween) {
        take();
        result = parse_between_bounds(op, std::move(left));
      } else {
        fail_expected("IN or BETWEEN after 'NOT'");
      }
      result->negated = true;
      result->spelling = "NOT " + std::string(after_not.text);
    } else if (!is_comparison(op.kind)) {
      return left;
    } else {
      take();
      switch (op.kind) {
        case TokenKind::kIn:
          result = make_binary(SyntaxKind::kIn, op, std::move(left), parse_additive());
          break;
        case TokenKind::kContains:
          result = make_binary(SyntaxKind::kContains, op, std::move(left), parse_additive());
          break;
        case TokenKind::kHas:
          result = make_binary(SyntaxKind::kHas, op, std::move(left), parse_additive());
          break;
        case TokenKind::kBetween: result = parse_between_bounds(op, std::move(left)); break;
        default:
          result = make_binary(SyntaxKind::kCompare, op, std::move(left), parse_additive());
          result->compare = compare_op(op.kind);
          break;
      }
    }
    if (is_comparison(peek().kind) || peek().kind == TokenKind::kNot) {
      fail(peek().position,
           "comparisons do not chain: combine them with AND, e.g. "
           "'a <= b AND b <= c', or use BETWEEN; got " +
               describe(peek()));
    }
    return result;
  }

  SyntaxTree parse_between_bounds(const Token& op, SyntaxTree value) {
    auto node = make_node(SyntaxKind::kBetween, op);
    node->start = value->start;
    node->children.push_back(std::move(value));
    node->children.push_back(parse_additive());
    if (peek().kind != TokenKind::kAnd) fail_expected("AND after the lower bound of BETWEEN");
    take();
    node->children.push_back(parse_additive());
    return node;
  }

  SyntaxTree parse_additive() {
    SyntaxTree left = parse_multiplicative();
    while (peek().kind == TokenKind::kPlus || peek().kind == TokenKind::kMinus) {
      const Token& op = take();
      left = make_binary(SyntaxKind::kArithmetic, op, std::move(left), parse_multiplicative());
      left->arithmetic = op.kind == TokenKind::kPlus ? ArithmeticOp::kAdd : ArithmeticOp::kSubtract;
    }
    return left;
  }

  SyntaxTree parse_multiplicative() {
    SyntaxTree left = parse_unary();
    while (peek().kind == TokenKind::kStar || peek().kind == TokenKind::kSlash ||
           peek().kind == TokenKind::kPercent) {
      const Token& op = take();
      left = make_binary(SyntaxKind::kArithmetic, op, std::move(left), parse_unary());
      left->arithmetic = op.kind == TokenKind::kStar    ? ArithmeticOp::kMultiply
                         : op.kind == TokenKind::kSlash ? ArithmeticOp::kDivide
                                                        : ArithmeticOp::kRemainder;
    }
    return left;
  }

  SyntaxTree parse_unary() {
    NestingGuard guard(*this);
    if (peek().kind != TokenKind::kMinus) return parse_primary();
    const Token& op = take();
    auto node = make_node(SyntaxKind::kNegate, op);
    node->children.push_back(parse_unary());
    return node;
  }

  [[noreturn]] void fail_expected_operand() const {
    std::string message = "expected an operand";
    if (index_ > 0) message += " after '" + std::string(tokens_[index_ - 1].text) + "'";
    fail(peek().position, message + ", got " + describe(peek()));
  }

  SyntaxTree parse_primary() {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::kNumber:
      case TokenKind::kDuration:
      case TokenKind::kTimeOfDay: {
        take();
        auto node = make_node(token.kind == TokenKind::kNumber     ? SyntaxKind::kNumber
                              : token.kind == TokenKind::kDuration ? SyntaxKind::kDuration
                                                                   : SyntaxKind::kTimeOfDay,
                              token);
        node->number = token.number;
        return node;
      }
      case TokenKind::kString: {
        take();
        auto node = make_node(SyntaxKind::kString, token);
        node->text = token.string_value;
        return node;
      }
      case TokenKind::kTrue:
      case TokenKind::kFalse: {
        take();
        auto node = make_node(SyntaxKind::kBoolean, token);
        node->boolean = token.kind == TokenKind::kTrue;
        return node;
      }
      case TokenKind::kLeftParen: {
        take();
        SyntaxTree inner = parse_or();
        if (peek().kind != TokenKind::kRightParen) {
          fail_expected("')' to close the '(' at " + std::to_string(token.position.line) + ":" +
                        std::to_string(token.position.column));
        }
        take();
        inner->start = token.position;
        return inner;
      }
      case TokenKind::kLeftBracket: return parse_set();
      case TokenKind::kIdentifier:
        if (peek(1).kind == TokenKind::kLeftParen) return parse_call();
        return parse_path();
      default: fail_expected_operand();
    }
  }

  SyntaxTree parse_set() {
    auto node = make_node(SyntaxKind::kSet, take());
    if (peek().kind == TokenKind::kRightBracket) {
      take();
      return node;
    }
    while (true) {
      if (peek().kind != TokenKind::kString) fail_expected("a quoted string in the set");
      node->set_elements.push_back(take().string_value);
      if (peek().kind == TokenKind::kRightBracket) break;
      if (peek().kind != TokenKind::kComma) fail_expected("',' or ']' in the set");
      take();
    }
    take();
    return node;
  }

  SyntaxTree parse_call() {
    auto node = make_node(SyntaxKind::kCall, take());
    node->text = node->spelling;
    take();  // '('
    if (peek().kind == TokenKind::kRightParen) {
      take();
      return node;
    }
    while (true) {
      node->children.push_back(parse_or());
      if (peek().kind == TokenKind::kRightParen) break;
      if (peek().kind != TokenKind::kComma) {
        fail_expected("',' or ')' after the argument of " + node->text + "()");
      }
      take();
    }
    take();
    return node;
  }

  SyntaxTree parse_path() {
    const Token& first = take();
    auto node = make_node(SyntaxKind::kPath, first);
    node->segments.emplace_back(first.text);
    node->segment_positions.push_back(first.position);
    while (peek().kind == TokenKind::kDot) {
      take();
      const Token& segment = peek();
      if (segment.kind != TokenKind::kIdentifier && !is_keyword(segment.kind)) {
        fail_expected("a name after '" + node->spelling + ".'");
      }
      take();
      node->segments.emplace_back(segment.text);
      node->segment_positions.push_back(segment.position);
      node->spelling += "." + std::string(segment.text);
    }
    return node;
  }

  std::vector<Token> tokens_;
  std::size_t index_ = 0;
  int depth_ = 0;
};

}  // namespace

const char* to_string(CompareOp op) {
  switch (op) {
    case CompareOp::kEqual: return "=";
    case CompareOp::kNotEqual: return "!=";
    case CompareOp::kLess: return "<";
    case CompareOp::kLessEqual: return "<=";
    case CompareOp::kGreater: return ">";
    case CompareOp::kGreaterEqual: return ">=";
  }
  return "?";
}

const char* to_string(ArithmeticOp op) {
  switch (op) {
    case ArithmeticOp::kAdd: return "+";
    case ArithmeticOp::kSubtract: return "-";
    case ArithmeticOp::kMultiply: return "*";
    case ArithmeticOp::kDivide: return "/";
    case ArithmeticOp::kRemainder: return "%";
  }
  return "?";
}

Result<SyntaxTree> parse_expression(std::string_view source) {
  Result<std::vector<Token>> tokens = tokenize(source);
  if (!tokens) return tokens.error();
  try {
    return Parser(std::move(tokens.value())).parse_whole_expression();
  } catch (const ParseFailure& failure) {
    return failure.error;
  }
}

Result<std::vector<OrderTerm>> parse_order(std::string_view source) {
  Result<std::vector<Token>> tokens = tokenize(source);
  if (!tokens) return tokens.error();
  try {
    return Parser(std::move(tokens.value())).parse_whole_order();
  } catch (const ParseFailure& failure) {
    return failure.error;
  }
}

}  // namespace acd::rules
