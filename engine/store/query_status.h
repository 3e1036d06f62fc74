// QueryStatus: how a query run by a QueryWorker (query_worker.h) ended, as a value: the
// screen pop's lookups and the API's report queries hand it back with their rows instead
// of throwing, and say what went wrong so the caller can tell its client.
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <string>

namespace acd::store {

enum class QueryFailure : std::uint8_t {
  kNone,          // the query ran
  kUnavailable,   // no connection could be made, or it broke during the query
  kTimeout,       // the statement ran longer than its statement_timeout and was cancelled
  kRejected,      // the database refused a value of the request (SQLSTATE class 22: an
                  // unknown time zone, an invalid parameter, ...); not an outage
  kFailed,        // any other error of the database or of reading its answer
  kCancelled,     // the requester gave up before the query ran; it was skipped
  kShuttingDown,  // the worker stopped before the query ran
};

struct QueryStatus {
  QueryFailure failure = QueryFailure::kNone;
  // What went wrong, for people: "<worker name>: <the database's message>"; empty when ok.
  std::string error;

  [[nodiscard]] bool ok() const { return failure == QueryFailure::kNone; }
};

}  // namespace acd::store
