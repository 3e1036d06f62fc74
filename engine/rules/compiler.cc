#include "engine/rules/compiler.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "engine/rules/lexer.h"
#include "engine/rules/parser.h"
#include "engine/rules/spelling.h"

namespace acd::rules {

const char* type_name(Type type) {
  switch (type) {
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kBoolean: return "boolean";
    case Type::kStringSet: return "set";
    case Type::kDuration: return "duration";
    case Type::kTimeOfDay: return "time of day";
  }
  return "?";
}

std::string CompileError::to_string() const {
  return std::to_string(position.line) + ":" + std::to_string(position.column) + ": " + message;
}

namespace detail {

// One typed node of the compiled tree. Children are indices into Program::nodes. Numbers,
// durations (ms) and times of day (minutes) all evaluate to double.
enum class Op : std::uint8_t {
  // Boolean results.
  kBooleanConstant,
  kNot,
  kAnd,
  kOr,
  kCompareNumbers,   // compare(a, b), both numeric (number, duration or time of day)
  kCompareStrings,   // compare(a, b)
  kCompareBooleans,  // compare(a, b): = or !=
  kIn,               // string a in set b (negated: NOT IN)
  kStringContains,   // string a contains string b
  kSetHas,           // set a has string b (HAS, and CONTAINS on a set)
  kBetween,          // a in [b, c] (negated: NOT BETWEEN)
  kBetweenTimes,     // as kBetween, wrapping past midnight when b > c
  kCalendarOpen,     // slot a
  kCalendarHoliday,  // slot a
  // Numeric results.
  kNumberConstant,
  kNegate,
  kArithmetic,  // arithmetic(a, b)
  kTaskVip,
  kTaskPriority,
  kTaskWaited,
  kAgentSkill,  // slot a
  kAgentIdle,
  kAgentTasks,
  kAgentTier,
  kAgentPenalty,
  kQueueWaiting,  // slot a, and the same for the other queue figures
  kQueueReady,
  kQueueLongestWait,
  kQueueEstimatedWait,
  kQueueServiceLevel,
  kNowTime,
  kNumberOf,  // number(string a)
  // String results.
  kStringConstant,
  kTaskCaller,
  kTaskDialled,
  kTaskLanguage,
  kTaskChannel,
  kTaskIvr,   // slot a
  kTaskAttr,  // slot a
  kAgentName,
  kAgentTeam,
  kAgentAttr,  // slot a
  kNowWeekday,
  kLower,  // lower(string a)
  // Set results.
  kSetConstant,  // set_elements[a .. a + b)
  kAgentLanguages,
};

struct Node {
  Op op = Op::kBooleanConstant;
  CompareOp compare = CompareOp::kEqual;
  ArithmeticOp arithmetic = ArithmeticOp::kAdd;
  bool flag = false;  // boolean constant value, or negation for IN / BETWEEN
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint32_t c = 0;
  double number = 0;
  std::string_view text;  // string constant, pointing into Program::strings
};

struct Program {
  Type type = Type::kBoolean;
  std::uint32_t root = 0;
  Reads reads;  // computed once the tree is complete
  std::vector<Node> nodes;
  std::vector<std::string_view> set_elements;
  std::deque<std::string> strings;  // a deque: views into its elements stay valid as it grows
};

}  // namespace detail

namespace {

using detail::Node;
using detail::Op;
using detail::Program;

constexpr std::string_view kWeekdays[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// ---------------------------------------------------------------------------------------
// Evaluation.

// A string during evaluation: a view, plus whether lower() applies to it. lower() only sets
// the flag, so that it never allocates; comparisons fold ASCII letters of flagged sides.
struct Text {
  std::string_view view;
  bool lowered = false;
};

inline char fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
inline unsigned char char_at(Text text, std::size_t i) {
  return static_cast<unsigned char>(text.lowered ? fold(text.view[i]) : text.view[i]);
}

bool texts_equal(Text a, Text b) {
  if (a.view.size() != b.view.size()) return false;
  if (!a.lowered && !b.lowered) return a.view == b.view;
  for (std::size_t i = 0; i < a.view.size(); ++i) {
    if (char_at(a, i) != char_at(b, i)) return false;
  }
  return true;
}

int compare_texts(Text a, Text b) {
  const std::size_t common = std::min(a.view.size(), b.view.size());
  for (std::size_t i = 0; i < common; ++i) {
    const unsigned char x = char_at(a, i);
    const unsigned char y = char_at(b, i);
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.view.size() == b.view.size()) return 0;
  return a.view.size() < b.view.size() ? -1 : 1;
}

bool text_contains(Text haystack, Text needle) {
  if (needle.view.size() > haystack.view.size()) return false;
  for (std::size_t start = 0; start + needle.view.size() <= haystack.view.size(); ++start) {
    std::size_t i = 0;
    while (i < needle.view.size() && char_at(haystack, start + i) == char_at(needle, i)) ++i;
    if (i == needle.view.size()) return true;
  }
  return false;
}

bool set_has(std::span<const std::string_view> set, Text element) {
  for (std::string_view member : set) {
    if (texts_equal(Text{member, false}, element)) return true;
  }
  return false;
}

// number(): an optional sign, digits, and optionally '.' and more digits; anything else
// (including empty text and values out of double's range) is 0.
double parse_number_or_zero(std::string_view text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const std::size_t digits_start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == digits_start) return 0;
  if (i < text.size() && text[i] == '.') {
    const std::size_t fraction_start = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == fraction_start) return 0;
  }
  if (i != text.size()) return 0;
  const std::size_t from = text[0] == '+' ? 1 : 0;
  double value = 0;
  const auto parsed = std::from_chars(text.data() + from, text.data() + text.size(), value);
  return parsed.ec == std::errc() && std::isfinite(value) ? value : 0;
}

bool compare_result(CompareOp op, int order) {
  switch (op) {
    case CompareOp::kEqual: return order == 0;
    case CompareOp::kNotEqual: return order != 0;
    case CompareOp::kLess: return order < 0;
    case CompareOp::kLessEqual: return order <= 0;
    case CompareOp::kGreater: return order > 0;
    case CompareOp::kGreaterEqual: return order >= 0;
  }
  return false;
}

bool compare_numbers(CompareOp op, double x, double y) {
  switch (op) {
    case CompareOp::kEqual: return x == y;
    case CompareOp::kNotEqual: return x != y;
    case CompareOp::kLess: return x < y;
    case CompareOp::kLessEqual: return x <= y;
    case CompareOp::kGreater: return x > y;
    case CompareOp::kGreaterEqual: return x >= y;
  }
  return false;
}

// Division or remainder by zero gives 0, and so does any result that is not finite: rules
// never see NaN or infinity.
double apply_arithmetic(ArithmeticOp op, double x, double y) {
  double result = 0;
  switch (op) {
    case ArithmeticOp::kAdd: result = x + y; break;
    case ArithmeticOp::kSubtract: result = x - y; break;
    case ArithmeticOp::kMultiply: result = x * y; break;
    case ArithmeticOp::kDivide: result = y == 0 ? 0 : x / y; break;
    case ArithmeticOp::kRemainder: result = y == 0 ? 0 : std::fmod(x, y); break;
  }
  return std::isfinite(result) ? result : 0;
}

template <class T>
T slot_or(std::span<const T> values, std::uint32_t slot, T absent) {
  return slot < values.size() ? values[slot] : absent;
}

class Evaluator {
 public:
  Evaluator(const Node* nodes, std::span<const std::string_view> set_elements,
            const EvalContext& context)
      : nodes_(nodes), set_elements_(set_elements), context_(context) {}

  bool boolean(std::uint32_t index) const {
    const Node& node = nodes_[index];
    switch (node.op) {
      case Op::kBooleanConstant: return node.flag;
      case Op::kNot: return !boolean(node.a);
      case Op::kAnd: return boolean(node.a) && boolean(node.b);
      case Op::kOr: return boolean(node.a) || boolean(node.b);
      case Op::kCompareNumbers:
        return compare_numbers(node.compare, number(node.a), number(node.b));
      case Op::kCompareStrings:
        if (node.compare == CompareOp::kEqual) return texts_equal(text(node.a), text(node.b));
        if (node.compare == CompareOp::kNotEqual) return !texts_equal(text(node.a), text(node.b));
        return compare_result(node.compare, compare_texts(text(node.a), text(node.b)));
      case Op::kCompareBooleans:
        return (boolean(node.a) == boolean(node.b)) == (node.compare == CompareOp::kEqual);
      case Op::kIn: return set_has(set(node.b), text(node.a)) != node.flag;
      case Op::kStringContains: return text_contains(text(node.a), text(node.b));
      case Op::kSetHas: return set_has(set(node.a), text(node.b));
      case Op::kBetween: {
        const double value = number(node.a);
        return (number(node.b) <= value && value <= number(node.c)) != node.flag;
      }
      case Op::kBetweenTimes: {
        const double value = number(node.a);
        const double low = number(node.b);
        const double high = number(node.c);
        const bool inside =
            low <= high ? low <= value && value <= high : value >= low || value <= high;
        return inside != node.flag;
      }
      case Op::kCalendarOpen: return slot_or(context_.calendars, node.a, CalendarState{}).open;
      case Op::kCalendarHoliday:
        return slot_or(context_.calendars, node.a, CalendarState{}).holiday;
      default: return false;  // not a boolean node; the compiler never builds this
    }
  }

  double number(std::uint32_t index) const {
    const Node& node = nodes_[index];
    switch (node.op) {
      case Op::kNumberConstant: return node.number;
      case Op::kNegate: return -number(node.a);
      case Op::kArithmetic:
        return apply_arithmetic(node.arithmetic, number(node.a), number(node.b));
      case Op::kTaskVip: return context_.task->vip;
      case Op::kTaskPriority: return context_.task->priority;
      case Op::kTaskWaited: return static_cast<double>(context_.task->waited_ms);
      case Op::kAgentSkill:
        return slot_or(context_.agent->skills, node.a, static_cast<std::uint8_t>(0));
      case Op::kAgentIdle: return static_cast<double>(context_.agent->idle_ms);
      case Op::kAgentTasks: return context_.agent->tasks;
      case Op::kAgentTier: return context_.agent->tier;
      case Op::kAgentPenalty: return context_.agent->penalty;
      case Op::kQueueWaiting: return queue(node.a).waiting;
      case Op::kQueueReady: return queue(node.a).ready;
      case Op::kQueueLongestWait: return static_cast<double>(queue(node.a).longest_wait_ms);
      case Op::kQueueEstimatedWait: return static_cast<double>(queue(node.a).estimated_wait_ms);
      case Op::kQueueServiceLevel: return queue(node.a).service_level;
      case Op::kNowTime: return context_.time_of_day_minutes;
      case Op::kNumberOf: return parse_number_or_zero(text(node.a).view);
      default: return 0;  // not a numeric node; the compiler never builds this
    }
  }

  Text text(std::uint32_t index) const {
    const Node& node = nodes_[index];
    const std::string_view empty;
    switch (node.op) {
      case Op::kStringConstant: return {node.text};
      case Op::kTaskCaller: return {context_.task->caller};
      case Op::kTaskDialled: return {context_.task->dialled};
      case Op::kTaskLanguage: return {context_.task->language};
      case Op::kTaskChannel: return {context_.task->channel};
      case Op::kTaskIvr: return {slot_or(context_.task->ivr, node.a, empty)};
      case Op::kTaskAttr: return {slot_or(context_.task->attributes, node.a, empty)};
      case Op::kAgentName: return {context_.agent->name};
      case Op::kAgentTeam: return {context_.agent->team};
      case Op::kAgentAttr: return {slot_or(context_.agent->attributes, node.a, empty)};
      case Op::kNowWeekday:
        return {context_.weekday >= 0 && context_.weekday < 7 ? kWeekdays[context_.weekday]
                                                              : empty};
      case Op::kLower: return {text(node.a).view, true};
      default: return {};  // not a string node; the compiler never builds this
    }
  }

  std::span<const std::string_view> set(std::uint32_t index) const {
    const Node& node = nodes_[index];
    if (node.op == Op::kSetConstant) return set_elements_.subspan(node.a, node.b);
    if (node.op == Op::kAgentLanguages) return context_.agent->languages;
    return {};  // not a set node; the compiler never builds this
  }

 private:
  QueueFigures queue(std::uint32_t slot) const {
    return slot_or(context_.queues, slot, QueueFigures{});
  }

  const Node* nodes_;
  std::span<const std::string_view> set_elements_;
  const EvalContext& context_;
};

// ---------------------------------------------------------------------------------------
// Compilation.

struct CompileFailure {
  CompileError error;
};

[[noreturn]] void fail(Position position, std::string message) {
  throw CompileFailure{CompileError{position, std::move(message)}};
}

bool is_numeric(Type type) {
  return type == Type::kNumber || type == Type::kDuration || type == Type::kTimeOfDay;
}

std::string lowercase(std::string_view text) {
  std::string result(text);
  for (char& c : result) c = fold(c);
  return result;
}

std::string format_number(double value) {
  char buffer[32];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, written.ptr);
}

// A hint for a number literal written where a duration or a time of day was meant.
std::string literal_hint(Type wanted, const SyntaxNode& literal) {
  if (literal.kind != SyntaxKind::kNumber) return "";
  const double value = literal.number;
  const bool whole = value == std::floor(value) && value >= 0 && value < 1e9;
  if (wanted == Type::kDuration) {
    return whole ? " (write " + format_number(value) + "s, not " + literal.spelling + ")"
                 : " (write a duration such as 30s, 5m or 1500ms)";
  }
  if (wanted == Type::kTimeOfDay) {
    if (whole && value < 24) {
      const int hour = static_cast<int>(value);
      return std::string(" (write ") + (hour < 10 ? "0" : "") + std::to_string(hour) + ":00, not " +
             literal.spelling + ")";
    }
    return " (write a time of day such as 09:00)";
  }
  return "";
}

// The hint for two mismatched operands, whichever side the number literal is on.
std::string mismatch_hint(Type left, const SyntaxNode& left_node, Type right,
                          const SyntaxNode& right_node) {
  if (right == Type::kNumber) return literal_hint(left, right_node);
  if (left == Type::kNumber) return literal_hint(right, left_node);
  return "";
}

struct Compiled {
  std::uint32_t node;
  Type type;
};

// The names a path may use after its root, with their types and operations.
struct Field {
  std::string_view name;
  Type type;
  Op op;
};

constexpr Field kTaskFields[] = {
    {"caller", Type::kString, Op::kTaskCaller},     {"dialled", Type::kString, Op::kTaskDialled},
    {"language", Type::kString, Op::kTaskLanguage}, {"channel", Type::kString, Op::kTaskChannel},
    {"vip", Type::kNumber, Op::kTaskVip},           {"priority", Type::kNumber, Op::kTaskPriority},
    {"waited", Type::kDuration, Op::kTaskWaited},   {"ivr", Type::kString, Op::kTaskIvr},
    {"attr", Type::kString, Op::kTaskAttr},
};
constexpr Field kAgentFields[] = {
    {"skill", Type::kNumber, Op::kAgentSkill},
    {"team", Type::kString, Op::kAgentTeam},
    {"languages", Type::kStringSet, Op::kAgentLanguages},
    {"name", Type::kString, Op::kAgentName},
    {"idle", Type::kDuration, Op::kAgentIdle},
    {"tasks", Type::kNumber, Op::kAgentTasks},
    {"tier", Type::kNumber, Op::kAgentTier},
    {"penalty", Type::kNumber, Op::kAgentPenalty},
    {"attr", Type::kString, Op::kAgentAttr},
};
constexpr Field kQueueFields[] = {
    {"waiting", Type::kNumber, Op::kQueueWaiting},
    {"ready", Type::kNumber, Op::kQueueReady},
    {"longest_wait", Type::kDuration, Op::kQueueLongestWait},
    {"estimated_wait", Type::kDuration, Op::kQueueEstimatedWait},
    {"sl", Type::kNumber, Op::kQueueServiceLevel},
};
constexpr Field kNowFields[] = {
    {"time", Type::kTimeOfDay, Op::kNowTime},
    {"weekday", Type::kString, Op::kNowWeekday},
};

template <std::size_t N>
std::vector<std::string> field_names(const Field (&fields)[N]) {
  std::vector<std::string> names;
  for (const Field& field : fields) names.emplace_back(field.name);
  return names;
}

template <std::size_t N>
const Field& find_field(const Field (&fields)[N], const SyntaxNode& path, std::size_t segment,
                        std::string_view owner) {
  for (const Field& field : fields) {
    if (field.name == path.segments[segment]) return field;
  }
  fail(path.segment_positions[segment],
       "unknown field '" + path.segments[segment] + "' of " + std::string(owner) +
           did_you_mean(path.segments[segment], field_names(fields)));
}

class Compiler {
 public:
  Compiler(const Schema& schema, Program& program) : schema_(schema), program_(program) {}

  Compiled compile(const SyntaxNode& syntax) {
    switch (syntax.kind) {
      case SyntaxKind::kNumber: return constant_number(syntax.number, Type::kNumber);
      case SyntaxKind::kDuration: return constant_number(syntax.number, Type::kDuration);
      case SyntaxKind::kTimeOfDay: return constant_number(syntax.number, Type::kTimeOfDay);
      case SyntaxKind::kString: {
        Node node{.op = Op::kStringConstant};
        node.text = keep(syntax.text);
        return {emit(node), Type::kString};
      }
      case SyntaxKind::kBoolean:
        return {emit(Node{.op = Op::kBooleanConstant, .flag = syntax.boolean}), Type::kBoolean};
      case SyntaxKind::kSet: {
        Node node{.op = Op::kSetConstant};
        node.a = static_cast<std::uint32_t>(program_.set_elements.size());
        node.b = static_cast<std::uint32_t>(syntax.set_elements.size());
        for (const std::string& element : syntax.set_elements) {
          program_.set_elements.push_back(keep(element));
        }
        return {emit(node), Type::kStringSet};
      }
      case SyntaxKind::kPath: return compile_path(syntax);
      case SyntaxKind::kCall: return compile_call(syntax);
      case SyntaxKind::kNegate: {
        const Compiled operand = compile(*syntax.children[0]);
        if (operand.type != Type::kNumber && operand.type != Type::kDuration) {
          fail(syntax.position, std::string("cannot negate a ") + type_name(operand.type) +
                                    ": '-' applies to numbers and durations");
        }
        return {emit(Node{.op = Op::kNegate, .a = operand.node}), operand.type};
      }
      case SyntaxKind::kNot: {
        const Compiled operand = compile(*syntax.children[0]);
        require_boolean(operand, syntax, "");
        return {emit(Node{.op = Op::kNot, .a = operand.node}), Type::kBoolean};
      }
      case SyntaxKind::kAnd:
      case SyntaxKind::kOr: {
        const Compiled left = compile(*syntax.children[0]);
        require_boolean(left, syntax, " on the left");
        const Compiled right = compile(*syntax.children[1]);
        require_boolean(right, syntax, " on the right");
        const Op op = syntax.kind == SyntaxKind::kAnd ? Op::kAnd : Op::kOr;
        return {emit(Node{.op = op, .a = left.node, .b = right.node}), Type::kBoolean};
      }
      case SyntaxKind::kCompare: return compile_compare(syntax);
      case SyntaxKind::kArithmetic: return compile_arithmetic(syntax);
      case SyntaxKind::kIn: {
        const Compiled element = compile(*syntax.children[0]);
        const Compiled set = compile(*syntax.children[1]);
        require_type(element, Type::kString, syntax, "on the left");
        if (set.type != Type::kStringSet) {
          fail(syntax.position, "'" + syntax.spelling +
                                    "' needs a set on the right, e.g. ['en', 'fr'], got " +
                                    type_name(set.type));
        }
        return {emit(Node{.op = Op::kIn, .flag = syntax.negated, .a = element.node, .b = set.node}),
                Type::kBoolean};
      }
      case SyntaxKind::kContains: {
        const Compiled container = compile(*syntax.children[0]);
        const Compiled element = compile(*syntax.children[1]);
        if (container.type != Type::kString && container.type != Type::kStringSet) {
          fail(syntax.position,
               std::string("'CONTAINS' needs a string or a set on the left, got ") +
                   type_name(container.type));
        }
        require_type(element, Type::kString, syntax, "on the right");
        const Op op = container.type == Type::kString ? Op::kStringContains : Op::kSetHas;
        return {emit(Node{.op = op, .a = container.node, .b = element.node}), Type::kBoolean};
      }
      case SyntaxKind::kHas: {
        const Compiled set = compile(*syntax.children[0]);
        const Compiled element = compile(*syntax.children[1]);
        require_type(set, Type::kStringSet, syntax, "on the left");
        require_type(element, Type::kString, syntax, "on the right");
        return {emit(Node{.op = Op::kSetHas, .a = set.node, .b = element.node}), Type::kBoolean};
      }
      case SyntaxKind::kBetween: return compile_between(syntax);
    }
    fail(syntax.position, "unsupported construct");
  }

 private:
  std::uint32_t emit(const Node& node) {
    program_.nodes.push_back(node);
    return static_cast<std::uint32_t>(program_.nodes.size() - 1);
  }
  std::string_view keep(const std::string& text) { return program_.strings.emplace_back(text); }

  Compiled constant_number(double value, Type type) {
    return {emit(Node{.op = Op::kNumberConstant, .number = value}), type};
  }

  void require_boolean(const Compiled& operand, const SyntaxNode& syntax, const char* side) {
    if (operand.type == Type::kBoolean) return;
    fail(syntax.position, "'" + syntax.spelling + "' needs true or false" + side + ", got " +
                              type_name(operand.type));
  }

  void require_type(const Compiled& operand, Type type, const SyntaxNode& syntax,
                    const char* side) {
    if (operand.type == type) return;
    fail(syntax.position, "'" + syntax.spelling + "' needs a " + type_name(type) + " " + side +
                              ", got " + type_name(operand.type));
  }

  Compiled compile_compare(const SyntaxNode& syntax) {
    const SyntaxNode& left_syntax = *syntax.children[0];
    const SyntaxNode& right_syntax = *syntax.children[1];
    const Compiled left = compile(left_syntax);
    const Compiled right = compile(right_syntax);
    if (left.type != right.type) {
      fail(syntax.position, std::string("cannot compare ") + type_name(left.type) + " with " +
                                type_name(right.type) +
                                mismatch_hint(left.type, left_syntax, right.type, right_syntax));
    }
    const bool equality =
        syntax.compare == CompareOp::kEqual || syntax.compare == CompareOp::kNotEqual;
    Node node{.compare = syntax.compare, .a = left.node, .b = right.node};
    switch (left.type) {
      case Type::kNumber:
      case Type::kDuration:
      case Type::kTimeOfDay: node.op = Op::kCompareNumbers; break;
      case Type::kString: node.op = Op::kCompareStrings; break;
      case Type::kBoolean:
        if (!equality) {
          fail(syntax.position, std::string("cannot order booleans with '") +
                                    to_string(syntax.compare) + "': only = and != apply");
        }
        node.op = Op::kCompareBooleans;
        break;
      case Type::kStringSet:
        fail(syntax.position, std::string("cannot compare sets with '") +
                                  to_string(syntax.compare) + "': use HAS, CONTAINS or IN");
    }
    return {emit(node), Type::kBoolean};
  }

  Compiled compile_arithmetic(const SyntaxNode& syntax) {
    const SyntaxNode& left_syntax = *syntax.children[0];
    const SyntaxNode& right_syntax = *syntax.children[1];
    const Compiled left = compile(left_syntax);
    const Compiled right = compile(right_syntax);
    const ArithmeticOp op = syntax.arithmetic;
    const Type l = left.type;
    const Type r = right.type;
    std::optional<Type> result;
    if (l == Type::kNumber && r == Type::kNumber) {
      result = Type::kNumber;
    } else if (l == Type::kDuration && r == Type::kDuration) {
      if (op == ArithmeticOp::kDivide) result = Type::kNumber;  // a ratio
      if (op != ArithmeticOp::kMultiply && op != ArithmeticOp::kDivide) result = Type::kDuration;
    } else if (l == Type::kDuration && r == Type::kNumber) {
      if (op == ArithmeticOp::kMultiply || op == ArithmeticOp::kDivide) result = Type::kDuration;
    } else if (l == Type::kNumber && r == Type::kDuration) {
      if (op == ArithmeticOp::kMultiply) result = Type::kDuration;
    }
    if (!result) {
      const bool additive = op == ArithmeticOp::kAdd || op == ArithmeticOp::kSubtract ||
                            op == ArithmeticOp::kRemainder;
      fail(syntax.position, std::string("cannot apply '") + to_string(op) + "' to " + type_name(l) +
                                " and " + type_name(r) +
                                (additive ? mismatch_hint(l, left_syntax, r, right_syntax) : ""));
    }
    Node node{.op = Op::kArithmetic, .arithmetic = op, .a = left.node, .b = right.node};
    return {emit(node), *result};
  }

  Compiled compile_between(const SyntaxNode& syntax) {
    const Compiled value = compile(*syntax.children[0]);
    const Compiled low = compile(*syntax.children[1]);
    const Compiled high = compile(*syntax.children[2]);
    if (!is_numeric(value.type)) {
      fail(syntax.position, std::string("BETWEEN needs a number, duration or time of day, got ") +
                                type_name(value.type));
    }
    for (const auto& [bound, bound_syntax] :
         {std::pair{low, syntax.children[1].get()}, std::pair{high, syntax.children[2].get()}}) {
      if (bound.type != value.type) {
        fail(bound_syntax->start,
             std::string("cannot compare ") + type_name(value.type) + " with " +
                 type_name(bound.type) +
                 mismatch_hint(value.type, *syntax.children[0], bound.type, *bound_syntax));
      }
    }
    const Op op = value.type == Type::kTimeOfDay ? Op::kBetweenTimes : Op::kBetween;
    Node node{.op = op, .flag = syntax.negated, .a = value.node, .b = low.node, .c = high.node};
    return {emit(node), Type::kBoolean};
  }

  std::uint32_t resolve_name(const SyntaxNode& path, std::size_t segment,
                             const std::vector<std::string>& names, const char* what) {
    const auto found = std::find(names.begin(), names.end(), path.segments[segment]);
    if (found == names.end()) {
      fail(path.segment_positions[segment], std::string("unknown ") + what + " '" +
                                                path.segments[segment] + "'" +
                                                did_you_mean(path.segments[segment], names));
    }
    return static_cast<std::uint32_t>(found - names.begin());
  }

  // The prefix of a path up to and including segment `last`, e.g. "agent.skill".
  static std::string prefix(const SyntaxNode& path, std::size_t last) {
    std::string text = path.segments[0];
    for (std::size_t i = 1; i <= last; ++i) text += "." + path.segments[i];
    return text;
  }

  // Requires a segment after `last`; `what` describes it, e.g. "a skill name".
  static void require_segment(const SyntaxNode& path, std::size_t last, const char* what,
                              const char* example) {
    if (path.segments.size() > last + 1) return;
    fail(path.segment_positions[last], "'" + prefix(path, last) + "' is incomplete: expected " +
                                           what + " after it, e.g. " + example);
  }

  // Refuses segments after `last`.
  static void require_end(const SyntaxNode& path, std::size_t last) {
    if (path.segments.size() == last + 1) return;
    fail(path.segment_positions[last + 1],
         "'" + prefix(path, last) + "' has no field '" + path.segments[last + 1] + "'");
  }

  Compiled compile_path(const SyntaxNode& path) {
    const std::string& root = path.segments[0];
    Node node;
    Type type = Type::kNumber;
    if (root == "task") {
      require_segment(path, 0, "a field", "task.language");
      const Field& field = find_field(kTaskFields, path, 1, "task");
      node.op = field.op;
      type = field.type;
      if (field.op == Op::kTaskIvr) {
        require_segment(path, 1, "an IVR key", "task.ivr.menu");
        node.a = resolve_name(path, 2, schema_.ivr_keys, "IVR key");
        require_end(path, 2);
      } else if (field.op == Op::kTaskAttr) {
        require_segment(path, 1, "an attribute key", "task.attr.segment");
        node.a = resolve_name(path, 2, schema_.task_attributes, "task attribute");
        require_end(path, 2);
      } else {
        require_end(path, 1);
      }
    } else if (root == "agent") {
      require_segment(path, 0, "a field", "agent.team");
      const Field& field = find_field(kAgentFields, path, 1, "agent");
      node.op = field.op;
      type = field.type;
      if (field.op == Op::kAgentSkill) {
        require_segment(path, 1, "a skill name", "agent.skill.billing");
        node.a = resolve_name(path, 2, schema_.skills, "skill");
        require_end(path, 2);
      } else if (field.op == Op::kAgentAttr) {
        require_segment(path, 1, "an attribute key", "agent.attr.site");
        node.a = resolve_name(path, 2, schema_.agent_attributes, "agent attribute");
        require_end(path, 2);
      } else {
        require_end(path, 1);
      }
    } else if (root == "queue") {
      require_segment(path, 0, "a queue name", "queue.sales.waiting");
      node.a = resolve_name(path, 1, schema_.queues, "queue");
      require_segment(path, 1, "a figure (waiting, ready, longest_wait, estimated_wait or sl)",
                      "queue.sales.waiting");
      const Field& field = find_field(kQueueFields, path, 2, "a queue");
      node.op = field.op;
      type = field.type;
      require_end(path, 2);
    } else if (root == "now") {
      require_segment(path, 0, "a field", "now.time");
      const Field& field = find_field(kNowFields, path, 1, "now");
      node.op = field.op;
      type = field.type;
      require_end(path, 1);
    } else {
      const std::string hint = did_you_mean(root, {"task", "agent", "queue", "now"});
      const bool is_function_name = lowercase(root) == "open" || lowercase(root) == "holiday" ||
                                    lowercase(root) == "number" || lowercase(root) == "lower";
      fail(path.position,
           "unknown name '" + root + "'" + hint +
               (is_function_name ? ": " + root + " is a function, write " + root + "(...)"
                                 : ": paths start with task, agent, queue or now"));
    }
    return {emit(node), type};
  }

  Compiled compile_call(const SyntaxNode& call) {
    const std::string name = lowercase(call.text);
    const auto require_one_argument = [&](const char* usage) {
      if (call.children.size() != 1) {
        fail(call.position, name + "() takes one argument: " + usage + ", got " +
                                std::to_string(call.children.size()));
      }
    };
    if (name == "open" || name == "holiday") {
      const char* usage = name == "open" ? "a calendar name in quotes, e.g. open('business-hours')"
                                         : "a calendar name in quotes, e.g. holiday('national')";
      require_one_argument(usage);
      const SyntaxNode& argument = *call.children[0];
      if (argument.kind != SyntaxKind::kString) {
        fail(argument.start, name + "() takes " + usage);
      }
      const auto& names = schema_.calendars;
      const auto found = std::find(names.begin(), names.end(), argument.text);
      if (found == names.end()) {
        fail(argument.position,
             "unknown calendar '" + argument.text + "'" + did_you_mean(argument.text, names));
      }
      Node node{.op = name == "open" ? Op::kCalendarOpen : Op::kCalendarHoliday};
      node.a = static_cast<std::uint32_t>(found - names.begin());
      return {emit(node), Type::kBoolean};
    }
    if (name == "number" || name == "lower") {
      require_one_argument("a string");
      const Compiled argument = compile(*call.children[0]);
      if (argument.type != Type::kString) {
        fail(call.children[0]->start, name + "() takes a string, got " + type_name(argument.type));
      }
      if (name == "number") {
        return {emit(Node{.op = Op::kNumberOf, .a = argument.node}), Type::kNumber};
      }
      return {emit(Node{.op = Op::kLower, .a = argument.node}), Type::kString};
    }
    fail(call.position, "unknown function '" + call.text + "'" +
                            did_you_mean(name, {"open", "holiday", "number", "lower"}) +
                            ": the functions are open, holiday, number and lower");
  }

  const Schema& schema_;
  Program& program_;
};

void sort_unique(std::vector<std::uint32_t>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

void read_figure(Reads& reads, std::uint32_t slot, QueueFigureRead figure) {
  reads.queue_slots.push_back(slot);
  reads.queue_figures = static_cast<std::uint8_t>(reads.queue_figures | figure);
}

// What a program reads that changes without routing events (see Reads). Every node of a
// compiled program belongs to its tree, so looking at all of them finds every path. The
// switch lists every op (no default), so that a new op cannot be added without deciding.
Reads reads_of(const Program& program) {
  Reads reads;
  for (const Node& node : program.nodes) {
    switch (node.op) {
      case Op::kNowTime:
      case Op::kNowWeekday:
      case Op::kCalendarOpen:  // calendars open and close as time passes
      case Op::kCalendarHoliday: reads.clock = true; break;
      case Op::kTaskWaited:
        reads.clock = true;
        reads.task = true;
        break;
      case Op::kAgentIdle:
        reads.clock = true;
        reads.agent_live = true;
        break;
      case Op::kAgentTasks: reads.agent_live = true; break;
      case Op::kQueueWaiting: read_figure(reads, node.a, kReadsWaiting); break;
      case Op::kQueueReady: read_figure(reads, node.a, kReadsReady); break;
      case Op::kQueueLongestWait: read_figure(reads, node.a, kReadsLongestWait); break;
      case Op::kQueueEstimatedWait: read_figure(reads, node.a, kReadsEstimatedWait); break;
      case Op::kQueueServiceLevel: read_figure(reads, node.a, kReadsServiceLevel); break;
      case Op::kTaskVip:
      case Op::kTaskPriority:
      case Op::kTaskCaller:
      case Op::kTaskDialled:
      case Op::kTaskLanguage:
      case Op::kTaskChannel:
      case Op::kTaskIvr:
      case Op::kTaskAttr: reads.task = true; break;
      // Constants, operators, and facts that change only with routing events.
      case Op::kBooleanConstant:
      case Op::kNot:
      case Op::kAnd:
      case Op::kOr:
      case Op::kCompareNumbers:
      case Op::kCompareStrings:
      case Op::kCompareBooleans:
      case Op::kIn:
      case Op::kStringContains:
      case Op::kSetHas:
      case Op::kBetween:
      case Op::kBetweenTimes:
      case Op::kNumberConstant:
      case Op::kNegate:
      case Op::kArithmetic:
      case Op::kAgentSkill:
      case Op::kAgentTier:
      case Op::kAgentPenalty:
      case Op::kNumberOf:
      case Op::kStringConstant:
      case Op::kAgentName:
      case Op::kAgentTeam:
      case Op::kAgentAttr:
      case Op::kLower:
      case Op::kSetConstant:
      case Op::kAgentLanguages: break;
    }
  }
  sort_unique(reads.queue_slots);
  return reads;
}

Result<std::shared_ptr<const Program>> build(const SyntaxNode& syntax, const Schema& schema) {
  auto program = std::make_shared<Program>();
  try {
    const Compiled root = Compiler(schema, *program).compile(syntax);
    program->root = root.node;
    program->type = root.type;
  } catch (const CompileFailure& failure) {
    return failure.error;
  }
  program->reads = reads_of(*program);
  return std::shared_ptr<const Program>(std::move(program));
}

// The schema list that `root.group.NAME` declares NAME in, or null for other paths.
std::vector<std::string>* declared_keys(std::string_view root, std::string_view group,
                                        Schema& schema) {
  if (root == "task" && group == "attr") return &schema.task_attributes;
  if (root == "task" && group == "ivr") return &schema.ivr_keys;
  if (root == "agent" && group == "attr") return &schema.agent_attributes;
  return nullptr;
}

}  // namespace

Type CompiledExpression::type() const {
  return program_->type;
}

const Reads& CompiledExpression::reads() const {
  return program_->reads;
}

bool CompiledExpression::is_agent_idle() const {
  return program_->nodes.size() == 1 && program_->nodes[program_->root].op == Op::kAgentIdle;
}

CompiledExpression::CompiledExpression(std::shared_ptr<const detail::Program> program)
    : program_(std::move(program)),
      nodes_(program_->nodes.data()),
      root_(program_->root),
      set_elements_(program_->set_elements) {}

bool CompiledExpression::evaluate_bool(const EvalContext& context) const {
  return Evaluator(nodes_, set_elements_, context).boolean(root_);
}

double CompiledExpression::evaluate_number(const EvalContext& context) const {
  return Evaluator(nodes_, set_elements_, context).number(root_);
}

Result<CompiledExpression> compile_expression(std::string_view text, const Schema& schema) {
  Result<SyntaxTree> syntax = parse_expression(text);
  if (!syntax) return syntax.error();
  Result<std::shared_ptr<const Program>> program = build(*syntax.value(), schema);
  if (!program) return program.error();
  return CompiledExpression(std::move(program.value()));
}

Result<CompiledExpression> compile(std::string_view text, const Schema& schema) {
  Result<CompiledExpression> compiled = compile_expression(text, schema);
  if (compiled && compiled.value().type() != Type::kBoolean) {
    // The parse succeeded, so the first token is where the expression starts.
    const Result<SyntaxTree> syntax = parse_expression(text);
    return CompileError{syntax.value()->start,
                        std::string("a routing condition must be true or false, got ") +
                            type_name(compiled.value().type())};
  }
  return compiled;
}

double CompiledOrder::evaluate_key(std::size_t i, const EvalContext& context) const {
  const CompiledExpression& expression = keys_[i].expression;
  const double key = expression.type() == Type::kBoolean
                         ? (expression.evaluate_bool(context) ? 1.0 : 0.0)
                         : expression.evaluate_number(context);
  return keys_[i].descending ? -key : key;
}

void CompiledOrder::evaluate(const EvalContext& context, std::span<double> out) const {
  for (std::size_t i = 0; i < keys_.size(); ++i) out[i] = evaluate_key(i, context);
}

Reads CompiledOrder::reads() const {
  Reads all;
  for (const OrderKey& key : keys_) {
    const Reads& reads = key.expression.reads();
    all.clock = all.clock || reads.clock;
    all.task = all.task || reads.task;
    all.agent_live = all.agent_live || reads.agent_live;
    all.queue_figures = static_cast<std::uint8_t>(all.queue_figures | reads.queue_figures);
    all.queue_slots.insert(all.queue_slots.end(), reads.queue_slots.begin(),
                           reads.queue_slots.end());
  }
  sort_unique(all.queue_slots);
  return all;
}

Result<CompiledOrder> compile_order(std::string_view text, const Schema& schema) {
  Result<std::vector<OrderTerm>> terms = parse_order(text);
  if (!terms) return terms.error();
  std::vector<OrderKey> keys;
  for (const OrderTerm& term : terms.value()) {
    Result<std::shared_ptr<const Program>> program = build(*term.expression, schema);
    if (!program) return program.error();
    if (program.value()->type == Type::kString || program.value()->type == Type::kStringSet) {
      return CompileError{term.expression->start,
                          std::string("cannot order by a ") + type_name(program.value()->type) +
                              ": order by numbers, durations, times of day or booleans"};
    }
    keys.push_back(OrderKey{CompiledExpression(std::move(program.value())), term.descending});
  }
  return CompiledOrder(std::move(keys));
}

void declare_keys(std::string_view text, Schema& schema) {
  const std::vector<Token> tokens = tokenize_prefix(text);
  const auto is_name = [](const Token& token) {
    return token.kind == TokenKind::kIdentifier || is_keyword(token.kind);
  };
  // root . group . NAME: five tokens. The root and group are never keywords; NAME may be.
  for (std::size_t i = 0; i + 4 < tokens.size(); ++i) {
    if (tokens[i].kind != TokenKind::kIdentifier || tokens[i + 1].kind != TokenKind::kDot ||
        tokens[i + 2].kind != TokenKind::kIdentifier || tokens[i + 3].kind != TokenKind::kDot ||
        !is_name(tokens[i + 4])) {
      continue;
    }
    std::vector<std::string>* keys = declared_keys(tokens[i].text, tokens[i + 2].text, schema);
    if (keys == nullptr) continue;
    const std::string_view name = tokens[i + 4].text;
    if (std::find(keys->begin(), keys->end(), name) == keys->end()) keys->emplace_back(name);
  }
}

}  // namespace acd::rules
