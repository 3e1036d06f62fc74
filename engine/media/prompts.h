// Prompt sets: the recorded phrases a tenant's callers hear (menus, announcements),
// one directory per set and language. Every audio file of the directory, and of its
// sub-directories one level down, is a prompt named by its path without extension:
// "welcome.wav" is "welcome", "digits/7.wav" is "digits/7". Loaded once (at start and
// on reload) and shared read-only with the media thread. Thread-safety: immutable.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/media/media_engine.h"

namespace acd::media {

struct PromptSet {
  std::string name;
  std::string language;
  std::map<std::string, Clip, std::less<>> clips;

  // The prompt, or null when the set has none of that name.
  [[nodiscard]] Clip find(std::string_view prompt) const;
};

// Loads the set; files that are not audio are skipped and named in *skipped. nullopt with
// *error when the directory cannot be read.
std::optional<PromptSet> load_prompt_set(const std::string& name, const std::string& language,
                                         const std::string& directory, std::string* error,
                                         std::vector<std::string>* skipped = nullptr);

// The clips that say a number the usual way of `language` ("en": "one hundred and
// twenty three"; "zh"/"cmn": 一百二十三), from prompts named "digits/<n>" (0-20, 30, 40,
// ... 90 in English; 0-10 in Chinese), "digits/hundred", "digits/thousand" and
// "digits/and" (English) or "digits/hundred", "digits/thousand", "digits/ten" (Chinese:
// 百, 千, 十). Missing prompts are left out. Numbers from 0 to 9999.
std::vector<Clip> say_number(const PromptSet& set, int number);

}  // namespace acd::media
