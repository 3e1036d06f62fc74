#include "engine/app/timer_set.h"

namespace acd::app {

TimerSet::Token TimerSet::schedule(std::chrono::steady_clock::duration delay,
                                   std::function<void()> action) {
  const Token token = next_++;
  auto entry = std::make_unique<Entry>(io_);
  entry->action = std::move(action);
  entry->timer.expires_after(delay);
  entry->timer.async_wait([this, token](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = entries_.find(token);
    if (it == entries_.end()) return;  // cancelled
    auto fire = std::move(it->second->action);
    entries_.erase(it);
    fire();
  });
  entries_.emplace(token, std::move(entry));
  return token;
}

void TimerSet::cancel(Token token) {
  if (token == kNone) return;
  entries_.erase(token);  // destroying the timer aborts its wait
}

void TimerSet::cancel_all() {
  entries_.clear();
}

}  // namespace acd::app
