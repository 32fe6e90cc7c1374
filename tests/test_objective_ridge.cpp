// The ridge plugin: gradients against finite differences, the curvature constants against
// Eigen's eigenvalues of the exact Hessian, parameters and predictions.
#include <gtest/gtest.h>

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

std::unique_ptr<localsgd::Objective> make_ridge(const Dataset& data, const ParamMap& params = {}) {
  return localsgd::testing::load_objective("ridge", data, params);
}

TEST(Ridge, GradientMatchesFiniteDifferencesOnDenseAndSparseRows) {
  const Dataset dense = random_regression_dataset(40, 6, 1.0, 1);
  const Dataset sparse = random_regression_dataset(60, 25, 0.15, 2);
  const std::vector<std::int64_t> batch{3, 17, 17, 42, 59};  // repeats, as i.i.d. draws can
  for (const char* bias : {"false", "true"}) {
    SCOPED_TRACE(std::string("bias=") + bias);
    auto f = make_ridge(dense, make_params({{"lambda", "0.1"}, {"bias", bias}}));
    const auto x = random_point(f->dimension(), 3);
    EXPECT_LT(localsgd::gradient_check(*f, dense.view(), all_rows(dense), x), 1e-7);
    auto g = make_ridge(sparse, make_params({{"bias", bias}}));
    const auto y = random_point(g->dimension(), 4);
    EXPECT_LT(localsgd::gradient_check(*g, sparse.view(), batch, y), 1e-7);
    EXPECT_LT(localsgd::gradient_check(*g, sparse.view(), all_rows(sparse), y), 1e-7);
  }
}

TEST(Ridge, LossAndDerivativesMatchTheDefinition) {
  const Dataset data = random_regression_dataset(3, 2, 1.0, 5);
  auto f = make_ridge(data);
  const auto* m = f->as_margin();
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(m->margin_loss(3.0, 1.0), 2.0);
  EXPECT_DOUBLE_EQ(m->margin_loss(-1.5, 0.5), 2.0);
  localsgd::testing::expect_margin_derivatives_consistent(*m, {-5.0, -0.3, 0.0, 2.0, 40.0},
                                                          {1.0, -2.0, 0.0, 2.5, -3.0});
}

TEST(Ridge, CurvatureBoundsTheHessianWithAndWithoutBias) {
  // phi'' = 1: the Hessian is the same at every x and its top eigenvalue is L.
  const Dataset data = random_regression_dataset(30, 5, 0.8, 6);
  for (const bool bias : {false, true}) {
    SCOPED_TRACE(bias ? "bias" : "no bias");
    auto f = make_ridge(data, make_params({{"lambda", "0.05"}, {"bias", bias ? "true" : "false"}}));
    const auto c = f->curvature();
    std::vector<std::vector<double>> points;
    for (unsigned s = 0; s < 4; ++s) points.push_back(random_point(f->dimension(), 10 + s, 3.0));
    localsgd::testing::expect_curvature_bounds(*f, data.view(), points);
    localsgd::testing::expect_L_attained(*f, data.view(), points[0]);
    localsgd::testing::expect_linear_constants(c, data.view(), 1.0, 0.05, bias);
  }
}

TEST(Ridge, ParametersAreResolvedAndChecked) {
  const Dataset data = random_regression_dataset(30, 3, 1.0, 7);
  auto f = make_ridge(data);
  EXPECT_DOUBLE_EQ(f->as_margin()->lambda(), 1.0 / 30);
  EXPECT_FALSE(f->as_margin()->has_intercept());
  EXPECT_EQ(f->dimension(), 3);
  // The resolved parameters rebuild the same objective: lambda round-trips exactly.
  const ParamMap resolved = f->resolved_params();
  EXPECT_EQ(resolved.text("bias", ""), "false");
  EXPECT_EQ(resolved.number("lambda", 0), 1.0 / 30);
  EXPECT_EQ(make_ridge(data, resolved)->as_margin()->lambda(), 1.0 / 30);

  auto g = make_ridge(data, make_params({{"bias", "true"}, {"lambda", "0"}}));
  EXPECT_EQ(g->dimension(), 4);
  EXPECT_TRUE(g->as_margin()->has_intercept());
  EXPECT_EQ(g->resolved_params().text("bias", ""), "true");
  EXPECT_EQ(g->resolved_params().text("lambda", ""), "0");
  // A model with more columns than the evaluation data keeps its own dimension.
  EXPECT_EQ(localsgd::testing::load_objective("ridge", data, {}, 8)->dimension(), 8);

  EXPECT_THROW(make_ridge(data, make_params({{"lambda", "-1"}})), localsgd::ParamError);
  EXPECT_THROW(make_ridge(data, make_params({{"bias", "maybe"}})), localsgd::ParamError);
  try {
    make_ridge(data, make_params({{"alpha", "1"}}));
    FAIL() << "expected a ParamError";
  } catch (const localsgd::ParamError& e) {
    EXPECT_NE(std::string(e.what()).find("known: lambda, bias"), std::string::npos) << e.what();
  }
}

TEST(Ridge, PredictsTheLinearValue) {
  Dataset data;
  data.cols = 3;
  data.index = {0, 2, 1};
  data.value = {1.0, 2.0, -4.0};
  data.row_ptr = {0, 2, 3, 3};  // rows: (1, 0, 2), (0, -4, 0), empty
  data.label = {0.0, 0.0, 0.0};
  auto f = make_ridge(data);
  EXPECT_EQ(f->prediction_kind(), localsgd::Objective::Prediction::value);
  const std::vector<double> x{0.5, 0.25, -1.0};
  EXPECT_DOUBLE_EQ(f->predict(data.view().row(0), x), -1.5);
  EXPECT_DOUBLE_EQ(f->predict(data.view().row(1), x), -1.0);
  EXPECT_DOUBLE_EQ(f->predict(data.view().row(2), x), 0.0);
  auto g = make_ridge(data, make_params({{"bias", "true"}}));
  const std::vector<double> xb{0.5, 0.25, -1.0, 3.0};
  EXPECT_DOUBLE_EQ(g->predict(data.view().row(0), xb), 1.5);
  EXPECT_DOUBLE_EQ(g->predict(data.view().row(2), xb), 3.0);
  // f = (1/2n) sum (z - y)^2 + (lambda/2)|w|^2, the intercept unregularised.
  ParamMap p = make_params({{"bias", "true"}, {"lambda", "0.5"}});
  EXPECT_DOUBLE_EQ(make_ridge(data, p)->value(data.view(), xb),
                   (1.5 * 1.5 + 2.0 * 2.0 + 3.0 * 3.0) / 6.0 + 0.25 * (0.25 + 0.0625 + 1.0));
}

}  // namespace
