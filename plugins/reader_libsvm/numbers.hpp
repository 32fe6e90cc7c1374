// Number parsing for the libsvm reader: a fast path for the plain decimals that real
// files are made of, and the exact fallbacks it defers to.
//
// Most values in libsvm files are short decimals ("1", "-0.5", "0.034567"). For those,
// parse_decimal() reads the digits into an integer m and returns m / 10^k. When m < 2^53
// and k <= 22 both operands are exact doubles and IEEE division rounds correctly, so the
// result is bit-identical to std::from_chars (Clinger's fast path) at a fraction of the
// cost. Anything else (exponents, 20+ digits, "inf", junk) makes it give up, and the
// caller falls back to parse_real (localsgd/readers/numbers.hpp), which decides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include <localsgd/readers/numbers.hpp>

namespace localsgd::libsvm {

using readers::is_digit;
using readers::parse_real;
using readers::parse_whole_real;

inline constexpr std::int64_t kMaxIndex = std::numeric_limits<std::int32_t>::max();

// "[+-]digits[.digits]" (either digit run may be empty, not both) with at most 19
// digits, m <= 2^53 and at most 22 after the point. Returns the end of the number, or
// nullptr when the text is not of that form (the caller then tries std::from_chars).
// It does not look at what follows the number: the caller checks that it ends a token.
inline const char* parse_decimal(const char* p, double& out) {
  const bool negative = *p == '-';
  if (*p == '-' || *p == '+') ++p;
  const char* const digits_begin = p;
  std::uint64_t m = 0;
  while (is_digit(*p)) m = m * 10 + static_cast<unsigned>(*p++ - '0');
  const auto integer_digits = p - digits_begin;
  std::ptrdiff_t fraction_digits = 0;
  if (*p == '.') {
    const char* const fraction_begin = ++p;
    while (is_digit(*p)) m = m * 10 + static_cast<unsigned>(*p++ - '0');
    fraction_digits = p - fraction_begin;
  }
  const auto digits = integer_digits + fraction_digits;
  // m wraps beyond 19 digits, so the digit count is checked before m.
  if (digits == 0 || digits > 19 || m > (std::uint64_t{1} << 53) || fraction_digits > 22) {
    return nullptr;
  }
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const double value = static_cast<double>(m) / kPow10[fraction_digits];
  out = negative ? -value : value;
  return p;
}

// A feature index: 1 to 10 digits, at most kMaxIndex, followed by ':'. Returns the
// position of the ':' or nullptr (signs, leading "+", overflow and the rest are the slow
// path's to name).
inline const char* parse_index(const char* p, std::int64_t& out) {
  const char* const begin = p;
  std::uint64_t v = 0;
  while (is_digit(*p)) v = v * 10 + static_cast<unsigned>(*p++ - '0');
  const auto digits = p - begin;
  if (digits == 0 || digits > 10 || v > static_cast<std::uint64_t>(kMaxIndex) || *p != ':') {
    return nullptr;
  }
  out = static_cast<std::int64_t>(v);
  return p;
}

}  // namespace localsgd::libsvm
