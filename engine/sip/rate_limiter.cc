#include "engine/sip/rate_limiter.h"

#include <algorithm>

namespace acd::sip {

SourceRateLimiter::SourceRateLimiter(Options options) : options_(options) {
  options_.burst = std::max(options_.burst, 1.0);
  options_.requests_per_second = std::max(options_.requests_per_second, 0.0);
  options_.max_sources = std::max<std::size_t>(options_.max_sources, 1);
}

double SourceRateLimiter::tokens_at(const Entry& entry, core::TimePoint now) const {
  if (now <= entry.last_seen) return entry.tokens;
  const double refill = options_.requests_per_second * core::to_seconds(now - entry.last_seen);
  return std::min(options_.burst, entry.tokens + refill);
}

bool SourceRateLimiter::make_room(core::TimePoint now) {
  while (!bans_.empty()) {
    const auto oldest = sources_.find(bans_.front());
    if (oldest->second.banned_until > now) break;
    bans_.pop_front();
    sources_.erase(oldest);
  }
  if (sources_.size() < options_.max_sources) return true;
  if (idle_.empty()) return false;
  const auto least_recent = sources_.find(idle_.back());
  if (tokens_at(least_recent->second, now) < options_.burst) return false;
  idle_.pop_back();
  sources_.erase(least_recent);
  return true;
}

SourceRateLimiter::Decision SourceRateLimiter::admit(const IpAddress& source, core::TimePoint now) {
  auto found = sources_.find(source);
  if (found == sources_.end()) {
    if (sources_.size() >= options_.max_sources && !make_room(now)) return Decision::kBanned;
    found = sources_.emplace(source, Entry{options_.burst, now, {}, false, {}}).first;
    found->second.position = idle_.insert(idle_.begin(), source);
  }
  Entry& entry = found->second;
  if (entry.banned) {
    if (now < entry.banned_until) return Decision::kBanned;
    entry.banned = false;
    entry.tokens = options_.burst;
    idle_.splice(idle_.begin(), bans_, entry.position);
  } else {
    entry.tokens = tokens_at(entry, now);
    idle_.splice(idle_.begin(), idle_, entry.position);
  }
  entry.last_seen = std::max(entry.last_seen, now);
  if (entry.tokens >= 1) {
    entry.tokens -= 1;
    return Decision::kAllow;
  }
  entry.banned = true;
  entry.banned_until = now + options_.ban_time;
  bans_.splice(bans_.end(), idle_, entry.position);
  return Decision::kNewlyBanned;
}

std::size_t SourceRateLimiter::banned(core::TimePoint now) const {
  std::size_t count = 0;
  for (auto it = bans_.rbegin(); it != bans_.rend(); ++it, ++count) {
    if (sources_.find(*it)->second.banned_until <= now) break;
  }
  return count;
}

}  // namespace acd::sip
