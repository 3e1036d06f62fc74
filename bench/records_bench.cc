// records_bench: the record pipeline (engine/store RecordStore) against a real local
// PostgreSQL (an embedded cluster the bench creates in a temporary directory).
//
//   1. Throughput: a producer submits records as fast as it can (a realistic mix: per
//      call 6 queue events, 2 legs, the call row and 6 agent transitions); the bench
//      reports records/s into the spool (fdatasync'd) and records/s committed to
//      PostgreSQL end to end.
//   2. Event-loop stall: an Asio event loop (standing in for the core thread) submits a
//      paced load on a 1 ms timer while the store writes; the bench reports how long each
//      submit held the loop and how late each tick ran (p50/p99/p99.9/max).
//
// Run in Release: build/release/bench/records_bench. ACD_BENCH_SCALE=small shrinks the
// run (the ctest smoke test). Prints one figure per line.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bench/percentiles.h"
#include "engine/store/embedded_cluster.h"
#include "engine/store/migrator.h"
#include "engine/store/record_store.h"

namespace {

using namespace acd::store;
using Clock = std::chrono::steady_clock;

bool small_scale() {
  const char* scale = std::getenv("ACD_BENCH_SCALE");
  return scale != nullptr && std::string(scale) == "small";
}

// The records one call makes, with ids from `call` and agent sequence from `agent_seq`.
void call_records(std::int64_t run, std::int64_t call, std::int64_t& agent_seq,
                  std::vector<Record>& out) {
  const EpochMicros t0 = 1'800'000'000'000'000 + call * 1000;
  const std::string agent = "agent" + std::to_string(call % 500);
  const char* kinds[] = {"enter", "offer", "ring-no-answer", "offer", "connect", "complete"};
  for (int i = 0; i < 6; ++i) {
    QueueEventRecord e{call,     i + 1, run,          "acme", "sales", t0 + i * 1000,
                       kinds[i], agent, std::nullopt, "",     "{}"};
    if (i == 4) e.wait_ms = 4;
    out.emplace_back(std::move(e));
  }
  out.emplace_back(CallLegRecord{call, 1, run, "acme", "sales", "agent-x", t0 + 1000, std::nullopt,
                                 t0 + 2000, "no-answer"});
  out.emplace_back(CallLegRecord{call, 2, run, "acme", "sales", agent, t0 + 3000, t0 + 4000,
                                 t0 + 9000, "answered"});
  CallRecord c;
  c.call_id = call;
  c.run_id = run;
  c.tenant = "acme";
  c.caller = "+15550001234";
  c.dialled = "8000";
  c.first_queue = c.last_queue = "sales";
  c.agent = agent;
  c.final_state = "completed";
  c.arrived_at = t0;
  c.queued_at = t0;
  c.answered_at = t0 + 4000;
  c.ended_at = t0 + 9000;
  c.wait_ms = 4;
  c.total_wait_ms = 4;
  c.talk_ms = 5;
  c.sl_threshold_ms = 20000;
  c.offers = 2;
  c.queues = 1;
  out.emplace_back(std::move(c));
  const char* states[] = {"ready", "reserved", "ringing", "talking", "wrap-up", "ready"};
  for (int i = 0; i < 6; ++i) {
    out.emplace_back(AgentStateRecord{run, ++agent_seq, "acme", agent, t0 + i * 1500,
                                      i == 0 ? "wrap-up" : states[i - 1], states[i], "", "call",
                                      call});
  }
}

constexpr int kRecordsPerCall = 15;

void print_latency(const char* name, std::vector<std::int64_t>& samples) {
  const auto s = acd::bench::summarize(samples);
  std::printf("%-44s p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  max %8.1f us  (%zu samples)\n",
              name, s.p50_ns / 1e3, s.p99_ns / 1e3, s.p999_ns / 1e3, s.max_ns / 1e3, s.count);
}

}  // namespace

int main() {
  const bool small = small_scale();
  std::string pattern = (std::filesystem::temp_directory_path() / "acd-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return 1;
  const std::filesystem::path root = pattern;
  std::filesystem::permissions(root, std::filesystem::perms::owner_all |
                                         std::filesystem::perms::group_exec |
                                         std::filesystem::perms::others_exec);
  EmbeddedClusterOptions cluster_options;
  cluster_options.dir = root / "pg";
  auto cluster = EmbeddedCluster::start(cluster_options);
  if (!cluster) {
    std::fprintf(stderr, "records_bench: %s\n", cluster.error().message.c_str());
    return 1;
  }
  int rc = 0;
  if (auto migrated = migrate((*cluster)->dsn(), builtin_migrations()); !migrated) {
    std::fprintf(stderr, "records_bench: %s\n", migrated.error().message.c_str());
    rc = 1;
  }

  const int calls = small ? 2'000 : 40'000;
  std::printf("records_bench: %d calls x %d records into PostgreSQL at %s\n", calls,
              kRecordsPerCall, (*cluster)->dir().c_str());

  // ---- 1. Throughput ----
  if (rc == 0) {
    RecordStoreOptions options;
    options.dsn = (*cluster)->dsn();
    options.spool_dir = root / "spool-throughput";
    options.run_id = 1;
    auto store = RecordStore::open(options);
    if (!store) {
      std::fprintf(stderr, "records_bench: %s\n", store.error().message.c_str());
      rc = 1;
    } else {
      std::vector<Record> batch;
      std::int64_t agent_seq = 0;
      const auto start = Clock::now();
      for (int call = 1; call <= calls; ++call) {
        call_records(1, call, agent_seq, batch);
        if (batch.size() >= 1500) (*store)->submit(std::move(batch)), batch.clear();
      }
      (*store)->submit(std::move(batch));
      const auto submitted = Clock::now();
      const bool shipped = (*store)->wait_shipped(std::chrono::minutes(10));
      const auto done = Clock::now();
      const auto stats = (*store)->stats();
      (*store)->stop(std::chrono::seconds(10));
      const double seconds = std::chrono::duration<double>(done - start).count();
      const double records = static_cast<double>(stats.submitted);
      std::printf("throughput: %.0f records submitted in %.3f s (submit side %.0f records/s)\n",
                  records, seconds,
                  records / std::chrono::duration<double>(submitted - start).count());
      std::printf(
          "throughput: %.0f records/s committed to PostgreSQL end to end "
          "(spool fdatasync + COPY + INSERT ... ON CONFLICT), %llu fdatasync batches, "
          "%llu inserted, %llu duplicates%s\n",
          records / seconds, static_cast<unsigned long long>(stats.synced_batches),
          static_cast<unsigned long long>(stats.inserted),
          static_cast<unsigned long long>(stats.duplicates), shipped ? "" : " (NOT ALL SHIPPED)");
      if (!shipped || stats.inserted < stats.submitted - 1) rc = 1;
    }
  }

  // ---- 2. Event-loop stall under a paced load ----
  // Twice: shipping to PostgreSQL (which competes for the two cores), and as a reference
  // with the database unreachable (records only spooled), side by side.
  // realtime: the loop thread runs under SCHED_FIFO, as acdd's core thread does with
  // core.realtime_priority (skipped, and said so, without the permission).
  auto paced = [&](const std::string& dsn, const char* spool, std::int64_t run, const char* label,
                   bool realtime = false) -> bool {
    if (realtime) {
      sched_param param{};
      param.sched_priority = 10;
      if (const int error = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param);
          error != 0) {
        std::printf("%s: skipped, SCHED_FIFO not permitted here (%s)\n", label,
                    std::strerror(error));
        return true;
      }
    }
    RecordStoreOptions options;
    options.dsn = dsn;
    options.spool_dir = root / spool;
    options.run_id = run;
    auto store = RecordStore::open(options);
    if (!store) {
      std::fprintf(stderr, "records_bench: %s\n", store.error().message.c_str());
      return false;
    }
    const int rate = 60'000;  // records per second
    const auto run_for = small ? std::chrono::seconds(2) : std::chrono::seconds(20);
    const int per_tick_calls = rate / 1000 / kRecordsPerCall;  // 4 calls = 60 records per ms
    boost::asio::io_context io;
    boost::asio::steady_timer timer(io);
    std::vector<std::int64_t> submit_ns;
    std::vector<std::int64_t> lateness_ns;
    std::int64_t next_call = run * 100'000'000;
    std::int64_t agent_seq = 0;
    const auto begin = Clock::now();
    auto deadline = begin;
    std::function<void()> tick = [&] {
      deadline += std::chrono::milliseconds(1);
      timer.expires_at(deadline);
      timer.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        const auto now = Clock::now();
        lateness_ns.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - deadline).count());
        std::vector<Record> records;
        records.reserve(per_tick_calls * kRecordsPerCall);
        for (int i = 0; i < per_tick_calls; ++i) call_records(run, next_call++, agent_seq, records);
        // What the core thread pays: handing the records over, one at a time as the
        // recorder does.
        // Wall time: it includes the moments the OS ran something else on this core (the
        // preemption count below says how often that happened).
        for (Record& r : records) {
          const std::int64_t t0 = acd::bench::now_ns();
          (*store)->submit(std::move(r));
          submit_ns.push_back(acd::bench::now_ns() - t0);
        }
        if (now - begin < run_for) tick();
      });
    };
    tick();
    io.run();
    const bool to_database = !dsn.empty() && dsn.find("nonexistent") == std::string::npos;
    const bool shipped = !to_database || (*store)->wait_shipped(std::chrono::minutes(5));
    const auto stats = (*store)->stats();
    (*store)->stop(std::chrono::seconds(to_database ? 10 : 0));
    std::printf(
        "%s: %d records/s paced on a 1 ms Asio timer for %lld s (%llu records, %s)\n", label,
        per_tick_calls * kRecordsPerCall * 1000,
        static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(run_for).count()),
        static_cast<unsigned long long>(stats.submitted),
        !to_database ? "spooled only"
        : shipped    ? "all shipped"
                     : "NOT ALL SHIPPED");
    print_latency((std::string(label) + ": submit() per record").c_str(), submit_ns);
    rusage usage{};
    ::getrusage(RUSAGE_THREAD, &usage);
    std::printf("%s: the loop thread was preempted %ld times (involuntary context switches)\n",
                label, usage.ru_nivcsw);
    print_latency((std::string(label) + ": timer tick lateness").c_str(), lateness_ns);
    if (realtime) {
      sched_param normal{};
      ::pthread_setschedparam(::pthread_self(), SCHED_OTHER, &normal);
    }
    return shipped;
  };
  if (rc == 0) {
    if (!paced((*cluster)->dsn(), "spool-paced", 2, "stall, shipping")) rc = 1;
    paced("host=/nonexistent/acd-bench dbname=acd connect_timeout=1", "spool-reference", 3,
          "reference, spool only");
    if (!paced((*cluster)->dsn(), "spool-realtime", 4, "stall, shipping, loop SCHED_FIFO",
               /*realtime=*/true))
      rc = 1;
  }

  if (auto stopped = (*cluster)->stop(); !stopped) {
    std::fprintf(stderr, "records_bench: %s\n", stopped.error().message.c_str());
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return rc;
}
