// EventList: the simulator's agenda of external events (arrivals, answers, hang-ups, ...),
// a binary min-heap ordered by time and, among equal times, by insertion order, so a run
// is repeatable and zero-delay reactions happen in the order they were scheduled.
//
// Thread-safety: none; owned and used by one simulator on one thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/core/time.h"

namespace acd::sim {

template <class T>
class EventList {
 public:
  void push(core::TimePoint at, T event) {
    heap_.push_back(Entry{at, next_seq_++, std::move(event)});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }

  [[nodiscard]] bool empty() const { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const { return heap_.size(); }
  // Time of the earliest event, kNever when empty.
  [[nodiscard]] core::TimePoint next_time() const {
    return heap_.empty() ? core::kNever : heap_.front().at;
  }

  // Removes and returns the earliest event. Precondition: !empty().
  T pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    T event = std::move(heap_.back().event);
    heap_.pop_back();
    return event;
  }

 private:
  struct Entry {
    core::TimePoint at;
    std::uint64_t seq;
    T event;
  };
  // std::push_heap builds a max-heap; "later" as the less-than puts the earliest on top.
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  std::vector<Entry> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace acd::sim
