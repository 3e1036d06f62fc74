#include "engine/cli/format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "engine/app/duration.h"

namespace acd::cli {

namespace v1 = acd::v1;

namespace {

// "10:02:03" in UTC (daemons and consoles of one call center share the day).
std::string time_of_day(WallTime t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[16];
  std::snprintf(text, sizeof text, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
  return text;
}

std::string percent(double fraction) {
  char text[16];
  std::snprintf(text, sizeof text, "%.0f%%", fraction * 100.0);
  return text;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

// Left-aligned columns, two spaces apart, each as wide as its widest cell.
std::string columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

// Time since the figures were taken, added to a duration they report.
std::chrono::seconds aged(const google::protobuf::Duration& d,
                          const google::protobuf::Timestamp& at, WallTime now, bool running) {
  std::chrono::seconds value = to_seconds(d);
  if (running && at.seconds() != 0)
    value += std::chrono::duration_cast<std::chrono::seconds>(now - to_wall(at));
  return value;
}

// Tasks waiting/offered/accepted in a queue; "-" when it has none.
std::string queue_tasks_cell(const v1::QueueStatus& q) {
  if (q.tasks_waiting() == 0 && q.tasks_offered() == 0 && q.tasks_accepted() == 0) return "-";
  return std::to_string(q.tasks_waiting()) + "/" + std::to_string(q.tasks_offered()) + "/" +
         std::to_string(q.tasks_accepted());
}

std::vector<std::string> queue_row(const v1::QueueStatus& q, WallTime now) {
  return {q.queue(),
          std::to_string(q.waiting()),
          clock_text(aged(q.longest_wait(), q.at(), now, q.waiting() > 0)),
          std::to_string(q.offering()),
          std::to_string(q.agents_ready()),
          std::to_string(q.agents_busy()),
          std::to_string(q.agents_logged_in()),
          std::to_string(q.answered()),
          std::to_string(q.abandoned()),
          percent(q.service_level()),
          clock_text(to_seconds(q.asa())),
          queue_tasks_cell(q)};
}

const std::vector<std::string> kQueueHeader{"QUEUE",     "WAITING", "LONGEST", "RINGING",
                                            "READY",     "BUSY",    "IN",      "ANSWERED",
                                            "ABANDONED", "SL",      "ASA",     "TASKS W/O/A"};
const std::vector<std::string> kAgentHeader{"AGENT", "STATE", "REASON", "FOR", "CALL", "TASKS"};

std::vector<std::string> agent_row(const v1::AgentStatus& a, WallTime now) {
  const auto in_state =
      a.since().seconds() == 0
          ? std::string("-")
          : clock_text(std::chrono::duration_cast<std::chrono::seconds>(now - to_wall(a.since())));
  return {a.agent(),
          state_name(a.state()),
          a.reason().empty() ? "-" : a.reason(),
          in_state,
          a.call_id() == 0 ? "-" : std::to_string(a.call_id()),
          load_text(a.tasks())};
}

}  // namespace

std::string state_name(v1::AgentState state) {
  std::string name = v1::AgentState_Name(state);
  const std::string prefix = "AGENT_STATE_";
  if (name.rfind(prefix, 0) == 0) name.erase(0, prefix.size());
  return name.empty() ? "UNKNOWN" : name;
}

std::string clock_text(std::chrono::seconds d) {
  long long s = std::max<long long>(0, d.count());
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  return text;
}

WallTime to_wall(const google::protobuf::Timestamp& t) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(t.seconds()) + std::chrono::nanoseconds(t.nanos())));
}

std::chrono::seconds to_seconds(const google::protobuf::Duration& d) {
  return std::chrono::seconds(d.seconds());
}

std::string agent_line(const v1::AgentStatus& status) {
  std::string line = status.agent() + "  " + state_name(status.state());
  if (!status.reason().empty()) line += " (" + status.reason() + ")";
  if (status.since().seconds() != 0) line += "  since " + time_of_day(to_wall(status.since()));
  if (status.call_id() != 0) line += "  call " + std::to_string(status.call_id());
  if (status.cause() != v1::CHANGE_CAUSE_UNSPECIFIED) {
    std::string cause = v1::ChangeCause_Name(status.cause());
    cause.erase(0, std::string("CHANGE_CAUSE_").size());
    std::transform(cause.begin(), cause.end(), cause.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    line += "  by " + cause;
  }
  if (const std::string tasks = load_text(status.tasks()); tasks != "-") line += "  tasks " + tasks;
  return line;
}

std::string load_text(const v1::ChannelLoad& load) {
  std::string text;
  auto add = [&text](const char* channel, int count) {
    if (count == 0) return;
    if (!text.empty()) text += ", ";
    text += std::string(channel) + " " + std::to_string(count);
  };
  add("chat", load.chat());
  add("email", load.email());
  add("sms", load.sms());
  add("web-form", load.web_form());
  add("callback", load.callback());
  return text.empty() ? "-" : text;
}

std::string message_line(const v1::ChatMessage& m) {
  std::string line = time_of_day(to_wall(m.sent_at())) + "  message   from " + m.from_user();
  if (!m.from_agent().empty() && m.from_agent() != m.from_user())
    line += " (" + m.from_agent() + ")";
  if (m.to_supervisors())
    line += " to the supervisors";
  else if (m.to_all_agents())
    line += " to every agent";
  else
    line += " to " + m.to_agent();
  return line + ": " + m.text();
}

std::string event_line(const v1::AgentEvent& e) {
  if (e.has_message()) return message_line(e.message());
  const std::string at = time_of_day(to_wall(e.at())) + "  ";
  if (e.has_status()) return at + "state     " + agent_line(e.status());
  if (e.has_offer()) {
    const v1::Offer& o = e.offer();
    std::string line = at + "offer     call " + std::to_string(o.call_id()) + " from " +
                       (o.caller_number().empty() ? "unknown" : o.caller_number()) + " in " +
                       o.queue() + ", waited " + clock_text(to_seconds(o.waited()));
    if (o.vip_level() > 0) line += ", VIP " + std::to_string(o.vip_level());
    std::map<std::string, std::string> attributes(o.attributes().begin(), o.attributes().end());
    for (const auto& [key, value] : attributes) line += ", " + key + "=" + value;
    const v1::ScreenPop& pop = o.screen_pop();
    if (pop.has_customer())
      line += "; customer " + pop.customer().name() +
              (pop.customer().account().empty() ? "" : " [" + pop.customer().account() + "]");
    if (pop.previous_contacts_size() > 0)
      line += "; " + std::to_string(pop.previous_contacts_size()) + " previous contacts";
    return line;
  }
  if (e.has_screen_pop()) {
    const v1::ScreenPop& pop = e.screen_pop();
    std::string line = at + "customer  " +
                       (pop.task_id() != 0 ? "task " + std::to_string(pop.task_id())
                                           : "call " + std::to_string(pop.call_id())) +
                       ": ";
    if (!pop.error().empty()) return line + "lookup failed: " + pop.error();
    line += pop.has_customer() ? pop.customer().name() : std::string("not on record");
    if (pop.previous_contacts_size() > 0)
      line += "; " + std::to_string(pop.previous_contacts_size()) + " previous contacts";
    return line;
  }
  if (e.has_offer_ended())
    return at + "offer end call " + std::to_string(e.offer_ended().call_id()) + ": " +
           e.offer_ended().reason();
  if (e.has_connected())
    return at + "connected call " + std::to_string(e.connected().call_id()) + " in " +
           e.connected().queue() + " after " + clock_text(to_seconds(e.connected().waited()));
  if (e.has_call_ended())
    return at + "ended     call " + std::to_string(e.call_ended().call_id()) + ": " +
           e.call_ended().outcome() + " (" + e.call_ended().end_reason() + "), talk " +
           clock_text(to_seconds(e.call_ended().talk()));
  if (e.has_task_offer()) {
    const v1::TaskOffer& o = e.task_offer();
    std::string line = at + "offer     task " + std::to_string(o.task_id()) + " " +
                       channel_word(o.channel()) + " in " + o.queue();
    if (!o.customer().empty()) line += " from " + o.customer();
    line += ", waited " + clock_text(to_seconds(o.waited())) + ", accept within " +
            clock_text(to_seconds(o.timeout()));
    if (o.vip_level() > 0) line += ", VIP " + std::to_string(o.vip_level());
    std::map<std::string, std::string> attributes(o.attributes().begin(), o.attributes().end());
    for (const auto& [key, value] : attributes) line += ", " + key + "=" + value;
    if (!o.subject().empty()) line += ": " + o.subject();
    const v1::ScreenPop& pop = o.screen_pop();
    if (pop.has_customer())
      line += "; customer " + pop.customer().name() +
              (pop.customer().account().empty() ? "" : " [" + pop.customer().account() + "]");
    return line;
  }
  if (e.has_task_offer_ended())
    return at + "offer end task " + std::to_string(e.task_offer_ended().task_id()) + ": " +
           e.task_offer_ended().reason();
  if (e.has_task_accepted())
    return at + "accepted  task " + std::to_string(e.task_accepted().task_id()) + " " +
           channel_word(e.task_accepted().channel()) + " in " + e.task_accepted().queue() +
           " after " + clock_text(to_seconds(e.task_accepted().waited()));
  if (e.has_task_transferred()) {
    const v1::TaskTransferred& t = e.task_transferred();
    std::string line = at + "moved     task " + std::to_string(t.task_id()) + " to " + t.to_queue();
    if (!t.to_agent().empty()) line += " for " + t.to_agent();
    return line + " (by " + t.cause() + "), handled " + clock_text(to_seconds(t.handled()));
  }
  if (e.has_task_ended()) {
    const v1::TaskEnded& t = e.task_ended();
    std::string state = v1::TaskFinalState_Name(t.state());
    state.erase(0, std::string("TASK_FINAL_STATE_").size());
    std::transform(state.begin(), state.end(), state.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return at + "ended     task " + std::to_string(t.task_id()) + " " + channel_word(t.channel()) +
           ": " + state + ", handled " + clock_text(to_seconds(t.handled()));
  }
  return at + "event";
}

std::string queue_table(const v1::QueueUpdate& update, WallTime now) {
  std::vector<std::vector<std::string>> rows{kQueueHeader};
  for (const auto& q : update.queues()) rows.push_back(queue_row(q, now));
  return columns(rows);
}

std::string agent_table(const v1::AgentUpdate& update, WallTime now) {
  std::vector<std::vector<std::string>> rows{kAgentHeader};
  for (const auto& a : update.agents()) rows.push_back(agent_row(a, now));
  return columns(rows);
}

void Wallboard::apply(const v1::QueueUpdate& update) {
  if (update.snapshot()) queues_.clear();
  for (const auto& q : update.queues()) queues_[q.queue()] = q;
}

void Wallboard::apply(const v1::AgentUpdate& update) {
  if (update.snapshot()) agents_.clear();
  for (const auto& a : update.agents()) agents_[a.agent()] = a;
}

std::string Wallboard::render(WallTime now, int width, int height, const std::string& title) const {
  std::vector<std::string> lines;
  lines.push_back(title + "  " + time_of_day(now) + " UTC   (q: quit)");
  lines.emplace_back();
  std::vector<std::vector<std::string>> queue_rows{kQueueHeader};
  for (const auto& [name, q] : queues_) queue_rows.push_back(queue_row(q, now));
  std::istringstream queue_text(columns(queue_rows));
  for (std::string line; std::getline(queue_text, line);) lines.push_back(line);
  lines.emplace_back();
  // Agents by state, then each agent.
  std::map<std::string, int> by_state;
  for (const auto& [name, a] : agents_) ++by_state[state_name(a.state())];
  std::string summary = "AGENTS";
  for (const auto& [state, count] : by_state) summary += "  " + state + " " + std::to_string(count);
  lines.push_back(summary);
  std::vector<std::vector<std::string>> agent_rows{kAgentHeader};
  for (const auto& [name, a] : agents_) agent_rows.push_back(agent_row(a, now));
  std::istringstream agent_text(columns(agent_rows));
  for (std::string line; std::getline(agent_text, line);) lines.push_back(line);

  std::string out;
  const auto rows = static_cast<std::size_t>(std::max(1, height));
  const auto cols = static_cast<std::size_t>(std::max(1, width));
  for (std::size_t i = 0; i < lines.size() && i < rows; ++i) {
    std::string line = lines[i].substr(0, cols);
    out += line + "\n";
  }
  return out;
}

// ---- Non-voice tasks ----

namespace {

// The enum value's name without `prefix`, lower case, '_' as '-': "web-form".
std::string enum_word(const std::string& name, std::string_view prefix) {
  if (name.rfind(prefix, 0) != 0) return "-";
  std::string word = name.substr(prefix.size());
  for (char& c : word) c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return word;
}

std::string final_word(v1::TaskFinalState state) {
  if (state == v1::TASK_FINAL_STATE_UNSPECIFIED) return "-";
  return enum_word(v1::TaskFinalState_Name(state), "TASK_FINAL_STATE_");
}

std::string waited_text(const v1::Task& task, WallTime now) {
  if (task.enqueued().seconds() == 0) return "-";
  return clock_text(
      std::chrono::duration_cast<std::chrono::seconds>(now - to_wall(task.enqueued())));
}

}  // namespace

std::string channel_word(v1::Channel channel) {
  if (channel == v1::CHANNEL_UNSPECIFIED) return "-";
  return enum_word(v1::Channel_Name(channel), "CHANNEL_");
}

std::optional<v1::Channel> channel_from_word(std::string_view word) {
  for (int value = v1::Channel_MIN + 1; value <= v1::Channel_MAX; ++value) {
    if (!v1::Channel_IsValid(value)) continue;
    const auto channel = static_cast<v1::Channel>(value);
    if (channel_word(channel) == word) return channel;
  }
  return std::nullopt;
}

std::string phase_word(v1::TaskPhase phase) {
  if (phase == v1::TASK_PHASE_UNSPECIFIED) return "-";
  return enum_word(v1::TaskPhase_Name(phase), "TASK_PHASE_");
}

std::optional<v1::TaskPhase> phase_from_word(std::string_view word) {
  for (auto phase : {v1::TASK_PHASE_WAITING, v1::TASK_PHASE_OFFERED, v1::TASK_PHASE_ACCEPTED})
    if (phase_word(phase) == word) return phase;
  return std::nullopt;
}

std::string task_line(const v1::Task& task) {
  std::string line = "task " + std::to_string(task.id()) + "  " + channel_word(task.channel()) +
                     "  " + phase_word(task.phase());
  if (task.phase() == v1::TASK_PHASE_ENDED) line += " (" + final_word(task.final_state()) + ")";
  if (!task.agent().empty())
    line += (task.phase() == v1::TASK_PHASE_OFFERED ? " to " : " by ") + task.agent();
  if (task.phase() == v1::TASK_PHASE_WAITING && task.position() > 0)
    line += " #" + std::to_string(task.position());
  line += "  in " + task.queue();
  if (!task.customer().empty()) line += "  from " + task.customer();
  if (!task.subject().empty()) line += ": " + task.subject();
  return line;
}

std::string task_details(const v1::Task& task, WallTime now) {
  std::vector<std::vector<std::string>> rows{
      {"task:", std::to_string(task.id())},
      {"channel:", channel_word(task.channel())},
      {"phase:", phase_word(task.phase())},
  };
  if (task.phase() == v1::TASK_PHASE_ENDED)
    rows.push_back({"ended:", final_word(task.final_state())});
  rows.push_back({"queue:", task.queue()});
  if (task.position() > 0) rows.push_back({"position:", std::to_string(task.position())});
  rows.push_back({"agent:", or_dash(task.agent())});
  if (!task.preferred_agent().empty()) rows.push_back({"preferred:", task.preferred_agent()});
  rows.push_back({"subject:", or_dash(task.subject())});
  rows.push_back({"customer:", or_dash(task.customer())});
  rows.push_back({"priority:", std::to_string(task.priority())});
  rows.push_back({"vip level:", std::to_string(task.vip_level())});
  if (task.created().seconds() != 0)
    rows.push_back({"created:", date_time_text(to_wall(task.created()))});
  if (task.phase() != v1::TASK_PHASE_ENDED) rows.push_back({"waited:", waited_text(task, now)});
  if (task.accepted().seconds() != 0)
    rows.push_back({"accepted:", date_time_text(to_wall(task.accepted()))});
  const std::map<std::string, std::string> attributes(task.attributes().begin(),
                                                      task.attributes().end());
  for (const auto& [key, value] : attributes) rows.push_back({"  " + key + ":", value});
  return columns(rows);
}

std::string task_table(const v1::ListTasksResponse& tasks, WallTime now) {
  std::vector<std::vector<std::string>> rows{
      {"TASK", "CHANNEL", "PHASE", "QUEUE", "AGENT", "WAITED", "CUSTOMER", "SUBJECT"}};
  for (const auto& t : tasks.tasks())
    rows.push_back({std::to_string(t.id()), channel_word(t.channel()), phase_word(t.phase()),
                    t.queue(), or_dash(t.agent()), waited_text(t, now), or_dash(t.customer()),
                    or_dash(t.subject())});
  std::string out = columns(rows);
  if (tasks.matched() > tasks.tasks_size())
    out += "(" + std::to_string(tasks.tasks_size()) + " of " + std::to_string(tasks.matched()) +
           " tasks shown)\n";
  return out;
}

// ---- Routing's dry run ----

namespace {

// "8", "-120000", "0.25": ORDER BY values as short as they are exact enough.
std::string order_value(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

std::string step_after(const google::protobuf::Duration& d) {
  return app::format_duration(std::chrono::seconds(d.seconds()) +
                              std::chrono::nanoseconds(d.nanos()));
}

// Why a member is not a candidate now: its not_now, with the refusal of the current step
// in place of a bare "not admitted at step N".
std::string member_reason(const v1::RouteMember& m, int current) {
  if (m.rank() > 0) return "-";
  std::string why;
  if (m.not_now().rfind("not admitted", 0) != 0) why = m.not_now();
  const int i = current - 1;
  if (i >= 0 && i < m.admitted_size() && !m.admitted(i)) {
    const std::string refusal = i < m.refused_by_size() ? m.refused_by(i) : "";
    why += (why.empty() ? "" : "; ") + std::string("step ") + std::to_string(current) + ": " +
           (refusal.empty() ? "not admitted" : refusal);
  }
  return why.empty() ? or_dash(m.not_now()) : why;
}

// Names joined by ", ".
std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The last line: who would be offered it now, or why nobody.
std::string verdict_line(const v1::ExplainRouteResponse& e) {
  constexpr std::size_t kMaxReasons = 5;
  if (e.chosen().empty()) {
    if (e.members().empty()) return "no agent can take it now: the queue has no members";
    std::string why;
    std::size_t listed = 0;
    for (const auto& m : e.members()) {
      if (listed == kMaxReasons) {
        why += ", and " + std::to_string(e.members_size() - static_cast<int>(listed)) + " more";
        break;
      }
      why +=
          (why.empty() ? "" : ", ") + m.agent() + " (" + member_reason(m, e.current_step()) + ")";
      ++listed;
    }
    return "no agent can take it now: " + why;
  }
  const std::vector<std::string> chosen(e.chosen().begin(), e.chosen().end());
  std::vector<std::pair<int, std::string>> ranked;
  for (const auto& m : e.members())
    if (m.rank() > 0 && std::find(chosen.begin(), chosen.end(), m.agent()) == chosen.end())
      ranked.emplace_back(m.rank(), m.agent());
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> then;
  for (const auto& entry : ranked) then.push_back(entry.second);
  std::string line = e.random_group() > 0 ? "would draw one of: "
                     : chosen.size() > 1  ? "would ring at once: "
                                          : "would offer to: ";
  line += name_list(chosen);
  if (!then.empty()) line += " (then " + name_list(then) + ")";
  return line;
}

}  // namespace

std::string strategy_word(v1::QueueStrategy strategy) {
  if (strategy == v1::QUEUE_STRATEGY_UNSPECIFIED) return "-";
  return enum_word(v1::QueueStrategy_Name(strategy), "QUEUE_STRATEGY_");
}

std::string route_explanation_text(const v1::ExplainRouteResponse& e) {
  std::string out = columns({
      {"queue:", e.queue()},
      {"strategy:", strategy_word(e.strategy()) + (e.by_rules() ? ", by rules" : ", by skills")},
      {"order by:", or_dash(e.order_by())},
  });
  std::vector<std::vector<std::string>> steps;
  for (int i = 0; i < e.steps_size(); ++i) {
    const v1::RouteStep& step = e.steps(i);
    steps.push_back(
        {step.current() ? "* step " + std::to_string(i + 1) : "  step " + std::to_string(i + 1),
         "after " + step_after(step.after()), step.rule()});
  }
  out += "steps (* current):\n" + columns(steps);
  std::vector<std::string> header{"RANK", "AGENT", "STATE", "TIER", "PENALTY"};
  for (int i = 0; i < e.steps_size(); ++i) header.push_back("STEP " + std::to_string(i + 1));
  if (!e.order_by().empty()) header.emplace_back("ORDER BY");
  header.emplace_back("REASON");
  std::vector<std::vector<std::string>> rows{header};
  for (const auto& m : e.members()) {
    std::vector<std::string> row{m.rank() > 0 ? std::to_string(m.rank()) : "-", m.agent(),
                                 state_name(m.state()), std::to_string(m.tier()),
                                 std::to_string(m.penalty())};
    for (int i = 0; i < e.steps_size(); ++i)
      row.emplace_back(i < m.admitted_size() ? (m.admitted(i) ? "yes" : "no") : "-");
    if (!e.order_by().empty()) {
      std::string keys;
      for (double k : m.order_keys()) keys += (keys.empty() ? "" : ", ") + order_value(k);
      row.push_back(or_dash(keys));
    }
    row.push_back(member_reason(m, e.current_step()));
    rows.push_back(std::move(row));
  }
  return out + columns(rows) + verdict_line(e) + "\n";
}

// ---- Reports and call records ----

namespace {

// "1:05"; "-" when the message has no such duration.
std::string duration_cell(bool present, const google::protobuf::Duration& d) {
  return present ? clock_text(to_seconds(d)) : "-";
}

// "87.5%"; "-" when absent.
std::string ratio_cell(bool present, double fraction) {
  if (!present) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", fraction * 100.0);
  return text;
}

// "2024-03-05T10:00:00" -> "2024-03-05 10:00".
std::string interval_label(const std::string& local) {
  std::string label = local.substr(0, 16);
  if (label.size() > 10 && label[10] == 'T') label[10] = ' ';
  return label;
}

std::string direction_word(v1::CallDirection d) {
  switch (d) {
    case v1::CALL_DIRECTION_INBOUND: return "in";
    case v1::CALL_DIRECTION_OUTBOUND: return "out";
    case v1::CALL_DIRECTION_INTERNAL: return "internal";
    default: return "-";
  }
}

// Reads `count` digits at `at` of `text` into `out`.
bool digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::string date_time_text(WallTime t) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(seconds - day);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return text;
}

std::string iso_time_text(WallTime t) {
  const auto micros = std::chrono::floor<std::chrono::microseconds>(t);
  const auto seconds = std::chrono::floor<std::chrono::seconds>(micros);
  std::string text = date_time_text(t);
  text[10] = 'T';
  char fraction[32];  // ".123456Z"; room for any long long (the compiler checks)
  std::snprintf(fraction, sizeof fraction, ".%06lldZ",
                static_cast<long long>((micros - seconds).count()));
  return text + fraction;
}

std::string final_state_word(v1::CallFinalState state) {
  if (state == v1::CALL_FINAL_STATE_UNSPECIFIED) return "-";
  std::string name = v1::CallFinalState_Name(state);
  const std::string prefix = "CALL_FINAL_STATE_";
  if (name.rfind(prefix, 0) != 0) return "-";
  name.erase(0, prefix.size());
  for (char& c : name) c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return name;
}

std::optional<v1::CallFinalState> final_state_from_word(std::string_view word) {
  for (int value = v1::CallFinalState_MIN + 1; value <= v1::CallFinalState_MAX; ++value) {
    if (!v1::CallFinalState_IsValid(value)) continue;
    const auto state = static_cast<v1::CallFinalState>(value);
    if (final_state_word(state) == word) return state;
  }
  return std::nullopt;
}

std::optional<WallTime> parse_time(std::string_view text, WallTime now) {
  using namespace std::chrono;
  if (text == "now") return now;
  if (text.size() >= 3 && text[0] == '-') {
    long long amount = 0;
    std::size_t i = 1;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      amount = amount * 10 + (text[i] - '0');
      if (amount > 1000000) return std::nullopt;
    }
    if (i == 1 || i + 1 != text.size()) return std::nullopt;
    switch (text[i]) {
      case 'm': return now - minutes(amount);
      case 'h': return now - hours(amount);
      case 'd': return now - days(amount);
      default: return std::nullopt;
    }
  }
  int y = 0, mo = 0, d = 0;
  if (text.size() < 10 || !digits(text, 0, 4, y) || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d))
    return std::nullopt;
  const year_month_day date{year(y), month(static_cast<unsigned>(mo)),
                            day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  WallTime t = sys_days(date);
  if (text.size() == 10) return t;
  if (text[10] != 'T' && text[10] != ' ') return std::nullopt;
  int h = 0, mi = 0, s = 0;
  if (!digits(text, 11, 2, h) || text.size() < 16 || text[13] != ':' || !digits(text, 14, 2, mi))
    return std::nullopt;
  std::size_t at = 16;
  nanoseconds fraction{0};
  if (at < text.size() && text[at] == ':') {
    if (!digits(text, at + 1, 2, s)) return std::nullopt;
    at += 3;
    if (at < text.size() && text[at] == '.') {
      std::size_t n = 0;
      long long value = 0;
      for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++n) {
        if (n < 9) value = value * 10 + (text[at] - '0');
      }
      if (n == 0) return std::nullopt;
      for (std::size_t k = std::min<std::size_t>(n, 9); k < 9; ++k) value *= 10;
      fraction = nanoseconds(value);
    }
  }
  if (h > 23 || mi > 59 || s > 60) return std::nullopt;
  t += hours(h) + minutes(mi) + seconds(s) + duration_cast<WallTime::duration>(fraction);
  const std::string_view zone = text.substr(at);
  if (zone.empty() || zone == "Z") return t;
  if (zone[0] != '+' && zone[0] != '-') return std::nullopt;
  int oh = 0, om = 0;
  if (!digits(zone, 1, 2, oh)) return std::nullopt;
  if (zone.size() == 3) {
    om = 0;
  } else if (zone.size() == 6 && zone[3] == ':') {
    if (!digits(zone, 4, 2, om)) return std::nullopt;
  } else if (zone.size() == 5) {
    if (!digits(zone, 3, 2, om)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (oh > 23 || om > 59) return std::nullopt;
  const minutes offset = hours(oh) + minutes(om);
  // 10:00+01:00 is 09:00Z.
  return zone[0] == '+' ? t - offset : t + offset;
}

std::string call_table(const v1::SearchCallsResponse& page, bool header) {
  std::vector<std::vector<std::string>> rows;
  if (header)
    rows.push_back({"CALL", "ARRIVED (UTC)", "DIR", "CALLER", "QUEUE", "AGENT", "STATE", "WAIT",
                    "TALK", "ENDED BY"});
  for (const auto& c : page.calls()) {
    std::string queue = c.last_queue();
    if (!c.first_queue().empty() && c.first_queue() != c.last_queue())
      queue = c.first_queue() + ">" + or_dash(c.last_queue());
    rows.push_back({std::to_string(c.call_id()), date_time_text(to_wall(c.arrived_at())),
                    direction_word(c.direction()), or_dash(c.caller_number()), or_dash(queue),
                    or_dash(c.agent()), final_state_word(c.final_state()),
                    clock_text(to_seconds(c.wait())), clock_text(to_seconds(c.talk())),
                    or_dash(c.end_reason())});
  }
  return columns(rows);
}

std::string queue_report_table(const v1::QueueReportResponse& report) {
  std::vector<std::vector<std::string>> rows{{"QUEUE", "INTERVAL", "OFFERED", "ANSWERED",
                                              "ABANDONED", "OTHER", "SL", "SL+AB", "ABANDON", "ASA",
                                              "AHT", "LONGEST"}};
  for (const auto& r : report.rows())
    rows.push_back({r.queue(), interval_label(r.interval_local()), std::to_string(r.offered()),
                    std::to_string(r.answered()), std::to_string(r.abandoned()),
                    std::to_string(r.ended_otherwise()),
                    ratio_cell(r.has_sl_answered(), r.sl_answered()),
                    ratio_cell(r.has_sl_with_abandons(), r.sl_with_abandons()),
                    ratio_cell(r.has_abandon_rate(), r.abandon_rate()),
                    duration_cell(r.has_asa(), r.asa()), duration_cell(r.has_aht(), r.aht()),
                    duration_cell(r.has_longest_wait(), r.longest_wait())});
  return columns(rows);
}

std::string agent_report_table(const v1::AgentReportResponse& report) {
  std::vector<std::vector<std::string>> rows{{"AGENT", "INTERVAL", "OFFERS", "ANSWERED", "RONA",
                                              "LOGGED IN", "READY", "NOT READY", "TALK", "HOLD",
                                              "WRAP-UP", "NOT READY BY REASON"}};
  for (const auto& r : report.rows()) {
    const std::map<std::string, google::protobuf::Duration> by_reason(
        r.not_ready_by_reason().begin(), r.not_ready_by_reason().end());
    std::string reasons;
    for (const auto& [reason, time] : by_reason) {
      if (!reasons.empty()) reasons += ", ";
      reasons += reason + " " + clock_text(to_seconds(time));
    }
    rows.push_back({r.agent(), interval_label(r.interval_local()), std::to_string(r.offers()),
                    std::to_string(r.answered()), std::to_string(r.rona()),
                    clock_text(to_seconds(r.logged_in_time())),
                    clock_text(to_seconds(r.ready_time())),
                    clock_text(to_seconds(r.not_ready_time())),
                    clock_text(to_seconds(r.talk_time())), clock_text(to_seconds(r.hold_time())),
                    clock_text(to_seconds(r.wrap_up_time())), or_dash(reasons)});
  }
  return columns(rows);
}

std::string state_time_table(const v1::AgentStateTimeResponse& report) {
  std::vector<std::vector<std::string>> rows{{"AGENT", "INTERVAL", "STATE", "REASON", "TIME"}};
  for (const auto& r : report.rows())
    rows.push_back(
        {r.agent(), interval_label(r.interval_local()),
         r.state() == v1::AGENT_STATE_UNSPECIFIED ? or_dash(r.state_name()) : state_name(r.state()),
         or_dash(r.reason()), clock_text(to_seconds(r.duration()))});
  return columns(rows);
}

std::string monthly_volume_table(const v1::AgentMonthlyVolumeResponse& report) {
  std::vector<std::vector<std::string>> rows{{"AGENT", "MONTH", "OFFERS", "ANSWERED", "RONA",
                                              "OUTBOUND", "TALK", "HOLD", "WRAP-UP", "AHT"}};
  for (const auto& r : report.rows())
    rows.push_back({r.agent(), r.month().substr(0, 7), std::to_string(r.offers()),
                    std::to_string(r.answered()), std::to_string(r.rona()),
                    std::to_string(r.outbound()), clock_text(to_seconds(r.talk_time())),
                    clock_text(to_seconds(r.hold_time())), clock_text(to_seconds(r.wrap_up_time())),
                    duration_cell(r.has_aht(), r.aht())});
  return columns(rows);
}

}  // namespace acd::cli
