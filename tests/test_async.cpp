// Asynchronous Local SGD in simulated time: equal speeds reduce to the synchronous run
// bit for bit; the staleness bound holds; runs depend on the seed and speeds only.
#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/train.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;

core::TrainRequest request(bool async, const std::string& speeds = "", std::int64_t tau = -1) {
  core::TrainRequest r;
  r.objective = "logreg";
  r.reader_params.set("n", "1500");
  r.workers = 4;
  r.batch = 2;
  r.schedule_params.set("H", "6");
  r.steps = 400;
  r.async = async;
  r.worker_speeds = speeds;
  r.max_staleness = tau;
  return r;
}

TEST(Async, EqualSpeedsAreTheSynchronousRunBitForBit) {
  const auto sync = core::train(request(false));
  const auto async = core::train(request(true, "2,2,2,2"));
  EXPECT_TRUE(localsgd::testing::bitwise_equal(sync.result.x_hat, async.result.x_hat));
  EXPECT_TRUE(localsgd::testing::bitwise_equal(sync.result.x_last, async.result.x_last));
  EXPECT_EQ(sync.summary["rounds"], async.summary["rounds"]);
  EXPECT_EQ(async.summary["max_staleness"], 0);
}

TEST(Async, SlowWorkersMakeStaleAveragesWithinTheBound) {
  const auto free = core::train(request(true, "1,1,0.5,0.25"));
  EXPECT_GT(free.summary["max_staleness"].get<std::int64_t>(), 10);
  EXPECT_EQ(free.summary["grad_evals"], 4 * 400 * 2);  // every worker takes all T steps
  const auto bounded = core::train(request(true, "1,1,0.5,0.25", 2));
  EXPECT_LE(bounded.summary["max_staleness"].get<std::int64_t>(), 2);
  EXPECT_GT(bounded.summary["mean_staleness"].get<double>(), 0.0);
  EXPECT_FALSE(localsgd::testing::bitwise_equal(free.result.x_hat, bounded.result.x_hat));
  // Still optimising: better than x_0 = 0, where the loss is log 2.
  EXPECT_LT(bounded.summary["objective"].get<double>(), 0.6);
}

TEST(Async, RunsDependOnSeedAndSpeedsOnly) {
  const auto a = core::train(request(true, "random", 3));
  const auto b = core::train(request(true, "random", 3));
  EXPECT_TRUE(localsgd::testing::bitwise_equal(a.result.x_hat, b.result.x_hat));
  auto other_seed = request(true, "random", 3);
  other_seed.seed = 2;
  const auto c = core::train(other_seed);
  EXPECT_NE(a.summary["worker_speeds"], c.summary["worker_speeds"]);
}

TEST(Async, MisuseIsAUsageError) {
  EXPECT_THROW(core::train(request(true, "1,2")), localsgd::UsageError);
  EXPECT_THROW(core::train(request(false, "1,1,1,1")), localsgd::UsageError);
  auto with_eval = request(true);
  with_eval.eval_every = 10;
  EXPECT_THROW(core::train(with_eval), localsgd::UsageError);
  auto groups = request(true);
  groups.schedule = "hierarchical";
  groups.schedule_params = {};
  EXPECT_THROW(core::train(groups), localsgd::UsageError);
  const auto r = localsgd::testing::run_cli(
      {"train", "--plugin", "logreg", "--async", "--worker-speeds", "1,x"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace

namespace {

TEST(Async, StalenessBoundIsAtLeastOneRound) {
  EXPECT_THROW(core::train(request(true, "1,0.3,0.7,0.1", 0)), localsgd::UsageError);
  const auto one = core::train(request(true, "1,0.3,0.7,0.1", 1));
  EXPECT_EQ(one.summary["max_staleness"], 1);
}

}  // namespace
