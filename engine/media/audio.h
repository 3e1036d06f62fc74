// Audio the engine plays (music on hold, prompts): files of any format libsndfile reads
// (WAV, FLAC, Ogg/Vorbis, AIFF, ...), at any rate and channel count, converted once at
// load to what telephony carries: 8 kHz mono 16-bit linear PCM (channels averaged,
// resampled with libsamplerate's band-limited sinc converter), then pre-encoded as G.711
// so playback costs a copy per frame. Thread-safety: loading is reentrant; a loaded
// MohClass is immutable and shared between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/media/g711.h"

namespace acd::media {

inline constexpr int kSampleRate = 8000;
inline constexpr std::size_t kFrameSamples = 160;  // 20 ms at 8 kHz: one packet, one tick
// The longest audio one file or one class may hold (a memory bound against a wrong file).
inline constexpr std::size_t kMaxAudioSamples = std::size_t{kSampleRate} * 60 * 60;

// The file as 8 kHz mono PCM; nullopt with *error ("<path>: <why>") when it cannot be
// read, holds no audio, or is longer than kMaxAudioSamples.
std::optional<std::vector<std::int16_t>> load_audio_8k(const std::string& path, std::string* error);

// The audio files a configured path names: the file itself, or the regular files of a
// directory in name order. Empty with *error when the path does not exist.
std::vector<std::string> audio_files(const std::string& path, std::string* error);

// Audio ready to send: whole 20 ms frames in both G.711 laws (the last frame padded with
// silence).
class EncodedAudio {
 public:
  explicit EncodedAudio(std::span<const std::int16_t> pcm);
  [[nodiscard]] std::size_t frames() const { return ulaw_.size() / kFrameSamples; }
  [[nodiscard]] std::span<const std::uint8_t> frame(G711 law, std::size_t index) const;

 private:
  std::vector<std::uint8_t> ulaw_;
  std::vector<std::uint8_t> alaw_;
};

// A music-on-hold class: audio looped for waiting callers. kShared: every listener hears
// one stream that runs on whether anyone listens (like a radio; cheap, and callers moved
// between queues do not restart the tune); kFromStart: each listener starts at the top.
enum class MohMode : std::uint8_t { kShared, kFromStart };
const char* to_string(MohMode mode);  // "shared", "from-start"

struct MohClass {
  std::string name;
  MohMode mode = MohMode::kShared;
  std::shared_ptr<const EncodedAudio> audio;  // at least one frame
};

// A tone of `hz` for `duration_ms` at -10 dBov (the voicemail beep: 1000 Hz, 250 ms).
std::shared_ptr<const EncodedAudio> make_tone(int hz, int duration_ms);

// Loads every file of `paths` (files or directories) into one class, in order.
std::optional<MohClass> load_moh_class(const std::string& name, MohMode mode,
                                       const std::vector<std::string>& paths, std::string* error);

}  // namespace acd::media
