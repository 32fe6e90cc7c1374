// The solve meter's ETA (cli/progress_bar.hpp: solve_eta), on the bounds a solve reports.
#include <gtest/gtest.h>

#include <vector>

#include "progress_bar.hpp"

namespace {

using localsgd::cli::solve_eta;

TEST(SolveEta, NoneBeforeTheBoundHasFallenTwiceOrWhileItDoesNotFall) {
  EXPECT_FALSE(solve_eta(std::vector<double>{}, 1e-12, 0, 0));
  EXPECT_FALSE(solve_eta(std::vector<double>{0.5}, 1e-12, 1, 1));
  EXPECT_FALSE(solve_eta(std::vector<double>{0.5, 0.5}, 1e-12, 2, 2));
  EXPECT_FALSE(solve_eta(std::vector<double>{0.1, 0.5}, 1e-12, 2, 2));
  EXPECT_FALSE(solve_eta(std::vector<double>{0.5, 1e-13}, 1e-12, 2, 2));  // already there
}

// A linear rate (gradient methods): one order of magnitude per iteration, four left, a
// second each.
TEST(SolveEta, ALinearRateKeepsItsAverageFall) {
  const auto eta = solve_eta(std::vector<double>{1, 0.1, 0.01}, 1e-6, 3, 3);
  ASSERT_TRUE(eta);
  EXPECT_DOUBLE_EQ(*eta, 4.0);
  // The average, not the last fall: 3 orders then 1 make 2 an iteration, 2 iterations.
  const auto uneven = solve_eta(std::vector<double>{1, 1e-3, 1e-4}, 1e-8, 3, 3);
  ASSERT_TRUE(uneven);
  EXPECT_DOUBLE_EQ(*uneven, 2.0);
}

// Newton's end (the bounds of a 4000 x 2500 dense logreg's solve, an iteration every
// 2.9 s): falls of 3 then 4.75 orders grow 1.58x, so the next one (7.5 orders) covers the
// 3.8 left: one iteration, 2.9 s, counted down while it runs. A linear extrapolation said
// 15 s, and more as the iteration went on.
TEST(SolveEta, NewtonsGrowingFallsEndSooner) {
  const std::vector<double> gaps{0.22, 2.2e-4, 3.9e-9};
  const auto at_report = solve_eta(gaps, 5.6e-13, 8.7, 8.7);
  ASSERT_TRUE(at_report);
  EXPECT_NEAR(*at_report, 2.9, 1e-9);
  const auto later = solve_eta(gaps, 5.6e-13, 8.7, 10.7);
  ASSERT_TRUE(later);
  EXPECT_NEAR(*later, 0.9, 1e-9);
  EXPECT_EQ(*solve_eta(gaps, 5.6e-13, 8.7, 20), 0.0);  // late: never negative
  // At most quadratic: falls of 1 then 10 orders are projected to double (20, 40, 80: three
  // iterations for the 61 left), not to grow 10x (100: one).
  const auto capped = solve_eta(std::vector<double>{1, 0.1, 1e-11}, 1e-72, 3, 3);
  ASSERT_TRUE(capped);
  EXPECT_DOUBLE_EQ(*capped, 3.0);
}

}  // namespace
