#include "engine/api/stream_hub.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>
#include <type_traits>

#include "engine/api/convert.h"
#include "engine/core/overloaded.h"

namespace acd::api {

namespace v1 = acd::v1;

namespace {

// Changes that wait behind a write in flight go out together: every agent change in
// order (a watch sees each state), up to a bound; a queue's newest figures replace the
// older ones. The snapshot stays a message of its own.
constexpr int kMaxMergedAgents = 4096;

bool merge_agent_updates(v1::AgentUpdate& into, const v1::AgentUpdate& next) {
  if (into.snapshot() || next.snapshot()) return false;
  if (into.agents_size() + next.agents_size() > kMaxMergedAgents) return false;
  for (const auto& a : next.agents()) *into.add_agents() = a;
  return true;
}

bool merge_queue_updates(v1::QueueUpdate& into, const v1::QueueUpdate& next) {
  if (into.snapshot() || next.snapshot()) return false;
  for (const auto& q : next.queues()) {
    auto same = std::find_if(into.mutable_queues()->begin(), into.mutable_queues()->end(),
                             [&q](const v1::QueueStatus& s) { return s.queue() == q.queue(); });
    if (same != into.mutable_queues()->end())
      *same = q;
    else
      *into.add_queues() = q;
  }
  return true;
}

v1::AgentStatus agent_status(const core::RoutingCore& core, core::AgentId agent) {
  v1::AgentStatus status;
  fill_agent_status(core, agent, std::string(core.agent_name(agent)), status);
  return status;
}

}  // namespace

StreamHub::StreamHub(const ApiContext& context, StreamHubOptions options)
    : context_(context), options_(options), work_(io_.get_executor()) {}

StreamHub::~StreamHub() {
  stop();
}

void StreamHub::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { io_.run(); });
}

template <class Fn>
void StreamHub::post(Fn&& fn) {
  boost::asio::post(io_, std::forward<Fn>(fn));
}

void StreamHub::close_all() {
  if (!thread_.joinable()) return;
  std::promise<void> closed;
  post([this, &closed] {
    const grpc::Status bye(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down");
    for (auto& s : agent_subs_) s.stream->finish(bye);
    for (auto& s : queue_subs_) s.stream->finish(bye);
    for (auto& s : agent_watch_subs_) s.stream->finish(bye);
    for (auto& s : message_subs_) s.stream->finish(bye);
    closed.set_value();
  });
  closed.get_future().wait();
}

void StreamHub::stop() {
  if (!thread_.joinable()) return;
  close_all();
  work_.reset();
  io_.stop();
  thread_.join();
  agent_subs_.clear();
  queue_subs_.clear();
  agent_watch_subs_.clear();
  message_subs_.clear();
  pops_.clear();
  task_pops_.clear();
}

StreamHubStats StreamHub::stats() const {
  return {agent_streams_.load(),   queue_watches_.load(), agent_watches_.load(),
          message_watches_.load(), messages_.load(),      lookups_.load()};
}

std::function<void()> StreamHub::forget(std::uint64_t id) {
  return [this, id] {
    post([this, id] {
      auto drop = [id](auto& subs, std::atomic<std::uint64_t>& open) {
        if (std::erase_if(subs, [id](const auto& s) { return s.id == id; }) > 0) --open;
      };
      drop(agent_subs_, agent_streams_);
      drop(queue_subs_, queue_watches_);
      drop(agent_watch_subs_, agent_watches_);
      drop(message_subs_, message_watches_);
    });
  };
}

// ---- Subscriptions (registered on the core thread, in order with the events) ----

template <class Stream>
std::shared_ptr<Stream> StreamHub::open(std::uint64_t& id, typename Stream::Merge merge) {
  id = ++last_id_;
  return Stream::create(options_.max_backlog, forget(id), std::move(merge));
}

grpc::ServerWriteReactor<v1::AgentEvent>* StreamHub::watch_agent(core::TenantId tenant,
                                                                 core::AgentId agent) {
  std::uint64_t id = 0;
  auto stream = open<AgentEventStream>(id);
  const bool queued = context_.submit([this, stream, tenant, agent, id](core::RoutingCore& core) {
    auto first = std::make_shared<v1::AgentEvent>();
    *first->mutable_status() = agent_status(core, agent);
    set_timestamp(core.now(), *first->mutable_at());
    ++agent_streams_;
    post([this, stream, tenant, agent, id, first = std::move(first)] {
      // A stream the client ended before this ran is never listed (its forget() has run).
      if (!stream->open()) {
        --agent_streams_;
        return;
      }
      agent_subs_.push_back({id, tenant, agent, stream});
      stream->push(first);
      ++messages_;
    });
  });
  if (!queued)
    stream->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down"));
  return stream.get();
}

grpc::ServerWriteReactor<v1::QueueUpdate>* StreamHub::watch_queues(
    core::TenantId tenant, std::vector<core::QueueId> queues, bool all) {
  std::uint64_t id = 0;
  auto stream = open<QueueWatchStream>(id, merge_queue_updates);
  const bool queued = context_.submit(
      [this, stream, tenant, queues = std::move(queues), all, id](core::RoutingCore& core) {
        auto first = std::make_shared<v1::QueueUpdate>();
        first->set_snapshot(true);
        const core::TimePoint now = core.now();
        std::unordered_set<core::QueueId> watched;
        for (core::QueueId q : queues) {
          if (!all) watched.insert(q);
          if (auto figures = core.queue(q)) fill_queue_status(*figures, now, *first->add_queues());
        }
        ++queue_watches_;
        post([this, stream, tenant, watched = std::move(watched), all, id,
              first = std::move(first)]() mutable {
          if (!stream->open()) {
            --queue_watches_;
            return;
          }
          queue_subs_.push_back({id, tenant, std::move(watched), all, stream});
          stream->push(first);
          ++messages_;
        });
      });
  if (!queued)
    stream->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down"));
  return stream.get();
}

grpc::ServerWriteReactor<v1::AgentUpdate>* StreamHub::watch_agents(
    core::TenantId tenant, std::vector<core::AgentId> agents, bool all) {
  std::uint64_t id = 0;
  auto stream = open<AgentWatchStream>(id, merge_agent_updates);
  const bool queued = context_.submit(
      [this, stream, tenant, agents = std::move(agents), all, id](core::RoutingCore& core) {
        auto first = std::make_shared<v1::AgentUpdate>();
        first->set_snapshot(true);
        std::unordered_set<core::AgentId> watched;
        for (core::AgentId a : agents) {
          if (!all) watched.insert(a);
          *first->add_agents() = agent_status(core, a);
        }
        ++agent_watches_;
        post([this, stream, tenant, watched = std::move(watched), all, id,
              first = std::move(first)]() mutable {
          if (!stream->open()) {
            --agent_watches_;
            return;
          }
          agent_watch_subs_.push_back({id, tenant, std::move(watched), all, stream});
          stream->push(first);
          ++messages_;
        });
      });
  if (!queued)
    stream->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down"));
  return stream.get();
}

// ---- Messages (no core involved: straight to the fan-out thread) ----

grpc::ServerWriteReactor<v1::ChatMessage>* StreamHub::watch_messages(core::TenantId tenant) {
  std::uint64_t id = 0;
  auto stream = open<MessageStream>(id);
  ++message_watches_;
  post([this, stream, tenant, id] {
    if (!stream->open()) {
      --message_watches_;
      return;
    }
    message_subs_.push_back({id, tenant, stream});
  });
  return stream.get();
}

void StreamHub::send_message(core::TenantId tenant, core::AgentId to_agent, v1::ChatMessage message,
                             std::function<void(int delivered)> done) {
  post([this, tenant, to_agent, message = std::move(message), done = std::move(done)] {
    int delivered = 0;
    if (message.to_supervisors()) {
      auto shared = std::make_shared<const v1::ChatMessage>(message);
      for (auto& sub : message_subs_) {
        if (sub.tenant != tenant || !sub.stream->open()) continue;
        sub.stream->push(shared);
        ++delivered;
      }
    } else {
      auto event = std::make_shared<v1::AgentEvent>();
      *event->mutable_at() = message.sent_at();
      *event->mutable_message() = message;
      std::shared_ptr<const v1::AgentEvent> shared = event;
      for (auto& sub : agent_subs_) {
        if (sub.tenant != tenant || !sub.stream->open()) continue;
        if (!message.to_all_agents() && sub.agent != to_agent) continue;
        sub.stream->push(shared);
        ++delivered;
      }
    }
    messages_ += static_cast<std::uint64_t>(delivered);
    done(delivered);
  });
}

// ---- Core thread: events in ----

void StreamHub::on_core_event(const core::CoreEvent& event, const core::RoutingCore& core) {
  const bool agents = agent_streams_.load(std::memory_order_relaxed) > 0;
  const bool queues = queue_watches_.load(std::memory_order_relaxed) > 0;
  const bool watchers = agent_watches_.load(std::memory_order_relaxed) > 0;
  if (!agents && !queues && !watchers && looked_up_.empty() && looked_up_tasks_.empty()) return;
  std::visit(
      core::Overloaded{
          [&](const core::AgentStateChanged& e) {
            if (agents || watchers) on_agent_changed(e, core);
            if (queues)
              for (core::QueueId q : core.queues_of(e.agent)) mark_dirty(q);
          },
          [&](const core::CallQueued& e) {
            if (agents) start_lookup(e.call, e.tenant, e.caller_number, looked_up_, pops_);
            if (queues) mark_dirty(e.queue);
          },
          [&](const core::CallOffered& e) {
            if (agents) on_offered(e, core);
            if (queues) mark_dirty(e.queue);
          },
          [&](const core::OfferEnded& e) {
            if (agents) {
              auto m = std::make_shared<v1::AgentEvent>();
              set_timestamp(e.at, *m->mutable_at());
              m->mutable_offer_ended()->set_call_id(static_cast<std::int64_t>(e.call.value));
              m->mutable_offer_ended()->set_reason(core::to_string(e.reason));
              to_agent(e.tenant, e.agent, std::move(m));
            }
            if (queues)
              if (auto view = core.call(e.call)) mark_dirty(view->queue);
          },
          [&](const core::CallConnected& e) {
            if (agents) {
              auto m = std::make_shared<v1::AgentEvent>();
              set_timestamp(e.at, *m->mutable_at());
              auto& c = *m->mutable_connected();
              c.set_call_id(static_cast<std::int64_t>(e.call.value));
              c.set_queue(std::string(core.queue_name(e.queue)));
              set_duration(e.waited, *c.mutable_waited());
              to_agent(e.tenant, e.agent, std::move(m));
            }
            if (queues) mark_dirty(e.queue);
          },
          [&](const core::CallFinished& e) {
            if (agents && e.agent.valid()) {
              auto m = std::make_shared<v1::AgentEvent>();
              set_timestamp(e.at, *m->mutable_at());
              auto& c = *m->mutable_call_ended();
              c.set_call_id(static_cast<std::int64_t>(e.call.value));
              c.set_outcome(core::to_string(e.state));
              c.set_end_reason(core::to_string(e.cause));
              set_duration(e.talk, *c.mutable_talk());
              set_duration(e.hold, *c.mutable_hold());
              to_agent(e.tenant, e.agent, std::move(m));
            }
            if (looked_up_.erase(e.call) > 0) post([this, call = e.call] { pops_.erase(call); });
            if (queues) mark_dirty(e.queue);
          },
          [&](const core::CallExited& e) {
            if (queues) mark_dirty(e.queue);
          },
          [&](const core::CallTransferred& e) {
            if (queues) {
              mark_dirty(e.from_queue);
              mark_dirty(e.to_queue);
            }
          },
          [&](const core::OverflowLevelChanged& e) {
            if (queues) mark_dirty(e.queue);
          },
          [&](const core::TaskQueued& e) {
            if (agents) start_lookup(e.task, e.tenant, e.customer, looked_up_tasks_, task_pops_);
            if (queues) mark_dirty(e.queue);
          },
          [&](const core::TaskOffered& e) {
            if (agents) on_task_offered(e, core);
            if (queues) mark_dirty(e.queue);
            if (watchers) mark_agent_dirty(e.tenant, e.agent);
          },
          [&](const core::TaskOfferEnded&) {
            on_task_event(event, core, agents, queues, watchers);
          },
          [&](const core::TaskAccepted&) { on_task_event(event, core, agents, queues, watchers); },
          [&](const core::TaskTransferred&) {
            on_task_event(event, core, agents, queues, watchers);
          },
          [&](const core::TaskFinished&) { on_task_event(event, core, agents, queues, watchers); },
          [](const auto&) {},
      },
      event);
}

void StreamHub::on_agent_changed(const core::AgentStateChanged& e, const core::RoutingCore& core) {
  v1::AgentStatus status;
  status.set_agent(std::string(core.agent_name(e.agent)));
  status.set_state(to_proto(e.to));
  if (e.to == core::AgentState::kNotReady)
    status.set_reason(std::string(core.reason_name(e.reason)));
  if (e.call.valid() && e.to != core::AgentState::kLoggedOut && e.to != core::AgentState::kReady &&
      e.to != core::AgentState::kNotReady)
    status.set_call_id(static_cast<std::int64_t>(e.call.value));
  set_timestamp(e.at, *status.mutable_since());
  status.set_cause(to_proto(e.cause));
  if (const auto view = core.agent(e.agent))
    fill_channel_load(view->tasks, *status.mutable_tasks());

  std::shared_ptr<v1::AgentEvent> event;
  if (agent_streams_.load(std::memory_order_relaxed) > 0) {
    event = std::make_shared<v1::AgentEvent>();
    *event->mutable_at() = status.since();
    *event->mutable_status() = status;
  }
  std::shared_ptr<v1::AgentUpdate> update;
  if (agent_watches_.load(std::memory_order_relaxed) > 0) {
    update = std::make_shared<v1::AgentUpdate>();
    *update->add_agents() = std::move(status);
  }
  post([this, tenant = e.tenant, agent = e.agent, event = std::move(event),
        update = std::move(update)] {
    if (event) deliver_to_agent(agent, event);
    if (!update) return;
    std::shared_ptr<const v1::AgentUpdate> shared = update;
    for (auto& sub : agent_watch_subs_) {
      if (sub.tenant != tenant || (!sub.all && !sub.agents.contains(agent))) continue;
      sub.stream->push(shared);
      ++messages_;
    }
  });
}

void StreamHub::on_offered(const core::CallOffered& e, const core::RoutingCore& core) {
  auto m = std::make_shared<v1::AgentEvent>();
  set_timestamp(e.at, *m->mutable_at());
  fill_offer(core, e, *m->mutable_offer());
  // The screen pop is added on the fan-out thread, which has the lookup's result.
  post([this, agent = e.agent, call = e.call, m = std::move(m)] {
    v1::ScreenPop& pop = *m->mutable_offer()->mutable_screen_pop();
    pop.set_call_id(static_cast<std::int64_t>(call.value));
    auto it = pops_.find(call);
    if (it != pops_.end()) {
      if (it->second.result)
        pop = *it->second.result;
      else
        it->second.waiting_agents.push_back(agent);
    }
    deliver_to_agent(agent, m);
  });
}

void StreamHub::on_task_offered(const core::TaskOffered& e, const core::RoutingCore& core) {
  auto m = std::make_shared<v1::AgentEvent>();
  set_timestamp(e.at, *m->mutable_at());
  fill_task_offer(core, e, *m->mutable_task_offer());
  // The screen pop is added on the fan-out thread, which has the lookup's result.
  post([this, agent = e.agent, task = e.task, m = std::move(m)] {
    v1::ScreenPop& pop = *m->mutable_task_offer()->mutable_screen_pop();
    pop.set_task_id(static_cast<std::int64_t>(task.value));
    auto it = task_pops_.find(task);
    if (it != task_pops_.end()) {
      if (it->second.result)
        pop = *it->second.result;
      else
        it->second.waiting_agents.push_back(agent);
    }
    deliver_to_agent(agent, m);
  });
}

void StreamHub::on_task_event(const core::CoreEvent& event, const core::RoutingCore& core,
                              bool agents, bool queues, bool watchers) {
  auto message = [](core::TimePoint at) {
    auto m = std::make_shared<v1::AgentEvent>();
    set_timestamp(at, *m->mutable_at());
    return m;
  };
  auto id = [](core::TaskId task) { return static_cast<std::int64_t>(task.value); };
  std::visit(core::Overloaded{
                 [&](const core::TaskOfferEnded& e) {
                   if (agents) {
                     auto m = message(e.at);
                     m->mutable_task_offer_ended()->set_task_id(id(e.task));
                     m->mutable_task_offer_ended()->set_reason(core::to_string(e.reason));
                     to_agent(e.tenant, e.agent, std::move(m));
                   }
                   // A task still in the core (declined, not accepted in time) is back in its
                   // queue; a cancelled one's TaskFinished marks its queue.
                   if (queues)
                     if (auto view = core.task(e.task)) mark_dirty(view->queue);
                   if (watchers) mark_agent_dirty(e.tenant, e.agent);
                 },
                 [&](const core::TaskAccepted& e) {
                   if (agents) {
                     auto m = message(e.at);
                     auto& a = *m->mutable_task_accepted();
                     a.set_task_id(id(e.task));
                     a.set_channel(to_proto(e.channel));
                     a.set_queue(std::string(core.queue_name(e.queue)));
                     set_duration(e.waited, *a.mutable_waited());
                     to_agent(e.tenant, e.agent, std::move(m));
                   }
                   if (queues) mark_dirty(e.queue);
                 },
                 [&](const core::TaskTransferred& e) {
                   if (agents && e.from_agent.valid()) {
                     auto m = message(e.at);
                     auto& t = *m->mutable_task_transferred();
                     t.set_task_id(id(e.task));
                     t.set_from_queue(std::string(core.queue_name(e.from_queue)));
                     t.set_to_queue(std::string(core.queue_name(e.to_queue)));
                     if (e.to_agent.valid())
                       t.set_to_agent(std::string(core.agent_name(e.to_agent)));
                     t.set_cause(core::to_string(e.cause));
                     set_duration(e.handled, *t.mutable_handled());
                     to_agent(e.tenant, e.from_agent, std::move(m));
                   }
                   if (queues) {
                     mark_dirty(e.from_queue);
                     mark_dirty(e.to_queue);
                   }
                   if (watchers) mark_agent_dirty(e.tenant, e.from_agent);
                 },
                 [&](const core::TaskFinished& e) {
                   if (agents && e.agent.valid()) {
                     auto m = message(e.at);
                     auto& f = *m->mutable_task_ended();
                     f.set_task_id(id(e.task));
                     f.set_channel(to_proto(e.channel));
                     f.set_queue(std::string(core.queue_name(e.queue)));
                     f.set_state(to_proto(e.state));
                     set_duration(e.handled, *f.mutable_handled());
                     to_agent(e.tenant, e.agent, std::move(m));
                   }
                   if (looked_up_tasks_.erase(e.task) > 0)
                     post([this, task = e.task] { task_pops_.erase(task); });
                   if (queues) mark_dirty(e.queue);
                   if (watchers) mark_agent_dirty(e.tenant, e.agent);
                 },
                 [](const auto&) {},
             },
             event);
}

void StreamHub::to_agent(core::TenantId, core::AgentId agent, std::shared_ptr<v1::AgentEvent> m) {
  post([this, agent, m = std::move(m)] { deliver_to_agent(agent, m); });
}

template <class Key>
void StreamHub::start_lookup(Key key, core::TenantId tenant_id, const std::string& number,
                             std::unordered_set<Key>& started,
                             std::unordered_map<Key, PopState>& pops) {
  const auto& lookup = context_.hooks().lookup_caller;
  if (!lookup || number.empty() || started.contains(key)) return;
  const auto directory = context_.directory();
  const ApiTenant* tenant = directory->tenant(tenant_id);
  if (tenant == nullptr) return;
  started.insert(key);
  post([&pops, key] { pops.try_emplace(key); });
  ++lookups_;
  const bool began = lookup(tenant->name, number, [this, &pops, key](v1::ScreenPop pop) {
    post([this, &pops, key, pop = std::move(pop)]() mutable {
      deliver_lookup(pops, key, std::move(pop));
    });
  });
  if (!began) {
    v1::ScreenPop failed;
    failed.set_looked_up(true);
    failed.set_error("the lookup queue is full");
    post([this, &pops, key, failed = std::move(failed)]() mutable {
      deliver_lookup(pops, key, std::move(failed));
    });
  }
}

void StreamHub::mark_dirty(core::QueueId queue) {
  if (!queue.valid()) return;
  dirty_queues_.insert(queue);
  schedule_flush();
}

void StreamHub::mark_agent_dirty(core::TenantId tenant, core::AgentId agent) {
  if (!agent.valid()) return;
  dirty_agents_.emplace(agent, tenant);
  schedule_flush();
}

void StreamHub::schedule_flush() {
  if (flush_queued_) return;
  flush_queued_ = true;
  // Behind the commands already queued: a burst of events publishes each queue (and each
  // agent whose tasks changed) once, with the figures after the command that changed them.
  const bool queued = context_.submit([this](core::RoutingCore& core) { flush_dirty(core); });
  if (!queued) flush_queued_ = false;
}

void StreamHub::flush_dirty(const core::RoutingCore& core) {
  flush_queued_ = false;
  flush_dirty_queues(core);
  flush_dirty_agents(core);
}

void StreamHub::flush_dirty_agents(const core::RoutingCore& core) {
  if (dirty_agents_.empty()) return;
  struct Status {
    core::TenantId tenant;
    core::AgentId agent;
    std::shared_ptr<const v1::AgentUpdate> update;
  };
  auto statuses = std::make_shared<std::vector<Status>>();
  for (const auto& [agent, tenant] : dirty_agents_) {
    auto update = std::make_shared<v1::AgentUpdate>();
    *update->add_agents() = agent_status(core, agent);
    statuses->push_back({tenant, agent, std::move(update)});
  }
  dirty_agents_.clear();
  post([this, statuses = std::move(statuses)] {
    for (const auto& s : *statuses)
      for (auto& sub : agent_watch_subs_) {
        if (sub.tenant != s.tenant || (!sub.all && !sub.agents.contains(s.agent))) continue;
        sub.stream->push(s.update);
        ++messages_;
      }
  });
}

void StreamHub::flush_dirty_queues(const core::RoutingCore& core) {
  if (dirty_queues_.empty()) return;
  struct Figures {
    core::TenantId tenant;
    core::QueueId queue;
    v1::QueueStatus status;
  };
  auto figures = std::make_shared<std::vector<Figures>>();
  const core::TimePoint now = core.now();
  for (core::QueueId q : dirty_queues_) {
    auto snapshot = core.queue(q);
    if (!snapshot) continue;
    Figures f{snapshot->tenant, q, {}};
    fill_queue_status(*snapshot, now, f.status);
    figures->push_back(std::move(f));
  }
  dirty_queues_.clear();
  post([this, figures = std::move(figures)] {
    // Watchers of all a tenant's queues share one message; the others get theirs.
    std::unordered_map<core::TenantId, std::shared_ptr<const v1::QueueUpdate>> whole_tenant;
    for (auto& sub : queue_subs_) {
      std::shared_ptr<const v1::QueueUpdate> message;
      if (sub.all) {
        auto [it, fresh] = whole_tenant.try_emplace(sub.tenant);
        if (fresh) {
          auto update = std::make_shared<v1::QueueUpdate>();
          for (const auto& f : *figures)
            if (f.tenant == sub.tenant) *update->add_queues() = f.status;
          it->second = std::move(update);
        }
        message = it->second;
      } else {
        auto update = std::make_shared<v1::QueueUpdate>();
        for (const auto& f : *figures)
          if (f.tenant == sub.tenant && sub.queues.contains(f.queue))
            *update->add_queues() = f.status;
        message = std::move(update);
      }
      if (message->queues_size() == 0) continue;
      sub.stream->push(message);
      ++messages_;
    }
  });
}

// ---- Fan-out thread ----

void StreamHub::deliver_to_agent(core::AgentId agent,
                                 const std::shared_ptr<const v1::AgentEvent>& m) {
  for (auto& sub : agent_subs_) {
    if (sub.agent != agent) continue;
    sub.stream->push(m);
    ++messages_;
  }
}

template <class Key>
void StreamHub::deliver_lookup(std::unordered_map<Key, PopState>& pops, Key key,
                               v1::ScreenPop pop) {
  auto it = pops.find(key);
  if (it == pops.end()) return;  // the call or task has ended
  if constexpr (std::is_same_v<Key, core::TaskId>)
    pop.set_task_id(static_cast<std::int64_t>(key.value));
  else
    pop.set_call_id(static_cast<std::int64_t>(key.value));
  pop.set_looked_up(true);
  for (core::AgentId agent : it->second.waiting_agents) {
    auto m = std::make_shared<v1::AgentEvent>();
    *m->mutable_screen_pop() = pop;
    deliver_to_agent(agent, m);
  }
  it->second.waiting_agents.clear();
  it->second.result = std::move(pop);
}

}  // namespace acd::api
