// The paper's theoretical speedup (Stich 2019, Theorem 2.2): the number of steps after
// which the bound
//   E f(x̂_T) - f* <= mu a^3 / (2 S_T) |x_0 - x*|^2 + 4 T (T + 2a) / (mu S_T) sigma^2 / (b K)
//                     + 256 T / (mu^2 S_T) G^2 H^2 L,
// with a = max(16 kappa, H) and S_T = sum_{t<T} (a+t)^2, drops below eps.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

struct TheoryConstants {
  double L = 0, mu = 0;
  double sigma2 = 0;     // gradient variance at x*: (1/n) sum_i |grad f_i(x*)|^2
  double G2 = 0;         // largest mean squared stochastic gradient seen along a run
  double distance2 = 0;  // |x_0 - x*|^2
};

// Smallest T whose bound is <= eps (the bound decreases in T), or -1 beyond 2^62.
std::int64_t theoretical_steps(const TheoryConstants& c, std::int64_t K, std::int64_t H,
                               std::int64_t b, double eps);

// (1/n) sum_i |grad f_i(x)|^2, each f_i with its regulariser, as the bound's sigma^2 and
// G^2 are defined.
double mean_squared_gradient(const Objective& objective, const DataView& data,
                             std::span<const double> x);

}  // namespace localsgd::core
