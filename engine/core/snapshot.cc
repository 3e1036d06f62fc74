#include "engine/core/snapshot.h"

namespace acd::core {
namespace {
double ratio(std::uint64_t num, std::uint64_t den) {
  return den == 0 ? 1.0 : static_cast<double>(num) / static_cast<double>(den);
}
}  // namespace

double QueueSnapshot::sl_answered() const {
  return ratio(counters.answered_in_threshold, counters.answered);
}

double QueueSnapshot::sl_with_short_abandons() const {
  return ratio(counters.answered_in_threshold + counters.abandoned_in_threshold,
               counters.answered + counters.abandoned);
}

double QueueSnapshot::sl_penalize_late_abandons() const {
  return ratio(counters.answered_in_threshold,
               counters.answered + (counters.abandoned - counters.abandoned_in_threshold));
}

Duration QueueSnapshot::asa() const {
  return counters.answered == 0
             ? Duration::zero()
             : counters.total_answer_wait / static_cast<std::int64_t>(counters.answered);
}

Duration QueueSnapshot::aht() const {
  return counters.handled == 0
             ? Duration::zero()
             : (counters.total_talk + counters.total_hold + counters.total_wrap_up) /
                   static_cast<std::int64_t>(counters.handled);
}

double QueueSnapshot::abandon_rate() const {
  const auto den = counters.answered + counters.abandoned;
  return den == 0 ? 0.0 : static_cast<double>(counters.abandoned) / static_cast<double>(den);
}

const std::string& CoreSnapshot::reason_name(ReasonId id) const {
  static const std::string kEmpty;
  return id.valid() && id.value < reasons.size() ? reasons[id.value] : kEmpty;
}

}  // namespace acd::core
