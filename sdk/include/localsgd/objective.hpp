// Objective plugins: what the engine minimises.
//
//   f(x) = (1/n) sum_i f_i(x)   (+ regulariser), over the rows i of a DataView.
//
// Every method is const and must be thread-safe: all workers share one objective.
//
// Two ways to implement one:
//  * MarginObjective -- generalised-linear models, f_i(x) = phi(a_i . x, y_i) + (lambda/2)|x|^2.
//    You write phi and its derivative in the margin z = a_i . x; the engine then runs
//    sparse O(nnz) steps with the L2 term applied lazily. Logistic, least squares and
//    hinge variants belong here.
//  * Objective -- anything else (softmax, neural nets): implement loss_and_gradient on
//    a batch of rows; the engine takes dense steps.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "localsgd/abi.hpp"
#include "localsgd/data.hpp"
#include "localsgd/params.hpp"

namespace localsgd {

inline constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// Constants of the problem, reported where the objective knows them (NaN = unknown).
// The `paper` step size needs mu and L; it is refused when either is unknown.
struct Curvature {
  double L = kUnknown;      // smoothness of f itself (e.g. spectral bound)
  double L_max = kUnknown;  // max smoothness of a single f_i
  double mu = kUnknown;     // strong convexity of f
  bool convex = false;      // declares f convex (solvers refuse non-convex objectives)
};

class MarginObjective;

// |x|^2, summed in order: the L2 term of the regularised objectives, one function so that
// every objective (and MarginObjective::squared_norm) adds it up the same way.
inline double squared_norm(std::span<const double> x) {
  double s = 0.0;
  for (double v : x) s += v * v;
  return s;
}

class LOCALSGD_API Objective {
 public:
  virtual ~Objective() = default;

  // Number of model parameters.
  virtual std::int64_t dimension() const = 0;

  virtual Curvature curvature() const = 0;

  // mu alone (kUnknown if unknown). Rules that need only mu (invtime with a given eta0)
  // ask this instead of curvature(), whose L may cost many passes over the data; override
  // it when mu is known without them (e.g. lambda for an L2-regularised model).
  virtual double strong_convexity() const { return curvature().mu; }

  // The starting point x_0, identical on all workers. Zeros unless overridden (a model
  // whose zero point is a saddle, like an MLP, draws a seeded random point instead).
  virtual void initial_point(std::uint64_t seed, std::span<double> x) const {
    (void)seed;
    for (double& v : x) v = 0.0;
  }

  // Mean loss over `rows` (regulariser included) at x; writes the mean gradient into
  // `gradient` (size dimension()), overwriting it.
  virtual double loss_and_gradient(const DataView& data, std::span<const std::int64_t> rows,
                                   std::span<const double> x, std::span<double> gradient) const = 0;

  // f(x) over all rows of `data`.
  virtual double value(const DataView& data, std::span<const double> x) const = 0;

  // Non-null when the objective is generalised-linear; the engine then uses the sparse path.
  virtual const MarginObjective* as_margin() const { return nullptr; }

  // What predict() returns, which decides how eval scores a model.
  enum class Prediction : std::uint32_t {
    probability,  // P(y = +1) of a binary classifier: +1 above 1/2, -1 at or below
    label,        // a class label, compared with the row's label: accuracy
    value,        // a real value: RMSE
    sign,         // a binary decision +1 / -1: accuracy against labels +-1 or 0/1
  };
  virtual Prediction prediction_kind() const = 0;
  virtual double predict(const SparseRow& row, std::span<const double> x) const = 0;

  // The parameters as resolved at construction, defaults filled in (e.g. lambda = 1/n of
  // the training data, the class labels of a multiclass model). Model files record them,
  // so eval and predict rebuild the same objective on other data.
  virtual ParamMap resolved_params() const { return {}; }

  // Optional exact Hessian-vector product over all rows of `data` at x, for the exact
  // solver (Newton-CG). Return false when not provided; the solver then uses L-BFGS.
  virtual bool hessian_vector_product(const DataView& data, std::span<const double> x,
                                      std::span<const double> v, std::span<double> out) const {
    (void)data, (void)x, (void)v, (void)out;
    return false;
  }
};

// f(x) = (1/n) sum_i phi(a_i . w + beta, y_i) + (lambda/2)|w|^2, where x = (w, beta): the
// weights w (one per column), then, only when has_intercept(), an unregularised intercept
// beta as the last coordinate (dimension() = cols + 1).
class LOCALSGD_API MarginObjective : public Objective {
 public:
  virtual double lambda() const = 0;

  // phi(z, y), and dphi/dz for a whole batch at once: one virtual call per batch keeps
  // the engine's per-entry loop free of indirection.
  virtual double margin_loss(double z, double y) const = 0;
  virtual void margin_derivatives(std::span<const double> z, std::span<const double> y,
                                  std::span<double> dphi) const = 0;

  virtual bool has_intercept() const { return false; }

  // d^2 phi / dz^2 for a batch, used by the exact solver (Newton). The default
  // differentiates margin_derivatives numerically; override it with the exact formula.
  virtual void margin_second_derivatives(std::span<const double> z, std::span<const double> y,
                                         std::span<double> d2phi) const {
    for (std::size_t i = 0; i < z.size(); ++i) {
      const double h = 1e-5 * std::max(1.0, std::abs(z[i]));
      const double zs[2] = {z[i] + h, z[i] - h}, ys[2] = {y[i], y[i]};
      double d[2] = {0.0, 0.0};
      margin_derivatives(zs, ys, d);
      d2phi[i] = (d[0] - d[1]) / (2 * h);
    }
  }

  const MarginObjective* as_margin() const override { return this; }

  // z = a . w (+ beta).
  double margin(const SparseRow& row, std::span<const double> x) const {
    const double z = row.dot(x.data());
    return has_intercept() ? z + x.back() : z;
  }

  double loss_and_gradient(const DataView& data, std::span<const std::int64_t> rows,
                           std::span<const double> x, std::span<double> gradient) const override {
    const double lam = lambda();
    const std::size_t weights = regularised_size(x);
    for (std::size_t j = 0; j < gradient.size(); ++j) gradient[j] = j < weights ? lam * x[j] : 0.0;
    double loss = 0.0;
    const double inv_b = 1.0 / static_cast<double>(rows.size());
    for (std::int64_t i : rows) {
      const SparseRow r = data.row(i);
      const double z = margin(r, x);
      const double y = data.label[static_cast<std::size_t>(i)];
      double d = 0.0;
      margin_derivatives({&z, 1}, {&y, 1}, {&d, 1});
      loss += margin_loss(z, y);
      for (std::int64_t j = 0; j < r.size; ++j) gradient[r.index[j]] += inv_b * d * r.value[j];
      if (has_intercept()) gradient.back() += inv_b * d;
    }
    return loss * inv_b + 0.5 * lam * squared_norm(x.first(weights));
  }

  double value(const DataView& data, std::span<const double> x) const override {
    double loss = 0.0;
    for (std::int64_t i = 0; i < data.rows(); ++i)
      loss += margin_loss(margin(data.row(i), x), data.label[static_cast<std::size_t>(i)]);
    return loss / static_cast<double>(data.rows()) +
           0.5 * lambda() * squared_norm(x.first(regularised_size(x)));
  }

  // Number of leading coordinates the L2 term applies to (all but the intercept).
  std::size_t regularised_size(std::span<const double> x) const {
    return has_intercept() ? x.size() - 1 : x.size();
  }

  static double squared_norm(std::span<const double> x) { return localsgd::squared_norm(x); }
};

// What an objective factory receives: its parameters and the data (to size the model,
// check labels, estimate curvature). The data outlives the objective.
struct ObjectiveArgs {
  const ParamMap& params;
  const DataView& data;
  // Feature columns of the model: data.cols when training; the trained model's when
  // evaluating it on data that has fewer columns (the missing ones are zeros).
  std::int64_t cols;
};

}  // namespace localsgd
