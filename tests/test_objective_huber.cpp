// The huber plugin: gradients against finite differences in every piece of the loss, the
// curvature constants against Eigen's eigenvalues of the exact Hessian, parameters and
// predictions.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "objective_test_support.hpp"

namespace {

using localsgd::Dataset;
using localsgd::ParamMap;
using localsgd::testing::all_rows;
using localsgd::testing::make_params;
using localsgd::testing::random_point;
using localsgd::testing::random_regression_dataset;

std::unique_ptr<localsgd::Objective> make_huber(const Dataset& data, const ParamMap& params = {}) {
  return localsgd::testing::load_objective("huber", data, params);
}

// Rows whose residual r = z - y lies in each piece: r <= -delta, |r| < delta, r >= delta.
std::array<int, 3> pieces(const localsgd::Objective& f, const Dataset& data,
                          const std::vector<double>& x, double delta) {
  const auto z = localsgd::testing::margins(*f.as_margin(), data.view(), x);
  std::array<int, 3> count{};
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double r = z[i] - data.label[i];
    ++count[r <= -delta ? 0 : (r < delta ? 1 : 2)];
  }
  return count;
}

void expect_every_piece(const std::array<int, 3>& count) {
  EXPECT_TRUE(count[0] > 0 && count[1] > 0 && count[2] > 0)
      << "rows per piece: " << count[0] << ", " << count[1] << ", " << count[2];
}

TEST(Huber, GradientMatchesFiniteDifferencesInEveryPiece) {
  const Dataset dense = random_regression_dataset(100, 6, 1.0, 1);
  const Dataset sparse = random_regression_dataset(80, 25, 0.15, 2);
  const std::vector<std::int64_t> batch{3, 17, 17, 42, 59, 60, 71};
  for (const char* delta : {"1", "0.3"}) {
    for (const char* bias : {"false", "true"}) {
      SCOPED_TRACE(std::string("delta=") + delta + " bias=" + bias);
      const ParamMap p = make_params({{"delta", delta}, {"bias", bias}, {"lambda", "0.1"}});
      const double d = std::stod(delta);
      auto f = make_huber(dense, p);
      const auto x = random_point(f->dimension(), 3, 0.5);
      expect_every_piece(pieces(*f, dense, x, d));
      EXPECT_LT(localsgd::gradient_check(*f, dense.view(), all_rows(dense), x), 1e-7);

      auto g = make_huber(sparse, p);
      const auto y = random_point(g->dimension(), 4, 0.5);
      expect_every_piece(pieces(*g, sparse, y, d));
      EXPECT_LT(localsgd::gradient_check(*g, sparse.view(), batch, y), 1e-7);
      EXPECT_LT(localsgd::gradient_check(*g, sparse.view(), all_rows(sparse), y), 1e-7);
    }
  }
}

TEST(Huber, LossAndDerivativesMatchTheDefinition) {
  const Dataset data = random_regression_dataset(3, 2, 1.0, 5);
  auto f = make_huber(data);
  const auto* m = f->as_margin();
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(m->margin_loss(1.5, 1.0), 0.125);  // r^2 / 2
  EXPECT_DOUBLE_EQ(m->margin_loss(2.0, 1.0), 0.5);    // both pieces meet at |r| = delta
  EXPECT_DOUBLE_EQ(m->margin_loss(4.0, 1.0), 2.5);    // delta (|r| - delta/2)
  EXPECT_DOUBLE_EQ(m->margin_loss(-2.0, 1.0), 2.5);
  EXPECT_DOUBLE_EQ(m->margin_loss(1e8, 0.0), 1e8 - 0.5);
  // Kinks at r = +-1; the residuals z - y stay away from them.
  localsgd::testing::expect_margin_derivatives_consistent(
      *m, {-5.0, -1.5, -0.5, 0.0, 0.3, 0.9, 1.2, 7.0}, {0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, -1.0});

  auto narrow = make_huber(data, make_params({{"delta", "0.25"}}));
  EXPECT_DOUBLE_EQ(narrow->as_margin()->margin_loss(0.0, 1.0), 0.25 * (1.0 - 0.125));
  localsgd::testing::expect_margin_derivatives_consistent(
      *narrow->as_margin(), {-1.0, -0.2, 0.1, 0.3, 2.0}, std::vector<double>(5, 0.0));
}

TEST(Huber, CurvatureBoundsTheHessian) {
  // Small targets: at x = 0 every residual is inside the quadratic piece, where phi'' = 1 is
  // at its maximum and the Hessian's top eigenvalue is L.
  const Dataset data = random_regression_dataset(30, 5, 0.8, 6, 0.2);
  for (const double y : data.label) ASSERT_LT(std::abs(y), 1.0);
  for (const bool bias : {false, true}) {
    SCOPED_TRACE(bias ? "bias" : "no bias");
    auto f = make_huber(data, make_params({{"lambda", "0.03"}, {"bias", bias ? "true" : "false"}}));
    const auto c = f->curvature();
    std::vector<std::vector<double>> points{std::vector<double>(f->dimension(), 0.0)};
    for (unsigned s = 0; s < 4; ++s) points.push_back(random_point(f->dimension(), 30 + s, 0.5));
    localsgd::testing::expect_curvature_bounds(*f, data.view(), points);
    localsgd::testing::expect_L_attained(*f, data.view(), points[0]);
    localsgd::testing::expect_linear_constants(c, data.view(), 1.0, 0.03, bias);
  }
}

TEST(Huber, ParametersAreResolvedAndChecked) {
  const Dataset data = random_regression_dataset(25, 3, 1.0, 7);
  auto f = make_huber(data);
  EXPECT_DOUBLE_EQ(f->as_margin()->lambda(), 1.0 / 25);
  const ParamMap resolved = f->resolved_params();
  EXPECT_EQ(resolved.number("lambda", 0), 1.0 / 25);
  EXPECT_EQ(resolved.text("bias", ""), "false");
  EXPECT_EQ(resolved.text("delta", ""), "1");
  EXPECT_EQ(make_huber(data, resolved)->resolved_params().all(), resolved.all());
  auto g = make_huber(data, make_params({{"bias", "yes"}, {"delta", "0.1"}}));
  EXPECT_EQ(g->dimension(), 4);
  EXPECT_EQ(g->resolved_params().text("bias", ""), "true");
  EXPECT_EQ(g->resolved_params().text("delta", ""), "0.1");

  const auto expect_error = [&](const ParamMap& p, const std::string& text) {
    localsgd::testing::expect_param_error([&] { make_huber(data, p); }, text);
  };
  expect_error(make_params({{"delta", "0"}}), "delta=0: must be > 0");
  expect_error(make_params({{"delta", "big"}}), "delta=big: expected a finite number");
  expect_error(make_params({{"lambda", "-2"}}), "lambda=-2: must be >= 0");
  expect_error(make_params({{"epsilon", "1"}}), "known: lambda, bias, delta");
}

TEST(Huber, PredictsTheLinearValue) {
  Dataset data;
  data.cols = 2;
  data.index = {0, 1};
  data.value = {2.0, -1.0};
  data.row_ptr = {0, 2, 2};  // rows: (2, -1), empty
  data.label = {0.0, 0.0};
  auto f = make_huber(data, make_params({{"bias", "true"}}));
  EXPECT_EQ(f->prediction_kind(), localsgd::Objective::Prediction::value);
  const std::vector<double> x{1.5, 0.5, -0.25};
  EXPECT_DOUBLE_EQ(f->predict(data.view().row(0), x), 2.25);
  EXPECT_DOUBLE_EQ(f->predict(data.view().row(1), x), -0.25);
  EXPECT_DOUBLE_EQ(make_huber(data)->predict(data.view().row(0), {x.data(), 2}), 2.5);
}

}  // namespace
