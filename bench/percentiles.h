// Latency samples -> percentiles, and the benchmark counters that report them.
// Percentiles use the nearest-rank method over every sample of the run (no sampling, no
// histogram buckets): p99 of 1,000,000 samples is the 990,000th smallest.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace acd::bench {

// Nanoseconds on the steady clock; the benchmarks bracket only the measured call with it.
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct LatencySummary {
  std::size_t count = 0;
  double mean_ns = 0;
  std::int64_t p50_ns = 0;
  std::int64_t p90_ns = 0;
  std::int64_t p99_ns = 0;
  std::int64_t p999_ns = 0;
  std::int64_t max_ns = 0;
};

// Sorts `samples` in place.
inline LatencySummary summarize(std::vector<std::int64_t>& samples) {
  LatencySummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double p) {
    // nearest rank: the smallest sample with at least p of all samples at or below it
    auto k = static_cast<std::size_t>(p * static_cast<double>(samples.size()) + 0.999999);
    k = std::clamp<std::size_t>(k, 1, samples.size());
    return samples[k - 1];
  };
  double sum = 0;
  for (auto v : samples) sum += static_cast<double>(v);
  s.mean_ns = sum / static_cast<double>(samples.size());
  s.p50_ns = rank(0.50);
  s.p90_ns = rank(0.90);
  s.p99_ns = rank(0.99);
  s.p999_ns = rank(0.999);
  s.max_ns = samples.back();
  return s;
}

// Adds p50_ns, p90_ns, p99_ns, p999_ns, max_ns, mean_ns (and `samples`) to the state.
inline void report_latency(benchmark::State& state, std::vector<std::int64_t>& samples,
                           const std::string& prefix = "") {
  const LatencySummary s = summarize(samples);
  state.counters[prefix + "p50_ns"] = static_cast<double>(s.p50_ns);
  state.counters[prefix + "p90_ns"] = static_cast<double>(s.p90_ns);
  state.counters[prefix + "p99_ns"] = static_cast<double>(s.p99_ns);
  state.counters[prefix + "p999_ns"] = static_cast<double>(s.p999_ns);
  state.counters[prefix + "max_ns"] = static_cast<double>(s.max_ns);
  state.counters[prefix + "mean_ns"] = s.mean_ns;
  if (prefix.empty()) state.counters["samples"] = static_cast<double>(s.count);
}

// The cost of one now_ns() pair, to read the figures against: the median of many
// back-to-back readings.
inline std::int64_t timer_overhead_ns() {
  std::vector<std::int64_t> d(2001);
  for (auto& v : d) {
    const std::int64_t t0 = now_ns();
    const std::int64_t t1 = now_ns();
    v = t1 - t0;
  }
  std::nth_element(d.begin(), d.begin() + 1000, d.end());
  return d[1000];
}

}  // namespace acd::bench
