#include "engine/media/recorder.h"

#include <sndfile.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace acd::media {

const char* to_string(RecordingMode mode) {
  return mode == RecordingMode::kStereo ? "stereo" : "mixed";
}

struct Recorder::File {
  SNDFILE* file = nullptr;
  RecordingResult result;
  RecordingMode mode = RecordingMode::kStereo;
  std::vector<std::int16_t> mixed;
};

Recorder::Recorder(std::function<void(const RecordingResult&)> on_done)
    : on_done_(std::move(on_done)), thread_([this] { run(); }) {}

Recorder::~Recorder() {
  push(Job{Job::Kind::kStop, 0, {}, RecordingMode::kStereo, {}});
  thread_.join();
}

void Recorder::open(std::uint64_t token, std::string path, RecordingMode mode) {
  push(Job{Job::Kind::kOpen, token, std::move(path), mode, {}});
}

void Recorder::append(std::uint64_t token, std::vector<std::int16_t> stereo) {
  push(Job{Job::Kind::kAppend, token, {}, RecordingMode::kStereo, std::move(stereo)});
}

void Recorder::close(std::uint64_t token) {
  push(Job{Job::Kind::kClose, token, {}, RecordingMode::kStereo, {}});
}

void Recorder::push(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Recorder::run() {
  std::unordered_map<std::uint64_t, File> files;
  auto finish = [&](File& f) {
    if (f.file != nullptr) {
      sf_close(f.file);
      f.file = nullptr;
    }
    if (on_done_) on_done_(f.result);
  };
  for (;;) {
    std::deque<Job> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return !jobs_.empty(); });
      batch.swap(jobs_);
    }
    for (auto& job : batch) {
      switch (job.kind) {
        case Job::Kind::kOpen: {
          File f;
          f.mode = job.mode;
          f.result.token = job.token;
          f.result.path = job.path;
          f.result.mode = job.mode;
          f.result.started_at = std::chrono::system_clock::now();
          std::error_code ec;
          const auto parent = std::filesystem::path(job.path).parent_path();
          if (!parent.empty()) std::filesystem::create_directories(parent, ec);
          SF_INFO info{};
          info.samplerate = 8000;
          info.channels = job.mode == RecordingMode::kStereo ? 2 : 1;
          info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
          f.file = sf_open(job.path.c_str(), SFM_WRITE, &info);
          if (f.file == nullptr) {
            f.result.error = std::string(sf_strerror(nullptr)) + (ec ? "; " + ec.message() : "");
          } else {
            f.result.ok = true;
          }
          files[job.token] = std::move(f);
          break;
        }
        case Job::Kind::kAppend: {
          auto it = files.find(job.token);
          if (it == files.end() || it->second.file == nullptr) break;
          File& f = it->second;
          const sf_count_t frames = static_cast<sf_count_t>(job.samples.size() / 2);
          sf_count_t written = 0;
          if (f.mode == RecordingMode::kStereo) {
            written = sf_writef_short(f.file, job.samples.data(), frames);
          } else {
            f.mixed.resize(static_cast<std::size_t>(frames));
            for (sf_count_t i = 0; i < frames; ++i) {
              const int sum = job.samples[static_cast<std::size_t>(2 * i)] +
                              job.samples[static_cast<std::size_t>(2 * i + 1)];
              f.mixed[static_cast<std::size_t>(i)] =
                  static_cast<std::int16_t>(std::clamp(sum, -32768, 32767));
            }
            written = sf_writef_short(f.file, f.mixed.data(), frames);
          }
          if (written != frames) {
            f.result.ok = false;
            f.result.error = sf_strerror(f.file);
            sf_close(f.file);
            f.file = nullptr;
          }
          f.result.frames += static_cast<std::uint64_t>(std::max<sf_count_t>(0, written));
          break;
        }
        case Job::Kind::kClose: {
          auto it = files.find(job.token);
          if (it == files.end()) break;
          finish(it->second);
          files.erase(it);
          break;
        }
        case Job::Kind::kStop:
          for (auto& [token, f] : files) finish(f);
          return;
      }
    }
  }
}

}  // namespace acd::media
