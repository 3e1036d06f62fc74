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
        "QUEUE    WAITING  LONGEST  RINGING  READY  BUSY  IN  ANSWERED  ABANDONED  SL   ASA\n"
        "support  3        0:45     0        1      2     4   40        2          88%  0:12\n"
        "\n"
        "AGENTS  READY 1  TALKING 1\n"
        "AGENT  STATE    REASON  FOR   CALL\n"
        "ann    READY    -       1:15  -\n"
        "bob    TALKING  -       0:15  9\n");
  // A small terminal cuts rows and columns.
  CHECK(board.render(kTen, 10, 2, "acd top") == "acd top  1\n\n");
  // With nobody waiting the longest wait does not age.
  v1::QueueUpdate empty;
  *empty.add_queues() = support(0, 0s, kTen);
  board.apply(empty);
  CHECK(board.render(kTen + 15s, 120, 4, "t").find("support  0        0:00") != std::string::npos);
}

}  // namespace
}  // namespace acd::cli
