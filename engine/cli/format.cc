#include "engine/cli/format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>

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
          clock_text(to_seconds(q.asa()))};
}

const std::vector<std::string> kQueueHeader{"QUEUE",     "WAITING", "LONGEST", "RINGING",
                                            "READY",     "BUSY",    "IN",      "ANSWERED",
                                            "ABANDONED", "SL",      "ASA"};
const std::vector<std::string> kAgentHeader{"AGENT", "STATE", "REASON", "FOR", "CALL"};

std::vector<std::string> agent_row(const v1::AgentStatus& a, WallTime now) {
  const auto in_state =
      a.since().seconds() == 0
          ? std::string("-")
          : clock_text(std::chrono::duration_cast<std::chrono::seconds>(now - to_wall(a.since())));
  return {a.agent(), state_name(a.state()), a.reason().empty() ? "-" : a.reason(), in_state,
          a.call_id() == 0 ? "-" : std::to_string(a.call_id())};
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
  return line;
}

std::string event_line(const v1::AgentEvent& e) {
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
    std::string line = at + "customer  call " + std::to_string(pop.call_id()) + ": ";
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

}  // namespace acd::cli
