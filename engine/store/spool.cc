#include "engine/store/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <system_error>

#include "engine/store/record_codec.h"

namespace acd::store {
namespace {

constexpr std::string_view kMagic = "ACDSPOOL";
constexpr std::size_t kFrameHeaderBytes = 8;
constexpr std::size_t kReadChunkBytes = 1u << 20;

std::string errno_text(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

void put_u32(std::uint32_t v, std::string& out) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string segment_header() {
  std::string header(kMagic);
  put_u32(kSpoolFormatVersion, header);
  return header;
}

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::failure(errno_text("write", path));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}

Status sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::failure(errno_text("open", dir));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::failure(errno_text("fsync", dir));
  return ok_status();
}

}  // namespace

std::string to_string(const SpoolPosition& position) {
  return std::to_string(position.segment) + ":" + std::to_string(position.offset);
}

void append_frame(std::string_view payload, std::string& out) {
  put_u32(static_cast<std::uint32_t>(payload.size()), out);
  put_u32(crc32c(payload), out);
  out.append(payload);
}

std::filesystem::path segment_path(const std::filesystem::path& dir, std::uint64_t segment) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.spool", static_cast<unsigned long long>(segment));
  return dir / name;
}

Result<std::vector<std::uint64_t>> list_segments(const std::filesystem::path& dir) {
  using R = Result<std::vector<std::uint64_t>>;
  std::vector<std::uint64_t> segments;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return R::failure("list " + dir.string() + ": " + ec.message());
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 26 || !name.ends_with(".spool")) continue;
    std::uint64_t number = 0;
    const auto [ptr, err] = std::from_chars(name.data(), name.data() + 20, number);
    if (err != std::errc() || ptr != name.data() + 20) continue;
    segments.push_back(number);
  }
  std::sort(segments.begin(), segments.end());
  return R::success(std::move(segments));
}

Result<SpoolPosition> load_checkpoint(const std::filesystem::path& dir) {
  using R = Result<SpoolPosition>;
  const auto path = dir / "checkpoint";
  std::ifstream in(path);
  if (!in) return R::success(SpoolPosition{});
  SpoolPosition position;
  if (!(in >> position.segment >> position.offset)) {
    return R::failure(path.string() + ": not \"<segment> <offset>\"");
  }
  return R::success(position);
}

Status save_checkpoint(const std::filesystem::path& dir, SpoolPosition position) {
  const auto path = dir / "checkpoint";
  const auto temp = dir / "checkpoint.tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::failure(errno_text("open", temp));
  const std::string text =
      std::to_string(position.segment) + " " + std::to_string(position.offset) + "\n";
  auto written = write_all(fd, text, temp);
  if (written && ::fdatasync(fd) != 0) written = Status::failure(errno_text("fdatasync", temp));
  ::close(fd);
  if (!written) return written;
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return Status::failure(errno_text("rename", temp));
  }
  return ok_status();
}

Status delete_segments_before(const std::filesystem::path& dir, SpoolPosition position) {
  auto segments = list_segments(dir);
  if (!segments) return Status::failure(segments.error().message);
  for (const std::uint64_t segment : segments.value()) {
    if (segment >= position.segment) break;
    const auto path = segment_path(dir, segment);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::failure(errno_text("unlink", path));
    }
  }
  return ok_status();
}

// ---- SpoolWriter ----

SpoolWriter::SpoolWriter(Options options, std::uint64_t segment)
    : options_(std::move(options)), first_segment_(segment) {}

SpoolWriter::~SpoolWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<SpoolWriter>> SpoolWriter::open(Options options) {
  using R = Result<std::unique_ptr<SpoolWriter>>;
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return R::failure("create " + options.dir.string() + ": " + ec.message());
  auto segments = list_segments(options.dir);
  if (!segments) return R::failure(segments.error().message);
  // Always after the checkpoint's segment, so a spool whose segments were all shipped and
  // deleted does not reuse a number the checkpoint points into.
  auto checkpoint = load_checkpoint(options.dir);
  if (!checkpoint) return R::failure(checkpoint.error().message);
  std::uint64_t next = checkpoint->segment + 1;
  if (!segments->empty()) next = std::max(next, segments->back() + 1);
  std::unique_ptr<SpoolWriter> writer(new SpoolWriter(std::move(options), next));
  if (auto begun = writer->begin_segment(next); !begun) return R::failure(begun.error().message);
  return R::success(std::move(writer));
}

Status SpoolWriter::begin_segment(std::uint64_t segment) {
  const auto path = segment_path(options_.dir, segment);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::failure(errno_text("create", path));
  auto written = write_all(fd, segment_header(), path);
  if (written && ::fdatasync(fd) != 0) written = Status::failure(errno_text("fdatasync", path));
  if (written) written = sync_directory(options_.dir);
  if (!written) {
    ::close(fd);
    ::unlink(path.c_str());
    return written;
  }
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
  fd_ = fd;
  segment_ = segment;
  offset_ = kSpoolHeaderBytes;
  good_offset_ = offset_;
  return ok_status();
}

Status SpoolWriter::write(std::string_view frames) {
  const auto path = segment_path(options_.dir, segment_);
  if (auto written = write_all(fd_, frames, path); !written) {
    // A partial write leaves a tail the reader must not see as frames: cut it off.
    if (::ftruncate(fd_, static_cast<off_t>(good_offset_)) != 0) {
      return Status::failure(written.error().message +
                             "; and truncating it failed: " + std::strerror(errno));
    }
    return written;
  }
  offset_ += frames.size();
  good_offset_ = offset_;
  if (offset_ >= options_.segment_bytes) {
    // A failure to begin the next segment is not a failure of this write: the frames are
    // written, and the current segment simply grows until a later attempt succeeds.
    (void)begin_segment(segment_ + 1);
  }
  return ok_status();
}

Status SpoolWriter::sync() {
  if (::fdatasync(fd_) != 0) {
    return Status::failure(errno_text("fdatasync", segment_path(options_.dir, segment_)));
  }
  return ok_status();
}

// ---- SpoolReader ----

SpoolReader::SpoolReader(std::filesystem::path dir) : dir_(std::move(dir)) {}

SpoolReader::~SpoolReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status SpoolReader::open_segment(std::uint64_t segment) {
  if (fd_ >= 0 && open_segment_ == segment) return ok_status();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  const auto path = segment_path(dir_, segment);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::failure(errno_text("open", path));
  fd_ = fd;
  open_segment_ = segment;
  open_format_ = 0;
  return ok_status();
}

Result<SpoolReader::Batch> SpoolReader::read(SpoolPosition from, SpoolPosition limit,
                                             std::size_t max_payloads) {
  using R = Result<Batch>;
  Batch batch;
  SpoolPosition at = from;
  while (batch.payloads.size() < max_payloads && at < limit) {
    const SpoolPosition before = at;
    if (at.segment < limit.segment) {
      // A closed segment (or one of an earlier run): is it there at all?
      std::error_code ec;
      if (!std::filesystem::exists(segment_path(dir_, at.segment), ec)) {
        // Missing (already shipped and deleted, or never made): the next one present.
        auto segments = list_segments(dir_);
        if (!segments) return R::failure(segments.error().message);
        auto next = std::upper_bound(segments->begin(), segments->end(), at.segment);
        at = {next == segments->end() ? limit.segment : std::min(*next, limit.segment), 0};
        continue;
      }
      if (auto opened = open_segment(at.segment); !opened)
        return R::failure(opened.error().message);
    } else if (auto opened = open_segment(at.segment); !opened) {
      return R::failure(opened.error().message);
    }
    if (open_format_ == 0) {  // just opened: which format are its records in?
      char header[kSpoolHeaderBytes];
      const ssize_t n = ::pread(fd_, header, sizeof header, 0);
      const bool spool = n == static_cast<ssize_t>(sizeof header) &&
                         std::string_view(header, kMagic.size()) == kMagic;
      const std::uint32_t format = spool ? get_u32(header + kMagic.size()) : 0;
      if (format < kOldestRecordFormat || format > kSpoolFormatVersion) {
        batch.problems.push_back(segment_path(dir_, at.segment).string() +
                                 (spool ? ": a spool segment of format version " +
                                              std::to_string(format) +
                                              ", which this engine does not read (versions " +
                                              std::to_string(kOldestRecordFormat) + " to " +
                                              std::to_string(kSpoolFormatVersion) + "); skipped"
                                        : std::string(": not a spool segment; skipped")));
        at = {at.segment + 1, 0};
        continue;
      }
      open_format_ = format;
    }
    if (at.offset < kSpoolHeaderBytes) at.offset = kSpoolHeaderBytes;
    struct stat st {};
    if (::fstat(fd_, &st) != 0)
      return R::failure(errno_text("stat", segment_path(dir_, at.segment)));
    const std::uint64_t end = at.segment < limit.segment
                                  ? static_cast<std::uint64_t>(st.st_size)
                                  : std::min<std::uint64_t>(limit.offset, st.st_size);
    bool segment_done = false;
    while (batch.payloads.size() < max_payloads && at.offset < end && !segment_done) {
      // One read of up to a chunk; frames are cut from it until one straddles its end.
      const std::uint64_t want = std::min<std::uint64_t>(end - at.offset, kReadChunkBytes);
      buffer_.resize(want);
      const ssize_t got = ::pread(fd_, buffer_.data(), want, static_cast<off_t>(at.offset));
      if (got != static_cast<ssize_t>(want)) {
        return R::failure(errno_text("read", segment_path(dir_, at.segment)));
      }
      std::size_t pos = 0;
      bool progressed = false;
      while (batch.payloads.size() < max_payloads) {
        const std::uint64_t left_in_segment = end - (at.offset + pos);
        if (left_in_segment == 0) break;
        if (left_in_segment < kFrameHeaderBytes) {
          segment_done = true;
          break;
        }
        if (want - pos < kFrameHeaderBytes) break;  // header straddles the chunk
        const std::uint32_t length = get_u32(buffer_.data() + pos);
        const std::uint32_t crc = get_u32(buffer_.data() + pos + 4);
        if (length > kMaxFrameBytes || length > left_in_segment - kFrameHeaderBytes) {
          segment_done = true;
          break;
        }
        if (want - pos - kFrameHeaderBytes < length) {
          if (!progressed && pos == 0) {
            // A frame bigger than a chunk: read exactly it.
            std::string frame(length, '\0');
            if (::pread(fd_, frame.data(), length,
                        static_cast<off_t>(at.offset + kFrameHeaderBytes)) !=
                static_cast<ssize_t>(length)) {
              return R::failure(errno_text("read", segment_path(dir_, at.segment)));
            }
            if (crc32c(frame) != crc) {
              segment_done = true;
              break;
            }
            batch.payloads.push_back(std::move(frame));
            batch.formats.push_back(open_format_);
            pos += kFrameHeaderBytes + length;
            progressed = true;
          }
          break;
        }
        const std::string_view payload(buffer_.data() + pos + kFrameHeaderBytes, length);
        if (crc32c(payload) != crc) {
          segment_done = true;
          break;
        }
        batch.payloads.emplace_back(payload);
        batch.formats.push_back(open_format_);
        pos += kFrameHeaderBytes + length;
        progressed = true;
      }
      at.offset += pos;
      if (!progressed) break;
    }
    if (at.segment < limit.segment && (segment_done || at.offset >= end)) {
      if (at.offset < end) {
        batch.problems.push_back(segment_path(dir_, at.segment).string() + ": " +
                                 std::to_string(end - at.offset) + " bytes after offset " +
                                 std::to_string(at.offset) +
                                 " are not a complete frame (torn or corrupt tail); skipped");
      }
      at = {at.segment + 1, 0};
    } else if (segment_done) {
      // Within the writer's current segment, below its reported end: the spool is damaged.
      return R::failure(segment_path(dir_, at.segment).string() + ": corrupt frame at offset " +
                        std::to_string(at.offset));
    }
    if (at == before) break;  // the current segment holds less than reported: read later
  }
  batch.next = at;
  return R::success(std::move(batch));
}

}  // namespace acd::store
