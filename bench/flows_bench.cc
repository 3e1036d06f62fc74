// Call-flow scripts (engine/flows): what running a Lua script adds to each call, in time
// and in memory.
//
//   flows_bench [--quick]
//
// Two scripts: "menu", what a support line's entry point typically does (play a greeting,
// look the caller up, set attributes and the priority, collect a menu digit, choose the
// queue: three requests), and "queue at once" (`call.queue('support')`, no request: the
// floor of any script). Per call, one sample times the whole life of a run: building the
// FlowRun (a fresh sandboxed lua_State, the script's bytecode loaded), start(), every
// request answered synchronously with a canned result through resume(), the outcome, and
// destroying the run. The caller's FlowCall and the canned results are built outside the
// timed window; the host's real work for a request (playing, collecting, the query) is
// not included. Percentiles are over every sample (nearest rank); "create" is the
// constructor alone.
//
// Memory per running call: `hold` menu runs at once, each paused at its menu (the collect
// request, after the greeting and the lookup: where a caller spends most of the script's
// time), measured three ways: the Lua state's own bytes (FlowRun::memory_used(), what the
// memory limit counts), the C++ heap of the runs (operator new, bench/alloc_counter.h:
// FlowRun's host side, the call's attributes) and the process heap in use as malloc reports
// it (mallinfo2: both, with the allocator's own overhead; not available under
// AddressSanitizer, which reports 0). Runs per GiB divide 2^30 by the last.
//
// Build in Release for figures; --quick (the ctest smoke test) runs a few hundred calls
// and holds a few dozen runs, and fails if a script does not end as expected.
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bench/alloc_counter.h"
#include "bench/percentiles.h"
#include "engine/flows/flow.h"

namespace {

using acd::bench::now_ns;
using acd::bench::summarize;
namespace flows = acd::flows;

constexpr const char* kMenu = R"(-- A support line's main menu.
call.play('greetings/welcome')
local customer = call.lookup(call.caller())
local vip = customer ~= nil and customer.tier == 'gold'
if customer then
  call.set('customer_id', customer.id)
  call.set('segment', customer.tier)
end
if vip then call.set_priority(10) end
local queues = {['1'] = 'sales', ['2'] = 'support', ['3'] = 'billing'}
for attempt = 1, 3 do
  local digit = call.collect('menu/main', 1, 5)
  local queue = queues[digit]
  if queue then
    call.set('menu', digit)
    call.set('language', customer and customer.language or call.get('language') or 'en')
    call.log('menu ' .. digit .. ' after ' .. attempt .. ' attempt(s)')
    if vip then queue = queue .. '_vip' end
    call.queue(queue)
  end
  call.play('menu/invalid')
end
call.voicemail('general')
)";

constexpr const char* kQueueAtOnce = "call.queue('support')";

struct Script {
  const char* name;
  const char* source;
  const char* expected_queue;
  int expected_requests;
};

constexpr Script kScripts[] = {
    {"menu", kMenu, "support_vip", 3},
    {"queue at once", kQueueAtOnce, "support", 0},
};

// The host's canned answers: the greeting played, a gold customer found, '2' pressed.
const flows::FlowResult kPlayed = flows::PlayResult{true};
const flows::FlowResult kFound = flows::LookupResult{std::map<std::string, std::string>{
    {"id", "C-1044"}, {"name", "Ada Lovelace"}, {"tier", "gold"}, {"language", "es"}}};
const flows::FlowResult kPressed = flows::CollectResult{"2"};

const flows::FlowResult& answer(const flows::FlowRequest& request) {
  if (std::holds_alternative<flows::PlayRequest>(request)) return kPlayed;
  if (std::holds_alternative<flows::LookupRequest>(request)) return kFound;
  return kPressed;
}

flows::FlowCall make_call(std::uint64_t i) {
  char caller[16];
  std::snprintf(caller, sizeof caller, "+1555%07llu",
                static_cast<unsigned long long>(i % 10'000'000));
  return flows::FlowCall{caller, "8000", {{"language", "en"}}};
}

flows::FlowConfig make_config(std::uint64_t i) {
  flows::FlowConfig config;  // the defaults: 1,000,000 instructions, 2 MiB
  config.random_seed = i;
  return config;
}

// Starts `run` and answers its requests until it ends or `stop_at` requests were made
// (then the last one stays pending). Returns the outcome, if the run ended.
std::optional<flows::FlowOutcome> drive(flows::FlowRun& run, int& requests, int stop_at = -1) {
  flows::FlowStep step = run.start();
  while (const auto* request = std::get_if<flows::FlowRequest>(&step)) {
    if (++requests == stop_at) return std::nullopt;
    step = run.resume(answer(*request));
  }
  return std::get<flows::FlowOutcome>(std::move(step));
}

// Why `outcome` is not what `script` should end in, or empty.
std::string check(const Script& script, const std::optional<flows::FlowOutcome>& outcome,
                  int requests) {
  if (!outcome) return "the run did not end";
  if (outcome->fallback) return "fallback: " + outcome->error;
  const auto* queue = std::get_if<flows::QueueDecision>(&outcome->decision);
  if (queue == nullptr || queue->queue != script.expected_queue)
    return "not queued to " + std::string(script.expected_queue);
  if (requests != script.expected_requests)
    return std::to_string(requests) + " requests, expected " +
           std::to_string(script.expected_requests);
  return {};
}

void print_row(const char* what, std::vector<std::int64_t>& samples, const char* extra) {
  const auto s = summarize(samples);
  std::printf("  %-22s %9.0f %9lld %9lld %9lld %9lld  %s\n", what, s.mean_ns,
              static_cast<long long>(s.p50_ns), static_cast<long long>(s.p90_ns),
              static_cast<long long>(s.p99_ns), static_cast<long long>(s.max_ns), extra);
}

// Times `calls` runs of `script`; false if one did not end as expected.
bool time_calls(const Script& script, const flows::FlowScript& compiled, std::size_t calls) {
  std::vector<std::int64_t> total;
  std::vector<std::int64_t> create;
  total.reserve(calls);
  create.reserve(calls);
  std::size_t created_lua_bytes = 0;
  std::uint64_t allocations = 0;  // operator new inside the timed windows
  for (std::size_t i = 0; i < calls; ++i) {
    flows::FlowCall call = make_call(i);
    flows::FlowConfig config = make_config(i);
    int requests = 0;
    const std::uint64_t allocations_before = acd::bench::allocation_count();

    const std::int64_t t0 = now_ns();
    std::optional<flows::FlowRun> run;
    run.emplace(compiled, std::move(call), std::move(config));
    const std::int64_t t1 = now_ns();
    const std::size_t created_bytes = run->memory_used();
    const auto outcome = drive(*run, requests);
    run.reset();
    const std::int64_t t2 = now_ns();
    allocations += acd::bench::allocation_count() - allocations_before;

    total.push_back(t2 - t0);
    create.push_back(t1 - t0);
    created_lua_bytes = std::max(created_lua_bytes, created_bytes);
    if (const std::string problem = check(script, outcome, requests); !problem.empty()) {
      std::fprintf(stderr, "%s: call %zu: %s\n", script.name, i, problem.c_str());
      return false;
    }
  }
  const double n = static_cast<double>(calls);
  char extra[128];
  std::snprintf(extra, sizeof extra, "%d requests, %.0f operator new calls",
                script.expected_requests, static_cast<double>(allocations) / n);
  std::printf("%s (%zu calls; Lua state after create: %zu bytes)\n", script.name, calls,
              created_lua_bytes);
  print_row("whole run per call", total, extra);
  print_row("create (state + load)", create, "");
  return true;
}

std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

// Holds `count` menu runs paused at their menu; false if one is not there.
bool measure_memory(const flows::FlowScript& compiled, std::size_t count) {
  std::vector<flows::FlowRun> runs;
  runs.reserve(count);
  std::vector<flows::FlowCall> calls;
  calls.reserve(count);
  for (std::size_t i = 0; i < count; ++i) calls.push_back(make_call(i));

  const std::size_t malloc_before = heap_in_use();
  const std::int64_t cpp_before = acd::bench::live_heap_bytes();
  std::size_t lua_bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    runs.emplace_back(compiled, std::move(calls[i]), make_config(i));
    int requests = 0;
    drive(runs.back(), requests, 3);  // paused at the menu's collect
    const auto& pending = runs.back().pending();
    if (!pending || !std::holds_alternative<flows::CollectRequest>(*pending)) {
      std::fprintf(stderr, "menu run %zu is not waiting at the menu\n", i);
      return false;
    }
    lua_bytes += runs.back().memory_used();
  }
  const std::int64_t cpp_bytes = acd::bench::live_heap_bytes() - cpp_before;
  const auto malloc_bytes = static_cast<std::int64_t>(heap_in_use() - malloc_before);
  const double n = static_cast<double>(count);
  std::printf("memory per running call (%zu menu runs waiting at the menu at once):\n", count);
  std::printf("  Lua state (memory_used)   %8.0f bytes\n", static_cast<double>(lua_bytes) / n);
  std::printf("  C++ heap (operator new)   %8.0f bytes\n", static_cast<double>(cpp_bytes) / n);
  if (malloc_bytes > 0) {
    const double per_run = static_cast<double>(malloc_bytes) / n;
    std::printf("  process heap (mallinfo2)  %8.0f bytes -> %.0f runs per GiB\n", per_run,
                static_cast<double>(1ULL << 30) / per_run);
  } else {
    std::printf("  process heap (mallinfo2)  n/a (sanitizer build)\n");
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::size_t calls = quick ? 300 : 50'000;
  const std::size_t hold = quick ? 50 : 5'000;

  std::printf("flows_bench%s; times in ns (clock overhead %lld ns a sample)\n",
              quick ? " (quick)" : "", static_cast<long long>(acd::bench::timer_overhead_ns()));
  std::printf("  %-22s %9s %9s %9s %9s %9s\n", "", "mean", "p50", "p90", "p99", "max");
  bool ok = true;
  std::optional<flows::FlowScript> menu;
  for (const Script& script : kScripts) {
    auto compiled = flows::FlowScript::compile("flow.lua", script.source);
    if (const auto* error = std::get_if<flows::FlowCompileError>(&compiled)) {
      std::fprintf(stderr, "%s: %s\n", script.name, error->message.c_str());
      return 1;
    }
    const auto& flow = std::get<flows::FlowScript>(compiled);
    ok = time_calls(script, flow, calls) && ok;
    if (script.source == kMenu) menu = flow;
  }
  ok = measure_memory(*menu, hold) && ok;
  return ok ? 0 : 1;
}
