// TimerSet: one-shot actions on an io_context, each cancellable by the token schedule()
// returned. A cancelled or fired token is forgotten, so a late completion can never run a
// stale action. Thread-safety: all methods on the io_context's thread; destroy the set
// only when the io_context no longer runs (pending completions refer to it).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

namespace acd::app {

class TimerSet {
 public:
  using Token = std::uint64_t;  // 0 is never a live token
  static constexpr Token kNone = 0;

  explicit TimerSet(boost::asio::io_context& io) : io_(io) {}
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  Token schedule(std::chrono::steady_clock::duration delay, std::function<void()> action);
  // Harmless for kNone and for tokens that already fired or were cancelled.
  void cancel(Token token);
  void cancel_all();
  [[nodiscard]] std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    explicit Entry(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    std::function<void()> action;
  };

  boost::asio::io_context& io_;
  std::unordered_map<Token, std::unique_ptr<Entry>> entries_;
  Token next_ = 1;
};

}  // namespace acd::app
