#include "engine/store/config_watcher.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <pqxx/pqxx>

namespace acd::store {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::string& channel, ConfigChangeNotice& pending,
           bool& any)
      : pqxx::notification_receiver(c, channel), pending_(pending), any_(any) {}

  void operator()(const std::string& payload, int) override {
    if (auto tenant = tenant_of_payload(payload)) {
      pending_.tenants.insert(*tenant);
    } else {
      pending_.full_resync = true;  // a payload we cannot read: be safe
    }
    any_ = true;
  }

 private:
  ConfigChangeNotice& pending_;
  bool& any_;
};

using Millis = std::chrono::milliseconds;

}  // namespace

std::optional<std::int64_t> tenant_of_payload(const std::string& payload) {
  const std::string key = "\"tenant\":";
  auto at = payload.find(key);
  if (at == std::string::npos) return std::nullopt;
  at += key.size();
  while (at < payload.size() && payload[at] == ' ') ++at;
  std::int64_t value = 0;
  const auto [ptr, ec] =
      std::from_chars(payload.data() + at, payload.data() + payload.size(), value);
  if (ec != std::errc() || ptr == payload.data() + at) return std::nullopt;
  return value;
}

ConfigWatcher::ConfigWatcher(ConfigWatcherOptions options) : options_(std::move(options)) {}

ConfigWatcher::~ConfigWatcher() {
  stop();
}

void ConfigWatcher::log(bool is_error, const std::string& message) const {
  if (options_.log) options_.log(is_error, message);
}

Status ConfigWatcher::start() {
  if (thread_.joinable()) return ok_status();
  if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Status::failure(std::string("config watcher: pipe: ") + std::strerror(errno));
  }
  thread_ = std::thread([this] { run(); });
  return ok_status();
}

void ConfigWatcher::stop() {
  if (!thread_.joinable()) return;
  const char byte = 1;
  (void)!::write(stop_pipe_[1], &byte, 1);
  thread_.join();
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
  stop_pipe_[0] = stop_pipe_[1] = -1;
}

void ConfigWatcher::run() {
  Millis retry = options_.retry_min;
  bool outage_logged = false;
  // Waits on the stop pipe (and `fd` if >= 0) for at most `timeout` (negative: forever).
  // Returns -1 when stop was asked, else the poll revents of `fd` (0 on timeout).
  auto wait = [&](int fd, int timeout_ms) -> int {
    pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {fd, POLLIN, 0}};
    for (;;) {
      const int n = ::poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
      if (n < 0 && errno == EINTR) continue;
      if (fds[0].revents != 0) return -1;
      return n <= 0 ? 0 : fds[1].revents;
    }
  };
  for (;;) {
    ConfigChangeNotice pending;
    bool any = false;
    try {
      pqxx::connection connection(options_.dsn);
      Receiver receiver(connection, options_.channel, pending, any);
      connection.get_notifs();  // completes the LISTEN
      retry = options_.retry_min;
      if (outage_logged) log(false, "configuration database reachable again; resyncing");
      outage_logged = false;
      if (options_.on_listening) options_.on_listening();
      // Whatever changed before LISTEN took hold (at start, or while disconnected) was
      // not heard: a full resync covers it (applying an unchanged configuration is a no-op).
      if (options_.on_change) {
        ConfigChangeNotice resync;
        resync.full_resync = true;
        options_.on_change(resync);
      }
      for (;;) {
        const int events = wait(connection.sock(), -1);
        if (events < 0) return;
        connection.get_notifs();
        if (!any) continue;
        // Gather what else arrives within the debounce window.
        const auto until = std::chrono::steady_clock::now() + options_.debounce;
        for (;;) {
          const auto left =
              std::chrono::duration_cast<Millis>(until - std::chrono::steady_clock::now());
          if (left.count() <= 0) break;
          const int more = wait(connection.sock(), static_cast<int>(left.count()));
          if (more < 0) return;
          if (more == 0) break;
          connection.get_notifs();
        }
        ConfigChangeNotice change = std::move(pending);
        pending = ConfigChangeNotice{};
        any = false;
        if (options_.on_change) options_.on_change(change);
      }
    } catch (const std::exception& e) {
      if (!outage_logged) {
        log(true, std::string("configuration notifications: ") + e.what() +
                      "; the running configuration stays in force, reconnecting");
        outage_logged = true;
      }
    }
    if (wait(-1, static_cast<int>(retry.count())) < 0) return;
    retry = std::min(retry * 2, options_.retry_max);
  }
}

}  // namespace acd::store
