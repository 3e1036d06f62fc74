// SourceRateLimiter: the flood guard in front of the SIP stack. Each source address has a
// token bucket (requests_per_second, up to `burst`); a source that finds its bucket empty
// is banned for ban_time, during which every request from it is refused (without
// extending the ban). When the ban ends the source starts again with a full bucket.
//
// Memory is bounded by max_sources. A source with a full bucket and no ban is the same as
// an unknown one, so such idle entries are what gets evicted (the least recently seen
// first), together with ended bans. When the table is full of active or banned sources, a
// new source is refused (kBanned) without being tracked: under a flood from that many
// addresses the known sources keep their service. Each admit() is O(1) amortised.
//
// Time is injected and must not go backwards. Thread-safety: none; one owner thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

#include "engine/core/time.h"
#include "engine/sip/address.h"

namespace acd::sip {

class SourceRateLimiter {
 public:
  struct Options {
    double requests_per_second = 50;
    double burst = 100;  // bucket size; values below 1 count as 1
    core::Duration ban_time = std::chrono::minutes(5);
    std::size_t max_sources = 100000;  // values below 1 count as 1
  };
  enum class Decision : std::uint8_t { kAllow, kNewlyBanned, kBanned };

  explicit SourceRateLimiter(Options options);

  Decision admit(const IpAddress& source, core::TimePoint now);
  // Sources currently banned. O(result).
  [[nodiscard]] std::size_t banned(core::TimePoint now) const;
  // Sources with an entry (active buckets and bans not yet collected).
  [[nodiscard]] std::size_t tracked() const { return sources_.size(); }

 private:
  struct Entry {
    double tokens = 0;
    core::TimePoint last_seen;
    core::TimePoint banned_until;  // meaningful while `banned`
    bool banned = false;
    std::list<IpAddress>::iterator position;  // in idle_ or bans_
  };

  [[nodiscard]] double tokens_at(const Entry& entry, core::TimePoint now) const;
  // Frees one slot for a new source if an ended ban or an idle full bucket allows it.
  bool make_room(core::TimePoint now);

  Options options_;
  std::unordered_map<IpAddress, Entry, IpAddressHash> sources_;
  std::list<IpAddress> idle_;  // sources not banned, most recently seen first
  std::list<IpAddress> bans_;  // banned sources, earliest ban end first
};

}  // namespace acd::sip
