#include "localsgd/core/solve/theory.hpp"

#include <algorithm>
#include <cmath>

namespace localsgd::core {
namespace {

double bound(const TheoryConstants& c, double K, double H, double b, double T) {
  const double a = std::max(16.0 * c.L / c.mu, H);
  // S_T = sum_{t=0}^{T-1} (a+t)^2 in closed form.
  const double S = T * a * a + a * T * (T - 1) + (T - 1) * T * (2 * T - 1) / 6.0;
  return c.mu * a * a * a / (2 * S) * c.distance2 +
         4 * T * (T + 2 * a) / (c.mu * S) * c.sigma2 / (b * K) +
         256 * T / (c.mu * c.mu * S) * c.G2 * H * H * c.L;
}

}  // namespace

std::int64_t theoretical_steps(const TheoryConstants& c, std::int64_t K, std::int64_t H,
                               std::int64_t b, double eps) {
  const auto at = [&](std::int64_t T) {
    return bound(c, static_cast<double>(K), static_cast<double>(H), static_cast<double>(b),
                 static_cast<double>(T));
  };
  std::int64_t high = 1;
  while (at(high) > eps) {
    if (high > (std::int64_t{1} << 61)) return -1;
    high *= 2;
  }
  std::int64_t low = high / 2;  // at(low) > eps, or low = 0
  while (high - low > 1) {
    const std::int64_t mid = low + (high - low) / 2;
    (at(mid) > eps ? low : high) = mid;
  }
  return high;
}

double mean_squared_gradient(const Objective& objective, const DataView& data,
                             std::span<const double> x) {
  std::vector<double> g(x.size());
  double total = 0;
  for (std::int64_t i = 0; i < data.rows(); ++i) {
    const std::int64_t row[] = {i};
    objective.loss_and_gradient(data, row, x, g);
    for (double v : g) total += v * v;
  }
  return total / static_cast<double>(data.rows());
}

}  // namespace localsgd::core
