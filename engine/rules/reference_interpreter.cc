#include "engine/rules/reference_interpreter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace acd::rules::testing {
namespace {

ReferenceValue of_number(Type type, double value) {
  ReferenceValue result;
  result.type = type;
  result.number = value;
  return result;
}
ReferenceValue of_boolean(bool value) {
  ReferenceValue result;
  result.boolean = value;
  return result;
}
ReferenceValue of_text(std::string value) {
  ReferenceValue result;
  result.type = Type::kString;
  result.text = std::move(value);
  return result;
}

template <class Map>
typename Map::mapped_type find_or(const Map& map, const std::string& key,
                                  typename Map::mapped_type absent) {
  const auto found = map.find(key);
  return found == map.end() ? absent : found->second;
}

ReferenceValue look_up(const std::vector<std::string>& path, const ReferenceWorld& world) {
  std::string joined = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) joined += "." + path[i];
  if (joined == "task.caller") return of_text(world.caller);
  if (joined == "task.dialled") return of_text(world.dialled);
  if (joined == "task.language") return of_text(world.language);
  if (joined == "task.channel") return of_text(world.channel);
  if (joined == "task.vip") return of_number(Type::kNumber, world.vip);
  if (joined == "task.priority") return of_number(Type::kNumber, world.priority);
  if (joined == "task.waited") return of_number(Type::kDuration, double(world.waited_ms));
  if (joined == "agent.name") return of_text(world.agent_name);
  if (joined == "agent.team") return of_text(world.team);
  if (joined == "agent.idle") return of_number(Type::kDuration, double(world.idle_ms));
  if (joined == "agent.tasks") return of_number(Type::kNumber, world.tasks);
  if (joined == "agent.tier") return of_number(Type::kNumber, world.tier);
  if (joined == "agent.penalty") return of_number(Type::kNumber, world.penalty);
  if (joined == "agent.languages") {
    ReferenceValue set;
    set.type = Type::kStringSet;
    set.set = world.languages;
    return set;
  }
  if (joined == "now.time") return of_number(Type::kTimeOfDay, world.time_of_day_minutes);
  if (joined == "now.weekday") return of_text(world.weekday);
  if (path.size() == 3 && path[0] == "task" && path[1] == "attr") {
    return of_text(find_or(world.task_attributes, path[2], ""));
  }
  if (path.size() == 3 && path[0] == "task" && path[1] == "ivr") {
    return of_text(find_or(world.ivr, path[2], ""));
  }
  if (path.size() == 3 && path[0] == "agent" && path[1] == "attr") {
    return of_text(find_or(world.agent_attributes, path[2], ""));
  }
  if (path.size() == 3 && path[0] == "agent" && path[1] == "skill") {
    return of_number(Type::kNumber, find_or(world.skills, path[2], 0));
  }
  if (path.size() == 3 && path[0] == "queue") {
    const QueueFigures queue = find_or(world.queues, path[1], QueueFigures{});
    if (path[2] == "waiting") return of_number(Type::kNumber, queue.waiting);
    if (path[2] == "ready") return of_number(Type::kNumber, queue.ready);
    if (path[2] == "sl") return of_number(Type::kNumber, queue.service_level);
    if (path[2] == "longest_wait") {
      return of_number(Type::kDuration, double(queue.longest_wait_ms));
    }
    if (path[2] == "estimated_wait") {
      return of_number(Type::kDuration, double(queue.estimated_wait_ms));
    }
  }
  throw std::logic_error("reference interpreter: unknown path " + joined);
}

std::string ascii_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
  return text;
}

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// Decimal text "[+-]digits[.digits]" to its value; anything else is 0.
double number_or_zero(const std::string& text) {
  const bool signed_text = !text.empty() && (text[0] == '+' || text[0] == '-');
  const std::string unsigned_text = signed_text ? text.substr(1) : text;
  const std::size_t dot = unsigned_text.find('.');
  const bool well_formed = dot == std::string::npos ? all_digits(unsigned_text)
                                                    : all_digits(unsigned_text.substr(0, dot)) &&
                                                          all_digits(unsigned_text.substr(dot + 1));
  if (!well_formed) return 0;
  try {
    const double value = std::stod(text);
    return std::isfinite(value) ? value : 0;
  } catch (const std::out_of_range&) {
    return 0;
  }
}

template <class T>
bool compare(CompareOp op, const T& x, const T& y) {
  switch (op) {
    case CompareOp::kEqual: return x == y;
    case CompareOp::kNotEqual: return !(x == y);
    case CompareOp::kLess: return x < y;
    case CompareOp::kLessEqual: return x <= y;
    case CompareOp::kGreater: return x > y;
    case CompareOp::kGreaterEqual: return x >= y;
  }
  throw std::logic_error("reference interpreter: comparison");
}

bool set_contains(const std::vector<std::string>& set, const std::string& element) {
  return std::find(set.begin(), set.end(), element) != set.end();
}

// The result type of arithmetic on these operand types (the compiler accepted them).
Type arithmetic_type(ArithmeticOp op, Type left, Type right) {
  if (left == Type::kDuration && right == Type::kDuration) {
    return op == ArithmeticOp::kDivide ? Type::kNumber : Type::kDuration;
  }
  return left == Type::kDuration || right == Type::kDuration ? Type::kDuration : Type::kNumber;
}

void collect_reads(const SyntaxNode& node, const Schema& schema, Reads& reads) {
  if (node.kind == SyntaxKind::kPath) {
    const std::vector<std::string>& path = node.segments;
    std::string joined = path[0];
    for (std::size_t i = 1; i < path.size(); ++i) joined += "." + path[i];
    if (joined == "now.time" || joined == "now.weekday" || joined == "task.waited" ||
        joined == "agent.idle") {
      reads.clock = true;
    }
    if (path[0] == "task") reads.task = true;
    if (joined == "agent.idle" || joined == "agent.tasks") reads.agent_live = true;
    if (path[0] == "queue") {
      const auto found = std::find(schema.queues.begin(), schema.queues.end(), path[1]);
      reads.queue_slots.push_back(static_cast<std::uint32_t>(found - schema.queues.begin()));
      const std::string& figure = path[2];
      const QueueFigureRead bit = figure == "waiting"          ? kReadsWaiting
                                  : figure == "ready"          ? kReadsReady
                                  : figure == "longest_wait"   ? kReadsLongestWait
                                  : figure == "estimated_wait" ? kReadsEstimatedWait
                                                               : kReadsServiceLevel;
      reads.queue_figures = static_cast<std::uint8_t>(reads.queue_figures | bit);
    }
  }
  if (node.kind == SyntaxKind::kCall) {
    const std::string name = ascii_lower(node.text);
    if (name == "open" || name == "holiday") reads.clock = true;
  }
  for (const auto& child : node.children) collect_reads(*child, schema, reads);
}

}  // namespace

ReferenceValue interpret(const SyntaxNode& node, const ReferenceWorld& world) {
  const auto child = [&](std::size_t i) { return interpret(*node.children[i], world); };
  switch (node.kind) {
    case SyntaxKind::kNumber: return of_number(Type::kNumber, node.number);
    case SyntaxKind::kDuration: return of_number(Type::kDuration, node.number);
    case SyntaxKind::kTimeOfDay: return of_number(Type::kTimeOfDay, node.number);
    case SyntaxKind::kString: return of_text(node.text);
    case SyntaxKind::kBoolean: return of_boolean(node.boolean);
    case SyntaxKind::kSet: {
      ReferenceValue set;
      set.type = Type::kStringSet;
      set.set = node.set_elements;
      return set;
    }
    case SyntaxKind::kPath: return look_up(node.segments, world);
    case SyntaxKind::kCall: {
      const std::string name = ascii_lower(node.text);
      if (name == "open" || name == "holiday") {
        const CalendarState state = find_or(world.calendars, node.children[0]->text, {});
        return of_boolean(name == "open" ? state.open : state.holiday);
      }
      if (name == "number") return of_number(Type::kNumber, number_or_zero(child(0).text));
      if (name == "lower") return of_text(ascii_lower(child(0).text));
      throw std::logic_error("reference interpreter: function " + name);
    }
    case SyntaxKind::kNegate: {
      ReferenceValue value = child(0);
      value.number = -value.number;
      return value;
    }
    case SyntaxKind::kNot: return of_boolean(!child(0).boolean);
    case SyntaxKind::kAnd: return of_boolean(child(0).boolean ? child(1).boolean : false);
    case SyntaxKind::kOr: return of_boolean(child(0).boolean ? true : child(1).boolean);
    case SyntaxKind::kCompare: {
      const ReferenceValue left = child(0);
      const ReferenceValue right = child(1);
      if (left.type == Type::kString)
        return of_boolean(compare(node.compare, left.text, right.text));
      if (left.type == Type::kBoolean) {
        return of_boolean(compare(node.compare, left.boolean, right.boolean));
      }
      return of_boolean(compare(node.compare, left.number, right.number));
    }
    case SyntaxKind::kArithmetic: {
      const ReferenceValue left = child(0);
      const ReferenceValue right = child(1);
      double result = 0;
      switch (node.arithmetic) {
        case ArithmeticOp::kAdd: result = left.number + right.number; break;
        case ArithmeticOp::kSubtract: result = left.number - right.number; break;
        case ArithmeticOp::kMultiply: result = left.number * right.number; break;
        case ArithmeticOp::kDivide:
          result = right.number == 0 ? 0 : left.number / right.number;
          break;
        case ArithmeticOp::kRemainder:
          result = right.number == 0 ? 0 : std::fmod(left.number, right.number);
          break;
      }
      if (!std::isfinite(result)) result = 0;
      return of_number(arithmetic_type(node.arithmetic, left.type, right.type), result);
    }
    case SyntaxKind::kIn:
      return of_boolean(set_contains(child(1).set, child(0).text) != node.negated);
    case SyntaxKind::kContains: {
      const ReferenceValue container = child(0);
      const std::string element = child(1).text;
      if (container.type == Type::kStringSet)
        return of_boolean(set_contains(container.set, element));
      return of_boolean(container.text.find(element) != std::string::npos);
    }
    case SyntaxKind::kHas: return of_boolean(set_contains(child(0).set, child(1).text));
    case SyntaxKind::kBetween: {
      const ReferenceValue value = child(0);
      const double low = child(1).number;
      const double high = child(2).number;
      bool inside = low <= value.number && value.number <= high;
      // Times of day wrap past midnight: 22:00 .. 06:00 is the night.
      if (value.type == Type::kTimeOfDay && low > high) {
        inside = value.number >= low || value.number <= high;
      }
      return of_boolean(inside != node.negated);
    }
  }
  throw std::logic_error("reference interpreter: node kind");
}

Reads reference_reads(const SyntaxNode& node, const Schema& schema) {
  Reads reads;
  collect_reads(node, schema, reads);
  std::sort(reads.queue_slots.begin(), reads.queue_slots.end());
  reads.queue_slots.erase(std::unique(reads.queue_slots.begin(), reads.queue_slots.end()),
                          reads.queue_slots.end());
  return reads;
}

WorldContext::WorldContext(const ReferenceWorld& world, const Schema& schema) {
  for (const std::string& key : schema.task_attributes) {
    const auto found = world.task_attributes.find(key);
    task_attributes_.push_back(found == world.task_attributes.end()
                                   ? std::string_view()
                                   : std::string_view(found->second));
  }
  for (const std::string& key : schema.ivr_keys) {
    const auto found = world.ivr.find(key);
    ivr_.push_back(found == world.ivr.end() ? std::string_view() : std::string_view(found->second));
  }
  for (const std::string& key : schema.agent_attributes) {
    const auto found = world.agent_attributes.find(key);
    agent_attributes_.push_back(found == world.agent_attributes.end()
                                    ? std::string_view()
                                    : std::string_view(found->second));
  }
  for (const std::string& language : world.languages) languages_.push_back(language);
  for (const std::string& skill : schema.skills) {
    skills_.push_back(static_cast<std::uint8_t>(find_or(world.skills, skill, 0)));
  }
  for (const std::string& queue : schema.queues) {
    queues_.push_back(find_or(world.queues, queue, QueueFigures{}));
  }
  for (const std::string& calendar : schema.calendars) {
    calendars_.push_back(find_or(world.calendars, calendar, CalendarState{}));
  }
  task_ = TaskFacts{world.caller,   world.dialled,   world.language,   world.channel, world.vip,
                    world.priority, world.waited_ms, task_attributes_, ivr_};
  agent_ = AgentFacts{.name = world.agent_name,
                      .team = world.team,
                      .languages = languages_,
                      .skills = skills_,
                      .idle_ms = world.idle_ms,
                      .tasks = world.tasks,
                      .attributes = agent_attributes_,
                      .tier = world.tier,
                      .penalty = world.penalty};
  context_.task = &task_;
  context_.agent = &agent_;
  context_.queues = queues_;
  context_.calendars = calendars_;
  context_.time_of_day_minutes = world.time_of_day_minutes;
  static constexpr const char* kWeekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  context_.weekday = 0;
  for (int day = 0; day < 7; ++day) {
    if (world.weekday == kWeekdays[day]) context_.weekday = day;
  }
}

}  // namespace acd::rules::testing
