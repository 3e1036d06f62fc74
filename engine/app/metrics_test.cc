#include "engine/app/metrics.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/app/config.h"

namespace acd::app {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  const auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

bool valid_metric_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  });
}

bool valid_label_name(std::string_view name) {
  return !name.empty() && name.find(':') == std::string_view::npos && valid_metric_name(name);
}

bool valid_value(const std::string& text) {
  if (text == "NaN" || text == "+Inf" || text == "-Inf") return true;
  if (text.empty()) return false;
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// A checker of the text exposition format 0.0.4: returns the problems found, each with its
// line number. Checks line syntax (names, label escaping, values), that # TYPE comes
// before a family's samples and at most once, that a family's samples are together, that
// counters end with _total, that no series appears twice, and the final newline.
std::vector<std::string> exposition_problems(const std::string& text) {
  std::vector<std::string> problems;
  if (text.empty() || text.back() != '\n') problems.push_back("the text does not end with \\n");
  std::map<std::string, std::string> types;  // family -> type
  std::set<std::string> helped;
  std::set<std::string> finished;  // families whose samples are over
  std::set<std::string> series;
  std::string current;  // the family of the last sample or TYPE
  int number = 0;
  for (const std::string& line : lines_of(text)) {
    ++number;
    auto problem = [&](const std::string& what) {
      problems.push_back("line " + std::to_string(number) + ": " + what + ": " + line);
    };
    if (line.empty()) {
      problem("empty line");
      continue;
    }
    if (line.front() == '#') {
      std::istringstream words(line);
      std::string hash, keyword, name, rest;
      words >> hash >> keyword >> name;
      if (hash != "#" || (keyword != "HELP" && keyword != "TYPE")) continue;  // a comment
      if (!valid_metric_name(name)) problem("bad metric name");
      if (keyword == "HELP") {
        if (!helped.insert(name).second) problem("second HELP");
        // Only \\ and \n escapes in help text.
        const std::string help = line.substr(7 + name.size());
        for (std::size_t i = 0; i < help.size(); ++i) {
          if (help[i] == '\\' &&
              (i + 1 == help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n')))
            problem("bad escape in HELP");
          if (help[i] == '\\') ++i;
        }
        continue;
      }
      std::getline(words >> std::ws, rest);
      if (types.count(name) != 0) problem("second TYPE");
      if (finished.count(name) != 0 || name == current) problem("TYPE after samples");
      static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                   "untyped"};
      if (kTypes.count(rest) == 0) problem("unknown type '" + rest + "'");
      if (rest == "counter" && !name.ends_with("_total")) problem("counter without _total");
      types[name] = rest;
      if (!current.empty() && current != name) finished.insert(current);
      current = name;
      continue;
    }
    // name [{label="value",...}] value [timestamp]
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    const std::string name = line.substr(0, i);
    if (!valid_metric_name(name)) problem("bad metric name");
    if (types.count(name) == 0) problem("sample before its TYPE");
    if (finished.count(name) != 0) problem("samples of a family apart");
    if (!current.empty() && current != name) finished.insert(current);
    current = name;
    std::string key = name;
    std::set<std::string> label_names;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) {
          problem("label without =");
          break;
        }
        const std::string label = line.substr(i, eq - i);
        if (!valid_label_name(label)) problem("bad label name '" + label + "'");
        if (!label_names.insert(label).second) problem("label twice");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          problem("label value not quoted");
          break;
        }
        ++i;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          const char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i >= line.size()) break;
            const char e = line[i++];
            if (e != '\\' && e != '"' && e != 'n') problem("bad escape in a label value");
          }
          value += c;
        }
        if (!closed) {
          problem("label value not closed");
          break;
        }
        key += "|" + label + "=" + value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size() || line[i] != '}') {
        problem("labels not closed");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      problem("no space before the value");
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    std::string value, timestamp, extra;
    rest >> value >> timestamp >> extra;
    if (!valid_value(value)) problem("bad value '" + value + "'");
    if (!timestamp.empty() && timestamp.find_first_not_of("-0123456789") != std::string::npos)
      problem("bad timestamp");
    if (!extra.empty()) problem("text after the value");
    if (!series.insert(key).second) problem("series twice");
  }
  return problems;
}

core::CoreSnapshot sample_snapshot() {
  core::CoreSnapshot s;
  s.sequence = 7;
  s.calls_in_system = 4;
  s.reasons = {"", "lunch"};

  core::QueueSnapshot sales;
  sales.id = core::QueueId(0);
  sales.tenant = core::TenantId(0);
  sales.name = "sales";
  sales.waiting = 3;
  sales.offering = 1;
  sales.longest_wait = 12500ms;
  sales.estimated_wait = 30s;
  sales.overflow_tier = 2;
  sales.members_logged_in = 5;
  sales.members_ready = 1;
  sales.members_busy = 3;
  sales.counters.entered = 20;
  sales.counters.answered = 10;
  sales.counters.answered_in_threshold = 8;
  sales.counters.abandoned = 4;
  sales.counters.abandoned_in_threshold = 2;
  sales.counters.exited = 1;
  sales.counters.handled = 9;
  sales.counters.total_answer_wait = 100s;
  sales.counters.total_talk = 900s;
  sales.counters.total_hold = 45s;
  sales.counters.total_wrap_up = 90s;
  sales.tasks_waiting = 2;
  sales.tasks_offered = 1;
  sales.tasks_accepted = 4;
  sales.longest_task_wait = 90s;
  sales.counters.tasks_entered = 11;
  sales.counters.tasks_completed = 5;
  sales.counters.tasks_abandoned = 1;
  s.queues.push_back(sales);

  core::QueueSnapshot odd;  // a name that needs escaping
  odd.id = core::QueueId(1);
  odd.tenant = core::TenantId(1);
  odd.name = "say \"hi\"\\now\nnext";
  s.queues.push_back(odd);

  core::AgentSnapshot alice;
  alice.id = core::AgentId(0);
  alice.tenant = core::TenantId(0);
  alice.name = "alice";
  alice.state = core::AgentState::kTalking;
  alice.counters.handled = 6;
  alice.counters.offered = 8;
  alice.counters.rona = 1;
  alice.counters.talk = 600s;
  alice.counters.ready = 1500ms;
  alice.counters.not_ready_by_reason = {{core::ReasonId(1), 60s}};
  alice.counters.tasks_completed = 3;
  alice.tasks = {2, 1, 0, 0, 0};
  s.agents.push_back(alice);

  core::AgentSnapshot bob;
  bob.id = core::AgentId(1);
  bob.tenant = core::TenantId(0);
  bob.name = "bob";
  bob.state = core::AgentState::kReady;
  s.agents.push_back(bob);

  core::AgentSnapshot carol;
  carol.id = core::AgentId(2);
  carol.tenant = core::TenantId(1);
  carol.name = "carol";
  carol.state = core::AgentState::kReady;
  s.agents.push_back(carol);
  return s;
}

MetricsInputs sample_inputs() {
  MetricsInputs in;
  in.core = std::make_shared<const core::CoreSnapshot>(sample_snapshot());
  in.tenant_name = [](core::TenantId id) {
    return id.value == 0 ? std::string("acme") : std::string("glo\"bex");
  };
  in.version = "1.2.3";
  in.process_start_time_seconds = 1700000000.5;
  return in;
}

TEST_CASE("metrics: queue, agent and build figures in the exposition format", "[metrics]") {
  const std::string text = render_metrics(sample_inputs());
  INFO(text);
  const auto problems = exposition_problems(text);
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());

  CHECK(has_line(text, "# HELP acd_build_info Always 1; the version of the running acdd."));
  CHECK(has_line(text, "# TYPE acd_build_info gauge"));
  CHECK(has_line(text, "acd_build_info{version=\"1.2.3\"} 1"));
  CHECK(has_line(text, "process_start_time_seconds 1700000000.5"));
  CHECK(has_line(text, "acd_calls_in_system 4"));
  CHECK(has_line(text, "acd_tasks_in_system 0"));

  CHECK(has_line(text, "# TYPE acd_queue_waiting gauge"));
  CHECK(has_line(text, "acd_queue_waiting{tenant=\"acme\",queue=\"sales\"} 3"));
  CHECK(has_line(text, "acd_queue_offering{tenant=\"acme\",queue=\"sales\"} 1"));
  CHECK(has_line(text, "acd_queue_longest_wait_seconds{tenant=\"acme\",queue=\"sales\"} 12.5"));
  CHECK(has_line(text, "acd_queue_estimated_wait_seconds{tenant=\"acme\",queue=\"sales\"} 30"));
  CHECK(has_line(text, "acd_queue_overflow_tier{tenant=\"acme\",queue=\"sales\"} 2"));
  CHECK(has_line(text, "acd_queue_members_logged_in{tenant=\"acme\",queue=\"sales\"} 5"));
  CHECK(has_line(text, "acd_queue_members_ready{tenant=\"acme\",queue=\"sales\"} 1"));
  CHECK(has_line(text, "acd_queue_members_busy{tenant=\"acme\",queue=\"sales\"} 3"));
  CHECK(has_line(text, "acd_queue_tasks_waiting{tenant=\"acme\",queue=\"sales\"} 2"));
  CHECK(has_line(text, "acd_queue_tasks_offered{tenant=\"acme\",queue=\"sales\"} 1"));
  CHECK(has_line(text, "acd_queue_tasks_accepted{tenant=\"acme\",queue=\"sales\"} 4"));
  CHECK(has_line(text, "acd_queue_longest_task_wait_seconds{tenant=\"acme\",queue=\"sales\"} 90"));
  CHECK(has_line(text, "acd_queue_tasks_entered_total{tenant=\"acme\",queue=\"sales\"} 11"));
  CHECK(has_line(text, "acd_queue_tasks_completed_total{tenant=\"acme\",queue=\"sales\"} 5"));
  CHECK(has_line(text, "acd_queue_tasks_abandoned_total{tenant=\"acme\",queue=\"sales\"} 1"));
  CHECK(has_line(text, "# TYPE acd_queue_entered_total counter"));
  CHECK(has_line(text, "acd_queue_entered_total{tenant=\"acme\",queue=\"sales\"} 20"));
  CHECK(has_line(text, "acd_queue_answered_total{tenant=\"acme\",queue=\"sales\"} 10"));
  CHECK(has_line(text, "acd_queue_abandoned_total{tenant=\"acme\",queue=\"sales\"} 4"));
  CHECK(has_line(text, "acd_queue_exited_total{tenant=\"acme\",queue=\"sales\"} 1"));
  CHECK(has_line(text, "acd_queue_handled_total{tenant=\"acme\",queue=\"sales\"} 9"));
  CHECK(has_line(text, "acd_queue_talk_seconds_total{tenant=\"acme\",queue=\"sales\"} 900"));
  // ASA = 100 s / 10 answered; AHT = (900 + 45 + 90) s / 9 handled.
  CHECK(has_line(text, "acd_queue_asa_seconds{tenant=\"acme\",queue=\"sales\"} 10"));
  CHECK(has_line(text, "acd_queue_aht_seconds{tenant=\"acme\",queue=\"sales\"} 115"));
  // 4 / (10 + 4)
  CHECK(has_line(text, "acd_queue_abandon_ratio{tenant=\"acme\",queue=\"sales\"} " +
                           std::string("0.2857142857142857")));
  CHECK(has_line(text,
                 "acd_queue_service_level_ratio{tenant=\"acme\",queue=\"sales\",variant="
                 "\"answered\"} 0.8"));
  // (8 + 2) / (10 + 4)
  CHECK(has_line(text,
                 "acd_queue_service_level_ratio{tenant=\"acme\",queue=\"sales\",variant="
                 "\"with_short_abandons\"} 0.7142857142857143"));

  CHECK(has_line(text, "acd_agents{tenant=\"acme\",state=\"Talking\"} 1"));
  CHECK(has_line(text, "acd_agents{tenant=\"acme\",state=\"Ready\"} 1"));
  CHECK(has_line(text, "acd_agents{tenant=\"acme\",state=\"WrapUp\"} 0"));
  CHECK(has_line(text, "acd_agent_state{tenant=\"acme\",agent=\"alice\",state=\"Talking\"} 1"));
  CHECK(has_line(text, "acd_agent_state{tenant=\"acme\",agent=\"alice\",state=\"Ready\"} 0"));
  CHECK(has_line(text, "acd_agent_handled_total{tenant=\"acme\",agent=\"alice\"} 6"));
  CHECK(has_line(text, "acd_agent_offered_total{tenant=\"acme\",agent=\"alice\"} 8"));
  CHECK(has_line(text, "acd_agent_rona_total{tenant=\"acme\",agent=\"alice\"} 1"));
  CHECK(has_line(text, "acd_agent_tasks_completed_total{tenant=\"acme\",agent=\"alice\"} 3"));
  CHECK(has_line(text, "acd_agent_tasks{tenant=\"acme\",agent=\"alice\",channel=\"chat\"} 2"));
  CHECK(has_line(text, "acd_agent_tasks{tenant=\"acme\",agent=\"alice\",channel=\"email\"} 1"));
  CHECK(has_line(text, "acd_agent_tasks{tenant=\"acme\",agent=\"alice\",channel=\"web-form\"} 0"));
  CHECK(has_line(text, "acd_agent_talk_seconds_total{tenant=\"acme\",agent=\"alice\"} 600"));
  CHECK(has_line(text, "acd_agent_ready_seconds_total{tenant=\"acme\",agent=\"alice\"} 1.5"));
  CHECK(has_line(text,
                 "acd_agent_not_ready_seconds_total{tenant=\"acme\",agent=\"alice\",reason="
                 "\"lunch\"} 60"));

  // Nine states per agent and per tenant.
  const auto lines = lines_of(text);
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
          return l.starts_with("acd_agent_state{");
        }) == 27);
  CHECK(std::count_if(lines.begin(), lines.end(),
                      [](const std::string& l) { return l.starts_with("acd_agents{"); }) == 18);

  // Parts that do not run export nothing.
  CHECK(text.find("acd_sip_") == std::string::npos);
  CHECK(text.find("acd_media_") == std::string::npos);
  CHECK(text.find("acd_records_") == std::string::npos);
}

TEST_CASE("metrics: label values are escaped", "[metrics]") {
  const std::string text = render_metrics(sample_inputs());
  INFO(text);
  CHECK(has_line(text,
                 "acd_queue_waiting{tenant=\"glo\\\"bex\",queue=\"say \\\"hi\\\"\\\\now\\nnext\"} "
                 "0"));
  CHECK(has_line(text, "acd_agents{tenant=\"glo\\\"bex\",state=\"Ready\"} 1"));
  CHECK(exposition_problems(text).empty());
}

TEST_CASE("metrics: a tenant without a name function is its id", "[metrics]") {
  MetricsInputs in = sample_inputs();
  in.tenant_name = nullptr;
  const std::string text = render_metrics(in);
  CHECK(has_line(text, "acd_queue_waiting{tenant=\"#0\",queue=\"sales\"} 3"));
  CHECK(exposition_problems(text).empty());
}

TEST_CASE("metrics: SIP, media and record store figures", "[metrics]") {
  MetricsInputs in = sample_inputs();
  sip::SipStats sip;
  sip.calls = 2;
  sip.requests = 100;
  sip.rejected_overload = 3;
  sip.rejected_source = 4;
  sip.dropped_flood = 5;
  sip.bans = 1;
  sip.registrations = 12;
  in.sip = sip;
  media::MediaStats media;
  media.streams = 4;
  media.bridges = 1;
  media.packets_received = 1000;
  media.dropped[static_cast<std::size_t>(media::DropReason::kWrongPayloadType)] = 7;
  in.media = media;
  store::RecordStoreStats records;
  records.submitted = 50;
  records.shipped = 48;
  records.backlog = 2;
  records.database_up = true;
  in.records = records;

  const std::string text = render_metrics(in);
  INFO(text);
  const auto problems = exposition_problems(text);
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
  CHECK(has_line(text, "# TYPE acd_sip_calls gauge"));
  CHECK(has_line(text, "acd_sip_calls 2"));
  CHECK(has_line(text, "acd_sip_requests_total 100"));
  CHECK(has_line(text, "acd_sip_rejected_total{reason=\"overload\"} 3"));
  CHECK(has_line(text, "acd_sip_rejected_total{reason=\"source\"} 4"));
  CHECK(has_line(text, "acd_sip_flood_dropped_total 5"));
  CHECK(has_line(text, "acd_sip_bans_total 1"));
  CHECK(has_line(text, "acd_sip_registrations_total 12"));
  CHECK(has_line(text, "acd_media_streams 4"));
  CHECK(has_line(text, "acd_media_bridges 1"));
  CHECK(has_line(text, "acd_media_packets_received_total 1000"));
  CHECK(has_line(text, "acd_media_packets_dropped_total{reason=\"wrong-payload-type\"} 7"));
  CHECK(has_line(text, "acd_media_packets_dropped_total{reason=\"no-stream\"} 0"));
  CHECK(has_line(text, "acd_records_submitted_total 50"));
  CHECK(has_line(text, "acd_records_shipped_total 48"));
  CHECK(has_line(text, "acd_records_backlog 2"));
  CHECK(has_line(text, "acd_records_database_up 1"));
}

TEST_CASE("metrics: without a core snapshot only the build figures", "[metrics]") {
  MetricsInputs in;
  in.version = "0.1";
  const std::string text = render_metrics(in);
  CHECK(text ==
        "# HELP acd_build_info Always 1; the version of the running acdd.\n"
        "# TYPE acd_build_info gauge\n"
        "acd_build_info{version=\"0.1\"} 1\n");
  CHECK(exposition_problems(text).empty());
}

TEST_CASE("metrics: the format checker catches what it should", "[metrics]") {
  CHECK_FALSE(exposition_problems("a 1").empty());    // no final newline
  CHECK_FALSE(exposition_problems("a 1\n").empty());  // no TYPE
  CHECK_FALSE(exposition_problems("# TYPE a_total counter\na_total x\n").empty());
  CHECK_FALSE(exposition_problems("# TYPE a counter\na 1\n").empty());  // counter name
  CHECK_FALSE(exposition_problems("# TYPE a gauge\na{b=\"x} 1\n").empty());
  CHECK_FALSE(exposition_problems("# TYPE a gauge\na{b=\"\\t\"} 1\n").empty());
  CHECK_FALSE(exposition_problems("# TYPE a gauge\na 1\na 2\n").empty());  // twice
  CHECK_FALSE(exposition_problems("# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na 2\n").empty());
  CHECK(exposition_problems("# HELP a x\\\\y\\n\n# TYPE a gauge\na{b=\"q\\\"\"} +Inf\n").empty());
}

TEST_CASE("metrics: the process start time is in the past", "[metrics]") {
  const double start = process_start_time_seconds();
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(start > 1.5e9);
  CHECK(start <= now + 1);
}

// ---- the metrics section of the daemon's file ----

std::vector<std::string> config_errors(const std::string& text) {
  NameRegistry registry;
  auto result = load_config_text(text, "test.yaml", registry);
  std::vector<std::string> out;
  if (!result.ok())
    for (const auto& e : result.error()) out.push_back(e.to_string());
  return out;
}

TEST_CASE("config: metrics.listen", "[metrics][config]") {
  NameRegistry registry;
  SECTION("absent: off") {
    auto result = load_config_text("tenants: []\n", "test.yaml", registry);
    REQUIRE(result.ok());
    CHECK(result.value().metrics.listen.empty());
  }
  SECTION("host:port, port 0 allowed") {
    auto result = load_config_text("metrics: {listen: \"127.0.0.1:9464\"}\ntenants: []\n",
                                   "test.yaml", registry);
    REQUIRE(result.ok());
    CHECK(result.value().metrics.listen == "127.0.0.1:9464");
    CHECK(config_errors("metrics: {listen: \"[::1]:0\"}\ntenants: []\n").empty());
    CHECK(config_errors("metrics: {listen: \"\"}\ntenants: []\n").empty());
  }
  SECTION("errors name the file, the line, the key and what was expected") {
    const auto errors = config_errors("tenants: []\nmetrics:\n  listen: \"127.0.0.1\"\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].starts_with("test.yaml:3:"));
    CHECK(errors[0].find("metrics.listen") != std::string::npos);
    CHECK(errors[0].find("expected host:port such as \"127.0.0.1:9464\"") != std::string::npos);
    for (const char* bad : {"9464", "localhost", ":9464", "127.0.0.1:", "127.0.0.1:65536",
                            "::1:9464", "[::1:9464", "127.0.0.1:9x"}) {
      INFO(bad);
      const auto e =
          config_errors(std::string("metrics: {listen: \"") + bad + "\"}\ntenants: []\n");
      REQUIRE(e.size() == 1);
      CHECK(e[0].find("metrics.listen: expected host:port") != std::string::npos);
    }
    CHECK(config_errors("metrics: {port: 9464}\ntenants: []\n").size() == 1);
    // Not the API's address.
    const auto same = config_errors(
        "api: {listen: \"127.0.0.1:9000\"}\nmetrics: {listen: \"127.0.0.1:9000\"}\ntenants: []\n");
    REQUIRE(same.size() == 1);
    CHECK(same[0].find("api.listen") != std::string::npos);
  }
  SECTION("the example configuration listens on loopback") {
    auto result = load_config_file(ACD_EXAMPLE_CONFIG, registry);
    REQUIRE(result.ok());
    CHECK(result.value().metrics.listen == "127.0.0.1:9464");
  }
}

}  // namespace
}  // namespace acd::app
