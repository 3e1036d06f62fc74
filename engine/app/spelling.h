// "Did you mean ...?" for configuration typos: the closest candidate by edit distance.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acd::app {

// Edit distance (insertions, deletions, substitutions, adjacent transpositions),
// case-sensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo (about a
// third of the word's length, at least 1 and at most 3, edits away).
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace acd::app
