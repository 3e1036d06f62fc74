// Heap accounting for the benchmarks: alloc_counter.cc replaces the global operator
// new/delete of the benchmark program with versions that count allocations and the live
// heap bytes (as malloc_usable_size reports them, i.e. what the allocator really hands
// out, rounding included). Only the benchmark program links it: the core never sees it.
// Thread-safety: the counters are relaxed atomics; readings are exact when one thread
// allocates, which is the case in routing_bench.
#pragma once

#include <cstdint>

namespace acd::bench {

// Bytes currently allocated through operator new and not yet deleted.
std::int64_t live_heap_bytes();
// Number of operator new calls since the program started.
std::uint64_t allocation_count();

}  // namespace acd::bench
