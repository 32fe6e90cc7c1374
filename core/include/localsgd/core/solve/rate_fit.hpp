// The empirical convergence rate of a run: f(x̂_T) - f* ≈ C·T^s fitted by least squares on
// (log T, log(f - f*)). Theorem 2.2 gives s = -1 at large T (the O(1/(K·T·b)) term); a
// fit over the early, step-size-limited descent would mix in faster or slower phases, so
// the fit uses the tail of the run (the evaluations at T >= T_last / kRateTailFactor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace localsgd::core {

inline constexpr double kRateTailFactor = 8;  // the last three octaves of T

struct RateFit {
  double slope = 0;     // s
  double constant = 0;  // C
  std::size_t points = 0;
  std::int64_t from_step = 0, to_step = 0;  // the evaluations fitted
};

// Fits over the pairs with steps[i] >= steps.back() / kRateTailFactor and gaps[i] > 0;
// nothing when fewer than 3 pairs qualify or their steps are all equal. `steps` must be
// increasing.
std::optional<RateFit> fit_rate(std::span<const std::int64_t> steps, std::span<const double> gaps);

}  // namespace localsgd::core
