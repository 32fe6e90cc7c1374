// The outer-nesterov schedule: x_new = x_prev - lr (Delta + mu m), m <- mu m + Delta.
#include <gtest/gtest.h>

#include <cmath>

#include "test_schedule_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::expect_param_error;
using localsgd::testing::make_schedule;
using localsgd::testing::same_models;
using localsgd::testing::small_request;
using localsgd::testing::sync_steps;

TEST(OuterNesterovSchedule, AveragesEveryHSteps) {
  auto s = make_schedule("outer-nesterov", {{"H", "3"}});
  EXPECT_EQ(sync_steps(*s, 10), (std::vector<std::int64_t>{3, 6, 9}));
  EXPECT_EQ(s->nominal_period(), 3);
  EXPECT_EQ(make_schedule("outer-nesterov")->nominal_period(), 8);
}

TEST(OuterNesterovSchedule, CombineIsTheNesterovStep) {
  auto s = make_schedule("outer-nesterov", {{"lr", "0.5"}, {"momentum", "0.5"}});
  s->start({100, 2, 1});
  // Delta = (0.5, -1), m = (0.5, -1), x = prev - 0.5 (Delta + 0.5 m).
  std::vector<double> prev{1, 2}, mean{0.5, 3};
  EXPECT_TRUE(s->combine(prev, mean));
  EXPECT_DOUBLE_EQ(mean[0], 0.625);
  EXPECT_DOUBLE_EQ(mean[1], 2.75);
  // Delta = (0.125, 0.25), m = 0.5 (0.5, -1) + Delta = (0.375, -0.25).
  prev = mean;
  mean = {0.5, 2.5};
  EXPECT_TRUE(s->combine(prev, mean));
  EXPECT_DOUBLE_EQ(mean[0], 0.625 - 0.5 * (0.125 + 0.5 * 0.375));
  EXPECT_DOUBLE_EQ(mean[1], 2.75 - 0.5 * (0.25 - 0.5 * 0.25));
  // A new run starts with m = 0.
  s->start({100, 2, 1});
  prev = {1, 2};
  mean = {0.5, 3};
  EXPECT_TRUE(s->combine(prev, mean));
  EXPECT_DOUBLE_EQ(mean[0], 0.625);
}

TEST(OuterNesterovSchedule, DefaultsAreDiLoCos) {
  auto s = make_schedule("outer-nesterov");
  s->start({100, 2, 1});
  std::vector<double> prev{1}, mean{0};
  EXPECT_TRUE(s->combine(prev, mean));
  EXPECT_NEAR(mean[0], 1 - 0.7 * (1 + 0.9 * 1), 1e-15);
}

TEST(OuterNesterovSchedule, RejectsBadParameters) {
  expect_param_error([] { make_schedule("outer-nesterov", {{"lr", "0"}}); }, "lr");
  expect_param_error([] { make_schedule("outer-nesterov", {{"momentum", "1"}}); }, "momentum");
  expect_param_error([] { make_schedule("outer-nesterov", {{"momentum", "-0.1"}}); }, "momentum");
  expect_param_error([] { make_schedule("outer-nesterov", {{"H", "0"}}); }, "H");
}

TEST(OuterNesterovSchedule, LrOneWithoutMomentumIsPlainAveragingBitForBit) {
  const auto plain =
      core::train(small_request("outer-nesterov", {{"H", "8"}, {"lr", "1"}, {"momentum", "0"}}));
  const auto constant = core::train(small_request("constant", {{"H", "8"}}));
  EXPECT_TRUE(same_models(plain, constant));
  EXPECT_EQ(plain.json()["rounds"], constant.json()["rounds"]);
}

TEST(OuterNesterovSchedule, MomentumChangesTheRun) {
  const auto outer = core::train(small_request("outer-nesterov", {{"H", "8"}}));
  const auto constant = core::train(small_request("constant", {{"H", "8"}}));
  EXPECT_FALSE(same_models(outer, constant));
  EXPECT_TRUE(std::isfinite(outer.json()["objective"].get<double>()));
}

}  // namespace
