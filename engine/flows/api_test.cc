// The `call` API: each function, the yielding requests, argument checks, endings and the
// fallback, cancellation.
#include <catch2/catch.hpp>
#include <string>

#include "engine/flows/flow.h"
#include "engine/flows/test_support.h"

using namespace acd::flows;
using namespace acd::flows::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

FlowCall a_call() {
  return FlowCall{"+15551230000", "800", {{"language", "fr"}}};
}

}  // namespace

TEST_CASE("functions that return at once", "[api]") {
  FlowRun run(compiled(R"(
    assert(call.caller() == '+15551230000')
    assert(call.dialled() == '800')
    assert(call.get('language') == 'fr' and call.get('missing') == nil)
    call.set('language', 'en')
    assert(call.get('language') == 'en')
    call.set('vip', '')
    call.set_priority(-5)
    call.log('hello')
    call.hangup())"),
              a_call(), small_config());
  const FlowStep step = run.start();
  REQUIRE(std::holds_alternative<FlowOutcome>(step));
  CHECK(std::get<FlowOutcome>(step).decision == FlowDecision{HangupDecision{}});
  CHECK(run.attributes() == std::map<std::string, std::string>{{"language", "en"}, {"vip", ""}});
  CHECK(run.priority() == -5);
  CHECK(run.log() == std::vector<std::string>{"hello"});
}

TEST_CASE("each ending", "[api]") {
  CHECK(run_to_end("call.queue('sales')").decision == FlowDecision{QueueDecision{"sales"}});
  CHECK(run_to_end("call.voicemail('box-1')").decision == FlowDecision{VoicemailDecision{"box-1"}});
  CHECK(run_to_end("call.transfer('+4420')").decision == FlowDecision{TransferDecision{"+4420"}});
  CHECK(run_to_end("call.callback('5551234')").decision ==
        FlowDecision{CallbackDecision{"5551234"}});
  CHECK(run_to_end("call.callback('+15551234', 'support')").decision ==
        FlowDecision{CallbackDecision{"+15551234", "support"}});
  CHECK(run_to_end("call.callback('5551234', nil)").decision ==
        FlowDecision{CallbackDecision{"5551234"}});
  CHECK(run_to_end("call.hangup()").decision == FlowDecision{HangupDecision{}});
  // An ending ends the flow: nothing after it runs, not even inside pcall.
  CHECK(run_to_end("pcall(call.queue, 'a')\ncall.queue('b')").decision ==
        FlowDecision{QueueDecision{"a"}});
}

TEST_CASE("set_skill asks the agent for skills, the last level of a skill winning", "[api]") {
  FlowRun run(compiled(R"(
    call.set_skill('french', 3)
    call.set_skill('billing', 10)
    call.set_skill('french', 5)
    call.queue('sales'))"),
              a_call(), small_config());
  REQUIRE(std::holds_alternative<FlowOutcome>(run.start()));
  CHECK(run.skills() == std::map<std::string, int>{{"billing", 10}, {"french", 5}});
  // At most kMaxSkills of them.
  std::string many;
  for (std::size_t i = 0; i <= kMaxSkills; ++i)
    many += "call.set_skill('s" + std::to_string(i) + "', 1)\n";
  CHECK_THAT(failure_of(many + "call.queue('a')"),
             Contains("call.set_skill: too many skills (at most 16)"));
}

TEST_CASE("play yields to the host and returns whether it completed", "[api]") {
  FlowRun run(compiled("if call.play('welcome/fr') then call.queue('a') else call.queue('b') end"),
              a_call(), small_config());
  FlowStep step = run.start();
  REQUIRE(std::holds_alternative<FlowRequest>(step));
  const auto& request = std::get<FlowRequest>(step);
  REQUIRE(std::holds_alternative<PlayRequest>(request));
  CHECK(std::get<PlayRequest>(request).prompt == "welcome/fr");
  CHECK(run.pending().has_value());
  CHECK_FALSE(run.finished());
  step = run.resume(PlayResult{false});
  REQUIRE(std::holds_alternative<FlowOutcome>(step));
  CHECK(std::get<FlowOutcome>(step).decision == FlowDecision{QueueDecision{"b"}});
  CHECK(run.finished());
}

TEST_CASE("lookup returns the customer as a table, or nil", "[api]") {
  const auto script = compiled(R"(
    local customer = call.lookup(call.caller())
    if customer == nil then call.queue('unknown') end
    call.set('tier', customer.tier)
    call.queue(customer.tier))");
  {
    FlowRun run(script, a_call(), small_config());
    FlowStep step = run.start();
    REQUIRE(std::holds_alternative<FlowRequest>(step));
    CHECK(std::get<LookupRequest>(std::get<FlowRequest>(step)).number == "+15551230000");
    step = run.resume(LookupResult{std::map<std::string, std::string>{{"tier", "gold"}}});
    CHECK(std::get<FlowOutcome>(step).decision == FlowDecision{QueueDecision{"gold"}});
    CHECK(run.attributes().at("tier") == "gold");
  }
  {
    FlowRun run(script, a_call(), small_config());
    REQUIRE(std::holds_alternative<FlowRequest>(run.start()));
    const FlowStep step = run.resume(LookupResult{std::nullopt});
    CHECK(std::get<FlowOutcome>(step).decision == FlowDecision{QueueDecision{"unknown"}});
  }
}

TEST_CASE("a menu: play, collect digits, branch, queue", "[api]") {
  const auto script = compiled(R"(
    local choices = {['1'] = 'sales', ['2'] = 'support'}
    for attempt = 1, 3 do
      local digit = call.collect('menu/main', 1, 4.5)
      if choices[digit] then
        call.set('menu', digit)
        call.queue(choices[digit])
      end
      call.play('menu/invalid')
    end
    call.voicemail('general'))");
  auto expect_collect = [](const FlowStep& step) {
    REQUIRE(std::holds_alternative<FlowRequest>(step));
    const auto& collect = std::get<CollectRequest>(std::get<FlowRequest>(step));
    CHECK(collect.prompt == std::optional<std::string>("menu/main"));
    CHECK(collect.max_digits == 1);
    CHECK(collect.timeout == std::chrono::milliseconds(4500));
  };
  SECTION("a valid choice on the second try") {
    FlowRun run(script, a_call(), small_config());
    FlowStep step = run.start();
    expect_collect(step);
    step = run.resume(CollectResult{"9"});
    REQUIRE(std::holds_alternative<FlowRequest>(step));
    CHECK(std::get<PlayRequest>(std::get<FlowRequest>(step)).prompt == "menu/invalid");
    expect_collect(run.resume(PlayResult{}));
    step = run.resume(CollectResult{"2"});
    CHECK(std::get<FlowOutcome>(step).decision == FlowDecision{QueueDecision{"support"}});
    CHECK(run.attributes().at("menu") == "2");
  }
  SECTION("three timeouts go to voicemail") {
    FlowRun run(script, a_call(), small_config());
    FlowStep step = run.start();
    for (int i = 0; i < 3; ++i) {
      expect_collect(step);
      step = run.resume(CollectResult{""});
      step = run.resume(PlayResult{});
    }
    CHECK(std::get<FlowOutcome>(step).decision == FlowDecision{VoicemailDecision{"general"}});
  }
}

TEST_CASE("collect without a prompt and with the default timeout", "[api]") {
  FlowRun run(compiled("call.set('digits', call.collect(nil, 4))\ncall.hangup()"), a_call(),
              small_config());
  const FlowStep step = run.start();
  const auto& collect = std::get<CollectRequest>(std::get<FlowRequest>(step));
  CHECK_FALSE(collect.prompt.has_value());
  CHECK(collect.max_digits == 4);
  CHECK(collect.timeout == std::chrono::milliseconds(5000));
  CHECK(std::get<FlowOutcome>(run.resume(CollectResult{"12#"})).decision ==
        FlowDecision{HangupDecision{}});
  CHECK(run.attributes().at("digits") == "12#");
}

TEST_CASE("arguments are validated, naming the function and the argument", "[api]") {
  struct Bad {
    const char* source;
    const char* error;
  };
  const Bad bad[] = {
      {"call.play(5)", "flow.lua:1: call.play: argument 1 (prompt) must be a string, got number"},
      {"call.play()", "call.play: argument 1 (prompt) must be a string, got no value"},
      {"call.play('')", "call.play: argument 1 (prompt) must be 1 to 128 bytes long, got 0"},
      {"call.play('../etc/passwd')", "call.play: argument 1 (prompt) may hold only"},
      {"call.play('/abs')", "call.play: argument 1 (prompt) may hold only"},
      {"call.play('a', 'b')", "call.play: takes at most 1 argument(s), got 2"},
      {"call:play('a')", "call.play: takes at most 1 argument(s), got 2"},
      {"call.collect('p', 0)", "call.collect: argument 2 (max_digits) must be 1 to 32, got 0"},
      {"call.collect('p', 1.5)", "call.collect: argument 2 (max_digits) must be a whole number"},
      {"call.collect('p', '3')", "call.collect: argument 2 (max_digits) must be a whole number"},
      {"call.collect('p', 3, 0)", "call.collect: argument 3 (timeout_s) must be above 0"},
      {"call.collect('p', 3, 61)", "call.collect: argument 3 (timeout_s) must be above 0"},
      {"call.collect('p', 3, 'x')", "call.collect: argument 3 (timeout_s) must be a number"},
      {"call.lookup('12ab')", "call.lookup: argument 1 (number) may hold only digits"},
      {"call.lookup(string.rep('1', 33))", "call.lookup: argument 1 (number) must be 1 to 32"},
      {"call.queue('a b')", "call.queue: argument 1 (queue) may hold only letters"},
      {"call.queue(nil)", "call.queue: argument 1 (queue) must be a string, got nil"},
      {"call.voicemail(string.rep('v', 65))", "call.voicemail: argument 1 (box) must be 1 to 64"},
      {"call.transfer('1+2')", "call.transfer: argument 1 (number) may hold only digits"},
      {"call.callback({})", "call.callback: argument 1 (number) must be a string, got table"},
      {"call.callback('1', 'a b')", "call.callback: argument 2 (queue) may hold only letters"},
      {"call.callback('1', 7)", "call.callback: argument 2 (queue) must be a string, got number"},
      {"call.callback('1', 'q', 'x')", "call.callback: takes at most 2 argument(s), got 3"},
      {"call.hangup(1)", "call.hangup: takes at most 0 argument(s), got 1"},
      {"call.set_skill('french', 0)", "call.set_skill: argument 2 (min_level) must be 1 to 10"},
      {"call.set_skill('french', 11)", "call.set_skill: argument 2 (min_level) must be 1 to 10"},
      {"call.set_skill('french', 2.5)", "call.set_skill: argument 2 (min_level) must be a whole"},
      {"call.set_skill('fr ench', 2)", "call.set_skill: argument 1 (skill) may hold only letters"},
      {"call.set_skill('french')", "call.set_skill: argument 2 (min_level) must be a whole"},
      {"call.set('k', 1)", "call.set: argument 2 (value) must be a string, got number"},
      {"call.set('bad key', 'v')", "call.set: argument 1 (key) may hold only letters"},
      {"call.set('k', 'a\\nb')", "call.set: argument 2 (value) may not hold control"},
      {"call.set_priority(2000000)",
       "call.set_priority: argument 1 (priority) must be -1000000 to 1000000, got 2000000"},
      {"call.log(string.rep('x', 1025))", "call.log: argument 1 (text) must be 0 to 1024"},
      {"call.get(1)", "call.get: argument 1 (key) must be a string, got number"},
      {"call.caller(1)", "call.caller: takes at most 0 argument(s), got 1"},
      {"table.sort({1, 2}, function(a, b) call.play('x') return a < b end)",
       "call.play: cannot be called here"},
  };
  for (const Bad& b : bad) {
    INFO(b.source);
    CHECK_THAT(failure_of(b.source), Contains(b.error));
  }
}

TEST_CASE("attributes and log lines are bounded", "[api]") {
  CHECK_THAT(failure_of("for i = 1, 65 do call.set('k' .. i, 'v') end"),
             Contains("call.set: too many attributes (at most 64)"));
  FlowRun run(compiled("for i = 1, 500 do call.log('line ' .. i) end call.hangup()"), a_call(),
              small_config());
  REQUIRE(std::holds_alternative<FlowOutcome>(run.start()));
  REQUIRE(run.log().size() == kMaxLogLines);
  CHECK(run.log().front() == "line 1");
  CHECK(run.log().back() == "(further log lines dropped)");
}

TEST_CASE("a failing script reaches its fallback with the script line", "[api][fallback]") {
  SECTION("a runtime error") {
    const FlowOutcome outcome = run_to_end("call.set('a', 'b')\n\nlocal x = nil\nx.y = 1");
    CHECK(outcome.fallback);
    CHECK(outcome.decision == FlowDecision{QueueDecision{"fallback"}});
    CHECK_THAT(outcome.error, Equals("flow.lua:4: attempt to index a nil value (local 'x')"));
  }
  SECTION("error() with a table value gets the line") {
    CHECK_THAT(failure_of("\nerror({})"), Equals("flow.lua:2: error object is a table value"));
  }
  SECTION("a script that ends without deciding") {
    CHECK_THAT(failure_of("call.set('a', 'b')"), Contains("ended without a decision"));
  }
  SECTION("an error after a request") {
    FlowRun run(compiled("call.play('a')\ncall.queue(call.collect('b', 2))"), a_call(),
                small_config());
    REQUIRE(std::holds_alternative<FlowRequest>(run.start()));
    REQUIRE(std::holds_alternative<FlowRequest>(run.resume(PlayResult{})));
    const auto outcome = std::get<FlowOutcome>(run.resume(CollectResult{""}));
    CHECK(outcome.fallback);
    CHECK_THAT(outcome.error, Contains("flow.lua:2: call.queue: argument 1 (queue) must be 1"));
  }
  SECTION("the fallback is the host's to configure") {
    FlowConfig config = small_config();
    config.fallback = VoicemailDecision{"after-hours"};
    const FlowOutcome outcome = run_to_end("error('boom')", config);
    CHECK(outcome.decision == FlowDecision{VoicemailDecision{"after-hours"}});
    CHECK(outcome.error == "flow.lua:1: boom");
  }
}

TEST_CASE("host errors end the run in the fallback", "[api][fallback]") {
  const auto script = compiled("call.queue(call.collect('p', 2))");
  SECTION("a result of the wrong kind") {
    FlowRun run(script, a_call(), small_config());
    REQUIRE(std::holds_alternative<FlowRequest>(run.start()));
    const auto outcome = std::get<FlowOutcome>(run.resume(PlayResult{}));
    CHECK(outcome.fallback);
    CHECK_THAT(outcome.error, Contains("does not answer call.collect"));
  }
  SECTION("digits that are not DTMF, or too many") {
    for (const char* digits : {"1a", "123"}) {
      FlowRun run(script, a_call(), small_config());
      REQUIRE(std::holds_alternative<FlowRequest>(run.start()));
      const auto outcome = std::get<FlowOutcome>(run.resume(CollectResult{digits}));
      CHECK_THAT(outcome.error, Contains("not DTMF or more than max_digits"));
    }
  }
  SECTION("start twice, resume after the end") {
    FlowRun run(compiled("call.hangup()"), a_call(), small_config());
    const auto first = std::get<FlowOutcome>(run.start());
    CHECK(std::get<FlowOutcome>(run.start()).decision == first.decision);
    CHECK(std::get<FlowOutcome>(run.resume(PlayResult{})).decision == first.decision);
  }
}

TEST_CASE("a run cancelled midway frees everything", "[api][cancel]") {
  const auto script = compiled(R"(
    local big = {}
    for i = 1, 1000 do big[i] = ('x'):rep(100) .. i end
    local f <close> = nil
    call.play('hold')
    call.queue('never'))");
  SECTION("cancel() gives the fallback and frees the state") {
    FlowRun run(script, a_call(), small_config());
    REQUIRE(std::holds_alternative<FlowRequest>(run.start()));
    CHECK(run.memory_used() > 100'000);
    const FlowOutcome outcome = run.cancel();
    CHECK(outcome.fallback);
    CHECK(outcome.error == "flow.lua: cancelled by the host while waiting for call.play");
    CHECK(run.memory_used() == 0);
    CHECK(run.finished());
  }
  SECTION("dropping the run frees it (ASan reports any leak)") {
    auto run = std::make_unique<FlowRun>(script, a_call(), small_config());
    REQUIRE(std::holds_alternative<FlowRequest>(run->start()));
    run.reset();
  }
  SECTION("a run never started") {
    FlowRun run(script, a_call(), small_config());
    CHECK(run.cancel().fallback);
  }
}

TEST_CASE("runs are isolated from each other", "[api]") {
  const auto script = compiled(R"(
    string.upper = nil
    counter = (counter or 0) + 1
    call.queue('n' .. counter))");
  for (int i = 0; i < 2; ++i) {
    CHECK(run_to_end(R"(assert(string.upper) call.hangup())").decision ==
          FlowDecision{HangupDecision{}});
    FlowRun run(script, a_call(), small_config());
    CHECK(std::get<FlowOutcome>(run.start()).decision == FlowDecision{QueueDecision{"n1"}});
  }
}

namespace {

// Queue "support" with 4 waiting and the estimated wait given; calendar "hours" open or not,
// calendar "national" on a holiday or not.
class FakeHost final : public FlowHostInfo {
 public:
  FakeHost(bool open, bool holiday, std::int64_t estimated_wait_s)
      : open_(open), holiday_(holiday), estimated_wait_s_(estimated_wait_s) {}
  std::optional<FlowQueueStatus> queue_status(std::string_view queue) const override {
    if (queue != "support") return std::nullopt;
    return FlowQueueStatus{4, 2, 9, estimated_wait_s_, 95};
  }
  std::optional<FlowCalendarState> calendar(std::string_view calendar) const override {
    if (calendar == "hours") return FlowCalendarState{open_, false};
    if (calendar == "national") return FlowCalendarState{!holiday_, holiday_};
    return std::nullopt;
  }

 private:
  bool open_;
  bool holiday_;
  std::int64_t estimated_wait_s_;
};

FlowConfig with_host(bool open = true, bool holiday = false, std::int64_t estimated_wait_s = 360) {
  FlowConfig config = small_config();
  config.host = std::make_shared<FakeHost>(open, holiday, estimated_wait_s);
  return config;
}

}  // namespace

TEST_CASE("queue_status, open and holiday read the host at once", "[api]") {
  CHECK(run_to_end(R"(
    local s = call.queue_status('support')
    assert(s.waiting == 4 and s.ready == 2 and s.logged_in == 9)
    assert(s.estimated_wait == 360 and s.longest_wait == 95)
    assert(call.queue_status('nope') == nil)
    assert(call.open('hours') == true and call.holiday('hours') == false)
    assert(call.holiday('national') == false)
    call.hangup())",
                   with_host())
            .decision == FlowDecision{HangupDecision{}});

  // The after-hours and callback-offer recipes of docs/FLOWS.md.
  const std::string recipe = R"(
    if not call.open('hours') or call.holiday('national') then
      return call.voicemail('after-hours')
    end
    local support = call.queue_status('support')
    if support and support.estimated_wait > 300 then
      return call.callback(call.caller(), 'support')
    end
    call.queue('support'))";
  CHECK(run_to_end(recipe, with_host(false)).decision ==
        FlowDecision{VoicemailDecision{"after-hours"}});
  CHECK(run_to_end(recipe, with_host(true, true)).decision ==
        FlowDecision{VoicemailDecision{"after-hours"}});
  CHECK(run_to_end(recipe, with_host(true, false, 360)).decision ==
        FlowDecision{CallbackDecision{"+15551230000", "support"}});
  CHECK(run_to_end(recipe, with_host(true, false, 120)).decision ==
        FlowDecision{QueueDecision{"support"}});

  // A misspelt calendar is an error at the script's line, not "closed".
  CHECK_THAT(failure_of("local x = 1\nif call.open('hourz') then call.hangup() end", with_host()),
             Equals("flow.lua:2: call.open: argument 1 (calendar): no calendar 'hourz'"));
  CHECK_THAT(failure_of("call.holiday(7)", with_host()),
             Contains("call.holiday: argument 1 (calendar) must be a string"));
  // Without a host: no queue is known, and no calendar.
  CHECK(run_to_end("assert(call.queue_status('support') == nil) call.hangup()").decision ==
        FlowDecision{HangupDecision{}});
  CHECK_THAT(failure_of("call.open('hours')"), Contains("no calendar 'hours'"));
}
