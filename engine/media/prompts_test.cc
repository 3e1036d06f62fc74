#include "engine/media/prompts.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

namespace acd::media {
namespace {

// A set whose every prompt is a distinct one-frame clip, and the names of what was said.
struct NamedSet {
  PromptSet set;
  std::map<const EncodedAudio*, std::string> names;
  explicit NamedSet(const std::string& language, std::vector<std::string> prompts) {
    set.language = language;
    for (const auto& p : prompts) {
      auto clip = std::make_shared<const EncodedAudio>(std::vector<std::int16_t>(160, 1));
      names[clip.get()] = p;
      set.clips[p] = clip;
    }
  }
  std::string say(int n) const {
    std::string out;
    for (const auto& clip : say_number(set, n))
      out += (out.empty() ? "" : " ") + names.at(clip.get());
    return out;
  }
};

std::vector<std::string> english_prompts() {
  std::vector<std::string> p = {"digits/hundred", "digits/thousand", "digits/and"};
  for (int i = 0; i <= 20; ++i) p.push_back("digits/" + std::to_string(i));
  for (int i = 30; i <= 90; i += 10) p.push_back("digits/" + std::to_string(i));
  return p;
}

std::string strip(std::string s) {
  std::string out;
  for (std::size_t at = 0; at < s.size();) {
    const auto next = s.find("digits/", at);
    if (next == std::string::npos) {
      out += s.substr(at);
      break;
    }
    out += s.substr(at, next - at);
    at = next + 7;
  }
  return out;
}

TEST_CASE("numbers are said in English", "[media][prompts]") {
  NamedSet en("en", english_prompts());
  CHECK(strip(en.say(0)) == "0");
  CHECK(strip(en.say(7)) == "7");
  CHECK(strip(en.say(13)) == "13");
  CHECK(strip(en.say(40)) == "40");
  CHECK(strip(en.say(42)) == "40 2");
  CHECK(strip(en.say(100)) == "1 hundred");
  CHECK(strip(en.say(123)) == "1 hundred and 20 3");
  CHECK(strip(en.say(2005)) == "2 thousand and 5");
  CHECK(strip(en.say(2300)) == "2 thousand 3 hundred");
  CHECK(en.say(-1).empty());
  CHECK(en.say(10000).empty());
}

TEST_CASE("numbers are said in Mandarin Chinese", "[media][prompts]") {
  std::vector<std::string> p = {"digits/hundred", "digits/thousand", "digits/ten"};
  for (int i = 0; i <= 10; ++i) p.push_back("digits/" + std::to_string(i));
  NamedSet zh("zh", p);
  CHECK(strip(zh.say(0)) == "0");
  CHECK(strip(zh.say(10)) == "ten");             // 十
  CHECK(strip(zh.say(15)) == "ten 5");           // 十五
  CHECK(strip(zh.say(20)) == "2 ten");           // 二十
  CHECK(strip(zh.say(105)) == "1 hundred 0 5");  // 一百零五
  CHECK(strip(zh.say(115)) == "1 hundred 1 ten 5");
  CHECK(strip(zh.say(230)) == "2 hundred 3 ten");
  CHECK(strip(zh.say(1005)) == "1 thousand 0 5");  // 一千零五
  CHECK(strip(zh.say(1050)) == "1 thousand 0 5 ten");
}

TEST_CASE("a prompt set is the audio files of a directory", "[media][prompts]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("acd-prompts-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "digits");
  // A minimal WAV: 8 kHz mono 16-bit, 800 samples of silence.
  auto write_wav = [](const std::filesystem::path& path) {
    std::ofstream f(path, std::ios::binary);
    auto u32 = [&](std::uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](std::uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
    f << "RIFF";
    u32(36 + 1600);
    f << "WAVEfmt ";
    u32(16);
    u16(1);
    u16(1);
    u32(8000);
    u32(16000);
    u16(2);
    u16(16);
    f << "data";
    u32(1600);
    f << std::string(1600, '\0');
  };
  write_wav(dir / "welcome.wav");
  write_wav(dir / "digits" / "7.wav");
  std::ofstream(dir / "README") << "not audio";
  std::string error;
  std::vector<std::string> skipped;
  const auto set = load_prompt_set("acme-en", "en", dir.string(), &error, &skipped);
  REQUIRE(set);
  CHECK(set->clips.size() == 2);
  REQUIRE(set->find("welcome"));
  CHECK(set->find("welcome")->frames() == 5);
  CHECK(set->find("digits/7"));
  CHECK_FALSE(set->find("goodbye"));
  CHECK(skipped.size() == 1);
  CHECK_FALSE(load_prompt_set("x", "en", (dir / "none").string(), &error));
  CHECK_THAT(error, Catch::Contains("not a directory"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace acd::media
