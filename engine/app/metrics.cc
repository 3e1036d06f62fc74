#include "engine/app/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/core/agent_state.h"
#include "engine/core/time.h"

namespace acd::app {
namespace {

using Number = std::variant<std::int64_t, std::uint64_t, double>;

struct Label {
  std::string_view name;
  std::string_view value;
};

// Appends one exposition text. The caller keeps each family's samples together.
class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) {
      if (c == '\\') {
        out_ += "\\\\";
      } else if (c == '\n') {
        out_ += "\\n";
      } else {
        out_ += c;
      }
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(std::string_view name, std::initializer_list<Label> labels, Number value) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const Label& label : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += label.name;
        out_ += "=\"";
        append_label_value(label.value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    std::visit([this](auto v) { append_number(v); }, value);
    out_ += '\n';
  }

  std::string take() { return std::move(out_); }

 private:
  void append_label_value(std::string_view value) {
    for (char c : value) {
      switch (c) {
        case '\\': out_ += "\\\\"; break;
        case '"': out_ += "\\\""; break;
        case '\n': out_ += "\\n"; break;
        default: out_ += c;
      }
    }
  }

  template <class T>
  void append_integer(T v) {
    std::array<char, 24> buffer{};
    auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
    out_.append(buffer.data(), end);
  }
  void append_number(std::int64_t v) { append_integer(v); }
  void append_number(std::uint64_t v) { append_integer(v); }
  void append_number(double v) {
    if (std::isnan(v)) {
      out_ += "NaN";
    } else if (std::isinf(v)) {
      out_ += v > 0 ? "+Inf" : "-Inf";
    } else {
      // The shortest text that reads back as the same double (Go's ParseFloat takes it).
      std::array<char, 32> buffer{};
      auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
      out_.append(buffer.data(), end);
    }
  }

  std::string out_;
};

double seconds(core::Duration d) {
  return core::to_seconds(d);
}

// One family with a value per queue (labels tenant, queue).
struct QueueFamily {
  const char* name;
  const char* type;
  const char* help;
  Number (*value)(const core::QueueSnapshot&);
};

constexpr QueueFamily kQueueFamilies[] = {
    {"acd_queue_waiting", "gauge", "Calls waiting in the queue (not yet offered to an agent).",
     [](const core::QueueSnapshot& q) -> Number { return std::int64_t{q.waiting}; }},
    {"acd_queue_offering", "gauge", "Calls of the queue whose agent is being rung.",
     [](const core::QueueSnapshot& q) -> Number { return std::int64_t{q.offering}; }},
    {"acd_queue_longest_wait_seconds", "gauge", "How long the longest-waiting call has waited.",
     [](const core::QueueSnapshot& q) -> Number { return seconds(q.longest_wait); }},
    {"acd_queue_estimated_wait_seconds", "gauge", "Estimated wait of a caller joining now.",
     [](const core::QueueSnapshot& q) -> Number { return seconds(q.estimated_wait); }},
    {"acd_queue_overflow_tier", "gauge",
     "Highest agent tier the queue's overflow rule currently brings in (1: none).",
     [](const core::QueueSnapshot& q) -> Number { return std::int64_t{q.overflow_tier}; }},
    {"acd_queue_members_logged_in", "gauge", "Members of the queue who are logged in.",
     [](const core::QueueSnapshot& q) -> Number { return std::int64_t{q.members_logged_in}; }},
    {"acd_queue_members_ready", "gauge",
     "Members of the queue who are ready for a call (Ready with no task in hand).",
     [](const core::QueueSnapshot& q) -> Number { return std::int64_t{q.members_ready}; }},
    {"acd_queue_members_busy", "gauge",
     "Members of the queue who are reserved, ringing, talking, holding, in wrap-up, or Ready "
     "with tasks in hand.",
     [](const core::QueueSnapshot& q) -> Number { return std::int64_t{q.members_busy}; }},
    {"acd_queue_tasks_waiting", "gauge", "Non-voice tasks waiting in the queue.",
     [](const core::QueueSnapshot& q) -> Number { return std::int64_t{q.tasks_waiting}; }},
    {"acd_queue_tasks_offered", "gauge",
     "Tasks of the queue offered to an agent, not yet accepted.",
     [](const core::QueueSnapshot& q) -> Number { return std::int64_t{q.tasks_offered}; }},
    {"acd_queue_tasks_accepted", "gauge", "Tasks of the queue an agent works on.",
     [](const core::QueueSnapshot& q) -> Number { return std::int64_t{q.tasks_accepted}; }},
    {"acd_queue_longest_task_wait_seconds", "gauge",
     "How long the longest-waiting task has waited.",
     [](const core::QueueSnapshot& q) -> Number { return seconds(q.longest_task_wait); }},
    {"acd_queue_tasks_entered_total", "counter",
     "Tasks that entered the queue (created, transferred or returned there).",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.tasks_entered; }},
    {"acd_queue_tasks_completed_total", "counter", "Tasks of the queue completed by an agent.",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.tasks_completed; }},
    {"acd_queue_tasks_abandoned_total", "counter",
     "Tasks of the queue cancelled before an agent accepted them.",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.tasks_abandoned; }},
    {"acd_queue_entered_total", "counter", "Calls that entered the queue.",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.entered; }},
    {"acd_queue_answered_total", "counter", "Calls of the queue answered by an agent.",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.answered; }},
    {"acd_queue_answered_in_threshold_total", "counter",
     "Calls answered within the queue's service-level threshold.",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.answered_in_threshold; }},
    {"acd_queue_abandoned_total", "counter", "Callers who hung up while waiting.",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.abandoned; }},
    {"acd_queue_abandoned_in_threshold_total", "counter",
     "Callers who hung up within the service-level threshold.",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.abandoned_in_threshold; }},
    {"acd_queue_exited_total", "counter",
     "Calls that left through an exit (timeout, full, empty, closed, breakout key).",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.exited; }},
    {"acd_queue_handled_total", "counter", "Answered calls of the queue that have ended.",
     [](const core::QueueSnapshot& q) -> Number { return q.counters.handled; }},
    {"acd_queue_answer_wait_seconds_total", "counter",
     "Total time answered calls waited before the answer.",
     [](const core::QueueSnapshot& q) -> Number { return seconds(q.counters.total_answer_wait); }},
    {"acd_queue_talk_seconds_total", "counter", "Total talk time of the queue's handled calls.",
     [](const core::QueueSnapshot& q) -> Number { return seconds(q.counters.total_talk); }},
    {"acd_queue_hold_seconds_total", "counter", "Total hold time of the queue's handled calls.",
     [](const core::QueueSnapshot& q) -> Number { return seconds(q.counters.total_hold); }},
    {"acd_queue_wrap_up_seconds_total", "counter",
     "Total wrap-up time after the queue's handled calls.",
     [](const core::QueueSnapshot& q) -> Number { return seconds(q.counters.total_wrap_up); }},
    {"acd_queue_asa_seconds", "gauge", "Average speed of answer since the engine started.",
     [](const core::QueueSnapshot& q) -> Number { return seconds(q.asa()); }},
    {"acd_queue_aht_seconds", "gauge",
     "Average handle time (talk, hold and wrap-up) since the engine started.",
     [](const core::QueueSnapshot& q) -> Number { return seconds(q.aht()); }},
    {"acd_queue_abandon_ratio", "gauge",
     "Abandoned / (answered + abandoned) since the engine started.",
     [](const core::QueueSnapshot& q) -> Number { return q.abandon_rate(); }},
};

// One family with a value per agent (labels tenant, agent).
struct AgentFamily {
  const char* name;
  const char* help;
  Number (*value)(const core::AgentCounters&);
};

constexpr AgentFamily kAgentCounterFamilies[] = {
    {"acd_agent_handled_total", "Inbound calls the agent answered that have ended.",
     [](const core::AgentCounters& c) -> Number { return c.handled; }},
    {"acd_agent_outbound_total", "Outbound and internal calls the agent placed that have ended.",
     [](const core::AgentCounters& c) -> Number { return c.outbound; }},
    {"acd_agent_offered_total", "Calls offered to the agent.",
     [](const core::AgentCounters& c) -> Number { return c.offered; }},
    {"acd_agent_rona_total",
     "Call and task offers the agent let time out without answering (ring-no-answer).",
     [](const core::AgentCounters& c) -> Number { return c.rona; }},
    {"acd_agent_tasks_completed_total", "Non-voice tasks the agent completed.",
     [](const core::AgentCounters& c) -> Number { return c.tasks_completed; }},
    {"acd_agent_talk_seconds_total", "Time the agent spent talking.",
     [](const core::AgentCounters& c) -> Number { return seconds(c.talk); }},
    {"acd_agent_hold_seconds_total", "Time the agent had a call on hold.",
     [](const core::AgentCounters& c) -> Number { return seconds(c.hold); }},
    {"acd_agent_wrap_up_seconds_total", "Time the agent spent in wrap-up.",
     [](const core::AgentCounters& c) -> Number { return seconds(c.wrap_up); }},
    {"acd_agent_ready_seconds_total", "Time the agent spent ready, waiting for a call.",
     [](const core::AgentCounters& c) -> Number { return seconds(c.ready); }},
};

constexpr std::array<core::AgentState, core::kAgentStateCount> kAgentStates = {
    core::AgentState::kLoggedOut, core::AgentState::kNotReady, core::AgentState::kReady,
    core::AgentState::kReserved,  core::AgentState::kRinging,  core::AgentState::kDialing,
    core::AgentState::kTalking,   core::AgentState::kHeld,     core::AgentState::kWrapUp};

class Renderer {
 public:
  explicit Renderer(const MetricsInputs& in) : in_(in) {}

  std::string render() {
    build_info();
    if (in_.core) {
      core_figures(*in_.core);
      queues(*in_.core);
      agents(*in_.core);
    }
    if (in_.sip) sip(*in_.sip);
    if (in_.media) media(*in_.media);
    if (in_.records) records(*in_.records);
    return out_.take();
  }

 private:
  const std::string& tenant(core::TenantId id) {
    for (const auto& [known, name] : tenants_)
      if (known == id) return name;
    tenants_.emplace_back(id,
                          in_.tenant_name ? in_.tenant_name(id) : "#" + std::to_string(id.value));
    return tenants_.back().second;
  }

  void build_info() {
    out_.family("acd_build_info", "gauge", "Always 1; the version of the running acdd.");
    out_.sample("acd_build_info", {{"version", in_.version}}, std::int64_t{1});
    if (in_.process_start_time_seconds > 0) {
      out_.family("process_start_time_seconds", "gauge",
                  "Start time of the process since the Unix epoch in seconds.");
      out_.sample("process_start_time_seconds", {}, in_.process_start_time_seconds);
    }
  }

  void core_figures(const core::CoreSnapshot& s) {
    out_.family("acd_calls_in_system", "gauge",
                "Calls the routing core holds: waiting, offered, with an agent.");
    out_.sample("acd_calls_in_system", {}, std::int64_t{s.calls_in_system});
    out_.family("acd_tasks_in_system", "gauge",
                "Non-voice tasks the routing core holds: waiting, offered, accepted.");
    out_.sample("acd_tasks_in_system", {}, std::int64_t{s.tasks_in_system});
  }

  void queues(const core::CoreSnapshot& s) {
    for (const QueueFamily& f : kQueueFamilies) {
      out_.family(f.name, f.type, f.help);
      for (const auto& q : s.queues)
        out_.sample(f.name, {{"tenant", tenant(q.tenant)}, {"queue", q.name}}, f.value(q));
    }
    static constexpr const char* kSl = "acd_queue_service_level_ratio";
    out_.family(kSl, "gauge",
                "Service level since the engine started, by variant: answered (in threshold / "
                "answered), with_short_abandons (abandons in threshold count as met), "
                "penalize_late_abandons (abandons after the threshold count as missed).");
    for (const auto& q : s.queues) {
      const std::string& t = tenant(q.tenant);
      out_.sample(kSl, {{"tenant", t}, {"queue", q.name}, {"variant", "answered"}},
                  q.sl_answered());
      out_.sample(kSl, {{"tenant", t}, {"queue", q.name}, {"variant", "with_short_abandons"}},
                  q.sl_with_short_abandons());
      out_.sample(kSl, {{"tenant", t}, {"queue", q.name}, {"variant", "penalize_late_abandons"}},
                  q.sl_penalize_late_abandons());
    }
  }

  void agents(const core::CoreSnapshot& s) {
    // Agents by state per tenant, tenants in id order.
    std::vector<std::pair<core::TenantId, std::array<std::int64_t, core::kAgentStateCount>>> counts;
    for (const auto& a : s.agents) {
      auto it = std::find_if(counts.begin(), counts.end(),
                             [&](const auto& c) { return c.first == a.tenant; });
      if (it == counts.end()) {
        counts.emplace_back(a.tenant, std::array<std::int64_t, core::kAgentStateCount>{});
        it = std::prev(counts.end());
      }
      ++it->second[static_cast<std::size_t>(a.state)];
    }
    std::sort(counts.begin(), counts.end(),
              [](const auto& x, const auto& y) { return x.first.value < y.first.value; });
    out_.family("acd_agents", "gauge", "Agents of the tenant in each state.");
    for (const auto& [id, by_state] : counts) {
      const std::string& t = tenant(id);
      for (auto state : kAgentStates)
        out_.sample("acd_agents", {{"tenant", t}, {"state", core::to_string(state)}},
                    by_state[static_cast<std::size_t>(state)]);
    }

    out_.family("acd_agent_state", "gauge", "1 for the agent's current state, 0 for the others.");
    for (const auto& a : s.agents) {
      const std::string& t = tenant(a.tenant);
      for (auto state : kAgentStates)
        out_.sample("acd_agent_state",
                    {{"tenant", t}, {"agent", a.name}, {"state", core::to_string(state)}},
                    std::int64_t{a.state == state ? 1 : 0});
    }

    static constexpr const char* kTasks = "acd_agent_tasks";
    out_.family(kTasks, "gauge", "Tasks the agent holds (offered or accepted), by channel.");
    for (const auto& a : s.agents)
      for (std::size_t c = 0; c < core::kChannelCount; ++c)
        out_.sample(kTasks,
                    {{"tenant", tenant(a.tenant)},
                     {"agent", a.name},
                     {"channel", core::to_string(static_cast<core::Channel>(c))}},
                    std::int64_t{a.tasks[c]});

    for (const AgentFamily& f : kAgentCounterFamilies) {
      out_.family(f.name, "counter", f.help);
      for (const auto& a : s.agents)
        out_.sample(f.name, {{"tenant", tenant(a.tenant)}, {"agent", a.name}}, f.value(a.counters));
    }

    static constexpr const char* kNotReady = "acd_agent_not_ready_seconds_total";
    out_.family(kNotReady, "counter", "Time the agent spent not ready, by reason code.");
    for (const auto& a : s.agents) {
      for (const auto& [reason, time] : a.counters.not_ready_by_reason) {
        const std::string& name = s.reason_name(reason);
        out_.sample(kNotReady,
                    {{"tenant", tenant(a.tenant)},
                     {"agent", a.name},
                     {"reason", name.empty() ? std::string_view("unknown") : name}},
                    seconds(time));
      }
    }
  }

  void gauge(const char* name, const char* help, std::uint64_t value) {
    out_.family(name, "gauge", help);
    out_.sample(name, {}, value);
  }
  void counter(const char* name, const char* help, std::uint64_t value) {
    out_.family(name, "counter", help);
    out_.sample(name, {}, value);
  }

  void sip(const sip::SipStats& s) {
    gauge("acd_sip_calls", "Caller legs the SIP stack holds now.", s.calls);
    counter("acd_sip_requests_total", "SIP requests received.", s.requests);
    out_.family("acd_sip_rejected_total", "counter",
                "INVITEs refused: overload (503, sip.max_calls) or source (unknown source, 403).");
    out_.sample("acd_sip_rejected_total", {{"reason", "overload"}}, s.rejected_overload);
    out_.sample("acd_sip_rejected_total", {{"reason", "source"}}, s.rejected_source);
    counter("acd_sip_flood_dropped_total",
            "SIP requests dropped without an answer from a source over its rate limit.",
            s.dropped_flood);
    counter("acd_sip_bans_total", "Sources banned for flooding.", s.bans);
    counter("acd_sip_registrations_total", "Successful REGISTER requests of agents' phones.",
            s.registrations);
  }

  void media(const media::MediaStats& m) {
    gauge("acd_media_streams", "RTP streams open now.", m.streams);
    gauge("acd_media_playing_streams",
          "Streams the media clock feeds now (music, prompts, silence).", m.playing);
    gauge("acd_media_bridges", "Bridged stream pairs now.", m.bridges);
    gauge("acd_media_recordings", "Streams being recorded now.", m.recordings);
    gauge("acd_media_mixes", "Conferences and supervisor listen-ins now.", m.mixes);
    counter("acd_media_packets_received_total", "RTP packets received.", m.packets_received);
    counter("acd_media_packets_sent_total", "RTP packets sent.", m.packets_sent);
    counter("acd_media_packets_relayed_total", "RTP packets relayed to a bridged partner.",
            m.packets_relayed);
    counter("acd_media_send_failures_total", "Sends the socket refused (buffer full, unreachable).",
            m.send_failures);
    counter("acd_media_rtcp_received_total", "RTCP packets received.", m.rtcp_received);
    counter("acd_media_rtcp_sent_total", "RTCP packets sent.", m.rtcp_sent);
    counter("acd_media_dtmf_keys_total", "DTMF keys received (RFC 4733 or in-band).", m.dtmf_keys);
    counter("acd_media_latches_total", "RTP sources latched (symmetric RTP).", m.latches);
    counter("acd_media_late_ticks_total", "Media clock ticks that ran more than 5 ms late.",
            m.late_ticks);
    out_.family("acd_media_packets_dropped_total", "counter",
                "Media packets dropped, by reason (bad input is dropped and counted).");
    for (std::size_t i = 0; i < m.dropped.size(); ++i)
      out_.sample("acd_media_packets_dropped_total",
                  {{"reason", media::to_string(static_cast<media::DropReason>(i))}}, m.dropped[i]);
  }

  void records(const store::RecordStoreStats& r) {
    counter("acd_records_submitted_total", "History records handed to the record store.",
            r.submitted);
    counter("acd_records_spooled_total", "Records written to the local spool.", r.spooled);
    counter("acd_records_spool_syncs_total", "Group commits (fdatasync) of the spool.",
            r.synced_batches);
    counter("acd_records_shipped_total", "Records committed to PostgreSQL.", r.shipped);
    counter("acd_records_inserted_total", "Rows new to the database.", r.inserted);
    counter("acd_records_duplicates_total", "Rows the database already had (replays).",
            r.duplicates);
    counter("acd_records_database_failures_total", "Failed database connects and batches.",
            r.db_failures);
    counter("acd_records_spool_failures_total", "Failed spool writes.", r.spool_failures);
    gauge("acd_records_backlog", "Records of this run spooled but not yet in the database.",
          r.backlog);
    gauge("acd_records_database_up", "1 when the record shipper reaches the database, else 0.",
          r.database_up ? 1 : 0);
  }

  const MetricsInputs& in_;
  Writer out_;
  std::deque<std::pair<core::TenantId, std::string>> tenants_;  // labels looked up (stable)
};

// Seconds since the Unix epoch at which this process started: /proc/stat's btime plus
// field 22 (starttime, in clock ticks after boot) of /proc/self/stat.
std::optional<double> read_process_start_time() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto comm_end = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (comm_end == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(comm_end + 1));
  std::string field;
  // After the name: state (field 3) ... starttime (field 22).
  for (int i = 3; i < 22 && fields >> field; ++i) {
  }
  unsigned long long start_ticks = 0;
  if (!(fields >> start_ticks)) return std::nullopt;
  std::ifstream proc_stat("/proc/stat");
  std::string key;
  unsigned long long boot_time = 0;
  while (proc_stat >> key) {
    if (key == "btime") {
      if (!(proc_stat >> boot_time)) return std::nullopt;
      break;
    }
    proc_stat.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  if (boot_time == 0 || ticks_per_second <= 0) return std::nullopt;
  return static_cast<double>(boot_time) +
         static_cast<double>(start_ticks) / static_cast<double>(ticks_per_second);
}

}  // namespace

std::string render_metrics(const MetricsInputs& inputs) {
  return Renderer(inputs).render();
}

double process_start_time_seconds() {
  static const double start = [] {
    if (auto t = read_process_start_time()) return *t;
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }();
  return start;
}

}  // namespace acd::app
