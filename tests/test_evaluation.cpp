// The model measurements of progress checks (core/engine/evaluation.hpp) against the
// objectives' own serial code: values bitwise as evaluate_objective gives them, the fused
// gradient equal to the plugin's loss_and_gradient, and the same bits for any thread count.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <tbb/global_control.h>

#include "localsgd/core/engine/evaluation.hpp"
#include "objective_test_support.hpp"
#include "test_support.hpp"

namespace {

using localsgd::Dataset;
using localsgd::testing::load_objective;
using localsgd::testing::make_params;
using localsgd::testing::random_binary_dataset;
using localsgd::testing::random_point;
namespace core = localsgd::core;

struct Measured {
  double fx, fy;
  std::vector<double> gradient;
};

Measured measure(const localsgd::Objective& f, const Dataset& data, const std::vector<double>& x,
                 const std::vector<double>& y) {
  Measured m;
  m.gradient.assign(static_cast<std::size_t>(f.dimension()), -1.0);
  std::tie(m.fx, m.fy) = core::evaluate_pair_and_gradient(f, data.view(), x, y, m.gradient);
  return m;
}

// Several leaves and gradient blocks (n > 4 · 2048), a ragged last leaf, and an intercept
// or none, for a margin objective (logreg) and one that is not (mlp).
class EvaluationTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EvaluationTest, AgreesWithTheObjectivesOwnCode) {
  const Dataset data = random_binary_dataset(9001, 40, 0.2, 7);
  for (const char* bias : {"false", "true"}) {
    const std::string plugin = GetParam();
    auto f = plugin == "mlp" ? load_objective(plugin, data, make_params({{"hidden", "3"}}))
                             : load_objective(plugin, data, make_params({{"bias", bias}}));
    const auto x = random_point(f->dimension(), 3, 0.3);
    const auto y = random_point(f->dimension(), 4, 0.3);
    const Measured m = measure(*f, data, x, y);

    EXPECT_EQ(m.fx, core::evaluate_objective(*f, data.view(), x)) << "bias " << bias;
    EXPECT_EQ(m.fy, core::evaluate_objective(*f, data.view(), y)) << "bias " << bias;
    std::vector<double> expected(m.gradient.size());
    const double loss =
        f->loss_and_gradient(data.view(), localsgd::testing::all_rows(data), x, expected);
    EXPECT_NEAR(m.fx, loss, 1e-12 * std::abs(loss));
    for (std::size_t j = 0; j < expected.size(); ++j)
      ASSERT_NEAR(m.gradient[j], expected[j], 1e-13 + 1e-11 * std::abs(expected[j]))
          << "coordinate " << j << ", bias " << bias;
    if (plugin == "mlp") break;  // no intercept parameter
  }
}

TEST_P(EvaluationTest, SameBitsForAnyThreadCount) {
  const Dataset data = random_binary_dataset(9001, 40, 0.2, 8);
  auto f = GetParam() == "mlp" ? load_objective("mlp", data, make_params({{"hidden", "3"}}))
                               : load_objective(GetParam(), data, {});
  const auto x = random_point(f->dimension(), 5, 0.3);
  const auto y = random_point(f->dimension(), 6, 0.3);
  Measured one, two;
  {
    tbb::global_control cap(tbb::global_control::max_allowed_parallelism, 1);
    one = measure(*f, data, x, y);
  }
  two = measure(*f, data, x, y);
  EXPECT_EQ(one.fx, two.fx);
  EXPECT_EQ(one.fy, two.fy);
  EXPECT_TRUE(localsgd::testing::bitwise_equal(one.gradient, two.gradient));
}

INSTANTIATE_TEST_SUITE_P(Objectives, EvaluationTest, ::testing::Values("logreg", "mlp"));

}  // namespace
