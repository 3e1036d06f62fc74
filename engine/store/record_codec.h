// The spool's byte format for records (see spool.h). A record is one type byte followed by
// its fields in declaration order: integers as LEB128 varints (signed ones zigzag-encoded),
// strings as a varint length and the bytes, optionals as a presence byte and the value.
// The format is versioned by the spool segment header, not per record.
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

// Appends the encoding of `record` to `out`.
void encode_record(const Record& record, std::string& out);

// Decodes one record that fills `bytes` exactly; an error for anything else (unknown type,
// truncated field, trailing bytes).
Result<Record> decode_record(std::string_view bytes);

// CRC-32C (Castagnoli), as used by iSCSI, ext4 and leveldb's log format.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t seed = 0);

}  // namespace acd::store
