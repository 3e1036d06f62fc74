// CustomerLookup: the database side of the agent's screen pop. When a call is offered to
// an agent, the desktop shows the customer record of the caller's number (table customers,
// migrations/0010_customers.sql) and that number's previous contacts: its inbound calls in
// the history (table calls), newest first, at most `previous_contacts` of them.
//
// The number is compared normalized (normalize_phone_number(), the same function as the
// database's acd_normalize_phone()), so "+1 555-123 4567" finds the customer stored as
// "+15551234567" and the calls whose caller was presented either way. A caller number is
// attacker-controlled: it reaches PostgreSQL only normalized and only as a parameter of
// prepared statements. An empty number, one longer than kMaxCallerNumberLength, or one
// without a digit ("anonymous") is answered at once, ok with nothing found, with no query.
//
// One worker thread with its own connection does the queries (a QueryWorker,
// query_worker.h), so the event loop never waits for the database: lookup() appends the
// request to the worker's queue; the answer comes through the request's callback, on the
// worker thread. The connection is made on the first request. When it cannot be made, or
// breaks, the request's result says so (ok false, with the error) and the next request
// connects anew: there is no retry timer. Failures are logged once per run of the same
// error (an outage is not a line per call), and so is the first success after them. Every statement
// runs under `statement_timeout`; a connection attempt waits as long as the DSN's connect_timeout
// allows (none given: the system's TCP timeout). While the worker waits on the database, requests
// queue up to `max_pending`; beyond that lookup() refuses them, and the desktop shows the call
// without a screen pop.
//
// Thread-safety: lookup() from any thread, also from a callback; stop() from one
// controlling thread (the destructor calls it), never from a callback (it waits for the
// worker). Callbacks run one at a time on the worker thread, in request order; a slow
// callback delays the lookups behind it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acd::store {

class QueryWorker;

// Longer caller numbers are not looked up (nothing real is this long).
inline constexpr std::size_t kMaxCallerNumberLength = 64;

// A phone number reduced to the form customers.phone_number stores: a '+' when one comes
// before the first digit, then the ASCII digits of `number`, everything else dropped.
// "+1 (555) 123-4567" -> "+15551234567"; "0049 30 1234" -> "0049301234"; "anonymous" -> "".
// Equal to the SQL function acd_normalize_phone() of migrations/0010_customers.sql.
std::string normalize_phone_number(std::string_view number);

// The customer record of a number (table customers).
struct CustomerRecord {
  std::string name;
  std::string account;
  std::string tier;
  std::string notes;
  // The top-level keys of customers.fields, in key order, with their values as text:
  // strings without quotes, other values as JSON ("42", "true", "[1,2]"), null as "".
  std::vector<std::pair<std::string, std::string>> fields;
};

// One earlier inbound call from the number (a row of table calls).
struct PreviousContact {
  std::int64_t call_id = 0;
  std::chrono::system_clock::time_point arrived_at;
  std::string queue;        // the last queue the call was in ('' when it never queued)
  std::string agent;        // the agent who answered ('' when none did)
  std::string final_state;  // 'completed', 'abandoned', 'voicemail', ... (0002_history.sql)
  std::int64_t talk_ms = 0;
  std::string end_reason;  // 0007_end_reason.sql; '' when not recorded
};

struct CallerLookupResult {
  bool ok = false;     // false: the lookup failed (error says why), nothing was found
  std::string error;   // when !ok
  std::string number;  // the caller number as looked up (normalized); '' when it was not
  std::optional<CustomerRecord> customer;          // nullopt: no customer has this number
  std::vector<PreviousContact> previous_contacts;  // newest first
};

struct CustomerLookupOptions {
  std::string dsn;                 // a libpq connection string
  std::size_t max_pending = 1024;  // most requests waiting for the worker
  int previous_contacts = 5;       // most previous contacts per lookup (0: none are read)
  std::chrono::milliseconds statement_timeout{2000};
  // Where the lookup reports outages, recoveries and query failures. Called on the worker
  // thread, and on stop()'s caller. May be empty.
  std::function<void(bool is_error, const std::string& message)> log;
};

class CustomerLookup {
 public:
  // Starts the worker; connects with the first request.
  explicit CustomerLookup(CustomerLookupOptions options);
  ~CustomerLookup();  // stop()
  CustomerLookup(const CustomerLookup&) = delete;
  CustomerLookup& operator=(const CustomerLookup&) = delete;

  // Asks for the customer and previous contacts of `caller_number` (as received) in the
  // tenant named `tenant` (tenants.name, as history names it). Never blocks on the
  // database. Returns false,
  // and never calls `done`, when max_pending requests are already waiting or the lookup
  // is stopping; otherwise `done` is called exactly once, on the worker thread.
  bool lookup(std::string tenant, std::string caller_number,
              std::function<void(CallerLookupResult)> done);

  // Refuses new requests, answers those still queued with ok false and the error
  // "shutting down" (the one in progress finishes normally), and joins the worker.
  // Idempotent.
  void stop();

 private:
  const CustomerLookupOptions options_;
  std::unique_ptr<QueryWorker> worker_;
};

}  // namespace acd::store
