#include "engine/store/record_codec.h"

#include <array>
#include <tuple>
#include <type_traits>
#include <utility>

namespace acd::store {
namespace {

// The members of each record type, in encoding order: the one list both directions use.
template <class R>
auto members(R& r) {
  using T = std::remove_const_t<R>;
  if constexpr (std::is_same_v<T, CallRecord>) {
    return std::tie(r.call_id, r.run_id, r.tenant, r.direction, r.caller, r.dialled, r.first_queue,
                    r.last_queue, r.agent, r.final_state, r.exit_reason, r.arrived_at, r.queued_at,
                    r.answered_at, r.ended_at, r.wait_ms, r.total_wait_ms, r.talk_ms, r.hold_ms,
                    r.sl_threshold_ms, r.offers, r.queues, r.vip_level, r.end_reason);
  } else if constexpr (std::is_same_v<T, CallLegRecord>) {
    return std::tie(r.call_id, r.leg, r.run_id, r.tenant, r.queue, r.agent, r.offered_at,
                    r.answered_at, r.ended_at, r.result);
  } else if constexpr (std::is_same_v<T, QueueEventRecord>) {
    return std::tie(r.call_id, r.seq, r.run_id, r.tenant, r.queue, r.at, r.kind, r.agent, r.wait_ms,
                    r.reason, r.detail_json);
  } else if constexpr (std::is_same_v<T, AgentStateRecord>) {
    return std::tie(r.run_id, r.seq, r.tenant, r.agent, r.at, r.from_state, r.to_state, r.reason,
                    r.cause, r.call_id);
  } else if constexpr (std::is_same_v<T, OverflowRecord>) {
    return std::tie(r.run_id, r.seq, r.tenant, r.queue, r.at, r.from_tier, r.to_tier);
  } else if constexpr (std::is_same_v<T, CallbackRecord>) {
    return std::tie(r.call_id, r.tenant, r.queue, r.number, r.requested_at);
  } else if constexpr (std::is_same_v<T, RecordingRecord>) {
    return std::tie(r.call_id, r.run_id, r.kind, r.path, r.mode, r.mailbox, r.duration_ms,
                    r.started_at, r.ended_at, r.ok, r.error);
  } else if constexpr (std::is_same_v<T, TaskRecord>) {
    return std::tie(r.task_id, r.run_id, r.tenant, r.channel, r.subject, r.customer, r.first_queue,
                    r.last_queue, r.agent, r.final_state, r.created_at, r.queued_at, r.accepted_at,
                    r.finished_at, r.wait_ms, r.handle_ms, r.sl_threshold_ms, r.offers, r.transfers,
                    r.requeues, r.queues, r.vip_level);
  } else {
    static_assert(std::is_same_v<T, RunStartedRecord> || std::is_same_v<T, RunStoppedRecord>);
    return std::tie(r.run_id, r.at);
  }
}

// How many of R's members (from the first, in encoding order) a record of `format` holds.
template <class R>
std::size_t fields_in_format(std::uint32_t format) {
  constexpr std::size_t all = std::tuple_size_v<decltype(members(std::declval<R&>()))>;
  if constexpr (std::is_same_v<R, CallRecord>) {
    if (format < 2) return all - 1;  // end_reason came with format 2
  }
  return all;
}

// How many record types (the first alternatives of Record) a record of `format` may be.
std::size_t types_in_format(std::uint32_t format) {
  static_assert(std::is_same_v<std::variant_alternative_t<8, Record>, RecordingRecord>);
  static_assert(std::is_same_v<std::variant_alternative_t<9, Record>, TaskRecord>);
  if (format < 3) return 8;  // RecordingRecord (type 8) came with format 3
  if (format < 4) return 9;  // TaskRecord (type 9) came with format 4
  return std::variant_size_v<Record>;
}

void put_varint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

struct Encoder {
  std::string& out;

  void operator()(std::int64_t v) const {
    put_varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63), out);
  }
  void operator()(std::int32_t v) const { (*this)(static_cast<std::int64_t>(v)); }
  void operator()(bool v) const { out.push_back(v ? 1 : 0); }
  void operator()(const std::string& s) const {
    put_varint(s.size(), out);
    out.append(s);
  }
  template <class T>
  void operator()(const std::optional<T>& v) const {
    out.push_back(v ? 1 : 0);
    if (v) (*this)(*v);
  }
};

class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : bytes_(bytes) {}

  bool operator()(std::int64_t& v) {
    std::uint64_t raw = 0;
    if (!varint(raw)) return false;
    v = static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1);
    return true;
  }
  bool operator()(std::int32_t& v) {
    std::int64_t wide = 0;
    if (!(*this)(wide) || wide < INT32_MIN || wide > INT32_MAX) return false;
    v = static_cast<std::int32_t>(wide);
    return true;
  }
  bool operator()(bool& v) {
    std::uint8_t b = 0;
    if (!byte(b) || b > 1) return false;
    v = b == 1;
    return true;
  }
  bool operator()(std::string& s) {
    std::uint64_t size = 0;
    if (!varint(size) || size > bytes_.size() - pos_) return false;
    s.assign(bytes_.substr(pos_, size));
    pos_ += size;
    return true;
  }
  template <class T>
  bool operator()(std::optional<T>& v) {
    if (pos_ >= bytes_.size()) return false;
    const char present = bytes_[pos_++];
    if (present == 0) {
      v.reset();
      return true;
    }
    if (present != 1) return false;
    v.emplace();
    return (*this)(*v);
  }
  bool byte(std::uint8_t& b) {
    if (pos_ >= bytes_.size()) return false;
    b = static_cast<std::uint8_t>(bytes_[pos_++]);
    return true;
  }
  [[nodiscard]] bool at_end() const { return pos_ == bytes_.size(); }

 private:
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) return false;
      const auto b = static_cast<std::uint8_t>(bytes_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
};

template <std::size_t I = 0>
bool decode_alternative(std::size_t index, std::uint32_t format, Decoder& decoder, Record& out) {
  if constexpr (I < std::variant_size_v<Record>) {
    if (index != I) return decode_alternative<I + 1>(index, format, decoder, out);
    using R = std::variant_alternative_t<I, Record>;
    R record;
    const std::size_t fields = fields_in_format<R>(format);
    std::size_t i = 0;
    const bool ok =
        std::apply([&](auto&... field) { return ((i++ >= fields || decoder(field)) && ...); },
                   members(record));
    if (ok) out = std::move(record);
    return ok;
  } else {
    return false;
  }
}

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrc32cTable = make_crc32c_table();

}  // namespace

void encode_record(const Record& record, std::string& out, std::uint32_t format) {
  out.push_back(static_cast<char>(record.index()));
  std::visit(
      [&](const auto& r) {
        const Encoder encode{out};
        const std::size_t fields = fields_in_format<std::decay_t<decltype(r)>>(format);
        std::size_t i = 0;
        std::apply([&](const auto&... field) { ((i++ < fields ? encode(field) : void()), ...); },
                   members(r));
      },
      record);
}

Result<Record> decode_record(std::string_view bytes, std::uint32_t format) {
  if (format < kOldestRecordFormat || format > kRecordFormat) {
    return Result<Record>::failure(
        "record format " + std::to_string(format) + " is not one this engine reads (" +
        std::to_string(kOldestRecordFormat) + " to " + std::to_string(kRecordFormat) + ")");
  }
  Decoder decoder(bytes);
  std::uint8_t type = 0;
  if (!decoder.byte(type)) return Result<Record>::failure("empty record");
  if (type >= types_in_format(format)) {
    return Result<Record>::failure("unknown record type " + std::to_string(type) +
                                   " in record format " + std::to_string(format));
  }
  Record record;
  if (!decode_alternative(type, format, decoder, record)) {
    return Result<Record>::failure("record of type " + std::to_string(type) + " is truncated");
  }
  if (!decoder.at_end()) {
    return Result<Record>::failure("record of type " + std::to_string(type) +
                                   " has trailing bytes");
  }
  return Result<Record>::success(std::move(record));
}

std::uint32_t crc32c(std::string_view bytes, std::uint32_t seed) {
  std::uint32_t c = ~seed;
  for (const char ch : bytes) {
    c = kCrc32cTable[(c ^ static_cast<std::uint8_t>(ch)) & 0xff] ^ (c >> 8);
  }
  return ~c;
}

}  // namespace acd::store
