#include "localsgd/core/solve/rate_fit.hpp"

#include <cmath>

namespace localsgd::core {

std::optional<RateFit> fit_rate(std::span<const std::int64_t> steps, std::span<const double> gaps) {
  if (steps.empty() || steps.size() != gaps.size()) return std::nullopt;
  const double from = static_cast<double>(steps.back()) / kRateTailFactor;
  const auto in_tail = [&](std::size_t i) {
    return steps[i] > 0 && static_cast<double>(steps[i]) >= from && gaps[i] > 0;
  };
  // Centred sums, in two passes, so that T ~ 1e6 loses no digits.
  double n = 0, mean_x = 0, mean_y = 0;
  RateFit fit;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (!in_tail(i)) continue;
    if (n == 0) fit.from_step = steps[i];
    fit.to_step = steps[i];
    n += 1;
    mean_x += std::log(static_cast<double>(steps[i]));
    mean_y += std::log(gaps[i]);
  }
  if (n < 3) return std::nullopt;
  mean_x /= n;
  mean_y /= n;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (!in_tail(i)) continue;
    const double dx = std::log(static_cast<double>(steps[i])) - mean_x;
    sxx += dx * dx;
    sxy += dx * (std::log(gaps[i]) - mean_y);
  }
  if (!(sxx > 0)) return std::nullopt;
  fit.slope = sxy / sxx;
  fit.constant = std::exp(mean_y - fit.slope * mean_x);
  fit.points = static_cast<std::size_t>(n);
  return fit;
}

}  // namespace localsgd::core
