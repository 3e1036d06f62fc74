// TaskService through a real gRPC channel against a routing core on its own thread: every
// RPC, the task parts of the agent's event stream and of the supervisor watches, who may
// call what, tenant isolation, and the refusals naming the request's field.
#include <catch2/catch.hpp>

#include "engine/api/api_test_fixture.h"

namespace acd::api {
namespace {

using namespace acd::api::testing;

v1::CreateTaskRequest new_task(v1::Channel channel, const std::string& subject,
                               const std::string& customer = "") {
  v1::CreateTaskRequest r;
  r.set_channel(channel);
  r.set_queue("support");
  r.set_subject(subject);
  r.set_customer(customer);
  return r;
}

template <class Request>
Request on_task(std::int64_t id, const std::string& agent = "") {
  Request r;
  r.set_task_id(id);
  if constexpr (!std::is_same_v<Request, v1::GetTaskRequest> &&
                !std::is_same_v<Request, v1::CancelTaskRequest>)
    r.set_agent(agent);
  return r;
}

void open_events(Fixture& f, Reading<v1::AgentEvent>& events) {
  events.reader = f.stub->StreamEvents(&events.context, v1::StreamEventsRequest{});
  REQUIRE(events.next().has_status());
}

v1::ScreenPop jane() {
  v1::ScreenPop pop;
  pop.set_looked_up(true);
  pop.mutable_customer()->set_name("Jane Roe");
  pop.mutable_customer()->set_account("AC-1001");
  return pop;
}

std::function<bool(const v1::AgentEvent&)> offer_of(std::int64_t task) {
  return [task](const v1::AgentEvent& e) {
    return e.has_task_offer() && e.task_offer().task_id() == task;
  };
}

bool refused(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
         s.error_code() == grpc::StatusCode::UNAUTHENTICATED;
}

TEST_CASE("tasks over gRPC: create, read, accept, transfer, decline, complete, cancel",
          "[api][task]") {
  Fixture f;
  Reading<v1::AgentEvent> ann("ann-token");
  open_events(f, ann);
  Reading<v1::AgentEvent> bob("bob-token");
  open_events(f, bob);
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(true), status).ok());

  // A chat, created by a supervisor: offered to ann, the only agent Ready.
  v1::CreateTaskRequest create = new_task(v1::CHANNEL_CHAT, "order 1234 is late", "+15550100");
  create.set_priority(5);
  create.set_vip_level(2);
  (*create.mutable_attributes())["topic"] = "orders";
  (*create.mutable_attributes())["order"] = "1234";
  v1::Task task;
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "boss-token", create, task).ok());
  CHECK(task.id() == 1);  // the first task of this run
  CHECK(task.channel() == v1::CHANNEL_CHAT);
  CHECK(task.queue() == "support");
  CHECK(task.subject() == "order 1234 is late");
  CHECK(task.customer() == "+15550100");
  CHECK(task.priority() == 5);
  CHECK(task.vip_level() == 2);
  CHECK(task.attributes().at("topic") == "orders");
  CHECK(task.attributes().at("order") == "1234");
  CHECK(task.created().seconds() > 0);
  CHECK(task.final_state() == v1::TASK_FINAL_STATE_UNSPECIFIED);
  ann.until(offer_of(1));

  REQUIRE(
      f.task(&v1::TaskService::Stub::GetTask, "reader-token", on_task<v1::GetTaskRequest>(1), task)
          .ok());
  CHECK(task.phase() == v1::TASK_PHASE_OFFERED);
  CHECK(task.agent() == "ann");
  CHECK(task.subject() == "order 1234 is late");

  v1::ListTasksResponse list;
  REQUIRE(
      f.task(&v1::TaskService::Stub::ListTasks, "boss-token", v1::ListTasksRequest{}, list).ok());
  REQUIRE(list.tasks_size() == 1);
  CHECK(list.matched() == 1);
  CHECK(list.tasks(0).id() == 1);
  v1::ListTasksRequest waiting;
  waiting.set_phase(v1::TASK_PHASE_WAITING);
  REQUIRE(f.task(&v1::TaskService::Stub::ListTasks, "boss-token", waiting, list).ok());
  CHECK(list.tasks_size() == 0);
  CHECK(list.matched() == 0);
  v1::ListTasksRequest offered;
  offered.set_queue("support");
  offered.set_phase(v1::TASK_PHASE_OFFERED);
  REQUIRE(f.task(&v1::TaskService::Stub::ListTasks, "boss-token", offered, list).ok());
  CHECK(list.tasks_size() == 1);

  // ann accepts: she holds one chat.
  REQUIRE(f.task(&v1::TaskService::Stub::AcceptTask, "ann-token", on_task<v1::AcceptTaskRequest>(1),
                 task)
              .ok());
  CHECK(task.phase() == v1::TASK_PHASE_ACCEPTED);
  CHECK(task.agent() == "ann");
  CHECK(task.accepted().seconds() > 0);
  auto accepted = ann.until([](const v1::AgentEvent& e) { return e.has_task_accepted(); });
  CHECK(accepted.task_accepted().task_id() == 1);
  CHECK(accepted.task_accepted().channel() == v1::CHANNEL_CHAT);
  CHECK(accepted.task_accepted().queue() == "support");
  REQUIRE(
      f.call(&v1::AgentService::Stub::GetStatus, "ann-token", v1::GetStatusRequest{}, status).ok());
  CHECK(status.tasks().chat() == 1);
  CHECK(status.tasks().email() == 0);

  // ann hands it to bob; a supervisor accepts it for him, and bob completes it.
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "bob-token", login_request(true), status).ok());
  v1::TransferTaskRequest transfer = on_task<v1::TransferTaskRequest>(1);
  transfer.set_queue("support");
  transfer.set_preferred_agent("bob");
  REQUIRE(f.task(&v1::TaskService::Stub::TransferTask, "ann-token", transfer, task).ok());
  CHECK(task.queue() == "support");
  CHECK((task.phase() == v1::TASK_PHASE_WAITING || task.phase() == v1::TASK_PHASE_OFFERED));
  auto away = ann.until([](const v1::AgentEvent& e) { return e.has_task_transferred(); });
  CHECK(away.task_transferred().task_id() == 1);
  CHECK(away.task_transferred().from_queue() == "support");
  CHECK(away.task_transferred().to_queue() == "support");
  CHECK(away.task_transferred().to_agent() == "bob");
  CHECK(away.task_transferred().cause() == "agent");
  bob.until(offer_of(1));
  REQUIRE(f.task(&v1::TaskService::Stub::AcceptTask, "admin-token",
                 on_task<v1::AcceptTaskRequest>(1, "bob"), task)
              .ok());
  CHECK(task.agent() == "bob");
  CHECK(task.phase() == v1::TASK_PHASE_ACCEPTED);
  REQUIRE(f.task(&v1::TaskService::Stub::CompleteTask, "bob-token",
                 on_task<v1::CompleteTaskRequest>(1), task)
              .ok());
  CHECK(task.id() == 1);
  CHECK(task.phase() == v1::TASK_PHASE_ENDED);
  CHECK(task.final_state() == v1::TASK_FINAL_STATE_COMPLETED);
  CHECK(task.subject() == "order 1234 is late");
  auto ended = bob.until([](const v1::AgentEvent& e) { return e.has_task_ended(); });
  CHECK(ended.task_ended().task_id() == 1);
  CHECK(ended.task_ended().state() == v1::TASK_FINAL_STATE_COMPLETED);
  CHECK(ended.task_ended().queue() == "support");
  auto s =
      f.task(&v1::TaskService::Stub::GetTask, "boss-token", on_task<v1::GetTaskRequest>(1), task);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "task_id: no task 1");

  // A second chat: whoever is offered it declines, and it goes to the other.
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "admin-token",
                 new_task(v1::CHANNEL_CHAT, "refund?"), task)
              .ok());
  CHECK(task.id() == 2);
  bool ann_first = false;
  for (;;) {
    REQUIRE(
        f.task(&v1::TaskService::Stub::GetTask, "boss-token", on_task<v1::GetTaskRequest>(2), task)
            .ok());
    if (task.phase() == v1::TASK_PHASE_OFFERED) break;
    std::this_thread::sleep_for(10ms);
  }
  ann_first = task.agent() == "ann";
  Reading<v1::AgentEvent>& first = ann_first ? ann : bob;
  Reading<v1::AgentEvent>& second = ann_first ? bob : ann;
  const std::string first_token = ann_first ? "ann-token" : "bob-token";
  const std::string second_token = ann_first ? "bob-token" : "ann-token";
  first.until(offer_of(2));
  REQUIRE(f.task(&v1::TaskService::Stub::DeclineTask, first_token,
                 on_task<v1::DeclineTaskRequest>(2), task)
              .ok());
  auto declined = first.until([](const v1::AgentEvent& e) { return e.has_task_offer_ended(); });
  CHECK(declined.task_offer_ended().task_id() == 2);
  CHECK(declined.task_offer_ended().reason() == "declined");
  second.until(offer_of(2));
  REQUIRE(f.task(&v1::TaskService::Stub::AcceptTask, second_token,
                 on_task<v1::AcceptTaskRequest>(2), task)
              .ok());
  // Cancelled while an agent works on it.
  REQUIRE(f.task(&v1::TaskService::Stub::CancelTask, "boss-token",
                 on_task<v1::CancelTaskRequest>(2), task)
              .ok());
  CHECK(task.phase() == v1::TASK_PHASE_ENDED);
  CHECK(task.final_state() == v1::TASK_FINAL_STATE_CANCELLED);
  auto cancelled = second.until([](const v1::AgentEvent& e) { return e.has_task_ended(); });
  CHECK(cancelled.task_ended().task_id() == 2);
  CHECK(cancelled.task_ended().state() == v1::TASK_FINAL_STATE_CANCELLED);

  // An e-mail nobody accepted: cancelling it abandons it.
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "boss-token",
                 new_task(v1::CHANNEL_EMAIL, "invoice"), task)
              .ok());
  CHECK(task.id() == 3);
  CHECK(task.channel() == v1::CHANNEL_EMAIL);
  REQUIRE(f.task(&v1::TaskService::Stub::CancelTask, "boss-token",
                 on_task<v1::CancelTaskRequest>(3), task)
              .ok());
  CHECK(task.final_state() == v1::TASK_FINAL_STATE_ABANDONED);
  REQUIRE(
      f.task(&v1::TaskService::Stub::ListTasks, "boss-token", v1::ListTasksRequest{}, list).ok());
  CHECK(list.tasks_size() == 0);

  std::lock_guard lock(f.log_mutex);
  CHECK(f.privileged == std::vector<std::string>{"TaskService.CreateTask", "TaskService.AcceptTask",
                                                 "TaskService.CreateTask", "TaskService.CancelTask",
                                                 "TaskService.CreateTask",
                                                 "TaskService.CancelTask"});
}

TEST_CASE("an agent's stream: a task offer with its screen pop, accepted, completed",
          "[api][task][stream]") {
  Fixture f;
  f.lookups.answer_at_once = true;
  f.lookups.result = jane();
  Reading<v1::AgentEvent> events("ann-token");
  open_events(f, events);
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(true), status).ok());

  v1::CreateTaskRequest create = new_task(v1::CHANNEL_SMS, "is my parcel coming?", "+15550123");
  (*create.mutable_attributes())["parcel"] = "P-77";
  v1::Task task;
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "boss-token", create, task).ok());
  const v1::AgentEvent offered = events.until(offer_of(task.id()));
  const v1::TaskOffer& offer = offered.task_offer();
  CHECK(offer.channel() == v1::CHANNEL_SMS);
  CHECK(offer.queue() == "support");
  CHECK(offer.subject() == "is my parcel coming?");
  CHECK(offer.customer() == "+15550123");
  CHECK(offer.attributes().at("parcel") == "P-77");
  CHECK(offer.timeout().seconds() == 15);  // the queue's ring timeout
  CHECK(offered.at().seconds() > 0);
  REQUIRE(offer.screen_pop().looked_up());
  CHECK(offer.screen_pop().task_id() == task.id());
  CHECK(offer.screen_pop().call_id() == 0);
  CHECK(offer.screen_pop().customer().name() == "Jane Roe");
  {
    std::lock_guard lock(f.lookups.mutex);
    CHECK(f.lookups.tenants == std::vector<std::string>{"acme"});
  }

  REQUIRE(f.task(&v1::TaskService::Stub::AcceptTask, "ann-token",
                 on_task<v1::AcceptTaskRequest>(task.id()), task)
              .ok());
  auto accepted = events.until([](const v1::AgentEvent& e) { return e.has_task_accepted(); });
  CHECK(accepted.task_accepted().task_id() == task.id());
  CHECK(accepted.task_accepted().channel() == v1::CHANNEL_SMS);
  REQUIRE(
      f.call(&v1::AgentService::Stub::GetStatus, "ann-token", v1::GetStatusRequest{}, status).ok());
  CHECK(status.tasks().sms() == 1);
  REQUIRE(f.task(&v1::TaskService::Stub::CompleteTask, "ann-token",
                 on_task<v1::CompleteTaskRequest>(task.id()), task)
              .ok());
  auto ended = events.until([](const v1::AgentEvent& e) { return e.has_task_ended(); });
  CHECK(ended.task_ended().task_id() == task.id());
  CHECK(ended.task_ended().channel() == v1::CHANNEL_SMS);
  CHECK(ended.task_ended().state() == v1::TASK_FINAL_STATE_COMPLETED);
  REQUIRE(
      f.call(&v1::AgentService::Stub::GetStatus, "ann-token", v1::GetStatusRequest{}, status).ok());
  CHECK(status.tasks().sms() == 0);
}

TEST_CASE("a task's screen pop slower than routing follows its offer", "[api][task][stream]") {
  Fixture f;
  f.lookups.result = jane();
  Reading<v1::AgentEvent> events("ann-token");
  open_events(f, events);
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(true), status).ok());
  v1::Task task;
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "boss-token",
                 new_task(v1::CHANNEL_EMAIL, "contract", "jane@example.com"), task)
              .ok());
  const auto offered = events.until(offer_of(task.id()));
  CHECK_FALSE(offered.task_offer().screen_pop().looked_up());
  CHECK(offered.task_offer().screen_pop().task_id() == task.id());
  {
    std::lock_guard lock(f.lookups.mutex);
    REQUIRE(f.lookups.pending.size() == 1);
    CHECK(f.lookups.pending[0].first == "jane@example.com");
  }
  f.lookups.answer_all();
  const auto pop = events.until([](const v1::AgentEvent& e) { return e.has_screen_pop(); });
  CHECK(pop.screen_pop().task_id() == task.id());
  CHECK(pop.screen_pop().call_id() == 0);
  CHECK(pop.screen_pop().looked_up());
  CHECK(pop.screen_pop().customer().account() == "AC-1001");

  // A task without a customer is looked up by nobody.
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "boss-token",
                 new_task(v1::CHANNEL_CHAT, "hello"), task)
              .ok());
  const auto second = events.until(offer_of(task.id()));
  CHECK_FALSE(second.task_offer().screen_pop().looked_up());
  std::lock_guard lock(f.lookups.mutex);
  CHECK(f.lookups.pending.empty());
  CHECK(f.lookups.tenants.size() == 1);
}

const v1::QueueStatus* support_in(const v1::QueueUpdate& update) {
  for (const auto& q : update.queues())
    if (q.queue() == "support") return &q;
  return nullptr;
}

TEST_CASE("supervisor watches follow the tasks of queues and agents", "[api][task][supervisor]") {
  Fixture f;
  Reading<v1::QueueUpdate> queues("boss-token");
  queues.reader = f.supervisor->WatchQueues(&queues.context, v1::WatchQueuesRequest{});
  const v1::QueueUpdate first = queues.next();
  REQUIRE(first.snapshot());
  REQUIRE(support_in(first) != nullptr);
  CHECK(support_in(first)->tasks_waiting() == 0);
  Reading<v1::AgentUpdate> agents("reader-token");
  v1::WatchAgentsRequest ann_only;
  ann_only.add_agents("ann");
  agents.reader = f.supervisor->WatchAgents(&agents.context, ann_only);
  REQUIRE(agents.next().snapshot());

  // ann is logged in but not Ready: the task waits.
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(false), status).ok());
  v1::Task task;
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "boss-token",
                 new_task(v1::CHANNEL_CHAT, "help"), task)
              .ok());
  auto waiting = queues.until([](const v1::QueueUpdate& u) {
    const auto* q = support_in(u);
    return q != nullptr && q->tasks_waiting() == 1;
  });
  CHECK(support_in(waiting)->task_totals().entered() == 1);
  CHECK(support_in(waiting)->tasks_offered() == 0);

  REQUIRE(
      f.call(&v1::AgentService::Stub::SetReady, "ann-token", v1::SetReadyRequest{}, status).ok());
  auto offered = queues.until([](const v1::QueueUpdate& u) {
    const auto* q = support_in(u);
    return q != nullptr && q->tasks_offered() == 1;
  });
  CHECK(support_in(offered)->tasks_waiting() == 0);
  auto holding = agents.until([](const v1::AgentUpdate& u) {
    return u.agents_size() > 0 && u.agents(u.agents_size() - 1).tasks().chat() == 1;
  });
  CHECK(holding.agents(holding.agents_size() - 1).agent() == "ann");

  REQUIRE(f.task(&v1::TaskService::Stub::AcceptTask, "ann-token",
                 on_task<v1::AcceptTaskRequest>(task.id()), task)
              .ok());
  auto working = queues.until([](const v1::QueueUpdate& u) {
    const auto* q = support_in(u);
    return q != nullptr && q->tasks_accepted() == 1;
  });
  CHECK(support_in(working)->tasks_offered() == 0);
  CHECK(support_in(working)->task_totals().accepted() == 1);
  REQUIRE(f.task(&v1::TaskService::Stub::CompleteTask, "ann-token",
                 on_task<v1::CompleteTaskRequest>(task.id()), task)
              .ok());
  auto done = queues.until([](const v1::QueueUpdate& u) {
    const auto* q = support_in(u);
    return q != nullptr && q->task_totals().completed() == 1;
  });
  CHECK(support_in(done)->tasks_accepted() == 0);
  agents.until([](const v1::AgentUpdate& u) {
    return u.agents_size() > 0 && u.agents(u.agents_size() - 1).tasks().chat() == 0;
  });
  // The lists show the same figures.
  v1::QueueUpdate listed;
  REQUIRE(f.supervise(&v1::SupervisorService::Stub::ListQueues, "reader-token",
                      v1::WatchQueuesRequest{}, listed)
              .ok());
  REQUIRE(support_in(listed) != nullptr);
  CHECK(support_in(listed)->task_totals().completed() == 1);
}

}  // namespace
}  // namespace acd::api

namespace acd::api {
namespace {

// Each role and token state against each TaskService RPC. "Allowed" means the call got
// past authorization (it may still find no such task: NOT_FOUND).
TEST_CASE("who may call TaskService", "[api][task][auth]") {
  Fixture f;
  using Rpc = std::function<grpc::Status(const std::string& token)>;
  auto unary = [&f](auto rpc, auto request, auto response) -> Rpc {
    return [&f, rpc, request, response](const std::string& token) mutable {
      return f.task(rpc, token, request, response);
    };
  };
  constexpr std::int64_t kNoSuchTask = 999;
  v1::TransferTaskRequest transfer = on_task<v1::TransferTaskRequest>(kNoSuchTask);
  transfer.set_queue("support");
  const std::vector<std::pair<std::string, Rpc>> create_cancel{
      {"CreateTask",
       unary(&v1::TaskService::Stub::CreateTask, new_task(v1::CHANNEL_CHAT, "hi"), v1::Task{})},
      {"CancelTask", unary(&v1::TaskService::Stub::CancelTask,
                           on_task<v1::CancelTaskRequest>(kNoSuchTask), v1::Task{})},
  };
  const std::vector<std::pair<std::string, Rpc>> reads{
      {"GetTask", unary(&v1::TaskService::Stub::GetTask, on_task<v1::GetTaskRequest>(kNoSuchTask),
                        v1::Task{})},
      {"ListTasks",
       unary(&v1::TaskService::Stub::ListTasks, v1::ListTasksRequest{}, v1::ListTasksResponse{})},
  };
  // The agent's commands: on the caller's own agent...
  const std::vector<std::pair<std::string, Rpc>> own{
      {"AcceptTask", unary(&v1::TaskService::Stub::AcceptTask,
                           on_task<v1::AcceptTaskRequest>(kNoSuchTask), v1::Task{})},
      {"DeclineTask", unary(&v1::TaskService::Stub::DeclineTask,
                            on_task<v1::DeclineTaskRequest>(kNoSuchTask), v1::Task{})},
      {"CompleteTask", unary(&v1::TaskService::Stub::CompleteTask,
                             on_task<v1::CompleteTaskRequest>(kNoSuchTask), v1::Task{})},
      {"TransferTask", unary(&v1::TaskService::Stub::TransferTask, transfer, v1::Task{})},
  };
  // ... and on behalf of ann.
  v1::TransferTaskRequest transfer_for_ann = transfer;
  transfer_for_ann.set_agent("ann");
  const std::vector<std::pair<std::string, Rpc>> for_ann{
      {"AcceptTask", unary(&v1::TaskService::Stub::AcceptTask,
                           on_task<v1::AcceptTaskRequest>(kNoSuchTask, "ann"), v1::Task{})},
      {"DeclineTask", unary(&v1::TaskService::Stub::DeclineTask,
                            on_task<v1::DeclineTaskRequest>(kNoSuchTask, "ann"), v1::Task{})},
      {"CompleteTask", unary(&v1::TaskService::Stub::CompleteTask,
                             on_task<v1::CompleteTaskRequest>(kNoSuchTask, "ann"), v1::Task{})},
      {"TransferTask", unary(&v1::TaskService::Stub::TransferTask, transfer_for_ann, v1::Task{})},
  };
  const std::vector<std::string> nobody{"", "wrong-token", "old-token"};
  auto check = [&](const std::vector<std::pair<std::string, Rpc>>& rpcs,
                   const std::vector<std::string>& allowed,
                   const std::vector<std::string>& denied) {
    for (const auto& [name, rpc] : rpcs) {
      for (const auto& token : allowed) {
        INFO(name << " as " << token);
        const grpc::Status s = rpc(token);
        INFO(s.error_message());
        CHECK_FALSE(refused(s));
      }
      for (const auto& token : denied) {
        INFO(name << " as " << token);
        const grpc::Status s = rpc(token);
        CHECK(refused(s));
      }
      for (const auto& token : nobody) {
        INFO(name << " as '" << token << "'");
        CHECK(rpc(token).error_code() == grpc::StatusCode::UNAUTHENTICATED);
      }
    }
  };
  check(create_cancel, {"boss-token", "admin-token", "gboss-token"},
        {"ann-token", "bob-token", "reader-token", "ghost-token", "carl-token"});
  // ghost has the agent role but works as no agent: there is nothing of theirs to see.
  check(reads,
        {"boss-token", "admin-token", "reader-token", "bob-token", "ann-token", "carl-token",
         "gboss-token"},
        {"ghost-token"});
  check(own, {"ann-token", "bob-token", "carl-token"}, {"reader-token", "ghost-token"});
  // A supervisor or admin acts for an agent; an agent only for themself.
  check(for_ann, {"boss-token", "admin-token", "ann-token"},
        {"bob-token", "reader-token", "ghost-token"});

  // The allowed calls on a task that does not exist find nothing.
  v1::Task task;
  auto s = f.task(&v1::TaskService::Stub::AcceptTask, "ann-token",
                  on_task<v1::AcceptTaskRequest>(kNoSuchTask), task);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "task_id: no task 999");
  // A supervisor working as no agent must name one.
  s = f.task(&v1::TaskService::Stub::AcceptTask, "boss-token",
             on_task<v1::AcceptTaskRequest>(kNoSuchTask), task);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("agent: required", 0) == 0);

  // Every refusal was audited with its reason.
  std::lock_guard lock(f.log_mutex);
  const auto count = [&](const std::string& reason) {
    return std::count(f.denied.begin(), f.denied.end(), reason);
  };
  CHECK(count("role not allowed") > 0);
  CHECK(count("the user works as no agent") > 0);
  CHECK(count("acts for another agent") == 8);  // bob and ghost for ann, each command
  CHECK(count("no bearer token") == 12);        // each RPC of the four lists once
  CHECK(f.denied_dropped == 0);
}

TEST_CASE("another tenant can neither see nor act on a task", "[api][task][auth]") {
  Fixture f;
  v1::AgentStatus status;
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "ann-token", login_request(true), status).ok());
  REQUIRE(f.call(&v1::AgentService::Stub::Login, "carl-token", login_request(true), status).ok());
  v1::Task task;
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "boss-token",
                 new_task(v1::CHANNEL_CHAT, "acme's"), task)
              .ok());
  const std::int64_t id = task.id();
  auto not_found = [](const grpc::Status& s) {
    INFO(s.error_message());
    CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  };
  not_found(f.task(&v1::TaskService::Stub::GetTask, "gboss-token", on_task<v1::GetTaskRequest>(id),
                   task));
  not_found(
      f.task(&v1::TaskService::Stub::GetTask, "carl-token", on_task<v1::GetTaskRequest>(id), task));
  not_found(f.task(&v1::TaskService::Stub::CancelTask, "gboss-token",
                   on_task<v1::CancelTaskRequest>(id), task));
  not_found(f.task(&v1::TaskService::Stub::AcceptTask, "carl-token",
                   on_task<v1::AcceptTaskRequest>(id), task));
  not_found(f.task(&v1::TaskService::Stub::DeclineTask, "gboss-token",
                   on_task<v1::DeclineTaskRequest>(id, "carl"), task));
  not_found(f.task(&v1::TaskService::Stub::CompleteTask, "carl-token",
                   on_task<v1::CompleteTaskRequest>(id), task));
  v1::TransferTaskRequest transfer = on_task<v1::TransferTaskRequest>(id);
  transfer.set_queue("sales");
  not_found(f.task(&v1::TaskService::Stub::TransferTask, "carl-token", transfer, task));
  v1::ListTasksResponse list;
  REQUIRE(
      f.task(&v1::TaskService::Stub::ListTasks, "gboss-token", v1::ListTasksRequest{}, list).ok());
  CHECK(list.tasks_size() == 0);
  REQUIRE(
      f.task(&v1::TaskService::Stub::ListTasks, "carl-token", v1::ListTasksRequest{}, list).ok());
  CHECK(list.tasks_size() == 0);
  // acme's names mean nothing in globex.
  auto s = f.task(&v1::TaskService::Stub::CreateTask, "gboss-token",
                  new_task(v1::CHANNEL_CHAT, "x"), task);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "queue: unknown queue \"support\" of tenant globex");
  s = f.task(&v1::TaskService::Stub::AcceptTask, "gboss-token",
             on_task<v1::AcceptTaskRequest>(id, "ann"), task);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "agent: unknown agent \"ann\" of tenant globex");

  // Nothing happened to it: still offered to ann, and only acme sees it.
  REQUIRE(
      f.task(&v1::TaskService::Stub::GetTask, "boss-token", on_task<v1::GetTaskRequest>(id), task)
          .ok());
  CHECK(task.subject() == "acme's");
  CHECK(task.final_state() == v1::TASK_FINAL_STATE_UNSPECIFIED);
  // carl's own globex task is his to see; acme's is not.
  v1::CreateTaskRequest sales = new_task(v1::CHANNEL_CHAT, "globex's");
  sales.set_queue("sales");
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "gboss-token", sales, task).ok());
  CHECK(task.id() == id + 1);  // one id counter for the whole engine
  for (;;) {
    REQUIRE(
        f.task(&v1::TaskService::Stub::ListTasks, "carl-token", v1::ListTasksRequest{}, list).ok());
    if (list.tasks_size() == 1) break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(list.tasks(0).subject() == "globex's");
  CHECK(list.tasks(0).agent() == "carl");
}

TEST_CASE("bad task requests are INVALID_ARGUMENT naming the field", "[api][task]") {
  Fixture f;
  v1::Task task;
  struct Expect {
    grpc::Status status;
    std::string prefix;
  };
  std::vector<Expect> cases;
  auto create = [&](const std::function<void(v1::CreateTaskRequest&)>& change) {
    v1::CreateTaskRequest r = new_task(v1::CHANNEL_CHAT, "subject");
    change(r);
    return f.task(&v1::TaskService::Stub::CreateTask, "boss-token", r, task);
  };
  cases.push_back(
      {create([](auto& r) { r.set_channel(v1::CHANNEL_UNSPECIFIED); }), "channel: required"});
  cases.push_back(
      {create([](auto& r) { r.set_channel(static_cast<v1::Channel>(42)); }), "channel: required"});
  cases.push_back({create([](auto& r) { r.set_queue(""); }), "queue: required"});
  cases.push_back({create([](auto& r) { r.set_queue("sales"); }),
                   "queue: unknown queue \"sales\" of tenant acme"});
  cases.push_back({create([](auto& r) { r.set_subject(std::string(1025, 's')); }),
                   "subject: 1025 bytes; at most 1024"});
  cases.push_back({create([](auto& r) { r.set_customer(std::string(257, 'c')); }),
                   "customer: 257 bytes; at most 256"});
  cases.push_back(
      {create([](auto& r) { r.set_priority(1000001); }), "priority: 1000001 out of range"});
  cases.push_back({create([](auto& r) { r.set_vip_level(11); }), "vip_level: 11 out of range"});
  cases.push_back({create([](auto& r) { r.set_vip_level(-1); }), "vip_level: -1 out of range"});
  cases.push_back({create([](auto& r) {
                     for (int i = 0; i < 65; ++i) (*r.mutable_attributes())[std::to_string(i)] = "";
                   }),
                   "attributes: 65 entries; at most 64"});
  cases.push_back(
      {create([](auto& r) { (*r.mutable_attributes())[""] = "x"; }), "attributes: key \"\""});
  cases.push_back({create([](auto& r) { (*r.mutable_attributes())[std::string(65, 'k')] = "x"; }),
                   "attributes: key"});
  cases.push_back(
      {create([](auto& r) { (*r.mutable_attributes())["note"] = std::string(1025, 'v'); }),
       "attributes: the value of \"note\" has 1025 bytes"});

  cases.push_back(
      {f.task(&v1::TaskService::Stub::GetTask, "boss-token", on_task<v1::GetTaskRequest>(0), task),
       "task_id: required"});
  cases.push_back({f.task(&v1::TaskService::Stub::CancelTask, "boss-token",
                          on_task<v1::CancelTaskRequest>(-4), task),
                   "task_id: required"});
  cases.push_back({f.task(&v1::TaskService::Stub::AcceptTask, "ann-token",
                          on_task<v1::AcceptTaskRequest>(0), task),
                   "task_id: required"});
  cases.push_back({f.task(&v1::TaskService::Stub::CompleteTask, "boss-token",
                          on_task<v1::CompleteTaskRequest>(1, "nobody"), task),
                   "agent: unknown agent \"nobody\" of tenant acme"});
  cases.push_back({f.task(&v1::TaskService::Stub::DeclineTask, "admin-token",
                          on_task<v1::DeclineTaskRequest>(1), task),
                   "agent: required"});
  v1::TransferTaskRequest transfer = on_task<v1::TransferTaskRequest>(1);
  transfer.set_queue("sales");
  cases.push_back({f.task(&v1::TaskService::Stub::TransferTask, "ann-token", transfer, task),
                   "queue: unknown queue \"sales\""});
  transfer.set_queue("support");
  transfer.set_preferred_agent("carl");
  cases.push_back({f.task(&v1::TaskService::Stub::TransferTask, "ann-token", transfer, task),
                   "preferred_agent: unknown agent \"carl\" of tenant acme"});

  v1::ListTasksResponse list;
  v1::ListTasksRequest ended;
  ended.set_phase(v1::TASK_PHASE_ENDED);
  cases.push_back(
      {f.task(&v1::TaskService::Stub::ListTasks, "boss-token", ended, list), "phase: expected"});
  v1::ListTasksRequest bad_queue;
  bad_queue.set_queue("sales");
  cases.push_back({f.task(&v1::TaskService::Stub::ListTasks, "boss-token", bad_queue, list),
                   "queue: unknown queue \"sales\""});
  v1::ListTasksRequest bad_limit;
  bad_limit.set_limit(10001);
  cases.push_back({f.task(&v1::TaskService::Stub::ListTasks, "boss-token", bad_limit, list),
                   "limit: 10001 out of range"});
  for (const auto& c : cases) {
    INFO(c.status.error_message());
    CHECK(c.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(c.status.error_message().rfind(c.prefix, 0) == 0);
  }
  // No refused request created a task.
  REQUIRE(
      f.task(&v1::TaskService::Stub::ListTasks, "boss-token", v1::ListTasksRequest{}, list).ok());
  CHECK(list.matched() == 0);
}

TEST_CASE("a command the task's state forbids is FAILED_PRECONDITION with the engine's reason",
          "[api][task]") {
  Fixture f;
  v1::Task task;
  // Nobody is logged in: the task waits, offered to nobody.
  REQUIRE(f.task(&v1::TaskService::Stub::CreateTask, "boss-token",
                 new_task(v1::CHANNEL_WEB_FORM, "contact form"), task)
              .ok());
  CHECK(task.phase() == v1::TASK_PHASE_WAITING);
  CHECK(task.position() == 1);
  CHECK(task.agent().empty());
  for (const grpc::Status& s : {f.task(&v1::TaskService::Stub::AcceptTask, "ann-token",
                                       on_task<v1::AcceptTaskRequest>(task.id()), task),
                                f.task(&v1::TaskService::Stub::CompleteTask, "ann-token",
                                       on_task<v1::CompleteTaskRequest>(task.id()), task),
                                f.task(&v1::TaskService::Stub::DeclineTask, "bob-token",
                                       on_task<v1::DeclineTaskRequest>(task.id()), task)}) {
    INFO(s.error_message());
    CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK_FALSE(s.error_message().empty());
  }
  // The agent sees only the tasks offered to or accepted by them: none.
  v1::ListTasksResponse list;
  REQUIRE(
      f.task(&v1::TaskService::Stub::ListTasks, "ann-token", v1::ListTasksRequest{}, list).ok());
  CHECK(list.tasks_size() == 0);
  auto s =
      f.task(&v1::TaskService::Stub::GetTask, "ann-token", on_task<v1::GetTaskRequest>(1), task);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace acd::api
