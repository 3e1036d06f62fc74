// The routing core's internal state, shared by the files that implement RoutingCore
// (routing_core.cc: agents, calls, timers, configuration; routing_core_tasks.cc:
// non-voice tasks). Not part of the core's interface: include routing_core.h instead.
#pragma once

#include <algorithm>
#include <cassert>
#include <cmath>
#include <deque>
#include <memory>
#include <new>
#include <optional>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/core/queue_rules.h"
#include "engine/core/route_explanation.h"
#include "engine/core/routing_core.h"
#include "engine/rules/eval_context.h"

namespace acd::core {

struct CallRt;
struct TaskRt;

namespace internal {

constexpr int kNeverEligible = 127;  // a skill gap no relaxation can close
constexpr std::size_t kMaxReasons = 1024;
constexpr int kMaxQueueHops = 8;  // exits chaining queue to queue

// Order of ready agents inside one bucket: lower is offered first.
struct ReadyKey {
  int penalty = 0;
  std::int64_t primary = 0;
  std::int64_t secondary = 0;
  std::uint32_t agent = 0;
  // Not part of the order (`agent` is unique in a bucket): the membership's index in the
  // agent's list and a copy of its Membership::rule_steps, so that a rules-routed decision
  // can pass over most Ready members without touching them.
  std::uint32_t member = 0;
  std::uint64_t rule_steps = ~std::uint64_t{0};
  auto operator<=>(const ReadyKey&) const = default;
};

// Order of waiting calls (per queue step) and of waiting tasks (per queue): best first
// (higher rank, then earlier, then lower id). `Item` is the payload, not part of the order.
template <class Item>
struct RankKey {
  double rank = 0;
  std::int64_t enqueued_ns = 0;
  std::uint64_t id = 0;
  Item* ptr = nullptr;
  bool operator<(const RankKey& o) const {
    if (rank != o.rank) return rank > o.rank;
    if (enqueued_ns != o.enqueued_ns) return enqueued_ns < o.enqueued_ns;
    return id < o.id;
  }
};
using WaitKey = RankKey<CallRt>;
using TaskKey = RankKey<TaskRt>;

// How the router orders agents who could take a task: lower first.
struct TaskCandidateKey {
  int tier = 1;
  int penalty = 0;
  int load = 0;  // tasks in hand: the least busy agent first
  std::int64_t primary = 0;
  std::int64_t secondary = 0;
  std::uint32_t agent = 0;
  auto operator<=>(const TaskCandidateKey&) const = default;
};

// Ready agents of one queue who share a tier and the same skill gaps: every agent of a
// bucket is eligible for exactly the same waiting calls (up to per-call details). In a
// rules-routed queue the sets stay empty: its ready agents are in QueueRt::rule_ready.
struct ReadyBucket {
  int tier = 1;
  int required_gap = 0;
  int optional_gap = 0;
  std::set<ReadyKey> agents;
};

// The ready index of a rules-routed queue, flat and in no order: a decision passes over
// every Ready member (a set walk would be a cache miss per member), then orders the few
// that the precomputed data leaves. An entry names its bucket (tier and skill gaps).
struct RuleReady {
  ReadyKey key;
  std::uint32_t bucket = 0;
  int tier = 1;  // the bucket's, copied so that a decision reads this array alone
  int required_gap = 0;
  int optional_gap = 0;
  TimePoint idle_from;  // the later of the agent's idle_since and task_idle_since
  // The agent's AgentRuleFacts (null: the agent has none), valid while it is indexed: the
  // facts are rebuilt only with the agent out of the index.
  const rules::AgentFacts* facts = nullptr;
};

// The cumulative effect of a queue's escalation steps after step i (index 0: no step yet).
struct StepRule {
  Duration after{0};
  int relax = 0;
  bool drop_optional = false;
  int max_tier = 1;
};

enum class Trend : std::uint8_t { kNeutral, kRising, kFalling };

// What a queue's routing rules read of an agent (rules::AgentFacts: name, team, languages,
// attributes by Schema::agent_attributes slot, skills by Schema::skills slot), resolved
// against the tenant's rules schema when the configuration is applied. Immutable once
// built. Everything is in one heap block, the facts first, then the views, the characters
// they point to and the skills, so that evaluating a candidate touches one place, which a
// decision can prefetch. The per-decision fields (idle_ms, tasks, tier, penalty) are left
// at their defaults: the caller sets them on its copy.
class AgentRuleFacts {
 public:
  AgentRuleFacts(std::string_view name, std::string_view team,
                 const std::vector<std::string>& languages,
                 const std::vector<std::string_view>& attributes,
                 const std::vector<std::uint8_t>& skills);
  const rules::AgentFacts& facts() const {
    return *std::launder(reinterpret_cast<const rules::AgentFacts*>(block_.get()));
  }

 private:
  std::unique_ptr<std::byte[]> block_;
};

// A queue's compiled routing rules (QueueConfig::routing).
struct QueueRules {
  CompiledRouting compiled;
  // Queue figures the targets and the ORDER BY read (slots of the tenant's schema).
  std::vector<std::uint32_t> queue_slots;
  // The queue figures read (rules::QueueFigureRead bits, of any of those queues).
  std::uint8_t queue_figures = 0;
  // The targets or the ORDER BY read the clock (now.*, calendars, waits, idle times).
  bool reads_clock = false;
  // The targets read the clock or live queue figures: a waiting call may become eligible
  // for more agents with no routing event, so the queue is routed again every second while
  // anything waits in it.
  bool live = false;
  // Per step, the target's top-level AND in two parts: the terms that read only what
  // changes with the configuration (rules::Reads::agent_static), evaluated once per member
  // when the configuration is applied (Membership::rule_steps), and the others. A member
  // whose bit for the step is set is admitted when the others, compiled as one AND
  // (absent: there are none), are true. A target that was not split (`split` false) is
  // evaluated whole.
  struct StepTerms {
    bool split = false;
    std::vector<rules::CompiledExpression> static_terms;
    std::optional<rules::CompiledExpression> dynamic_terms;
  };
  std::vector<StepTerms> step_terms;
  // The leading ORDER BY keys a decision can compute from the flat ready index alone,
  // without evaluating anything: agent-static keys (precomputed per member, like the
  // static terms) and agent.idle. Per such key: its column in the member's row of
  // QueueRt::rule_static_keys, or -1 for agent.idle.
  std::vector<int> indexed_order_keys;
  std::size_t static_order_keys = 0;  // the columns of a row
};

// Scratch space for evaluating rules for one call or task: its facts, the candidate's
// facts and the context pointing at both.
struct RuleScratch {
  rules::TaskFacts task;
  rules::AgentFacts agent;
  rules::EvalContext context;
  std::vector<std::string_view> task_attributes;  // by Schema::task_attributes slot
  std::vector<std::string_view> task_ivr;         // by Schema::ivr_keys slot
  std::vector<rules::QueueFigures> figures;       // by Schema::queues slot
  std::vector<rules::CalendarState> calendars;    // by Schema::calendars slot
  std::vector<double> keys;                       // ORDER BY keys, candidate after candidate
  std::vector<double> indexed_keys;               // RuleCandidate::indexed
};

constexpr Duration kRulesReevaluation = std::chrono::seconds(1);

}  // namespace internal
using namespace internal;  // NOLINT: the implementation files share these names

struct Membership {
  std::uint32_t queue = 0;
  int tier = 1;
  int penalty = 0;
  int queue_priority = 0;
  int weight = 1;
  int position = 0;
  int required_gap = 0;
  int optional_gap = 0;
  int proficiency = 0;
  bool indexed = false;       // present in the queue's ready index
  bool in_ready_set = false;  // indexed in its bucket's set (not in a rules-routed queue)
  bool bucket_known = false;  // `bucket` matches the current gaps and tier
  std::uint32_t bucket = 0;
  ReadyKey key;
  std::set<ReadyKey>::iterator entry;  // valid while indexed: O(1) removal
  // Routing rules (set by build_rules): bit i is clear when step i's target refuses this
  // member whatever the call (a term of its top-level AND that reads only what changes
  // with the configuration is false; steps past 63 are never refused here); the row of
  // the member's precomputed ORDER BY keys in QueueRt::rule_static_keys.
  std::uint64_t rule_steps = ~std::uint64_t{0};
  std::uint32_t rule_row = 0;
  std::uint32_t rule_row_queue_gen = 0;  // QueueRt::rule_keys_gen when the row was given
  std::uint32_t rule_ready_pos = 0;      // in QueueRt::rule_ready while indexed (rules queues)
};

// A candidate of a rules-routed call: its ORDER BY keys (at `keys` in the scratch's key
// buffer), then tier and the queue's strategy order.
struct RuleCandidate {
  std::size_t keys = 0;
  int tier = 1;
  ReadyKey key;
  // The indexed ORDER BY keys (QueueRules::indexed_order_keys) at `indexed` in the
  // scratch's buffer, and the first of them again for a quick compare.
  std::size_t indexed = 0;
  double first_key = 0;
  TimePoint idle_from;
  const rules::AgentFacts* facts = nullptr;  // RuleReady::facts
};

struct AgentRt {
  AgentConfig cfg;
  bool exists = false;
  bool retiring = false;  // removed from config; logged out as soon as idle
  AgentState state = AgentState::kLoggedOut;
  ReasonId reason;
  TimePoint since{};
  TimePoint accounted_since{};  // start of the time not yet added to the counters
  TimePoint idle_since{};
  CallId call;
  CallKind call_kind = CallKind::kNone;
  // Where an outbound caller returns if the call never connects.
  AgentState state_before_dial = AgentState::kReady;
  ReasonId reason_before_dial;
  // After an outbound/internal call placed or taken from NotReady, the agent returns there.
  std::optional<ReasonId> return_reason;
  std::vector<Membership> memberships;  // sorted by queue_priority
  AgentCounters counters;
  std::uint32_t last_queue = UINT32_MAX;  // queue of the last inbound call (wrap-up stats)
  bool logout_pending = false;
  std::optional<ReasonId> pending_not_ready;
  std::uint32_t wrap_gen = 0;
  std::uint32_t break_gen = 0;
  bool on_counted_break = false;
  TimePoint break_since{};
  bool waitlisted = false;
  ReasonId waitlist_reason;
  // Calls transferred to this agent (directed transfers) that may still wait for them:
  // agent-first routing looks here first. Entries go stale (the call was answered, left,
  // stopped preferring the agent) and are dropped when the list is next walked.
  std::vector<CallId> directed_calls;
  // Non-voice tasks in hand (offered or accepted): per channel and in all. An agent with
  // tasks in hand is out of the ready index (no calls); see engine/core/task.h.
  ChannelLoad task_load{};
  int tasks_in_hand = 0;
  TimePoint task_idle_since{};  // a task was last offered to or left the agent
  // Tasks transferred to this agent that may still wait for them (stale entries skipped).
  std::vector<TaskId> directed_tasks;
  // What routing rules read of the agent (set when the configuration is applied).
  std::shared_ptr<const AgentRuleFacts> rule_facts;
};

struct QueueRt {
  QueueConfig cfg;
  bool exists = false;
  bool closed = false;  // removed from config; serves its calls, takes no new ones
  std::vector<StepRule> steps;
  std::vector<std::set<WaitKey>> waiting;  // per step
  int waiting_count = 0;
  int offering_count = 0;
  std::deque<ReadyBucket> buckets;     // deque: growth never moves a set (members hold iterators)
  std::vector<std::uint32_t> members;  // agent indices, list order
  int logged_in_members = 0;
  int rr_last_position = -1;
  // Overflow rule state.
  int overflow_tier = 1;
  bool overflow_rule_changed = false;  // by the configuration being applied
  int over_threshold = 0;
  Trend trend = Trend::kNeutral;
  std::uint32_t overflow_gen = 0;
  QueueCounters counters;
  // Non-voice tasks.
  std::set<TaskKey> waiting_tasks;
  int tasks_offered = 0;
  int tasks_accepted = 0;  // accepted tasks whose current queue this is
  int task_rr_last_position = -1;
  // Routing rules (null: the queue routes by skills and escalation).
  std::shared_ptr<const QueueRules> rules;
  // The members' agent-static ORDER BY keys (QueueRules::static_order_keys per member, at
  // Membership::rule_row), as CompiledOrder::evaluate gives them.
  std::vector<double> rule_static_keys;
  std::uint32_t rule_keys_gen = 0;  // bumped when rule_static_keys is rebuilt
  // With rules: every entry of `buckets`, flat (Membership::rule_ready_pos), and beside it
  // each entry's row of rule_static_keys (QueueRules::static_order_keys values).
  std::vector<RuleReady> rule_ready;
  std::vector<double> rule_ready_static;
  std::size_t rule_ready_width = 0;  // the row width of rule_ready_static (static_order_keys)
  bool rules_tick_pending = false;   // a kRulesReevaluate timer is scheduled
};

struct CallRt {
  CallSpec spec;
  CallKind kind = CallKind::kInbound;
  CallPhase phase = CallPhase::kWaiting;
  std::uint32_t queue = UINT32_MAX;
  TimePoint arrived{};
  TimePoint enqueued{};
  WaitKey key;
  int step = 0;
  std::uint32_t gen = 0;  // bumped whenever the call's queue timers must be forgotten
  int hops = 0;
  bool over_threshold = false;
  bool max_wait_reached = false;
  bool in_queue = false;  // counted in its queue (waiting or offering)
  AgentId preferred;
  TimePoint sticky_until{};
  std::vector<std::pair<AgentId, TimePoint>> excluded;
  std::vector<AgentId> offered;
  std::uint32_t offer_gen = 0;
  AgentId agent;            // connected agent, or the originator of an outbound/internal call
  AgentId callee;           // internal call: the agent being called
  TimePoint answered_at{};  // answered in its current queue (inbound), or connected (placed)
  // The current agent's part of the call: talk since talk_since, less hold_total (and the
  // hold in progress). Parts of earlier agents (before transfers) are in talk_before and
  // hold_before.
  TimePoint talk_since{};
  TimePoint hold_started{};
  Duration hold_total{0};
  bool held = false;
  Duration talk_before{0};
  Duration hold_before{0};
  // `preferred` was chosen by a directed transfer: the agent need not be a member of the
  // queue nor have its skills.
  bool directed = false;
  CallId consult;      // inbound: the consultation call its agent placed, if any
  CallId consult_for;  // a consultation call: the inbound call its originator is on
};

struct TaskRt {
  TaskSpec spec;
  TaskPhase phase = TaskPhase::kWaiting;
  std::uint32_t queue = UINT32_MAX;
  std::uint64_t seq = 0;  // creation order
  TimePoint created{};
  TimePoint enqueued{};
  TimePoint accepted_at{};  // in its current queue entry (kAccepted)
  TaskKey key;
  int step = 0;
  std::uint32_t gen = 0;  // bumped on every queue entry: older queue timers are stale
  std::uint32_t offer_gen = 0;
  AgentId agent;  // offered to or accepted by
  AgentId preferred;
  TimePoint preferred_until{};
  std::vector<std::pair<AgentId, TimePoint>> excluded;
  Duration handled_before{0};  // accepted time of earlier agents (before transfers)
};

struct TeamRt {
  TeamConfig cfg;
  bool exists = false;
  std::vector<ReasonId> break_reasons;
  int on_break = 0;
  std::deque<AgentId> waitlist;
};

enum class TimerKind : std::uint8_t {
  kRingTimeout,
  kWrapUpEnd,
  kMaxWait,
  kEscalation,
  kOverThreshold,
  kStickyExpire,
  kExclusionExpire,
  kOverflowSustain,
  kOverflowClear,
  kBreakOverrun,
  kTaskOfferTimeout,  // target: task id, gen: offer_gen
  kTaskEscalation,    // target: task id, gen: gen
  kTaskRetry,         // an exclusion or a transfer preference ran out: route again
  kRulesReevaluate    // target: queue index; live rules are evaluated again
};

struct Timer {
  TimePoint at;
  std::uint64_t seq;
  TimerKind kind;
  std::uint64_t target;
  std::uint32_t gen;
  bool operator>(const Timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

struct StickyEntry {
  AgentId agent;
  TimePoint served;
};

struct TenantRt {
  TenantConfig cfg;
  bool exists = false;
  rules::Schema rules_schema;
  std::vector<std::uint32_t> rules_queue_index;  // schema queue slot -> queue index
  std::vector<SkillId> rule_skill_slots;         // schema skill slot -> skill
  std::unordered_map<std::string, StickyEntry> last_agent;
  std::deque<std::pair<TimePoint, std::string>> last_agent_order;  // for expiry
};

struct RoutingCore::Impl {
  Impl(Clock& c, Random& r, CoreObserver* o) : clock(c), random(r), observer(o) {
    for (const char* name : {"login", "no-answer", "manual-ready", "busy", "unreachable"})
      intern(name);
  }

  Clock& clock;
  Random& random;
  CoreObserver* observer;
  TimePoint epoch{};
  bool epoch_set = false;

  std::vector<TenantRt> tenants;
  std::vector<AgentRt> agents;
  std::vector<QueueRt> queues;
  std::vector<TeamRt> teams;
  std::vector<SkillConfig> skills;
  std::unordered_map<CallId, std::unique_ptr<CallRt>> calls;
  std::unordered_map<TaskId, std::unique_ptr<TaskRt>> tasks;
  std::uint64_t task_seq = 0;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::uint64_t timer_seq = 0;
  std::vector<std::string> reason_names;
  std::unordered_map<std::string, ReasonId> reason_ids;
  Duration max_sticky_window{0};

  ReasonId kLogin{0}, kNoAnswer{1}, kManualReady{2}, kBusy{3}, kUnreachable{4};

  // Scratch buffers reused across routing decisions (never allocate on the hot path).
  std::vector<std::uint32_t> scratch_agents;
  std::vector<std::pair<ReadyKey, std::uint32_t>> scratch_found;
  RuleScratch rule_scratch;
  // For the one-agent checks (call_target_admits, task_target_admits), which are const and
  // may run while a decision holds rule_scratch: reused so that a check allocates nothing.
  mutable RuleScratch admit_scratch;
  std::vector<RuleCandidate> scratch_candidates;
  std::vector<RuleCandidate> scratch_pool;
  std::vector<RuleCandidate> scratch_block;  // route_call_by_rules: a block after the first

  // ---------------------------------------------------------------- helpers
  TimePoint now() const { return clock.now(); }

  void emit(const CoreEvent& e) {
    if (observer != nullptr) observer->on_event(e);
  }

  std::optional<ReasonId> intern(std::string_view name) {
    auto it = reason_ids.find(std::string(name));
    if (it != reason_ids.end()) return it->second;
    if (reason_names.size() >= kMaxReasons) return std::nullopt;
    ReasonId id(static_cast<std::uint16_t>(reason_names.size()));
    reason_names.emplace_back(name);
    reason_ids.emplace(std::string(name), id);
    return id;
  }

  AgentRt* find_agent(AgentId id) {
    if (!id.valid() || id.value >= agents.size() || !agents[id.value].exists) return nullptr;
    return &agents[id.value];
  }
  const AgentRt* find_agent(AgentId id) const { return const_cast<Impl*>(this)->find_agent(id); }
  QueueRt* find_queue(QueueId id) {
    if (!id.valid() || id.value >= queues.size() || !queues[id.value].exists) return nullptr;
    return &queues[id.value];
  }
  CallRt* find_call(CallId id) {
    auto it = calls.find(id);
    return it == calls.end() ? nullptr : it->second.get();
  }
  const CallRt* find_call(CallId id) const { return const_cast<Impl*>(this)->find_call(id); }
  TaskRt* find_task(TaskId id) {
    auto it = tasks.find(id);
    return it == tasks.end() ? nullptr : it->second.get();
  }
  const TaskRt* find_task(TaskId id) const { return const_cast<Impl*>(this)->find_task(id); }
  TeamRt* team_of(const AgentRt& a) {
    if (!a.cfg.team.valid() || a.cfg.team.value >= teams.size()) return nullptr;
    TeamRt& t = teams[a.cfg.team.value];
    return t.exists ? &t : nullptr;
  }

  static Status not_found(const char* what, std::uint64_t id) {
    return {ErrorCode::kNotFound, std::string(what) + " " + std::to_string(id) + " does not exist"};
  }
  static Status bad_state(const AgentRt& a, const char* request, const char* expected) {
    return {ErrorCode::kInvalidState, "agent '" + a.cfg.name + "' is " + to_string(a.state) +
                                          ": cannot " + request + " (allowed from " + expected +
                                          ")"};
  }

  void schedule(TimePoint at, TimerKind kind, std::uint64_t target, std::uint32_t gen) {
    timers.push(Timer{at, timer_seq++, kind, target, gen});
  }

  double rank_of(const QueueRt& q, const CallSpec& spec, TimePoint enqueued) const {
    return rank_of(q, spec.priority, spec.vip_level, enqueued);
  }
  double rank_of(const QueueRt& q, int priority, int vip_level, TimePoint enqueued) const {
    const double base = priority + static_cast<double>(vip_level) * q.cfg.vip_boost;
    const double minutes = std::chrono::duration<double, std::ratio<60>>(enqueued - epoch).count();
    return base - q.cfg.aging_per_minute * minutes;
  }
  double effective_priority(const QueueRt& q, const CallRt& c, TimePoint t) const {
    return effective_priority(q, c.key.rank, t);
  }
  double effective_priority(const QueueRt& q, double rank, TimePoint t) const {
    const double minutes = std::chrono::duration<double, std::ratio<60>>(t - epoch).count();
    return rank + q.cfg.aging_per_minute * minutes;
  }

  // ------------------------------------------------------------ skill gaps
  static int agent_level(const AgentConfig& a, SkillId s) {
    for (const auto& sk : a.skills)
      if (sk.skill == s) return sk.level;
    return 0;
  }
  // The relaxation needed before `level` meets `min_level`; kNeverEligible when the agent
  // lacks the skill (relaxation never goes below proficiency 1).
  static int gap(int level, int min_level) {
    if (level <= 0) return kNeverEligible;
    return std::max(0, min_level - level);
  }
  void compute_gaps(const AgentRt& a, const QueueRt& q, Membership& m) const {
    m.bucket_known = false;
    m.required_gap = 0;
    m.optional_gap = 0;
    m.proficiency = 0;
    for (const auto& req : q.cfg.required_skills) {
      const int level = agent_level(a.cfg, req.skill);
      m.proficiency += level;
      int& g = req.optional ? m.optional_gap : m.required_gap;
      g = std::max(g, gap(level, req.min_level));
    }
  }
  bool extra_skills_ok(const AgentRt& a, const CallRt& c, const StepRule& rule) const {
    return extra_skills_ok(a, c.spec.extra_skills, rule);
  }
  bool extra_skills_ok(const AgentRt& a, const std::vector<SkillRequirement>& extra,
                       const StepRule& rule) const {
    for (const auto& req : extra) {
      if (req.optional && rule.drop_optional) continue;
      if (gap(agent_level(a.cfg, req.skill), req.min_level) > rule.relax) return false;
    }
    return true;
  }
  static bool gaps_ok(int required_gap, int optional_gap, const StepRule& rule) {
    return required_gap <= rule.relax && (rule.drop_optional || optional_gap <= rule.relax);
  }
  int effective_tier(const QueueRt& q, const CallRt& c) const {
    return std::max(q.steps[c.step].max_tier, q.overflow_tier);
  }
  bool excluded(const CallRt& c, AgentId a, TimePoint t) const {
    return excluded(c.excluded, a, t);
  }
  static bool excluded(const std::vector<std::pair<AgentId, TimePoint>>& list, AgentId a,
                       TimePoint t) {
    for (const auto& [agent, until] : list)
      if (agent == a && until > t) return true;
    return false;
  }
  bool sticky_active(const CallRt& c, TimePoint t) const {
    return c.preferred.valid() && t < c.sticky_until;
  }
  // A directed transfer to `id` is in force: `id` may take the call whatever their
  // membership and skills (unless they failed to answer it lately).
  bool directed_to(const CallRt& c, AgentId id, TimePoint t) const {
    return c.directed && c.preferred == id && sticky_active(c, t) &&
           (c.excluded.empty() || !excluded(c, id, t));
  }
  // Everything about agent-call eligibility that the bucket structure does not encode.
  bool residual_ok(const AgentRt& a, AgentId id, const CallRt& c, const QueueRt& q,
                   TimePoint t) const {
    if (sticky_active(c, t) && c.preferred != id) return false;
    if (!c.excluded.empty() && excluded(c, id, t)) return false;
    if (!c.spec.extra_skills.empty() && !extra_skills_ok(a, c, q.steps[c.step])) return false;
    return true;
  }
  bool eligible(const AgentRt& a, AgentId id, const Membership& m, const CallRt& c,
                const QueueRt& q, TimePoint t) const {
    if (directed_to(c, id, t)) return true;
    if (m.tier > effective_tier(q, c)) return false;
    if (!gaps_ok(m.required_gap, m.optional_gap, q.steps[c.step])) return false;
    if (!residual_ok(a, id, c, q, t)) return false;
    if (q.rules == nullptr) return true;
    return rule_step_possible(m.rule_steps, c.step) && call_target_admits(q, c, a, &m, t);
  }
  // False when a term of step `step`'s target that reads only the configuration refuses
  // member `m` (Membership::rule_steps).
  static bool rule_step_possible(std::uint64_t rule_steps, int step) {
    return step >= 64 || ((rule_steps >> step) & 1U) != 0;
  }
  Membership* membership(AgentRt& a, std::uint32_t queue) {
    for (auto& m : a.memberships)
      if (m.queue == queue) return &m;
    return nullptr;
  }

  // ------------------------------------------------------------ ready index
  ReadyKey ready_key(const AgentRt& a, std::uint32_t agent_index, const QueueRt& q,
                     const Membership& m) const {
    ReadyKey k;
    k.penalty = m.penalty;
    k.agent = agent_index;
    k.member = static_cast<std::uint32_t>(&m - a.memberships.data());
    k.rule_steps = m.rule_steps;
    const std::int64_t idle = a.idle_since.time_since_epoch().count();
    switch (q.cfg.strategy) {
      case Strategy::kLongestIdle:
      case Strategy::kRingAll:
      case Strategy::kRandom:
      case Strategy::kWeightedRandom: k.primary = idle; break;
      case Strategy::kLeastTalkTime:
        k.primary = a.counters.talk.count();
        k.secondary = idle;
        break;
      case Strategy::kFewestCalls:
        k.primary = static_cast<std::int64_t>(a.counters.handled);
        k.secondary = idle;
        break;
      case Strategy::kRoundRobin:
      case Strategy::kTopDown: k.primary = m.position; break;
      case Strategy::kBestProficiency:
        k.primary = -m.proficiency;
        k.secondary = idle;
        break;
    }
    return k;
  }

  std::uint32_t bucket_for(QueueRt& q, const Membership& m) {
    for (std::uint32_t i = 0; i < q.buckets.size(); ++i) {
      const auto& b = q.buckets[i];
      if (b.tier == m.tier && b.required_gap == m.required_gap && b.optional_gap == m.optional_gap)
        return i;
    }
    q.buckets.push_back(ReadyBucket{m.tier, m.required_gap, m.optional_gap, {}});
    return static_cast<std::uint32_t>(q.buckets.size() - 1);
  }

  void index_ready(AgentRt& a) {
    const auto idx = static_cast<std::uint32_t>(&a - agents.data());
    for (auto& m : a.memberships) {
      if (m.required_gap >= kNeverEligible) continue;
      QueueRt& q = queues[m.queue];
      if (!m.bucket_known) {
        m.bucket = bucket_for(q, m);
        m.bucket_known = true;
      }
      m.key = ready_key(a, idx, q, m);
      m.indexed = true;
      m.in_ready_set = q.rules == nullptr;
      if (m.in_ready_set) {
        // Most strategies key on idle-since: a newly Ready agent usually sorts last.
        auto& set = q.buckets[m.bucket].agents;
        m.entry = set.insert(set.end(), m.key);
      } else {
        m.rule_ready_pos = static_cast<std::uint32_t>(q.rule_ready.size());
        const ReadyBucket& b = q.buckets[m.bucket];
        q.rule_ready.push_back(RuleReady{m.key, m.bucket, b.tier, b.required_gap, b.optional_gap,
                                         std::max(a.idle_since, a.task_idle_since),
                                         a.rule_facts ? &a.rule_facts->facts() : nullptr});
        const std::size_t width = q.rule_ready_width;
        const auto row =
            q.rule_static_keys.begin() + static_cast<std::ptrdiff_t>(m.rule_row * width);
        q.rule_ready_static.insert(q.rule_ready_static.end(), row,
                                   row + static_cast<std::ptrdiff_t>(width));
      }
    }
  }
  void unindex_ready(AgentRt& a) {
    for (auto& m : a.memberships) {
      if (!m.indexed) continue;
      QueueRt& q = queues[m.queue];
      m.indexed = false;
      if (m.in_ready_set) {
        q.buckets[m.bucket].agents.erase(m.entry);
        m.in_ready_set = false;
      } else {
        remove_rule_ready(q, m);
      }
    }
  }
  void remove_rule_ready(QueueRt& q, const Membership& m) {
    const std::uint32_t pos = m.rule_ready_pos;
    if (pos >= q.rule_ready.size() || q.rule_ready[pos].key.agent != m.key.agent ||
        q.rule_ready[pos].key.member != m.key.member)
      return;  // not in the flat index (the queue had no rules when the agent was indexed)
    const RuleReady last = q.rule_ready.back();
    q.rule_ready[pos] = last;
    agents[last.key.agent].memberships[last.key.member].rule_ready_pos = pos;
    q.rule_ready.pop_back();
    const std::size_t width = q.rule_ready_width;
    if (width == 0 || q.rule_ready_static.size() < width) return;
    std::copy(q.rule_ready_static.end() - static_cast<std::ptrdiff_t>(width),
              q.rule_ready_static.end(),
              q.rule_ready_static.begin() + static_cast<std::ptrdiff_t>(pos * width));
    q.rule_ready_static.resize(q.rule_ready_static.size() - width);
  }
  void clear_ready_index(QueueRt& q) {
    q.buckets.clear();
    q.rule_ready.clear();
    q.rule_ready_static.clear();
  }

  // Forward declarations of the larger pieces (defined below).
  void set_state(AgentRt& a, AgentState to, Cause cause, ReasonId reason = ReasonId{},
                 bool keep_idle = false);
  void account_leave(AgentRt& a, TimePoint t);
  void make_ready(AgentRt& a, Cause cause, bool keep_idle = false);
  void after_call(AgentRt& a, Duration wrap_up, bool manual_wrap_up, Cause cause = Cause::kCall);
  void finish_wrap_up(AgentRt& a, Cause cause);
  void do_logout(AgentRt& a, Cause cause);
  void return_to_not_ready(AgentRt& a, ReasonId reason, Cause cause);
  bool break_slot_free(const TeamRt& t) const;
  bool is_break_reason(const TeamRt& t, ReasonId r) const;
  void grant_waitlisted_breaks(TeamRt& t);
  void remove_from_waitlist(AgentRt& a);

  bool route_agent(AgentRt& a);
  bool route_call(CallRt& c);
  void route_waiting_calls(QueueRt& q);
  void offer(CallRt& c, const std::vector<std::uint32_t>& agent_indices);
  void release_offered_agent(AgentRt& a, Cause cause, bool keep_idle);
  void end_offer(CallRt& c, AgentId agent, OfferEndReason reason, bool requeue);
  void return_to_queue(CallRt& c);

  Status enqueue_into(CallRt& c, std::uint32_t qi, bool first_entry, bool transfer = false,
                      AgentId directed = AgentId{});
  void insert_waiting(CallRt& c);
  void erase_waiting(CallRt& c);
  // A new inbound call of `queue`, checked as enqueue() checks it, in `calls`.
  Status add_inbound_call(CallSpec spec, QueueId queue, CallRt*& added);
  void leave_queue_accounting(CallRt& c);
  void exit_call(CallRt& c, ExitReason reason, const ExitDestination& dest);
  void finish(CallRt& c, FinalState state, Duration waited, HangupCause cause);
  struct Part {
    Duration talk{0};
    Duration hold{0};
  };
  Part close_part(CallRt& c, TimePoint t);
  void release_after_dial(AgentRt& x);
  void end_dial(CallRt& c, HangupCause cause);
  void end_consult(CallRt& k, HangupCause cause);
  CallRt* best_directed_call(AgentRt& a, TimePoint t);
  Status check_transferable(const CallRt& c, const char* what) const;
  void release_transferring_agent(AgentRt& a, std::uint32_t qi, Cause cause);
  void schedule_call_timers(CallRt& c);
  void apply_sticky(CallRt& c, QueueRt& q);
  void remember_agent(CallRt& c);
  void reevaluate_overflow(QueueRt& q);
  void fire(const Timer& t);
  void on_member_logged_out(std::uint32_t qi);
  void delete_closed_queue_if_empty(QueueRt& q);

  // The checks a call and a task share on entry: tenant (filled in from the queue when
  // unset), priority and VIP ranges, extra skills of the tenant. `what`: "call" or "task".
  Status check_entry(const char* what, TenantId& tenant, const QueueRt& q, int priority,
                     int vip_level, const std::vector<SkillRequirement>& extra_skills) const;

  // ---- Non-voice tasks (routing_core_tasks.cc) ----
  // Ready with no task in hand: the agent may be offered a call.
  static bool voice_available(const AgentRt& a) {
    return a.state == AgentState::kReady && a.tasks_in_hand == 0;
  }
  bool task_eligible(const AgentRt& a, AgentId id, const Membership* m, const TaskRt& k,
                     const QueueRt& q, TimePoint t) const;
  TaskCandidateKey task_candidate_key(const AgentRt& a, std::uint32_t idx, const QueueRt& q,
                                      const Membership* m);
  // Refuses like enqueue_into refuses a caller; otherwise the task waits in `qi` and is
  // routed.
  Status check_task_admission(const QueueRt& q) const;
  void enqueue_task(TaskRt& k, std::uint32_t qi, AgentId preferred);
  bool route_task(TaskRt& k);
  void route_waiting_tasks(QueueRt& q);
  void route_agent_tasks(AgentRt& a);
  void offer_task(TaskRt& k, std::uint32_t agent_index);
  void take_back_task(AgentRt& a, TaskRt& k);
  void end_task_offer(TaskRt& k, OfferEndReason reason);
  void agent_freed(AgentRt& a);
  // Sets `a` LoggedOut; offered tasks are withdrawn and accepted ones return to their
  // queues.
  void log_out_returning_tasks(AgentRt& a, Cause cause);
  void finish_task(TaskRt& k, TaskFinalState state);
  void fire_task_timer(const Timer& timer);
  [[nodiscard]] TaskView task_view(const TaskRt& k) const;
  [[nodiscard]] Status check_task_invariants() const;

  // ---- Routing rules (routing_core_rules.cc) ----
  // Compiles the tenants' schemas, the queues' rules and the agents' rule facts of the
  // configuration just applied (validate() compiled them once already).
  void build_rules(const CoreConfig& config);
  void build_agent_rules(AgentRt& a);
  // Fills `s` with a call's or a task's facts for queue `q`'s rules, and the figures of
  // the queues they read.
  void prepare_call_rules(const QueueRt& q, const CallRt& c, TimePoint t, RuleScratch& s) const;
  void prepare_task_rules(const QueueRt& q, const TaskRt& k, TimePoint t, RuleScratch& s) const;
  // Points s.context.agent at `a`'s facts as a candidate of `m`'s queue.
  void set_rule_agent(const AgentRt& a, const Membership* m, TimePoint t, RuleScratch& s) const;
  // Whether queue `q`'s target for `step` admits the agent set in `s`.
  static bool target_admits(const QueueRt& q, int step, const RuleScratch& s) {
    return q.rules->compiled.targets[static_cast<std::size_t>(step)].matches(s.context);
  }
  // The same for a member whose Membership::rule_steps admits `step` (rule_step_possible):
  // its static terms are known to hold, only the others are evaluated.
  static bool member_target_admits(const QueueRt& q, int step, const RuleScratch& s) {
    const auto i = static_cast<std::size_t>(step);
    const auto& terms = q.rules->step_terms;
    if (step >= 64 || i >= terms.size() || !terms[i].split) return target_admits(q, step, s);
    return !terms[i].dynamic_terms || terms[i].dynamic_terms->matches(s.context);
  }
  bool call_target_admits(const QueueRt& q, const CallRt& c, const AgentRt& a, const Membership* m,
                          TimePoint t) const;
  bool task_target_admits(const QueueRt& q, const TaskRt& k, const AgentRt& a, const Membership* m,
                          TimePoint t) const;
  bool route_call_by_rules(CallRt& c, QueueRt& q, TimePoint t);
  Status explain_route(const RouteQuery& query, RouteExplanation& out) const;
  // Why `a` (a member of `q`, skill routing) is not admitted at step `step`; empty if it is.
  std::string skill_refusal(const AgentRt& a, const Membership& m, const QueueRt& q,
                            const std::vector<SkillRequirement>& extra, int step) const;
  // Keeps live rules evaluated while anything waits in `q`.
  void watch_live_rules(QueueRt& q);
  void fire_rules_reevaluate(std::uint32_t queue_index);

  Status apply_config(const CoreConfig& config);
  Status validate(const CoreConfig& config) const;
  void build_steps(QueueRt& q);
  void rebuild_memberships();

  CoreSnapshot snapshot() const;
  QueueSnapshot queue_snapshot(const QueueRt& q, TimePoint t) const;
  Status check_invariants() const;
};

}  // namespace acd::core
