// The rate fit (--fit-rate): exact on power laws, the tail only, and on a real run of the
// paper's step size on a strongly convex synthetic problem, the O(1/T) of Theorem 2.2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "localsgd/core/solve/rate_fit.hpp"
#include "test_support.hpp"

namespace {

using localsgd::core::fit_rate;
using localsgd::testing::run_cli;

TEST(RateFit, RecoversAPowerLawFromTheTailOnly) {
  std::vector<std::int64_t> steps;
  std::vector<double> gaps;
  // Before T_last / 8 = 1000 the gap falls as T^-3 (an early phase the fit must ignore),
  // from there as 3 T^-1.
  for (std::int64_t t = 100; t <= 8000; t += 100) {
    steps.push_back(t);
    gaps.push_back(t < 1000 ? 3e6 * std::pow(static_cast<double>(t), -3.0)
                            : 3.0 / static_cast<double>(t));
  }
  const auto fit = fit_rate(steps, gaps);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->slope, -1.0, 1e-12);
  EXPECT_NEAR(fit->constant, 3.0, 1e-9);
  EXPECT_EQ(fit->from_step, 1000);
  EXPECT_EQ(fit->to_step, 8000);
  EXPECT_EQ(fit->points, 71u);
}

TEST(RateFit, NeedsThreePositiveGapsAtDistinctSteps) {
  const std::vector<std::int64_t> steps{1000, 2000, 4000, 8000};
  EXPECT_FALSE(fit_rate(steps, std::vector<double>{1, 0, -1, 0.5}).has_value());
  EXPECT_FALSE(fit_rate(std::vector<std::int64_t>{}, std::vector<double>{}).has_value());
  EXPECT_FALSE(fit_rate(steps, std::vector<double>{1, 2}).has_value());  // sizes differ
  const auto fit = fit_rate(steps, std::vector<double>{1, 0.5, 0.25, 0.125});
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->slope, -1.0, 1e-12);
}

// Long single-sample runs on a strongly convex logistic regression (seed 1): with the
// inverse-time rule (c = 1) the weighted average's gap falls as 1/T past the transient
// (slope near -1); with a constant step it stalls at the step's bias (slope near 0). One
// run's gap is a random variable, so the tolerances are loose; a fit that ignored the
// data, or a rate claim off by a factor of T, would fail one of the two.
double fitted_slope(const std::vector<std::string>& rule) {
  std::vector<std::string> args = {"train",    "--plugin",
                                   "logreg",   "--reader-param",
                                   "n=1000",   "--reader-param",
                                   "d=10",     "-K",
                                   "1",        "-H",
                                   "1",        "-b",
                                   "1",        "--sampling",
                                   "iid",      "--epochs",
                                   "200",      "--eval-every",
                                   "250",      "--fit-rate",
                                   "--format", "json",
                                   "--quiet"};
  args.insert(args.end(), rule.begin(), rule.end());
  const auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out.substr(r.out.rfind("{\"event\":\"summary\"")));
  EXPECT_EQ(summary["rate_points"], 701) << summary;  // steps 25,000..200,000, every 250
  EXPECT_EQ(summary["rate_from_step"], 25000) << summary;
  return summary["rate_slope"].is_null() ? 0.0 : summary["rate_slope"].get<double>();
}

TEST(RateFit, InverseTimeStepsFallAsOneOverTAndAConstantStepStalls) {
  const double decaying =
      fitted_slope({"--lr", "invtime", "--lr-param", "eta0=1", "--lr-param", "c=1"});
  EXPECT_NEAR(decaying, -1.0, 0.3);
  const double constant = fitted_slope({"--lr", "constant", "--lr-param", "eta=1"});
  EXPECT_GT(constant, -0.4);
  EXPECT_LT(constant, 0.4);
}

}  // namespace
