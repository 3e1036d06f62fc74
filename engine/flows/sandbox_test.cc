// The sandbox: escapes tried and refused, and the instruction and memory limits.
#include <catch2/catch.hpp>
#include <string>

#include "engine/flows/flow.h"
#include "engine/flows/test_support.h"

using namespace acd::flows;
using namespace acd::flows::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

TEST_CASE("a script that decides reaches its decision, not the fallback", "[sandbox]") {
  const FlowOutcome outcome = run_to_end("call.queue('sales')");
  CHECK_FALSE(outcome.fallback);
  CHECK(outcome.decision == FlowDecision{QueueDecision{"sales"}});
  CHECK(outcome.error.empty());
}

TEST_CASE("dangerous globals are absent", "[sandbox]") {
  for (const char* name : {"io", "os", "load", "loadstring", "dofile", "loadfile", "require",
                           "package", "debug", "collectgarbage", "coroutine", "print", "warn",
                           "setmetatable", "getmetatable", "rawset", "_G"}) {
    INFO(name);
    const FlowOutcome outcome =
        run_to_end(std::string("if ") + name + " == nil then call.queue('absent') end");
    CHECK(outcome.decision == FlowDecision{QueueDecision{"absent"}});
  }
}

TEST_CASE("the kept libraries are there", "[sandbox]") {
  const FlowOutcome outcome = run_to_end(R"(
    assert(string.upper('ab') == 'AB' and table.concat({1, 2}, ',') == '1,2')
    assert(math.max(1, 3) == 3 and utf8.char(72) == 'H' and select('#', 1, 2) == 2)
    assert(tostring(12) == '12' and tonumber('7') == 7 and type(pairs) == 'function')
    assert(('%d'):format(5) == '5' and ('abc'):find('b') == 2)
    call.queue('ok'))");
  CHECK(outcome.decision == FlowDecision{QueueDecision{"ok"}});
}

TEST_CASE("escapes are refused with the script line", "[sandbox]") {
  struct Escape {
    const char* source;
    const char* error;
  };
  const Escape escapes[] = {
      {"io.open('/etc/passwd')", "flow.lua:1: attempt to index a nil value (global 'io')"},
      {"os.execute('true')", "flow.lua:1: attempt to index a nil value (global 'os')"},
      {"load('return 1')()", "flow.lua:1: attempt to call a nil value (global 'load')"},
      {"loadstring('return 1')()", "attempt to call a nil value (global 'loadstring')"},
      {"dofile('/etc/passwd')", "attempt to call a nil value (global 'dofile')"},
      {"require('os')", "attempt to call a nil value (global 'require')"},
      {"debug.getinfo(1)", "attempt to index a nil value (global 'debug')"},
      {"debug.sethook()", "attempt to index a nil value (global 'debug')"},
      {"string.dump(function() end)", "attempt to call a nil value (field 'dump')"},
      {"local f = ('').dump\nf(function() end)", "flow.lua:2: attempt to call a nil value"},
      {"getmetatable('').__index.dump(print)", "attempt to call a nil value (global"},
      {"collectgarbage('stop')", "attempt to call a nil value (global 'collectgarbage')"},
      {"coroutine.wrap(function() end)()", "attempt to index a nil value (global 'coroutine')"},
      {"setmetatable({}, {__gc = function() while true do end end})",
       "attempt to call a nil value (global 'setmetatable')"},
      {"call.queue = function() end", "flow.lua:1: call: the host API table is read-only"},
      {"_ENV.call.hangup = nil", "the host API table is read-only"},
  };
  for (const Escape& escape : escapes) {
    INFO(escape.source);
    CHECK_THAT(failure_of(escape.source), Contains(escape.error));
  }
}

TEST_CASE("string methods still work but the string metatable stays out of reach", "[sandbox]") {
  // The string library table is shared with the metatable's __index: mutating it only
  // changes this run's own state, which dies with the run.
  const FlowOutcome outcome = run_to_end(R"(
    assert(('x'):rep(3) == 'xxx')
    assert(('').dump == nil)
    call.queue('ok'))");
  CHECK(outcome.decision == FlowDecision{QueueDecision{"ok"}});
}

TEST_CASE("a binary chunk is refused at compile time", "[sandbox]") {
  // Lua's own bytecode for `return 1` starts with the signature "\x1bLua".
  const std::string binary = std::string("\x1bLua\x54\x00", 6) + "rest";
  auto result = FlowScript::compile("flow.lua", binary);
  REQUIRE(std::holds_alternative<FlowCompileError>(result));
  CHECK_THAT(std::get<FlowCompileError>(result).message, Contains("binary chunk"));
}

TEST_CASE("a compile error names the script line", "[sandbox]") {
  auto result = FlowScript::compile("flow.lua", "call.play('a')\n\nif x then\n");
  REQUIRE(std::holds_alternative<FlowCompileError>(result));
  const auto& error = std::get<FlowCompileError>(result);
  CHECK(error.line == 4);
  CHECK_THAT(error.message, StartsWith("flow.lua:4:"));
  CHECK_THAT(error.message, Contains("'end' expected"));
}

TEST_CASE("an infinite loop ends at the instruction limit", "[sandbox][limits]") {
  CHECK_THAT(failure_of("local n = 0\nwhile true do n = n + 1 end"),
             Equals("flow.lua:2: instruction limit of 100000 exceeded"));
}

TEST_CASE("catching the limit error with pcall does not escape the limit", "[sandbox][limits]") {
  CHECK_THAT(failure_of(R"(
    while true do
      pcall(function() while true do end end)
      xpcall(function() while true do end end, function(e) while true do end end)
    end)"),
             Contains("instruction limit of 100000 exceeded"));
}

TEST_CASE("the instruction budget spans all resumes of a run", "[sandbox][limits]") {
  FlowConfig config = small_config();
  config.instruction_limit = 5'000;
  FlowRun run(compiled("for i = 1, 100 do for j = 1, 100 do end call.play('p') end\n"
                       "call.queue('done')"),
              FlowCall{}, config);
  FlowStep step = run.start();
  int plays = 0;
  while (std::holds_alternative<FlowRequest>(step)) {
    ++plays;
    step = run.resume(PlayResult{});
  }
  const auto& outcome = std::get<FlowOutcome>(step);
  CHECK(outcome.fallback);
  CHECK_THAT(outcome.error, Contains("instruction limit of 5000 exceeded"));
  // Each round costs over 100 instructions: fewer than 50 rounds fit in 5000.
  CHECK(plays > 10);
  CHECK(plays <= 50);
}

TEST_CASE("memory bombs end at the memory limit", "[sandbox][limits]") {
  CHECK_THAT(failure_of("local s = string.rep('x', 1000 * 1000)"),
             Contains("memory limit of 1048576 bytes exceeded"));
  CHECK_THAT(failure_of("local s = string.rep('x', 1 << 40)"), Contains("count above the memory"));
  CHECK_THAT(failure_of("local s = string.rep('', 1 << 62)"), Contains("count above the memory"));
  CHECK_THAT(failure_of("local s = 'x'\nwhile true do s = s .. s end"),
             Equals("flow.lua:2: memory limit of 1048576 bytes exceeded"));
  FlowConfig config = small_config();
  config.instruction_limit = 10'000'000;
  CHECK_THAT(failure_of("local t = {}\nfor i = 1, 1e9 do t[i] = i end", config),
             Equals("flow.lua:2: memory limit of 1048576 bytes exceeded"));
  CHECK_THAT(failure_of("local t = {}\nfor i = 1, 1e9 do t[#t + 1] = {i} end", config),
             Contains("memory limit of 1048576 bytes exceeded"));
}

TEST_CASE("C-level loops the hook cannot see are bounded", "[sandbox][limits]") {
  CHECK_THAT(failure_of("table.move({}, 1, 1 << 62, 2)"), Contains("table.move: range larger"));
  CHECK_THAT(failure_of("string.find(string.rep('a', 300), 'b')"),
             Contains("subjects of at most 256 bytes"));
  CHECK_THAT(failure_of("string.find(string.rep('a', 200), '.-.-.-b')"),
             Contains("at most 2 repetitions"));
  CHECK_THAT(failure_of("local s = ('a'):rep(200)\ns:gsub('.-.-.-b', '')"),
             Contains("flow.lua:2:"));
  // Within the bounds, patterns work (escaped and set characters are not repetitions).
  const FlowOutcome outcome = run_to_end(R"(
    assert(('12*34'):match('^(%d+)%*(%d+)$') == '12')
    assert(('a-b'):find('[-+*?]') == 2)
    call.queue('ok'))");
  CHECK(outcome.decision == FlowDecision{QueueDecision{"ok"}});
}

TEST_CASE("deep recursion is an error, not a crash", "[sandbox][limits]") {
  FlowConfig config = small_config();
  config.instruction_limit = 100'000'000;
  config.memory_limit = 256 * 1024 * 1024;
  CHECK_THAT(failure_of("local function f(n) return 1 + f(n + 1) end\nf(1)", config),
             Contains("stack overflow"));
  // Recursion through C calls (pcall) stops at Lua's C stack limit.
  CHECK_THAT(failure_of("local function f() local ok, e = pcall(f) error(e, 0) end\nf()", config),
             Contains("stack overflow"));
  // With the default limits the memory limit comes first.
  CHECK_THAT(failure_of("local function f(n) return 1 + f(n + 1) end\nf(1)"),
             Contains("memory limit"));
}

TEST_CASE("a memory limit too small for Lua itself ends in the fallback", "[sandbox][limits]") {
  FlowConfig config = small_config();
  config.memory_limit = 2048;
  CHECK_THAT(failure_of("call.queue('x')", config), Contains("memory limit of 2048 bytes"));
}

TEST_CASE("math.random repeats from the host's seed", "[sandbox]") {
  const std::string source =
      "call.set('r', tostring(math.random(1, 1000000)) .. ',' .. math.random(1, 1000000))\n"
      "call.hangup()";
  auto draw = [&](std::uint64_t seed) {
    FlowConfig config = small_config();
    config.random_seed = seed;
    FlowRun run(compiled(source), FlowCall{}, config);
    REQUIRE(std::holds_alternative<FlowOutcome>(run.start()));
    return run.attributes().at("r");
  };
  CHECK(draw(7) == draw(7));
  CHECK(draw(7) != draw(8));
}
