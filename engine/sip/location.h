// LocationService: the registrar's bindings of agents' phones (RFC 3261 10.3). A key
// ("tenant/agent") has up to kMaxBindingsPerKey contacts, newest first; each binding
// expires on its own. Contacts are compared as strings, exactly as registered (a phone
// refreshes with the same Contact). Expired bindings are invisible to lookup() at once and
// are removed by expire(), which reports the keys that lost their last binding so the
// daemon can log those agents out; an explicit removal (update with expires 0,
// remove_all) is the caller's to act on. Thread-safety: none; one owner thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/core/time.h"

namespace acd::sip {

struct Binding {
  std::string contact;   // the Contact URI as registered, "sip:alice@127.0.0.1:5070;transport=udp"
  std::string received;  // transport address the REGISTER came from, "udp:127.0.0.1:5070"
  std::string call_id;
  std::uint32_t cseq = 0;
  std::string user_agent;
  core::TimePoint expires;  // set by update(): now + the granted expiry
};

class LocationService {
 public:
  static constexpr std::size_t kMaxBindingsPerKey = 8;

  enum class Update : std::uint8_t {
    kAdded,
    kRefreshed,
    kRemoved,    // also when the contact had no binding: it has none now
    kStaleCseq,  // same Call-ID, CSeq not greater (RFC 3261 10.3 step 7): reject with 500
  };

  // expires <= 0 removes that contact's binding. A new contact beyond kMaxBindingsPerKey
  // replaces the key's least recently registered binding. A refresh moves the binding to
  // the front.
  Update update(const std::string& key, Binding binding, core::Duration expires,
                core::TimePoint now);
  void remove_all(const std::string& key);
  // Current bindings (expires > now), newest first. Expired ones are left for expire().
  [[nodiscard]] std::vector<Binding> lookup(const std::string& key, core::TimePoint now) const;
  // Removes bindings with expires <= now; returns the keys that lost their last binding.
  // Call it from a timer at next_expiry().
  std::vector<std::string> expire(core::TimePoint now);
  [[nodiscard]] core::TimePoint next_expiry() const;  // core::kNever if none
  [[nodiscard]] std::size_t keys() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<Binding> bindings;  // newest first
    core::TimePoint earliest = core::kNever;
  };

  // Updates `entry.earliest` and its place in the expiry index; drops an empty entry.
  void reindex(std::unordered_map<std::string, Entry>::iterator entry);

  std::unordered_map<std::string, Entry> entries_;
  std::set<std::pair<core::TimePoint, std::string>> expiry_index_;  // (earliest, key)
};

}  // namespace acd::sip
