// The gRPC API under load, in one process over loopback: the routing core on its thread
// (app::CoreThread), the ApiServer fed by its events, and gRPC clients.
//
//   api_bench [--streams 1000] [--agents 200] [--rate 50] [--seconds 10]
//             [--command-threads 8] [--quick]
//
// 1. Watch delay: `streams` supervisor WatchAgents streams (spread over 8 channels) all
//    watch every agent; the bench changes agents' states on the core thread at `rate`
//    changes per second (Ready <-> NotReady) and every stream measures, for every change
//    it receives, the delay from the change (the status' `since`, the core's clock) to its
//    arrival (system clock). Reported: deliveries, p50/p99/p99.9/max delay, changes lost
//    (a stream that fell behind would be ended; none may be).
// 2. Command rate: `command-threads` threads, each with its own agents and their tokens,
//    send AgentService SetNotReady/SetReady as fast as answers come back for `seconds`.
//    Reported: commands per second and the p50/p99 round trip.
// Prints one line per figure; --quick runs a tiny version (the smoke test).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "acd/v1/agent_service.grpc.pb.h"
#include "acd/v1/supervisor_service.grpc.pb.h"
#include "bench/percentiles.h"
#include "engine/api/api_server.h"
#include "engine/app/core_thread.h"
#include "engine/common/digest.h"

namespace acd::bench {
namespace {

namespace v1 = acd::v1;
using namespace std::chrono_literals;

struct Settings {
  int streams = 1000;
  int agents = 200;
  int rate = 50;
  int seconds = 10;
  int command_threads = 8;
};

core::CoreConfig config_of(const Settings& s) {
  core::CoreConfig config;
  config.tenants.push_back({core::TenantId(0), "bench"});
  core::QueueConfig queue;
  queue.id = core::QueueId(0);
  queue.tenant = core::TenantId(0);
  queue.name = "sales";
  config.queues.push_back(queue);
  for (int i = 0; i < s.agents; ++i) {
    core::AgentConfig a;
    a.id = core::AgentId(static_cast<std::uint32_t>(i));
    a.tenant = core::TenantId(0);
    a.name = "agent" + std::to_string(i);
    a.extension = std::to_string(1000 + i);
    config.agents.push_back(a);
    config.members.push_back({queue.id, a.id});
  }
  return config;
}

std::shared_ptr<const api::ApiDirectory> directory_of(const Settings& s) {
  auto d = std::make_shared<api::ApiDirectory>();
  api::ApiTenant tenant{core::TenantId(0), "bench", {}, {}, {}, {}};
  for (int i = 0; i < s.agents; ++i)
    tenant.agents.emplace("agent" + std::to_string(i),
                          core::AgentId(static_cast<std::uint32_t>(i)));
  tenant.queues.emplace("sales", core::QueueId(0));
  d->tenants.push_back(tenant);
  d->users.push_back({core::TenantId(0), "bench", "boss", api::Roles{api::Role::kSupervisor},
                      core::AgentId(), ""});
  d->tokens.emplace(sha256_hex("boss-token"), api::ApiDirectory::Token{0, "main", std::nullopt});
  for (int i = 0; i < s.agents; ++i) {
    const std::string name = "agent" + std::to_string(i);
    d->users.push_back({core::TenantId(0), "bench", name, api::Roles{api::Role::kAgent},
                        core::AgentId(static_cast<std::uint32_t>(i)), name});
    d->tokens.emplace(sha256_hex(name + "-token"),
                      api::ApiDirectory::Token{d->users.size() - 1, "main", std::nullopt});
  }
  return d;
}

class Feed final : public app::CoreListener {
 public:
  explicit Feed(api::ApiServer& server) : server_(server) {}
  void on_core_event(const core::CoreEvent& e, const core::RoutingCore& core) override {
    server_.on_core_event(e, core);
  }

 private:
  api::ApiServer& server_;
};

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One watching client: reads its stream and keeps the delay of every change it gets.
class Watcher final : public grpc::ClientReadReactor<v1::AgentUpdate> {
 public:
  Watcher(v1::SupervisorService::Stub& stub, std::atomic<int>& synced, std::condition_variable& cv,
          std::mutex& m)
      : synced_(synced), cv_(cv), m_(m) {
    context_.AddMetadata("authorization", "Bearer boss-token");
    stub.async()->WatchAgents(&context_, &request_, this);
    StartRead(&update_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    const std::int64_t now = wall_ns();
    if (update_.snapshot()) {
      std::lock_guard lock(m_);
      ++synced_;
      cv_.notify_all();
    } else {
      for (const auto& a : update_.agents())
        delays_.push_back(now - (a.since().seconds() * 1'000'000'000LL + a.since().nanos()));
    }
    StartRead(&update_);
  }
  void OnDone(const grpc::Status& s) override {
    std::lock_guard lock(m_);
    status_ = s;
    done_ = true;
    cv_.notify_all();
  }
  void cancel() { context_.TryCancel(); }
  [[nodiscard]] bool done() const { return done_; }
  [[nodiscard]] const grpc::Status& status() const { return status_; }
  std::vector<std::int64_t>& delays() { return delays_; }

 private:
  grpc::ClientContext context_;
  v1::WatchAgentsRequest request_;
  v1::AgentUpdate update_;
  std::vector<std::int64_t> delays_;
  std::atomic<int>& synced_;
  std::condition_variable& cv_;
  std::mutex& m_;
  grpc::Status status_;
  bool done_ = false;  // under m_
};

long rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

void print(const char* what, LatencySummary s) {
  std::printf("%-34s p50 %8.3f ms  p99 %8.3f ms  p99.9 %8.3f ms  max %8.3f ms  (%zu samples)\n",
              what, static_cast<double>(s.p50_ns) / 1e6, static_cast<double>(s.p99_ns) / 1e6,
              static_cast<double>(s.p999_ns) / 1e6, static_cast<double>(s.max_ns) / 1e6, s.count);
}

int run(const Settings& s) {
  app::CoreThread core{app::CoreThread::Options{}};
  api::ApiHooks hooks;
  hooks.submit = [&core](std::function<void(core::RoutingCore&)> c) {
    return core.submit(std::move(c));
  };
  api::ApiOptions options;
  options.max_stream_backlog = 4096;
  api::ApiServer server(options, std::move(hooks), directory_of(s));
  Feed feed(server);
  core.add_listener(&feed);
  core.start();
  if (!core.submit_and_wait([&s](core::RoutingCore& c) { return c.apply_config(config_of(s)); })
           .get()) {
    std::fprintf(stderr, "config refused\n");
    return 1;
  }
  if (auto error = server.start()) {
    std::fprintf(stderr, "%s\n", error->c_str());
    return 1;
  }
  // Everyone logged in, NotReady.
  const core::Status logged_in =
      core.submit_and_wait([&s](core::RoutingCore& c) {
            for (int i = 0; i < s.agents; ++i)
              if (auto r = c.login(core::AgentId(static_cast<std::uint32_t>(i))); !r) return r;
            return core::Status::ok();
          })
          .get();
  if (!logged_in) {
    std::fprintf(stderr, "login refused\n");
    return 1;
  }
  const std::string target = "127.0.0.1:" + std::to_string(server.port());
  std::printf("api_bench: %d watch streams, %d agents, %d changes/s for %d s, %d command threads\n",
              s.streams, s.agents, s.rate, s.seconds, s.command_threads);

  // ---- 1. Watch delay ----
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::SupervisorService::Stub>> stubs;
  for (int i = 0; i < 8; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("acd_bench_channel", i);  // distinct channels, not one shared subchannel
    channels.push_back(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::SupervisorService::NewStub(channels.back()));
  }
  std::mutex m;
  std::condition_variable cv;
  std::atomic<int> synced{0};
  std::vector<std::unique_ptr<Watcher>> watchers;
  const long rss_before = rss_kib();
  for (int i = 0; i < s.streams; ++i)
    watchers.push_back(
        std::make_unique<Watcher>(*stubs[static_cast<std::size_t>(i) % 8], synced, cv, m));
  {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, 60s, [&] { return synced.load() == s.streams; })) {
      std::fprintf(stderr, "only %d of %d streams got their snapshot\n", synced.load(), s.streams);
      return 1;
    }
  }
  const long changes = static_cast<long>(s.rate) * s.seconds;
  const auto interval = std::chrono::nanoseconds(1'000'000'000LL / std::max(1, s.rate));
  auto next = std::chrono::steady_clock::now();
  for (long i = 0; i < changes; ++i) {
    const auto agent = core::AgentId(static_cast<std::uint32_t>(i % s.agents));
    const bool ready = (i / s.agents) % 2 == 0;
    core.submit([agent, ready](core::RoutingCore& c) {
      if (ready)
        (void)c.set_ready(agent);
      else
        (void)c.set_not_ready(agent, "break");
    });
    next += interval;
    std::this_thread::sleep_until(next);
  }
  // Every stream has all the changes, or has ended.
  const auto expected = static_cast<std::size_t>(changes);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    std::size_t behind = 0;
    {
      std::lock_guard lock(m);
      for (auto& w : watchers)
        if (!w->done() && w->delays().size() < expected) ++behind;
    }
    if (behind == 0 || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(20ms);  // the bench's own wait for its clients, not the engine's
  }
  const long rss_streams = rss_kib();
  std::vector<std::int64_t> delays;
  std::size_t short_streams = 0;
  for (auto& w : watchers) {
    if (w->delays().size() < expected) ++short_streams;
    delays.insert(delays.end(), w->delays().begin(), w->delays().end());
  }
  const auto stats = server.stream_stats();
  print("watch delay (change -> client):", summarize(delays));
  std::printf(
      "watch deliveries: %zu of %zu expected; streams short of changes: %zu; "
      "server messages pushed: %llu\n",
      delays.size(), expected * static_cast<std::size_t>(s.streams), short_streams,
      static_cast<unsigned long long>(stats.messages));
  std::printf("memory: RSS %ld MiB before the streams, %ld MiB with them (%.1f KiB per stream)\n",
              rss_before / 1024, rss_streams / 1024,
              static_cast<double>(rss_streams - rss_before) / std::max(1, s.streams));
  for (auto& w : watchers) w->cancel();
  {
    std::unique_lock lock(m);
    cv.wait_for(lock, 30s, [&] {
      for (auto& w : watchers)
        if (!w->done()) return false;
      return true;
    });
  }
  watchers.clear();

  // ---- 2. Command rate ----
  // Everyone NotReady first: each thread's first command makes its agents Ready.
  const core::Status reset = core.submit_and_wait([&s](core::RoutingCore& c) {
                                   for (int i = 0; i < s.agents; ++i) {
                                     const core::AgentId a(static_cast<std::uint32_t>(i));
                                     if (c.agent(a)->state == core::AgentState::kReady)
                                       if (auto r = c.set_not_ready(a, "break"); !r) return r;
                                   }
                                   return core::Status::ok();
                                 })
                                 .get();
  if (!reset) {
    std::fprintf(stderr, "could not reset the agents\n");
    return 1;
  }
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto agents = v1::AgentService::NewStub(channel);
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::int64_t>> rtts(static_cast<std::size_t>(s.command_threads));
  std::atomic<long> failures{0};
  std::vector<std::thread> threads;
  const auto started = std::chrono::steady_clock::now();
  for (int t = 0; t < s.command_threads; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = rtts[static_cast<std::size_t>(t)];
      for (long n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        // This thread's agents, in turn: t, t + threads, ...
        const long per_thread = std::max(1, s.agents / s.command_threads);
        const long index = t + (n % per_thread) * s.command_threads;
        const std::string token = "agent" + std::to_string(index % s.agents) + "-token";
        const bool ready = (n / per_thread) % 2 == 0;
        grpc::ClientContext context;
        context.AddMetadata("authorization", "Bearer " + token);
        context.set_deadline(std::chrono::system_clock::now() + 30s);
        v1::AgentStatus status;
        const std::int64_t begin = now_ns();
        grpc::Status result;
        if (ready)
          result = agents->SetReady(&context, v1::SetReadyRequest{}, &status);
        else {
          v1::SetNotReadyRequest r;
          r.set_reason("break");
          result = agents->SetNotReady(&context, r, &status);
        }
        mine.push_back(now_ns() - begin);
        if (!result.ok()) ++failures;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(s.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::vector<std::int64_t> all;
  for (auto& r : rtts) all.insert(all.end(), r.begin(), r.end());
  std::printf("agent commands: %.0f per second (%zu in %.1f s, %ld refused)\n",
              static_cast<double>(all.size()) / elapsed, all.size(), elapsed, failures.load());
  print("agent command round trip:", summarize(all));

  server.stop();
  core.stop();
  return short_streams == 0 && failures.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace acd::bench

int main(int argc, char** argv) {
  acd::bench::Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](int& out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      out = std::atoi(argv[++i]);
    };
    if (arg == "--streams")
      value(s.streams);
    else if (arg == "--agents")
      value(s.agents);
    else if (arg == "--rate")
      value(s.rate);
    else if (arg == "--seconds")
      value(s.seconds);
    else if (arg == "--command-threads")
      value(s.command_threads);
    else if (arg == "--quick") {
      s.streams = 20;
      s.agents = 10;
      s.rate = 20;
      s.seconds = 1;
      s.command_threads = 2;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  if (s.streams < 1 || s.agents < 1 || s.rate < 1 || s.seconds < 1 || s.command_threads < 1) {
    std::fprintf(stderr, "every figure must be at least 1\n");
    return 2;
  }
  return acd::bench::run(s);
}
