// The minibatch schedule: Local SGD's samples and rounds spent on bigger batches.
#include <gtest/gtest.h>

#include "test_schedule_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::expect_param_error;
using localsgd::testing::make_schedule;
using localsgd::testing::same_models;
using localsgd::testing::small_request;
using localsgd::testing::sync_steps;

TEST(MinibatchSchedule, SyncsEveryStepWithBatchMultiplierH) {
  auto s = make_schedule("minibatch", {{"H", "5"}});
  EXPECT_EQ(sync_steps(*s, 4), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(s->batch_multiplier(), 5);
  EXPECT_EQ(s->nominal_period(), 1);
  EXPECT_EQ(make_schedule("minibatch")->batch_multiplier(), 8);
}

TEST(MinibatchSchedule, RejectsBadH) {
  expect_param_error([] { make_schedule("minibatch", {{"H", "0"}}); }, "H");
  expect_param_error([] { make_schedule("minibatch", {{"H", "2x"}}); }, "H");
}

TEST(MinibatchSchedule, HOneIsTheConstantScheduleBitForBit) {
  const auto mini = core::train(small_request("minibatch", {{"H", "1"}}));
  const auto constant = core::train(small_request("constant", {{"H", "1"}}));
  EXPECT_TRUE(same_models(mini, constant));
  EXPECT_EQ(mini.json()["objective"], constant.json()["objective"]);
  EXPECT_EQ(mini.json()["rounds"], constant.json()["rounds"]);
}

TEST(MinibatchSchedule, SpendsLocalSgdSamplesAndRoundsOnBiggerBatches) {
  // K = 4, b = 3, T = 64: 16 steps of batch 12, 16 rounds, 4*64*3 gradients, exactly
  // what H = 1 with b = 12 and T = 16 computes.
  const auto mini = core::train(small_request("minibatch", {{"H", "4"}}));
  EXPECT_EQ(mini.json()["steps"], 16);
  EXPECT_EQ(mini.json()["batch"], 12);
  EXPECT_EQ(mini.json()["rounds"], 16);
  EXPECT_EQ(mini.json()["grad_evals"], 4 * 64 * 3);
  EXPECT_EQ(mini.json()["local_steps"], 1);

  auto request = small_request("constant", {{"H", "1"}});
  request.batch = 12;
  request.steps = 16;
  EXPECT_TRUE(same_models(mini, core::train(request)));
}

TEST(MinibatchSchedule, RoundsStepsUp) {
  auto request = small_request("minibatch", {{"H", "4"}});
  request.steps = 66;  // ceil(66/4) = 17 steps of batch 12
  const auto mini = core::train(request);
  EXPECT_EQ(mini.json()["steps"], 17);
  EXPECT_EQ(mini.json()["grad_evals"], 4 * 17 * 12);
}

}  // namespace
