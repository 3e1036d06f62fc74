// "Did you mean ...?" suggestions for unknown names in rules. engine/rules cannot depend on
// engine/app (where the configuration's helper lives), so it has this small one of its own.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acd::rules {

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions each cost 1. Case-sensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is a plausible typo: at most a third of the
// word's length (at least 1, at most 3) edits away. Ties go to the earliest candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace acd::rules
