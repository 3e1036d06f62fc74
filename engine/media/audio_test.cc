#include "engine/media/audio.h"

#include <sndfile.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace acd::media {
namespace {

// A scratch directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("acd-audio-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Writes a sine of `hz` (left) and silence (right) at `rate`, `seconds` long.
std::string write_tone(const std::filesystem::path& path, int rate, int channels, double hz,
                       double seconds, int format = SF_FORMAT_WAV | SF_FORMAT_PCM_16) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  REQUIRE(f != nullptr);
  const auto frames = static_cast<std::size_t>(rate * seconds);
  std::vector<float> samples(frames * static_cast<std::size_t>(channels), 0.0F);
  for (std::size_t i = 0; i < frames; ++i)
    samples[i * static_cast<std::size_t>(channels)] =
        static_cast<float>(0.5 * std::sin(2 * M_PI * hz * static_cast<double>(i) / rate));
  sf_writef_float(f, samples.data(), static_cast<sf_count_t>(frames));
  sf_close(f);
  return path.string();
}

// Positive-going zero crossings: the frequency of a clean tone over one second.
int rising_crossings(const std::vector<std::int16_t>& pcm) {
  int n = 0;
  for (std::size_t i = 1; i < pcm.size(); ++i)
    if (pcm[i - 1] < 0 && pcm[i] >= 0) ++n;
  return n;
}

TEST_CASE("a CD-quality stereo file becomes 8 kHz mono with its pitch kept", "[media][audio]") {
  TempDir dir;
  const auto file = write_tone(dir.path / "tone.wav", 44100, 2, 440.0, 1.0);
  std::string error;
  const auto pcm = load_audio_8k(file, &error);
  REQUIRE(pcm);
  CHECK(error.empty());
  CHECK(pcm->size() >= 7990);
  CHECK(pcm->size() <= 8010);
  CHECK(std::abs(rising_crossings(*pcm) - 440) <= 2);
  // Left at 0.5 and right silent average to a quarter of full scale.
  const auto peak = *std::max_element(pcm->begin(), pcm->end());
  CHECK(peak > 7500);
  CHECK(peak < 8900);
}

TEST_CASE("audio above 4 kHz is filtered out, not folded back", "[media][audio]") {
  TempDir dir;
  const auto file =
      write_tone(dir.path / "high.flac", 48000, 1, 6000.0, 1.0, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const auto pcm = load_audio_8k(file, nullptr);
  REQUIRE(pcm);
  double energy = 0;
  for (std::size_t i = 1000; i < pcm->size() - 1000; ++i) energy += std::abs((*pcm)[i]);
  CHECK(energy / static_cast<double>(pcm->size() - 2000) < 200.0);  // a 2 kHz alias would be ~10000
}

TEST_CASE("unreadable files are named in the error", "[media][audio]") {
  TempDir dir;
  std::string error;
  CHECK_FALSE(load_audio_8k((dir.path / "missing.wav").string(), &error));
  CHECK_THAT(error, Catch::Contains("missing.wav"));
  const auto junk = dir.path / "junk.wav";
  std::ofstream(junk) << "this is not audio at all, just text pretending to be a file";
  CHECK_FALSE(load_audio_8k(junk.string(), &error));
  CHECK_THAT(error, Catch::StartsWith(junk.string()));
  CHECK(audio_files((dir.path / "nothing").string(), &error).empty());
  CHECK_THAT(error, Catch::Contains("no such file"));
}

TEST_CASE("a class is the files of a directory in name order, looped by frame", "[media][audio]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path / "moh");
  write_tone(dir.path / "moh" / "b.wav", 8000, 1, 300.0, 0.5);
  write_tone(dir.path / "moh" / "a.wav", 16000, 1, 600.0, 0.25);
  std::string error;
  const auto moh =
      load_moh_class("default", MohMode::kShared, {(dir.path / "moh").string()}, &error);
  REQUIRE(moh);
  CHECK(moh->name == "default");
  CHECK(moh->audio->frames() == (2000 + 4000 + kFrameSamples - 1) / kFrameSamples);
  // Frames wrap around.
  const auto first = moh->audio->frame(G711::kUlaw, 0);
  const auto again = moh->audio->frame(G711::kUlaw, moh->audio->frames());
  CHECK(std::equal(first.begin(), first.end(), again.begin()));
  CHECK(first.size() == kFrameSamples);
  // a.wav (600 Hz) comes first: about 12 rising crossings in its first 20 ms.
  std::vector<std::int16_t> pcm(kFrameSamples);
  decode(G711::kUlaw, first, pcm);
  CHECK(std::abs(rising_crossings(pcm) - 12) <= 1);

  CHECK_FALSE(load_moh_class("empty", MohMode::kShared, {(dir.path / "none").string()}, &error));
  CHECK_THAT(error, Catch::Contains("none"));
}

}  // namespace
}  // namespace acd::media
