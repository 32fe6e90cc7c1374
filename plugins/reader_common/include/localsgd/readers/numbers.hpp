// Reading a real as text readers need it: std::from_chars, plus a leading '+' and
// underflow to zero as strtod (and so LIBSVM and scikit-learn) read them. Readers with a
// fast path of their own (the libsvm reader's parse_decimal) fall back to these.
#pragma once

#include <charconv>
#include <cstddef>
#include <string_view>
#include <system_error>

namespace localsgd::readers {

inline bool is_digit(char c) {
  return static_cast<unsigned char>(c - '0') < 10;
}

// std::from_chars plus the leading '+' that svmlight labels may have ("+1") and that
// from_chars rejects; skipped only before a digit or '.', so "+-1" stays an error.
// Reads first[1] when *first is '+': the text must be followed by a sentinel or a
// terminator when it may end in '+'.
inline std::from_chars_result parse_real(const char* first, const char* last, double& out) {
  if (*first == '+' && (is_digit(first[1]) || first[1] == '.')) ++first;
  return std::from_chars(first, last, out);
}

// Parses all of [first, last) as a real, for the slow paths. std::from_chars reports
// underflow ("1e-400") as out of range, like overflow; strtod reads it as zero, so it is
// zero here too. Returns invalid_argument when the text is empty or not entirely a
// number, result_out_of_range on overflow.
inline std::errc parse_whole_real(const char* first, const char* last, double& out) {
  if (first == last) return std::errc::invalid_argument;
  const auto [next, ec] = parse_real(first, last, out);
  if (next != last || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return std::errc::invalid_argument;
  }
  if (ec == std::errc::result_out_of_range) {
    const std::string_view number(first, static_cast<std::size_t>(last - first));
    const std::size_t e = number.find_first_of("eE");
    if (e == std::string_view::npos || e + 1 >= number.size() || number[e + 1] != '-') return ec;
    out = number.front() == '-' ? -0.0 : 0.0;
  }
  return std::errc();
}

}  // namespace localsgd::readers
