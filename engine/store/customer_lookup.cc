#include "engine/store/customer_lookup.h"

#include <exception>
#include <pqxx/pqxx>

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

// libpqxx's messages end in a newline; results and log lines do not.
std::string trimmed(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

std::string text(const pqxx::field& f) {
  return f.is_null() ? std::string() : f.as<std::string>();
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

// The worker's connection with the two statements prepared on it.
class CustomerLookup::Database {
 public:
  Database(const std::string& dsn, std::chrono::milliseconds statement_timeout) : connection_(dsn) {
    connection_.set_variable("statement_timeout", std::to_string(statement_timeout.count()));
    connection_.prepare(kCustomerStatement, kCustomerSql);
    connection_.prepare(kContactsStatement, kContactsSql);
  }

  [[nodiscard]] bool is_open() const { return connection_.is_open(); }

  void query(const std::string& tenant, const std::string& number, int contacts,
             CallerLookupResult& result) {
    pqxx::nontransaction tx(connection_);
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

 private:
  pqxx::connection connection_;
};

CustomerLookup::CustomerLookup(CustomerLookupOptions options) : options_(std::move(options)) {
  worker_ = std::thread([this] { run(); });
}

CustomerLookup::~CustomerLookup() {
  stop();
}

void CustomerLookup::log(bool is_error, const std::string& message) const {
  if (options_.log) options_.log(is_error, message);
}

bool CustomerLookup::lookup(std::string tenant, std::string caller_number,
                            std::function<void(CallerLookupResult)> done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_pending) return false;
    queue_.push_back(Request{std::move(tenant), std::move(caller_number), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

void CustomerLookup::stop() {
  std::size_t pending = 0;
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      first = true;
      pending = queue_.size();
    }
  }
  if (first) {
    wake_.notify_one();
    if (pending > 0) {
      log(false, "customer lookup stopping: " + std::to_string(pending) +
                     " queued lookups are answered 'shutting down'");
    }
  }
  if (worker_.joinable()) worker_.join();
}

void CustomerLookup::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    Request request = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    deliver(request, answer(request));
    lock.lock();
  }
  std::deque<Request> left;
  left.swap(queue_);
  lock.unlock();
  for (Request& request : left) {
    CallerLookupResult result;
    result.error = "shutting down";
    deliver(request, std::move(result));
  }
  database_.reset();
}

CallerLookupResult CustomerLookup::answer(const Request& request) {
  CallerLookupResult result;
  // Nothing to look up: answered without a query.
  if (request.caller_number.empty() || request.caller_number.size() > kMaxCallerNumberLength) {
    result.ok = true;
    return result;
  }
  std::string number = normalize_phone_number(request.caller_number);
  if (!has_digit(number)) {
    result.ok = true;
    return result;
  }
  result.number = number;
  bool connected = database_ != nullptr;
  try {
    if (!database_) {
      database_ = std::make_unique<Database>(options_.dsn, options_.statement_timeout);
      connected = true;
    }
    database_->query(request.tenant, number, options_.previous_contacts, result);
    result.ok = true;
    if (!failing_.empty()) {
      log(false, "customer lookup: working again");
      failing_.clear();
    }
    return result;
  } catch (const std::exception& e) {
    const bool broken = dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
                        database_ == nullptr || !database_->is_open();
    CallerLookupResult failed;
    failed.number = std::move(number);
    failed.error = std::string(connected ? "customer lookup: " : "customer lookup: connect: ") +
                   trimmed(e.what());
    if (broken) database_.reset();  // the next request connects anew
    // Once per run of the same failure, so that an outage is not a line per call.
    if (failed.error != failing_) {
      failing_ = failed.error;
      log(true, failed.error + (broken ? "; screen pops go without customer data, reconnecting "
                                         "with the next lookup"
                                       : ""));
    }
    return failed;
  }
}

void CustomerLookup::deliver(Request& request, CallerLookupResult result) {
  if (!request.done) return;
  try {
    request.done(std::move(result));
  } catch (const std::exception& e) {
    log(true, std::string("customer lookup: a result callback threw: ") + e.what());
  } catch (...) {
    log(true, "customer lookup: a result callback threw");
  }
}

}  // namespace acd::store
