// acdctl's human output and the wallboard, checked line by line.
#include "engine/cli/format.h"

#include <catch2/catch.hpp>

namespace acd::cli {
namespace {

namespace v1 = acd::v1;
using namespace std::chrono_literals;

// 2026-11-24 10:00:00 UTC
const WallTime kTen = WallTime(std::chrono::seconds(1795514400));

void set_time(google::protobuf::Timestamp& t, WallTime at) {
  t.set_seconds(std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
}

v1::QueueStatus support(int waiting, std::chrono::seconds longest, WallTime at) {
  v1::QueueStatus q;
  q.set_queue("support");
  q.set_waiting(waiting);
  q.mutable_longest_wait()->set_seconds(longest.count());
  q.set_agents_ready(1);
  q.set_agents_busy(2);
  q.set_agents_logged_in(4);
  q.set_answered(40);
  q.set_abandoned(2);
  q.set_service_level(0.875);
  q.mutable_asa()->set_seconds(12);
  set_time(*q.mutable_at(), at);
  return q;
}

TEST_CASE("durations and states read like a wallboard's", "[cli]") {
  CHECK(clock_text(0s) == "0:00");
  CHECK(clock_text(65s) == "1:05");
  CHECK(clock_text(3600s + 125s) == "1:02:05");
  CHECK(clock_text(-5s) == "0:00");
  CHECK(state_name(v1::AGENT_STATE_NOT_READY) == "NOT_READY");
  CHECK(state_name(v1::AGENT_STATE_WRAP_UP) == "WRAP_UP");
}

TEST_CASE("an agent's status and events as lines", "[cli]") {
  v1::AgentStatus s;
  s.set_agent("ann");
  s.set_state(v1::AGENT_STATE_NOT_READY);
  s.set_reason("lunch");
  set_time(*s.mutable_since(), kTen + 123s);
  s.set_cause(v1::CHANGE_CAUSE_SUPERVISOR);
  CHECK(agent_line(s) == "ann  NOT_READY (lunch)  since 10:02:03  by supervisor");

  v1::AgentEvent offer;
  set_time(*offer.mutable_at(), kTen);
  auto& o = *offer.mutable_offer();
  o.set_call_id(17);
  o.set_caller_number("+15550100");
  o.set_queue("support");
  o.mutable_waited()->set_seconds(42);
  o.set_vip_level(1);
  (*o.mutable_attributes())["menu.main"] = "2";
  o.mutable_screen_pop()->mutable_customer()->set_name("Jane Roe");
  o.mutable_screen_pop()->mutable_customer()->set_account("AC-1");
  o.mutable_screen_pop()->add_previous_contacts();
  CHECK(event_line(offer) ==
        "10:00:00  offer     call 17 from +15550100 in support, waited 0:42, VIP 1, "
        "menu.main=2; customer Jane Roe [AC-1]; 1 previous contacts");

  v1::AgentEvent message;
  auto& m = *message.mutable_message();
  m.set_from_user("boss");
  m.set_to_all_agents(true);
  m.set_text("team meeting at 3");
  set_time(*m.mutable_sent_at(), kTen + 5s);
  CHECK(event_line(message) == "10:00:05  message   from boss to every agent: team meeting at 3");

  v1::AgentEvent ended;
  set_time(*ended.mutable_at(), kTen);
  ended.mutable_call_ended()->set_call_id(17);
  ended.mutable_call_ended()->set_outcome("completed");
  ended.mutable_call_ended()->set_end_reason("caller-bye");
  ended.mutable_call_ended()->mutable_talk()->set_seconds(95);
  CHECK(event_line(ended) == "10:00:00  ended     call 17: completed (caller-bye), talk 1:35");
}

TEST_CASE("the wallboard ages waiting times and keeps the last state of each agent", "[cli]") {
  Wallboard board;
  v1::QueueUpdate snapshot;
  snapshot.set_snapshot(true);
  *snapshot.add_queues() = support(3, 30s, kTen);
  board.apply(snapshot);
  v1::AgentUpdate agents;
  agents.set_snapshot(true);
  for (const char* name : {"bob", "ann"}) {
    auto* a = agents.add_agents();
    a->set_agent(name);
    a->set_state(v1::AGENT_STATE_READY);
    set_time(*a->mutable_since(), kTen - 60s);
  }
  board.apply(agents);
  v1::AgentUpdate change;
  auto* bob = change.add_agents();
  bob->set_agent("bob");
  bob->set_state(v1::AGENT_STATE_TALKING);
  bob->set_call_id(9);
  set_time(*bob->mutable_since(), kTen);
  board.apply(change);

  const std::string screen = board.render(kTen + 15s, 120, 40, "acd top");
  CHECK(screen ==
        "acd top  10:00:15 UTC   (q: quit)\n"
        "\n"
        "QUEUE    WAITING  LONGEST  RINGING  READY  BUSY  IN  ANSWERED  ABANDONED  SL   ASA   "
        "TASKS W/O/A\n"
        "support  3        0:45     0        1      2     4   40        2          88%  0:12  -\n"
        "\n"
        "AGENTS  READY 1  TALKING 1\n"
        "AGENT  STATE    REASON  FOR   CALL  TASKS\n"
        "ann    READY    -       1:15  -     -\n"
        "bob    TALKING  -       0:15  9     -\n");
  // A small terminal cuts rows and columns.
  CHECK(board.render(kTen, 10, 2, "acd top") == "acd top  1\n\n");
  // With nobody waiting the longest wait does not age.
  v1::QueueUpdate empty;
  *empty.add_queues() = support(0, 0s, kTen);
  board.apply(empty);
  CHECK(board.render(kTen + 15s, 120, 4, "t").find("support  0        0:00") != std::string::npos);
}

TEST_CASE("tasks as lines, tables and events", "[cli][task]") {
  for (auto channel : {v1::CHANNEL_CHAT, v1::CHANNEL_EMAIL, v1::CHANNEL_SMS, v1::CHANNEL_WEB_FORM,
                       v1::CHANNEL_CALLBACK}) {
    INFO(channel_word(channel));
    CHECK(channel_from_word(channel_word(channel)) == channel);
  }
  CHECK(channel_word(v1::CHANNEL_WEB_FORM) == "web-form");
  CHECK(channel_word(v1::CHANNEL_UNSPECIFIED) == "-");
  CHECK_FALSE(channel_from_word("WEB_FORM"));
  CHECK_FALSE(channel_from_word("-"));
  CHECK_FALSE(channel_from_word("voice"));
  CHECK(phase_from_word("offered") == v1::TASK_PHASE_OFFERED);
  CHECK(phase_word(v1::TASK_PHASE_ENDED) == "ended");
  CHECK_FALSE(phase_from_word("ended"));  // ended tasks are never listed

  v1::Task chat;
  chat.set_id(7);
  chat.set_channel(v1::CHANNEL_CHAT);
  chat.set_phase(v1::TASK_PHASE_OFFERED);
  chat.set_queue("support");
  chat.set_agent("ann");
  chat.set_customer("+15550100");
  chat.set_subject("order 1234 is late");
  chat.set_priority(5);
  (*chat.mutable_attributes())["order"] = "1234";
  set_time(*chat.mutable_created(), kTen);
  set_time(*chat.mutable_enqueued(), kTen + 30s);
  CHECK(task_line(chat) ==
        "task 7  chat  offered to ann  in support  from +15550100: order 1234 is late");
  v1::Task mail;
  mail.set_id(8);
  mail.set_channel(v1::CHANNEL_EMAIL);
  mail.set_phase(v1::TASK_PHASE_WAITING);
  mail.set_position(2);
  mail.set_queue("billing");
  mail.set_subject("invoice");
  CHECK(task_line(mail) == "task 8  email  waiting #2  in billing: invoice");
  v1::Task done = chat;
  done.set_phase(v1::TASK_PHASE_ENDED);
  done.set_final_state(v1::TASK_FINAL_STATE_COMPLETED);
  CHECK(task_line(done).rfind("task 7  chat  ended (completed) by ann  in support", 0) == 0);

  CHECK(task_details(chat, kTen + 90s) ==
        "task:       7\n"
        "channel:    chat\n"
        "phase:      offered\n"
        "queue:      support\n"
        "agent:      ann\n"
        "subject:    order 1234 is late\n"
        "customer:   +15550100\n"
        "priority:   5\n"
        "vip level:  0\n"
        "created:    2026-11-24 10:00:00\n"
        "waited:     1:00\n"
        "  order:    1234\n");

  v1::ListTasksResponse list;
  *list.add_tasks() = chat;
  *list.add_tasks() = mail;
  list.set_matched(2);
  CHECK(task_table(list, kTen + 90s) ==
        "TASK  CHANNEL  PHASE    QUEUE    AGENT  WAITED  CUSTOMER   SUBJECT\n"
        "7     chat     offered  support  ann    1:00    +15550100  order 1234 is late\n"
        "8     email    waiting  billing  -      -       -          invoice\n");
  list.set_matched(5);
  CHECK(task_table(list, kTen).find("(2 of 5 tasks shown)\n") != std::string::npos);

  v1::AgentEvent offer;
  set_time(*offer.mutable_at(), kTen);
  auto& o = *offer.mutable_task_offer();
  o.set_task_id(7);
  o.set_channel(v1::CHANNEL_CHAT);
  o.set_queue("support");
  o.set_customer("jane@example.com");
  o.set_subject("hello");
  o.mutable_waited()->set_seconds(5);
  o.mutable_timeout()->set_seconds(15);
  (*o.mutable_attributes())["topic"] = "orders";
  o.mutable_screen_pop()->mutable_customer()->set_name("Jane Roe");
  CHECK(event_line(offer) ==
        "10:00:00  offer     task 7 chat in support from jane@example.com, waited 0:05, accept "
        "within 0:15, topic=orders: hello; customer Jane Roe");
  v1::AgentEvent ended_offer;
  set_time(*ended_offer.mutable_at(), kTen);
  ended_offer.mutable_task_offer_ended()->set_task_id(7);
  ended_offer.mutable_task_offer_ended()->set_reason("declined");
  CHECK(event_line(ended_offer) == "10:00:00  offer end task 7: declined");
  v1::AgentEvent accepted;
  set_time(*accepted.mutable_at(), kTen);
  accepted.mutable_task_accepted()->set_task_id(7);
  accepted.mutable_task_accepted()->set_channel(v1::CHANNEL_CHAT);
  accepted.mutable_task_accepted()->set_queue("support");
  accepted.mutable_task_accepted()->mutable_waited()->set_seconds(8);
  CHECK(event_line(accepted) == "10:00:00  accepted  task 7 chat in support after 0:08");
  v1::AgentEvent moved;
  set_time(*moved.mutable_at(), kTen);
  auto& t = *moved.mutable_task_transferred();
  t.set_task_id(7);
  t.set_to_queue("billing");
  t.set_to_agent("bob");
  t.set_cause("agent");
  t.mutable_handled()->set_seconds(61);
  CHECK(event_line(moved) ==
        "10:00:00  moved     task 7 to billing for bob (by agent), handled 1:01");
  v1::AgentEvent ended;
  set_time(*ended.mutable_at(), kTen);
  ended.mutable_task_ended()->set_task_id(7);
  ended.mutable_task_ended()->set_channel(v1::CHANNEL_CHAT);
  ended.mutable_task_ended()->set_state(v1::TASK_FINAL_STATE_CANCELLED);
  ended.mutable_task_ended()->mutable_handled()->set_seconds(120);
  CHECK(event_line(ended) == "10:00:00  ended     task 7 chat: cancelled, handled 2:00");
  v1::AgentEvent pop;
  set_time(*pop.mutable_at(), kTen);
  pop.mutable_screen_pop()->set_task_id(7);
  pop.mutable_screen_pop()->mutable_customer()->set_name("Jane Roe");
  CHECK(event_line(pop) == "10:00:00  customer  task 7: Jane Roe");

  // An agent's tasks in hand, and a queue's task figures.
  v1::AgentStatus ann;
  ann.set_agent("ann");
  ann.set_state(v1::AGENT_STATE_READY);
  ann.mutable_tasks()->set_chat(2);
  ann.mutable_tasks()->set_web_form(1);
  CHECK(agent_line(ann) == "ann  READY  tasks chat 2, web-form 1");
  CHECK(load_text(v1::ChannelLoad{}) == "-");
  v1::AgentUpdate agents;
  *agents.add_agents() = ann;
  CHECK(agent_table(agents, kTen) ==
        "AGENT  STATE  REASON  FOR  CALL  TASKS\n"
        "ann    READY  -       -    -     chat 2, web-form 1\n");
  v1::QueueUpdate queues;
  v1::QueueStatus q = support(0, 0s, kTen);
  q.set_tasks_waiting(2);
  q.set_tasks_offered(1);
  q.set_tasks_accepted(3);
  *queues.add_queues() = q;
  const std::string table = queue_table(queues, kTen);
  CHECK(table.find("TASKS W/O/A\n") != std::string::npos);
  CHECK(table.find("  2/1/3\n") != std::string::npos);
}

v1::RouteMember route_member(const std::string& name, v1::AgentState state, int rank,
                             std::vector<bool> admitted, std::vector<std::string> refused_by,
                             std::vector<double> keys, const std::string& not_now) {
  v1::RouteMember m;
  m.set_agent(name);
  m.set_state(state);
  m.set_tier(1);
  m.set_rank(rank);
  m.set_free(state == v1::AGENT_STATE_READY);
  for (bool a : admitted) m.add_admitted(a);
  for (const auto& why : refused_by) m.add_refused_by(why);
  for (double k : keys) m.add_order_keys(k);
  m.set_not_now(not_now);
  return m;
}

TEST_CASE("routing's dry run: the steps, a member table and who would be offered it",
          "[cli][route]") {
  CHECK(strategy_word(v1::QUEUE_STRATEGY_LONGEST_IDLE) == "longest-idle");
  CHECK(strategy_word(v1::QUEUE_STRATEGY_RING_ALL) == "ring-all");
  CHECK(strategy_word(v1::QUEUE_STRATEGY_UNSPECIFIED) == "-");

  v1::ExplainRouteResponse e;
  e.set_queue("billing");
  e.set_strategy(v1::QUEUE_STRATEGY_LONGEST_IDLE);
  e.set_by_rules(true);
  e.set_order_by("agent.skill.billing DESC, agent.idle DESC");
  auto* first = e.add_steps();
  first->set_rule("agent.skill.billing >= 5 AND agent.languages HAS task.language");
  first->set_current(true);
  auto* second = e.add_steps();
  second->mutable_after()->set_seconds(90);
  second->set_rule("agent.skill.billing >= 2");
  e.set_current_step(1);
  *e.add_members() =
      route_member("alice", v1::AGENT_STATE_READY, 1, {true, true}, {"", ""}, {8, 120000}, "");
  *e.add_members() = route_member("bob", v1::AGENT_STATE_READY, 0, {false, true},
                                  {"agent.languages HAS task.language is false", ""}, {6, 3000},
                                  "not admitted at step 1");
  *e.add_members() =
      route_member("carol", v1::AGENT_STATE_READY, 2, {true, true}, {"", ""}, {6, 2500.5}, "");
  *e.add_members() =
      route_member("dave", v1::AGENT_STATE_NOT_READY, 0, {false, false},
                   {"lacks skill billing", "lacks skill billing"}, {0, 0}, "is NotReady");
  e.add_chosen("alice");
  CHECK(route_explanation_text(e) ==
        "queue:     billing\n"
        "strategy:  longest-idle, by rules\n"
        "order by:  agent.skill.billing DESC, agent.idle DESC\n"
        "steps (* current):\n"
        "* step 1  after 0s     agent.skill.billing >= 5 AND agent.languages HAS task.language\n"
        "  step 2  after 1m30s  agent.skill.billing >= 2\n"
        "RANK  AGENT  STATE      TIER  PENALTY  STEP 1  STEP 2  ORDER BY   REASON\n"
        "1     alice  READY      1     0        yes     yes     8, 120000  -\n"
        "-     bob    READY      1     0        no      yes     6, 3000    step 1: "
        "agent.languages HAS task.language is false\n"
        "2     carol  READY      1     0        yes     yes     6, 2500.5  -\n"
        "-     dave   NOT_READY  1     0        no      no      0, 0       is NotReady; step 1: "
        "lacks skill billing\n"
        "would offer to: alice (then carol)\n");

  // Ring-all rings several at once; random strategies draw among a group.
  e.add_chosen("carol");
  CHECK(route_explanation_text(e).ends_with("\nwould ring at once: alice, carol\n"));
  e.set_random_group(2);
  CHECK(route_explanation_text(e).ends_with("\nwould draw one of: alice, carol\n"));

  // Nobody: each member's reason, at most five of them.
  v1::ExplainRouteResponse none;
  none.set_queue("support");
  none.set_strategy(v1::QUEUE_STRATEGY_TOP_DOWN);
  auto* step = none.add_steps();
  step->set_rule("required skills, tiers 1..1");
  step->set_current(true);
  none.set_current_step(1);
  *none.add_members() = route_member("ann", v1::AGENT_STATE_READY, 0, {false},
                                     {"skill billing at 3, needs 5"}, {}, "not admitted at step 1");
  *none.add_members() =
      route_member("bob", v1::AGENT_STATE_LOGGED_OUT, 0, {true}, {""}, {}, "is LoggedOut");
  CHECK(route_explanation_text(none) ==
        "queue:     support\n"
        "strategy:  top-down, by skills\n"
        "order by:  -\n"
        "steps (* current):\n"
        "* step 1  after 0s  required skills, tiers 1..1\n"
        "RANK  AGENT  STATE       TIER  PENALTY  STEP 1  REASON\n"
        "-     ann    READY       1     0        no      step 1: skill billing at 3, needs 5\n"
        "-     bob    LOGGED_OUT  1     0        yes     is LoggedOut\n"
        "no agent can take it now: ann (step 1: skill billing at 3, needs 5), bob (is "
        "LoggedOut)\n");
  for (int i = 0; i < 5; ++i)
    *none.add_members() = route_member("x" + std::to_string(i), v1::AGENT_STATE_NOT_READY, 0,
                                       {true}, {""}, {}, "is NotReady");
  CHECK(route_explanation_text(none).ends_with(", x2 (is NotReady), and 2 more\n"));
  none.clear_members();
  CHECK(route_explanation_text(none).ends_with(
      "\nno agent can take it now: the queue has no members\n"));
}

TEST_CASE("acdctl reads --from and --to", "[cli]") {
  const WallTime now = kTen + 30s;
  CHECK(parse_time("now", now) == now);
  CHECK(parse_time("-90m", now) == now - 90min);
  CHECK(parse_time("-24h", now) == now - 24h);
  CHECK(parse_time("-7d", now) == now - 7 * 24h);
  CHECK(parse_time("2026-11-24", now) == kTen - 10h);
  CHECK(parse_time("2026-11-24T10:00", now) == kTen);
  CHECK(parse_time("2026-11-24 10:00:30", now) == kTen + 30s);
  CHECK(parse_time("2026-11-24T10:00:30Z", now) == kTen + 30s);
  CHECK(parse_time("2026-11-24T10:00:30.25Z", now) == kTen + 30s + 250ms);
  CHECK(parse_time("2026-11-24T11:00:00+01:00", now) == kTen);
  CHECK(parse_time("2026-11-24T05:00:00-0500", now) == kTen);
  CHECK(parse_time("2026-11-24T15:30+05:30", now) == kTen);
  CHECK(parse_time("2026-11-24T12:00+02", now) == kTen);
  CHECK(parse_time("2024-02-29", now).has_value());
  for (const char* bad :
       {"", "yesterday", "-", "-5", "-5y", "2023-02-29", "2026-13-01", "2026-11-24T25:00",
        "2026-11-24T10", "2026-11-24T10:00:00+1", "2026-11-24X10:00", "2026-11-24T10:00:00.Z",
        "24.11.2026", "2026-11-24T10:00:00 UTC"}) {
    INFO(bad);
    CHECK_FALSE(parse_time(bad, now).has_value());
  }
}

TEST_CASE("final states read as the history writes them", "[cli]") {
  CHECK(final_state_word(v1::CALL_FINAL_STATE_HUNG_UP) == "hung-up");
  CHECK(final_state_word(v1::CALL_FINAL_STATE_COMPLETED) == "completed");
  CHECK(final_state_word(v1::CALL_FINAL_STATE_UNSPECIFIED) == "-");
  CHECK(final_state_from_word("transferred") == v1::CALL_FINAL_STATE_TRANSFERRED);
  CHECK(final_state_from_word("hung-up") == v1::CALL_FINAL_STATE_HUNG_UP);
  CHECK_FALSE(final_state_from_word("HUNG_UP"));
  CHECK_FALSE(final_state_from_word("-"));
  CHECK(date_time_text(kTen + 61s) == "2026-11-24 10:01:01");
  CHECK(iso_time_text(kTen + 61s + 250ms) == "2026-11-24T10:01:01.250000Z");
  const WallTime odd = kTen + 1234567us + 89ns;
  CHECK(parse_time(iso_time_text(odd), kTen) == kTen + 1234567us);
}

TEST_CASE("call records as a table", "[cli]") {
  v1::SearchCallsResponse page;
  auto* c = page.add_calls();
  c->set_call_id(1001);
  set_time(*c->mutable_arrived_at(), kTen + 5s);
  c->set_direction(v1::CALL_DIRECTION_INBOUND);
  c->set_caller_number("+15550001");
  c->set_first_queue("sales");
  c->set_last_queue("support");
  c->set_agent("alice");
  c->set_final_state(v1::CALL_FINAL_STATE_COMPLETED);
  c->mutable_wait()->set_seconds(12);
  c->mutable_talk()->set_seconds(125);
  c->set_end_reason("agent-bye");
  auto* d = page.add_calls();
  d->set_call_id(7);
  set_time(*d->mutable_arrived_at(), kTen);
  d->set_direction(v1::CALL_DIRECTION_OUTBOUND);
  d->set_final_state(v1::CALL_FINAL_STATE_UNANSWERED);
  CHECK(call_table(page) ==
        "CALL  ARRIVED (UTC)        DIR  CALLER     QUEUE          AGENT  STATE       WAIT  TALK  "
        "ENDED BY\n"
        "1001  2026-11-24 10:00:05  in   +15550001  sales>support  alice  completed   0:12  2:05  "
        "agent-bye\n"
        "7     2026-11-24 10:00:00  out  -          -              -      unanswered  0:00  0:00  "
        "-\n");
  CHECK(call_table(page, false).rfind("1001  ", 0) == 0);
  CHECK(call_table(v1::SearchCallsResponse{}) ==
        "CALL  ARRIVED (UTC)  DIR  CALLER  QUEUE  AGENT  STATE  WAIT  TALK  ENDED BY\n");
}

TEST_CASE("reports as tables, absent figures as '-'", "[cli]") {
  v1::QueueReportResponse queues;
  auto* q = queues.add_rows();
  q->set_queue("sales");
  q->set_interval_local("2024-03-05T10:00:00");
  q->set_offered(7);
  q->set_answered(3);
  q->set_abandoned(2);
  q->set_ended_otherwise(2);
  q->set_sl_answered(0.6667);
  q->set_sl_with_abandons(0.6);
  q->set_abandon_rate(0.4);
  q->mutable_asa()->set_seconds(16);
  q->mutable_aht()->set_seconds(86);
  q->mutable_longest_wait()->set_seconds(60);
  auto* idle = queues.add_rows();
  idle->set_queue("support");
  idle->set_interval_local("2024-03-05T11:00:00");
  idle->set_offered(1);
  idle->set_abandoned(1);
  idle->set_abandon_rate(1);
  CHECK(queue_report_table(queues) ==
        "QUEUE    INTERVAL          OFFERED  ANSWERED  ABANDONED  OTHER  SL     SL+AB  ABANDON  "
        "ASA   AHT   LONGEST\n"
        "sales    2024-03-05 10:00  7        3         2          2      66.7%  60.0%  40.0%    "
        "0:16  1:26  1:00\n"
        "support  2024-03-05 11:00  1        0         1          0      -      -      100.0%   "
        "-     -     -\n");

  v1::AgentReportResponse agents;
  auto* a = agents.add_rows();
  a->set_agent("alice");
  a->set_interval_local("2024-03-05T11:00:00");
  a->set_answered(1);
  a->mutable_logged_in_time()->set_seconds(3600);
  a->mutable_ready_time()->set_seconds(600);
  a->mutable_not_ready_time()->set_seconds(2355);
  (*a->mutable_not_ready_by_reason())["lunch"].set_seconds(555);
  (*a->mutable_not_ready_by_reason())["break"].set_seconds(1800);
  a->mutable_talk_time()->set_seconds(540);
  CHECK(agent_report_table(agents) ==
        "AGENT  INTERVAL          OFFERS  ANSWERED  RONA  LOGGED IN  READY  NOT READY  TALK  HOLD  "
        "WRAP-UP  NOT READY BY REASON\n"
        "alice  2024-03-05 11:00  0       1         0     1:00:00    10:00  39:15      9:00  0:00  "
        "0:00     break 30:00, lunch 9:15\n");

  v1::AgentStateTimeResponse states;
  auto* s = states.add_rows();
  s->set_agent("bob");
  s->set_interval_local("2024-03-05T10:15:00");
  s->set_state(v1::AGENT_STATE_NOT_READY);
  s->set_state_name("not-ready");
  s->set_reason("break");
  s->mutable_duration()->set_seconds(300);
  auto* future = states.add_rows();
  future->set_agent("bob");
  future->set_interval_local("2024-03-05T10:15:00");
  future->set_state_name("meditating");  // a state this acdctl does not know
  future->mutable_duration()->set_seconds(60);
  CHECK(state_time_table(states) ==
        "AGENT  INTERVAL          STATE       REASON  TIME\n"
        "bob    2024-03-05 10:15  NOT_READY   break   5:00\n"
        "bob    2024-03-05 10:15  meditating  -       1:00\n");

  v1::AgentMonthlyVolumeResponse months;
  auto* m = months.add_rows();
  m->set_agent("alice");
  m->set_month("2024-03-01");
  m->set_offers(4);
  m->set_answered(3);
  m->set_rona(1);
  m->set_outbound(1);
  m->mutable_talk_time()->set_seconds(110);
  m->mutable_hold_time()->set_seconds(15);
  m->mutable_wrap_up_time()->set_seconds(25);
  m->mutable_aht()->set_seconds(50);
  auto* none = months.add_rows();
  none->set_agent("bob");
  none->set_month("2024-03-01");
  CHECK(monthly_volume_table(months) ==
        "AGENT  MONTH    OFFERS  ANSWERED  RONA  OUTBOUND  TALK  HOLD  WRAP-UP  AHT\n"
        "alice  2024-03  4       3         1     1         1:50  0:15  0:25     0:50\n"
        "bob    2024-03  0       0         0     0         0:00  0:00  0:00     -\n");
}

}  // namespace
}  // namespace acd::cli
