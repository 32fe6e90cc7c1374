// "Did you mean ...?" for a misspelled command, option or plugin name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace localsgd::core {

// The candidate closest to `word` in edit distance (Levenshtein: insertions, deletions,
// substitutions, and swaps of two neighbours count one each), if it is close enough to be
// a plausible typo: at most 1 edit for words of up to 4 characters, 2 up to 8, else 3.
// Ties go to the first candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace localsgd::core
