// The growing schedule: phase j lasts max(1, round(tau0 (1 + alpha j))) steps.
#include <gtest/gtest.h>

#include "test_schedule_support.hpp"

namespace {

using localsgd::testing::expect_param_error;
using localsgd::testing::make_schedule;
using localsgd::testing::sync_steps;
using Steps = std::vector<std::int64_t>;

TEST(GrowingSchedule, DefaultPeriodsAreOneTwoThree) {
  auto s = make_schedule("growing");
  EXPECT_EQ(sync_steps(*s, 15), (Steps{1, 3, 6, 10, 15}));
  EXPECT_EQ(s->nominal_period(), 1);
}

TEST(GrowingSchedule, RoundsEachPeriod) {
  // 3 (1 + j/4) = 3, 3.75, 4.5, 5.25, 6 -> 3, 4, 5 (half away from zero), 5, 6.
  auto s = make_schedule("growing", {{"tau0", "3"}, {"alpha", "0.25"}});
  EXPECT_EQ(sync_steps(*s, 23), (Steps{3, 7, 12, 17, 23}));
  EXPECT_EQ(s->nominal_period(), 3);
}

TEST(GrowingSchedule, AlphaZeroIsConstant) {
  EXPECT_EQ(sync_steps(*make_schedule("growing", {{"tau0", "4"}, {"alpha", "0"}}), 13),
            (Steps{4, 8, 12}));
}

TEST(GrowingSchedule, AnswersForAnyStepAndEachRun) {
  auto s = make_schedule("growing");
  s->start({100, 2, 1});
  EXPECT_EQ(s->next({11, 0, 0.1, 2, 100, nullptr}).step, 15);
  EXPECT_EQ(s->next({2, 0, 0.1, 2, 100, nullptr}).step, 3);  // an earlier step
  EXPECT_EQ(sync_steps(*s, 10), (Steps{1, 3, 6, 10}));       // a second run
}

TEST(GrowingSchedule, HugeGrowthMeansNoMoreSyncs) {
  auto s = make_schedule("growing", {{"tau0", "2"}, {"alpha", "1e300"}});
  EXPECT_EQ(sync_steps(*s, 1000), (Steps{2}));
}

TEST(GrowingSchedule, RejectsBadParameters) {
  expect_param_error([] { make_schedule("growing", {{"tau0", "0"}}); }, "tau0");
  expect_param_error([] { make_schedule("growing", {{"tau0", "1.5"}}); }, "tau0");
  expect_param_error([] { make_schedule("growing", {{"alpha", "-1"}}); }, "alpha");
  expect_param_error([] { make_schedule("growing", {{"alpha", "fast"}}); }, "alpha");
}

}  // namespace
