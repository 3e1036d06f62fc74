#include "engine/store/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace acd::store {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "acd-spool-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string frames_of(const std::vector<std::string>& payloads) {
  std::string frames;
  for (const auto& p : payloads) append_frame(p, frames);
  return frames;
}

std::vector<std::string> read_all(const std::filesystem::path& dir, SpoolPosition from,
                                  SpoolPosition limit, std::vector<std::string>* problems = nullptr,
                                  std::size_t step = 3) {
  SpoolReader reader(dir);
  std::vector<std::string> out;
  for (int guard = 0; guard < 100000 && from < limit; ++guard) {
    auto batch = reader.read(from, limit, step);
    REQUIRE(batch.ok());
    for (auto& p : batch->payloads) out.push_back(p);
    if (problems) problems->insert(problems->end(), batch->problems.begin(), batch->problems.end());
    if (batch->next == from) break;
    from = batch->next;
  }
  return out;
}

TEST_CASE("a spool returns what was written, in order, across segments", "[spool]") {
  TempDir dir;
  auto writer = SpoolWriter::open({dir.path(), 200});
  REQUIRE(writer.ok());
  std::vector<std::string> written;
  for (int i = 0; i < 50; ++i) {
    std::vector<std::string> payloads{"record-" + std::to_string(i), std::string(i, 'x')};
    REQUIRE((*writer)->write(frames_of(payloads)).ok());
    written.insert(written.end(), payloads.begin(), payloads.end());
  }
  REQUIRE((*writer)->sync().ok());
  auto segments = list_segments(dir.path());
  REQUIRE(segments.ok());
  CHECK(segments->size() > 5);  // rotated at 200 bytes
  CHECK(read_all(dir.path(), {}, (*writer)->end()) == written);
  // One big read gives the same.
  SpoolReader reader(dir.path());
  auto all = reader.read({}, (*writer)->end(), 1000);
  REQUIRE(all.ok());
  CHECK(all->payloads == written);
  CHECK(all->next == (*writer)->end());
}

TEST_CASE("a new writer never appends to an earlier segment", "[spool]") {
  TempDir dir;
  SpoolPosition first_end;
  {
    auto writer = SpoolWriter::open({dir.path(), 1 << 20});
    REQUIRE(writer.ok());
    REQUIRE((*writer)->write(frames_of({"a", "b"})).ok());
    first_end = (*writer)->end();
  }
  auto writer = SpoolWriter::open({dir.path(), 1 << 20});
  REQUIRE(writer.ok());
  CHECK((*writer)->end().segment == first_end.segment + 1);
  REQUIRE((*writer)->write(frames_of({"c"})).ok());
  CHECK(read_all(dir.path(), {}, (*writer)->end()) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("a torn or corrupt tail of an earlier segment is skipped and reported", "[spool]") {
  TempDir dir;
  std::filesystem::path first;
  {
    auto writer = SpoolWriter::open({dir.path(), 1 << 20});
    REQUIRE(writer.ok());
    REQUIRE((*writer)->write(frames_of({"one", "two", "three"})).ok());
    first = segment_path(dir.path(), (*writer)->end().segment);
  }
  const auto size = std::filesystem::file_size(first);
  SECTION("torn: the last frame cut short") {
    std::filesystem::resize_file(first, size - 2);
  }
  SECTION("corrupt: a flipped byte in the last payload") {
    std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 1));
    f.put('X');
  }
  auto writer = SpoolWriter::open({dir.path(), 1 << 20});
  REQUIRE(writer.ok());
  REQUIRE((*writer)->write(frames_of({"four"})).ok());
  std::vector<std::string> problems;
  CHECK(read_all(dir.path(), {}, (*writer)->end(), &problems) ==
        std::vector<std::string>{"one", "two", "four"});
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::Contains("skipped"));
}

TEST_CASE("checkpoints persist and fully read segments can be deleted", "[spool]") {
  TempDir dir;
  auto none = load_checkpoint(dir.path());
  REQUIRE(none.ok());
  CHECK(none.value() == SpoolPosition{});
  auto writer = SpoolWriter::open({dir.path(), 64});
  REQUIRE(writer.ok());
  for (int i = 0; i < 10; ++i)
    REQUIRE((*writer)->write(frames_of({std::string(40, 'a' + i)})).ok());
  SpoolReader reader(dir.path());
  auto part = reader.read({}, (*writer)->end(), 4);
  REQUIRE(part.ok());
  REQUIRE(part->payloads.size() == 4);
  REQUIRE(save_checkpoint(dir.path(), part->next).ok());
  auto loaded = load_checkpoint(dir.path());
  REQUIRE(loaded.ok());
  CHECK(loaded.value() == part->next);
  REQUIRE(delete_segments_before(dir.path(), part->next).ok());
  auto segments = list_segments(dir.path());
  REQUIRE(segments.ok());
  CHECK(segments->front() == part->next.segment);
  // Reading on from the checkpoint gives the rest.
  auto rest = read_all(dir.path(), loaded.value(), (*writer)->end());
  REQUIRE(rest.size() == 6);
  CHECK(rest.front() == std::string(40, 'e'));
  // A writer opened after everything was deleted continues after the checkpoint.
  REQUIRE(save_checkpoint(dir.path(), (*writer)->end()).ok());
  REQUIRE(delete_segments_before(dir.path(), {(*writer)->end().segment + 1, 0}).ok());
  auto next = SpoolWriter::open({dir.path(), 64});
  REQUIRE(next.ok());
  CHECK((*next)->end().segment > (*writer)->end().segment);
}

// A segment as an engine writing record format `format` left it: the header, then frames.
void write_old_segment(const std::filesystem::path& dir, std::uint64_t segment,
                       std::uint32_t format, const std::vector<std::string>& payloads) {
  std::string bytes = "ACDSPOOL";
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((format >> (8 * i)) & 0xff));
  bytes += frames_of(payloads);
  std::filesystem::create_directories(dir);
  std::ofstream(segment_path(dir, segment), std::ios::binary) << bytes;
}

TEST_CASE("a reader says which format each payload is in, across versions", "[spool]") {
  TempDir dir;
  write_old_segment(dir.path(), 1, 1, {"old-a", "old-b", "old-c"});
  auto writer = SpoolWriter::open({dir.path(), 1 << 20});
  REQUIRE(writer.ok());
  CHECK((*writer)->end().segment == 2);
  REQUIRE((*writer)->write(frames_of({"new-a"})).ok());
  SpoolReader reader(dir.path());
  auto all = reader.read({}, (*writer)->end(), 100);
  REQUIRE(all.ok());
  CHECK(all->problems.empty());
  CHECK(all->payloads == std::vector<std::string>{"old-a", "old-b", "old-c", "new-a"});
  CHECK(all->formats == std::vector<std::uint32_t>{1, 1, 1, kSpoolFormatVersion});
  // From a position inside the old segment (a checkpoint), with a fresh reader.
  SpoolReader again(dir.path());
  auto first = again.read({}, (*writer)->end(), 1);
  REQUIRE(first.ok());
  SpoolReader later(dir.path());
  auto rest = later.read(first->next, (*writer)->end(), 100);
  REQUIRE(rest.ok());
  CHECK(rest->payloads == std::vector<std::string>{"old-b", "old-c", "new-a"});
  CHECK(rest->formats == std::vector<std::uint32_t>{1, 1, kSpoolFormatVersion});
}

TEST_CASE("a segment of an unknown format version is skipped and reported", "[spool]") {
  TempDir dir;
  write_old_segment(dir.path(), 1, kSpoolFormatVersion + 1, {"future"});
  auto writer = SpoolWriter::open({dir.path(), 1 << 20});
  REQUIRE(writer.ok());
  REQUIRE((*writer)->write(frames_of({"now"})).ok());
  std::vector<std::string> problems;
  CHECK(read_all(dir.path(), {}, (*writer)->end(), &problems) == std::vector<std::string>{"now"});
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0],
             Catch::Contains("format version " + std::to_string(kSpoolFormatVersion + 1)));
  CHECK_THAT(problems[0], Catch::Contains("skipped"));
}

TEST_CASE("a malformed checkpoint is an error, not a silent restart", "[spool]") {
  TempDir dir;
  std::ofstream(dir.path() / "checkpoint") << "garbage";
  CHECK_FALSE(load_checkpoint(dir.path()).ok());
}

}  // namespace
}  // namespace acd::store
