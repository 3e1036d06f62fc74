#include "engine/rules/parser.h"

#include <catch2/catch.hpp>
#include <string>

#include "engine/rules/lexer.h"

namespace acd::rules {
namespace {

// The tree as an S-expression, to check structure and precedence.
std::string show(const SyntaxNode& node) {
  const auto children = [&] {
    std::string text;
    for (const auto& child : node.children) text += " " + show(*child);
    return text;
  };
  switch (node.kind) {
    case SyntaxKind::kNumber: return "num:" + node.spelling;
    case SyntaxKind::kString: return "str:" + node.text;
    case SyntaxKind::kBoolean: return node.boolean ? "true" : "false";
    case SyntaxKind::kDuration: return "ms:" + std::to_string(static_cast<long>(node.number));
    case SyntaxKind::kTimeOfDay: return "min:" + std::to_string(static_cast<int>(node.number));
    case SyntaxKind::kSet: {
      std::string text = "[";
      for (const auto& element : node.set_elements) text += (text.size() > 1 ? "," : "") + element;
      return text + "]";
    }
    case SyntaxKind::kPath: return node.spelling;
    case SyntaxKind::kCall: return "(" + node.text + "()" + children() + ")";
    case SyntaxKind::kNegate: return "(neg" + children() + ")";
    case SyntaxKind::kNot: return "(not" + children() + ")";
    case SyntaxKind::kAnd: return "(and" + children() + ")";
    case SyntaxKind::kOr: return "(or" + children() + ")";
    case SyntaxKind::kCompare: return std::string("(") + to_string(node.compare) + children() + ")";
    case SyntaxKind::kArithmetic:
      return std::string("(") + to_string(node.arithmetic) + children() + ")";
    case SyntaxKind::kIn: return std::string(node.negated ? "(notin" : "(in") + children() + ")";
    case SyntaxKind::kContains: return "(contains" + children() + ")";
    case SyntaxKind::kHas: return "(has" + children() + ")";
    case SyntaxKind::kBetween:
      return std::string(node.negated ? "(notbetween" : "(between") + children() + ")";
  }
  return "?";
}

std::string parsed(const std::string& text) {
  Result<SyntaxTree> tree = parse_expression(text);
  if (!tree) return "error " + tree.error().to_string();
  return show(*tree.value());
}

TEST_CASE("Literals of every kind", "[rules][parser]") {
  CHECK(parsed("3") == "num:3");
  CHECK(parsed("2.5") == "num:2.5");
  CHECK(parsed("'it\\'s'") == "str:it's");
  CHECK(parsed("\"say \\\"hi\\\"\\\\\"") == "str:say \"hi\"\\");
  CHECK(parsed("'a\\nb\\tc'") == "str:a\nb\tc");
  CHECK(parsed("TRUE") == "true");
  CHECK(parsed("false") == "false");
  CHECK(parsed("30s") == "ms:30000");
  CHECK(parsed("5m") == "ms:300000");
  CHECK(parsed("2h") == "ms:7200000");
  CHECK(parsed("1500ms") == "ms:1500");
  CHECK(parsed("1m30s") == "ms:90000");
  CHECK(parsed("1h2m3s4ms") == "ms:3723004");
  CHECK(parsed("09:00") == "min:540");
  CHECK(parsed("17:30") == "min:1050");
  CHECK(parsed("0:05") == "min:5");
  CHECK(parsed("23:59") == "min:1439");
  CHECK(parsed("['en', \"fr\"]") == "[en,fr]");
  CHECK(parsed("[]") == "[]");
}

TEST_CASE("Paths and calls", "[rules][parser]") {
  CHECK(parsed("task.language") == "task.language");
  CHECK(parsed("agent . skill . billing") == "agent.skill.billing");
  CHECK(parsed("task.attr.order") == "task.attr.order");  // a keyword after a dot is a name
  CHECK(parsed("open('business-hours')") == "(open() str:business-hours)");
  CHECK(parsed("lower(task.language)") == "(lower() task.language)");
  CHECK(parsed("f()") == "(f())");
}

TEST_CASE("Precedence: OR < AND < NOT < comparison < additive < multiplicative < unary",
          "[rules][parser]") {
  CHECK(parsed("a OR b AND c") == "(or a (and b c))");
  CHECK(parsed("a AND b OR c") == "(or (and a b) c)");
  CHECK(parsed("NOT a AND b") == "(and (not a) b)");
  CHECK(parsed("NOT NOT a") == "(not (not a))");
  CHECK(parsed("NOT a = b") == "(not (= a b))");
  CHECK(parsed("a + b * c = d") == "(= (+ a (* b c)) d)");
  CHECK(parsed("a - b - c") == "(- (- a b) c)");
  CHECK(parsed("a / b % c") == "(% (/ a b) c)");
  CHECK(parsed("-a * b") == "(* (neg a) b)");
  CHECK(parsed("- - 3") == "(neg (neg num:3))");
  CHECK(parsed("(a OR b) AND c") == "(and (or a b) c)");
  CHECK(parsed("a and b or not c") == "(or (and a b) (not c))");
}

TEST_CASE("Every comparison form", "[rules][parser]") {
  CHECK(parsed("a = 1") == "(= a num:1)");
  CHECK(parsed("a != 1") == "(!= a num:1)");
  CHECK(parsed("a < 1") == "(< a num:1)");
  CHECK(parsed("a <= 1") == "(<= a num:1)");
  CHECK(parsed("a > 1") == "(> a num:1)");
  CHECK(parsed("a >= 1") == "(>= a num:1)");
  CHECK(parsed("a IN ['x']") == "(in a [x])");
  CHECK(parsed("a not in ['x']") == "(notin a [x])");
  CHECK(parsed("a CONTAINS 'x'") == "(contains a str:x)");
  CHECK(parsed("a HAS b") == "(has a b)");
  CHECK(parsed("a BETWEEN 1 AND 2 + 3") == "(between a num:1 (+ num:2 num:3))");
  CHECK(parsed("a NOT BETWEEN 1 AND 2 AND c") == "(and (notbetween a num:1 num:2) c)");
}

TEST_CASE("Positions are 1-based lines and columns", "[rules][parser]") {
  Result<std::vector<Token>> tokens = tokenize("a\n  AND 'x'");
  REQUIRE(tokens);
  const std::vector<Token>& list = tokens.value();
  REQUIRE(list.size() == 4);
  CHECK(list[0].position.line == 1);
  CHECK(list[0].position.column == 1);
  CHECK(list[1].kind == TokenKind::kAnd);
  CHECK(list[1].position.line == 2);
  CHECK(list[1].position.column == 3);
  CHECK(list[2].kind == TokenKind::kString);
  CHECK(list[2].position.column == 7);
  CHECK(list[3].kind == TokenKind::kEnd);
  CHECK(list[3].position.column == 10);
}

TEST_CASE("tokenize_prefix keeps the tokens before a lexical error", "[rules][parser]") {
  const std::vector<Token> whole = tokenize_prefix("a.b = 'x'");
  REQUIRE(whole.size() == 6);  // a . b = 'x' and the closing kEnd
  CHECK(whole.back().kind == TokenKind::kEnd);

  const std::vector<Token> cut = tokenize_prefix("a = 1 AND b == 2 AND c");
  REQUIRE(cut.size() == 5);  // up to 'b'; '==' is the error, and no kEnd follows
  CHECK(cut[3].kind == TokenKind::kAnd);
  CHECK(cut[4].text == "b");

  CHECK(tokenize_prefix("'unterminated").empty());
}

TEST_CASE("ORDER BY terms", "[rules][parser]") {
  Result<std::vector<OrderTerm>> terms =
      parse_order("ORDER BY agent.skill.billing DESC, agent.idle");
  REQUIRE(terms);
  REQUIRE(terms.value().size() == 2);
  CHECK(show(*terms.value()[0].expression) == "agent.skill.billing");
  CHECK(terms.value()[0].descending);
  CHECK(show(*terms.value()[1].expression) == "agent.idle");
  CHECK_FALSE(terms.value()[1].descending);
  Result<std::vector<OrderTerm>> bare = parse_order("agent.tasks asc");
  REQUIRE(bare);
  CHECK_FALSE(bare.value()[0].descending);
}

}  // namespace
}  // namespace acd::rules
