#include "engine/store/record_codec.h"

#include <catch2/catch.hpp>

namespace acd::store {
namespace {

// A web form transferred once, back in a queue once when its agent was logged out, then
// completed: every field set (times, optionals, counts).
TaskRecord sample_task() {
  TaskRecord task;
  task.task_id = 9'000'000'000'123;
  task.run_id = 42;
  task.tenant = "acme";
  task.channel = "web-form";
  task.subject = "Refund for order #5521 \u00e9t\u00e9, \"quoted\"\tand tabbed";
  task.customer = "jane.doe@example.com";
  task.first_queue = "sales";
  task.last_queue = "support";
  task.agent = "bob";
  task.final_state = "completed";
  task.created_at = 1'700'000'000'000'000;
  task.queued_at = 1'700'000'060'000'000;
  task.accepted_at = 1'700'000'004'000'000;
  task.finished_at = 1'700'000'200'000'000;
  task.wait_ms = 7'000;
  task.handle_ms = 129'000;
  task.sl_threshold_ms = 60'000;
  task.offers = 3;
  task.transfers = 1;
  task.requeues = 1;
  task.queues = 3;
  task.vip_level = 2;
  return task;
}

std::vector<Record> sample_records() {
  CallRecord call;
  call.call_id = 1234567890123;
  call.run_id = 42;
  call.tenant = "acme";
  call.caller = "+15550001234";
  call.dialled = "sales";
  call.first_queue = "sales";
  call.last_queue = "support";
  call.agent = "alice";
  call.final_state = "completed";
  call.arrived_at = 1'700'000'000'000'000;
  call.queued_at = 1'700'000'000'500'000;
  call.answered_at = 1'700'000'012'000'000;
  call.ended_at = 1'700'000'100'000'000;
  call.wait_ms = 11'500;
  call.total_wait_ms = 12'000;
  call.talk_ms = 88'000;
  call.hold_ms = -0;
  call.sl_threshold_ms = 20'000;
  call.offers = 2;
  call.queues = 2;
  call.vip_level = 1;
  call.end_reason = "agent-bye";
  CallLegRecord leg{1234567890123, 1, 42, "acme", "sales", "bob", 5, std::nullopt, 9, "no-answer"};
  QueueEventRecord event{7,
                         3,
                         42,
                         "acme",
                         "",
                         -5,
                         "exit",
                         "",
                         std::nullopt,
                         "max-wait",
                         R"({"destination":"hang up\ttab \"quoted\""})"};
  AgentStateRecord state{42,      99,          "acme",  "carol", 123,
                         "ready", "not-ready", "lunch", "agent", std::nullopt};
  OverflowRecord overflow{42, 1, "acme", "sales", 77, 1, 3};
  CallbackRecord callback{8, "acme", "sales", "+4930123", 1000};
  RecordingRecord recording;
  recording.call_id = 1234567890123;
  recording.run_id = 42;
  recording.kind = "voicemail";
  recording.path = "/var/lib/acd/voicemail/acme/sales-box/1234567890123.wav";
  recording.mode = "mono";
  recording.mailbox = "sales-box";
  recording.duration_ms = 2980;
  recording.started_at = 1'700'000'050'000'000;
  recording.ended_at = 1'700'000'053'000'123;
  recording.ok = true;
  return {call,
          leg,
          event,
          state,
          overflow,
          callback,
          RunStartedRecord{42, 1},
          RunStoppedRecord{42, 2},
          sample_task(),
          recording};
}

// `record` encodes to the same bytes in `format` as in the current one, and decodes back.
void check_same_in_format(const Record& record, std::uint32_t format) {
  std::string old_bytes;
  encode_record(record, old_bytes, format);
  std::string new_bytes;
  encode_record(record, new_bytes);
  CHECK(old_bytes == new_bytes);
  auto old_decoded = decode_record(old_bytes, format);
  REQUIRE(old_decoded.ok());
  CHECK(old_decoded.value() == record);
}

TEST_CASE("every record type survives encode and decode unchanged", "[records][codec]") {
  for (const Record& record : sample_records()) {
    std::string bytes;
    encode_record(record, bytes);
    auto decoded = decode_record(bytes);
    REQUIRE(decoded.ok());
    CHECK(decoded.value() == record);
  }
}

TEST_CASE("a recording that could not be written keeps its error", "[records][codec]") {
  RecordingRecord failed;
  failed.call_id = 77;
  failed.run_id = 42;
  failed.path = "/var/lib/acd/recordings/acme/2024-05-01/77.wav";
  failed.mode = "mixed";
  failed.duration_ms = 1500;
  failed.started_at = 1'700'000'000'000'000;
  failed.ended_at = 1'700'000'002'000'000;
  failed.ok = false;
  failed.error = "No space left on device";
  std::string bytes;
  encode_record(failed, bytes);
  auto decoded = decode_record(bytes);
  REQUIRE(decoded.ok());
  CHECK(std::get<RecordingRecord>(decoded.value()) == failed);
  // ok is one byte, 0 or 1: anything else is refused, not read as true.
  failed.ok = true;
  failed.error.clear();
  std::string ok_bytes;
  encode_record(failed, ok_bytes);
  const std::size_t ok_at = ok_bytes.size() - 1 - 1;  // before the error's length (0)
  REQUIRE(ok_bytes[ok_at] == 1);
  ok_bytes[ok_at] = 2;
  CHECK_FALSE(decode_record(ok_bytes).ok());
}

TEST_CASE("extreme integers and empty strings round-trip", "[records][codec]") {
  AgentStateRecord r;
  r.run_id = INT64_MIN;
  r.seq = INT64_MAX;
  r.call_id = -1;
  std::string bytes;
  encode_record(r, bytes);
  auto decoded = decode_record(bytes);
  REQUIRE(decoded.ok());
  CHECK(std::get<AgentStateRecord>(decoded.value()) == r);
}

TEST_CASE("truncated, padded and unknown records are refused", "[records][codec]") {
  std::string bytes;
  encode_record(sample_records()[0], bytes);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    INFO("cut at " << cut);
    CHECK_FALSE(decode_record(std::string_view(bytes).substr(0, cut)).ok());
  }
  CHECK_FALSE(decode_record(bytes + "x").ok());
  std::string unknown(1, static_cast<char>(std::variant_size_v<Record>));
  auto refused = decode_record(unknown);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("unknown record type"));
}

TEST_CASE("records of format 1 (before CallRecord.end_reason) still decode", "[records][codec]") {
  CallRecord call = std::get<CallRecord>(sample_records()[0]);
  std::string v1;
  encode_record(call, v1, 1);
  std::string v2;
  encode_record(call, v2, 2);
  // Format 1 is format 2 without the trailing end_reason (a length and the bytes).
  CHECK(v2.size() == v1.size() + 1 + call.end_reason.size());
  CHECK(v2.compare(0, v1.size(), v1) == 0);
  auto decoded = decode_record(v1, 1);
  REQUIRE(decoded.ok());
  call.end_reason.clear();
  CHECK(std::get<CallRecord>(decoded.value()) == call);
  // Read in the wrong format, either one is refused rather than misread.
  CHECK_FALSE(decode_record(v1, 2).ok());
  CHECK_FALSE(decode_record(v2, 1).ok());
  // Other record types format 1 has are the same in both formats.
  for (const Record& record : sample_records()) {
    if (std::holds_alternative<CallRecord>(record)) continue;
    if (std::holds_alternative<RecordingRecord>(record)) continue;
    if (std::holds_alternative<TaskRecord>(record)) continue;
    check_same_in_format(record, 1);
  }
}

TEST_CASE("records of format 2 (before RecordingRecord) still decode", "[records][codec]") {
  // Format 3 only adds a record type: the others are the same in formats 2 and 3.
  for (const Record& record : sample_records()) {
    if (std::holds_alternative<RecordingRecord>(record)) continue;
    if (std::holds_alternative<TaskRecord>(record)) continue;
    check_same_in_format(record, 2);
  }
  // A recording in a segment that says format 1 or 2 is not one an engine of that format
  // wrote: refused.
  std::string recording;
  encode_record(sample_records().back(), recording);
  REQUIRE(decode_record(recording).ok());
  for (const std::uint32_t format : {1u, 2u}) {
    auto refused = decode_record(recording, format);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("unknown record type 8"));
  }
}

TEST_CASE("records of format 3 (before TaskRecord) still decode", "[records][codec]") {
  // Format 4 only adds a record type: the others are the same in formats 3 and 4.
  for (const Record& record : sample_records()) {
    if (std::holds_alternative<TaskRecord>(record)) continue;
    check_same_in_format(record, 3);
  }
  // A task in a segment of an older format is not one an engine of that format wrote.
  std::string task;
  encode_record(sample_task(), task);
  REQUIRE(decode_record(task).ok());
  for (const std::uint32_t format : {1u, 2u, 3u}) {
    INFO("format " << format);
    auto refused = decode_record(task, format);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("unknown record type 9"));
  }
}

TEST_CASE("a task record round-trips field by field, and its truncations are refused",
          "[records][codec][tasks]") {
  const TaskRecord full = sample_task();
  std::string bytes;
  encode_record(full, bytes);
  auto decoded = decode_record(bytes);
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<TaskRecord>(decoded.value()));
  const TaskRecord& back = std::get<TaskRecord>(decoded.value());
  CHECK(back.task_id == 9'000'000'000'123);
  CHECK(back.run_id == 42);
  CHECK(back.channel == "web-form");
  CHECK(back.subject == full.subject);
  CHECK(back.customer == "jane.doe@example.com");
  CHECK(back.first_queue == "sales");
  CHECK(back.last_queue == "support");
  CHECK(back.agent == "bob");
  CHECK(back.final_state == "completed");
  CHECK(back.created_at == 1'700'000'000'000'000);
  CHECK(back.queued_at == 1'700'000'060'000'000);
  CHECK(back.accepted_at == 1'700'000'004'000'000);
  CHECK(back.finished_at == 1'700'000'200'000'000);
  CHECK(back.wait_ms == 7'000);
  CHECK(back.handle_ms == 129'000);
  CHECK(back.sl_threshold_ms == 60'000);
  CHECK(back.offers == 3);
  CHECK(back.transfers == 1);
  CHECK(back.requeues == 1);
  CHECK(back.queues == 3);
  CHECK(back.vip_level == 2);
  CHECK(back == full);

  // An abandoned task: nobody accepted it, no subject, the optionals absent.
  TaskRecord abandoned;
  abandoned.task_id = 1;
  abandoned.run_id = -7;
  abandoned.tenant = "acme";
  abandoned.channel = "sms";
  abandoned.first_queue = abandoned.last_queue = "sales";
  abandoned.final_state = "abandoned";
  abandoned.created_at = 5;
  abandoned.finished_at = 6;
  abandoned.offers = 1;
  abandoned.queues = 1;
  std::string small;
  encode_record(abandoned, small);
  auto small_back = decode_record(small);
  REQUIRE(small_back.ok());
  CHECK(std::get<TaskRecord>(small_back.value()) == abandoned);
  CHECK_FALSE(std::get<TaskRecord>(small_back.value()).accepted_at);

  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    INFO("cut at " << cut);
    CHECK_FALSE(decode_record(std::string_view(bytes).substr(0, cut)).ok());
  }
  CHECK_FALSE(decode_record(bytes + '\0').ok());
}

TEST_CASE("a record format this engine does not know is refused", "[records][codec]") {
  std::string bytes;
  encode_record(sample_records()[0], bytes);
  for (const std::uint32_t format : {0u, kRecordFormat + 1}) {
    auto refused = decode_record(bytes, format);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("record format"));
  }
}

TEST_CASE("crc32c matches the standard check value", "[records][codec]") {
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c("") == 0u);
  CHECK(crc32c("a") != crc32c("b"));
}

}  // namespace
}  // namespace acd::store
