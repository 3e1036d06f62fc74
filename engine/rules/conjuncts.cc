// compile_conjuncts (compiler.h): a condition's top-level AND terms, each as written.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/rules/compiler.h"
#include "engine/rules/parser.h"

namespace acd::rules {

namespace {

// The byte offset of a 1-based line and column in `text`.
std::size_t offset_of(std::string_view text, Position position) {
  std::size_t offset = 0;
  for (int line = 1; line < position.line && offset < text.size(); ++offset)
    if (text[offset] == '\n') ++line;
  return std::min(text.size(), offset + static_cast<std::size_t>(position.column - 1));
}

// Leaves of the AND chain rooted at `node` (their first tokens) and the AND operators
// between them, left to right.
void flatten(const SyntaxNode& node, std::vector<Position>& starts, std::vector<Position>& ands) {
  if (node.kind != SyntaxKind::kAnd) {
    starts.push_back(node.start);
    return;
  }
  flatten(*node.children[0], starts, ands);
  ands.push_back(node.position);
  flatten(*node.children[1], starts, ands);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Drops closing parentheses that close a group opened before the term (a term's first
// token follows any opening parenthesis, so only closing ones can be unbalanced). Quotes
// are skipped: a parenthesis inside a string literal does not count.
std::string_view balance(std::string_view term) {
  for (;;) {
    int depth = 0;
    char quote = 0;
    for (std::size_t i = 0; i < term.size(); ++i) {
      const char c = term[i];
      if (quote != 0) {
        if (c == '\\')
          ++i;
        else if (c == quote)
          quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        --depth;
      }
    }
    if (depth >= 0 || term.empty() || term.back() != ')') return term;
    term = trim(term.substr(0, term.size() - 1));
  }
}

}  // namespace

Result<std::vector<Conjunct>> compile_conjuncts(std::string_view text, const Schema& schema) {
  auto whole = compile(text, schema);
  if (!whole) return whole.error();
  auto tree = parse_expression(text);
  if (!tree) return tree.error();
  std::vector<Position> starts;
  std::vector<Position> ands;
  flatten(*tree.value(), starts, ands);
  std::vector<Conjunct> out;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::size_t from = offset_of(text, starts[i]);
    const std::size_t to = i < ands.size() ? offset_of(text, ands[i]) : text.size();
    const std::string_view term = balance(trim(text.substr(from, to - from)));
    auto condition = compile(term, schema);
    if (!condition) {  // not expected; explain with the whole condition rather than fail
      out.clear();
      out.push_back(Conjunct{std::string(trim(text)), whole.value()});
      return out;
    }
    out.push_back(Conjunct{std::string(term), std::move(condition.value())});
  }
  return out;
}

}  // namespace acd::rules
