// The svm plugin (smoothed and squared hinge): gradients against finite differences in
// every piece of the loss, the curvature constants against Eigen's eigenvalues of the exact
// Hessian, labels, parameters and predictions.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "objective_test_support.hpp"

namespace {

using localsgd::Dataset;
using localsgd::ParamMap;
using localsgd::testing::all_rows;
using localsgd::testing::make_params;
using localsgd::testing::random_binary_dataset;
using localsgd::testing::random_point;

std::unique_ptr<localsgd::Objective> make_svm(const Dataset& data, const ParamMap& params = {}) {
  return localsgd::testing::load_objective("svm", data, params);
}

// Rows whose margin m = y z lies in each piece: [1, inf) flat, (1 - gamma, 1) quadratic,
// (-inf, 1 - gamma] linear (for the squared hinge, gamma = inf: no linear piece).
std::array<int, 3> pieces(const localsgd::Objective& f, const Dataset& data,
                          const std::vector<double>& x, double gamma) {
  const auto z = localsgd::testing::margins(*f.as_margin(), data.view(), x);
  std::array<int, 3> count{};
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double m = (data.label[i] > 0 ? 1.0 : -1.0) * z[i];
    ++count[m >= 1 ? 0 : (m > 1 - gamma ? 1 : 2)];
  }
  return count;
}

struct LossCase {
  ParamMap params;
  double gamma;  // width of the quadratic piece
};

std::vector<LossCase> loss_cases() {
  return {{make_params({{"loss", "smoothed"}}), 1.0},
          {make_params({{"smoothing", "0.5"}}), 0.5},
          {make_params({{"loss", "squared"}}), std::numeric_limits<double>::infinity()}};
}

TEST(Svm, GradientMatchesFiniteDifferencesInEveryPiece) {
  const Dataset dense = random_binary_dataset(40, 6, 1.0, 1);
  const Dataset sparse = random_binary_dataset(80, 25, 0.15, 2);
  const std::vector<std::int64_t> batch{3, 17, 17, 42, 59, 60, 71};
  for (const auto& [base, gamma] : loss_cases()) {
    for (const char* bias : {"false", "true"}) {
      ParamMap p = base;
      p.set("bias", bias);
      SCOPED_TRACE("gamma=" + std::to_string(gamma) + " bias=" + bias);
      auto f = make_svm(dense, p);
      const auto x = random_point(f->dimension(), 3);
      const auto in_dense = pieces(*f, dense, x, gamma);
      EXPECT_GT(in_dense[0], 0);
      EXPECT_GT(in_dense[1], 0);
      if (std::isfinite(gamma)) {
        EXPECT_GT(in_dense[2], 0);
      }
      EXPECT_LT(localsgd::gradient_check(*f, dense.view(), all_rows(dense), x), 1e-7);

      auto g = make_svm(sparse, p);
      const auto y = random_point(g->dimension(), 4);
      const auto in_sparse = pieces(*g, sparse, y, gamma);
      EXPECT_GT(in_sparse[0], 0);
      EXPECT_GT(in_sparse[1], 0);
      if (std::isfinite(gamma)) {
        EXPECT_GT(in_sparse[2], 0);
      }
      EXPECT_LT(localsgd::gradient_check(*g, sparse.view(), batch, y), 1e-7);
      EXPECT_LT(localsgd::gradient_check(*g, sparse.view(), all_rows(sparse), y), 1e-7);
    }
  }
}

TEST(Svm, LossAndDerivativesMatchTheDefinition) {
  const Dataset data = random_binary_dataset(3, 2, 1.0, 5);
  auto smoothed = make_svm(data);
  const auto* m = smoothed->as_margin();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->margin_loss(2.0, 1.0), 0.0);
  EXPECT_EQ(m->margin_loss(1.0, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(m->margin_loss(0.5, 1.0), 0.125);    // (1 - m)^2 / 2
  EXPECT_DOUBLE_EQ(m->margin_loss(-0.5, -1.0), 0.125);  // m = y z = 0.5
  EXPECT_DOUBLE_EQ(m->margin_loss(-0.5, 0.0), 0.125);   // label 0 is -1
  EXPECT_DOUBLE_EQ(m->margin_loss(0.0, 1.0), 0.5);      // both pieces meet at m = 1 - gamma
  EXPECT_DOUBLE_EQ(m->margin_loss(-1.0, 1.0), 1.5);     // 1 - m - gamma/2
  EXPECT_DOUBLE_EQ(m->margin_loss(1e6, -1.0), 1e6 + 0.5);
  // Kinks of gamma = 1 at m = 0 and m = 1; the margins stay away from them.
  const std::vector<double> z{-3.0, -0.7, -0.3, 0.3, 0.7, 1.5, 4.0};
  for (double y : {1.0, -1.0})
    localsgd::testing::expect_margin_derivatives_consistent(*m, z, std::vector<double>(7, y));

  auto narrow = make_svm(data, make_params({{"smoothing", "0.25"}}));
  EXPECT_DOUBLE_EQ(narrow->as_margin()->margin_loss(0.875, 1.0), 0.125 * 0.125 / 0.5);
  EXPECT_DOUBLE_EQ(narrow->as_margin()->margin_loss(0.5, 1.0), 0.5 - 0.125);
  localsgd::testing::expect_margin_derivatives_consistent(
      *narrow->as_margin(), {-2.0, 0.5, 0.8, 0.9, 1.2}, std::vector<double>(5, 1.0));

  auto squared = make_svm(data, make_params({{"loss", "squared"}}));
  const auto* s = squared->as_margin();
  EXPECT_DOUBLE_EQ(s->margin_loss(-1.0, 1.0), 2.0);
  EXPECT_DOUBLE_EQ(s->margin_loss(3.0, -1.0), 8.0);
  EXPECT_EQ(s->margin_loss(1.5, 1.0), 0.0);
  for (double y : {1.0, -1.0})
    localsgd::testing::expect_margin_derivatives_consistent(*s, z, std::vector<double>(7, y));
}

TEST(Svm, CurvatureBoundsTheHessian) {
  const Dataset data = random_binary_dataset(30, 5, 0.8, 6);
  struct Case {
    ParamMap params;
    bool attained_at_zero;  // at x = 0, m = 0 lies in the quadratic piece for every row
  };
  const std::vector<Case> cases{
      {make_params({{"smoothing", "0.5"}, {"lambda", "0.02"}}), false},
      {make_params({{"smoothing", "2"}, {"lambda", "0.02"}}), true},
      {make_params({{"loss", "squared"}, {"lambda", "0.02"}}), true},
  };
  for (const auto& [base, attained_at_zero] : cases) {
    for (const bool bias : {false, true}) {
      ParamMap p = base;
      p.set("bias", bias ? "true" : "false");
      SCOPED_TRACE(p.text("smoothing", "squared") + (bias ? " bias" : " no bias"));
      auto f = make_svm(data, p);
      const auto c = f->curvature();
      std::vector<std::vector<double>> points{std::vector<double>(f->dimension(), 0.0)};
      for (unsigned s = 0; s < 4; ++s) points.push_back(random_point(f->dimension(), 20 + s, 0.5));
      localsgd::testing::expect_curvature_bounds(*f, data.view(), points);
      if (attained_at_zero) localsgd::testing::expect_L_attained(*f, data.view(), points[0]);
      const double phi2 = 1.0 / p.number("smoothing", 1.0);
      localsgd::testing::expect_linear_constants(c, data.view(), phi2, 0.02, bias);
    }
  }
}

TEST(Svm, ZeroOneLabelsMeanMinusOnePlusOne) {
  const Dataset pm = random_binary_dataset(30, 5, 0.6, 7, false);
  const Dataset zo = random_binary_dataset(30, 5, 0.6, 7, true);
  const auto x = random_point(5, 8);
  EXPECT_EQ(make_svm(pm)->value(pm.view(), x), make_svm(zo)->value(zo.view(), x));
}

TEST(Svm, RefusesNonBinaryLabels) {
  Dataset data = random_binary_dataset(4, 2, 1.0, 9);
  data.label[2] = 3.0;
  try {
    make_svm(data);
    FAIL() << "expected a DataError";
  } catch (const localsgd::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("svm needs binary labels"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("row 3"), std::string::npos) << e.what();
  }
  data.label = {1.0, 0.0, -1.0, 1.0};
  try {
    make_svm(data);
    FAIL() << "expected a DataError";
  } catch (const localsgd::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("svm labels mix 0 and -1"), std::string::npos) << e.what();
  }
}

TEST(Svm, ParametersAreResolvedAndChecked) {
  const Dataset data = random_binary_dataset(40, 3, 1.0, 10);
  auto f = make_svm(data);
  EXPECT_DOUBLE_EQ(f->as_margin()->lambda(), 1.0 / 40);
  const ParamMap resolved = f->resolved_params();
  EXPECT_EQ(resolved.number("lambda", 0), 1.0 / 40);
  EXPECT_EQ(resolved.text("bias", ""), "false");
  EXPECT_EQ(resolved.text("loss", ""), "smoothed");
  EXPECT_EQ(resolved.text("smoothing", ""), "1");
  EXPECT_EQ(make_svm(data, resolved)->resolved_params().all(), resolved.all());
  // The squared hinge has no smoothing width, so none is recorded (it would be refused).
  const ParamMap squared = make_svm(data, make_params({{"loss", "squared"}}))->resolved_params();
  EXPECT_FALSE(squared.has("smoothing"));
  EXPECT_EQ(make_svm(data, squared)->resolved_params().all(), squared.all());

  const auto expect_error = [&](const ParamMap& p, const std::string& text) {
    localsgd::testing::expect_param_error([&] { make_svm(data, p); }, text);
  };
  expect_error(make_params({{"loss", "hinge"}}), "loss=hinge: must be smoothed or squared");
  expect_error(make_params({{"smoothing", "0"}}), "smoothing=0: must be > 0");
  expect_error(make_params({{"smoothing", "-1"}}), "smoothing=-1: must be > 0");
  expect_error(make_params({{"loss", "squared"}, {"smoothing", "2"}}),
               "smoothing=2: applies only to loss=smoothed");
  expect_error(make_params({{"lambda", "-0.1"}}), "lambda=-0.1: must be >= 0");
  expect_error(make_params({{"C", "1"}}), "known: lambda, bias, loss, smoothing");
}

TEST(Svm, PredictsPlusOrMinusOne) {
  Dataset data;
  data.cols = 2;
  data.index = {0, 1, 0, 1};
  data.value = {1.0, 1.0, -2.0, 3.0};
  data.row_ptr = {0, 1, 2, 4, 4};  // rows: (1, 0), (0, 1), (-2, 3), empty
  data.label = {1.0, -1.0, 1.0, -1.0};
  auto f = make_svm(data);
  EXPECT_EQ(f->prediction_kind(), localsgd::Objective::Prediction::sign);
  const std::vector<double> x{0.5, -0.5};
  const auto v = data.view();
  EXPECT_EQ(f->predict(v.row(0), x), 1.0);
  EXPECT_EQ(f->predict(v.row(1), x), -1.0);
  EXPECT_EQ(f->predict(v.row(2), x), -1.0);
  EXPECT_EQ(f->predict(v.row(3), x), -1.0);  // margin 0: ties go to -1, as in LIBLINEAR
  auto g = make_svm(data, make_params({{"bias", "true"}}));
  const std::vector<double> xb{0.5, -0.5, -0.25};
  EXPECT_EQ(g->predict(v.row(0), xb), 1.0);
  EXPECT_EQ(g->predict(v.row(3), xb), -1.0);  // the intercept alone
}

}  // namespace
