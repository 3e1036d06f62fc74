// The spool's byte format for records (see spool.h). A record is one type byte followed by
// its fields in declaration order: integers as LEB128 varints (signed ones zigzag-encoded),
// booleans as one byte (0 or 1), strings as a varint length and the bytes, optionals as a
// presence byte and the value.
// The format is versioned by the spool segment header, not per record: a segment's header
// names the record format of all its frames.
//
// Record formats. A new format only appends fields to record types (or adds record types
// at the end of Record); a record written in an older format decodes with the newer
// fields at their defaults, and a record type newer than a format is refused in it.
//   1  the first format
//   2  CallRecord.end_reason
//   3  RecordingRecord
//   4  TaskRecord
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/store/records.h"
#include "engine/store/result.h"

namespace acd::store {

inline constexpr std::uint32_t kRecordFormat = 4;        // what encode_record writes
inline constexpr std::uint32_t kOldestRecordFormat = 1;  // the oldest decode_record reads

// Appends the encoding of `record` in `format` to `out` (an older format leaves out the
// fields it does not have; the engine writes kRecordFormat, tests also older ones). A
// record type newer than `format` is written whole (no reader of that format takes it).
void encode_record(const Record& record, std::string& out, std::uint32_t format = kRecordFormat);

// Decodes one record of `format` that fills `bytes` exactly; an error for anything else
// (a format outside kOldestRecordFormat..kRecordFormat, a type unknown in that format,
// truncated field, trailing bytes).
Result<Record> decode_record(std::string_view bytes, std::uint32_t format = kRecordFormat);

// CRC-32C (Castagnoli), as used by iSCSI, ext4 and leveldb's log format.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t seed = 0);

}  // namespace acd::store
