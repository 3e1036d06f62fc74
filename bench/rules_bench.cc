// Routing expressions (engine/rules): the time to evaluate a queue target's condition and
// its ORDER BY keys for one candidate agent, over a population of agents with random skills,
// languages, teams and idle times. Issue 8's target: p99 under 200 ns per candidate.
//
//   rules_bench [--quick]
//
// Each sample times one pass over a batch of 16 candidates (condition, then the ORDER BY
// keys of the candidates that match) and divides by 16: per-candidate figures without the
// steady clock's own cost (~20 ns a reading) dominating them. Percentiles are over all
// samples (nearest rank). Build in Release for figures; --quick (the smoke test) runs a
// few thousand samples to keep the program working.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "bench/percentiles.h"
#include "engine/rules/compiler.h"

namespace {

using acd::bench::now_ns;
using acd::bench::summarize;
namespace rules = acd::rules;

constexpr std::size_t kBatch = 16;
constexpr std::array<std::string_view, 4> kLanguages{"en", "fr", "de", "es"};
constexpr std::array<std::string_view, 3> kTeams{"gold", "silver", "bronze"};

struct Rule {
  const char* name;
  const char* condition;
  const char* order;
};

// Typical queue targets: a proficiency range with a language match and a live figure, a
// VIP rule with a team and an attribute, and a time-of-day rule with a calendar.
constexpr Rule kRules[] = {
    {"billing range + language",
     "agent.skill.billing >= 3 AND agent.skill.billing <= 7 AND agent.languages HAS "
     "task.language AND queue.sales.waiting < 20",
     "agent.skill.billing DESC, agent.idle DESC"},
    {"vip first",
     "(task.vip >= 1 AND agent.team IN ['gold', 'silver']) OR (task.vip = 0 AND "
     "agent.skill.support >= 5 AND task.attr.segment != 'blocked')",
     "agent.skill.support DESC, agent.tasks, agent.idle DESC"},
    {"business hours",
     "open('office') AND NOT holiday('office') AND now.time BETWEEN 08:00 AND 18:00 AND "
     "task.waited < 2m AND agent.skill.sales >= 4",
     "agent.idle DESC"},
};

struct AgentData {
  std::array<std::uint8_t, 3> skills{};
  std::vector<std::string_view> languages;
  rules::AgentFacts facts;
};

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::size_t agents_count = quick ? 64 : 1024;
  const std::size_t samples_per_rule = quick ? 2000 : 400000;

  rules::Schema schema;
  schema.skills = {"billing", "support", "sales"};
  schema.queues = {"sales"};
  schema.calendars = {"office"};
  schema.task_attributes = {"segment"};

  std::mt19937_64 rng(20261124);
  std::vector<AgentData> agents(agents_count);
  for (auto& a : agents) {
    for (auto& s : a.skills) s = static_cast<std::uint8_t>(rng() % 11);
    for (auto l : kLanguages)
      if (rng() % 2 == 0) a.languages.push_back(l);
    a.facts.team = kTeams[rng() % kTeams.size()];
    a.facts.idle_ms = static_cast<std::int64_t>(rng() % 600000);
    a.facts.tasks = static_cast<double>(rng() % 3);
  }
  for (auto& a : agents) {
    a.facts.skills = a.skills;
    a.facts.languages = a.languages;
  }

  const std::array<std::string_view, 1> segment{"retail"};
  rules::TaskFacts task;
  task.language = "fr";
  task.vip = 1;
  task.waited_ms = 45000;
  task.attributes = segment;
  const std::array<rules::QueueFigures, 1> queues{rules::QueueFigures{7, 3, 12000, 30000, 0.8}};
  const std::array<rules::CalendarState, 1> calendars{rules::CalendarState{true, false}};

  std::printf("rules_bench: %zu agents, batches of %zu candidates, %zu samples per rule%s\n",
              agents_count, kBatch, samples_per_rule, quick ? " (quick)" : "");
  std::printf("%-26s %8s %8s %8s %8s %8s  %s\n", "rule", "mean_ns", "p50_ns", "p90_ns", "p99_ns",
              "max_ns", "matched");
  int failures = 0;
  for (const Rule& rule : kRules) {
    auto condition = rules::compile(rule.condition, schema);
    auto order = rules::compile_order(rule.order, schema);
    if (!condition.is_ok() || !order.is_ok()) {
      std::fprintf(stderr, "rule '%s' does not compile\n", rule.name);
      ++failures;
      continue;
    }
    std::vector<std::int64_t> samples;
    samples.reserve(samples_per_rule);
    std::array<double, 8> keys{};
    double sink = 0;
    std::size_t matched = 0, evaluated = 0, next = 0;
    rules::EvalContext context;
    context.task = &task;
    context.queues = queues;
    context.calendars = calendars;
    context.time_of_day_minutes = 10 * 60 + 30;
    for (std::size_t s = 0; s < samples_per_rule; ++s) {
      const std::int64_t start = now_ns();
      for (std::size_t i = 0; i < kBatch; ++i) {
        context.agent = &agents[next].facts;
        next = next + 1 == agents.size() ? 0 : next + 1;
        if (condition.value().matches(context)) {
          order.value().evaluate(context, std::span<double>(keys.data(), order.value().size()));
          sink += keys[0];
          ++matched;
        }
      }
      const std::int64_t elapsed = now_ns() - start;
      samples.push_back(elapsed / static_cast<std::int64_t>(kBatch));
      evaluated += kBatch;
    }
    const auto summary = summarize(samples);
    std::printf("%-26s %8.1f %8lld %8lld %8lld %8lld  %.1f%%%s\n", rule.name, summary.mean_ns,
                static_cast<long long>(summary.p50_ns), static_cast<long long>(summary.p90_ns),
                static_cast<long long>(summary.p99_ns), static_cast<long long>(summary.max_ns),
                100.0 * static_cast<double>(matched) / static_cast<double>(evaluated),
                sink == 0.12345 ? " " : "");
  }
  return failures == 0 ? 0 : 1;
}
