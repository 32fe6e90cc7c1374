// Finite-difference check of an objective's gradient, for plugin authors' tests.
//
//   double err = localsgd::gradient_check(objective, data, rows, x);
//   EXPECT_LT(err, 1e-6);
//
// Central differences with a step scaled to each coordinate; the result is the largest
// |analytic - numeric| / max(1, |numeric|) over all coordinates.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "localsgd/objective.hpp"

namespace localsgd {

inline double gradient_check(const Objective& objective, const DataView& data,
                             std::span<const std::int64_t> rows, std::span<const double> x,
                             double relative_step = 1e-6) {
  const std::size_t d = x.size();
  std::vector<double> analytic(d), scratch(d), probe(x.begin(), x.end());
  objective.loss_and_gradient(data, rows, x, analytic);
  double worst = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    const double h = relative_step * std::max(1.0, std::abs(x[j]));
    probe[j] = x[j] + h;
    const double up = objective.loss_and_gradient(data, rows, probe, scratch);
    probe[j] = x[j] - h;
    const double down = objective.loss_and_gradient(data, rows, probe, scratch);
    probe[j] = x[j];
    const double numeric = (up - down) / (2.0 * h);
    worst = std::max(worst, std::abs(analytic[j] - numeric) / std::max(1.0, std::abs(numeric)));
  }
  return worst;
}

}  // namespace localsgd
