// StreamHub: carries the routing core's events to the API's server streams (an agent's
// event stream, supervisors' queue and agent watches).
//
// Two sides:
//   * on the core thread (on_core_event, and the subscribe commands): each event is turned
//     into its messages once, only for the kinds of stream someone has open, and handed to
//     the fan-out thread with one post. Queue figures are coalesced: an event marks its
//     queues dirty and one command queued behind the current ones publishes each dirty
//     queue's figures once. A subscription is registered by a core command that takes its
//     snapshot (the first message) in the same step, and the registration travels to the
//     fan-out thread in the same FIFO as the events: no event is lost or repeated between
//     a snapshot and its deltas.
//   * the fan-out thread owns the subscriber lists, picks the streams each message is for
//     (tenant, agent, queue filters) and pushes it to them (ServerStream: bounded backlog,
//     one write in flight). The core thread never waits for a client.
// Screen pops: when a call joins a queue and some agent stream is open, the caller's number
// is looked up (ApiHooks::lookup_caller, off the event loop); the result rides on the
// offer, or follows it as a ScreenPop event when it was slower than routing. Non-voice
// tasks do the same with the task's customer address.
// Tasks: their offers and updates go to the agent's stream; their events mark the queues
// they touch dirty (task figures) and the agents whose tasks in hand changed, whose
// status goes to the agent watches once behind the current commands, as queues do.
//
// Thread-safety: on_core_event runs on the core thread; watch_* may be called from any
// thread; start()/stop() from one controlling
// thread.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "acd/v1/agent_service.pb.h"
#include "acd/v1/supervisor_service.pb.h"
#include "engine/api/api_context.h"
#include "engine/api/server_stream.h"
#include "engine/core/events.h"
#include "engine/core/routing_core.h"

namespace acd::api {

using AgentEventStream = ServerStream<acd::v1::AgentEvent>;
using QueueWatchStream = ServerStream<acd::v1::QueueUpdate>;
using AgentWatchStream = ServerStream<acd::v1::AgentUpdate>;
using MessageStream = ServerStream<acd::v1::ChatMessage>;

struct StreamHubOptions {
  // Messages a stream may have queued before it is ended as too slow.
  std::size_t max_backlog = 1024;
};

struct StreamHubStats {
  std::uint64_t agent_streams = 0;  // open now
  std::uint64_t queue_watches = 0;
  std::uint64_t agent_watches = 0;
  std::uint64_t message_watches = 0;
  std::uint64_t messages = 0;  // pushed to streams since start
  std::uint64_t lookups = 0;   // caller lookups asked for
};

class StreamHub {
 public:
  StreamHub(const ApiContext& context, StreamHubOptions options);
  ~StreamHub();  // stop()
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  void start();
  // Ends every open stream (UNAVAILABLE: shutting down) and joins the fan-out thread.
  void stop();
  // Ends every open stream with UNAVAILABLE (before the server shuts down) and waits until
  // the fan-out thread has done so.
  void close_all();

  // Core thread: one event of the routing core.
  void on_core_event(const core::CoreEvent& event, const core::RoutingCore& core);

  // Any thread: opens a stream and subscribes it through a core command (its first
  // message is taken there); returns the reactor for gRPC. When the engine is shutting
  // down the stream ends at once with UNAVAILABLE.
  grpc::ServerWriteReactor<acd::v1::AgentEvent>* watch_agent(core::TenantId tenant,
                                                             core::AgentId agent);
  // `queues` / `agents`: the ones watched; the snapshot lists them in that order. `all`:
  // every one of the tenant's, also those a later reload adds.
  grpc::ServerWriteReactor<acd::v1::QueueUpdate>* watch_queues(core::TenantId tenant,
                                                               std::vector<core::QueueId> queues,
                                                               bool all);
  grpc::ServerWriteReactor<acd::v1::AgentUpdate>* watch_agents(core::TenantId tenant,
                                                               std::vector<core::AgentId> agents,
                                                               bool all);

  // Any thread: a supervisors' stream of the messages sent to them.
  grpc::ServerWriteReactor<acd::v1::ChatMessage>* watch_messages(core::TenantId tenant);
  // Any thread: delivers `message` to its recipients' open streams in `tenant` (an agent's
  // event streams when `to_agent` is valid, every agent's with to_all_agents, the
  // supervisors' message watches with to_supervisors); `done` gets how many streams, on
  // the fan-out thread.
  void send_message(core::TenantId tenant, core::AgentId to_agent, acd::v1::ChatMessage message,
                    std::function<void(int delivered)> done);

  [[nodiscard]] StreamHubStats stats() const;

 private:
  // The stream's on_done: forgets the subscription (any thread).
  std::function<void()> forget(std::uint64_t id);
  template <class Stream>
  std::shared_ptr<Stream> open(std::uint64_t& id, typename Stream::Merge merge = {});

  struct AgentSub {
    std::uint64_t id;
    core::TenantId tenant;
    core::AgentId agent;
    std::shared_ptr<AgentEventStream> stream;
  };
  struct QueueSub {
    std::uint64_t id;
    core::TenantId tenant;
    std::unordered_set<core::QueueId> queues;  // empty with all
    bool all;
    std::shared_ptr<QueueWatchStream> stream;
  };
  struct AgentWatchSub {
    std::uint64_t id;
    core::TenantId tenant;
    std::unordered_set<core::AgentId> agents;
    bool all;
    std::shared_ptr<AgentWatchStream> stream;
  };
  struct MessageSub {
    std::uint64_t id;
    core::TenantId tenant;
    std::shared_ptr<MessageStream> stream;
  };
  // What the fan-out thread knows of a call's screen pop.
  struct PopState {
    std::optional<acd::v1::ScreenPop> result;   // the lookup's, once it came
    std::vector<core::AgentId> waiting_agents;  // offered before it came
  };

  // Core thread.
  void on_agent_changed(const core::AgentStateChanged& e, const core::RoutingCore& core);
  void on_offered(const core::CallOffered& e, const core::RoutingCore& core);
  void on_task_offered(const core::TaskOffered& e, const core::RoutingCore& core);
  // Task events other than offers: the agent's update (agent streams) and the dirty marks.
  void on_task_event(const core::CoreEvent& event, const core::RoutingCore& core, bool agents,
                     bool queues, bool watchers);
  void mark_dirty(core::QueueId queue);
  // `agent`'s tasks in hand changed: its status goes to the agent watches.
  void mark_agent_dirty(core::TenantId tenant, core::AgentId agent);
  void schedule_flush();
  void flush_dirty(const core::RoutingCore& core);
  void flush_dirty_queues(const core::RoutingCore& core);
  void flush_dirty_agents(const core::RoutingCore& core);
  // Starts the screen-pop lookup of `number` for `key` (a call or a task) of `tenant`,
  // once per key (`started`); the result lands in `pops` on the fan-out thread.
  template <class Key>
  void start_lookup(Key key, core::TenantId tenant, const std::string& number,
                    std::unordered_set<Key>& started, std::unordered_map<Key, PopState>& pops);
  void to_agent(core::TenantId tenant, core::AgentId agent,
                std::shared_ptr<acd::v1::AgentEvent> event);

  // Fan-out thread.
  void deliver_to_agent(core::AgentId agent, const std::shared_ptr<const acd::v1::AgentEvent>& m);
  template <class Key>
  void deliver_lookup(std::unordered_map<Key, PopState>& pops, Key key, acd::v1::ScreenPop pop);
  template <class Fn>
  void post(Fn&& fn);

  const ApiContext& context_;
  const StreamHubOptions options_;
  std::atomic<std::uint64_t> last_id_{0};
  std::atomic<std::uint64_t> agent_streams_{0};
  std::atomic<std::uint64_t> queue_watches_{0};
  std::atomic<std::uint64_t> agent_watches_{0};
  std::atomic<std::uint64_t> message_watches_{0};
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> lookups_{0};

  // Core-thread state.
  std::unordered_set<core::QueueId> dirty_queues_;
  bool flush_queued_ = false;
  std::unordered_set<core::CallId> looked_up_;        // calls whose lookup began
  std::unordered_set<core::TaskId> looked_up_tasks_;  // tasks whose lookup began
  std::unordered_map<core::AgentId, core::TenantId> dirty_agents_;

  // Fan-out thread state.
  std::vector<AgentSub> agent_subs_;
  std::vector<QueueSub> queue_subs_;
  std::vector<AgentWatchSub> agent_watch_subs_;
  std::vector<MessageSub> message_subs_;
  std::unordered_map<core::CallId, PopState> pops_;
  std::unordered_map<core::TaskId, PopState> task_pops_;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace acd::api
