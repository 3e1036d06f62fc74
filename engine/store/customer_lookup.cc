#include "engine/store/customer_lookup.h"

#include <pqxx/pqxx>

#include "engine/store/query_worker.h"

namespace acd::store {
namespace {

// The customer of (tenant name, normalized number), one row per top-level key of its fields
// (one row with a NULL key when it has none). Served by UNIQUE (tenant_id, phone_number).
constexpr const char* kCustomerStatement = "acd_customer_lookup";
constexpr const char* kCustomerSql = R"sql(
SELECT c.name, c.account, c.tier, c.notes, f.key, f.value
FROM customers c LEFT JOIN LATERAL jsonb_each_text(c.fields) AS f ON true
WHERE c.tenant_id = (SELECT t.id FROM tenants t WHERE t.name = $1::text)
  AND c.phone_number = $2::text
ORDER BY f.key COLLATE "C"
)sql";

// The newest inbound calls of (tenant name, normalized number): an index scan of
// calls_tenant_caller_arrived (0010), whose expression and predicate this repeats.
// History names its tenant by name (0002_history.sql).
constexpr const char* kContactsStatement = "acd_previous_contacts";
constexpr const char* kContactsSql = R"sql(
SELECT c.call_id, (extract(epoch FROM c.arrived_at) * 1000000)::bigint,
       coalesce(c.last_queue, c.first_queue, ''), coalesce(c.agent, ''), c.final_state,
       c.talk_ms, coalesce(c.end_reason, '')
FROM calls c
WHERE c.tenant = $1::text
  AND c.direction = 'inbound'
  AND acd_normalize_phone(c.caller) = $2::text
ORDER BY c.arrived_at DESC, c.call_id DESC
LIMIT $3::int
)sql";

bool has_digit(const std::string& s) {
  return s.find_first_of("0123456789") != std::string::npos;
}

std::string text(const pqxx::field& f) {
  return f.is_null() ? std::string() : f.as<std::string>();
}

// The customer and previous contacts of (tenant name, normalized number), into `result`.
void query(pqxx::connection& connection, const std::string& tenant, const std::string& number,
           int contacts, CallerLookupResult& result) {
  pqxx::nontransaction tx(connection);
  const pqxx::result customer = tx.exec_prepared(kCustomerStatement, tenant, number);
  if (!customer.empty()) {
    CustomerRecord record;
    record.name = text(customer[0][0]);
    record.account = text(customer[0][1]);
    record.tier = text(customer[0][2]);
    record.notes = text(customer[0][3]);
    for (const auto& row : customer) {
      if (row[4].is_null()) continue;  // no fields
      record.fields.emplace_back(text(row[4]), text(row[5]));
    }
    result.customer = std::move(record);
  }
  if (contacts <= 0) return;
  const pqxx::result calls = tx.exec_prepared(kContactsStatement, tenant, number, contacts);
  result.previous_contacts.reserve(calls.size());
  for (const auto& row : calls) {
    PreviousContact contact;
    contact.call_id = row[0].as<std::int64_t>();
    contact.arrived_at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::microseconds(row[1].as<std::int64_t>())));
    contact.queue = text(row[2]);
    contact.agent = text(row[3]);
    contact.final_state = text(row[4]);
    contact.talk_ms = row[5].as<std::int64_t>();
    contact.end_reason = text(row[6]);
    result.previous_contacts.push_back(std::move(contact));
  }
}

}  // namespace

std::string normalize_phone_number(std::string_view number) {
  std::string digits;
  bool plus = false;
  for (const char c : number) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c == '+' && digits.empty()) {
      plus = true;
    }
  }
  return plus ? "+" + digits : digits;
}

CustomerLookup::CustomerLookup(CustomerLookupOptions options) : options_(std::move(options)) {
  QueryWorkerOptions worker;
  worker.name = "customer lookup";
  worker.dsn = options_.dsn;
  worker.max_pending = options_.max_pending;
  worker.statement_timeout = options_.statement_timeout;
  worker.prepare = [](pqxx::connection& connection) {
    connection.prepare(kCustomerStatement, kCustomerSql);
    connection.prepare(kContactsStatement, kContactsSql);
  };
  worker.outage_note = "; screen pops go without customer data, reconnecting with the next lookup";
  worker.jobs = "lookups";
  worker.log = options_.log;
  worker_ = std::make_unique<QueryWorker>(std::move(worker));
}

CustomerLookup::~CustomerLookup() {
  stop();
}

bool CustomerLookup::lookup(std::string tenant, std::string caller_number,
                            std::function<void(CallerLookupResult)> done) {
  auto result = std::make_shared<CallerLookupResult>();
  QueryWorker::Job job;
  // An empty number, one too long or one without a digit is answered without a query.
  if (!caller_number.empty() && caller_number.size() <= kMaxCallerNumberLength) {
    std::string number = normalize_phone_number(caller_number);
    if (has_digit(number)) {
      result->number = number;
      job.query = [result, tenant = std::move(tenant), number = std::move(number),
                   contacts = options_.previous_contacts](pqxx::connection& connection) {
        query(connection, tenant, number, contacts, *result);
      };
    }
  }
  job.done = [result, done = std::move(done)](QueryStatus status) {
    if (!done) return;
    if (status.ok()) {
      result->ok = true;
      done(std::move(*result));
      return;
    }
    // A failed lookup finds nothing, not part of what it read.
    CallerLookupResult failed;
    if (status.failure != QueryFailure::kShuttingDown) failed.number = result->number;
    failed.error = std::move(status.error);
    done(std::move(failed));
  };
  return worker_->post(std::move(job));
}

void CustomerLookup::stop() {
  worker_->stop();
}

}  // namespace acd::store
