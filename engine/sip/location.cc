#include "engine/sip/location.h"

#include <algorithm>

namespace acd::sip {
namespace {

core::TimePoint expiry_time(core::TimePoint now, core::Duration expires) {
  const core::Duration headroom = core::kNever - std::max(now, core::TimePoint{});
  return expires >= headroom ? core::kNever : now + expires;
}

}  // namespace

void LocationService::reindex(std::unordered_map<std::string, Entry>::iterator entry) {
  Entry& e = entry->second;
  expiry_index_.erase({e.earliest, entry->first});
  if (e.bindings.empty()) {
    entries_.erase(entry);
    return;
  }
  e.earliest =
      std::min_element(e.bindings.begin(), e.bindings.end(),
                       [](const Binding& a, const Binding& b) { return a.expires < b.expires; })
          ->expires;
  expiry_index_.emplace(e.earliest, entry->first);
}

LocationService::Update LocationService::update(const std::string& key, Binding binding,
                                                core::Duration expires, core::TimePoint now) {
  const bool removal = expires <= core::Duration::zero();
  auto entry = entries_.find(key);
  if (entry == entries_.end()) {
    if (removal) return Update::kRemoved;
    entry = entries_.emplace(key, Entry{}).first;
  }
  std::vector<Binding>& bindings = entry->second.bindings;
  const auto existing = std::find_if(bindings.begin(), bindings.end(), [&](const Binding& b) {
    return b.contact == binding.contact;
  });
  const bool found = existing != bindings.end();
  if (found && existing->call_id == binding.call_id && binding.cseq <= existing->cseq)
    return Update::kStaleCseq;

  Update result = Update::kRemoved;
  if (found) bindings.erase(existing);
  if (!removal) {
    result = found ? Update::kRefreshed : Update::kAdded;
    if (bindings.size() >= kMaxBindingsPerKey) bindings.pop_back();
    binding.expires = expiry_time(now, expires);
    bindings.insert(bindings.begin(), std::move(binding));
  }
  reindex(entry);
  return result;
}

void LocationService::remove_all(const std::string& key) {
  const auto entry = entries_.find(key);
  if (entry == entries_.end()) return;
  entry->second.bindings.clear();
  reindex(entry);
}

std::vector<Binding> LocationService::lookup(const std::string& key, core::TimePoint now) const {
  std::vector<Binding> current;
  const auto entry = entries_.find(key);
  if (entry == entries_.end()) return current;
  for (const Binding& binding : entry->second.bindings) {
    if (binding.expires > now) current.push_back(binding);
  }
  return current;
}

std::vector<std::string> LocationService::expire(core::TimePoint now) {
  std::vector<std::string> emptied;
  while (!expiry_index_.empty() && expiry_index_.begin()->first <= now) {
    const auto entry = entries_.find(expiry_index_.begin()->second);
    std::erase_if(entry->second.bindings,
                  [&](const Binding& binding) { return binding.expires <= now; });
    if (entry->second.bindings.empty()) emptied.push_back(entry->first);
    reindex(entry);
  }
  return emptied;
}

core::TimePoint LocationService::next_expiry() const {
  return expiry_index_.empty() ? core::kNever : expiry_index_.begin()->first;
}

}  // namespace acd::sip
