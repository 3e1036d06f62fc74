// ConfigWatcher: hears configuration changes made in the database (migrations/0003:
// every configuration table notifies channel 'acd_config' with a JSON payload of ids
// only: {"table":..., "tenant":<id>, "id":..., "op":...}) and tells the daemon which
// tenants changed, so it can fetch just those and apply them.
//
// One thread holds a LISTEN connection and sleeps in poll(2) on its socket and on a stop
// pipe: nothing is polled on a timer. Notifications arriving within `debounce` of the
// first are delivered together (a transaction that changes fifty rows is one reload).
// When the connection breaks it reconnects with a backoff (retry_min doubling to
// retry_max). After every connect, the first included, it asks for a full resync, since
// notifications sent before LISTEN took hold are lost.
// Thread-safety: start()/stop() from one controlling thread; the callback runs on the
// watcher's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "engine/store/result.h"

namespace acd::store {

// What one report of the watcher asks the daemon to reload.
// Not named ConfigChange: config_store.h has an acd::store::ConfigChange (one row to
// write), and two classes of one name in one namespace break the one-definition rule:
// their implicit inline constructors and destructors share a mangled name, the linker
// keeps one, and at -O0 (nothing inlined) this 56-byte object was built by the other's
// 120-byte constructor, zeroing the stack next to it.
struct ConfigChangeNotice {
  std::set<std::int64_t> tenants;  // tenant ids named by notifications
  bool full_resync = false;        // reconnected: reload everything
};

struct ConfigWatcherOptions {
  std::string dsn;
  std::string channel = "acd_config";
  std::chrono::milliseconds debounce{50};
  std::chrono::milliseconds retry_min{100};
  std::chrono::milliseconds retry_max{5000};
  std::function<void(const ConfigChangeNotice&)> on_change;
  std::function<void(bool is_error, const std::string& message)> log;  // may be empty
  // Called once LISTEN is in place (after each (re)connect), before any resync: lets
  // tests and the daemon know changes from now on will be heard. May be empty.
  std::function<void()> on_listening;
};

// The tenant id of a notification payload; nullopt when it has none.
std::optional<std::int64_t> tenant_of_payload(const std::string& payload);

class ConfigWatcher {
 public:
  explicit ConfigWatcher(ConfigWatcherOptions options);
  ~ConfigWatcher();  // stop()
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  Status start();
  void stop();

 private:
  void run();
  void log(bool is_error, const std::string& message) const;

  ConfigWatcherOptions options_;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace acd::store
