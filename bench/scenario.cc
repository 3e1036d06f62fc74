#include "bench/scenario.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "bench/percentiles.h"

namespace acd::bench {

using namespace std::chrono_literals;
using core::AgentId;
using core::AgentState;
using core::CallId;
using core::QueueId;
using core::Strategy;

Scale scale_from_env() {
  Scale s;
  const char* env = std::getenv("ACD_BENCH_SCALE");
  if (env != nullptr && std::string_view(env) == "small") {
    s.name = "small";
    s.agents = 400;
    s.queues = 40;
    s.skills = 20;
    s.teams = 8;
    s.waiting_calls = 200;
  } else if (env != nullptr && *env != '\0' && std::string_view(env) != "full") {
    std::fprintf(stderr, "ACD_BENCH_SCALE=%s: expected 'small' or 'full'\n", env);
    std::exit(2);
  }
  return s;
}

// ---- CountingObserver ----

void CountingObserver::on_event(const core::CoreEvent& event) {
  ++counts_[event.index()];
  ++total_;
  if (const auto* offer = std::get_if<core::CallOffered>(&event)) {
    ++offers_;
    last_offer_ = *offer;
    if (!ring_.empty()) ring_[ring_head_++ % ring_.size()] = *offer;
  }
}

void CountingObserver::keep_offers(std::size_t capacity) {
  ring_.assign(capacity, core::CallOffered{});
  ring_head_ = ring_tail_ = 0;
}

bool CountingObserver::drain_offers(std::vector<core::CallOffered>& out) {
  const bool overflowed = ring_head_ - ring_tail_ > ring_.size();
  if (overflowed) ring_tail_ = ring_head_ - ring_.size();
  for (; ring_tail_ < ring_head_; ++ring_tail_) out.push_back(ring_[ring_tail_ % ring_.size()]);
  return !overflowed;
}

void expect_ok(const core::Status& status, const char* what) {
  if (!status.is_ok()) throw ScenarioError(std::string(what) + ": " + status.to_string());
}

// ---- Population ----

namespace {

constexpr int kSkillsPerCluster = 4;
constexpr int kMinEligibleTier1 = 3;

int uniform(core::Random& r, int lo, int hi) {  // inclusive
  return lo + static_cast<int>(r.below(static_cast<std::uint64_t>(hi - lo) + 1));
}

template <class T>
void shuffle(std::vector<T>& v, core::Random& r) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[r.below(i)]);
}

int level_of(const core::AgentConfig& a, core::SkillId s) {
  for (const auto& k : a.skills)
    if (k.skill == s) return k.level;
  return 0;
}

bool has_required_skills(const core::AgentConfig& a, const core::QueueConfig& q) {
  for (const auto& req : q.required_skills)
    if (!req.optional && level_of(a, req.skill) == 0) return false;
  return true;
}

// Has every skill a fresh call needs: optional ones count until an escalation step drops
// them.
bool has_all_skills(const core::AgentConfig& a, const core::QueueConfig& q) {
  for (const auto& req : q.required_skills)
    if (level_of(a, req.skill) == 0) return false;
  return true;
}

// Eligible for a fresh call (no escalation step yet) as far as skills go.
bool meets_levels(const core::AgentConfig& a, const core::QueueConfig& q) {
  for (const auto& req : q.required_skills)
    if (level_of(a, req.skill) < req.min_level) return false;
  return true;
}

void raise_to_levels(core::AgentConfig& a, const core::QueueConfig& q) {
  for (const auto& req : q.required_skills) {
    for (auto& k : a.skills)
      if (k.skill == req.skill) k.level = std::max(k.level, req.min_level);
  }
}

// ---- Rule-based queues (ScenarioOptions::rules) ----

// Callers' languages, and agents' first language, in these shares (percent).
constexpr std::array<std::string_view, 4> kLanguages{"en", "es", "fr", "de"};
constexpr std::array<int, 4> kLanguageShare{55, 20, 15, 10};

std::string_view draw_language(core::Random& r) {
  auto roll = static_cast<int>(r.below(100));
  for (std::size_t i = 0; i < kLanguages.size(); ++i) {
    if (roll < kLanguageShare[i]) return kLanguages[i];
    roll -= kLanguageShare[i];
  }
  return kLanguages.front();
}

// 1-3 languages: a first one in the callers' mix, then none (50 %), one (35 %) or two
// (15 %) others.
std::vector<std::string> agent_languages(core::Random& r) {
  std::vector<std::string> out{std::string(draw_language(r))};
  const auto roll = r.below(100);
  const std::size_t count = roll < 50 ? 1 : roll < 85 ? 2 : 3;
  while (out.size() < count) {
    const std::string_view language = kLanguages[r.below(kLanguages.size())];
    if (std::find(out.begin(), out.end(), language) == out.end()) out.emplace_back(language);
  }
  return out;
}

// The steps of a rules-routed queue, at the times of the skills-routed queues' escalation
// (generate_population): levels relaxed by 2 after 60 s; by 4, optional skills dropped and
// tier 2 admitted after 120 s; by 7 (floor 1: the agent has the skill) and tier 3 after
// 300 s, when the caller's language no longer matters either. Until then the agent speaks
// the caller's language, unless the queue is backed up (20 calls waiting).
struct RuleStep {
  core::Duration after;
  int max_tier;
  int relax;
  bool drop_optional;
  bool language;
};
constexpr RuleStep kRuleSteps[] = {
    {0s, 1, 0, false, true},
    {60s, 1, 2, false, true},
    {120s, 2, 4, true, true},
    {300s, 3, 7, true, false},
};

// `q`'s skills as routing steps, e.g. for a queue needing skill_012 at 4 and skill_013 at 2:
//   step 1: agent.skill.skill_012 >= 4 AND agent.skill.skill_013 >= 2 AND
//           (agent.languages HAS task.language OR queue.queue_0003.waiting >= 20) AND
//           agent.tier = 1
//   ORDER BY agent.skill.skill_012 DESC, agent.idle DESC
core::QueueRouting rules_routing(const core::QueueConfig& q,
                                 const std::vector<core::SkillConfig>& skills) {
  core::QueueRouting routing;
  for (const RuleStep& step : kRuleSteps) {
    std::string target;
    for (const auto& req : q.required_skills) {
      if (req.optional && step.drop_optional) continue;
      target += "agent.skill." + skills[req.skill.value].name + " >= " +
                std::to_string(std::max(core::kMinProficiency, req.min_level - step.relax)) +
                " AND ";
    }
    if (step.language)
      target += "(agent.languages HAS task.language OR queue." + q.name + ".waiting >= 20) AND ";
    target += step.max_tier == 1 ? std::string("agent.tier = 1")
                                 : "agent.tier <= " + std::to_string(step.max_tier);
    routing.steps.push_back({step.after, std::move(target)});
  }
  routing.order_by = "agent.skill." + skills[q.required_skills.front().skill.value].name +
                     " DESC, agent.idle DESC";
  return routing;
}

}  // namespace

Population generate_population(const Scale& scale, const ScenarioOptions& options) {
  core::Xoshiro256 r(options.seed);
  Population p;
  core::CoreConfig& cfg = p.config;
  const core::TenantId tenant = p.tenant;
  cfg.tenants.push_back({tenant, "bench-tenant"});

  const int clusters = scale.skills / kSkillsPerCluster;
  const int saturated_clusters = clusters / 2;
  char name[64];

  for (int s = 0; s < scale.skills; ++s) {
    // Rules name skills and queues by identifiers: no '-' there.
    std::snprintf(name, sizeof name, options.rules ? "skill_%03d" : "skill-%03d", s);
    cfg.skills.push_back({core::SkillId(static_cast<std::uint32_t>(s)), tenant, name});
  }
  for (int t = 0; t < scale.teams; ++t) {
    std::snprintf(name, sizeof name, "team-%03d", t);
    cfg.teams.push_back({core::TeamId(static_cast<std::uint32_t>(t)), tenant, name, {}});
  }

  // Queues: queue q belongs to cluster q % clusters.
  const Strategy saturated_mix[] = {Strategy::kLongestIdle, Strategy::kBestProficiency,
                                    Strategy::kRoundRobin, Strategy::kFewestCalls,
                                    Strategy::kLeastTalkTime};
  std::vector<std::vector<int>> queues_of_cluster(static_cast<std::size_t>(clusters));
  p.queue_saturated.resize(static_cast<std::size_t>(scale.queues));
  for (int q = 0; q < scale.queues; ++q) {
    const int cluster = q % clusters;
    const bool saturated = cluster < saturated_clusters;
    p.queue_saturated[static_cast<std::size_t>(q)] = saturated;
    queues_of_cluster[static_cast<std::size_t>(cluster)].push_back(q);

    core::QueueConfig qc;
    qc.id = QueueId(static_cast<std::uint32_t>(q));
    qc.tenant = tenant;
    std::snprintf(name, sizeof name, options.rules ? "queue_%04d" : "queue-%04d", q);
    qc.name = name;
    qc.strategy =
        saturated ? saturated_mix[static_cast<std::size_t>(q / clusters) % 5] : options.strategy;
    std::vector<int> pool = {0, 1, 2, 3};
    shuffle(pool, r);
    const int n_req = uniform(r, 1, 3);
    for (int i = 0; i < n_req; ++i) {
      core::SkillRequirement req;
      req.skill = core::SkillId(static_cast<std::uint32_t>(cluster * kSkillsPerCluster +
                                                           pool[static_cast<std::size_t>(i)]));
      req.min_level = uniform(r, 1, 6);
      req.optional = (i == 2 && r.below(2) == 0);
      qc.required_skills.push_back(req);
    }
    qc.sl_threshold = 20s;
    qc.ring_timeout = 15s;
    if (!saturated && options.wrap_up) {
      qc.wrap_up = 30s;  // agents usually end it early (end_wrap_up)
    }
    if (saturated && q % 3 == 0) qc.aging_per_minute = 1.0;
    qc.escalation = {
        {60s, 2, false, 0},
        {120s, 2, true, 2},
        {300s, 3, true, 3},
    };
    cfg.queues.push_back(std::move(qc));
  }

  // Agents.
  std::vector<std::vector<int>> agents_of_cluster(static_cast<std::size_t>(clusters));
  std::vector<std::vector<int>> member_of(static_cast<std::size_t>(scale.agents));
  p.agent_saturated.resize(static_cast<std::size_t>(scale.agents));
  for (int a = 0; a < scale.agents; ++a) {
    const bool saturated = a % 5 < 2;
    p.agent_saturated[static_cast<std::size_t>(a)] = saturated;
    const int first = saturated ? 0 : saturated_clusters;
    const int span = saturated ? saturated_clusters : clusters - saturated_clusters;

    core::AgentConfig ac;
    ac.id = AgentId(static_cast<std::uint32_t>(a));
    ac.tenant = tenant;
    std::snprintf(name, sizeof name, "agent-%05d", a);
    ac.name = name;
    ac.extension = std::to_string(100000 + a);
    ac.team = core::TeamId(static_cast<std::uint32_t>(a % scale.teams));

    std::vector<int> my_clusters = {first + uniform(r, 0, span - 1)};
    if (span > 1 && r.below(100) < 35) {
      int second = first + uniform(r, 0, span - 2);
      if (second >= my_clusters[0]) ++second;
      my_clusters.push_back(second);
    }
    for (int c : my_clusters) {
      agents_of_cluster[static_cast<std::size_t>(c)].push_back(a);
      const int drop = r.below(100) < 25 ? uniform(r, 0, 3) : -1;
      for (int i = 0; i < kSkillsPerCluster; ++i) {
        if (i == drop) continue;
        ac.skills.push_back({core::SkillId(static_cast<std::uint32_t>(c * kSkillsPerCluster + i)),
                             uniform(r, core::kMinProficiency, core::kMaxProficiency)});
      }
    }

    std::vector<int> candidates;
    for (int c : my_clusters)
      for (int q : queues_of_cluster[static_cast<std::size_t>(c)])
        if (has_required_skills(ac, cfg.queues[static_cast<std::size_t>(q)]))
          candidates.push_back(q);
    shuffle(candidates, r);
    const auto n_queues = std::min(candidates.size(), static_cast<std::size_t>(uniform(r, 5, 10)));
    for (std::size_t i = 0; i < n_queues; ++i) {
      core::QueueMember m;
      m.queue = QueueId(static_cast<std::uint32_t>(candidates[i]));
      m.agent = ac.id;
      const auto t = r.below(100);
      m.tier = t < 65 ? 1 : t < 90 ? 2 : 3;
      m.penalty = uniform(r, 0, 5);
      m.queue_priority = uniform(r, 0, 3);
      m.weight = uniform(r, 1, 5);
      cfg.members.push_back(m);
      member_of[static_cast<std::size_t>(a)].push_back(static_cast<int>(cfg.members.size() - 1));
    }
    cfg.agents.push_back(std::move(ac));
  }

  // Every queue gets at least kMinEligibleTier1 tier-1 members eligible for a fresh call:
  // promote members (tier 1, levels raised to the minimum), or recruit agents of the
  // queue's cluster who have its skills.
  std::vector<std::vector<int>> members_of_queue(static_cast<std::size_t>(scale.queues));
  for (std::size_t i = 0; i < cfg.members.size(); ++i)
    members_of_queue[cfg.members[i].queue.value].push_back(static_cast<int>(i));
  for (int q = 0; q < scale.queues; ++q) {
    const auto& qc = cfg.queues[static_cast<std::size_t>(q)];
    auto& mine = members_of_queue[static_cast<std::size_t>(q)];
    auto eligible = [&](const core::QueueMember& m) {
      return m.tier == 1 && meets_levels(cfg.agents[m.agent.value], qc);
    };
    int have = static_cast<int>(std::count_if(mine.begin(), mine.end(), [&](int i) {
      return eligible(cfg.members[static_cast<std::size_t>(i)]);
    }));
    std::vector<int> order = mine;
    shuffle(order, r);
    for (int i : order) {
      if (have >= kMinEligibleTier1) break;
      auto& m = cfg.members[static_cast<std::size_t>(i)];
      if (eligible(m) || !has_all_skills(cfg.agents[m.agent.value], qc)) continue;
      m.tier = 1;
      raise_to_levels(cfg.agents[m.agent.value], qc);
      ++have;
    }
    auto pool = agents_of_cluster[static_cast<std::size_t>(q % clusters)];
    shuffle(pool, r);
    for (int a : pool) {
      if (have >= kMinEligibleTier1) break;
      auto& ac = cfg.agents[static_cast<std::size_t>(a)];
      if (!has_all_skills(ac, qc)) continue;
      const bool already = std::any_of(mine.begin(), mine.end(), [&](int i) {
        return cfg.members[static_cast<std::size_t>(i)].agent == ac.id;
      });
      if (already) continue;
      raise_to_levels(ac, qc);
      cfg.members.push_back({qc.id, ac.id, 1, uniform(r, 0, 5), uniform(r, 0, 3), 1});
      mine.push_back(static_cast<int>(cfg.members.size() - 1));
      member_of[static_cast<std::size_t>(a)].push_back(static_cast<int>(cfg.members.size() - 1));
      ++have;
    }
  }

  p.agent_sure_eligible.resize(static_cast<std::size_t>(scale.agents));
  for (int a = 0; a < scale.agents; ++a) {
    if (!p.agent_saturated[static_cast<std::size_t>(a)]) continue;
    for (int i : member_of[static_cast<std::size_t>(a)]) {
      const auto& m = cfg.members[static_cast<std::size_t>(i)];
      if (m.tier == 1 &&
          meets_levels(cfg.agents[static_cast<std::size_t>(a)], cfg.queues[m.queue.value])) {
        p.agent_sure_eligible[static_cast<std::size_t>(a)] = true;
        break;
      }
    }
  }

  if (options.rules) {
    // The same queues stated as rules (the targets name the skills, so the queues require
    // none), and the agents' languages, from a generator of their own so that the rest of
    // the population is the one the skills-routed benchmarks see.
    for (auto& qc : cfg.queues) {
      qc.routing = rules_routing(qc, cfg.skills);
      qc.escalation.clear();
      qc.required_skills.clear();
    }
    core::Xoshiro256 lr(options.seed ^ 0x1a46);
    for (auto& ac : cfg.agents) ac.languages = agent_languages(lr);
  }
  return p;
}

// ---- Scenario ----

Scenario::Scenario(const Scale& s, const ScenarioOptions& o)
    : scale(s),
      options(o),
      population(generate_population(s, o)),
      core_random(o.seed ^ 0x5eed),
      rng(o.seed ^ 0xbe7c4) {
  const std::int64_t t0 = now_ns();
  core = std::make_unique<core::RoutingCore>(clock, core_random, &observer);
  expect_ok(core->apply_config(population.config), "apply_config");

  std::vector<AgentId> saturated_agents;
  for (const auto& a : population.config.agents) {
    if (population.agent_saturated[a.id.value]) {
      saturated_agents.push_back(a.id);
      expect_ok(core->login(a.id, /*ready=*/false), "login (not ready)");
    } else {
      serving_agents.push_back(a.id);
      expect_ok(core->login(a.id, /*ready=*/true), "login (ready)");
    }
    clock.advance(1ms);  // agents log in over ten seconds: distinct idle times
  }
  std::vector<QueueId> serving_candidates;
  for (const auto& q : population.config.queues)
    (population.queue_saturated[q.id.value] ? saturated_queues : serving_candidates)
        .push_back(q.id);

  // Enqueues `spec` in `q`: the agent it was offered to at once, or none (the call is hung
  // up again).
  auto offered_at_once = [&](core::CallSpec spec, QueueId q,
                             const char* what) -> std::optional<AgentId> {
    const std::uint64_t offers = observer.offers();
    const CallId id = spec.id;
    expect_ok(core->enqueue(std::move(spec), q), what);
    if (observer.offers() == offers || observer.last_offer().call != id) {
      expect_ok(core->hang_up(id), "hang_up (call not offered at once)");
      return std::nullopt;
    }
    return observer.last_offer().agent;
  };

  // A fifth of the serving agents on calls that last the whole run.
  const std::size_t talking = serving_agents.size() / 5;
  for (std::size_t i = 0; i < talking; ++i) {
    const QueueId q = serving_candidates[rng.below(serving_candidates.size())];
    core::CallSpec spec = make_call(q);
    const CallId id = spec.id;
    const auto agent = offered_at_once(std::move(spec), q, "enqueue (serving load)");
    if (!agent) continue;
    expect_ok(core->offer_ringing(id, *agent), "offer_ringing (serving load)");
    expect_ok(core->offer_answered(id, *agent), "offer_answered (serving load)");
    clock.advance(1ms);
  }

  // Keep the serving queues where a new call is offered at once (all of them, normally);
  // with rules, in each language where it is.
  auto probe = [&](core::CallSpec spec, QueueId q) {
    const CallId id = spec.id;
    const auto agent = offered_at_once(std::move(spec), q, "enqueue (probe)");
    if (agent) answer_and_release(id, *agent);
    return agent.has_value();
  };
  if (options.rules) languages_served.resize(population.config.queues.size());
  for (QueueId q : serving_candidates) {
    bool serving = false;
    if (!options.rules) {
      serving = probe(make_call(), q);
    } else {
      auto& served = languages_served[q.value];
      for (std::string_view language : kLanguages) {
        core::CallSpec spec = make_call();
        spec.attributes.emplace_back("language", language);
        if (probe(std::move(spec), q)) served.push_back(language);
      }
      serving = !served.empty();
    }
    if (serving) serving_queues.push_back(q);
  }
  if (serving_queues.empty()) throw ScenarioError("no serving queue offers a new call");
  shuffle(serving_queues, rng);

  if (options.waiting_calls) {
    for (int i = 0; i < scale.waiting_calls; ++i) {
      const QueueId q = saturated_queues[rng.below(saturated_queues.size())];
      const std::uint64_t offers = observer.offers();
      expect_ok(core->enqueue(make_call(q), q), "enqueue (waiting)");
      if (observer.offers() != offers) throw ScenarioError("a saturated queue offered a call");
      clock.advance(2ms);
    }
    // Half of the saturated agents take a call each (answered, lasting the whole run); the
    // call they take is replaced so that the number waiting stays as it was.
    std::vector<AgentId> order = saturated_agents;
    shuffle(order, rng);
    for (std::size_t i = 0; i < order.size() / 2; ++i) {
      const AgentId a = order[i];
      const std::uint64_t offers = observer.offers();
      expect_ok(core->set_ready(a), "set_ready (saturated)");
      if (observer.offers() == offers) {
        expect_ok(core->set_not_ready(a, "break"), "set_not_ready (no call for agent)");
        continue;
      }
      const core::CallOffered offer = observer.last_offer();
      if (offer.agent != a) throw ScenarioError("set_ready offered a call to another agent");
      expect_ok(core->offer_ringing(offer.call, a), "offer_ringing (saturated)");
      expect_ok(core->offer_answered(offer.call, a), "offer_answered (saturated)");
      const std::uint64_t offers_now = observer.offers();
      expect_ok(core->enqueue(make_call(offer.queue), offer.queue), "enqueue (replacement)");
      if (observer.offers() != offers_now) throw ScenarioError("a replacement call was offered");
    }
  }
  for (AgentId a : saturated_agents)
    if (state_of(a) == AgentState::kNotReady && population.agent_sure_eligible[a.value])
      idle_saturated_agents.push_back(a);
  shuffle(idle_saturated_agents, rng);
  setup_ns = now_ns() - t0;
}

core::CallSpec Scenario::make_call() {
  core::CallSpec spec;
  const std::uint64_t id = next_call_id++;
  spec.id = CallId(id);
  spec.tenant = population.tenant;
  char number[16];
  std::snprintf(number, sizeof number, "+1555%07llu",
                static_cast<unsigned long long>(id % 10'000'000));
  spec.caller_number = number;  // 12 characters: no heap
  spec.dialed_number = "8000";
  const auto roll = rng.below(100);
  if (roll < 10) spec.priority = uniform(rng, 1, 5);
  if (roll >= 95) spec.vip_level = 1;
  return spec;
}

core::CallSpec Scenario::make_call(QueueId queue) {
  core::CallSpec spec = make_call();
  if (!options.rules) return spec;
  std::string_view language = draw_language(rng);
  if (queue.value < languages_served.size()) {
    const auto& served = languages_served[queue.value];
    if (!served.empty() && std::find(served.begin(), served.end(), language) == served.end())
      language = served.front();
  }
  spec.attributes.emplace_back("language", language);
  return spec;
}

core::AgentState Scenario::state_of(AgentId agent) const {
  const auto view = core->agent(agent);
  if (!view) throw ScenarioError("unknown agent");
  return view->state;
}

void Scenario::ensure_ready(AgentId agent) {
  switch (state_of(agent)) {
    case AgentState::kReady: return;
    case AgentState::kWrapUp: expect_ok(core->end_wrap_up(agent), "end_wrap_up"); break;
    case AgentState::kNotReady: expect_ok(core->set_ready(agent), "set_ready"); break;
    default: break;
  }
  if (state_of(agent) != AgentState::kReady)
    throw ScenarioError(std::string("agent not Ready after the call but ") +
                        core::to_string(state_of(agent)));
}

void Scenario::answer_and_release(CallId call, AgentId agent, core::Duration talk) {
  expect_ok(core->offer_ringing(call, agent), "offer_ringing");
  expect_ok(core->offer_answered(call, agent), "offer_answered");
  if (talk > core::Duration::zero()) advance(talk);
  expect_ok(core->hang_up(call), "hang_up");
  ensure_ready(agent);
}

int Scenario::waiting_calls() const {
  // One snapshot rather than queue() per queue: queue() walks every call in the core.
  int n = 0;
  for (const auto& q : core->snapshot().queues) n += q.waiting;
  return n;
}

void Scenario::advance(core::Duration d) {
  clock.advance(d);
  if (core->next_deadline() <= clock.now()) timers_fired += core->run_due_timers();
}

}  // namespace acd::bench
