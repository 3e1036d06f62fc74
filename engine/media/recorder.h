// Recorder: writes call recordings to WAV files on a thread of its own, so the media
// thread never waits for a disk. The media thread hands over 20 ms stereo frames
// (caller left, far end right) in batches, once per media-clock tick; the recorder
// thread opens, appends to and closes the files and reports each finished recording.
// Thread-safety: open/append/close from one thread (the media thread); the report
// callback runs on the recorder's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace acd::media {

enum class RecordingMode : std::uint8_t {
  kStereo,  // caller on the left channel, the far end (agent, music) on the right
  kMixed    // both summed into one channel
};
const char* to_string(RecordingMode mode);  // "stereo", "mixed"

struct RecordingResult {
  std::uint64_t token = 0;
  std::string path;
  std::uint64_t frames = 0;  // 8 kHz sample frames written
  bool ok = false;           // false: the file could not be written (error says why)
  std::string error;
  RecordingMode mode = RecordingMode::kStereo;
  std::chrono::system_clock::time_point started_at;  // when the recorder opened the file
  [[nodiscard]] std::uint64_t duration_ms() const { return frames / 8; }
};

class Recorder {
 public:
  explicit Recorder(std::function<void(const RecordingResult&)> on_done);
  ~Recorder();  // finishes every open recording, then joins the thread
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void open(std::uint64_t token, std::string path, RecordingMode mode);
  // Interleaved stereo samples (left, right, ...), a whole number of sample frames.
  void append(std::uint64_t token, std::vector<std::int16_t> stereo);
  void close(std::uint64_t token);

 private:
  struct Job {
    enum class Kind : std::uint8_t { kOpen, kAppend, kClose, kStop } kind;
    std::uint64_t token = 0;
    std::string path;
    RecordingMode mode = RecordingMode::kStereo;
    std::vector<std::int16_t> samples;
  };
  struct File;

  void push(Job job);
  void run();

  std::function<void(const RecordingResult&)> on_done_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::thread thread_;
};

}  // namespace acd::media
