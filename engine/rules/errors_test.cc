// Every kind of compile error, with its exact "line:column: message".
#include <catch2/catch.hpp>

#include "engine/rules/test_support.h"

namespace acd::rules::testing {
namespace {

TEST_CASE("Lexical errors", "[rules][errors]") {
  CHECK(error_of("task.caller = 'abc") ==
        "1:15: unterminated string: expected a closing ' before end of input");
  CHECK(error_of("'a\\qb' = ''") ==
        "1:3: unknown escape '\\q' in string: expected \\\\, \\', \\\", \\n or \\t");
  CHECK(error_of("task.vip # 3") == "1:10: unexpected character '#'");
  CHECK(error_of("task.vip == 3") == "1:10: unexpected '==': write '=' to compare");
  CHECK(error_of("!true") == "1:1: unexpected '!': write NOT, or '!=' to compare");
  CHECK(error_of("1 <> 2") == "1:3: unexpected '<>': write '!='");
  CHECK(error_of("now.time > 25:00") ==
        "1:12: invalid time of day '25:00': expected HH:MM from 00:00 to 23:59");
  CHECK(error_of("now.time > 9:5") ==
        "1:12: invalid time of day '9:5': expected HH:MM from 00:00 to 23:59");
  CHECK(error_of("task.waited > 30s1m") ==
        "1:15: invalid duration '30s1m': units must go from largest to smallest (h, m, s, ms), "
        "each once");
  CHECK(error_of("task.waited > 2.5s") ==
        "1:15: invalid duration '2.5s': write whole units, e.g. 2s500ms instead of 2.5s");
  CHECK(error_of("task.waited > 3x") ==
        "1:15: invalid number '3x': a duration takes a unit h, m, s or ms, e.g. 30s");
  CHECK(error_of("task.waited > 1m30x") ==
        "1:15: invalid duration '1m30x': expected a unit h, m, s or ms");
  CHECK(error_of("task.caller = \xc3\xa9") ==
        "1:15: unexpected byte 0xc3 (names and operators are ASCII; quote other text)");
}

TEST_CASE("Syntax errors", "[rules][errors]") {
  CHECK(error_of("task.vip > 1 AND") == "1:17: expected an operand after 'AND', got end of input");
  CHECK(error_of("") == "1:1: expected an operand, got end of input");
  CHECK(error_of("task.vip >\n  OR true") == "2:3: expected an operand after '>', got 'OR'");
  CHECK(error_of("(task.vip > 1") ==
        "1:14: expected ')' to close the '(' at 1:1, got end of input");
  CHECK(error_of("task.vip > 1)") == "1:13: unexpected ')': no '(' is open");
  CHECK(error_of("task.vip 3") == "1:10: expected an operator or end of input, got '3'");
  CHECK(error_of("1 < 2 < 3") ==
        "1:7: comparisons do not chain: combine them with AND, e.g. 'a <= b AND b <= c', or use "
        "BETWEEN; got '<'");
  CHECK(error_of("task.vip BETWEEN 1 OR 2") ==
        "1:20: expected AND after the lower bound of BETWEEN, got 'OR'");
  CHECK(error_of("task.language NOT 'fr'") ==
        "1:19: expected IN or BETWEEN after 'NOT', got ''fr''");
  CHECK(error_of("task.language IN ['en' 'fr']") ==
        "1:24: expected ',' or ']' in the set, got ''fr''");
  CHECK(error_of("task.language IN ['en', 3]") ==
        "1:25: expected a quoted string in the set, got '3'");
  CHECK(error_of("task. = 1") == "1:7: expected a name after 'task.', got '='");
  CHECK(error_of("lower('a' 'b') = 'a'") ==
        "1:11: expected ',' or ')' after the argument of lower(), got ''b''");
  CHECK(error_of(std::string(70, '(') + "true" + std::string(70, ')')) ==
        "1:33: expression nested too deeply (more than 64 levels)");
}

TEST_CASE("Unknown names, with suggestions", "[rules][errors]") {
  CHECK(error_of("tsak.vip > 1") ==
        "1:1: unknown name 'tsak' (did you mean 'task'?): paths start with task, agent, queue or "
        "now");
  CHECK(error_of("task.lang = 'fr'") == "1:6: unknown field 'lang' of task");
  CHECK(error_of("task.langauge = 'fr'") ==
        "1:6: unknown field 'langauge' of task (did you mean 'language'?)");
  CHECK(error_of("agent.skill.biling > 3") ==
        "1:13: unknown skill 'biling' (did you mean 'billing'?)");
  CHECK(error_of("agent.skill.accounting > 3") == "1:13: unknown skill 'accounting'");
  CHECK(error_of("queue.sale.waiting > 3") == "1:7: unknown queue 'sale' (did you mean 'sales'?)");
  CHECK(error_of("queue.sales.wait > 3") == "1:13: unknown field 'wait' of a queue");
  CHECK(error_of("queue.sales.waitng > 3") ==
        "1:13: unknown field 'waitng' of a queue (did you mean 'waiting'?)");
  CHECK(error_of("task.attr.segmnt = 'gold'") ==
        "1:11: unknown task attribute 'segmnt' (did you mean 'segment'?)");
  CHECK(error_of("task.ivr.menus = '1'") == "1:10: unknown IVR key 'menus' (did you mean 'menu'?)");
  CHECK(error_of("agent.attr.sites = 'x'") ==
        "1:12: unknown agent attribute 'sites' (did you mean 'site'?)");
  CHECK(error_of("now.tme > 09:00") == "1:5: unknown field 'tme' of now (did you mean 'time'?)");
  CHECK(error_of("agent.teir < 2") == "1:7: unknown field 'teir' of agent (did you mean 'tier'?)");
  CHECK(error_of("agent.penalti = 0") ==
        "1:7: unknown field 'penalti' of agent (did you mean 'penalty'?)");
  CHECK(error_of("agent.level > 1") == "1:7: unknown field 'level' of agent");
  CHECK(error_of("open('bussiness-hours')") ==
        "1:6: unknown calendar 'bussiness-hours' (did you mean 'business-hours'?)");
  CHECK(error_of("opne('business-hours')") ==
        "1:1: unknown function 'opne' (did you mean 'open'?): the functions are open, holiday, "
        "number and lower");
  CHECK(error_of("open = true") == "1:1: unknown name 'open': open is a function, write open(...)");
}

TEST_CASE("Incomplete and overlong paths", "[rules][errors]") {
  CHECK(error_of("task = 1") ==
        "1:1: 'task' is incomplete: expected a field after it, e.g. "
        "task.language");
  CHECK(error_of("agent.skill > 1") ==
        "1:7: 'agent.skill' is incomplete: expected a skill name "
        "after it, e.g. agent.skill.billing");
  CHECK(error_of("queue.sales > 1") ==
        "1:7: 'queue.sales' is incomplete: expected a figure (waiting, ready, longest_wait, "
        "estimated_wait or sl) after it, e.g. queue.sales.waiting");
  CHECK(error_of("task.language.code = 'fr'") == "1:15: 'task.language' has no field 'code'");
  CHECK(error_of("agent.skill.billing.level > 1") ==
        "1:21: 'agent.skill.billing' has no field 'level'");
  CHECK(error_of("agent.tier.primary = 1") == "1:12: 'agent.tier' has no field 'primary'");
}

TEST_CASE("Type errors", "[rules][errors]") {
  CHECK(error_of("true AND\n    task.waited > 30") ==
        "2:17: cannot compare duration with number (write 30s, not 30)");
  CHECK(error_of("90 < agent.idle") ==
        "1:4: cannot compare number with duration (write 90s, not 90)");
  CHECK(error_of("agent.tier = '1'") == "1:12: cannot compare number with string");
  CHECK(error_of("now.time > 9") ==
        "1:10: cannot compare time of day with number (write 09:00, not 9)");
  CHECK(error_of("task.language = 3") == "1:15: cannot compare string with number");
  CHECK(error_of("task.waited > 2.5") ==
        "1:13: cannot compare duration with number (write a duration such as 30s, 5m or 1500ms)");
  CHECK(error_of("true < false") == "1:6: cannot order booleans with '<': only = and != apply");
  CHECK(error_of("agent.languages = ['en']") ==
        "1:17: cannot compare sets with '=': use HAS, CONTAINS or IN");
  CHECK(error_of("task.waited + 5 > 1m") ==
        "1:13: cannot apply '+' to duration and number (write 5s, not 5)");
  CHECK(error_of("now.time + 1h > 10:00") == "1:10: cannot apply '+' to time of day and duration");
  CHECK(error_of("2 / 1m > 1") == "1:3: cannot apply '/' to number and duration");
  CHECK(error_of("'a' + 'b' = 'ab'") == "1:5: cannot apply '+' to string and string");
  CHECK(error_of("-task.language = 'x'") ==
        "1:1: cannot negate a string: '-' applies to numbers and durations");
  CHECK(error_of("task.vip AND true") == "1:10: 'AND' needs true or false on the left, got number");
  CHECK(error_of("true or 'x'") == "1:6: 'or' needs true or false on the right, got string");
  CHECK(error_of("NOT task.vip") == "1:1: 'NOT' needs true or false, got number");
  CHECK(error_of("task.vip IN ['1']") == "1:10: 'IN' needs a string on the left, got number");
  CHECK(error_of("task.language NOT IN 'fr'") ==
        "1:15: 'NOT IN' needs a set on the right, e.g. ['en', 'fr'], got string");
  CHECK(error_of("task.vip CONTAINS 'x'") ==
        "1:10: 'CONTAINS' needs a string or a set on the left, got number");
  CHECK(error_of("agent.languages CONTAINS 3") ==
        "1:17: 'CONTAINS' needs a string on the right, got number");
  CHECK(error_of("task.language HAS 'fr'") == "1:15: 'HAS' needs a set on the left, got string");
  CHECK(error_of("agent.languages HAS ['fr']") ==
        "1:17: 'HAS' needs a string on the right, got set");
  CHECK(error_of("task.language BETWEEN 'a' AND 'b'") ==
        "1:15: BETWEEN needs a number, duration or time of day, got string");
  CHECK(error_of("task.waited BETWEEN 1m AND 300") ==
        "1:28: cannot compare duration with number (write 300s, not 300)");
  CHECK(error_of("open(task.language)") ==
        "1:6: open() takes a calendar name in quotes, e.g. open('business-hours')");
  CHECK(error_of("holiday()") ==
        "1:1: holiday() takes one argument: a calendar name in quotes, e.g. holiday('national'), "
        "got 0");
  CHECK(error_of("number(task.waited) > 1") == "1:8: number() takes a string, got duration");
  CHECK(error_of("lower('a', 'b') = 'a'") == "1:1: lower() takes one argument: a string, got 2");
  CHECK(error_of("task.vip + 1") == "1:1: a routing condition must be true or false, got number");
  CHECK(error_of("  (task.language)") ==
        "1:3: a routing condition must be true or false, got string");
}

}  // namespace
}  // namespace acd::rules::testing
