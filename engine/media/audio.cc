#include "engine/media/audio.h"

#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

namespace acd::media {
namespace {

std::string fail(const std::string& path, const std::string& why, std::string* error) {
  if (error) *error = path + ": " + why;
  return {};
}

}  // namespace

const char* to_string(MohMode mode) {
  return mode == MohMode::kShared ? "shared" : "from-start";
}

std::optional<std::vector<std::int16_t>> load_audio_8k(const std::string& path,
                                                       std::string* error) {
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  if (file == nullptr) {
    fail(path, sf_strerror(nullptr), error);
    return std::nullopt;
  }
  struct Closer {
    SNDFILE* f;
    ~Closer() { sf_close(f); }
  } closer{file};
  if (info.channels < 1 || info.samplerate < 1000 || info.samplerate > 384000) {
    fail(path, "unsupported channels/sample rate", error);
    return std::nullopt;
  }
  const double ratio = static_cast<double>(kSampleRate) / info.samplerate;
  if (info.frames <= 0) {
    fail(path, "no audio", error);
    return std::nullopt;
  }
  if (static_cast<double>(info.frames) * ratio > static_cast<double>(kMaxAudioSamples)) {
    fail(path, "longer than one hour", error);
    return std::nullopt;
  }
  // Read and mix down to mono, a block at a time.
  std::vector<float> mono;
  mono.reserve(static_cast<std::size_t>(info.frames));
  std::vector<float> block(4096 * static_cast<std::size_t>(info.channels));
  for (;;) {
    const sf_count_t got = sf_readf_float(file, block.data(), 4096);
    if (got <= 0) break;
    for (sf_count_t i = 0; i < got; ++i) {
      float sum = 0;
      for (int c = 0; c < info.channels; ++c)
        sum += block[static_cast<std::size_t>(i * info.channels + c)];
      mono.push_back(sum / static_cast<float>(info.channels));
    }
  }
  if (mono.empty()) {
    fail(path, "no audio could be read", error);
    return std::nullopt;
  }
  std::vector<float> resampled;
  if (info.samplerate == kSampleRate) {
    resampled = std::move(mono);
  } else {
    resampled.resize(static_cast<std::size_t>(static_cast<double>(mono.size()) * ratio) + 16);
    SRC_DATA data{};
    data.data_in = mono.data();
    data.input_frames = static_cast<long>(mono.size());
    data.data_out = resampled.data();
    data.output_frames = static_cast<long>(resampled.size());
    data.src_ratio = ratio;
    if (const int rc = src_simple(&data, SRC_SINC_MEDIUM_QUALITY, 1); rc != 0) {
      fail(path, std::string("resampling: ") + src_strerror(rc), error);
      return std::nullopt;
    }
    resampled.resize(static_cast<std::size_t>(data.output_frames_gen));
  }
  std::vector<std::int16_t> pcm(resampled.size());
  src_float_to_short_array(resampled.data(), pcm.data(), static_cast<int>(resampled.size()));
  if (pcm.empty()) {
    fail(path, "too short", error);
    return std::nullopt;
  }
  return pcm;
}

std::vector<std::string> audio_files(const std::string& path, std::string* error) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    fail(path, "no such file or directory", error);
    return {};
  }
  if (!std::filesystem::is_directory(status)) return {path};
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.is_regular_file(ec)) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) fail(path, "directory holds no files", error);
  return files;
}

EncodedAudio::EncodedAudio(std::span<const std::int16_t> pcm) {
  const std::size_t frames =
      std::max<std::size_t>(1, (pcm.size() + kFrameSamples - 1) / kFrameSamples);
  std::vector<std::int16_t> padded(frames * kFrameSamples, 0);
  std::copy(pcm.begin(), pcm.end(), padded.begin());
  ulaw_.resize(padded.size());
  alaw_.resize(padded.size());
  encode(G711::kUlaw, padded, ulaw_);
  encode(G711::kAlaw, padded, alaw_);
}

std::span<const std::uint8_t> EncodedAudio::frame(G711 law, std::size_t index) const {
  const auto& bytes = law == G711::kUlaw ? ulaw_ : alaw_;
  return std::span<const std::uint8_t>(bytes).subspan((index % frames()) * kFrameSamples,
                                                      kFrameSamples);
}

std::shared_ptr<const EncodedAudio> make_tone(int hz, int duration_ms) {
  std::vector<std::int16_t> pcm(
      static_cast<std::size_t>(kSampleRate / 1000 * std::max(duration_ms, 1)));
  for (std::size_t i = 0; i < pcm.size(); ++i)
    pcm[i] = static_cast<std::int16_t>(
        10362.0 * std::sin(2.0 * M_PI * hz * static_cast<double>(i) / kSampleRate));
  return std::make_shared<const EncodedAudio>(pcm);
}

std::optional<MohClass> load_moh_class(const std::string& name, MohMode mode,
                                       const std::vector<std::string>& paths, std::string* error) {
  std::vector<std::int16_t> pcm;
  for (const auto& path : paths) {
    const auto files = audio_files(path, error);
    if (files.empty()) return std::nullopt;
    for (const auto& file : files) {
      auto samples = load_audio_8k(file, error);
      if (!samples) return std::nullopt;
      if (pcm.size() + samples->size() > kMaxAudioSamples) {
        fail(file, "the class would be longer than one hour", error);
        return std::nullopt;
      }
      pcm.insert(pcm.end(), samples->begin(), samples->end());
    }
  }
  if (pcm.empty()) {
    if (error) *error = "music-on-hold class '" + name + "' names no audio";
    return std::nullopt;
  }
  MohClass moh;
  moh.name = name;
  moh.mode = mode;
  moh.audio = std::make_shared<const EncodedAudio>(pcm);
  return moh;
}

}  // namespace acd::media
