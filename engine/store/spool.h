// The record spool: a local, append-only, checksummed log of records, the engine's
// guarantee that no record is lost while PostgreSQL is unreachable or when the daemon dies.
//
// Layout of the spool directory:
//   00000000000000000001.spool ...  segments, numbered in write order (across runs)
//   checkpoint                      "<segment> <offset>\n": everything before this position
//                                   is in the database (written atomically by rename)
// A segment starts with a 12-byte header ("ACDSPOOL" and a little-endian u32 format
// version) and then holds frames: u32 payload length, u32 CRC-32C of the payload (both
// little-endian), the payload (one encoded record, see record_codec.h). The format version
// is the record format of the segment's payloads (kRecordFormat, record_codec.h); the
// framing is the same in every version. A writer writes the newest; a reader reads every
// version from kOldestRecordFormat on (segments of an earlier run, spooled by an older
// engine) and says which each payload is in.
//
// Each run of the daemon appends to a new segment (a torn tail left by a crash is never
// appended to); a segment is closed and a new one begun when it passes segment_bytes.
// Readers stop at a torn or corrupt frame of a closed segment, report it and go on with
// the next segment; segments wholly before the checkpoint are deleted.
// Thread-safety: a SpoolWriter and a SpoolReader each belong to one thread; one writer and
// one reader may work on the same directory at once (the reader reads only up to the
// position the writer has reported written).
#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store/record_codec.h"
#include "engine/store/records.h"
#include "engine/store/result.h"

namespace acd::store {

struct SpoolPosition {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;

  friend auto operator<=>(const SpoolPosition&, const SpoolPosition&) = default;
};

std::string to_string(const SpoolPosition& position);

inline constexpr std::uint64_t kSpoolHeaderBytes = 12;
inline constexpr std::uint32_t kSpoolFormatVersion = kRecordFormat;  // what a writer writes
inline constexpr std::uint32_t kMaxFrameBytes = 16u << 20;

// Appends one frame holding `payload` to `out`.
void append_frame(std::string_view payload, std::string& out);

// The segment numbers present in `dir`, ascending (files that are not segments ignored).
Result<std::vector<std::uint64_t>> list_segments(const std::filesystem::path& dir);
std::filesystem::path segment_path(const std::filesystem::path& dir, std::uint64_t segment);

// The checkpoint; {0, 0} (before everything) when there is none.
Result<SpoolPosition> load_checkpoint(const std::filesystem::path& dir);
Status save_checkpoint(const std::filesystem::path& dir, SpoolPosition position);

class SpoolWriter {
 public:
  struct Options {
    std::filesystem::path dir;
    std::uint64_t segment_bytes = 64u << 20;
  };

  // Creates the directory if needed and begins a new segment after the highest present.
  static Result<std::unique_ptr<SpoolWriter>> open(Options options);
  ~SpoolWriter();
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Writes `frames` (whole frames made by append_frame) to the current segment with one
  // write(2) (retried until complete), then begins a new segment if this one is full.
  // After a failure (disk full, I/O error) nothing is reported written; the caller keeps
  // the frames and tries again.
  Status write(std::string_view frames);
  // fdatasync of the current segment: what write() wrote survives a power loss.
  Status sync();

  // The position after the last frame written.
  [[nodiscard]] SpoolPosition end() const { return {segment_, offset_}; }
  [[nodiscard]] std::uint64_t first_segment_of_run() const { return first_segment_; }

 private:
  SpoolWriter(Options options, std::uint64_t segment);
  Status begin_segment(std::uint64_t segment);

  Options options_;
  int fd_ = -1;
  std::uint64_t first_segment_ = 0;
  std::uint64_t segment_ = 0;
  std::uint64_t offset_ = 0;
  std::uint64_t good_offset_ = 0;  // after the last complete write
};

class SpoolReader {
 public:
  struct Batch {
    std::vector<std::string> payloads;   // in spool order
    std::vector<std::uint32_t> formats;  // formats[i]: the record format of payloads[i]
    SpoolPosition next;                  // where the next read starts
    std::vector<std::string> problems;   // torn tails and corrupt frames skipped, for the log
  };

  explicit SpoolReader(std::filesystem::path dir);
  ~SpoolReader();
  SpoolReader(const SpoolReader&) = delete;
  SpoolReader& operator=(const SpoolReader&) = delete;

  // Reads up to `max_payloads` frames from `from` (a checkpoint or a previous Batch::next)
  // that lie before `limit` (the writer's end). Segments before limit.segment are read to
  // their end; a missing segment or a position before a segment's header is skipped.
  Result<Batch> read(SpoolPosition from, SpoolPosition limit, std::size_t max_payloads);

 private:
  Status open_segment(std::uint64_t segment);

  std::filesystem::path dir_;
  int fd_ = -1;
  std::uint64_t open_segment_ = 0;
  std::uint32_t open_format_ = 0;  // of the open segment; 0 until its header was read
  std::uint64_t open_size_ = 0;
  std::string buffer_;
};

// Deletes the segments wholly before `position` (those whose number is lower).
Status delete_segments_before(const std::filesystem::path& dir, SpoolPosition position);

}  // namespace acd::store
