// Helpers shared by the objective plugin tests: loading an objective by name, random
// data sets and points, and -- for margin objectives -- the dense Hessian, checked with
// Eigen's eigensolver (independent of the plugins' power iteration) against the reported
// curvature constants L, L_max and mu.
#pragma once

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/run/train.hpp"
#include "localsgd/core/solve/evaluate.hpp"
#include "localsgd/gradient_check.hpp"
#include "localsgd/linear_algebra.hpp"
#include "test_support.hpp"

namespace localsgd::testing {

inline std::unique_ptr<Objective> load_objective(const std::string& plugin, const Dataset& data,
                                                 const ParamMap& params = {},
                                                 std::int64_t cols = -1) {
  const auto& manifest = core::load_plugin(plugin, PluginKind::objective);
  return core::make_objective(manifest, params, data.view(), cols);
}

inline ParamMap make_params(std::initializer_list<std::pair<std::string, std::string>> values) {
  ParamMap p;
  for (const auto& [key, value] : values) p.set(key, value);
  return p;
}

// n rows over d columns; each entry, uniform in [-2, 2], stored with probability `density`;
// one label per row from label(rng).
template <class LabelFn>
Dataset random_dataset(std::int64_t n, std::int64_t d, double density, unsigned seed,
                       LabelFn label) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::bernoulli_distribution keep(density);
  Dataset data;
  data.cols = d;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int32_t j = 0; j < d; ++j)
      if (keep(rng)) {
        data.index.push_back(j);
        data.value.push_back(2.0 * u(rng));
      }
    data.row_ptr.push_back(static_cast<std::int64_t>(data.index.size()));
    data.label.push_back(label(rng));
  }
  return data;
}

// Labels +1 with probability 0.4, else -1 (or 0).
inline Dataset random_binary_dataset(std::int64_t n, std::int64_t d, double density, unsigned seed,
                                     bool zero_one_labels = false) {
  std::bernoulli_distribution positive(0.4);
  return random_dataset(n, d, density, seed, [&](std::mt19937_64& rng) {
    return positive(rng) ? 1.0 : (zero_one_labels ? 0.0 : -1.0);
  });
}

// Labels 1..classes, uniform.
inline Dataset multiclass_dataset(std::int64_t n, std::int64_t d, double density, int classes,
                                  unsigned seed) {
  std::uniform_int_distribution<int> label(1, classes);
  return random_dataset(n, d, density, seed, [&](std::mt19937_64& rng) { return label(rng); });
}

// Real targets, normal with the given spread.
inline Dataset random_regression_dataset(std::int64_t n, std::int64_t d, double density,
                                         unsigned seed, double spread = 2.0) {
  std::normal_distribution<double> target(0.0, spread);
  return random_dataset(n, d, density, seed, [&](std::mt19937_64& rng) { return target(rng); });
}

inline std::vector<double> random_point(std::int64_t d, unsigned seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> x(static_cast<std::size_t>(d));
  for (double& v : x) v = normal(rng);
  return x;
}

inline std::vector<std::int64_t> all_rows(const Dataset& data) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(data.rows()));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
  return rows;
}

// z_i = a~_i . x for every row.
inline std::vector<double> margins(const MarginObjective& m, const DataView& data,
                                   std::span<const double> x) {
  std::vector<double> z(static_cast<std::size_t>(data.rows()));
  for (std::int64_t i = 0; i < data.rows(); ++i)
    z[static_cast<std::size_t>(i)] = m.margin(data.row(i), x);
  return z;
}

// A~ as a dense n x dimension matrix: the features, then a column of ones for an intercept.
inline Eigen::MatrixXd dense_design(const MarginObjective& m, const DataView& data) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(data.rows(), m.dimension());
  for (std::int64_t i = 0; i < data.rows(); ++i) {
    const SparseRow r = data.row(i);
    for (std::int64_t j = 0; j < r.size; ++j) a(i, r.index[j]) = r.value[j];
    if (m.has_intercept()) a(i, m.dimension() - 1) = 1.0;
  }
  return a;
}

// lambda on the weights, 0 on the intercept.
inline Eigen::MatrixXd regulariser_hessian(const MarginObjective& m) {
  Eigen::VectorXd diag = Eigen::VectorXd::Constant(m.dimension(), m.lambda());
  if (m.has_intercept()) diag(m.dimension() - 1) = 0.0;
  return diag.asDiagonal();
}

// phi''(z_i, y_i) for every row at x, from the plugin.
inline std::vector<double> second_derivatives(const MarginObjective& m, const DataView& data,
                                              std::span<const double> x) {
  const std::vector<double> z = margins(m, data, x);
  std::vector<double> d2(z.size());
  m.margin_second_derivatives(z, data.label, d2);
  return d2;
}

// Hessian of f at x: (1/n) A~^T D A~ + lambda diag(1, ..., 1, 0 for the intercept).
inline Eigen::MatrixXd hessian(const MarginObjective& m, const DataView& data,
                               std::span<const double> x) {
  const Eigen::MatrixXd a = dense_design(m, data);
  const std::vector<double> d2 = second_derivatives(m, data, x);
  const Eigen::VectorXd d = Eigen::Map<const Eigen::VectorXd>(d2.data(), data.rows());
  return a.transpose() * d.asDiagonal() * a / static_cast<double>(data.rows()) +
         regulariser_hessian(m);
}

// Eigenvalues in ascending order.
inline Eigen::VectorXd eigenvalues(const Eigen::MatrixXd& h) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(h, Eigen::EigenvaluesOnly);
  EXPECT_EQ(solver.info(), Eigen::Success);
  return solver.eigenvalues();
}

// At every point x: lambda_max(H(x)) <= L, lambda_min(H(x)) >= mu (or >= 0, convexity, when
// mu is unknown), and every per-sample Hessian phi''_i a~_i a~_i^T + lambda diag(..) has its
// top eigenvalue <= L_max.
// L comes from a power iteration that stops at a relative tolerance and reports the
// quotient raised by it (linear_algebra.hpp): it bounds lambda_max from above and exceeds
// it by at most about twice the tolerance.
inline constexpr double kLSlack = 2 * kGramTolerance;

inline void expect_curvature_bounds(const Objective& f, const DataView& data,
                                    const std::vector<std::vector<double>>& points) {
  const MarginObjective* m = f.as_margin();
  ASSERT_NE(m, nullptr);
  const Curvature c = f.curvature();
  ASSERT_TRUE(c.convex);
  const Eigen::MatrixXd a = dense_design(*m, data);
  const Eigen::MatrixXd reg = regulariser_hessian(*m);
  for (const auto& x : points) {
    const Eigen::VectorXd eig = eigenvalues(hessian(*m, data, x));
    EXPECT_LE(eig(eig.size() - 1), c.L * (1 + 1e-9));
    if (std::isnan(c.mu)) {
      EXPECT_GE(eig(0), -1e-12 * c.L);
    } else {
      EXPECT_GE(eig(0), c.mu * (1 - 1e-9));
    }
    const std::vector<double> d2 = second_derivatives(*m, data, x);
    for (std::int64_t i = 0; i < data.rows(); ++i) {
      const Eigen::VectorXd ai = a.row(i).transpose();
      const Eigen::MatrixXd hi = d2[static_cast<std::size_t>(i)] * ai * ai.transpose() + reg;
      const Eigen::VectorXd eig_i = eigenvalues(hi);
      EXPECT_LE(eig_i(eig_i.size() - 1), c.L_max * (1 + 1e-9)) << "row " << i;
    }
  }
}

// At a point x where phi'' is at its maximum c on every row, the data term of the Hessian,
// (1/n) A~^T D A~ = c A~^T A~ / n, has top eigenvalue L - lambda: the bound is attained.
// Without an intercept that makes L = lambda_max(H(x)) itself; with one, L is a (slightly)
// loose upper bound, since lambda does not shift the intercept's direction.
inline void expect_L_attained(const Objective& f, const DataView& data, std::span<const double> x) {
  const MarginObjective* m = f.as_margin();
  ASSERT_NE(m, nullptr);
  const double L = f.curvature().L;
  const Eigen::MatrixXd h = hessian(*m, data, x);
  const Eigen::VectorXd data_term = eigenvalues(h - regulariser_hessian(*m));
  EXPECT_NEAR(data_term(data_term.size() - 1) + m->lambda(), L, kLSlack * L);
  EXPECT_LE(data_term(data_term.size() - 1) + m->lambda(), L * (1 + 1e-9));
  const Eigen::VectorXd eig = eigenvalues(h);
  if (!m->has_intercept()) {
    EXPECT_NEAR(eig(eig.size() - 1), L, kLSlack * L);
  }
  EXPECT_LE(eig(eig.size() - 1), L * (1 + 1e-9));
}

// margin_derivatives against central differences of margin_loss, and
// margin_second_derivatives against central differences of margin_derivatives, at margins
// the caller keeps at least 1e-3 away from any kink.
inline void expect_margin_derivatives_consistent(const MarginObjective& m,
                                                 const std::vector<double>& z,
                                                 const std::vector<double>& y) {
  ASSERT_EQ(z.size(), y.size());
  std::vector<double> d(z.size()), d2(z.size());
  m.margin_derivatives(z, y, d);
  m.margin_second_derivatives(z, y, d2);
  const double h = 1e-6;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double numeric_d =
        (m.margin_loss(z[i] + h, y[i]) - m.margin_loss(z[i] - h, y[i])) / (2 * h);
    EXPECT_NEAR(d[i], numeric_d, 1e-7 * std::max(1.0, std::abs(numeric_d)))
        << "z=" << z[i] << " y=" << y[i];
    const double zs[2] = {z[i] + h, z[i] - h}, ys[2] = {y[i], y[i]};
    double ds[2];
    m.margin_derivatives(zs, ys, ds);
    const double numeric_d2 = (ds[0] - ds[1]) / (2 * h);
    EXPECT_NEAR(d2[i], numeric_d2, 1e-6 * std::max(1.0, std::abs(numeric_d2)))
        << "z=" << z[i] << " y=" << y[i];
  }
}

// L_max and mu of an L2-regularised linear objective whose loss has phi'' <= phi2
// (linear_algebra.hpp): L_max = phi2 (max |a_i|^2 [+1 with a bias]) + lambda; mu = lambda
// without a bias and unknown with one; convex.
inline void expect_linear_constants(const Curvature& c, const DataView& data, double phi2,
                                    double lambda, bool bias) {
  EXPECT_NEAR(c.L_max, phi2 * (max_row_norm2(data) + (bias ? 1.0 : 0.0)) + lambda, 1e-12);
  if (bias)
    EXPECT_TRUE(std::isnan(c.mu));
  else
    EXPECT_DOUBLE_EQ(c.mu, lambda);
  EXPECT_TRUE(c.convex);
}

// Local SGD on dna.scale (2,000 rows, 180 binary features, 3 classes) with K = 4, b = 8,
// H = 8 and a constant step size, scored on dna.scale.t.
inline double dna_test_accuracy(const std::string& objective, const localsgd::ParamMap& params,
                                double eta, double epochs) {
  TempDir dir;
  core::TrainOptions request;
  request.objective.name = objective;
  request.objective.params = params;
  request.data = data_file("dna.scale").string();
  request.workers = 4;
  request.batch = 8;
  request.schedule.params.set("H", "8");
  request.epochs = epochs;
  request.lr = core::StepRule::constant;
  request.lr_params.set("eta", localsgd::format_number(eta));
  request.sampling = core::Sampling::iid;  // the sampling the step sizes were picked with
  request.out = (dir.path() / "model").string();
  core::train(request);
  core::EvalRequest eval_request;
  eval_request.model = request.out;
  eval_request.data = data_file("dna.scale.t").string();
  return core::evaluate_model(eval_request).at("accuracy").get<double>();
}

}  // namespace localsgd::testing
