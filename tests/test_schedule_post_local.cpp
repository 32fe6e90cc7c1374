// The post-local schedule: every step until t0, then every H steps.
#include <gtest/gtest.h>

#include "test_schedule_support.hpp"

namespace {

using localsgd::testing::expect_param_error;
using localsgd::testing::make_schedule;
using localsgd::testing::sync_steps;
using Steps = std::vector<std::int64_t>;

TEST(PostLocalSchedule, EveryStepUntilT0ThenEveryH) {
  auto s = make_schedule("post-local", {{"t0", "3"}, {"H", "4"}});
  EXPECT_EQ(sync_steps(*s, 20), (Steps{1, 2, 3, 7, 11, 15, 19}));
  EXPECT_EQ(s->nominal_period(), 4);
}

TEST(PostLocalSchedule, T0ZeroIsConstantAndT0PastTIsEveryStep) {
  EXPECT_EQ(sync_steps(*make_schedule("post-local", {{"t0", "0"}, {"H", "4"}}), 13),
            (Steps{4, 8, 12}));
  EXPECT_EQ(sync_steps(*make_schedule("post-local", {{"t0", "9"}, {"H", "4"}}), 5),
            (Steps{1, 2, 3, 4, 5}));
}

TEST(PostLocalSchedule, DefaultsSwitchHalfWayWithPeriodEight) {
  auto s = make_schedule("post-local");
  EXPECT_EQ(s->nominal_period(), 8);
  EXPECT_EQ(sync_steps(*s, 30), (Steps{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 23}));
}

TEST(PostLocalSchedule, AnswersForAnyStep) {
  auto s = make_schedule("post-local", {{"t0", "3"}, {"H", "4"}});
  s->start({20, 2, 1});
  EXPECT_EQ(s->next({5, 0, 0.1, 2, 20, nullptr}).step, 7);
  EXPECT_EQ(s->next({8, 0, 0.1, 2, 20, nullptr}).step, 11);
  EXPECT_EQ(s->next({2, 0, 0.1, 2, 20, nullptr}).step, 3);
}

TEST(PostLocalSchedule, RejectsBadParameters) {
  expect_param_error([] { make_schedule("post-local", {{"t0", "-1"}}); }, "t0");
  expect_param_error([] { make_schedule("post-local", {{"t0", "1.5"}}); }, "t0");
  expect_param_error([] { make_schedule("post-local", {{"H", "0"}}); }, "H");
}

}  // namespace
