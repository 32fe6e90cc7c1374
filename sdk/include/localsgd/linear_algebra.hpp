// Helpers shared by generalised-linear (MarginObjective) plugins: the curvature constants
// of f(x) = (1/n) sum_i phi(a~_i . x, y_i) + (lambda/2)|w|^2 and binary labels.
//
// Writing a~ = a or (a, 1) when the model has an intercept, the Hessian of f is
//   (1/n) A~^T D A~ + lambda diag(1, ..., 1, 0 for the intercept),   D = diag(phi''(z_i)).
// If phi'' <= c everywhere, then
//   L     = c * lambda_max(A~^T A~ / n) + lambda      (gram_top_eigenvalue)
//   L_max = c * max_i |a~_i|^2 + lambda               (max_row_norm2, + 1 for the intercept)
// and mu = lambda when there is no intercept (an unregularised intercept makes f flat
// along it, so mu is unknown). margin_curvature() puts these together.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "localsgd/data.hpp"
#include "localsgd/errors.hpp"
#include "localsgd/objective.hpp"

namespace localsgd {

// Largest eigenvalue of (1/n) A~^T A~, A~ = A or [A 1] (a column of ones appended) when
// `with_intercept`, by power iteration from the all-ones vector. Each iteration is one
// pass over the data. The Rayleigh quotient rises monotonically towards the eigenvalue;
// iteration stops when its change, and the remaining rise extrapolated from the geometric
// rate of the last two changes, are both below kGramTolerance relative: stopping on the
// change alone stops early (and reports too small an L) when the top two eigenvalues are
// close. The estimate is a step size's constant (eta0 = 1/(2L)), so a few digits are
// enough: 1e-4 takes tens of passes where 1e-10 took up to the cap on data whose top
// eigenvalues crowd together (74 s on 2e5 x 1e6). At the cap of kGramMaxPasses the
// quotient's remaining rise is of the order of 1/kGramMaxPasses of the spectrum's spread
// near the top, well inside the factor 2 of eta0 = 1/(2L). The result is the quotient
// raised by the tolerance, so that it bounds the eigenvalue from above when the
// extrapolation holds: L is a smoothness constant, and too small a one is the unsafe side.
inline constexpr double kGramTolerance = 1e-4;
inline constexpr int kGramMaxPasses = 100;

inline double gram_top_eigenvalue(const DataView& data, bool with_intercept) {
  if (data.rows() == 0) return 0.0;
  const auto cols = static_cast<std::size_t>(data.cols);
  const std::size_t d = cols + (with_intercept ? 1 : 0);
  if (d == 0) return 0.0;
  const auto n = static_cast<double>(data.rows());
  std::vector<double> v(d, 1.0 / std::sqrt(static_cast<double>(d))), w(d);
  double estimate = 0.0, last_change = 0.0;
  for (int iteration = 0; iteration < kGramMaxPasses; ++iteration) {
    std::fill(w.begin(), w.end(), 0.0);
    for (std::int64_t i = 0; i < data.rows(); ++i) {
      const SparseRow row = data.row(i);
      const double av = row.dot(v.data()) + (with_intercept ? v[cols] : 0.0);
      for (std::int64_t j = 0; j < row.size; ++j) w[row.index[j]] += av * row.value[j];
      if (with_intercept) w[cols] += av;
    }
    double rayleigh = 0.0, norm2 = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      rayleigh += v[j] * w[j];
      norm2 += w[j] * w[j];
    }
    rayleigh /= n;
    const double norm = std::sqrt(norm2);
    if (norm == 0.0) return 0.0;
    for (std::size_t j = 0; j < d; ++j) v[j] = w[j] / norm;
    const double change = std::abs(rayleigh - estimate);
    estimate = rayleigh;
    if (iteration > 0 && change <= kGramTolerance * rayleigh) {
      // A rate >= 1 means the changes no longer shrink: round-off noise, converged.
      const double rate = last_change > 0 ? change / last_change : 0.0;
      if (rate >= 1.0 || change * rate / (1.0 - rate) <= kGramTolerance * rayleigh) break;
    }
    last_change = change;
  }
  return estimate * (1.0 + kGramTolerance);
}

// max_i |a_i|^2 over the stored features (no intercept term).
inline double max_row_norm2(const DataView& data) {
  double best = 0.0;
  for (std::int64_t i = 0; i < data.rows(); ++i) {
    const SparseRow row = data.row(i);
    double norm2 = 0.0;
    for (std::int64_t j = 0; j < row.size; ++j) norm2 += row.value[j] * row.value[j];
    best = std::max(best, norm2);
  }
  return best;
}

// Binary classifiers accept labels -1/+1 or 0/1 (0 read as -1), never both 0 and -1.
// Throws DataError naming `objective` and the first offending row (1-based).
inline void check_binary_labels(const DataView& data, const char* objective) {
  bool has_zero = false, has_minus_one = false;
  for (std::size_t i = 0; i < data.label.size(); ++i) {
    const double y = data.label[i];
    has_zero = has_zero || y == 0.0;
    has_minus_one = has_minus_one || y == -1.0;
    if (y != 1.0 && y != -1.0 && y != 0.0)
      throw DataError("", 0, 0,
                      std::string(objective) + " needs binary labels (-1/+1 or 0/1); data row " +
                          std::to_string(i + 1) + " has label " + format_number(y) +
                          " (use a multiclass objective such as softmax)");
  }
  if (has_zero && has_minus_one)
    throw DataError("", 0, 0, std::string(objective) + " labels mix 0 and -1; use -1/+1 or 0/1");
}

// A binary label as -1 or +1, reading 0 (which check_binary_labels admits) as -1.
inline double signed_label(double y) {
  return y > 0 ? 1.0 : -1.0;
}

// The constants of the header comment for a convex margin objective with phi'' <= max_phi2.
// `gram_top` is gram_top_eigenvalue(data, intercept), `row_norm2` is max_row_norm2(data).
inline Curvature margin_curvature(double gram_top, double row_norm2, double max_phi2, double lambda,
                                  bool intercept) {
  Curvature c;
  c.L = max_phi2 * gram_top + lambda;
  c.L_max = max_phi2 * (row_norm2 + (intercept ? 1.0 : 0.0)) + lambda;
  c.mu = !intercept && lambda > 0 ? lambda : kUnknown;
  c.convex = true;
  return c;
}

}  // namespace localsgd
