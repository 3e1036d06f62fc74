#include "engine/media/prompts.h"

#include <filesystem>
#include <system_error>

namespace acd::media {

Clip PromptSet::find(std::string_view prompt) const {
  auto it = clips.find(prompt);
  return it == clips.end() ? nullptr : it->second;
}

std::optional<PromptSet> load_prompt_set(const std::string& name, const std::string& language,
                                         const std::string& directory, std::string* error,
                                         std::vector<std::string>* skipped) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    if (error) *error = directory + ": not a directory";
    return std::nullopt;
  }
  PromptSet set;
  set.name = name;
  set.language = language;
  auto add = [&](const fs::path& file, const std::string& prompt) {
    std::string why;
    auto pcm = load_audio_8k(file.string(), &why);
    if (!pcm) {
      if (skipped) skipped->push_back(why);
      return;
    }
    set.clips[prompt] = std::make_shared<const EncodedAudio>(*pcm);
  };
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    if (entry.is_regular_file(ec)) {
      add(entry.path(), entry.path().stem().string());
    } else if (entry.is_directory(ec)) {
      for (const auto& inner : fs::directory_iterator(entry.path(), ec))
        if (inner.is_regular_file(ec))
          add(inner.path(), entry.path().filename().string() + "/" + inner.path().stem().string());
    }
  }
  return set;
}

namespace {

void push(const PromptSet& set, std::vector<Clip>& out, const std::string& prompt) {
  if (Clip clip = set.find(prompt)) out.push_back(std::move(clip));
}

void say_english(const PromptSet& set, int n, std::vector<Clip>& out) {
  if (n >= 1000) {
    say_english(set, n / 1000, out);
    push(set, out, "digits/thousand");
    n %= 1000;
    if (n == 0) return;
    if (n < 100) push(set, out, "digits/and");
  }
  if (n >= 100) {
    push(set, out, "digits/" + std::to_string(n / 100));
    push(set, out, "digits/hundred");
    n %= 100;
    if (n == 0) return;
    push(set, out, "digits/and");
  }
  if (n <= 20) {
    push(set, out, "digits/" + std::to_string(n));
  } else {
    push(set, out, "digits/" + std::to_string(n / 10 * 10));
    if (n % 10 != 0) push(set, out, "digits/" + std::to_string(n % 10));
  }
}

// 一千零五, 二百三十, 十五 (ten to nineteen without a leading one).
void say_chinese(const PromptSet& set, int n, std::vector<Clip>& out) {
  if (n == 0) {
    push(set, out, "digits/0");
    return;
  }
  const int thousands = n / 1000, hundreds = n / 100 % 10, tens = n / 10 % 10, ones = n % 10;
  bool zero_pending = false;
  bool said = false;
  auto unit = [&](int digit, const char* name) {
    if (digit == 0) {
      zero_pending = said;
      return;
    }
    if (zero_pending) push(set, out, "digits/0");
    zero_pending = false;
    push(set, out, "digits/" + std::to_string(digit));
    push(set, out, name);
    said = true;
  };
  unit(thousands, "digits/thousand");
  unit(hundreds, "digits/hundred");
  if (tens != 0) {
    if (zero_pending) push(set, out, "digits/0");
    zero_pending = false;
    if (!(tens == 1 && !said)) push(set, out, "digits/" + std::to_string(tens));
    push(set, out, "digits/ten");
    said = true;
  } else {
    zero_pending = said;
  }
  if (ones != 0) {
    if (zero_pending) push(set, out, "digits/0");
    push(set, out, "digits/" + std::to_string(ones));
  }
}

}  // namespace

std::vector<Clip> say_number(const PromptSet& set, int number) {
  std::vector<Clip> out;
  if (number < 0 || number > 9999) return out;
  const bool chinese = set.language.rfind("zh", 0) == 0 || set.language.rfind("cmn", 0) == 0;
  if (chinese) {
    say_chinese(set, number, out);
  } else {
    say_english(set, number, out);
  }
  return out;
}

}  // namespace acd::media
